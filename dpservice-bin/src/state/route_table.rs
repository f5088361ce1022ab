//! The longest-prefix-match route table of one VNI and address family (dataplane.md §6.1):
//! what a route is, where it sends a packet, and the lookup.

use std::net::{IpAddr, Ipv6Addr};

use dpservice::model::IpPrefix;

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

    pub(super) fn insert(&mut self, entry: RouteEntry) {
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

    pub(super) fn remove(&mut self, prefix: &IpPrefix) -> Option<RouteEntry> {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(super) mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    pub(in crate::state) fn p(s: &str) -> IpPrefix {
        s.parse().unwrap()
    }

    pub(in crate::state) fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    pub(in crate::state) fn local(prefix: &str, port: PortId) -> RouteEntry {
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
}
