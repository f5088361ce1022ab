//! Generator and sink of `scripts/bench-tap.sh`: blasts one 64-byte Ethernet/IPv4/UDP
//! frame into a forwarder's TAP and counts what comes out of its other TAP(s).
//!
//! The generator must cost less per frame than the forwarder, or it would be measured
//! instead: it sends from the kernel side of the input TAP through a packet socket, 64
//! frames per sendmmsg(2) and past the qdisc (`PACKET_QDISC_BYPASS`), so each frame costs
//! one skb on its way into the TAP's queue. When that queue is full the kernel refuses the
//! frame (ENOBUFS, counted in the TAP's `tx_dropped`) and the generator pauses for 50 µs,
//! which keeps the queue nearly full: the forwarder always has work, and the refused
//! frames are the offered load it could not take. The sink costs nothing: frames the
//! forwarder writes into an output TAP are counted by the kernel (`rx_packets` in
//! /proc/net/dev) and dropped by the stack. Before measuring, one frame is sent with
//! packet sockets listening on the outputs, and the run is refused unless a frame
//! carrying the sent IP packet comes out.
//!
//! Prints one JSON line: offered, accepted (into the TAP queue) and received packets/s
//! over the window, loss (1 - received/offered), `accepted_not_out` (taken into the queue
//! in the window but not out by its end: in flight, at most a queue's worth, or lost in
//! the forwarder), and the CPU use of the forwarder (so its rate per CPU-second can be
//! compared too) and of the generator.
#![allow(unsafe_code)]

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use dpservice_bin::wire::ethernet::{self, ethertype, MacAddr};
use dpservice_bin::wire::{ipv4, udp};

const FRAME_LEN: usize = 64;
/// Frames per sendmmsg(2).
const BATCH: usize = 64;
/// Pause after the TAP's queue refused a frame. The queue (1000 frames) stays far from
/// empty meanwhile, so the forwarder never waits; retrying at once instead would only
/// keep the generator's core busy probing the full queue, whose cache lines the
/// forwarder needs (both forwarders measured some 10 % slower that way, in runs minutes
/// apart).
const BACKOFF: Duration = Duration::from_micros(50);

