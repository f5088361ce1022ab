//! An owned mbuf: DPDK's packet buffer, freed back to its pool when dropped.
//!
//! Only the first segment's data is exposed: the daemon's ports are configured without
//! scattered receive and its pools hold the largest frame in one mbuf, so a chained mbuf
//! is something to drop (see [`Mbuf::segments`]).

use std::ptr::NonNull;

/// One mbuf owned by the holder (a pointer-sized handle).
#[derive(Debug)]
#[repr(transparent)]
pub struct Mbuf(NonNull<dpdk_sys::rte_mbuf>);

// SAFETY: an mbuf belongs to whoever holds its pointer; moving it to another thread moves
// that ownership (DPDK's pools accept frees from any thread).
unsafe impl Send for Mbuf {}

impl Mbuf {
    /// Takes ownership of `m` (`None` if it is NULL).
    ///
    /// # Safety
    /// `m` must be NULL or a valid mbuf from a pktmbuf pool that nothing else will use or
    /// free afterwards.
    pub unsafe fn from_raw(m: *mut dpdk_sys::rte_mbuf) -> Option<Mbuf> {
        NonNull::new(m).map(Mbuf)
    }

    /// Gives up ownership (the caller must free or send it).
    pub fn into_raw(self) -> *mut dpdk_sys::rte_mbuf {
        let m = self.0.as_ptr();
        std::mem::forget(self);
        m
    }

    /// The pointer, still owned by `self`.
    pub fn as_ptr(&self) -> *mut dpdk_sys::rte_mbuf {
        self.0.as_ptr()
    }

    /// The pointer as non-NULL, still owned by `self`.
    pub fn as_non_null(&self) -> NonNull<dpdk_sys::rte_mbuf> {
        self.0
    }

    fn raw(&self) -> &dpdk_sys::rte_mbuf {
        // SAFETY: we own a valid mbuf (constructor contract); the shared borrow of `self`
        // keeps it from changing meanwhile.
        unsafe { self.0.as_ref() }
    }

    /// Length of the frame in the first segment.
    pub fn len(&self) -> usize {
        usize::from(self.raw().data_len)
    }

    /// Whether the frame is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Length of the whole packet over all segments.
    pub fn pkt_len(&self) -> usize {
        self.raw().pkt_len as usize
    }

    /// Number of chained segments (1 for a plain frame).
    pub fn segments(&self) -> u16 {
        self.raw().nb_segs
    }

    /// Room before the frame.
    pub fn headroom(&self) -> usize {
        usize::from(self.raw().data_off)
    }

    /// Room after the frame in this segment.
    pub fn tailroom(&self) -> usize {
        let m = self.raw();
        usize::from(m.buf_len)
            .saturating_sub(usize::from(m.data_off))
            .saturating_sub(usize::from(m.data_len))
    }

    /// The port that received it (set by rx bursts).
    pub fn port(&self) -> u16 {
        self.raw().port
    }

    /// The frame (first segment).
    pub fn data(&self) -> &[u8] {
        // SAFETY: `data_len` bytes from the data pointer lie inside the mbuf's buffer and
        // are initialised (received or written through `append`); the borrow of `self`
        // keeps the mbuf alive and unchanged.
        unsafe {
            std::slice::from_raw_parts(
                dpdk_sys::dpdk_sys_pktmbuf_data(self.as_ptr()).cast::<u8>(),
                self.len(),
            )
        }
    }

