//! gRPC control-plane benchmark: CreateInterface / GetInterface / DeleteInterface over
//! loopback against the real daemon, and against a bare tonic server (same protos,
//! canned answers, no worker, no state) measured in the same run as the baseline.
//!
//! `cargo bench -p dpservice-bin --bench grpc` prints a table and one JSON line per
//! server; BENCHMARKS.md records the figures.
//!
//! - latency: one client, one call at a time, `CYCLES` create/get/delete cycles;
//! - throughput: `CLIENTS` concurrent clients on one HTTP/2 connection, each cycling on
//!   its own VF, for `THROUGHPUT_CYCLES` cycles each; every RPC counts as one operation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dpservice::proto::dpd_kironcore_client::DpdKironcoreClient;
use dpservice::proto::dpd_kironcore_server::{DpdKironcore, DpdKironcoreServer};
use dpservice::proto::*;
use tonic::transport::Channel;
use tonic::{Request, Response};

const CYCLES: usize = 3000;
const CLIENTS: usize = 8;
const THROUGHPUT_CYCLES: usize = 1000;
const WARMUP: usize = 200;

fn ok() -> Option<Status> {
    Some(Status {
        code: 0,
        message: String::new(),
    })
}

/// The baseline: every RPC answers at once with a default response; the three measured
/// ones answer with responses shaped like the daemon's.
#[derive(Debug, Default)]
struct Bare;

macro_rules! bare_service {
    ($($name:ident($req:ident) -> $resp:ident;)*) => {
        #[tonic::async_trait]
        impl DpdKironcore for Bare {
            $(
                async fn $name(
                    &self,
                    _request: Request<$req>,
                ) -> Result<Response<$resp>, tonic::Status> {
                    Ok(Response::new($resp::default()))
                }
            )*

            async fn create_interface(
                &self,
                request: Request<CreateInterfaceRequest>,
            ) -> Result<Response<CreateInterfaceResponse>, tonic::Status> {
                let r = request.into_inner();
                Ok(Response::new(CreateInterfaceResponse {
                    status: ok(),
                    underlay_route: b"fc00:1::d000:1:0:1".to_vec(),
                    vf: Some(VirtualFunction {
                        name: r.device_name,
                        ..Default::default()
                    }),
                }))
            }

            async fn get_interface(
                &self,
                request: Request<GetInterfaceRequest>,
            ) -> Result<Response<GetInterfaceResponse>, tonic::Status> {
                let r = request.into_inner();
                Ok(Response::new(GetInterfaceResponse {
                    status: ok(),
                    interface: Some(Interface {
                        id: r.interface_id,
                        vni: 100,
                        primary_ipv4: b"10.0.0.1".to_vec(),
                        primary_ipv6: b"2001::1".to_vec(),
                        underlay_route: b"fc00:1::d000:1:0:1".to_vec(),
                        pci_name: "net_tap2".to_owned(),
                        ..Default::default()
                    }),
                }))
            }

            async fn delete_interface(
                &self,
                _request: Request<DeleteInterfaceRequest>,
            ) -> Result<Response<DeleteInterfaceResponse>, tonic::Status> {
                Ok(Response::new(DeleteInterfaceResponse { status: ok() }))
            }
        }
    };
}

