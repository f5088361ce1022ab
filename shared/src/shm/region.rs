//! The region file: created by the daemon (`RegionBuilder` → `WritableRegion`), opened
//! read-only by tools (`Region::open`).
//!
//! The daemon lays out all tables at start, writes the header into a fresh file created
//! exclusively under a temporary name in the same directory (mode 0600, sized sparsely
//! with `ftruncate`: untouched pages cost nothing, and all-zero tables are empty), then
//! renames it over the final path (which also replaces a crashed daemon's leftover).
//! The file is removed again when the `WritableRegion` is dropped. Only one daemon per
//! path may exist; the caller guarantees it (it holds the instance lock).
//!
//! A writable mapping asks for huge pages before anything touches it, and may be
//! pre-faulted whole (`super::pages`); neither changes the file's path or layout.

use std::fs::File;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::header::{
    self, HeaderError, RegionHeader, TableDirEntry, TableInfo, FIRST_AREA, HEADER_BYTES,
    LAYOUT_VERSION, MAGIC, MAX_NAME_LEN, MAX_TABLES, PAGE,
};
use super::pages::{self, Backing, MemoryReport, HUGE_PAGE};
use super::raw::{MapError, Mapping};
use crate::instance::Instance;

/// Why a table could not be declared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// Name empty, too long or with a NUL.
    #[error("table name '{0}' must be 1 to {MAX_NAME_LEN} bytes without NUL")]
    BadName(String),
    /// Declared twice.
    #[error("table '{0}' is declared twice")]
    Duplicate(String),
    /// Directory full.
    #[error("at most {MAX_TABLES} tables fit in a region")]
    TooManyTables,
    /// Capacity 0 or beyond what entry indices hold.
    #[error("table '{0}': capacity must be 1 to {max}", max = u32::MAX - 1)]
    BadCapacity(String),
    /// Bucket count not a power of two.
    #[error("table '{0}': the bucket count must be a power of two")]
    BadBuckets(String),
    /// Key or value wider than the engine supports.
    #[error("table '{0}': keys may be at most {max} bytes and values at most {vmax}", max = super::table::MAX_KEY_BYTES, vmax = u32::MAX)]
    TooWide(String),
    /// Ring count, slot count or snap length out of range.
    #[error(
        "ring set '{0}': 1 to 64 rings of a power of two slots, snap length 64 to 65535 bytes"
    )]
    BadRings(String),
    /// The region would not fit the address space.
    #[error("the region would be larger than this machine can map")]
    TooLarge,
}

/// Why the region file could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// File system error (directory missing, no space, permissions).
    #[error("cannot create the shared-memory region {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// mmap failed.
    #[error("cannot map the shared-memory region {path}: {source}")]
    Map {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: MapError,
    },
}

/// Why a tool could not open a region.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// No daemon under this prefix.
    #[error("no dpservice-bin is running with --file-prefix={prefix} (no {path}); start it, or pass the --file-prefix it runs with")]
    NotRunning {
        /// The instance's prefix.
        prefix: String,
        /// The region path.
        path: PathBuf,
    },
    /// No file at an explicit path.
    #[error("no shared-memory region at {0}: is dpservice-bin running?")]
    Absent(PathBuf),
    /// Not allowed to read it.
    #[error("cannot read {0}: permission denied (the region is readable by the daemon's user only; run as that user or root)")]
    PermissionDenied(PathBuf),
    /// Other I/O error.
    #[error("cannot open {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// mmap failed.
    #[error("cannot map {path}: {source}")]
    Map {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: MapError,
    },
    /// Another release's layout.
    #[error("{path} has shared-memory layout version {found}, this tool understands version {expected}: use the tools of the same dpservice release as the running daemon")]
    Version {
        /// The file.
        path: PathBuf,
        /// In the file.
        found: u32,
        /// Ours.
        expected: u32,
    },
    /// Truncated, bad magic or inconsistent.
    #[error(
        "{path} is not a usable dpservice region: {problem}; restart the daemon to recreate it"
    )]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: HeaderError,
    },
}

/// A table declared on a builder.
#[derive(Debug, Clone)]
struct Declared {
    name: String,
    capacity: u64,
    bucket_count: u64,
    key_size: u32,
    value_size: u32,
    /// `header::KIND_TABLE` or `header::KIND_RINGS`.
    kind: u32,
}

/// Declares the tables of a region and creates the file.
#[derive(Debug, Clone)]
pub struct RegionBuilder {
    tables: Vec<Declared>,
    numa_socket: i32,
    hash_seed: Option<u64>,
    prefault: bool,
}

