//! A stand-in for a DPDK mbuf mempool, for tests: each buffer is one heap block laid out
//! like an mbuf (our header, whose first 128 bytes are where `struct rte_mbuf` would be,
//! then the data room), and every release is counted, a second release of the same block
//! separately. The pool keeps its own bookkeeping in the descriptor's second cache line,
//! which the header leaves to the owner as DPDK keeps its own fields there.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::ffi::c_void;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::{
    BufHeader, BufSource, ForeignFrame, ForeignOwner, Meta, PacketBuf, BUF_HEADER_SIZE, BUF_SIZE,
    HEADROOM,
};

/// Where the pool's bookkeeping sits in a block: the descriptor's second cache line,
/// the owner's part of the header (DPDK keeps its own fields there).
const BOOKKEEPING: usize = 64;
/// One block: header (descriptor and private area), data room.
const BLOCK: usize = BUF_HEADER_SIZE + BUF_SIZE;

/// What the pool keeps in a block's descriptor: the way back from a handle to its pool.
#[repr(C)]
struct Descriptor {
    /// From `Arc::into_raw` at allocation: the buffer keeps its pool alive.
    pool: *const Shared,
    index: usize,
}

#[derive(Debug, Default)]
struct Counts {
    free: Vec<usize>,
    in_use: Vec<bool>,
    released: usize,
    double_released: usize,
}

struct Shared {
    blocks: Vec<NonNull<u8>>,
    counts: Mutex<Counts>,
}

// SAFETY: the blocks are plain memory; a block is touched only by the one `PacketBuf` it is
// handed out to (or by the pool while it is free), and the counts sit behind a mutex.
unsafe impl Send for Shared {}
// SAFETY: as for `Send`: shared access goes through the mutex.
unsafe impl Sync for Shared {}

impl Drop for Shared {
    fn drop(&mut self) {
        for block in &self.blocks {
            // SAFETY: each block was allocated in `FakeMempool::new` with `layout()`, and
            // no buffer is left (each held a reference to this pool).
            unsafe { dealloc(block.as_ptr(), layout()) };
        }
    }
}

const _: () = assert!(BLOCK % 8 == 0);

/// A block as 8-byte words: 8-aligned, like an mbuf's parts.
fn layout() -> Layout {
    Layout::new::<[u64; BLOCK / 8]>()
}

fn counts(shared: &Shared) -> MutexGuard<'_, Counts> {
    shared.counts.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The pool; clones share it (one goes into a [`super::Pool`], the test keeps another).
#[derive(Clone)]
pub(crate) struct FakeMempool(Arc<Shared>);

impl std::fmt::Debug for FakeMempool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("FakeMempool")
            .field(&*counts(&self.0))
            .finish()
    }
}

/// `release` of our buffers: marks the block free, counts, drops the buffer's pool reference.
unsafe fn release(handle: NonNull<c_void>) {
    // SAFETY: handles are block starts, whose bookkeeping `received` wrote.
    let desc = unsafe {
        handle
            .cast::<u8>()
            .add(BOOKKEEPING)
            .cast::<Descriptor>()
            .as_ptr()
            .read()
    };
    // SAFETY: the pool is alive: this buffer's reference, or for a second release the
    // test's own clone, keeps it.
    let shared = unsafe { &*desc.pool };
    let mut c = counts(shared);
    if !c.in_use[desc.index] {
        c.double_released += 1;
        return;
    }
    c.in_use[desc.index] = false;
    c.free.push(desc.index);
    c.released += 1;
    drop(c);
    // SAFETY: the reference `received` took for this buffer, given back once (the block
    // was in use).
    unsafe { drop(Arc::from_raw(desc.pool)) };
}

impl FakeMempool {
    /// A pool of `n` zeroed buffers.
    pub(crate) fn new(n: usize) -> FakeMempool {
        let blocks = (0..n)
            .map(|_| {
                // SAFETY: the layout has a non-zero size.
                NonNull::new(unsafe { alloc_zeroed(layout()) })
                    .unwrap_or_else(|| std::alloc::handle_alloc_error(layout()))
            })
            .collect();
        FakeMempool(Arc::new(Shared {
            blocks,
            counts: Mutex::new(Counts {
                free: (0..n).rev().collect(),
                in_use: vec![false; n],
                ..Counts::default()
            }),
        }))
    }

