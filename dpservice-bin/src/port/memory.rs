//! In-memory ports for tests and benchmarks.
//!
//! * [`MemoryPort::new`] keeps a receive queue and a transmit log shared with a
//!   [`MemoryHandle`], through which a test injects frames and collects what was sent.
//! * [`MemoryPort::generator`] receives copies of one frame forever and discards what is sent
//!   (counting it): the lock-free source/sink a benchmark needs.

use std::collections::VecDeque;
use std::os::fd::BorrowedFd;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::{LinkDevice, PacketBuf, Pool, Port, PortStats};
use crate::wire::MacAddr;

#[derive(Debug, Default)]
struct Queues {
    rx: VecDeque<Vec<u8>>,
    tx: Vec<Vec<u8>>,
    link_down: bool,
    /// The last up/down asked for through the port's [`LinkDevice`].
    admin_up: Option<bool>,
    /// Refuse to send once this many frames sit in `tx` (simulates a full queue).
    tx_limit: Option<usize>,
}

/// Changes a generated frame into flow number `n` of a [`MemoryPort::flow_generator`].
pub type FlowVariant = fn(&mut [u8], u32);

#[derive(Debug)]
enum Mode {
    Queues(Arc<Mutex<Queues>>),
    Generator(Vec<u8>),
    /// Copies of a frame made into flows `0, 1, …, count − 1, 0, 1, …` in turn.
    Flows {
        frame: Vec<u8>,
        vary: FlowVariant,
        count: u32,
        next: u32,
    },
}

/// A port backed by memory.
#[derive(Debug)]
pub struct MemoryPort {
    name: String,
    mac: MacAddr,
    started: bool,
    mode: Mode,
    stats: PortStats,
}

/// The test's side of a queue-mode [`MemoryPort`].
#[derive(Debug, Clone)]
pub struct MemoryHandle(Arc<Mutex<Queues>>);

fn lock(q: &Mutex<Queues>) -> MutexGuard<'_, Queues> {
    // A test that panicked while holding the lock leaves consistent queues behind.
    q.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MemoryHandle {
    /// Queues a frame for the port to receive.
    pub fn inject(&self, frame: &[u8]) {
        lock(&self.0).rx.push_back(frame.to_vec());
    }

    /// Takes every frame the port has sent so far.
    pub fn take_sent(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut lock(&self.0).tx)
    }

    /// Frames injected but not yet received.
    pub fn pending_rx(&self) -> usize {
        lock(&self.0).rx.len()
    }

    /// The last up (true) or down asked for through the port's link device, if any.
    pub fn admin_up(&self) -> Option<bool> {
        lock(&self.0).admin_up
    }

    pub fn set_link(&self, up: bool) {
        lock(&self.0).link_down = !up;
    }

    /// Makes sends fail ("queue full") once `limit` frames are waiting in the log.
    pub fn set_tx_limit(&self, limit: Option<usize>) {
        lock(&self.0).tx_limit = limit;
    }
}

impl MemoryPort {
    /// A queue-mode port and the handle to drive it.
    pub fn new(name: &str, mac: MacAddr) -> (MemoryPort, MemoryHandle) {
        let q = Arc::new(Mutex::new(Queues::default()));
        let port = MemoryPort {
            name: name.to_owned(),
            mac,
            started: false,
            mode: Mode::Queues(q.clone()),
            stats: PortStats::default(),
        };
        (port, MemoryHandle(q))
    }

    /// A port that receives copies of `frame` without end and discards what it sends.
    pub fn generator(name: &str, mac: MacAddr, frame: &[u8]) -> MemoryPort {
        MemoryPort {
            name: name.to_owned(),
            mac,
            started: false,
            mode: Mode::Generator(frame.to_vec()),
            stats: PortStats::default(),
        }
    }

