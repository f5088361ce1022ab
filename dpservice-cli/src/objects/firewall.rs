//! Firewall rules (spec §4.1), including the Go-shaped `protocol_filter`.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::{is_zero_i32, ser_prefix, Named, Status};
use crate::syntax::Prefix;

/// A firewall rule of an interface.
#[derive(Debug, Clone, Serialize)]
pub struct FirewallRule {
    /// `FirewallRule`.
    pub kind: &'static str,
    /// `{interface_id}`.
    pub metadata: FirewallRuleMeta,
    /// The rule.
    pub spec: FirewallRuleSpec,
    /// Per spec §4.2.
    pub status: Status,
}

/// `metadata` of a rule.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FirewallRuleMeta {
    /// The interface.
    pub interface_id: String,
}

/// `spec` of a rule.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FirewallRuleSpec {
    /// Rule id.
    pub id: String,
    /// `Ingress` / `Egress`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub direction: String,
    /// `Accept` / `Drop`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub action: String,
    /// Priority.
    pub priority: u32,
    /// Source prefix, unmasked.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_prefix")]
    pub source_prefix: Option<Prefix>,
    /// Destination prefix, unmasked.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_prefix")]
    pub destination_prefix: Option<Prefix>,
    /// Protocol filter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol_filter: Option<ProtocolFilter>,
}

/// The protocol filter: no arm means "any protocol".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProtocolFilter {
    /// Any protocol (`{"Filter":null}`).
    #[default]
    Any,
    /// TCP with port ranges.
    Tcp(PortFilter),
    /// UDP with port ranges.
    Udp(PortFilter),
    /// ICMP with type and code.
    Icmp(IcmpFilter),
}

/// Port bounds of a TCP/UDP filter; -1 means any, 0 is omitted from output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PortFilter {
    /// Lowest source port.
    #[serde(skip_serializing_if = "is_zero_i32")]
    pub src_port_lower: i32,
    /// Highest source port.
    #[serde(skip_serializing_if = "is_zero_i32")]
    pub src_port_upper: i32,
    /// Lowest destination port.
    #[serde(skip_serializing_if = "is_zero_i32")]
    pub dst_port_lower: i32,
    /// Highest destination port.
    #[serde(skip_serializing_if = "is_zero_i32")]
    pub dst_port_upper: i32,
}

/// ICMP type and code; -1 means any, 0 is omitted from output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IcmpFilter {
    /// ICMP type.
    #[serde(skip_serializing_if = "is_zero_i32")]
    pub icmp_type: i32,
    /// ICMP code.
    #[serde(skip_serializing_if = "is_zero_i32")]
    pub icmp_code: i32,
}

impl Serialize for ProtocolFilter {
    // Mirrors the generated Go struct of the proto oneof: {"Filter": {"Tcp": {...}}}.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Arm<'a, T: Serialize>(&'static str, &'a T);
        impl<T: Serialize> Serialize for Arm<'_, T> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry(self.0, self.1)?;
                m.end()
            }
        }
        let mut m = s.serialize_map(Some(1))?;
        match self {
            ProtocolFilter::Any => m.serialize_entry("Filter", &None::<()>)?,
            ProtocolFilter::Tcp(p) => m.serialize_entry("Filter", &Arm("Tcp", p))?,
            ProtocolFilter::Udp(p) => m.serialize_entry("Filter", &Arm("Udp", p))?,
            ProtocolFilter::Icmp(i) => m.serialize_entry("Filter", &Arm("Icmp", i))?,
        }
        m.end()
    }
}

impl ProtocolFilter {
    /// Protobuf's one-line text form (`tcp:{src_port_lower:1 ...}`), empty for "any";
    /// the table shows it and `--sort-by=protocol` compares it.
    pub fn text(&self) -> String {
        let fields = |pairs: &[(&str, i32)]| {
            pairs
                .iter()
                .filter(|(_, v)| *v != 0)
                .map(|(k, v)| format!("{k}:{v}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let ports = |p: &PortFilter| {
            fields(&[
                ("src_port_lower", p.src_port_lower),
                ("src_port_upper", p.src_port_upper),
                ("dst_port_lower", p.dst_port_lower),
                ("dst_port_upper", p.dst_port_upper),
            ])
        };
        match self {
            ProtocolFilter::Any => String::new(),
            ProtocolFilter::Tcp(p) => format!("tcp:{{{}}}", ports(p)),
            ProtocolFilter::Udp(p) => format!("udp:{{{}}}", ports(p)),
            ProtocolFilter::Icmp(i) => {
                format!(
                    "icmp:{{{}}}",
                    fields(&[("icmp_type", i.icmp_type), ("icmp_code", i.icmp_code)])
                )
            }
        }
    }
}

impl Named for FirewallRule {
    fn kind(&self) -> &str {
        self.kind
    }
    fn name(&self) -> String {
        format!("{}/{}", self.metadata.interface_id, self.spec.id)
    }
}
