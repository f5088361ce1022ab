//! The one module of `shm` with `unsafe` code: mapping a file into memory, viewing the
//! mapping as a slice of 64-bit atomic words, and the bulk (non-atomic) copies of the
//! mirror rings' records ([`write_record`], [`read_bytes`]).
//!
//! Everything above this module sees the region only as `&[ReadOnlyWord]` (every mapping)
//! or `&[AtomicU64]` (writable mappings only), so no other code needs `unsafe`, and a
//! read-only mapping cannot be stored to from safe code.

use std::fs::File;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rustix::mm::{MapFlags, ProtFlags};

/// Why a file could not be mapped.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    /// Nothing to map (mmap refuses zero lengths).
    #[error("the file is empty")]
    Empty,
    /// The length does not fit the address space.
    #[error("the file is too large to map ({0} bytes)")]
    TooLarge(u64),
    /// The kernel refused.
    #[error("mmap failed: {0}")]
    Mmap(#[source] std::io::Error),
}

/// A 64-bit word of a mapping that safe code may only load.
///
/// Same layout as `AtomicU64`; read-only mappings are only ever seen through this type.
#[repr(transparent)]
#[derive(Debug)]
pub struct ReadOnlyWord(AtomicU64);

impl ReadOnlyWord {
    /// Atomic load of the word.
    #[inline(always)]
    pub fn load(&self, order: Ordering) -> u64 {
        self.0.load(order)
    }
}

/// A shared mapping of a whole file (`MAP_SHARED`), unmapped on drop.
#[derive(Debug)]
pub struct Mapping {
    ptr: NonNull<AtomicU64>,
    len_bytes: usize,
    writable: bool,
}

// SAFETY: the mapping is plain shared memory owned by this value; all access goes through
// atomics (`&[AtomicU64]`/`&[ReadOnlyWord]`), so moving it to or sharing it with other
// threads is as sound as sharing a slice of atomics.
unsafe impl Send for Mapping {}
// SAFETY: see `Send`: shared access is only through atomic words.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps the first `len_bytes` of `file`, read-write if `writable`, else `PROT_READ`.
    pub fn map(file: &File, len_bytes: u64, writable: bool) -> Result<Mapping, MapError> {
        if len_bytes == 0 {
            return Err(MapError::Empty);
        }
        let len = usize::try_from(len_bytes).map_err(|_| MapError::TooLarge(len_bytes))?;
        let prot = if writable {
            ProtFlags::READ | ProtFlags::WRITE
        } else {
            ProtFlags::READ
        };
        // SAFETY: a fresh mapping at an address the kernel chooses (null hint, no
        // MAP_FIXED) cannot alias any Rust object; `len` is non-zero; the file descriptor
        // is valid for the duration of the call (the mapping outlives it by design).
        let ptr =
            unsafe { rustix::mm::mmap(std::ptr::null_mut(), len, prot, MapFlags::SHARED, file, 0) }
                .map_err(|e| MapError::Mmap(e.into()))?;
        let ptr = NonNull::new(ptr.cast::<AtomicU64>())
            .ok_or(MapError::Mmap(std::io::ErrorKind::InvalidData.into()))?;
        Ok(Mapping {
            ptr,
            len_bytes: len,
            writable,
        })
    }

    /// Asks the kernel to back the mapping with transparent 2 MiB pages
    /// (`MADV_HUGEPAGE`). Only a hint: it takes effect where the file system allows
    /// huge pages on advice (a tmpfs mounted with `huge=advise`, or memfds while
    /// `transparent_hugepage/shmem_enabled` is `advise`), and pages faulted in earlier
    /// stay as they are, so call it before anything touches the memory.
    pub fn advise_huge_pages(&self) -> std::io::Result<()> {
        // SAFETY: the range is exactly this live mapping; MADV_HUGEPAGE only changes how
        // future faults are served, never the contents, so no Rust reference into the
        // memory observes anything different.
        unsafe {
            rustix::mm::madvise(
                self.ptr.as_ptr().cast(),
                self.len_bytes,
                rustix::mm::Advice::LinuxHugepage,
            )
        }
        .map_err(Into::into)
    }

    /// Faults every page of a writable mapping in for writing now
    /// (`MADV_POPULATE_WRITE`, Linux 5.14), so later first stores take no page fault.
    /// Fails with `Unsupported` on a read-only mapping and with the kernel's error
    /// (`EINVAL` on older kernels) otherwise; the memory's contents are not changed.
    pub fn populate_write(&self) -> std::io::Result<()> {
        if !self.writable {
            return Err(std::io::ErrorKind::Unsupported.into());
        }
        // SAFETY: the range is exactly this live, PROT_WRITE mapping; populating only
        // allocates and maps the pages (as a store would), it writes no data, so the
        // memory every `&AtomicU64` into it sees is unchanged.
        unsafe {
            rustix::mm::madvise(
                self.ptr.as_ptr().cast(),
                self.len_bytes,
                rustix::mm::Advice::LinuxPopulateWrite,
            )
        }
        .map_err(Into::into)
    }

    /// The address the mapping starts at (to find it in `/proc/self/smaps`).
    pub fn start_address(&self) -> usize {
        self.ptr.as_ptr() as usize
    }

    /// Length of the mapping in bytes.
    pub fn len_bytes(&self) -> usize {
        self.len_bytes
    }

    /// Whether stores are allowed (the daemon's mapping).
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// The whole mapping as loadable words (a trailing partial word is left out).
    #[inline(always)]
    pub fn words(&self) -> &[ReadOnlyWord] {
        // SAFETY: `ptr` is page aligned (mmap result), hence aligned for u64; the
        // `len_bytes / 8` words lie inside the live mapping, which `self` keeps mapped for
        // the returned lifetime. `ReadOnlyWord` is `repr(transparent)` over `AtomicU64`.
        // Other processes may change the memory at any time, which atomics permit. Only
        // atomic loads of at most 8 bytes are possible through `ReadOnlyWord`, which Rust
        // allows on read-only memory.
        unsafe {
            std::slice::from_raw_parts(self.ptr.as_ptr().cast::<ReadOnlyWord>(), self.len_bytes / 8)
        }
    }

    /// The whole mapping as atomic words that may be stored to; `None` for a read-only
    /// mapping.
    #[inline(always)]
    pub fn atomic_words(&self) -> Option<&[AtomicU64]> {
        if !self.writable {
            return None;
        }
        // SAFETY: as in `words`; the mapping is PROT_WRITE, so stores are allowed.
        Some(unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len_bytes / 8) })
    }

    /// `count` loadable words starting at byte `offset`, checked for alignment and bounds.
    pub fn words_at(&self, offset: usize, count: usize) -> Option<&[ReadOnlyWord]> {
        if offset % 8 != 0 {
            return None;
        }
        let start = offset / 8;
        self.words().get(start..start.checked_add(count)?)
    }
}

