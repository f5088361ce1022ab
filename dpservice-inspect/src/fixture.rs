//! Known table contents in a region of its own, for tests and benchmarks: a stand-in
//! daemon instance (`/dev/shm/dpservice_<prefix>`, removed when dropped) whose tables
//! hold one or two entries of every kind, or many flows.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicU32, Ordering};

use bytemuck::Zeroable;
use dpservice::instance::Instance;
use dpservice::shm::catalogue::{
    self, addr_to_bytes, Catalogue, DnatValue, FlowEntry, FlowKey, IdKey, InterfaceValue,
    Ipv4VniKey, LbKey, LbPort, LbValue, PortmapKey, PortmapValue, PortoverloadKey,
    PortoverloadValue, SnatValue, VnfKey, VnfValue, VniKey, VniValue, MAGLEV_EMPTY,
};
use dpservice::shm::{RegionBuilder, WritableRegion};

/// Why a fixture could not be made.
pub type FixtureError = Box<dyn std::error::Error + Send + Sync>;

/// A region under a unique instance prefix; the file goes when this is dropped.
#[derive(Debug)]
pub struct Fixture {
    /// The instance whose region this is.
    pub instance: Instance,
    /// The region, writable.
    pub region: WritableRegion,
}

impl Fixture {
    /// An empty region with the standard tables on NUMA socket `socket`.
    pub fn new(socket: i32) -> Result<Fixture, FixtureError> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let prefix = format!(
            "insp{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        Fixture::at(Instance::new(&prefix)?, socket)
    }

    /// An empty region for `instance` (replacing any there).
    pub fn at(instance: Instance, socket: i32) -> Result<Fixture, FixtureError> {
        let mut builder = RegionBuilder::new().numa_socket(socket).hash_seed(7);
        Catalogue::standard(&mut builder, 0)?;
        let region = builder.create(&instance.shm_path())?;
        Ok(Fixture { instance, region })
    }

    /// A region with only a conntrack table of `capacity` entries (benchmarks beyond
    /// the standard capacity); the other tables are absent.
    pub fn conntrack_only(capacity: u64) -> Result<Fixture, FixtureError> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let prefix = format!(
            "inspc{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let instance = Instance::new(&prefix)?;
        let mut builder = RegionBuilder::new().hash_seed(7);
        builder.table::<FlowKey, FlowEntry>("conntrack_table", capacity)?;
        let region = builder.create(&instance.shm_path())?;
        Ok(Fixture { instance, region })
    }

