//! The one [`State`], shared between its single writer (the worker thread) and the
//! control-plane readers (gRPC Get/List calls), so that reads never become jobs on the
//! worker (ARCHITECTURE.md "State", principle 2).
//!
//! The rules that keep packets moving:
//! - the worker reads the state for packets under a read lock that never blocks: the
//!   only writer is the worker itself;
//! - the worker writes only with [`SharedState::try_write`]; while a reader holds the
//!   lock the write waits on the worker's side (it keeps forwarding packets and retries
//!   on its next turn) and new readers wait for it, so writes cannot starve;
//! - readers copy what they need under the lock and build responses after releasing it;
//! - big structures a write removed are dropped on a helper thread, not on the worker
//!   ([`State::take_retired`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use crate::state::{Retired, State};

/// How long a waiting reader sleeps before it looks at the pending flag again, should
/// it miss the wake-up (the worker never blocks to deliver it).
const READER_RECHECK: Duration = Duration::from_millis(1);

/// See the module documentation.
#[derive(Debug)]
pub struct SharedState {
    lock: RwLock<State>,
    /// A write found readers in the lock and waits for them to leave.
    write_pending: AtomicBool,
    /// Waiting readers sleep here while `write_pending` is set.
    gate: Mutex<()>,
    write_done: Condvar,
    /// To the thread that drops what writes removed; `None` if it could not start
    /// (then the worker drops them itself).
    dropper: Option<Mutex<mpsc::Sender<Vec<Retired>>>>,
}

impl SharedState {
    /// Shares `state`; starts the thread that drops removed structures.
    pub fn new(state: State) -> SharedState {
        SharedState {
            lock: RwLock::new(state),
            write_pending: AtomicBool::new(false),
            gate: Mutex::new(()),
            write_done: Condvar::new(),
            dropper: spawn_dropper().map(Mutex::new),
        }
    }

    /// The state for the packet path, on the worker. Never blocks: the worker is the
    /// only writer and never holds a write guard while it forwards packets.
    pub fn for_packets(&self) -> RwLockReadGuard<'_, State> {
        // a panic inside a write left the state as it was at that moment; the packet
        // path carries on with it, as it did before the lock existed
        self.lock.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Write access for the worker, or `None` (and new readers held back) while a
    /// reader is inside. Call [`SharedState::finish_write`] with the guard when done.
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, State>> {
        match self.lock.try_write() {
            Ok(guard) => Some(guard),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => {
                self.write_pending.store(true, Ordering::Release);
                None
            }
        }
    }

    /// Ends a write: hands what it removed to the dropper, releases the lock and lets
    /// waiting readers in.
    pub fn finish_write(&self, mut guard: RwLockWriteGuard<'_, State>) {
        let retired = guard.take_retired();
        drop(guard);
        self.write_pending.store(false, Ordering::Release);
        // try_lock: the worker never waits; a reader that misses this rechecks soon
        if let Ok(_gate) = self.gate.try_lock() {
            self.write_done.notify_all();
        }
        if retired.is_empty() {
            return;
        }
        let unsent = match &self.dropper {
            Some(tx) => match tx.try_lock() {
                Ok(tx) => tx.send(retired).err().map(|e| e.0),
                Err(_) => Some(retired),
            },
            None => Some(retired),
        };
        // without the dropper (it could not start): drop here, as before
        drop(unsent);
    }

    /// Read access for a control-plane reader; blocks while a write is pending or
    /// running, so call it off the async runtime (`spawn_blocking`). Hold it only to
    /// copy what the answer needs.
    pub fn read(&self) -> RwLockReadGuard<'_, State> {
        if self.write_pending.load(Ordering::Acquire) {
            let mut gate = self.gate.lock().unwrap_or_else(PoisonError::into_inner);
            while self.write_pending.load(Ordering::Acquire) {
                gate = self
                    .write_done
                    .wait_timeout(gate, READER_RECHECK)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
        }
        self.lock.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The state, once the worker is gone.
    pub fn into_inner(self) -> State {
        self.lock
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The thread that drops what writes removed (route tables of a VNI, an interface's
/// firewall rules): freeing 262,144 routes takes milliseconds the worker does not have.
fn spawn_dropper() -> Option<mpsc::Sender<Vec<Retired>>> {
    let (tx, rx) = mpsc::channel::<Vec<Retired>>();
    let spawned = std::thread::Builder::new()
        .name("state-dropper".into())
        .spawn(move || {
            // ends when the SharedState (the sender) goes
            for batch in rx {
                drop(batch);
            }
        });
    match spawned {
        Ok(_) => Some(tx),
        Err(e) => {
            tracing::warn!(error = %e, "Cannot start the thread that frees removed tables; the worker frees them");
            None
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::state::StateConfig;

    fn shared() -> SharedState {
        SharedState::new(State::new(StateConfig::new(
            "fc00:1::1".parse().unwrap(),
            Vec::new(),
        )))
    }

    #[test]
    fn a_reader_defers_the_write_and_holds_back_new_readers() {
        let s = shared();
        let reader = s.read();
        assert!(s.try_write().is_none(), "a reader is inside");
        assert!(s.write_pending.load(Ordering::Acquire));
        // the packet path still reads
        drop(s.for_packets());
        std::thread::scope(|scope| {
            let late = scope.spawn(|| s.read().version());
            std::thread::sleep(Duration::from_millis(20));
            assert!(!late.is_finished(), "a new reader passed a pending write");
            drop(reader);
            let mut w = s.try_write().unwrap();
            w.initialize().unwrap();
            s.finish_write(w);
            // the late reader sees the write it waited for
            assert_eq!(late.join().unwrap(), 1);
        });
        assert!(!s.write_pending.load(Ordering::Acquire));
    }

    #[test]
    fn packets_read_while_a_reader_is_inside() {
        let s = shared();
        let _reader = s.read();
        let packets = s.for_packets();
        assert_eq!(packets.version(), 0);
    }

    /// On the real worker: a write that finds a reader inside is deferred (later jobs
    /// queue behind it, in order) and applied once the reader leaves.
    #[test]
    fn the_worker_defers_a_write_until_the_reader_leaves() {
        use crate::worker::{Dataplane, Worker};
        let dp = Dataplane::new(State::new(StateConfig::new(
            "fc00:1::1".parse().unwrap(),
            Vec::new(),
        )));
        let shared = std::sync::Arc::clone(&dp.state);
        let (worker, handle) = Worker::spawn(dp).unwrap();
        let reader = shared.read();
        let writer = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            rt.block_on(handle.write(|s| {
                s.initialize().unwrap();
                s.version()
            }))
        });
        std::thread::sleep(Duration::from_millis(50));
        assert!(!writer.is_finished(), "the write passed a reader");
        assert_eq!(reader.version(), 0);
        drop(reader);
        assert_eq!(writer.join().unwrap().unwrap(), 1);
        // the worker moves the version on once more after every write (`after_write`)
        assert_eq!(shared.read().version(), 2);
        worker.stop().unwrap();
    }
}
