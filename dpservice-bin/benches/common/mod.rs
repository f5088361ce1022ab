//! What the packet benches share: the port layout, the two VMs with a route to a
//! neighbour host that their state starts from, and the thread CPU clock the figures
//! are divided by. (Each bench uses a part of it.)

#![allow(dead_code, clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use dpservice::model::{CreateInterface, Metering, RequestPrefix, Route};
use dpservice_bin::port::PortId;
use dpservice_bin::state::{PortInfo, PortKind, State, StateConfig};
use dpservice_bin::wire::ethernet::MacAddr;

pub const PF0: PortId = 0;
pub const PF1: PortId = 1;
pub const VF0: PortId = 2;
pub const VF1: PortId = 3;
pub const HOST_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0, 0, 1);
pub const VM1_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0, 1);
pub const VM2_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0, 2);
pub const VM1_IP: Ipv4Addr = Ipv4Addr::new(10, 100, 1, 1);
pub const VM2_IP: Ipv4Addr = Ipv4Addr::new(10, 100, 1, 2);
/// Behind the route to the neighbour host (10.100.2.0/24).
pub const REMOTE_IP: Ipv4Addr = Ipv4Addr::new(10, 100, 2, 2);
/// The neighbour host's underlay address.
pub const NEIGHBOUR_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 2, 0, 0, 0, 0x64, 0, 1);

/// A VM MAC ending in `last`.
pub fn mac(last: u8) -> MacAddr {
    MacAddr([0x66, 0x66, 0x66, 0x66, 0x66, last])
}

/// An interface `id` on `dev` in `vni` with an IPv4 address and a preferred underlay.
pub fn iface(id: &str, dev: &str, vni: u32, ip: Ipv4Addr, ul: Ipv6Addr) -> CreateInterface {
    CreateInterface {
        id: id.into(),
        vni,
        ipv4: Some(ip),
        ipv6: None,
        pxe: None,
        device: dev.into(),
        metering: Metering::default(),
        preferred_underlay: Some(ul),
        hostname: None,
    }
}

/// pf0, pf1 and two VFs; vm1 (10.100.1.1) on vf0 and vm2 (10.100.1.2) on vf1 in VNI 100,
/// and a route from VNI 100 to 10.100.2.0/24 on the neighbour host.
pub fn two_vms() -> State {
    let info = |id, kind, name: &str| PortInfo {
        id,
        device: format!("net_tap{id}"),
        kernel_name: name.into(),
        kind,
    };
    let ports = vec![
        info(PF0, PortKind::Pf0, "dtap0"),
        info(PF1, PortKind::Pf1, "dtap1"),
        info(VF0, PortKind::Vf, "dtapvf_0"),
        info(VF1, PortKind::Vf, "dtapvf_1"),
    ];
    let mut s = State::new(StateConfig::new(HOST_UL, ports));
    for (id, dev, ip, ul) in [
        ("vm1", "net_tap2", VM1_IP, VM1_UL),
        ("vm2", "net_tap3", VM2_IP, VM2_UL),
    ] {
        s.create_interface(iface(id, dev, 100, ip, ul)).unwrap();
    }
    s.create_route(&Route {
        vni: 100,
        prefix: RequestPrefix::new(IpAddr::V4(Ipv4Addr::new(10, 100, 2, 0)), 24),
        nexthop_vni: 100,
        nexthop: IpAddr::V6(NEIGHBOUR_UL),
    })
    .unwrap();
    s
}

/// CPU time of the calling thread (utime + stime, clock ticks of 10 ms).
pub fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // fields after the parenthesised command name; utime and stime are fields 14 and 15
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((field(11) + field(12)) * 10)
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
