//! The table engine over plain words: chained hashing with a fixed pool of entries that
//! never move. Generic over the atomic-word type so loom can check it.
//!
//! Area layout: the bucket heads, two 32-bit heads to a word (bucket `b` in word `b / 2`,
//! the low half for even `b`; a head is entry index + 1, 0 = empty chain), then the pool
//! of `capacity` entries of `words_per_entry` words:
//!
//! ```text
//! [version][meta = bucket + 1, 0 = free][next = index + 1, 0 = end][key words][value words]
//! ```
//!
//! Each entry's version is a seqlock over all its other words. All-zero memory is an
//! empty table. The single writer links a filled entry at the head of its chain (entry
//! first, then the head word with release order; it changes its half of the head word
//! by loading and storing the whole word, which only a single writer may), unlinks by rewriting the predecessor's
//! `next` (or the head), and only then marks the entry free. A reader that walks into an
//! entry which meanwhile left its chain notices (`meta` no longer names the bucket it is
//! walking) and restarts from the head; a walk is bounded by the capacity, and an index
//! outside the pool is reported as corruption, so a bad region cannot make a reader loop
//! or index out of bounds.

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use super::header::ENTRY_META_WORDS;
use super::raw::prefetch;
use super::seqlock::{self, LoadWord, StoreWord};

const META: usize = 1;
const NEXT: usize = 2;
const KEY: usize = ENTRY_META_WORDS as usize;

/// How often a reader restarts a chain walk that raced with a relink.
pub const WALK_RESTARTS: u32 = 1000;

/// Why a reader got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The writer kept changing what the reader looked at (or died mid-write).
    #[error(
        "the table changed too fast to read consistently (or its writer died mid-write); try again"
    )]
    Contended,
    /// The region holds an index outside the table.
    #[error("the table is corrupt (an entry index points outside it)")]
    Corrupt,
}

/// Sizes of one table, in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Buckets, a power of two.
    pub bucket_count: usize,
    /// Pool entries.
    pub capacity: usize,
    /// Bytes of a key.
    pub key_bytes: usize,
    /// Bytes of a value.
    pub value_bytes: usize,
}

impl Geometry {
    /// Words of a key.
    #[inline(always)]
    pub fn key_words(&self) -> usize {
        self.key_bytes.div_ceil(8)
    }
    /// Words of a value.
    #[inline(always)]
    pub fn value_words(&self) -> usize {
        self.value_bytes.div_ceil(8)
    }
    /// Words of a pool entry.
    #[inline(always)]
    pub fn words_per_entry(&self) -> usize {
        KEY + self.key_words() + self.value_words()
    }
    /// Words of the bucket heads (two to a word).
    #[inline(always)]
    pub fn head_words(&self) -> usize {
        self.bucket_count.div_ceil(2)
    }
    /// Words of the whole area.
    #[inline(always)]
    pub fn area_words(&self) -> usize {
        self.head_words() + self.capacity * self.words_per_entry()
    }
}

/// Bits of one bucket head: its half of a head word.
const HEAD_BITS: u32 = 32;
const HEAD_MASK: u64 = (1 << HEAD_BITS) - 1;

/// The head word of `bucket` and where its half lies in it.
#[inline(always)]
fn head_place(bucket: usize) -> (usize, u32) {
    (bucket / 2, (bucket % 2) as u32 * HEAD_BITS)
}

/// One table's words: bucket heads and pool.
#[derive(Debug)]
pub struct View<'a, W> {
    buckets: &'a [W],
    pool: &'a [W],
    geo: Geometry,
    read_tries: u32,
    walk_restarts: u32,
}

impl<W> Clone for View<'_, W> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<W> Copy for View<'_, W> {}

/// A key as the words the pool holds, converted once per lookup instead of once per
/// compared entry.
#[derive(Clone, Copy)]
pub(super) struct KeyWords {
    pub(super) words: [u64; super::table::MAX_KEY_BYTES / 8],
}

