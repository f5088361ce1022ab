//! A fake daemon for the client tests: the generated service trait on loopback, a few
//! RPCs with fixed behaviour (validating with the model's conversions), the rest
//! unimplemented.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use dpservice::model::{
    ClientVersion, CreateInterface, CreatedInterface, Interface, LoadBalancer, Metering, ObjectId,
    RequestContext, Route, ServiceResponse,
};
use dpservice::proto;
use dpservice::proto::dpd_kironcore_server::{DpdKironcore, DpdKironcoreServer};
use dpservice::status::ServiceError;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::{Request, Response, Status};

/// A fake daemon: a few RPCs answer with fixed behaviour, the rest are unimplemented.
pub struct Fake {
    ctx: RequestContext,
}

pub fn interface(id: &str) -> Interface {
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
        let id: ObjectId = s.ctx.parse(r)?;
        Ok(if id == "vm1" {
            interface("vm1").into()
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
        let id: ObjectId = s.ctx.parse(r)?;
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
pub struct Daemon {
    pub addr: SocketAddr,
    pub stop: oneshot::Sender<()>,
    pub task: JoinHandle<()>,
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

pub async fn start(bind: &str) -> Daemon {
    serve(TcpListener::bind(bind).await.unwrap()).await
}
