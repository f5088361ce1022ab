//! Typed tables over the engine: the one [`TableWriter`] (the daemon's worker) and any
//! number of [`TableReader`]s (tools, in-process readers), for `K, V: Pod`.

use std::hash::{BuildHasher, Hasher};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytemuck::Pod;

pub use super::engine::key_words;
use super::engine::{Geometry, KeyWords, ReadError, View};
use super::header::{self, TableInfo};
use super::raw::{ReadOnlyWord, WriterArea};
use super::region::{load_counter, Shared};

/// Widest key the engine compares (64-byte interface and LB ids).
pub const MAX_KEY_BYTES: usize = 64;

/// Marks the key and value types without owning any (the data lives in the region), so
/// writer and reader are `Send`/`Sync` whatever `K` and `V` are.
type Types<K, V> = PhantomData<fn() -> (K, V)>;

/// Why a typed table could not be attached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// Not in the directory.
    #[error("the region has no table '{0}'")]
    NoSuchTable(String),
    /// Sizes differ: another build's catalogue.
    #[error("table '{name}' holds {found_key}-byte keys and {found_value}-byte values, this build expects {key} and {value}: use tools of the same build as the daemon")]
    TypeMismatch {
        /// Table.
        name: String,
        /// Key size in the region.
        found_key: u32,
        /// Value size in the region.
        found_value: u32,
        /// Key size expected.
        key: usize,
        /// Value size expected.
        value: usize,
    },
    /// A second writer.
    #[error("table '{0}' already has a writer")]
    WriterTaken(String),
    /// Read-only region.
    #[error("table '{0}' is in a read-only region")]
    ReadOnly(String),
    /// The directory's geometry does not fit the mapping.
    #[error("table '{0}' lies outside its region")]
    OutOfRange(String),
}

/// Where an entry lives in a table's pool: stable until that entry is removed (entries
/// never move).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Slot(u32);

impl Slot {
    /// No entry (a placeholder until a lookup fills it in).
    pub const NONE: Slot = Slot(u32::MAX);

    /// The pool position.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Why an insert was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InsertError {
    /// No free entry (counted in `insert_failures`).
    #[error("the table is full")]
    Full,
    /// The key is present already.
    #[error("the key exists already")]
    Exists,
}

/// Where a table lives and how it hashes: shared by writer and readers.
#[derive(Debug, Clone)]
struct Placement {
    shared: Arc<Shared>,
    first_word: usize,
    geo: Geometry,
    /// `geo.area_words()`, computed once (every reader call makes a view).
    area_words: usize,
    hasher: foldhash::fast::FixedState,
    entries_word: usize,
    failures_word: usize,
    high_water_word: usize,
}

impl Placement {
    fn new<K, V>(shared: Arc<Shared>, name: &str) -> Result<Placement, TableError> {
        let info: TableInfo = shared
            .info(name)
            .ok_or_else(|| TableError::NoSuchTable(name.to_owned()))?
            .clone();
        let (key, value) = (size_of::<K>(), size_of::<V>());
        if info.key_size as usize != key || info.value_size as usize != value || key > MAX_KEY_BYTES
        {
            return Err(TableError::TypeMismatch {
                name: name.to_owned(),
                found_key: info.key_size,
                found_value: info.value_size,
                key,
                value,
            });
        }
        let out_of_range = || TableError::OutOfRange(name.to_owned());
        let geo = Geometry {
            bucket_count: usize::try_from(info.bucket_count).map_err(|_| out_of_range())?,
            capacity: usize::try_from(info.capacity).map_err(|_| out_of_range())?,
            key_bytes: key,
            value_bytes: value,
        };
        let first_word = usize::try_from(info.offset / 8).map_err(|_| out_of_range())?;
        let placement = Placement {
            first_word,
            geo,
            area_words: geo.area_words(),
            hasher: foldhash::fast::FixedState::with_seed(shared.header.hash_seed),
            entries_word: header::entries_word(info.slot),
            failures_word: header::insert_failures_word(info.slot),
            high_water_word: header::high_water_word(info.slot),
            shared,
        };
        placement.read_view().ok_or_else(out_of_range)?;
        Ok(placement)
    }