impl Default for RegionBuilder {
    fn default() -> Self {
        RegionBuilder::new()
    }
}

impl RegionBuilder {
    /// No tables yet, NUMA socket -1, a random hash seed.
    pub fn new() -> RegionBuilder {
        RegionBuilder {
            tables: Vec::new(),
            numa_socket: -1,
            hash_seed: None,
            prefault: false,
        }
    }

    /// Faults all of the region's memory in when it is created (benchmarks), so first
    /// stores into the tables, the first packets of new flows, take no page fault; costs
    /// the whole size in memory from the start. Off by default: a test's region stays
    /// sparse. The daemon uses [`WritableRegion::prefaulter`] instead, on a thread of its
    /// own, so that faulting in hundreds of MiB of 4 KiB pages does not delay its start.
    pub fn prefault(mut self, prefault: bool) -> RegionBuilder {
        self.prefault = prefault;
        self
    }

    /// Records the NUMA socket of the tables (-1 unknown).
    pub fn numa_socket(mut self, socket: i32) -> RegionBuilder {
        self.numa_socket = socket;
        self
    }

    /// Fixes the hash seed (tests, golden layouts); by default each region gets a random
    /// one, so guests cannot predict which of their flows share a bucket.
    pub fn hash_seed(mut self, seed: u64) -> RegionBuilder {
        self.hash_seed = Some(seed);
        self
    }

    /// Declares table `name` of `capacity` entries of `K` → `V`, with the next power of
    /// two ≥ capacity as bucket count.
    pub fn table<K: bytemuck::Pod, V: bytemuck::Pod>(
        &mut self,
        name: &str,
        capacity: u64,
    ) -> Result<&mut RegionBuilder, LayoutError> {
        let buckets = capacity
            .max(1)
            .checked_next_power_of_two()
            .ok_or(LayoutError::TooLarge)?;
        self.table_with_buckets::<K, V>(name, capacity, buckets)
    }

    /// Like [`RegionBuilder::table`] with an explicit bucket count (a power of two).
    pub fn table_with_buckets<K: bytemuck::Pod, V: bytemuck::Pod>(
        &mut self,
        name: &str,
        capacity: u64,
        bucket_count: u64,
    ) -> Result<&mut RegionBuilder, LayoutError> {
        if name.is_empty() || name.len() > MAX_NAME_LEN || name.contains('\0') {
            return Err(LayoutError::BadName(name.to_owned()));
        }
        if self.tables.iter().any(|t| t.name == name) {
            return Err(LayoutError::Duplicate(name.to_owned()));
        }
        if self.tables.len() >= MAX_TABLES {
            return Err(LayoutError::TooManyTables);
        }
        if capacity == 0 || capacity >= u64::from(u32::MAX) {
            return Err(LayoutError::BadCapacity(name.to_owned()));
        }
        if !bucket_count.is_power_of_two() || bucket_count >= 1 << 40 {
            return Err(LayoutError::BadBuckets(name.to_owned()));
        }
        let key_size = size_of::<K>();
        let value_size =
            u32::try_from(size_of::<V>()).map_err(|_| LayoutError::TooWide(name.to_owned()))?;
        if key_size > super::table::MAX_KEY_BYTES {
            return Err(LayoutError::TooWide(name.to_owned()));
        }
        self.tables.push(Declared {
            name: name.to_owned(),
            capacity,
            bucket_count,
            key_size: key_size as u32,
            value_size,
            kind: header::KIND_TABLE,
        });
        Ok(self)
    }

    /// Declares a set of mirror rings (graph tracing, `super::mirror`) named `name`.
    pub fn mirror_rings(
        &mut self,
        name: &str,
        geometry: super::mirror::RingGeometry,
    ) -> Result<&mut RegionBuilder, LayoutError> {
        if name.is_empty() || name.len() > MAX_NAME_LEN || name.contains('\0') {
            return Err(LayoutError::BadName(name.to_owned()));
        }
        if self.tables.iter().any(|t| t.name == name) {
            return Err(LayoutError::Duplicate(name.to_owned()));
        }
        if self.tables.len() >= MAX_TABLES {
            return Err(LayoutError::TooManyTables);
        }
        geometry
            .check()
            .map_err(|_| LayoutError::BadRings(name.to_owned()))?;
        self.tables.push(Declared {
            name: name.to_owned(),
            capacity: geometry.slots,
            bucket_count: geometry.rings as u64,
            key_size: u32::try_from(geometry.snap_len)
                .map_err(|_| LayoutError::BadRings(name.to_owned()))?,
            value_size: 0,
            kind: header::KIND_RINGS,
        });
        Ok(self)
    }

