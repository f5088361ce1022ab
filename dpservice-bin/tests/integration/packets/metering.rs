//! Metering on TAP ports (dataplane.md §13): the caps of an interface are accepted, read
//! back as 0, and nothing is metered. A public cap of 1 Mbit/s would make the meter's
//! committed rate 0 bytes/s with buckets of 4096 + 131 072 bytes; the VM sends far more
//! than that to the Internet at once, and every packet leaves. (`CaptureStart` answering
//! "not active" on TAP is shown by `api::firewall_capture`, against the same daemon.)

use super::*;

const PUBLIC: Ipv4Addr = Ipv4Addr::new(45, 86, 6, 106);
const ROUTER_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0, 0, 0xff);
/// Packets of [`PAYLOAD`] bytes: 360 kB, more than twice what a metered VF could send.
const PACKETS: u16 = 300;
const PAYLOAD: usize = 1200;

#[test]
fn caps_read_back_as_zero_and_nothing_is_metered() {
    let mut rig = Rig::start(&[]);
    rig.configure();
    let metering = rig.daemon.with_client(|c| async move {
        // vm1 again, with the smallest caps
        c.delete_interface("vm1").await.unwrap();
        c.create_interface(&CreateInterface {
            id: "vm1".into(),
            vni: 100,
            ipv4: Some(VM1_IP),
            ipv6: None,
            pxe: None,
            device: "net_tap2".into(),
            metering: Metering {
                total_rate: 1,
                public_rate: 1,
            },
            preferred_underlay: Some(VM1_UL),
            hostname: None,
        })
        .await
        .unwrap();
        c.create_route(&Route {
            vni: 100,
            prefix: RequestPrefix::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
            nexthop_vni: 100,
            nexthop: IpAddr::V6(ROUTER_UL),
        })
        .await
        .unwrap();
        c.get_interface("vm1").await.unwrap().metering
    });
    assert_eq!(metering, Metering::default(), "caps on TAP read back as 0");
    let (vm1, vf0) = (vm_mac(1), port_mac(VF0));
    lease(&mut rig, VF0, vm1);

    // public traffic (through the default route): sent in windows, each packet numbered
    const WINDOW: u16 = 16;
    let mut seen = vec![false; usize::from(PACKETS)];
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    for start in (0..PACKETS).step_by(usize::from(WINDOW)) {
        let end = (start + WINDOW).min(PACKETS);
        let mut out: Vec<_> = (start..end)
            .map(|i| {
                let mut data = vec![0x5a; PAYLOAD];
                data[..2].copy_from_slice(&i.to_be_bytes());
                let f = eth(
                    vf0,
                    vm1,
                    ethertype::IPV4,
                    &ipv4_udp(VM1_IP, PUBLIC, 4000, 53, &data),
                );
                rig.pool.alloc_frame(&f).unwrap()
            })
            .collect();
        while !out.is_empty() {
            rig.ends[VF0].tx_burst(&mut out, &mut rig.pool);
        }
        while (start..end).any(|i| !seen[usize::from(i)]) {
            assert!(
                Instant::now() < deadline,
                "packets {start}..{end} did not all leave: a meter dropped them?"
            );
            rig.ends[PF0].rx_burst(&mut rig.pool, &mut got, 32);
            for b in got.drain(..) {
                let f = b.frame();
                // tunnelled (14 + 40) UDP (20 + 8) of the full size
                if f.len() == 54 + 28 + PAYLOAD && f[54 + 16..54 + 20] == PUBLIC.octets() {
                    let i = u16::from_be_bytes([f[54 + 28], f[54 + 29]]);
                    if let Some(s) = seen.get_mut(usize::from(i)) {
                        *s = true;
                    }
                }
                rig.pool.free(b);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    assert!(seen.iter().all(|s| *s));
}
