//! Load balancers and their targets (grpc-api.md §8.6, §8.7, dataplane.md §9).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};

use dpservice::model::{CreateLoadBalancer, LbPort, LoadBalancer, LoadBalancerTarget, ObjectId};
use dpservice::status::ServiceError;

use super::{FlowPurge, MaglevTable, PacketMap, State, Vnf, VnfKind};

/// A load balancer as the packet path uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lb {
    /// ID.
    pub id: ObjectId,
    /// VNI.
    pub vni: u32,
    /// The load-balanced address.
    pub ip: IpAddr,
    /// Ports in the order given.
    pub ports: Vec<LbPort>,
    /// Underlay (`LB` VNF).
    pub underlay: Ipv6Addr,
    /// Backend underlays, ascending.
    pub targets: Vec<Ipv6Addr>,
    /// Slot → index into `targets`.
    pub maglev: MaglevTable,
    seq: u64,
}

impl Lb {
    /// Whether traffic with this IANA protocol number and destination port is balanced.
    pub fn serves(&self, protocol: u8, port: u16) -> bool {
        self.ports
            .iter()
            .any(|p| p.protocol.number() == protocol && p.port == port)
    }

    /// The target for a flow with this hash (of its original key); `None` without
    /// targets.
    pub fn target_for(&self, flow_hash: u32) -> Option<&Ipv6Addr> {
        self.targets.get(self.maglev.pick(flow_hash)?)
    }

    fn to_model(&self) -> LoadBalancer {
        LoadBalancer {
            id: self.id.clone(),
            vni: self.vni,
            ip: self.ip,
            ports: self.ports.clone(),
            underlay_route: self.underlay,
        }
    }
}

/// Every load balancer, by (VNI, address) for the packet path and by ID.
#[derive(Debug, Clone, Default)]
pub struct LoadBalancers {
    by_addr: PacketMap<(u32, IpAddr), Lb>,
    ids: HashMap<ObjectId, (u32, IpAddr)>,
}

impl LoadBalancers {
    /// The load balancer of `ip` in `vni`.
    pub fn lookup(&self, vni: u32, ip: IpAddr) -> Option<&Lb> {
        self.by_addr.get(&(vni, ip))
    }

    /// The load balancer with this ID.
    pub fn get(&self, id: &[u8]) -> Option<&Lb> {
        self.by_addr.get(self.ids.get(id)?)
    }

    /// Number of load balancers (the `lb` node is skipped while there is none).
    pub fn len(&self) -> usize {
        self.by_addr.len()
    }

    /// Whether there is no load balancer.
    pub fn is_empty(&self) -> bool {
        self.by_addr.is_empty()
    }

    /// Every load balancer in creation order.
    pub fn in_creation_order(&self) -> Vec<&Lb> {
        let mut all: Vec<&Lb> = self.by_addr.values().collect();
        all.sort_by_key(|lb| lb.seq);
        all
    }

    fn get_mut(&mut self, id: &[u8]) -> Option<&mut Lb> {
        self.by_addr.get_mut(self.ids.get(id)?)
    }
}

fn ipv6_only(ip: IpAddr) -> Result<Ipv6Addr, ServiceError> {
    match ip {
        IpAddr::V6(a) => Ok(a),
        IpAddr::V4(_) => Err(ServiceError::BadIpVer),
    }
}

impl State {
    /// `CreateLoadBalancer`: **401** underlay, **202** an LB with the same (VNI, address)
    /// or the same ID exists (§13 #5), **208** table full, **361** VNI tables.
    pub fn create_load_balancer(
        &mut self,
        req: CreateLoadBalancer,
    ) -> Result<Ipv6Addr, ServiceError> {
        let plan = self.underlays.plan(req.preferred_underlay)?;
        if self.lbs.by_addr.contains_key(&(req.vni, req.ip)) || self.lbs.ids.contains_key(&req.id) {
            return Err(ServiceError::AlreadyExists);
        }
        if self.lbs.by_addr.len() >= self.limits.load_balancers {
            return Err(ServiceError::OutOfMemory);
        }
        self.vnis.check_acquire(req.vni)?;
        let underlay = self.underlays.commit(
            plan,
            Vnf {
                kind: VnfKind::Lb,
                port: None,
                vni: req.vni,
                prefix: None,
            },
        );
        self.vnis.acquire(req.vni);
        let seq = self.take_seq();
        self.lbs.ids.insert(req.id.clone(), (req.vni, req.ip));
        self.lbs.by_addr.insert(
            (req.vni, req.ip),
            Lb {
                id: req.id,
                vni: req.vni,
                ip: req.ip,
                ports: req.ports,
                underlay,
                targets: Vec::new(),
                maglev: MaglevTable::build(&[]),
                seq,
            },
        );
        self.touch();
        Ok(underlay)
    }