    /// The header and directory bytes of the layout, and the total size.
    fn layout(&self, seed: u64, pid: u32) -> Result<(Vec<u8>, u64), LayoutError> {
        let mut offset = FIRST_AREA;
        let mut bytes = vec![0u8; HEADER_BYTES];
        for (slot, t) in self.tables.iter().enumerate() {
            let (wpe, size) = if t.kind == header::KIND_RINGS {
                let g = super::mirror::RingGeometry {
                    rings: t.bucket_count as usize,
                    slots: t.capacity,
                    snap_len: t.key_size as usize,
                };
                let size = g
                    .area_bytes()
                    .and_then(|b| b.checked_next_multiple_of(PAGE))
                    .ok_or(LayoutError::TooLarge)?;
                (g.slot_words() as u64, size)
            } else {
                let wpe = header::ENTRY_META_WORDS
                    + header::words_for(u64::from(t.key_size))
                    + header::words_for(u64::from(t.value_size));
                let size = t
                    .capacity
                    .checked_mul(wpe)
                    .and_then(|w| w.checked_add(header::head_words(t.bucket_count)))
                    .and_then(|w| w.checked_mul(8))
                    .and_then(|b| b.checked_next_multiple_of(PAGE))
                    .ok_or(LayoutError::TooLarge)?;
                (wpe, size)
            };
            let mut name = [0u8; 32];
            name[..t.name.len()].copy_from_slice(t.name.as_bytes());
            let entry = TableDirEntry {
                name,
                capacity: t.capacity,
                bucket_count: t.bucket_count,
                key_size: t.key_size,
                value_size: t.value_size,
                words_per_entry: u32::try_from(wpe).map_err(|_| LayoutError::TooLarge)?,
                kind: t.kind,
                offset,
                size,
                entries: 0,
                insert_failures: 0,
                high_water: 0,
                reserved: [0; 24],
            };
            let at = header::dir_entry_offset(slot);
            bytes[at..at + size_of::<TableDirEntry>()].copy_from_slice(bytemuck::bytes_of(&entry));
            offset = offset.checked_add(size).ok_or(LayoutError::TooLarge)?;
        }
        let head = RegionHeader {
            magic: MAGIC,
            layout_version: LAYOUT_VERSION,
            table_count: self.tables.len() as u32,
            total_size: offset,
            creator_pid: pid,
            numa_socket: self.numa_socket,
            hash_seed: seed,
            reserved: [0; 24],
        };
        bytes[..size_of::<RegionHeader>()].copy_from_slice(bytemuck::bytes_of(&head));
        usize::try_from(offset).map_err(|_| LayoutError::TooLarge)?;
        Ok((bytes, offset))
    }

    /// Creates the region file at `path` (replacing any leftover) and maps it
    /// read-write.
    pub fn create(&self, path: &Path) -> Result<WritableRegion, RegionCreateError> {
        let seed = self.hash_seed.unwrap_or_else(random_seed);
        let (bytes, total) = self.layout(seed, std::process::id())?;
        let io = |source| CreateError::Io {
            path: path.to_owned(),
            source,
        };
        let file_name = path
            .file_name()
            .ok_or_else(|| io(std::io::ErrorKind::InvalidInput.into()))?
            .to_string_lossy()
            .into_owned();
        let temp = path.with_file_name(format!(
            ".{file_name}.{}.{:x}.tmp",
            std::process::id(),
            seed
        ));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)
            .map_err(io)?;
        let result = (|| {
            file.set_len(total).map_err(io)?;
            let map = Mapping::map(&file, total, true).map_err(|source| CreateError::Map {
                path: path.to_owned(),
                source,
            })?;
            let memory = self.set_up_pages(&map, Backing::Shmem);
            write_header(&map, &bytes);
            std::fs::rename(&temp, path).map_err(io)?;
            Ok((map, memory))
        })();
        let (map, memory) = match result {
            Ok(map) => map,
            Err(e) => {
                let _ = std::fs::remove_file(&temp);
                return Err(RegionCreateError::Create(e));
            }
        };
        let (header, tables) = header::parse(&bytes, total)
            .map_err(|e| RegionCreateError::Create(io(std::io::Error::other(e.to_string()))))?;
        let shared = Arc::new(Shared {
            map,
            header,
            taken: tables.iter().map(|_| AtomicBool::new(false)).collect(),
            tables,
        });
        Ok(WritableRegion {
            shared,
            path: path.to_owned(),
            file,
            memory,
        })
    }
}

