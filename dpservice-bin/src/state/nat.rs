//! Virtual IPs, the NAT gateway (local slices and neighbour ranges) and the DNAT table
//! (grpc-api.md §8.5, §8.8, dataplane.md §8).
//!
//! A VIP or NAT lives on its interface ([`VfConfig::vip`](super::VfConfig::vip),
//! [`VfConfig::nat`](super::VfConfig::nat)), which is what the SNAT side needs. The DNAT
//! table says, per (public IPv4, VNI), whether inbound traffic goes to one VM (VIP) or
//! through the NAT port map. It keeps upstream's bookkeeping, which clients can observe
//! (CreateVip answers 323 while an entry exists): a VIP adds its entry and DeleteVip
//! removes it; a NAT or neighbour range adds a NAT entry unless one exists; DeleteNat and
//! DeleteNeighborNat remove the entry unless a neighbour range of the address remains in
//! the VNI — local NATs still sharing the address are not considered (dataplane.md
//! §8.3.4). A freed VNI takes its entries along; Initialize those of VNI 0.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use dpservice::model::{
    CreateNat, CreateVip, Nat, NatEntry, NatKind, NeighborNat, NeighborNatKey, Vip,
};
use dpservice::status::ServiceError;

use super::{FlowPurge, PacketMap, PortId, State, Vnf, VnfKind};

/// An interface's 1:1 public IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VipConfig {
    /// The public address.
    pub ip: Ipv4Addr,
    /// Its underlay (`VIP` VNF).
    pub underlay: Ipv6Addr,
}

/// An interface's NAT gateway slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatConfig {
    /// The public NAT address (shared between interfaces).
    pub ip: Ipv4Addr,
    /// First port of the slice.
    pub min_port: u16,
    /// End of the slice, exclusive.
    pub max_port: u16,
    /// Its underlay (`NAT` VNF).
    pub underlay: Ipv6Addr,
    /// Creation order, for listing.
    seq: u64,
}

/// What inbound traffic to a public address does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnatTarget {
    /// Rewrite to the VM behind a VIP.
    Vip {
        /// The VM's port.
        port: PortId,
        /// The VM's IPv4 (`None` for an IPv6-only VM).
        vm_ip: Option<Ipv4Addr>,
    },
    /// A NAT gateway address: look the flow up in the port map (target 0 upstream).
    Network,
}

/// A port range of a NAT address that lives on another host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeighborNatEntry {
    /// Public NAT address.
    pub ip: Ipv4Addr,
    /// VNI.
    pub vni: u32,
    /// First port.
    pub min_port: u16,
    /// End, exclusive.
    pub max_port: u16,
    /// Underlay of the host owning the range.
    pub underlay: Ipv6Addr,
}

/// DNAT entries and neighbour ranges.
#[derive(Debug, Clone, Default)]
pub struct NatTables {
    dnat: PacketMap<(Ipv4Addr, u32), DnatTarget>,
    neighbors: Vec<NeighborNatEntry>,
}

impl NatTables {
    /// What inbound traffic to `ip` in `vni` does, if the address is translated.
    pub fn dnat_lookup(&self, vni: u32, ip: Ipv4Addr) -> Option<&DnatTarget> {
        self.dnat.get(&(ip, vni))
    }

    /// The neighbour range of `ip` in `vni` that holds `port` (for TCP/UDP the
    /// destination port, for ICMP the identifier).
    pub fn neighbor_lookup(&self, vni: u32, ip: Ipv4Addr, port: u16) -> Option<&NeighborNatEntry> {
        self.neighbors
            .iter()
            .find(|n| n.vni == vni && n.ip == ip && n.min_port <= port && port < n.max_port)
    }

