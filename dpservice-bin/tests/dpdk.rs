//! The DPDK wrapper (`dpservice_bin::dpdk`) on the system DPDK (cargo feature `dpdk`).
//!
//! DPDK allows one EAL per process, so every test runs this binary again for itself
//! (`DPDK_TEST_CHILD=<test>`), with its own `--file-prefix`, and inside a network
//! namespace when it makes a TAP port. The parent removes the runtime directory, the
//! namespace and any hugepages it reserved, whatever the child did.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/frames.rs"]
mod frames;
#[path = "support/mod.rs"]
mod support;

use std::net::{Ipv4Addr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use dpservice_bin::dpdk::{
    DpdkError, Eal, EthDev, EthPort, Mbuf, MbufPool, PoolConfig, PortSetup, Queues,
};
use dpservice_bin::wire::ethernet::{ethertype, MacAddr};

use support::NetNs;

const CHILD: &str = "DPDK_TEST_CHILD";
const PREFIX: &str = "DPDK_TEST_PREFIX";
/// Room for a buffer header, as the daemon's pool will have.
const PRIV_SIZE: u16 = 128;

/// Whether this process is the child that runs `test`.
fn is_child(test: &str) -> bool {
    std::env::var(CHILD).as_deref() == Ok(test)
}

/// Runs `test` in a child process (in `netns` if given) and fails with its output if it
/// failed; removes the child's DPDK runtime directory afterwards.
fn run_child(test: &str, netns: Option<&NetNs>) {
    let prefix = format!("dpt{}", support::unique_id());
    let _runtime = RemoveOnDrop(Path::new("/var/run/dpdk").join(&prefix));
    let exe = std::env::current_exe().unwrap();
    let mut cmd = match netns {
        Some(ns) => ns.command(&exe),
        None => Command::new(&exe),
    };
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, test)
        .env(PREFIX, &prefix);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "child {test} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Removes a directory tree on drop.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// In the child: the EAL with `words` plus this test's `--file-prefix`.
fn eal(words: &[&str]) -> &'static Eal {
    let prefix = std::env::var(PREFIX).unwrap();
    let mut all: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    all.push(format!("--file-prefix={prefix}"));
    Eal::init(&all).unwrap_or_else(|e| panic!("EAL init with {all:?}: {e}"))
}

/// No hugepages, no PCI scan, little memory: what runs on any test machine.
const SOFT_EAL: [&str; 4] = ["--no-huge", "-m", "256", "--no-pci"];

fn pool(eal: &Eal, name: &str, size: u32) -> MbufPool {
    MbufPool::create(eal, &PoolConfig::upstream(eal, name, size, PRIV_SIZE)).unwrap()
}

/// An mbuf holding `frame`, with `mark` at the start of its private area.
fn mbuf_with(pool: MbufPool, frame: &[u8], mark: u64) -> Mbuf {
    let mut m = pool.alloc().expect("a free mbuf");
    m.append(frame.len()).unwrap().copy_from_slice(frame);
    // the private area is the daemon's buffer header: written here, read after the trip
    assert_eq!(
        m.priv_ptr().as_ptr() as usize % 8,
        0,
        "private area aligned"
    );
    assert_eq!(m.priv_area().len(), usize::from(PRIV_SIZE));
    m.priv_area_mut()[..8].copy_from_slice(&mark.to_ne_bytes());
    m
}

fn mark_of(m: &Mbuf) -> u64 {
    u64::from_ne_bytes(m.priv_area()[..8].try_into().unwrap())
}

/// Bursts until `n` mbufs arrived or 3 s passed.
fn receive(queues: &mut Queues, n: usize) -> Vec<Mbuf> {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(3);
    while got.len() < n && Instant::now() < deadline {
        queues.rx[0].rx_burst(&mut got, 32);
    }
    got
}

