//! Panics as log lines. The default hook writes to stderr, outside the log format and
//! without saying what the panic means for the daemon; this one logs one error line with
//! the thread, the message and where it happened. A panic on the `worker` thread ends the
//! daemon (`worker.rs`), and the line says so.

use std::any::Any;
use std::panic::PanicHookInfo;

/// The panic payload as text (`panic!` gives `&str` or `String`).
pub fn panic_text(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Installs the hook for every thread of the process (after logging is set up).
pub fn install() {
    std::panic::set_hook(Box::new(log_panic));
}

fn log_panic(info: &PanicHookInfo<'_>) {
    let thread = std::thread::current();
    // an EAL lcore (the worker under DPDK) has no std name, only the one logging knows
    let name = crate::logging::given_thread_name()
        .or(thread.name())
        .unwrap_or("control");
    let msg = panic_text(info.payload());
    let location = info
        .location()
        .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
        .unwrap_or_else(|| "unknown".to_owned());
    if name == "worker" {
        tracing::error!(
            panic = msg.as_str(),
            location = location.as_str(),
            "The dataplane worker thread panicked; the daemon stops"
        );
    } else {
        tracing::error!(
            thread = name,
            panic = msg.as_str(),
            location = location.as_str(),
            "A thread panicked"
        );
    }
}
