//! Packet buffers (the counterpart of DPDK's mbuf) and the pool that recycles them, so the
//! packet path allocates nothing once warm.
//!
//! A buffer is a header ([`Buf`]: where the bytes are, where the frame sits in them, the
//! packet's metadata and who releases it) and a data room the header points at. A
//! [`PacketBuf`] is the one owner of a header, one pointer wide. Every header starts with
//! a descriptor laid out as DPDK's `struct rte_mbuf`, where the frame's place is kept. Our
//! own buffers keep header and data room in one heap block. A foreign buffer (a DPDK mbuf)
//! is its owner's memory: the descriptor is the mbuf itself, our part of the header lies
//! in the memory its owner reserved after it (the mbuf's private area) and its bytes in
//! the owner's data room, so a backend hands packets to the graph and takes them back
//! without copying anything, not even the frame's place; dropping it hands it back to its
//! owner.
//!
//! The header and the data room are reached through raw pointers: this is the module's
//! `unsafe`. Every method that moves the frame keeps `head + len <= capacity`, which is
//! what makes [`Buf::frame`] a plain pointer offset.
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

use crate::port::meta::Meta;
use crate::port::PortId;
use crate::wire::ipip::FrameBuf;

#[cfg(test)]
pub(crate) mod fake_mempool;

/// Room in front of a received frame, for tunnel headers (40 bytes net) and replies that
/// grow (router advertisement, DHCP options). DPDK's default mbuf headroom is the same.
pub const HEADROOM: usize = 128;
/// Largest frame one of our buffers holds (a 1500-byte inner frame in a tunnel fits with
/// room to spare). A longer frame is received cut to this length and marked
/// ([`Buf::is_too_long`]); the graph drops it as `frame_too_long` instead of processing the
/// truncated bytes.
pub const MAX_FRAME: usize = 2048;
/// Data room of one of our buffers.
pub const BUF_SIZE: usize = HEADROOM + MAX_FRAME;

/// Bytes of one buffer header ([`BufHeader`]): the descriptor ([`DESCRIPTOR_SIZE`], an
/// mbuf's `struct rte_mbuf`) and our part after it ([`PRIVATE_SIZE`], which a DPDK
/// mempool reserves as each mbuf's private area).
pub const BUF_HEADER_SIZE: usize = size_of::<BufHeader>();
/// Bytes of the header after its descriptor: what a foreign owner reserves per buffer
/// right after its own descriptor (an mbuf's private area).
pub const PRIVATE_SIZE: usize = BUF_HEADER_SIZE - DESCRIPTOR_SIZE;
/// Alignment the header's memory needs (a DPDK mbuf's private area is 8-byte aligned).
pub const BUF_HEADER_ALIGN: usize = align_of::<BufHeader>();

const _: () = assert!(
    BUF_HEADER_ALIGN <= 8,
    "an mbuf private area is only 8-byte aligned"
);
const _: () = assert!(
    PRIVATE_SIZE % 8 == 0,
    "a DPDK private area size is a multiple of 8"
);
const _: () = assert!(
    BUF_SIZE <= u16::MAX as usize,
    "offsets are 16-bit, as in an mbuf"
);
// A header is abandoned in its owner's memory without being dropped.
const _: () = assert!(!std::mem::needs_drop::<Meta>());
// What `PacketBuf::from_foreign_bound` writes lies in the first cache line after the
// descriptor (an mbuf's private area), with the owner and the flag it reads.
const _: () = assert!(
    std::mem::offset_of!(BufHeader, meta) + std::mem::offset_of!(Meta, stale) + size_of::<bool>()
        <= DESCRIPTOR_SIZE + 64
        && std::mem::offset_of!(BufHeader, owner) == DESCRIPTOR_SIZE
        && std::mem::offset_of!(Meta, is_recirc) < std::mem::offset_of!(Meta, stale)
        && std::mem::offset_of!(Meta, in_port) < std::mem::offset_of!(Meta, is_recirc)
        && std::mem::offset_of!(Meta, pkt_id) < std::mem::offset_of!(Meta, is_recirc),
    "the packet's mark is in the private area's first cache line"
);

