//! Neighbour NAT between two hosts (dataplane.md §8.3.4): host A and host B share one
//! NAT IP with different port ranges, and each knows the other's range as a neighbour
//! entry pointing at the other's NAT underlay. The test plays the underlay router with a
//! TAP on host A's bridge: it sees a VM's NATed packet leave, and sends the Internet's
//! answer to the NAT underlay of the *other* host, as a router would that cannot tell
//! the hosts' port ranges apart. That host relays it unchanged to the owner of the port,
//! whose VM receives the answer restored in its own socket.

use std::net::{SocketAddrV4, UdpSocket};

use dpservice::model::{CreateNat, NeighborNat};
use dpservice_bin::port::tap::{TapConfig, TapPort};
use dpservice_bin::port::{Pool, Port};
use dpservice_bin::wire::ethernet::{self, ethertype, MacAddr};
use dpservice_bin::wire::{ip_proto, ipv4, ipv6, udp};

use super::*;

const NAT_IP: Ipv4Addr = Ipv4Addr::new(172, 20, 0, 3);
const PUBLIC: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(45, 86, 6, 106), 1234);
const ROUTER_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 0xff, 0, 0, 0, 0, 0, 1);
const ROUTER_MAC: MacAddr = MacAddr([0x02, 0xaa, 0, 0, 0, 1]);
/// How long the router waits for a frame it expects.
const FRAME_TIMEOUT: Duration = Duration::from_secs(3);

/// The underlay router: a TAP bridged into host A's underlay.
struct Router {
    port: TapPort,
    pool: Pool,
}

impl Router {
    fn attach(host: &Host) -> Router {
        let port = support::in_netns(Some(&host.ns.path()), || {
            let mut port = TapPort::open(&TapConfig {
                device: "router".into(),
                iface: "rt0".into(),
                mac: None,
                persist: false,
            })
            .map_err(std::io::Error::other)?;
            port.start()?;
            Ok(port)
        })
        .unwrap_or_else(|e| panic!("cannot open the router's TAP: {e}"));
        let n = host.ns.name();
        support::ip(&["-n", n, "link", "set", "rt0", "mtu", UNDERLAY_MTU]);
        support::ip(&["-n", n, "link", "set", "rt0", "master", "br0", "up"]);
        wait_until_forwarding(&host.ns, "rt0");
        Router {
            port,
            pool: Pool::new(64),
        }
    }

