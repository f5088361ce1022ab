//! The route tables of each VNI (IPv4 and IPv6, `route_table.rs`) and the reference count
//! that keeps a VNI's tables alive while interfaces or load balancers use it
//! (grpc-api.md §10.8, dataplane.md §6.1, §6.5).

use std::net::IpAddr;

use dpservice::model::IpPrefix;
use dpservice::status::ServiceError;

use super::route_table::{RouteEntry, RouteTable};
use super::PacketMap;

/// The two route tables of a VNI and how many objects use it.
#[derive(Debug, Clone, Default)]
pub struct VniTables {
    users: u32,
    v4: RouteTable,
    v6: RouteTable,
}

impl VniTables {
    /// Interfaces and load balancers using the VNI.
    pub fn users(&self) -> u32 {
        self.users
    }

    /// IPv4 routes.
    pub fn v4(&self) -> &RouteTable {
        &self.v4
    }

    /// IPv6 routes.
    pub fn v6(&self) -> &RouteTable {
        &self.v6
    }

    fn table(&self, ip: IpAddr) -> &RouteTable {
        match ip {
            IpAddr::V4(_) => &self.v4,
            IpAddr::V6(_) => &self.v6,
        }
    }

    fn table_mut(&mut self, ip: IpAddr) -> &mut RouteTable {
        match ip {
            IpAddr::V4(_) => &mut self.v4,
            IpAddr::V6(_) => &mut self.v6,
        }
    }
}

/// Every VNI that has route tables.
#[derive(Debug, Clone)]
pub struct Vnis {
    map: PacketMap<u32, VniTables>,
    capacity: usize,
    routes_per_table: usize,
    /// Tables taken out by release and clear, to be dropped off the worker.
    retired: Vec<VniTables>,
}

impl Vnis {
    /// No VNI yet; at most `capacity` VNIs with `routes_per_table` routes per family.
    pub fn new(capacity: usize, routes_per_table: usize) -> Vnis {
        Vnis {
            map: PacketMap::default(),
            capacity,
            routes_per_table,
            retired: Vec::new(),
        }
    }

    /// The tables of `vni`, if it is in use.
    pub fn get(&self, vni: u32) -> Option<&VniTables> {
        self.map.get(&vni)
    }

    /// Whether `vni` has route tables.
    pub fn exists(&self, vni: u32) -> bool {
        self.map.contains_key(&vni)
    }

