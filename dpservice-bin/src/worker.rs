//! The worker: the one thread that owns everything mutable ([`Dataplane`]) and the
//! only writer of the [`State`].
//!
//! The gRPC server (and the HA standby thread) never change tables themselves: they send
//! closures through a bounded queue with [`WorkerHandle::exec`] / [`WorkerHandle::write`].
//! The worker runs them between packet bursts, in arrival order, and sends each result
//! back (ARCHITECTURE.md principles 2 and 3). Reads ([`WorkerHandle::read`]) are no job:
//! they run on a blocking thread against the [`SharedState`]. A write that finds a
//! reader inside waits on the worker's side, which forwards packets meanwhile. When
//! idle it sleeps in poll(2) on a wake eventfd (plus, once the packet path adds them,
//! the port descriptors), so an idle daemon uses no CPU.

use std::any::Any;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustix::event::{eventfd, poll, EventfdFlags, PollFd, PollFlags, Timespec};
use tokio::sync::{mpsc, oneshot};

use crate::graph::datapath::Datapath;
use crate::shared_state::SharedState;
use crate::state::State;

/// How many requests may wait for the worker (upstream's gRPC ring holds 64).
pub const QUEUE_DEPTH: usize = 64;

/// Everything the worker owns and mutates.
#[derive(Debug)]
pub struct Dataplane {
    /// Control-plane state (interfaces, routes, NAT, LB, ...), shared with readers.
    pub state: Arc<SharedState>,
    /// HA role: false while standing by (rx reads nothing), true once the active lock
    /// is held. Flipped on this thread by [`Dataplane::become_active`].
    pub active: bool,
    /// The packet path: graph, ports and their timers (`None`: a control-plane-only
    /// dataplane, as in tests of the gRPC layer).
    pub packets: Option<Datapath>,
}

impl Dataplane {
    /// A dataplane in standby, as every instance starts (dataplane.md §16.1).
    pub fn new(state: State) -> Dataplane {
        Dataplane {
            state: Arc::new(SharedState::new(state)),
            active: false,
            packets: None,
        }
    }

    /// A dataplane in standby that forwards packets on `packets`' ports.
    pub fn with_packets(state: State, packets: Datapath) -> Dataplane {
        Dataplane {
            packets: Some(packets),
            ..Dataplane::new(state)
        }
    }

    /// The HA lock is ours: start processing packets.
    pub fn become_active(&mut self) {
        if !self.active {
            self.active = true;
            if let Some(p) = self.packets.as_mut() {
                p.graph.set_active(true);
            }
            tracing::info!("Starting packet processing");
        }
    }

    /// Packet-path hook: processes what the ports have (when active) and the due
    /// packet-path timers; returns whether packets moved, so the worker keeps polling
    /// while busy.
    fn run_bursts(&mut self) -> bool {
        match self.packets.as_mut() {
            Some(p) => p.run_bursts(&self.state.for_packets(), Instant::now()),
            None => false,
        }
    }

    /// Packet-path hook: descriptors the worker also sleeps on (port fds).
    fn sleep_fds(&self) -> Vec<BorrowedFd<'_>> {
        self.packets
            .as_ref()
            .map(Datapath::sleep_fds)
            .unwrap_or_default()
    }

    /// Packet-path hook: when the worker must wake at the latest (timers).
    fn next_deadline(&self) -> Option<Instant> {
        self.packets
            .as_ref()
            .map(|p| p.next_deadline(Instant::now()))
    }
}

/// Packet-path hook after a write: removes the conntrack flows that control-plane
/// changes made stale (`State::take_flow_purges`). No flow table yet: the queue is only
/// emptied.
fn purge_stale_flows(packets: Option<&mut Datapath>, state: &mut State) {
    let _ = state.take_flow_purges();
    // VF ports follow their interfaces (CreateInterface / DeleteInterface)
    if let Some(p) = packets {
        p.sync_with_state(state);
    }
}