    /// The first IPv4-in-IPv6 frame on the underlay whose outer (source, destination)
    /// satisfy `outer`: its outer IPv6 packet.
    fn receive(&mut self, outer: impl Fn(Ipv6Addr, Ipv6Addr) -> bool) -> Option<Vec<u8>> {
        let deadline = Instant::now() + FRAME_TIMEOUT;
        let mut got = Vec::new();
        while Instant::now() < deadline {
            self.port.rx_burst(&mut self.pool, &mut got, 32);
            let hit = got.iter().find_map(|b| {
                let f = b.frame();
                if f.len() < 14 + 40 + 20 || f[12..14] != ethertype::IPV6.to_be_bytes() {
                    return None;
                }
                let ip6 = ipv6::Packet::new_checked(&f[14..]).ok()?;
                (ip6.next_header() == ip_proto::IPIP && outer(ip6.src_addr(), ip6.dst_addr()))
                    .then(|| f[14..].to_vec())
            });
            for b in got.drain(..) {
                self.pool.free(b);
            }
            if hit.is_some() {
                return hit;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        None
    }

    /// Sends `inner` (IPv4) tunnelled to `dst`. The frame goes to the zero MAC, as the
    /// daemons send to a router whose MAC they have not learned: the bridges flood it
    /// to both hosts, and only the owner of `dst` may take it.
    fn send(&mut self, dst: Ipv6Addr, inner: &[u8]) {
        let mut outer = vec![0u8; 40];
        ipv6::Repr {
            src: ROUTER_UL,
            dst,
            next_header: ip_proto::IPIP,
            payload_len: inner.len() as u16,
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
        }
        .emit(&mut outer);
        let mut f = vec![0u8; 14];
        ethernet::emit(&mut f, MacAddr([0; 6]), ROUTER_MAC, ethertype::IPV6);
        f.extend_from_slice(&outer);
        f.extend_from_slice(inner);
        self.port.write_frame(&f).unwrap();
    }
}

/// An IPv4/UDP packet with both checksums filled.
fn udp4(src: SocketAddrV4, dst: SocketAddrV4, data: &[u8]) -> Vec<u8> {
    let mut d = vec![0u8; 8];
    d[0..2].copy_from_slice(&src.port().to_be_bytes());
    d[2..4].copy_from_slice(&dst.port().to_be_bytes());
    d[4..6].copy_from_slice(&((8 + data.len()) as u16).to_be_bytes());
    d.extend_from_slice(data);
    udp::Packet::new_unchecked(&mut d[..]).fill_checksum_v4(*src.ip(), *dst.ip());
    let mut p = vec![0u8; 20];
    ipv4::Repr {
        src: *src.ip(),
        dst: *dst.ip(),
        protocol: ip_proto::UDP,
        payload_len: d.len() as u16,
        ttl: 60,
        tos: 0,
        ident: 0x4242,
        flags_frag: 0,
    }
    .emit(&mut p);
    p.extend_from_slice(&d);
    p
}

/// A default route to the router and the local NAT [min, max) on the host's VM; returns
/// the NAT underlay.
fn local_nat(host: &Host, min_port: u16, max_port: u16) -> Ipv6Addr {
    let vm = host.vm.id.clone();
    host.daemon.with_client(move |c| async move {
        c.create_route(&Route {
            vni: VNI,
            prefix: RequestPrefix::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
            nexthop_vni: VNI,
            nexthop: IpAddr::V6(ROUTER_UL),
        })
        .await
        .unwrap();
        c.create_nat(&CreateNat {
            interface_id: vm.as_str().into(),
            ip: IpAddr::V4(NAT_IP),
            min_port,
            max_port,
            preferred_underlay: None,
        })
        .await
        .unwrap()
    })
}

/// The other host's range [min, max) as a neighbour entry on `host`.
fn neighbour(host: &Host, min_port: u16, max_port: u16, underlay_route: Ipv6Addr) {
    host.daemon.with_client(move |c| async move {
        c.create_neighbor_nat(&NeighborNat {
            ip: IpAddr::V4(NAT_IP),
            vni: VNI,
            min_port,
            max_port,
            underlay_route,
        })
        .await
        .unwrap();
    });
}

/// A UDP socket of `vm` that has sent "hello" to the Internet.
fn vm_sends(vm: &Vm) -> UdpSocket {
    let ip = vm.ipv4;
    support::in_netns(Some(&vm.ns.path()), move || {
        let s = UdpSocket::bind((ip, 0))?;
        s.set_read_timeout(Some(Duration::from_millis(500)))?;
        s.send_to(b"hello", PUBLIC)?;
        Ok(s)
    })
    .unwrap()
}

/// The NAT port of the VM's "hello" as the router sees it, checked to lie in
/// [min, max).
fn natted_port(router: &mut Router, min: u16, max: u16) -> u16 {
    let inner = router
        .receive(|_, dst| dst == ROUTER_UL)
        .expect("the VM's packet did not reach the router");
    let ip = ipv4::Packet::new_checked(&inner[40..]).unwrap();
    assert!(ip.verify_checksum());
    assert_eq!((ip.src_addr(), ip.dst_addr()), (NAT_IP, *PUBLIC.ip()));
    let u = udp::Packet::new_checked(ip.payload()).unwrap();
    assert!(u.verify_checksum_v4(ip.src_addr(), ip.dst_addr()));
    assert_eq!(u.dst_port(), PUBLIC.port());
    assert_eq!(u.payload(), b"hello");
    let port = u.src_port();
    assert!(
        (min..max).contains(&port),
        "NAT port {port} outside the host's range [{min}, {max})"
    );
    port
}

/// What `sock` receives next, if anything within its timeout.
fn vm_receives(sock: &UdpSocket) -> Option<(Vec<u8>, SocketAddr)> {
    let mut buf = [0u8; 1500];
    match sock.recv_from(&mut buf) {
        Ok((n, from)) => Some((buf[..n].to_vec(), from)),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => None,
        Err(e) => panic!("cannot receive in the VM: {e}"),
    }
}

#[test]
fn answers_to_the_wrong_host_are_relayed_to_the_port_owner() {
    let hosts = TwoHosts::start();
    let (a, b) = (&hosts.a, &hosts.b);
    let mut router = Router::attach(a);
    let nat_ul_a = local_nat(a, 100, 200);
    let nat_ul_b = local_nat(b, 200, 300);
    neighbour(b, 100, 200, nat_ul_a);

    // VM B talks to the Internet from a port of B's range
    let sock_b = vm_sends(&b.vm);
    let port_b = natted_port(&mut router, 200, 300);
    let answer = udp4(PUBLIC, SocketAddrV4::new(NAT_IP, port_b), b"answer");

    // the answer reaches host A's NAT underlay: while A does not know B's range it
    // drops it (and B does not take a packet for A's underlay)
    router.send(nat_ul_a, &answer);
    assert_eq!(vm_receives(&sock_b), None, "delivered without A's relay");

    // once A knows B's range, A relays it to B unchanged, and VM B gets it restored
    neighbour(a, 200, 300, nat_ul_b);
    router.send(nat_ul_a, &answer);
    let relayed = router
        .receive(|_, dst| dst == nat_ul_b)
        .expect("host A did not relay the answer to host B");
    let outer = ipv6::Packet::new_checked(&relayed[..]).unwrap();
    assert_eq!(
        outer.src_addr(),
        "fc00:a::1".parse::<Ipv6Addr>().unwrap(),
        "relayed from A's own underlay (--ipv6)"
    );
    assert_eq!(&relayed[40..], &answer[..], "relayed unchanged");
    let (data, from) = vm_receives(&sock_b).expect("VM B did not receive the relayed answer");
    assert_eq!(
        (data.as_slice(), from),
        (&b"answer"[..], SocketAddr::V4(PUBLIC))
    );

    // and the other way round: VM A's answer sent to B's underlay comes home through B
    let sock_a = vm_sends(&a.vm);
    let port_a = natted_port(&mut router, 100, 200);
    let answer = udp4(PUBLIC, SocketAddrV4::new(NAT_IP, port_a), b"for A");
    router.send(nat_ul_b, &answer);
    let relayed = router
        .receive(|_, dst| dst == nat_ul_a)
        .expect("host B did not relay the answer to host A");
    assert_eq!(&relayed[40..], &answer[..]);
    let (data, from) = vm_receives(&sock_a).expect("VM A did not receive the relayed answer");
    assert_eq!(
        (data.as_slice(), from),
        (&b"for A"[..], SocketAddr::V4(PUBLIC))
    );
}
