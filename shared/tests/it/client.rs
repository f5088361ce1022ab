//! The client against an in-process tonic server on loopback: typed results, and each
//! error source (transport, gRPC, service, malformed response) kept apart.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use dpservice::client::{Client, ClientError, ConnectOptions};
use dpservice::model::{
    ClientVersion, CreateInterface, CreatedInterface, Interface, LoadBalancer, Metering,
    RequestContext, Route, ServiceResponse,
};
use dpservice::proto;
use dpservice::proto::dpd_kironcore_server::{DpdKironcore, DpdKironcoreServer};
use dpservice::status::ServiceError;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::{Code, Request, Response, Status};

/// A fake daemon: a few RPCs answer with fixed behaviour, the rest are unimplemented.
struct Fake {
    ctx: RequestContext,
}

fn interface(id: &str) -> Interface {
    Interface {
        id: id.into(),
        vni: 100,
        ipv4: Some(Ipv4Addr::new(10, 0, 0, 1)),
        ipv6: None,
        underlay_route: "fc00:1::d000:1:0:1".parse().unwrap(),
        device: "net_tap2".into(),
        metering: Metering::default(),
        hostname: None,
    }
}

/// Implements the whole generated trait; each entry names the RPC, its messages, and a
/// body that sees the fake as `$this` and the request message as `$req`.
macro_rules! fake_service {
    ($($method:ident($request:ident) -> $response:ident |$this:ident, $req:ident| $body:block)+) => {
        #[tonic::async_trait]
        impl DpdKironcore for Fake {
            $(
                async fn $method(
                    &self,
                    request: Request<proto::$request>,
                ) -> Result<Response<proto::$response>, Status> {
                    #[allow(unused_variables)]
                    let ($this, $req) = (self, request.into_inner());
                    let answer: Result<proto::$response, Status> = $body;
                    answer.map(Response::new)
                }
            )+
        }
    };
}

fn unimplemented<T>() -> Result<T, Status> {
    Err(Status::unimplemented("not part of this fake"))
}

