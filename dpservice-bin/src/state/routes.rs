//! Route and VNI RPCs (grpc-api.md §8.9, §8.10).

use std::net::IpAddr;

use dpservice::model::{IpPrefix, RequestPrefix, Route, RouteKey, VniQuery, VniType};
use dpservice::status::ServiceError;

use super::{RouteEntry, RouteOrigin, RouteTarget, State};

impl State {
    /// `CreateRoute`: **204** IPv4 next hop, **206** VNI without tables, **301** exact
    /// prefix present, **303** table full or length beyond the family.
    pub fn create_route(&mut self, req: &Route) -> Result<(), ServiceError> {
        let IpAddr::V6(nexthop) = req.nexthop else {
            return Err(ServiceError::BadIpVer);
        };
        let prefix = self.table_prefix(req.vni, req.prefix, ServiceError::RouteInsert)?;
        self.vnis.check_insert(req.vni, &prefix)?;
        self.vnis.insert(
            req.vni,
            RouteEntry {
                prefix,
                target: RouteTarget::Uplink {
                    nexthop,
                    nexthop_vni: req.nexthop_vni,
                },
                origin: RouteOrigin::External,
            },
        );
        self.touch();
        Ok(())
    }

    /// `DeleteRoute`: **206**, **302** no such prefix (a length beyond the family is
    /// never there), **304** the prefix leads to an interface rather than to the uplink.
    pub fn delete_route(&mut self, req: &RouteKey) -> Result<(), ServiceError> {
        let prefix = self.table_prefix(req.vni, req.prefix, ServiceError::RouteNotFound)?;
        match self.vnis.route(req.vni, &prefix)? {
            None => return Err(ServiceError::RouteNotFound),
            Some(e) if e.origin != RouteOrigin::External => return Err(ServiceError::RouteBadPort),
            Some(_) => {}
        }
        self.vnis.remove(req.vni, &prefix);
        self.touch();
        Ok(())
    }

    /// The prefix of a route request in `vni` as the tables hold it: **206** without
    /// tables, then `beyond_family` for a length beyond 32 / 128, which upstream's
    /// routing table can neither insert (303) nor find (302).
    pub(super) fn table_prefix(
        &self,
        vni: u32,
        prefix: RequestPrefix,
        beyond_family: ServiceError,
    ) -> Result<IpPrefix, ServiceError> {
        if !self.vnis.exists(vni) {
            return Err(ServiceError::NoVni);
        }
        prefix.checked().map_err(|_| beyond_family)
    }

    /// `ListRoutes`: the external IPv4 routes of `vni` (`None`, VNI 0 on the wire: of
    /// every VNI), ascending by (VNI, address, length). IPv6 routes are never listed
    /// (§13 #3). **206** for a VNI without tables.
    pub fn list_routes(&self, vni: Option<u32>) -> Result<Vec<Route>, ServiceError> {
        let mut routes = Vec::new();
        let mut add = |vni: u32, entries: &mut dyn Iterator<Item = &RouteEntry>| {
            for e in entries {
                if let RouteTarget::Uplink {
                    nexthop,
                    nexthop_vni,
                } = e.target
                {
                    routes.push(Route {
                        vni,
                        prefix: e.prefix.into(),
                        nexthop_vni,
                        nexthop: IpAddr::V6(nexthop),
                    });
                }
            }
        };
        match vni {
            None => {
                for (v, tables) in self.vnis.iter() {
                    add(v, &mut tables.v4().iter());
                }
            }
            Some(vni) => {
                let tables = self.vnis.get(vni).ok_or(ServiceError::NoVni)?;
                add(vni, &mut tables.v4().iter());
            }
        }
        routes.sort_by_key(|r| (r.vni, r.prefix.addr(), r.prefix.len()));
        Ok(routes)
    }

    /// `CheckVniInUse`: whether the VNI has route tables; **203** for `VNI_BOTH`.
    pub fn check_vni_in_use(&self, query: VniQuery) -> Result<bool, ServiceError> {
        match query.vni_type {
            VniType::Ipv4 | VniType::Ipv6 => Ok(self.vnis.exists(query.vni)),
            VniType::Both => Err(ServiceError::WrongType),
        }
    }

    /// `ResetVni`: only `VNI_BOTH` (else **203**): empties the VNI's tables and gives its
    /// interfaces their own routes back. An unknown VNI is nothing to do.
    pub fn reset_vni(&mut self, query: VniQuery) -> Result<(), ServiceError> {
        if query.vni_type != VniType::Both {
            return Err(ServiceError::WrongType);
        }
        if self.vnis.exists(query.vni) {
            self.vnis.clear_routes(Some(query.vni));
            self.reinstall_interface_routes(Some(query.vni));
            self.touch();
        }
        Ok(())
    }

    /// Re-adds the /32 and /128 of every interface (in `vni`, or everywhere) after its
    /// tables were emptied; they cannot collide, CreateInterface made sure of that.
    pub(super) fn reinstall_interface_routes(&mut self, vni: Option<u32>) {
        let mut entries = Vec::new();
        for (port, vf) in self.interfaces() {
            if vni.is_some_and(|v| v != vf.vni) {
                continue;
            }
            for prefix in vf.own_prefixes() {
                entries.push((vf.vni, interface_route(prefix, port)));
            }
        }
        for (vni, entry) in entries {
            self.vnis.insert(vni, entry);
        }
    }
}

/// The route of an interface's own address.
pub(super) fn interface_route(prefix: IpPrefix, port: super::PortId) -> RouteEntry {
    RouteEntry {
        prefix,
        target: RouteTarget::Local { port },
        origin: RouteOrigin::InterfaceAddress,
    }
}
