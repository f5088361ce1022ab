//! Mbufs as the graph's packet buffers: a buffer header starts with a descriptor laid
//! out as `struct rte_mbuf` (`port::buf`), so an mbuf's header is the mbuf itself, with
//! our part of it (owner, metadata) in the mbuf's private area, and the frame stays where
//! DPDK put it. Packets go from a DPDK port through the graph and out of another without
//! a copy of the frame or of its place: what the driver wrote at reception (`data_off`,
//! `data_len`) is what the graph reads and changes, and what the driver sends.
//!
//! A [`PacketBuf`] made here releases its mbuf when dropped; a vector of them is, slot
//! for slot, the array of mbuf pointers DPDK's burst calls take and fill.

use std::ffi::c_void;
use std::ptr::NonNull;

use super::ethdev::{RxQueue, TxQueue};
use super::mbuf::Mbuf;
use super::mempool::{MbufPool, PoolConfig};
use super::{DpdkError, Eal};
use crate::port::buf::{
    mbuf_offsets, Buf, BufHeader, BufSource, ForeignError, ForeignFrame, ForeignOwner, PacketBuf,
    DESCRIPTOR_SIZE, PRIVATE_SIZE,
};
use crate::port::meta::Meta;
use crate::port::{Pool, PortId};

/// The private area an mbuf needs for our part of the buffer header, in whole cache lines
/// (a multiple of 8, as DPDK wants): the data room after it starts on a line of its own,
/// and with DPDK's 128-byte headroom so does a received frame, which then spans one line
/// fewer (a 64-byte frame after a 160-byte area straddled three; 12 % of the lines a
/// packet touches).
pub const PRIV_SIZE: u16 = PRIVATE_SIZE.next_multiple_of(64) as u16;

// The header's descriptor is the mbuf: DPDK's struct must have the frame's place where
// the descriptor has it.
const _: () = assert!(
    size_of::<dpdk_sys::rte_mbuf>() == DESCRIPTOR_SIZE
        && std::mem::offset_of!(dpdk_sys::rte_mbuf, buf_addr) == mbuf_offsets::BUF_ADDR
        && std::mem::offset_of!(dpdk_sys::rte_mbuf, data_off) == mbuf_offsets::DATA_OFF
        && std::mem::offset_of!(dpdk_sys::rte_mbuf, data_len) == mbuf_offsets::DATA_LEN
        && std::mem::offset_of!(dpdk_sys::rte_mbuf, buf_len) == mbuf_offsets::BUF_LEN,
    "struct rte_mbuf is laid out as the buffer header's descriptor"
);

/// Why an mbuf cannot be a packet buffer (it is freed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// A chained (multi-segment) mbuf: the graph works on one contiguous frame.
    #[error("a chained mbuf of {0} segments (frames must fit one mbuf)")]
    Chained(u16),
    /// The pool's private area cannot hold the header.
    #[error(
        "an mbuf private area of {0} bytes cannot hold the buffer header's {PRIVATE_SIZE} bytes; \
         create the mempool with a private area of at least that size"
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

/// A pool of mbufs for packet buffers: every mbuf's private area holds our part of a
/// buffer header, owner included, written when the pool was made
/// ([`PacketPool::create`]) and since then only changed field by field. A port receiving
/// into it writes a packet's mark alone ([`PacketBuf::from_foreign_bound`]: one cache
/// line of the private area; the frame's place is the mbuf's, written by the driver); the
/// rest of the metadata is the last packet's, which `cls` resets. Mbufs of any other pool
/// get our part written whole.
#[derive(Debug, Clone, Copy)]
pub struct PacketPool {
    mbufs: MbufPool,
}

