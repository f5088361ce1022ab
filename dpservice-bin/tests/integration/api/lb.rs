//! Load balancers and their targets.

use super::*;

#[test]
fn load_balancers() {
    let d = daemon();
    with_initialized(&d, |c| async move {
        let ul = c
            .create_load_balancer(&lb("lb1", 100, "10.9.9.9"))
            .await
            .unwrap();
        let got = c.get_load_balancer("lb1").await.unwrap();
        assert_eq!(
            (got.vni, got.ip, got.underlay_route),
            (100, ip("10.9.9.9"), ul)
        );
        assert_eq!(got.ports, lb("lb1", 100, "10.9.9.9").ports);
        // an LB-only VNI is in use and takes routes
        assert!(c
            .check_vni_in_use(&vni_q(100, VniType::Ipv4))
            .await
            .unwrap());
        c.create_route(&route(100, "0.0.0.0/0", "fc00:2::1"))
            .await
            .unwrap();

        fails!(c, c.create_load_balancer(&lb("lb2", 100, "10.9.9.9")), service AlreadyExists);
        // the same ID with another address is refused too (upstream would orphan lb1)
        fails!(c, c.create_load_balancer(&lb("lb1", 101, "10.9.9.9")), service AlreadyExists);
        let mut taken = lb("lb2", 101, "1234::1");
        taken.preferred_underlay = Some(a6("fc00:1::8000:0:1"));
        c.create_load_balancer(&taken).await.unwrap();
        let mut again = lb("lb3", 102, "1234::1");
        again.preferred_underlay = taken.preferred_underlay;
        fails!(c, c.create_load_balancer(&again), service VnfInsert);

        // validation
        let mut bad = lb("lb3", 0x0100_0000, "10.0.0.1");
        fails!(c, c.create_load_balancer(&bad), invalid "VNI exceeds 24-bit range");
        bad.vni = 1;
        bad.ports = (1..=16)
            .map(|port| LbPort {
                protocol: L4Protocol::Udp,
                port,
            })
            .collect();
        fails!(c, c.create_load_balancer(&bad), invalid "Too many loadbalanced_ports");
        bad.ports = vec![LbPort {
            protocol: L4Protocol::Tcp,
            port: 0,
        }];
        fails!(c, c.create_load_balancer(&bad), invalid "Invalid loadbalanced_ports.port");
        bad.ports = vec![
            LbPort {
                protocol: L4Protocol::Tcp,
                port: 80
            };
            2
        ];
        fails!(c, c.create_load_balancer(&bad), invalid "Duplicate loadbalanced_ports entry");
        bad.ports = vec![
            LbPort {
                protocol: L4Protocol::Tcp,
                port: 80,
            },
            LbPort {
                protocol: L4Protocol::Udp,
                port: 80,
            },
        ];
        c.create_load_balancer(&bad).await.unwrap();

        let ids: Vec<_> = c
            .list_load_balancers()
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.id)
            .collect();
        assert_eq!(ids, ["lb1", "lb2", "lb3"]);
        fails!(c, c.get_load_balancer("nope"), service NotFound);
        fails!(c, c.delete_load_balancer("nope"), service NotFound);
        c.delete_load_balancer("lb1").await.unwrap();
        fails!(c, c.get_load_balancer("lb1"), service NotFound);
        // its VNI went with it
        assert!(!c
            .check_vni_in_use(&vni_q(100, VniType::Ipv4))
            .await
            .unwrap());
        fails!(c, c.list_routes(Some(100)), service NoVni);
        c.create_load_balancer(&lb("lb1", 100, "10.9.9.9"))
            .await
            .unwrap();
    });
}

#[test]
fn load_balancer_targets() {
    let d = daemon();
    with_initialized(&d, |c| async move {
        fails!(c, c.create_load_balancer_target(&target("nope", "::")), service NoLb);
        fails!(c, c.delete_load_balancer_target(&target("nope", "::")), service NoLb);
        fails!(c, c.list_load_balancer_targets(Some("nope")), service NoLb);
        // the family is checked before the LB
        fails!(c, c.create_load_balancer_target(&target("nope", "1.2.3.4")), service BadIpVer);
        c.create_load_balancer(&lb("lb1", 100, "10.9.9.1"))
            .await
            .unwrap();
        c.create_load_balancer(&lb("lb2", 100, "10.9.9.2"))
            .await
            .unwrap();
        fails!(c, c.create_load_balancer_target(&target("lb1", "1.2.3.4")), service BadIpVer);
        fails!(c, c.delete_load_balancer_target(&target("lb1", "1.2.3.4")), service BadIpVer);
        for t in ["1234::2", "1234::1"] {
            c.create_load_balancer_target(&target("lb1", t))
                .await
                .unwrap();
        }
        c.create_load_balancer_target(&target("lb2", "1235::1"))
            .await
            .unwrap();
        fails!(c, c.create_load_balancer_target(&target("lb1", "1234::1")),
            service AlreadyExists);
        // `::` is never stored, so never listed: upstream marks free target slots with
        // it and finds it "already there" while one is free (grpc-api.md §8.7)
        fails!(c, c.create_load_balancer_target(&target("lb1", "::")), service AlreadyExists);
        fails!(c, c.delete_load_balancer_target(&target("lb1", "::")), service NotFound);
        // ascending
        assert_eq!(
            c.list_load_balancer_targets(Some("lb1")).await.unwrap(),
            [a6("1234::1"), a6("1234::2")]
        );
        // no ID: every LB's
        assert_eq!(
            c.list_load_balancer_targets(None::<&str>)
                .await
                .unwrap()
                .len(),
            3
        );
        fails!(c, c.delete_load_balancer_target(&target("lb1", "1234::9")), service NotFound);
        c.delete_load_balancer_target(&target("lb1", "1234::1"))
            .await
            .unwrap();
        fails!(c, c.delete_load_balancer_target(&target("lb1", "1234::1")), service NotFound);
        assert_eq!(
            c.list_load_balancer_targets(Some("lb1")).await.unwrap(),
            [a6("1234::2")]
        );
    });
}
