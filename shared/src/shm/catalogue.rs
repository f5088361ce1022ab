//! The state tables of dataplane.md §18 as typed, plain-data keys and values, in
//! telemetry registration order, with typed accessors.
//!
//! Conventions of every struct here: `#[repr(C)]`, no implicit padding (explicit `pad*`
//! fields, always zero, so equal keys are equal bytes: build keys with
//! `..Zeroable::zeroed()`), host byte order unless a field says "network order".
//! Addresses that may be IPv4 or IPv6 are 16 bytes plus an `is_v6` flag in the §19.2
//! form (see [`addr_to_bytes`]); IPv4-only fields are the address as a host integer
//! (`Ipv4Addr::to_bits`); underlay addresses are 16 bytes in network order. Ids are
//! 64-byte NUL-padded byte strings ([`IdKey`]). Any change here changes the region
//! layout: bump `header::LAYOUT_VERSION`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytemuck::{Pod, Zeroable};

use super::region::{LayoutError, Region, RegionBuilder, WritableRegion};
use super::table::{TableError, TableReader, TableWriter};

/// A table of the catalogue: its daemon name (without NUMA suffix), inspect name and
/// nominal capacity, and its key and value types.
pub trait CatalogueTable {
    /// Key type.
    type Key: Pod + Eq;
    /// Value type.
    type Value: Pod;
    /// Daemon (telemetry) name.
    const NAME: &'static str;
    /// `dpservice-inspect -t` name, if inspectable.
    const SHORT: &'static str;
    /// Nominal capacity (telemetry `capacity`).
    const CAPACITY: u64;
}

macro_rules! tables {
    ($($(#[$doc:meta])* $ty:ident: $name:literal, $short:literal, $cap:literal, $k:ty => $v:ty;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $ty;
            impl CatalogueTable for $ty {
                type Key = $k;
                type Value = $v;
                const NAME: &'static str = $name;
                const SHORT: &'static str = $short;
                const CAPACITY: u64 = $cap;
            }
        )*
        /// Name, inspect name and capacity of the fixed tables, in registration order.
        pub const TABLES: &[TableDescription] = &[
            $(TableDescription { name: $name, short: $short, capacity: $cap },)*
        ];
        fn add_fixed(builder: &mut RegionBuilder) -> Result<(), LayoutError> {
            $(builder.table::<$k, $v>($name, $cap)?;)*
            Ok(())
        }
    };
}

/// One entry of [`TABLES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableDescription {
    /// Daemon name.
    pub name: &'static str,
    /// Inspect name.
    pub short: &'static str,
    /// Nominal capacity.
    pub capacity: u64,
}

tables! {
    /// Flows: both direction keys of every connection.
    Conntrack: "conntrack_table", "conntrack", 850_000, FlowKey => FlowEntry;
    /// Interfaces by id.
    Interfaces: "interface_table", "iface", 128, IdKey => InterfaceValue;
    /// Source NAT and VIP per VM address.
    Snat: "snat_table", "snat", 4032, Ipv4VniKey => SnatValue;
    /// Destination NAT: VIPs and NAT addresses.
    Dnat: "dnat_table", "dnat", 4032, Ipv4VniKey => DnatValue;
    /// NAT port map: VM source (VNI, address, port) to NAT port.
    NatPortmap: "nat_portmap_table", "portmap", 850_000, PortmapKey => PortmapValue;
    /// NAT port overload: which NAT port talks to which destination.
    NatPortoverload: "nat_portoverload_table", "portoverload", 850_000, PortoverloadKey => PortoverloadValue;
    /// Load balancers by (VNI, address).
    LoadBalancers: "loadbalancer_table", "lb", 256, LbKey => LbValue;
    /// Load balancers by id.
    LoadBalancerIds: "loadbalancer_id_table", "lb_id", 256, IdKey => LbKey;
    /// VNIs in use.
    Vnis: "vni_table", "vni", 512, VniKey => VniValue;
    /// VNFs by underlay address.
    Vnfs: "vnf_table", "vnf", 1000, VnfKey => VnfValue;
    /// Underlay address by VNF.
    ReverseVnfs: "reverse_vnf_table", "vnf_rev", 1000, VnfValue => VnfKey;
}

