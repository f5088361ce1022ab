//! The shared-memory region of a daemon instance and the one table engine every state
//! table uses (ARCHITECTURE.md "State", principle 3).
//!
//! - [`region`]: the file at `Instance::shm_path()`: created by the daemon
//!   ([`RegionBuilder`] → [`WritableRegion`]), opened read-only and validated by tools
//!   ([`Region::open`], [`Region::open_instance`]);
//! - [`table`]: [`TableWriter`] (exactly one per table) and [`TableReader`] (any number,
//!   any process), lock-free for the writer;
//! - [`catalogue`]: the tables of dataplane.md §18 with their typed keys and values;
//! - [`header`]: the byte layout of the header and table directory;
//! - `engine`, `seqlock`: the hash table over atomic words and its reader/writer
//!   protocol, checked with loom;
//! - [`mirror`]: the mirror rings of graph tracing (`dpservice-dump`);
//! - [`pages`]: huge pages for a writable region where the host offers them, and
//!   pre-faulting its memory at start-up;
//! - `raw`: mmap and the word view of a mapping, the only `unsafe` code of the crate.

pub mod catalogue;
mod engine;
pub mod header;
pub mod mirror;
pub mod pages;
#[allow(unsafe_code)]
mod raw;
pub mod region;
mod seqlock;
pub mod table;

pub use engine::ReadError;
pub use region::{
    CreateError, LayoutError, OpenError, Prefaulter, Region, RegionBuilder, RegionCreateError,
    TableStats, WritableRegion,
};
pub use table::{InsertError, Iter, TableError, TableReader, TableWriter};

/// Unique region paths under /dev/shm for tests, removed when dropped.
#[cfg(test)]
pub(crate) mod test_support {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A fresh path; the file (if any) is removed on drop.
    #[derive(Debug)]
    pub(crate) struct ShmPath(pub(crate) PathBuf);

    impl ShmPath {
        pub(crate) fn new(tag: &str) -> ShmPath {
            static NEXT: AtomicU32 = AtomicU32::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            ShmPath(PathBuf::from(format!(
                "/dev/shm/dpservice_test_{tag}_{}_{n}",
                std::process::id()
            )))
        }
    }

    impl Drop for ShmPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}
