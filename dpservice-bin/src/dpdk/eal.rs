//! DPDK's Environment Abstraction Layer: initialised once per process from the EAL words
//! of the command line, and the lcores it starts (the daemon's worker runs on one).

use std::any::Any;
use std::ffi::{c_char, c_int, c_void, CString};
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use super::{last_error, strerror, DpdkError};

/// `argv[0]` as DPDK sees it.
pub const PROGRAM: &str = "dpservice-bin";

/// The EAL option that keeps DPDK's telemetry thread off our socket's path (see the
/// module documentation of [`crate::dpdk`]).
pub const NO_TELEMETRY: &str = "--no-telemetry";

/// Set by the first [`Eal::init`], successful or not: DPDK refuses a second attempt.
static ATTEMPTED: AtomicBool = AtomicBool::new(false);
static EAL: OnceLock<Eal> = OnceLock::new();

/// Proof that the EAL is initialised; the wrapper's functions that need it take `&Eal`.
#[derive(Debug)]
pub struct Eal {
    main_lcore: u32,
}

/// What `rte_eal_init` receives: the program name, the EAL words unchanged, and
/// `--no-telemetry` unless the last telemetry word already is that.
pub fn eal_argv(words: &[String]) -> Vec<String> {
    let mut argv = Vec::with_capacity(words.len() + 2);
    argv.push(PROGRAM.to_owned());
    argv.extend(words.iter().cloned());
    let last_telemetry_word = words
        .iter()
        .rev()
        .find(|w| *w == "--telemetry" || *w == NO_TELEMETRY);
    if last_telemetry_word.map(String::as_str) != Some(NO_TELEMETRY) {
        argv.push(NO_TELEMETRY.to_owned());
    }
    argv
}

impl Eal {
    /// Initialises the EAL with `words` (the part of the command line before `--`, as
    /// given). The calling thread becomes the main lcore. Once per process: a second call
    /// fails even if the first one did. DPDK's log lines go to stderr.
    pub fn init(words: &[String]) -> Result<&'static Eal, DpdkError> {
        if ATTEMPTED.swap(true, Ordering::SeqCst) {
            return Err(DpdkError::EalAlreadyInitialised);
        }
        let argv = eal_argv(words)
            .into_iter()
            .map(|w| CString::new(w.as_bytes()).map_err(|_| DpdkError::NulInArgument(w)))
            .collect::<Result<Vec<CString>, _>>()?;
        // DPDK permutes argv and may keep pointers into it: the strings and the array
        // live for the rest of the process (once, a few hundred bytes)
        let mut ptrs: Vec<*mut c_char> = argv.into_iter().map(CString::into_raw).collect();
        let argc = ptrs.len() as c_int;
        ptrs.push(std::ptr::null_mut());
        let ptrs: &'static mut [*mut c_char] = ptrs.leak();
        // SAFETY: redirects DPDK's log stream to the process's stderr before DPDK logs
        // anything; takes no pointer from us.
        unsafe { dpdk_sys::dpdk_sys_log_to_stderr() };
        // SAFETY: argc counts the NUL-terminated strings in `ptrs`, which is NULL-terminated
        // and never freed; ATTEMPTED makes this the process's only call.
        let ret = unsafe { dpdk_sys::rte_eal_init(argc, ptrs.as_mut_ptr()) };
        if ret < 0 {
            return Err(DpdkError::EalInit {
                reason: last_error(),
            });
        }
        // SAFETY: the EAL is initialised; this reads its configuration.
        let main_lcore = unsafe { dpdk_sys::rte_get_main_lcore() };
        Ok(EAL.get_or_init(|| Eal { main_lcore }))
    }

    /// The EAL, if [`Eal::init`] succeeded in this process.
    pub fn get() -> Option<&'static Eal> {
        EAL.get()
    }

    /// The main lcore (the thread that called [`Eal::init`]).
    pub fn main_lcore(&self) -> u32 {
        self.main_lcore
    }

    /// Number of lcores (main and workers).
    pub fn lcore_count(&self) -> u32 {
        // SAFETY: the EAL is initialised (we are a `&Eal`); reads its configuration.
        unsafe { dpdk_sys::rte_lcore_count() }
    }

    /// The worker lcores, in order.
    pub fn worker_lcores(&self) -> Vec<u32> {
        let mut lcores = Vec::new();
        let mut lcore = u32::MAX; // "before the first", as DPDK's iteration starts
        loop {
            // SAFETY: the EAL is initialised; any index is accepted and the next enabled
            // lcore (or RTE_MAX_LCORE at the end) is returned.
            lcore = unsafe { dpdk_sys::rte_get_next_lcore(lcore, 1, 0) };
            if lcore >= dpdk_sys::RTE_MAX_LCORE {
                return lcores;
            }
            lcores.push(lcore);
        }
    }

    /// The lcore of the calling thread (`None` outside EAL threads).
    pub fn current_lcore(&self) -> Option<u32> {
        // SAFETY: reads the calling thread's lcore id (thread-local).
        let lcore = unsafe { dpdk_sys::dpdk_sys_lcore_id() };
        (lcore != dpdk_sys::LCORE_ID_ANY).then_some(lcore)
    }

    /// The NUMA socket of the calling thread (`SOCKET_ID_ANY` outside EAL threads).
    pub fn socket_id(&self) -> i32 {
        // SAFETY: reads the calling thread's socket id (thread-local).
        unsafe { dpdk_sys::rte_socket_id() as i32 }
    }

    /// Runs `f` on the first idle worker lcore (an EAL thread pinned to its core).
    /// Call from the main lcore; collect the result with [`Launched::wait`].
    pub fn launch<T, F>(&self, f: F) -> Result<Launched<T>, DpdkError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let idle = self.worker_lcores().into_iter().find(|&lcore| {
            // SAFETY: `lcore` is an enabled lcore id from the EAL's own iteration.
            unsafe { dpdk_sys::rte_eal_get_lcore_state(lcore) == dpdk_sys::WAIT }
        });
        match idle {
            Some(lcore) => self.launch_on(lcore, f),
            None => Err(DpdkError::NoWorkerLcore),
        }
    }

    /// Runs `f` on worker lcore `lcore`, which must be idle.
    pub fn launch_on<T, F>(&self, lcore: u32, f: F) -> Result<Launched<T>, DpdkError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.on_main_lcore()?;
        if lcore == self.main_lcore || !self.worker_lcores().contains(&lcore) {
            return Err(DpdkError::Launch {
                lcore,
                reason: "not a worker lcore of this EAL".to_owned(),
            });
        }
        let slot: ResultSlot<T> = Arc::new(Mutex::new(None));
        let job: Job = Box::new({
            let slot = Arc::clone(&slot);
            move || {
                // a panic must not unwind into DPDK's C frames
                let result = catch_unwind(AssertUnwindSafe(f));
                *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
            }
        });
        let arg = Box::into_raw(Box::new(job));
        // SAFETY: `trampoline` takes back exactly this Box once; `arg` stays valid until
        // then because nothing else frees it; `lcore` is a worker lcore.
        let ret = unsafe { dpdk_sys::rte_eal_remote_launch(Some(trampoline), arg.cast(), lcore) };
        if ret != 0 {
            // SAFETY: the launch was refused, so the trampoline never runs and the Box
            // is still ours.
            drop(unsafe { Box::from_raw(arg) });
            return Err(DpdkError::Launch {
                lcore,
                reason: strerror(ret),
            });
        }
        Ok(Launched {
            lcore,
            main_lcore: self.main_lcore,
            slot,
            _main_only: PhantomData,
        })
    }

    fn on_main_lcore(&self) -> Result<(), DpdkError> {
        if self.current_lcore() == Some(self.main_lcore) {
            Ok(())
        } else {
            Err(DpdkError::NotMainLcore)
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;
type ResultSlot<T> = Arc<Mutex<Option<std::thread::Result<T>>>>;

/// Entered by DPDK on the worker lcore with the pointer given to `rte_eal_remote_launch`.
extern "C" fn trampoline(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the `Box<Job>` leaked by `launch_on`, handed over exactly once.
    let job = unsafe { Box::from_raw(arg.cast::<Job>()) };
    job();
    0
}

/// A closure running on a worker lcore. Not `Send`: DPDK waits for lcores on the main
/// lcore only.
pub struct Launched<T> {
    lcore: u32,
    main_lcore: u32,
    slot: ResultSlot<T>,
    _main_only: PhantomData<*const ()>,
}

impl<T> std::fmt::Debug for Launched<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Launched")
            .field("lcore", &self.lcore)
            .field("finished", &self.is_finished())
            .finish()
    }
}

