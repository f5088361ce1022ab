//! The byte layout of the region header and table directory, and its validation.
//!
//! ```text
//! offset 0     RegionHeader (64 bytes)
//! offset 64    TableDirEntry[MAX_TABLES] (128 bytes each)
//! offset 8192  first table area (every area starts on a page boundary)
//! ```
//! A table area is the bucket heads, two 32-bit heads to a word ([`head_words`]),
//! followed by `capacity` entries of `words_per_entry` words (see `engine`). All multi-byte fields are in the host's byte
//! order: only a daemon and tools of the same build on the same machine share a region.

use bytemuck::{Pod, Zeroable};

/// First 8 bytes of every region.
pub const MAGIC: [u8; 8] = *b"DPSVCSHM";

/// Bumped on every change of this layout, of the engine's entry layout or of any
/// catalogue struct; tools refuse a region of another version.
pub const LAYOUT_VERSION: u32 = 5;

/// Words of a table's bucket heads: two heads to a word, each the 32-bit index + 1 of
/// its chain's first entry (capacities stay below `u32::MAX`), so a large table's heads
/// take half the memory, and half the pages a lookup may miss in the TLB.
pub const fn head_words(bucket_count: u64) -> u64 {
    bucket_count.div_ceil(2)
}

/// Number of directory slots.
pub const MAX_TABLES: usize = 32;

/// Longest table name (the 32-byte field keeps a terminating NUL).
pub const MAX_NAME_LEN: usize = 31;

/// Alignment of every table area, so each starts on its own page.
pub const PAGE: u64 = 4096;

/// Directory kind of a hash table of the engine.
pub const KIND_TABLE: u32 = 0;

/// Directory kind of a set of mirror rings (`super::mirror`). For this kind `capacity`
/// is the slots per ring, `bucket_count` the number of rings, `key_size` the bytes of
/// packet data a slot holds, `value_size` zero and `words_per_entry` the words per slot.
pub const KIND_RINGS: u32 = 1;

/// Words in front of each entry's key: version, meta (bucket + 1, 0 = free), next link.
pub const ENTRY_META_WORDS: u64 = 3;

/// Bytes of the header plus directory.
pub const HEADER_BYTES: usize = size_of::<RegionHeader>() + MAX_TABLES * size_of::<TableDirEntry>();

/// Offset of the first table area.
pub const FIRST_AREA: u64 = (HEADER_BYTES as u64).div_ceil(PAGE) * PAGE;

/// The fixed start of the region.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pod, Zeroable)]
pub struct RegionHeader {
    /// [`MAGIC`].
    pub magic: [u8; 8],
    /// [`LAYOUT_VERSION`].
    pub layout_version: u32,
    /// Used directory slots (the first `table_count`).
    pub table_count: u32,
    /// Size of the file in bytes.
    pub total_size: u64,
    /// Process id of the daemon that created it.
    pub creator_pid: u32,
    /// NUMA socket of the tables (-1 unknown, as for TAP ports).
    pub numa_socket: i32,
    /// Seed of the table hash (per daemon start, so VMs cannot aim keys at one bucket).
    pub hash_seed: u64,
    /// Zero; room for later fields.
    pub reserved: [u8; 24],
}

/// One table of the directory. `entries` and `insert_failures` are live counters the
/// writer updates; everything else is fixed at creation.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pod, Zeroable)]
pub struct TableDirEntry {
    /// NUL-padded name.
    pub name: [u8; 32],
    /// Nominal capacity (the most entries the table accepts).
    pub capacity: u64,
    /// Number of hash buckets, a power of two.
    pub bucket_count: u64,
    /// `size_of` the key type.
    pub key_size: u32,
    /// `size_of` the value type.
    pub value_size: u32,
    /// Words per pool entry.
    pub words_per_entry: u32,
    /// What the area holds: [`KIND_TABLE`] or [`KIND_RINGS`].
    pub kind: u32,
    /// Byte offset of the table area in the region.
    pub offset: u64,
    /// Byte size of the table area.
    pub size: u64,
    /// Live: keys currently stored.
    pub entries: u64,
    /// Live: inserts refused because the table was full.
    pub insert_failures: u64,
    /// Live: pool entries at and above this index were never used, so a sweep stops
    /// here (and never touches, hence never allocates, the pages beyond).
    pub high_water: u64,
    /// Zero; room for later fields.
    pub reserved: [u8; 24],
}

