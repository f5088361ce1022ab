//! The port backend of this run (`--port-backend`): TAP devices read with system calls,
//! or DPDK (cargo feature `dpdk`): the EAL started from the EAL words on the main thread,
//! the port roles planned over the ports DPDK probed, and the worker on an EAL lcore.

use crate::config::{Config, PortBackend};
use crate::worker::WorkerPlace;

/// Why the backend did not start.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// DPDK refused (EAL, a port, the mbuf pool).
    #[cfg(feature = "dpdk")]
    #[error(transparent)]
    Dpdk(#[from] crate::dpdk::DpdkError),
    /// The probed ports do not fit `--pf0`/`--pf1`/`--vf-pattern`/`--sync-tap`.
    #[error(transparent)]
    Ports(#[from] crate::config::ports::PortError),
}

/// The started backend.
#[derive(Debug)]
pub enum Backend {
    /// TAP devices, opened with the packet path.
    Tap,
    /// DPDK, with its EAL initialised on the calling thread.
    #[cfg(feature = "dpdk")]
    Dpdk {
        /// The EAL (this process's only one).
        eal: &'static crate::dpdk::Eal,
    },
}

impl Backend {
    /// Starts the backend `cfg` asks for. Under DPDK: call on the main thread before any
    /// other thread exists (DPDK pins the calling thread to the main lcore, and threads
    /// started later inherit that); the port roles in `cfg` are planned again over the
    /// ports DPDK probed, in DPDK's port-id order.
    pub fn start(cfg: &mut Config) -> Result<Backend, BackendError> {
        match cfg.port_backend {
            PortBackend::Tap => Ok(Backend::Tap),
            #[cfg(feature = "dpdk")]
            PortBackend::Dpdk => {
                let eal = crate::dpdk::Eal::init(&cfg.eal.words)?;
                let probed = crate::port::dpdk::probed(eal)?;
                tracing::info!(
                    ports = probed.len(),
                    lcores = eal.lcore_count(),
                    "DPDK EAL initialised"
                );
                cfg.plan_ports(probed)?;
                Ok(Backend::Dpdk { eal })
            }
            // refused by the configuration already (built without DPDK)
            #[cfg(not(feature = "dpdk"))]
            PortBackend::Dpdk => Ok(Backend::Tap),
        }
    }

    /// Where the worker runs: its own thread, or an EAL worker lcore.
    pub fn worker_place(&self) -> WorkerPlace {
        match self {
            Backend::Tap => WorkerPlace::Thread,
            #[cfg(feature = "dpdk")]
            Backend::Dpdk { eal } => WorkerPlace::Lcore(eal),
        }
    }
}
