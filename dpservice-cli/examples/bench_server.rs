//! A minimal gRPC server answering `GetVersion`, for `scripts/bench-cli-startup.sh` when
//! no daemon address is given: the benchmark measures the client, not the daemon.
//!
//! Usage: `bench_server <port>`; prints `ready` once listening.

use dpservice::proto;
use dpservice::proto::dpd_kironcore_server::{DpdKironcore, DpdKironcoreServer};
use tonic::{Request, Response, Status};

#[path = "../tests/support/rpcs.rs"]
mod rpcs;
use rpcs::with_every_rpc;

#[derive(Debug, Clone, Copy)]
struct Versions;

type Reply<T> = Result<Response<T>, Status>;

/// Answers `GetVersion`; every other RPC is unimplemented.
macro_rules! versions_only {
    (get_version: GetVersionRequest => GetVersionResponse; $($m:ident: $req:ident => $resp:ident;)*) => {
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

with_every_rpc!(versions_only);

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
