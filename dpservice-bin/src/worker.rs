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
//!
//! A panic on the worker (in a job or on the packet path) ends the worker: nothing is
//! caught half-way, because a dataplane whose owner died mid-change cannot be trusted.
//! [`Worker::spawn_watched`] tells the daemon, which then stops with a non-zero status
//! and gives the HA lock to the standby.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustix::event::{eventfd, poll, EventfdFlags, PollFd, PollFlags, Timespec};
use tokio::sync::{mpsc, oneshot};

use crate::datapath::Datapath;
use crate::panic_log::panic_text;
use crate::port::link::LinksApplied;
use crate::shared_state::SharedState;
use crate::state::{PortId, State};
use crate::tables::SharedTables;
use crate::telemetry::SnapshotShare;

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
    /// Test hook: where the worker panics on purpose (see [`TestPanic`]).
    pub test_panic: Option<TestPanic>,
    /// The state tables in shared memory (`None`: no region, as in unit tests).
    pub tables: Option<SharedTables>,
    /// Where telemetry snapshots are published when the server asks (`None`: no
    /// telemetry server).
    pub telemetry: Option<Arc<SnapshotShare>>,
}

/// Test hook, never met by accident: the environment variable [`TestPanic::ENV`] makes
/// the worker panic at a named point, so tests can show that a daemon without its worker
/// stops (and its HA standby takes over). Read once at start; unset in production.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestPanic {
    /// `initialize`: right after the job that initialized the state (gRPC `Initialize`).
    AfterInitialize,
    /// `packets`: on the packet path, once a round moved packets.
    OnPackets,
}

impl TestPanic {
    /// The variable naming the point.
    pub const ENV: &'static str = "DPSERVICE_TEST_WORKER_PANIC";

    /// The point named by [`TestPanic::ENV`]; an unknown value is reported and ignored.
    pub fn from_env() -> Option<TestPanic> {
        let value = std::env::var_os(Self::ENV)?;
        match value.to_str() {
            Some("initialize") => Some(TestPanic::AfterInitialize),
            Some("packets") => Some(TestPanic::OnPackets),
            _ => {
                tracing::warn!(
                    value = %value.to_string_lossy(),
                    "{} names no test panic point (initialize, packets); ignored",
                    Self::ENV
                );
                None
            }
        }
    }

    /// Panics if this is the point reached.
    #[allow(clippy::panic)] // the purpose of the hook
    fn reached(hook: Option<TestPanic>, point: TestPanic) {
        if hook == Some(point) {
            panic!("test panic requested by {}", Self::ENV);
        }
    }
}