/// The words of a key's bytes as the pool holds them and lookups compare and hash them:
/// native-endian 8-byte words, the last zero-padded. A caller that builds keys from
/// values it holds in registers can hand lookups the words themselves
/// ([`super::table::TableWriter::find_words`]), so that nothing reads back, in words, a
/// key just stored field by field: such a load spans several smaller stores, which the
/// CPU cannot forward, and waits until they reach the cache.
pub fn key_words(key: &[u8]) -> impl Iterator<Item = u64> + '_ {
    key.chunks(8).map(|chunk| match <[u8; 8]>::try_from(chunk) {
        Ok(word) => u64::from_ne_bytes(word),
        Err(_) => tail_word(chunk),
    })
}

impl KeyWords {
    #[inline(always)]
    pub(super) fn new(key: &[u8]) -> KeyWords {
        let mut words = [0u64; super::table::MAX_KEY_BYTES / 8];
        for (w, word) in words.iter_mut().zip(key_words(key)) {
            *w = word;
        }
        KeyWords { words }
    }
}

/// Word counts of a table's key and value types: constants once monomorphised, so the
/// writer's loops over an entry's words unroll (the geometry holds the same numbers at
/// run time; a writer attaches only to a table whose sizes are its types').
struct Shape<K, V>(std::marker::PhantomData<fn() -> (K, V)>);

impl<K, V> Shape<K, V> {
    const KEY_WORDS: usize = size_of::<K>().div_ceil(8);
    const VALUE_WORDS: usize = size_of::<V>().div_ceil(8);
    const ENTRY_WORDS: usize = KEY + Self::KEY_WORDS + Self::VALUE_WORDS;
}

/// Whether the entry holds `key` (of type `K`): every key word compared, without a
/// branch per word.
#[inline(always)]
fn typed_key_matches<K, W: LoadWord>(entry: &[W], key: &[u64]) -> bool {
    let n = Shape::<K, ()>::KEY_WORDS;
    let (Some(stored), Some(wanted)) = (entry.get(KEY..KEY + n), key.get(..n)) else {
        return false;
    };
    let mut diff = 0;
    for (w, k) in stored.iter().zip(wanted) {
        diff |= w.load(Relaxed) ^ *k;
    }
    diff == 0
}

/// Copies `src` words into `out` (the last word partially).
#[inline(always)]
fn copy_words<W: LoadWord>(src: &[W], out: &mut [u8]) {
    let mut words = src.iter();
    let mut chunks = out.chunks_exact_mut(8);
    for chunk in &mut chunks {
        match words.next() {
            Some(w) => chunk.copy_from_slice(&w.load(Relaxed).to_ne_bytes()),
            None => return,
        }
    }
    let rest = chunks.into_remainder();
    if let (false, Some(w)) = (rest.is_empty(), words.next()) {
        for (d, s) in rest.iter_mut().zip(w.load(Relaxed).to_ne_bytes()) {
            *d = s;
        }
    }
}

/// The last, partial word of a byte string (zero-padded), without a variable-length copy.
#[inline(always)]
fn tail_word(rest: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    for (d, s) in b.iter_mut().zip(rest) {
        *d = *s;
    }
    u64::from_ne_bytes(b)
}

/// Stores the bytes of `v` into `dst` words (the last one zero-padded). Generic over the
/// type so the word count is a constant the compiler unrolls (the writer's hot copies).
#[inline(always)]
fn store_pod<W: StoreWord, T: bytemuck::Pod>(dst: &[W], v: &T) {
    let bytes = bytemuck::bytes_of(v);
    let mut chunks = bytes.chunks_exact(8);
    for (w, chunk) in dst.iter().zip(&mut chunks) {
        w.store(
            u64::from_ne_bytes(chunk.try_into().unwrap_or([0; 8])),
            Relaxed,
        );
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        if let Some(w) = dst.get(bytes.len() / 8) {
            w.store(tail_word(rest), Relaxed);
        }
    }
}

/// What one validated step of a chain walk found.
enum Step {
    Found,
    Next(u64),
    Moved,
}

