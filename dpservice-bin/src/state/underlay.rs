//! Underlay addresses: the generator and the registry of reachable objects ("VNFs",
//! grpc-api.md §10.10, dataplane.md §6.2).
//!
//! Remote hosts address an object on this host by its underlay IPv6; decapsulation looks
//! the outer destination up here to learn the object's kind, VNI and port.

use std::net::Ipv6Addr;

use dpservice::model::IpPrefix;
use dpservice::status::ServiceError;

use super::{PacketMap, PortId};

/// Byte 8 of every generated underlay: marks addresses made by dpservice.
pub const GENERATED_MARK: u8 = 0xd0;
/// Bit of byte 10 that an externally generated (preferred) underlay must carry.
pub const EXTERNAL_FLAG: u8 = 0x80;

/// The kind of object an underlay belongs to; [`VnfKind::number`] is the value the flow
/// key and the shared-memory tables carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VnfKind {
    /// A VM interface (decap → conntrack → firewall → the VM).
    Interface,
    /// A VIP of an interface.
    Vip,
    /// The NAT of an interface.
    Nat,
    /// A load balancer.
    Lb,
    /// A load-balancer target prefix of an interface.
    LbPrefix,
    /// An alias prefix of an interface.
    AliasPrefix,
}

impl VnfKind {
    /// Upstream's type number (1..6).
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

/// An object reachable through an underlay address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vnf {
    /// Kind of object.
    pub kind: VnfKind,
    /// The VM port behind it; `None` for load balancers, which live on the uplink
    /// (upstream registers them on pf0).
    pub port: Option<PortId>,
    /// VNI of the object.
    pub vni: u32,
    /// For alias and LB prefixes: the prefix as given.
    pub prefix: Option<IpPrefix>,
}

/// Whether `addr` may be used as a preferred underlay on a host whose underlay is
/// `host`: same /64 and the "externally generated" flag set (grpc-api.md §10.10). The
/// unspecified address means "generate one" and is accepted too.
pub fn is_valid_preferred_underlay(host: Ipv6Addr, addr: Ipv6Addr) -> bool {
    let (h, a) = (host.octets(), addr.octets());
    addr.is_unspecified() || (h[..8] == a[..8] && a[10] & EXTERNAL_FLAG != 0)
}

/// A small PRNG (SplitMix64) for the random parts of generated addresses; the state
/// must not read the OS, so the seed comes from the configuration. (The graph's tests
/// draw their seeded random traffic from it too.)
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Makes underlays: host /64, `d0`, sub-type 0, flags 0, a random byte, and a 32-bit
/// counter that starts at a random value 0..255 (deterministic mode: byte 1, counter
/// from 0), pre-incremented per address.
#[derive(Debug, Clone)]
pub struct UnderlayGenerator {
    prefix: [u8; 8],
    deterministic: bool,
    counter: u32,
    rng: SplitMix64,
}

impl UnderlayGenerator {
    /// A generator for the /64 of `host`.
    pub fn new(host: Ipv6Addr, deterministic: bool, seed: u64) -> UnderlayGenerator {
        let mut prefix = [0; 8];
        prefix.copy_from_slice(&host.octets()[..8]);
        let mut rng = SplitMix64(seed);
        let counter = if deterministic {
            0
        } else {
            (rng.next() & 0xff) as u32
        };
        UnderlayGenerator {
            prefix,
            deterministic,
            counter,
            rng,
        }
    }

    /// The next address.
    pub fn generate(&mut self) -> Ipv6Addr {
        self.counter = self.counter.wrapping_add(1);
        let random = if self.deterministic {
            1
        } else {
            (self.rng.next() & 0xff) as u8
        };
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.prefix);
        b[8] = GENERATED_MARK;
        b[11] = random;
        b[12..].copy_from_slice(&self.counter.to_be_bytes());
        Ipv6Addr::from(b)
    }
}

/// The registry: underlay address → object.
#[derive(Debug, Clone)]
pub struct VnfTable {
    map: PacketMap<Ipv6Addr, Vnf>,
    capacity: usize,
}

impl VnfTable {
    /// The object behind `addr`.
    pub fn get(&self, addr: &Ipv6Addr) -> Option<&Vnf> {
        self.map.get(addr)
    }

    /// Number of registered underlays.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Upstream-sized capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Every registration, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&Ipv6Addr, &Vnf)> + '_ {
        self.map.iter()
    }
}

/// A reserved-but-not-yet-registered underlay: the address, and the generator state
/// to keep if the call succeeds (so a failed create does not consume an address).
#[derive(Debug)]
pub struct UnderlayPlan {
    addr: Ipv6Addr,
    generator: Option<UnderlayGenerator>,
}

impl UnderlayPlan {
    /// The address that will be registered.
    pub fn addr(&self) -> Ipv6Addr {
        self.addr
    }
}

/// Generator and registry together.
#[derive(Debug, Clone)]
pub struct Underlays {
    generator: UnderlayGenerator,
    table: VnfTable,
}

impl Underlays {
    /// An empty registry holding at most `capacity` addresses.
    pub fn new(generator: UnderlayGenerator, capacity: usize) -> Underlays {
        Underlays {
            generator,
            table: VnfTable {
                map: PacketMap::default(),
                capacity,
            },
        }
    }