/// Capacity of each `virtsvc_table_<i>`.
pub const VIRTSVC_CAPACITY: u64 = 64_512;

/// Name of the connection table of virtual service `index`.
pub fn virtsvc_name(index: usize) -> String {
    format!("virtsvc_table_{index}")
}

/// The standard set of tables.
#[derive(Debug, Clone, Copy)]
pub struct Catalogue;

impl Catalogue {
    /// Declares every table on `builder` in telemetry registration order: one
    /// `virtsvc_table_<i>` per configured virtual service first, then the fixed tables.
    pub fn standard(
        builder: &mut RegionBuilder,
        virtual_services: usize,
    ) -> Result<(), LayoutError> {
        for i in 0..virtual_services {
            builder.table::<VirtsvcKey, VirtsvcValue>(&virtsvc_name(i), VIRTSVC_CAPACITY)?;
        }
        add_fixed(builder)
    }

    /// The writer of table `T`.
    pub fn writer<T: CatalogueTable>(
        region: &WritableRegion,
    ) -> Result<TableWriter<T::Key, T::Value>, TableError> {
        region.writer(T::NAME)
    }

    /// A reader of table `T`.
    pub fn reader<T: CatalogueTable>(
        region: &Region,
    ) -> Result<TableReader<T::Key, T::Value>, TableError> {
        region.reader(T::NAME)
    }

    /// The writer of virtual service `index`'s table.
    pub fn virtsvc_writer(
        region: &WritableRegion,
        index: usize,
    ) -> Result<TableWriter<VirtsvcKey, VirtsvcValue>, TableError> {
        region.writer(&virtsvc_name(index))
    }

    /// A reader of virtual service `index`'s table.
    pub fn virtsvc_reader(
        region: &Region,
        index: usize,
    ) -> Result<TableReader<VirtsvcKey, VirtsvcValue>, TableError> {
        region.reader(&virtsvc_name(index))
    }
}

/// An address in §19.2 form: IPv4 as its integer in little-endian bytes then 12 zero
/// bytes; IPv6 in network order. Answers the bytes and the `is_v6` flag.
pub fn addr_to_bytes(ip: IpAddr) -> ([u8; 16], u8) {
    match ip {
        IpAddr::V4(v4) => {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&v4.to_bits().to_le_bytes());
            (b, 0)
        }
        IpAddr::V6(v6) => (v6.octets(), 1),
    }
}

/// The inverse of [`addr_to_bytes`] (any non-zero flag means IPv6).
pub fn addr_from_bytes(bytes: [u8; 16], is_v6: u8) -> IpAddr {
    if is_v6 != 0 {
        IpAddr::V6(Ipv6Addr::from(bytes))
    } else {
        IpAddr::V4(Ipv4Addr::from_bits(u32::from_le_bytes([
            bytes[0], bytes[1], bytes[2], bytes[3],
        ])))
    }
}

/// An id longer than 64 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("ids are at most 64 bytes, this one has {0}")]
pub struct IdTooLong(pub usize);

/// An interface or load-balancer id: up to 64 bytes, NUL-padded (not necessarily UTF-8).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Pod, Zeroable)]
pub struct IdKey {
    /// The id bytes, NUL-padded.
    pub id: [u8; 64],
}

impl IdKey {
    /// The key of an id.
    pub fn new(id: &[u8]) -> Result<IdKey, IdTooLong> {
        let mut key = IdKey::zeroed();
        key.id
            .get_mut(..id.len())
            .ok_or(IdTooLong(id.len()))?
            .copy_from_slice(id);
        Ok(key)
    }

    /// The id without its padding.
    pub fn as_bytes(&self) -> &[u8] {
        let end = self
            .id
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.id.len());
        &self.id[..end]
    }
}