/// Gives a foreign buffer back to its owner (DPDK: `rte_pktmbuf_free`).
pub type Release = unsafe fn(NonNull<c_void>);

/// The owner of a foreign buffer: `release(handle)` gives it back.
#[derive(Debug, Clone, Copy)]
pub struct ForeignOwner {
    pub handle: NonNull<c_void>,
    pub release: Release,
}

/// A foreign buffer's memory as its owner lends it ([`PacketBuf::from_foreign`]): where
/// the header goes (its descriptor part being the owner's own, an mbuf), the data room
/// (`capacity` bytes at `data`), the frame in it (`len` bytes at offset `head`) and who
/// takes it back.
#[derive(Debug, Clone, Copy)]
pub struct ForeignFrame {
    pub header: NonNull<BufHeader>,
    pub data: NonNull<u8>,
    pub capacity: u16,
    pub head: u16,
    pub len: u16,
    pub owner: ForeignOwner,
}

/// Who gets the buffer back when it is dropped.
#[derive(Clone, Copy)]
enum Owner {
    /// One heap block of ours ([`OwnBlock`]) holding header and data room.
    Own,
    /// Someone else's.
    Foreign(ForeignOwner),
}

/// Bytes at the start of every header laid out as DPDK's `struct rte_mbuf` (the descriptor).
pub const DESCRIPTOR_SIZE: usize = 128;

/// The start of every buffer header, laid out as DPDK's `struct rte_mbuf` (22.11): a DPDK
/// buffer's header begins with its mbuf itself, so the frame's place is the mbuf's own
/// `buf_addr`, `data_off`, `data_len` and `buf_len`, which the driver wrote when it
/// received the frame and reads when it sends it. Receiving and sending copy none of
/// them (with the header in the private area, the four were copied in at every receive
/// and out at every send: a third of our instructions per packet on DPDK ports). Our own
/// buffers carry the same 128 bytes, zero but for these four. Every other field is the
/// owner's and is never written here; `dpdk::packet` checks the offsets against DPDK's
/// own struct at compile time.
#[repr(C)]
struct Descriptor {
    /// The data room (`buf_addr`).
    data: NonNull<u8>,
    _iova: u64,
    /// Offset of the frame in the data room (`data_off`).
    head: u16,
    _refcnt_segs_port: [u16; 3],
    _ol_flags: u64,
    _packet_type: u32,
    _pkt_len: u32,
    /// Frame length (`data_len`).
    len: u16,
    _vlan_tci: u16,
    _hash: [u32; 2],
    _vlan_tci_outer: u16,
    /// Bytes in the data room (`buf_len`); at least [`HEADROOM`].
    capacity: u16,
    _pool: usize,
    _second_line: [u64; 8],
}

/// Where the frame's place sits in a header, as offsets in DPDK's `struct rte_mbuf`
/// (`dpdk::packet` asserts that DPDK agrees).
pub mod mbuf_offsets {
    use super::Descriptor;
    use std::mem::offset_of;

    pub const BUF_ADDR: usize = offset_of!(Descriptor, data);
    pub const DATA_OFF: usize = offset_of!(Descriptor, head);
    pub const DATA_LEN: usize = offset_of!(Descriptor, len);
    pub const BUF_LEN: usize = offset_of!(Descriptor, capacity);
}

const _: () = assert!(
    size_of::<Descriptor>() == DESCRIPTOR_SIZE
        && mbuf_offsets::BUF_ADDR == 0
        && mbuf_offsets::DATA_OFF == 16
        && mbuf_offsets::DATA_LEN == 40
        && mbuf_offsets::BUF_LEN == 54,
    "the descriptor has rte_mbuf's layout"
);

impl Descriptor {
    /// Ours: the frame's place, the rest zero.
    const fn own(data: NonNull<u8>, head: u16, len: u16, capacity: u16) -> Descriptor {
        Descriptor {
            data,
            _iova: 0,
            head,
            _refcnt_segs_port: [0; 3],
            _ol_flags: 0,
            _packet_type: 0,
            _pkt_len: 0,
            len,
            _vlan_tci: 0,
            _hash: [0; 2],
            _vlan_tci_outer: 0,
            capacity,
            _pool: 0,
            _second_line: [0; 8],
        }
    }
}