impl Dataplane {
    /// A dataplane in standby, as every instance starts (dataplane.md §16.1).
    pub fn new(state: State) -> Dataplane {
        Dataplane {
            state: Arc::new(SharedState::new(state)),
            active: false,
            packets: None,
            test_panic: None,
            tables: None,
            telemetry: None,
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
                p.become_active(Instant::now());
            }
            tracing::info!("Starting packet processing");
        }
    }

    /// Packet-path hook: processes what the ports have (when active) and the due
    /// packet-path timers; returns whether packets moved, so the worker keeps polling
    /// while busy.
    fn run_bursts(&mut self) -> bool {
        if let Some(share) = &self.telemetry {
            share.publish_if_asked(self);
        }
        let moved = match self.packets.as_mut() {
            Some(p) => p.run_bursts(&self.state.for_packets(), Instant::now()),
            None => false,
        };
        if moved {
            TestPanic::reached(self.test_panic, TestPanic::OnPackets);
        }
        moved
    }

    /// Brings one shared-memory configuration table up to date with the state (one per
    /// loop turn, so publishing never holds packets for long).
    fn publish_tables(&mut self) {
        let Some(tables) = self.tables.as_mut() else {
            return;
        };
        let graph = self.packets.as_ref().map(|p| &p.graph);
        let mac_of = |port: PortId| graph.and_then(|g| g.port(port)).map(|p| p.neigh_mac.0);
        tables.publish_step(&self.state.for_packets(), &mac_of);
    }

    /// Whether work is left that must not wait for the next wake-up.
    fn publishing_behind(&self) -> bool {
        self.tables
            .as_ref()
            .is_some_and(|t| t.behind(&self.state.for_packets()))
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
/// changes made stale (`State::take_flow_purges`).
fn purge_stale_flows(packets: Option<&mut Datapath>, state: &mut State) {
    let purges = state.take_flow_purges();
    // VF ports follow their interfaces (CreateInterface / DeleteInterface)
    if let Some(p) = packets {
        p.graph.purge_flows(&purges);
        p.sync_with_state(state);
    }
}

/// Sends a job's result to its caller.
type Answer = Box<dyn FnOnce() + Send>;

/// Work for the worker thread.
enum Job {
    /// Needs the dataplane (HA role, ports), not the state.
    Dataplane(Box<dyn FnOnce(&mut Dataplane) + Send>),
    /// Changes the state: runs under its write lock; the answer goes out once what the
    /// change means for the ports is applied too.
    State(Box<dyn FnOnce(&mut State) -> Answer + Send>),
}

impl Job {
    /// A state job running `f`, and where its result arrives.
    fn write<R: Send + 'static>(
        f: impl FnOnce(&mut State) -> R + Send + 'static,
    ) -> (Job, oneshot::Receiver<R>) {
        let (reply, result) = oneshot::channel();
        let job = Job::State(Box::new(move |state| {
            let r = f(state);
            Box::new(move || {
                let _ = reply.send(r);
            })
        }));
        (job, result)
    }
}

/// The worker has stopped (shutdown or panic).
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
    /// Writes answer once the link changes they caused are applied.
    links: Option<LinksApplied>,
}

impl WorkerHandle {
    /// This handle's [`write`](Self::write) also waits until the link changes its call
    /// caused (a VF brought up by CreateInterface) are applied by `portctl`: the caller
    /// waits, never the worker.
    pub fn waiting_for_links(mut self, links: LinksApplied) -> WorkerHandle {
        self.links = Some(links);
        self
    }

    /// Wakes the worker for a loop turn without a job (the telemetry server asking
    /// for a snapshot).
    pub fn wake(&self) {
        self.waker.wake();
    }

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
        let (job, result) = Job::write(f);
        self.tx.send(job).await.map_err(|_| WorkerGone)?;
        self.waker.wake();
        let r = result.await.map_err(|_| WorkerGone)?;
        if let Some(links) = &self.links {
            links.settled().await;
        }
        Ok(r)
    }

    /// [`write`](Self::write) for plain threads (not from inside an async runtime).
    pub fn write_blocking<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut State) -> R + Send + 'static,
    ) -> Result<R, WorkerGone> {
        let (job, result) = Job::write(f);
        self.tx.blocking_send(job).map_err(|_| WorkerGone)?;
        self.waker.wake();
        result.blocking_recv().map_err(|_| WorkerGone)
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
    thread: WorkerThread,
    stop: Arc<AtomicBool>,
    waker: Arc<Waker>,
}

/// Where the worker loop runs.
#[derive(Debug, Clone, Copy)]
pub enum WorkerPlace {
    /// A plain thread named `worker` (TAP and in-memory ports).
    Thread,
    /// An EAL worker lcore (DPDK backend): pinned to its core and with DPDK's per-lcore
    /// mbuf caches, as upstream's worker. Started and stopped from the main lcore.
    #[cfg(feature = "dpdk")]
    Lcore(&'static crate::dpdk::Eal),
}

#[derive(Debug)]
enum WorkerThread {
    Thread(JoinHandle<Dataplane>),
    #[cfg(feature = "dpdk")]
    Lcore(crate::dpdk::Launched<Dataplane>),
}

/// The worker thread panicked.
#[derive(Debug, thiserror::Error)]
#[error("the dataplane worker thread panicked")]
pub struct WorkerPanicked;

impl Worker {
    /// Starts the worker thread (named `worker`) owning `dp`.
    pub fn spawn(dp: Dataplane) -> std::io::Result<(Worker, WorkerHandle)> {
        Worker::spawn_watched(dp, |_| {})
    }

