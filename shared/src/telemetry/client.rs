//! A small blocking telemetry client: connect, read the greeting, then one request and
//! one answer at a time over `SOCK_SEQPACKET` (each message is read with one `recv`).

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustix::net::sockopt::{set_socket_timeout, Timeout};
use rustix::net::{
    connect, recv, send, socket_with, AddressFamily, RecvFlags, SendFlags, SocketAddrUnix,
    SocketFlags, SocketType,
};

use super::request::command_of;
use super::MAX_OUTPUT_LEN;

/// How long a client waits for a message unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a telemetry exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The socket cannot be reached.
    #[error("cannot connect to the telemetry socket {path}: {source} (is dpservice-bin running with this --file-prefix?)")]
    Connect {
        /// The socket path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Sending or receiving failed (a timeout included).
    #[error("telemetry socket: {0}")]
    Io(#[from] std::io::Error),
    /// The server closed the connection.
    #[error("the telemetry server closed the connection")]
    Closed,
    /// An answer is not JSON.
    #[error("telemetry answer is not JSON ({source}): {text}")]
    NotJson {
        /// What came.
        text: String,
        /// Why it does not parse.
        source: serde_json::Error,
    },
    /// An answer lacks the key of its command.
    #[error("telemetry answer has no key '{command}': {text}")]
    MissingKey {
        /// The command asked.
        command: String,
        /// What came.
        text: String,
    },
}

/// A connection to a telemetry server.
#[derive(Debug)]
pub struct TelemetryClient {
    fd: OwnedFd,
    greeting: serde_json::Value,
    buf: Vec<u8>,
}

impl TelemetryClient {
    /// Connects to the socket at `path` and reads the greeting.
    pub fn connect(path: &Path) -> Result<TelemetryClient, ClientError> {
        Self::connect_with_timeout(path, DEFAULT_TIMEOUT)
    }

    /// [`connect`](Self::connect) with a limit on every wait for a message.
    pub fn connect_with_timeout(
        path: &Path,
        timeout: Duration,
    ) -> Result<TelemetryClient, ClientError> {
        let fd = open(path, timeout).map_err(|source| ClientError::Connect {
            path: path.to_owned(),
            source,
        })?;
        let mut client = TelemetryClient {
            fd,
            greeting: serde_json::Value::Null,
            buf: vec![0; MAX_OUTPUT_LEN + 1],
        };
        let text = client.receive()?;
        client.greeting = parse(&text)?;
        Ok(client)
    }

    /// The greeting object (`version`, `pid`, `max_output_len`).
    pub fn greeting(&self) -> &serde_json::Value {
        &self.greeting
    }

    /// Sends `message` as it is and returns the answer's text.
    pub fn request_raw(&mut self, message: &str) -> Result<String, ClientError> {
        send(&self.fd, message.as_bytes(), SendFlags::NOSIGNAL).map_err(std::io::Error::from)?;
        self.receive()
    }

    /// Sends `message` (`<command>[,<parameters>]`) and returns the value under the
    /// command's key (`null` for unknown commands).
    pub fn request(&mut self, message: &str) -> Result<serde_json::Value, ClientError> {
        let text = self.request_raw(message)?;
        let mut answer = parse(&text)?;
        let command = command_of(message);
        match answer.get_mut(command) {
            Some(value) => Ok(value.take()),
            None => Err(ClientError::MissingKey {
                command: command.to_owned(),
                text,
            }),
        }
    }

    fn receive(&mut self) -> Result<String, ClientError> {
        let (n, _) =
            recv(&self.fd, &mut self.buf[..], RecvFlags::empty()).map_err(std::io::Error::from)?;
        if n == 0 {
            return Err(ClientError::Closed);
        }
        Ok(String::from_utf8_lossy(&self.buf[..n]).into_owned())
    }
}

fn open(path: &Path, timeout: Duration) -> std::io::Result<OwnedFd> {
    let fd = socket_with(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC,
        None,
    )?;
    set_socket_timeout(&fd, Timeout::Recv, Some(timeout))?;
    set_socket_timeout(&fd, Timeout::Send, Some(timeout))?;
    connect(&fd, &SocketAddrUnix::new(path)?)?;
    Ok(fd)
}

fn parse(text: &str) -> Result<serde_json::Value, ClientError> {
    serde_json::from_str(text).map_err(|source| ClientError::NotJson {
        text: text.to_owned(),
        source,
    })
}
