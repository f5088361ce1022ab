//! Per-VNI route tables (IPv4 and IPv6 longest-prefix match) and the reference count
//! that keeps a VNI's tables alive while interfaces or load balancers use it
//! (grpc-api.md §10.8, dataplane.md §6.1, §6.5).

use std::net::{IpAddr, Ipv6Addr};

use dpservice::model::IpPrefix;
use dpservice::status::ServiceError;

use super::{PacketMap, PortId};

/// Where a matched route sends the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteTarget {
    /// A VM interface on this host.
    Local {
        /// Its port.
        port: PortId,
    },
    /// Another host, through a tunnel.
    Uplink {
        /// The next hop's underlay.
        nexthop: Ipv6Addr,
        /// VNI of the remote network (listed, no effect on the wire).
        nexthop_vni: u32,
    },
}

/// Who installed a route; decides which RPC may delete it and what ListRoutes shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteOrigin {
    /// An interface's own /32 or /128.
    InterfaceAddress,
    /// An alias prefix of an interface (CreatePrefix).
    AliasPrefix,
    /// CreateRoute.
    External,
}

/// One route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteEntry {
    /// The prefix, host bits cleared.
    pub prefix: IpPrefix,
    /// Where it leads.
    pub target: RouteTarget,
    /// Who installed it.
    pub origin: RouteOrigin,
}

/// The routes of one family in one VNI.
///
/// One map per prefix length in use, longest first, keyed by the masked address: a
/// lookup probes one map per length in use (O(distinct lengths), no allocation), and
/// each probe hashes a single integer.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    by_len: Vec<(u8, PacketMap<u128, RouteEntry>)>,
    count: usize,
}

/// An address as a number, and its family's width in bits.
fn bits_of(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    }
}

/// `addr` (a `width`-bit number) with everything after `len` bits cleared.
#[inline]
fn mask(addr: u128, width: u8, len: u8) -> u128 {
    let host_bits = u32::from(width.saturating_sub(len));
    addr & u128::MAX.checked_shl(host_bits).unwrap_or(0)
}

fn key_of(prefix: &IpPrefix) -> (u128, u8) {
    let (addr, width) = bits_of(prefix.addr());
    (mask(addr, width, prefix.len()), prefix.len())
}