#[test]
fn ring_loopback_returns_the_bytes_and_the_private_area() {
    const TEST: &str = "ring_loopback_returns_the_bytes_and_the_private_area";
    if !is_child(TEST) {
        return run_child(TEST, None);
    }
    let eal = eal(&[&SOFT_EAL[..], &["--vdev=net_ring0", "--vdev=net_null0"]].concat());
    assert!(matches!(
        Eal::init(&[]),
        Err(DpdkError::EalAlreadyInitialised)
    ));

    let ports = EthPort::all(eal);
    assert_eq!(ports.len(), 2);
    assert_eq!(EthPort::count(eal), 2);
    let ring = EthPort::by_name(eal, "net_ring0").unwrap();
    let null = EthPort::by_name(eal, "net_null0").unwrap();
    assert_eq!(ports, vec![ring, null], "ports in --vdev order");
    assert_eq!(ring.name().unwrap(), "net_ring0");
    assert_eq!(ring.info().unwrap().driver, "net_ring");
    assert_eq!(null.info().unwrap().driver, "net_null");
    assert_eq!(ring.info().unwrap().ifname, None);
    assert!(matches!(
        EthPort::by_name(eal, "net_ring9"),
        Err(DpdkError::NoSuchPort(_))
    ));

    let pool = pool(eal, "ring_pool", 2048);
    assert_eq!(pool.priv_size(), PRIV_SIZE);
    let free_at_start = pool.available();
    let mut dev = EthDev::take(ring).unwrap();
    assert!(matches!(EthDev::take(ring), Err(DpdkError::PortTaken(_))));
    assert!(dev.start().is_err(), "start before configure is refused");
    let applied = dev.configure(&PortSetup::upstream(false), pool).unwrap();
    assert_eq!(applied.rx_queues, 1);
    let mut queues = dev.start().unwrap();
    assert!(ring.link().unwrap().up);

    // distinct frames of distinct lengths, each with its own mark
    let frames: Vec<Vec<u8>> = (0..40u8)
        .map(|i| (0..60 + usize::from(i)).map(|b| (b as u8) ^ i).collect())
        .collect();
    let mut out: Vec<Mbuf> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| mbuf_with(pool, f, 0xd0d0_0000 + i as u64))
        .collect();
    assert_eq!(queues.tx[0].tx_burst(&mut out), frames.len());
    assert!(out.is_empty(), "sent mbufs leave the vector");
    let back = receive(&mut queues, frames.len());
    assert_eq!(back.len(), frames.len());
    for (i, (m, f)) in back.iter().zip(&frames).enumerate() {
        assert_eq!(m.data(), &f[..], "frame {i}");
        assert_eq!(m.segments(), 1);
        // (net_ring hands the very mbufs back, so their `port` is not set)
        assert_eq!(
            mark_of(m),
            0xd0d0_0000 + i as u64,
            "private area of frame {i}"
        );
    }
    let stats = ring.stats().unwrap();
    assert_eq!(stats.tx_packets, frames.len() as u64);
    assert_eq!(stats.rx_packets, frames.len() as u64);

    // headroom: an outer header goes in front without moving the frame
    let mut m = back.into_iter().next().unwrap();
    let headroom = m.headroom();
    m.prepend(40).unwrap().fill(0xee);
    assert_eq!(m.headroom(), headroom - 40);
    assert_eq!(&m.data()[40..], &frames[0][..]);
    assert!(m.adj(40));
    assert_eq!(m.data(), &frames[0][..]);
    assert!(m.prepend(headroom + 1).is_none(), "more than the headroom");
    assert!(!m.trim(m.len() + 1));
    drop(m);

    assert!(dev.stop().is_err(), "stopping under live queues is refused");
    drop(queues);
    dev.stop().unwrap();
    assert_eq!(pool.available(), free_at_start, "every mbuf went back");

    // the null port swallows what it is given
    let mut null_dev = EthDev::take(null).unwrap();
    null_dev
        .configure(&PortSetup::upstream(true), pool)
        .unwrap();
    let mut nq = null_dev.start().unwrap();
    let mut out = vec![
        mbuf_with(pool, &frames[0], 1),
        mbuf_with(pool, &frames[1], 2),
    ];
    assert_eq!(nq.tx[0].tx_burst(&mut out), 2);
    assert_eq!(null.stats().unwrap().tx_packets, 2);
}

