//! Firewall rules (grpc-api.md §8.11, §10.5).

use super::fields;
use super::response::succeeded;
use super::{try_from_request, FromRequest, RequestContext};
use crate::model::{
    CreateFirewallRule, FirewallAction, FirewallRule, FirewallRuleRef, IcmpFilter, InvalidArgument,
    IpPrefix, ObjectId, PortFilter, PortRange, ProtocolFilter, TrafficDirection,
};
use crate::proto;
use crate::proto::protocol_filter::Filter;

/// The §9 messages of one of the rule's two prefixes.
struct PrefixErrors {
    ipver: &'static str,
    ip: &'static str,
    length_v4: &'static str,
    length_v6: &'static str,
}

const SOURCE: PrefixErrors = PrefixErrors {
    ipver: "Invalid source_prefix.ip.ipver",
    ip: "Invalid source_prefix.ip",
    length_v4: "Invalid source_prefix.length",
    length_v6: "Invalid ip6 source_prefix.length",
};

const DESTINATION: PrefixErrors = PrefixErrors {
    ipver: "Invalid destination_prefix.ip.ipver",
    ip: "Invalid destination_prefix.ip",
    length_v4: "Invalid destination_prefix.length",
    length_v6: "Invalid ip6 destination_prefix.length",
};

fn rule_prefix(
    p: Option<&proto::Prefix>,
    errs: &PrefixErrors,
) -> Result<IpPrefix, InvalidArgument> {
    let ip = p.and_then(|p| p.ip.as_ref());
    let ipver = ip.map_or(0, |a| a.ipver);
    let len_err = match proto::IpVersion::try_from(ipver) {
        Ok(proto::IpVersion::Ipv4) => errs.length_v4,
        Ok(proto::IpVersion::Ipv6) => errs.length_v6,
        Err(_) => return Err(InvalidArgument(errs.ipver)),
    };
    let addr = fields::ip(ip, errs.ip)?;
    fields::prefix(addr, p.map_or(0, |p| p.length), len_err)
}

/// A filter port: −1 ("any", `None`) or 0..65535.
fn filter_port(value: i32) -> Option<Option<u16>> {
    match value {
        -1 => Some(None),
        v => u16::try_from(v).ok().map(Some),
    }
}

/// Upstream compares the range with −1 read as 4294967295, so an upper bound of −1
/// accepts any lower bound.
fn range_ok(range: PortRange) -> bool {
    match (range.lower, range.upper) {
        (Some(lower), Some(upper)) => upper >= lower,
        _ => true,
    }
}

