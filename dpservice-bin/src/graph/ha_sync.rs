//! What HA sync (dataplane.md §16) reads from and writes into the graph: the outbox the
//! nodes fill, the NAT port tables a standby mirrors, flows rebuilt at activation, the
//! network-NAT flows and VM MACs an active instance dumps. The sync port itself and the
//! message handling live in `crate::sync`; this file only touches the graph's tables.

use std::time::Instant;

use dpservice::shm::catalogue::{PortmapKey, PortmapValue, PortoverloadKey, PortoverloadValue};

use super::sync_outbox::SyncMessage;
use super::{nat, Graph, Node};
use crate::flow::{self, CtKey, FlowEntry, FlowError};
use crate::port::PortId;
use crate::wire::{ip_proto, MacAddr};

/// What a synced NAT create did to the standby's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NatApplied {
    /// New port-map and overload entries.
    Created,
    /// A new overload entry for an existing port-map entry (its count went up).
    Added,
    /// The overload entry existed already: ignored (the active knows best).
    Duplicate,
}

/// Why a synced NAT create could not be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NatSyncError {
    #[error("the NAT port-map or port-overload table is full; raise no limit, the entry is lost for takeover")]
    Full,
}

impl Graph {
    /// Turns HA sync on (`--sync-tap`): the `sync` node exists from now on and the
    /// nodes' messages for the peer are queued.
    pub fn enable_sync(&mut self) {
        self.tables.sync.enabled = true;
        self.fabric.exists[Node::Sync as usize] = true;
    }

    /// Whether HA sync is on.
    pub fn sync_enabled(&self) -> bool {
        self.tables.sync.enabled
    }

    /// Takes the messages the nodes queued for the peer, oldest first.
    pub fn drain_sync(&mut self) -> impl Iterator<Item = SyncMessage> + '_ {
        self.tables.sync.drain()
    }

    /// Counts a burst of `n` sync messages on the `sync` node.
    pub fn count_sync_rx(&mut self, n: usize) {
        if n > 0 {
            let s = &mut self.fabric.stats[Node::Sync as usize];
            s.calls += 1;
            s.objs += n as u64;
        }
    }

    /// Standby, NAT create (§16.3): inserts the port-map and overload entries as given,
    /// the metadata as the overload entry's value (no port search).
    pub fn sync_nat_create(
        &mut self,
        portmap: &PortmapKey,
        overload: &PortoverloadKey,
        meta: PortoverloadValue,
    ) -> Result<NatApplied, NatSyncError> {
        let t = &mut self.tables;
        if t.portoverload.contains(overload) {
            return Ok(NatApplied::Duplicate);
        }
        t.portoverload
            .insert(*overload, meta)
            .map_err(|_| NatSyncError::Full)?;
        if t.portmap
            .update(portmap, |v| v.flow_count = v.flow_count.saturating_add(1))
        {
            return Ok(NatApplied::Added);
        }
        let value = PortmapValue {
            nat_ip: overload.nat_ip,
            nat_port: overload.nat_port,
            pad0: 0,
            flow_count: 1,
        };
        if t.portmap.insert(*portmap, value).is_err() {
            t.portoverload.remove(overload);
            return Err(NatSyncError::Full);
        }
        Ok(NatApplied::Created)
    }

    /// Standby, NAT delete: removes the overload entry and one use of the port-map entry
    /// (the entry goes at zero). Answers whether the overload entry existed.
    pub fn sync_nat_delete(&mut self, portmap: &PortmapKey, overload: &PortoverloadKey) -> bool {
        let t = &mut self.tables;
        let existed = t.portoverload.remove(overload).is_some();
        let mut last = false;
        t.portmap.update(portmap, |v| {
            v.flow_count = v.flow_count.saturating_sub(1);
            last = v.flow_count == 0;
        });
        if last {
            t.portmap.remove(portmap);
        }
        existed
    }

    /// The overload entry's value (on a standby: the synced metadata).
    pub fn overload_entry(&self, overload: &PortoverloadKey) -> Option<PortoverloadValue> {
        self.tables.portoverload.get(overload)
    }

    /// The port-map entry of a VM source.
    pub fn portmap_entry(&self, portmap: &PortmapKey) -> Option<PortmapValue> {
        self.tables.portmap.get(portmap)
    }

    /// Inserts a flow built outside the packet path (activation after HA sync). A
    /// network-NAT flow whose port the tables hold counts as a used NAT port of its
    /// creating port (telemetry), as the allocation on the former active did; aging
    /// releases it like any other.
    pub fn insert_flow(
        &mut self,
        org: CtKey,
        reply: CtKey,
        shared: FlowEntry,
        now: Instant,
    ) -> Result<(), FlowError> {
        let t = &mut self.tables;
        t.flows.insert_flow(org, reply, shared, now)?;
        let holds_port = shared.nat_type == flow::nat_kind::NETWORK_LOCAL
            && nat::ports::flow_keys(
                &org,
                &FlowEntry {
                    other_key: reply,
                    ..shared
                },
            )
            .is_some_and(|(_, overload)| t.portoverload.contains(&overload));
        if holds_port {
            t.nat.allocated(shared.port_id);
        }
        Ok(())
    }

    /// Active, dump request: a NAT create for every network-local flow, from its
    /// original key (§16.2), appended to `out`.
    pub fn sync_dump_nat(&self, out: &mut Vec<SyncMessage>) {
        self.tables.flows.for_each(|k, e| {
            if e.direction == 0 && e.nat_type == flow::nat_kind::NETWORK_LOCAL {
                if let Some(m) = nat_create_of_flow(k, e) {
                    out.push(m);
                }
            }
        });
    }

    /// Every started VF with its VM MAC (dump answer).
    pub fn started_vms(&self) -> Vec<(PortId, MacAddr)> {
        self.ports
            .iter()
            .filter(|p| !p.is_pf() && p.started)
            .map(|p| (p.id, p.neigh_mac))
            .collect()
    }
}

/// The NAT create message that recreates a network-local flow's NAT entries: the keys
/// its release would remove (port-map key from the original key's source, overload key
/// from its destination and the reply key's NAT IP and port). `None` for a reply key
/// that is not IPv4 (never made by NAT).
pub fn nat_create_of_flow(org: &CtKey, e: &FlowEntry) -> Option<SyncMessage> {
    let (portmap, overload) = nat::ports::flow_keys(org, e)?;
    let icmp = matches!(org.proto, ip_proto::ICMP | ip_proto::ICMPV6);
    Some(SyncMessage::NatCreate {
        portmap,
        overload,
        port_id: e.port_id,
        icmp_type: if icmp { org.src } else { 0 },
        // the flow keeps the checksum as a number; the message carries it as in the header
        ip_checksum: e.icmp_err_cksum.to_be_bytes(),
    })
}
