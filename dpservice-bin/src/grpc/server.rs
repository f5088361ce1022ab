//! The gRPC server: a dual-stack listener on `[::]:<port>`, HTTP/2 keepalive as
//! upstream (PING every 15 s, 20 s to answer), the health service, server reflection
//! (so `grpcurl` works without the .proto files) and the dpservice API.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use dpservice::proto::health::v1::health_server::HealthServer;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::server::{Router, TcpIncoming};
use tonic::transport::Server;

use super::health::HealthReporter;
use super::service::DpService;
use crate::worker::WorkerHandle;
use dpservice::proto::dpd_kironcore_server::DpdKironcoreServer;

/// Upstream's keepalive time.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(15);
/// gRPC's default keepalive timeout.
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The port cannot be bound.
    #[error("cannot listen for gRPC on [::]:{port}: {source} (is another dpservice using it? choose another --grpc-port)")]
    Bind {
        /// `--grpc-port`.
        port: u16,
        /// Why.
        source: std::io::Error,
    },
    /// Reflection descriptors are broken (a build problem).
    #[error("cannot build the gRPC reflection service: {0}")]
    Reflection(String),
    /// The listener cannot join the async runtime.
    #[error("cannot use the gRPC listener: {0}")]
    Listener(std::io::Error),
}

/// Binds `[::]:port` with `IPV6_V6ONLY` off, so IPv4 clients (`127.0.0.1:port`) reach it
/// too; on hosts without IPv6 falls back to `0.0.0.0:port`.
pub fn bind(port: u16) -> Result<std::net::TcpListener, ServerError> {
    let err = |source| ServerError::Bind { port, source };
    let v6 = SocketAddr::from((Ipv6Addr::UNSPECIFIED, port));
    let socket = match Socket::new(Domain::IPV6, Type::STREAM, Some(Protocol::TCP)) {
        Ok(socket) => socket,
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::AFNOSUPPORT.raw_os_error()) => {
            return bind_v4(port).map_err(err)
        }
        Err(e) => return Err(err(e)),
    };
    socket.set_only_v6(false).map_err(err)?;
    socket.set_reuse_address(true).map_err(err)?;
    if let Err(e) = socket.bind(&v6.into()) {
        if e.raw_os_error() == Some(rustix::io::Errno::ADDRNOTAVAIL.raw_os_error()) {
            return bind_v4(port).map_err(err);
        }
        return Err(err(e));
    }
    socket.listen(1024).map_err(err)?;
    socket.set_nonblocking(true).map_err(err)?;
    Ok(socket.into())
}

fn bind_v4(port: u16) -> std::io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)).into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// The running server.
#[derive(Debug)]
pub struct GrpcServer {
    task: JoinHandle<()>,
    stop: oneshot::Sender<()>,
    local_addr: SocketAddr,
}

impl GrpcServer {
    /// Serves on `listener` (from [`bind`]) until [`shutdown`](Self::shutdown); must be
    /// called inside the tokio runtime. `host_underlay` (`--ipv6`) is what preferred
    /// underlays are checked against. `on_failure` hears about a server that dies.
    pub fn start(
        listener: std::net::TcpListener,
        worker: WorkerHandle,
        host_underlay: Ipv6Addr,
        health: &HealthReporter,
        on_failure: impl FnOnce(String) + Send + 'static,
    ) -> Result<GrpcServer, ServerError> {
        let local_addr = listener.local_addr().map_err(ServerError::Listener)?;
        let listener =
            tokio::net::TcpListener::from_std(listener).map_err(ServerError::Listener)?;
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(dpservice::proto::FILE_DESCRIPTOR_SET)
            .build_v1()
            .map_err(|e| ServerError::Reflection(e.to_string()))?;
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(dpservice::proto::FILE_DESCRIPTOR_SET)
            .build_v1alpha()
            .map_err(|e| ServerError::Reflection(e.to_string()))?;
        let router = Server::builder()
            .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
            .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
            .add_service(HealthServer::new(health.service()))
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha);
        let router = add_dpservice(router, worker, host_underlay);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let result = router
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = result {
                tracing::error!(error = %e, "gRPC server failed");
                on_failure(format!("gRPC server failed: {e}"));
            }
        });
        let shown = match local_addr {
            SocketAddr::V6(a) if a.ip().is_unspecified() => format!("[::]:{}", a.port()),
            other => other.to_string(),
        };
        tracing::info!(grpc_server_address = shown, "Server started and listening");
        Ok(GrpcServer {
            task,
            stop,
            local_addr,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, lets running calls finish for up to `grace`, then drops them.
    pub async fn shutdown(self, grace: Duration) {
        let _ = self.stop.send(());
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            tracing::warn!("gRPC calls still running at shutdown, dropping them");
            task.abort();
            let _ = task.await;
        }
    }
}

/// The dpservice API (`dpdkironcore.v1.DPDKironcore`).
fn add_dpservice(router: Router, worker: WorkerHandle, host_underlay: Ipv6Addr) -> Router {
    router.add_service(DpdKironcoreServer::new(DpService::new(
        worker,
        host_underlay,
    )))
}
