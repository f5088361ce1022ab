//! systemd's readiness protocol (`Type=notify`): one datagram to `$NOTIFY_SOCKET`
//! once the gRPC port accepts calls, another when shutdown begins. Without the
//! variable (not started by systemd) nothing is sent.

use std::ffi::OsStr;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};

/// The variable systemd sets for services of `Type=notify`.
pub const ENV_VAR: &str = "NOTIFY_SOCKET";

/// Why a notification could not be sent (logged; the daemon runs on regardless).
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The variable holds something that is not a socket path or abstract name.
    #[error("{ENV_VAR}='{0}' is neither a socket path nor an abstract name ('@...')")]
    BadAddress(String),
    /// Sending failed.
    #[error("cannot notify systemd at '{address}': {source}")]
    Send {
        /// The socket named by the variable.
        address: String,
        /// The error.
        source: std::io::Error,
    },
}

/// Tells systemd the daemon is ready (`READY=1`), naming it in the status line.
pub fn ready() -> Result<(), NotifyError> {
    notify("READY=1\nSTATUS=gRPC server accepting calls\n")
}

/// Tells systemd shutdown has begun (`STOPPING=1`).
pub fn stopping() -> Result<(), NotifyError> {
    notify("STOPPING=1\n")
}

/// Sends `state` to the socket in `$NOTIFY_SOCKET`, if set.
pub fn notify(state: &str) -> Result<(), NotifyError> {
    match std::env::var_os(ENV_VAR) {
        Some(address) if !address.is_empty() => send_to(&address, state),
        _ => Ok(()),
    }
}

/// Sends `state` to the notification socket `address` (a path, or `@name` for an
/// abstract socket).
pub fn send_to(address: &OsStr, state: &str) -> Result<(), NotifyError> {
    let text = address.to_string_lossy().into_owned();
    let bytes = address.as_bytes();
    let addr = match bytes.strip_prefix(b"@") {
        Some(name) => SocketAddr::from_abstract_name(name),
        None if bytes.starts_with(b"/") => SocketAddr::from_pathname(address),
        None => return Err(NotifyError::BadAddress(text)),
    }
    .map_err(|_| NotifyError::BadAddress(text.clone()))?;
    let send = |source| NotifyError::Send {
        address: text.clone(),
        source,
    };
    let socket = UnixDatagram::unbound().map_err(send)?;
    socket.send_to_addr(state.as_bytes(), &addr).map_err(send)?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn ready_reaches_a_path_socket() {
        let dir = std::env::temp_dir().join(format!("dps-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify.sock");
        let _ = std::fs::remove_file(&path);
        let listener = UnixDatagram::bind(&path).unwrap();
        send_to(path.as_os_str(), "READY=1\n").unwrap();
        let mut buf = [0u8; 64];
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ready_reaches_an_abstract_socket() {
        let name = format!("dps-notify-test-{}", std::process::id());
        let listener =
            UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes()).unwrap())
                .unwrap();
        send_to(OsStr::new(&format!("@{name}")), "STOPPING=1\n").unwrap();
        let mut buf = [0u8; 64];
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"STOPPING=1\n");
    }

    #[test]
    fn a_relative_name_is_refused_with_the_variable_named() {
        let err = send_to(OsStr::new("notify.sock"), "READY=1\n").unwrap_err();
        assert!(err.to_string().contains(ENV_VAR), "{err}");
    }
}
