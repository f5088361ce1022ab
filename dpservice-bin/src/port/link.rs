//! Link control of a port, apart from its packets: reading the link state and bringing
//! the link up or down are blocking system calls (ioctls on TAP), so they run on the
//! `portctl` thread (`crate::port_control`), never on the worker. The worker asks for a
//! state with [`LinkRequests`], which never blocks and holds one value per port.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

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
    /// Requests made so far (each after its state was stored).
    requested: AtomicU64,
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
    applied: watch::Sender<u64>,
}

/// Waits until the links asked for so far are applied: a gRPC call that creates an
/// interface answers once the VF's link is up, as upstream's does, while the worker
/// never waits for it.
#[derive(Debug, Clone)]
pub struct LinksApplied {
    wanted: Arc<Wanted>,
    applied: watch::Receiver<u64>,
}

impl LinksApplied {
    /// Resolves once every request made before the call is applied (at once if
    /// `portctl` is gone).
    pub async fn settled(&self) {
        let want = self.wanted.requested.load(Ordering::Acquire);
        let mut applied = self.applied.clone();
        let _ = applied.wait_for(|&n| n >= want).await;
    }
}

/// A mailbox for ports `0..slots`.
pub fn link_requests(slots: usize) -> (LinkRequests, PendingLinks) {
    let wanted = Arc::new(Wanted {
        by_port: (0..slots).map(|_| AtomicU8::new(NONE)).collect(),
        requested: AtomicU64::new(0),
    });
    let (applied, _) = watch::channel(0);
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
            applied,
        },
    )
}

impl LinkRequests {
    /// Asks for the link of `port` to be brought up or down (ports beyond the mailbox
    /// are ignored).
    pub fn set_up(&self, port: PortId, up: bool) {
        if let Some(w) = self.wanted.by_port.get(usize::from(port)) {
            w.store(if up { UP } else { DOWN }, Ordering::Release);
            self.wanted.requested.fetch_add(1, Ordering::AcqRel);
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

    /// Takes the requested states (port, up), oldest requests overwritten by newer ones,
    /// and the number of requests they cover (for [`PendingLinks::applied`]).
    pub fn take(&self) -> (Vec<(PortId, bool)>, u64) {
        // every request counted here stored its state before: the swaps below see it
        let covered = self.wanted.requested.load(Ordering::Acquire);
        let taken = self
            .wanted
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
            .collect();
        (taken, covered)
    }

    /// The requests [`take`](Self::take) covered are applied (successfully or not).
    pub fn applied(&self, covered: u64) {
        self.applied.send_if_modified(|n| {
            let newer = covered > *n;
            if newer {
                *n = covered;
            }
            newer
        });
    }

    /// A waiter for applied requests.
    pub fn waiter(&self) -> LinksApplied {
        LinksApplied {
            wanted: Arc::clone(&self.wanted),
            applied: self.applied.subscribe(),
        }
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
        let waiter = pending.waiter();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let settled = |w: &LinksApplied| {
            rt.block_on(async {
                tokio::time::timeout(Duration::from_millis(50), w.settled())
                    .await
                    .is_ok()
            })
        };
        assert!(!settled(&waiter), "nothing applied yet");
        let (taken, covered) = pending.take();
        assert_eq!(taken, vec![(2, false), (3, true)]);
        assert_eq!(covered, 10_001);
        pending.applied(covered);
        assert!(settled(&waiter));
        assert_eq!(pending.take().0, vec![], "taken once");
        assert_eq!(pending.wait(Duration::from_millis(10)), Woken::Timeout);
        drop(req);
        assert_eq!(pending.wait(Duration::from_millis(10)), Woken::Closed);
    }
}
