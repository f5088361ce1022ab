//! Two hypervisors, end to end: each host is a namespace running its own daemon, the
//! hosts' pf0 TAPs are bridged onto a veth "underlay" between them, and on each host a VM
//! namespace holds the daemon's first VF TAP. Configured over gRPC with the shared typed
//! client (interfaces in one VNI, a route on each host to the other VM through the other
//! host's interface underlay); then the VMs ping each other and stream TCP through the
//! IPv4- and IPv6-in-IPv6 overlay with their own kernels' stacks.
//!
//! Nothing is given time to "settle": before the first packet the test waits until the
//! kernel lets both bridges forward over the underlay (a freshly up veth end can take up
//! to a second, see `wait_until_forwarding`), and then no packet may be lost.

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use dpservice::model::{CreateInterface, Metering, RequestPrefix, Route};

use crate::support::{self, Daemon, NetNs};

const VNI: u32 = 100;
/// Underlay MTU: room for a full 1500-byte VM packet plus the 40-byte outer IPv6 header.
const UNDERLAY_MTU: &str = "1600";
/// The VMs' MTU on the DPDK backend. DPDK 22.11's `net_tap` allows an MTU of at most 1504
/// (its largest frame is 1522 bytes) and drops larger frames on transmit, so the daemon's
/// pf0 cannot send a full 1500-byte VM packet in a tunnel (1554 bytes with Ethernet): the
/// VMs get the largest MTU whose tunnelled packets fit, 1504 - 40 (outer IPv6 header), as
/// an operator would with such an uplink (the daemon warns at start, checked below). On
/// the TAP backend the VMs keep their default 1500.
const DPDK_TAP_VM_MTU: &str = "1464";
/// The start of the daemon's warning about an uplink too small for full-size tunnels.
const SHORT_UPLINK_WARNING: &str = "Uplink cannot carry a VM's full-size packet in a tunnel";
/// How long the kernel may take to let a bridge forward over a new link.
const LINK_TIMEOUT: Duration = Duration::from_secs(5);
/// Socket timeouts of the TCP stream (a stalled overlay fails the test, never hangs it).
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// One VM: its namespace and addresses.
struct Vm {
    id: String,
    ns: NetNs,
    ipv4: Ipv4Addr,
    ipv6: Ipv6Addr,
}

/// One hypervisor. Fields drop in order: the daemon dies before its namespaces go.
struct Host {
    daemon: Daemon,
    vm: Vm,
    ns: NetNs,
}

impl Host {
    fn start(tag: char, underlay: Ipv6Addr, vm_ipv4: Ipv4Addr, vm_ipv6: Ipv6Addr) -> Host {
        let ns = NetNs::new(&format!("host{tag}"));
        let vm = Vm {
            id: format!("vm{tag}"),
            ns: NetNs::new(&format!("vm{tag}")),
            ipv4: vm_ipv4,
            ipv6: vm_ipv6,
        };
        let daemon = Daemon::builder()
            .netns(&ns)
            .underlay(underlay)
            .vfs(1)
            .arg("--enable-ipv6-overlay")
            .spawn();
        if support::dpdk_backend() {
            daemon
                .wait_for_log(SHORT_UPLINK_WARNING, Duration::from_secs(2))
                .unwrap_or_else(|| {
                    panic!("no warning about net_tap's MTU limit:\n{}", daemon.logs())
                });
            let logs = daemon.logs();
            let warning = logs.lines().find(|l| l.contains(SHORT_UPLINK_WARNING));
            let warning = warning.unwrap_or_default();
            assert!(
                warning.contains(&format!("an MTU of at most {DPDK_TAP_VM_MTU}")),
                "{warning}"
            );
        }
        Host { daemon, vm, ns }
    }

    /// The bridge joining the daemon's pf0 TAP to this host's end of the underlay veth.
    fn bridge_uplink(&self) {
        let n = self.ns.name();
        let pf0 = self.daemon.taps().pf0.as_str();
        support::ip(&[
            "-n",
            n,
            "link",
            "add",
            "br0",
            "mtu",
            UNDERLAY_MTU,
            "type",
            "bridge",
        ]);
        for dev in [pf0, "ul0"] {
            support::ip(&["-n", n, "link", "set", dev, "mtu", UNDERLAY_MTU]);
            support::ip(&["-n", n, "link", "set", dev, "master", "br0", "up"]);
        }
        support::ip(&["-n", n, "link", "set", "br0", "up"]);
    }

    /// `Initialize` and the VM's interface; returns its underlay address.
    fn create_vm_interface(&self) -> Ipv6Addr {
        let iface = CreateInterface {
            id: self.vm.id.as_str().into(),
            vni: VNI,
            ipv4: Some(self.vm.ipv4),
            ipv6: Some(self.vm.ipv6),
            pxe: None,
            device: self.daemon.taps().vf_devices()[0].clone(),
            metering: Metering::default(),
            preferred_underlay: None,
            hostname: None,
        };
        let created = self.daemon.with_client(move |c| async move {
            c.initialize().await.unwrap();
            c.create_interface(&iface).await.unwrap()
        });
        assert_eq!(created.vf_name, self.daemon.taps().vfs[0]);
        created.underlay_route
    }

