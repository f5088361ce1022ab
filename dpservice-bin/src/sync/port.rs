//! The sync port (`--sync-tap`): a device carrying only sync frames, with a small buffer
//! pool of its own so a flood on the sync bridge can never starve the packet path.

use std::os::fd::BorrowedFd;

use super::messages::{self, DecodeError, Message};
use crate::port::{PacketBuf, Pool, Port, PortStats};

/// Buffers of the sync port (in flight on transmit plus one received burst).
const POOL_SIZE: usize = 2048;
/// Frames read per receive call.
pub const BURST: usize = 64;

/// The HA sync device.
pub struct SyncPort {
    port: Box<dyn Port>,
    pool: Pool,
    rx: Vec<PacketBuf>,
    tx: Vec<PacketBuf>,
    /// Messages that found no buffer (the peer then misses them).
    lost: u64,
}

impl std::fmt::Debug for SyncPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncPort")
            .field("name", &self.port.name())
            .field("queued", &self.tx.len())
            .field("lost", &self.lost)
            .finish_non_exhaustive()
    }
}

impl SyncPort {
    /// Takes the device and brings its link up (a TAP passes no frames while down).
    pub fn new(mut port: Box<dyn Port>) -> SyncPort {
        if let Err(e) = port.start() {
            tracing::warn!(
                port = port.name(),
                error = %e,
                "Cannot bring the HA sync port up; sync messages will not flow until it is up"
            );
        }
        SyncPort {
            port,
            pool: Pool::new(POOL_SIZE),
            rx: Vec::with_capacity(BURST),
            tx: Vec::new(),
            lost: 0,
        }
    }

    /// Room for this many more queued messages.
    pub fn room(&self) -> usize {
        POOL_SIZE.saturating_sub(self.pool.in_use())
    }

    /// Queues `msg` for [`SyncPort::flush`]; answers false (and counts it lost) when no
    /// buffer is free.
    pub fn queue(&mut self, msg: &Message) -> bool {
        match self.pool.alloc_frame(&messages::encode(msg)) {
            Some(b) => {
                self.tx.push(b);
                true
            }
            None => {
                self.lost += 1;
                false
            }
        }
    }

    /// Sends what is queued, as far as the device takes it; the rest waits for the next
    /// call. Answers how many were sent.
    pub fn flush(&mut self) -> usize {
        if self.tx.is_empty() {
            return 0;
        }
        self.port.tx_burst(&mut self.tx, &mut self.pool)
    }

    /// Messages waiting to be sent.
    pub fn pending(&self) -> usize {
        self.tx.len()
    }

    /// Reads one burst, decoding each frame into `out`. Answers the number of frames.
    pub fn receive(&mut self, out: &mut Vec<Result<Message, DecodeError>>) -> usize {
        let n = self.port.rx_burst(&mut self.pool, &mut self.rx, BURST);
        for b in self.rx.drain(..) {
            out.push(messages::decode(b.frame()));
            self.pool.free(b);
        }
        n
    }

    /// The descriptor to sleep on (`None`: the port must be polled).
    pub fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        self.port.poll_fd()
    }

    /// Whether the device's link is up and running (a TAP's bridge port forwards only
    /// some time after the TAP is attached).
    pub fn link_up(&self) -> bool {
        self.port.link_up()
    }

    /// Device counters.
    pub fn stats(&self) -> PortStats {
        self.port.stats()
    }

    /// Messages that found no buffer.
    pub fn lost(&self) -> u64 {
        self.lost
    }
}