    #[inline(always)]
    fn area<'a, W>(&self, words: &'a [W]) -> Option<&'a [W]> {
        words.get(self.first_word..self.first_word.checked_add(self.area_words)?)
    }

    #[inline(always)]
    fn read_view(&self) -> Option<View<'_, ReadOnlyWord>> {
        View::new(self.area(self.shared.map.words())?, self.geo)
    }

    /// The hash of a key's bytes: folded 16 bytes at a time (the last block zero-padded;
    /// a table's keys all have one length), so a typed caller's key of constant size
    /// hashes in a few multiplications instead of foldhash's byte-string path.
    #[inline(always)]
    fn hash(&self, key: &[u8]) -> u64 {
        let n = key.len().div_ceil(8);
        let words = KeyWords::new(key);
        self.hash_words(words.words.get(..n).unwrap_or(&words.words))
    }

    /// [`Placement::hash`] of the key whose words ([`key_words`]) are `words`: the same
    /// 16-byte blocks, two words each.
    #[inline(always)]
    fn hash_words(&self, words: &[u64]) -> u64 {
        let mut h = self.hasher.build_hasher();
        for pair in words.chunks(2) {
            let lo = pair.first().copied().unwrap_or(0).to_ne_bytes();
            let hi = pair.get(1).copied().unwrap_or(0).to_ne_bytes();
            let mut block = [0u8; 16];
            block[..8].copy_from_slice(&lo);
            block[8..].copy_from_slice(&hi);
            h.write_u128(u128::from_ne_bytes(block));
        }
        h.finish()
    }

    fn capacity(&self) -> usize {
        self.geo.capacity
    }

    /// The writer's high-water mark, clamped to the capacity.
    fn high_water(&self) -> usize {
        let mark = load_counter(&self.shared.map, self.high_water_word);
        usize::try_from(mark).map_or(self.geo.capacity, |m| m.min(self.geo.capacity))
    }
}

/// The one writer of a table. `Send`, not `Clone`; dropping it lets another attach.
#[derive(Debug)]
pub struct TableWriter<K, V> {
    place: Placement,
    /// The table's words, checked once at attach (every call makes a view of them).
    area: WriterArea<Shared>,
    slot: usize,
    /// Entries returned by `remove`, reused first.
    free: Vec<u32>,
    /// Entries at and above this index were never used.
    fresh_from: usize,
    len: u64,
    failures: u64,
    _types: Types<K, V>,
}

impl<K: Pod + Eq, V: Pod> TableWriter<K, V> {
    pub(crate) fn attach(shared: Arc<Shared>, name: &str) -> Result<TableWriter<K, V>, TableError> {
        if !shared.map.is_writable() {
            return Err(TableError::ReadOnly(name.to_owned()));
        }
        let place = Placement::new::<K, V>(shared, name)?;
        let slot = place
            .shared
            .tables
            .iter()
            .position(|t| t.name == name)
            .ok_or_else(|| TableError::NoSuchTable(name.to_owned()))?;
        let taken = place
            .shared
            .taken
            .get(slot)
            .ok_or_else(|| TableError::ReadOnly(name.to_owned()))?;
        if taken.swap(true, Ordering::AcqRel) {
            return Err(TableError::WriterTaken(name.to_owned()));
        }
        let (first, words, geo) = (place.first_word, place.area_words, place.geo);
        let area = WriterArea::new(Arc::clone(&place.shared), |shared| {
            let all = shared.map.atomic_words()?;
            let area = all.get(first..first.checked_add(words)?)?;
            Some(View::new(area, geo)?.split())
        })
        .ok_or_else(|| TableError::OutOfRange(name.to_owned()))?;
        let len = load_counter(&place.shared.map, place.entries_word);
        let failures = load_counter(&place.shared.map, place.failures_word);
        let fresh_from = place.high_water();
        let mut writer = TableWriter {
            place,
            area,
            slot,
            free: Vec::new(),
            fresh_from,
            len,
            failures,
            _types: PhantomData,
        };
        // A previous writer may have left entries: rebuild the free list from the used
        // part of the pool (a fresh table has none, so its pages stay untouched).
        let view = writer.view();
        writer.free = (0..fresh_from)
            .rev()
            .filter(|&i| !view.in_use(i))
            .map(|i| i as u32)
            .collect();
        Ok(writer)
    }