impl RegionBuilder {
    /// Huge pages asked for and, if so declared, the memory faulted in: on a fresh
    /// mapping, before the header's stores (pages touched earlier stay small).
    fn set_up_pages(&self, map: &Mapping, backing: Backing) -> MemoryReport {
        pages::advise(map, backing);
        let prefault_time = self.prefault.then(|| pages::populate(map));
        pages::report(map, backing, prefault_time)
    }
}

/// Stores the header and directory `bytes` at the start of a fresh mapping.
fn write_header(map: &Mapping, bytes: &[u8]) {
    if let Some(words) = map.atomic_words() {
        for (word, chunk) in words.iter().zip(bytes.chunks_exact(8)) {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            word.store(u64::from_ne_bytes(w), Ordering::Relaxed);
        }
    }
}

/// A private region's memory file mapped: reserved hugetlb pages when the host has
/// enough free (the mapping, and the file, rounded up to whole 2 MiB pages), else a plain
/// memfd.
fn private_memory(total: u64) -> std::io::Result<(File, Mapping, Backing)> {
    use rustix::fs::{memfd_create, MemfdFlags};
    let huge = total.checked_next_multiple_of(HUGE_PAGE).and_then(|len| {
        let fd = memfd_create(
            "dpservice_private",
            MemfdFlags::CLOEXEC | MemfdFlags::HUGETLB | MemfdFlags::HUGE_2MB,
        )
        .ok()?;
        let file = File::from(fd);
        file.set_len(len).ok()?;
        // a shared hugetlb mapping reserves its pages here: ENOMEM when too few are free
        let map = Mapping::map(&file, len, true).ok()?;
        Some((file, map, Backing::HugeTlb))
    });
    if let Some(found) = huge {
        return Ok(found);
    }
    let file = File::from(memfd_create("dpservice_private", MemfdFlags::CLOEXEC)?);
    file.set_len(total)?;
    let map = Mapping::map(&file, total, true).map_err(std::io::Error::other)?;
    Ok((file, map, Backing::Shmem))
}

impl RegionBuilder {
    /// Creates a region that no other process can open (an anonymous memory file): the
    /// tables of a graph that runs without a daemon (tests, benchmarks). Nothing to
    /// remove afterwards.
    pub fn create_private(&self) -> Result<WritableRegion, RegionCreateError> {
        let seed = self.hash_seed.unwrap_or_else(random_seed);
        let (bytes, total) = self.layout(seed, std::process::id())?;
        let path = PathBuf::from("(private region)");
        let io = |source| CreateError::Io {
            path: path.clone(),
            source,
        };
        let (file, map, backing) = private_memory(total).map_err(io)?;
        let memory = self.set_up_pages(&map, backing);
        write_header(&map, &bytes);
        let (header, tables) = header::parse(&bytes, total)
            .map_err(|e| RegionCreateError::Create(io(std::io::Error::other(e.to_string()))))?;
        let shared = Arc::new(Shared {
            map,
            header,
            taken: tables.iter().map(|_| AtomicBool::new(false)).collect(),
            tables,
        });
        Ok(WritableRegion {
            shared,
            path,
            file,
            memory,
        })
    }
}

/// Why [`RegionBuilder::create`] failed.
#[derive(Debug, thiserror::Error)]
pub enum RegionCreateError {
    /// The declared layout is impossible.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// The file could not be made.
    #[error(transparent)]
    Create(#[from] CreateError),
}

fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = foldhash::fast::RandomState::default().build_hasher();
    h.write_u32(std::process::id());
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    h.finish()
}

/// What a region's tables share: the mapping and the validated directory.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) map: Mapping,
    pub(crate) header: RegionHeader,
    pub(crate) tables: Vec<TableInfo>,
    /// Per table: a writer exists (writable regions only).
    pub(crate) taken: Vec<AtomicBool>,
}

impl Shared {
    /// The hash table `name` (not a ring set of that name).
    pub(crate) fn info(&self, name: &str) -> Option<&TableInfo> {
        self.tables
            .iter()
            .find(|t| t.name == name && t.kind == header::KIND_TABLE)
    }
}

/// The daemon's read-write region; removes the file when dropped.
#[derive(Debug)]
pub struct WritableRegion {
    shared: Arc<Shared>,
    path: PathBuf,
    file: File,
    memory: MemoryReport,
}

impl WritableRegion {
    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Which pages back the region and how long pre-faulting took (start-up log).
    pub fn memory(&self) -> &MemoryReport {
        &self.memory
    }

    /// Something that faults the region's memory in when run, on any thread, while the
    /// region is in use (no contents change).
    pub fn prefaulter(&self) -> Prefaulter {
        Prefaulter {
            shared: Arc::clone(&self.shared),
            backing: self.memory.backing,
        }
    }

