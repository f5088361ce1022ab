//! What the packet path tells the HA peer (dataplane.md §16.2): NAT port allocations and
//! releases, virtual-service connections. Nodes queue messages here; the worker hands
//! them to the sync port between bursts (without `--sync-tap` nothing is queued).

use std::net::Ipv4Addr;

use dpservice::shm::catalogue::{PortmapKey, PortoverloadKey};

use crate::port::PortId;

/// One message for the peer, before encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMessage {
    /// Type 1: a NAT port was allocated (or an existing port-map entry reused).
    NatCreate {
        portmap: PortmapKey,
        overload: PortoverloadKey,
        /// Port the flow was created on.
        port_id: PortId,
        /// ICMP type of the original packet (ICMP only).
        icmp_type: u16,
        /// The original IPv4 header checksum, as found in the header.
        ip_checksum: [u8; 2],
    },
    /// Type 2: a NAT port was released.
    NatDelete {
        portmap: PortmapKey,
        overload: PortoverloadKey,
    },
    /// Type 3: a virtual-service connection got a slot.
    VirtsvcConnection {
        virtual_addr: Ipv4Addr,
        virtual_port: u16,
        slot: u16,
        vm_addr: Ipv4Addr,
        vm_port: u16,
        port_id: PortId,
        proto: u8,
    },
}

/// The queue of messages for the peer.
#[derive(Debug, Default)]
pub struct SyncOutbox {
    /// Whether HA sync is configured (`--sync-tap`): otherwise nothing is queued.
    pub enabled: bool,
    queue: Vec<SyncMessage>,
}

impl SyncOutbox {
    /// Queues `msg` when sync is enabled.
    #[inline]
    pub fn push(&mut self, msg: SyncMessage) {
        if self.enabled {
            self.queue.push(msg);
        }
    }

    /// Everything queued so far, oldest first.
    pub fn drain(&mut self) -> std::vec::Drain<'_, SyncMessage> {
        self.queue.drain(..)
    }
}