impl<'a, W: LoadWord> View<'a, W> {
    /// The view of an area of exactly `geo.area_words()` words; `None` if it is shorter.
    #[inline(always)]
    pub fn new(area: &'a [W], geo: Geometry) -> Option<View<'a, W>> {
        if !geo.bucket_count.is_power_of_two() {
            return None;
        }
        let buckets = area.get(..geo.head_words())?;
        let pool = area.get(geo.head_words()..geo.area_words())?;
        Some(View {
            buckets,
            pool,
            geo,
            read_tries: seqlock::READ_TRIES,
            walk_restarts: WALK_RESTARTS,
        })
    }

    /// The view of bucket heads and pool that [`View::split`] cut from an area that
    /// [`View::new`] accepted with the same geometry (the writer does that once, when
    /// it attaches): nothing checked per call. Other slices make lookups miss or
    /// report corruption (every index is still bounds-checked), never misbehave.
    #[inline(always)]
    pub fn from_split(buckets: &'a [W], pool: &'a [W], geo: Geometry) -> View<'a, W> {
        View {
            buckets,
            pool,
            geo,
            read_tries: seqlock::READ_TRIES,
            walk_restarts: WALK_RESTARTS,
        }
    }

    /// The bucket heads and the pool of a view (see [`View::from_split`]).
    pub fn split(&self) -> (&'a [W], &'a [W]) {
        (self.buckets, self.pool)
    }

    #[cfg(test)]
    /// The same view with other retry bounds (tiny ones keep loom's search small).
    pub fn with_retry_limits(mut self, read_tries: u32, walk_restarts: u32) -> Self {
        self.read_tries = read_tries;
        self.walk_restarts = walk_restarts;
        self
    }

    /// Bucket of a hash.
    #[inline(always)]
    pub fn bucket_of(&self, hash: u64) -> usize {
        (hash as usize) & (self.geo.bucket_count - 1)
    }

    /// The head of `bucket`'s chain, `None` if the bucket is outside the table. Loads the
    /// whole head word (its other half is another bucket's, which the writer may change
    /// meanwhile: the load still sees this half as the writer last stored it).
    #[inline(always)]
    fn head(&self, bucket: usize, order: std::sync::atomic::Ordering) -> Option<u64> {
        let (word, shift) = head_place(bucket);
        Some((self.buckets.get(word)?.load(order) >> shift) & HEAD_MASK)
    }

    /// Prefetches the head word of `bucket` (first step of a staged lookup).
    #[inline(always)]
    pub fn prefetch_bucket(&self, bucket: usize) {
        if let Some(head) = self.buckets.get(head_place(bucket).0) {
            prefetch(head);
        }
    }

    /// Prefetches every cache line of the first entry of `bucket`'s chain (second step of
    /// a staged lookup: the head word should be cached by now). The chain's first entry
    /// is the one a lookup reads first, and with the table at most about half full
    /// usually the only one. Answers whether the chain is empty (a lookup will miss).
    /// `K`, `V`: the table's key and value types (the entry's size is then a constant).
    #[inline(always)]
    pub fn prefetch_chain<K, V>(&self, bucket: usize) -> bool {
        let Some(link) = self.head(bucket, Relaxed) else {
            return false;
        };
        if link == 0 {
            return true;
        }
        let n = Shape::<K, V>::ENTRY_WORDS;
        debug_assert_eq!(n, self.geo.words_per_entry(), "types of another table");
        // a prefetch is a hint: a corrupt link (an entry outside the pool) only goes
        // without it, and `get` then misses; one bounds check for the whole entry
        let start = (link as usize).wrapping_sub(1).wrapping_mul(n);
        let Some(entry) = self.pool.get(start..start.wrapping_add(n)) else {
            return false;
        };
        // 8 words are a cache line; an entry starts at any word, so its last word may
        // lie in one more line
        // an index loop over a constant count: unrolled (a `step_by` iterator was not)
        let mut word = 0;
        while word < n {
            if let Some(w) = entry.get(word) {
                prefetch(w);
            }
            word += 8;
        }
        if n % 8 != 1 {
            if let Some(w) = entry.last() {
                prefetch(w);
            }
        }
        false
    }