impl RouteTable {
    /// Number of routes.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn of_len(&self, len: u8) -> Option<&PacketMap<u128, RouteEntry>> {
        self.by_len.iter().find(|(l, _)| *l == len).map(|(_, m)| m)
    }

    /// The route with exactly this prefix (host bits ignored).
    pub fn get(&self, prefix: &IpPrefix) -> Option<&RouteEntry> {
        let (addr, len) = key_of(prefix);
        self.of_len(len)?.get(&addr)
    }

    /// Longest-prefix match.
    #[inline]
    pub fn lookup(&self, dst: IpAddr) -> Option<&RouteEntry> {
        let (addr, width) = bits_of(dst);
        self.by_len
            .iter()
            .find_map(|(len, routes)| routes.get(&mask(addr, width, *len)))
    }

    /// Every route, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &RouteEntry> + '_ {
        self.by_len.iter().flat_map(|(_, m)| m.values())
    }

    fn insert(&mut self, entry: RouteEntry) {
        let (addr, len) = key_of(&entry.prefix);
        let entry = RouteEntry {
            prefix: entry.prefix.network(),
            ..entry
        };
        // longest first: the position of the first shorter length
        let at = self.by_len.partition_point(|(l, _)| *l > len);
        if self.by_len.get(at).is_none_or(|(l, _)| *l != len) {
            self.by_len.insert(at, (len, PacketMap::default()));
        }
        if self.by_len[at].1.insert(addr, entry).is_none() {
            self.count += 1;
        }
    }

    fn remove(&mut self, prefix: &IpPrefix) -> Option<RouteEntry> {
        let (addr, len) = key_of(prefix);
        let at = self.by_len.iter().position(|(l, _)| *l == len)?;
        let removed = self.by_len[at].1.remove(&addr)?;
        self.count -= 1;
        if self.by_len[at].1.is_empty() {
            self.by_len.remove(at);
        }
        Some(removed)
    }
}

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
    use std::net::Ipv4Addr;

    fn p(s: &str) -> IpPrefix {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn local(prefix: &str, port: PortId) -> RouteEntry {
        RouteEntry {
            prefix: p(prefix),
            target: RouteTarget::Local { port },
            origin: RouteOrigin::AliasPrefix,
        }
    }

    fn port_of(t: &RouteTable, dst: &str) -> Option<PortId> {
        match t.lookup(ip(dst))?.target {
            RouteTarget::Local { port } => Some(port),
            RouteTarget::Uplink { .. } => None,
        }
    }

    #[test]
    fn ipv4_longest_prefix_wins() {
        let mut t = RouteTable::default();
        t.insert(local("0.0.0.0/0", 1));
        t.insert(local("10.0.0.0/8", 2));
        t.insert(local("10.1.0.0/16", 3));
        t.insert(local("10.1.2.3/32", 4));
        assert_eq!(port_of(&t, "10.1.2.3"), Some(4));
        assert_eq!(port_of(&t, "10.1.2.4"), Some(3));
        assert_eq!(port_of(&t, "10.2.0.1"), Some(2));
        assert_eq!(port_of(&t, "192.168.0.1"), Some(1));
        assert_eq!(t.lookup(ip("192.168.0.1")).unwrap().prefix.len(), 0);
        t.remove(&p("10.1.0.0/16"));
        assert_eq!(port_of(&t, "10.1.2.4"), Some(2));
        t.remove(&p("0.0.0.0/0"));
        assert_eq!(port_of(&t, "192.168.0.1"), None);
        assert_eq!(t.len(), 2);
    }

    /// Inserts and removes in random order, checking every lookup against a linear scan
    /// for the longest covering prefix.
    #[test]
    fn lookup_matches_a_linear_scan() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut t = RouteTable::default();
        let mut reference: Vec<(IpPrefix, u16)> = Vec::new();
        for round in 0..2000u32 {
            let r = next();
            // few distinct values, so prefixes nest and collide often
            let addr = Ipv4Addr::from((r as u32) & 0xff0f_0f03);
            let len = (r >> 32) as u32 % 33;
            let prefix = IpPrefix::new(IpAddr::V4(addr), len).unwrap().network();
            if r >> 60 < 5 {
                let removed = t.remove(&prefix).map(|e| e.prefix);
                let before = reference.len();
                reference.retain(|(p, _)| *p != prefix);
                assert_eq!(removed.is_some(), reference.len() < before);
            } else {
                let port = (round % 1000) as u16;
                t.insert(local(&prefix.to_string(), port));
                reference.retain(|(p, _)| *p != prefix);
                reference.push((prefix, port));
            }
            assert_eq!(t.len(), reference.len());
            let probe = IpAddr::V4(Ipv4Addr::from((next() as u32) & 0xff0f_0f03));
            let want = reference
                .iter()
                .filter(|(p, _)| p.contains(probe))
                .max_by_key(|(p, _)| p.len())
                .map(|(_, port)| *port);
            assert_eq!(
                port_of(&t, &probe.to_string()),
                want,
                "{probe} in round {round}"
            );
        }
    }

    #[test]
    fn ipv6_longest_prefix_wins() {
        let mut t = RouteTable::default();
        t.insert(local("::/0", 1));
        t.insert(local("2001:db8::/32", 2));
        t.insert(local("2001:db8:1::/48", 3));
        t.insert(local("2001:db8:1::7/128", 4));
        assert_eq!(port_of(&t, "2001:db8:1::7"), Some(4));
        assert_eq!(port_of(&t, "2001:db8:1::8"), Some(3));
        assert_eq!(port_of(&t, "2001:db8:2::1"), Some(2));
        assert_eq!(port_of(&t, "fe80::1"), Some(1));
    }

    #[test]
    fn prefixes_are_stored_masked() {
        let mut t = RouteTable::default();
        t.insert(local("1.2.3.4/24", 1));
        assert!(t.get(&p("1.2.3.255/24")).is_some());
        assert_eq!(t.iter().next().unwrap().prefix.to_string(), "1.2.3.0/24");
        assert!(t.remove(&p("1.2.3.0/24")).is_some());
        assert!(t.is_empty());
        assert_eq!(t.lookup(ip("1.2.3.4")), None);
    }

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
