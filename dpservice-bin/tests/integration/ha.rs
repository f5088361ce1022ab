//! High availability: two daemons on one lock file, and with `--sync-tap` on one sync
//! bridge (dataplane.md §16).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use dpservice::proto::health::v1::health_check_response::ServingStatus;
use dpservice::proto::health::v1::HealthCheckRequest;

use dpservice::model::{CreateInterface, CreateNat, Metering, RequestPrefix, Route};
use dpservice_bin::port::tap::{TapConfig, TapPort};
use dpservice_bin::port::{Pool, Port};
use dpservice_bin::wire::ethernet::{ethertype, MacAddr};
use dpservice_bin::wire::{icmpv4, ip_proto, ipv4, udp};

use crate::packets::{eth, ipv4_udp, ipv6_packet, mirror};
use crate::support::{api, in_netns, unique_id, Daemon, NetNs};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_takes_over_within_1_s_of_sigkill() {
    let ns = NetNs::new("ha");
    let lock = std::env::temp_dir().join(format!("dpservice-ha-{}.lock", unique_id()));
    let _remove_lock = RemovedOnDrop(lock.clone());
    let lockfile = format!("--active-lockfile={}", lock.display());

    let mut active = Daemon::builder().netns(&ns).arg(&lockfile).spawn();
    active
        .wait_for_log("Starting packet processing", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("first instance never active:\n{}", active.logs()));

    let backup = Daemon::builder().netns(&ns).arg(&lockfile).spawn();
    backup
        .wait_for_log("Acquiring active lock...", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("{}", backup.logs()));
    // a backup serves gRPC but processes no packets
    assert!(backup
        .wait_for_log("Becoming active", Duration::from_millis(300))
        .is_none());
    let mut health = backup.health_client().await;
    let status = health
        .check(HealthCheckRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        status.status(),
        ServingStatus::Serving,
        "a backup reports SERVING"
    );
    // both are configured alike, as an orchestrator does with an HA pair
    for d in [&active, &backup] {
        let mut c = d.client().await;
        api::initialize(&mut c).await;
        let code =
            api::create_interface(&mut c, "vm1", 100, "net_tap2", "10.0.0.1", "2001::1").await;
        assert_eq!(code, 0);
    }
    let mut client = backup.client().await;

    let killed = Instant::now();
    active.kill();
    let became = backup
        .wait_for_log("Starting packet processing", Duration::from_secs(3))
        .unwrap_or_else(|| panic!("backup never took over:\n{}", backup.logs()));
    let takeover = became.saturating_duration_since(killed);
    println!("HA takeover after SIGKILL of the active instance: {takeover:?}");
    assert!(
        takeover < Duration::from_secs(1),
        "takeover took {takeover:?}"
    );

    // the same connections keep working on the new active instance, state intact
    let status = health
        .check(HealthCheckRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.status(), ServingStatus::Serving);
    assert_eq!(
        api::get_interface(&mut client, "vm1").await,
        (0, 100, "10.0.0.1".to_owned())
    );
    drop(backup);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_panic_ends_the_active_instance_and_the_backup_takes_over() {
    let ns = NetNs::new("hapanic");
    let lock = std::env::temp_dir().join(format!("dpservice-ha-{}.lock", unique_id()));
    let _remove_lock = RemovedOnDrop(lock.clone());
    let lockfile = format!("--active-lockfile={}", lock.display());

    // test hook: the worker panics right after the job of gRPC Initialize
    let mut active = Daemon::builder()
        .netns(&ns)
        .arg(&lockfile)
        .env("DPSERVICE_TEST_WORKER_PANIC", "initialize")
        .spawn();
    active
        .wait_for_log("Starting packet processing", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("first instance never active:\n{}", active.logs()));
    let backup = Daemon::builder().netns(&ns).arg(&lockfile).spawn();
    backup
        .wait_for_log("Acquiring active lock...", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("{}", backup.logs()));

    let mut c = active.client().await;
    let panicked = Instant::now();
    // the call itself may or may not get its answer before the worker dies
    let _ = c
        .initialize(dpservice::proto::InitializeRequest::default())
        .await;

    let status = active
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("still running without its worker:\n{}", active.logs()));
    let logs = active.logs();
    assert_ne!(status.code(), Some(0), "{logs}");
    assert!(status.code().is_some(), "exited by itself, not by a signal");
    let line = logs
        .lines()
        .find(|l| l.contains("The dataplane worker thread panicked"))
        .unwrap_or_else(|| panic!("no log line about the worker:\n{logs}"));
    assert!(line.contains("(worker) E SERVICE:"), "{line}");
    assert!(
        line.contains("panic: test panic requested by DPSERVICE_TEST_WORKER_PANIC"),
        "{line}"
    );
    assert!(
        line.contains("location: dpservice-bin/src/worker.rs:"),
        "{line}"
    );
    assert!(!active.runtime_dir().exists(), "runtime dir removed");

    let became = backup
        .wait_for_log("Starting packet processing", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("backup never took over:\n{}", backup.logs()));
    println!(
        "takeover after the worker panic: {:?}",
        became.saturating_duration_since(panicked)
    );
    backup.wait_serving(Duration::from_secs(2));
    drop(backup);
}

