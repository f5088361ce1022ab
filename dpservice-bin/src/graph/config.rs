//! Daemon options the packet path needs, as plain values (the command-line parser fills
//! them in).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use dpservice::shm::catalogue::CatalogueTable;

use crate::config::virtsvc::VirtualService;
use crate::config::NicType;

/// Packet-path configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphConfig {
    /// `--ipv6`: tunnel source for packets not tied to a VM.
    pub host_underlay: Ipv6Addr,
    /// `--dhcp-mtu` (DHCP option 26).
    pub dhcp_mtu: u16,
    /// `--dhcp-dns`, in order (DHCP option 6).
    pub dhcp_dns: Vec<Ipv4Addr>,
    /// `--dhcpv6-dns`, in order (DHCPv6 option 23).
    pub dhcpv6_dns: Vec<Ipv6Addr>,
    /// `--wcmp`: share of IPv4 tunnel egress on pf0, 0..=100.
    pub wcmp_percent: u8,
    /// `--enable-ipv6-overlay`: answer ND/RS and send periodic RA/NA.
    pub ipv6_overlay: bool,
    /// Behave like an upstream build with virtual services (adds the 169.254.1.0/24 route
    /// to DHCP option 121). The daemon lists `--udp-virtsvc` in `--help`, so it is one.
    pub virtual_services: bool,
    /// Packets per rx burst (upstream: 256). 128: a run of the graph and a turn of the
    /// worker cost ~3 400 instructions besides the packets' own (~170 each on DPDK
    /// ports), a fifth more per packet at 64; 256 measured no faster (a burst's mbufs,
    /// headers and frames, ~7 cache lines each, outgrow the L1 cache; BENCHMARKS.md).
    pub burst_size: usize,
    /// Packet buffers in the pool.
    pub pool_size: usize,
    /// `--flow-timeout`: idle timeout of every flow but an established TCP one (§7.4).
    pub flow_timeout: Duration,
    /// Virtual services configured (`--udp-virtsvc`, `--tcp-virtsvc`): one connection
    /// table each.
    pub virtual_services_count: usize,
    /// The virtual services themselves, in command-line order (`virtsvc_table_<i>` is
    /// the connection table of the i-th).
    pub virtual_service_list: Vec<VirtualService>,
    /// Keys the conntrack table holds when the graph makes its own tables (tests,
    /// benchmarks); the daemon's come from the region at the catalogue's capacity.
    pub conntrack_capacity: u64,
    /// `--nic-type`: the public-cap meter works on Mellanox only (dataplane.md §13).
    pub nic_type: NicType,
}

impl Default for GraphConfig {
    fn default() -> Self {
        GraphConfig {
            host_underlay: Ipv6Addr::UNSPECIFIED,
            dhcp_mtu: 1500,
            dhcp_dns: Vec::new(),
            dhcpv6_dns: Vec::new(),
            wcmp_percent: 100,
            ipv6_overlay: false,
            virtual_services: true,
            burst_size: 128,
            pool_size: 16 * 1024,
            flow_timeout: Duration::from_secs(30),
            virtual_services_count: 0,
            virtual_service_list: Vec::new(),
            conntrack_capacity: dpservice::shm::catalogue::Conntrack::CAPACITY,
            nic_type: NicType::Tap,
        }
    }
}
