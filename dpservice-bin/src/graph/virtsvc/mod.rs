//! Virtual services (dataplane.md §12): the services of the command line with their
//! underlay source addresses, the lookups `cls` diverts packets by, and each service's
//! connection slots ([`slots`]). The key → slot mapping of every service lives in the
//! region's `virtsvc_table_<i>` (so `dpservice-inspect` sees it); what a slot holds
//! besides (VM key, last use, TCP state) lives here, in the worker's memory.

pub mod slots;

#[cfg(test)]
mod tests;

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use dpservice::shm::catalogue::{VirtsvcKey, VirtsvcValue};
use dpservice::shm::table::TableWriter;

use crate::config::virtsvc::{VirtsvcProto, VirtualService};
use crate::port::PortId;
use crate::wire::ip_proto;

/// A service's key → slot table in the region.
pub type ConnTable = TableWriter<VirtsvcKey, VirtsvcValue>;

/// Why a request found no slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// Every one of the 64 512 slots is held by a live connection.
    #[error("every port of the virtual service is in use")]
    NoFreeSlot,
    /// No such service, or its region table is missing.
    #[error("no virtual service (or connection table) with this index")]
    NoService,
    /// The region table refused the key (it holds at most one key per slot).
    #[error("the virtual-service connection table refused the entry")]
    TableFull,
}

pub use slots::{ConnKey, Slots, TcpState, SLOT_COUNT, SYSTEM_PORTS};

/// Idle timeout of an established TCP connection (upstream: one day).
pub const ESTABLISHED_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);
/// Idle timeout of any other connection without a test `--flow-timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The underlay source address of service `index`: the /64 prefix of `--ipv6`, then
/// `d0 ff 40 00`, then the index as a little-endian u32 (upstream stores the host
/// integer there; §12).
pub fn underlay_address(host: Ipv6Addr, index: u32) -> Ipv6Addr {
    let mut b = host.octets();
    b[8..12].copy_from_slice(&[0xd0, 0xff, 0x40, 0x00]);
    b[12..16].copy_from_slice(&index.to_le_bytes());
    Ipv6Addr::from(b)
}

/// One service as the packet path uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service {
    /// L4 protocol number (6 or 17).
    pub proto: u8,
    /// Address and port the VMs talk to.
    pub virtual_addr: Ipv4Addr,
    pub virtual_port: u16,
    /// The IPv6 service behind it.
    pub service_addr: Ipv6Addr,
    pub service_port: u16,
    /// Source address of requests on the underlay.
    pub underlay: Ipv6Addr,
}

/// How long an idle connection keeps its slot, and where the slot search starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Any connection but an established TCP one.
    pub idle: Duration,
    /// Established TCP.
    pub established: Duration,
    /// Test mode (a non-default `--flow-timeout`): every search starts again at slot 1,
    /// so aged slots are reused at once (upstream's pytest build).
    pub restart_search: bool,
}

impl Timeouts {
    /// From `--flow-timeout` (upstream's test build, which this daemon always is).
    pub fn from_flow_timeout(flow_timeout: Duration) -> Timeouts {
        Timeouts {
            idle: flow_timeout,
            established: ESTABLISHED_TIMEOUT,
            restart_search: flow_timeout != DEFAULT_TIMEOUT,
        }
    }
}

/// (protocol, virtual IPv4 in network order, virtual port): what a request matches.
type RequestKey = (u8, u32, u16);
/// (protocol, service IPv6, service port): what a reply matches.
type ReplyKey = (u8, u128, u16);

/// Every configured service with its connection slots.
#[derive(Debug)]
pub struct Services {
    list: Vec<Service>,
    slots: Vec<Slots>,
    /// Sorted, for a binary search per packet (at most 256 services).
    by_request: Vec<(RequestKey, u16)>,
    by_reply: Vec<(ReplyKey, u16)>,
    timeouts: Timeouts,
    /// IPv4 identification of the next reply (a running counter).
    next_ident: u16,
    /// Slot times count from here.
    epoch: Instant,
}

impl Services {
    /// The services of the command line, in order (the index names the region table).
    pub fn new(
        config: &[VirtualService],
        host_underlay: Ipv6Addr,
        timeouts: Timeouts,
        now: Instant,
    ) -> Self {
        let list: Vec<Service> = config
            .iter()
            .zip(0u32..)
            .map(|(svc, i)| Service {
                proto: match svc.proto {
                    VirtsvcProto::Tcp => ip_proto::TCP,
                    VirtsvcProto::Udp => ip_proto::UDP,
                },
                virtual_addr: svc.spec.virtual_addr,
                virtual_port: svc.spec.virtual_port,
                service_addr: svc.spec.service_addr,
                service_port: svc.spec.service_port,
                underlay: underlay_address(host_underlay, i),
            })
            .collect();
        let mut by_request: Vec<_> = list
            .iter()
            .zip(0u16..)
            .map(|(s, i)| ((s.proto, u32::from(s.virtual_addr), s.virtual_port), i))
            .collect();
        by_request.sort_unstable();
        let mut by_reply: Vec<_> = list
            .iter()
            .zip(0u16..)
            .map(|(s, i)| ((s.proto, u128::from(s.service_addr), s.service_port), i))
            .collect();
        by_reply.sort_unstable();
        Services {
            slots: list.iter().map(|_| Slots::new()).collect(),
            list,
            by_request,
            by_reply,
            timeouts,
            next_ident: 0,
            epoch: now,
        }
    }

