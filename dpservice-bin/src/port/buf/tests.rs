#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::fake_mempool::FakeMempool;
use super::*;
use crate::port::memory::MemoryPort;
use crate::port::Port;
use crate::wire::MacAddr;

/// Prepends, trims and refuses as a buffer with `head` bytes in front of `[1, 2, 3, 4]`
/// must.
fn exercise_headroom(mut b: PacketBuf, head: usize) {
    assert_eq!(b.frame(), &[1, 2, 3, 4]);
    assert_eq!(b.headroom(), head);
    assert!(b.prepend(2));
    b.frame_mut()[..2].copy_from_slice(&[9, 9]);
    assert_eq!(b.frame(), &[9, 9, 1, 2, 3, 4]);
    assert!(b.trim_front(3));
    assert_eq!(b.frame(), &[2, 3, 4]);
    assert!(!b.trim_front(4));
    assert!(b.trim_back(1));
    assert_eq!(b.frame(), &[2, 3]);
    assert!(!b.trim_back(3));
    // all the headroom there is, and not a byte more
    let front = b.headroom();
    assert!(!b.prepend(front + 1));
    assert_eq!(b.frame(), &[2, 3], "a refused prepend changes nothing");
    assert!(b.prepend(front));
    assert_eq!(b.headroom(), 0);
    assert_eq!(b.len(), front + 2);
    assert_eq!(&b.frame()[front..], &[2, 3]);
}

#[test]
fn headroom_prepend_and_trim() {
    let mut pool = Pool::new(2);
    exercise_headroom(pool.alloc_frame(&[1, 2, 3, 4]).unwrap(), HEADROOM);
}

#[test]
fn headroom_prepend_and_trim_in_a_foreign_buffer() {
    let mbufs = FakeMempool::new(2);
    exercise_headroom(
        mbufs.received(HEADROOM as u16, &[1, 2, 3, 4]).unwrap(),
        HEADROOM,
    );
    // a NIC may place a frame elsewhere than our standard headroom
    exercise_headroom(mbufs.received(64, &[1, 2, 3, 4]).unwrap(), 64);
    assert_eq!(mbufs.released(), 2);
    assert_eq!(mbufs.double_released(), 0);
}

#[test]
fn pool_limit_and_reuse() {
    let mut pool = Pool::new(2);
    let a = pool.alloc().unwrap();
    let b = pool.alloc().unwrap();
    assert!(pool.alloc().is_none());
    assert_eq!(pool.in_use(), 2);
    pool.free(a);
    let c = pool.alloc().unwrap();
    assert_eq!(c.len(), 0);
    pool.free(b);
    pool.free(c);
    assert_eq!(pool.in_use(), 0);
    assert_eq!(pool.created(), 2);
}

#[test]
fn a_recycled_buffer_starts_empty_with_the_standard_headroom() {
    let mut pool = Pool::new(1);
    let mut b = pool.alloc_frame(&[1, 2, 3]).unwrap();
    assert!(b.prepend(40));
    pool.free(b);
    let b = pool.alloc().unwrap();
    assert_eq!((b.headroom(), b.len()), (HEADROOM, 0));
}

#[test]
fn oversized_frame_is_refused() {
    let mut pool = Pool::new(1);
    assert!(pool.alloc_frame(&vec![0u8; MAX_FRAME + 1]).is_none());
    assert_eq!(pool.in_use(), 0);
    let mut b = pool.alloc().unwrap();
    assert!(b.set_len(MAX_FRAME));
    assert!(!b.set_len(MAX_FRAME + 1));
    assert!(!b.set_len(BUF_SIZE));
}

#[test]
fn received_length_beyond_the_buffer_marks_the_frame_too_long() {
    let mut pool = Pool::new(1);
    let mut b = pool.alloc().unwrap();
    assert_eq!(b.rx_room().len(), MAX_FRAME);
    b.set_received_len(MAX_FRAME);
    assert!(
        !b.is_too_long(),
        "a frame that fills the buffer exactly fits"
    );
    assert_eq!(b.len(), MAX_FRAME);
    b.set_received_len(9000);
    assert!(b.is_too_long());
    assert_eq!(b.len(), MAX_FRAME, "the prefix that fitted is kept");
    // the mark does not outlive the buffer's use
    pool.free(b);
    let b = pool.alloc().unwrap();
    assert!(!b.is_too_long());
}