fake_service! {
    check_initialized(CheckInitializedRequest) -> CheckInitializedResponse |s, r| {
        Err(Status::aborted("not initialized"))
    }
    initialize(InitializeRequest) -> InitializeResponse |s, r| {
        Ok(String::from("0A1B2C3D-0000-4000-8000-000000000001").into())
    }
    get_version(GetVersionRequest) -> GetVersionResponse |s, r| {
        let client = ClientVersion::try_from(r)?;
        Ok(dpservice::model::ServiceVersion {
            service_protocol: client.client_protocol,
            service_version: format!("for {}", client.client_name),
        }
        .into())
    }
    list_interfaces(ListInterfacesRequest) -> ListInterfacesResponse |s, r| {
        Ok(vec![interface("vm1"), interface("vm2")].into())
    }
    get_interface(GetInterfaceRequest) -> GetInterfaceResponse |s, r| {
        let id: String = s.ctx.parse(r)?;
        Ok(if id == "vm1" {
            interface(&id).into()
        } else {
            proto::GetInterfaceResponse::failure(ServiceError::NotFound)
        })
    }
    create_interface(CreateInterfaceRequest) -> CreateInterfaceResponse |s, r| {
        let create: CreateInterface = s.ctx.parse(r)?;
        let underlay = create.preferred_underlay.unwrap_or(Ipv6Addr::LOCALHOST);
        Ok(CreatedInterface { underlay_route: underlay, vf_name: format!("tap-{}", create.id) }.into())
    }
    delete_interface(DeleteInterfaceRequest) -> DeleteInterfaceResponse |s, r| {
        let id: String = s.ctx.parse(r)?;
        let outcome = if id == "vm1" { Ok(()) } else { Err(ServiceError::NotFound) };
        Ok(proto::DeleteInterfaceResponse::from_result(outcome))
    }
    list_prefixes(ListPrefixesRequest) -> ListPrefixesResponse |s, r| { unimplemented() }
    create_prefix(CreatePrefixRequest) -> CreatePrefixResponse |s, r| { unimplemented() }
    delete_prefix(DeletePrefixRequest) -> DeletePrefixResponse |s, r| { unimplemented() }
    list_load_balancer_prefixes(ListLoadBalancerPrefixesRequest) -> ListLoadBalancerPrefixesResponse |s, r| { unimplemented() }
    create_load_balancer_prefix(CreateLoadBalancerPrefixRequest) -> CreateLoadBalancerPrefixResponse |s, r| { unimplemented() }
    delete_load_balancer_prefix(DeleteLoadBalancerPrefixRequest) -> DeleteLoadBalancerPrefixResponse |s, r| { unimplemented() }
    create_vip(CreateVipRequest) -> CreateVipResponse |s, r| {
        // A code newer than the client's table.
        let mut response = proto::CreateVipResponse::default();
        response.set_status(proto::Status { code: 999, message: "FUTURE_CODE".into() });
        Ok(response)
    }
    get_vip(GetVipRequest) -> GetVipResponse |s, r| {
        // Broken: no status at all.
        Ok(proto::GetVipResponse::default())
    }
    delete_vip(DeleteVipRequest) -> DeleteVipResponse |s, r| { unimplemented() }
    create_load_balancer(CreateLoadBalancerRequest) -> CreateLoadBalancerResponse |s, r| { unimplemented() }
    get_load_balancer(GetLoadBalancerRequest) -> GetLoadBalancerResponse |s, r| {
        Ok(LoadBalancer {
            id: "ignored".into(),
            vni: 9,
            ip: IpAddr::from([10, 20, 0, 1]),
            ports: Vec::new(),
            underlay_route: Ipv6Addr::LOCALHOST,
        }
        .into())
    }
    delete_load_balancer(DeleteLoadBalancerRequest) -> DeleteLoadBalancerResponse |s, r| { unimplemented() }
    list_load_balancers(ListLoadBalancersRequest) -> ListLoadBalancersResponse |s, r| { unimplemented() }
    create_load_balancer_target(CreateLoadBalancerTargetRequest) -> CreateLoadBalancerTargetResponse |s, r| { unimplemented() }
    list_load_balancer_targets(ListLoadBalancerTargetsRequest) -> ListLoadBalancerTargetsResponse |s, r| { unimplemented() }
    delete_load_balancer_target(DeleteLoadBalancerTargetRequest) -> DeleteLoadBalancerTargetResponse |s, r| { unimplemented() }
    create_nat(CreateNatRequest) -> CreateNatResponse |s, r| { unimplemented() }
    get_nat(GetNatRequest) -> GetNatResponse |s, r| {
        // Broken: success, but the NAT IP is not an address.
        let mut response = proto::GetNatResponse::ok();
        response.nat_ip = Some(proto::IpAddress { ipver: 0, address: b"nat".to_vec() });
        response.underlay_route = b"::1".to_vec();
        Ok(response)
    }
    delete_nat(DeleteNatRequest) -> DeleteNatResponse |s, r| { unimplemented() }
    list_local_nats(ListLocalNatsRequest) -> ListLocalNatsResponse |s, r| { unimplemented() }
    create_neighbor_nat(CreateNeighborNatRequest) -> CreateNeighborNatResponse |s, r| { unimplemented() }
    delete_neighbor_nat(DeleteNeighborNatRequest) -> DeleteNeighborNatResponse |s, r| { unimplemented() }
    list_neighbor_nats(ListNeighborNatsRequest) -> ListNeighborNatsResponse |s, r| { unimplemented() }
    list_routes(ListRoutesRequest) -> ListRoutesResponse |s, r| {
        let route = Route {
            vni: 0,
            prefix: "10.0.0.0/8".parse().unwrap(),
            nexthop_vni: r.vni + 1,
            nexthop: IpAddr::from(Ipv6Addr::LOCALHOST),
        };
        Ok(vec![route].into())
    }
    create_route(CreateRouteRequest) -> CreateRouteResponse |s, r| { unimplemented() }
    delete_route(DeleteRouteRequest) -> DeleteRouteResponse |s, r| { unimplemented() }
    check_vni_in_use(CheckVniInUseRequest) -> CheckVniInUseResponse |s, r| { unimplemented() }
    reset_vni(ResetVniRequest) -> ResetVniResponse |s, r| { unimplemented() }
    list_firewall_rules(ListFirewallRulesRequest) -> ListFirewallRulesResponse |s, r| { unimplemented() }
    create_firewall_rule(CreateFirewallRuleRequest) -> CreateFirewallRuleResponse |s, r| { unimplemented() }
    get_firewall_rule(GetFirewallRuleRequest) -> GetFirewallRuleResponse |s, r| { unimplemented() }
    delete_firewall_rule(DeleteFirewallRuleRequest) -> DeleteFirewallRuleResponse |s, r| { unimplemented() }
    capture_start(CaptureStartRequest) -> CaptureStartResponse |s, r| { unimplemented() }
    capture_stop(CaptureStopRequest) -> CaptureStopResponse |s, r| {
        // Slower than the call deadline of the deadline test.
        tokio::time::sleep(Duration::from_secs(3)).await;
        Ok(0_u32.into())
    }
    capture_status(CaptureStatusRequest) -> CaptureStatusResponse |s, r| {
        Ok(proto::CaptureStatusResponse::from(None::<dpservice::model::CaptureConfig>))
    }
}

