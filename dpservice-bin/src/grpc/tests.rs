//! The service layer over the real worker thread: gate, validation messages, status
//! codes, default fields on failure, Initialize.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dpservice::model::{CreateInterface, Metering, Pxe};
use dpservice::proto::dpd_kironcore_server::DpdKironcore;
use dpservice::proto::*;
use tonic::{Code, Request};

use super::service::{DpService, NOT_INITIALIZED};
use crate::state::{PortInfo, PortKind, State, StateConfig};
use crate::worker::{Dataplane, Worker, WorkerHandle};

const HOST: &str = "fc00:1::1";

fn service() -> DpService<WorkerHandle> {
    service_and_worker().0
}

fn service_and_worker() -> (DpService<WorkerHandle>, Worker) {
    let (svc, worker, _) = service_worker_handle();
    (svc, worker)
}

fn service_worker_handle() -> (DpService<WorkerHandle>, Worker, WorkerHandle) {
    let ports = vec![
        PortInfo {
            id: 0,
            device: "net_tap0".into(),
            kernel_name: "dtap0".into(),
            kind: PortKind::Pf0,
        },
        PortInfo {
            id: 2,
            device: "net_tap2".into(),
            kernel_name: "dtapvf_0".into(),
            kind: PortKind::Vf,
        },
        PortInfo {
            id: 3,
            device: "net_tap3".into(),
            kernel_name: "dtapvf_1".into(),
            kind: PortKind::Vf,
        },
    ];
    let mut cfg = StateConfig::new(HOST.parse().unwrap(), ports);
    cfg.deterministic_underlays = true;
    let (worker, handle) = Worker::spawn(Dataplane::new(State::new(cfg))).unwrap();
    (
        DpService::new(handle.clone(), HOST.parse().unwrap()),
        worker,
        handle,
    )
}

async fn initialized() -> DpService<WorkerHandle> {
    let svc = service();
    svc.initialize(Request::new(InitializeRequest {}))
        .await
        .unwrap();
    svc
}

fn vm(id: &str, device: &str) -> CreateInterfaceRequest {
    (&CreateInterface {
        id: id.into(),
        vni: 100,
        ipv4: Some("10.0.0.1".parse().unwrap()),
        ipv6: Some("2001::1".parse().unwrap()),
        pxe: None::<Pxe>,
        device: device.into(),
        metering: Metering::default(),
        preferred_underlay: None,
        hostname: Some("vm-one".into()),
    })
        .into()
}

fn ok_status() -> Option<Status> {
    Some(Status {
        code: 0,
        message: "Success".into(),
    })
}

fn err_status(code: u32, name: &str) -> Option<Status> {
    Some(Status {
        code,
        message: name.into(),
    })
}

fn address(v6: bool, text: &str) -> Option<IpAddress> {
    Some(IpAddress {
        ipver: i32::from(v6),
        address: text.into(),
    })
}

macro_rules! all_gated {
    ($svc:ident; $($method:ident($req:ident)),+ $(,)?) => {{
        let mut count = 0;
        $(
            let err = $svc.$method(Request::new($req::default())).await.unwrap_err();
            assert_eq!(err.code(), Code::Aborted, stringify!($method));
            assert_eq!(err.message(), NOT_INITIALIZED, stringify!($method));
            count += 1;
        )+
        count
    }};
}