impl PacketPool {
    /// Makes a pool as `cfg` says and writes our part of a header into each of its mbufs,
    /// before anyone can allocate from it.
    pub fn create(eal: &Eal, cfg: &PoolConfig) -> Result<PacketPool, DpdkError> {
        // checked before the pool exists: DPDK's pools are never freed
        if usize::from(cfg.priv_size) < PRIVATE_SIZE {
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
    let Some(m) = NonNull::new(obj) else {
        return;
    };
    let owner = ForeignOwner { handle: m, release };
    // SAFETY: `obj` is an mbuf of a pktmbuf pool whose private area (right after the
    // rte_mbuf, 8-aligned) holds `PRIVATE_SIZE` bytes (checked by `create`), so the mbuf
    // and its private area hold a header; no buffer uses it (nothing is allocated from
    // the pool yet), and `release` frees this mbuf.
    unsafe { PacketBuf::init_foreign_header(m.cast::<BufHeader>(), owner) }
}

/// Makes `m` a packet buffer: header (our part, with `meta`) in its private area, the
/// frame where it is. On error the mbuf is freed.
#[inline(always)]
pub fn into_packet(m: Mbuf, meta: Meta) -> Result<PacketBuf, PacketError> {
    if m.segments() != 1 {
        return Err(PacketError::Chained(m.segments()));
    }
    if m.priv_size() < PRIVATE_SIZE {
        return Err(PacketError::PrivTooSmall(m.priv_size()));
    }
    let raw = m.as_ptr();
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
        header: m.as_non_null().cast::<BufHeader>(),
        data,
        capacity,
        head,
        len,
        owner: ForeignOwner {
            handle: m.as_non_null().cast::<c_void>(),
            release,
        },
    };
    // SAFETY: the mbuf (an initialised rte_mbuf, the header's descriptor) and its private
    // area (`priv_size` >= PRIVATE_SIZE bytes, 8-aligned) hold a header, and the data
    // room (`buf_len` bytes at `buf_addr`, memory DPDK's pool took from zero-filled
    // pages, so initialised) does not overlap them; all belong to this mbuf alone. `m` is
    // forgotten below on success, so the buffer is their only user until `release` frees
    // the mbuf (from any thread) or `into_foreign` hands it back.
    let packet = unsafe { PacketBuf::from_foreign(f, meta) }?;
    let _ = m.into_raw();
    Ok(packet)
}

/// The mbuf behind `p`, if `p` is one of this module's buffers (its owner's handle is
/// the header itself: the header's descriptor is the mbuf).
#[inline(always)]
fn mbuf_of(p: &PacketBuf) -> Option<NonNull<dpdk_sys::rte_mbuf>> {
    let handle = p.foreign_handle()?.cast::<dpdk_sys::rte_mbuf>();
    let header: *const Buf = &**p;
    (header.cast::<u8>() == handle.as_ptr().cast::<u8>().cast_const()).then_some(handle)
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
    // DPDK writes the mbuf pointers into `out`'s spare slots, where they stay as their
    // buffers (a buffer is its mbuf's address): no second vector to walk and append
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
        let raw = unsafe { slots.add(i).read() };
        let Some(m) = NonNull::new(raw) else {
            dropped += 1;
            continue;
        };
        let id = first_id.wrapping_add(received as u32);
        // SAFETY: an mbuf that is ours; plain field reads.
        let bound = unsafe { (*raw).pool.cast_const() == pool && (*raw).nb_segs == 1 };
        let made = if bound {
            // SAFETY: an mbuf of a `PacketPool`, whose private areas hold headers owned by
            // their mbufs (`init_header`), one segment whose place the driver wrote (a
            // valid `buf_addr`, memory the pool took from zero-filled pages); ours alone
            // until the buffer releases it, or until `release` if refused.
            match unsafe { PacketBuf::from_foreign_bound(m.cast::<BufHeader>(), port, id) } {
                Ok(p) => Some(p),
                Err(_) => {
                    // SAFETY: refused, so still ours, and never used again.
                    unsafe { release(m.cast::<c_void>()) };
                    None
                }
            }
        } else {
            // SAFETY: as above: an mbuf that is ours.
            unsafe { unbound(raw, port, id) }
        };
        match made {
            Some(p) => {
                // SAFETY: slot `received` <= i is in the spare capacity and read already
                // (or never to be read); a `PacketBuf` fits a pointer's slot (checked
                // below at compile time).
                unsafe { slots.add(received).cast::<PacketBuf>().write(p) };
                received += 1;
            }
            None => dropped += 1,
        }
    }
    // SAFETY: the first `received` spare slots hold initialised buffers.
    unsafe { out.set_len(start + received) };
    (received, dropped)
}

/// [`rx_packets`]' way for an mbuf of another pool, or chained: its header written
/// whole, or `None` (it is freed). Out of the loop's way: the daemon's ports receive into
/// its own pool.
///
/// # Safety
/// `raw` is a non-null mbuf the caller owns and gives up.
#[cold]
#[inline(never)]
unsafe fn unbound(raw: *mut dpdk_sys::rte_mbuf, port: PortId, id: u32) -> Option<PacketBuf> {
    // SAFETY: the caller's contract.
    let m = unsafe { Mbuf::from_raw(raw) }?;
    into_packet(m, Meta::received(port, id)).ok()
}

const _: () = assert!(
    size_of::<PacketBuf>() == size_of::<*mut dpdk_sys::rte_mbuf>()
        && align_of::<PacketBuf>() == align_of::<*mut dpdk_sys::rte_mbuf>(),
    "a received mbuf's slot takes its packet buffer"
);

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
) -> usize {
    let mut ready = 0;
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
        // SAFETY: `m` is the mbuf under `pkt`, which we own: the frame's place is its own
        // (`data_off`, `data_len`); one segment, so the packet's length is the frame's.
        unsafe { (*m.as_ptr()).pkt_len = u32::from((*m.as_ptr()).data_len) };
        ready += 1;
    }
    // SAFETY: the first `ready` buffers are each its mbuf's address (`mbuf_of`), so
    // their slots are an array of mbuf pointers, owned by us; the ones DPDK takes are
    // forgotten below, never used again.
    let sent = unsafe {
        let slots = pkts.as_mut_ptr().cast::<*mut dpdk_sys::rte_mbuf>();
        txq.tx_burst_raw(std::slice::from_raw_parts_mut(slots, ready))
    };
    // DPDK owns these mbufs now: the buffers go without releasing them
    pkts.drain(..sent).for_each(std::mem::forget);
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
