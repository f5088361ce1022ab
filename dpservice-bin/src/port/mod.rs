//! Ports: where packets enter and leave the daemon. The graph never knows which backend
//! carried a packet (ARCHITECTURE principle 5).
//!
//! Backends: [`tap`] (Linux TAP devices), [`memory`] (queues in memory, for tests and
//! benchmarks) and, with the cargo feature `dpdk`, `dpdk` (DPDK's ports). Packets travel
//! in [`PacketBuf`]s, handles on buffers that are ours (the [`Pool`]'s) or a backend's (a
//! DPDK mbuf, its header in the mbuf's private area). Receiving and sending never block;
//! a port that can wake the worker offers a
//! file descriptor to poll.

pub mod buf;
#[cfg(feature = "dpdk")]
pub mod dpdk;
pub mod link;
pub mod memory;
pub mod meta;
pub mod netlink;
pub mod tap;

use std::os::fd::BorrowedFd;

pub use buf::{Buf, BufSource, PacketBuf, Pool};
pub use link::{LinkDevice, LinkRequests};

use crate::wire::MacAddr;

/// DPDK-style port number, assigned in `--vdev` order.
pub type PortId = u16;

/// Traffic counters of one port (the `ethdev` statistics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PortStats {
    pub rx_packets: u64,
    pub rx_bytes: u64,
    pub tx_packets: u64,
    pub tx_bytes: u64,
    /// Read errors other than "nothing to read", and frames too large for a buffer.
    pub rx_errors: u64,
    /// Write errors other than "queue full".
    pub tx_errors: u64,
    /// Frames not received because no buffer was free.
    pub rx_nombuf: u64,
}

/// A packet device.
pub trait Port: Send {
    /// Kernel (or test) name of the device, e.g. `dtapvf_0`.
    fn name(&self) -> &str;

    /// The port's own MAC address.
    fn mac(&self) -> MacAddr;

    /// Link state as the device reports it now.
    fn link_up(&self) -> bool;

    /// Starts the port (brings the link up); until then it is not polled.
    fn start(&mut self) -> std::io::Result<()>;

    /// Stops the port (brings the link down).
    fn stop(&mut self) -> std::io::Result<()>;

    /// Receives up to `max` frames without blocking, taking buffers from `pool` and
    /// appending them to `out`. Returns the number received.
    fn rx_burst(&mut self, pool: &mut Pool, out: &mut Vec<PacketBuf>, max: usize) -> usize;

    /// [`Port::rx_burst`] for the port the graph knows as `id`, the packets numbered
    /// from `first_pkt_id`. With `true`, the i-th buffer appended carries the mark of a
    /// packet received on `id` already (`in_port` `id`, `pkt_id` `first_pkt_id + i`, not
    /// recirculated), written in the same stores that made its header, and none is too
    /// long: the graph queues them without touching them
    /// ([`crate::graph::Graph::rx_stamped`]); the rest of their metadata is any valid
    /// values (`cls` resets it). With `false` their metadata is anything.
    fn rx_burst_stamped(
        &mut self,
        id: PortId,
        first_pkt_id: u32,
        pool: &mut Pool,
        out: &mut Vec<PacketBuf>,
        max: usize,
    ) -> (usize, bool) {
        let _ = (id, first_pkt_id);
        (self.rx_burst(pool, out, max), false)
    }

    /// Sends frames from the front of `pkts` without blocking until one cannot be sent now
    /// (queue full); sent buffers go back to `pool` and leave `pkts`. Returns the number
    /// sent; what remains in `pkts` was not sent.
    fn tx_burst(&mut self, pkts: &mut Vec<PacketBuf>, pool: &mut Pool) -> usize;

    /// A descriptor that becomes readable when frames wait, or `None` if the port cannot
    /// wake a sleeping worker (then the worker must poll it).
    fn poll_fd(&self) -> Option<BorrowedFd<'_>>;

    /// Counters since the port was opened.
    fn stats(&self) -> PortStats;

    /// A handle on the port's link for the `portctl` thread (link state, up/down).
    fn link_device(&self) -> std::io::Result<Box<dyn LinkDevice>>;
}
