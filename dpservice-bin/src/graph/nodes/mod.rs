//! The nodes, one file each, named as upstream's (`src/nodes/*_node.c`). Every node is a
//! function `process(&mut Ctx, &mut Buf) -> Next` for one packet.
//! Stateful work reads and changes the packet's flow (`Ctx::flow`, set by `conntrack`);
//! NAT helpers live in `graph/nat/`, virtual services in `graph/virtsvc/`.

pub(crate) mod arp;
pub(crate) mod cls;
pub(crate) mod conntrack;
pub(crate) mod dhcp;
pub(crate) mod dhcpv6;
pub(crate) mod dnat;
pub(crate) mod firewall;
pub(crate) mod ipip_decap;
pub(crate) mod ipip_encap;
pub(crate) mod ipv4_lookup;
pub(crate) mod ipv6_lookup;
pub(crate) mod ipv6_nd;
pub(crate) mod lb;
pub(crate) mod meter;
pub(crate) mod packet_relay;
pub(crate) mod route;
pub(crate) mod rx_periodic;
pub(crate) mod snat;
pub(crate) mod virtsvc;

use std::net::Ipv4Addr;

use super::GraphConfig;

/// The IPv4 gateway every VM talks to.
pub(crate) const GATEWAY_V4: Ipv4Addr = Ipv4Addr::new(169, 254, 0, 1);
pub(crate) use crate::wire::ipv6::GATEWAY as GATEWAY_V6;

/// Values derived from the configuration once, so nodes do not rebuild them per packet.
#[derive(Debug, Clone)]
pub(crate) struct Consts {
    /// DHCP option 6 value: the `--dhcp-dns` addresses.
    pub dhcp_dns: Vec<u8>,
    /// DHCPv6 option 23 value: the `--dhcpv6-dns` addresses.
    pub dhcpv6_dns: Vec<u8>,
    /// DHCP option 121 value (RFC 3442).
    pub classless_routes: Vec<u8>,
}

impl Consts {
    pub fn new(cfg: &GraphConfig) -> Consts {
        let gw = GATEWAY_V4.octets();
        // 169.254.0.0/16 -> 0.0.0.0 (on-link), 0.0.0.0/0 -> gateway
        let mut routes = vec![16, 169, 254, 0, 0, 0, 0, 0];
        routes.extend_from_slice(&gw);
        if cfg.virtual_services {
            // 169.254.1.0/24 -> gateway: virtual services live there
            routes.extend_from_slice(&[24, 169, 254, 1]);
            routes.extend_from_slice(&gw);
        }
        Consts {
            dhcp_dns: cfg.dhcp_dns.iter().flat_map(|a| a.octets()).collect(),
            dhcpv6_dns: cfg.dhcpv6_dns.iter().flat_map(|a| a.octets()).collect(),
            classless_routes: routes,
        }
    }
}