    /// `now` as a slot time (nanoseconds since the epoch, plus one: never 0).
    #[inline]
    pub fn stamp(&self, now: Instant) -> u64 {
        (now.saturating_duration_since(self.epoch).as_nanos() as u64).saturating_add(1)
    }

    /// No services configured (the one check `cls` makes then).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn get(&self, index: u16) -> Option<&Service> {
        self.list.get(usize::from(index))
    }

    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// The service whose virtual endpoint is (proto, dst, dst port).
    #[inline]
    pub fn match_request(&self, proto: u8, dst: Ipv4Addr, dst_port: u16) -> Option<u16> {
        let key = (proto, u32::from(dst), dst_port);
        let at = self.by_request.binary_search_by(|e| e.0.cmp(&key)).ok()?;
        Some(self.by_request[at].1)
    }

    /// The service whose IPv6 side is (proto, src, src port).
    #[inline]
    pub fn match_reply(&self, proto: u8, src: Ipv6Addr, src_port: u16) -> Option<u16> {
        let key = (proto, u128::from(src), src_port);
        let at = self.by_reply.binary_search_by(|e| e.0.cmp(&key)).ok()?;
        Some(self.by_reply[at].1)
    }

    /// A service with its slots.
    #[inline]
    pub fn service_mut(&mut self, index: u16) -> Option<(&Service, &mut Slots)> {
        let i = usize::from(index);
        Some((self.list.get(i)?, self.slots.get_mut(i)?))
    }

    /// The slots of every service, by index.
    pub fn slots_mut(&mut self) -> &mut [Slots] {
        &mut self.slots
    }

    /// The slot of the connection `key` of service `index`: its existing one, else a
    /// newly assigned one (answered with `true`), taken from the connection that held it
    /// before (whose key leaves the region table).
    pub fn connect(
        &mut self,
        index: u16,
        key: ConnKey,
        now: u64,
        table: &mut ConnTable,
    ) -> Result<(u16, bool), ConnectError> {
        let timeouts = self.timeouts;
        let slots = self
            .slots
            .get_mut(usize::from(index))
            .ok_or(ConnectError::NoService)?;
        let table_key = key.to_table();
        if let Some(v) = table.get(&table_key) {
            if usize::from(v.slot) < SLOT_COUNT && slots.connection(v.slot) == Some(key) {
                return Ok((v.slot, false));
            }
            // stale (the slot went to another connection): forget it
            table.remove(&table_key);
        }
        let slot = slots
            .find_free(now, &timeouts)
            .ok_or(ConnectError::NoFreeSlot)?;
        if let Some(previous) = slots.connection(slot) {
            table.remove(&previous.to_table());
        }
        slots.release(slot);
        table
            .insert(table_key, VirtsvcValue { slot, pad0: 0 })
            .map_err(|_| ConnectError::TableFull)?;
        slots.assign(slot, key, now);
        Ok((slot, true))
    }

    /// Installs a connection the active peer assigned (HA sync, §16.2) as it is, taking
    /// `slot` from whoever held it and the key from whatever slot it held; later
    /// searches continue after `slot`.
    pub fn open_synced(
        &mut self,
        index: u16,
        key: ConnKey,
        slot: u16,
        now: u64,
        table: &mut ConnTable,
    ) -> Result<(), ConnectError> {
        let slots = self
            .slots
            .get_mut(usize::from(index))
            .ok_or(ConnectError::NoService)?;
        if usize::from(slot) >= SLOT_COUNT {
            return Err(ConnectError::NoService);
        }
        let table_key = key.to_table();
        if let Some(old) = table.remove(&table_key) {
            if slots.connection(old.slot) == Some(key) {
                slots.release(old.slot);
            }
        }
        if let Some(previous) = slots.connection(slot) {
            table.remove(&previous.to_table());
        }
        table
            .insert(table_key, VirtsvcValue { slot, pad0: 0 })
            .map_err(|_| ConnectError::TableFull)?;
        slots.assign(slot, key, now);
        slots.set_last(slot);
        Ok(())
    }

    /// Every held slot of every service as (service index, slot, connection): what an
    /// active instance tells a standby that asks for a dump (§16.2).
    pub fn connections(&self) -> impl Iterator<Item = (u16, u16, ConnKey)> + '_ {
        self.slots
            .iter()
            .zip(0u16..)
            .flat_map(|(slots, index)| slots.iter_used().map(move |(slot, key)| (index, slot, key)))
    }

    /// Ports of service `index` held by connections that have not timed out at `now`
    /// (telemetry's `used_port_count`); visits only the entries of its table.
    pub fn used_ports(&self, index: u16, now: u64, table: &ConnTable) -> u64 {
        let Some(slots) = self.slots.get(usize::from(index)) else {
            return 0;
        };
        let mut used = 0;
        table.for_each(|_, v| {
            if slots.is_live(v.slot, now, &self.timeouts) {
                used += 1;
            }
        });
        used
    }

    /// Frees every connection of VMs on `port` (DeleteInterface), in every service.
    pub fn release_port(&mut self, port: PortId, tables: &mut [ConnTable]) {
        for (slots, table) in self.slots.iter_mut().zip(tables.iter_mut()) {
            table.retain(|k, v| {
                if k.vf_port_id != port {
                    return true;
                }
                slots.release(v.slot);
                false
            });
        }
    }

    /// The IPv4 identification for the next reply.
    #[inline]
    pub fn next_ident(&mut self) -> u16 {
        let id = self.next_ident;
        self.next_ident = id.wrapping_add(1);
        id
    }
}