    /// A reader's view of the same memory (in-process readers: gRPC, telemetry).
    pub fn region(&self) -> Region {
        Region {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The one writer of table `name`; refused while another writer of it exists.
    pub fn writer<K: bytemuck::Pod + Eq, V: bytemuck::Pod>(
        &self,
        name: &str,
    ) -> Result<super::table::TableWriter<K, V>, super::table::TableError> {
        super::table::TableWriter::attach(Arc::clone(&self.shared), name)
    }
}

impl Drop for WritableRegion {
    fn drop(&mut self) {
        // Remove the file only if the path still names our file: never a successor's.
        let ours = match (std::fs::metadata(&self.path), self.file.metadata()) {
            (Ok(at_path), Ok(mine)) => at_path.dev() == mine.dev() && at_path.ino() == mine.ino(),
            _ => false,
        };
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Faults a writable region's memory in ([`WritableRegion::prefaulter`]).
#[derive(Debug)]
pub struct Prefaulter {
    shared: Arc<Shared>,
    backing: Backing,
}

impl Prefaulter {
    /// Faults every page in (`MADV_POPULATE_WRITE`, or a store into each page on old
    /// kernels) and says which pages back the region now.
    pub fn run(self) -> MemoryReport {
        let time = pages::populate(&self.shared.map);
        pages::report(&self.shared.map, self.backing, Some(time))
    }
}

/// A region opened for reading (a tool, or an in-process reader of the daemon).
#[derive(Debug, Clone)]
pub struct Region {
    shared: Arc<Shared>,
}

impl Region {
    /// Opens the region of a daemon instance (`Instance::shm_path`).
    pub fn open_instance(instance: &Instance) -> Result<Region, OpenError> {
        let path = instance.shm_path();
        match Region::open(&path) {
            Err(OpenError::Absent(path)) => Err(OpenError::NotRunning {
                prefix: instance.prefix().to_owned(),
                path,
            }),
            other => other,
        }
    }

    /// Maps the file at `path` read-only and validates its header.
    pub fn open(path: &Path) -> Result<Region, OpenError> {
        Ok(Region {
            shared: open_shared(path, false)?,
        })
    }

    /// The mapping and directory.
    #[cfg(test)]
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

impl WritableRegion {
    /// The mapping and directory (for the mirror rings' producer).
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

/// Opens the region of `instance` mapped read-write: only for a mirror ring consumer,
/// which writes its own control words (attach, heartbeat, read position).
pub(crate) fn open_instance_shared(instance: &Instance) -> Result<Arc<Shared>, OpenError> {
    let path = instance.shm_path();
    match open_shared(&path, true) {
        Err(OpenError::Absent(path)) => Err(OpenError::NotRunning {
            prefix: instance.prefix().to_owned(),
            path,
        }),
        other => other,
    }
}

/// Maps the file at `path` (read-write if `writable`) and validates its header.
pub(crate) fn open_shared(path: &Path, writable: bool) -> Result<Arc<Shared>, OpenError> {
    {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(writable)
            .open(path)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => OpenError::Absent(path.to_owned()),
                std::io::ErrorKind::PermissionDenied => {
                    OpenError::PermissionDenied(path.to_owned())
                }
                _ => OpenError::Io {
                    path: path.to_owned(),
                    source: e,
                },
            })?;
        let size = file
            .metadata()
            .map_err(|source| OpenError::Io {
                path: path.to_owned(),
                source,
            })?
            .len();
        let invalid = |problem| OpenError::Invalid {
            path: path.to_owned(),
            problem,
        };
        if size < 8 {
            return Err(invalid(HeaderError::Truncated {
                actual: size,
                needed: HEADER_BYTES as u64,
            }));
        }
        let map = Mapping::map(&file, size, writable).map_err(|source| OpenError::Map {
            path: path.to_owned(),
            source,
        })?;
        let mut bytes = Vec::with_capacity(HEADER_BYTES);
        let header_words = (HEADER_BYTES / 8).min(map.words().len());
        for w in map.words_at(0, header_words).unwrap_or(&[]) {
            bytes.extend_from_slice(&w.load(Ordering::Relaxed).to_ne_bytes());
        }
        let (header, tables) = header::parse(&bytes, size).map_err(|e| match e {
            HeaderError::Version { found, expected } => OpenError::Version {
                path: path.to_owned(),
                found,
                expected,
            },
            other => invalid(other),
        })?;
        Ok(Arc::new(Shared {
            map,
            header,
            taken: Vec::new(),
            tables,
        }))
    }
}

impl Region {
    /// The directory in registration order: the hash tables and (with
    /// `kind == KIND_RINGS`) the mirror ring sets.
    pub fn tables(&self) -> &[TableInfo] {
        &self.shared.tables
    }

    /// The daemon's pid at creation.
    pub fn creator_pid(&self) -> u32 {
        self.shared.header.creator_pid
    }

    /// NUMA socket of the tables (-1 unknown).
    pub fn numa_socket(&self) -> i32 {
        self.shared.header.numa_socket
    }

    /// Live fill of every table, in registration order (telemetry saturation, exporter).
    pub fn stats(&self) -> Vec<TableStats> {
        self.shared
            .tables
            .iter()
            .filter(|t| t.kind == header::KIND_TABLE)
            .map(|t| TableStats {
                name: t.name.clone(),
                capacity: t.capacity,
                entries: load_counter(&self.shared.map, header::entries_word(t.slot)),
                insert_failures: load_counter(
                    &self.shared.map,
                    header::insert_failures_word(t.slot),
                ),
            })
            .collect()
    }

    /// A typed reader of table `name`; refused if the sizes of `K`/`V` differ from the
    /// table's.
    pub fn reader<K: bytemuck::Pod + Eq, V: bytemuck::Pod>(
        &self,
        name: &str,
    ) -> Result<super::table::TableReader<K, V>, super::table::TableError> {
        super::table::TableReader::attach(Arc::clone(&self.shared), name)
    }
}

#[cfg(test)]
impl Region {
    /// Tries to attach a writer to table `t` of a read-only region (must fail).
    pub(crate) fn writer_attempt(&self) -> Option<super::table::TableError> {
        super::table::TableWriter::<u64, u64>::attach(Arc::clone(&self.shared), "t").err()
    }
}

pub(crate) fn load_counter(map: &Mapping, word: usize) -> u64 {
    map.words()
        .get(word)
        .map_or(0, |w| w.load(Ordering::Relaxed))
}

/// Fill of one table at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableStats {
    /// Daemon name.
    pub name: String,
    /// Nominal capacity.
    pub capacity: u64,
    /// Keys stored.
    pub entries: u64,
    /// Inserts refused because the table was full.
    pub insert_failures: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shm::test_support::ShmPath;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn bucket_heads_take_half_a_word_each() -> TestResult {
        // 1024 heads in 512 words and one 5-word entry: 4136 bytes, two pages (a word
        // per head would need 8232 bytes, three pages)
        let mut b = RegionBuilder::new();
        b.table_with_buckets::<u64, u32>("t", 1, 1024)?;
        let (_, total) = b.layout(1, 1)?;
        assert_eq!(total, FIRST_AREA + 2 * PAGE);
        Ok(())
    }

    #[test]
    fn golden_header_bytes() -> TestResult {
        let mut b = RegionBuilder::new().hash_seed(0x0123_4567_89ab_cdef);
        b.table::<u64, u32>("t", 3)?;
        let (bytes, total) = b.layout(0x0123_4567_89ab_cdef, 4242)?;
        assert_eq!(total, 12288);
        let mut expected: Vec<u8> = Vec::new();
        expected.extend(b"DPSVCSHM");
        expected.extend([5, 0, 0, 0, 1, 0, 0, 0]); // version 5, 1 table
        expected.extend([0x00, 0x30, 0, 0, 0, 0, 0, 0]); // total size 12288
        expected.extend([0x92, 0x10, 0, 0, 0xff, 0xff, 0xff, 0xff]); // pid 4242, socket -1
        expected.extend([0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01]); // seed
        expected.extend([0; 24]);
        expected.push(b't');
        expected.extend([0; 31]);
        expected.extend([3, 0, 0, 0, 0, 0, 0, 0]); // capacity
        expected.extend([4, 0, 0, 0, 0, 0, 0, 0]); // buckets
        expected.extend([8, 0, 0, 0, 4, 0, 0, 0]); // key 8, value 4 bytes
        expected.extend([5, 0, 0, 0, 0, 0, 0, 0]); // 5 words per entry, reserved
        expected.extend([0x00, 0x20, 0, 0, 0, 0, 0, 0]); // offset 8192
        expected.extend([0x00, 0x10, 0, 0, 0, 0, 0, 0]); // size 4096
        expected.extend([0; 24]); // entries, insert failures, high water
        expected.extend([0; 24]);
        assert_eq!(&bytes[..expected.len()], &expected[..]);
        assert!(
            bytes[expected.len()..].iter().all(|&b| b == 0),
            "unused slots zero"
        );
        Ok(())
    }

    #[test]
    fn created_file_is_private_sparse_and_removed_on_drop() -> TestResult {
        let path = ShmPath::new("create");
        std::fs::write(&path.0, b"a crashed daemon's leftover")?;
        let mut b = RegionBuilder::new().numa_socket(1);
        crate::shm::catalogue::Catalogue::standard(&mut b, 2)?;
        let region = b.create(&path.0)?;
        let meta = std::fs::metadata(&path.0)?;
        assert_eq!(meta.mode() & 0o777, 0o600);
        assert!(
            meta.len() > 250 << 20,
            "all tables laid out ({} bytes)",
            meta.len()
        );
        assert!(
            meta.blocks() * 512 < 1 << 20,
            "sparse: {} blocks",
            meta.blocks()
        );
        let reader = Region::open(&path.0)?;
        assert_eq!(reader.numa_socket(), 1);
        assert_eq!(reader.creator_pid(), std::process::id());
        let names: Vec<String> = reader.stats().into_iter().map(|s| s.name).collect();
        assert_eq!(
            names[..3],
            ["virtsvc_table_0", "virtsvc_table_1", "conntrack_table"]
        );
        assert_eq!(names.len(), 13);
        drop(region);
        assert!(!path.0.exists(), "removed on drop");
        // The reader's mapping stays valid after the file is gone.
        assert_eq!(reader.stats()[2].capacity, 850_000);
        Ok(())
    }

    #[test]
    fn prefaulted_regions_are_backed_whole_and_say_by_what() -> TestResult {
        let path = ShmPath::new("prefault");
        let mut b = RegionBuilder::new().prefault(true);
        b.table::<u64, u64>("t", 100_000)?;
        let region = b.create(&path.0)?;
        let meta = std::fs::metadata(&path.0)?;
        assert!(
            meta.blocks() * 512 >= meta.len(),
            "every page allocated: {} blocks for {} bytes",
            meta.blocks(),
            meta.len()
        );
        let memory = *region.memory();
        assert_eq!(
            memory.backing,
            Backing::Shmem,
            "a /dev/shm file is never hugetlb"
        );
        assert_eq!(memory.bytes, meta.len());
        assert!(memory.prefault_time.is_some());
        let huge = memory
            .huge_bytes
            .ok_or("the page size is known once pre-faulted")?;
        assert!(huge <= memory.bytes);
        // the header is intact after pre-faulting, and readers see the table
        let reader = Region::open(&path.0)?;
        assert_eq!(reader.stats()[0].capacity, 100_000);

        let mut b = RegionBuilder::new().prefault(true);
        b.table::<u64, u64>("t", 100_000)?;
        let private = b.create_private()?;
        let memory = *private.memory();
        assert!(memory.bytes >= meta.len(), "at least the layout's size");
        match memory.backing {
            Backing::HugeTlb => {
                assert_eq!(memory.bytes % HUGE_PAGE, 0, "whole huge pages");
                assert_eq!(memory.huge_bytes, Some(memory.bytes));
            }
            Backing::Shmem => assert_eq!(memory.bytes, meta.len(), "no rounding"),
        }
        let stats = private.region().stats();
        assert_eq!(stats[0].capacity, 100_000);
        assert_eq!(stats[0].entries, 0);

        // not asked for: sparse, page size unknown, until a prefaulter runs
        let mut b = RegionBuilder::new();
        b.table::<u64, u64>("t", 100_000)?;
        let lazy = b.create_private()?;
        assert_eq!(lazy.memory().prefault_time, None);
        assert!(lazy.file.metadata()?.blocks() * 512 < meta.len());
        let later = std::thread::spawn({
            let prefaulter = lazy.prefaulter();
            move || prefaulter.run()
        })
        .join()
        .map_err(|_| "the prefault thread panicked")?;
        assert!(later.prefault_time.is_some() && later.huge_bytes.is_some());
        assert!(lazy.file.metadata()?.blocks() * 512 >= meta.len());
        assert_eq!(lazy.region().stats()[0].capacity, 100_000, "header intact");
        Ok(())
    }

    fn write_variant(
        tag: &str,
        edit: impl FnOnce(&mut Vec<u8>),
    ) -> Result<(ShmPath, OpenError), Box<dyn std::error::Error>> {
        let good = ShmPath::new(tag);
        let mut b = RegionBuilder::new();
        b.table::<u64, u64>("t", 100)?;
        let region = b.create(&good.0)?;
        let mut bytes = std::fs::read(&good.0)?;
        drop(region);
        edit(&mut bytes);
        let bad = ShmPath::new(tag);
        std::fs::write(&bad.0, &bytes)?;
        match Region::open(&bad.0) {
            Ok(_) => Err(format!("{tag}: a bad region was accepted").into()),
            Err(e) => Ok((bad, e)),
        }
    }

    fn put_u64(bytes: &mut [u8], at: usize, v: u64) {
        bytes[at..at + 8].copy_from_slice(&v.to_ne_bytes());
    }

    #[test]
    fn bad_regions_are_refused_with_clear_errors() -> TestResult {
        let dir0 = header::dir_entry_offset(0);
        let (_p, e) = write_variant("trunc", |b| b.truncate(100))?;
        assert!(
            matches!(
                e,
                OpenError::Invalid {
                    problem: HeaderError::Truncated { .. },
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("truncated"), "{e}");
        let (_p, e) = write_variant("trunc2", |b| b.truncate(9000))?;
        assert!(
            matches!(
                e,
                OpenError::Invalid {
                    problem: HeaderError::Truncated { .. },
                    ..
                }
            ),
            "{e}"
        );
        let (_p, e) = write_variant("empty", |b| b.clear())?;
        assert!(matches!(e, OpenError::Invalid { .. }), "{e}");
        let (_p, e) = write_variant("magic", |b| b[0] = b'X')?;
        assert!(e.to_string().contains("bad magic"), "{e}");
        let (_p, e) = write_variant("version", |b| b[8] = 7)?;
        let text = e.to_string();
        assert!(
            text.contains("version 7")
                && text.contains(&format!("version {LAYOUT_VERSION}"))
                && text.contains("same dpservice release"),
            "{text}"
        );
        let (_p, e) = write_variant("offset", |b| put_u64(b, dir0 + 64, u64::MAX - 10))?;
        assert!(
            e.to_string().contains("outside the region") || e.to_string().contains("overflows"),
            "{e}"
        );
        let (_p, e) = write_variant("size", |b| put_u64(b, dir0 + 72, 8))?;
        assert!(e.to_string().contains("smaller than its entries"), "{e}");
        let (_p, e) = write_variant("buckets", |b| put_u64(b, dir0 + 40, 3))?;
        assert!(e.to_string().contains("power of two"), "{e}");
        let (_p, e) = write_variant("capacity", |b| put_u64(b, dir0 + 32, u64::MAX / 2))?;
        assert!(e.to_string().contains("capacity"), "{e}");
        let (_p, e) = write_variant("count", |b| b[12] = 200)?;
        assert!(e.to_string().contains("200 tables"), "{e}");
        let (_p, e) = write_variant("name", |b| b[dir0] = 0)?;
        assert!(e.to_string().contains("no valid name"), "{e}");
        let (_p, e) = write_variant("grown", |b| b.extend([0u8; 4096]))?;
        assert!(e.to_string().contains("the header says"), "{e}");
        Ok(())
    }

    #[test]
    fn absent_region_names_the_prefix() -> TestResult {
        let instance = Instance::new("shm_test_absent_prefix")?;
        let e = Region::open_instance(&instance)
            .err()
            .ok_or("opened a region that does not exist")?;
        assert_eq!(
            e.to_string(),
            "no dpservice-bin is running with --file-prefix=shm_test_absent_prefix \
             (no /dev/shm/dpservice_shm_test_absent_prefix); start it, or pass the \
             --file-prefix it runs with"
        );
        Ok(())
    }

    #[test]
    fn bad_declarations_are_refused() {
        let mut b = RegionBuilder::new();
        assert!(b.table::<u64, u64>("t", 1).is_ok());
        assert_eq!(
            b.table::<u64, u64>("t", 1).err(),
            Some(LayoutError::Duplicate("t".into()))
        );
        assert!(matches!(
            b.table::<u64, u64>(&"x".repeat(32), 1),
            Err(LayoutError::BadName(_))
        ));
        assert!(matches!(
            b.table::<u64, u64>("z", 0),
            Err(LayoutError::BadCapacity(_))
        ));
        assert!(matches!(
            b.table_with_buckets::<u64, u64>("z", 4, 3),
            Err(LayoutError::BadBuckets(_))
        ));
        assert!(matches!(
            b.table::<[u8; 65], u64>("z", 4),
            Err(LayoutError::TooWide(_))
        ));
        for i in 1..MAX_TABLES {
            assert!(b.table::<u64, u64>(&format!("t{i}"), 1).is_ok());
        }
        assert_eq!(
            b.table::<u64, u64>("one_too_many", 1).err(),
            Some(LayoutError::TooManyTables)
        );
    }
}