    #[inline(always)]
    fn view(&self) -> View<'_, AtomicU64> {
        let (buckets, pool) = self.area.words();
        View::from_split(buckets, pool, self.place.geo)
    }

    /// Copies the value of entry `index` into `out` (plain loads: see
    /// [`WriterArea::copy_from_pool`]).
    #[inline(always)]
    fn value_into(&self, index: usize, out: &mut V) {
        if let Some(start) = View::<AtomicU64>::value_start::<K, V>(index) {
            self.area.copy_from_pool(start, out);
        }
    }

    fn counter(&self, word: usize) -> Option<&AtomicU64> {
        self.place.shared.map.atomic_words()?.get(word)
    }

    fn publish_len(&self) {
        if let Some(c) = self.counter(self.place.entries_word) {
            c.store(self.len, Ordering::Relaxed);
        }
    }

    /// The value of `key`.
    #[inline]
    pub fn get(&self, key: &K) -> Option<V> {
        let view = self.view();
        let (index, _) = view.find::<K, V>(view.bucket_of(self.hash_of(key)), key)?;
        let mut value = V::zeroed();
        self.value_into(index, &mut value);
        Some(value)
    }

    /// Whether `key` is present.
    pub fn contains(&self, key: &K) -> bool {
        let view = self.view();
        view.find::<K, V>(view.bucket_of(self.hash_of(key)), key)
            .is_some()
    }

    /// Changes the value of `key` in place (readers see the old or the new value whole);
    /// `false` if absent.
    pub fn update(&mut self, key: &K, change: impl FnOnce(&mut V)) -> bool {
        let view = self.view();
        let Some((index, _)) = view.find::<K, V>(view.bucket_of(self.hash_of(key)), key) else {
            return false;
        };
        let mut value = V::zeroed();
        self.value_into(index, &mut value);
        change(&mut value);
        view.write_value::<K, V>(index, &value);
        true
    }

    /// Adds `key` → `value`; refused if present or if the table is full (counted).
    pub fn insert(&mut self, key: K, value: V) -> Result<(), InsertError> {
        self.insert_slot(key, value).map(|_| ())
    }

    /// Sets `key` → `value`, inserting if absent; `Err(Full)` only when absent and full.
    pub fn upsert(&mut self, key: K, value: V) -> Result<(), InsertError> {
        let view = self.view();
        let bucket = view.bucket_of(self.hash_of(&key));
        match view.find::<K, V>(bucket, &key) {
            Some((index, _)) => {
                view.write_value::<K, V>(index, &value);
                Ok(())
            }
            None => self.link_slot(bucket, &key, &value).map(|_| ()),
        }
    }

    fn link_slot(&mut self, bucket: usize, key: &K, value: &V) -> Result<Slot, InsertError> {
        let index = match self.free.pop() {
            Some(i) => i as usize,
            None if self.fresh_from < self.place.capacity() => {
                self.fresh_from += 1;
                if let Some(c) = self.counter(self.place.high_water_word) {
                    c.store(self.fresh_from as u64, Ordering::Relaxed);
                }
                self.fresh_from - 1
            }
            None => {
                self.failures += 1;
                if let Some(c) = self.counter(self.place.failures_word) {
                    c.store(self.failures, Ordering::Relaxed);
                }
                return Err(InsertError::Full);
            }
        };
        if !self.view().link_new(index, bucket, key, value) {
            self.free.push(index as u32);
            return Err(InsertError::Full);
        }
        self.len += 1;
        self.publish_len();
        Ok(Slot(index as u32))
    }

    /// Looks `key` up once and answers where its entry is with its value: the packet
    /// path then changes the entry by [`TableWriter::write_at`] without a second lookup.
    #[inline]
    pub fn lookup(&self, key: &K) -> Option<(Slot, V)> {
        let view = self.view();
        let (index, _) = view.find::<K, V>(view.bucket_of(self.hash_of(key)), key)?;
        let mut value = V::zeroed();
        self.value_into(index, &mut value);
        Some((Slot(index as u32), value))
    }

    /// Like [`TableWriter::lookup`], copying the value straight into `out` (the packet
    /// path keeps it in place, without moving it around).
    #[inline]
    pub fn lookup_into(&self, key: &K, out: &mut V) -> Option<Slot> {
        let view = self.view();
        let (index, _) = view.find::<K, V>(view.bucket_of(self.hash_of(key)), key)?;
        self.value_into(index, out);
        Some(Slot(index as u32))
    }

    /// The hash that places `key` in the table: a staged lookup computes it once, uses
    /// it for [`TableWriter::prefetch_bucket`] and [`TableWriter::prefetch_chain`], then
    /// for [`TableWriter::lookup_hashed_into`] (and, on a miss,
    /// [`TableWriter::insert_absent`]).
    #[inline]
    pub fn hash_of(&self, key: &K) -> u64 {
        self.place.hash(bytemuck::bytes_of(key))
    }

    /// Prefetches the bucket head a lookup of `hash` reads first.
    #[inline(always)]
    pub fn prefetch_bucket(&self, hash: u64) {
        let view = self.view();
        view.prefetch_bucket(view.bucket_of(hash));
    }

    /// Prefetches the first entry of the chain a lookup of `hash` walks (after
    /// [`TableWriter::prefetch_bucket`] had time to land); answers whether that chain
    /// is empty (so a lookup of `hash` will miss).
    #[inline(always)]
    pub fn prefetch_chain(&self, hash: u64) -> bool {
        let view = self.view();
        view.prefetch_chain::<K, V>(view.bucket_of(hash))
    }

    /// [`TableWriter::contains`] with the key's hash from [`TableWriter::hash_of`].
    #[inline]
    pub fn contains_hashed(&self, key: &K, hash: u64) -> bool {
        debug_assert_eq!(hash, self.hash_of(key), "hash of another key");
        let view = self.view();
        view.find::<K, V>(view.bucket_of(hash), key).is_some()
    }

    /// [`TableWriter::lookup_into`] with the key's hash from [`TableWriter::hash_of`].
    #[inline]
    pub fn lookup_hashed_into(&self, key: &K, hash: u64, out: &mut V) -> Option<Slot> {
        debug_assert_eq!(hash, self.hash_of(key), "hash of another key");
        let view = self.view();
        let (index, _) = view.find::<K, V>(view.bucket_of(hash), key)?;
        self.value_into(index, out);
        Some(Slot(index as u32))
    }

    /// Where `key` (whose [`TableWriter::hash_of`] is `hash`) is stored, without copying
    /// its value: the packet path's fast lane reads it in place
    /// ([`TableWriter::value_at`]) and hands the slot on ([`TableWriter::value_into_at`])
    /// when it leaves the packet to the walk.
    #[inline]
    pub fn find_hashed(&self, key: &K, hash: u64) -> Option<Slot> {
        debug_assert_eq!(hash, self.hash_of(key), "hash of another key");
        let view = self.view();
        let (index, _) = view.find::<K, V>(view.bucket_of(hash), key)?;
        Some(Slot(index as u32))
    }

    /// The hash of the key whose words ([`key_words`]) are `words`: equal to
    /// [`TableWriter::hash_of`] of that key.
    #[inline(always)]
    pub fn hash_of_words(&self, words: &[u64]) -> u64 {
        debug_assert_eq!(
            words.len(),
            size_of::<K>().div_ceil(8),
            "words of another key type"
        );
        self.place.hash_words(words)
    }

    /// [`TableWriter::find_hashed`] of the key whose words ([`key_words`]) are `words`
    /// and whose hash is `hash` (from [`TableWriter::hash_of_words`]).
    #[inline(always)]
    pub fn find_words(&self, words: &[u64], hash: u64) -> Option<Slot> {
        debug_assert_eq!(hash, self.place.hash_words(words), "hash of another key");
        let view = self.view();
        let (index, _) = view.find_words::<K, V>(view.bucket_of(hash), words)?;
        Some(Slot(index as u32))
    }

    /// The value at `slot` (found by [`TableWriter::find_hashed`] and not removed since),
    /// read in place: valid until the writer next changes the table (which needs
    /// `&mut self`, so not while the reference lives).
    #[inline(always)]
    pub fn value_at(&self, slot: Slot) -> Option<&V> {
        let start = View::<AtomicU64>::value_start::<K, V>(slot.index())?;
        self.area.pool_ref(start)
    }

    /// Copies the value at `slot` (as [`TableWriter::value_at`]) into `out`.
    #[inline(always)]
    pub fn value_into_at(&self, slot: Slot, out: &mut V) {
        self.value_into(slot.index(), out);
    }

    /// Adds `key` → `value` where `key` is known to be absent (a lookup with `hash`
    /// just missed and nothing was added since): no second search. Storing a key twice
    /// would hide one copy, so only callers that just looked may use this.
    #[inline]
    pub fn insert_absent(&mut self, key: &K, hash: u64, value: &V) -> Result<Slot, InsertError> {
        debug_assert_eq!(hash, self.hash_of(key), "hash of another key");
        debug_assert!(!self.contains(key), "insert_absent of a present key");
        let bucket = self.view().bucket_of(hash);
        self.link_slot(bucket, key, value)
    }

    /// Whether `n` more keys fit; if not, the refusal is counted as an insert failure
    /// (`Err(Full)`), as the insert that needed the room would have been. Lets a caller
    /// check for room before it inserts later (the packet path links a new flow's keys
    /// once its walk is done).
    pub fn room_for(&mut self, n: usize) -> Result<(), InsertError> {
        let unused = self.place.capacity().saturating_sub(self.fresh_from);
        if self.free.len().saturating_add(unused) >= n {
            return Ok(());
        }
        self.failures += 1;
        if let Some(c) = self.counter(self.place.failures_word) {
            c.store(self.failures, Ordering::Relaxed);
        }
        Err(InsertError::Full)
    }

    /// Replaces the value of the entry at `slot` (found by [`TableWriter::lookup`] or
    /// made by [`TableWriter::insert_slot`], and not removed since).
    #[inline]
    pub fn write_at(&mut self, slot: Slot, value: &V) {
        self.view().write_value::<K, V>(slot.0 as usize, value);
    }

    /// Like [`TableWriter::insert`], answering where the entry went.
    pub fn insert_slot(&mut self, key: K, value: V) -> Result<Slot, InsertError> {
        let view = self.view();
        let bucket = view.bucket_of(self.hash_of(&key));
        if view.find::<K, V>(bucket, &key).is_some() {
            return Err(InsertError::Exists);
        }
        self.link_slot(bucket, &key, &value)
    }

    /// Visits the used entries among pool positions `from .. from + count` (a sweep
    /// spread over many calls, as aging does); answers the position to continue from,
    /// 0 once the used part of the pool is passed.
    pub fn scan(&self, from: usize, count: usize, mut visit: impl FnMut(Slot, &K, &V)) -> usize {
        let view = self.view();
        let end = from.saturating_add(count).min(self.fresh_from);
        let mut key = K::zeroed();
        let mut value = V::zeroed();
        for index in from..end {
            if view.entry_of(
                index,
                bytemuck::bytes_of_mut(&mut key),
                bytemuck::bytes_of_mut(&mut value),
            ) {
                visit(Slot(index as u32), &key, &value);
            }
        }
        if end >= self.fresh_from {
            0
        } else {
            end
        }
    }

    /// Pool positions ever used (the extent a [`TableWriter::scan`] sweeps).
    pub fn high_water(&self) -> usize {
        self.fresh_from
    }

    /// Removes `key`, answering its value.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        let view = self.view();
        let bucket = view.bucket_of(self.hash_of(key));
        let (index, prev) = view.find::<K, V>(bucket, key)?;
        let mut value = V::zeroed();
        self.value_into(index, &mut value);
        view.unlink_and_free(index, prev, bucket);
        self.free.push(index as u32);
        self.len -= 1;
        self.publish_len();
        Some(value)
    }

    /// Calls `visit` for every entry (pool order).
    pub fn for_each(&self, mut visit: impl FnMut(&K, &V)) {
        let view = self.view();
        let (mut key, mut value) = (K::zeroed(), V::zeroed());
        for index in 0..self.fresh_from {
            if view.entry_of(
                index,
                bytemuck::bytes_of_mut(&mut key),
                bytemuck::bytes_of_mut(&mut value),
            ) {
                visit(&key, &value);
            }
        }
    }

    /// Removes every entry for which `keep` answers `false` (aging, bulk purges);
    /// answers how many were removed.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &V) -> bool) -> usize {
        let mut doomed = Vec::new();
        self.for_each(|k, v| {
            if !keep(k, v) {
                doomed.push(*k);
            }
        });
        doomed.iter().filter(|k| self.remove(k).is_some()).count()
    }

    /// Keys stored.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Most keys the table holds.
    pub fn capacity(&self) -> usize {
        self.place.capacity()
    }

    /// Inserts refused so far because the table was full.
    pub fn insert_failures(&self) -> u64 {
        self.failures
    }

    /// A reader of the same table (in-process readers).
    pub fn reader(&self) -> TableReader<K, V> {
        TableReader {
            place: self.place.clone(),
            _types: PhantomData,
        }
    }
}

