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

use super::{FirewallRules, PortId, State};

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

/// Up to this many rules a scan is quicker than the index (a scan step costs about
/// 3 ns, an index lookup about 20 ns; BENCHMARKS.md "Firewall verdict").
const SCAN_UP_TO: usize = 6;

impl FirewallRules {
    /// The first matching rule: by scan for a handful of rules, else by the index.
    fn first_match_for_verdict(
        &self,
        dir: TrafficDirection,
        pkt: &FirewallPacket,
    ) -> Option<&FirewallRule> {
        if self.len() <= SCAN_UP_TO {
            self.first_match_by_scan(dir, pkt)
        } else {
            self.first_match(dir, pkt)
        }
    }

    /// The first matching rule by walking every rule: the reference the index is
    /// checked against.
    fn first_match_by_scan(
        &self,
        dir: TrafficDirection,
        pkt: &FirewallPacket,
    ) -> Option<&FirewallRule> {
        self.iter().find(|r| r.direction == dir && matches(r, pkt))
    }

    /// Verdict for traffic leaving the VM: the first matching egress rule; without
    /// one, accept only while the interface has no egress rule at all.
    pub fn egress_verdict(&self, pkt: &FirewallPacket) -> Verdict {
        self.egress_from(self.first_match_for_verdict(TrafficDirection::Egress, pkt))
    }

    /// Verdict for traffic towards the VM: a matching ingress rule must accept. Egress
    /// rules in the list are never looked at (upstream crashes on them; fixed).
    pub fn ingress_verdict(&self, pkt: &FirewallPacket) -> Verdict {
        self.first_match_for_verdict(TrafficDirection::Ingress, pkt)
            .map_or(Verdict::Drop, action)
    }

    /// [`FirewallRules::egress_verdict`] by a linear scan (for tests and benchmarks).
    pub fn egress_verdict_by_scan(&self, pkt: &FirewallPacket) -> Verdict {
        self.egress_from(self.first_match_by_scan(TrafficDirection::Egress, pkt))
    }

    /// [`FirewallRules::ingress_verdict`] by a linear scan (for tests and benchmarks).
    pub fn ingress_verdict_by_scan(&self, pkt: &FirewallPacket) -> Verdict {
        self.first_match_by_scan(TrafficDirection::Ingress, pkt)
            .map_or(Verdict::Drop, action)
    }

    fn egress_from(&self, first: Option<&FirewallRule>) -> Verdict {
        match first {
            Some(rule) => action(rule),
            None if !self.has_egress_rules() => Verdict::Accept,
            None => Verdict::Drop,
        }
    }
}

impl State {
    /// The verdict for the first packet of a flow received on `in_port` (§10): towards
    /// an uplink (`to_vf` = `None`) the sender's egress verdict; towards the VF `to_vf`,
    /// the sender's egress verdict (accept when the sender is an uplink) and then an
    /// accepting ingress rule of the receiver, which must have an interface.
    pub fn firewall_verdict(
        &self,
        in_port: PortId,
        to_vf: Option<PortId>,
        pkt: &FirewallPacket,
    ) -> Verdict {
        let egress = self
            .vf(in_port)
            .map_or(Verdict::Accept, |vf| vf.firewall.egress_verdict(pkt));
        match to_vf {
            None => egress,
            Some(_) if egress == Verdict::Drop => Verdict::Drop,
            Some(out) => self
                .vf(out)
                .map_or(Verdict::Drop, |vf| vf.firewall.ingress_verdict(pkt)),
        }
    }

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

    // ---- the index against the rules of §10, one by one ----

    fn any_rule(id: &str, dir: TrafficDirection, src: &str, dst: &str) -> FirewallRule {
        let mut r = rule(id, dir, src, ProtocolFilter::Any);
        r.destination = dst.parse().unwrap();
        r
    }

    fn with_action(mut r: FirewallRule, action: FirewallAction) -> FirewallRule {
        r.action = action;
        r
    }

    /// The index finds the rule the scan finds, in both directions (the verdicts use a
    /// scan for a handful of rules, so the index is compared on its own).
    fn same_first_match(fw: &FirewallRules, p: &FirewallPacket) {
        for dir in [TrafficDirection::Ingress, TrafficDirection::Egress] {
            assert_eq!(
                fw.first_match(dir, p).map(|r| &r.id),
                fw.first_match_by_scan(dir, p).map(|r| &r.id),
                "index and scan differ for {p:?} {dir:?}"
            );
        }
    }

    fn ingress(fw: &FirewallRules, p: &FirewallPacket) -> Verdict {
        same_first_match(fw, p);
        let v = fw.ingress_verdict(p);
        assert_eq!(v, fw.ingress_verdict_by_scan(p));
        v
    }