/// One table's words as its writer sees them, bucket heads and pool, checked once when
/// the writer attaches: every writer call then gets its slices back without redoing the
/// mapping's writability, bounds and split checks (they cost about as much as a lookup's
/// own work, three times per staged packet).
///
/// Keeps `O`, the owner of the memory the slices were borrowed from, alive.
pub struct WriterArea<O> {
    _owner: Arc<O>,
    buckets: NonNull<AtomicU64>,
    bucket_words: usize,
    pool: NonNull<AtomicU64>,
    pool_words: usize,
}

// SAFETY: the value stands for two `&[AtomicU64]` (which are `Send` and `Sync`) and an
// `Arc<O>`, which is `Send`/`Sync` when `O` is `Send + Sync`.
unsafe impl<O: Send + Sync> Send for WriterArea<O> {}
// SAFETY: as for `Send`.
unsafe impl<O: Send + Sync> Sync for WriterArea<O> {}

impl<O> std::fmt::Debug for WriterArea<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterArea")
            .field("bucket_words", &self.bucket_words)
            .field("pool_words", &self.pool_words)
            .finish_non_exhaustive()
    }
}

impl<O> WriterArea<O> {
    /// The slices `split` lends out of `owner` (bucket heads, pool), kept for as long
    /// as the area lives; `None` if `split` finds none.
    pub fn new(
        owner: Arc<O>,
        split: impl for<'a> FnOnce(&'a O) -> Option<(&'a [AtomicU64], &'a [AtomicU64])>,
    ) -> Option<WriterArea<O>> {
        let (buckets, pool) = split(&owner)?;
        let (bucket_words, pool_words) = (buckets.len(), pool.len());
        let (buckets, pool) = (NonNull::from(buckets).cast(), NonNull::from(pool).cast());
        Some(WriterArea {
            _owner: owner,
            buckets,
            bucket_words,
            pool,
            pool_words,
        })
    }

    /// The bucket heads and the pool.
    #[inline(always)]
    pub fn words(&self) -> (&[AtomicU64], &[AtomicU64]) {
        // SAFETY: both pointer/length pairs are exactly slices that `split` borrowed from
        // the `O` behind `_owner` for as long as that `&O` lives. `_owner` keeps that `O`
        // alive and in place (an `Arc`'s value never moves), and nobody can borrow it
        // mutably while this clone exists (`Arc::get_mut` needs the only reference), so
        // a shared borrow of it, and with it everything it lent out, stays valid for as
        // long as `&self` does; safe code cannot lend out of `&O` memory that a shared
        // borrow does not keep alive (interior mutability lends only guard-bound
        // borrows, which the `for<'a>` bound rules out). `AtomicU64` permits the
        // aliasing: every access through the slices is atomic.
        unsafe {
            (
                std::slice::from_raw_parts(self.buckets.as_ptr(), self.bucket_words),
                std::slice::from_raw_parts(self.pool.as_ptr(), self.pool_words),
            )
        }
    }

    /// Copies the bytes of a `T` from the pool, starting at word `pool_word`, into `out`
    /// with plain (non-atomic) loads; answers `false`, copying nothing, when they lie
    /// outside the pool. A 152-byte conntrack entry then takes a few vector moves
    /// instead of one atomic load and store per word.
    ///
    /// For the table's writer only (`TableWriter`, which holds its area privately):
    /// plain loads are sound only where no store can run at the same time, and the
    /// writer is the only one that stores to its table's words.
    #[inline(always)]
    pub fn copy_from_pool<T: bytemuck::Pod>(&self, pool_word: usize, out: &mut T) -> bool {
        let words = size_of::<T>().div_ceil(8);
        if pool_word
            .checked_add(words)
            .is_none_or(|end| end > self.pool_words)
        {
            return false;
        }
        // SAFETY: the `size_of::<T>()` bytes from `pool_word` lie inside the pool slice
        // (checked above; `words` covers them), which `words()` shows is live for
        // `&self`; `out` is a distinct, exclusively borrowed Rust value, so the ranges
        // do not overlap, and any bytes are a valid `T` (`Pod`). No data race: of all
        // code, only the table's one `TableWriter` (one per table and process, by the
        // region's writer flag) stores to the table's words, always through this area,
        // and only in its `&mut self` methods, while this copy runs under `&self` of the
        // same area, which the writer lends only from its `&self` methods: a store to
        // these words cannot overlap it, and the writer's earlier stores happen before
        // it (same thread, or handed over with the writer, which synchronises). Any
        // number of readers (threads of this process, tools in others, through
        // read-only mappings) may load these words concurrently: loads never race with
        // loads. The region's page set-up touches words with atomic stores only before
        // the region, and with it any writer, exists. A foreign process that maps the
        // region writable and stores in it breaks the protocol; it can only make the
        // copied bytes torn, which `Pod` tolerates and the packet path reads as a value
        // like any other.
        unsafe {
            let (src, dst) = (
                self.pool.as_ptr().add(pool_word).cast::<u8>(),
                (out as *mut T).cast::<u8>(),
            );
            // in pieces of at most 64 bytes, each a constant-size copy the compiler
            // turns into moves: one copy of the whole (152 bytes for a conntrack entry)
            // would be a call to `memcpy`, costing twice the moves
            let n = size_of::<T>();
            let mut at = 0;
            while n - at >= 64 {
                std::ptr::copy_nonoverlapping(src.add(at), dst.add(at), 64);
                at += 64;
            }
            for piece in [32, 16, 8, 4, 2, 1] {
                if n - at >= piece {
                    std::ptr::copy_nonoverlapping(src.add(at), dst.add(at), piece);
                    at += piece;
                }
            }
        }
        true
    }

    /// The bytes of a `T` in the pool, starting at word `pool_word`, read in place (no
    /// copy: the packet path's fast lane reads a few fields of a 152-byte conntrack
    /// entry); `None` when they lie outside the pool or `T` needs more than the words'
    /// alignment.
    ///
    /// For the table's writer only, as [`WriterArea::copy_from_pool`]: the reference
    /// lives as long as the `&self` it came from, during which the writer cannot store.
    #[inline(always)]
    pub fn pool_ref<T: bytemuck::Pod>(&self, pool_word: usize) -> Option<&T> {
        let words = size_of::<T>().div_ceil(8);
        if align_of::<T>() > align_of::<AtomicU64>()
            || pool_word
                .checked_add(words)
                .is_none_or(|end| end > self.pool_words)
        {
            return None;
        }
        // SAFETY: the `size_of::<T>()` bytes from `pool_word` lie inside the pool slice
        // (checked above), which `words()` shows is live for `&self`; the address is a
        // word's, aligned for `T` (checked above), and any bytes are a valid `T` (`Pod`).
        // Reading them through a shared reference while other code holds them as
        // `AtomicU64` is sound as long as nothing stores to them while the reference
        // lives: the reference is bound to `&self` of this area, and the only code that
        // stores to the table's words is its one `TableWriter`, only in `&mut self`
        // methods, which cannot run while a `&self` borrow of its area is alive (the
        // writer lends the area only from `&self`). Readers in this or other processes
        // only load, and loads never race with loads. The argument is the one of
        // `copy_from_pool`; a foreign process storing into the region breaks the protocol
        // and can only make the bytes read torn, which `Pod` tolerates.
        Some(unsafe { &*self.pool.as_ptr().add(pool_word).cast::<T>() })
    }
}