/// Flow key, byte for byte the 44-byte §19.2 layout (on little-endian hosts).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Pod, Zeroable)]
pub struct FlowKey {
    /// Destination address (§19.2 form).
    pub l3_dst: [u8; 16],
    /// 1 if `l3_dst` is IPv6.
    pub dst_is_v6: u8,
    /// IP protocol.
    pub proto: u8,
    /// Destination port; ICMP: identifier.
    pub port_dst: u16,
    /// Source address (§19.2 form).
    pub l3_src: [u8; 16],
    /// 1 if `l3_src` is IPv6.
    pub src_is_v6: u8,
    /// VNF type (0 undefined, 1 interface, 2 VIP, 3 NAT, 4 LB, 5 LB prefix, 6 alias prefix).
    pub vnf_type: u8,
    /// Source port; ICMP: message type.
    pub src: u16,
    /// VNI.
    pub vni: u32,
}

/// Words of a [`FlowKey`] as the flow table compares and hashes them.
pub const FLOW_KEY_WORDS: usize = size_of::<FlowKey>().div_ceil(8);

impl FlowKey {
    /// The key's words ([`crate::shm::table::key_words`]) computed from its fields, not
    /// read from its bytes: built in the packet path from values in registers, a key
    /// then needs no trip through memory before its lookup.
    #[inline(always)]
    pub fn words(&self) -> [u64; FLOW_KEY_WORDS] {
        let word = |b: [u8; 8]| u64::from_ne_bytes(b);
        let (d, s) = (&self.l3_dst, &self.l3_src);
        let [pd0, pd1] = self.port_dst.to_ne_bytes();
        let [ps0, ps1] = self.src.to_ne_bytes();
        let [v0, v1, v2, v3] = self.vni.to_ne_bytes();
        [
            word([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]),
            word([d[8], d[9], d[10], d[11], d[12], d[13], d[14], d[15]]),
            word([self.dst_is_v6, self.proto, pd0, pd1, s[0], s[1], s[2], s[3]]),
            word([s[4], s[5], s[6], s[7], s[8], s[9], s[10], s[11]]),
            word([
                s[12],
                s[13],
                s[14],
                s[15],
                self.src_is_v6,
                self.vnf_type,
                ps0,
                ps1,
            ]),
            word([v0, v1, v2, v3, 0, 0, 0, 0]),
        ]
    }

    /// The key whose words are `words` (the inverse of [`FlowKey::words`]; the last
    /// word's padding is ignored).
    #[inline(always)]
    pub fn from_words(words: &[u64; FLOW_KEY_WORDS]) -> FlowKey {
        let bytes = bytemuck::bytes_of(words);
        bytes
            .get(..size_of::<FlowKey>())
            .map_or_else(FlowKey::zeroed, bytemuck::pod_read_unaligned)
    }
}

/// Flow entry (§7.3), stored under each of the flow's two keys; the writer keeps both
/// copies equal except `direction`, and `other_key` names the other copy so aging
/// removes both. Also the per-flow cache of what later packets need.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Pod, Zeroable)]
pub struct FlowEntry {
    /// The key of the other direction.
    pub other_key: FlowKey,
    /// Port id of the port that created the flow.
    pub port_id: u16,
    /// TCP state (0 none, 1 syn, 2 synack, 3 est, 4 finwait, 5 rstfin).
    pub tcp_state: u8,
    /// Flow flags (0x01 SNAT … 0x40 DNAT forward, tools.md §2.4).
    pub flags: u8,
    /// 1 once aged out (kept for inspection until removed).
    pub aged: u8,
    /// This key's direction: 0 original, 1 reply.
    pub direction: u8,
    /// Direction of the first SYN.
    pub first_syn_dir: u8,
    /// NAT type (none, VIP, network-local, network-neighbour, …).
    pub nat_type: u8,
    /// Offload state.
    pub offload_state: u8,
    /// Firewall verdict, original direction.
    pub fw_verdict_org: u8,
    /// Firewall verdict, reply direction.
    pub fw_verdict_reply: u8,
    /// L4 type of the NAT info.
    pub l4_type: u8,
    /// Timeout in seconds.
    pub timeout_s: u32,
    /// State version the cached routing result (`out_port`, `underlay_dst`,
    /// `next_hop_mac`, `route_info`) was taken at; another version means "route again".
    pub route_gen: u32,
    /// Last packet, ns of CLOCK_MONOTONIC.
    pub last_seen_ns: u64,
    /// jhash of the original key (§19.2), for WCMP/Maglev choices.
    pub flow_hash: u32,
    /// VNI of the NAT info.
    pub nat_vni: u32,
    /// Translated address (§19.2 form).
    pub nat_ip: [u8; 16],
    /// Translated port.
    pub nat_port: u16,
    /// Routing result: target port id (0xFFFF none).
    pub out_port: u16,
    /// Stored IPv4 checksum of an ICMP error's inner header.
    pub icmp_err_cksum: u16,
    /// 1 if `nat_ip` is IPv6.
    pub nat_is_v6: u8,
    /// Cached routing result of this key's direction: bit 0 valid, bit 1 south-north
    /// (default route).
    pub route_info: u8,
    /// Underlay destination (network order).
    pub underlay_dst: [u8; 16],
    /// Next-hop MAC of the routing result.
    pub next_hop_mac: [u8; 6],
    /// Zero.
    pub pad1: [u8; 2],
    /// Cached routing result of this key's direction: the tunnel's next hop (network
    /// order) when the route leads to an uplink.
    pub route_underlay: [u8; 16],
    /// Cached routing result: the route's target VNI.
    pub route_vni: u32,
    /// Zero.
    pub pad2: u32,
}