    #[inline(always)]
    fn entry(&self, index: usize) -> Option<&'a [W]> {
        let wpe = self.geo.words_per_entry();
        self.pool
            .get(index.checked_mul(wpe)?..(index + 1).checked_mul(wpe)?)
    }

    #[inline(always)]
    fn key_matches(&self, entry: &[W], key: &KeyWords) -> bool {
        let n = self.geo.key_words();
        match (entry.get(KEY..KEY + n), key.words.get(..n)) {
            (Some(stored), Some(wanted)) => stored
                .iter()
                .zip(wanted)
                .all(|(w, k)| w.load(Relaxed) == *k),
            _ => false,
        }
    }

    #[inline(always)]
    fn copy_value(&self, entry: &[W], out: &mut [u8]) {
        let base = KEY + self.geo.key_words();
        if let Some(src) = entry.get(base..base + self.geo.value_words()) {
            copy_words(src, out);
        }
    }

    #[inline(always)]
    fn copy_key(&self, entry: &[W], out: &mut [u8]) {
        if let Some(src) = entry.get(KEY..KEY + self.geo.key_words()) {
            copy_words(src, out);
        }
    }

    /// Reader lookup of `key` (its bytes) in `bucket`: copies the value into `out` and
    /// answers `true`, or `false` if absent. A returned value was read in one consistent
    /// state of an entry holding exactly `key`.
    pub fn read_lookup(
        &self,
        bucket: usize,
        key: &[u8],
        out: &mut [u8],
    ) -> Result<bool, ReadError> {
        let (word, shift) = head_place(bucket);
        let head = self.buckets.get(word).ok_or(ReadError::Corrupt)?;
        let my_meta = bucket as u64 + 1;
        let key = &KeyWords::new(key);
        'restart: for _ in 0..self.walk_restarts {
            let mut link = (head.load(Acquire) >> shift) & HEAD_MASK;
            let mut steps = 0usize;
            while link != 0 {
                steps += 1;
                if steps > self.geo.capacity {
                    // Longer than the pool: the writer kept relinking under us.
                    continue 'restart;
                }
                let index = usize::try_from(link - 1).map_err(|_| ReadError::Corrupt)?;
                let entry = self.entry(index).ok_or(ReadError::Corrupt)?;
                let step = seqlock::read(&entry[0], self.read_tries, || {
                    if entry[META].load(Relaxed) != my_meta {
                        return Step::Moved;
                    }
                    let next = entry[NEXT].load(Relaxed);
                    if self.key_matches(entry, key) {
                        self.copy_value(entry, out);
                        Step::Found
                    } else {
                        Step::Next(next)
                    }
                })
                .ok_or(ReadError::Contended)?;
                match step {
                    Step::Found => return Ok(true),
                    Step::Next(next) => link = next,
                    Step::Moved => continue 'restart,
                }
            }
            return Ok(false);
        }
        Err(ReadError::Contended)
    }

    /// Reader: the key and value of pool entry `index` if it is in use, read in one
    /// consistent state.
    pub fn read_entry(
        &self,
        index: usize,
        key_out: &mut [u8],
        value_out: &mut [u8],
    ) -> Result<bool, ReadError> {
        let entry = self.entry(index).ok_or(ReadError::Corrupt)?;
        seqlock::read(&entry[0], self.read_tries, || {
            if entry[META].load(Relaxed) == 0 {
                return false;
            }
            self.copy_key(entry, key_out);
            self.copy_value(entry, value_out);
            true
        })
        .ok_or(ReadError::Contended)
    }

    /// Writer-only fast lookup (no version checks: nobody else changes the table):
    /// the pool index of `key` and of its predecessor in the chain (`None` = the head).
    /// `K`, `V`: the table's key and value types (their sizes are the geometry's).
    #[inline(always)]
    pub fn find<K: bytemuck::Pod, V: bytemuck::Pod>(
        &self,
        bucket: usize,
        key: &K,
    ) -> Option<(usize, Option<usize>)> {
        self.find_words::<K, V>(bucket, &KeyWords::new(bytemuck::bytes_of(key)).words)
    }

    /// [`View::find`] with the key as its words (see [`key_words`]).
    #[inline(always)]
    pub fn find_words<K: bytemuck::Pod, V: bytemuck::Pod>(
        &self,
        bucket: usize,
        key: &[u64],
    ) -> Option<(usize, Option<usize>)> {
        let mut link = self.head(bucket, Relaxed)?;
        let mut prev = None;
        for _ in 0..self.geo.capacity {
            if link == 0 {
                return None;
            }
            let index = usize::try_from(link - 1).ok()?;
            let entry = self.typed_entry::<K, V>(index)?;
            if typed_key_matches::<K, W>(entry, key) {
                return Some((index, prev));
            }
            prev = Some(index);
            link = entry[NEXT].load(Relaxed);
        }
        None
    }

    /// Pool entry `index` with the word counts of the types `K`, `V` (constants, so the
    /// writer's loops over its words unroll).
    #[inline(always)]
    fn typed_entry<K, V>(&self, index: usize) -> Option<&'a [W]> {
        let n = Shape::<K, V>::ENTRY_WORDS;
        debug_assert_eq!(n, self.geo.words_per_entry(), "types of another table");
        let start = index.checked_mul(n)?;
        self.pool.get(start..start.checked_add(n)?)
    }

    /// Writer-only: copies key and value of entry `index` if it is in use.
    pub fn entry_of(&self, index: usize, key_out: &mut [u8], value_out: &mut [u8]) -> bool {
        match self.entry(index) {
            Some(entry) if entry[META].load(Relaxed) != 0 => {
                self.copy_key(entry, key_out);
                self.copy_value(entry, value_out);
                true
            }
            _ => false,
        }
    }

    /// Writer: the pool word where the value of entry `index` starts (`K`, `V`: the
    /// table's key and value types); the writer copies it out of its own area.
    #[inline(always)]
    pub fn value_start<K, V>(index: usize) -> Option<usize> {
        index
            .checked_mul(Shape::<K, V>::ENTRY_WORDS)?
            .checked_add(KEY + Shape::<K, V>::KEY_WORDS)
    }

    /// Whether pool entry `index` is in use (writer: rebuilding its free list).
    pub fn in_use(&self, index: usize) -> bool {
        self.entry(index)
            .is_some_and(|e| e[META].load(Relaxed) != 0)
    }
}

