//! Pools of mbufs. Each mbuf has a private area right after DPDK's `struct rte_mbuf`,
//! whose size the pool fixes: the daemon keeps its buffer header there, so a packet's
//! metadata travels in the mbuf itself.
//!
//! Pools live for the rest of the process (mbufs may still be in a queue or a ring when
//! the daemon stops, and freeing a pool under them would be unsound).

use std::ffi::CString;
use std::ptr::NonNull;

use super::mbuf::Mbuf;
use super::{last_error, DpdkError, Eal};

/// How a pool is made (upstream's values in [`PoolConfig::upstream`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    /// Unique name among the process's mempools.
    pub name: String,
    /// Number of mbufs.
    pub size: u32,
    /// Per-lcore cache (at most `RTE_MEMPOOL_CACHE_MAX_SIZE`).
    pub cache: u32,
    /// Private area after each `struct rte_mbuf`, a multiple of `RTE_MBUF_PRIV_ALIGN`.
    pub priv_size: u16,
    /// Data room per mbuf, headroom included.
    pub data_room: u16,
    /// NUMA socket (`SOCKET_ID_ANY` for any).
    pub socket: i32,
}

/// Upstream's data room: the largest frame (1500 MTU + 14 Ethernet + 4 FCS + 40 IPv6
/// tunnel header) after DPDK's headroom.
pub const UPSTREAM_DATA_ROOM: u16 = 1558 + dpdk_sys::RTE_PKTMBUF_HEADROOM as u16;
/// Upstream's per-lcore cache.
pub const UPSTREAM_CACHE: u32 = 256;

impl PoolConfig {
    /// Upstream's pool shape with `size` mbufs and a private area of `priv_size` bytes
    /// on the calling thread's socket.
    pub fn upstream(eal: &Eal, name: &str, size: u32, priv_size: u16) -> PoolConfig {
        PoolConfig {
            name: name.to_owned(),
            size,
            cache: UPSTREAM_CACHE,
            priv_size,
            data_room: UPSTREAM_DATA_ROOM,
            socket: eal.socket_id(),
        }
    }
}

/// A pool of packet mbufs (a cheap handle; the pool itself is never freed).
#[derive(Debug, Clone, Copy)]
pub struct MbufPool {
    pool: NonNull<dpdk_sys::rte_mempool>,
}

// SAFETY: a pktmbuf pool with DPDK's default (multi-producer, multi-consumer ring) ops is
// safe to get from and put to from any thread; the handle is only a pointer to it and the
// pool is never freed.
unsafe impl Send for MbufPool {}
// SAFETY: as for Send; no method mutates the handle.
unsafe impl Sync for MbufPool {}

impl MbufPool {
    /// Creates a pool (`rte_pktmbuf_pool_create`).
    pub fn create(_eal: &Eal, cfg: &PoolConfig) -> Result<MbufPool, DpdkError> {
        if cfg.priv_size % dpdk_sys::RTE_MBUF_PRIV_ALIGN as u16 != 0 {
            return Err(DpdkError::PrivSize(cfg.priv_size));
        }
        let failed = |reason: String| DpdkError::Mempool {
            name: cfg.name.clone(),
            size: cfg.size,
            reason,
        };
        let name = CString::new(cfg.name.as_bytes())
            .map_err(|_| failed("the name contains a NUL byte".to_owned()))?;
        // SAFETY: the EAL is initialised (`_eal`); `name` is a valid C string that DPDK
        // copies; the numbers are plain values DPDK checks.
        let pool = unsafe {
            dpdk_sys::rte_pktmbuf_pool_create(
                name.as_ptr(),
                cfg.size,
                cfg.cache,
                cfg.priv_size,
                cfg.data_room,
                cfg.socket,
            )
        };
        NonNull::new(pool)
            .map(|pool| MbufPool { pool })
            .ok_or_else(|| failed(last_error()))
    }

    /// One mbuf, reset and empty, or `None` when the pool is exhausted.
    pub fn alloc(&self) -> Option<Mbuf> {
        // SAFETY: `pool` is a live pktmbuf pool; the returned mbuf (if any) is ours.
        let m = unsafe { dpdk_sys::dpdk_sys_pktmbuf_alloc(self.pool.as_ptr()) };
        // SAFETY: a non-NULL result is a freshly allocated mbuf nobody else references.
        unsafe { Mbuf::from_raw(m) }
    }

    /// `n` mbufs appended to `out`, or none (and `false`) if the pool has fewer free.
    pub fn alloc_bulk(&self, out: &mut Vec<Mbuf>, n: usize) -> bool {
        let mut raw: Vec<*mut dpdk_sys::rte_mbuf> = vec![std::ptr::null_mut(); n];
        // SAFETY: `raw` has room for `n` pointers; on success DPDK fills all of them with
        // mbufs that are ours, on failure it allocates none.
        let ret = unsafe {
            dpdk_sys::dpdk_sys_pktmbuf_alloc_bulk(self.pool.as_ptr(), raw.as_mut_ptr(), n as u32)
        };
        if ret != 0 {
            return false;
        }
        // SAFETY: each pointer is a freshly allocated mbuf owned by us alone.
        out.extend(raw.into_iter().filter_map(|m| unsafe { Mbuf::from_raw(m) }));
        true
    }

    /// Free mbufs (an estimate while other threads allocate).
    pub fn available(&self) -> u32 {
        // SAFETY: `pool` is a live mempool; this only reads its counters.
        unsafe { dpdk_sys::rte_mempool_avail_count(self.pool.as_ptr()) }
    }

    /// Mbufs taken from the pool.
    pub fn in_use(&self) -> u32 {
        // SAFETY: as for `available`.
        unsafe { dpdk_sys::rte_mempool_in_use_count(self.pool.as_ptr()) }
    }

    /// The size of each mbuf's private area.
    pub fn priv_size(&self) -> u16 {
        // SAFETY: `pool` is a pktmbuf pool, whose private data holds this size.
        unsafe { dpdk_sys::dpdk_sys_pktmbuf_priv_size(self.pool.as_ptr()) }
    }

    /// The data room of each mbuf (headroom included).
    pub fn data_room(&self) -> u16 {
        // SAFETY: as for `priv_size`.
        unsafe { dpdk_sys::dpdk_sys_pktmbuf_data_room_size(self.pool.as_ptr()) }
    }

    /// The DPDK pool, for queue setup.
    pub fn as_ptr(&self) -> *mut dpdk_sys::rte_mempool {
        self.pool.as_ptr()
    }
}