/// The daemon's port of an interface.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Pod, Zeroable)]
pub struct InterfaceValue {
    /// Port id.
    pub port_id: u16,
    /// Zero.
    pub pad0: [u8; 2],
    /// VNI.
    pub vni: u32,
    /// IPv4 (host integer).
    pub ipv4: u32,
    /// IPv6 (network order).
    pub ipv6: [u8; 16],
    /// MAC of the VM.
    pub mac: [u8; 6],
    /// Zero.
    pub pad1: [u8; 2],
    /// Underlay address (network order).
    pub underlay: [u8; 16],
}

/// (IPv4, VNI): the key of `snat_table` and `dnat_table`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Pod, Zeroable)]
pub struct Ipv4VniKey {
    /// IPv4 (host integer).
    pub ip: u32,
    /// VNI.
    pub vni: u32,
}

/// Source NAT and VIP of a VM address.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Pod, Zeroable)]
pub struct SnatValue {
    /// VIP (0 none).
    pub vip_ip: u32,
    /// NAT address (0 none).
    pub nat_ip: u32,
    /// First NAT port.
    pub min_port: u16,
    /// End of the NAT port range (exclusive).
    pub max_port: u16,
    /// VIP underlay (network order).
    pub vip_underlay: [u8; 16],
    /// NAT underlay (network order).
    pub nat_underlay: [u8; 16],
    /// Zero.
    pub pad0: u32,
    /// Last NAT-exhaustion log, ns of CLOCK_MONOTONIC.
    pub log_timestamp_ns: u64,
}

/// Target of a destination NAT.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Pod, Zeroable)]
pub struct DnatValue {
    /// Target IPv4 (host integer); 0 for network-NAT addresses.
    pub target_ip: u32,
}

/// NAT port-map key (§16.2 fields; one pad byte keeps the port aligned).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Pod, Zeroable)]
pub struct PortmapKey {
    /// VNI.
    pub vni: u32,
    /// VM source address (§19.2 form).
    pub addr: [u8; 16],
    /// 1 if IPv6.
    pub is_v6: u8,
    /// Zero.
    pub pad0: u8,
    /// VM source port (ICMP: identifier).
    pub port: u16,
}

/// NAT port of a VM source.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Pod, Zeroable)]
pub struct PortmapValue {
    /// NAT IPv4 (host integer).
    pub nat_ip: u32,
    /// NAT port.
    pub nat_port: u16,
    /// Zero.
    pub pad0: u16,
    /// Flows using it.
    pub flow_count: u32,
}

/// NAT port overload key (§16.2 fields, reordered for alignment).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Pod, Zeroable)]
pub struct PortoverloadKey {
    /// NAT IPv4 (host integer).
    pub nat_ip: u32,
    /// Destination IPv4 (host integer).
    pub dst_ip: u32,
    /// NAT port.
    pub nat_port: u16,
    /// Destination port (ICMP: identifier).
    pub dst_port: u16,
    /// L4 protocol.
    pub proto: u8,
    /// Zero.
    pub pad0: [u8; 3],
}

