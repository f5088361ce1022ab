//! An async client for the dpservice gRPC API that speaks the typed model.
//!
//! ```no_run
//! # async fn demo() -> Result<(), dpservice::client::ClientError> {
//! use dpservice::client::{Client, ConnectOptions};
//! let client = Client::connect("localhost:1337", &ConnectOptions::default()).await?;
//! for iface in client.list_interfaces().await? {
//!     println!("{} {:?}", iface.id, iface.ipv4);
//! }
//! # Ok(()) }
//! ```

use std::time::Duration;

use tokio::time::Instant;
use tonic::transport::{Channel, Endpoint};

use crate::proto::dpd_kironcore_client::DpdKironcoreClient;

mod error;
mod rpcs;

pub use error::ClientError;

/// Where upstream's CLI looks for the daemon by default.
pub const DEFAULT_ADDRESS: &str = "localhost:1337";

/// How to connect and how long calls may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// How long connecting may take in total (upstream CLI: `--connect-timeout`, 4 s).
    pub connect_timeout: Duration,
    /// Retry a failed connection attempt until `connect_timeout` has passed, so that a
    /// daemon that is still starting is reached (upstream's CLI does). Otherwise the first
    /// failure (e.g. connection refused) is reported at once.
    pub wait_for_ready: bool,
    /// Deadline of each call, also sent to the daemon (`grpc-timeout`); `None` for none.
    pub call_timeout: Option<Duration>,
}

impl Default for ConnectOptions {
    fn default() -> ConnectOptions {
        ConnectOptions {
            connect_timeout: Duration::from_secs(4),
            wait_for_ready: true,
            call_timeout: Some(Duration::from_secs(30)),
        }
    }
}

/// A connection to one daemon. Cheap to clone; clones share the connection.
#[derive(Debug, Clone)]
pub struct Client {
    raw: DpdKironcoreClient<Channel>,
    address: String,
    call_timeout: Option<Duration>,
}

/// First and longest pause between connection attempts.
const RETRY_FIRST: Duration = Duration::from_millis(20);
const RETRY_MAX: Duration = Duration::from_millis(500);

impl Client {
    /// Connects to `address`: `host:port` (`localhost:1337`, `127.0.0.1:1337`,
    /// `[::1]:1337`) or an `http://` URI. Every address a host name resolves to is tried.
    pub async fn connect(address: &str, opts: &ConnectOptions) -> Result<Client, ClientError> {
        let endpoint = endpoint(address)?.connect_timeout(opts.connect_timeout);
        let deadline = Instant::now() + opts.connect_timeout;
        let transport = |message: String, timed_out| ClientError::Transport {
            address: address.to_owned(),
            message,
            timed_out,
        };
        let mut pause = RETRY_FIRST;
        let mut last_error = String::from("no attempt finished");
        let channel = loop {
            match tokio::time::timeout_at(deadline, endpoint.connect()).await {
                Ok(Ok(channel)) => break channel,
                Ok(Err(err)) if opts.wait_for_ready => last_error = error::error_chain(&err),
                Ok(Err(err)) => return Err(transport(error::error_chain(&err), false)),
                Err(_) => return Err(transport(last_error, true)),
            }
            if Instant::now() + pause >= deadline {
                tokio::time::sleep_until(deadline).await;
                return Err(transport(last_error, true));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(RETRY_MAX);
        };
        Ok(Client {
            raw: DpdKironcoreClient::new(channel),
            address: address.to_owned(),
            call_timeout: opts.call_timeout,
        })
    }

    /// The address this client was connected with.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The generated client, for calls the model does not cover.
    pub fn raw(&self) -> DpdKironcoreClient<Channel> {
        self.raw.clone()
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Some(timeout) = self.call_timeout {
            request.set_timeout(timeout);
        }
        request
    }
}

/// The endpoint for an address; only plain-text HTTP/2 exists (§1).
fn endpoint(address: &str) -> Result<Endpoint, ClientError> {
    let invalid = |reason: &str| ClientError::Address {
        address: address.to_owned(),
        reason: reason.to_owned(),
    };
    let uri = match address.split_once("://") {
        Some(("http", _)) => address.to_owned(),
        Some((scheme, _)) => {
            return Err(invalid(&format!(
                "scheme '{scheme}' is not supported; the daemon speaks plain http"
            )))
        }
        None => format!("http://{address}"),
    };
    let parsed: tonic::codegen::http::Uri = uri
        .parse()
        .map_err(|_| invalid("expected HOST:PORT, e.g. localhost:1337"))?;
    match parsed.authority() {
        Some(a) if !a.host().is_empty() && a.port_u16().is_some() => {}
        _ => return Err(invalid("expected HOST:PORT, e.g. localhost:1337")),
    }
    Endpoint::from_shared(uri).map_err(|e| invalid(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_forms() {
        for good in [
            "localhost:1337",
            "127.0.0.1:1337",
            "[::1]:1337",
            "http://localhost:1337",
            "http://[::1]:1337/",
        ] {
            assert!(endpoint(good).is_ok(), "{good}");
        }
        for bad in [
            "localhost",
            "",
            ":1337",
            "https://localhost:1337",
            "a b:1",
            "[::1]",
        ] {
            assert!(
                matches!(endpoint(bad), Err(ClientError::Address { .. })),
                "{bad}"
            );
        }
    }
}