/// A running fake daemon; dropping `stop` or sending on it shuts it down.
struct Daemon {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

async fn serve(listener: TcpListener) -> Daemon {
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let fake = Fake {
        ctx: RequestContext::new("fc00:1::1".parse().unwrap()),
    };
    let task = tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(DpdKironcoreServer::new(fake))
            .serve_with_incoming_shutdown(
                tokio_stream::wrappers::TcpListenerStream::new(listener),
                async {
                    let _ = stopped.await;
                },
            )
            .await
            .unwrap();
    });
    Daemon { addr, stop, task }
}

async fn start(bind: &str) -> Daemon {
    serve(TcpListener::bind(bind).await.unwrap()).await
}

fn fast() -> ConnectOptions {
    ConnectOptions {
        connect_timeout: Duration::from_secs(2),
        wait_for_ready: false,
        call_timeout: Some(Duration::from_secs(5)),
    }
}

/// A loopback port nothing listens on (bound, then released).
async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

#[tokio::test]
async fn typed_results() {
    let daemon = start("127.0.0.1:0").await;
    let client = Client::connect(&daemon.addr.to_string(), &fast())
        .await
        .unwrap();
    assert_eq!(client.initialize().await.unwrap().len(), 36);
    let version = client
        .get_version(&ClientVersion {
            client_protocol: "v0.3.17".into(),
            client_name: "test".into(),
            client_version: "1".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        (
            version.service_protocol.as_str(),
            version.service_version.as_str()
        ),
        ("v0.3.17", "for test")
    );
    let ids: Vec<_> = client
        .list_interfaces()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids, ["vm1", "vm2"]);
    assert_eq!(client.get_interface("vm1").await.unwrap(), interface("vm1"));
    client.delete_interface("vm1").await.unwrap();
    // The client fills in what the wire does not carry.
    let routes = client.list_routes(Some(41)).await.unwrap();
    assert_eq!((routes[0].vni, routes[0].nexthop_vni), (41, 42));
    let routes = client.list_routes(None).await.unwrap();
    assert_eq!((routes[0].vni, routes[0].nexthop_vni), (0, 1));
    let lb = client.get_load_balancer("lb-7").await.unwrap();
    assert_eq!((lb.id.as_str(), lb.vni), ("lb-7", 9));
    assert_eq!(client.capture_status().await.unwrap(), None);

    let create = CreateInterface {
        id: "vm3".into(),
        vni: 1,
        ipv4: Some(Ipv4Addr::new(10, 0, 0, 3)),
        ipv6: None,
        pxe: None,
        device: "net_tap4".into(),
        metering: Metering::default(),
        preferred_underlay: Some("fc00:1::8000:0:3".parse().unwrap()),
        hostname: None,
    };
    let created = client.create_interface(&create).await.unwrap();
    assert_eq!(created.underlay_route, create.preferred_underlay.unwrap());
    assert_eq!(created.vf_name, "tap-vm3");
    daemon.stop.send(()).unwrap();
    daemon.task.await.unwrap();
}

#[tokio::test]
async fn grpc_errors_keep_code_and_message() {
    let daemon = start("127.0.0.1:0").await;
    let client = Client::connect(&daemon.addr.to_string(), &fast())
        .await
        .unwrap();
    match client.check_initialized().await {
        Err(ClientError::Grpc { code, message }) => {
            assert_eq!((code, message.as_str()), (Code::Aborted, "not initialized"))
        }
        other => panic!("expected a gRPC error, got {other:?}"),
    }
    // The fake validates with the model's conversions: the §9 text arrives verbatim.
    let err = client.get_interface("").await.unwrap_err();
    assert_eq!(err.to_string(), "gRPC error #3: Invalid interface_id");
    let other_host = CreateInterface {
        id: "vm3".into(),
        vni: 1,
        ipv4: Some(Ipv4Addr::new(10, 0, 0, 3)),
        ipv6: None,
        pxe: None,
        device: "net_tap4".into(),
        metering: Metering::default(),
        preferred_underlay: Some("fc00:2::8000:0:3".parse().unwrap()),
        hostname: None,
    };
    let err = client.create_interface(&other_host).await.unwrap_err();
    assert!(
        matches!(err, ClientError::Grpc { code: Code::InvalidArgument, ref message }
            if message == "Invalid preferred_underlay_route"),
        "{err:?}"
    );
    let err = client.delete_nat("vm1").await.unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Grpc {
                code: Code::Unimplemented,
                ..
            }
        ),
        "{err:?}"
    );
    daemon.stop.send(()).unwrap();
}

