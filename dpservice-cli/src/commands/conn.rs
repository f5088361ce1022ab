//! The connection to the daemon: plain-text HTTP/2, retried until `--connect-timeout`
//! (a daemon that is still starting is reached), no deadline on the calls themselves.

use std::time::Duration;

use dpservice::client::ConnectOptions;
use dpservice::proto;
use dpservice::proto::dpd_kironcore_client::DpdKironcoreClient;
use tonic::transport::Channel;

use crate::error::CliError;

/// The generated gRPC client over one connection.
pub type Client = DpdKironcoreClient<Channel>;

/// Connects to `address` (`host:port`, `[v6]:port`), retrying until `timeout`, with
/// the shared client's connection logic; the calls themselves carry no deadline.
///
/// The error text is upstream's whatever the reason, since scripts match on it.
pub async fn connect(address: &str, timeout: Duration) -> Result<Client, CliError> {
    let opts = ConnectOptions {
        connect_timeout: timeout,
        wait_for_ready: true,
        call_timeout: None,
    };
    match dpservice::client::Client::connect(address, &opts).await {
        Ok(client) => Ok(client.raw()),
        Err(_) => Err(CliError::client(format!(
            "error connecting to {address}: context deadline exceeded"
        ))),
    }
}

/// The service error a `Status` reports, if any.
pub fn status_error(status: Option<&proto::Status>) -> Option<CliError> {
    match status {
        Some(s) if s.code != 0 => Some(CliError::service(s.code, s.message.clone())),
        _ => None,
    }
}

/// The printed status of a reply (`{0,"Success"}` as the daemon sends it).
pub fn reply_status(status: Option<&proto::Status>) -> crate::objects::Status {
    status
        .map(|s| crate::objects::Status {
            code: s.code,
            message: s.message.clone(),
        })
        .unwrap_or_default()
}

/// Calls an RPC: gRPC failures become `grpc` errors, a non-zero `Status.code` a
/// `server` error; the reply otherwise.
macro_rules! rpc {
    ($call:expr) => {
        match $call.await {
            Ok(reply) => {
                let reply = reply.into_inner();
                match $crate::commands::conn::status_error(reply.status.as_ref()) {
                    Some(e) => Err(e),
                    None => Ok(reply),
                }
            }
            Err(status) => Err($crate::error::CliError::grpc(&status)),
        }
    };
}
pub(crate) use rpc;
