//! Packets through the real daemon: pytest's port layout (`dtap0`, `dtap1`,
//! `dtapvf_0..2`) in a private namespace, configured over gRPC. Each daemon TAP is
//! joined (tc mirred both ways) to a TAP the test opens with the port library, so the
//! test plays the VMs and the underlay router with plain frames and checks the bytes
//! that come back.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use dpservice::model::{CreateInterface, Metering, RequestPrefix, Route};
use dpservice_bin::port::tap::{TapConfig, TapPort};
use dpservice_bin::port::{Pool, Port};
use dpservice_bin::wire::ethernet::{ethertype, MacAddr};
use dpservice_bin::wire::{icmpv6, ip_proto, ipv4, ipv6, udp};

use crate::support::{self, Daemon};

const IFACES: [&str; 5] = ["dtap0", "dtap1", "dtapvf_0", "dtapvf_1", "dtapvf_2"];
const PF0: usize = 0;
const PF1: usize = 1;
const VF0: usize = 2;
const VF1: usize = 3;
const VF2: usize = 4;

fn port_mac(i: usize) -> MacAddr {
    if i < 2 {
        MacAddr([0x22, 0x22, 0x22, 0x22, 0x22, i as u8])
    } else {
        MacAddr([0x66, 0x66, 0x66, 0x66, 0x66, (i - 2) as u8])
    }
}

fn vm_mac(n: u8) -> MacAddr {
    MacAddr([0x52, 0x54, 0, 0, 0, n])
}

const VM1_IP: Ipv4Addr = Ipv4Addr::new(10, 100, 1, 1);
const VM2_IP: Ipv4Addr = Ipv4Addr::new(10, 100, 1, 2);
const VM3_IP: Ipv4Addr = Ipv4Addr::new(10, 200, 1, 1);
const VM1_IP6: Ipv6Addr = Ipv6Addr::new(0x2000, 0x100, 1, 0, 0, 0, 0, 1);
const VM1_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0, 1);
const NEIGH_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 2, 0, 0, 0, 0x64, 0, 1);
const REMOTE_IP: Ipv4Addr = Ipv4Addr::new(10, 100, 2, 2);

/// The daemon and the test's ends of its ports.
struct Rig {
    daemon: Daemon,
    /// Test-side TAP joined to each daemon TAP, by port index.
    ends: Vec<TapPort>,
    pool: Pool,
}