    fn egress(fw: &FirewallRules, p: &FirewallPacket) -> Verdict {
        same_first_match(fw, p);
        let v = fw.egress_verdict(p);
        assert_eq!(v, fw.egress_verdict_by_scan(p));
        v
    }

    #[test]
    fn insertion_order_decides_not_priority_nor_specificity() {
        let mut broad = any_rule("broad", TrafficDirection::Ingress, "0.0.0.0/0", "0.0.0.0/0");
        broad.priority = 65535;
        let mut narrow = with_action(
            any_rule(
                "narrow",
                TrafficDirection::Ingress,
                "1.2.3.4/32",
                "10.0.0.1/32",
            ),
            FirewallAction::Drop,
        );
        narrow.priority = 0;
        let p = pkt("1.2.3.4", TCP, 1, 2);
        let mut fw = rules(vec![broad.clone(), narrow]);
        assert_eq!(ingress(&fw, &p), Verdict::Accept, "the older rule wins");
        // delete the older one and insert it again: now it is the newer one
        fw.remove(b"broad");
        fw.push(broad);
        assert_eq!(ingress(&fw, &p), Verdict::Drop);
        assert_eq!(
            fw.first_match(TrafficDirection::Ingress, &p).unwrap().id,
            "narrow"
        );
    }

    #[test]
    fn deleting_a_middle_rule_keeps_the_order_of_the_others() {
        let mk = |id: &str, action| {
            with_action(
                any_rule(id, TrafficDirection::Ingress, "1.2.0.0/16", "0.0.0.0/0"),
                action,
            )
        };
        let mut fw = rules(vec![
            mk("a", FirewallAction::Drop),
            mk("b", FirewallAction::Accept),
            mk("c", FirewallAction::Drop),
        ]);
        let p = pkt("1.2.3.4", UDP, 1, 2);
        let first = |fw: &FirewallRules| {
            fw.first_match(TrafficDirection::Ingress, &p)
                .unwrap()
                .id
                .to_string()
        };
        assert_eq!(first(&fw), "a");
        fw.remove(b"b");
        assert_eq!(first(&fw), "a");
        fw.remove(b"a");
        assert_eq!(first(&fw), "c");
        assert_eq!(ingress(&fw, &p), Verdict::Drop);
        fw.remove(b"c");
        assert!(fw.first_match(TrafficDirection::Ingress, &p).is_none());
    }

    #[test]
    fn icmp_rules_ignore_addresses_and_families() {
        let icmp = |t, c| {
            ProtocolFilter::Icmp(IcmpFilter {
                icmp_type: t,
                icmp_code: c,
            })
        };
        // an IPv4 rule far from the packet's addresses
        let fw = rules(vec![
            rule(
                "echo",
                TrafficDirection::Ingress,
                "9.9.9.9/32",
                icmp(Some(8), Some(0)),
            ),
            rule(
                "unreach",
                TrafficDirection::Ingress,
                "9.9.9.9/32",
                icmp(Some(3), None),
            ),
            rule(
                "code5",
                TrafficDirection::Ingress,
                "9.9.9.9/32",
                icmp(None, Some(5)),
            ),
        ]);
        let mut p = pkt("7.7.7.7", ICMP, 8, 0);
        assert_eq!(ingress(&fw, &p), Verdict::Accept);
        // an IPv6 packet with ICMPv6 matches the IPv4 ICMP rule
        p.src = "fd00::1".parse().unwrap();
        p.dst = "fd00::2".parse().unwrap();
        p.protocol = ICMPV6;
        assert_eq!(ingress(&fw, &p), Verdict::Accept);
        p.src_port_or_type = 3;
        p.dst_port_or_code = 13;
        assert_eq!(ingress(&fw, &p), Verdict::Accept, "any code");
        p.src_port_or_type = 11;
        p.dst_port_or_code = 5;
        assert_eq!(ingress(&fw, &p), Verdict::Accept, "any type");
        p.dst_port_or_code = 6;
        assert_eq!(ingress(&fw, &p), Verdict::Drop);
        // a TCP packet with the same numbers is not ICMP
        p.protocol = TCP;
        p.dst_port_or_code = 5;
        assert_eq!(ingress(&fw, &p), Verdict::Drop);
    }

    #[test]
    fn any_protocol_rules_match_icmp_and_other_protocols_by_address() {
        let fw = rules(vec![any_rule(
            "any",
            TrafficDirection::Ingress,
            "1.2.0.0/16",
            "10.0.0.0/24",
        )]);
        for proto in [ICMP, TCP, UDP, 47] {
            assert_eq!(ingress(&fw, &pkt("1.2.9.9", proto, 8, 0)), Verdict::Accept);
            assert_eq!(ingress(&fw, &pkt("1.3.9.9", proto, 8, 0)), Verdict::Drop);
        }
        let mut p = pkt("1.2.9.9", TCP, 1, 1);
        p.dst = "10.0.1.1".parse().unwrap();
        assert_eq!(ingress(&fw, &p), Verdict::Drop, "destination outside");
    }