    /// [`spawn`](Self::spawn), and call `on_panic` with the panic message (on the dying
    /// worker thread, after its queue was closed) if the worker panics. The daemon must
    /// then stop: the dataplane is gone.
    pub fn spawn_watched(
        dp: Dataplane,
        on_panic: impl FnOnce(String) + Send + 'static,
    ) -> std::io::Result<(Worker, WorkerHandle)> {
        Worker::spawn_watched_on(dp, WorkerPlace::Thread, on_panic)
    }

    /// [`spawn_watched`](Self::spawn_watched) on the given place (an EAL lcore under the
    /// DPDK backend).
    pub fn spawn_watched_on(
        dp: Dataplane,
        place: WorkerPlace,
        on_panic: impl FnOnce(String) + Send + 'static,
    ) -> std::io::Result<(Worker, WorkerHandle)> {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let waker = Arc::new(Waker::new()?);
        let stop = Arc::new(AtomicBool::new(false));
        let state = Arc::clone(&dp.state);
        let body = {
            let waker = Arc::clone(&waker);
            let stop = Arc::clone(&stop);
            move || {
                crate::logging::name_this_thread("worker");
                let mut rx = rx;
                let run = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    worker_loop(dp, &mut rx, &waker, &stop)
                }));
                match run {
                    Ok(dp) => dp,
                    Err(panic) => {
                        // callers waiting in the queue get WorkerGone now, not at exit
                        drop(rx);
                        on_panic(panic_text(&*panic));
                        std::panic::resume_unwind(panic)
                    }
                }
            }
        };
        let thread = match place {
            WorkerPlace::Thread => WorkerThread::Thread(
                std::thread::Builder::new()
                    .name("worker".into())
                    .spawn(body)?,
            ),
            #[cfg(feature = "dpdk")]
            WorkerPlace::Lcore(eal) => {
                WorkerThread::Lcore(eal.launch(body).map_err(std::io::Error::other)?)
            }
        };
        Ok((
            Worker {
                thread,
                stop,
                waker: Arc::clone(&waker),
            },
            WorkerHandle {
                tx,
                waker,
                state,
                links: None,
            },
        ))
    }

    /// Stops the worker after the job it is running, and returns the dataplane.
    /// Queued jobs are dropped: their callers get [`WorkerGone`].
    pub fn stop(self) -> Result<Dataplane, WorkerPanicked> {
        self.stop.store(true, Ordering::Release);
        self.waker.wake();
        match self.thread {
            WorkerThread::Thread(thread) => thread.join().map_err(|_| WorkerPanicked),
            #[cfg(feature = "dpdk")]
            WorkerThread::Lcore(launched) => launched.wait().map_err(|_| WorkerPanicked),
        }
    }
}

/// Jobs run per round before packets get their turn again.
const JOBS_PER_ROUND: usize = 32;
/// How soon an idle worker retries a write that found a reader inside.
const WRITE_RETRY: Duration = Duration::from_micros(50);

fn worker_loop(
    mut dp: Dataplane,
    rx: &mut mpsc::Receiver<Job>,
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
        dp.publish_tables();
        if busy || jobs == JOBS_PER_ROUND || dp.publishing_behind() {
            continue;
        }
        let cap = deferred.is_some().then_some(WRITE_RETRY);
        sleep(&dp, waker, cap);
    }
}