/// Asks the CPU to bring the cache line holding `r` into its caches, without waiting for
/// it: a table lookup hashes a whole burst first and prefetches where each key lives, so
/// the cache misses of different packets overlap instead of following one another.
#[inline(always)]
pub fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` needs SSE, which is part of the x86_64 baseline every such
    // CPU has; a prefetch is only a hint: it never faults, never changes memory and is
    // not an access in the memory model. `r` is a live reference anyway.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
            (r as *const T).cast::<i8>(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len_bytes` are exactly what mmap returned; every slice handed out
        // borrows `self`, so none outlives this unmap.
        let _ = unsafe { rustix::mm::munmap(self.ptr.as_ptr().cast(), self.len_bytes) };
    }
}

/// Copies `head` and then the bytes of `body` into `dst` from its first word, with plain
/// (non-atomic) stores, and fills the rest of the last word `body` touches with zeros.
/// Answers `false`, writing nothing, when they do not fit in `dst`.
///
/// For the mirror rings' producer only (`mirror::stage`): the words must be ones no other
/// thread or process accesses until a later release store (the ring's head) publishes
/// them, which the ring protocol guarantees for the space between the producer's write
/// position and the consumer's released tail.
#[inline]
pub fn write_record(dst: &[AtomicU64], head: &[u64], body: &[u8]) -> bool {
    let full = body.len() & !7;
    let rest = body.len() - full;
    let needed = head.len() + body.len().div_ceil(8);
    if needed > dst.len() {
        return false;
    }
    let last = if rest == 0 {
        0
    } else if let Some(window) = body.len().checked_sub(8).and_then(|s| body.get(s..)) {
        // the last 8 bytes hold the `rest` we want at their end: shift them down (no
        // variable-length copy, which would be a call to memcpy)
        let mut w = [0u8; 8];
        w.copy_from_slice(window);
        (u64::from_le_bytes(w) >> (8 * (8 - rest))).to_le()
    } else {
        let mut w = [0u8; 8];
        w[..rest].copy_from_slice(&body[full..]);
        u64::from_ne_bytes(w)
    };
    let at = dst.as_ptr().cast_mut().cast::<u64>();
    // SAFETY: `at` comes from the whole slice `dst`, so it may address its `dst.len()`
    // words, and `needed <= dst.len()` keeps every store below inside them; `AtomicU64`
    // has the size, alignment and bit validity of `u64` and sits in an `UnsafeCell`, so
    // storing through a pointer derived from a shared reference is allowed, and the
    // 8-byte alignment makes the `u64` writes aligned. The source slices cannot overlap
    // the destination: they are ordinary Rust memory borrowed immutably for the call
    // (a `&[u8]` into the region would need a reference into the mapping, which this
    // module never hands out). No data race: the ring protocol (`mirror.rs`) makes these
    // words the producer's alone until it publishes them with a release store of the
    // head (the consumer released them earlier with a release store of the tail, which
    // the producer loaded with acquire before writing), and no Rust reference other than
    // the `&AtomicU64`s, which permit mutation, points at them. A consumer process that
    // breaks the protocol can only read torn bytes on its side: the producer never reads
    // record words back, so nothing it stores here can mislead it.
    unsafe {
        std::ptr::copy_nonoverlapping(head.as_ptr(), at, head.len());
        let body_at = at.add(head.len()).cast::<u8>();
        std::ptr::copy_nonoverlapping(body.as_ptr(), body_at, full);
        if rest > 0 {
            body_at.add(full).cast::<u64>().write(last);
        }
    }
    true
}