/// Word index of slot `i`'s `high_water` mark.
pub fn high_water_word(i: usize) -> usize {
    (dir_entry_offset(i) + std::mem::offset_of!(TableDirEntry, high_water)) / 8
}

/// Byte offset of directory slot `i`.
pub fn dir_entry_offset(i: usize) -> usize {
    size_of::<RegionHeader>() + i * size_of::<TableDirEntry>()
}

/// Word index (from the region start) of slot `i`'s `entries` counter.
pub fn entries_word(i: usize) -> usize {
    (dir_entry_offset(i) + std::mem::offset_of!(TableDirEntry, entries)) / 8
}

/// Word index of slot `i`'s `insert_failures` counter.
pub fn insert_failures_word(i: usize) -> usize {
    (dir_entry_offset(i) + std::mem::offset_of!(TableDirEntry, insert_failures)) / 8
}

/// Words needed for `bytes` bytes.
pub fn words_for(bytes: u64) -> u64 {
    bytes.div_ceil(8)
}

/// The geometry of one table, checked against the region it lives in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    /// Directory slot.
    pub slot: usize,
    /// Name as declared.
    pub name: String,
    /// Nominal capacity.
    pub capacity: u64,
    /// Buckets (power of two).
    pub bucket_count: u64,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Words per pool entry.
    pub words_per_entry: u32,
    /// Byte offset of the area.
    pub offset: u64,
    /// Byte size of the area.
    pub size: u64,
    /// [`KIND_TABLE`] or [`KIND_RINGS`].
    pub kind: u32,
}

/// What is wrong with a header; the region module adds the path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// Shorter than the header, or than the header says.
    #[error("truncated: {actual} bytes, the header needs {needed}")]
    Truncated {
        /// Bytes present.
        actual: u64,
        /// Bytes required.
        needed: u64,
    },
    /// Not our file.
    #[error("not a dpservice shared-memory region (bad magic)")]
    BadMagic,
    /// Another build's layout.
    #[error("layout version {found}, this build understands {expected}")]
    Version {
        /// In the file.
        found: u32,
        /// Ours.
        expected: u32,
    },
    /// Inconsistent contents.
    #[error("corrupt: {0}")]
    Corrupt(String),
}

fn corrupt(what: String) -> HeaderError {
    HeaderError::Corrupt(what)
}

/// Parses and checks the header bytes of a region of `file_size` bytes. Every size and
/// offset is checked (with overflow checks) against the file size, so the tables built
/// from the result never index outside the mapping.
pub fn parse(bytes: &[u8], file_size: u64) -> Result<(RegionHeader, Vec<TableInfo>), HeaderError> {
    let head_len = size_of::<RegionHeader>();
    let Some(head) = bytes.get(..head_len) else {
        return Err(HeaderError::Truncated {
            actual: file_size,
            needed: HEADER_BYTES as u64,
        });
    };
    let header: RegionHeader = bytemuck::pod_read_unaligned(head);
    if header.magic != MAGIC {
        return Err(HeaderError::BadMagic);
    }
    if header.layout_version != LAYOUT_VERSION {
        return Err(HeaderError::Version {
            found: header.layout_version,
            expected: LAYOUT_VERSION,
        });
    }
    if bytes.len() < HEADER_BYTES || file_size < FIRST_AREA {
        return Err(HeaderError::Truncated {
            actual: file_size,
            needed: FIRST_AREA,
        });
    }
    if file_size < header.total_size {
        return Err(HeaderError::Truncated {
            actual: file_size,
            needed: header.total_size,
        });
    }
    if file_size != header.total_size {
        return Err(corrupt(format!(
            "the header says {} bytes but the file has {file_size}",
            header.total_size
        )));
    }
    let count = header.table_count as usize;
    if count > MAX_TABLES {
        return Err(corrupt(format!("{count} tables, at most {MAX_TABLES} fit")));
    }
    let mut tables: Vec<TableInfo> = Vec::with_capacity(count);
    for slot in 0..count {
        let off = dir_entry_offset(slot);
        let raw = bytes
            .get(off..off + size_of::<TableDirEntry>())
            .ok_or_else(|| corrupt(format!("directory slot {slot} out of range")))?;
        let entry: TableDirEntry = bytemuck::pod_read_unaligned(raw);
        let info = check_entry(slot, &entry, header.total_size)?;
        if tables.iter().any(|t| t.name == info.name) {
            return Err(corrupt(format!("table '{}' appears twice", info.name)));
        }
        tables.push(info);
    }
    Ok((header, tables))
}

