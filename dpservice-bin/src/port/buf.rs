//! Packet buffers (the counterpart of DPDK's mbuf) and the pool that recycles them, so the
//! packet path allocates nothing once warm.

use crate::graph::meta::Meta;
use crate::wire::ipip::FrameBuf;

/// Room in front of a received frame, for tunnel headers (40 bytes net) and replies that
/// grow (router advertisement, DHCP options).
pub const HEADROOM: usize = 128;
/// Largest frame a buffer holds (a 1500-byte inner frame in a tunnel fits with room to spare).
/// A longer frame is received cut to this length and marked ([`Buf::is_too_long`]); the
/// graph drops it as `frame_too_long` instead of processing the truncated bytes.
pub const MAX_FRAME: usize = 2048;
/// Total bytes per buffer.
pub const BUF_SIZE: usize = HEADROOM + MAX_FRAME;

/// One packet: bytes with headroom, plus its metadata.
#[derive(Clone)]
pub struct Buf {
    head: u16,
    len: u16,
    /// The device had more bytes for this frame than the buffer holds.
    too_long: bool,
    pub meta: Meta,
    data: [u8; BUF_SIZE],
}

impl std::fmt::Debug for Buf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Buf")
            .field("len", &self.len)
            .field("meta", &self.meta)
            .field("data", &self.frame())
            .finish()
    }
}

/// An owned packet buffer; moving it between queues moves one pointer.
pub type PacketBuf = Box<Buf>;

impl Buf {
    fn new_boxed() -> PacketBuf {
        Box::new(Buf {
            head: HEADROOM as u16,
            len: 0,
            too_long: false,
            meta: Meta::default(),
            data: [0; BUF_SIZE],
        })
    }

    /// The frame bytes.
    #[inline]
    pub fn frame(&self) -> &[u8] {
        &self.data[usize::from(self.head)..usize::from(self.head) + usize::from(self.len)]
    }

    #[inline]
    pub fn frame_mut(&mut self) -> &mut [u8] {
        let h = usize::from(self.head);
        &mut self.data[h..h + usize::from(self.len)]
    }

    #[inline]
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Replaces the frame with a copy of `frame` after the standard headroom; false (and
    /// empty) if it does not fit.
    pub fn set_frame(&mut self, frame: &[u8]) -> bool {
        self.head = HEADROOM as u16;
        self.too_long = false;
        if frame.len() > MAX_FRAME {
            self.len = 0;
            return false;
        }
        self.data[HEADROOM..HEADROOM + frame.len()].copy_from_slice(frame);
        self.len = frame.len() as u16;
        true
    }

    /// The whole room after the headroom, for a device to read a frame into; follow with
    /// [`Buf::set_received_len`].
    #[inline]
    pub fn rx_room(&mut self) -> &mut [u8] {
        self.head = HEADROOM as u16;
        &mut self.data[HEADROOM..]
    }

    /// Sets the frame length after a device wrote into [`Buf::rx_room`]. `len` is the
    /// length of the frame on the wire: when it exceeds [`MAX_FRAME`], the buffer keeps
    /// only its first bytes and is marked [`too long`](Buf::is_too_long).
    #[inline]
    pub fn set_received_len(&mut self, len: usize) {
        self.too_long = len > MAX_FRAME;
        self.len = len.min(MAX_FRAME) as u16;
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
        if usize::from(self.head) + len > BUF_SIZE {
            return false;
        }
        self.len = len as u16;
        true
    }

    /// Drops bytes from the end; false if fewer are present.
    #[inline]
    pub fn trim_back(&mut self, n: usize) -> bool {
        if n > usize::from(self.len) {
            return false;
        }
        self.len -= n as u16;
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
        if n > usize::from(self.len) {
            return false;
        }
        self.head += n as u16;
        self.len -= n as u16;
        true
    }
    #[inline]
    fn prepend(&mut self, n: usize) -> bool {
        if n > usize::from(self.head) {
            return false;
        }
        self.head -= n as u16;
        self.len += n as u16;
        true
    }
}

/// Recycles buffers. Allocation happens only while the pool is cold and below its limit.
#[derive(Debug)]
pub struct Pool {
    free: Vec<PacketBuf>,
    created: usize,
    limit: usize,
}

impl Pool {
    /// A pool that creates at most `limit` buffers.
    pub fn new(limit: usize) -> Self {
        Pool {
            free: Vec::with_capacity(limit.min(8192)),
            created: 0,
            limit,
        }
    }

    /// An empty buffer with the standard headroom, or `None` if all `limit` are in use.
    #[inline]
    pub fn alloc(&mut self) -> Option<PacketBuf> {
        let mut b = match self.free.pop() {
            Some(b) => b,
            None if self.created < self.limit => {
                self.created += 1;
                Buf::new_boxed()
            }
            None => return None,
        };
        b.head = HEADROOM as u16;
        b.len = 0;
        b.too_long = false;
        Some(b)
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

    #[inline]
    pub fn free(&mut self, b: PacketBuf) {
        self.free.push(b);
    }

    /// Buffers created so far (the pool never shrinks).
    pub fn created(&self) -> usize {
        self.created
    }

    /// Buffers currently handed out.
    pub fn in_use(&self) -> usize {
        self.created - self.free.len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn headroom_prepend_and_trim() {
        let mut pool = Pool::new(2);
        let mut b = pool.alloc_frame(&[1, 2, 3, 4]).unwrap();
        assert_eq!(b.frame(), &[1, 2, 3, 4]);
        assert!(b.prepend(2));
        b.frame_mut()[..2].copy_from_slice(&[9, 9]);
        assert_eq!(b.frame(), &[9, 9, 1, 2, 3, 4]);
        assert!(b.trim_front(3));
        assert_eq!(b.frame(), &[2, 3, 4]);
        assert!(!b.trim_front(4));
        assert!(b.trim_back(1));
        assert_eq!(b.frame(), &[2, 3]);
        assert!(!b.prepend(HEADROOM + 100));
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
    }

    #[test]
    fn oversized_frame_is_refused() {
        let mut pool = Pool::new(1);
        assert!(pool.alloc_frame(&vec![0u8; MAX_FRAME + 1]).is_none());
        assert_eq!(pool.in_use(), 0);
        let mut b = pool.alloc().unwrap();
        assert!(b.set_len(MAX_FRAME));
        assert!(!b.set_len(BUF_SIZE));
    }

    #[test]
    fn received_length_beyond_the_buffer_marks_the_frame_too_long() {
        let mut pool = Pool::new(1);
        let mut b = pool.alloc().unwrap();
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
}