/// Copies the first `out.len()` bytes of `src` into `out` with plain (non-atomic) loads;
/// answers `false`, copying nothing, when `src` is shorter.
///
/// For the mirror rings' consumer only (`mirror::take`): the words must be ones the
/// producer published (a release store of the head that the caller loaded with acquire)
/// and does not write again until the caller releases them (a release store of the tail).
#[inline]
pub fn read_bytes(src: &[AtomicU64], out: &mut [u8]) -> bool {
    if out.len() > src.len().saturating_mul(8) {
        return false;
    }
    // SAFETY: `out.len()` bytes lie inside `src` (checked above; the pointer comes from
    // the whole slice) and `out` is a distinct, exclusively borrowed Rust buffer, so the
    // ranges do not overlap; any byte pattern is a valid `u8`. No data race under the ring
    // protocol: the producer wrote these words before its release store of the head,
    // which the caller loaded with acquire, and writes them again only after the caller's
    // release store of the tail. The copy creates no reference into the mapping: the
    // bytes land in `out` and are interpreted only there, by code that checks them. A
    // producer process that broke the protocol could make the bytes torn, never
    // something outside `out`.
    unsafe {
        std::ptr::copy_nonoverlapping(src.as_ptr().cast::<u8>(), out.as_mut_ptr(), out.len());
    }
    true
}

