//! Failures as the CLI reports them (spec §6): where they came from (`server`, `grpc`,
//! `client`), the message chain, the error object, and the exit code.

use serde::Serialize;

use crate::render::{json::to_json, yaml::to_yaml};

/// What went wrong, at the bottom of the message chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// The CLI's own failure: flags, validation, connection, files, rendering.
    Client(String),
    /// The daemon answered with a non-zero `Status.code`.
    Service {
        /// The service error code (201, 343, ...).
        code: u32,
        /// Its symbolic name from `Status.message`.
        name: String,
    },
    /// The call failed at the gRPC level.
    Grpc {
        /// gRPC status code number.
        code: i32,
        /// The status message.
        message: String,
    },
    /// `UNIMPLEMENTED`: client and daemon speak different protocol versions.
    ProtocolMismatch,
    /// Failures already reported line by line (`create -f`); only the exit status is left.
    Reported(u8),
}

/// An error with the context prefixes the commands add (`error getting interface: ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    context: Vec<String>,
    cause: Cause,
}

/// Exit status of client and gRPC errors.
pub const EXIT_CLIENT: u8 = 1;
/// Exit status of service errors.
pub const EXIT_SERVICE: u8 = 2;

/// The code upstream reports for client errors.
pub const CLIENT_ERROR_CODE: u32 = 1000;

impl CliError {
    /// A client error with this full text.
    pub fn client(msg: impl Into<String>) -> CliError {
        CliError {
            context: Vec::new(),
            cause: Cause::Client(msg.into()),
        }
    }

    /// A service error (`[error code N] NAME`).
    pub fn service(code: u32, name: impl Into<String>) -> CliError {
        CliError {
            context: Vec::new(),
            cause: Cause::Service {
                code,
                name: name.into(),
            },
        }
    }

    /// A gRPC-level error; `UNIMPLEMENTED` becomes the protocol-mismatch client error.
    pub fn grpc(status: &tonic::Status) -> CliError {
        let cause = match status.code() {
            tonic::Code::Unimplemented => Cause::ProtocolMismatch,
            code => Cause::Grpc {
                code: code as i32,
                message: status.message().to_owned(),
            },
        };
        CliError {
            context: Vec::new(),
            cause,
        }
    }

    /// Failures already printed; the run ends with `exit`.
    pub fn reported(exit: u8) -> CliError {
        CliError {
            context: Vec::new(),
            cause: Cause::Reported(exit),
        }
    }

    /// Prepends a context (`error getting interface`).
    #[must_use]
    pub fn context(mut self, ctx: impl Into<String>) -> CliError {
        self.context.insert(0, ctx.into());
        self
    }

    /// The bottom of the chain.
    pub fn cause(&self) -> &Cause {
        &self.cause
    }

    /// Whether the daemon answered with this service error code.
    pub fn is_service(&self, code: u32) -> bool {
        matches!(self.cause, Cause::Service { code: c, .. } if c == code)
    }

    /// The full message chain, as text mode prints it.
    pub fn text(&self) -> String {
        let cause = match &self.cause {
            Cause::Client(msg) => msg.clone(),
            Cause::Service { code, name } if name.is_empty() => format!("error code {code}"),
            Cause::Service { code, name } => format!("[error code {code}] {name}"),
            Cause::Grpc { code, message } => {
                format!(
                    "rpc error: code = {} desc = {message}",
                    grpc_code_name(*code)
                )
            }
            Cause::ProtocolMismatch => return PROTOCOL_MISMATCH.to_owned(),
            Cause::Reported(_) => String::new(),
        };
        let mut out = String::new();
        for ctx in &self.context {
            out.push_str(ctx);
            out.push_str(": ");
        }
        out.push_str(&cause);
        out
    }

