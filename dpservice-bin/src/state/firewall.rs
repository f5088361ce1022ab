//! Firewall rules of an interface and their verdict (grpc-api.md §8.11, §10.5,
//! dataplane.md §10).
//!
//! Rules are evaluated in insertion order; the priority is stored and reported only.
//! Upstream computes the verdict but never enforces it, and the dataplane must not
//! either; the verdict is still computed here so that a later enforcing mode (and the
//! telemetry) has one definition.

use std::net::IpAddr;

use dpservice::model::{
    CreateFirewallRule, FirewallAction, FirewallRule, FirewallRuleRef, ObjectId, ProtocolFilter,
    TrafficDirection,
};
use dpservice::status::ServiceError;

use super::{FirewallRules, State};

/// The verdict for a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Let it pass.
    Accept,
    /// Drop it (computed, not enforced).
    Drop,
}

/// What a rule is matched against: the first packet of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirewallPacket {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IANA protocol number (ICMPv6 counts as ICMP).
    pub protocol: u8,
    /// TCP/UDP source port, or the ICMP type.
    pub src_port_or_type: u16,
    /// TCP/UDP destination port, or the ICMP code.
    pub dst_port_or_code: u16,
}

const ICMP: u8 = 1;
const TCP: u8 = 6;
const UDP: u8 = 17;
const ICMPV6: u8 = 58;

fn matches(rule: &FirewallRule, pkt: &FirewallPacket) -> bool {
    let protocol = if pkt.protocol == ICMPV6 {
        ICMP
    } else {
        pkt.protocol
    };
    let addresses = || rule.source.contains(pkt.src) && rule.destination.contains(pkt.dst);
    match rule.filter {
        ProtocolFilter::Any => addresses(),
        ProtocolFilter::Icmp(f) => {
            // addresses are not compared for ICMP rules (upstream behaviour)
            protocol == ICMP
                && f.icmp_type
                    .is_none_or(|t| u16::from(t) == pkt.src_port_or_type)
                && f.icmp_code
                    .is_none_or(|c| u16::from(c) == pkt.dst_port_or_code)
        }
        ProtocolFilter::Tcp(f) | ProtocolFilter::Udp(f) => {
            let wanted = if matches!(rule.filter, ProtocolFilter::Tcp(_)) {
                TCP
            } else {
                UDP
            };
            protocol == wanted
                && addresses()
                && f.src.matches(pkt.src_port_or_type)
                && f.dst.matches(pkt.dst_port_or_code)
        }
    }
}

fn action(rule: &FirewallRule) -> Verdict {
    match rule.action {
        FirewallAction::Accept => Verdict::Accept,
        FirewallAction::Drop => Verdict::Drop,
    }
}

impl FirewallRules {
    fn first_match(&self, dir: TrafficDirection, pkt: &FirewallPacket) -> Option<&FirewallRule> {
        self.iter().find(|r| r.direction == dir && matches(r, pkt))
    }

    /// Verdict for traffic leaving the VM: the first matching egress rule; without
    /// one, accept only while the interface has no egress rule at all.
    pub fn egress_verdict(&self, pkt: &FirewallPacket) -> Verdict {
        match self.first_match(TrafficDirection::Egress, pkt) {
            Some(rule) => action(rule),
            None if !self.has_egress_rules() => Verdict::Accept,
            None => Verdict::Drop,
        }
    }

    /// Verdict for traffic towards the VM: a matching ingress rule must accept.
    pub fn ingress_verdict(&self, pkt: &FirewallPacket) -> Verdict {
        self.first_match(TrafficDirection::Ingress, pkt)
            .map_or(Verdict::Drop, action)
    }
}

impl State {
    /// `CreateFirewallRule`: **205**, **202** rule ID exists on the interface, **441**
    /// `DROP`, **208** rule limit. Returns the rule ID (§13 #1).
    pub fn create_firewall_rule(
        &mut self,
        req: CreateFirewallRule,
    ) -> Result<ObjectId, ServiceError> {
        let CreateFirewallRule { interface_id, rule } = req;
        let (port, vf) = self.sub_object_owner(&interface_id)?;
        if vf.firewall.get(rule.id.as_bytes()).is_some() {
            return Err(ServiceError::AlreadyExists);
        }
        if rule.action == FirewallAction::Drop {
            return Err(ServiceError::NoDropSupport);
        }
        if vf.firewall.len() >= self.limits.firewall_rules_per_interface {
            return Err(ServiceError::OutOfMemory);
        }
        let id = rule.id.clone();
        if let Some(vf) = self.vf_mut(port) {
            vf.firewall.push(rule);
        }
        self.touch();
        Ok(id)
    }

    /// `GetFirewallRule`: **205**, **201**.
    pub fn get_firewall_rule(&self, req: &FirewallRuleRef) -> Result<FirewallRule, ServiceError> {
        let (_, vf) = self.sub_object_owner(&req.interface_id)?;
        vf.firewall
            .get(req.rule_id.as_bytes())
            .cloned()
            .ok_or(ServiceError::NotFound)
    }

    /// `DeleteFirewallRule`: **205**, **201**.
    pub fn delete_firewall_rule(&mut self, req: &FirewallRuleRef) -> Result<(), ServiceError> {
        let (port, vf) = self.sub_object_owner(&req.interface_id)?;
        if vf.firewall.get(req.rule_id.as_bytes()).is_none() {
            return Err(ServiceError::NotFound);
        }
        if let Some(vf) = self.vf_mut(port) {
            vf.firewall.remove(req.rule_id.as_bytes());
        }
        self.touch();
        Ok(())
    }