/// What HA sync needs to recreate the NAT on a standby.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Pod, Zeroable)]
pub struct PortoverloadValue {
    /// Creating port id.
    pub port_id: u16,
    /// ICMP type of the original packet.
    pub icmp_type: u16,
    /// Original IPv4 header checksum (network order).
    pub ip_cksum: [u8; 2],
    /// Zero.
    pub pad0: u16,
}

/// (VNI, address) of a load balancer.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Pod, Zeroable)]
pub struct LbKey {
    /// VNI.
    pub vni: u32,
    /// Address (§19.2 form).
    pub addr: [u8; 16],
    /// 1 if IPv6.
    pub is_v6: u8,
    /// Zero.
    pub pad0: [u8; 3],
}

/// A load-balanced port.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Pod, Zeroable)]
pub struct LbPort {
    /// Port (0 = unused slot).
    pub port: u16,
    /// IP protocol.
    pub protocol: u8,
    /// Zero.
    pub pad0: u8,
}

/// Most targets of a load balancer.
pub const LB_MAX_TARGETS: usize = 64;
/// Size of the Maglev lookup table.
pub const MAGLEV_SIZE: usize = 503;
/// Maglev slot without a target.
pub const MAGLEV_EMPTY: u16 = u16::MAX;

/// A load balancer.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Pod, Zeroable)]
pub struct LbValue {
    /// Id (NUL-padded).
    pub id: [u8; 64],
    /// Ports.
    pub ports: [LbPort; 16],
    /// Target underlay addresses (network order); the first `target_count` are used.
    pub targets: [[u8; 16]; LB_MAX_TARGETS],
    /// Maglev table: index into `targets`, or [`MAGLEV_EMPTY`].
    pub maglev: [u16; MAGLEV_SIZE],
    /// Targets in use.
    pub target_count: u16,
    /// The load balancer's underlay address (network order).
    pub underlay: [u8; 16],
}

/// A VNI.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Pod, Zeroable)]
pub struct VniKey {
    /// VNI.
    pub vni: u32,
}

/// State of a VNI.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Pod, Zeroable)]
pub struct VniValue {
    /// The VNI (inspect's `data_vni`).
    pub data_vni: u32,
    /// NUMA socket.
    pub socket: i32,
    /// References (interfaces, LBs, routes) keeping it alive.
    pub ref_count: u32,
    /// IPv4 routes.
    pub routes_v4: u32,
    /// IPv6 routes.
    pub routes_v6: u32,
    /// 1 if an IPv4 route table exists.
    pub has_rib_v4: u8,
    /// 1 if an IPv6 route table exists.
    pub has_rib_v6: u8,
    /// Zero.
    pub pad0: [u8; 2],
}

/// Underlay address of a VNF (network order).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Pod, Zeroable)]
pub struct VnfKey {
    /// Underlay IPv6.
    pub underlay: [u8; 16],
}

/// A VNF record.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Pod, Zeroable)]
pub struct VnfValue {
    /// VNF type (numbers as in [`FlowKey::vnf_type`]).
    pub vnf_type: u8,
    /// Prefix length.
    pub prefix_len: u8,
    /// Port id (65535: any).
    pub port_id: u16,
    /// VNI.
    pub vni: u32,
    /// Prefix address (§19.2 form).
    pub prefix: [u8; 16],
    /// 1 if IPv6.
    pub prefix_is_v6: u8,
    /// Zero.
    pub pad0: [u8; 3],
}

/// Virtual-service connection key (§19.3 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Pod, Zeroable)]
pub struct VirtsvcKey {
    /// VF port id.
    pub vf_port_id: u16,
    /// VM port (network order).
    pub vm_port: [u8; 2],
    /// VM IPv4 (network order).
    pub vm_ip: [u8; 4],
}

/// Slot of a virtual-service connection.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Pod, Zeroable)]
pub struct VirtsvcValue {
    /// Slot index.
    pub slot: u16,
    /// Zero.
    pub pad0: u16,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;

