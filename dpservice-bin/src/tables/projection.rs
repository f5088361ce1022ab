//! What the configuration tables of dataplane.md §18 hold for a given [`State`]: one
//! function per table, each answering the complete desired content as catalogue
//! entries. The publisher compares them with the region and writes the difference.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytemuck::Zeroable;
use dpservice::shm::catalogue::{
    addr_to_bytes, DnatValue, IdKey, InterfaceValue, Ipv4VniKey, LbKey, LbPort, LbValue, SnatValue,
    VnfKey, VnfValue, VniKey, VniValue, LB_MAX_TARGETS, MAGLEV_EMPTY,
};

use crate::state::{DnatTarget, Lb, PortId, State, Vnf};

/// Port id meaning "any port" in VNF records (load balancers live on the uplinks).
pub const ANY_PORT: u16 = u16::MAX;

/// NUMA socket of every table on software ports (upstream: `SOCKET_ID_ANY`).
pub const SOCKET_ANY: i32 = -1;

/// The learned MAC of the VM behind a port, if any (the graph knows it, not the state).
pub type MacOf<'a> = &'a dyn Fn(PortId) -> Option<[u8; 6]>;

/// Ids longer than the key holds cannot exist (the gRPC layer refuses them); should one
/// appear, it is left out of the table rather than cut, so no other id is shadowed.
fn id_key(id: &[u8]) -> Option<IdKey> {
    IdKey::new(id).ok()
}

fn v4_bits(ip: Option<Ipv4Addr>) -> u32 {
    ip.map_or(0, Ipv4Addr::to_bits)
}

fn v6_bytes(ip: Option<Ipv6Addr>) -> [u8; 16] {
    ip.map_or([0; 16], |a| a.octets())
}

/// `interface_table`: interface id → its port and addresses.
pub fn interfaces(state: &State, mac_of: MacOf<'_>) -> Vec<(IdKey, InterfaceValue)> {
    state
        .interfaces()
        .filter_map(|(port, vf)| {
            let key = id_key(vf.interface_id.as_bytes())?;
            Some((
                key,
                InterfaceValue {
                    port_id: port,
                    vni: vf.vni,
                    ipv4: v4_bits(vf.ipv4),
                    ipv6: v6_bytes(vf.ipv6),
                    mac: mac_of(port).unwrap_or([0; 6]),
                    underlay: vf.underlay.octets(),
                    ..InterfaceValue::zeroed()
                },
            ))
        })
        .collect()
}

/// `snat_table`: (VM IPv4, VNI) → its VIP and NAT, for interfaces that have either.
pub fn snat(state: &State) -> Vec<(Ipv4VniKey, SnatValue)> {
    state
        .interfaces()
        .filter(|(_, vf)| vf.vip.is_some() || vf.nat.is_some())
        .map(|(_, vf)| {
            let key = Ipv4VniKey {
                ip: v4_bits(vf.ipv4),
                vni: vf.vni,
            };
            let mut value = SnatValue::zeroed();
            if let Some(vip) = vf.vip {
                value.vip_ip = vip.ip.to_bits();
                value.vip_underlay = vip.underlay.octets();
            }
            if let Some(nat) = vf.nat {
                value.nat_ip = nat.ip.to_bits();
                value.min_port = nat.min_port;
                value.max_port = nat.max_port;
                value.nat_underlay = nat.underlay.octets();
            }
            (key, value)
        })
        .collect()
}

/// `dnat_table`: (public IPv4, VNI) → the VM's IPv4 for a VIP, 0 for NAT addresses.
pub fn dnat(state: &State) -> Vec<(Ipv4VniKey, DnatValue)> {
    state
        .nat_tables()
        .dnat_entries()
        .map(|(&(ip, vni), target)| {
            let target_ip = match *target {
                DnatTarget::Vip { vm_ip, .. } => v4_bits(vm_ip),
                DnatTarget::Network => 0,
            };
            (
                Ipv4VniKey {
                    ip: ip.to_bits(),
                    vni,
                },
                DnatValue { target_ip },
            )
        })
        .collect()
}