    /// `GetLoadBalancer`: **201** unknown ID.
    pub fn get_load_balancer(
        &self,
        id: &(impl AsRef<[u8]> + ?Sized),
    ) -> Result<LoadBalancer, ServiceError> {
        self.lbs
            .get(id.as_ref())
            .map(Lb::to_model)
            .ok_or(ServiceError::NotFound)
    }

    /// `DeleteLoadBalancer`: **201** unknown ID. Targets go with it; the last user of
    /// the VNI frees its tables.
    pub fn delete_load_balancer(
        &mut self,
        id: &(impl AsRef<[u8]> + ?Sized),
    ) -> Result<(), ServiceError> {
        let key = self
            .lbs
            .ids
            .remove(id.as_ref())
            .ok_or(ServiceError::NotFound)?;
        if let Some(lb) = self.lbs.by_addr.remove(&key) {
            self.underlays.release(&lb.underlay);
            for target in lb.targets {
                self.purge_flows(FlowPurge::LbTarget { target });
            }
        }
        if self.vnis.release(key.0) {
            self.purge_vni(key.0);
        }
        self.touch();
        Ok(())
    }

    /// `ListLoadBalancers`: in creation order.
    pub fn list_load_balancers(&self) -> Vec<LoadBalancer> {
        self.lbs
            .in_creation_order()
            .into_iter()
            .map(Lb::to_model)
            .collect()
    }

    /// `CreateLoadBalancerTarget`: **204** IPv4 target, **422** unknown LB, **202**
    /// duplicate, **423** target limit.
    ///
    /// `::` is never stored (so never listed, §8.7): upstream keeps targets in fixed
    /// slots where `::` marks a free one, so its duplicate check finds `::` "present"
    /// (**202**) while any slot is free, and a full LB answers **423** as for any target.
    pub fn create_lb_target(&mut self, req: &LoadBalancerTarget) -> Result<(), ServiceError> {
        let target = ipv6_only(req.target)?;
        let limit = self.limits.targets_per_lb;
        let lb = self
            .lbs
            .get_mut(req.loadbalancer_id.as_bytes())
            .ok_or(ServiceError::NoLb)?;
        if target.is_unspecified() && lb.targets.len() < limit {
            return Err(ServiceError::AlreadyExists);
        }
        let Err(pos) = lb.targets.binary_search(&target) else {
            return Err(ServiceError::AlreadyExists);
        };
        if lb.targets.len() >= limit {
            return Err(ServiceError::BackIpAdd);
        }
        lb.targets.insert(pos, target);
        lb.maglev = MaglevTable::build(&lb.targets);
        self.touch();
        Ok(())
    }

    /// `DeleteLoadBalancerTarget`: **204** IPv4 target, **422** unknown LB, **201** not a
    /// target of the LB.
    pub fn delete_lb_target(&mut self, req: &LoadBalancerTarget) -> Result<(), ServiceError> {
        let target = ipv6_only(req.target)?;
        let lb = self
            .lbs
            .get_mut(req.loadbalancer_id.as_bytes())
            .ok_or(ServiceError::NoLb)?;
        let pos = lb
            .targets
            .binary_search(&target)
            .map_err(|_| ServiceError::NotFound)?;
        lb.targets.remove(pos);
        lb.maglev = MaglevTable::build(&lb.targets);
        self.purge_flows(FlowPurge::LbTarget { target });
        self.touch();
        Ok(())
    }

    /// `ListLoadBalancerTargets`: the targets of one LB (ascending), or without an ID
    /// (empty on the wire) those of every LB in creation order; **422** unknown LB.
    pub fn list_lb_targets(&self, id: Option<&[u8]>) -> Result<Vec<Ipv6Addr>, ServiceError> {
        let Some(id) = id.filter(|id| !id.is_empty()) else {
            return Ok(self
                .lbs
                .in_creation_order()
                .into_iter()
                .flat_map(|lb| lb.targets.iter().copied())
                .collect());
        };
        let lb = self.lbs.get(id).ok_or(ServiceError::NoLb)?;
        Ok(lb.targets.clone())
    }
}