/// The header of one packet buffer: the frame (bytes with headroom in front) and its
/// metadata. Nodes see it as `&mut Buf`.
///
/// `Buf` itself is unsized (its last field is the empty slice `Tail = [()]`), so safe code
/// holding a `&mut Buf` cannot swap or move a header out of the memory its owner releases;
/// [`BufHeader`] is the same header as a sized type, for sizing and placing it.
#[repr(C)]
pub struct Buf<Tail: ?Sized = [()]> {
    /// The frame's place (for a DPDK buffer: the mbuf).
    d: Descriptor,
    /// Who releases the buffer (for a DPDK buffer: written when its pool was made).
    owner: Owner,
    /// The device had more bytes for this frame than the buffer holds.
    too_long: bool,
    pub meta: Meta,
    _unmovable: Tail,
}

/// A buffer header as a sized type: what a foreign owner reserves [`BUF_HEADER_SIZE`]
/// bytes (aligned to [`BUF_HEADER_ALIGN`]) for, see [`PacketBuf::from_foreign`].
pub type BufHeader = Buf<[(); 0]>;

/// Header and data room of one of our buffers, in one allocation.
#[repr(C)]
struct OwnBlock {
    header: BufHeader,
    room: [u8; BUF_SIZE],
}

/// A foreign buffer's memory does not fit the header's contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ForeignError {
    /// The header memory is not aligned.
    #[error(
        "the buffer header at {address:#x} is not {BUF_HEADER_ALIGN}-byte aligned; \
         reserve the header area (mbuf private area) aligned"
    )]
    Misaligned { address: usize },
    /// The data room cannot hold the standard headroom.
    #[error(
        "a data room of {capacity} bytes is smaller than the {HEADROOM}-byte headroom; \
         create the mempool with a larger data room"
    )]
    RoomTooSmall { capacity: u16 },
    /// The frame reaches beyond the data room.
    #[error(
        "a frame of {len} bytes at offset {head} ends beyond the {capacity}-byte data room; \
         the buffer's offsets are corrupt"
    )]
    FrameOutsideRoom { head: u16, len: u16, capacity: u16 },
}

/// What [`PacketBuf::from_foreign`] checks of the memory it is lent.
#[inline(always)]
fn check_foreign(f: &ForeignFrame) -> Result<(), ForeignError> {
    if !f.header.as_ptr().is_aligned() {
        return Err(ForeignError::Misaligned {
            address: f.header.as_ptr() as usize,
        });
    }
    check_place(f.capacity, f.head, f.len)
}

/// Whether a data room of `capacity` bytes holds the standard headroom and a frame of
/// `len` bytes at offset `head`.
#[inline(always)]
fn check_place(capacity: u16, head: u16, len: u16) -> Result<(), ForeignError> {
    if usize::from(capacity) < HEADROOM {
        return Err(ForeignError::RoomTooSmall { capacity });
    }
    if usize::from(head) + usize::from(len) > usize::from(capacity) {
        return Err(ForeignError::FrameOutsideRoom {
            head,
            len,
            capacity,
        });
    }
    Ok(())
}

/// An owned packet buffer; moving it between queues moves one pointer. Dropping it frees
/// our own buffer or hands a foreign one back to its owner ([`Pool::free`] recycles ours
/// instead).
pub struct PacketBuf(NonNull<BufHeader>);

// SAFETY: a `PacketBuf` is the only way to its header and data room (our own block, or
// memory a foreign owner lent under `from_foreign`'s contract, which includes releasing
// from any thread), so moving it to another thread moves all access with it.
unsafe impl Send for PacketBuf {}

