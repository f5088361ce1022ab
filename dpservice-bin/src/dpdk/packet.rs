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
use super::mempool::MbufPool;
use crate::port::buf::{
    Buf, BufHeader, BufSource, ForeignError, ForeignOwner, PacketBuf, BUF_HEADER_SIZE,
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

/// Makes `m` a packet buffer: header (with `meta`) in its private area, the frame where
/// it is. On error the mbuf is freed.
#[inline(always)]
pub fn into_packet(m: Mbuf, meta: Meta) -> Result<PacketBuf, PacketError> {
    if m.segments() != 1 {
        return Err(PacketError::Chained(m.segments()));
    }
    if m.priv_size() < BUF_HEADER_SIZE {
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
    let header = m.priv_ptr().cast::<BufHeader>();
    let owner = ForeignOwner {
        handle: m.as_non_null().cast::<c_void>(),
        release,
    };
    // SAFETY: the private area (`priv_size` >= BUF_HEADER_SIZE bytes, 8-aligned) and the
    // data room (`buf_len` bytes at `buf_addr`, memory DPDK's pool took from zero-filled
    // pages, so initialised) belong to this mbuf alone and do not overlap; `m` is
    // forgotten below on success, so the buffer is their only user until `release` frees
    // the mbuf (from any thread) or `into_foreign` hands it back.
    let made = unsafe { PacketBuf::from_foreign(header, data, capacity, head, len, owner, meta) };
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

/// Receives up to `max` frames from `rxq` as packet buffers appended to `out`
/// (`scratch` is reused between calls), stamped `(port, first id)`: the i-th appended has
/// the metadata of a packet received on `port` with id `first id + i`
/// (`Meta::received`). Returns (received, dropped): a dropped frame was chained or
/// otherwise unusable.
pub fn rx_packets(
    rxq: &mut RxQueue,
    (port, first_id): (PortId, u32),
    out: &mut Vec<PacketBuf>,
    max: usize,
    scratch: &mut Vec<Mbuf>,
) -> (usize, usize) {
    scratch.clear();
    rxq.rx_burst(scratch, max);
    let (mut received, mut dropped) = (0, 0);
    for m in scratch.drain(..) {
        let id = first_id.wrapping_add(received as u32);
        match into_packet(m, Meta::received(port, id)) {
            Ok(p) => {
                out.push(p);
                received += 1;
            }
            Err(_) => dropped += 1,
        }
    }
    (received, dropped)
}

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