/// Sends `frame` into `ends[from]` and returns the first frame out of `ends[to]` that
/// satisfies `want` (within 3 s).
pub(crate) fn exchange_on(
    ends: &mut [TapPort],
    pool: &mut Pool,
    from: usize,
    frame: &[u8],
    to: usize,
    want: impl Fn(&[u8]) -> bool,
) -> Option<Vec<u8>> {
    let mut out = vec![pool.alloc_frame(frame).unwrap()];
    assert_eq!(ends[from].tx_burst(&mut out, pool), 1);
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut got = Vec::new();
    while Instant::now() < deadline {
        ends[to].rx_burst(pool, &mut got, 32);
        let hit = got
            .iter()
            .find(|b| want(b.frame()))
            .map(|b| b.frame().to_vec());
        for b in got.drain(..) {
            pool.free(b);
        }
        if hit.is_some() {
            return hit;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    None
}

fn netns_path(d: &Daemon) -> Option<PathBuf> {
    d.netns().map(|n| PathBuf::from("/run/netns").join(n))
}

impl Rig {
    fn start(extra: &[&str]) -> Rig {
        Rig::start_with(extra, |b| b)
    }

    /// [`Rig::start`] with more choices of the daemon's builder.
    fn start_with(
        extra: &[&str],
        adjust: impl FnOnce(support::Builder<'static>) -> support::Builder<'static>,
    ) -> Rig {
        let mut b = adjust(Daemon::builder().without_ports());
        for (i, name) in IFACES.iter().enumerate() {
            b = b.eal(format!(
                "--vdev=net_tap{i},iface={name},mac={}",
                port_mac(i)
            ));
        }
        for a in [
            "--pf0=dtap0",
            "--pf1=dtap1",
            "--vf-pattern=dtapvf_",
            "--nic-type=tap",
            "--ipv6=fc00:1::1",
            "--no-offload",
            "--enable-ipv6-overlay",
            "--dhcp-mtu=1337",
            "--dhcp-dns=8.8.4.4",
            "--dhcp-dns=8.8.8.8",
            "--dhcpv6-dns=2001:4860:4860::6464",
        ] {
            b = b.arg(a);
        }
        for a in extra {
            b = b.arg(*a);
        }
        let daemon = b.spawn();
        let ends = support::in_netns(netns_path(&daemon).as_deref(), || {
            // no kernel IPv6 chatter on the ports, as in upstream's test setup
            std::fs::write("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1")?;
            std::fs::write("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1")?;
            let mut ends = Vec::new();
            for (i, name) in IFACES.iter().enumerate() {
                let cfg = TapConfig {
                    device: format!("end{i}"),
                    iface: format!("t{name}"),
                    mac: None,
                    persist: false,
                };
                let mut end = TapPort::open(&cfg).map_err(std::io::Error::other)?;
                end.start()?;
                // every frame one side's kernel receives leaves on the other side (a
                // bridge would keep frames to the port's own MAC, which the daemon gives
                // its kernel interface too)
                let end_name = format!("t{name}");
                mirror(name, &end_name)?;
                mirror(&end_name, name)?;
                ends.push(end);
            }
            Ok(ends)
        })
        .unwrap_or_else(|e| panic!("cannot bridge the ports: {e}"));
        Rig {
            daemon,
            ends,
            pool: Pool::new(256),
        }
    }

    /// vm1/vm2 in VNI 100 on the first two VFs, vm3 in VNI 200 on the third, a route to
    /// the neighbour host's VNI-100 network.
    fn configure(&self) {
        self.daemon.with_client(|c| async move {
            c.initialize().await.unwrap();
            let iface = |id: &str, dev: &str, vni, ip: Ipv4Addr, ip6: Option<Ipv6Addr>, ul| {
                CreateInterface {
                    id: id.into(),
                    vni,
                    ipv4: Some(ip),
                    ipv6: ip6,
                    pxe: None,
                    device: dev.into(),
                    metering: Metering::default(),
                    preferred_underlay: Some(ul),
                    hostname: Some(format!("{id}-host")),
                }
            };
            let ul = |n| Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0, n);
            c.create_interface(&iface("vm1", "net_tap2", 100, VM1_IP, Some(VM1_IP6), ul(1)))
                .await
                .unwrap();
            c.create_interface(&iface("vm2", "net_tap3", 100, VM2_IP, None, ul(2)))
                .await
                .unwrap();
            c.create_interface(&iface("vm3", "net_tap4", 200, VM3_IP, None, ul(3)))
                .await
                .unwrap();
            c.create_route(&Route {
                vni: 100,
                prefix: RequestPrefix::new(IpAddr::V4(Ipv4Addr::new(10, 100, 2, 0)), 24),
                nexthop_vni: 100,
                nexthop: IpAddr::V6(NEIGH_UL),
            })
            .await
            .unwrap();
        });
    }

    /// Sends `frame` into port `from` and returns the first frame out of port `to` that
    /// satisfies `want` (within 3 s).
    fn exchange(
        &mut self,
        from: usize,
        frame: &[u8],
        to: usize,
        want: impl Fn(&[u8]) -> bool,
    ) -> Option<Vec<u8>> {
        exchange_on(&mut self.ends, &mut self.pool, from, frame, to, want)
    }

    fn silence(&mut self, from: usize, frame: &[u8], to: usize, want: impl Fn(&[u8]) -> bool) {
        let mut out = vec![self.pool.alloc_frame(frame).unwrap()];
        self.ends[from].tx_burst(&mut out, &mut self.pool);
        let deadline = Instant::now() + Duration::from_millis(300);
        let mut got = Vec::new();
        while Instant::now() < deadline {
            self.ends[to].rx_burst(&mut self.pool, &mut got, 32);
            assert!(!got.iter().any(|b| want(b.frame())), "unexpected frame");
            for b in got.drain(..) {
                self.pool.free(b);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

fn run(program: &str, args: &[&str]) -> std::io::Result<()> {
    let st = std::process::Command::new(program).args(args).status()?;
    if st.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!("{program} {args:?} failed")))
    }
}

/// Redirects everything `from`'s kernel side receives out of `to` (tc mirred).
pub(crate) fn mirror(from: &str, to: &str) -> std::io::Result<()> {
    run(
        "tc",
        &["qdisc", "add", "dev", from, "handle", "ffff:", "ingress"],
    )?;
    run(
        "tc",
        &[
            "filter", "add", "dev", from, "parent", "ffff:", "protocol", "all", "u32", "match",
            "u32", "0", "0", "action", "mirred", "egress", "redirect", "dev", to,
        ],
    )
}

pub(crate) fn from_mac(mac: MacAddr) -> impl Fn(&[u8]) -> bool {
    move |f: &[u8]| f.len() > 12 && f[6..12] == mac.0
}

pub(crate) use crate::frames::{eth, ipv4_udp};

pub(crate) fn ipv6_packet(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    nh: u8,
    hop_limit: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut p = vec![0u8; 40];
    ipv6::Repr {
        src,
        dst,
        next_header: nh,
        payload_len: payload.len() as u16,
        hop_limit,
        traffic_class: 0,
        flow_label: 0,
    }
    .emit(&mut p);
    p.extend_from_slice(payload);
    p
}

/// A DHCP message of `msg_type` from `vm`.
fn dhcp(vm: MacAddr, msg_type: u8) -> Vec<u8> {
    let mut bootp = vec![1, 1, 6, 0, 1, 2, 3, 4, 0, 0, 0, 0];
    bootp.extend_from_slice(&[0; 16]);
    bootp.extend_from_slice(&vm.0);
    bootp.extend_from_slice(&[0; 10 + 64 + 128]);
    bootp.extend_from_slice(&[0x63, 0x82, 0x53, 0x63, 53, 1, msg_type, 255]);
    eth(
        MacAddr::BROADCAST,
        vm,
        ethertype::IPV4,
        &ipv4_udp(Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST, 68, 67, &bootp),
    )
}

/// The VM on `port` takes its lease, which teaches the daemon its MAC (§2.3); until then
/// frames to it would carry the port's own MAC, which a bridge does not send back.
fn lease(rig: &mut Rig, port: usize, vm: MacAddr) {
    let ack = rig
        .exchange(port, &dhcp(vm, 3), port, from_mac(port_mac(port)))
        .expect("no ACK");
    assert_eq!(&ack[..6], &vm.0);
    assert_eq!(ack[14 + 20 + 8 + 240 + 2], 5, "DHCPACK");
}

#[test]
fn arp_dhcp_dhcpv6_and_nd_are_answered() {
    let mut rig = Rig::start(&[]);
    rig.configure();
    let (vm1, vf0) = (vm_mac(1), port_mac(VF0));

    // ARP for the gateway
    let mut arp = vec![0, 1, 8, 0, 6, 4, 0, 1];
    arp.extend_from_slice(&vm1.0);
    arp.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 169, 254, 0, 1]);
    let reply = rig
        .exchange(
            VF0,
            &eth(MacAddr::BROADCAST, vm1, ethertype::ARP, &arp),
            VF0,
            from_mac(vf0),
        )
        .expect("no ARP reply");
    let mut expect = vec![0, 1, 8, 0, 6, 4, 0, 2];
    expect.extend_from_slice(&vf0.0);
    expect.extend_from_slice(&[169, 254, 0, 1]);
    expect.extend_from_slice(&vm1.0);
    expect.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(reply, eth(vm1, vf0, ethertype::ARP, &expect));

    // DHCP DISCOVER -> OFFER with the configured MTU, DNS and hostname
    let discover = dhcp(vm1, 1);
    let offer = rig
        .exchange(VF0, &discover, VF0, from_mac(vf0))
        .expect("no OFFER");
    let ip = ipv4::Packet::new_checked(&offer[14..]).unwrap();
    assert!(ip.verify_checksum());
    assert_eq!(
        (ip.src_addr(), ip.dst_addr()),
        (Ipv4Addr::new(169, 254, 0, 1), VM1_IP)
    );
    let u = udp::Packet::new_checked(ip.payload()).unwrap();
    assert!(u.verify_checksum_v4(ip.src_addr(), ip.dst_addr()));
    let msg = u.payload();
    assert_eq!(&msg[16..20], &VM1_IP.octets(), "yiaddr");
    let opts = &msg[240..];
    assert_eq!(&opts[..3], &[53, 1, 2]);
    for want in [
        &[26u8, 2, 0x05, 0x39][..],
        &[6, 8, 8, 8, 4, 4, 8, 8, 8, 8],
        &[12, 8, b'v', b'm', b'1', b'-', b'h', b'o', b's', b't'],
    ] {
        assert!(
            opts.windows(want.len()).any(|w| w == want),
            "option {want:?} missing"
        );
    }

    // DHCPv6 SOLICIT -> ADVERTISE with the VM's address and the DNS server
    let ll: Ipv6Addr = "fe80::5054:ff:fe00:1".parse().unwrap();
    let mut sol = vec![1, 0xaa, 0xbb, 0xcc, 0, 1, 0, 10, 0, 3, 0, 1];
    sol.extend_from_slice(&vm1.0);
    sol.extend_from_slice(&[0, 3, 0, 12, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0]);
    let mut dgram = vec![0x02, 0x22, 0x02, 0x23, 0, (8 + sol.len()) as u8, 0, 0];
    dgram.extend_from_slice(&sol);
    let solicit = eth(
        MacAddr([0x33, 0x33, 0, 1, 0, 2]),
        vm1,
        ethertype::IPV6,
        &ipv6_packet(ll, "ff02::1:2".parse().unwrap(), ip_proto::UDP, 1, &dgram),
    );
    let adv = rig
        .exchange(VF0, &solicit, VF0, from_mac(vf0))
        .expect("no ADVERTISE");
    let ip6 = ipv6::Packet::new_checked(&adv[14..]).unwrap();
    assert_eq!(ip6.dst_addr(), ll);
    let u = udp::Packet::new_checked(ip6.payload()).unwrap();
    assert!(u.verify_checksum_v6(&ip6.src_addr(), &ip6.dst_addr()));
    let msg = u.payload();
    assert_eq!(msg[..4], [2, 0xaa, 0xbb, 0xcc]);
    assert!(
        msg.windows(16).any(|w| w == VM1_IP6.octets()),
        "IA address missing"
    );
    let dns: Ipv6Addr = "2001:4860:4860::6464".parse().unwrap();
    assert!(msg
        .windows(20)
        .any(|w| w[..4] == [0, 23, 0, 16] && w[4..] == dns.octets()));

    // NS for the gateway -> NA carrying the VF's MAC
    let mut ns = vec![135, 0, 0, 0, 0, 0, 0, 0];
    ns.extend_from_slice(&ipv6::GATEWAY.octets());
    ns.extend_from_slice(&[1, 1]);
    ns.extend_from_slice(&vm1.0);
    let ns = eth(
        MacAddr([0x33, 0x33, 0xff, 0, 0, 1]),
        vm1,
        ethertype::IPV6,
        &ipv6_packet(
            ll,
            "ff02::1:ff00:1".parse().unwrap(),
            ip_proto::ICMPV6,
            255,
            &ns,
        ),
    );
    let na = rig
        .exchange(VF0, &ns, VF0, |f| {
            from_mac(vf0)(f) && f.len() > 54 && f[54] == 136
        })
        .expect("no NA");
    let ip6 = ipv6::Packet::new_checked(&na[14..]).unwrap();
    let icmp = icmpv6::Packet::new_checked(ip6.payload()).unwrap();
    assert!(icmp.verify_checksum(&ip6.src_addr(), &ip6.dst_addr()));
    assert_eq!(
        &ip6.payload()[24..32],
        &[&[2u8, 1][..], &vf0.0].concat()[..]
    );
}

#[test]
fn overlay_forwarding_through_the_daemon() {
    let mut rig = Rig::start(&["--wcmp=50"]);
    rig.configure();
    let (vm1, vf0, vf1) = (vm_mac(1), port_mac(VF0), port_mac(VF1));

    lease(&mut rig, VF0, vm1);
    lease(&mut rig, VF1, vm_mac(2));

    // VM -> VM on this host: only the Ethernet header changes
    let to_vm2 = eth(
        vf0,
        vm1,
        ethertype::IPV4,
        &ipv4_udp(VM1_IP, VM2_IP, 4000, 80, b"hello"),
    );
    let got = rig
        .exchange(VF0, &to_vm2, VF1, from_mac(vf1))
        .expect("VM to VM");
    assert_eq!(got, eth(vm_mac(2), vf1, ethertype::IPV4, &to_vm2[14..]));

    // VNI isolation: vm3 (VNI 200) does not reach vm1
    let from_vm3 = eth(
        port_mac(VF2),
        vm_mac(3),
        ethertype::IPV4,
        &ipv4_udp(VM3_IP, VM1_IP, 1, 2, b"x"),
    );
    rig.silence(VF2, &from_vm3, VF0, from_mac(vf0));

    // VM -> neighbour host: encapsulated IPv4-in-IPv6
    let inner = ipv4_udp(VM1_IP, REMOTE_IP, 4000, 80, b"hello");
    let out = eth(vf0, vm1, ethertype::IPV4, &inner);
    // the uplink is chosen by the flow hash (§6.6, §19.2)
    let key = dpservice_bin::flow::key::FlowKey {
        l3_dst: IpAddr::V4(REMOTE_IP),
        l3_src: IpAddr::V4(VM1_IP),
        proto: ip_proto::UDP,
        port_dst: 80,
        src: 4000,
        vni: 100,
        vnf_type: 0,
    };
    let pf = match dpservice_bin::wcmp::Wcmp::new(50).choose(key.hash(), true, true) {
        dpservice_bin::wcmp::Uplink::Pf0 => PF0,
        dpservice_bin::wcmp::Uplink::Pf1 => PF1,
    };
    let pf_mac = port_mac(pf);
    let tunnel = rig
        .exchange(VF0, &out, pf, from_mac(pf_mac))
        .expect("not encapsulated");
    assert_eq!(&tunnel[..6], &[0; 6], "router MAC not learned");
    let mut hdr = vec![0x60, 0, 0, 0, 0, inner.len() as u8, 4, 64];
    hdr.extend_from_slice(&VM1_UL.octets());
    hdr.extend_from_slice(&NEIGH_UL.octets());
    assert_eq!(&tunnel[14..54], &hdr[..]);
    assert_eq!(&tunnel[54..], &inner[..]);

    // neighbour host -> VM: decapsulated, to the learned VM MAC from the VF
    let back = ipv4_udp(REMOTE_IP, VM1_IP, 80, 4000, b"answer");
    let frame = eth(
        port_mac(PF1),
        MacAddr([0x02, 0xaa, 0, 0, 0, 1]),
        ethertype::IPV6,
        &ipv6_packet(NEIGH_UL, VM1_UL, ip_proto::IPIP, 64, &back),
    );
    let got = rig
        .exchange(PF1, &frame, VF0, from_mac(vf0))
        .expect("not decapsulated");
    assert_eq!(got, eth(vm1, vf0, ethertype::IPV4, &back));

    // WCMP at 50 %: pings to 10.100.2.102 leave on pf0, to 10.100.2.125 on pf1 (§19.5)
    for (last, pf) in [(102u8, PF0), (125, PF1)] {
        let mut p = vec![0u8; 20];
        let icmp = [8, 0, 0xf7, 0xff, 0, 0, 0, 0];
        ipv4::Repr {
            src: VM1_IP,
            dst: Ipv4Addr::new(10, 100, 2, last),
            protocol: ip_proto::ICMP,
            payload_len: 8,
            ttl: 64,
            tos: 0,
            ident: 1,
            flags_frag: 0,
        }
        .emit(&mut p);
        p.extend_from_slice(&icmp);
        let ping = eth(vf0, vm1, ethertype::IPV4, &p);
        let pf_mac = port_mac(pf);
        let got = rig
            .exchange(VF0, &ping, pf, |f| {
                from_mac(pf_mac)(f) && f.len() > 54 && f[54..] == p[..]
            })
            .unwrap_or_else(|| panic!("ping to .{last} not on pf{pf}"));
        assert_eq!(got[20], 4);
    }
}

/// CPU time (user + system) of a process, from /proc, in USER_HZ ticks (1/100 s).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = stat.rsplit_once(')').unwrap().1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

#[test]
fn idle_daemon_sleeps() {
    let rig = Rig::start(&[]);
    rig.configure();
    // the start-up work is over: the region's pre-faulting thread (0.7 s in 4 KiB pages
    // on a loaded CI machine) would otherwise count as the idle worker's
    rig.daemon.wait_prefaulted();
    std::thread::sleep(Duration::from_millis(300));
    let before = cpu_ticks(rig.daemon.pid());
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_ticks(rig.daemon.pid()) - before;
    // a polling worker would burn the whole 2 s (200 ticks)
    assert!(used <= 10, "idle daemon used {used} ticks of CPU in 2 s");
}

/// A neighbour solicitation for the gateway from `vm` (link-local source).
fn gateway_ns(vm: MacAddr) -> Vec<u8> {
    let mut ns = vec![135, 0, 0, 0, 0, 0, 0, 0];
    ns.extend_from_slice(&ipv6::GATEWAY.octets());
    ns.extend_from_slice(&[1, 1]);
    ns.extend_from_slice(&vm.0);
    eth(
        MacAddr([0x33, 0x33, 0xff, 0, 0, 1]),
        vm,
        ethertype::IPV6,
        &ipv6_packet(
            "fe80::1234".parse().unwrap(),
            "ff02::1:ff00:1".parse().unwrap(),
            ip_proto::ICMPV6,
            255,
            &ns,
        ),
    )
}

/// The daemon's neighbour advertisement to `vm`.
fn na_to(vm: MacAddr) -> impl Fn(&[u8]) -> bool {
    move |f: &[u8]| f.len() > 54 && f[..6] == vm.0 && f[54] == 136
}

#[test]
fn jumbo_neighbor_solicitation_is_dropped_a_normal_one_answered() {
    let mut rig = Rig::start(&[]);
    rig.configure();
    let ns_name = rig.daemon.netns().unwrap().to_owned();
    for dev in ["dtapvf_0", "tdtapvf_0"] {
        support::ip(&["-n", &ns_name, "link", "set", dev, "mtu", "9000"]);
    }
    let vm = vm_mac(1);
    let mut jumbo = gateway_ns(vm);
    jumbo.resize(9000, 0);
    rig.ends[VF0].write_frame(&jumbo).unwrap();
    // the answer to the normal one is the first NA to come back: none for the jumbo
    let na = rig
        .exchange(VF0, &gateway_ns(vm), VF0, na_to(vm))
        .expect("no NA to the normal solicitation");
    assert_eq!(na.len(), 86, "an NA, not an echo of 9000 bytes");
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_millis(300);
    while Instant::now() < deadline {
        rig.ends[VF0].rx_burst(&mut rig.pool, &mut got, 32);
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        !got.iter().any(|b| na_to(vm)(b.frame())),
        "a second NA: the jumbo frame was answered"
    );
    for b in got.drain(..) {
        rig.pool.free(b);
    }
    // (the `frame_too_long` counter itself is shown by the graph's unit tests)
}

/// Resident memory of a process in KiB (`VmRSS` of /proc/<pid>/status).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// How long [`flood_ns`] waits for answers before it counts what is out as lost, in the
/// memory flood (which may lose some: it asks for 95 % of the answers and must not wait
/// long for each loss).
const FLOOD_PATIENCE: Duration = Duration::from_millis(500);

/// The source MAC of the `i`-th solicitation of the flood.
fn flood_mac(i: u32) -> MacAddr {
    let b = i.to_be_bytes();
    MacAddr([0x02, 0x42, b[0], b[1], b[2], b[3]])
}

/// Sends solicitations `from..to` from VF0's VM, each with its own source MAC, keeping
/// at most a window of them unanswered so the daemon's queue does not overflow (a lost
/// frame would teach nothing). What is still out after `patience` without an answer
/// counts as lost. Returns how many NAs came back.
fn flood_ns(rig: &mut Rig, from: u32, to: u32, patience: Duration) -> u32 {
    const WINDOW: u32 = 256;
    const BATCH: u32 = 64;
    let (mut sent, mut answered, mut lost) = (from, 0u32, 0u32);
    let mut got = Vec::new();
    let mut last_progress = Instant::now();
    while sent < to || sent - from > answered + lost {
        if sent < to && sent - from < answered + lost + WINDOW {
            let n = BATCH.min(to - sent);
            let mut out: Vec<_> = (sent..sent + n)
                .map(|i| rig.pool.alloc_frame(&gateway_ns(flood_mac(i))).unwrap())
                .collect();
            let mut done = 0;
            while done < out.len() {
                let k = rig.ends[VF0].tx_burst(&mut out, &mut rig.pool);
                done += k;
                if k == 0 {
                    std::thread::sleep(Duration::from_micros(50));
                }
            }
            sent += n;
        }
        let n = rig.ends[VF0].rx_burst(&mut rig.pool, &mut got, 64);
        answered += got
            .iter()
            .filter(|b| b.frame().len() > 54 && b.frame()[54] == 136)
            .count() as u32;
        for b in got.drain(..) {
            rig.pool.free(b);
        }
        if n > 0 {
            last_progress = Instant::now();
        } else if last_progress.elapsed() > patience {
            // whatever is still out was lost on the way; go on
            lost = sent - from - answered;
            last_progress = Instant::now();
        } else if sent - from >= answered + lost + WINDOW || sent == to {
            std::thread::sleep(Duration::from_micros(100));
        }
    }
    answered
}

#[test]
fn solicitation_flood_with_new_macs_keeps_memory_flat() {
    let mut rig = Rig::start(&[]);
    rig.configure();
    let pid = rig.daemon.pid();
    // the region's pages are all resident once the start-up pre-fault is done
    rig.daemon.wait_prefaulted();
    // warm up: buffers, queues and tables reach their working size
    flood_ns(&mut rig, 0, 20_000, FLOOD_PATIENCE);
    std::thread::sleep(Duration::from_millis(200));
    let before = rss_kib(pid);
    let started = Instant::now();
    let answered = flood_ns(&mut rig, 20_000, 220_000, FLOOD_PATIENCE);
    let took = started.elapsed();
    // the last solicitation again, once everything before it is through
    let last = flood_mac(219_999);
    rig.exchange(VF0, &gateway_ns(last), VF0, na_to(last))
        .expect("no NA to the last solicitation");
    let after = rss_kib(pid);
    println!(
        "200000 NS with new source MACs in {took:?}: {answered} answered; \
         VmRSS {before} KiB -> {after} KiB"
    );
    assert!(answered > 190_000, "only {answered} of 200000 answered");
    assert!(
        after < before + 1024,
        "RSS grew by {} KiB (from {before} KiB)",
        after.saturating_sub(before)
    );
    // the daemon knows the last MAC: traffic to vm1 is addressed to it
    let to_vm1 = eth(
        port_mac(VF1),
        vm_mac(2),
        ethertype::IPV4,
        &ipv4_udp(VM2_IP, VM1_IP, 4000, 80, b"who are you"),
    );
    let got = rig
        .exchange(VF1, &to_vm1, VF0, from_mac(port_mac(VF0)))
        .expect("VM to VM");
    assert_eq!(
        &got[..6],
        &last.0,
        "frame to vm1 not addressed to its last MAC"
    );
}

#[test]
fn a_stalled_stdout_does_not_stall_packets() {
    // every packet logs several trace lines; nobody reads them
    let mut rig = Rig::start_with(&["--graphtrace-loglevel=1"], |b| {
        b.eal("--log-level=user2:8").stdout_unread()
    });
    rig.configure();
    // some 5 lines of 150 bytes per packet: far beyond the pipe (64 KiB) and the
    // daemon's log queue (8192 lines)
    let started = Instant::now();
    // late answers count: on a loaded machine the daemon may be off the CPU for longer
    // than the memory flood's patience (a loaded CI run counted 223 of 5000 lost after
    // 500 ms without answers), and a daemon stalled by its stdout would not answer at all
    let answered = flood_ns(&mut rig, 0, 5000, Duration::from_secs(3));
    println!(
        "5000 NS with stdout stalled: {answered} answered in {:?}",
        started.elapsed()
    );
    assert!(answered >= 4900, "only {answered} of 5000 answered");
    let last = flood_mac(4999);
    rig.exchange(VF0, &gateway_ns(last), VF0, na_to(last))
        .expect("no answer once stdout is stalled");
}

/// Whether the daemon's interface `dev` is administratively up in its namespace.
fn link_is_up(rig: &Rig, dev: &str) -> bool {
    let out = std::process::Command::new("ip")
        .args(["-n", rig.daemon.netns().unwrap(), "-o", "link", "show", dev])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let flags = text.split('<').nth(1).and_then(|t| t.split('>').next());
    flags.is_some_and(|f| f.split(',').any(|x| x == "UP"))
}

#[test]
fn create_interface_answers_with_the_vf_link_up() {
    // the link is brought up off the worker; the gRPC answer waits for it, so a VM may
    // send at once
    let rig = Rig::start(&[]);
    assert!(
        !link_is_up(&rig, "dtapvf_0"),
        "down until its interface exists"
    );
    rig.configure();
    for dev in ["dtapvf_0", "dtapvf_1", "dtapvf_2"] {
        assert!(
            link_is_up(&rig, dev),
            "{dev} not up when CreateInterface answered"
        );
    }
    rig.daemon.with_client(|c| async move {
        c.delete_interface("vm3").await.unwrap();
    });
    assert!(
        !link_is_up(&rig, "dtapvf_2"),
        "down when DeleteInterface answered"
    );
}
mod dump;
mod firewall;
mod flows;
mod lb;
mod metering;
mod nat;
mod vip;
mod virtsvc;