impl PacketBuf {
    /// A fresh buffer of ours: header and zeroed data room in one heap block.
    fn new_own() -> PacketBuf {
        let block = Box::into_raw(Box::new(OwnBlock {
            header: BufHeader {
                d: Descriptor::own(NonNull::dangling(), HEADROOM as u16, 0, BUF_SIZE as u16),
                owner: Owner::Own,
                too_long: false,
                meta: Meta::default(),
                _unmovable: [],
            },
            room: [0; BUF_SIZE],
        }));
        // SAFETY: `block` comes from `Box::into_raw`, so it is valid, aligned and ours
        // alone; both field pointers derive from it and are non-null. `Drop` turns the
        // header pointer (offset 0 of the `repr(C)` block) back into the box.
        unsafe {
            (*block).header.d.data = NonNull::new_unchecked((&raw mut (*block).room).cast::<u8>());
            PacketBuf(NonNull::new_unchecked(&raw mut (*block).header))
        }
    }

    /// Makes a buffer of memory someone else owns (a DPDK mbuf): writes the frame's
    /// place (`f.len` bytes at offset `f.head` of the data room `f.data` of `f.capacity`
    /// bytes) into the four fields of the header's descriptor that hold it, and our part
    /// after the descriptor with the metadata `meta` and the owner. The descriptor's
    /// other bytes are the owner's and are not touched. Dropping the buffer (also in
    /// [`Pool::free`], also after a port sent it) calls `owner.release(owner.handle)`
    /// once; [`PacketBuf::into_foreign`] gives it back without releasing it.
    ///
    /// On error nothing was written and the caller still owns the memory.
    ///
    /// # Safety
    /// For `f`'s fields, until `release(handle)` runs or `into_foreign` returns the handle:
    /// - `header` is valid for reads and writes of [`BUF_HEADER_SIZE`] bytes, and its
    ///   first [`DESCRIPTOR_SIZE`] bytes are initialised (any values);
    /// - `data` is valid for reads and writes of `capacity` bytes, which are initialised
    ///   (any values) and do not overlap the header;
    /// - nothing else reads or writes either memory, and both stay valid until released;
    /// - `release(handle)` may be called from any thread and gives back both memories.
    pub unsafe fn from_foreign(f: ForeignFrame, meta: Meta) -> Result<PacketBuf, ForeignError> {
        check_foreign(&f)?;
        let h = f.header.as_ptr();
        // SAFETY: the caller lends `BUF_HEADER_SIZE` writable bytes at `header`, and the
        // check above made sure they are aligned; field writes through the raw pointer
        // need no initialised memory and leave the descriptor's other fields alone.
        unsafe {
            (&raw mut (*h).d.data).write(f.data);
            (&raw mut (*h).d.head).write(f.head);
            (&raw mut (*h).d.len).write(f.len);
            (&raw mut (*h).d.capacity).write(f.capacity);
            (&raw mut (*h).owner).write(Owner::Foreign(f.owner));
            (&raw mut (*h).too_long).write(false);
            (&raw mut (*h).meta).write(meta);
        }
        Ok(PacketBuf(f.header))
    }

    /// A buffer of memory that holds a header already, whose owner has just written the
    /// frame's place into the descriptor (a DPDK driver receiving into one of a
    /// [`PacketBuf::init_foreign_header`]ed pool's mbufs): checks the place, clears the
    /// too-long flag and writes the packet's mark (`in_port`, `pkt_id`, not
    /// recirculated, `stale`), all in one cache line after the descriptor, and leaves the
    /// rest of the metadata as it was (valid values of another packet: `cls` resets
    /// them). A receiving port writes nothing else.
    ///
    /// On error nothing was written and the caller still owns the memory.
    ///
    /// # Safety
    /// As for [`PacketBuf::from_foreign`] with the data room and frame the descriptor
    /// names (`buf_addr`, a valid non-null pointer, `buf_len`, `data_off`, `data_len`);
    /// besides, the memory at `header` holds a valid header (every field a valid value of
    /// its type) whose owner is the one to release this memory (as
    /// `init_foreign_header` or `from_foreign` wrote it).
    #[inline(always)]
    pub unsafe fn from_foreign_bound(
        header: NonNull<BufHeader>,
        in_port: PortId,
        pkt_id: u32,
    ) -> Result<PacketBuf, ForeignError> {
        // SAFETY: the memory holds a valid header and is ours alone (the caller's
        // contract), so it may be seen as one; the fields are plain `Copy` values,
        // assigned without dropping anything.
        let h = unsafe { &mut *header.as_ptr() };
        check_place(h.d.capacity, h.d.head, h.d.len)?;
        h.too_long = false;
        h.meta.in_port = in_port;
        h.meta.pkt_id = pkt_id;
        h.meta.is_recirc = false;
        h.meta.stale = true;
        Ok(PacketBuf(header))
    }

