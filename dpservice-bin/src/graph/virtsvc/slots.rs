//! The connection slots of one virtual service (dataplane.md §12): slot `s` is the
//! translated source port `1024 + s`. A slot remembers the VM side of its connection,
//! when it was last used and (TCP) how far the handshake got; it is free again once
//! idle for longer than its timeout.
//!
//! The per-slot arrays start all-zero ("never used") and are allocated zeroed, so the
//! operating system maps their pages only when slots are first written: 256 services
//! cost memory only for the slots they use.

use std::net::Ipv4Addr;

use dpservice::shm::catalogue::VirtsvcKey;

use super::Timeouts;
use crate::hash;
use crate::port::PortId;
use crate::wire::tcp::flags;

/// Ports below this are never used as translated source ports.
pub const SYSTEM_PORTS: u16 = 1024;
/// Slots per service: one per port 1024..=65535.
pub const SLOT_COUNT: usize = 65536 - SYSTEM_PORTS as usize;

/// How far a TCP connection got (both directions feed the same machine; upstream's
/// exact-flag matching).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum TcpState {
    /// New, or after RST/FIN.
    Transient = 0,
    SynSeen = 1,
    SynAckSeen = 2,
    Established = 3,
}

impl TcpState {
    fn from_u8(v: u8) -> TcpState {
        match v {
            1 => TcpState::SynSeen,
            2 => TcpState::SynAckSeen,
            3 => TcpState::Established,
            _ => TcpState::Transient,
        }
    }

    /// The state after a segment with `tcp_flags` (the whole flags byte).
    pub fn next(self, tcp_flags: u8) -> TcpState {
        if tcp_flags & (flags::RST | flags::FIN) != 0 {
            return TcpState::Transient;
        }
        match self {
            TcpState::Transient if tcp_flags == flags::SYN => TcpState::SynSeen,
            TcpState::SynSeen if tcp_flags == flags::SYN | flags::ACK => TcpState::SynAckSeen,
            TcpState::SynAckSeen if tcp_flags == flags::ACK => TcpState::Established,
            s => s,
        }
    }
}

/// The VM side of a connection: the key of the region's `virtsvc_table_<i>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnKey {
    /// The VF the VM is on.
    pub port_id: PortId,
    /// The VM's source port.
    pub vm_port: u16,
    /// The VM's source address.
    pub vm_ip: Ipv4Addr,
}

impl ConnKey {
    /// As stored in the region (§19.3 byte layout).
    pub fn to_table(self) -> VirtsvcKey {
        VirtsvcKey {
            vf_port_id: self.port_id,
            vm_port: self.vm_port.to_be_bytes(),
            vm_ip: self.vm_ip.octets(),
        }
    }

    pub fn from_table(k: &VirtsvcKey) -> ConnKey {
        ConnKey {
            port_id: k.vf_port_id,
            vm_port: u16::from_be_bytes(k.vm_port),
            vm_ip: Ipv4Addr::from(k.vm_ip),
        }
    }

    /// The connection hash (§19.3) that picks the uplink.
    pub fn hash(self) -> u32 {
        hash::virtsvc_hash(self.port_id, self.vm_port, self.vm_ip)
    }

    fn pack(self) -> u64 {
        u64::from(self.port_id) << 48
            | u64::from(self.vm_port) << 32
            | u64::from(u32::from(self.vm_ip))
    }

    fn unpack(v: u64) -> ConnKey {
        ConnKey {
            port_id: (v >> 48) as u16,
            vm_port: (v >> 32) as u16,
            vm_ip: Ipv4Addr::from(v as u32),
        }
    }
}

/// The slots of one service.
#[derive(Debug)]
pub struct Slots {
    /// Last use per slot in nanoseconds since the services' epoch, plus one; 0 = free
    /// (never used, or released).
    used_ns: Vec<u64>,
    /// The connection of each slot ([`ConnKey::pack`]).
    keys: Vec<u64>,
    /// [`TcpState`] per slot.
    tcp: Vec<u8>,
    /// The slot handed out last; the next search starts after it.
    last: u16,
}