    /// Routes (IPv4 /32, IPv6 /128) to `peer`'s VM through the underlay address of its
    /// interface.
    fn route_to(&self, peer: &Vm, peer_underlay: Ipv6Addr) {
        let routes = [
            RequestPrefix::new(IpAddr::V4(peer.ipv4), 32),
            RequestPrefix::new(IpAddr::V6(peer.ipv6), 128),
        ];
        self.daemon.with_client(move |c| async move {
            for prefix in routes {
                c.create_route(&Route {
                    vni: VNI,
                    prefix,
                    nexthop_vni: VNI,
                    nexthop: IpAddr::V6(peer_underlay),
                })
                .await
                .unwrap();
            }
        });
    }

    /// Moves the VF TAP into the VM's namespace and configures it as a guest would: its
    /// addresses (IPv6 without duplicate address detection: a tentative address cannot
    /// send) and default routes through the daemon's gateways.
    fn attach_vm(&self) {
        let dev = self.daemon.taps().vfs[0].as_str();
        let vm = self.vm.ns.name();
        let v4 = format!("{}/32", self.vm.ipv4);
        let v6 = format!("{}/128", self.vm.ipv6);
        support::ip(&["-n", self.ns.name(), "link", "set", dev, "netns", vm]);
        if support::dpdk_backend() {
            support::ip(&["-n", vm, "link", "set", dev, "mtu", DPDK_TAP_VM_MTU]);
        }
        support::ip(&["-n", vm, "link", "set", dev, "up"]);
        support::ip(&["-n", vm, "addr", "add", &v4, "dev", dev]);
        support::ip(&["-n", vm, "-6", "addr", "add", &v6, "dev", dev, "nodad"]);
        support::ip(&["-n", vm, "route", "add", "169.254.0.1", "dev", dev]);
        support::ip(&["-n", vm, "route", "add", "default", "via", "169.254.0.1"]);
        // `replace`: the daemon's router advertisement may have installed it already
        support::ip(&[
            "-n", vm, "-6", "route", "replace", "default", "via", "fe80::1", "dev", dev,
        ]);
    }

    /// Waits until this host's bridge forwards on both of its ports.
    fn wait_until_forwarding(&self) {
        for dev in [self.daemon.taps().pf0.as_str(), "ul0"] {
            wait_until_forwarding(&self.ns, dev);
        }
    }
}