impl<K, V> Drop for TableWriter<K, V> {
    fn drop(&mut self) {
        if let Some(t) = self.place.shared.taken.get(self.slot) {
            t.store(false, Ordering::Release);
        }
    }
}

/// A reader of a table: never blocks the writer; `Clone + Send + Sync`.
#[derive(Debug)]
pub struct TableReader<K, V> {
    place: Placement,
    _types: Types<K, V>,
}

impl<K, V> Clone for TableReader<K, V> {
    fn clone(&self) -> Self {
        TableReader {
            place: self.place.clone(),
            _types: PhantomData,
        }
    }
}

impl<K: Pod + Eq, V: Pod> TableReader<K, V> {
    pub(crate) fn attach(shared: Arc<Shared>, name: &str) -> Result<TableReader<K, V>, TableError> {
        Ok(TableReader {
            place: Placement::new::<K, V>(shared, name)?,
            _types: PhantomData,
        })
    }

    /// The value of `key`, read consistently; a torn or relinked read is retried
    /// (bounded), and a value is only ever returned for exactly `key`.
    #[inline]
    pub fn get(&self, key: &K) -> Result<Option<V>, ReadError> {
        let key = bytemuck::bytes_of(key);
        let view = self.place.read_view().ok_or(ReadError::Corrupt)?;
        let mut value = V::zeroed();
        let found = view.read_lookup(
            view.bucket_of(self.place.hash(key)),
            key,
            bytemuck::bytes_of_mut(&mut value),
        )?;
        Ok(found.then_some(value))
    }