    /// Like [`MemoryPort::generator`], but each copy is made into the next of `count`
    /// flows by `vary` (benchmarks of many flows).
    pub fn flow_generator(
        name: &str,
        mac: MacAddr,
        frame: &[u8],
        count: u32,
        vary: FlowVariant,
    ) -> MemoryPort {
        MemoryPort {
            name: name.to_owned(),
            mac,
            started: false,
            mode: Mode::Flows {
                frame: frame.to_vec(),
                vary,
                count: count.max(1),
                next: 0,
            },
            stats: PortStats::default(),
        }
    }

    pub fn is_started(&self) -> bool {
        self.started
    }
}

impl Port for MemoryPort {
    fn name(&self) -> &str {
        &self.name
    }

    fn mac(&self) -> MacAddr {
        self.mac
    }

    fn link_up(&self) -> bool {
        match &self.mode {
            Mode::Queues(q) => !lock(q).link_down,
            Mode::Generator(_) | Mode::Flows { .. } => true,
        }
    }

    fn start(&mut self) -> std::io::Result<()> {
        self.started = true;
        Ok(())
    }

    fn stop(&mut self) -> std::io::Result<()> {
        self.started = false;
        Ok(())
    }

    fn rx_burst(&mut self, pool: &mut Pool, out: &mut Vec<PacketBuf>, max: usize) -> usize {
        let mut n = 0;
        match &mut self.mode {
            Mode::Flows {
                frame,
                vary,
                count,
                next,
            } => {
                while n < max {
                    let Some(mut b) = pool.alloc() else {
                        self.stats.rx_nombuf += 1;
                        break;
                    };
                    let room = &mut b.rx_room()[..frame.len()];
                    room.copy_from_slice(frame);
                    vary(room, *next);
                    *next = (*next + 1) % *count;
                    b.set_received_len(frame.len());
                    self.stats.rx_bytes += frame.len() as u64;
                    out.push(b);
                    n += 1;
                }
            }
            Mode::Generator(frame) => {
                while n < max {
                    let Some(mut b) = pool.alloc() else {
                        self.stats.rx_nombuf += 1;
                        break;
                    };
                    b.rx_room()[..frame.len()].copy_from_slice(frame);
                    b.set_received_len(frame.len());
                    self.stats.rx_bytes += frame.len() as u64;
                    out.push(b);
                    n += 1;
                }
            }
            Mode::Queues(q) => {
                let mut q = lock(q);
                while n < max {
                    let Some(frame) = q.rx.front() else { break };
                    let Some(mut b) = pool.alloc() else {
                        self.stats.rx_nombuf += 1;
                        break;
                    };
                    // as a device does: what fits is copied, a longer frame is marked
                    let len = frame.len();
                    let room = b.rx_room();
                    let fits = len.min(room.len());
                    room[..fits].copy_from_slice(&frame[..fits]);
                    b.set_received_len(len);
                    q.rx.pop_front();
                    if b.is_too_long() {
                        self.stats.rx_errors += 1;
                    }
                    self.stats.rx_bytes += len as u64;
                    out.push(b);
                    n += 1;
                }
            }
        }
        self.stats.rx_packets += n as u64;
        n
    }

    fn tx_burst(&mut self, pkts: &mut Vec<PacketBuf>, pool: &mut Pool) -> usize {
        let sent = match &self.mode {
            Mode::Generator(_) | Mode::Flows { .. } => pkts.len(),
            Mode::Queues(q) => {
                let mut q = lock(q);
                let room = q
                    .tx_limit
                    .map_or(usize::MAX, |l| l.saturating_sub(q.tx.len()));
                let n = pkts.len().min(room);
                for b in &pkts[..n] {
                    q.tx.push(b.frame().to_vec());
                }
                n
            }
        };
        for b in pkts.drain(..sent) {
            self.stats.tx_bytes += b.len() as u64;
            pool.free(b);
        }
        self.stats.tx_packets += sent as u64;
        sent
    }

    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }

    fn link_device(&self) -> std::io::Result<Box<dyn LinkDevice>> {
        let queues = match &self.mode {
            Mode::Queues(q) => Some(Arc::clone(q)),
            Mode::Generator(_) | Mode::Flows { .. } => None,
        };
        Ok(Box::new(MemoryLink {
            name: self.name.clone(),
            queues,
        }))
    }

    fn stats(&self) -> PortStats {
        self.stats
    }
}

