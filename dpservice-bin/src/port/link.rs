//! Link control of a port, apart from its packets: reading the link state and bringing
//! the link up or down are blocking system calls (ioctls on TAP), so they run on the
//! `portctl` thread (`crate::port_control`), never on the worker. The worker asks for a
//! state with [`LinkRequests`], which never blocks and holds one value per port.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::Duration;

use super::PortId;

/// The link side of a port device, usable from another thread than its packets.
pub trait LinkDevice: Send + std::fmt::Debug {
    /// Kernel (or test) name of the device.
    fn name(&self) -> &str;

    /// Link state as the device reports it now.
    fn link_up(&self) -> bool;

    /// Brings the link up or down.
    fn set_up(&self, up: bool) -> std::io::Result<()>;
}

const NONE: u8 = 0;
const UP: u8 = 1;
const DOWN: u8 = 2;

#[derive(Debug)]
struct Wanted {
    by_port: Vec<AtomicU8>,
}

/// The worker's side: asks for link states without blocking. Only the latest request
/// per port is kept, so nothing grows however often it is called.
#[derive(Debug, Clone)]
pub struct LinkRequests {
    wanted: Arc<Wanted>,
    wake: SyncSender<()>,
}

/// The `portctl` side: takes the requested states.
#[derive(Debug)]
pub struct PendingLinks {
    wanted: Arc<Wanted>,
    wake: Receiver<()>,
}

/// A mailbox for ports `0..slots`.
pub fn link_requests(slots: usize) -> (LinkRequests, PendingLinks) {
    let wanted = Arc::new(Wanted {
        by_port: (0..slots).map(|_| AtomicU8::new(NONE)).collect(),
    });
    // one pending wake-up is enough: the taker looks at every port
    let (wake_tx, wake_rx) = sync_channel(1);
    (
        LinkRequests {
            wanted: Arc::clone(&wanted),
            wake: wake_tx,
        },
        PendingLinks {
            wanted,
            wake: wake_rx,
        },
    )
}

impl LinkRequests {
    /// Asks for the link of `port` to be brought up or down (ports beyond the mailbox
    /// are ignored).
    pub fn set_up(&self, port: PortId, up: bool) {
        if let Some(w) = self.wanted.by_port.get(usize::from(port)) {
            w.store(if up { UP } else { DOWN }, Ordering::Release);
            self.wake();
        }
    }

    /// Wakes the taker without a request (e.g. to let it see a stop flag).
    pub fn wake(&self) {
        // Full: a wake-up is already pending. Disconnected: nobody takes requests.
        let _ = self.wake.try_send(());
    }
}

/// Why [`PendingLinks::wait`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woken {
    /// A request or a plain wake-up arrived.
    Woken,
    /// The time ran out.
    Timeout,
    /// Every [`LinkRequests`] is gone.
    Closed,
}

impl PendingLinks {
    /// Sleeps until woken or `timeout` passes.
    pub fn wait(&self, timeout: Duration) -> Woken {
        match self.wake.recv_timeout(timeout) {
            Ok(()) => Woken::Woken,
            Err(RecvTimeoutError::Timeout) => Woken::Timeout,
            Err(RecvTimeoutError::Disconnected) => Woken::Closed,
        }
    }

    /// Takes the requested states (port, up), oldest requests overwritten by newer ones.
    pub fn take(&self) -> Vec<(PortId, bool)> {
        self.wanted
            .by_port
            .iter()
            .enumerate()
            .filter_map(|(i, w)| {
                let up = match w.swap(NONE, Ordering::AcqRel) {
                    UP => true,
                    DOWN => false,
                    _ => return None,
                };
                Some((PortId::try_from(i).ok()?, up))
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn latest_request_per_port_wins_and_nothing_queues() {
        let (req, pending) = link_requests(4);
        for i in 0..10_000u32 {
            req.set_up(2, i % 2 == 0);
        }
        req.set_up(3, true);
        req.set_up(99, true); // no such port: ignored
        assert_eq!(pending.wait(Duration::from_millis(10)), Woken::Woken);
        assert_eq!(pending.take(), vec![(2, false), (3, true)]);
        assert_eq!(pending.take(), vec![], "taken once");
        assert_eq!(pending.wait(Duration::from_millis(10)), Woken::Timeout);
        drop(req);
        assert_eq!(pending.wait(Duration::from_millis(10)), Woken::Closed);
    }
}
