//! The instance's runtime directory, `/var/run/dpdk/<file-prefix>/` (principle 8).
//!
//! It holds the telemetry socket (and, as with DPDK, a `config` file whose lock says
//! that a primary process owns this prefix). Created at start-up, emptied of what a
//! killed predecessor left behind, and removed at exit.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use rustix::fs::{flock, FlockOperation};

/// The lock file inside the directory (DPDK's name for it).
pub const LOCK_FILE: &str = "config";

/// Why the runtime directory is unusable.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeDirError {
    /// Cannot create or use it.
    #[error("cannot create the runtime directory {path}: {source}")]
    Create {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Another daemon runs with this prefix.
    #[error("another dpservice (or DPDK primary process) is running with --file-prefix={prefix} (it holds {path}); choose another --file-prefix")]
    InUse {
        /// The instance name.
        prefix: String,
        /// The locked file.
        path: PathBuf,
    },
}

/// The runtime directory, owned while this value lives.
#[derive(Debug)]
pub struct RuntimeDir {
    path: PathBuf,
    _lock: File,
}

impl RuntimeDir {
    /// Creates (or takes over a stale) `dir` for the instance `prefix`.
    pub fn create(dir: &Path, prefix: &str) -> Result<RuntimeDir, RuntimeDirError> {
        let err = |source| RuntimeDirError::Create {
            path: dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(err)?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(err)?;
        match flock(&lock, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => {
                return Err(RuntimeDirError::InUse {
                    prefix: prefix.to_owned(),
                    path: lock_path,
                })
            }
            Err(e) => return Err(err(e.into())),
        }
        // leftovers of a killed predecessor (a stale telemetry socket would block bind)
        for entry in std::fs::read_dir(dir).map_err(err)? {
            let entry = entry.map_err(err)?;
            if entry.file_name() == LOCK_FILE {
                continue;
            }
            let path = entry.path();
            let removed = if entry.file_type().map_err(err)?.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.map_err(err)?;
        }
        Ok(RuntimeDir {
            path: dir.to_owned(),
            _lock: lock,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RuntimeDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            tracing::warn!(path = %self.path.display(), error = %e, "Cannot remove the runtime directory");
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("dpservice-rt-{}-{name}", std::process::id()))
    }

    #[test]
    fn created_exclusive_and_removed() {
        let path = dir("excl");
        let rt = RuntimeDir::create(&path, "excl").unwrap();
        assert!(path.join(LOCK_FILE).exists());
        match RuntimeDir::create(&path, "excl") {
            Err(RuntimeDirError::InUse { prefix, .. }) => assert_eq!(prefix, "excl"),
            other => panic!("{other:?}"),
        }
        drop(rt);
        assert!(!path.exists());
    }

    #[test]
    fn stale_contents_are_cleared() {
        let path = dir("stale");
        std::fs::create_dir_all(path.join("sub")).unwrap();
        std::fs::write(path.join("dpdk_telemetry.v2"), b"").unwrap();
        std::fs::write(path.join(LOCK_FILE), b"").unwrap();
        let rt = RuntimeDir::create(&path, "stale").unwrap();
        let left: Vec<_> = std::fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from(LOCK_FILE)]);
        drop(rt);
        assert!(!path.exists());
    }
}
