//! Capture bookkeeping.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

// ---- capture ----

fn capture_cfg(interfaces: Vec<CapturedInterface>) -> CaptureConfig {
    CaptureConfig {
        sink_node: a6("fc00:9::1"),
        udp_src_port: 3000,
        udp_dst_port: 3001,
        interfaces,
    }
}

#[test]
fn capture_answers_not_active_without_support() {
    let mut s = two_vms();
    let cfg = capture_cfg(vec![CapturedInterface::Pf(0)]);
    fails(&mut s, E::NotActive, |s| s.capture_start(&cfg));
    fails(&mut s, E::NotActive, |s| s.capture_stop());
    assert_eq!(s.capture_status(), None);
}

#[test]
fn capture_bookkeeping_when_supported() {
    let mut cfg = config();
    cfg.capture_supported = true;
    let mut s = State::new(cfg);
    s.create_interface(iface("vm1", "net_tap3", 1, "10.0.0.1", "::"))
        .unwrap();
    s.create_interface(iface("vm2", "net_tap2", 1, "10.0.0.2", "::"))
        .unwrap();
    use CapturedInterface::{Pf, Vf};
    fails(&mut s, E::NotFound, |s| {
        s.capture_start(&capture_cfg(vec![Pf(0), Vf("nope".into())]))
    });
    fails(&mut s, E::NotFound, |s| {
        s.capture_start(&capture_cfg(vec![Pf(2)]))
    });
    fails(&mut s, E::AlreadyActive, |s| {
        s.capture_start(&capture_cfg(vec![Vf("vm1".into()), Vf("vm1".into())]))
    });
    fails(&mut s, E::NotActive, |s| s.capture_stop());
    let start = capture_cfg(vec![Vf("vm1".into()), Pf(1), Vf("vm2".into())]);
    s.capture_start(&start).unwrap();
    assert!(s.capture().is_captured(3));
    assert!(!s.capture().is_captured(0));
    fails(&mut s, E::AlreadyActive, |s| {
        s.capture_start(&capture_cfg(vec![]))
    });
    // status lists ports in port order
    let status = s.capture_status().unwrap();
    assert_eq!(
        status.interfaces,
        [Pf(1), Vf("vm2".into()), Vf("vm1".into())]
    );
    assert_eq!(status.sink_node, start.sink_node);
    s.delete_interface("vm2").unwrap();
    assert_eq!(s.capture_stop().unwrap(), 2);
    assert_eq!(s.capture_status(), None);
    // an empty list starts a capture with no ports
    s.capture_start(&capture_cfg(vec![])).unwrap();
    assert_eq!(s.capture_stop().unwrap(), 0);
}
