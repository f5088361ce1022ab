//! Publishing the configuration tables: what a reader of the region sees after calls.

use std::net::{Ipv4Addr, Ipv6Addr};

use dpservice::instance::Instance;
use dpservice::model::{
    CreateInterface, CreateLoadBalancer, CreateNat, CreateVip, L4Protocol, LbPort,
    LoadBalancerTarget, Metering,
};
use dpservice::shm::catalogue::{self, Catalogue, IdKey, Ipv4VniKey, VniKey, MAGLEV_EMPTY};
use dpservice::shm::region::Region;

use super::*;
use crate::state::State;

/// A region of its own per test, removed when the tables are dropped.
fn tables(test: &str) -> SharedTables {
    let prefix = format!("t{}_{test}", std::process::id());
    let instance = Instance::new(&prefix[..prefix.len().min(31)]).unwrap();
    SharedTables::create(&instance, 1, 7).unwrap()
}

fn state() -> State {
    State::new(crate::state::tests::config())
}

fn iface(id: &str, device: &str, v4: &str) -> CreateInterface {
    let last = v4.rsplit('.').next().unwrap();
    CreateInterface {
        id: id.into(),
        vni: 100,
        ipv4: Some(v4.parse().unwrap()),
        ipv6: Some(format!("2001::{last}").parse().unwrap()),
        pxe: None,
        device: device.into(),
        metering: Metering::default(),
        preferred_underlay: None,
        hostname: None,
    }
}

fn no_macs(port: u16) -> Option<[u8; 6]> {
    (port == 2).then_some([2, 0, 0, 0, 0, 2])
}

fn v4(s: &str) -> u32 {
    s.parse::<Ipv4Addr>().unwrap().to_bits()
}

#[test]
fn a_reader_sees_what_the_calls_made_and_nothing_after_deletion() {
    let mut t = tables("calls");
    let mut s = state();
    let ul1 = s
        .create_interface(iface("vm1", "net_tap2", "10.0.0.1"))
        .unwrap();
    s.create_interface(iface("vm2", "net_tap3", "10.0.0.2"))
        .unwrap();
    let vip_ul = s
        .create_vip(&CreateVip {
            interface_id: "vm1".into(),
            ip: "172.20.0.1".parse().unwrap(),
            preferred_underlay: None,
        })
        .unwrap();
    s.create_nat(&CreateNat {
        interface_id: "vm2".into(),
        ip: "172.20.0.2".parse().unwrap(),
        min_port: 100,
        max_port: 200,
        preferred_underlay: None,
    })
    .unwrap();
    let lb_ul = s
        .create_load_balancer(CreateLoadBalancer {
            id: "lb1".into(),
            vni: 100,
            ip: "10.9.9.9".parse().unwrap(),
            ports: vec![LbPort {
                protocol: L4Protocol::Udp,
                port: 53,
            }],
            preferred_underlay: None,
        })
        .unwrap();
    s.create_lb_target(&LoadBalancerTarget {
        loadbalancer_id: "lb1".into(),
        target: "fc00:2::5".parse().unwrap(),
    })
    .unwrap();
    t.publish_all(&s, &no_macs);
    assert!(!t.behind(&s));

    let region: Region = Region::open(t.region.path()).unwrap();
    let ifaces = Catalogue::reader::<catalogue::Interfaces>(&region).unwrap();
    assert_eq!(ifaces.len(), 2);
    let vm1 = ifaces.get(&IdKey::new(b"vm1").unwrap()).unwrap().unwrap();
    assert_eq!(
        (vm1.port_id, vm1.vni, vm1.ipv4, vm1.mac),
        (2, 100, v4("10.0.0.1"), [2, 0, 0, 0, 0, 2])
    );
    assert_eq!(Ipv6Addr::from(vm1.underlay), ul1.underlay_route);

    let snat = Catalogue::reader::<catalogue::Snat>(&region).unwrap();
    let key = |ip: &str| Ipv4VniKey {
        ip: v4(ip),
        vni: 100,
    };
    let vm1_snat = snat.get(&key("10.0.0.1")).unwrap().unwrap();
    assert_eq!((vm1_snat.vip_ip, vm1_snat.nat_ip), (v4("172.20.0.1"), 0));
    assert_eq!(Ipv6Addr::from(vm1_snat.vip_underlay), vip_ul);
    let vm2_snat = snat.get(&key("10.0.0.2")).unwrap().unwrap();
    assert_eq!(
        (vm2_snat.nat_ip, vm2_snat.min_port, vm2_snat.max_port),
        (v4("172.20.0.2"), 100, 200)
    );

    let dnat = Catalogue::reader::<catalogue::Dnat>(&region).unwrap();
    assert_eq!(
        dnat.get(&key("172.20.0.1")).unwrap().unwrap().target_ip,
        v4("10.0.0.1")
    );
    assert_eq!(dnat.get(&key("172.20.0.2")).unwrap().unwrap().target_ip, 0);

    let lbs = Catalogue::reader::<catalogue::LoadBalancers>(&region).unwrap();
    let ids = Catalogue::reader::<catalogue::LoadBalancerIds>(&region).unwrap();
    let lb_key = ids.get(&IdKey::new(b"lb1").unwrap()).unwrap().unwrap();
    let lb = lbs.get(&lb_key).unwrap().unwrap();
    assert_eq!(&lb.id[..4], b"lb1\0");
    assert_eq!((lb.ports[0].port, lb.ports[0].protocol), (53, 17));
    assert_eq!(lb.target_count, 1);
    assert_eq!(Ipv6Addr::from(lb.underlay), lb_ul);
    // one target: every Maglev slot names it
    assert!(lb
        .maglev
        .iter()
        .all(|&slot| slot == 0 && slot != MAGLEV_EMPTY));

    let vnis = Catalogue::reader::<catalogue::Vnis>(&region).unwrap();
    let vni = vnis.get(&VniKey { vni: 100 }).unwrap().unwrap();
    // two interfaces and the load balancer use it; each interface routes its /32 and /128
    assert_eq!((vni.ref_count, vni.routes_v4, vni.routes_v6), (3, 2, 2));

    let vnfs = Catalogue::reader::<catalogue::Vnfs>(&region).unwrap();
    let rev = Catalogue::reader::<catalogue::ReverseVnfs>(&region).unwrap();
    // two interfaces, a VIP, a NAT and the load balancer
    assert_eq!((vnfs.len(), rev.len()), (5, 5));
    for (key, value) in vnfs.iter() {
        assert_eq!(
            rev.get(&value).unwrap().map(|k| k.underlay),
            Some(key.underlay)
        );
    }

    // deleting everything empties the tables again
    s.delete_load_balancer("lb1").unwrap();
    s.delete_interface("vm1").unwrap();
    s.delete_interface("vm2").unwrap();
    assert!(t.behind(&s));
    t.publish_all(&s, &no_macs);
    for stats in region.stats() {
        assert_eq!(stats.entries, 0, "{} still has entries", stats.name);
    }
}