bare_service! {
    check_initialized(CheckInitializedRequest) -> CheckInitializedResponse;
    initialize(InitializeRequest) -> InitializeResponse;
    get_version(GetVersionRequest) -> GetVersionResponse;
    list_interfaces(ListInterfacesRequest) -> ListInterfacesResponse;
    list_prefixes(ListPrefixesRequest) -> ListPrefixesResponse;
    create_prefix(CreatePrefixRequest) -> CreatePrefixResponse;
    delete_prefix(DeletePrefixRequest) -> DeletePrefixResponse;
    list_load_balancer_prefixes(ListLoadBalancerPrefixesRequest) -> ListLoadBalancerPrefixesResponse;
    create_load_balancer_prefix(CreateLoadBalancerPrefixRequest) -> CreateLoadBalancerPrefixResponse;
    delete_load_balancer_prefix(DeleteLoadBalancerPrefixRequest) -> DeleteLoadBalancerPrefixResponse;
    create_vip(CreateVipRequest) -> CreateVipResponse;
    get_vip(GetVipRequest) -> GetVipResponse;
    delete_vip(DeleteVipRequest) -> DeleteVipResponse;
    create_load_balancer(CreateLoadBalancerRequest) -> CreateLoadBalancerResponse;
    get_load_balancer(GetLoadBalancerRequest) -> GetLoadBalancerResponse;
    delete_load_balancer(DeleteLoadBalancerRequest) -> DeleteLoadBalancerResponse;
    list_load_balancers(ListLoadBalancersRequest) -> ListLoadBalancersResponse;
    create_load_balancer_target(CreateLoadBalancerTargetRequest) -> CreateLoadBalancerTargetResponse;
    list_load_balancer_targets(ListLoadBalancerTargetsRequest) -> ListLoadBalancerTargetsResponse;
    delete_load_balancer_target(DeleteLoadBalancerTargetRequest) -> DeleteLoadBalancerTargetResponse;
    create_nat(CreateNatRequest) -> CreateNatResponse;
    get_nat(GetNatRequest) -> GetNatResponse;
    delete_nat(DeleteNatRequest) -> DeleteNatResponse;
    list_local_nats(ListLocalNatsRequest) -> ListLocalNatsResponse;
    create_neighbor_nat(CreateNeighborNatRequest) -> CreateNeighborNatResponse;
    delete_neighbor_nat(DeleteNeighborNatRequest) -> DeleteNeighborNatResponse;
    list_neighbor_nats(ListNeighborNatsRequest) -> ListNeighborNatsResponse;
    list_routes(ListRoutesRequest) -> ListRoutesResponse;
    create_route(CreateRouteRequest) -> CreateRouteResponse;
    delete_route(DeleteRouteRequest) -> DeleteRouteResponse;
    check_vni_in_use(CheckVniInUseRequest) -> CheckVniInUseResponse;
    reset_vni(ResetVniRequest) -> ResetVniResponse;
    list_firewall_rules(ListFirewallRulesRequest) -> ListFirewallRulesResponse;
    create_firewall_rule(CreateFirewallRuleRequest) -> CreateFirewallRuleResponse;
    get_firewall_rule(GetFirewallRuleRequest) -> GetFirewallRuleResponse;
    delete_firewall_rule(DeleteFirewallRuleRequest) -> DeleteFirewallRuleResponse;
    capture_start(CaptureStartRequest) -> CaptureStartResponse;
    capture_stop(CaptureStopRequest) -> CaptureStopResponse;
    capture_status(CaptureStatusRequest) -> CaptureStatusResponse;
}