/// Work for the worker thread.
enum Job {
    /// Needs the dataplane (HA role, ports), not the state.
    Dataplane(Box<dyn FnOnce(&mut Dataplane) + Send>),
    /// Changes the state: runs under its write lock.
    State(Box<dyn FnOnce(&mut State) + Send>),
}

/// The worker has stopped (shutdown), or the request panicked on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the dataplane worker is not running")]
pub struct WorkerGone;

/// Wakes the worker out of poll(2): an eventfd, written after each enqueue.
#[derive(Debug)]
struct Waker {
    fd: OwnedFd,
}

impl Waker {
    fn new() -> std::io::Result<Waker> {
        let fd = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        Ok(Waker { fd })
    }

    fn wake(&self) {
        // EAGAIN means the counter is already non-zero: the worker will wake anyway
        let _ = rustix::io::write(&self.fd, &1u64.to_ne_bytes());
    }

    fn clear(&self) {
        let mut buf = [0u8; 8];
        let _ = rustix::io::read(&self.fd, &mut buf);
    }
}

/// Sends work to the worker. Cheap to clone; one per gRPC service and HA thread.
#[derive(Debug, Clone)]
pub struct WorkerHandle {
    tx: mpsc::Sender<Job>,
    waker: Arc<Waker>,
    state: Arc<SharedState>,
}

impl WorkerHandle {
    /// Runs `f` on the worker thread between bursts; resolves with its result.
    ///
    /// Calls are executed in the order they enter the queue; when it is full the
    /// caller waits. Dropping the future after the call was queued does not cancel it.
    pub async fn exec<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Dataplane) -> R + Send + 'static,
    ) -> Result<R, WorkerGone> {
        let (reply, result) = oneshot::channel();
        let job = Job::Dataplane(Box::new(move |dp| {
            let _ = reply.send(f(dp));
        }));
        self.tx.send(job).await.map_err(|_| WorkerGone)?;
        self.waker.wake();
        result.await.map_err(|_| WorkerGone)
    }

    /// Runs `f` on the worker with the state write-locked, in queue order with
    /// [`exec`](Self::exec); resolves with its result once the change is visible to
    /// every later [`read`](Self::read).
    pub async fn write<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut State) -> R + Send + 'static,
    ) -> Result<R, WorkerGone> {
        let (reply, result) = oneshot::channel();
        let job = Job::State(Box::new(move |state| {
            let _ = reply.send(f(state));
        }));
        self.tx.send(job).await.map_err(|_| WorkerGone)?;
        self.waker.wake();
        result.await.map_err(|_| WorkerGone)
    }

    /// Runs `read` on a blocking thread with the state read-locked (no job on the
    /// worker), then `then` with its result after the lock is released (building a
    /// response there keeps the lock short). Sees every write that resolved before.
    pub async fn read<R, T>(
        &self,
        read: impl FnOnce(&State) -> R + Send + 'static,
        then: impl FnOnce(R) -> T + Send + 'static,
    ) -> Result<T, WorkerGone>
    where
        R: Send + 'static,
        T: Send + 'static,
    {
        if self.tx.is_closed() {
            return Err(WorkerGone);
        }
        let state = Arc::clone(&self.state);
        tokio::task::spawn_blocking(move || {
            let copied = read(&state.read());
            then(copied)
        })
        .await
        .map_err(|_| WorkerGone)
    }

    /// [`exec`](Self::exec) for plain threads (not from inside an async runtime).
    pub fn exec_blocking<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Dataplane) -> R + Send + 'static,
    ) -> Result<R, WorkerGone> {
        let (reply, result) = oneshot::channel();
        let job = Job::Dataplane(Box::new(move |dp| {
            let _ = reply.send(f(dp));
        }));
        self.tx.blocking_send(job).map_err(|_| WorkerGone)?;
        self.waker.wake();
        result.blocking_recv().map_err(|_| WorkerGone)
    }
}

