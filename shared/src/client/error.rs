//! What can go wrong in a call, kept apart by source (grpc-api.md §2): the connection,
//! the gRPC layer, the service's `Status`, or a malformed response.

use std::error::Error as StdError;

use crate::model::{ResponseError, ServiceResponse};
use crate::status::ServiceError;

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The address could not be used (no port, a scheme other than `http`, …).
    #[error("invalid address '{address}': {reason}")]
    Address {
        /// The address as given.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No connection could be made, or it broke during a call.
    #[error("{}", transport_text(.address, .message, *.timed_out))]
    Transport {
        /// The daemon's address.
        address: String,
        /// The underlying error chain (e.g. `connection refused`).
        message: String,
        /// Connecting did not succeed within the connect timeout.
        timed_out: bool,
    },
    /// The call failed at the gRPC level (e.g. `INVALID_ARGUMENT` from validation,
    /// `ABORTED` `not initialized`, or `DEADLINE_EXCEEDED` for the call deadline).
    #[error("gRPC error #{}: {message}", *.code as i32)]
    Grpc {
        /// The gRPC status code.
        code: tonic::Code,
        /// The status message, verbatim.
        message: String,
    },
    /// The daemon executed the call and reported a failure in `Status`.
    #[error("Service error #{code}: {name}")]
    Service {
        /// `Status.code` (§3).
        code: u32,
        /// The code's name from the table, or the daemon's message for a code the table
        /// does not know.
        name: String,
    },
    /// The daemon's answer lacked a field or carried an unusable value.
    #[error(transparent)]
    Response(#[from] ResponseError),
}

fn transport_text(address: &str, message: &str, timed_out: bool) -> String {
    if timed_out {
        format!("error connecting to {address}: timed out ({message})")
    } else {
        format!("error connecting to {address}: {message}")
    }
}

impl ClientError {
    /// The service error, when the daemon reported one the table knows.
    pub fn service_error(&self) -> Option<ServiceError> {
        match self {
            ClientError::Service { code, .. } => ServiceError::from_code(*code),
            _ => None,
        }
    }

    /// A failed call. Statuses that the server sent carry no source error; those tonic
    /// made up locally do: an expired call deadline, or an I/O or connection failure.
    pub(crate) fn from_status(status: &tonic::Status, address: &str) -> ClientError {
        let Some(source) = status.source() else {
            return ClientError::Grpc {
                code: status.code(),
                message: status.message().to_owned(),
            };
        };
        if chain_has::<tonic::TimeoutExpired>(source) {
            // tonic reports its own expiry of the call deadline as CANCELLED.
            return ClientError::Grpc {
                code: tonic::Code::DeadlineExceeded,
                message: status.message().to_owned(),
            };
        }
        ClientError::Transport {
            address: address.to_owned(),
            message: error_chain(status),
            timed_out: false,
        }
    }

    /// `Err` when a response reports a service error or has no `Status` (it must always
    /// carry one, §2).
    pub(crate) fn check<R: ServiceResponse>(response: &R) -> Result<(), ClientError> {
        let status = response
            .status()
            .ok_or_else(|| ResponseError::new("status", "missing"))?;
        if status.code == 0 {
            return Ok(());
        }
        let name = ServiceError::from_code(status.code)
            .map_or_else(|| status.message.clone(), |e| e.name().to_owned());
        Err(ClientError::Service {
            code: status.code,
            name,
        })
    }
}

fn chain_has<E: StdError + 'static>(err: &(dyn StdError + 'static)) -> bool {
    let mut source = Some(err);
    while let Some(e) = source {
        if e.is::<E>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// An error and its sources as one line, without repeating a source that its parent's
/// text already contains.
pub(crate) fn error_chain(err: &dyn StdError) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let part = e.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto;

    #[test]
    fn service_errors_are_named_from_the_table() {
        let r = proto::DeleteVipResponse::failure(ServiceError::SnatNoData);
        let err = ClientError::check(&r).err();
        assert!(
            matches!(err, Some(ClientError::Service { code: 341, ref name }) if name == "SNAT_NO_DATA")
        );
        let unknown = proto::DeleteVipResponse {
            status: Some(proto::Status {
                code: 999,
                message: "NEW_CODE".into(),
            }),
        };
        let err = ClientError::check(&unknown).err();
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some("Service error #999: NEW_CODE")
        );
        assert!(ClientError::check(&proto::DeleteVipResponse::ok()).is_ok());
        let missing = ClientError::check(&proto::DeleteVipResponse::default());
        assert!(matches!(missing, Err(ClientError::Response(ref e)) if e.field == "status"));
    }

    #[test]
    fn server_statuses_are_grpc_errors() {
        let s = tonic::Status::invalid_argument("Invalid interface_id");
        let err = ClientError::from_status(&s, "localhost:1337");
        assert_eq!(err.to_string(), "gRPC error #3: Invalid interface_id");
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let s = tonic::Status::from_error(Box::new(io));
        let err = ClientError::from_status(&s, "localhost:1337");
        assert!(
            matches!(err, ClientError::Transport { ref address, .. } if address == "localhost:1337"),
            "{err:?}"
        );
    }
}