#[test]
fn rx_room_after_a_prepend_starts_over_at_the_headroom() {
    let mut pool = Pool::new(1);
    let mut b = pool.alloc_frame(&vec![7u8; MAX_FRAME]).unwrap();
    assert!(b.prepend(HEADROOM));
    // the frame now fills the whole room; the next receive must not reach past it
    assert_eq!(b.rx_room().len(), MAX_FRAME);
    assert_eq!(b.len(), 0);
    b.set_received_len(10);
    assert_eq!(b.frame(), &[7u8; 10]);
}

#[test]
fn a_foreign_buffer_is_released_once_when_dropped() {
    let mbufs = FakeMempool::new(1);
    let b = mbufs.received(HEADROOM as u16, &[5; 60]).unwrap();
    assert!(b.is_foreign());
    assert!(b.foreign_handle().is_some());
    assert_eq!(mbufs.buffers_in_use(), 1);
    assert!(
        mbufs.received(HEADROOM as u16, &[1]).is_none(),
        "the only mbuf is taken"
    );
    drop(b);
    assert_eq!((mbufs.released(), mbufs.double_released()), (1, 0));
    assert_eq!(mbufs.buffers_in_use(), 0);
    // and it can be had again
    assert!(mbufs.received(HEADROOM as u16, &[1]).is_some());
    assert_eq!((mbufs.released(), mbufs.double_released()), (2, 0));
}

#[test]
fn a_foreign_buffer_freed_into_the_pool_goes_back_to_its_owner() {
    let mbufs = FakeMempool::new(1);
    let mut pool = Pool::new(4);
    let b = mbufs.received(HEADROOM as u16, &[5; 60]).unwrap();
    pool.free(b);
    assert_eq!((mbufs.released(), mbufs.double_released()), (1, 0));
    // the pool kept nothing: what it hands out next is its own
    let own = pool.alloc().unwrap();
    assert!(!own.is_foreign());
    assert_eq!(pool.created(), 1);
    drop(pool);
    assert_eq!((mbufs.released(), mbufs.double_released()), (1, 0));
}

#[test]
fn a_foreign_buffer_sent_by_a_port_is_released_once() {
    let mbufs = FakeMempool::new(2);
    let (mut port, h) = MemoryPort::new("vf0", MacAddr([2, 0, 0, 0, 0, 1]));
    let mut pool = Pool::new(4);
    let mut out = vec![
        mbufs.received(HEADROOM as u16, &[1, 2, 3]).unwrap(),
        mbufs.received(100, &[4, 5]).unwrap(),
    ];
    assert_eq!(port.tx_burst(&mut out, &mut pool), 2);
    assert_eq!(h.take_sent(), vec![vec![1, 2, 3], vec![4, 5]]);
    assert_eq!((mbufs.released(), mbufs.double_released()), (2, 0));
    assert_eq!(pool.in_use(), 0);
}

#[test]
fn into_foreign_hands_the_buffer_back_without_releasing_it() {
    let mbufs = FakeMempool::new(1);
    let mut b = mbufs.received(HEADROOM as u16, &[1, 2, 3, 4]).unwrap();
    let handle = b.foreign_handle().unwrap();
    // as encap does: a header in front, then the device gets it
    assert!(b.prepend(2));
    b.frame_mut()[..2].copy_from_slice(&[8, 9]);
    let (back, head, len) = b.into_foreign().unwrap();
    assert_eq!(back, handle);
    assert_eq!((head, len), (HEADROOM as u16 - 2, 6));
    assert_eq!(mbufs.released(), 0);
    assert_eq!(mbufs.buffers_in_use(), 1);
    assert_eq!(
        mbufs.frame_of(handle, head, len).unwrap(),
        vec![8, 9, 1, 2, 3, 4]
    );
    // the NIC frees it after sending
    mbufs.tx_done(handle);
    assert_eq!((mbufs.released(), mbufs.double_released()), (1, 0));
}