    /// One or two entries in every table (the golden tests' state), flows last seen
    /// `age_s` seconds before `now_ns`.
    pub fn populate(&self, now_ns: u64, age_s: u64) -> Result<(), FixtureError> {
        let r = &self.region;
        let (vm1, vm2) = (v4(10, 100, 1, 1), v4(10, 100, 1, 2));
        let mut conntrack = Catalogue::writer::<catalogue::Conntrack>(r)?;
        let (org, reply) = flow_keys(IpAddr::V4(vm1), 43512, IpAddr::V4(vm2), 80, 6, 100);
        let mut entry = FlowEntry::zeroed();
        entry.port_id = 2;
        entry.tcp_state = 3;
        entry.flags = 0x20;
        entry.timeout_s = 86400;
        entry.last_seen_ns = now_ns.saturating_sub(age_s * 1_000_000_000 + 500_000_000);
        entry.out_port = 3;
        entry.other_key = reply;
        conntrack.insert(org, entry)?;
        entry.other_key = org;
        entry.direction = 1;
        conntrack.insert(reply, entry)?;
        let v6 = |s: &str| s.parse::<Ipv6Addr>().unwrap_or(Ipv6Addr::UNSPECIFIED);
        let (icmp, _) = flow_keys(
            IpAddr::V6(v6("2001:db8::1")),
            128,
            IpAddr::V6(v6("2001:db8::2")),
            7,
            58,
            200,
        );
        let mut icmp_entry = FlowEntry::zeroed();
        icmp_entry.port_id = 3;
        icmp_entry.timeout_s = 30;
        // a flow whose reply key is its own key: one reference
        icmp_entry.other_key = icmp;
        icmp_entry.aged = 1;
        icmp_entry.flags = 0x01;
        icmp_entry.last_seen_ns = entry.last_seen_ns;
        conntrack.insert(icmp, icmp_entry)?;

        let mut ifaces = Catalogue::writer::<catalogue::Interfaces>(r)?;
        for (id, port, ip) in [("vm1", 2u16, vm1), ("vm2", 3, vm2)] {
            let mut v = InterfaceValue::zeroed();
            v.port_id = port;
            v.vni = 100;
            v.ipv4 = ip.to_bits();
            ifaces.insert(IdKey::new(id.as_bytes())?, v)?;
        }
        // an id that needs escaping in json
        let mut odd = InterfaceValue::zeroed();
        odd.port_id = 4;
        ifaces.insert(IdKey::new(b"vm\"3\\x")?, odd)?;

        let mut snat = Catalogue::writer::<catalogue::Snat>(r)?;
        let mut s = SnatValue::zeroed();
        s.nat_ip = v4(172, 21, 1, 1).to_bits();
        s.min_port = 100;
        s.max_port = 102;
        s.nat_underlay = v6("fc00:1::d000:0:0:3").octets();
        snat.insert(key4(vm1, 100), s)?;

        let mut dnat = Catalogue::writer::<catalogue::Dnat>(r)?;
        dnat.insert(
            key4(v4(172, 20, 0, 1), 100),
            DnatValue {
                target_ip: vm1.to_bits(),
            },
        )?;

        let mut portmap = Catalogue::writer::<catalogue::NatPortmap>(r)?;
        let (addr, is_v6) = addr_to_bytes(IpAddr::V4(vm1));
        portmap.insert(
            PortmapKey {
                vni: 100,
                addr,
                is_v6,
                pad0: 0,
                port: 43512,
            },
            PortmapValue {
                nat_ip: v4(172, 21, 1, 1).to_bits(),
                nat_port: 100,
                pad0: 0,
                flow_count: 1,
            },
        )?;
        let mut overload = Catalogue::writer::<catalogue::NatPortoverload>(r)?;
        overload.insert(
            PortoverloadKey {
                nat_ip: v4(172, 21, 1, 1).to_bits(),
                dst_ip: v4(45, 86, 6, 6).to_bits(),
                nat_port: 100,
                dst_port: 443,
                proto: 6,
                pad0: [0; 3],
            },
            PortoverloadValue::zeroed(),
        )?;

        let lb_ip = IpAddr::V4(v4(10, 20, 30, 40));
        let (addr, is_v6) = addr_to_bytes(lb_ip);
        let lb_key = LbKey {
            vni: 100,
            addr,
            is_v6,
            pad0: [0; 3],
        };
        let mut lb = LbValue::zeroed();
        lb.id[..3].copy_from_slice(b"lb1");
        lb.ports[0] = LbPort {
            port: 80,
            protocol: 6,
            pad0: 0,
        };
        lb.targets[0] = v6("fc00:2::64").octets();
        lb.target_count = 1;
        lb.maglev = [MAGLEV_EMPTY; catalogue::MAGLEV_SIZE];
        lb.maglev[..10].fill(0);
        lb.underlay = v6("fc00:1::d000:0:0:5").octets();
        Catalogue::writer::<catalogue::LoadBalancers>(r)?.insert(lb_key, lb)?;
        Catalogue::writer::<catalogue::LoadBalancerIds>(r)?.insert(IdKey::new(b"lb1")?, lb_key)?;

        let mut vnis = Catalogue::writer::<catalogue::Vnis>(r)?;
        vnis.insert(
            VniKey { vni: 100 },
            VniValue {
                data_vni: 100,
                socket: -1,
                ref_count: 3,
                routes_v4: 2,
                routes_v6: 0,
                has_rib_v4: 1,
                has_rib_v6: 0,
                pad0: [0; 2],
            },
        )?;

        let (prefix, prefix_is_v6) = addr_to_bytes(IpAddr::V4(vm1));
        let vnf = VnfValue {
            vnf_type: 1,
            prefix_len: 32,
            port_id: 2,
            vni: 100,
            prefix,
            prefix_is_v6,
            pad0: [0; 3],
        };
        let ul = VnfKey {
            underlay: v6("fc00:1::d000:0:0:1").octets(),
        };
        Catalogue::writer::<catalogue::Vnfs>(r)?.insert(ul, vnf)?;
        Catalogue::writer::<catalogue::ReverseVnfs>(r)?.insert(vnf, ul)?;
        Ok(())
    }

    /// `count` TCP flows (one key each) in the conntrack table.
    pub fn fill_conntrack(&self, count: u32, now_ns: u64) -> Result<(), FixtureError> {
        let mut conntrack = Catalogue::writer::<catalogue::Conntrack>(&self.region)?;
        let mut entry = FlowEntry::zeroed();
        entry.port_id = 2;
        entry.tcp_state = 3;
        entry.flags = 0x20;
        entry.timeout_s = 86400;
        entry.last_seen_ns = now_ns;
        for i in 0..count {
            conntrack.insert(bulk_flow_key(i), entry)?;
        }
        Ok(())
    }
}

/// The key of flow `i` of [`Fixture::fill_conntrack`].
pub fn bulk_flow_key(i: u32) -> FlowKey {
    let src = IpAddr::V4(Ipv4Addr::from_bits(0x0a00_0000 | (i >> 16)));
    flow_keys(
        src,
        (i & 0xffff) as u16,
        IpAddr::V4(v4(10, 200, 0, 1)),
        443,
        6,
        100,
    )
    .0
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

fn key4(ip: Ipv4Addr, vni: u32) -> Ipv4VniKey {
    Ipv4VniKey {
        ip: ip.to_bits(),
        vni,
    }
}

/// The original and reply keys of a flow.
fn flow_keys(
    src: IpAddr,
    sport: u16,
    dst: IpAddr,
    dport: u16,
    proto: u8,
    vni: u32,
) -> (FlowKey, FlowKey) {
    let key = |a: IpAddr, ap: u16, b: IpAddr, bp: u16| {
        let (l3_src, src_is_v6) = addr_to_bytes(a);
        let (l3_dst, dst_is_v6) = addr_to_bytes(b);
        FlowKey {
            l3_dst,
            dst_is_v6,
            proto,
            port_dst: bp,
            l3_src,
            src_is_v6,
            vnf_type: 0,
            src: ap,
            vni,
        }
    };
    (key(src, sport, dst, dport), key(dst, dport, src, sport))
}