#[derive(Debug, Parser)]
#[command(about = "Blast 64-byte frames into a TAP forwarder and count what comes out")]
struct Args {
    /// The forwarder's input TAP (frames are sent from its kernel side).
    #[arg(long)]
    into: String,
    /// The forwarder's output TAP(s); received frames are summed over them.
    #[arg(long = "out", required = true)]
    outs: Vec<String>,
    /// Destination MAC of the frame (the input port's MAC for dpservice-bin).
    #[arg(long)]
    dst_mac: MacAddr,
    /// Source MAC of the frame (the sending VM).
    #[arg(long, default_value = "52:54:00:00:00:01")]
    src_mac: MacAddr,
    #[arg(long)]
    src_ip: Ipv4Addr,
    #[arg(long)]
    dst_ip: Ipv4Addr,
    /// Seconds of blasting before the measured window.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Length of the measured window in seconds.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// PID of the forwarder, whose CPU time over the window is reported.
    #[arg(long)]
    forwarder_pid: Option<u32>,
    /// Labels copied into the JSON line.
    #[arg(long, default_value = "")]
    case: String,
    #[arg(long, default_value = "")]
    forwarder: String,
    #[arg(long, default_value_t = 0)]
    round: u32,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tap_blast: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> io::Result<String> {
    let mut outs = args.outs.clone();
    outs.sort();
    outs.dedup();
    if outs.len() != args.outs.len() || outs.contains(&args.into) {
        return Err(io::Error::other(
            "name each output TAP once, and not the input TAP",
        ));
    }
    let frame = udp_frame(args);
    let tx = PacketSocket::open(&args.into, 0)?;
    tx.bypass_qdisc()?;
    let out_len = verify(&tx, &frame, &args.outs)?;

    let mut blaster = Blaster::new(&tx, &frame);
    blaster.run_for(Duration::from_secs_f64(args.warmup));

    let before = Snapshot::take(args)?;
    let sent0 = blaster.sent;
    blaster.run_for(Duration::from_secs_f64(args.seconds));
    let after = Snapshot::take(args)?;

    let secs = (after.at - before.at).as_secs_f64();
    let accepted = (blaster.sent.accepted - sent0.accepted) as f64;
    let refused = (blaster.sent.refused - sent0.refused) as f64;
    let received = after.out_rx.saturating_sub(before.out_rx) as f64;
    let queue_drops = after.in_tx_dropped.saturating_sub(before.in_tx_dropped);
    let offered = accepted + refused;
    let fwd_cpu = after
        .fwd_cpu
        .zip(before.fwd_cpu)
        .map(|(a, b)| (a - b) / secs);
    let gen_cpu = (after.own_cpu - before.own_cpu) / secs;
    let per_cpu = fwd_cpu
        .filter(|c| *c > 0.0)
        .map_or("null".to_owned(), |c| format!("{:.0}", received / secs / c));
    Ok(format!(
        concat!(
            "{{\"case\":\"{}\",\"forwarder\":\"{}\",\"round\":{},\"frame_bytes\":{},",
            "\"out_frame_bytes\":{},\"seconds\":{:.2},\"offered_pps\":{:.0},",
            "\"accepted_pps\":{:.0},\"received_pps\":{:.0},\"loss\":{:.4},",
            "\"accepted_not_out\":{},\"tap_queue_drops\":{},\"forwarder_cpu\":{},",
            "\"received_pps_per_forwarder_cpu\":{},\"generator_cpu\":{:.2},\"load1\":{}}}"
        ),
        args.case,
        args.forwarder,
        args.round,
        frame.len(),
        out_len,
        secs,
        offered / secs,
        accepted / secs,
        received / secs,
        if offered > 0.0 {
            1.0 - received / offered
        } else {
            0.0
        },
        (accepted - received).max(0.0),
        queue_drops,
        fwd_cpu.map_or("null".to_owned(), |c| format!("{c:.2}")),
        per_cpu,
        gen_cpu,
        after.load1,
    ))
}

/// The 64-byte frame: Ethernet, IPv4, UDP 4000 → 80, a marker in the payload.
fn udp_frame(args: &Args) -> Vec<u8> {
    let flow = udp::Ipv4Flow {
        dst_mac: args.dst_mac,
        src_mac: args.src_mac,
        src: args.src_ip,
        dst: args.dst_ip,
        src_port: 4000,
        dst_port: 80,
    };
    let mut f = udp::ipv4_frame(&flow, FRAME_LEN);
    let u = ethernet::HEADER_LEN + ipv4::HEADER_LEN;
    let mark = b"dpservice-tapbench";
    f[u + 8..u + 8 + mark.len()].copy_from_slice(mark);
    f
}

/// Sends the frame until a frame carrying its IP packet leaves one of `outs` (3 s at
/// most); returns that frame's length.
fn verify(tx: &PacketSocket, frame: &[u8], outs: &[String]) -> io::Result<usize> {
    let listeners = outs
        .iter()
        .map(|o| PacketSocket::open(o, libc::ETH_P_ALL as u16))
        .collect::<io::Result<Vec<_>>>()?;
    let l3 = &frame[ethernet::HEADER_LEN..];
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut buf = [0u8; 2048];
    while Instant::now() < deadline {
        let _ = tx.send_batch(frame, 1);
        let wait = Instant::now() + Duration::from_millis(200);
        while Instant::now() < wait {
            for l in &listeners {
                while let Some(n) = l.recv(&mut buf) {
                    if buf[..n].windows(l3.len()).any(|w| w == l3) {
                        return Ok(n);
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    Err(io::Error::other(format!(
        "no frame carrying the sent packet came out of {outs:?} within 3 s: \
         the forwarder is not forwarding this frame (check its configuration)"
    )))
}

/// Frames handed to the kernel: taken into the TAP's queue, or refused (queue full).
#[derive(Debug, Clone, Copy, Default)]
struct Sent {
    accepted: u64,
    refused: u64,
}

struct Blaster<'a> {
    tx: &'a PacketSocket,
    frame: &'a [u8],
    sent: Sent,
}

impl<'a> Blaster<'a> {
    fn new(tx: &'a PacketSocket, frame: &'a [u8]) -> Self {
        Blaster {
            tx,
            frame,
            sent: Sent::default(),
        }
    }

    fn run_for(&mut self, window: Duration) {
        let end = Instant::now() + window;
        while Instant::now() < end {
            match self.tx.send_batch(self.frame, BATCH) {
                Ok(n) => {
                    self.sent.accepted += n as u64;
                    // sendmmsg stops at the first frame refused
                    if n < BATCH {
                        self.sent.refused += 1;
                        std::thread::sleep(BACKOFF);
                    }
                }
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    self.sent.refused += 1;
                    std::thread::sleep(BACKOFF);
                }
                Err(_) => std::thread::sleep(BACKOFF),
            }
        }
    }
}

/// Counters read at one instant.
struct Snapshot {
    at: Instant,
    /// `tx_dropped` of the input TAP's kernel side: frames its queue refused.
    in_tx_dropped: u64,
    /// `rx_packets` summed over the output TAPs: frames the forwarder wrote.
    out_rx: u64,
    /// CPU seconds of the forwarder process (all threads).
    fwd_cpu: Option<f64>,
    own_cpu: f64,
    load1: f64,
}

impl Snapshot {
    fn take(args: &Args) -> io::Result<Snapshot> {
        let at = Instant::now();
        let dev = std::fs::read_to_string("/proc/net/dev")?;
        let counters = |iface: &str| -> io::Result<Vec<u64>> {
            dev.lines()
                .filter_map(|l| l.trim_start().split_once(':'))
                .find(|(name, _)| *name == iface)
                .map(|(_, rest)| {
                    rest.split_whitespace()
                        .filter_map(|x| x.parse().ok())
                        .collect()
                })
                .ok_or_else(|| io::Error::other(format!("no interface {iface} in /proc/net/dev")))
        };
        // /proc/net/dev columns: 8 receive counters, then transmit bytes, packets, errs, drop
        let in_tx_dropped = counters(&args.into)?.get(11).copied().unwrap_or(0);
        let mut out_rx = 0;
        for o in &args.outs {
            out_rx += counters(o)?.get(1).copied().unwrap_or(0);
        }
        let load1 = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .unwrap_or(f64::NAN);
        Ok(Snapshot {
            at,
            in_tx_dropped,
            out_rx,
            fwd_cpu: args
                .forwarder_pid
                .and_then(|p| cpu_seconds(&format!("/proc/{p}/stat"))),
            own_cpu: cpu_seconds("/proc/self/stat").unwrap_or(0.0),
            load1,
        })
    }
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(stat_path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(stat_path).ok()?;
    // fields after the parenthesised command name; utime and stime are fields 14 and 15
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf with a constant name reads a system constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    Some(ticks as f64 / hz.max(1) as f64)
}

/// A raw packet socket bound to one interface.
struct PacketSocket {
    fd: OwnedFd,
    ifindex: i32,
}

impl PacketSocket {
    /// Bound with `protocol` (host order): 0 receives nothing, ETH_P_ALL everything.
    fn open(iface: &str, protocol: u16) -> io::Result<PacketSocket> {
        let name = std::ffi::CString::new(iface).map_err(io::Error::other)?;
        // SAFETY: `name` is a NUL-terminated string alive for the whole call.
        let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) } as i32;
        if ifindex == 0 {
            return Err(io::Error::other(format!("no interface {iface}")));
        }
        // SAFETY: socket(2) with constant arguments, no pointers.
        let fd = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                i32::from(protocol.to_be()),
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor owned by nothing else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let sll = sockaddr_ll(ifindex, protocol);
        // SAFETY: `sll` is a valid sockaddr_ll and the length passed is its size.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sll as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(PacketSocket { fd, ifindex })
    }

    /// Frames go straight to the driver, as a NIC's queue would take them.
    fn bypass_qdisc(&self) -> io::Result<()> {
        let on: libc::c_int = 1;
        // SAFETY: `on` is a live c_int and the length passed is its size.
        let rc = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_QDISC_BYPASS,
                (&on as *const libc::c_int).cast(),
                size_of::<libc::c_int>() as u32,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Sends `n` copies of `frame` in one sendmmsg(2); returns how many the kernel took.
    fn send_batch(&self, frame: &[u8], n: usize) -> io::Result<usize> {
        let mut sll = sockaddr_ll(self.ifindex, ethertype::IPV4);
        sll.sll_halen = 6;
        sll.sll_addr[..6].copy_from_slice(&frame[..6]);
        let mut iov = libc::iovec {
            iov_base: frame.as_ptr().cast_mut().cast(),
            iov_len: frame.len(),
        };
        // SAFETY: an all-zero msghdr is a valid value; the fields used are set below.
        let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
        hdr.msg_name = (&mut sll as *mut libc::sockaddr_ll).cast();
        hdr.msg_namelen = size_of::<libc::sockaddr_ll>() as u32;
        hdr.msg_iov = &mut iov;
        hdr.msg_iovlen = 1;
        let mut msgs = [libc::mmsghdr {
            msg_hdr: hdr,
            msg_len: 0,
        }; BATCH];
        let n = n.min(BATCH);
        // SAFETY: every header points at `sll`, `iov` and `frame`, which outlive the call;
        // the kernel only reads them (and writes `msg_len` of the first `n` entries).
        let rc = unsafe {
            libc::sendmmsg(
                self.fd.as_raw_fd(),
                msgs.as_mut_ptr(),
                n as u32,
                libc::MSG_DONTWAIT,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(rc as usize)
    }

    /// One waiting frame into `buf`, or `None`.
    fn recv(&self, buf: &mut [u8]) -> Option<usize> {
        // SAFETY: `buf` is a live, exclusively borrowed buffer of the length passed.
        let rc = unsafe {
            libc::recv(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
            )
        };
        (rc > 0).then_some(rc as usize)
    }
}

fn sockaddr_ll(ifindex: i32, protocol: u16) -> libc::sockaddr_ll {
    // SAFETY: an all-zero sockaddr_ll is a valid value; the fields used are set below.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = protocol.to_be();
    sll.sll_ifindex = ifindex;
    sll
}
