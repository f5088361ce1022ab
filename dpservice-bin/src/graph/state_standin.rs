//! TEMPORARY stand-in for `crate::state` (branch `state`), so the packet path compiles and
//! is tested before the real control-plane state is merged. It mirrors the real types and
//! accessor signatures exactly (a subset of fields and methods); delete this file and point
//! `graph::state` at `crate::state` once `state` is on `main`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use dpservice::model::{CreateInterface, CreatePrefix, CreatedInterface, IpPrefix, Pxe, Route};
use dpservice::status::ServiceError;

pub type PortId = u16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortKind {
    Pf0,
    Pf1,
    Vf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortInfo {
    pub id: PortId,
    pub device: String,
    pub kernel_name: String,
    pub kind: PortKind,
}

#[derive(Debug, Clone)]
pub struct StateConfig {
    pub host_underlay: Ipv6Addr,
    pub ports: Vec<PortInfo>,
    pub deterministic_underlays: bool,
}

impl StateConfig {
    pub fn new(host_underlay: Ipv6Addr, ports: Vec<PortInfo>) -> StateConfig {
        StateConfig {
            host_underlay,
            ports,
            deterministic_underlays: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VfConfig {
    pub interface_id: String,
    pub vni: u32,
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
    pub underlay: Ipv6Addr,
    pub pxe: Option<Pxe>,
    pub hostname: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteTarget {
    Local { port: PortId },
    Uplink { nexthop: Ipv6Addr, nexthop_vni: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteOrigin {
    InterfaceAddress,
    AliasPrefix,
    External,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteEntry {
    pub prefix: IpPrefix,
    pub target: RouteTarget,
    pub origin: RouteOrigin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VnfKind {
    Interface,
    Vip,
    Nat,
    Lb,
    LbPrefix,
    AliasPrefix,
}

impl VnfKind {
    pub fn number(self) -> u8 {
        match self {
            VnfKind::Interface => 1,
            VnfKind::Vip => 2,
            VnfKind::Nat => 3,
            VnfKind::Lb => 4,
            VnfKind::LbPrefix => 5,
            VnfKind::AliasPrefix => 6,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vnf {
    pub kind: VnfKind,
    pub port: Option<PortId>,
    pub vni: u32,
    pub prefix: Option<IpPrefix>,
}

#[derive(Debug)]
pub struct State {
    ports: Vec<PortInfo>,
    host: Ipv6Addr,
    vfs: Vec<Option<VfConfig>>,
    routes: Vec<(u32, RouteEntry)>,
    vnfs: HashMap<Ipv6Addr, Vnf>,
    next_underlay: u32,
}

impl State {
    pub fn new(cfg: StateConfig) -> State {
        let slots = cfg
            .ports
            .iter()
            .map(|p| usize::from(p.id) + 1)
            .max()
            .unwrap_or(0);
        State {
            ports: cfg.ports,
            host: cfg.host_underlay,
            vfs: vec![None; slots],
            routes: Vec::new(),
            vnfs: HashMap::new(),
            next_underlay: 0,
        }
    }

    pub fn ports(&self) -> &[PortInfo] {
        &self.ports
    }

    pub fn vf(&self, port: PortId) -> Option<&VfConfig> {
        self.vfs.get(usize::from(port)).and_then(Option::as_ref)
    }

    pub fn route_lookup(&self, vni: u32, dst: IpAddr) -> Option<&RouteTarget> {
        self.route_lookup_entry(vni, dst).map(|e| &e.target)
    }

    pub fn route_lookup_entry(&self, vni: u32, dst: IpAddr) -> Option<&RouteEntry> {
        self.routes
            .iter()
            .filter(|(v, e)| *v == vni && e.prefix.contains(dst))
            .max_by_key(|(_, e)| e.prefix.len())
            .map(|(_, e)| e)
    }

    pub fn vnf_lookup(&self, underlay: &Ipv6Addr) -> Option<&Vnf> {
        self.vnfs.get(underlay)
    }

    fn next_underlay(&mut self, preferred: Option<Ipv6Addr>) -> Ipv6Addr {
        if let Some(p) = preferred.filter(|p| !p.is_unspecified()) {
            return p;
        }
        self.next_underlay += 1;
        let mut o = self.host.octets();
        o[8..].copy_from_slice(&[0xd0, 0, 0, 1, 0, 0, 0, 0]);
        o[12..].copy_from_slice(&self.next_underlay.to_be_bytes());
        Ipv6Addr::from(o)
    }

    pub fn create_interface(
        &mut self,
        req: CreateInterface,
    ) -> Result<CreatedInterface, ServiceError> {
        let port = self
            .ports
            .iter()
            .find(|p| p.device == req.device)
            .ok_or(ServiceError::NotFound)?;
        if port.kind != PortKind::Vf || self.vf(port.id).is_some() {
            return Err(ServiceError::AlreadyExists);
        }
        let (id, vf_name) = (port.id, port.kernel_name.clone());
        let underlay = self.next_underlay(req.preferred_underlay);
        let vf = VfConfig {
            interface_id: req.id,
            vni: req.vni,
            ipv4: req.ipv4.filter(|a| !a.is_unspecified()),
            ipv6: req.ipv6.filter(|a| !a.is_unspecified()),
            underlay,
            pxe: req.pxe,
            hostname: req.hostname.filter(|h| !h.is_empty()),
        };
        let own = [
            vf.ipv4.and_then(|a| IpPrefix::new(IpAddr::V4(a), 32).ok()),
            vf.ipv6.and_then(|a| IpPrefix::new(IpAddr::V6(a), 128).ok()),
        ];
        for prefix in own.into_iter().flatten() {
            let target = RouteTarget::Local { port: id };
            let origin = RouteOrigin::InterfaceAddress;
            self.routes.push((
                req.vni,
                RouteEntry {
                    prefix,
                    target,
                    origin,
                },
            ));
        }
        let vnf = Vnf {
            kind: VnfKind::Interface,
            port: Some(id),
            vni: req.vni,
            prefix: None,
        };
        self.vnfs.insert(underlay, vnf);
        if let Some(slot) = self.vfs.get_mut(usize::from(id)) {
            *slot = Some(vf);
        }
        Ok(CreatedInterface {
            underlay_route: underlay,
            vf_name,
        })
    }

    pub fn delete_interface(&mut self, interface_id: &str) -> Result<(), ServiceError> {
        let slot = self
            .vfs
            .iter()
            .position(|v| v.as_ref().is_some_and(|v| v.interface_id == interface_id))
            .ok_or(ServiceError::NotFound)?;
        let port = slot as PortId;
        self.vfs[slot] = None;
        self.routes
            .retain(|(_, e)| e.target != RouteTarget::Local { port });
        self.vnfs.retain(|_, v| v.port != Some(port));
        Ok(())
    }

    pub fn create_route(&mut self, req: &Route) -> Result<(), ServiceError> {
        let IpAddr::V6(nexthop) = req.nexthop else {
            return Err(ServiceError::BadIpVer);
        };
        let prefix = req.prefix.network();
        if self
            .routes
            .iter()
            .any(|(v, e)| *v == req.vni && e.prefix == prefix)
        {
            return Err(ServiceError::RouteExists);
        }
        let target = RouteTarget::Uplink {
            nexthop,
            nexthop_vni: req.nexthop_vni,
        };
        let origin = RouteOrigin::External;
        self.routes.push((
            req.vni,
            RouteEntry {
                prefix,
                target,
                origin,
            },
        ));
        Ok(())
    }

    fn add_prefix_vnf(
        &mut self,
        req: &CreatePrefix,
        kind: VnfKind,
    ) -> Result<Ipv6Addr, ServiceError> {
        let (port, vni) = self
            .vfs
            .iter()
            .enumerate()
            .find_map(|(i, v)| {
                v.as_ref()
                    .filter(|v| v.interface_id == req.interface_id)
                    .map(|v| (i as PortId, v.vni))
            })
            .ok_or(ServiceError::NoVm)?;
        if kind == VnfKind::AliasPrefix {
            let target = RouteTarget::Local { port };
            let entry = RouteEntry {
                prefix: req.prefix.network(),
                target,
                origin: RouteOrigin::AliasPrefix,
            };
            self.routes.push((vni, entry));
        }
        let underlay = self.next_underlay(req.preferred_underlay);
        self.vnfs.insert(
            underlay,
            Vnf {
                kind,
                port: Some(port),
                vni,
                prefix: Some(req.prefix),
            },
        );
        Ok(underlay)
    }

    pub fn create_prefix(&mut self, req: &CreatePrefix) -> Result<Ipv6Addr, ServiceError> {
        self.add_prefix_vnf(req, VnfKind::AliasPrefix)
    }

    pub fn create_lb_prefix(&mut self, req: &CreatePrefix) -> Result<Ipv6Addr, ServiceError> {
        self.add_prefix_vnf(req, VnfKind::LbPrefix)
    }

    /// Stand-in only: registers a bare VNF (the real state creates them through
    /// CreateVirtualIP / CreateNat / CreateLoadBalancer).
    #[cfg(test)]
    pub(crate) fn insert_vnf(&mut self, underlay: Ipv6Addr, vnf: Vnf) {
        self.vnfs.insert(underlay, vnf);
    }
}