/// The MAC of `dev` inside `ns`.
fn kernel_mac(ns: &NetNs, dev: &str) -> [u8; 6] {
    let out = ns
        .command("cat")
        .arg(format!("/sys/class/net/{dev}/address"))
        .output()
        .unwrap();
    assert!(out.status.success(), "no interface {dev}");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut mac = [0u8; 6];
    for (b, part) in mac.iter_mut().zip(text.trim().split(':')) {
        *b = u8::from_str_radix(part, 16).unwrap();
    }
    mac
}

/// The MAC the daemon's region publishes for interface `id` (once it has one).
fn published_mac(d: &Daemon, id: &str) -> Option<[u8; 6]> {
    use dpservice::shm::catalogue::{self, Catalogue};
    let path = dpservice::instance::Instance::new(d.prefix())
        .unwrap()
        .shm_path();
    let region = dpservice::shm::region::Region::open(&path).ok()?;
    let reader = Catalogue::reader::<catalogue::Interfaces>(&region).ok()?;
    let found = reader.iter().find(|(k, _)| {
        let key = bytemuck::bytes_of(k);
        key.starts_with(id.as_bytes()) && key.get(id.len()) == Some(&0)
    });
    found.map(|(_, v)| v.mac)
}

/// Two daemons whose `--sync-tap` ports share a bridge (dataplane.md §16.2): a standby
/// started late gets the active's dump (the VM MAC of its started VF, visible in the
/// standby's region), and takes over when the active is killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_standby_gets_the_dump_over_the_sync_tap_and_takes_over() {
    let ns = NetNs::new("hasync");
    let id = unique_id();
    let lock = std::env::temp_dir().join(format!("dpservice-ha-{id}.lock"));
    let _remove_lock = RemovedOnDrop(lock.clone());
    let lockfile = format!("--active-lockfile={}", lock.display());
    let (tap_a, tap_b) = sync_bridge(&ns, &id);
    let with_sync = |tap: &str| {
        Daemon::builder()
            .netns(&ns)
            .arg(&lockfile)
            .eal(format!("--vdev=net_tap_sync,iface={tap},persist"))
            .arg(format!("--sync-tap={tap}"))
    };

    let mut active = with_sync(&tap_a).spawn();
    active
        .wait_for_log("Starting packet processing", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("first instance never active:\n{}", active.logs()));
    {
        let mut c = active.client().await;
        api::initialize(&mut c).await;
        let code =
            api::create_interface(&mut c, "vm1", 100, "net_tap2", "10.0.0.1", "2001::1").await;
        assert_eq!(code, 0);
    }
    // the active's guess of the VM's MAC is its VF port's own MAC
    let active_vf = kernel_mac(&ns, &active.taps().vfs[0]);

    let backup = with_sync(&tap_b).spawn();
    backup
        .wait_for_log("Acquiring active lock...", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("{}", backup.logs()));
    active
        .wait_for_log(
            "Answering the HA peer's dump request",
            Duration::from_secs(5),
        )
        .unwrap_or_else(|| {
            panic!(
                "no dump request arrived:\n{}\nstandby:\n{}",
                active.logs(),
                backup.logs()
            )
        });
    let backup_vf = kernel_mac(&ns, &backup.taps().vfs[0]);
    assert_ne!(active_vf, backup_vf, "the two VF ports must differ to tell");
    {
        let mut c = backup.client().await;
        api::initialize(&mut c).await;
        let code =
            api::create_interface(&mut c, "vm1", 100, "net_tap2", "10.0.0.1", "2001::1").await;
        assert_eq!(code, 0);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mac = published_mac(&backup, "vm1");
        if mac == Some(active_vf) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the standby publishes {mac:?} for vm1, not the active's VM MAC {active_vf:?}:\n{}",
            backup.logs()
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    active.kill();
    backup
        .wait_for_log(
            "Sync node switching from standby to active role",
            Duration::from_secs(3),
        )
        .unwrap_or_else(|| panic!("backup never switched its sync node:\n{}", backup.logs()));
    backup
        .wait_for_log("Starting packet processing", Duration::from_secs(3))
        .unwrap_or_else(|| panic!("backup never took over:\n{}", backup.logs()));
    drop(backup);
}

