//! Packet-path state per port: MACs, learned neighbour MAC, link and started state
//! (dataplane.md §2.3–§2.5). Control-plane state (interfaces) lives in `State`.

use super::nodes::meter::PublicMeter;
use crate::port::PortId;
use crate::wire::MacAddr;

/// What a port is for, as far as the graph is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortRole {
    Pf0,
    Pf1,
    Vf,
}

impl PortRole {
    pub fn is_pf(self) -> bool {
        !matches!(self, PortRole::Vf)
    }
}

/// A port as the graph is built with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphPort {
    pub id: PortId,
    pub role: PortRole,
    /// The port's own MAC.
    pub mac: MacAddr,
}

/// Packet-path state of one port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortState {
    pub id: PortId,
    pub role: PortRole,
    pub mac: MacAddr,
    /// VF: the VM's MAC (starts as the port's own MAC, learned later). PF: the underlay
    /// router's MAC (starts all-zero, learned from the kernel neighbour table).
    pub neigh_mac: MacAddr,
    /// VFs are always up; PFs follow the device.
    pub link_up: bool,
    /// Receiving (PFs from start-up, VFs between CreateInterface and DeleteInterface).
    pub started: bool,
    /// The VM answered the ARP cycle since its interface was created.
    pub arp_done: bool,
    /// VF: the public-cap meter (dataplane.md §13), built on the first metered packet.
    pub(crate) public_meter: Option<PublicMeter>,
}

impl PortState {
    #[inline]
    pub fn is_pf(&self) -> bool {
        self.role.is_pf()
    }
}

/// Every port of the graph, by id.
#[derive(Debug, Clone, Default)]
pub struct PortTable {
    by_id: Vec<Option<PortState>>,
    pf0: Option<PortId>,
    pf1: Option<PortId>,
}

impl PortTable {
    pub fn new(ports: &[GraphPort]) -> Self {
        let mut t = PortTable::default();
        for p in ports {
            let idx = usize::from(p.id);
            if t.by_id.len() <= idx {
                t.by_id.resize(idx + 1, None);
            }
            let (neigh_mac, started) = match p.role {
                PortRole::Vf => (p.mac, false),
                PortRole::Pf0 | PortRole::Pf1 => (MacAddr::ZERO, true),
            };
            t.by_id[idx] = Some(PortState {
                id: p.id,
                role: p.role,
                mac: p.mac,
                neigh_mac,
                link_up: true,
                started,
                arp_done: false,
                public_meter: None,
            });
            match p.role {
                PortRole::Pf0 => t.pf0 = Some(p.id),
                PortRole::Pf1 => t.pf1 = Some(p.id),
                PortRole::Vf => {}
            }
        }
        t
    }

    #[inline]
    pub fn get(&self, id: PortId) -> Option<&PortState> {
        self.by_id.get(usize::from(id)).and_then(Option::as_ref)
    }

    #[inline]
    pub fn get_mut(&mut self, id: PortId) -> Option<&mut PortState> {
        self.by_id.get_mut(usize::from(id)).and_then(Option::as_mut)
    }

    pub fn pf0(&self) -> Option<&PortState> {
        self.pf0.and_then(|id| self.get(id))
    }

    pub fn pf1(&self) -> Option<&PortState> {
        self.pf1.and_then(|id| self.get(id))
    }

    pub fn iter(&self) -> impl Iterator<Item = &PortState> + '_ {
        self.by_id.iter().flatten()
    }

    /// Highest port id + 1.
    pub fn slots(&self) -> usize {
        self.by_id.len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn initial_state_per_role() {
        let t = PortTable::new(&[
            GraphPort {
                id: 0,
                role: PortRole::Pf0,
                mac: MacAddr([2; 6]),
            },
            GraphPort {
                id: 1,
                role: PortRole::Pf1,
                mac: MacAddr([3; 6]),
            },
            GraphPort {
                id: 3,
                role: PortRole::Vf,
                mac: MacAddr([6; 6]),
            },
        ]);
        assert_eq!(t.pf0().unwrap().id, 0);
        assert_eq!(t.pf1().unwrap().id, 1);
        assert!(t.get(2).is_none());
        let vf = t.get(3).unwrap();
        assert_eq!(
            vf.neigh_mac,
            MacAddr([6; 6]),
            "VM MAC is guessed as the port MAC"
        );
        assert!(!vf.started);
        let pf = t.pf0().unwrap();
        assert!(pf.neigh_mac.is_zero());
        assert!(pf.started);
        assert_eq!(t.slots(), 4);
    }
}