    /// Every DNAT entry as ((address, VNI), target).
    pub fn dnat_entries(&self) -> impl Iterator<Item = (&(Ipv4Addr, u32), &DnatTarget)> + '_ {
        self.dnat.iter()
    }

    /// Neighbour ranges in creation order.
    pub fn neighbors(&self) -> &[NeighborNatEntry] {
        &self.neighbors
    }

    /// Marks `ip` in `vni` as a NAT address, unless it already has an entry (which then
    /// stays as it is, also a VIP's).
    fn add_nat_address(&mut self, ip: Ipv4Addr, vni: u32) {
        self.dnat.entry((ip, vni)).or_insert(DnatTarget::Network);
    }

    /// A NAT or neighbour range of `ip` in `vni` went: its entry goes too, unless a
    /// neighbour range of the address remains in the VNI.
    fn release_nat_address(&mut self, ip: Ipv4Addr, vni: u32) {
        if !self.neighbors.iter().any(|n| n.ip == ip && n.vni == vni) {
            self.dnat.remove(&(ip, vni));
        }
    }
}

fn neighbor_purge(n: &NeighborNatEntry) -> FlowPurge {
    FlowPurge::NeighborNat {
        vni: n.vni,
        ip: n.ip,
        min_port: n.min_port,
        max_port: n.max_port,
    }
}

fn ipv4_only(ip: IpAddr) -> Result<Ipv4Addr, ServiceError> {
    match ip {
        IpAddr::V4(a) => Ok(a),
        IpAddr::V6(_) => Err(ServiceError::BadIpVer),
    }
}

/// A NAT listing filter: `None` or `0.0.0.0` for all, else an IPv4 address (**204**).
fn nat_filter(filter: Option<IpAddr>) -> Result<Option<Ipv4Addr>, ServiceError> {
    match filter.map(ipv4_only).transpose()? {
        Some(ip) if ip.is_unspecified() => Ok(None),
        other => Ok(other),
    }
}

impl State {
    /// `CreateVip`: **205**, **204** IPv6, **401** underlay, **343** the interface has a
    /// VIP, **323** the address is already translated in the VNI (VIP, NAT or neighbour
    /// NAT), **322** DNAT table full.
    pub fn create_vip(&mut self, req: &CreateVip) -> Result<Ipv6Addr, ServiceError> {
        let (port, vf) = self.sub_object_owner(&req.interface_id)?;
        let ip = ipv4_only(req.ip)?;
        let (vni, vm_ip) = (vf.vni, vf.ipv4);
        let plan = self.underlays.plan(req.preferred_underlay)?;
        if vf.vip.is_some() {
            return Err(ServiceError::SnatExists);
        }
        if self.nat.dnat.contains_key(&(ip, vni)) {
            return Err(ServiceError::DnatExists);
        }
        self.check_dnat_room()?;
        let underlay = self.underlays.commit(
            plan,
            Vnf {
                kind: VnfKind::Vip,
                port: Some(port),
                vni,
                prefix: None,
            },
        );
        if let Some(vf) = self.vf_mut(port) {
            vf.vip = Some(VipConfig { ip, underlay });
        }
        self.nat
            .dnat
            .insert((ip, vni), DnatTarget::Vip { port, vm_ip });
        self.touch();
        Ok(underlay)
    }

    /// `GetVip`: **205**, **341** no VIP.
    pub fn get_vip(&self, interface_id: &(impl AsRef<[u8]> + ?Sized)) -> Result<Vip, ServiceError> {
        let (_, vf) = self.sub_object_owner(interface_id)?;
        let vip = vf.vip.ok_or(ServiceError::SnatNoData)?;
        Ok(Vip {
            ip: IpAddr::V4(vip.ip),
            underlay_route: vip.underlay,
        })
    }

    /// `DeleteVip`: **205**, **341** no VIP.
    pub fn delete_vip(
        &mut self,
        interface_id: &(impl AsRef<[u8]> + ?Sized),
    ) -> Result<(), ServiceError> {
        let (port, vf) = self.sub_object_owner(interface_id)?;
        if vf.vip.is_none() {
            return Err(ServiceError::SnatNoData);
        }
        self.remove_vip(port);
        self.touch();
        Ok(())
    }

