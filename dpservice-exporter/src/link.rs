//! The exporter's connection to the daemon: the telemetry socket, reconnected after the
//! daemon restarts, with the time it has been gone (the exporter gives up after
//! `--daemon-timeout` so that Kubernetes counts a restart).

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use dpservice::telemetry::{ClientError, TelemetryClient};

use crate::poll::{poll, PollError, Requests, Snapshot};

/// How long one telemetry answer may take before the connection counts as lost.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the daemon could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// No connection to the telemetry socket.
    #[error(transparent)]
    Connect(ClientError),
    /// The connection broke during a poll.
    #[error(transparent)]
    Poll(#[from] PollError),
}

/// A telemetry connection that reconnects on demand.
#[derive(Debug)]
pub struct Link {
    socket: PathBuf,
    requests: Requests,
    client: Option<TelemetryClient>,
    lost_since: Option<Instant>,
}

impl Link {
    /// Not connected yet; the first [`poll`](Self::poll) connects.
    pub fn new(socket: PathBuf, requests: Requests) -> Link {
        Link {
            socket,
            requests,
            client: None,
            lost_since: None,
        }
    }

    /// Runs a poll cycle, connecting first when needed.
    pub fn poll(&mut self) -> Result<Snapshot, LinkError> {
        let requests = self.requests;
        let client = self.connected()?;
        let result = poll(client, requests).map_err(LinkError::from);
        self.note(result)
    }

    /// Checks the connection with a request the daemon answers without its worker
    /// (`/info`), reconnecting when needed.
    pub fn check(&mut self) -> Result<(), LinkError> {
        let client = self.connected()?;
        let result = client.request("/info").map(drop).map_err(|source| {
            LinkError::Poll(PollError {
                command: "/info".into(),
                source,
            })
        });
        self.note(result)
    }

    /// How long the daemon has been unreachable (`None`: it answered last time).
    pub fn down_for(&self) -> Option<Duration> {
        self.lost_since.map(|t| t.elapsed())
    }

    fn connected(&mut self) -> Result<&mut TelemetryClient, LinkError> {
        if self.client.is_none() {
            match TelemetryClient::connect_with_timeout(&self.socket, ANSWER_TIMEOUT) {
                Ok(client) => {
                    if self.lost_since.is_some() {
                        tracing::info!(socket = %self.socket.display(), "reconnected to the telemetry socket");
                    }
                    self.client = Some(client);
                }
                Err(e) => return self.note(Err(LinkError::Connect(e))),
            }
        }
        self.client
            .as_mut()
            .ok_or(LinkError::Connect(ClientError::Closed))
    }

    fn note<T>(&mut self, result: Result<T, LinkError>) -> Result<T, LinkError> {
        match &result {
            Ok(_) => self.lost_since = None,
            Err(e) => {
                if self.lost_since.is_none() {
                    tracing::error!(error = %e, "lost the daemon");
                }
                self.client = None;
                self.lost_since.get_or_insert_with(Instant::now);
            }
        }
        result
    }
}

/// Waits until the daemon's gRPC port accepts TCP connections (upstream's readiness
/// probe: a 2 s dial, every 5 s, an error line per failed attempt).
pub fn wait_for_grpc(port: u16) {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            Ok(_) => return,
            Err(e) => {
                tracing::error!(address = %addr, error = %e, "dpservice-bin's gRPC port is not ready, retrying in 5 s");
                std::thread::sleep(Duration::from_secs(5));
            }
        }
    }
}