    /// Every VNI in use, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &VniTables)> + '_ {
        self.map.iter().map(|(&vni, t)| (vni, t))
    }

    /// Longest-prefix match in the VNI's table of `dst`'s family.
    pub fn lookup(&self, vni: u32, dst: IpAddr) -> Option<&RouteEntry> {
        self.map.get(&vni)?.table(dst).lookup(dst)
    }

    /// Whether one more user can take `vni`: **361** when a new VNI would exceed the
    /// capacity.
    pub fn check_acquire(&self, vni: u32) -> Result<(), ServiceError> {
        if self.map.contains_key(&vni) || self.map.len() < self.capacity {
            Ok(())
        } else {
            Err(ServiceError::VniInit4)
        }
    }

    /// One more user of `vni`; creates its (empty) tables for the first.
    pub fn acquire(&mut self, vni: u32) {
        self.map.entry(vni).or_default().users += 1;
    }

    /// One user fewer; returns whether that was the last (the tables are gone then).
    pub fn release(&mut self, vni: u32) -> bool {
        let Some(tables) = self.map.get_mut(&vni) else {
            return false;
        };
        tables.users = tables.users.saturating_sub(1);
        if tables.users == 0 {
            if let Some(gone) = self.map.remove(&vni) {
                self.retire(gone);
            }
            true
        } else {
            false
        }
    }

    /// Whether `prefix` can be added to `vni`: **206** without tables, **301** when the
    /// exact (masked) prefix is there, **303** when the table is full.
    pub fn check_insert(&self, vni: u32, prefix: &IpPrefix) -> Result<(), ServiceError> {
        let tables = self.map.get(&vni).ok_or(ServiceError::NoVni)?;
        self.check_insert_into(tables.table(prefix.addr()), prefix)
    }

    /// Like [`Vnis::check_insert`] for a VNI that [`Vnis::acquire`] is about to create
    /// if missing (its tables would be empty).
    pub fn check_insert_acquired(&self, vni: u32, prefix: &IpPrefix) -> Result<(), ServiceError> {
        match self.map.get(&vni) {
            Some(tables) => self.check_insert_into(tables.table(prefix.addr()), prefix),
            None => self.check_insert_into(&RouteTable::default(), prefix),
        }
    }

    fn check_insert_into(&self, table: &RouteTable, prefix: &IpPrefix) -> Result<(), ServiceError> {
        if table.get(prefix).is_some() {
            Err(ServiceError::RouteExists)
        } else if table.len() >= self.routes_per_table {
            Err(ServiceError::RouteInsert)
        } else {
            Ok(())
        }
    }

    /// Adds a route (after a successful check); returns false when the VNI is missing.
    pub fn insert(&mut self, vni: u32, entry: RouteEntry) -> bool {
        match self.map.get_mut(&vni) {
            Some(tables) => {
                tables.table_mut(entry.prefix.addr()).insert(entry);
                true
            }
            None => false,
        }
    }

    /// The route with exactly `prefix` in `vni`: **206** without tables.
    pub fn route(&self, vni: u32, prefix: &IpPrefix) -> Result<Option<&RouteEntry>, ServiceError> {
        let tables = self.map.get(&vni).ok_or(ServiceError::NoVni)?;
        Ok(tables.table(prefix.addr()).get(prefix))
    }

    /// Removes the route with exactly `prefix` in `vni`.
    pub fn remove(&mut self, vni: u32, prefix: &IpPrefix) -> Option<RouteEntry> {
        self.map
            .get_mut(&vni)?
            .table_mut(prefix.addr())
            .remove(prefix)
    }

    /// Empties both tables of `vni` (or of every VNI); the VNIs stay in use.
    pub fn clear_routes(&mut self, vni: Option<u32>) {
        let mut gone = Vec::new();
        for (&v, tables) in &mut self.map {
            if vni.is_none_or(|x| x == v) {
                gone.push(VniTables {
                    users: 0,
                    v4: std::mem::take(&mut tables.v4),
                    v6: std::mem::take(&mut tables.v6),
                });
            }
        }
        for tables in gone {
            self.retire(tables);
        }
    }

    /// Keeps big tables for [`Vnis::take_retired`]; small ones are dropped at once.
    fn retire(&mut self, tables: VniTables) {
        if tables.v4.len() + tables.v6.len() > 0 {
            self.retired.push(tables);
        }
    }

    /// Tables removed since the last take, for dropping elsewhere.
    pub fn take_retired(&mut self) -> Vec<VniTables> {
        std::mem::take(&mut self.retired)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::state::route_table::tests::{ip, local, p};

    #[test]
    fn families_are_separate() {
        let mut v = Vnis::new(4, 16);
        v.acquire(7);
        v.insert(7, local("0.0.0.0/0", 1));
        assert!(v.lookup(7, ip("::1")).is_none());
        assert!(v.lookup(7, ip("1.1.1.1")).is_some());
        assert!(v.lookup(8, ip("1.1.1.1")).is_none());
    }

    #[test]
    fn insert_checks_in_order() {
        let mut v = Vnis::new(4, 2);
        assert_eq!(v.check_insert(1, &p("1.0.0.0/8")), Err(ServiceError::NoVni));
        assert_eq!(v.check_insert_acquired(1, &p("1.0.0.0/8")), Ok(()));
        v.acquire(1);
        v.insert(1, local("1.0.0.0/8", 1));
        assert_eq!(
            v.check_insert(1, &p("1.2.0.0/8")),
            Err(ServiceError::RouteExists)
        );
        v.insert(1, local("2.0.0.0/8", 1));
        assert_eq!(
            v.check_insert(1, &p("3.0.0.0/8")),
            Err(ServiceError::RouteInsert)
        );
        // the IPv6 table has its own capacity
        assert_eq!(v.check_insert(1, &p("::/0")), Ok(()));
    }

    #[test]
    fn users_keep_tables_alive() {
        let mut v = Vnis::new(2, 8);
        v.acquire(5);
        v.acquire(5);
        v.acquire(6);
        assert_eq!(v.check_acquire(7), Err(ServiceError::VniInit4));
        assert_eq!(v.check_acquire(5), Ok(()));
        v.insert(5, local("1.0.0.0/8", 1));
        assert!(!v.release(5));
        assert!(v.exists(5));
        assert_eq!(v.get(5).unwrap().v4().len(), 1);
        assert!(v.release(5));
        assert!(!v.exists(5));
        assert!(!v.release(5));
        // re-created tables start empty
        v.acquire(5);
        assert!(v.get(5).unwrap().v4().is_empty());
    }

    #[test]
    fn clear_keeps_vnis() {
        let mut v = Vnis::new(4, 8);
        v.acquire(1);
        v.acquire(2);
        v.insert(1, local("1.0.0.0/8", 1));
        v.insert(2, local("1::/16", 1));
        v.clear_routes(Some(1));
        assert!(v.get(1).unwrap().v4().is_empty());
        assert_eq!(v.get(2).unwrap().v6().len(), 1);
        v.clear_routes(None);
        assert!(v.get(2).unwrap().v6().is_empty());
        assert!(v.exists(1) && v.exists(2));
    }
}
