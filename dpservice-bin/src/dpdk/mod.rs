//! The safe wrapper over DPDK (`dpdk-sys`), built with the cargo feature `dpdk`.
//!
//! The only module of the daemon that calls DPDK; every `unsafe` block says why it is
//! sound. What it offers:
//! - [`eal`]: the EAL, initialised once per process from the EAL words of the command
//!   line exactly as given, and closures launched on EAL worker lcores;
//! - [`mempool`]: pools of mbufs whose private area (our part of the buffer header) has a
//!   chosen size;
//! - [`mbuf`]: an owned mbuf (freed on drop), its data, headroom and private area;
//! - [`ethdev`]: ports by name or interface, configured as upstream configures them, link
//!   state without waiting, link up/down, counters, and rx/tx queues for bursts;
//! - [`packet`]: mbufs as the graph's packet buffers (the mbuf is the header's descriptor,
//!   our part of it is in the private area), bursts of them, and the pool's mbuf source;
//! - [`tsc`]: the time-stamp counter, the graph's cycle clock under DPDK.
//!
//! # Telemetry
//! The daemon keeps its own telemetry socket at DPDK's path
//! (`/var/run/dpdk/<prefix>/dpdk_telemetry.v2`): it already speaks DPDK's v2 protocol,
//! answers the commands the exporter and `dpdk-telemetry.py` use, and works the same under
//! every port backend. DPDK's own telemetry thread would bind the same path, so
//! [`eal::eal_argv`] appends `--no-telemetry` to the EAL words (after a `--telemetry`
//! the user gave, so ours wins). Registering our commands in DPDK's socket instead would
//! tie the answers to the DPDK backend and need callbacks from DPDK's thread into the
//! daemon's state.

#![allow(unsafe_code)]

pub mod eal;
pub mod ethdev;
pub mod mbuf;
pub mod mempool;
pub mod packet;
pub mod tsc;

use std::ffi::CStr;

pub use eal::{Eal, Launched};
pub use ethdev::{DevInfo, EthDev, EthPort, EthStats, Link, PortSetup, Queues, RxQueue, TxQueue};
pub use mbuf::Mbuf;
pub use mempool::{MbufPool, PoolConfig};

/// What went wrong in a DPDK call; the messages carry DPDK's own reason
/// (`rte_strerror`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DpdkError {
    /// `rte_eal_init` was already attempted in this process (DPDK allows one).
    #[error("DPDK's EAL was already initialised in this process (it can be once per process)")]
    EalAlreadyInitialised,
    /// `rte_eal_init` failed.
    #[error("DPDK EAL initialisation failed: {reason} (check the EAL options before '--': without hugepages add --no-huge -m <MiB>; without PCI devices add --no-pci; DPDK's own lines on stderr say more)")]
    EalInit {
        /// `rte_strerror(rte_errno)`.
        reason: String,
    },
    /// A word for DPDK holds a NUL byte (cannot be a C string).
    #[error("EAL argument {0:?} contains a NUL byte")]
    NulInArgument(String),
    /// No ethdev of that name.
    #[error("no DPDK port named '{0}' (ports come from --vdev and -a/PCI addresses before '--')")]
    NoSuchPort(String),
    /// An ethdev call failed.
    #[error("DPDK port {port}: {what} failed: {reason}")]
    Port {
        /// Port id.
        port: u16,
        /// The operation.
        what: &'static str,
        /// DPDK's reason.
        reason: String,
    },
    /// The port is already owned by another [`EthDev`].
    #[error("DPDK port {0} is already taken by another user in this process")]
    PortTaken(u16),
    /// A burst on a port that is not started.
    #[error("DPDK port {0} is not configured with that setup: {1}")]
    BadSetup(u16, String),
    /// `rte_pktmbuf_pool_create` failed.
    #[error("cannot create the mbuf pool '{name}' of {size} mbufs: {reason} (give the EAL more memory with -m, or use hugepages)")]
    Mempool {
        /// Pool name.
        name: String,
        /// Requested mbufs.
        size: u32,
        /// DPDK's reason.
        reason: String,
    },
    /// The private area must be a multiple of `RTE_MBUF_PRIV_ALIGN`.
    #[error("mbuf private area of {0} bytes is not a multiple of {align}", align = dpdk_sys::RTE_MBUF_PRIV_ALIGN)]
    PrivSize(u16),
    /// The pool's mbufs cannot be packet buffers.
    #[error(transparent)]
    Packet(#[from] packet::PacketError),
    /// No worker lcore is free to launch on.
    #[error("no free EAL worker lcore (give the EAL at least two cores, e.g. -l 0,1)")]
    NoWorkerLcore,
    /// Launching on that lcore was refused.
    #[error("cannot launch on lcore {lcore}: {reason}")]
    Launch {
        /// The lcore.
        lcore: u32,
        /// DPDK's reason.
        reason: String,
    },
    /// Launch and wait belong to the main lcore (DPDK's rule).
    #[error("EAL lcores are launched and waited for by the main lcore only (the thread that initialised the EAL)")]
    NotMainLcore,
    /// The function launched on an lcore panicked.
    #[error("the function running on lcore {lcore} panicked: {message}")]
    Panicked {
        /// The lcore.
        lcore: u32,
        /// The panic message.
        message: String,
    },
}

/// `rte_strerror` of `code` (an errno, positive or negative) with its number.
pub(crate) fn strerror(code: i32) -> String {
    let code = code.abs();
    // SAFETY: rte_strerror returns a pointer to a static or thread-local NUL-terminated
    // string that stays valid until the next call on this thread; it is copied at once.
    let text = unsafe { CStr::from_ptr(dpdk_sys::rte_strerror(code)) };
    format!("{} (errno {code})", text.to_string_lossy())
}

/// `rte_strerror(rte_errno)` of the calling thread.
pub(crate) fn last_error() -> String {
    // SAFETY: reads the calling thread's rte_errno (a thread-local int); no arguments.
    strerror(unsafe { dpdk_sys::dpdk_sys_errno() })
}
