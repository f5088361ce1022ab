//! Where the browser's data comes from: the daemon's region (reopened when the daemon
//! restarts, with a message while it is absent) and, for the dataplane screen, its
//! telemetry socket.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use dpservice::instance::Instance;
use dpservice::shm::Region;

use crate::record::{self, open_table, AnyTable, Context, Kind};
use crate::values::monotonic_now_ns;

/// The daemon's state as far as the browser knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Reading the region of the daemon with this pid.
    Attached {
        /// The daemon's pid.
        pid: u32,
        /// Its NUMA socket.
        socket: i32,
    },
    /// No usable region: why, and what to do.
    Unavailable(String),
}

/// Fill of one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableFill {
    /// Which table.
    pub kind: Kind,
    /// Keys stored.
    pub entries: u64,
    /// Capacity.
    pub capacity: u64,
}

/// The region of one instance, reopened whenever the file is replaced.
pub struct RegionSource {
    path: PathBuf,
    instance: Instance,
    region: Option<(Region, u64)>,
    tables: Vec<Box<dyn AnyTable>>,
    /// The current state, for the status line.
    pub connection: Connection,
}

impl std::fmt::Debug for RegionSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegionSource")
            .field("path", &self.path)
            .field("connection", &self.connection)
            .finish()
    }
}

impl RegionSource {
    /// The source of `instance` (not opened yet: call [`refresh`](Self::refresh)).
    pub fn new(instance: &Instance) -> RegionSource {
        RegionSource {
            path: instance.shm_path(),
            instance: instance.clone(),
            region: None,
            tables: Vec::new(),
            connection: Connection::Unavailable("connecting".to_owned()),
        }
    }

    /// Checks the file (a restarted daemon replaces it) and (re)opens it if needed.
    pub fn refresh(&mut self) {
        let inode = std::fs::metadata(&self.path).map(|m| m.ino()).ok();
        let current = self.region.as_ref().map(|(_, ino)| *ino);
        if inode.is_some() && inode == current && self.daemon_alive() {
            return;
        }
        self.region = None;
        self.tables.clear();
        let opened = Region::open_instance(&self.instance);
        match (opened, inode) {
            (Ok(region), Some(_)) if !pid_alive(region.creator_pid()) => {
                self.connection = Connection::Unavailable(format!(
                    "dpservice-bin (pid {}) is not running any more (it left its tables behind); waiting for it to restart",
                    region.creator_pid()
                ));
            }
            (Ok(region), Some(ino)) => {
                self.tables = Kind::ALL
                    .into_iter()
                    .filter_map(|k| open_table(&region, k).ok())
                    .collect();
                self.connection = Connection::Attached {
                    pid: region.creator_pid(),
                    socket: region.numa_socket(),
                };
                self.region = Some((region, ino));
            }
            (Ok(_), None) => {
                self.connection = Connection::Unavailable("the daemon went away".to_owned())
            }
            (Err(e), _) => {
                let was_attached = current.is_some();
                self.connection = Connection::Unavailable(if was_attached {
                    format!("the daemon stopped: {e}")
                } else {
                    e.to_string()
                });
            }
        }
    }

    fn daemon_alive(&self) -> bool {
        match self.connection {
            Connection::Attached { pid, .. } => pid_alive(pid),
            Connection::Unavailable(_) => false,
        }
    }

    /// Every table's fill.
    pub fn fills(&self) -> Vec<TableFill> {
        self.tables
            .iter()
            .map(|t| TableFill {
                kind: t.kind(),
                entries: t.len() as u64,
                capacity: t.capacity() as u64,
            })
            .collect()
    }

    /// The reader of `kind`'s table, when attached.
    pub fn table(&self, kind: Kind) -> Option<&dyn AnyTable> {
        self.tables
            .iter()
            .find(|t| t.kind() == kind)
            .map(|t| t.as_ref())
    }

    /// The decoding context now (ages, interface names).
    pub fn context(&self) -> Context {
        Context {
            now_ns: monotonic_now_ns(),
            port_names: self
                .region
                .as_ref()
                .map(|(r, _)| record::port_names(r))
                .unwrap_or_default(),
        }
    }
}

/// Whether process `pid` exists (a daemon killed with SIGKILL leaves its region).
fn pid_alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}
