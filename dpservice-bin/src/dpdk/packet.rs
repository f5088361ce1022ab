//! Mbufs as the graph's packet buffers: the buffer header ([`BufHeader`]) is written into
//! the mbuf's private area and the frame stays where DPDK put it, so packets go from a
//! DPDK port through the graph and out of another without a copy.
//!
//! A [`PacketBuf`] made here releases its mbuf when dropped; sent, it is handed to DPDK
//! with the frame's offset and length written back into the mbuf.

use std::ffi::c_void;
use std::ptr::NonNull;

use super::ethdev::{RxQueue, TxQueue};
use super::mbuf::Mbuf;
use super::mempool::{MbufPool, PoolConfig};
use super::{DpdkError, Eal};
use crate::port::buf::{
    Buf, BufHeader, BufSource, ForeignError, ForeignFrame, ForeignOwner, PacketBuf, BUF_HEADER_SIZE,
};
use crate::port::meta::Meta;
use crate::port::{Pool, PortId};

/// The private area an mbuf needs for the buffer header, in whole cache lines (a
/// multiple of 8, as DPDK wants): the data room after it starts on a line of its own, and
/// with DPDK's 128-byte headroom so does a received frame, which then spans one line
/// fewer (a 64-byte frame after a 160-byte area straddled three; 12 % of the lines a
/// packet touches).
pub const PRIV_SIZE: u16 = BUF_HEADER_SIZE.next_multiple_of(64) as u16;

/// Why an mbuf cannot be a packet buffer (it is freed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// A chained (multi-segment) mbuf: the graph works on one contiguous frame.
    #[error("a chained mbuf of {0} segments (frames must fit one mbuf)")]
    Chained(u16),
    /// The pool's private area cannot hold the header.
    #[error(
        "an mbuf private area of {0} bytes cannot hold the {BUF_HEADER_SIZE}-byte buffer header"
    )]
    PrivTooSmall(usize),
    /// The mbuf's offsets do not fit its data room.
    #[error(transparent)]
    Foreign(#[from] ForeignError),
}

/// [`PacketBuf`]'s release of an mbuf.
unsafe fn release(handle: NonNull<c_void>) {
    // SAFETY: `handle` is the mbuf `into_packet` lent to the buffer, given back exactly
    // once (`from_foreign`'s contract); DPDK's pools take frees from any thread.
    unsafe { dpdk_sys::dpdk_sys_pktmbuf_free(handle.as_ptr().cast()) }
}

/// A pool of mbufs for packet buffers: every mbuf's private area holds a buffer header,
/// written when the pool was made ([`PacketPool::create`]) and since then only ever
/// replaced by whole headers or field by field. A port receiving into it writes a
/// packet's frame place and mark alone ([`PacketBuf::from_foreign_marked`]: the header's
/// first cache line); the rest of the metadata is the last packet's, which `cls`
/// resets. Mbufs of any other pool get their whole header written.
#[derive(Debug, Clone, Copy)]
pub struct PacketPool {
    mbufs: MbufPool,
}

impl PacketPool {
    /// Makes a pool as `cfg` says and writes a header into each of its mbufs, before
    /// anyone can allocate from it.
    pub fn create(eal: &Eal, cfg: &PoolConfig) -> Result<PacketPool, DpdkError> {
        // checked before the pool exists: DPDK's pools are never freed
        if usize::from(cfg.priv_size) < BUF_HEADER_SIZE {
            return Err(PacketError::PrivTooSmall(usize::from(cfg.priv_size)).into());
        }
        let mbufs = MbufPool::create(eal, cfg)?;
        // SAFETY: `mbufs` is a live pktmbuf pool, just made and not handed to anyone, so
        // no mbuf of it is allocated; the callback runs on this thread for each of its
        // objects, with a null `opaque` it does not use.
        unsafe {
            dpdk_sys::rte_mempool_obj_iter(mbufs.as_ptr(), Some(init_header), std::ptr::null_mut());
        }
        Ok(PacketPool { mbufs })
    }

    /// The mbuf pool.
    pub fn mbufs(&self) -> MbufPool {
        self.mbufs
    }
}

/// [`PacketPool::create`]'s write of one mbuf's header.
unsafe extern "C" fn init_header(
    _pool: *mut dpdk_sys::rte_mempool,
    _opaque: *mut c_void,
    obj: *mut c_void,
    _index: u32,
) {
    let Some(m) = NonNull::new(obj.cast::<dpdk_sys::rte_mbuf>()) else {
        return;
    };
    // SAFETY: `obj` is an mbuf of a pktmbuf pool whose private area (right after the
    // rte_mbuf, 8-aligned) holds `BUF_HEADER_SIZE` bytes (checked by `create`), and no
    // buffer uses it: nothing is allocated from the pool yet.
    unsafe { PacketBuf::init_foreign_header(m.add(1).cast::<BufHeader>()) }
}