    /// `server`, `grpc` or `client`.
    pub fn source(&self) -> &'static str {
        match self.cause {
            Cause::Service { .. } => "server",
            Cause::Grpc { .. } => "grpc",
            Cause::Client(_) | Cause::ProtocolMismatch | Cause::Reported(_) => "client",
        }
    }

    /// The process exit status for this error.
    pub fn exit_code(&self) -> u8 {
        match self.cause {
            Cause::Service { .. } | Cause::ProtocolMismatch => EXIT_SERVICE,
            Cause::Client(_) | Cause::Grpc { .. } => EXIT_CLIENT,
            Cause::Reported(exit) => exit,
        }
    }

    /// The error object (`kind: Error`).
    pub fn object(&self) -> ErrorObject {
        let (code, message) = match &self.cause {
            Cause::Service { code, name } => (*code, name.clone()),
            Cause::Grpc { code, message } => (*code as u32, message.clone()),
            Cause::Client(_) | Cause::Reported(_) => (CLIENT_ERROR_CODE, self.text()),
            Cause::ProtocolMismatch => (CLIENT_ERROR_CODE, PROTOCOL_MISMATCH.to_owned()),
        };
        ErrorObject {
            kind: "Error",
            spec: ErrorSpec {
                source: self.source(),
            },
            status: crate::objects::Status { code, message },
        }
    }

    /// The report for `-o <output>` as found by the early scan (spec §6.2).
    pub fn render(&self, output: &str) -> String {
        if let Cause::Reported(_) = self.cause {
            return String::new();
        }
        match output {
            "json" => to_json(&self.object(), false),
            "yaml" => to_yaml(&self.object()),
            _ => format!("{} error: {}\n", self.source(), self.text()),
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

impl std::error::Error for CliError {}

const PROTOCOL_MISMATCH: &str =
    "error in gRPC, client and server are probably using different proto version";

/// The printed error object.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorObject {
    kind: &'static str,
    spec: ErrorSpec,
    status: crate::objects::Status,
}

#[derive(Debug, Clone, Serialize)]
struct ErrorSpec {
    source: &'static str,
}

/// grpc-go's name of a status code (`rpc error: code = Aborted ...`).
pub fn grpc_code_name(code: i32) -> String {
    match code {
        0 => "OK",
        1 => "Canceled",
        2 => "Unknown",
        3 => "InvalidArgument",
        4 => "DeadlineExceeded",
        5 => "NotFound",
        6 => "AlreadyExists",
        7 => "PermissionDenied",
        8 => "ResourceExhausted",
        9 => "FailedPrecondition",
        10 => "Aborted",
        11 => "OutOfRange",
        12 => "Unimplemented",
        13 => "Internal",
        14 => "Unavailable",
        15 => "DataLoss",
        16 => "Unauthenticated",
        n => return format!("Code({n})"),
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn three_sources_render_as_upstream() {
        let e = CliError::service(201, "NOT_FOUND").context("error getting interface");
        assert_eq!(e.render("json"), "{\"kind\":\"Error\",\"spec\":{\"source\":\"server\"},\"status\":{\"code\":201,\"message\":\"NOT_FOUND\"}}\n");
        assert_eq!(
            e.render("name"),
            "server error: error getting interface: [error code 201] NOT_FOUND\n"
        );
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            e.render("yaml"),
            "kind: Error\nspec:\n  source: server\nstatus:\n  code: 201\n  message: NOT_FOUND\n"
        );

        let g = CliError::grpc(&tonic::Status::aborted("not initialized"))
            .context("error checking initialization status");
        assert_eq!(g.render("json"), "{\"kind\":\"Error\",\"spec\":{\"source\":\"grpc\"},\"status\":{\"code\":10,\"message\":\"not initialized\"}}\n");
        assert_eq!(
            g.render(""),
            "grpc error: error checking initialization status: rpc error: code = Aborted desc = not initialized\n"
        );
        assert_eq!(g.exit_code(), 1);

        let c = CliError::client(
            "invalid argument \"xxx\" for \"--vip\" flag: ParseAddr(\"xxx\"): unable to parse IP",
        );
        assert_eq!(c.render("json"), "{\"kind\":\"Error\",\"spec\":{\"source\":\"client\"},\"status\":{\"code\":1000,\"message\":\"invalid argument \\\"xxx\\\" for \\\"--vip\\\" flag: ParseAddr(\\\"xxx\\\"): unable to parse IP\"}}\n");
        assert_eq!(c.exit_code(), 1);

        let u = CliError::grpc(&tonic::Status::unimplemented("x")).context("error getting version");
        assert_eq!(u.source(), "client");
        assert_eq!(u.exit_code(), 2);
        assert_eq!(u.object().status.message, PROTOCOL_MISMATCH);
    }
}