    /// The frame (first segment), writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as for `data`, and `&mut self` makes this the only view.
        unsafe {
            std::slice::from_raw_parts_mut(
                dpdk_sys::dpdk_sys_pktmbuf_data(self.as_ptr()).cast::<u8>(),
                self.len(),
            )
        }
    }

    /// Grows the frame at its end by `len` bytes (uninitialised bytes are zeroed) and
    /// returns them; `None` if the tailroom is too small.
    pub fn append(&mut self, len: usize) -> Option<&mut [u8]> {
        let len16 = u16::try_from(len).ok()?;
        // SAFETY: we own the mbuf exclusively; DPDK checks the tailroom and returns NULL
        // without changing anything when it is too small.
        let p = unsafe { dpdk_sys::dpdk_sys_pktmbuf_append(self.as_ptr(), len16) };
        let p = NonNull::new(p.cast::<u8>())?;
        // SAFETY: the `len` bytes at `p` are inside the buffer, now part of the frame, and
        // only reachable through `&mut self`; zeroing makes them initialised.
        unsafe {
            std::ptr::write_bytes(p.as_ptr(), 0, len);
            Some(std::slice::from_raw_parts_mut(p.as_ptr(), len))
        }
    }

    /// Grows the frame at its front by `len` bytes (zeroed) and returns them; `None` if
    /// the headroom is too small.
    pub fn prepend(&mut self, len: usize) -> Option<&mut [u8]> {
        let len16 = u16::try_from(len).ok()?;
        // SAFETY: as for `append`, with the headroom.
        let p = unsafe { dpdk_sys::dpdk_sys_pktmbuf_prepend(self.as_ptr(), len16) };
        let p = NonNull::new(p.cast::<u8>())?;
        // SAFETY: as for `append`.
        unsafe {
            std::ptr::write_bytes(p.as_ptr(), 0, len);
            Some(std::slice::from_raw_parts_mut(p.as_ptr(), len))
        }
    }

    /// Removes `len` bytes from the front; `false` (and nothing changed) if the frame is
    /// shorter.
    pub fn adj(&mut self, len: usize) -> bool {
        let Ok(len) = u16::try_from(len) else {
            return false;
        };
        // SAFETY: we own the mbuf exclusively; DPDK checks the length.
        !unsafe { dpdk_sys::dpdk_sys_pktmbuf_adj(self.as_ptr(), len) }.is_null()
    }

    /// Removes `len` bytes from the end; `false` (and nothing changed) if the frame is
    /// shorter.
    pub fn trim(&mut self, len: usize) -> bool {
        let Ok(len) = u16::try_from(len) else {
            return false;
        };
        // SAFETY: as for `adj`.
        unsafe { dpdk_sys::dpdk_sys_pktmbuf_trim(self.as_ptr(), len) == 0 }
    }

    /// Size of the private area (the pool's `priv_size`).
    pub fn priv_size(&self) -> usize {
        usize::from(self.raw().priv_size)
    }

    /// The private area (zeroed when the pool was made, then whatever was written).
    pub fn priv_area(&self) -> &[u8] {
        // SAFETY: `priv_size` bytes at `priv_ptr` belong to this mbuf, are initialised
        // (rte_pktmbuf_init zeroes header and private area) and stay unchanged while
        // `self` is borrowed.
        unsafe { std::slice::from_raw_parts(self.priv_ptr().as_ptr(), self.priv_size()) }
    }

    /// The private area, writable.
    pub fn priv_area_mut(&mut self) -> &mut [u8] {
        // SAFETY: as for `priv_area`, and `&mut self` makes this the only view.
        unsafe { std::slice::from_raw_parts_mut(self.priv_ptr().as_ptr(), self.priv_size()) }
    }

    /// The private area: `priv_size` bytes after DPDK's mbuf header, aligned to
    /// `RTE_MBUF_PRIV_ALIGN`, owned with the mbuf (where the daemon's buffer header
    /// lives).
    pub fn priv_ptr(&self) -> NonNull<u8> {
        // SAFETY: a pktmbuf pool lays out each object as the rte_mbuf header directly
        // followed by the private area (what rte_mbuf_to_priv computes), so one header
        // further stays inside the same allocation.
        unsafe { self.0.add(1).cast::<u8>() }
    }
}

impl Drop for Mbuf {
    fn drop(&mut self) {
        // SAFETY: we own the mbuf (and its chain); nothing uses it after this.
        unsafe { dpdk_sys::dpdk_sys_pktmbuf_free(self.0.as_ptr()) };
    }
}
