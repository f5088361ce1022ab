//! Alias prefixes and load-balancer target prefixes of interfaces (grpc-api.md §8.3,
//! §8.4, dataplane.md §9.1, §11).
//!
//! Records keep the prefix as given (listing and deletion use it as given, §10.2); the
//! route behind an alias prefix is stored masked.

use std::net::Ipv6Addr;

use dpservice::model::{
    CreateLbPrefix, CreatePrefix, IpPrefix, LbPrefixRef, PrefixEntry, PrefixRef,
};
use dpservice::status::ServiceError;

use super::{PortId, RouteEntry, RouteOrigin, RouteTarget, State, Vnf, VnfKind};

/// A prefix registered on an interface with its own underlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixRecord {
    /// The prefix as given.
    pub prefix: IpPrefix,
    /// Its underlay.
    pub underlay: Ipv6Addr,
}

impl PrefixRecord {
    fn to_model(self) -> PrefixEntry {
        PrefixEntry {
            prefix: self.prefix,
            underlay_route: self.underlay,
        }
    }
}

impl State {
    /// `CreatePrefix`: **205** unknown interface, **301** / **303** route in the
    /// interface's VNI (**303** also for a length beyond the family), **401** underlay.
    pub fn create_prefix(&mut self, req: &CreatePrefix) -> Result<Ipv6Addr, ServiceError> {
        let (port, vf) = self.sub_object_owner(&req.interface_id)?;
        let vni = vf.vni;
        let prefix = self.table_prefix(vni, req.prefix, ServiceError::RouteInsert)?;
        self.vnis.check_insert(vni, &prefix)?;
        // A record without a route is what Initialize/ResetVni leave behind; creating
        // the prefix again replaces it instead of listing the prefix twice.
        let stale = vf.alias_prefixes.iter().position(|r| r.prefix == prefix);
        let plan = self.underlays.plan(req.preferred_underlay)?;

        self.vnis.insert(
            vni,
            RouteEntry {
                prefix,
                target: RouteTarget::Local { port },
                origin: RouteOrigin::AliasPrefix,
            },
        );
        let underlay = self.underlays.commit(
            plan,
            Vnf {
                kind: VnfKind::AliasPrefix,
                port: Some(port),
                vni,
                prefix: Some(prefix),
            },
        );
        let record = PrefixRecord { prefix, underlay };
        let old = self.vf_mut(port).and_then(|vf| match stale {
            Some(i) => Some(std::mem::replace(&mut vf.alias_prefixes[i], record)),
            None => {
                vf.alias_prefixes.push(record);
                None
            }
        });
        if let Some(old) = old {
            self.underlays.release(&old.underlay);
        }
        self.touch();
        Ok(underlay)
    }

    /// `DeletePrefix`: **205**; then the route (**302** missing, **304** not this
    /// interface's alias prefix) and the record (**201** missing). A route error wins,
    /// but the record is still removed then (upstream does both steps; this is how a
    /// client cleans up a prefix whose route a reset wiped). When the route is fine but
    /// the record is missing (other host bits), nothing changes. A length beyond the
    /// family has neither: **302**.
    pub fn delete_prefix(&mut self, req: &PrefixRef) -> Result<(), ServiceError> {
        let (port, vf) = self.sub_object_owner(&req.interface_id)?;
        let vni = vf.vni;
        let prefix = req
            .prefix
            .checked()
            .map_err(|_| ServiceError::RouteNotFound)?;
        let route = match self.vnis.route(vni, &prefix) {
            Ok(Some(e))
                if e.origin == RouteOrigin::AliasPrefix
                    && e.target == (RouteTarget::Local { port }) =>
            {
                Ok(())
            }
            Ok(Some(_)) => Err(ServiceError::RouteBadPort),
            Ok(None) | Err(_) => Err(ServiceError::RouteNotFound),
        };
        let record = vf.alias_prefixes.iter().position(|r| r.prefix == prefix);
        match (route, record) {
            (Ok(()), None) => Err(ServiceError::NotFound),
            (route, None) => route,
            (route, Some(i)) => {
                if route.is_ok() {
                    self.vnis.remove(vni, &prefix);
                }
                self.remove_prefix_record(port, i, VnfKind::AliasPrefix);
                self.touch();
                route
            }
        }
    }