/// Waits until the bridge port `dev` in `ns` forwards.
///
/// When a veth comes up, the kernel applies the carrier change later, in its link-watch
/// worker, which handles non-urgent events at most once a second (and a veth whose peer
/// has the same ifindex in its own namespace, as both `ul0`s here, is not urgent). Until
/// then the link is operationally down and the bridge keeps the port `disabled`, dropping
/// frames over it in both directions: that lost the first packets across the underlay for
/// up to a second after setting it up. Querying the link makes recent kernels apply a
/// pending change at once; on older ones this loop waits for the worker.
fn wait_until_forwarding(ns: &NetNs, dev: &str) {
    let deadline = Instant::now() + LINK_TIMEOUT;
    loop {
        let out = Command::new("ip")
            .args(["-n", ns.name(), "-d", "-o", "link", "show", "dev", dev])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        if text.contains("bridge_slave state forwarding") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "bridge port {dev} in {} not forwarding after {LINK_TIMEOUT:?}: {text}",
            ns.name()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Host A and host B joined by the underlay, VM A and VM B attached, and configured.
struct TwoHosts {
    a: Host,
    b: Host,
}

impl TwoHosts {
    fn start() -> TwoHosts {
        let a = Host::start(
            'a',
            "fc00:a::1".parse().unwrap(),
            Ipv4Addr::new(10, 0, 0, 1),
            "2001:db8::1".parse().unwrap(),
        );
        let b = Host::start(
            'b',
            "fc00:b::1".parse().unwrap(),
            Ipv4Addr::new(10, 0, 0, 2),
            "2001:db8::2".parse().unwrap(),
        );
        support::ip(&[
            "link",
            "add",
            "ul0",
            "netns",
            a.ns.name(),
            "type",
            "veth",
            "peer",
            "name",
            "ul0",
            "netns",
            b.ns.name(),
        ]);
        a.bridge_uplink();
        b.bridge_uplink();

        let ul_a = a.create_vm_interface();
        let ul_b = b.create_vm_interface();
        a.route_to(&b.vm, ul_b);
        b.route_to(&a.vm, ul_a);
        a.attach_vm();
        b.attach_vm();

        a.wait_until_forwarding();
        b.wait_until_forwarding();
        TwoHosts { a, b }
    }
}

/// Pings `to` from `from`'s VM: every one of five echo requests must be answered.
fn ping_all_answered(from: &Vm, to: IpAddr) {
    let out = from
        .ns
        .command("ping")
        .args(["-n", "-c", "5", "-i", "0.2", "-W", "2", &to.to_string()])
        .output()
        .expect("cannot run ping (apt-get install iputils-ping)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("5 packets transmitted, 5 received,"),
        "ping {to} from {}: not every request answered:\n{text}{}",
        from.ns.name(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The stream's content: byte `i` is a byte of a 64-bit mix of `i / 8`, so a lost,
/// duplicated, reordered or corrupted segment shows up at its offset.
fn pattern_byte(i: u64) -> u8 {
    let mut z = (i / 8).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    z.to_le_bytes()[(i % 8) as usize]
}

/// Bytes read until EOF, checked against the pattern: (count, first bad offset).
fn read_pattern(
    mut stream: &TcpStream,
    mut echo: Option<&TcpStream>,
) -> std::io::Result<(u64, Option<u64>)> {
    let mut buf = vec![0u8; 64 * 1024];
    let (mut count, mut bad) = (0u64, None);
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => return Ok((count, bad)),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if bad.is_none() {
            bad = (0..n)
                .find(|&k| buf[k] != pattern_byte(count + k as u64))
                .map(|k| count + k as u64);
        }
        count += n as u64;
        if let Some(out) = echo.as_mut() {
            out.write_all(&buf[..n])?;
        }
    }
}

/// Streams `len` pattern bytes over TCP from `client`'s VM to `server`'s VM, which checks
/// them and echoes them back, checked again: every byte must arrive intact, both ways.
fn tcp_stream_intact(client: &Vm, server: &Vm, server_ip: IpAddr, len: u64) {
    let listener = support::in_netns(Some(&server.ns.path()), move || {
        let l = TcpListener::bind((server_ip, 0))?;
        l.set_nonblocking(true)?;
        Ok(l)
    })
    .unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let server_side = std::thread::spawn(move || -> std::io::Result<(u64, Option<u64>)> {
        let deadline = Instant::now() + IO_TIMEOUT;
        let conn = loop {
            match listener.accept() {
                Ok((conn, _)) => break conn,
                Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(e),
            }
        };
        conn.set_nonblocking(false)?;
        conn.set_read_timeout(Some(IO_TIMEOUT))?;
        conn.set_write_timeout(Some(IO_TIMEOUT))?;
        let got = read_pattern(&conn, Some(&conn))?;
        conn.shutdown(Shutdown::Write)?;
        Ok(got)
    });

    let conn = support::in_netns(Some(&client.ns.path()), move || {
        TcpStream::connect_timeout(&addr, IO_TIMEOUT)
    })
    .unwrap_or_else(|e| panic!("connect to {addr} from {}: {e}", client.ns.name()));
    conn.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    conn.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    let reader = {
        let conn = conn.try_clone().unwrap();
        std::thread::spawn(move || read_pattern(&conn, None))
    };
    let mut chunk = vec![0u8; 64 * 1024];
    let mut sent = 0u64;
    while sent < len {
        let n = chunk.len().min((len - sent) as usize);
        for (k, b) in chunk[..n].iter_mut().enumerate() {
            *b = pattern_byte(sent + k as u64);
        }
        (&conn).write_all(&chunk[..n]).unwrap();
        sent += n as u64;
    }
    conn.shutdown(Shutdown::Write).unwrap();

    let (received, bad) = server_side.join().unwrap().unwrap();
    assert_eq!(bad, None, "the server got a wrong byte at this offset");
    assert_eq!(received, len, "the server got a different number of bytes");
    let (echoed, bad) = reader.join().unwrap().unwrap();
    assert_eq!(
        bad, None,
        "the echo came back with a wrong byte at this offset"
    );
    assert_eq!(
        echoed, len,
        "the echo came back with a different number of bytes"
    );
}

const STREAM_LEN: u64 = 4 << 20;

#[test]
fn ipv4_overlay_between_two_hosts() {
    let hosts = TwoHosts::start();
    let (a, b) = (&hosts.a.vm, &hosts.b.vm);
    ping_all_answered(a, IpAddr::V4(b.ipv4));
    ping_all_answered(b, IpAddr::V4(a.ipv4));
    tcp_stream_intact(a, b, IpAddr::V4(b.ipv4), STREAM_LEN);
}

#[test]
fn ipv6_overlay_between_two_hosts() {
    let hosts = TwoHosts::start();
    let (a, b) = (&hosts.a.vm, &hosts.b.vm);
    ping_all_answered(a, IpAddr::V6(b.ipv6));
    ping_all_answered(b, IpAddr::V6(a.ipv6));
    tcp_stream_intact(b, a, IpAddr::V6(a.ipv6), STREAM_LEN);
}

/// Neighbour NAT across the two hosts (a submodule: it reuses the hosts above).
mod neighbour_nat;
