//! A minimal gRPC server answering `GetVersion`, for `scripts/bench-cli-startup.sh` when
//! no daemon address is given: the benchmark measures the client, not the daemon.
//!
//! Usage: `bench_server <port>`; prints `ready` once listening.

use dpservice::proto;
use dpservice::proto::dpd_kironcore_server::{DpdKironcore, DpdKironcoreServer};
use tonic::{Request, Response, Status};

#[derive(Debug, Clone, Copy)]
struct Versions;

type Reply<T> = Result<Response<T>, Status>;

macro_rules! service {
    ($($m:ident: $req:ident => $resp:ident;)*) => {
        #[tonic::async_trait]
        impl DpdKironcore for Versions {
            async fn get_version(&self, _: Request<proto::GetVersionRequest>) -> Reply<proto::GetVersionResponse> {
                Ok(Response::new(proto::GetVersionResponse {
                    status: Some(dpservice::status::success()),
                    service_protocol: dpservice::version::PROTOCOL_VERSION.to_owned(),
                    service_version: dpservice::version::VERSION.to_owned(),
                }))
            }
            $(
                async fn $m(&self, _: Request<proto::$req>) -> Reply<proto::$resp> {
                    Err(Status::unimplemented("bench server"))
                }
            )*
        }
    };
}

service! {
        check_initialized: CheckInitializedRequest => CheckInitializedResponse;
        initialize: InitializeRequest => InitializeResponse;
        list_interfaces: ListInterfacesRequest => ListInterfacesResponse;
        get_interface: GetInterfaceRequest => GetInterfaceResponse;
        create_interface: CreateInterfaceRequest => CreateInterfaceResponse;
        delete_interface: DeleteInterfaceRequest => DeleteInterfaceResponse;
        list_prefixes: ListPrefixesRequest => ListPrefixesResponse;
        create_prefix: CreatePrefixRequest => CreatePrefixResponse;
        delete_prefix: DeletePrefixRequest => DeletePrefixResponse;
        list_load_balancer_prefixes: ListLoadBalancerPrefixesRequest => ListLoadBalancerPrefixesResponse;
        create_load_balancer_prefix: CreateLoadBalancerPrefixRequest => CreateLoadBalancerPrefixResponse;
        delete_load_balancer_prefix: DeleteLoadBalancerPrefixRequest => DeleteLoadBalancerPrefixResponse;
        create_vip: CreateVipRequest => CreateVipResponse;
        get_vip: GetVipRequest => GetVipResponse;
        delete_vip: DeleteVipRequest => DeleteVipResponse;
        create_load_balancer: CreateLoadBalancerRequest => CreateLoadBalancerResponse;
        get_load_balancer: GetLoadBalancerRequest => GetLoadBalancerResponse;
        delete_load_balancer: DeleteLoadBalancerRequest => DeleteLoadBalancerResponse;
        list_load_balancers: ListLoadBalancersRequest => ListLoadBalancersResponse;
        create_load_balancer_target: CreateLoadBalancerTargetRequest => CreateLoadBalancerTargetResponse;
        list_load_balancer_targets: ListLoadBalancerTargetsRequest => ListLoadBalancerTargetsResponse;
        delete_load_balancer_target: DeleteLoadBalancerTargetRequest => DeleteLoadBalancerTargetResponse;
        create_nat: CreateNatRequest => CreateNatResponse;
        get_nat: GetNatRequest => GetNatResponse;
        delete_nat: DeleteNatRequest => DeleteNatResponse;
        list_local_nats: ListLocalNatsRequest => ListLocalNatsResponse;
        create_neighbor_nat: CreateNeighborNatRequest => CreateNeighborNatResponse;
        delete_neighbor_nat: DeleteNeighborNatRequest => DeleteNeighborNatResponse;
        list_neighbor_nats: ListNeighborNatsRequest => ListNeighborNatsResponse;
        list_routes: ListRoutesRequest => ListRoutesResponse;
        create_route: CreateRouteRequest => CreateRouteResponse;
        delete_route: DeleteRouteRequest => DeleteRouteResponse;
        check_vni_in_use: CheckVniInUseRequest => CheckVniInUseResponse;
        reset_vni: ResetVniRequest => ResetVniResponse;
        list_firewall_rules: ListFirewallRulesRequest => ListFirewallRulesResponse;
        create_firewall_rule: CreateFirewallRuleRequest => CreateFirewallRuleResponse;
        get_firewall_rule: GetFirewallRuleRequest => GetFirewallRuleResponse;
        delete_firewall_rule: DeleteFirewallRuleRequest => DeleteFirewallRuleResponse;
        capture_start: CaptureStartRequest => CaptureStartResponse;
        capture_stop: CaptureStopRequest => CaptureStopResponse;
        capture_status: CaptureStatusRequest => CaptureStatusResponse;
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::args()
        .nth(1)
        .ok_or("usage: bench_server <port>")?
        .parse()?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("ready");
    // Without TCP_NODELAY on accepted sockets, Nagle and delayed ACKs stall some calls
    // by ~40 ms; tonic only sets it on sockets it accepts itself.
    let incoming = tokio_stream::StreamExt::map(
        tokio_stream::wrappers::TcpListenerStream::new(listener),
        |s| {
            s.inspect(|s| {
                let _ = s.set_nodelay(true);
            })
        },
    );
    tonic::transport::Server::builder()
        .add_service(DpdKironcoreServer::new(Versions))
        .serve_with_incoming(incoming)
        .await?;
    Ok(())
}