impl crate::shm::seqlock::LoadWord for ReadOnlyWord {
    #[inline(always)]
    fn load(&self, order: Ordering) -> u64 {
        self.0.load(order)
    }
    #[inline(always)]
    fn fence(order: Ordering) {
        std::sync::atomic::fence(order)
    }
    #[inline(always)]
    fn spin() {
        std::hint::spin_loop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp_file(bytes: &[u8]) -> std::io::Result<(File, std::path::PathBuf)> {
        let path =
            std::env::temp_dir().join(format!("dps_raw_{}_{}", std::process::id(), bytes.len()));
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&path)?;
        f.write_all(bytes)?;
        Ok((f, path))
    }

    #[test]
    fn words_see_file_contents_and_bounds_are_checked() -> Result<(), Box<dyn std::error::Error>> {
        let mut bytes = vec![0u8; 20];
        bytes[8..16].copy_from_slice(&0x0102_0304_0506_0708u64.to_ne_bytes());
        let (f, path) = temp_file(&bytes)?;
        let ro = Mapping::map(&f, 20, false)?;
        std::fs::remove_file(&path)?;
        assert_eq!(ro.words().len(), 2, "trailing partial word left out");
        assert_eq!(ro.words()[1].load(Ordering::Relaxed), 0x0102_0304_0506_0708);
        assert!(
            ro.atomic_words().is_none(),
            "read-only mapping hands out no stores"
        );
        assert!(ro.words_at(8, 1).is_some());
        assert!(ro.words_at(8, 2).is_none(), "past the end");
        assert!(ro.words_at(4, 1).is_none(), "misaligned");
        assert!(ro.words_at(usize::MAX - 7, 2).is_none(), "overflow");
        Ok(())
    }

    #[test]
    fn writable_mapping_stores_reach_the_file() -> Result<(), Box<dyn std::error::Error>> {
        let (f, path) = temp_file(&[0u8; 16])?;
        let rw = Mapping::map(&f, 16, true)?;
        let words = rw.atomic_words().ok_or("writable mapping without words")?;
        words[0].store(42, Ordering::Relaxed);
        let ro = Mapping::map(&f, 16, false)?;
        assert_eq!(ro.words()[0].load(Ordering::Relaxed), 42);
        drop(rw);
        let on_disk = std::fs::read(&path)?;
        std::fs::remove_file(&path)?;
        assert_eq!(on_disk[..8], 42u64.to_ne_bytes());
        Ok(())
    }