fn check_entry(slot: usize, e: &TableDirEntry, total: u64) -> Result<TableInfo, HeaderError> {
    let name_len = e.name.iter().position(|&b| b == 0).unwrap_or(e.name.len());
    if name_len == 0 || name_len > MAX_NAME_LEN {
        return Err(corrupt(format!("directory slot {slot} has no valid name")));
    }
    let name = std::str::from_utf8(&e.name[..name_len])
        .map_err(|_| corrupt(format!("directory slot {slot} has a non-UTF-8 name")))?
        .to_owned();
    let bad = |what: &str| corrupt(format!("table '{name}': {what}"));
    if e.kind == KIND_RINGS {
        return check_rings(slot, name, e, total);
    }
    if e.kind != KIND_TABLE {
        return Err(bad("unknown kind"));
    }
    if e.capacity == 0 || e.capacity >= u64::from(u32::MAX) {
        return Err(bad("capacity out of range"));
    }
    if !e.bucket_count.is_power_of_two() || e.bucket_count >= 1 << 40 {
        return Err(bad("bucket count is not a sane power of two"));
    }
    let expected_wpe =
        ENTRY_META_WORDS + words_for(u64::from(e.key_size)) + words_for(u64::from(e.value_size));
    if u64::from(e.words_per_entry) != expected_wpe {
        return Err(bad("words per entry do not match key and value sizes"));
    }
    let needed = e
        .capacity
        .checked_mul(expected_wpe)
        .and_then(|w| w.checked_add(head_words(e.bucket_count)))
        .and_then(|w| w.checked_mul(8))
        .ok_or_else(|| bad("size overflows"))?;
    if e.size < needed {
        return Err(bad("area smaller than its entries"));
    }
    let end = e
        .offset
        .checked_add(e.size)
        .ok_or_else(|| bad("area end overflows"))?;
    if e.offset < FIRST_AREA || e.offset % 8 != 0 || end > total {
        return Err(bad("area outside the region"));
    }
    Ok(TableInfo {
        slot,
        name,
        capacity: e.capacity,
        bucket_count: e.bucket_count,
        key_size: e.key_size,
        value_size: e.value_size,
        words_per_entry: e.words_per_entry,
        offset: e.offset,
        size: e.size,
        kind: KIND_TABLE,
    })
}

/// Checks a directory entry of kind [`KIND_RINGS`] (see `super::mirror` for the area).
fn check_rings(
    slot: usize,
    name: String,
    e: &TableDirEntry,
    total: u64,
) -> Result<TableInfo, HeaderError> {
    let bad = |what: &str| corrupt(format!("ring set '{name}': {what}"));
    let geometry = super::mirror::RingGeometry {
        rings: usize::try_from(e.bucket_count).map_err(|_| bad("too many rings"))?,
        slots: e.capacity,
        snap_len: e.key_size as usize,
    };
    geometry.check().map_err(|_| bad("impossible geometry"))?;
    if u64::from(e.words_per_entry) != geometry.slot_words() as u64 || e.value_size != 0 {
        return Err(bad("slot size does not match its snap length"));
    }
    let needed = geometry.area_bytes().ok_or_else(|| bad("size overflows"))?;
    if e.size < needed {
        return Err(bad("area smaller than its rings"));
    }
    let end = e
        .offset
        .checked_add(e.size)
        .ok_or_else(|| bad("area end overflows"))?;
    if e.offset < FIRST_AREA || e.offset % 8 != 0 || end > total {
        return Err(bad("area outside the region"));
    }
    Ok(TableInfo {
        slot,
        name,
        capacity: e.capacity,
        bucket_count: e.bucket_count,
        key_size: e.key_size,
        value_size: 0,
        words_per_entry: e.words_per_entry,
        offset: e.offset,
        size: e.size,
        kind: KIND_RINGS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_fixed() {
        assert_eq!(size_of::<RegionHeader>(), 64);
        assert_eq!(size_of::<TableDirEntry>(), 128);
        assert_eq!(HEADER_BYTES, 64 + 32 * 128);
        assert_eq!(FIRST_AREA, 8192);
        assert_eq!(entries_word(0), (64 + 80) / 8);
        assert_eq!(insert_failures_word(1), (64 + 128 + 88) / 8);
    }
}