fn lb_key(vni: u32, ip: IpAddr) -> LbKey {
    let (addr, is_v6) = addr_to_bytes(ip);
    LbKey {
        vni,
        addr,
        is_v6,
        ..LbKey::zeroed()
    }
}

fn lb_value(lb: &Lb) -> Option<LbValue> {
    let mut value = LbValue::zeroed();
    value.id = id_key(lb.id.as_bytes())?.id;
    for (slot, port) in value.ports.iter_mut().zip(&lb.ports) {
        *slot = LbPort {
            port: port.port,
            protocol: port.protocol.number(),
            ..LbPort::zeroed()
        };
    }
    for (slot, target) in value.targets.iter_mut().zip(&lb.targets) {
        *slot = target.octets();
    }
    value.target_count = u16::try_from(lb.targets.len().min(LB_MAX_TARGETS)).unwrap_or(0);
    let slots = lb.maglev.slots();
    for (i, slot) in value.maglev.iter_mut().enumerate() {
        *slot = slots.get(i).map_or(MAGLEV_EMPTY, |&t| u16::from(t));
    }
    value.underlay = lb.underlay.octets();
    Some(value)
}

/// `loadbalancer_table`: (VNI, address) → the load balancer.
pub fn load_balancers(state: &State) -> Vec<(LbKey, LbValue)> {
    state
        .load_balancers()
        .in_creation_order()
        .into_iter()
        .filter_map(|lb| Some((lb_key(lb.vni, lb.ip), lb_value(lb)?)))
        .collect()
}

/// `loadbalancer_id_table`: id → (VNI, address).
pub fn load_balancer_ids(state: &State) -> Vec<(IdKey, LbKey)> {
    state
        .load_balancers()
        .in_creation_order()
        .into_iter()
        .filter_map(|lb| Some((id_key(lb.id.as_bytes())?, lb_key(lb.vni, lb.ip))))
        .collect()
}

/// `vni_table`: every VNI in use, with its users and route counts.
pub fn vnis(state: &State) -> Vec<(VniKey, VniValue)> {
    state
        .vni_tables()
        .iter()
        .map(|(vni, tables)| {
            let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
            (
                VniKey { vni },
                VniValue {
                    data_vni: vni,
                    socket: SOCKET_ANY,
                    ref_count: tables.users(),
                    routes_v4: count(tables.v4().len()),
                    routes_v6: count(tables.v6().len()),
                    has_rib_v4: 1,
                    has_rib_v6: 1,
                    ..VniValue::zeroed()
                },
            )
        })
        .collect()
}

fn vnf_value(vnf: &Vnf) -> VnfValue {
    let mut value = VnfValue {
        vnf_type: vnf.kind.number(),
        port_id: vnf.port.unwrap_or(ANY_PORT),
        vni: vnf.vni,
        ..VnfValue::zeroed()
    };
    if let Some(prefix) = vnf.prefix {
        let (addr, is_v6) = addr_to_bytes(prefix.addr());
        value.prefix = addr;
        value.prefix_is_v6 = is_v6;
        value.prefix_len = prefix.len();
    }
    value
}

/// `vnf_table`: underlay address → the object behind it.
pub fn vnfs(state: &State) -> Vec<(VnfKey, VnfValue)> {
    state
        .vnf_table()
        .iter()
        .map(|(addr, vnf)| {
            (
                VnfKey {
                    underlay: addr.octets(),
                },
                vnf_value(vnf),
            )
        })
        .collect()
}

/// `reverse_vnf_table`: the object → its underlay address.
pub fn reverse_vnfs(state: &State) -> Vec<(VnfValue, VnfKey)> {
    vnfs(state).into_iter().map(|(k, v)| (v, k)).collect()
}
