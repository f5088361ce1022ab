//! The hand-over of [`TelemetrySnapshot`]s from the worker to the telemetry server.
//!
//! The server sets a flag and wakes the worker; the worker checks the flag once per loop
//! turn (one relaxed load when nobody asks) and publishes, taking the slot's lock only
//! with `try_lock`: if the server holds it that moment, the worker tries again on its
//! next turn. The server waits a short bounded time for a fresh snapshot and otherwise
//! answers from the newest it has.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::snapshot::TelemetrySnapshot;
use crate::worker::Dataplane;

/// How often a waiting server wakes the worker again (a missed `try_lock`).
const REWAKE: Duration = Duration::from_millis(5);

/// Before the first publication there is nothing to fall back on: wait this long.
const FIRST_PATIENCE: Duration = Duration::from_secs(2);

#[derive(Debug, Default)]
struct Slot {
    /// Bumped by every publication.
    generation: u64,
    latest: Arc<TelemetrySnapshot>,
}

/// Shared by the worker (publisher) and the telemetry server (reader).
#[derive(Debug, Default)]
pub struct SnapshotShare {
    wanted: AtomicBool,
    slot: Mutex<Slot>,
    published: Condvar,
}

impl SnapshotShare {
    /// An empty share: nothing published, nothing asked for.
    pub fn new() -> SnapshotShare {
        SnapshotShare::default()
    }

    /// Worker side, every loop turn: publishes a snapshot if one was asked for.
    #[inline]
    pub fn publish_if_asked(&self, dp: &Dataplane) {
        if !self.wanted.load(Ordering::Relaxed) {
            return;
        }
        self.publish(dp);
    }

    #[cold]
    fn publish(&self, dp: &Dataplane) {
        // never wait: the reader holds the lock only to look at the slot
        let Ok(mut slot) = self.slot.try_lock() else {
            return;
        };
        slot.latest = Arc::new(TelemetrySnapshot::take(dp));
        slot.generation += 1;
        self.wanted.store(false, Ordering::Relaxed);
        drop(slot);
        self.published.notify_all();
    }

    /// Server side: asks for a fresh snapshot (`wake` wakes the worker) and waits up to
    /// `patience` for it; returns the newest one there is.
    pub fn fresh(&self, wake: &dyn Fn(), patience: Duration) -> Arc<TelemetrySnapshot> {
        let asked = self.lock().generation;
        let patience = if asked == 0 {
            patience.max(FIRST_PATIENCE)
        } else {
            patience
        };
        let deadline = Instant::now() + patience;
        self.wanted.store(true, Ordering::Relaxed);
        loop {
            // Wake the worker without holding the lock: a worker woken onto this CPU
            // preempts us at once, and if we held the lock then, its `try_lock` would
            // fail every time and each request would wait out its whole patience.
            wake();
            let slot = self.lock();
            if slot.generation != asked {
                return Arc::clone(&slot.latest);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Arc::clone(&slot.latest);
            }
            // a publication between `wake` and `lock` was seen above; one after
            // `lock` has to wait for `wait_timeout` to release the lock, so the
            // notification cannot be missed
            drop(
                self.published
                    .wait_timeout_while(slot, left.min(REWAKE), |slot| slot.generation == asked)
                    .unwrap_or_else(PoisonError::into_inner),
            );
        }
    }

    /// The newest snapshot without asking for another.
    pub fn latest(&self) -> Arc<TelemetrySnapshot> {
        Arc::clone(&self.lock().latest)
    }

    fn lock(&self) -> MutexGuard<'_, Slot> {
        // a panic elsewhere while holding the lock leaves a whole snapshot behind
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::state::{State, StateConfig};
    use crate::worker::Worker;

    fn dataplane(share: &Arc<SnapshotShare>) -> Dataplane {
        let mut dp = Dataplane::new(State::new(StateConfig::new(
            "fc00:1::1".parse().unwrap(),
            Vec::new(),
        )));
        dp.telemetry = Some(Arc::clone(share));
        dp
    }

    #[test]
    fn nothing_is_built_unless_asked() {
        let share = Arc::new(SnapshotShare::new());
        let dp = dataplane(&share);
        share.publish_if_asked(&dp);
        assert_eq!(share.lock().generation, 0);
        share.wanted.store(true, Ordering::Relaxed);
        share.publish_if_asked(&dp);
        let slot = share.lock();
        assert_eq!(slot.generation, 1);
        assert!(slot.latest.interfaces.is_empty());
        drop(slot);
        assert!(!share.wanted.load(Ordering::Relaxed));
    }

    #[test]
    fn a_held_lock_makes_the_worker_retry_not_wait() {
        let share = Arc::new(SnapshotShare::new());
        let dp = dataplane(&share);
        share.wanted.store(true, Ordering::Relaxed);
        let held = share.lock();
        share.publish_if_asked(&dp);
        drop(held);
        assert_eq!(share.lock().generation, 0);
        assert!(share.wanted.load(Ordering::Relaxed), "still asked for");
        share.publish_if_asked(&dp);
        assert_eq!(share.lock().generation, 1);
    }

    #[test]
    fn a_worker_running_inside_the_wake_call_is_not_locked_out() {
        // the worst case of a woken worker preempting the server on one CPU: its whole
        // turn runs before `wake` returns
        let share = Arc::new(SnapshotShare::new());
        let dp = dataplane(&share);
        let snap = share.fresh(&|| share.publish_if_asked(&dp), Duration::from_secs(2));
        assert_eq!(share.lock().generation, 1, "published on the first wake");
        assert!(Arc::ptr_eq(&snap, &share.latest()));
    }

    #[test]
    fn the_running_worker_answers_a_request_quickly() {
        let share = Arc::new(SnapshotShare::new());
        let (worker, handle) = Worker::spawn(dataplane(&share)).unwrap();
        // idle worker asleep in poll(2): the wake-up brings it round
        std::thread::sleep(Duration::from_millis(50));
        let t = Instant::now();
        let snap = share.fresh(&|| handle.wake(), Duration::from_secs(2));
        assert!(
            t.elapsed() < Duration::from_millis(500),
            "{:?}",
            t.elapsed()
        );
        assert_eq!(share.lock().generation, 1);
        worker.stop().unwrap();
        // no worker: the newest there is, after the patience (the first publication
        // was waited for longer)
        let t = Instant::now();
        let again = share.fresh(&|| (), Duration::from_millis(30));
        assert!(t.elapsed() >= Duration::from_millis(30));
        assert!(Arc::ptr_eq(&again, &snap));
    }
}
