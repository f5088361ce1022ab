//! Firewall rules read back from the daemon's responses (client side).

use super::fields::{self, PrefixPath};
use crate::model::{
    FirewallAction, FirewallRule, IcmpFilter, ObjectId, PortFilter, PortRange, ProtocolFilter,
    ResponseError, TrafficDirection,
};
use crate::proto;
use crate::proto::protocol_filter::Filter;

const SOURCE: PrefixPath = PrefixPath {
    prefix: "FirewallRule.source_prefix",
    ip: "FirewallRule.source_prefix.ip",
    length: "FirewallRule.source_prefix.length",
};

const DESTINATION: PrefixPath = PrefixPath {
    prefix: "FirewallRule.destination_prefix",
    ip: "FirewallRule.destination_prefix.ip",
    length: "FirewallRule.destination_prefix.length",
};

fn port(value: i32, field: &'static str) -> Result<Option<u16>, ResponseError> {
    match value {
        -1 => Ok(None),
        v => u16::try_from(v)
            .map(Some)
            .map_err(|_| ResponseError::new(field, format!("{v} is neither -1 nor a port"))),
    }
}

/// The four ports of a TCP/UDP filter with their field paths, in wire order.
fn port_filter(ports: [(i32, &'static str); 4]) -> Result<PortFilter, ResponseError> {
    let [src_lower, src_upper, dst_lower, dst_upper] = ports;
    Ok(PortFilter {
        src: PortRange {
            lower: port(src_lower.0, src_lower.1)?,
            upper: port(src_upper.0, src_upper.1)?,
        },
        dst: PortRange {
            lower: port(dst_lower.0, dst_lower.1)?,
            upper: port(dst_upper.0, dst_upper.1)?,
        },
    })
}

fn icmp(value: i32, field: &'static str) -> Result<Option<u8>, ResponseError> {
    match value {
        -1 => Ok(None),
        v => u8::try_from(v)
            .map(Some)
            .map_err(|_| ResponseError::new(field, format!("{v} is neither -1 nor 0..255"))),
    }
}

fn filter(f: Option<Filter>) -> Result<ProtocolFilter, ResponseError> {
    macro_rules! ports {
        ($f:ident, $path:literal) => {
            port_filter([
                ($f.src_port_lower, concat!($path, ".src_port_lower")),
                ($f.src_port_upper, concat!($path, ".src_port_upper")),
                ($f.dst_port_lower, concat!($path, ".dst_port_lower")),
                ($f.dst_port_upper, concat!($path, ".dst_port_upper")),
            ])
        };
    }
    Ok(match f {
        None => ProtocolFilter::Any,
        Some(Filter::Tcp(t)) => ProtocolFilter::Tcp(ports!(t, "FirewallRule.protocol_filter.tcp")?),
        Some(Filter::Udp(u)) => ProtocolFilter::Udp(ports!(u, "FirewallRule.protocol_filter.udp")?),
        Some(Filter::Icmp(i)) => ProtocolFilter::Icmp(IcmpFilter {
            icmp_type: icmp(i.icmp_type, "FirewallRule.protocol_filter.icmp.icmp_type")?,
            icmp_code: icmp(i.icmp_code, "FirewallRule.protocol_filter.icmp.icmp_code")?,
        }),
    })
}

impl TryFrom<proto::FirewallRule> for FirewallRule {
    type Error = ResponseError;

    fn try_from(r: proto::FirewallRule) -> Result<Self, ResponseError> {
        let direction = match proto::TrafficDirection::try_from(r.direction) {
            Ok(proto::TrafficDirection::Ingress) => TrafficDirection::Ingress,
            Ok(proto::TrafficDirection::Egress) => TrafficDirection::Egress,
            Err(_) => {
                let problem = format!("unknown direction {}", r.direction);
                return Err(ResponseError::new("FirewallRule.direction", problem));
            }
        };
        let action = match proto::FirewallAction::try_from(r.action) {
            Ok(proto::FirewallAction::Drop) => FirewallAction::Drop,
            Ok(proto::FirewallAction::Accept) => FirewallAction::Accept,
            Err(_) => {
                let problem = format!("unknown action {}", r.action);
                return Err(ResponseError::new("FirewallRule.action", problem));
            }
        };
        Ok(FirewallRule {
            id: ObjectId::from(&r.id[..]),
            direction,
            action,
            priority: u16::try_from(r.priority).map_err(|_| {
                ResponseError::new(
                    "FirewallRule.priority",
                    format!("{} exceeds 65535", r.priority),
                )
            })?,
            source: fields::resp_prefix(r.source_prefix.as_ref(), SOURCE)?,
            destination: fields::resp_prefix(r.destination_prefix.as_ref(), DESTINATION)?,
            filter: filter(r.protocol_filter.and_then(|f| f.filter))?,
        })
    }
}

impl TryFrom<proto::GetFirewallRuleResponse> for FirewallRule {
    type Error = ResponseError;

    fn try_from(r: proto::GetFirewallRuleResponse) -> Result<Self, ResponseError> {
        r.rule
            .ok_or_else(|| ResponseError::new("GetFirewallRuleResponse.rule", "missing"))?
            .try_into()
    }
}

impl TryFrom<proto::ListFirewallRulesResponse> for Vec<FirewallRule> {
    type Error = ResponseError;

    fn try_from(r: proto::ListFirewallRulesResponse) -> Result<Self, ResponseError> {
        r.rules.into_iter().map(FirewallRule::try_from).collect()
    }
}

/// The echoed rule ID; upstream sends a NUL-padded buffer, so the text ends at the first
/// NUL (§13).
impl TryFrom<proto::CreateFirewallRuleResponse> for ObjectId {
    type Error = ResponseError;

    fn try_from(r: proto::CreateFirewallRuleResponse) -> Result<Self, ResponseError> {
        let end = r
            .rule_id
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(r.rule_id.len());
        Ok(ObjectId::from(&r.rule_id[..end]))
    }
}