impl<W: StoreWord> View<'_, W> {
    /// Writer: points `bucket`'s head at `link` (release order: the entries it links
    /// were written before). The other half of the word is stored back as loaded: only
    /// the writer ever changes a head, so nothing can change it in between.
    #[inline(always)]
    fn set_head(&self, bucket: usize, link: u64) -> bool {
        let (word, shift) = head_place(bucket);
        let Some(head) = self.buckets.get(word) else {
            return false;
        };
        let other = head.load(Relaxed) & !(HEAD_MASK << shift);
        head.store(other | ((link & HEAD_MASK) << shift), Release);
        true
    }

    /// Writer: fills free entry `index` with `key` and `value` (of the table's types)
    /// and links it at the head of `bucket`.
    #[inline(always)]
    pub fn link_new<K: bytemuck::Pod, V: bytemuck::Pod>(
        &self,
        index: usize,
        bucket: usize,
        key: &K,
        value: &V,
    ) -> bool {
        let (Some(entry), Some(old_head)) =
            (self.typed_entry::<K, V>(index), self.head(bucket, Relaxed))
        else {
            return false;
        };
        let vbase = KEY + Shape::<K, V>::KEY_WORDS;
        let (Some(k), Some(v)) = (
            entry.get(KEY..vbase),
            entry.get(vbase..vbase + Shape::<K, V>::VALUE_WORDS),
        ) else {
            return false;
        };
        seqlock::write(&entry[0], || {
            entry[META].store(bucket as u64 + 1, Relaxed);
            entry[NEXT].store(old_head, Relaxed);
            store_pod(k, key);
            store_pod(v, value);
        });
        self.set_head(bucket, index as u64 + 1)
    }

    /// Writer: replaces the value of entry `index` (`K`, `V`: the table's key and value
    /// types).
    #[inline(always)]
    pub fn write_value<K: bytemuck::Pod, V: bytemuck::Pod>(&self, index: usize, value: &V) {
        let vbase = KEY + Shape::<K, V>::KEY_WORDS;
        let Some(entry) = self.typed_entry::<K, V>(index) else {
            return;
        };
        if let (Some(version), Some(v)) = (
            entry.first(),
            entry.get(vbase..vbase + Shape::<K, V>::VALUE_WORDS),
        ) {
            seqlock::write(version, || store_pod(v, value));
        }
    }

    /// Writer: unlinks entry `index` (whose predecessor is `prev`, `None` = head of
    /// `bucket`) and marks it free. Readers then either still see the old entry whole or
    /// notice it left.
    pub fn unlink_and_free(&self, index: usize, prev: Option<usize>, bucket: usize) {
        let Some(entry) = self.entry(index) else {
            return;
        };
        let next = entry[NEXT].load(Relaxed);
        match prev.and_then(|p| self.entry(p)) {
            Some(p) => seqlock::write(&p[0], || p[NEXT].store(next, Relaxed)),
            None => {
                self.set_head(bucket, next);
            }
        }
        seqlock::write(&entry[0], || {
            entry[META].store(0, Relaxed);
            entry[NEXT].store(0, Relaxed);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use loom::sync::atomic::AtomicU64 as LoomU64;
    use loom::sync::Arc;

    fn geo(buckets: usize, capacity: usize) -> Geometry {
        Geometry {
            bucket_count: buckets,
            capacity,
            key_bytes: 8,
            value_bytes: 8,
        }
    }

    #[test]
    fn words_round_trip_with_partial_tail() {
        let bytes: [u8; 13] = std::array::from_fn(|i| i as u8 + 1);
        let words: Vec<std::sync::atomic::AtomicU64> = (0..2).map(|_| Default::default()).collect();
        store_pod(&words, &bytes);
        let mut out = vec![0u8; 13];
        copy_words(&words, &mut out);
        assert_eq!(out, bytes);
        assert_eq!(words[1].load(Relaxed) >> 40, 0, "tail padded with zeros");
        assert_eq!(KeyWords::new(&bytes).words[1], words[1].load(Relaxed));
    }

    #[test]
    fn short_area_is_refused() {
        let area: Vec<std::sync::atomic::AtomicU64> = (0..10).map(|_| Default::default()).collect();
        assert!(View::new(&area, geo(2, 2)).is_none(), "needs 2 + 2*5 words");
        assert!(
            View::new(&area, geo(3, 1)).is_none(),
            "buckets not a power of two"
        );
    }

    #[test]
    fn corrupt_links_are_reported_not_followed() {
        let g = geo(2, 2);
        let area: Vec<std::sync::atomic::AtomicU64> =
            (0..g.area_words()).map(|_| Default::default()).collect();
        let view = View::new(&area, g).unwrap_or_else(|| unreachable!());
        // Head of bucket 0 (low half of word 0) points past the pool.
        area[0].store(99, Relaxed);
        let mut out = [0u8; 8];
        assert_eq!(
            view.read_lookup(0, &[0; 8], &mut out),
            Err(ReadError::Corrupt)
        );
        assert_eq!(view.find::<[u8; 8], [u8; 8]>(0, &[0; 8]), None);
        // A cycle of two entries both claiming bucket 1 (high half of word 0, the pool
        // starts at word 1): bounded, not an endless loop.
        area[0].store(99 | 1 << 32, Relaxed);
        let wpe = g.words_per_entry();
        for (i, next) in [(0usize, 2u64), (1, 1)] {
            area[1 + i * wpe + META].store(2, Relaxed);
            area[1 + i * wpe + NEXT].store(next, Relaxed);
            area[1 + i * wpe + KEY].store(5, Relaxed);
        }
        let key = 6u64.to_ne_bytes();
        assert_eq!(
            view.read_lookup(1, &key, &mut out),
            Err(ReadError::Contended)
        );
        assert_eq!(view.find::<[u8; 8], [u8; 8]>(1, &key), None);
        assert_eq!(view.read_lookup(7, &key, &mut out), Err(ReadError::Corrupt));
    }

    #[test]
    fn two_buckets_share_a_head_word_without_disturbing_each_other() {
        let g = geo(4, 3);
        assert_eq!(g.head_words(), 2, "four 32-bit heads in two words");
        assert_eq!(
            geo(1, 1).head_words(),
            1,
            "a lone bucket still has its word"
        );
        let area: Vec<std::sync::atomic::AtomicU64> =
            (0..g.area_words()).map(|_| Default::default()).collect();
        let view = View::new(&area, g).unwrap_or_else(|| unreachable!());
        let (a, b, c) = (1u64.to_ne_bytes(), 2u64.to_ne_bytes(), 3u64.to_ne_bytes());
        assert!(view.link_new(0, 2, &a, &10u64.to_ne_bytes()));
        assert!(view.link_new(1, 3, &b, &20u64.to_ne_bytes()));
        assert!(view.link_new(2, 3, &c, &30u64.to_ne_bytes()));
        assert_eq!(area[0].load(Relaxed), 0, "buckets 0 and 1 untouched");
        assert_eq!(
            area[1].load(Relaxed),
            1 | 3 << 32,
            "bucket 2 low, bucket 3 high"
        );
        let mut out = [0u8; 8];
        for (bucket, key, value) in [(2, a, 10u64), (3, b, 20), (3, c, 30)] {
            assert_eq!(view.read_lookup(bucket, &key, &mut out), Ok(true));
            assert_eq!(u64::from_ne_bytes(out), value);
        }
        // Emptying bucket 3 (both entries) leaves bucket 2's half as it was.
        assert_eq!(view.find::<[u8; 8], [u8; 8]>(3, &c), Some((2, None)));
        view.unlink_and_free(2, None, 3);
        assert_eq!(view.find::<[u8; 8], [u8; 8]>(3, &b), Some((1, None)));
        view.unlink_and_free(1, None, 3);
        assert_eq!(area[1].load(Relaxed), 1, "only bucket 2's head left");
        assert_eq!(view.read_lookup(3, &b, &mut out), Ok(false));
        assert_eq!(view.read_lookup(2, &a, &mut out), Ok(true));
        assert!(
            !view.prefetch_chain::<[u8; 8], [u8; 8]>(2),
            "bucket 2 not empty"
        );
        assert!(view.prefetch_chain::<[u8; 8], [u8; 8]>(3), "bucket 3 empty");
    }

    /// A reader looks up key A (entry 0) in bucket 0, behind key B (entry 1), while the
    /// writer removes B and reuses entry 1 for key C in bucket 1 (whose head shares the
    /// word of bucket 0's, so the writer rewrites the word the reader loads). Over every
    /// interleaving the reader finds A with A's value (A is never removed) or gives up
    /// as contended; it never stops at C's chain or returns C's value.
    #[test]
    fn loom_lookup_races_remove_and_reinsert_into_another_bucket() {
        loom::model(|| {
            let g = geo(2, 2);
            let area: Arc<Vec<LoomU64>> =
                Arc::new((0..g.area_words()).map(|_| LoomU64::new(0)).collect());
            let (key_a, key_b, key_c) = (
                10u64.to_ne_bytes(),
                20u64.to_ne_bytes(),
                30u64.to_ne_bytes(),
            );
            {
                let view = View::new(&area[..], g).unwrap_or_else(|| unreachable!());
                // Chain of bucket 0: entry 1 (B) -> entry 0 (A).
                assert!(view.link_new(0, 0, &key_a, &100u64.to_ne_bytes()));
                assert!(view.link_new(1, 0, &key_b, &200u64.to_ne_bytes()));
            }
            let writer = {
                let area = Arc::clone(&area);
                loom::thread::spawn(move || {
                    let view = View::new(&area[..], g).unwrap_or_else(|| unreachable!());
                    view.unlink_and_free(1, None, 0);
                    // Reuse entry 1 for C in bucket 1, its next now ends the chain.
                    view.link_new(1, 1, &key_c, &300u64.to_ne_bytes());
                })
            };
            let view = View::new(&area[..], g)
                .unwrap_or_else(|| unreachable!())
                .with_retry_limits(3, 3);
            let mut out = [0u8; 8];
            match view.read_lookup(0, &key_a, &mut out) {
                Ok(found) => {
                    assert!(found, "A is never removed, a lookup must find it");
                    assert_eq!(u64::from_ne_bytes(out), 100);
                }
                Err(e) => assert_eq!(e, ReadError::Contended),
            }
            assert!(writer.join().is_ok());
        });
    }
}