    #[test]
    fn packets_need_rules_of_their_family() {
        let fw = rules(vec![
            any_rule("v4", TrafficDirection::Ingress, "0.0.0.0/0", "0.0.0.0/0"),
            // mixed families never match
            any_rule("mixed", TrafficDirection::Ingress, "::/0", "0.0.0.0/0"),
        ]);
        let mut p = pkt("1.2.3.4", UDP, 1, 1);
        assert_eq!(ingress(&fw, &p), Verdict::Accept);
        p.src = "fd00::1".parse().unwrap();
        p.dst = "fd00::2".parse().unwrap();
        assert_eq!(ingress(&fw, &p), Verdict::Drop);
        let fw6 = rules(vec![any_rule(
            "v6",
            TrafficDirection::Ingress,
            "fd00::/16",
            "::/0",
        )]);
        assert_eq!(ingress(&fw6, &p), Verdict::Accept);
        assert_eq!(ingress(&fw6, &pkt("1.2.3.4", UDP, 1, 1)), Verdict::Drop);
    }

    #[test]
    fn port_ranges_are_inclusive_and_any_matches_all() {
        let udp = |src: PortRange, dst: PortRange| ProtocolFilter::Udp(PortFilter { src, dst });
        let range = |l, u| PortRange {
            lower: Some(l),
            upper: Some(u),
        };
        let fw = rules(vec![
            rule(
                "range",
                TrafficDirection::Ingress,
                "0.0.0.0/0",
                udp(PortRange::ANY, range(100, 200)),
            ),
            rule(
                "one",
                TrafficDirection::Ingress,
                "0.0.0.0/0",
                udp(range(7, 7), range(53, 53)),
            ),
            rule(
                "open",
                TrafficDirection::Ingress,
                "0.0.0.0/0",
                udp(
                    PortRange::ANY,
                    PortRange {
                        lower: Some(60000),
                        upper: None,
                    },
                ),
            ),
        ]);
        for (sport, dport, want) in [
            (1, 99, Verdict::Drop),
            (1, 100, Verdict::Accept),
            (1, 200, Verdict::Accept),
            (1, 201, Verdict::Drop),
            (7, 53, Verdict::Accept),
            (8, 53, Verdict::Drop),
            (7, 54, Verdict::Drop),
            (1, 60000, Verdict::Accept),
            (1, 65535, Verdict::Accept),
        ] {
            assert_eq!(
                ingress(&fw, &pkt("1.1.1.1", UDP, sport, dport)),
                want,
                "{sport} -> {dport}"
            );
            assert_eq!(
                ingress(&fw, &pkt("1.1.1.1", TCP, sport, dport)),
                Verdict::Drop
            );
        }
    }

    #[test]
    fn egress_default_and_ingress_with_only_egress_rules() {
        let mut fw = rules(vec![any_rule(
            "in",
            TrafficDirection::Ingress,
            "0.0.0.0/0",
            "0.0.0.0/0",
        )]);
        let p = pkt("1.2.3.4", TCP, 1, 2);
        // ingress rules do not close egress
        assert_eq!(egress(&fw, &p), Verdict::Accept);
        fw.remove(b"in");
        fw.push(any_rule(
            "out",
            TrafficDirection::Egress,
            "5.0.0.0/8",
            "0.0.0.0/0",
        ));
        // upstream defect: evaluating ingress over a list holding egress rules crashed
        assert_eq!(ingress(&fw, &p), Verdict::Drop);
        assert_eq!(
            egress(&fw, &p),
            Verdict::Drop,
            "an egress rule exists, none matches"
        );
        assert_eq!(egress(&fw, &pkt("5.1.1.1", TCP, 1, 2)), Verdict::Accept);
    }

    // ---- the index against the linear scan on random rule sets ----