/// Makes `m` a packet buffer: header (with `meta`) in its private area, the frame where
/// it is. On error the mbuf is freed.
#[inline(always)]
pub fn into_packet(m: Mbuf, meta: Meta) -> Result<PacketBuf, PacketError> {
    into_packet_as(m, Stamp::Whole(meta))
}

/// What [`into_packet_as`] writes of the metadata.
#[derive(Clone, Copy)]
enum Stamp {
    /// All of it.
    Whole(Meta),
    /// The mark of a packet received on a port with an id, if the mbuf is of this pool
    /// (else the whole `Meta::received`).
    Mark(*const dpdk_sys::rte_mempool, PortId, u32),
}

#[inline(always)]
fn into_packet_as(m: Mbuf, stamp: Stamp) -> Result<PacketBuf, PacketError> {
    if m.segments() != 1 {
        return Err(PacketError::Chained(m.segments()));
    }
    let raw = m.as_ptr();
    // SAFETY: `m` owns a valid mbuf; a plain field read.
    let of_pool = unsafe { (*raw).pool }.cast_const();
    let marked = match stamp {
        Stamp::Mark(pool, port, id) if of_pool == pool => Some((port, id)),
        _ => None,
    };
    // a `PacketPool` checked its mbufs' private area when it was made
    if marked.is_none() && m.priv_size() < BUF_HEADER_SIZE {
        return Err(PacketError::PrivTooSmall(m.priv_size()));
    }
    // SAFETY: `m` owns a valid mbuf; these are plain field reads.
    let (buf_addr, capacity, head, len) = unsafe {
        (
            (*raw).buf_addr,
            (*raw).buf_len,
            (*raw).data_off,
            (*raw).data_len,
        )
    };
    let Some(data) = NonNull::new(buf_addr.cast::<u8>()) else {
        return Err(ForeignError::RoomTooSmall { capacity: 0 }.into());
    };
    let f = ForeignFrame {
        header: m.priv_ptr().cast::<BufHeader>(),
        data,
        capacity,
        head,
        len,
        owner: ForeignOwner {
            handle: m.as_non_null().cast::<c_void>(),
            release,
        },
    };
    // SAFETY: the private area (`priv_size` >= BUF_HEADER_SIZE bytes, 8-aligned) and the
    // data room (`buf_len` bytes at `buf_addr`, memory DPDK's pool took from zero-filled
    // pages, so initialised) belong to this mbuf alone and do not overlap; `m` is
    // forgotten below on success, so the buffer is their only user until `release` frees
    // the mbuf (from any thread) or `into_foreign` hands it back. A marked mbuf is of a
    // `PacketPool`, whose private areas hold valid headers.
    let made = unsafe {
        match (marked, stamp) {
            (Some((port, id)), _) => PacketBuf::from_foreign_marked(f, port, id),
            (None, Stamp::Whole(meta)) => PacketBuf::from_foreign(f, meta),
            (None, Stamp::Mark(_, port, id)) => {
                PacketBuf::from_foreign(f, Meta::received(port, id))
            }
        }
    };
    let packet = made?;
    let _ = m.into_raw();
    Ok(packet)
}

/// The mbuf behind `p`, if `p` is one of [`into_packet`]'s buffers (its header sits in
/// the private area right after the mbuf).
fn mbuf_of(p: &PacketBuf) -> Option<NonNull<dpdk_sys::rte_mbuf>> {
    let handle = p.foreign_handle()?.cast::<dpdk_sys::rte_mbuf>();
    let header: *const Buf = &**p;
    let expected = handle
        .as_ptr()
        .cast::<u8>()
        .wrapping_add(size_of::<dpdk_sys::rte_mbuf>());
    (header.cast::<u8>() == expected.cast_const()).then_some(handle)
}