#[test]
fn closures_run_on_a_worker_lcore() {
    const TEST: &str = "closures_run_on_a_worker_lcore";
    if !is_child(TEST) {
        return run_child(TEST, None);
    }
    let eal = eal(&[&SOFT_EAL[..], &["-l", "0,1", "--vdev=net_ring0"]].concat());
    assert_eq!(eal.lcore_count(), 2);
    assert_eq!(eal.worker_lcores(), vec![1]);
    assert_eq!(eal.current_lcore(), Some(eal.main_lcore()));

    // the worker bursts on queues handed to it, as the daemon's worker will
    let pool = pool(eal, "lcore_pool", 1024);
    let ring = EthPort::by_name(eal, "net_ring0").unwrap();
    let mut dev = EthDev::take(ring).unwrap();
    dev.configure(&PortSetup::upstream(false), pool).unwrap();
    let mut queues = dev.start().unwrap();
    let job = eal
        .launch(move || {
            let lcore = Eal::get().and_then(Eal::current_lcore);
            let mut out = vec![mbuf_with(pool, b"on the worker", 7)];
            let sent = queues.tx[0].tx_burst(&mut out);
            let back = receive(&mut queues, 1);
            let bytes = back.first().map(|m| m.data().to_vec());
            (lcore, sent, bytes)
        })
        .unwrap();
    assert_eq!(job.lcore(), 1);
    let (lcore, sent, bytes) = job.wait().unwrap();
    assert_eq!(lcore, Some(1));
    assert_eq!(sent, 1);
    assert_eq!(bytes.as_deref(), Some(&b"on the worker"[..]));
    dev.stop().unwrap();

    // a panic comes back as an error; the lcore is free again afterwards
    let job = eal.launch(|| -> u8 { panic!("boom on purpose") }).unwrap();
    match job.wait() {
        Err(DpdkError::Panicked { lcore: 1, message }) => assert_eq!(message, "boom on purpose"),
        other => panic!("expected the panic, got {other:?}"),
    }
    assert_eq!(eal.launch(|| 5).unwrap().wait().unwrap(), 5);

    // only the main lcore launches
    let from_elsewhere = std::thread::spawn(move || eal.launch(|| ()).map(|_| ()))
        .join()
        .unwrap();
    assert_eq!(from_elsewhere, Err(DpdkError::NotMainLcore));

    // the daemon's worker as an EAL thread: jobs run on lcore 1, stop gives the
    // dataplane back
    use dpservice_bin::state::{State, StateConfig};
    use dpservice_bin::worker::{Dataplane, Worker, WorkerPlace};
    let dp = Dataplane::new(State::new(StateConfig::new(
        "fc00:1::1".parse().unwrap(),
        Vec::new(),
    )));
    let (worker, handle) = Worker::spawn_watched_on(dp, WorkerPlace::Lcore(eal), |_| {}).unwrap();
    let on = handle
        .exec_blocking(|_dp| Eal::get().and_then(Eal::current_lcore))
        .unwrap();
    assert_eq!(on, Some(1));
    assert!(worker.stop().is_ok());
    // and the lcore is free for the next one
    assert_eq!(eal.launch(|| 6).unwrap().wait().unwrap(), 6);
}

#[test]
fn eal_failure_carries_dpdks_reason() {
    const TEST: &str = "eal_failure_carries_dpdks_reason";
    if !is_child(TEST) {
        return run_child(TEST, None);
    }
    let prefix = std::env::var(PREFIX).unwrap();
    let words: Vec<String> = [&SOFT_EAL[..], &["--vdev=net_nosuchdriver0"]]
        .concat()
        .into_iter()
        .map(str::to_owned)
        .chain([format!("--file-prefix={prefix}")])
        .collect();
    let err = Eal::init(&words).unwrap_err();
    let DpdkError::EalInit { reason } = &err else {
        panic!("expected EalInit, got {err:?}");
    };
    assert!(reason.contains("errno"), "{reason}");
    assert!(err.to_string().contains("EAL options before '--'"), "{err}");
    // DPDK allows no second attempt, and the wrapper says so
    assert!(matches!(
        Eal::init(&SOFT_EAL.map(str::to_owned)),
        Err(DpdkError::EalAlreadyInitialised)
    ));
}

