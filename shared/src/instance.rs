//! Naming of a daemon instance (ARCHITECTURE.md principle 8).
//!
//! Everything a tool needs to find a running daemon derives from its DPDK-style file
//! prefix: the runtime directory, the telemetry socket and the shared-memory region. The
//! daemon gets the prefix from its `--file-prefix` EAL argument; the tools from
//! `--file-prefix`, else `DP_FILE_PREFIX`, else `rte`.

use std::path::PathBuf;

/// DPDK's default file prefix.
pub const DEFAULT_FILE_PREFIX: &str = "rte";

/// Environment variable the tools read when `--file-prefix` is not given.
pub const FILE_PREFIX_ENV: &str = "DP_FILE_PREFIX";

/// Longest accepted prefix (upstream's tools refuse longer ones).
pub const MAX_FILE_PREFIX_LEN: usize = 31;

/// Why a file prefix was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilePrefixError {
    /// Longer than upstream accepts.
    #[error("file prefix '{0}' is longer than {MAX_FILE_PREFIX_LEN} characters")]
    TooLong(String),
    /// Would escape the runtime directory.
    #[error("file prefix '{0}' must not contain '/' or be '.' or '..'")]
    NotAName(String),
}

/// `--file-prefix`, as every tool takes it (tools.md §0.1): flatten it into the tool's
/// clap arguments and resolve it with [`InstanceArgs::instance`].
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct InstanceArgs {
    /// Daemon instance to attach to (default: $DP_FILE_PREFIX, else "rte")
    #[arg(long, value_name = "PREFIX", add = crate::completion::running_instances())]
    pub file_prefix: Option<String>,
}

impl InstanceArgs {
    /// The instance named by the option, else by `DP_FILE_PREFIX`, else `rte`.
    pub fn instance(&self) -> Result<Instance, FilePrefixError> {
        Instance::for_tool(self.file_prefix.as_deref())
    }
}

/// A validated instance name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    prefix: String,
}

impl Instance {
    /// Validates a prefix; an empty one means the default.
    pub fn new(prefix: &str) -> Result<Instance, FilePrefixError> {
        let prefix = if prefix.is_empty() {
            DEFAULT_FILE_PREFIX
        } else {
            prefix
        };
        if prefix.len() > MAX_FILE_PREFIX_LEN {
            return Err(FilePrefixError::TooLong(prefix.to_owned()));
        }
        if prefix.contains('/') || prefix == "." || prefix == ".." || prefix.contains('\0') {
            return Err(FilePrefixError::NotAName(prefix.to_owned()));
        }
        Ok(Instance {
            prefix: prefix.to_owned(),
        })
    }

    /// The tools' rule: the option if given and non-empty, else `DP_FILE_PREFIX`, else `rte`.
    pub fn for_tool(option: Option<&str>) -> Result<Instance, FilePrefixError> {
        match option.filter(|p| !p.is_empty()) {
            Some(p) => Instance::new(p),
            None => Instance::new(&std::env::var(FILE_PREFIX_ENV).unwrap_or_default()),
        }
    }

    /// The prefix itself.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Runtime directory, `/var/run/dpdk/<prefix>` as DPDK uses for root.
    pub fn runtime_dir(&self) -> PathBuf {
        PathBuf::from("/var/run/dpdk").join(&self.prefix)
    }

    /// The DPDK v2 telemetry socket.
    pub fn telemetry_socket(&self) -> PathBuf {
        self.runtime_dir().join("dpdk_telemetry.v2")
    }

    /// The shared-memory region holding the state tables and mirror rings.
    pub fn shm_path(&self) -> PathBuf {
        PathBuf::from("/dev/shm").join(format!("dpservice_{}", self.prefix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_derive_from_prefix() -> Result<(), FilePrefixError> {
        let i = Instance::new("hatest")?;
        assert_eq!(i.runtime_dir(), PathBuf::from("/var/run/dpdk/hatest"));
        assert_eq!(
            i.telemetry_socket(),
            PathBuf::from("/var/run/dpdk/hatest/dpdk_telemetry.v2")
        );
        assert_eq!(Instance::new("")?.prefix(), "rte");
        Ok(())
    }

    #[test]
    fn bad_prefixes_are_refused() {
        assert!(matches!(
            Instance::new(&"x".repeat(32)),
            Err(FilePrefixError::TooLong(_))
        ));
        assert!(Instance::new(&"x".repeat(31)).is_ok());
        assert!(matches!(
            Instance::new("../etc"),
            Err(FilePrefixError::NotAName(_))
        ));
        assert!(matches!(
            Instance::new(".."),
            Err(FilePrefixError::NotAName(_))
        ));
    }
}