    /// Writes our part of a header (owner `owner`, default metadata) after a descriptor
    /// that is the owner's (an mbuf's, not touched), so that
    /// [`PacketBuf::from_foreign_bound`] may later be used on it.
    ///
    /// # Safety
    /// `header` is valid for writes of [`BUF_HEADER_SIZE`] bytes and aligned, no buffer
    /// uses the memory, and `owner` is the one to release it.
    pub unsafe fn init_foreign_header(header: NonNull<BufHeader>, owner: ForeignOwner) {
        let h = header.as_ptr();
        // SAFETY: the caller's contract; field writes need no initialised memory.
        unsafe {
            (&raw mut (*h).owner).write(Owner::Foreign(owner));
            (&raw mut (*h).too_long).write(false);
            (&raw mut (*h).meta).write(Meta::default());
        }
    }

    /// The owner's handle of a foreign buffer (DPDK: the `rte_mbuf`), `None` for ours.
    #[inline]
    pub fn foreign_handle(&self) -> Option<NonNull<c_void>> {
        match self.owner {
            Owner::Own => None,
            Owner::Foreign(owner) => Some(owner.handle),
        }
    }

    /// Whether the buffer belongs to someone else (dropping it releases it to them).
    #[inline]
    pub fn is_foreign(&self) -> bool {
        matches!(self.owner, Owner::Foreign(_))
    }

    /// Gives a foreign buffer back to its owner without releasing it: its handle and the
    /// frame's offset and length in the data room (DPDK: written back into the mbuf's
    /// `data_off`/`data_len`/`pkt_len` before `rte_eth_tx_burst`). One of our buffers
    /// comes back unchanged as the error (the caller copies its frame).
    pub fn into_foreign(self) -> Result<(NonNull<c_void>, u16, u16), PacketBuf> {
        match self.owner {
            Owner::Own => Err(self),
            Owner::Foreign(ForeignOwner { handle, .. }) => {
                let placed = (handle, self.d.head, self.d.len);
                // the owner has it now: no release
                std::mem::forget(self);
                Ok(placed)
            }
        }
    }
}

impl Deref for PacketBuf {
    type Target = Buf;

    #[inline]
    fn deref(&self) -> &Buf {
        let header: *mut Buf = self.0.as_ptr();
        // SAFETY: the header is initialised (by `new_own` or `from_foreign`) and stays
        // valid while this `PacketBuf` lives; `&self` keeps it from being changed.
        unsafe { &*header }
    }
}

impl DerefMut for PacketBuf {
    #[inline]
    fn deref_mut(&mut self) -> &mut Buf {
        let header: *mut Buf = self.0.as_ptr();
        // SAFETY: as in `deref`; `&mut self` makes this the only access to the header.
        unsafe { &mut *header }
    }
}

impl Drop for PacketBuf {
    fn drop(&mut self) {
        match self.owner {
            // SAFETY: an `Own` header is the first field of an `OwnBlock` that `new_own`
            // made with `Box::into_raw`, and this handle, its only owner, ends here.
            Owner::Own => unsafe { drop(Box::from_raw(self.0.as_ptr().cast::<OwnBlock>())) },
            // SAFETY: `from_foreign`'s contract: `release` takes the handle back once, and
            // this handle (its only owner) ends here without touching the memory again.
            Owner::Foreign(ForeignOwner { handle, release }) => unsafe { release(handle) },
        }
    }
}

impl fmt::Debug for PacketBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl fmt::Debug for Buf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Buf")
            .field("len", &self.d.len)
            .field("foreign", &matches!(self.owner, Owner::Foreign(_)))
            .field("meta", &self.meta)
            .field("data", &self.frame())
            .finish()
    }
}