/// The kernel's MAC of `iface` (from sysfs).
fn kernel_mac(iface: &str) -> MacAddr {
    let text = std::fs::read_to_string(format!("/sys/class/net/{iface}/address")).unwrap();
    let bytes: Vec<u8> = text
        .trim()
        .split(':')
        .map(|h| u8::from_str_radix(h, 16).unwrap())
        .collect();
    MacAddr(bytes.try_into().unwrap())
}

fn ip(args: &[&str]) {
    support::ip(args);
}

/// An Ethernet + IPv4 + UDP frame (UDP checksum 0: none, valid for IPv4).
fn udp_frame(
    dst: MacAddr,
    src: MacAddr,
    (src_ip, sport): (Ipv4Addr, u16),
    (dst_ip, dport): (Ipv4Addr, u16),
    data: &[u8],
) -> Vec<u8> {
    let packet = frames::ipv4_udp(src_ip, dst_ip, sport, dport, data);
    frames::eth(dst, src, ethertype::IPV4, &packet)
}

#[test]
fn tap_port_exchanges_frames_with_the_kernel() {
    const TEST: &str = "tap_port_exchanges_frames_with_the_kernel";
    if !is_child(TEST) {
        let ns = NetNs::new("dpdktap");
        return run_child(TEST, Some(&ns));
    }
    // in the test's namespace: no IPv6 chatter on the new interface
    std::fs::write("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1").unwrap();
    let iface = "dpktap0";
    let vdev = format!("--vdev=net_tap0,iface={iface},mac=02:00:00:00:00:0a");
    let eal = eal(&[&SOFT_EAL[..], &[vdev.as_str()]].concat());
    let port = EthPort::by_ifname(eal, iface).unwrap();
    assert_eq!(EthPort::by_name(eal, "net_tap0").unwrap(), port);
    let info = port.info().unwrap();
    assert_eq!(info.driver, "net_tap");
    assert_eq!(info.ifname.as_deref(), Some(iface));
    assert_eq!(port.mac().unwrap(), MacAddr([2, 0, 0, 0, 0, 0x0a]));

    let pool = pool(eal, "tap_pool", 4096);
    let mut dev = EthDev::take(port).unwrap();
    dev.configure(&PortSetup::upstream(false), pool).unwrap();
    let mut queues = dev.start().unwrap();

    let here = Ipv4Addr::new(10, 77, 0, 1);
    let there = Ipv4Addr::new(10, 77, 0, 2);
    let there_mac = MacAddr([2, 0, 0, 0, 0, 0x0b]);
    ip(&["addr", "add", "10.77.0.1/24", "dev", iface]);
    ip(&["link", "set", iface, "up"]);
    let there_mac_text = there_mac.to_string();
    ip(&[
        "neigh",
        "replace",
        "10.77.0.2",
        "lladdr",
        &there_mac_text,
        "dev",
        iface,
        "nud",
        "permanent",
    ]);
    let kmac = kernel_mac(iface);
    let deadline = Instant::now() + Duration::from_secs(3);
    while !port.link().unwrap().up && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(port.link().unwrap().up, "link up once started");

    // kernel → DPDK: a datagram the kernel routes out of the TAP
    let socket = UdpSocket::bind((here, 0)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let sport = socket.local_addr().unwrap().port();
    socket.send_to(b"from the kernel", (there, 9999)).unwrap();
    let want = udp_frame(
        there_mac,
        kmac,
        (here, sport),
        (there, 9999),
        b"from the kernel",
    );
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut seen = Vec::new();
    let mut found = None;
    while found.is_none() && Instant::now() < deadline {
        let mut got = Vec::new();
        queues.rx[0].rx_burst(&mut got, 32);
        for m in got {
            if m.data().ends_with(b"from the kernel") {
                assert_eq!(m.port(), port.id());
                found = Some(m.data().to_vec());
            } else {
                seen.push(m.data().len());
            }
        }
    }
    let found = found.unwrap_or_else(|| panic!("no datagram on rx (other frames: {seen:?})"));
    // the kernel's IP identification, flags (DF) and both checksums are its own:
    // compare the rest
    assert_eq!(found.len(), want.len());
    assert_eq!(found[..18], want[..18], "Ethernet, IP version, length");
    assert_eq!(found[22..24], want[22..24], "TTL and protocol");
    assert_eq!(found[26..40], want[26..40], "addresses, ports, UDP length");
    assert_eq!(found[42..], want[42..], "payload");

    // a full-size frame (1500-byte IP packet) arrives whole, in one mbuf
    let big = vec![0x5a_u8; 1500 - 28];
    socket.send_to(&big, (there, 9999)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut full = None;
    while full.is_none() && Instant::now() < deadline {
        let mut got = Vec::new();
        queues.rx[0].rx_burst(&mut got, 32);
        full = got.into_iter().find(|m| m.pkt_len() > 1000);
    }
    let full = full.expect("the full-size frame on rx");
    assert_eq!(
        (full.pkt_len(), full.len(), full.segments()),
        (1514, 1514, 1)
    );
    assert!(full.data().ends_with(&big));

    // DPDK → kernel: a datagram to the socket, sent with tx_burst
    let frame = udp_frame(kmac, there_mac, (there, 9999), (here, sport), b"from DPDK");
    let mut m = pool.alloc().unwrap();
    m.append(frame.len()).unwrap().copy_from_slice(&frame);
    let mut out = vec![m];
    assert_eq!(queues.tx[0].tx_burst(&mut out), 1);
    let mut buf = [0u8; 64];
    let (n, from) = socket.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"from DPDK");
    assert_eq!(from, (there, 9999).into());
    let stats = port.stats().unwrap();
    assert_eq!(stats.tx_packets, 1);
    assert!(stats.rx_packets >= 1);

    // link down and up again through DPDK
    port.set_link(false).unwrap();
    assert!(!port.link().unwrap().up);
    port.set_link(true).unwrap();
    assert!(port.link().unwrap().up);

    drop(queues);
    dev.stop().unwrap();
}

/// 2 MiB hugepages for one test: makes sure `pages` are free, reserving the missing ones
/// on top of what the system has (CI reserves them beforehand; other users keep
/// theirs), mounts a hugetlbfs if none is mounted, and undoes both on drop.
struct Hugepages {
    added: u64,
    mount: Option<PathBuf>,
}

const NR_HUGEPAGES: &str = "/proc/sys/vm/nr_hugepages";
const FREE_HUGEPAGES: &str = "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages";

fn read_number(path: &str) -> u64 {
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

impl Hugepages {
    fn reserve(pages: u64) -> Hugepages {
        let mounted = std::fs::read_to_string("/proc/mounts")
            .unwrap()
            .lines()
            .any(|l| l.split_whitespace().nth(2) == Some("hugetlbfs"));
        let mut guard = Hugepages {
            added: 0,
            mount: None,
        };
        if !mounted {
            let dir = std::env::temp_dir().join(format!("dpt-huge-{}", support::unique_id()));
            std::fs::create_dir_all(&dir).unwrap();
            let status = Command::new("mount")
                .args(["-t", "hugetlbfs", "-o", "pagesize=2M", "nodev"])
                .arg(&dir)
                .status()
                .unwrap();
            assert!(
                status.success(),
                "cannot mount hugetlbfs on {}",
                dir.display()
            );
            guard.mount = Some(dir);
        }
        let missing = pages.saturating_sub(read_number(FREE_HUGEPAGES));
        if missing > 0 {
            let before = read_number(NR_HUGEPAGES);
            std::fs::write(NR_HUGEPAGES, format!("{}\n", before + missing)).unwrap();
            guard.added = read_number(NR_HUGEPAGES).saturating_sub(before);
        }
        let free = read_number(FREE_HUGEPAGES);
        assert!(
            free >= pages,
            "need {pages} free 2 MiB hugepages, the kernel gave {free} (memory too fragmented?)"
        );
        guard
    }
}

impl Drop for Hugepages {
    fn drop(&mut self) {
        if self.added > 0 {
            let now = read_number(NR_HUGEPAGES);
            let _ = std::fs::write(
                NR_HUGEPAGES,
                format!("{}\n", now.saturating_sub(self.added)),
            );
        }
        if let Some(dir) = &self.mount {
            let _ = Command::new("umount").arg(dir).status();
            let _ = std::fs::remove_dir(dir);
        }
    }
}

#[test]
fn hugepages_with_upstreams_huge_unlink() {
    const TEST: &str = "hugepages_with_upstreams_huge_unlink";
    if !is_child(TEST) {
        let huge = Hugepages::reserve(64);
        let free_before = read_number(FREE_HUGEPAGES);
        run_child(TEST, None);
        // --huge-unlink: the pages went back when the process ended
        assert_eq!(read_number(FREE_HUGEPAGES), free_before);
        drop(huge);
        return;
    }
    // upstream's EAL line (no --no-huge), without PCI devices here
    let free_before = read_number(FREE_HUGEPAGES);
    let eal = eal(&["-l", "0", "--huge-unlink", "--no-pci", "--vdev=net_ring0"]);
    let pool = pool(eal, "huge_pool", 4096);
    assert!(
        read_number(FREE_HUGEPAGES) < free_before,
        "the pool lives in hugepages"
    );
    let ring = EthPort::by_name(eal, "net_ring0").unwrap();
    let mut dev = EthDev::take(ring).unwrap();
    dev.configure(&PortSetup::upstream(true), pool).unwrap();
    let mut queues = dev.start().unwrap();
    let mut out = vec![mbuf_with(pool, b"in a hugepage", 3)];
    assert_eq!(queues.tx[0].tx_burst(&mut out), 1);
    let back = receive(&mut queues, 1);
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].data(), b"in a hugepage");
    assert_eq!(mark_of(&back[0]), 3);
}

