//! Log lines leave the logging thread at once: they go through a bounded queue to the
//! `logwriter` thread, which writes them out (stdout in the daemon). When the queue is full
//! (stdout stalled: a full pipe, a stopped reader) the line is dropped and counted instead
//! of waited for, so the worker never stalls packets on a log line; the writer reports how
//! many were lost as soon as it can write again. [`LogFlush`], held by `main`, writes out
//! what is queued when the process ends.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Lines that may wait for the writer (about 1 MiB of typical lines).
pub const QUEUE_LINES: usize = 8192;

/// How long the exit flush waits for a stalled output.
pub const EXIT_FLUSH: Duration = Duration::from_secs(2);

enum Msg {
    Line(String),
    Flush(SyncSender<()>),
}

/// Hands lines to the writer thread without ever blocking. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LineSender {
    tx: SyncSender<Msg>,
    lost: Arc<AtomicU64>,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Msg::Line(l) => f.debug_tuple("Line").field(l).finish(),
            Msg::Flush(_) => f.write_str("Flush"),
        }
    }
}

impl LineSender {
    /// Queues a line (newline included); a full queue drops and counts it.
    pub fn send(&self, line: String) {
        if self.tx.try_send(Msg::Line(line)).is_err() {
            self.lost.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Lines dropped so far and not yet reported by the writer.
    pub fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }
}

/// Writes out the queued lines on [`flush`](LogFlush::flush) and when dropped.
#[derive(Debug)]
pub struct LogFlush {
    tx: SyncSender<Msg>,
}

impl LogFlush {
    /// Waits up to `limit` until every line queued before the call is written.
    pub fn flush(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let (ack, acked) = sync_channel(1);
        let mut msg = Msg::Flush(ack);
        loop {
            match self.tx.try_send(msg) {
                Ok(()) => break,
                Err(TrySendError::Full(m)) if Instant::now() < deadline => {
                    msg = m;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(_) => return false,
            }
        }
        acked
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .is_ok()
    }
}

impl Drop for LogFlush {
    fn drop(&mut self) {
        self.flush(EXIT_FLUSH);
    }
}

/// Starts the `logwriter` thread writing to `out`, with room for `capacity` waiting
/// lines. `lost_line(n)` formats the line that reports `n` dropped lines.
pub fn spawn<W: Write + Send + 'static>(
    out: W,
    capacity: usize,
    lost_line: impl Fn(u64) -> String + Send + 'static,
) -> std::io::Result<(LineSender, LogFlush)> {
    let (tx, rx) = sync_channel(capacity);
    let lost = Arc::new(AtomicU64::new(0));
    std::thread::Builder::new()
        .name("logwriter".into())
        .spawn({
            let lost = Arc::clone(&lost);
            move || write_lines(out, &rx, &lost, &lost_line)
        })?;
    Ok((
        LineSender {
            tx: tx.clone(),
            lost,
        },
        LogFlush { tx },
    ))
}

fn write_lines<W: Write>(
    mut out: W,
    rx: &Receiver<Msg>,
    lost: &AtomicU64,
    lost_line: &dyn Fn(u64) -> String,
) {
    // ends when every sender is gone; write errors (a closed stdout) must not stop the
    // daemon, so they are ignored like the lines they concern
    while let Ok(msg) = rx.recv() {
        let n = lost.swap(0, Ordering::Relaxed);
        if n > 0 {
            let _ = out.write_all(lost_line(n).as_bytes());
        }
        match msg {
            Msg::Line(line) => {
                let _ = out.write_all(line.as_bytes());
            }
            Msg::Flush(ack) => {
                let _ = out.flush();
                let _ = ack.try_send(());
            }
        }
    }
    let _ = out.flush();
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::sync::{Condvar, Mutex};

    use super::*;

    /// An output that blocks every write until opened, like a pipe nobody reads.
    #[derive(Clone, Default)]
    struct Gate {
        open: Arc<(Mutex<bool>, Condvar)>,
        written: Arc<Mutex<Vec<u8>>>,
        /// Writes begun (the writer thread is stuck in the first until the gate opens).
        begun: Arc<AtomicU64>,
    }

    impl Gate {
        fn open(&self) {
            *self.open.0.lock().unwrap() = true;
            self.open.1.notify_all();
        }

        fn text(&self) -> String {
            String::from_utf8(self.written.lock().unwrap().clone()).unwrap()
        }
    }

    impl Write for Gate {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.begun.fetch_add(1, Ordering::Relaxed);
            let mut open = self.open.0.lock().unwrap();
            while !*open {
                open = self.open.1.wait(open).unwrap();
            }
            self.written.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stalled_output_never_blocks_the_logger_and_losses_are_reported() {
        let gate = Gate::default();
        let (lines, flush) = spawn(gate.clone(), 4, |n| format!("lost {n}\n")).unwrap();
        // the writer thread takes line 0 and blocks in it: a stalled pipe from here on
        lines.send("line 0\n".into());
        let deadline = Instant::now() + Duration::from_secs(5);
        while gate.begun.load(Ordering::Relaxed) == 0 {
            assert!(Instant::now() < deadline, "the writer never began a write");
            std::thread::sleep(Duration::from_millis(1));
        }
        let start = Instant::now();
        for i in 1..1000 {
            lines.send(format!("line {i}\n"));
        }
        let took = start.elapsed();
        // a logger that waited for the stalled pipe would never get here; the bound
        // only leaves room for a loaded CI machine
        assert!(took < Duration::from_secs(1), "logging waited {took:?}");
        // the writer holds line 0, the queue four more: the rest was dropped
        let lost = lines.lost();
        assert_eq!(lost, 995);
        gate.open();
        assert!(flush.flush(Duration::from_secs(2)));
        let text = gate.text();
        let written = text.lines().filter(|l| l.starts_with("line ")).count() as u64;
        assert_eq!(written + lost, 1000, "{text}");
        // the oldest lines survive, in order
        let kept: Vec<&str> = text.lines().filter(|l| l.starts_with("line ")).collect();
        let expect: Vec<String> = (0..written).map(|i| format!("line {i}")).collect();
        assert_eq!(kept, expect, "{text}");
        assert!(text.contains(&format!("lost {lost}\n")), "{text}");
        // and once it writes again, nothing more is lost
        lines.send("after\n".into());
        drop(flush);
        assert!(gate.text().ends_with("after\n"));
    }
}
