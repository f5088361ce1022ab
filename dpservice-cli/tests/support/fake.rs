//! A scripted `DPDKironcore` server on loopback.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use dpservice::proto;
use dpservice::proto::dpd_kironcore_server::{DpdKironcore, DpdKironcoreServer};
use tonic::{Request, Response, Status};

use super::rpcs::with_every_rpc;
use super::{run_cli, words, Run};

/// The script, the record and the service, one field and one method per RPC.
macro_rules! fake_service {
    ($($m:ident: $req:ident => $resp:ident;)*) => {
        /// Replies queued per RPC, answered in order.
        #[derive(Debug, Default)]
        pub struct Script {
            $(pub $m: VecDeque<Result<proto::$resp, Status>>,)*
        }

        /// Requests received per RPC.
        #[derive(Debug, Default, Clone)]
        pub struct Seen {
            $(pub $m: Vec<proto::$req>,)*
        }

        #[derive(Debug, Default)]
        struct State {
            script: Mutex<Script>,
            seen: Mutex<Seen>,
        }

        #[derive(Debug, Clone)]
        struct Service(Arc<State>);

        #[tonic::async_trait]
        impl DpdKironcore for Service {
            $(
                async fn $m(&self, r: Request<proto::$req>) -> Result<Response<proto::$resp>, Status> {
                    self.0.seen.lock().unwrap().$m.push(r.into_inner());
                    match self.0.script.lock().unwrap().$m.pop_front() {
                        Some(Ok(reply)) => Ok(Response::new(reply)),
                        Some(Err(status)) => Err(status),
                        None => Err(Status::internal(concat!("unscripted call: ", stringify!($m)))),
                    }
                }
            )*
        }
    };
}

with_every_rpc!(fake_service);

/// A running scripted server (stopped when dropped with its thread's runtime).
#[derive(Debug)]
pub struct Fake {
    state: Arc<State>,
    /// The loopback port it listens on.
    pub port: u16,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Fake {
    /// Starts a server on a free loopback port.
    pub fn start() -> Fake {
        let state = Arc::new(State::default());
        let service = Service(state.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
                tonic::transport::Server::builder()
                    .add_service(DpdKironcoreServer::new(service))
                    .serve_with_incoming_shutdown(incoming, async {
                        let _ = rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Fake {
            state,
            port,
            _shutdown: tx,
        }
    }

    /// Queues replies.
    pub fn script(&self, f: impl FnOnce(&mut Script)) {
        f(&mut self.state.script.lock().unwrap());
    }

    /// The requests received so far.
    pub fn seen(&self) -> Seen {
        self.state.seen.lock().unwrap().clone()
    }

    /// Runs the CLI against this server, as upstream's harness calls it (address first).
    pub fn cli(&self, line: &str) -> Run {
        let mut args = vec![format!("--address=127.0.0.1:{}", self.port)];
        args.extend(words(line));
        run_cli(&args)
    }
}

/// `Status {0, "Success"}`.
pub fn ok() -> Option<proto::Status> {
    Some(proto::Status {
        code: 0,
        message: "Success".into(),
    })
}

/// A service error status.
pub fn err(code: u32, name: &str) -> Option<proto::Status> {
    Some(proto::Status {
        code,
        message: name.into(),
    })
}

/// An `IpAddress` from text.
pub fn ip(s: &str) -> Option<proto::IpAddress> {
    let ipver = if s.contains(':') { 1 } else { 0 };
    Some(proto::IpAddress {
        ipver,
        address: s.as_bytes().to_vec(),
    })
}

/// A wire prefix.
pub fn prefix(addr: &str, len: u32, underlay: &str) -> proto::Prefix {
    proto::Prefix {
        ip: ip(addr),
        length: len,
        underlay_route: underlay.as_bytes().to_vec(),
    }
}

/// A wire interface.
pub fn iface(
    id: &str,
    vni: u32,
    dev: &str,
    v4: &str,
    v6: &str,
    ul: &str,
    rates: (u64, u64),
    host: &str,
) -> proto::Interface {
    proto::Interface {
        id: id.as_bytes().to_vec(),
        vni,
        primary_ipv4: v4.as_bytes().to_vec(),
        primary_ipv6: v6.as_bytes().to_vec(),
        underlay_route: ul.as_bytes().to_vec(),
        pci_name: dev.into(),
        metering_params: Some(proto::MeteringParams {
            total_rate: rates.0,
            public_rate: rates.1,
        }),
        hostname: host.into(),
    }
}