impl Buf {
    /// The frame bytes.
    #[inline]
    pub fn frame(&self) -> &[u8] {
        // SAFETY: `head + len <= capacity` always holds, and the data room (`capacity`
        // initialised bytes) belongs to this header's owner alone while it lives.
        unsafe {
            std::slice::from_raw_parts(
                self.d.data.as_ptr().add(usize::from(self.d.head)),
                usize::from(self.d.len),
            )
        }
    }

    #[inline]
    pub fn frame_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `frame`; `&mut self` makes this the only access to the room.
        unsafe {
            std::slice::from_raw_parts_mut(
                self.d.data.as_ptr().add(usize::from(self.d.head)),
                usize::from(self.d.len),
            )
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        usize::from(self.d.len)
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.d.len == 0
    }

    /// Bytes in front of the frame (room for [`FrameBuf::prepend`]).
    #[inline]
    pub fn headroom(&self) -> usize {
        usize::from(self.d.head)
    }

    /// Bytes the data room can hold from the frame's start.
    #[inline]
    fn room_from_head(&self) -> usize {
        usize::from(self.d.capacity) - usize::from(self.d.head)
    }

    /// Empties the buffer, standard headroom in front (metadata left as it is).
    #[inline]
    fn reset(&mut self) {
        self.d.head = HEADROOM as u16;
        self.d.len = 0;
        self.too_long = false;
    }

    /// Replaces the frame with a copy of `frame` after the standard headroom; false (and
    /// empty) if it does not fit.
    pub fn set_frame(&mut self, frame: &[u8]) -> bool {
        self.reset();
        if frame.len() > self.room_from_head() {
            return false;
        }
        self.d.len = frame.len() as u16;
        self.frame_mut().copy_from_slice(frame);
        true
    }

    /// The whole room after the standard headroom, for a device to read a frame into
    /// (the frame is empty until [`Buf::set_received_len`]).
    #[inline]
    pub fn rx_room(&mut self) -> &mut [u8] {
        // an empty frame at the headroom (`set_received_len` sets the length and mark)
        self.d.head = HEADROOM as u16;
        self.d.len = 0;
        let room = usize::from(self.d.capacity) - HEADROOM;
        // SAFETY: `HEADROOM <= capacity` (checked when the header was made), so the
        // `capacity − HEADROOM` bytes from `HEADROOM` are in the room, which `&mut self`
        // holds alone.
        unsafe { std::slice::from_raw_parts_mut(self.d.data.as_ptr().add(HEADROOM), room) }
    }

    /// Sets the frame length after a device wrote into [`Buf::rx_room`]. `len` is the
    /// length of the frame on the wire: when it exceeds the room, the buffer keeps only
    /// its first bytes and is marked [`too long`](Buf::is_too_long).
    #[inline]
    pub fn set_received_len(&mut self, len: usize) {
        let room = self.room_from_head();
        self.too_long = len > room;
        self.d.len = len.min(room) as u16;
    }

    /// The received frame did not fit: the bytes are a cut-off prefix, not a packet.
    #[inline]
    pub fn is_too_long(&self) -> bool {
        self.too_long
    }

    /// Changes the frame length (growing exposes whatever bytes the buffer holds there);
    /// false if the buffer has no room.
    #[inline]
    pub fn set_len(&mut self, len: usize) -> bool {
        if len > self.room_from_head() {
            return false;
        }
        self.d.len = len as u16;
        true
    }

    /// Drops bytes from the end; false if fewer are present.
    #[inline]
    pub fn trim_back(&mut self, n: usize) -> bool {
        if n > usize::from(self.d.len) {
            return false;
        }
        self.d.len -= n as u16;
        true
    }
}