    /// xorshift64: deterministic, so a failure reproduces.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn pick<T: Copy>(&mut self, from: &[T]) -> T {
            from[self.below(from.len() as u64) as usize]
        }
    }

    /// Addresses from a small pool, so that rules and packets meet often.
    fn random_addr(rng: &mut Rng, v6: bool) -> IpAddr {
        let a = rng.pick(&[0u8, 1, 2, 255]);
        let b = rng.pick(&[0u8, 1, 128]);
        let c = rng.pick(&[0u8, 3, 7]);
        if v6 {
            IpAddr::V6(std::net::Ipv6Addr::new(
                0xfd00 | u16::from(a),
                u16::from(b),
                0,
                0,
                0,
                0,
                0,
                u16::from(c),
            ))
        } else {
            IpAddr::V4(std::net::Ipv4Addr::new(10, a, b, c))
        }
    }

    fn random_prefix(rng: &mut Rng, v6: bool) -> dpservice::model::IpPrefix {
        let addr = random_addr(rng, v6);
        let len = if v6 {
            rng.pick(&[0u32, 8, 16, 24, 32, 125, 128])
        } else {
            rng.pick(&[0u32, 8, 16, 24, 25, 30, 32])
        };
        dpservice::model::IpPrefix::new(addr, len).unwrap()
    }

    fn random_port(rng: &mut Rng) -> u16 {
        rng.pick(&[0u16, 1, 2, 3, 5, 8, 300, 65535])
    }

    fn random_range(rng: &mut Rng) -> PortRange {
        match rng.below(4) {
            0 => PortRange::ANY,
            1 => {
                let p = random_port(rng);
                PortRange {
                    lower: Some(p),
                    upper: Some(p),
                }
            }
            2 => PortRange {
                lower: Some(random_port(rng)),
                upper: None,
            },
            _ => PortRange {
                lower: Some(random_port(rng)),
                upper: Some(random_port(rng)),
            },
        }
    }

    fn random_rule(rng: &mut Rng, id: &str) -> FirewallRule {
        let v6 = rng.below(3) == 0;
        // now and then a rule whose source and destination differ in family
        let dst_v6 = if rng.below(20) == 0 { !v6 } else { v6 };
        let small = |rng: &mut Rng| match rng.below(3) {
            0 => None,
            _ => Some(rng.pick(&[0u8, 3, 8])),
        };
        let filter = match rng.below(4) {
            0 => ProtocolFilter::Any,
            1 => ProtocolFilter::Icmp(IcmpFilter {
                icmp_type: small(rng),
                icmp_code: small(rng),
            }),
            2 => ProtocolFilter::Tcp(PortFilter {
                src: random_range(rng),
                dst: random_range(rng),
            }),
            _ => ProtocolFilter::Udp(PortFilter {
                src: random_range(rng),
                dst: random_range(rng),
            }),
        };
        FirewallRule {
            id: id.into(),
            direction: if rng.below(2) == 0 {
                TrafficDirection::Ingress
            } else {
                TrafficDirection::Egress
            },
            action: if rng.below(2) == 0 {
                FirewallAction::Accept
            } else {
                FirewallAction::Drop
            },
            priority: 0,
            source: random_prefix(rng, v6),
            destination: random_prefix(rng, dst_v6),
            filter,
        }
    }

    fn random_packet(rng: &mut Rng) -> FirewallPacket {
        let v6 = rng.below(3) == 0;
        FirewallPacket {
            src: random_addr(rng, v6),
            dst: random_addr(rng, v6),
            protocol: rng.pick(&[ICMP, ICMPV6, TCP, UDP, 47]),
            src_port_or_type: random_port(rng),
            dst_port_or_code: random_port(rng),
        }
    }

    #[test]
    fn index_agrees_with_the_linear_scan() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut compared = 0u32;
        let mut matched = 0u32;
        for round in 0..60 {
            let mut fw = FirewallRules::default();
            let mut live: Vec<String> = Vec::new();
            let size = [1u64, 5, 40, 300][round % 4];
            for step in 0..(size * 3) {
                // mostly inserts, some deletes (middle ones included)
                if !live.is_empty() && rng.below(3) == 0 {
                    let i = rng.below(live.len() as u64) as usize;
                    let id = live.remove(i);
                    assert!(fw.remove(id.as_bytes()).is_some());
                } else {
                    let id = format!("r{round}-{step}");
                    fw.push(random_rule(&mut rng, &id));
                    live.push(id);
                }
                for _ in 0..8 {
                    let p = random_packet(&mut rng);
                    for dir in [TrafficDirection::Ingress, TrafficDirection::Egress] {
                        let by_index = fw.first_match(dir, &p).map(|r| r.id.clone());
                        let by_scan = fw.first_match_by_scan(dir, &p).map(|r| r.id.clone());
                        assert_eq!(
                            by_index, by_scan,
                            "round {round} step {step}: {p:?} {dir:?}"
                        );
                        matched += u32::from(by_scan.is_some());
                        compared += 1;
                    }
                    egress(&fw, &p);
                    ingress(&fw, &p);
                }
            }
        }
        // the pools are small enough that matches are common, not rare
        assert!(compared > 50_000, "{compared}");
        assert!(matched > compared / 5, "{matched} of {compared} matched");
    }
}