    /// Every entry, each read consistently on its own. Not a point-in-time snapshot:
    /// entries changed during the sweep may appear in their old or new state, or not at
    /// all; entries the writer kept busy are skipped and counted (`Iter::contended`).
    pub fn iter(&self) -> Iter<'_, K, V> {
        self.iter_from(0)
    }

    /// Like [`iter`](Self::iter), starting at pool slot `slot`: a viewer pages through
    /// a large table by remembering [`Iter::position`] instead of reading all entries.
    pub fn iter_from(&self, slot: usize) -> Iter<'_, K, V> {
        Iter {
            reader: self,
            next: slot,
            contended: 0,
        }
    }

    /// Pool slots in use so far (the writer's high-water mark): every entry lives in a
    /// slot below it, so `slot / high_water()` places a position within the table.
    pub fn high_water(&self) -> usize {
        self.place.high_water()
    }

    /// Keys stored (the writer's counter).
    pub fn len(&self) -> usize {
        load_counter(&self.place.shared.map, self.place.entries_word) as usize
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Most keys the table holds.
    pub fn capacity(&self) -> usize {
        self.place.capacity()
    }

    /// Inserts refused so far because the table was full.
    pub fn insert_failures(&self) -> u64 {
        load_counter(&self.place.shared.map, self.place.failures_word)
    }
}