    /// `CreateNat`: **205**, **204** IPv6, **401** underlay, **343** the interface has a
    /// NAT, **322** a new DNAT entry would not fit. Interfaces may share the address;
    /// their port slices are not checked against each other (as upstream).
    pub fn create_nat(&mut self, req: &CreateNat) -> Result<Ipv6Addr, ServiceError> {
        let (port, vf) = self.sub_object_owner(&req.interface_id)?;
        let ip = ipv4_only(req.ip)?;
        let vni = vf.vni;
        let plan = self.underlays.plan(req.preferred_underlay)?;
        if vf.nat.is_some() {
            return Err(ServiceError::SnatExists);
        }
        if !self.nat.dnat.contains_key(&(ip, vni)) {
            self.check_dnat_room()?;
        }
        let underlay = self.underlays.commit(
            plan,
            Vnf {
                kind: VnfKind::Nat,
                port: Some(port),
                vni,
                prefix: None,
            },
        );
        let seq = self.take_seq();
        if let Some(vf) = self.vf_mut(port) {
            vf.nat = Some(NatConfig {
                ip,
                min_port: req.min_port,
                max_port: req.max_port,
                underlay,
                seq,
            });
        }
        self.nat.add_nat_address(ip, vni);
        self.touch();
        Ok(underlay)
    }

    /// `GetNat`: **205**, **341** no NAT.
    pub fn get_nat(&self, interface_id: &(impl AsRef<[u8]> + ?Sized)) -> Result<Nat, ServiceError> {
        let (_, vf) = self.sub_object_owner(interface_id)?;
        let nat = vf.nat.ok_or(ServiceError::SnatNoData)?;
        Ok(Nat {
            ip: IpAddr::V4(nat.ip),
            min_port: nat.min_port,
            max_port: nat.max_port,
            underlay_route: nat.underlay,
        })
    }

    /// `DeleteNat`: **205**, **341** no NAT.
    pub fn delete_nat(
        &mut self,
        interface_id: &(impl AsRef<[u8]> + ?Sized),
    ) -> Result<(), ServiceError> {
        let (port, vf) = self.sub_object_owner(interface_id)?;
        if vf.nat.is_none() {
            return Err(ServiceError::SnatNoData);
        }
        self.remove_nat(port);
        self.touch();
        Ok(())
    }

    /// `ListLocalNats`: **204** for an IPv6 filter; `None` (`0.0.0.0`) lists every local
    /// NAT. Ascending by VNI, newest first within a VNI (what upstream's test expects).
    pub fn list_local_nats(&self, filter: Option<IpAddr>) -> Result<Vec<NatEntry>, ServiceError> {
        let filter = nat_filter(filter)?;
        let mut found: Vec<_> = self
            .interfaces()
            .filter_map(|(_, vf)| Some((vf, vf.nat?)))
            .filter(|(_, nat)| filter.is_none_or(|f| nat.ip == f))
            .collect();
        found.sort_by_key(|(vf, nat)| (vf.vni, std::cmp::Reverse(nat.seq)));
        Ok(found
            .into_iter()
            .map(|(vf, nat)| NatEntry {
                kind: NatKind::Local {
                    interface_ip: vf.ipv4.unwrap_or(Ipv4Addr::UNSPECIFIED),
                },
                nat_ip: nat.ip,
                min_port: nat.min_port,
                max_port: nat.max_port,
                vni: vf.vni,
            })
            .collect())
    }

    /// `CreateNeighborNat`: **204** IPv6, **202** the range overlaps a range of the same
    /// address (in any VNI), **208** table full, **322** DNAT table full.
    pub fn create_neighbor_nat(&mut self, req: &NeighborNat) -> Result<(), ServiceError> {
        let ip = ipv4_only(req.ip)?;
        let overlaps = self
            .nat
            .neighbors
            .iter()
            .any(|n| n.ip == ip && req.max_port > n.min_port && req.min_port < n.max_port);
        if overlaps {
            return Err(ServiceError::AlreadyExists);
        }
        if self.nat.neighbors.len() >= self.limits.neighbor_nats {
            return Err(ServiceError::OutOfMemory);
        }
        if !self.nat.dnat.contains_key(&(ip, req.vni)) {
            self.check_dnat_room()?;
        }
        self.nat.neighbors.push(NeighborNatEntry {
            ip,
            vni: req.vni,
            min_port: req.min_port,
            max_port: req.max_port,
            underlay: req.underlay_route,
        });
        self.nat.add_nat_address(ip, req.vni);
        self.touch();
        Ok(())
    }