    /// `ListPrefixes`: **205**; the interface's alias prefixes in creation order.
    pub fn list_prefixes(
        &self,
        interface_id: &(impl AsRef<[u8]> + ?Sized),
    ) -> Result<Vec<PrefixEntry>, ServiceError> {
        let (_, vf) = self.sub_object_owner(interface_id)?;
        Ok(vf.alias_prefixes.iter().map(|r| r.to_model()).collect())
    }

    /// `CreateLoadBalancerPrefix`: **205**, **202** same prefix already registered on
    /// the interface, **401** underlay. No route is installed.
    pub fn create_lb_prefix(&mut self, req: &CreateLbPrefix) -> Result<Ipv6Addr, ServiceError> {
        let (port, vf) = self.sub_object_owner(&req.interface_id)?;
        let vni = vf.vni;
        if vf.lb_prefixes.iter().any(|r| r.prefix == req.prefix) {
            return Err(ServiceError::AlreadyExists);
        }
        let plan = self.underlays.plan(req.preferred_underlay)?;
        let underlay = self.underlays.commit(
            plan,
            Vnf {
                kind: VnfKind::LbPrefix,
                port: Some(port),
                vni,
                prefix: Some(req.prefix),
            },
        );
        if let Some(vf) = self.vf_mut(port) {
            vf.lb_prefixes.push(PrefixRecord {
                prefix: req.prefix,
                underlay,
            });
        }
        self.touch();
        Ok(underlay)
    }

    /// `DeleteLoadBalancerPrefix`: **205**, **201** no record with this exact prefix.
    pub fn delete_lb_prefix(&mut self, req: &LbPrefixRef) -> Result<(), ServiceError> {
        let (port, vf) = self.sub_object_owner(&req.interface_id)?;
        let i = vf
            .lb_prefixes
            .iter()
            .position(|r| r.prefix == req.prefix)
            .ok_or(ServiceError::NotFound)?;
        self.remove_prefix_record(port, i, VnfKind::LbPrefix);
        self.touch();
        Ok(())
    }

    /// `ListLoadBalancerPrefixes`: **205**; in creation order.
    pub fn list_lb_prefixes(
        &self,
        interface_id: &(impl AsRef<[u8]> + ?Sized),
    ) -> Result<Vec<PrefixEntry>, ServiceError> {
        let (_, vf) = self.sub_object_owner(interface_id)?;
        Ok(vf.lb_prefixes.iter().map(|r| r.to_model()).collect())
    }

    fn remove_prefix_record(&mut self, port: PortId, index: usize, kind: VnfKind) {
        let Some(vf) = self.vf_mut(port) else {
            return;
        };
        let list = match kind {
            VnfKind::LbPrefix => &mut vf.lb_prefixes,
            _ => &mut vf.alias_prefixes,
        };
        if index < list.len() {
            let record = list.remove(index);
            self.underlays.release(&record.underlay);
        }
    }

    /// Removes every alias prefix (with its route) and LB prefix of the interface.
    pub(super) fn remove_all_prefixes(&mut self, port: PortId) {
        let Some(vf) = self.vf_mut(port) else {
            return;
        };
        let vni = vf.vni;
        let alias = std::mem::take(&mut vf.alias_prefixes);
        let lb = std::mem::take(&mut vf.lb_prefixes);
        for record in &alias {
            let ours = self
                .vnis
                .route(vni, &record.prefix)
                .ok()
                .flatten()
                .is_some_and(|e| {
                    e.origin == RouteOrigin::AliasPrefix
                        && e.target == (RouteTarget::Local { port })
                });
            if ours {
                self.vnis.remove(vni, &record.prefix);
            }
        }
        for record in alias.iter().chain(&lb) {
            self.underlays.release(&record.underlay);
        }
    }
}
