//! The baseline of `scripts/bench-tap.sh`: a bare TAP-to-TAP forwarder.
//!
//! It opens two TAP devices with the daemon's own port library and moves every frame one
//! receives out of the other, in both directions, with the daemon worker's strategy:
//! a round receives a burst from each port (the daemon's burst size and pool), then sends
//! each queue; while rounds move packets it polls again at once, otherwise it sleeps in
//! poll(2) on the ports' descriptors. What it lacks against `dpservice-bin` is exactly the
//! graph (and the worker's job queue), so the two rates compared say what the graph costs
//! on a real device.
//!
//! Usage: `tap_forward IFACE_A IFACE_B` (as root; runs until killed, the TAPs vanish with
//! it). Prints `ready` once both links are up.

use std::io::Write;
use std::process::ExitCode;

use dpservice_bin::graph::GraphConfig;
use dpservice_bin::port::tap::{TapConfig, TapPort};
use dpservice_bin::port::{PacketBuf, Pool, Port};
use rustix::event::{poll, PollFd, PollFlags, Timespec};

/// The daemon's longest sleep is its next timer (about a second); the same here.
const IDLE_SLEEP: Timespec = Timespec {
    tv_sec: 1,
    tv_nsec: 0,
};

fn open(iface: &str, n: usize) -> Result<TapPort, String> {
    let cfg = TapConfig {
        device: format!("net_tap{n}"),
        iface: iface.to_owned(),
        mac: None,
        persist: false,
    };
    let mut port = TapPort::open(&cfg).map_err(|e| e.to_string())?;
    port.start()
        .map_err(|e| format!("cannot bring {iface} up: {e}"))?;
    Ok(port)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [a, b] = args.as_slice() else {
        eprintln!("usage: tap_forward IFACE_A IFACE_B   (forwards every frame between two TAPs)");
        return ExitCode::from(2);
    };
    let ports = match (open(a, 0), open(b, 1)) {
        (Ok(pa), Ok(pb)) => [pa, pb],
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("tap_forward: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("ready");
    let _ = std::io::stdout().flush();
    forward(ports);
    ExitCode::SUCCESS
}

fn forward(mut ports: [TapPort; 2]) {
    let cfg = GraphConfig::default();
    let mut pool = Pool::new(cfg.pool_size);
    // queue[i]: frames waiting to leave port i (received on the other one)
    let mut queue: [Vec<PacketBuf>; 2] = [
        Vec::with_capacity(cfg.burst_size),
        Vec::with_capacity(cfg.burst_size),
    ];
    loop {
        let mut work = 0;
        for (i, port) in ports.iter_mut().enumerate() {
            work += port.rx_burst(&mut pool, &mut queue[1 - i], cfg.burst_size);
        }
        for (port, q) in ports.iter_mut().zip(queue.iter_mut()) {
            if q.is_empty() {
                continue;
            }
            work += port.tx_burst(q, &mut pool);
            // not sent now: dropped, as the daemon's tx node does
            for pkt in q.drain(..) {
                pool.free(pkt);
            }
        }
        if work == 0 {
            sleep(&ports);
        }
    }
}

fn sleep(ports: &[TapPort; 2]) {
    let mut fds: Vec<PollFd<'_>> = ports
        .iter()
        .filter_map(|p| p.poll_fd())
        .map(|fd| PollFd::from_borrowed_fd(fd, PollFlags::IN))
        .collect();
    // EINTR and friends: just go round again
    let _ = poll(&mut fds, Some(&IDLE_SLEEP));
}