    /// `DeleteNeighborNat`: **204** IPv6, **201** no range with exactly these values.
    pub fn delete_neighbor_nat(&mut self, req: &NeighborNatKey) -> Result<(), ServiceError> {
        let ip = ipv4_only(req.ip)?;
        let i = self
            .nat
            .neighbors
            .iter()
            .position(|n| {
                n.ip == ip
                    && n.vni == req.vni
                    && n.min_port == req.min_port
                    && n.max_port == req.max_port
            })
            .ok_or(ServiceError::NotFound)?;
        let gone = self.nat.neighbors.remove(i);
        self.nat.release_nat_address(ip, req.vni);
        self.purge_flows(neighbor_purge(&gone));
        self.touch();
        Ok(())
    }

    /// `ListNeighborNats`: **204** for an IPv6 filter; `None` (`0.0.0.0`) = all; in
    /// creation order.
    pub fn list_neighbor_nats(
        &self,
        filter: Option<IpAddr>,
    ) -> Result<Vec<NatEntry>, ServiceError> {
        let filter = nat_filter(filter)?;
        Ok(self
            .nat
            .neighbors
            .iter()
            .filter(|n| filter.is_none_or(|f| n.ip == f))
            .map(|n| NatEntry {
                kind: NatKind::Neighbor {
                    underlay_route: n.underlay,
                },
                nat_ip: n.ip,
                min_port: n.min_port,
                max_port: n.max_port,
                vni: n.vni,
            })
            .collect())
    }

    fn check_dnat_room(&self) -> Result<(), ServiceError> {
        if self.nat.dnat.len() >= self.limits.dnat_entries {
            Err(ServiceError::DnatCreate)
        } else {
            Ok(())
        }
    }

    /// Removes the interface's VIP (underlay, DNAT entry), if any.
    pub(super) fn remove_vip(&mut self, port: PortId) {
        let Some(vf) = self.vf_mut(port) else {
            return;
        };
        let vni = vf.vni;
        if let Some(vip) = vf.vip.take() {
            self.underlays.release(&vip.underlay);
            self.nat.dnat.remove(&(vip.ip, vni));
            self.purge_flows(FlowPurge::Vip { port });
        }
    }

    /// Removes the interface's NAT (underlay, and the DNAT entry unless a neighbour range
    /// of the address remains in the VNI), if any.
    pub(super) fn remove_nat(&mut self, port: PortId) {
        let Some(vf) = self.vf_mut(port) else {
            return;
        };
        let vni = vf.vni;
        if let Some(nat) = vf.nat.take() {
            self.underlays.release(&nat.underlay);
            self.nat.release_nat_address(nat.ip, vni);
            self.purge_flows(FlowPurge::Nat { port });
        }
    }

    /// Removes the neighbour ranges `pred` selects (with their flows) and every DNAT
    /// entry of `dnat_vni`: what a freed VNI and Initialize (VNI 0) do upstream.
    pub(super) fn remove_neighbor_nats(
        &mut self,
        mut pred: impl FnMut(&NeighborNatEntry) -> bool,
        dnat_vni: u32,
    ) {
        let mut gone = Vec::new();
        self.nat.neighbors.retain(|n| {
            let remove = pred(n);
            if remove {
                gone.push(*n);
            }
            !remove
        });
        for n in gone {
            self.purge_flows(neighbor_purge(&n));
        }
        self.nat.dnat.retain(|&(_, vni), _| vni != dnat_vni);
    }
}
