//! Scenarios over real TAP devices: the graph and the port driver on `dtap0`, `dtap1`,
//! `dtapvf_0..2` inside a private network namespace, with raw packet sockets on the
//! kernel side playing the VMs and the underlay router. Each test has its own anonymous
//! namespace (it vanishes with the test's thread, also on failure).

use std::time::{Duration, Instant};

use super::harness::*;
use crate::datapath::port_set::PortSet;
use crate::graph::GraphConfig;
use crate::port::tap::tests::{in_new_netns, KernelSide};
use crate::port::tap::{TapConfig, TapPort};
use crate::port::PortId;
use crate::wire::ethernet::{ethertype, MacAddr};
use crate::wire::{ip_proto, ipv6};

const IFACES: [(PortId, &str, MacAddr); 5] = [
    (PF0, "dtap0", PF0_MAC),
    (PF1, "dtap1", PF1_MAC),
    (VF0, "dtapvf_0", VF0_MAC),
    (VF1, "dtapvf_1", VF1_MAC),
    (VF2, "dtapvf_2", VF2_MAC),
];

struct Rig {
    h: Harness,
    ports: PortSet,
    /// Kernel side of each interface, by port id.
    kernel: Vec<KernelSide>,
}

impl Rig {
    /// Builds the TAPs in the current (fresh) namespace; the kernel's own IPv6 chatter is
    /// switched off as in upstream's test setup.
    fn new(cfg: GraphConfig) -> Rig {
        let _ = std::fs::write("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
        let _ = std::fs::write("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
        let mut h = Harness::new(cfg);
        let mut ports = PortSet::new();
        for (id, name, mac) in IFACES {
            let cfg = TapConfig {
                device: format!("net_tap{id}"),
                iface: name.into(),
                mac: Some(mac),
                persist: false,
            };
            ports.insert(id, Box::new(TapPort::open(&cfg).unwrap()));
            // uplinks run from the start; VFs from CreateInterface (all three exist)
            ports.start(&mut h.graph, id).unwrap();
        }
        ports.refresh_links(&mut h.graph);
        let kernel = IFACES
            .iter()
            .map(|(_, name, _)| KernelSide::bind(name))
            .collect();
        Rig { h, ports, kernel }
    }

    /// Sends `frame` into the daemon through the kernel side of `port` and returns the
    /// first frame the kernel side of `out` receives that satisfies `want`.
    fn exchange(
        &mut self,
        port: PortId,
        frame: &[u8],
        out: PortId,
        want: impl Fn(&[u8]) -> bool,
    ) -> Option<Vec<u8>> {
        self.kernel[usize::from(port)].send(frame);
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            self.ports
                .poll(&mut self.h.graph, &self.h.state, Instant::now());
            if let Some(f) = self.kernel[usize::from(out)].recv_matching(Duration::ZERO, &want) {
                return Some(f);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        None
    }

    /// Like [`Rig::exchange`] but expects that nothing satisfying `want` comes out.
    fn expect_silence(
        &mut self,
        port: PortId,
        frame: &[u8],
        out: PortId,
        want: impl Fn(&[u8]) -> bool,
    ) {
        self.kernel[usize::from(port)].send(frame);
        let deadline = Instant::now() + Duration::from_millis(300);
        while Instant::now() < deadline {
            self.ports
                .poll(&mut self.h.graph, &self.h.state, Instant::now());
            let got = self.kernel[usize::from(out)].recv_matching(Duration::ZERO, &want);
            assert!(got.is_none(), "unexpected frame {got:?}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

fn from(mac: MacAddr) -> impl Fn(&[u8]) -> bool {
    move |f: &[u8]| f.len() >= 12 && f[6..12] == mac.0
}

#[test]
fn tap_arp_request_for_gateway() {
    in_new_netns(|| {
        let mut rig = Rig::new(pytest_config());
        let mut req = [&[0xff; 6][..], &VM1_MAC.0, &[0x08, 0x06]].concat();
        req.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
        req.extend_from_slice(&VM1_MAC.0);
        req.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 169, 254, 0, 1]);
        let reply = rig
            .exchange(VF0, &req, VF0, from(VF0_MAC))
            .expect("no ARP reply");
        let mut expect = [&VM1_MAC.0[..], &VF0_MAC.0, &[0x08, 0x06]].concat();
        expect.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 2]);
        expect.extend_from_slice(&VF0_MAC.0);
        expect.extend_from_slice(&[169, 254, 0, 1]);
        expect.extend_from_slice(&VM1_MAC.0);
        expect.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(reply, expect);
    });
}

#[test]
fn tap_dhcp_discover_offer_and_request_ack() {
    in_new_netns(|| {
        let mut rig = Rig::new(pytest_config());
        let discover = super::local::dhcp_request(1, &[]);
        let offer = rig
            .exchange(VF0, &discover, VF0, from(VF0_MAC))
            .expect("no OFFER");
        assert_eq!(
            offer,
            super::local::dhcp_answer(2, [0xc4, 0x42], [0xe2, 0x09])
        );
        let request = super::local::dhcp_request(3, &[]);
        let ack = rig
            .exchange(VF0, &request, VF0, from(VF0_MAC))
            .expect("no ACK");
        assert_eq!(
            ack,
            super::local::dhcp_answer(5, [0xc4, 0x42], [0xdf, 0x09])
        );
        assert_eq!(rig.h.graph.port(VF0).unwrap().neigh_mac, VM1_MAC);
    });
}

#[test]
fn tap_dhcpv6_solicit_advertise() {
    in_new_netns(|| {
        let mut rig = Rig::new(pytest_config());
        let solicit = super::local::dhcpv6_solicit(VM1_MAC);
        let adv = rig
            .exchange(VF0, &solicit, VF0, from(VF0_MAC))
            .expect("no ADVERTISE");
        assert_eq!(adv, super::local::dhcpv6_advertise());
    });
}

#[test]
fn tap_neighbor_solicitation_for_gateway() {
    in_new_netns(|| {
        let mut rig = Rig::new(pytest_config());
        let ns = super::local::neighbor_solicit(ipv6::GATEWAY);
        let na = rig.exchange(VF0, &ns, VF0, from(VF0_MAC)).expect("no NA");
        assert_eq!(na, super::local::gateway_na());
    });
}

#[test]
fn tap_vm_to_vm_and_vni_isolation() {
    in_new_netns(|| {
        let mut rig = Rig::new(pytest_config());
        let frame = vm_udp4(VM1_MAC, VF0_MAC, VM1_IP, VM2_IP, 4000, 80);
        let got = rig
            .exchange(VF0, &frame, VF1, from(VF1_MAC))
            .expect("not forwarded");
        assert_eq!(&got[..12], &[VF1_MAC.0, VF1_MAC.0].concat()[..]);
        assert_eq!(&got[12..], &frame[12..]);
        // vm3 is in VNI 200: nothing of vm1's reaches it, and it cannot reach vm1
        let to_vm3 = vm_udp4(VM1_MAC, VF0_MAC, VM1_IP, VM3_IP, 4000, 80);
        rig.expect_silence(VF0, &to_vm3, VF2, from(VF2_MAC));
        let from_vm3 = vm_udp4(VM1_MAC, VF2_MAC, VM3_IP, VM1_IP, 4000, 80);
        rig.expect_silence(VF2, &from_vm3, VF0, from(VF0_MAC));
    });
}

fn add_remote_route(h: &mut Harness) {
    use std::net::{IpAddr, Ipv4Addr};
    h.route_to_neighbour(IpAddr::V4(Ipv4Addr::new(10, 100, 2, 0)), 24);
}

#[test]
fn tap_vm_to_uplink_encapsulated_and_back_decapsulated() {
    in_new_netns(|| {
        let mut rig = Rig::new(pytest_config());
        add_remote_route(&mut rig.h);
        let remote = std::net::Ipv4Addr::new(10, 100, 2, 2);
        let frame = vm_udp4(VM1_MAC, VF0_MAC, VM1_IP, remote, 4000, 80);
        let tunnel = rig
            .exchange(VF0, &frame, PF0, from(PF0_MAC))
            .expect("not encapsulated");
        let mut expect = vec![0, 0, 0, 0, 0, 0];
        expect.extend_from_slice(&PF0_MAC.0);
        expect.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0, 0, 36, 4, 64]);
        expect.extend_from_slice(&VM1_UL.octets());
        expect.extend_from_slice(&NEIGH_UL.octets());
        expect.extend_from_slice(&frame[14..]);
        assert_eq!(tunnel, expect);

        // the answer comes back through pf1 in a tunnel to vm1's underlay
        let inner = ipv4_packet(
            remote,
            VM1_IP,
            ip_proto::UDP,
            &udp_datagram(80, 4000, b"answer"),
        );
        let outer = ipv6_packet(NEIGH_UL, VM1_UL, ip_proto::IPIP, &inner);
        let back = eth(
            PF1_MAC,
            MacAddr([0x02, 0xaa, 0, 0, 0, 1]),
            ethertype::IPV6,
            &outer,
        );
        let got = rig
            .exchange(PF1, &back, VF0, from(VF0_MAC))
            .expect("not decapsulated");
        assert_eq!(
            got,
            [&VF0_MAC.0[..], &VF0_MAC.0, &[0x08, 0x00], &inner].concat()
        );
    });
}

#[test]
fn tap_wcmp_split_over_both_uplinks() {
    in_new_netns(|| {
        let cfg = GraphConfig {
            wcmp_percent: 50,
            ..pytest_config()
        };
        let mut rig = Rig::new(cfg);
        add_remote_route(&mut rig.h);
        // §19.5: pings to 10.100.2.102 hash to pf0, to 10.100.2.125 to pf1
        for (last, out, mac) in [(102, PF0, PF0_MAC), (125, PF1, PF1_MAC)] {
            let dst = std::net::Ipv4Addr::new(10, 100, 2, last);
            let icmp = [8, 0, 0xf7, 0xff, 0, 0, 0, 0];
            let ping = eth(
                VF0_MAC,
                VM1_MAC,
                ethertype::IPV4,
                &ipv4_packet(VM1_IP, dst, ip_proto::ICMP, &icmp),
            );
            let got = rig
                .exchange(VF0, &ping, out, from(mac))
                .expect("ping not tunnelled");
            assert_eq!(&got[54..], &ping[14..]);
        }
    });
}