    #[test]
    fn record_copies_write_head_and_body_and_zero_the_last_word() {
        let words: Vec<AtomicU64> = (0..5).map(|_| AtomicU64::new(u64::MAX)).collect();
        let body: Vec<u8> = (1..=11).collect();
        assert!(write_record(&words, &[7, 9], &body));
        assert_eq!(words[0].load(Ordering::Relaxed), 7);
        assert_eq!(words[1].load(Ordering::Relaxed), 9);
        let mut w2 = [0u8; 8];
        w2.copy_from_slice(&body[..8]);
        assert_eq!(words[2].load(Ordering::Relaxed), u64::from_ne_bytes(w2));
        let mut w3 = [0u8; 8];
        w3[..3].copy_from_slice(&body[8..]);
        assert_eq!(
            words[3].load(Ordering::Relaxed),
            u64::from_ne_bytes(w3),
            "tail bytes of the last word zeroed"
        );
        assert_eq!(
            words[4].load(Ordering::Relaxed),
            u64::MAX,
            "past the record"
        );
        let mut out = vec![0u8; 11];
        assert!(read_bytes(&words[2..], &mut out));
        assert_eq!(out, body);
        assert!(
            !write_record(&words, &[1, 2, 3, 4], &body),
            "one word short"
        );
        assert_eq!(words[0].load(Ordering::Relaxed), 7, "nothing written");
        assert!(
            write_record(&words, &[], &[5, 6, 7]),
            "a body shorter than a word"
        );
        assert_eq!(
            words[0].load(Ordering::Relaxed),
            u64::from_ne_bytes([5, 6, 7, 0, 0, 0, 0, 0])
        );
        let mut long = vec![0u8; 25];
        assert!(!read_bytes(&words[2..], &mut long), "past the words");
    }

    #[test]
    fn writer_area_lends_its_split_and_copies_values_out_of_the_pool() {
        let words: Arc<Vec<AtomicU64>> = Arc::new((0..6).map(|_| AtomicU64::new(0)).collect());
        let area = WriterArea::new(Arc::clone(&words), |w| Some(w.split_at(2)))
            .unwrap_or_else(|| unreachable!("split found"));
        let (buckets, pool) = area.words();
        assert_eq!((buckets.len(), pool.len()), (2, 4));
        assert!(
            std::ptr::eq(&pool[0], &words[2]),
            "the pool is the owner's memory"
        );
        let bytes: [u8; 13] = std::array::from_fn(|i| i as u8 + 1);
        let mut w = [[0u8; 8]; 2];
        w[0].copy_from_slice(&bytes[..8]);
        w[1][..5].copy_from_slice(&bytes[8..]);
        pool[1].store(u64::from_ne_bytes(w[0]), Ordering::Relaxed);
        pool[2].store(u64::from_ne_bytes(w[1]), Ordering::Relaxed);
        let mut out = [0u8; 13];
        assert!(area.copy_from_pool(1, &mut out));
        assert_eq!(out, bytes);
        let mut wide = [0u8; 17];
        assert!(
            !area.copy_from_pool(2, &mut wide),
            "three words from word 2 end past the pool"
        );
        assert_eq!(wide, [0; 17], "nothing copied");
        assert!(!area.copy_from_pool(usize::MAX, &mut out), "overflow");
        // in place: the same bytes, bounds and alignment checked
        let in_place: Option<&[u8; 13]> = area.pool_ref(1);
        assert_eq!(in_place, Some(&bytes));
        let word: Option<&u64> = area.pool_ref(3);
        assert_eq!(word, Some(&0));
        assert!(area.pool_ref::<[u8; 17]>(2).is_none(), "past the pool");
        assert!(area.pool_ref::<u8>(usize::MAX).is_none(), "overflow");
        assert!(
            area.pool_ref::<u128>(0).is_none(),
            "more alignment than a word's"
        );
        assert!(WriterArea::new(words, |_| None).is_none());
    }

    #[test]
    fn empty_file_is_refused() -> Result<(), Box<dyn std::error::Error>> {
        let (f, path) = temp_file(&[])?;
        std::fs::remove_file(&path)?;
        assert!(matches!(Mapping::map(&f, 0, false), Err(MapError::Empty)));
        Ok(())
    }
}