/// Receives up to `max` frames from `rxq` (which fills from `pool`) as packet buffers
/// appended to `out`, stamped `(port, first id)`: the i-th appended has the mark of a
/// packet received on `port` with id `first id + i` (`in_port`, `pkt_id`, not
/// recirculated, `stale`); the rest of its metadata is another packet's (see
/// [`PacketPool`]).
/// Returns (received, dropped): a dropped frame was chained or otherwise unusable.
pub fn rx_packets(
    rxq: &mut RxQueue,
    pool: &PacketPool,
    (port, first_id): (PortId, u32),
    out: &mut Vec<PacketBuf>,
    max: usize,
) -> (usize, usize) {
    let max = max.min(usize::from(u16::MAX));
    out.reserve(max);
    let start = out.len();
    // DPDK writes the mbuf pointers into `out`'s spare slots, and each is replaced by
    // its buffer there: no second vector to walk and append
    let slots = out.spare_capacity_mut()[..max]
        .as_mut_ptr()
        .cast::<*mut dpdk_sys::rte_mbuf>();
    // SAFETY: `slots` has room for `max` pointer-sized slots (`out`'s spare capacity).
    let n = unsafe { rxq.rx_burst_into(slots, max) };
    let pool = pool.mbufs.as_ptr().cast_const();
    let (mut received, mut dropped) = (0, 0);
    for i in 0..n {
        // SAFETY: DPDK wrote `n` pointers to the front of `slots`, each an mbuf that is
        // ours now; slot `i` is read once, before any slot after `received` (<= i) is
        // written.
        let m = unsafe { Mbuf::from_raw(slots.add(i).read()) };
        let Some(m) = m else {
            dropped += 1;
            continue;
        };
        let id = first_id.wrapping_add(received as u32);
        match into_packet_as(m, Stamp::Mark(pool, port, id)) {
            Ok(p) => {
                // SAFETY: slot `received` <= i is in the spare capacity and read already
                // (or never to be read); a `PacketBuf` fits a pointer's slot (checked
                // below at compile time).
                unsafe { slots.add(received).cast::<PacketBuf>().write(p) };
                received += 1;
            }
            Err(_) => dropped += 1,
        }
    }
    // SAFETY: the first `received` spare slots hold initialised buffers.
    unsafe { out.set_len(start + received) };
    (received, dropped)
}

const _: () = assert!(
    size_of::<PacketBuf>() == size_of::<*mut dpdk_sys::rte_mbuf>()
        && align_of::<PacketBuf>() == align_of::<*mut dpdk_sys::rte_mbuf>(),
    "a received mbuf's slot takes its packet buffer"
);

/// Scratch space for [`tx_packets`]: mbuf pointers handed to DPDK.
#[derive(Debug, Default)]
pub struct TxScratch(Vec<*mut dpdk_sys::rte_mbuf>);

// SAFETY: the vector is empty between calls; during a call it only holds pointers of
// buffers the caller owns.
unsafe impl Send for TxScratch {}

/// Sends from the front of `pkts` until the ring is full; sent buffers leave `pkts`
/// (DPDK frees their mbufs after transmission), the rest stay as they are. A buffer that
/// is not an mbuf is first copied into one from `mbufs` (the original goes back to
/// `pool`); if none is free, or the frame does not fit, sending stops before it. Returns
/// the number sent.
pub fn tx_packets(
    txq: &mut TxQueue,
    pkts: &mut Vec<PacketBuf>,
    pool: &mut Pool,
    mbufs: MbufPool,
    scratch: &mut TxScratch,
) -> usize {
    scratch.0.clear();
    for pkt in pkts.iter_mut() {
        let m = match mbuf_of(pkt) {
            Some(m) => m,
            None => {
                let Some(mut copy) = mbufs
                    .alloc()
                    .and_then(|m| into_packet(m, Meta::default()).ok())
                else {
                    break;
                };
                if !copy.set_frame(pkt.frame()) {
                    break;
                }
                copy.meta = pkt.meta;
                pool.free(std::mem::replace(pkt, copy));
                match mbuf_of(pkt) {
                    Some(m) => m,
                    None => break,
                }
            }
        };
        let (head, len) = (pkt.headroom() as u16, pkt.len() as u16);
        // SAFETY: `m` is the mbuf under `pkt`, which we own; its rte_mbuf fields are not
        // the memory the buffer's header or frame views cover (private area, data room),
        // and head + len <= buf_len holds for the buffer.
        unsafe {
            (*m.as_ptr()).data_off = head;
            (*m.as_ptr()).data_len = len;
            (*m.as_ptr()).pkt_len = u32::from(len);
        }
        scratch.0.push(m.as_ptr());
    }
    // SAFETY: every pointer is the mbuf of one of the first `scratch.len()` buffers of
    // `pkts`, owned by us; the ones DPDK takes are forgotten below, never used again.
    let sent = unsafe { txq.tx_burst_raw(&mut scratch.0) };
    // DPDK owns these mbufs now (header included): the buffers go without releasing
    // them, and without reading their headers again (`mbuf_of` found each an mbuf)
    pkts.drain(..sent).for_each(std::mem::forget);
    scratch.0.clear();
    sent
}

/// A [`Pool`]'s source of mbufs: the frames the graph makes are mbufs too.
#[derive(Debug)]
pub struct MbufSource {
    pool: MbufPool,
}

impl MbufSource {
    /// Buffers from `pool`, whose private area must hold the header ([`PRIV_SIZE`]).
    pub fn new(pool: MbufPool) -> MbufSource {
        MbufSource { pool }
    }
}

impl BufSource for MbufSource {
    fn alloc(&mut self) -> Option<PacketBuf> {
        self.pool
            .alloc()
            .and_then(|m| into_packet(m, Meta::default()).ok())
    }

    fn capacity(&self) -> usize {
        (self.pool.available() + self.pool.in_use()) as usize
    }

    fn in_use(&self) -> usize {
        self.pool.in_use() as usize
    }
}