// ---- NAT across a takeover, over TAP (dataplane.md §16.3; pytest xtratest_ha NAT) ----

const VM_IP: Ipv4Addr = Ipv4Addr::new(10, 100, 1, 1);
const VM_MAC: MacAddr = MacAddr([0x52, 0x54, 0, 0, 0, 1]);
const VM_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0, 1);
const NAT_IP: Ipv4Addr = Ipv4Addr::new(172, 20, 0, 3);
/// The NAT's underlay address, supplied alike to both instances (§16.1).
const NAT_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0x64, 3);
const PUBLIC: Ipv4Addr = Ipv4Addr::new(45, 86, 6, 106);
/// The neighbour router every default route points to.
const ROUTER_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0, 0, 0xff);
const ROUTER_MAC: MacAddr = MacAddr([0x02, 0xaa, 0, 0, 0, 1]);
const PF0_END: usize = 0;
const VF0_END: usize = 1;

/// The bridge both `--sync-tap` ports join, with both persistent multi-queue TAPs made
/// before the daemons attach (so a standby's first message, its dump request, is not
/// lost). Answers the two TAP names; everything goes with the namespace.
/// An HA pair in `ns` sharing a lock file and a sync bridge, each daemon with one VF and
/// `extra` options: the first is active, the second waits for the lock.
struct SyncPair {
    active: Daemon,
    standby: Daemon,
    /// The lock file, removed after both daemons (fields drop in order).
    _lock: RemovedOnDrop,
}

fn sync_pair(ns: &NetNs, extra: &[&str]) -> SyncPair {
    let id = unique_id();
    let lock = std::env::temp_dir().join(format!("dpservice-ha-{id}.lock"));
    let _lock = RemovedOnDrop(lock.clone());
    let lockfile = format!("--active-lockfile={}", lock.display());
    let (tap_a, tap_b) = sync_bridge(ns, &id);
    let with_sync = |tap: &str| {
        let mut b = Daemon::builder().netns(ns).vfs(1).arg(&lockfile);
        for a in extra {
            b = b.arg(*a);
        }
        b.eal(format!("--vdev=net_tap_sync,iface={tap},persist"))
            .arg(format!("--sync-tap={tap}"))
    };
    let active = with_sync(&tap_a).spawn();
    active
        .wait_for_log("Starting packet processing", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("first instance never active:\n{}", active.logs()));
    let standby = with_sync(&tap_b).spawn();
    standby
        .wait_for_log("Acquiring active lock...", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("{}", standby.logs()));
    SyncPair {
        active,
        standby,
        _lock,
    }
}