impl Default for Slots {
    fn default() -> Self {
        Slots::new()
    }
}

impl Slots {
    pub fn new() -> Slots {
        Slots {
            used_ns: vec![0; SLOT_COUNT],
            keys: vec![0; SLOT_COUNT],
            tcp: vec![0; SLOT_COUNT],
            last: 0,
        }
    }

    /// Whether `slot` may be handed out at `now`: never used, released, or idle for
    /// longer than its timeout.
    #[inline]
    fn expired(&self, slot: usize, now: u64, t: &Timeouts) -> bool {
        let used = self.used_ns[slot];
        if used == 0 {
            return true;
        }
        let timeout = if self.tcp[slot] == TcpState::Established as u8 {
            t.established
        } else {
            t.idle
        };
        now > used.saturating_add(timeout.as_nanos() as u64)
    }

    /// Whether `slot` holds a connection that has not timed out at `now` (what
    /// telemetry counts as a used port).
    pub fn is_live(&self, slot: u16, now: u64, t: &Timeouts) -> bool {
        usize::from(slot) < SLOT_COUNT && !self.expired(usize::from(slot), now, t)
    }

    /// Finds a slot for a new connection: from the one after the last handed out to the
    /// end, then from 0 up to the last (§12). `None` when every slot is busy.
    pub fn find_free(&mut self, now: u64, t: &Timeouts) -> Option<u16> {
        if t.restart_search {
            self.last = 0;
        }
        let last = usize::from(self.last);
        let slot = (last + 1..SLOT_COUNT)
            .chain(0..=last)
            .find(|&s| self.expired(s, now, t))?;
        self.last = slot as u16;
        Some(self.last)
    }

    /// The connection that holds `slot`, if it was ever used since its last release
    /// (expired connections still answer until the slot is reused, as upstream).
    #[inline]
    pub fn connection(&self, slot: u16) -> Option<ConnKey> {
        let s = usize::from(slot);
        if *self.used_ns.get(s)? == 0 {
            return None;
        }
        Some(ConnKey::unpack(self.keys[s]))
    }

    /// Gives `slot` to `key` (a fresh, transient connection).
    pub fn assign(&mut self, slot: u16, key: ConnKey, now: u64) {
        let s = usize::from(slot);
        if s < SLOT_COUNT {
            self.keys[s] = key.pack();
            self.tcp[s] = TcpState::Transient as u8;
            self.used_ns[s] = now.max(1);
        }
    }

    /// A packet of the connection in `slot` passed at `now` (with its TCP flags).
    #[inline]
    pub fn touch(&mut self, slot: u16, now: u64, tcp_flags: Option<u8>) {
        let s = usize::from(slot);
        if s >= SLOT_COUNT {
            return;
        }
        self.used_ns[s] = now.max(1);
        if let Some(f) = tcp_flags {
            self.tcp[s] = TcpState::from_u8(self.tcp[s]).next(f) as u8;
        }
    }

    /// The TCP state of `slot`.
    pub fn tcp_state(&self, slot: u16) -> TcpState {
        self.tcp
            .get(usize::from(slot))
            .map_or(TcpState::Transient, |&v| TcpState::from_u8(v))
    }

    /// Frees `slot` (its interface went).
    pub fn release(&mut self, slot: u16) {
        if let Some(u) = self.used_ns.get_mut(usize::from(slot)) {
            *u = 0;
        }
    }

    /// Every held slot with its connection.
    pub fn iter_used(&self) -> impl Iterator<Item = (u16, ConnKey)> + '_ {
        self.used_ns
            .iter()
            .zip(&self.keys)
            .zip(0u16..)
            .filter(|((&used, _), _)| used != 0)
            .map(|((_, &key), slot)| (slot, ConnKey::unpack(key)))
    }

    /// Continues later searches after `slot` (a connection installed by HA sync).
    pub fn set_last(&mut self, slot: u16) {
        if usize::from(slot) < SLOT_COUNT {
            self.last = slot;
        }
    }

    /// The slot handed out last.
    pub fn last(&self) -> u16 {
        self.last
    }
}
