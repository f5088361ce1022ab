//! Firewall rules of an interface (§8.11, §10.5).

use super::{IpPrefix, ObjectId};

/// Direction a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrafficDirection {
    /// Towards the VM (the default on the wire).
    Ingress,
    /// From the VM.
    Egress,
}

/// What a matching rule does. Only `Accept` is executed; `Drop` passes validation and is
/// refused with 441, as upstream does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FirewallAction {
    /// Drop (the wire default).
    Drop,
    /// Accept.
    Accept,
}

/// A port bound of a TCP/UDP filter: `None` is −1 on the wire ("any"), kept as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    /// Lower bound, `None` = any port.
    pub lower: Option<u16>,
    /// Upper bound, `None` = −1 (no upper bound when `lower` is set).
    pub upper: Option<u16>,
}

impl PortRange {
    /// Every port (−1, −1).
    pub const ANY: PortRange = PortRange {
        lower: None,
        upper: None,
    };

    /// Whether `port` falls in the range (an absent upper bound is unbounded).
    pub fn matches(&self, port: u16) -> bool {
        match self.lower {
            None => true,
            Some(lower) => port >= lower && self.upper.is_none_or(|upper| port <= upper),
        }
    }
}

/// Source and destination port ranges of a TCP or UDP filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortFilter {
    /// Source ports.
    pub src: PortRange,
    /// Destination ports.
    pub dst: PortRange,
}

/// ICMP type and code; `None` is −1 on the wire ("any").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IcmpFilter {
    /// ICMP type.
    pub icmp_type: Option<u8>,
    /// ICMP code.
    pub icmp_code: Option<u8>,
}

/// Which layer-4 traffic a rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtocolFilter {
    /// Every protocol (no oneof arm set).
    Any,
    /// ICMP (and ICMPv6 for IPv6 traffic).
    Icmp(IcmpFilter),
    /// TCP.
    Tcp(PortFilter),
    /// UDP.
    Udp(PortFilter),
}

/// A firewall rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirewallRule {
    /// Rule ID, unique per interface, 1..63 bytes.
    pub id: ObjectId,
    /// Direction.
    pub direction: TrafficDirection,
    /// Action.
    pub action: FirewallAction,
    /// 0..65535, stored and returned; no effect on evaluation.
    pub priority: u16,
    /// Source prefix (length 0 = any), address as given.
    pub source: IpPrefix,
    /// Destination prefix, address as given.
    pub destination: IpPrefix,
    /// Layer-4 filter.
    pub filter: ProtocolFilter,
}

/// `CreateFirewallRule`: a rule for an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateFirewallRule {
    /// The interface the rule belongs to.
    pub interface_id: ObjectId,
    /// The rule.
    pub rule: FirewallRule,
}

/// `GetFirewallRule` / `DeleteFirewallRule`: one rule of an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirewallRuleRef {
    /// The interface the rule belongs to.
    pub interface_id: ObjectId,
    /// The rule ID.
    pub rule_id: ObjectId,
}
