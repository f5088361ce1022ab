//! The sequence-lock protocol that lets readers copy an entry while the single writer
//! changes it, without ever blocking the writer.
//!
//! A version word guards a group of payload words. The writer makes the version odd,
//! issues a release fence, stores the payload with relaxed stores and publishes the next
//! even version with a release store. A reader loads the version (acquire), copies the
//! payload with relaxed loads, issues an acquire fence and re-reads the version: equal
//! and even means the copy is one consistent state; otherwise it retries, a bounded
//! number of times. Copying through atomic words is what makes the racy copy defined
//! behaviour in the Rust memory model.
//!
//! The protocol is generic over [`LoadWord`]/[`StoreWord`] so that the loom tests below
//! check it (and the table engine built on it) over every interleaving.

use std::sync::atomic::{AtomicU64, Ordering};

/// A 64-bit word that can be loaded atomically, with the fence and spin hint of its
/// atomic family (std or loom).
pub trait LoadWord {
    /// Atomic load.
    fn load(&self, order: Ordering) -> u64;
    /// A memory fence of the same family.
    fn fence(order: Ordering);
    /// Called between read retries.
    fn spin();
}

/// A word the (single) writer may also store to.
pub trait StoreWord: LoadWord {
    /// Atomic store.
    fn store(&self, value: u64, order: Ordering);
}

impl LoadWord for AtomicU64 {
    #[inline(always)]
    fn load(&self, order: Ordering) -> u64 {
        AtomicU64::load(self, order)
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

impl StoreWord for AtomicU64 {
    #[inline(always)]
    fn store(&self, value: u64, order: Ordering) {
        AtomicU64::store(self, value, order)
    }
}

/// How often a reader retries one torn read before giving up: generous, because a
/// writer's critical section is a few dozen stores; a version that stays odd this long
/// means the writer died mid-write.
pub const READ_TRIES: u32 = 100_000;

/// Writer: runs `write` (relaxed stores of the guarded words) inside an odd version.
///
/// Must only be called by the one writer of `version`; `write` must not panic (compute
/// the new contents before calling).
#[inline(always)]
pub fn write<W: StoreWord>(version: &W, write: impl FnOnce()) {
    let odd = version.load(Ordering::Relaxed).wrapping_add(1) | 1;
    version.store(odd, Ordering::Relaxed);
    W::fence(Ordering::Release);
    write();
    version.store(odd.wrapping_add(1), Ordering::Release);
}

/// Reader: runs `read` (relaxed loads of the guarded words, copying them out) until it
/// ran entirely inside one even version; `None` after `tries` torn attempts.
///
/// `read` may see a torn mix of old and new words: it must not act on them beyond
/// copying (indices read inside are checked, never trusted); only a returned value has
/// been validated.
#[inline(always)]
pub fn read<W: LoadWord, R>(version: &W, tries: u32, mut read: impl FnMut() -> R) -> Option<R> {
    for _ in 0..tries {
        let before = version.load(Ordering::Acquire);
        if before & 1 == 0 {
            let copied = read();
            W::fence(Ordering::Acquire);
            if version.load(Ordering::Relaxed) == before {
                return Some(copied);
            }
        }
        W::spin();
    }
    None
}

/// The loom flavour of the atomic-word traits, so the protocol and the table engine run
/// under loom's model checker in ordinary unit tests.
#[cfg(test)]
pub(crate) mod loom_word {
    use super::{LoadWord, StoreWord};
    use std::sync::atomic::Ordering;

    impl LoadWord for loom::sync::atomic::AtomicU64 {
        fn load(&self, order: Ordering) -> u64 {
            loom::sync::atomic::AtomicU64::load(self, order)
        }
        fn fence(order: Ordering) {
            loom::sync::atomic::fence(order)
        }
        fn spin() {
            loom::thread::yield_now()
        }
    }

    impl StoreWord for loom::sync::atomic::AtomicU64 {
        fn store(&self, value: u64, order: Ordering) {
            loom::sync::atomic::AtomicU64::store(self, value, order)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use loom::sync::atomic::AtomicU64 as LoomU64;
    use loom::sync::Arc;

    #[test]
    fn single_thread_round_trip() {
        let version = AtomicU64::new(0);
        let payload = [AtomicU64::new(0), AtomicU64::new(0)];
        write(&version, || {
            payload[0].store(7, Ordering::Relaxed);
            payload[1].store(8, Ordering::Relaxed);
        });
        assert_eq!(version.load(Ordering::Relaxed), 2);
        let got = read(&version, 1, || {
            (
                payload[0].load(Ordering::Relaxed),
                payload[1].load(Ordering::Relaxed),
            )
        });
        assert_eq!(got, Some((7, 8)));
    }

    #[test]
    fn odd_version_is_never_accepted() {
        let version = AtomicU64::new(3);
        assert_eq!(read(&version, 5, || 1), None);
    }

    /// Every interleaving of two writes of the pair (k, k) with one reader: the reader
    /// either gives up or sees one whole pair, never a mix.
    #[test]
    fn loom_reader_never_sees_a_torn_pair() {
        loom::model(|| {
            let cell = Arc::new((LoomU64::new(0), [LoomU64::new(0), LoomU64::new(0)]));
            let writer = {
                let cell = Arc::clone(&cell);
                loom::thread::spawn(move || {
                    for k in 1..=2u64 {
                        write(&cell.0, || {
                            cell.1[0].store(k, Ordering::Relaxed);
                            cell.1[1].store(k, Ordering::Relaxed);
                        });
                    }
                })
            };
            let got = read(&cell.0, 2, || {
                (
                    cell.1[0].load(Ordering::Relaxed),
                    cell.1[1].load(Ordering::Relaxed),
                )
            });
            if let Some((a, b)) = got {
                assert_eq!(a, b, "torn read accepted");
            }
            assert!(writer.join().is_ok(), "writer thread failed");
            // After the writer is done a read always succeeds and sees the last pair.
            let last = read(&cell.0, 1, || cell.1[0].load(Ordering::Relaxed));
            assert_eq!(last, Some(2));
        });
    }
}
