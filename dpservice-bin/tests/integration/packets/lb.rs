//! Load balancing through the real daemon (dataplane.md §9): an LB with two targets, one
//! of them vm1's LB prefix on this host. A tunnelled flow to the LB address whose Maglev
//! slot names the local prefix reaches vm1 (recirculated and decapsulated); a flow whose
//! slot names the other target leaves the uplink it came in on towards that target.

use dpservice::model::{
    CreateLbPrefix, CreateLoadBalancer, IpPrefix, L4Protocol, LbPort, LoadBalancerTarget,
};
use dpservice_bin::state::maglev::MaglevTable;

use super::*;

const LB_IP: Ipv4Addr = Ipv4Addr::new(172, 22, 2, 1);
const LB_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0x22, 1);
/// vm1's LB prefix (the local target).
const LOCAL_T: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0x1234, 2);
/// Another host's prefix.
const REMOTE_T: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0x1234, 3);
const HOST_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0, 0, 1);
const ROUTER_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 2, 0, 0, 0, 0, 0, 0xffff);
const CLIENT: Ipv4Addr = Ipv4Addr::new(45, 86, 6, 6);

/// A client source port whose flow Maglev sends to `target` (targets sorted, §9.5).
fn port_for(target: Ipv6Addr) -> u16 {
    let targets = [LOCAL_T, REMOTE_T];
    let table = MaglevTable::build(&targets);
    (1000..2000)
        .find(|&sport| {
            let key = dpservice_bin::flow::key::FlowKey {
                l3_dst: IpAddr::V4(LB_IP),
                l3_src: IpAddr::V4(CLIENT),
                proto: ip_proto::UDP,
                port_dst: 1234,
                src: sport,
                vni: 100,
                vnf_type: 0,
            };
            table.pick(key.hash()).map(|i| targets[i]) == Some(target)
        })
        .expect("some source port lands on each target")
}

#[test]
fn lb_recirculates_to_a_local_prefix_and_forwards_to_a_remote_target() {
    let mut rig = Rig::start(&[]);
    rig.configure();
    rig.daemon.with_client(|c| async move {
        let ul = c
            .create_load_balancer(&CreateLoadBalancer {
                id: "lb1".into(),
                vni: 100,
                ip: IpAddr::V4(LB_IP),
                ports: vec![LbPort {
                    protocol: L4Protocol::Udp,
                    port: 1234,
                }],
                preferred_underlay: Some(LB_UL),
            })
            .await
            .unwrap();
        assert_eq!(ul, LB_UL);
        let pfx = c
            .create_load_balancer_prefix(&CreateLbPrefix {
                interface_id: "vm1".into(),
                prefix: IpPrefix::new(IpAddr::V4(LB_IP), 32).unwrap(),
                preferred_underlay: Some(LOCAL_T),
            })
            .await
            .unwrap();
        assert_eq!(pfx, LOCAL_T);
        for t in [LOCAL_T, REMOTE_T] {
            c.create_load_balancer_target(&LoadBalancerTarget {
                loadbalancer_id: "lb1".into(),
                target: IpAddr::V6(t),
            })
            .await
            .unwrap();
        }
    });
    let (vm1, vf0) = (vm_mac(1), port_mac(VF0));
    lease(&mut rig, VF0, vm1);

    let tunnel = |pf: usize, inner: &[u8]| {
        eth(
            port_mac(pf),
            MacAddr([0x02, 0xaa, 0, 0, 0, 1]),
            ethertype::IPV6,
            &ipv6_packet(ROUTER_UL, LB_UL, ip_proto::IPIP, 64, inner),
        )
    };

    // a flow for the local prefix: vm1 receives the packet as sent (dst = LB IP)
    let local = ipv4_udp(CLIENT, LB_IP, port_for(LOCAL_T), 1234, b"to vm1");
    let got = rig
        .exchange(PF0, &tunnel(PF0, &local), VF0, from_mac(vf0))
        .expect("not delivered to the local LB prefix");
    assert_eq!(got, eth(vm1, vf0, ethertype::IPV4, &local));

    // a flow for the remote target: re-tunnelled from the host's underlay, out of pf1
    // because it came in on pf1
    let remote = ipv4_udp(CLIENT, LB_IP, port_for(REMOTE_T), 1234, b"elsewhere");
    let pf1 = port_mac(PF1);
    let got = rig
        .exchange(PF1, &tunnel(PF1, &remote), PF1, from_mac(pf1))
        .expect("not forwarded to the remote target");
    let mut hdr = vec![0x60, 0, 0, 0, 0, remote.len() as u8, 4, 64];
    hdr.extend_from_slice(&HOST_UL.octets());
    hdr.extend_from_slice(&REMOTE_T.octets());
    assert_eq!(&got[..6], &[0; 6], "router MAC not learned");
    assert_eq!(&got[12..14], &[0x86, 0xdd]);
    assert_eq!(&got[14..54], &hdr[..]);
    assert_eq!(&got[54..], &remote[..]);

    // a port the LB does not serve goes nowhere
    let other = ipv4_udp(CLIENT, LB_IP, port_for(LOCAL_T), 1235, b"no");
    rig.silence(PF0, &tunnel(PF0, &other), VF0, from_mac(vf0));
}