#[test]
fn into_foreign_returns_our_own_buffer_intact() {
    let mut pool = Pool::new(1);
    let b = pool.alloc_frame(&[1, 2, 3]).unwrap();
    let b = b.into_foreign().unwrap_err();
    assert_eq!(b.frame(), &[1, 2, 3]);
    assert!(b.foreign_handle().is_none());
    pool.free(b);
    assert_eq!(pool.in_use(), 0);
}

#[test]
fn a_foreign_buffer_moved_to_another_thread_is_released_there() {
    let mbufs = FakeMempool::new(1);
    let b = mbufs.received(HEADROOM as u16, &[1]).unwrap();
    std::thread::spawn(move || assert_eq!(b.frame(), &[1]))
        .join()
        .unwrap();
    assert_eq!((mbufs.released(), mbufs.double_released()), (1, 0));
}

#[test]
fn a_pool_with_a_source_hands_out_and_takes_back_its_buffers() {
    let mbufs = FakeMempool::new(2);
    let mut pool = Pool::new(8);
    // an idle buffer of the pool's own is let go when the source comes
    let own = pool.alloc().unwrap();
    pool.free(own);
    pool.set_source(Box::new(mbufs.clone()));
    assert_eq!((pool.created(), pool.in_use()), (2, 0));

    let reply = pool.alloc_frame(&[0xaa; 42]).unwrap();
    assert!(
        reply.is_foreign(),
        "frames the graph makes are the source's"
    );
    assert_eq!(reply.frame(), &[0xaa; 42]);
    assert_eq!(reply.headroom(), HEADROOM);
    let other = pool.alloc().unwrap();
    assert!(pool.alloc().is_none(), "the source is empty");
    assert_eq!(pool.in_use(), 2);
    pool.free(reply);
    drop(other);
    assert_eq!((mbufs.released(), mbufs.double_released()), (2, 0));
    assert_eq!(pool.in_use(), 0);
    // a frame too long for the room goes straight back
    assert!(pool.alloc_frame(&vec![0; BUF_SIZE]).is_none());
    assert_eq!((mbufs.released(), mbufs.double_released()), (3, 0));
}

#[test]
fn alloc_copy_copies_frame_and_metadata_into_a_buffer_of_the_pool() {
    let mbufs = FakeMempool::new(1);
    let mut pool = Pool::new(1);
    let mut orig = mbufs.received(64, &[1, 2, 3]).unwrap();
    orig.meta.in_port = 3;
    orig.meta.pkt_id = 77;
    let mut copy = pool.alloc_copy(&orig).unwrap();
    assert!(!copy.is_foreign());
    assert_eq!(copy.frame(), &[1, 2, 3]);
    assert_eq!(copy.meta, orig.meta);
    assert_eq!(copy.headroom(), HEADROOM);
    // the two are independent
    copy.frame_mut()[0] = 9;
    assert_eq!(orig.frame(), &[1, 2, 3]);
    assert!(pool.alloc_copy(&orig).is_none(), "the pool is used up");
}

static NOT_RELEASED: AtomicUsize = AtomicUsize::new(0);