impl<T> Launched<T> {
    /// The lcore it runs on.
    pub fn lcore(&self) -> u32 {
        self.lcore
    }

    /// Whether it has returned.
    pub fn is_finished(&self) -> bool {
        self.slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// Waits until it returns (on the main lcore) and gives its result.
    pub fn wait(self) -> Result<T, DpdkError> {
        // SAFETY: reads the calling thread's lcore id (thread-local).
        if unsafe { dpdk_sys::dpdk_sys_lcore_id() } != self.main_lcore {
            return Err(DpdkError::NotMainLcore);
        }
        // SAFETY: `lcore` was launched by this EAL; called on the main lcore as DPDK asks.
        unsafe { dpdk_sys::rte_eal_wait_lcore(self.lcore) };
        let result = self
            .slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match result {
            Some(Ok(value)) => Ok(value),
            Some(Err(payload)) => Err(DpdkError::Panicked {
                lcore: self.lcore,
                message: panic_message(payload.as_ref()),
            }),
            // the trampoline always fills the slot before the lcore returns to WAIT
            None => Err(DpdkError::Panicked {
                lcore: self.lcore,
                message: "it returned no result".to_owned(),
            }),
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-text panic".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn argv_is_the_words_unchanged_after_the_program_name_plus_no_telemetry() {
        let w = words("-l 0,1 --file-prefix=x --vdev=net_tap0,iface=a --huge-unlink");
        let argv = eal_argv(&w);
        assert_eq!(argv[0], PROGRAM);
        assert_eq!(&argv[1..=w.len()], &w[..]);
        assert_eq!(argv.last().map(String::as_str), Some(NO_TELEMETRY));
        assert_eq!(argv.len(), w.len() + 2);
    }

    #[test]
    fn no_telemetry_is_not_doubled_but_overrides_a_later_telemetry() {
        let given = words("--no-pci --no-telemetry");
        assert_eq!(eal_argv(&given).len(), given.len() + 1);
        let asked = words("--no-telemetry --telemetry");
        assert_eq!(
            eal_argv(&asked).last().map(String::as_str),
            Some(NO_TELEMETRY)
        );
        assert_eq!(eal_argv(&asked).len(), asked.len() + 2);
    }

    #[test]
    fn panic_messages_of_both_payload_kinds() {
        assert_eq!(panic_message(&"static"), "static");
        assert_eq!(panic_message(&"owned".to_owned()), "owned");
        assert_eq!(panic_message(&7u8), "a non-text panic");
    }
}