/// The running worker thread.
#[derive(Debug)]
pub struct Worker {
    thread: JoinHandle<Dataplane>,
    stop: Arc<AtomicBool>,
    waker: Arc<Waker>,
}

/// The worker thread panicked.
#[derive(Debug, thiserror::Error)]
#[error("the dataplane worker thread panicked")]
pub struct WorkerPanicked;

impl Worker {
    /// Starts the worker thread (named `worker`) owning `dp`.
    pub fn spawn(dp: Dataplane) -> std::io::Result<(Worker, WorkerHandle)> {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let waker = Arc::new(Waker::new()?);
        let stop = Arc::new(AtomicBool::new(false));
        let state = Arc::clone(&dp.state);
        let thread = std::thread::Builder::new().name("worker".into()).spawn({
            let waker = Arc::clone(&waker);
            let stop = Arc::clone(&stop);
            move || worker_loop(dp, rx, &waker, &stop)
        })?;
        Ok((
            Worker {
                thread,
                stop,
                waker: Arc::clone(&waker),
            },
            WorkerHandle { tx, waker, state },
        ))
    }

    /// Stops the worker after the job it is running, and returns the dataplane.
    /// Queued jobs are dropped: their callers get [`WorkerGone`].
    pub fn stop(self) -> Result<Dataplane, WorkerPanicked> {
        self.stop.store(true, Ordering::Release);
        self.waker.wake();
        self.thread.join().map_err(|_| WorkerPanicked)
    }
}

/// Jobs run per round before packets get their turn again.
const JOBS_PER_ROUND: usize = 32;
/// How soon an idle worker retries a write that found a reader inside.
const WRITE_RETRY: Duration = Duration::from_micros(50);

fn worker_loop(
    mut dp: Dataplane,
    mut rx: mpsc::Receiver<Job>,
    waker: &Waker,
    stop: &AtomicBool,
) -> Dataplane {
    // a write that found a reader in the state: first in line on the next turn
    let mut deferred: Option<Job> = None;
    loop {
        let mut jobs = 0;
        while jobs < JOBS_PER_ROUND {
            let job = match deferred.take() {
                Some(job) => job,
                None => match rx.try_recv() {
                    Ok(job) => job,
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    // every handle is gone: nobody can ask for anything any more
                    Err(mpsc::error::TryRecvError::Disconnected) => return dp,
                },
            };
            match run_job(&mut dp, job) {
                Ok(()) => jobs += 1,
                Err(job) => {
                    // packets go on; later jobs keep waiting behind it (arrival order)
                    deferred = Some(job);
                    break;
                }
            }
        }
        if stop.load(Ordering::Acquire) {
            return dp;
        }
        let busy = dp.run_bursts();
        if busy || jobs == JOBS_PER_ROUND {
            continue;
        }
        let cap = deferred.is_some().then_some(WRITE_RETRY);
        sleep(&dp, waker, cap);
    }
}

/// Runs a job; a state job that finds a reader inside comes back to be retried.
fn run_job(dp: &mut Dataplane, job: Job) -> Result<(), Job> {
    match job {
        Job::Dataplane(job) => catch_panic(|| job(dp)),
        Job::State(job) => {
            let shared = Arc::clone(&dp.state);
            let Some(mut state) = shared.try_write() else {
                return Err(Job::State(job));
            };
            catch_panic(|| job(&mut state));
            purge_stale_flows(dp.packets.as_mut(), &mut state);
            shared.finish_write(state);
        }
    }
    Ok(())
}

/// A request that panics must not take the dataplane down with it.
fn catch_panic(job: impl FnOnce()) {
    if let Err(panic) = std::panic::catch_unwind(AssertUnwindSafe(job)) {
        tracing::error!(
            panic = panic_text(&*panic),
            "Request panicked on the worker"
        );
    }
}