#[tokio::test]
async fn every_rpc_but_initialize_is_gated() {
    let svc = service();
    // default requests are invalid too: the gate must answer first
    let n = all_gated!(svc;
        check_initialized(CheckInitializedRequest), get_version(GetVersionRequest),
        list_interfaces(ListInterfacesRequest), get_interface(GetInterfaceRequest),
        create_interface(CreateInterfaceRequest), delete_interface(DeleteInterfaceRequest),
        list_prefixes(ListPrefixesRequest), create_prefix(CreatePrefixRequest),
        delete_prefix(DeletePrefixRequest),
        list_load_balancer_prefixes(ListLoadBalancerPrefixesRequest),
        create_load_balancer_prefix(CreateLoadBalancerPrefixRequest),
        delete_load_balancer_prefix(DeleteLoadBalancerPrefixRequest),
        create_vip(CreateVipRequest), get_vip(GetVipRequest), delete_vip(DeleteVipRequest),
        create_load_balancer(CreateLoadBalancerRequest),
        get_load_balancer(GetLoadBalancerRequest),
        delete_load_balancer(DeleteLoadBalancerRequest),
        list_load_balancers(ListLoadBalancersRequest),
        create_load_balancer_target(CreateLoadBalancerTargetRequest),
        list_load_balancer_targets(ListLoadBalancerTargetsRequest),
        delete_load_balancer_target(DeleteLoadBalancerTargetRequest),
        create_nat(CreateNatRequest), get_nat(GetNatRequest), delete_nat(DeleteNatRequest),
        list_local_nats(ListLocalNatsRequest), create_neighbor_nat(CreateNeighborNatRequest),
        delete_neighbor_nat(DeleteNeighborNatRequest),
        list_neighbor_nats(ListNeighborNatsRequest), list_routes(ListRoutesRequest),
        create_route(CreateRouteRequest), delete_route(DeleteRouteRequest),
        check_vni_in_use(CheckVniInUseRequest), reset_vni(ResetVniRequest),
        list_firewall_rules(ListFirewallRulesRequest),
        create_firewall_rule(CreateFirewallRuleRequest),
        get_firewall_rule(GetFirewallRuleRequest),
        delete_firewall_rule(DeleteFirewallRuleRequest),
        capture_start(CaptureStartRequest), capture_stop(CaptureStopRequest),
        capture_status(CaptureStatusRequest),
    );
    assert_eq!(n, 41);
    // nothing reached the state
    let svc_uuid = svc.uuid().to_owned();
    let init = svc
        .initialize(Request::new(InitializeRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(init.status, ok_status());
    assert_eq!(init.uuid, svc_uuid);
    let list = svc
        .list_interfaces(Request::new(ListInterfacesRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((list.status, list.interfaces.len()), (ok_status(), 0));
}

#[tokio::test]
async fn initialize_uuid_and_reinitialize() {
    let svc = initialized().await;
    let uuid = svc.uuid().to_owned();
    assert_eq!(uuid.len(), 36);
    assert_eq!(uuid, uuid.to_uppercase());
    assert_eq!(uuid.matches('-').count(), 4);
    let check = svc
        .check_initialized(Request::new(CheckInitializedRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((check.status, check.uuid), (ok_status(), uuid.clone()));
    // another process has another UUID
    assert_ne!(service().uuid(), uuid);

    svc.create_interface(Request::new(vm("vm1", "net_tap2")))
        .await
        .unwrap();
    let route = Route {
        prefix: Some(Prefix {
            ip: address(false, "0.0.0.0"),
            length: 0,
            underlay_route: Vec::new(),
        }),
        nexthop_vni: 0,
        nexthop_address: address(true, "fc00:2::1"),
        weight: 100,
    };
    let r = svc
        .create_route(Request::new(CreateRouteRequest {
            vni: 100,
            route: Some(route),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.status, ok_status());
    // Initialize again: accepted, wipes the route, same UUID
    let again = svc
        .initialize(Request::new(InitializeRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.uuid, uuid);
    let routes = svc
        .list_routes(Request::new(ListRoutesRequest { vni: 100 }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((routes.status, routes.routes.len()), (ok_status(), 0));
}

#[tokio::test]
async fn create_and_get_interface_on_the_wire() {
    let svc = initialized().await;
    let created = svc
        .create_interface(Request::new(vm("vm1", "net_tap2")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.status, ok_status());
    assert_eq!(created.underlay_route, b"fc00:1::d000:1:0:1");
    assert_eq!(created.vf.unwrap().name, "dtapvf_0");
    let got = svc
        .get_interface(Request::new(GetInterfaceRequest {
            interface_id: b"vm1".to_vec(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.status, ok_status());
    let iface = got.interface.unwrap();
    assert_eq!(iface.id, b"vm1");
    assert_eq!(iface.pci_name, "net_tap2");
    assert_eq!(iface.primary_ipv4, b"10.0.0.1");
    assert_eq!(iface.hostname, "vm-one");
    assert_eq!(
        iface.metering_params,
        Some(MeteringParams {
            total_rate: 0,
            public_rate: 0
        })
    );
    // repeating the create: status 202, every other field default
    let again = svc
        .create_interface(Request::new(vm("vm1", "net_tap2")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        again,
        CreateInterfaceResponse {
            status: err_status(202, "ALREADY_EXISTS"),
            ..Default::default()
        }
    );
}

#[tokio::test]
async fn invalid_arguments_carry_upstream_messages() {
    let svc = initialized().await;
    let mut req = vm("vm1", "net_tap2");
    req.ipv4_config = Some(IpConfig {
        primary_address: b"0.0.0.0".to_vec(),
    });
    req.ipv6_config = Some(IpConfig {
        primary_address: b"::".to_vec(),
    });
    let err = svc.create_interface(Request::new(req)).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        err.message(),
        "Invalid ipv4_config.primary_address and ipv6_config.primary_address combination"
    );
    // the host /64 is checked for preferred underlays
    let mut req = vm("vm1", "net_tap2");
    req.preferred_underlay_route = b"fc00:2::8000:0:1".to_vec();
    let err = svc.create_interface(Request::new(req)).await.unwrap_err();
    assert_eq!(err.message(), "Invalid preferred_underlay_route");
    let err = svc
        .get_vip(Request::new(GetVipRequest {
            interface_id: Vec::new(),
        }))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.message()),
        (Code::InvalidArgument, "Invalid interface_id")
    );
    let err = svc
        .check_vni_in_use(Request::new(CheckVniInUseRequest { vni: 1, r#type: 7 }))
        .await
        .unwrap_err();
    assert_eq!(err.message(), "Invalid type");
    // nothing was created by the refused calls
    let list = svc
        .list_interfaces(Request::new(ListInterfacesRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert!(list.interfaces.is_empty());
}

#[tokio::test]
async fn service_errors_leave_other_fields_default() {
    let svc = initialized().await;
    let r = svc
        .get_vip(Request::new(GetVipRequest {
            interface_id: b"nope".to_vec(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        r,
        GetVipResponse {
            status: err_status(205, "NO_VM"),
            ..Default::default()
        }
    );
    let r = svc
        .list_routes(Request::new(ListRoutesRequest { vni: 5 }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.status, err_status(206, "NO_VNI"));
    let r = svc
        .check_vni_in_use(Request::new(CheckVniInUseRequest { vni: 1, r#type: 2 }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        r,
        CheckVniInUseResponse {
            status: err_status(203, "WRONG_TYPE"),
            in_use: false
        }
    );
    let r = svc
        .capture_status(Request::new(CaptureStatusRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        r,
        CaptureStatusResponse {
            status: ok_status(),
            is_active: false,
            capture_config: None
        }
    );
    let r = svc
        .capture_stop(Request::new(CaptureStopRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.status, err_status(211, "NOT_ACTIVE"));
}

#[tokio::test]
async fn version_and_lists() {
    let svc = initialized().await;
    let v = svc
        .get_version(Request::new(GetVersionRequest {
            client_protocol: "v0.3.16".into(),
            client_name: "test".into(),
            client_version: "1".into(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(v.status, ok_status());
    assert_eq!(v.service_protocol, v.service_version);
    assert_eq!(v.service_version, dpservice::version::VERSION);
    let err = svc
        .get_version(Request::new(GetVersionRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(err.message(), "Invalid client_protocol");

    // an empty ListLoadBalancerTargets ID lists every LB's targets
    let r = svc
        .list_load_balancer_targets(Request::new(ListLoadBalancerTargetsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((r.status, r.target_ips.len()), (ok_status(), 0));
    let r = svc
        .list_load_balancer_targets(Request::new(ListLoadBalancerTargetsRequest {
            loadbalancer_id: b"nope".to_vec(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.status, err_status(422, "NO_LB"));
    // 0.0.0.0 lists every NAT; an IPv6 filter is 204
    let r = svc
        .list_local_nats(Request::new(ListLocalNatsRequest {
            nat_ip: address(false, "0.0.0.0"),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.status, ok_status());
    let r = svc
        .list_neighbor_nats(Request::new(ListNeighborNatsRequest {
            nat_ip: address(true, "1234::1"),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.status, err_status(204, "BAD_IPVER"));
}

#[tokio::test]
async fn a_missing_worker_is_internal() {
    let (svc, worker) = service_and_worker();
    worker.stop().unwrap();
    let err = svc
        .initialize(Request::new(InitializeRequest {}))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Internal);
    // and the daemon stays uninitialized
    let err = svc
        .check_initialized(Request::new(CheckInitializedRequest {}))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
}

/// Get/List calls are no job on the worker: one is answered while the worker is held
/// inside another job, and reads see every change that returned before them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_answered_while_the_worker_is_busy() {
    let (svc, worker, handle) = service_worker_handle();
    svc.initialize(Request::new(InitializeRequest {}))
        .await
        .unwrap();
    svc.create_interface(Request::new(vm("vm1", "net_tap2")))
        .await
        .unwrap();

    let (release, held) = std::sync::mpsc::channel::<()>();
    let (inside_tx, inside) = tokio::sync::oneshot::channel();
    let busy = tokio::spawn(async move {
        handle
            .exec(move |_| {
                let _ = inside_tx.send(());
                let _ = held.recv_timeout(std::time::Duration::from_secs(10));
            })
            .await
    });
    inside.await.unwrap();
    let listed = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        svc.list_interfaces(Request::new(ListInterfacesRequest {})),
    )
    .await
    .expect("the read waited for the busy worker")
    .unwrap()
    .into_inner();
    assert_eq!(listed.interfaces.len(), 1);
    assert!(
        !busy.is_finished(),
        "the worker was still held during the read"
    );
    release.send(()).unwrap();
    busy.await.unwrap().unwrap();

    // read-your-writes: a change that returned is what the next read sees
    let deleted = svc
        .delete_interface(Request::new(DeleteInterfaceRequest {
            interface_id: b"vm1".to_vec(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(deleted.status, ok_status());
    let listed = svc
        .list_interfaces(Request::new(ListInterfacesRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.interfaces.is_empty());
    drop(svc);
    worker.stop().unwrap();
}
