//! High availability by lock file (dataplane.md §16.1).
//!
//! Every instance starts as a standby: gRPC is served and requests are applied, but no
//! packets are processed. A thread named `standby` opens `--active-lockfile` and blocks
//! in `flock(LOCK_EX)` — no polling, no CPU — until the kernel grants the lock, which
//! happens the moment the active instance exits (even by SIGKILL) or releases it at
//! shutdown. Then it flips the dataplane to active on the worker thread. Without a
//! lock file the instance becomes active at once.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rustix::fs::{flock, FlockOperation};

use crate::worker::WorkerHandle;

/// Why the instance cannot take part in HA.
#[derive(Debug, thiserror::Error)]
pub enum HaError {
    /// The lock file cannot be opened or created.
    #[error("Cannot open active lockfile '{path}': {source}")]
    Open {
        /// `--active-lockfile`.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `flock` failed.
    #[error("Locking active lockfile '{path}' failed: {source}")]
    Lock {
        /// `--active-lockfile`.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

#[derive(Debug, Default)]
struct Slot {
    /// The locked file, kept open while active.
    file: Option<File>,
    /// Shutdown has begun: a lock obtained now is dropped at once.
    released: bool,
}

/// The standby thread and the lock it holds.
#[derive(Debug, Clone)]
pub struct Standby {
    slot: Arc<Mutex<Slot>>,
    active: Arc<AtomicBool>,
}

impl Standby {
    /// Starts the `standby` thread. `on_fatal` is called (on that thread) when the lock
    /// file cannot be used; the daemon should then stop.
    pub fn spawn(
        lockfile: Option<PathBuf>,
        worker: WorkerHandle,
        on_fatal: impl FnOnce(HaError) + Send + 'static,
    ) -> std::io::Result<Standby> {
        let standby = Standby {
            slot: Arc::default(),
            active: Arc::default(),
        };
        let me = standby.clone();
        std::thread::Builder::new()
            .name("standby".into())
            .spawn(move || match me.acquire(lockfile) {
                Ok(true) => me.activate(&worker),
                Ok(false) => {}
                Err(e) => {
                    tracing::error!("{e}");
                    on_fatal(e);
                }
            })?;
        Ok(standby)
    }

    fn slot(&self) -> MutexGuard<'_, Slot> {
        self.slot
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Blocks until the lock is ours; false if shutdown began meanwhile.
    fn acquire(&self, lockfile: Option<PathBuf>) -> Result<bool, HaError> {
        let Some(path) = lockfile else {
            tracing::info!("Active lock not requested");
            return Ok(!self.slot().released);
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|source| HaError::Open {
                path: path.clone(),
                source,
            })?;
        tracing::info!(path = %path.display(), "Acquiring active lock...");
        loop {
            match flock(&file, FlockOperation::LockExclusive) {
                Ok(()) => break,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => {
                    return Err(HaError::Lock {
                        path,
                        source: e.into(),
                    })
                }
            }
        }
        let mut slot = self.slot();
        if slot.released {
            return Ok(false); // dropping the file releases the lock
        }
        slot.file = Some(file);
        Ok(true)
    }

    fn activate(&self, worker: &WorkerHandle) {
        tracing::info!("Becoming active");
        self.active.store(true, Ordering::Release);
        // fails only when the worker is already stopping
        let _ = worker.exec_blocking(|dp| dp.become_active());
    }

    /// Whether this instance holds the lock (or needs none) and processes packets.
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    /// Shutdown: gives the lock up now, so the peer takes over while this instance is
    /// still tearing down. A standby still waiting gives up waiting.
    pub fn release(&self) {
        let mut slot = self.slot();
        slot.released = true;
        slot.file = None;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::state::{State, StateConfig};
    use crate::worker::{Dataplane, Worker};

    fn worker() -> (Worker, WorkerHandle) {
        Worker::spawn(Dataplane::new(State::new(StateConfig::new(
            "fc00:1::1".parse().unwrap(),
            Vec::new(),
        ))))
        .unwrap()
    }

    fn wait_until(what: impl Fn() -> bool, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if what() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        what()
    }

    /// Lock entries on `path` in /proc/locks: (held, waiting). A waiter is a thread
    /// blocked in flock(2); no fixed sleep has to guess when it got there.
    fn lock_entries(path: &std::path::Path) -> (usize, usize) {
        use std::os::unix::fs::MetadataExt;
        let ino = std::fs::metadata(path).unwrap().ino();
        let locks = std::fs::read_to_string("/proc/locks").unwrap();
        let ours = |l: &&str| {
            l.split_whitespace()
                .any(|f| f.rsplit(':').next() == Some(&ino.to_string()) && f.contains(':'))
        };
        let mine: Vec<&str> = locks.lines().filter(ours).collect();
        let waiting = mine.iter().filter(|l| l.contains("->")).count();
        (mine.len() - waiting, waiting)
    }

    fn lock_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("dpservice-ha-{}-{name}.lock", std::process::id()))
    }

    #[test]
    fn without_lockfile_active_at_once() {
        let (w, h) = worker();
        let s = Standby::spawn(None, h.clone(), |e| panic!("{e}")).unwrap();
        assert!(wait_until(|| s.is_active(), Duration::from_secs(2)));
        assert!(wait_until(
            || h.exec_blocking(|dp| dp.active).unwrap(),
            Duration::from_secs(2)
        ));
        w.stop().unwrap();
    }

    #[test]
    fn second_instance_waits_then_takes_over() {
        let path = lock_path("takeover");
        let (w1, h1) = worker();
        let (w2, h2) = worker();
        let first = Standby::spawn(Some(path.clone()), h1, |e| panic!("{e}")).unwrap();
        assert!(wait_until(|| first.is_active(), Duration::from_secs(2)));
        let second = Standby::spawn(Some(path.clone()), h2.clone(), |e| panic!("{e}")).unwrap();
        assert!(
            wait_until(|| lock_entries(&path) == (1, 1), Duration::from_secs(2)),
            "the second never waited for the lock"
        );
        assert!(!second.is_active(), "lock is held by the first");
        assert!(
            !h2.exec_blocking(|dp| dp.active).unwrap(),
            "standby processes no packets"
        );
        let released = Instant::now();
        first.release();
        assert!(wait_until(|| second.is_active(), Duration::from_secs(1)));
        assert!(released.elapsed() < Duration::from_secs(1));
        assert!(wait_until(
            || h2.exec_blocking(|dp| dp.active).unwrap(),
            Duration::from_secs(1)
        ));
        second.release();
        w1.stop().unwrap();
        w2.stop().unwrap();
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn release_while_waiting_never_activates() {
        let path = lock_path("giveup");
        let holder = File::create(&path).unwrap();
        flock(&holder, FlockOperation::LockExclusive).unwrap();
        let (w, h) = worker();
        let s = Standby::spawn(Some(path.clone()), h, |e| panic!("{e}")).unwrap();
        assert!(
            wait_until(|| lock_entries(&path) == (1, 1), Duration::from_secs(2)),
            "the standby never waited for the lock"
        );
        s.release();
        drop(holder);
        // the standby is granted the lock, sees the release and lets go at once: the lock
        // can be taken again (a (0, 0) in /proc/locks alone may be the instant between the
        // holder's release and the waiter's grant)
        let probe = File::open(&path).unwrap();
        assert!(
            wait_until(
                || flock(&probe, FlockOperation::NonBlockingLockExclusive).is_ok(),
                Duration::from_secs(2)
            ),
            "the standby kept the lock"
        );
        assert!(!s.is_active());
        w.stop().unwrap();
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn unusable_lockfile_is_fatal() {
        let (w, h) = worker();
        let (tx, rx) = std::sync::mpsc::channel();
        Standby::spawn(
            Some(PathBuf::from("/nonexistent-dir/x.lock")),
            h,
            move |e| tx.send(e.to_string()).unwrap(),
        )
        .unwrap();
        let msg = rx.recv_timeout(Duration::from_secs(2)).unwrap();
        assert!(
            msg.contains("Cannot open active lockfile '/nonexistent-dir/x.lock'"),
            "{msg}"
        );
        w.stop().unwrap();
    }
}