fn panic_text(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Sleeps until the wake fd, a port fd or the next deadline fires, at most `cap`.
fn sleep(dp: &Dataplane, waker: &Waker, cap: Option<Duration>) {
    let deadline = match (dp.next_deadline(), cap) {
        (Some(at), Some(cap)) => Some(at.min(Instant::now() + cap)),
        (at, None) => at,
        (None, Some(cap)) => Some(Instant::now() + cap),
    };
    let timeout = deadline.map(|at| {
        let left = at.saturating_duration_since(Instant::now());
        Timespec {
            tv_sec: left.as_secs().try_into().unwrap_or(i64::MAX),
            tv_nsec: left.subsec_nanos().into(),
        }
    });
    let extra = dp.sleep_fds();
    let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(1 + extra.len());
    fds.push(PollFd::new(&waker.fd, PollFlags::IN));
    fds.extend(
        extra
            .iter()
            .map(|fd| PollFd::from_borrowed_fd(fd.as_fd(), PollFlags::IN)),
    );
    // EINTR and friends: just go round again
    let _ = poll(&mut fds, timeout.as_ref());
    waker.clear();
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::state::StateConfig;

    fn dataplane() -> Dataplane {
        Dataplane::new(State::new(StateConfig::new(
            "fc00:1::1".parse().unwrap(),
            Vec::new(),
        )))
    }

    #[test]
    fn jobs_run_on_the_worker_thread_in_order() {
        let (worker, handle) = Worker::spawn(dataplane()).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let names = rt.block_on(async {
            let mut results = Vec::new();
            for i in 0..200u32 {
                let h = handle.clone();
                results.push(tokio::spawn(async move {
                    h.exec(move |_dp| (i, std::thread::current().name().map(str::to_owned)))
                        .await
                }));
            }
            let mut out = Vec::new();
            for r in results {
                out.push(r.await.unwrap().unwrap());
            }
            out
        });
        assert_eq!(names.len(), 200);
        assert!(names.iter().all(|(_, n)| n.as_deref() == Some("worker")));
        let dp = worker.stop().unwrap();
        assert!(!dp.active);
    }

    #[test]
    fn mutations_are_seen_by_later_calls() {
        let (worker, handle) = Worker::spawn(dataplane()).unwrap();
        handle.exec_blocking(|dp| dp.become_active()).unwrap();
        assert!(handle.exec_blocking(|dp| dp.active).unwrap());
        let dp = worker.stop().unwrap();
        assert!(dp.active);
    }

    #[test]
    fn a_panicking_job_leaves_the_worker_running() {
        let (worker, handle) = Worker::spawn(dataplane()).unwrap();
        let r: Result<(), WorkerGone> = handle.exec_blocking(|_| panic!("boom"));
        assert_eq!(r, Err(WorkerGone));
        assert_eq!(handle.exec_blocking(|_| 7).unwrap(), 7);
        worker.stop().unwrap();
    }

    #[test]
    fn stopped_worker_answers_worker_gone() {
        let (worker, handle) = Worker::spawn(dataplane()).unwrap();
        worker.stop().unwrap();
        assert_eq!(handle.exec_blocking(|_| 1), Err(WorkerGone));
    }

    #[test]
    fn idle_worker_sleeps() {
        let (worker, handle) = Worker::spawn(dataplane()).unwrap();
        handle.exec_blocking(|_| ()).unwrap();
        let tid = handle
            .exec_blocking(|_| rustix::thread::gettid().as_raw_nonzero().get())
            .unwrap();
        let cpu = || -> u64 {
            let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap();
            // utime and stime follow the parenthesised command name
            let rest = &stat[stat.rfind(')').unwrap() + 2..];
            let f: Vec<&str> = rest.split(' ').collect();
            f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
        };
        let before = cpu();
        std::thread::sleep(Duration::from_millis(500));
        let used = cpu() - before;
        assert!(used <= 2, "idle worker used {used} ticks in 0.5 s");
        // and it still answers at once
        let t = Instant::now();
        handle.exec_blocking(|_| ()).unwrap();
        assert!(t.elapsed() < Duration::from_millis(100));
        worker.stop().unwrap();
    }
}