#[test]
fn publishing_visits_one_table_per_step_and_restarts_after_a_change() {
    let mut t = tables("steps");
    let mut s = state();
    s.create_interface(iface("vm1", "net_tap2", "10.0.0.1"))
        .unwrap();
    let region = t.region();
    let ifaces = Catalogue::reader::<catalogue::Interfaces>(&region).unwrap();
    // the first step publishes the interface table only
    t.publish_step(&s, &no_macs);
    assert_eq!(ifaces.len(), 1);
    let vnfs = Catalogue::reader::<catalogue::Vnfs>(&region).unwrap();
    assert_eq!(vnfs.len(), 0);
    // a change in the middle of the pass: this pass ends, and another one follows
    s.create_interface(iface("vm2", "net_tap3", "10.0.0.2"))
        .unwrap();
    for _ in 1..CONFIG_TABLES {
        t.publish_step(&s, &no_macs);
    }
    assert!(t.behind(&s), "the state changed during the pass");
    assert_eq!(
        ifaces.len(),
        1,
        "the interface table was published before vm2"
    );
    for _ in 0..CONFIG_TABLES {
        t.publish_step(&s, &no_macs);
    }
    assert!(!t.behind(&s));
    assert_eq!((ifaces.len(), vnfs.len()), (2, 2));
    // nothing to do: a step changes nothing
    t.publish_step(&s, &no_macs);
    assert!(!t.behind(&s));
}

#[test]
fn the_region_has_every_table_in_registration_order_and_goes_at_drop() {
    let t = tables("order");
    let path = t.region.path().to_owned();
    let names: Vec<String> = t.region().stats().into_iter().map(|s| s.name).collect();
    let mut expected = vec![catalogue::virtsvc_name(0)];
    expected.extend(catalogue::TABLES.iter().map(|d| d.name.to_owned()));
    assert_eq!(names, expected);
    let mode = std::fs::metadata(&path).unwrap().permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o077,
        0,
        "the region must not be readable or writable by others"
    );
    drop(t);
    assert!(!path.exists());
}