    /// A buffer as a NIC receives one: `frame` written at offset `head` of the data room;
    /// `None` when all are in use.
    pub(crate) fn received(&self, head: u16, frame: &[u8]) -> Option<PacketBuf> {
        if usize::from(head) + frame.len() > BUF_SIZE {
            return None;
        }
        let index = {
            let mut c = counts(&self.0);
            let index = c.free.pop()?;
            c.in_use[index] = true;
            index
        };
        let block = self.0.blocks[index];
        let pool = Arc::into_raw(Arc::clone(&self.0));
        // SAFETY: the block is ours and now in use by this buffer alone; header (with the
        // bookkeeping in its descriptor) and data room lie inside it at offsets 0 and
        // BUF_HEADER_SIZE (multiples of 8, the block is 8-aligned, zeroed when made).
        unsafe {
            block
                .add(BOOKKEEPING)
                .cast::<Descriptor>()
                .as_ptr()
                .write(Descriptor { pool, index });
            let header = block.cast::<BufHeader>();
            let data = block.add(BUF_HEADER_SIZE);
            data.add(usize::from(head))
                .as_ptr()
                .copy_from_nonoverlapping(frame.as_ptr(), frame.len());
            PacketBuf::from_foreign(
                ForeignFrame {
                    header,
                    data,
                    capacity: BUF_SIZE as u16,
                    head,
                    len: frame.len() as u16,
                    owner: ForeignOwner {
                        handle: block.cast::<c_void>(),
                        release,
                    },
                },
                Meta::default(),
            )
            .ok()
        }
    }

    /// The frame of a buffer handed back by [`PacketBuf::into_foreign`] (as a NIC reads
    /// it); `None` if `handle` is not one of ours in use.
    pub(crate) fn frame_of(&self, handle: NonNull<c_void>, head: u16, len: u16) -> Option<Vec<u8>> {
        let index = self.index_in_use(handle)?;
        if usize::from(head) + usize::from(len) > BUF_SIZE {
            return None;
        }
        // SAFETY: the block is in use and was handed back (no `PacketBuf` refers to it);
        // the range lies in its data room.
        let bytes = unsafe {
            std::slice::from_raw_parts(
                self.0.blocks[index]
                    .add(BUF_HEADER_SIZE + usize::from(head))
                    .as_ptr(),
                usize::from(len),
            )
        };
        Some(bytes.to_vec())
    }

    /// Frees a buffer handed back by [`PacketBuf::into_foreign`] (the NIC sent it).
    pub(crate) fn tx_done(&self, handle: NonNull<c_void>) {
        if self.index_in_use(handle).is_some() {
            // SAFETY: one of our blocks in use, whose buffer was handed back.
            unsafe { release(handle) };
        }
    }

    fn index_in_use(&self, handle: NonNull<c_void>) -> Option<usize> {
        let index = self
            .0
            .blocks
            .iter()
            .position(|b| b.cast::<c_void>() == handle)?;
        counts(&self.0).in_use[index].then_some(index)
    }

    /// Buffers given back once.
    pub(crate) fn released(&self) -> usize {
        counts(&self.0).released
    }

    /// Releases of a buffer that was already free (each one is a bug).
    pub(crate) fn double_released(&self) -> usize {
        counts(&self.0).double_released
    }

    pub(crate) fn buffers_in_use(&self) -> usize {
        counts(&self.0).in_use.iter().filter(|u| **u).count()
    }
}

impl BufSource for FakeMempool {
    fn alloc(&mut self) -> Option<PacketBuf> {
        self.received(HEADROOM as u16, &[])
    }

    fn capacity(&self) -> usize {
        self.0.blocks.len()
    }

    fn in_use(&self) -> usize {
        self.buffers_in_use()
    }
}