#[tokio::test]
async fn service_and_response_errors() {
    let daemon = start("127.0.0.1:0").await;
    let client = Client::connect(&daemon.addr.to_string(), &fast())
        .await
        .unwrap();
    let err = client.get_interface("nope").await.unwrap_err();
    assert!(
        matches!(err, ClientError::Service { code: 201, ref name } if name == "NOT_FOUND"),
        "{err:?}"
    );
    assert_eq!(err.service_error(), Some(ServiceError::NotFound));
    assert_eq!(err.to_string(), "Service error #201: NOT_FOUND");
    let err = client.delete_interface("nope").await.unwrap_err();
    assert_eq!(err.service_error(), Some(ServiceError::NotFound));
    // A code the table does not know keeps the daemon's message.
    let vip = dpservice::model::CreateVip {
        interface_id: "vm1".into(),
        ip: IpAddr::from([1, 2, 3, 4]),
        preferred_underlay: None,
    };
    let err = client.create_vip(&vip).await.unwrap_err();
    assert!(
        matches!(err, ClientError::Service { code: 999, ref name } if name == "FUTURE_CODE"),
        "{err:?}"
    );
    assert_eq!(err.service_error(), None);
    match client.get_vip("vm1").await {
        Err(ClientError::Response(e)) => assert_eq!(e.field, "status"),
        other => panic!("expected a response error, got {other:?}"),
    }
    match client.get_nat("vm1").await {
        Err(ClientError::Response(e)) => assert_eq!(e.field, "GetNatResponse.nat_ip"),
        other => panic!("expected a response error, got {other:?}"),
    }
    daemon.stop.send(()).unwrap();
}

#[tokio::test]
async fn call_deadline_is_a_grpc_error() {
    let daemon = start("127.0.0.1:0").await;
    let opts = ConnectOptions {
        call_timeout: Some(Duration::from_millis(200)),
        ..fast()
    };
    let client = Client::connect(&daemon.addr.to_string(), &opts)
        .await
        .unwrap();
    let started = Instant::now();
    let err = client.capture_stop().await.unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Grpc {
                code: Code::DeadlineExceeded,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    daemon.stop.send(()).unwrap();
}

#[tokio::test]
async fn address_forms() {
    let v4 = start("127.0.0.1:0").await;
    let port = v4.addr.port();
    for address in [
        format!("127.0.0.1:{port}"),
        format!("http://127.0.0.1:{port}"),
        format!("localhost:{port}"),
    ] {
        let client = Client::connect(&address, &fast()).await.unwrap();
        assert_eq!(client.address(), address);
        assert_eq!(client.get_interface("vm1").await.unwrap().id, "vm1");
    }
    let v6 = start("[::1]:0").await;
    let client = Client::connect(&format!("[::1]:{}", v6.addr.port()), &fast())
        .await
        .unwrap();
    assert_eq!(client.list_interfaces().await.unwrap().len(), 2);
    for bad in ["localhost", "https://localhost:1337", "[::1]"] {
        let err = Client::connect(bad, &fast()).await.unwrap_err();
        assert!(matches!(err, ClientError::Address { .. }), "{bad}: {err:?}");
    }
    v4.stop.send(()).unwrap();
    v6.stop.send(()).unwrap();
}

#[tokio::test]
async fn refused_connection_is_a_transport_error() {
    let addr = closed_port().await.to_string();
    let started = Instant::now();
    let err = Client::connect(&addr, &fast()).await.unwrap_err();
    match &err {
        ClientError::Transport {
            address,
            timed_out,
            message,
        } => {
            assert_eq!((address, *timed_out), (&addr, false));
            assert!(message.contains("refused"), "{message}");
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "no retry without wait_for_ready"
    );

    // Waiting for the daemon gives up at the connect timeout.
    let opts = ConnectOptions {
        connect_timeout: Duration::from_millis(300),
        wait_for_ready: true,
        ..fast()
    };
    let started = Instant::now();
    let err = Client::connect(&addr, &opts).await.unwrap_err();
    assert!(
        matches!(err, ClientError::Transport { timed_out: true, ref message, .. } if message.contains("refused")),
        "{err:?}"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
}

#[tokio::test]
async fn waiting_reaches_a_daemon_that_starts_late() {
    let addr = closed_port().await;
    let opts = ConnectOptions {
        connect_timeout: Duration::from_secs(5),
        wait_for_ready: true,
        ..fast()
    };
    let late = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        start(&addr.to_string()).await
    });
    let client = Client::connect(&addr.to_string(), &opts).await.unwrap();
    assert_eq!(client.get_interface("vm1").await.unwrap().id, "vm1");
    late.await.unwrap().stop.send(()).unwrap();
}

#[tokio::test]
async fn broken_connection_is_a_transport_error() {
    let daemon = start("127.0.0.1:0").await;
    let address = daemon.addr.to_string();
    let client = Client::connect(&address, &fast()).await.unwrap();
    client.get_interface("vm1").await.unwrap();
    daemon.stop.send(()).unwrap();
    daemon.task.await.unwrap();
    let err = client.get_interface("vm1").await.unwrap_err();
    assert!(
        matches!(err, ClientError::Transport { address: ref a, timed_out: false, .. } if *a == address),
        "{err:?}"
    );
}