#[test]
fn port_layer_opens_the_probed_ports_as_upstream() {
    use dpservice_bin::dpdk::packet::{PacketError, PacketPool};
    use dpservice_bin::port::buf::PRIVATE_SIZE;
    use dpservice_bin::port::dpdk::{self, DpdkPort};
    const TEST: &str = "port_layer_opens_the_probed_ports_as_upstream";
    if !is_child(TEST) {
        let ns = NetNs::new("dpdkport");
        return run_child(TEST, Some(&ns));
    }
    let eal = eal(&[
        &SOFT_EAL[..],
        &["--vdev=net_tap0,iface=dpkvf0", "--vdev=net_ring0"],
    ]
    .concat());
    // probed in port-id order; a port without kernel interface goes by its device name
    let probed = dpdk::probed(eal).unwrap();
    let names: Vec<(u16, &str, &str)> = probed
        .iter()
        .map(|t| (t.port_id, t.device.as_str(), t.iface.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![(0, "net_tap0", "dpkvf0"), (1, "net_ring0", "net_ring0")]
    );

    // a header size DPDK would not take as it is
    let header_size = PRIVATE_SIZE as u16 + 1;
    let pool = dpdk::create_pool(eal, 2, header_size).unwrap();
    assert_eq!(
        pool.mbufs().priv_size(),
        header_size.next_multiple_of(8),
        "rounded up to DPDK's 8-byte alignment"
    );
    let small = PoolConfig::upstream(eal, "small_priv", 1023, PRIVATE_SIZE as u16 - 8);
    assert!(
        matches!(
            PacketPool::create(eal, &small),
            Err(DpdkError::Packet(PacketError::PrivTooSmall(n))) if n == PRIVATE_SIZE - 8
        ),
        "a private area without room for the buffer header"
    );
    // a VF: started, its link down until its interface exists, then up through portctl's
    // handle
    let vf = DpdkPort::open(eal, 0, "dpkvf0", false, pool).unwrap();
    assert_eq!(vf.name(), "dpkvf0");
    assert_eq!(
        EthPort::by_name(eal, "net_tap0").unwrap().mtu().unwrap(),
        1500
    );
    assert!(!vf.link_up(), "a VF's link waits for its interface");
    let link = vf.link_device();
    assert_eq!(link.name(), "dpkvf0");
    link.set_up(true).unwrap();
    assert!(link.link_up() && vf.link_up());
    let flags = std::fs::read_to_string("/sys/class/net/dpkvf0/flags").unwrap();
    let flags = u32::from_str_radix(flags.trim().trim_start_matches("0x"), 16).unwrap();
    assert_eq!(flags & 1, 1, "the kernel side is up too (IFF_UP)");
    link.set_up(false).unwrap();
    assert!(!vf.link_up());
    // a PF on a driver without link control keeps its link; its MTU fits tunnel frames
    let pf = DpdkPort::open(eal, 1, "net_ring0", true, pool).unwrap();
    assert_eq!(
        EthPort::by_name(eal, "net_ring0").unwrap().mtu().unwrap(),
        1540
    );
    assert!(pf.link_up());
    assert_eq!(pf.stats(), Default::default());
    assert!(matches!(
        DpdkPort::open(eal, 1, "net_ring0", true, pool),
        Err(DpdkError::PortTaken(1))
    ));
}

#[test]
fn packet_buffers_are_the_mbufs_both_ways() {
    use dpservice_bin::dpdk::packet::{MbufSource, PRIV_SIZE};
    use dpservice_bin::port::dpdk::{self, DpdkPort};
    use dpservice_bin::port::{Pool, Port};
    use dpservice_bin::wire::ipip::FrameBuf;
    const TEST: &str = "packet_buffers_are_the_mbufs_both_ways";
    if !is_child(TEST) {
        return run_child(TEST, None);
    }
    let eal = eal(&[&SOFT_EAL[..], &["--vdev=net_ring0"]].concat());
    let pool = dpdk::create_pool(eal, 1, PRIV_SIZE).unwrap();
    let mut port = DpdkPort::open(eal, 0, "net_ring0", true, pool).unwrap();
    let mbufs = pool.mbufs();
    let free_at_start = mbufs.available();
    let mut graph_pool = Pool::new(0);
    graph_pool.set_source(Box::new(MbufSource::new(mbufs)));
    let mut own_pool = Pool::new(8);

    // a buffer of ours is copied into an mbuf; an mbuf buffer goes as it is
    let own = own_pool.alloc_frame(b"our own buffer").unwrap();
    assert!(!own.is_foreign());
    let mut mbuf = graph_pool.alloc_frame(b"an mbuf").unwrap();
    assert!(mbuf.is_foreign(), "the graph's pool hands out mbufs");
    assert!(FrameBuf::prepend(&mut *mbuf, 4));
    mbuf.frame_mut()[..4].copy_from_slice(b"hdr:");
    let mut out = vec![own, mbuf];
    assert_eq!(port.tx_burst(&mut out, &mut own_pool), 2);
    assert!(out.is_empty());
    let mut back = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(3);
    while back.len() < 2 && Instant::now() < deadline {
        port.rx_burst(&mut graph_pool, &mut back, 32);
    }
    let frames: Vec<&[u8]> = back.iter().map(|p| p.frame()).collect();
    assert_eq!(frames, vec![&b"our own buffer"[..], &b"hdr:an mbuf"[..]]);
    assert!(
        back.iter().all(|p| p.is_foreign()),
        "received buffers are mbufs"
    );
    drop(back);

    // more than the ring holds: the rest stays with its metadata, nothing leaks
    let mut many: Vec<_> = (0..1500u32)
        .map(|i| {
            let mut p = graph_pool.alloc_frame(&i.to_be_bytes()).unwrap();
            p.meta.pkt_id = i;
            p
        })
        .collect();
    let sent = port.tx_burst(&mut many, &mut own_pool);
    assert!(sent > 0 && sent < 1500, "sent {sent}");
    assert_eq!(many.len(), 1500 - sent);
    for (k, p) in many.iter().enumerate() {
        let i = (sent + k) as u32;
        assert_eq!(p.frame(), &i.to_be_bytes()[..]);
        assert_eq!(p.meta.pkt_id, i, "unsent packets keep their metadata");
    }
    drop(many);
    let mut drained = Vec::new();
    while port.rx_burst(&mut graph_pool, &mut drained, 256) > 0 {}
    assert_eq!(drained.len(), sent);
    drop(drained);
    assert_eq!(
        mbufs.available(),
        free_at_start,
        "every mbuf is back in its pool"
    );
    assert_eq!(port.stats().tx_packets, 2 + sent as u64);
}