/// One create/get/delete cycle on `device`; returns the three latencies.
async fn cycle(
    client: &mut DpdKironcoreClient<Channel>,
    id: &str,
    vni: u32,
    device: &str,
    ipv4: &str,
) -> [Duration; 3] {
    let t0 = Instant::now();
    let code = support::api::create_interface(client, id, vni, device, ipv4, "2001::1").await;
    assert_eq!(code, 0, "CreateInterface");
    let t1 = Instant::now();
    let (code, _, _) = support::api::get_interface(client, id).await;
    assert_eq!(code, 0, "GetInterface");
    let t2 = Instant::now();
    let r = client
        .delete_interface(DeleteInterfaceRequest {
            interface_id: id.as_bytes().to_vec(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.status.unwrap_or_default().code, 0, "DeleteInterface");
    let t3 = Instant::now();
    [t1 - t0, t2 - t1, t3 - t2]
}

#[derive(Debug, Default)]
struct Figures {
    /// p50 and p99 in µs for create, get, delete.
    p50: [f64; 3],
    p99: [f64; 3],
    /// RPCs per second with `CLIENTS` concurrent clients.
    throughput: f64,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e6
}

async fn measure(channel: Channel, devices: &[String]) -> Figures {
    let mut client = DpdKironcoreClient::new(channel.clone());
    for i in 0..WARMUP {
        cycle(&mut client, &format!("w{i}"), 100, &devices[0], "10.0.0.1").await;
    }
    let mut lat: [Vec<Duration>; 3] = Default::default();
    for i in 0..CYCLES {
        let d = cycle(&mut client, &format!("vm{i}"), 100, &devices[0], "10.0.0.1").await;
        for (k, v) in d.into_iter().enumerate() {
            lat[k].push(v);
        }
    }
    let mut fig = Figures::default();
    for (k, l) in lat.iter_mut().enumerate() {
        l.sort();
        fig.p50[k] = percentile(l, 0.50);
        fig.p99[k] = percentile(l, 0.99);
    }

    let start = Instant::now();
    let mut tasks = Vec::new();
    for (c, device) in devices.iter().take(CLIENTS).enumerate() {
        let mut client = DpdKironcoreClient::new(channel.clone());
        let device = device.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..THROUGHPUT_CYCLES {
                let vni = 200 + c as u32;
                let ip = format!("10.{c}.0.1");
                cycle(&mut client, &format!("c{c}-{i}"), vni, &device, &ip).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let ops = (CLIENTS * THROUGHPUT_CYCLES * 3) as f64;
    fig.throughput = ops / start.elapsed().as_secs_f64();
    fig
}

fn report(name: &str, f: &Figures) {
    println!(
        "{{\"server\":\"{name}\",\"create_p50_us\":{:.1},\"create_p99_us\":{:.1},\
         \"get_p50_us\":{:.1},\"get_p99_us\":{:.1},\"delete_p50_us\":{:.1},\
         \"delete_p99_us\":{:.1},\"throughput_rpc_per_s\":{:.0},\"clients\":{CLIENTS}}}",
        f.p50[0], f.p99[0], f.p50[1], f.p99[1], f.p50[2], f.p99[2], f.throughput
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs this as a smoke test
    let quick = !std::env::args().any(|a| a == "--bench");
    if quick {
        println!("grpc bench: run with `cargo bench -p dpservice-bin --bench grpc`");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let daemon = support::Daemon::builder().vfs(CLIENTS).spawn();
    let devices = daemon.taps().vf_devices();

    let (ours, bare) = rt.block_on(async {
        let channel = daemon.channel().await;
        support::api::initialize(&mut DpdKironcoreClient::new(channel.clone())).await;
        let ours = measure(channel, &devices).await;

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(DpdKironcoreServer::new(Bare))
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
        );
        let channel = support::channel_in(None, addr).await.unwrap();
        let bare = measure(channel, &devices).await;
        (ours, bare)
    });

    println!("gRPC over loopback, µs (p50 / p99), {CYCLES} sequential cycles; throughput with {CLIENTS} concurrent clients");
    println!(
        "{:<22} {:>18} {:>18} {:>18} {:>14}",
        "server", "create", "get", "delete", "RPC/s"
    );
    for (name, f) in [("dpservice-bin", &ours), ("bare tonic (baseline)", &bare)] {
        println!(
            "{name:<22} {:>8.1} / {:>7.1} {:>8.1} / {:>7.1} {:>8.1} / {:>7.1} {:>14.0}",
            f.p50[0], f.p99[0], f.p50[1], f.p99[1], f.p50[2], f.p99[2], f.throughput
        );
    }
    println!(
        "ratio dpservice-bin / baseline: p99 create {:.2}, get {:.2}, delete {:.2}; throughput {:.2}",
        ours.p99[0] / bare.p99[0],
        ours.p99[1] / bare.p99[1],
        ours.p99[2] / bare.p99[2],
        ours.throughput / bare.throughput
    );
    report("dpservice-bin", &ours);
    report("bare-tonic", &bare);
}