/// Sweep over a table's pool; see [`TableReader::iter`].
#[derive(Debug)]
pub struct Iter<'a, K, V> {
    reader: &'a TableReader<K, V>,
    next: usize,
    contended: usize,
}

impl<K, V> Iter<'_, K, V> {
    /// Entries skipped because they stayed busy or the table is corrupt.
    pub fn contended(&self) -> usize {
        self.contended
    }

    /// The pool slot the next call to `next` examines first (after an item: one past
    /// that item's slot).
    pub fn position(&self) -> usize {
        self.next
    }
}

impl<K: Pod + Eq, V: Pod> Iterator for Iter<'_, K, V> {
    type Item = (K, V);

    fn next(&mut self) -> Option<(K, V)> {
        let view = self.reader.place.read_view()?;
        let (mut key, mut value) = (K::zeroed(), V::zeroed());
        let end = self.reader.place.high_water();
        while self.next < end {
            let index = self.next;
            self.next += 1;
            match view.read_entry(
                index,
                bytemuck::bytes_of_mut(&mut key),
                bytemuck::bytes_of_mut(&mut value),
            ) {
                Ok(true) => return Some((key, value)),
                Ok(false) => {}
                Err(_) => self.contended += 1,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shm::region::{Region, RegionBuilder, WritableRegion};
    use crate::shm::test_support::ShmPath;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// A 12-byte key (a partial last word) and a 20-byte value.
    #[repr(C)]
    #[derive(Debug, Clone, Copy, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
    struct Key {
        lo: u32,
        hi: u32,
        b: u32,
    }
    impl Key {
        fn id(&self) -> u64 {
            u64::from(self.lo) | u64::from(self.hi) << 32
        }
    }
    #[repr(C)]
    #[derive(Debug, Clone, Copy, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
    struct Val {
        x: [u32; 5],
    }

    fn key(i: u64) -> Key {
        Key {
            lo: i as u32,
            hi: (i >> 32) as u32,
            b: i as u32 ^ 0xdead,
        }
    }
    fn val(i: u64) -> Val {
        Val { x: [i as u32; 5] }
    }

    fn region(
        tag: &str,
        capacity: u64,
        buckets: u64,
    ) -> Result<(ShmPath, WritableRegion), Box<dyn std::error::Error>> {
        let path = ShmPath::new(tag);
        let mut b = RegionBuilder::new();
        b.table_with_buckets::<Key, Val>("t", capacity, buckets)?;
        let region = b.create(&path.0)?;
        Ok((path, region))
    }

    #[test]
    fn insert_get_update_remove_seen_by_a_reader_in_another_mapping() -> TestResult {
        let (path, region) = region("basic", 100, 128)?;
        let mut w = region.writer::<Key, Val>("t")?;
        let r = Region::open(&path.0)?.reader::<Key, Val>("t")?;
        for i in 0..50 {
            w.insert(key(i), val(i))?;
        }
        assert_eq!(w.insert(key(7), val(0)), Err(InsertError::Exists));
        assert_eq!((w.len(), r.len()), (50, 50));
        assert_eq!(w.get(&key(7)), Some(val(7)));
        assert_eq!(r.get(&key(7))?, Some(val(7)));
        assert_eq!(r.get(&key(70))?, None);
        assert!(w.update(&key(7), |v| v.x[4] = 99));
        assert!(!w.update(&key(70), |v| v.x[4] = 99));
        assert_eq!(r.get(&key(7))?.map(|v| v.x[4]), Some(99));
        w.upsert(key(8), val(80))?;
        w.upsert(key(80), val(80))?;
        assert_eq!(r.get(&key(8))?, Some(val(80)));
        assert_eq!(w.remove(&key(9)), Some(val(9)));
        assert_eq!(w.remove(&key(9)), None);
        assert_eq!(r.get(&key(9))?, None);
        let mut seen: Vec<u64> = r.iter().map(|(k, _)| k.id()).collect();
        seen.sort_unstable();
        let mut expected: Vec<u64> = (0..50).filter(|&i| i != 9).chain([80]).collect();
        expected.sort_unstable();
        assert_eq!(seen, expected);
        assert_eq!(r.len(), 50);
        Ok(())
    }

    /// A key handed over as its words hashes and is found as the key itself, and its
    /// hash is foldhash over the key's bytes in zero-padded 16-byte blocks.
    #[test]
    fn keys_as_words_hash_and_find_as_the_keys() -> TestResult {
        let (_path, region) = region("words", 64, 16)?;
        let mut w = region.writer::<Key, Val>("t")?;
        for i in 0..40 {
            w.insert(key(i), val(i))?;
        }
        for i in 0..80 {
            let k = key(i);
            let words: Vec<u64> = key_words(bytemuck::bytes_of(&k)).collect();
            let hash = w.hash_of(&k);
            assert_eq!(w.hash_of_words(&words), hash, "key {i}");
            assert_eq!(
                w.find_words(&words, hash),
                w.find_hashed(&k, hash),
                "key {i}"
            );
            assert_eq!(w.find_words(&words, hash).is_some(), i < 40, "key {i}");
            let mut blocks = w.place.hasher.build_hasher();
            for chunk in bytemuck::bytes_of(&k).chunks(16) {
                let mut block = [0u8; 16];
                block[..chunk.len()].copy_from_slice(chunk);
                blocks.write_u128(u128::from_ne_bytes(block));
            }
            assert_eq!(blocks.finish(), hash, "key {i}");
        }
        Ok(())
    }

    #[test]
    fn full_table_fails_cleanly_and_counts() -> TestResult {
        let (_path, region) = region("full", 4, 4)?;
        let mut w = region.writer::<Key, Val>("t")?;
        for i in 0..4 {
            w.insert(key(i), val(i))?;
        }
        assert_eq!(w.insert(key(4), val(4)), Err(InsertError::Full));
        assert_eq!(w.upsert(key(5), val(5)), Err(InsertError::Full));
        w.upsert(key(3), val(33))?;
        assert_eq!(w.insert_failures(), 2);
        let r = region.region();
        assert_eq!(r.reader::<Key, Val>("t")?.insert_failures(), 2);
        let stats = r.stats();
        assert_eq!(
            (
                stats[0].entries,
                stats[0].capacity,
                stats[0].insert_failures
            ),
            (4, 4, 2)
        );
        for i in 0..4 {
            assert!(
                w.get(&key(i)).is_some(),
                "a failed insert disturbed nothing"
            );
        }
        Ok(())
    }

    #[test]
    fn removed_entries_are_reused() -> TestResult {
        let (_path, region) = region("reuse", 2, 2)?;
        let mut w = region.writer::<Key, Val>("t")?;
        let r = w.reader();
        for round in 0..100u64 {
            w.insert(key(round), val(round))?;
            w.insert(key(round + 1000), val(round))?;
            assert_eq!(
                w.insert(key(round + 2000), val(round)),
                Err(InsertError::Full)
            );
            assert_eq!(r.get(&key(round))?, Some(val(round)));
            assert_eq!(w.remove(&key(round)), Some(val(round)));
            assert_eq!(w.remove(&key(round + 1000)), Some(val(round)));
            assert!(r.is_empty());
        }
        assert_eq!(r.iter().count(), 0);
        Ok(())
    }

    /// One bucket: every key collides, so removal from the head, the middle and the end
    /// of a chain is exercised.
    #[test]
    fn colliding_keys_share_one_chain() -> TestResult {
        let (_path, region) = region("collide", 16, 1)?;
        let mut w = region.writer::<Key, Val>("t")?;
        let r = w.reader();
        for i in 0..16 {
            w.insert(key(i), val(i))?;
        }
        for i in [15, 7, 0] {
            assert_eq!(w.remove(&key(i)), Some(val(i)));
        }
        for i in 0..16 {
            let expected = (![15, 7, 0].contains(&i)).then(|| val(i));
            assert_eq!(w.get(&key(i)), expected, "writer, key {i}");
            assert_eq!(r.get(&key(i))?, expected, "reader, key {i}");
        }
        w.insert(key(7), val(70))?;
        assert_eq!(r.get(&key(7))?, Some(val(70)));
        assert_eq!(r.iter().count(), 14);
        Ok(())
    }

    #[test]
    fn retain_removes_what_it_rejects() -> TestResult {
        let (_path, region) = region("retain", 64, 16)?;
        let mut w = region.writer::<Key, Val>("t")?;
        for i in 0..40 {
            w.insert(key(i), val(i))?;
        }
        assert_eq!(w.retain(|k, _| k.id() % 4 == 0), 30);
        let mut left = Vec::new();
        w.for_each(|k, v| left.push((k.id(), v.x[0])));
        left.sort_unstable();
        assert_eq!(
            left,
            (0..40)
                .step_by(4)
                .map(|i| (i, i as u32))
                .collect::<Vec<_>>()
        );
        Ok(())
    }

    #[test]
    fn one_writer_at_a_time_and_a_new_writer_finds_the_free_entries() -> TestResult {
        let (path, region) = region("reattach", 8, 8)?;
        let mut w = region.writer::<Key, Val>("t")?;
        assert_eq!(
            region.writer::<Key, Val>("t").err(),
            Some(TableError::WriterTaken("t".into()))
        );
        for i in 0..6 {
            w.insert(key(i), val(i))?;
        }
        w.remove(&key(2));
        drop(w);
        let mut w = region.writer::<Key, Val>("t")?;
        assert_eq!(w.len(), 5);
        for i in 10..13 {
            w.insert(key(i), val(i))?;
        }
        assert_eq!(w.insert(key(13), val(13)), Err(InsertError::Full));
        assert_eq!(w.get(&key(5)), Some(val(5)));
        let ro = Region::open(&path.0)?;
        assert_eq!(ro.reader::<Key, Val>("t")?.iter().count(), 8);
        assert_eq!(ro.writer_attempt(), Some(TableError::ReadOnly("t".into())));
        Ok(())
    }

    #[test]
    fn a_reader_pages_from_a_pool_slot() -> TestResult {
        let (path, region) = region("paging", 16, 16)?;
        let mut w = region.writer::<Key, Val>("t")?;
        for i in 0..10 {
            w.insert(key(i), val(i))?;
        }
        w.remove(&key(3));
        let ro = Region::open(&path.0)?;
        let r = ro.reader::<Key, Val>("t")?;
        assert_eq!(r.high_water(), 10);
        let all: Vec<(Key, Val)> = r.iter().collect();
        let mut page = r.iter_from(0);
        let first: Vec<(Key, Val)> = page.by_ref().take(4).collect();
        let rest: Vec<(Key, Val)> = r.iter_from(page.position()).collect();
        assert_eq!(first.len(), 4);
        assert_eq!([first, rest].concat(), all);
        assert_eq!(r.iter_from(10).count(), 0);
        assert_eq!(r.iter_from(usize::MAX).count(), 0);
        Ok(())
    }

    #[test]
    fn readers_are_shareable_and_writers_movable() {
        fn reader<T: Clone + Send + Sync>() {}
        fn writer<T: Send>() {}
        reader::<TableReader<Key, Val>>();
        writer::<TableWriter<Key, Val>>();
    }

    #[test]
    fn mismatched_types_and_names_are_refused() -> TestResult {
        let (path, _region) = region("types", 8, 8)?;
        let ro = Region::open(&path.0)?;
        assert!(matches!(
            ro.reader::<u64, Val>("t"),
            Err(TableError::TypeMismatch { .. })
        ));
        assert!(matches!(
            ro.reader::<Key, Val>("nope"),
            Err(TableError::NoSuchTable(_))
        ));
        let text = ro
            .reader::<Key, u8>("t")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(text.contains("same build"), "{text}");
        Ok(())
    }
}
