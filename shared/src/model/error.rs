//! Conversion errors.

/// A request field failed validation. The text is upstream's exact `INVALID_ARGUMENT`
/// message (e.g. `Invalid interface_id`), which clients and upstream's tests compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidArgument(pub &'static str);

impl InvalidArgument {
    /// The message sent with gRPC status `INVALID_ARGUMENT`.
    pub fn message(self) -> &'static str {
        self.0
    }
}

impl From<InvalidArgument> for tonic::Status {
    fn from(err: InvalidArgument) -> tonic::Status {
        tonic::Status::invalid_argument(err.0)
    }
}

/// A response from the daemon did not carry a well-formed value in a field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field} in the daemon's response: {problem}")]
pub struct ResponseError {
    /// Path of the offending field, e.g. `interface.primary_ipv4`.
    pub field: &'static str,
    /// What was wrong with it.
    pub problem: String,
}

impl ResponseError {
    /// An error for `field`.
    pub fn new(field: &'static str, problem: impl Into<String>) -> ResponseError {
        ResponseError {
            field,
            problem: problem.into(),
        }
    }
}