/// Runs a job; a state job that finds a reader inside comes back to be retried. A job
/// that panics ends the worker (see the module documentation).
fn run_job(dp: &mut Dataplane, job: Job) -> Result<(), Job> {
    match job {
        Job::Dataplane(job) => job(dp),
        Job::State(job) => {
            let shared = Arc::clone(&dp.state);
            let Some(mut state) = shared.try_write() else {
                return Err(Job::State(job));
            };
            let answer = job(&mut state);
            state.after_write();
            // what the call means for the ports happens before the answer
            purge_stale_flows(dp.packets.as_mut(), &mut state);
            let initialized = state.is_initialized();
            shared.finish_write(state);
            answer();
            if initialized {
                TestPanic::reached(dp.test_panic, TestPanic::AfterInitialize);
            }
        }
    }
    Ok(())
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
    fn a_panicking_job_ends_the_worker_and_says_so() {
        let (told, heard) = std::sync::mpsc::channel();
        let (worker, handle) = Worker::spawn_watched(dataplane(), move |msg| {
            told.send(msg).unwrap();
        })
        .unwrap();
        let r: Result<(), WorkerGone> = handle.exec_blocking(|_| panic!("boom"));
        assert_eq!(r, Err(WorkerGone));
        assert_eq!(heard.recv_timeout(Duration::from_secs(2)).unwrap(), "boom");
        // a dataplane without its worker: every later request fails at once
        assert_eq!(handle.exec_blocking(|_| 7), Err(WorkerGone));
        assert!(worker.stop().is_err(), "stop reports the panic");
    }

    #[test]
    fn test_hook_panics_after_initialize_only() {
        let (told, heard) = std::sync::mpsc::channel();
        let mut dp = dataplane();
        dp.test_panic = Some(TestPanic::AfterInitialize);
        let (worker, handle) = Worker::spawn_watched(dp, move |msg| {
            told.send(msg).unwrap();
        })
        .unwrap();
        assert_eq!(handle.exec_blocking(|_| 1).unwrap(), 1, "not before");
        assert!(heard.try_recv().is_err());
        // the job itself completes (its caller has the answer); then the worker dies
        handle
            .write_blocking(|state| state.initialize().unwrap())
            .unwrap();
        let msg = heard.recv_timeout(Duration::from_secs(2)).unwrap();
        assert!(msg.contains(TestPanic::ENV), "{msg}");
        assert_eq!(handle.exec_blocking(|_| 2), Err(WorkerGone));
        assert!(worker.stop().is_err());
    }

    #[test]
    fn a_panic_on_the_packet_path_ends_the_worker() {
        use crate::datapath::port_set::PortSet;
        use crate::datapath::Datapath;
        use crate::graph::{Graph, GraphConfig, GraphPort, PortRole};
        use crate::port::memory::MemoryPort;
        use crate::wire::MacAddr;

        let mac = MacAddr([2, 0, 0, 0, 0, 1]);
        let mut ports = PortSet::new();
        ports.insert(0, Box::new(MemoryPort::generator("pf0", mac, &[0u8; 60])));
        let graph = Graph::new(
            GraphConfig::default(),
            &[GraphPort {
                id: 0,
                role: PortRole::Pf0,
                mac,
            }],
        )
        .expect("a graph with private flow tables");
        let mut dp = Dataplane::with_packets(
            State::new(StateConfig::new("fc00:1::1".parse().unwrap(), Vec::new())),
            Datapath::new(graph, ports, Instant::now()),
        );
        dp.test_panic = Some(TestPanic::OnPackets);
        let (told, heard) = std::sync::mpsc::channel();
        let (worker, handle) = Worker::spawn_watched(dp, move |msg| {
            told.send(msg).unwrap();
        })
        .unwrap();
        // standby receives nothing: alive until it becomes active
        assert_eq!(handle.exec_blocking(|_| 3).unwrap(), 3);
        let _ = handle.exec_blocking(|dp| dp.become_active());
        let msg = heard.recv_timeout(Duration::from_secs(2)).unwrap();
        assert!(msg.contains(TestPanic::ENV), "{msg}");
        assert_eq!(handle.exec_blocking(|_| 4), Err(WorkerGone));
        assert!(worker.stop().is_err());
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
        // and it still answers at once: well before a sleeping poll(2) without a wake-up
        // (none: no deadline) would return; generous for a loaded 2-core CI machine
        let t = Instant::now();
        handle.exec_blocking(|_| ()).unwrap();
        assert!(
            t.elapsed() < Duration::from_millis(500),
            "{:?}",
            t.elapsed()
        );
        worker.stop().unwrap();
    }
}