    /// Picks the address for a new object (the preferred one, or a generated one) and
    /// checks it can be registered: **401** when it is taken or the registry is full.
    pub fn plan(&self, preferred: Option<Ipv6Addr>) -> Result<UnderlayPlan, ServiceError> {
        let plan = match preferred.filter(|a| !a.is_unspecified()) {
            Some(addr) => UnderlayPlan {
                addr,
                generator: None,
            },
            None => {
                let mut generator = self.generator.clone();
                let addr = generator.generate();
                UnderlayPlan {
                    addr,
                    generator: Some(generator),
                }
            }
        };
        if self.table.map.contains_key(&plan.addr) || self.table.map.len() >= self.table.capacity {
            return Err(ServiceError::VnfInsert);
        }
        Ok(plan)
    }

    /// Registers a planned address (no other registration may happen in between).
    pub fn commit(&mut self, plan: UnderlayPlan, vnf: Vnf) -> Ipv6Addr {
        if let Some(generator) = plan.generator {
            self.generator = generator;
        }
        self.table.map.insert(plan.addr, vnf);
        plan.addr
    }

    /// Forgets an address.
    pub fn release(&mut self, addr: &Ipv6Addr) -> Option<Vnf> {
        self.table.map.remove(addr)
    }

    /// The object behind `addr`.
    pub fn lookup(&self, addr: &Ipv6Addr) -> Option<&Vnf> {
        self.table.map.get(addr)
    }

    /// The registry.
    pub fn table(&self) -> &VnfTable {
        &self.table
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn host() -> Ipv6Addr {
        "fc00:1::1".parse().unwrap()
    }

    fn vnf() -> Vnf {
        Vnf {
            kind: VnfKind::Interface,
            port: Some(2),
            vni: 100,
            prefix: None,
        }
    }

    #[test]
    fn deterministic_addresses_follow_upstream_test_build() {
        let mut g = UnderlayGenerator::new(host(), true, 42);
        assert_eq!(g.generate().to_string(), "fc00:1::d000:1:0:1");
        assert_eq!(g.generate().to_string(), "fc00:1::d000:1:0:2");
        // only the host's /64 is used, whatever the rest of --ipv6 holds
        let mut g = UnderlayGenerator::new("fc00:1:2:3:4:5:6:7".parse().unwrap(), true, 0);
        assert_eq!(g.generate().to_string(), "fc00:1:2:3:d000:1:0:1");
    }

    #[test]
    fn random_addresses_keep_the_fixed_bytes() {
        let mut g = UnderlayGenerator::new(host(), false, 7);
        let first = g.generate().octets();
        let second = g.generate().octets();
        for b in [first, second] {
            assert_eq!(b[..8], host().octets()[..8]);
            assert_eq!((b[8], b[9], b[10]), (0xd0, 0, 0));
        }
        let c1 = u32::from_be_bytes([first[12], first[13], first[14], first[15]]);
        let c2 = u32::from_be_bytes([second[12], second[13], second[14], second[15]]);
        assert!(
            (1..=256).contains(&c1),
            "counter starts at 0..255 + 1, got {c1}"
        );
        assert_eq!(c2, c1 + 1);
        // another seed gives another series
        let mut other = UnderlayGenerator::new(host(), false, 8);
        let a: Vec<_> = (0..4).map(|_| other.generate()).collect();
        let mut g = UnderlayGenerator::new(host(), false, 7);
        let b: Vec<_> = (0..4).map(|_| g.generate()).collect();
        assert_ne!(a, b);
    }

    #[test]
    fn preferred_underlay_rules() {
        let ok = |s: &str| is_valid_preferred_underlay(host(), s.parse().unwrap());
        assert!(ok("fc00:1::8000:0:1"));
        assert!(ok("fc00:1::c000:0:2"));
        assert!(ok("::"));
        assert!(!ok("fc00:1::d000:1:0:1"), "flag bit clear");
        assert!(!ok("fc00:2::8000:0:1"), "other /64");
    }

    #[test]
    fn plan_and_commit() {
        let mut u = Underlays::new(UnderlayGenerator::new(host(), true, 0), 2);
        let plan = u.plan(None).unwrap();
        assert_eq!(plan.addr().to_string(), "fc00:1::d000:1:0:1");
        // a plan that is dropped does not consume the address
        let _ = plan;
        let plan = u.plan(None).unwrap();
        let a = u.commit(plan, vnf());
        assert_eq!(a.to_string(), "fc00:1::d000:1:0:1");
        assert_eq!(u.lookup(&a), Some(&vnf()));
        // collision with a held address
        assert_eq!(u.plan(Some(a)).unwrap_err(), ServiceError::VnfInsert);
        // `::` means generate
        let plan = u.plan(Some(Ipv6Addr::UNSPECIFIED)).unwrap();
        assert_eq!(plan.addr().to_string(), "fc00:1::d000:1:0:2");
        let b = u.commit(plan, vnf());
        // full
        assert_eq!(
            u.plan(Some("fc00:1::8000:0:1".parse().unwrap()))
                .unwrap_err(),
            ServiceError::VnfInsert
        );
        assert!(u.release(&b).is_some());
        assert!(u.plan(Some("fc00:1::8000:0:1".parse().unwrap())).is_ok());
        assert_eq!(u.table().len(), 1);
    }
}