    /// `ListFirewallRules`: **205**; in insertion order.
    pub fn list_firewall_rules(
        &self,
        interface_id: &(impl AsRef<[u8]> + ?Sized),
    ) -> Result<Vec<FirewallRule>, ServiceError> {
        let (_, vf) = self.sub_object_owner(interface_id)?;
        Ok(vf.firewall.iter().cloned().collect())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use dpservice::model::{IcmpFilter, PortFilter, PortRange};

    fn rule(id: &str, dir: TrafficDirection, src: &str, filter: ProtocolFilter) -> FirewallRule {
        FirewallRule {
            id: id.into(),
            direction: dir,
            action: FirewallAction::Accept,
            priority: 1000,
            source: src.parse().unwrap(),
            destination: "0.0.0.0/0".parse().unwrap(),
            filter,
        }
    }

    fn pkt(src: &str, protocol: u8, sport: u16, dport: u16) -> FirewallPacket {
        FirewallPacket {
            src: src.parse().unwrap(),
            dst: "10.0.0.1".parse().unwrap(),
            protocol,
            src_port_or_type: sport,
            dst_port_or_code: dport,
        }
    }

    fn tcp_dst(lower: u16, upper: Option<u16>) -> ProtocolFilter {
        ProtocolFilter::Tcp(PortFilter {
            src: PortRange::ANY,
            dst: PortRange {
                lower: Some(lower),
                upper,
            },
        })
    }

    fn rules(list: Vec<FirewallRule>) -> FirewallRules {
        let mut fw = FirewallRules::default();
        for r in list {
            fw.push(r);
        }
        fw
    }

    #[test]
    fn egress_opens_again_when_its_last_rule_goes() {
        let mut fw = rules(vec![rule(
            "e",
            TrafficDirection::Egress,
            "0.0.0.0/0",
            tcp_dst(80, Some(80)),
        )]);
        let p = pkt("1.2.3.4", UDP, 1, 53);
        assert_eq!(fw.egress_verdict(&p), Verdict::Drop);
        fw.remove(b"e");
        assert_eq!(fw.egress_verdict(&p), Verdict::Accept);
    }

    #[test]
    fn no_rules_egress_open_ingress_closed() {
        let fw = FirewallRules::default();
        let p = pkt("1.2.3.4", TCP, 1000, 80);
        assert_eq!(fw.egress_verdict(&p), Verdict::Accept);
        assert_eq!(fw.ingress_verdict(&p), Verdict::Drop);
    }

    #[test]
    fn an_egress_rule_closes_other_egress() {
        let fw = rules(vec![rule(
            "e",
            TrafficDirection::Egress,
            "0.0.0.0/0",
            tcp_dst(80, Some(80)),
        )]);
        assert_eq!(
            fw.egress_verdict(&pkt("1.2.3.4", TCP, 1, 80)),
            Verdict::Accept
        );
        assert_eq!(
            fw.egress_verdict(&pkt("1.2.3.4", TCP, 1, 81)),
            Verdict::Drop
        );
        assert_eq!(
            fw.egress_verdict(&pkt("1.2.3.4", UDP, 1, 80)),
            Verdict::Drop
        );
        // ingress is unaffected by egress rules
        assert_eq!(
            fw.ingress_verdict(&pkt("1.2.3.4", TCP, 1, 80)),
            Verdict::Drop
        );
    }

    #[test]
    fn ingress_matching() {
        let fw = rules(vec![
            rule(
                "tcp",
                TrafficDirection::Ingress,
                "1.2.0.0/16",
                tcp_dst(8000, None),
            ),
            rule(
                "icmp",
                TrafficDirection::Ingress,
                "9.9.9.9/32",
                ProtocolFilter::Icmp(IcmpFilter {
                    icmp_type: Some(8),
                    icmp_code: None,
                }),
            ),
            rule(
                "v6",
                TrafficDirection::Ingress,
                "fd00::/8",
                ProtocolFilter::Any,
            ),
        ]);
        assert_eq!(
            fw.ingress_verdict(&pkt("1.2.3.4", TCP, 5, 8080)),
            Verdict::Accept
        );
        assert_eq!(
            fw.ingress_verdict(&pkt("1.3.3.4", TCP, 5, 8080)),
            Verdict::Drop
        );
        assert_eq!(
            fw.ingress_verdict(&pkt("1.2.3.4", TCP, 5, 7999)),
            Verdict::Drop
        );
        // ICMP rules ignore addresses; ICMPv6 counts as ICMP
        assert_eq!(
            fw.ingress_verdict(&pkt("7.7.7.7", ICMP, 8, 0)),
            Verdict::Accept
        );
        assert_eq!(
            fw.ingress_verdict(&pkt("7.7.7.7", ICMPV6, 8, 0)),
            Verdict::Accept
        );
        assert_eq!(
            fw.ingress_verdict(&pkt("7.7.7.7", ICMP, 0, 0)),
            Verdict::Drop
        );
        // an IPv4 packet never matches an IPv6 prefix
        let mut p = pkt("1.2.3.4", UDP, 1, 1);
        assert_eq!(fw.ingress_verdict(&p), Verdict::Drop);
        p.src = "fd00::1".parse().unwrap();
        p.dst = "fd00::2".parse().unwrap();
        // the v6 rule's destination is 0.0.0.0/0, another family
        assert_eq!(fw.ingress_verdict(&p), Verdict::Drop);
    }
}