impl FrameBuf for Buf {
    #[inline]
    fn data(&self) -> &[u8] {
        self.frame()
    }
    #[inline]
    fn data_mut(&mut self) -> &mut [u8] {
        self.frame_mut()
    }
    #[inline]
    fn trim_front(&mut self, n: usize) -> bool {
        if n > usize::from(self.d.len) {
            return false;
        }
        self.d.head += n as u16;
        self.d.len -= n as u16;
        true
    }
    #[inline]
    fn prepend(&mut self, n: usize) -> bool {
        if n > usize::from(self.d.head) {
            return false;
        }
        self.d.head -= n as u16;
        self.d.len += n as u16;
        true
    }
}

/// Where a [`Pool`] takes buffers from instead of making its own (DPDK: an mbuf mempool),
/// so the frames the graph makes (replies, ICMP errors, sync messages) are the backend's
/// buffers too.
pub trait BufSource: Send {
    /// A free buffer (any frame, it is emptied), or `None` when all are in use.
    fn alloc(&mut self) -> Option<PacketBuf>;
    /// Buffers the source has in all.
    fn capacity(&self) -> usize;
    /// Buffers handed out and not yet released.
    fn in_use(&self) -> usize;
}

/// Recycles buffers. Allocation happens only while the pool is cold and below its limit;
/// with a [`BufSource`] the buffers come from there and go back to it when freed.
pub struct Pool {
    free: Vec<PacketBuf>,
    created: usize,
    limit: usize,
    source: Option<Box<dyn BufSource>>,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("free", &self.free.len())
            .field("created", &self.created)
            .field("limit", &self.limit)
            .field("source", &self.source.is_some())
            .finish()
    }
}

impl Pool {
    /// A pool that creates at most `limit` buffers of its own.
    pub fn new(limit: usize) -> Self {
        Pool {
            free: Vec::with_capacity(limit.min(8192)),
            created: 0,
            limit,
            source: None,
        }
    }

    /// Takes further buffers from `source` instead of making them; the pool's own idle
    /// buffers are freed (ones still in use are recycled when they come back).
    pub fn set_source(&mut self, source: Box<dyn BufSource>) {
        self.created = self.created.saturating_sub(self.free.len());
        self.free.clear();
        self.source = Some(source);
    }

    /// An empty buffer with the standard headroom, or `None` if all are in use.
    #[inline]
    pub fn alloc(&mut self) -> Option<PacketBuf> {
        let mut b = match self.free.pop() {
            Some(b) => b,
            None => self.fresh()?,
        };
        b.reset();
        Some(b)
    }

    /// A buffer the free list does not have: from the source, or a new one of ours.
    fn fresh(&mut self) -> Option<PacketBuf> {
        if let Some(source) = self.source.as_mut() {
            return source.alloc();
        }
        if self.created < self.limit {
            self.created += 1;
            return Some(PacketBuf::new_own());
        }
        None
    }

    /// A buffer holding a copy of `frame` (metadata default), or `None`.
    pub fn alloc_frame(&mut self, frame: &[u8]) -> Option<PacketBuf> {
        let mut b = self.alloc()?;
        if !b.set_frame(frame) {
            self.free(b);
            return None;
        }
        b.meta = Meta::default();
        Some(b)
    }

    /// A buffer holding a copy of `pkt`'s frame (after the standard headroom) and
    /// metadata, or `None`.
    pub fn alloc_copy(&mut self, pkt: &Buf) -> Option<PacketBuf> {
        let mut b = self.alloc()?;
        if !b.set_frame(pkt.frame()) {
            self.free(b);
            return None;
        }
        b.too_long = pkt.too_long;
        b.meta = pkt.meta;
        Some(b)
    }

    /// Takes a buffer back: ours wait for reuse, a foreign one goes back to its owner.
    #[inline]
    pub fn free(&mut self, b: PacketBuf) {
        if b.is_foreign() {
            drop(b);
        } else {
            self.free.push(b);
        }
    }

    /// Buffers created so far (the pool never shrinks), with all of a source's.
    pub fn created(&self) -> usize {
        self.created + self.source.as_ref().map_or(0, |s| s.capacity())
    }

    /// Buffers currently handed out, with a source's.
    pub fn in_use(&self) -> usize {
        self.created.saturating_sub(self.free.len())
            + self.source.as_ref().map_or(0, |s| s.in_use())
    }
}

#[cfg(test)]
mod tests;