/// The link of a memory port: follows [`MemoryHandle::set_link`], records up/down.
#[derive(Debug)]
pub struct MemoryLink {
    name: String,
    queues: Option<Arc<Mutex<Queues>>>,
}

impl LinkDevice for MemoryLink {
    fn name(&self) -> &str {
        &self.name
    }

    fn link_up(&self) -> bool {
        self.queues.as_deref().is_none_or(|q| !lock(q).link_down)
    }

    fn set_up(&self, up: bool) -> std::io::Result<()> {
        if let Some(q) = self.queues.as_deref() {
            lock(q).admin_up = Some(up);
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);

    #[test]
    fn queue_mode_round_trip() {
        let (mut port, h) = MemoryPort::new("vf0", MAC);
        let mut pool = Pool::new(8);
        h.inject(&[1, 2, 3]);
        h.inject(&[4, 5]);
        let mut got = Vec::new();
        assert_eq!(port.rx_burst(&mut pool, &mut got, 1), 1);
        assert_eq!(port.rx_burst(&mut pool, &mut got, 32), 1);
        assert_eq!(port.rx_burst(&mut pool, &mut got, 32), 0);
        assert_eq!(got[0].frame(), &[1, 2, 3]);
        assert_eq!(got[1].frame(), &[4, 5]);
        assert_eq!(port.tx_burst(&mut got, &mut pool), 2);
        assert!(got.is_empty());
        assert_eq!(h.take_sent(), vec![vec![1, 2, 3], vec![4, 5]]);
        assert_eq!(pool.in_use(), 0);
        let s = port.stats();
        assert_eq!(
            (s.rx_packets, s.tx_packets, s.rx_bytes, s.tx_bytes),
            (2, 2, 5, 5)
        );
    }

    #[test]
    fn full_tx_queue_leaves_the_rest() {
        let (mut port, h) = MemoryPort::new("vf0", MAC);
        let mut pool = Pool::new(8);
        h.set_tx_limit(Some(1));
        let mut pkts = vec![
            pool.alloc_frame(&[1]).unwrap(),
            pool.alloc_frame(&[2]).unwrap(),
        ];
        assert_eq!(port.tx_burst(&mut pkts, &mut pool), 1);
        assert_eq!(pkts.len(), 1);
        assert_eq!(pkts[0].frame(), &[2]);
    }

    #[test]
    fn rx_stops_without_buffers() {
        let (mut port, h) = MemoryPort::new("vf0", MAC);
        let mut pool = Pool::new(1);
        h.inject(&[1]);
        h.inject(&[2]);
        let mut got = Vec::new();
        assert_eq!(port.rx_burst(&mut pool, &mut got, 8), 1);
        assert_eq!(h.pending_rx(), 1);
        assert_eq!(port.stats().rx_nombuf, 1);
    }

    #[test]
    fn generator_and_link() {
        let mut port = MemoryPort::generator("gen", MAC, &[7; 64]);
        let mut pool = Pool::new(64);
        let mut got = Vec::new();
        assert_eq!(port.rx_burst(&mut pool, &mut got, 32), 32);
        assert!(got.iter().all(|b| b.frame() == [7; 64]));
        assert_eq!(port.tx_burst(&mut got, &mut pool), 32);
        assert_eq!(pool.in_use(), 0);
        assert!(port.link_up());
        let (q, h) = MemoryPort::new("pf1", MAC);
        h.set_link(false);
        assert!(!q.link_up());
        assert!(q.poll_fd().is_none());
    }
}