/// The TCP/UDP checks, in upstream's order; `errs` are the six messages of the protocol.
fn port_filter(ports: [i32; 4], errs: [&'static str; 6]) -> Result<PortFilter, InvalidArgument> {
    let [src_lower, src_upper, dst_lower, dst_upper] = ports;
    let check = |v, e| filter_port(v).ok_or(InvalidArgument(e));
    let src_lower = check(src_lower, errs[0])?;
    let dst_lower = check(dst_lower, errs[1])?;
    let src_upper = check(src_upper, errs[2])?;
    let dst_upper = check(dst_upper, errs[3])?;
    let src = PortRange {
        lower: src_lower,
        upper: src_upper,
    };
    let dst = PortRange {
        lower: dst_lower,
        upper: dst_upper,
    };
    if !range_ok(src) {
        return Err(InvalidArgument(errs[4]));
    }
    if !range_ok(dst) {
        return Err(InvalidArgument(errs[5]));
    }
    Ok(PortFilter { src, dst })
}

/// An ICMP type or code: −1 ("any") or 0..255.
fn icmp_value(value: i32) -> Option<Option<u8>> {
    match value {
        -1 => Some(None),
        v => u8::try_from(v).ok().map(Some),
    }
}

fn protocol_filter(filter: Option<Filter>) -> Result<ProtocolFilter, InvalidArgument> {
    Ok(match filter {
        None => ProtocolFilter::Any,
        Some(Filter::Tcp(t)) => ProtocolFilter::Tcp(port_filter(
            [
                t.src_port_lower,
                t.src_port_upper,
                t.dst_port_lower,
                t.dst_port_upper,
            ],
            [
                "Invalid tcp.src_port_lower",
                "Invalid tcp.dst_port_lower",
                "Invalid tcp.src_port_upper",
                "Invalid tcp.dst_port_upper",
                "Invalid tcp.src_port range",
                "Invalid tcp.dst_port range",
            ],
        )?),
        Some(Filter::Udp(u)) => ProtocolFilter::Udp(port_filter(
            [
                u.src_port_lower,
                u.src_port_upper,
                u.dst_port_lower,
                u.dst_port_upper,
            ],
            [
                "Invalid udp.src_port_lower",
                "Invalid udp.dst_port_lower",
                "Invalid udp.src_port_upper",
                "Invalid udp.dst_port_upper",
                "Invalid udp.src_port range",
                "Invalid udp.dst_port range",
            ],
        )?),
        Some(Filter::Icmp(i)) => ProtocolFilter::Icmp(IcmpFilter {
            icmp_type: icmp_value(i.icmp_type).ok_or(InvalidArgument("Invalid icmp.icmp_type"))?,
            icmp_code: icmp_value(i.icmp_code).ok_or(InvalidArgument("Invalid icmp.icmp_code"))?,
        }),
    })
}

impl FromRequest<proto::CreateFirewallRuleRequest> for CreateFirewallRule {
    fn from_request(
        r: proto::CreateFirewallRuleRequest,
        _: &RequestContext,
    ) -> Result<Self, InvalidArgument> {
        let interface_id = fields::lookup_id(&r.interface_id, "Invalid interface_id")?;
        let rule = r.rule.unwrap_or_default();
        let id = fields::new_id(rule.id, "Invalid rule id")?;
        let source = rule_prefix(rule.source_prefix.as_ref(), &SOURCE)?;
        let destination = rule_prefix(rule.destination_prefix.as_ref(), &DESTINATION)?;
        let direction = match proto::TrafficDirection::try_from(rule.direction) {
            Ok(proto::TrafficDirection::Ingress) => TrafficDirection::Ingress,
            Ok(proto::TrafficDirection::Egress) => TrafficDirection::Egress,
            Err(_) => return Err(InvalidArgument("Invalid direction")),
        };
        // DROP passes here; the daemon refuses it (441).
        let action = match proto::FirewallAction::try_from(rule.action) {
            Ok(proto::FirewallAction::Drop) => FirewallAction::Drop,
            Ok(proto::FirewallAction::Accept) => FirewallAction::Accept,
            Err(_) => return Err(InvalidArgument("Invalid action")),
        };
        let priority =
            u16::try_from(rule.priority).map_err(|_| InvalidArgument("Invalid priority"))?;
        let filter = protocol_filter(rule.protocol_filter.and_then(|f| f.filter))?;
        Ok(CreateFirewallRule {
            interface_id,
            rule: FirewallRule {
                id,
                direction,
                action,
                priority,
                source,
                destination,
                filter,
            },
        })
    }
}

macro_rules! rule_refs {
    ($($request:ident),+) => {$(
        impl FromRequest<proto::$request> for FirewallRuleRef {
            fn from_request(r: proto::$request, _: &RequestContext) -> Result<Self, InvalidArgument> {
                Ok(FirewallRuleRef {
                    interface_id: fields::lookup_id(&r.interface_id, "Invalid interface_id")?,
                    rule_id: fields::lookup_id(&r.rule_id, "Invalid rule_id")?,
                })
            }
        }

        try_from_request!(proto::$request => FirewallRuleRef);

        impl From<&FirewallRuleRef> for proto::$request {
            fn from(m: &FirewallRuleRef) -> Self {
                proto::$request {
                    interface_id: m.interface_id.clone().into_bytes(),
                    rule_id: m.rule_id.clone().into_bytes(),
                }
            }
        }
    )+};
}

rule_refs!(GetFirewallRuleRequest, DeleteFirewallRuleRequest);

try_from_request!(proto::CreateFirewallRuleRequest => CreateFirewallRule);

fn wire_port(p: Option<u16>) -> i32 {
    p.map_or(-1, i32::from)
}

fn wire_icmp(v: Option<u8>) -> i32 {
    v.map_or(-1, i32::from)
}

impl From<ProtocolFilter> for proto::ProtocolFilter {
    fn from(f: ProtocolFilter) -> Self {
        let filter = match f {
            ProtocolFilter::Any => None,
            ProtocolFilter::Icmp(i) => Some(Filter::Icmp(proto::IcmpFilter {
                icmp_type: wire_icmp(i.icmp_type),
                icmp_code: wire_icmp(i.icmp_code),
            })),
            ProtocolFilter::Tcp(p) => Some(Filter::Tcp(proto::TcpFilter {
                src_port_lower: wire_port(p.src.lower),
                src_port_upper: wire_port(p.src.upper),
                dst_port_lower: wire_port(p.dst.lower),
                dst_port_upper: wire_port(p.dst.upper),
            })),
            ProtocolFilter::Udp(p) => Some(Filter::Udp(proto::UdpFilter {
                src_port_lower: wire_port(p.src.lower),
                src_port_upper: wire_port(p.src.upper),
                dst_port_lower: wire_port(p.dst.lower),
                dst_port_upper: wire_port(p.dst.upper),
            })),
        };
        proto::ProtocolFilter { filter }
    }
}

/// A rule on the wire: both prefixes and the protocol filter are always present (§4.6).
impl From<FirewallRule> for proto::FirewallRule {
    fn from(m: FirewallRule) -> Self {
        let direction = match m.direction {
            TrafficDirection::Ingress => proto::TrafficDirection::Ingress,
            TrafficDirection::Egress => proto::TrafficDirection::Egress,
        };
        let action = match m.action {
            FirewallAction::Drop => proto::FirewallAction::Drop,
            FirewallAction::Accept => proto::FirewallAction::Accept,
        };
        proto::FirewallRule {
            id: m.id.into_bytes(),
            direction: direction as i32,
            action: action as i32,
            priority: u32::from(m.priority),
            source_prefix: Some(fields::prefix_message(m.source)),
            destination_prefix: Some(fields::prefix_message(m.destination)),
            protocol_filter: Some(m.filter.into()),
        }
    }
}

impl From<&CreateFirewallRule> for proto::CreateFirewallRuleRequest {
    fn from(m: &CreateFirewallRule) -> Self {
        proto::CreateFirewallRuleRequest {
            interface_id: m.interface_id.clone().into_bytes(),
            rule: Some(m.rule.clone().into()),
        }
    }
}

impl From<FirewallRule> for proto::GetFirewallRuleResponse {
    fn from(m: FirewallRule) -> Self {
        succeeded(|r: &mut Self| r.rule = Some(m.into()))
    }
}

impl From<Vec<FirewallRule>> for proto::ListFirewallRulesResponse {
    fn from(list: Vec<FirewallRule>) -> Self {
        succeeded(|r: &mut Self| r.rules = list.into_iter().map(Into::into).collect())
    }
}

/// CreateFirewallRule echoes the rule ID (upstream's value is unreliable, §13).
impl From<ObjectId> for proto::CreateFirewallRuleResponse {
    fn from(rule_id: ObjectId) -> Self {
        succeeded(|r: &mut Self| r.rule_id = rule_id.into_bytes())
    }
}
