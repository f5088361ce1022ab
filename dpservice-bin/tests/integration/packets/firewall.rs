//! The firewall through the real daemon (dataplane.md §10): rules created over gRPC give
//! each flow a verdict, cached in the flow (read here from the daemon's shared-memory
//! conntrack table), but the verdict is never enforced: traffic it would drop is
//! forwarded all the same, to a VM and through the tunnel.

use dpservice::model::{
    CreateFirewallRule, FirewallAction, FirewallRule, IpPrefix, PortFilter, PortRange,
    ProtocolFilter, TrafficDirection,
};

use super::flows::{conntrack, find};
use super::*;

const ACCEPT: u8 = 1;
const DROP: u8 = 2;

/// An accepting UDP rule for destination port `port` from `source`.
fn udp_rule(id: &str, direction: TrafficDirection, source: IpPrefix, port: u16) -> FirewallRule {
    let any = IpPrefix::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0).unwrap();
    FirewallRule {
        id: id.into(),
        direction,
        action: FirewallAction::Accept,
        priority: 1000,
        source,
        destination: any,
        filter: ProtocolFilter::Udp(PortFilter {
            src: PortRange::ANY,
            dst: PortRange {
                lower: Some(port),
                upper: Some(port),
            },
        }),
    }
}

#[test]
fn verdicts_are_cached_in_the_flow_and_never_enforced() {
    let mut rig = Rig::start(&[]);
    rig.configure();
    rig.daemon.with_client(|c| async move {
        let any = IpPrefix::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0).unwrap();
        let vni100 = IpPrefix::new(IpAddr::V4(Ipv4Addr::new(10, 100, 1, 0)), 24).unwrap();
        // vm1 may send UDP to port 80 only; vm2 takes UDP to port 80 from its network only
        for (iface, rule) in [
            ("vm1", udp_rule("out80", TrafficDirection::Egress, any, 80)),
            (
                "vm2",
                udp_rule("in80", TrafficDirection::Ingress, vni100, 80),
            ),
        ] {
            c.create_firewall_rule(&CreateFirewallRule {
                interface_id: iface.into(),
                rule,
            })
            .await
            .unwrap();
        }
    });
    let (vm1, vm2, vf0, vf1) = (vm_mac(1), vm_mac(2), port_mac(VF0), port_mac(VF1));
    lease(&mut rig, VF0, vm1);
    lease(&mut rig, VF1, vm2);
    let from_vm1 = |dst: Ipv4Addr, sport: u16, dport: u16| {
        eth(
            vf0,
            vm1,
            ethertype::IPV4,
            &ipv4_udp(VM1_IP, dst, sport, dport, b"knock"),
        )
    };

    // accepted both ways: vm1 -> vm2:80
    let sent = from_vm1(VM2_IP, 4000, 80);
    let got = rig
        .exchange(VF0, &sent, VF1, from_mac(vf1))
        .expect("accepted flow to vm2");
    assert_eq!(got[14..], sent[14..]);
    // the verdict would drop (no egress rule of vm1 for port 81, no ingress rule of vm2):
    // delivered all the same, and so is vm2's reply
    let sent = from_vm1(VM2_IP, 4001, 81);
    let got = rig
        .exchange(VF0, &sent, VF1, from_mac(vf1))
        .expect("a flow the firewall would drop was not forwarded to vm2");
    assert_eq!(got[14..], sent[14..]);
    let reply = eth(
        vf1,
        vm2,
        ethertype::IPV4,
        &ipv4_udp(VM2_IP, VM1_IP, 81, 4001, b"open"),
    );
    let got = rig
        .exchange(VF1, &reply, VF0, from_mac(vf0))
        .expect("the reply of a flow the firewall would drop was not forwarded");
    assert_eq!(got[14..], reply[14..]);
    // towards the uplink: port 80 accepted, port 81 would be dropped; both tunnelled
    for (sport, dport) in [(4002, 80), (4003, 81)] {
        let sent = from_vm1(REMOTE_IP, sport, dport);
        let inner = sent[14..].to_vec();
        rig.exchange(VF0, &sent, PF0, |f| f.len() > 54 && f[54..] == inner[..])
            .unwrap_or_else(|| panic!("UDP to {REMOTE_IP}:{dport} not tunnelled"));
    }

    // the cached verdicts, as the daemon's conntrack table in shared memory holds them:
    // the same in both keys of a flow, for both directions
    let flows = conntrack(&rig);
    for (sport, dport, peer, want) in [
        (4000, 80, VM2_IP, ACCEPT),
        (4001, 81, VM2_IP, DROP),
        (4002, 80, REMOTE_IP, ACCEPT),
        (4003, 81, REMOTE_IP, DROP),
    ] {
        let (_, org) = find(&flows, ip_proto::UDP, VM1_IP, sport)
            .unwrap_or_else(|| panic!("no flow from port {sport}: {flows:?}"));
        let (_, reply) = find(&flows, ip_proto::UDP, peer, dport)
            .unwrap_or_else(|| panic!("no reply key for port {sport}: {flows:?}"));
        for e in [org, reply] {
            assert_eq!(
                (e.fw_verdict_org, e.fw_verdict_reply),
                (want, want),
                "verdict of the flow from port {sport} to {peer}:{dport}"
            );
        }
    }
}