    #[test]
    fn sizes_match_the_spec_and_have_no_hidden_padding() {
        assert_eq!(size_of::<FlowKey>(), 44);
        assert_eq!(size_of::<FlowEntry>(), 152);
        assert_eq!(size_of::<IdKey>(), 64);
        assert_eq!(size_of::<Ipv4VniKey>(), 8);
        assert_eq!(size_of::<PortmapKey>(), 24);
        assert_eq!(size_of::<PortoverloadKey>(), 16);
        assert_eq!(size_of::<LbKey>(), 24);
        assert_eq!(size_of::<LbValue>(), 2176);
        assert_eq!(size_of::<VnfValue>(), 28);
        assert_eq!(size_of::<VirtsvcKey>(), 8);
    }

    /// The words built from the fields are the words of the key's bytes, and give the
    /// key back, for keys whose every byte differs from its neighbours'.
    #[test]
    fn flow_key_words_are_the_words_of_its_bytes() {
        for seed in 0u8..32 {
            let bytes: [u8; 44] = std::array::from_fn(|i| {
                (i as u8)
                    .wrapping_mul(37)
                    .wrapping_add(seed.wrapping_mul(91))
            });
            let key: FlowKey = bytemuck::pod_read_unaligned(&bytes);
            let from_bytes: Vec<u64> = crate::shm::table::key_words(&bytes).collect();
            assert_eq!(key.words().to_vec(), from_bytes, "seed {seed}");
            assert_eq!(FlowKey::from_words(&key.words()), key, "seed {seed}");
        }
    }

    /// §19.5's ICMP example key, byte for byte.
    #[test]
    fn flow_key_bytes_are_the_spec_layout() {
        let (dst, dst_v6) = addr_to_bytes(
            "10.100.2.102"
                .parse()
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        );
        let (src, src_v6) = addr_to_bytes(IpAddr::V4(Ipv4Addr::new(10, 100, 1, 1)));
        let key = FlowKey {
            l3_dst: dst,
            dst_is_v6: dst_v6,
            proto: 1,
            port_dst: 0,
            l3_src: src,
            src_is_v6: src_v6,
            vnf_type: 0,
            src: 8,
            vni: 100,
        };
        let mut expected = vec![0x66, 0x02, 0x64, 0x0a];
        expected.extend([0; 12]);
        expected.extend([0x00, 0x01, 0x00, 0x00, 0x01, 0x01, 0x64, 0x0a]);
        expected.extend([0; 12]);
        expected.extend([0x00, 0x00, 0x08, 0x00, 0x64, 0x00, 0x00, 0x00]);
        assert_eq!(bytemuck::bytes_of(&key), &expected[..]);
        assert_eq!(
            addr_from_bytes(key.l3_src, 0),
            IpAddr::V4(Ipv4Addr::new(10, 100, 1, 1))
        );
        let v6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0, 0, 1));
        let (b, f) = addr_to_bytes(v6);
        assert_eq!(addr_from_bytes(b, f), v6);
    }

    #[test]
    fn ids_are_nul_padded_byte_strings() {
        let key = IdKey::new(b"vm-1\xff").unwrap_or_else(|_| unreachable!());
        assert_eq!(key.as_bytes(), b"vm-1\xff");
        assert_eq!(key.id[5..], [0u8; 59]);
        assert!(IdKey::new(&[b'a'; 64]).is_ok());
        assert_eq!(IdKey::new(&[b'a'; 65]), Err(IdTooLong(65)));
    }

    #[test]
    fn catalogue_is_in_registration_order() {
        let names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
        assert_eq!(
            names,
            [
                "conntrack_table",
                "interface_table",
                "snat_table",
                "dnat_table",
                "nat_portmap_table",
                "nat_portoverload_table",
                "loadbalancer_table",
                "loadbalancer_id_table",
                "vni_table",
                "vnf_table",
                "reverse_vnf_table",
            ]
        );
        assert_eq!(Conntrack::CAPACITY, 850_000);
        assert_eq!(ReverseVnfs::SHORT, "vnf_rev");
    }
}