unsafe fn count_release(_: NonNull<c_void>) {
    NOT_RELEASED.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn from_foreign_refuses_memory_that_breaks_the_contract_and_keeps_its_hands_off() {
    // header area and room in one 8-aligned block, as in an mbuf
    let mut block = vec![0u64; (BUF_HEADER_SIZE + BUF_SIZE) / 8 + 2];
    let base = NonNull::new(block.as_mut_ptr().cast::<u8>()).unwrap();
    let handle = base.cast::<c_void>();
    // SAFETY: every pointer lies in `block`, which outlives the attempts; none succeeds,
    // so nothing is written and nothing released.
    let attempt = |header_at: usize, capacity: u16, head: u16, len: u16| unsafe {
        PacketBuf::from_foreign(
            ForeignFrame {
                header: base.add(header_at).cast::<BufHeader>(),
                data: base.add(BUF_HEADER_SIZE + 8),
                capacity,
                head,
                len,
                owner: ForeignOwner {
                    handle,
                    release: count_release,
                },
            },
            Meta::default(),
        )
        .map(|_| ())
    };
    let misaligned = attempt(1, BUF_SIZE as u16, 128, 0).unwrap_err();
    assert!(matches!(misaligned, ForeignError::Misaligned { .. }));
    assert!(misaligned.to_string().contains("aligned"));
    assert_eq!(
        attempt(0, HEADROOM as u16 - 1, 0, 0),
        Err(ForeignError::RoomTooSmall {
            capacity: HEADROOM as u16 - 1
        })
    );
    assert_eq!(
        attempt(0, 1000, 900, 101),
        Err(ForeignError::FrameOutsideRoom {
            head: 900,
            len: 101,
            capacity: 1000
        })
    );
    assert!(block.iter().all(|w| *w == 0), "nothing was written");
    assert_eq!(NOT_RELEASED.load(Ordering::SeqCst), 0);
}

#[test]
fn the_header_fits_an_mbuf_private_area() {
    assert_eq!(BUF_HEADER_ALIGN, 8);
    assert_eq!(PRIVATE_SIZE % 8, 0);
    assert_eq!(BUF_HEADER_SIZE, DESCRIPTOR_SIZE + PRIVATE_SIZE);
    // beside the metadata: the owner and a flag (and padding to 8 bytes)
    assert!(
        PRIVATE_SIZE <= size_of::<Meta>() + 24,
        "our part of the header is {PRIVATE_SIZE} bytes"
    );
    assert_eq!(size_of::<PacketBuf>(), 8, "a handle is one pointer");
    assert_eq!(size_of::<Option<PacketBuf>>(), 8);
}

/// A driver's descriptor: every byte `0xA5` but the frame's place, as an mbuf holds its
/// own fields there.
fn driver_block(data_at: usize, capacity: u16, head: u16, len: u16) -> Vec<u64> {
    let mut block = vec![0xA5A5_A5A5_A5A5_A5A5u64; (BUF_HEADER_SIZE + BUF_SIZE) / 8];
    let base = block.as_mut_ptr().cast::<u8>();
    // SAFETY: all offsets lie in the block's first 128 bytes, at rte_mbuf's offsets of
    // these fields (aligned for them in an 8-aligned block).
    unsafe {
        base.add(mbuf_offsets::BUF_ADDR)
            .cast::<*mut u8>()
            .write(base.add(data_at));
        base.add(mbuf_offsets::DATA_OFF).cast::<u16>().write(head);
        base.add(mbuf_offsets::DATA_LEN).cast::<u16>().write(len);
        base.add(mbuf_offsets::BUF_LEN)
            .cast::<u16>()
            .write(capacity);
    }
    block
}

/// The frame's place as a driver reads it from the descriptor: room address (as an offset
/// from the block's start), capacity, head, length.
fn place_in(block: &[u64]) -> (usize, u16, u16, u16) {
    let base = block.as_ptr().cast::<u8>();
    // SAFETY: rte_mbuf's offsets of these fields, in the block's first 128 bytes.
    unsafe {
        (
            (base.add(mbuf_offsets::BUF_ADDR).cast::<usize>().read()) - base as usize,
            base.add(mbuf_offsets::BUF_LEN).cast::<u16>().read(),
            base.add(mbuf_offsets::DATA_OFF).cast::<u16>().read(),
            base.add(mbuf_offsets::DATA_LEN).cast::<u16>().read(),
        )
    }
}

/// The descriptor's bytes other than the frame's place, as bytes.
fn owners_bytes(block: &[u64]) -> Vec<u8> {
    let place = [
        (mbuf_offsets::BUF_ADDR, 8),
        (mbuf_offsets::DATA_OFF, 2),
        (mbuf_offsets::DATA_LEN, 2),
        (mbuf_offsets::BUF_LEN, 2),
    ];
    block[..DESCRIPTOR_SIZE / 8]
        .iter()
        .flat_map(|w| w.to_ne_bytes())
        .enumerate()
        .filter(|(i, _)| !place.iter().any(|(at, n)| (*at..at + n).contains(i)))
        .map(|(_, b)| b)
        .collect()
}

#[test]
fn a_foreign_header_leaves_the_owners_descriptor_fields_alone() {
    let mut block = driver_block(0, 0, 0, 0);
    let before = owners_bytes(&block);
    let base = NonNull::new(block.as_mut_ptr().cast::<u8>()).unwrap();
    // SAFETY: header and room lie in `block`, which outlives the buffer; it is given back
    // by `into_foreign`, so nothing is released.
    let b = unsafe {
        PacketBuf::from_foreign(
            ForeignFrame {
                header: base.cast::<BufHeader>(),
                data: base.add(BUF_HEADER_SIZE),
                capacity: BUF_SIZE as u16,
                head: 100,
                len: 3,
                owner: ForeignOwner {
                    handle: base.cast::<c_void>(),
                    release: count_release,
                },
            },
            Meta::received(4, 9),
        )
    }
    .unwrap();
    assert_eq!((b.headroom(), b.len()), (100, 3));
    assert_eq!(b.meta.in_port, 4);
    let (handle, head, len) = b.into_foreign().unwrap();
    assert_eq!((handle, head, len), (base.cast::<c_void>(), 100, 3));
    assert_eq!(
        owners_bytes(&block),
        before,
        "only the frame's place was written"
    );
    // the place is where a driver reads it
    assert_eq!(place_in(&block), (BUF_HEADER_SIZE, BUF_SIZE as u16, 100, 3));
}

#[test]
fn a_bound_header_takes_the_drivers_frame_place_and_the_mark_alone() {
    let mut block = driver_block(BUF_HEADER_SIZE, BUF_SIZE as u16, 128, 60);
    let base = NonNull::new(block.as_mut_ptr().cast::<u8>()).unwrap();
    let owner = ForeignOwner {
        handle: base.cast::<c_void>(),
        release: count_release,
    };
    // SAFETY: the block holds a header's bytes and is used by nothing else.
    unsafe { PacketBuf::init_foreign_header(base.cast::<BufHeader>(), owner) };
    let before = owners_bytes(&block);
    // SAFETY: the descriptor names the block's own room, and the header is valid; each
    // buffer is given back by `into_foreign`, so nothing is released.
    let bound = |port: u16, id: u32| unsafe {
        PacketBuf::from_foreign_bound(base.cast::<BufHeader>(), port, id)
    };
    let mut b = bound(2, 77).unwrap();
    assert_eq!((b.headroom(), b.len()), (128, 60));
    assert!(!b.is_too_long());
    assert_eq!((b.meta.in_port, b.meta.pkt_id), (2, 77));
    assert!(b.meta.stale && !b.meta.is_recirc);
    assert_eq!(b.foreign_handle(), Some(owner.handle));
    // the graph's changes of the frame are the driver's place to read
    assert!(b.prepend(40));
    b.meta.vnf_type = 3;
    b.into_foreign().unwrap();
    assert_eq!(
        place_in(&block),
        (BUF_HEADER_SIZE, BUF_SIZE as u16, 88, 100)
    );
    assert_eq!(owners_bytes(&block), before);
    // the rest of the metadata is the last packet's, for `cls` to reset
    let b = bound(1, 78).unwrap();
    assert_eq!(b.meta.vnf_type, 3);
    b.into_foreign().unwrap();
    // a place outside the room is refused, nothing written
    let len_at = mbuf_offsets::DATA_LEN;
    // SAFETY: the frame length's field of the descriptor, in the block.
    unsafe { base.add(len_at).cast::<u16>().write(BUF_SIZE as u16) };
    assert!(matches!(
        bound(5, 79),
        Err(ForeignError::FrameOutsideRoom { head: 88, .. })
    ));
    let b = {
        // SAFETY: as above.
        unsafe { base.add(len_at).cast::<u16>().write(1) };
        bound(6, 80).unwrap()
    };
    assert_eq!((b.meta.in_port, b.meta.pkt_id), (6, 80));
    b.into_foreign().unwrap();
    assert_eq!(NOT_RELEASED.load(Ordering::SeqCst), 0);
}