fn sync_bridge(ns: &NetNs, id: &str) -> (String, String) {
    let bridge = format!("{id}br");
    let (tap_a, tap_b) = (format!("{id}sa"), format!("{id}sb"));
    let ip_ns = |args: &[&str]| {
        let out = ns.command("ip").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ip_ns(&["link", "add", &bridge, "type", "bridge"]);
    ip_ns(&["link", "set", &bridge, "up"]);
    for tap in [&tap_a, &tap_b] {
        ip_ns(&["tuntap", "add", "dev", tap, "mode", "tap", "multi_queue"]);
        ip_ns(&["link", "set", tap, "master", &bridge]);
    }
    (tap_a, tap_b)
}

/// The test's ends of one daemon's pf0 and first VF: TAPs joined to the daemon's (tc
/// mirred both ways), so the test plays the router and the VM with plain frames.
struct Ends {
    ports: Vec<TapPort>,
    pool: Pool,
    pf0_mac: MacAddr,
    vf0_mac: MacAddr,
}

impl Ends {
    fn join(ns: &NetNs, d: &Daemon) -> Ends {
        let taps = d.taps().clone();
        let pf0_mac = MacAddr(kernel_mac(ns, &taps.pf0));
        let vf0_mac = MacAddr(kernel_mac(ns, &taps.vfs[0]));
        let ports = in_netns(Some(&ns.path()), move || {
            // no kernel IPv6 chatter on the ports
            std::fs::write("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1")?;
            std::fs::write("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1")?;
            let mut ports = Vec::new();
            for (i, name) in [&taps.pf0, &taps.vfs[0]].into_iter().enumerate() {
                let end_name = format!("t{name}");
                let cfg = TapConfig {
                    device: format!("end{i}"),
                    iface: end_name.clone(),
                    mac: None,
                    persist: false,
                };
                let mut end = TapPort::open(&cfg).map_err(std::io::Error::other)?;
                end.start()?;
                mirror(name, &end_name)?;
                mirror(&end_name, name)?;
                ports.push(end);
            }
            Ok(ports)
        })
        .unwrap_or_else(|e| panic!("cannot join the daemon's ports: {e}"));
        Ends {
            ports,
            pool: Pool::new(256),
            pf0_mac,
            vf0_mac,
        }
    }

    /// Sends `frame` into end `from` and answers the first frame out of end `to` that
    /// satisfies `want` (within 3 s).
    fn exchange(
        &mut self,
        from: usize,
        frame: &[u8],
        to: usize,
        want: impl Fn(&[u8]) -> bool,
    ) -> Option<Vec<u8>> {
        crate::packets::exchange_on(&mut self.ports, &mut self.pool, from, frame, to, want)
    }
}

/// What an orchestrator configures alike on both instances: vm1 with its underlay, a
/// default route to the router, a NAT with ports [100, 104) on a given underlay.
fn configure_nat_vm(d: &Daemon) {
    let ul = d.with_client(|c| async move {
        c.initialize().await.unwrap();
        c.create_interface(&CreateInterface {
            id: "vm1".into(),
            vni: 100,
            ipv4: Some(VM_IP),
            ipv6: None,
            pxe: None,
            device: "net_tap2".into(),
            metering: Metering::default(),
            preferred_underlay: Some(VM_UL),
            hostname: None,
        })
        .await
        .unwrap();
        c.create_route(&Route {
            vni: 100,
            prefix: RequestPrefix::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
            nexthop_vni: 100,
            nexthop: IpAddr::V6(ROUTER_UL),
        })
        .await
        .unwrap();
        c.create_nat(&CreateNat {
            interface_id: "vm1".into(),
            ip: IpAddr::V4(NAT_IP),
            min_port: 100,
            max_port: 104,
            preferred_underlay: Some(NAT_UL),
        })
        .await
        .unwrap()
    });
    assert_eq!(ul, NAT_UL);
}

/// An IPv4 ICMP echo message (checksummed) from `src` to `dst`.
fn ipv4_echo(src: Ipv4Addr, dst: Ipv4Addr, kind: u8, ident: u16, seq: u16) -> Vec<u8> {
    let mut m = vec![kind, 0, 0, 0];
    m.extend_from_slice(&ident.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(b"ping");
    icmpv4::Packet::new_unchecked(&mut m[..]).fill_checksum();
    let mut p = vec![0u8; 20];
    ipv4::Repr {
        src,
        dst,
        protocol: ip_proto::ICMP,
        payload_len: m.len() as u16,
        ttl: 64,
        tos: 0,
        ident: 1,
        flags_frag: 0,
    }
    .emit(&mut p);
    p.extend_from_slice(&m);
    p
}

/// The inner IPv4 packet of a frame the daemon tunnelled out of pf0 from the VM's
/// underlay to the router, checked on the way.
fn tunnelled_inner(frame: &[u8]) -> &[u8] {
    assert_eq!(&frame[12..14], &[0x86, 0xdd], "IPv6 on the uplink");
    assert_eq!(frame[14 + 6], ip_proto::IPIP, "IPv4 in IPv6");
    assert_eq!(&frame[22..38], &VM_UL.octets(), "from the VM's underlay");
    assert_eq!(&frame[38..54], &ROUTER_UL.octets(), "to the router");
    let inner = &frame[54..];
    let ip = ipv4::Packet::new_checked(inner).unwrap();
    assert!(ip.verify_checksum());
    assert_eq!((ip.src_addr(), ip.dst_addr()), (NAT_IP, PUBLIC));
    inner
}

fn is_ipip(f: &[u8]) -> bool {
    f.len() > 54 && f[12..14] == [0x86, 0xdd] && f[14 + 6] == ip_proto::IPIP
}

fn to_vm(f: &[u8]) -> bool {
    f.len() > 34 && f[..6] == VM_MAC.0 && f[12..14] == [0x08, 0x00]
}

/// Whether `d`'s region satisfies `check` (false while it cannot be read).
fn region_shows(d: &Daemon, check: impl Fn(&dpservice::shm::region::Region) -> bool) -> bool {
    let Ok(path) = dpservice::instance::Instance::new(d.prefix()).map(|i| i.shm_path()) else {
        return false;
    };
    dpservice::shm::region::Region::open(&path).is_ok_and(|r| check(&r))
}

/// Whether `d`'s region holds the overload entry of NAT port `port` (the standby got
/// the NAT create message).
fn has_nat_port(d: &Daemon, port: u16, proto: u8) -> bool {
    use dpservice::shm::catalogue::{self, Catalogue};
    region_shows(d, |region| {
        Catalogue::reader::<catalogue::NatPortoverload>(region).is_ok_and(|t| {
            t.iter()
                .any(|(k, _)| k.nat_port == port && k.proto == proto)
        })
    })
}

/// Waits up to 5 s for `cond`, failing with `what` and both daemons' logs.
fn wait_until(cond: impl Fn() -> bool, what: &str, a: &Daemon, b: &Daemon) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "{what}:\n{}\nother instance:\n{}",
            a.logs(),
            b.logs()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The VM asks for its gateway, so the daemon learns the VM's MAC (and, active, tells
/// its standby).
fn arp_for_gateway(ends: &mut Ends, d: &Daemon) {
    let arp = eth(
        MacAddr::BROADCAST,
        VM_MAC,
        ethertype::ARP,
        &[
            &[0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01][..],
            &VM_MAC.0,
            &VM_IP.octets(),
            &[0; 6],
            &[169, 254, 0, 1],
        ]
        .concat(),
    );
    ends.exchange(VF0_END, &arp, VF0_END, |f| {
        f[..6] == VM_MAC.0 && f[12..14] == [0x08, 0x06]
    })
    .unwrap_or_else(|| panic!("no ARP answer:\n{}", d.logs()));
}

/// pytest `test_ha_vm_nat` and `test_ha_vm_nat_icmp` with two real daemons: the VM's
/// UDP and ping leave the active through the NAT (ports P, Q on the uplink), the active
/// is killed with SIGKILL, and on the standby that takes over the replies to NAT IP:P/Q
/// reach the VM restored (echo identifier and sequence kept) and the VM's next packets
/// of the same flows leave with the same NAT ports.
#[test]
fn nat_flows_survive_a_sigkill_takeover_over_the_sync_tap() {
    let ns = NetNs::new("hanat");
    let SyncPair {
        mut active,
        standby,
        _lock,
    } = sync_pair(&ns, &[]);
    configure_nat_vm(&active);
    configure_nat_vm(&standby);
    let mut a = Ends::join(&ns, &active);
    let mut b = Ends::join(&ns, &standby);

    arp_for_gateway(&mut a, &active);

    // UDP and ping to the Internet through the active: NAT ports P and Q on the uplink
    let udp_out = |d: &Ends| {
        eth(
            d.vf0_mac,
            VM_MAC,
            ethertype::IPV4,
            &ipv4_udp(VM_IP, PUBLIC, 1025, 1234, b"hello"),
        )
    };
    let ping_out = |d: &Ends, seq| {
        eth(
            d.vf0_mac,
            VM_MAC,
            ethertype::IPV4,
            &ipv4_echo(VM_IP, PUBLIC, icmpv4::msg_type::ECHO_REQUEST, 0x0040, seq),
        )
    };
    let frame = udp_out(&a);
    let out = a
        .exchange(VF0_END, &frame, PF0_END, is_ipip)
        .unwrap_or_else(|| panic!("UDP not tunnelled:\n{}", active.logs()));
    let inner = tunnelled_inner(&out);
    let udp_port = udp::Packet::new_checked(&inner[20..]).unwrap().src_port();
    let frame = ping_out(&a, 123);
    let out = a
        .exchange(VF0_END, &frame, PF0_END, is_ipip)
        .unwrap_or_else(|| panic!("echo not tunnelled:\n{}", active.logs()));
    let inner = tunnelled_inner(&out);
    let echo_port = u16::from_be_bytes([inner[24], inner[25]]);
    assert!((100..104).contains(&udp_port) && (100..104).contains(&echo_port));

    // both allocations reached the standby's tables; then the active dies mid-flow
    wait_until(
        || {
            has_nat_port(&standby, udp_port, ip_proto::UDP)
                && has_nat_port(&standby, echo_port, ip_proto::ICMP)
        },
        "the standby never got the NAT entries",
        &standby,
        &active,
    );
    active.kill();
    standby
        .wait_for_log("Starting packet processing", Duration::from_secs(3))
        .unwrap_or_else(|| panic!("the standby never took over:\n{}", standby.logs()));
    assert!(
        standby
            .logs()
            .contains("Conntrack flows created from synced NAT entries, flows: 2"),
        "{}",
        standby.logs()
    );

    // (a) the router's replies to the NAT IP and ports reach the VM restored
    let from_router = |d: &Ends, inner: &[u8]| {
        eth(
            d.pf0_mac,
            ROUTER_MAC,
            ethertype::IPV6,
            &ipv6_packet(ROUTER_UL, NAT_UL, ip_proto::IPIP, 64, inner),
        )
    };
    let frame = from_router(&b, &ipv4_udp(PUBLIC, NAT_IP, 1234, udp_port, b"answer"));
    let got = b
        .exchange(PF0_END, &frame, VF0_END, to_vm)
        .unwrap_or_else(|| panic!("UDP reply not restored:\n{}", standby.logs()));
    assert_eq!(&got[6..12], &b.vf0_mac.0);
    let ip = ipv4::Packet::new_checked(&got[14..]).unwrap();
    assert!(ip.verify_checksum());
    assert_eq!((ip.src_addr(), ip.dst_addr()), (PUBLIC, VM_IP));
    let u = udp::Packet::new_checked(ip.payload()).unwrap();
    assert_eq!((u.src_port(), u.dst_port()), (1234, 1025));
    assert_eq!(u.payload(), b"answer");
    assert!(u.verify_checksum_v4(PUBLIC, VM_IP));

    let reply = ipv4_echo(PUBLIC, NAT_IP, icmpv4::msg_type::ECHO_REPLY, echo_port, 123);
    let frame = from_router(&b, &reply);
    let got = b
        .exchange(PF0_END, &frame, VF0_END, to_vm)
        .unwrap_or_else(|| panic!("echo reply not restored:\n{}", standby.logs()));
    assert_eq!(
        &got[14..],
        &ipv4_echo(PUBLIC, VM_IP, icmpv4::msg_type::ECHO_REPLY, 0x0040, 123)[..],
        "identifier and sequence restored, checksums right"
    );

    // (b) the VM's next packets of the same flows leave with the same NAT ports
    let frame = udp_out(&b);
    let out = b
        .exchange(VF0_END, &frame, PF0_END, is_ipip)
        .unwrap_or_else(|| panic!("UDP not tunnelled after takeover:\n{}", standby.logs()));
    let inner = tunnelled_inner(&out);
    let u = udp::Packet::new_checked(&inner[20..]).unwrap();
    assert_eq!((u.src_port(), u.dst_port()), (udp_port, 1234));
    assert!(u.verify_checksum_v4(NAT_IP, PUBLIC));
    let frame = ping_out(&b, 124);
    let out = b
        .exchange(VF0_END, &frame, PF0_END, is_ipip)
        .unwrap_or_else(|| panic!("echo not tunnelled after takeover:\n{}", standby.logs()));
    let inner = tunnelled_inner(&out);
    assert_eq!(
        inner,
        &ipv4_echo(
            NAT_IP,
            PUBLIC,
            icmpv4::msg_type::ECHO_REQUEST,
            echo_port,
            124
        )[..]
    );
    drop(standby);
}

/// pytest `test_ha_virtsvc` with two real daemons: the VM's connections to a UDP virtual
/// service get slots on the active (source ports 1025, 1026 on the uplink), the active
/// is killed, and on the standby that takes over the service's reply to 1026 reaches the
/// VM's port, the connection keeps its port and a new one continues after it.
#[test]
fn virtual_service_connections_survive_a_sigkill_takeover() {
    const VIRTUAL: Ipv4Addr = Ipv4Addr::new(1, 2, 3, 4);
    const SERVICE: Ipv6Addr = Ipv6Addr::new(0x2a00, 0xda8, 0xfff6, 0, 0, 0, 0, 1);
    /// The default `--ipv6=fc00:1::1` of both instances, first service.
    const SERVICE_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0xd0ff, 0x4000, 0, 0);
    let ns = NetNs::new("hasvc");
    let SyncPair {
        mut active,
        standby,
        _lock,
    } = sync_pair(&ns, &["--udp-virtsvc=1.2.3.4,5353,2a00:da8:fff6::1,53"]);
    configure_nat_vm(&active);
    configure_nat_vm(&standby);
    let mut a = Ends::join(&ns, &active);
    let mut b = Ends::join(&ns, &standby);
    arp_for_gateway(&mut a, &active);

    let request = |d: &Ends, vm_port: u16| {
        eth(
            d.vf0_mac,
            VM_MAC,
            ethertype::IPV4,
            &ipv4_udp(VM_IP, VIRTUAL, vm_port, 5353, b"question"),
        )
    };
    let to_service = |f: &[u8]| {
        f.len() > 62
            && f[12..14] == [0x86, 0xdd]
            && f[20] == ip_proto::UDP
            && f[38..54] == SERVICE.octets()
    };
    let sport = |f: &[u8]| u16::from_be_bytes([f[54], f[55]]);
    for (vm_port, port) in [(12345, 1025), (12346, 1026)] {
        let frame = request(&a, vm_port);
        let out = a
            .exchange(VF0_END, &frame, PF0_END, to_service)
            .unwrap_or_else(|| panic!("no request to the service:\n{}", active.logs()));
        assert_eq!(&out[22..38], &SERVICE_UL.octets());
        assert_eq!(sport(&out), port, "slot of VM port {vm_port}");
    }
    wait_until(
        || {
            region_shows(&standby, |region| {
                dpservice::shm::catalogue::Catalogue::virtsvc_reader(region, 0).is_ok_and(|t| {
                    t.iter()
                        .any(|(k, v)| k.vm_port == 12346u16.to_be_bytes() && v.slot == 2)
                })
            })
        },
        "the standby never got the virtual-service connection",
        &standby,
        &active,
    );
    active.kill();
    standby
        .wait_for_log("Starting packet processing", Duration::from_secs(3))
        .unwrap_or_else(|| panic!("the standby never took over:\n{}", standby.logs()));

    // the service's reply to 1026 reaches the VM's port 12346, from the virtual endpoint
    let mut answer = vec![0u8; 8];
    answer.extend_from_slice(b"answer");
    {
        let mut u = udp::Packet::new_unchecked(&mut answer[..]);
        u.set_src_port(53);
        u.set_dst_port(1026);
        u.set_len(14);
        u.fill_checksum_v6(&SERVICE, &SERVICE_UL);
    }
    let reply = eth(
        b.pf0_mac,
        ROUTER_MAC,
        ethertype::IPV6,
        &ipv6_packet(SERVICE, SERVICE_UL, ip_proto::UDP, 64, &answer),
    );
    let back = b
        .exchange(PF0_END, &reply, VF0_END, to_vm)
        .unwrap_or_else(|| panic!("the reply did not reach the VM:\n{}", standby.logs()));
    let ip = ipv4::Packet::new_checked(&back[14..]).unwrap();
    assert!(ip.verify_checksum());
    assert_eq!((ip.src_addr(), ip.dst_addr()), (VIRTUAL, VM_IP));
    let u = udp::Packet::new_checked(ip.payload()).unwrap();
    assert_eq!((u.src_port(), u.dst_port()), (5353, 12346));
    assert_eq!(u.payload(), b"answer");

    // the connection keeps its port; a new one gets the slot after the last announced
    for (vm_port, port) in [(12346, 1026), (12347, 1027)] {
        let frame = request(&b, vm_port);
        let out = b
            .exchange(VF0_END, &frame, PF0_END, to_service)
            .unwrap_or_else(|| panic!("no request after takeover:\n{}", standby.logs()));
        assert_eq!(
            sport(&out),
            port,
            "slot of VM port {vm_port} after takeover"
        );
    }
    drop(standby);
}

/// A file removed when the test ends, whether it passed or not.
struct RemovedOnDrop(std::path::PathBuf);

impl Drop for RemovedOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
