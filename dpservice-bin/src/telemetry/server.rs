//! The telemetry server: a thread of its own serving `AF_UNIX SOCK_SEQPACKET` at
//! `<runtime dir>/dpdk_telemetry.v2` (tools.md §3.1). One poll(2) loop over the listening
//! socket, the clients (at most [`MAX_CLIENTS`]; more are accepted and closed at once)
//! and a stop eventfd. Each client gets the greeting, then one answer per request.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use dpservice::telemetry::request::received_text;
use dpservice::telemetry::{Greeting, MAX_CLIENTS, MAX_REQUEST_LEN};
use rustix::event::{eventfd, poll, EventfdFlags, PollFd, PollFlags};
use rustix::net::{
    accept_with, bind, listen, recv, send, socket_with, AddressFamily, RecvFlags, SendFlags,
    SocketAddrUnix, SocketFlags, SocketType,
};

use super::commands::Commands;
use super::share::SnapshotShare;

/// How long an answer waits for the worker to publish a fresh snapshot. The worker
/// publishes at its next loop turn (microseconds); this bound only matters when it is
/// starved of CPU, and then a late but current answer beats a stale one.
pub const PATIENCE: Duration = Duration::from_millis(500);

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The socket cannot be created where it belongs.
    #[error("cannot serve telemetry at {path}: {source}")]
    Socket {
        /// The socket path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The thread cannot start.
    #[error("cannot start the telemetry thread: {0}")]
    Thread(std::io::Error),
}

/// The running server; stopped (thread joined, socket file removed) on drop.
#[derive(Debug)]
pub struct TelemetryServer {
    path: PathBuf,
    stop: Arc<OwnedFd>,
    thread: Option<JoinHandle<()>>,
}

impl TelemetryServer {
    /// Binds `path` (replacing a leftover file; the caller holds the runtime directory's
    /// lock, so no live server uses it) and starts serving. `wake` wakes the worker so
    /// that it publishes a snapshot into `share`.
    pub fn start(
        path: &Path,
        commands: Commands,
        share: Arc<SnapshotShare>,
        wake: Box<dyn Fn() + Send>,
    ) -> Result<TelemetryServer, TelemetryError> {
        let err = |source: std::io::Error| TelemetryError::Socket {
            path: path.to_owned(),
            source,
        };
        let listener = listen_at(path).map_err(err)?;
        let stop = Arc::new(
            eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)
                .map_err(|e| err(e.into()))?,
        );
        let thread = std::thread::Builder::new()
            .name("telemetry".into())
            .spawn({
                let stop = Arc::clone(&stop);
                move || {
                    let mut snapshot = || share.fresh(&*wake, PATIENCE);
                    serve(&listener, &stop, &commands, &mut snapshot);
                }
            })
            .map_err(TelemetryError::Thread)?;
        tracing::info!(path = %path.display(), "Telemetry socket ready");
        Ok(TelemetryServer {
            path: path.to_owned(),
            stop,
            thread: Some(thread),
        })
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops serving and removes the socket file.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for TelemetryServer {
    fn drop(&mut self) {
        let _ = rustix::io::write(&*self.stop, &1u64.to_ne_bytes());
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                tracing::error!("The telemetry thread had panicked");
            }
        }
        if let Err(e) = std::fs::remove_file(&self.path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path = %self.path.display(), error = %e, "Cannot remove the telemetry socket");
            }
        }
    }
}

fn listen_at(path: &Path) -> std::io::Result<OwnedFd> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let fd = socket_with(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
        None,
    )?;
    bind(&fd, &SocketAddrUnix::new(path)?)?;
    listen(&fd, MAX_CLIENTS as i32)?;
    Ok(fd)
}

fn serve(
    listener: &OwnedFd,
    stop: &OwnedFd,
    commands: &Commands,
    snapshot: &mut dyn FnMut() -> Arc<super::TelemetrySnapshot>,
) {
    let greeting = Greeting::of_this_process().render();
    let mut clients: Vec<OwnedFd> = Vec::with_capacity(MAX_CLIENTS);
    let mut buf = vec![0u8; MAX_REQUEST_LEN];
    loop {
        let (stopped, incoming, ready) = {
            let mut fds = Vec::with_capacity(2 + clients.len());
            fds.push(PollFd::new(stop, PollFlags::IN));
            fds.push(PollFd::new(listener, PollFlags::IN));
            fds.extend(clients.iter().map(|c| PollFd::new(c, PollFlags::IN)));
            if let Err(e) = poll(&mut fds, None) {
                if e != rustix::io::Errno::INTR {
                    tracing::error!(error = %e, "Telemetry server stops: poll failed");
                    return;
                }
                continue;
            }
            let ready: Vec<bool> = fds[2..].iter().map(|f| !f.revents().is_empty()).collect();
            (
                !fds[0].revents().is_empty(),
                !fds[1].revents().is_empty(),
                ready,
            )
        };
        if stopped {
            return;
        }
        // answer in client order; collect the ones that are gone
        let mut gone = Vec::new();
        for (i, _) in ready.iter().enumerate().filter(|(_, r)| **r) {
            if !serve_one(&clients[i], &mut buf, commands, snapshot) {
                gone.push(i);
            }
        }
        for i in gone.into_iter().rev() {
            clients.swap_remove(i);
        }
        if incoming {
            accept_clients(listener, &mut clients, &greeting);
        }
    }
}

fn accept_clients(listener: &OwnedFd, clients: &mut Vec<OwnedFd>, greeting: &str) {
    while let Ok(client) = accept_with(listener, SocketFlags::CLOEXEC) {
        if clients.len() >= MAX_CLIENTS {
            // accepted and closed at once, as DPDK does
            continue;
        }
        if send(
            &client,
            greeting.as_bytes(),
            SendFlags::DONTWAIT | SendFlags::NOSIGNAL,
        )
        .is_ok()
        {
            clients.push(client);
        }
    }
}

/// Reads one request and answers it; false when the client is gone (or cannot take
/// the answer now: a client that does not read is dropped, never waited for).
fn serve_one(
    client: &OwnedFd,
    buf: &mut [u8],
    commands: &Commands,
    snapshot: &mut dyn FnMut() -> Arc<super::TelemetrySnapshot>,
) -> bool {
    // a longer message is cut to the buffer (SOCK_SEQPACKET drops the rest)
    let n = match recv(client.as_fd(), &mut *buf, RecvFlags::DONTWAIT) {
        Ok((0, _)) => return false,
        Ok((n, _)) => n.min(buf.len()),
        Err(rustix::io::Errno::AGAIN | rustix::io::Errno::INTR) => return true,
        Err(_) => return false,
    };
    let text = received_text(&buf[..n]);
    let answer = commands.answer(&text, snapshot);
    send(
        client,
        answer.as_bytes(),
        SendFlags::DONTWAIT | SendFlags::NOSIGNAL,
    )
    .is_ok()
}
