//! Log lines on stdout in upstream's two formats (dataplane.md §1.5):
//!
//! - text: `2024-05-01 12:00:00.123 1(control) I SERVICE: Starting, key: value [src/lib.rs:42]`
//! - json: `{ "ts": "...", "thread_id": 1, "thread_name": "control", "level": "Info",
//!   "logger": "service", "msg": "...", "key": "value", "caller": "src/lib.rs:42" }`
//!
//! Code logs with `tracing` macros. The logger (`SERVICE`/`GRAPH`/`GRPC`) follows the
//! event's target: modules under `crate::grpc` log as GRPC, under `crate::graph` or
//! `crate::nodes` as GRAPH, everything else as SERVICE (or say `target: "grpc"` /
//! `target: "graph"`). Levels come from the EAL `--log-level` option (`user1` service,
//! `user2` graph, `user3` grpc; default info, `--log-level=user*:8` for debug).
//! Thread names: the main thread is `control`; others use their std thread name
//! (`worker`, `grpc`, `standby`).
//!
//! Lines are formatted on the logging thread and written by the `logwriter` thread
//! ([`crate::log_writer`]): a stalled stdout loses (and counts) lines instead of stalling
//! the worker.

use std::cell::Cell;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{ColorMode, Config, LogFormat};
use crate::log_writer::{self, LineSender, LogFlush};

/// The three log types of upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logger {
    /// `SERVICE` / `service`
    Service,
    /// `GRAPH` / `graph`
    Graph,
    /// `GRPC` / `grpc`
    Grpc,
}

impl Logger {
    /// Which logger an event target belongs to.
    pub fn of_target(target: &str) -> Logger {
        let under = |module: &str| {
            target == module
                || target
                    .strip_prefix("dpservice_bin::")
                    .is_some_and(|rest| rest == module || rest.starts_with(&format!("{module}::")))
        };
        if under("grpc") {
            Logger::Grpc
        } else if under("graph") || under("nodes") {
            Logger::Graph
        } else {
            Logger::Service
        }
    }

    fn text(self) -> &'static str {
        match self {
            Logger::Service => "SERVICE",
            Logger::Graph => "GRAPH",
            Logger::Grpc => "GRPC",
        }
    }

    fn json(self) -> &'static str {
        match self {
            Logger::Service => "service",
            Logger::Graph => "graph",
            Logger::Grpc => "grpc",
        }
    }
}

/// Upstream's level names (DPDK's); the text format prints the first letter.
fn level_name(level: Level) -> &'static str {
    match level {
        Level::ERROR => "Error",
        Level::WARN => "Warning",
        Level::INFO => "Info",
        Level::DEBUG | Level::TRACE => "Debug",
    }
}

/// A DPDK level (1 emergency .. 8 debug) as a tracing filter.
pub fn dpdk_level_filter(level: u8) -> LevelFilter {
    match level {
        0..=4 => LevelFilter::ERROR,
        5 => LevelFilter::WARN,
        6 | 7 => LevelFilter::INFO,
        _ => LevelFilter::DEBUG,
    }
}

/// A field value as upstream prints it (numbers bare in JSON, everything else quoted).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text.
    Str(String),
    /// Signed integer.
    Int(i64),
    /// Unsigned integer.
    Uint(u64),
    /// Boolean.
    Bool(bool),
    /// Floating point.
    Float(f64),
}

/// One log line before formatting.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    /// Wall-clock time.
    pub time: SystemTime,
    /// Small per-thread number.
    pub thread_id: u16,
    /// `control`, `worker`, `grpc`, `standby`, ...
    pub thread_name: &'a str,
    /// Level.
    pub level: Level,
    /// Logger.
    pub logger: Logger,
    /// The message.
    pub msg: &'a str,
    /// Structured fields in order.
    pub fields: &'a [(&'static str, Value)],
    /// Source file and line.
    pub caller: Option<(&'a str, u32)>,
}

/// `YYYY-MM-DD HH:MM:SS.mmm` in UTC, as upstream.
pub fn timestamp(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:03}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

const COLOR_ERR: &str = "\x1b[0;31m";
const COLOR_WARNING: &str = "\x1b[0;33m";
const COLOR_DEBUG: &str = "\x1b[0;36m";
const COLOR_END: &str = "\x1b[0m";

/// Formats one line, newline included.
pub fn format_line(format: LogFormat, color: bool, rec: &Record<'_>) -> String {
    let mut out = String::with_capacity(160);
    let ts = timestamp(rec.time);
    match format {
        LogFormat::Text => {
            let color_start = match rec.level {
                _ if !color => None,
                Level::ERROR => Some(COLOR_ERR),
                Level::WARN => Some(COLOR_WARNING),
                Level::DEBUG | Level::TRACE => Some(COLOR_DEBUG),
                Level::INFO => None,
            };
            out.push_str(color_start.unwrap_or_default());
            let _ = write!(
                out,
                "{ts} {}({}) {} {}: {}",
                rec.thread_id,
                rec.thread_name,
                &level_name(rec.level)[..1],
                rec.logger.text(),
                rec.msg
            );
            for (key, value) in rec.fields {
                let _ = write!(out, ", {key}: ");
                match value {
                    Value::Str(s) => out.push_str(s),
                    Value::Int(i) => {
                        let _ = write!(out, "{i}");
                    }
                    Value::Uint(u) => {
                        let _ = write!(out, "{u}");
                    }
                    Value::Bool(b) => {
                        let _ = write!(out, "{b}");
                    }
                    Value::Float(f) => {
                        let _ = write!(out, "{f}");
                    }
                }
            }
            if let Some((file, line)) = rec.caller {
                let _ = write!(out, " [{file}:{line}]");
            }
            if color {
                out.push_str(COLOR_END);
            }
        }
        LogFormat::Json => {
            let _ = write!(
                out,
                "{{ \"ts\": \"{ts}\", \"thread_id\": {}, \"thread_name\": {}, \"level\": \"{}\", \
                 \"logger\": \"{}\", \"msg\": {}",
                rec.thread_id,
                json_str(rec.thread_name),
                level_name(rec.level),
                rec.logger.json(),
                json_str(rec.msg)
            );
            for (key, value) in rec.fields {
                let _ = write!(out, ", {}: ", json_str(key));
                match value {
                    Value::Str(s) => out.push_str(&json_str(s)),
                    Value::Int(i) => {
                        let _ = write!(out, "{i}");
                    }
                    Value::Uint(u) => {
                        let _ = write!(out, "{u}");
                    }
                    Value::Bool(b) => {
                        let _ = write!(out, "{b}");
                    }
                    Value::Float(f) if f.is_finite() => {
                        let _ = write!(out, "{f}");
                    }
                    Value::Float(f) => out.push_str(&json_str(&f.to_string())),
                }
            }
            if let Some((file, line)) = rec.caller {
                let _ = write!(out, ", \"caller\": {}", json_str(&format!("{file}:{line}")));
            }
            out.push_str(" }");
        }
    }
    out.push('\n');
    out
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

static NEXT_THREAD_ID: AtomicU16 = AtomicU16::new(1);

thread_local! {
    static THREAD_ID: Cell<u16> = const { Cell::new(0) };
}

/// Upstream numbers threads in the order they first log.
fn thread_id() -> u16 {
    THREAD_ID.with(|id| {
        if id.get() == 0 {
            id.set(NEXT_THREAD_ID.fetch_add(1, Ordering::Relaxed));
        }
        id.get()
    })
}

#[derive(Default)]
struct Fields {
    msg: String,
    fields: Vec<(&'static str, Value)>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.msg = format!("{value:?}");
        } else {
            self.fields
                .push((field.name(), Value::Str(format!("{value:?}"))));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.msg = value.to_owned();
        } else {
            self.fields
                .push((field.name(), Value::Str(value.to_owned())));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.push((field.name(), Value::Int(value)));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.push((field.name(), Value::Uint(value)));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.push((field.name(), Value::Bool(value)));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.fields.push((field.name(), Value::Float(value)));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.fields
            .push((field.name(), Value::Str(value.to_string())));
    }
}

/// The tracing layer handing our lines to the stdout writer thread.
#[derive(Debug)]
struct StdoutLines {
    format: LogFormat,
    color: bool,
    out: LineSender,
}

thread_local! {
    /// The log name of a thread std did not start (an EAL lcore has no std name).
    static THREAD_NAME: Cell<Option<&'static str>> = const { Cell::new(None) };
}

/// Names the calling thread in log lines (for threads started by DPDK).
pub fn name_this_thread(name: &'static str) {
    THREAD_NAME.set(Some(name));
}

/// The name given with [`name_this_thread`], if any.
pub fn given_thread_name() -> Option<&'static str> {
    THREAD_NAME.get()
}

impl<S: Subscriber> Layer<S> for StdoutLines {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let current = std::thread::current();
        let thread_name = match THREAD_NAME.get().or(current.name()) {
            Some("main") | None => "control",
            Some(name) => name,
        };
        let line = format_line(
            self.format,
            self.color,
            &Record {
                time: SystemTime::now(),
                thread_id: thread_id(),
                thread_name,
                level: *meta.level(),
                logger: Logger::of_target(meta.target()),
                msg: &fields.msg,
                fields: &fields.fields,
                caller: meta.file().zip(meta.line()),
            },
        );
        self.out.send(line);
    }
}

/// Levels of the three loggers, as DPDK levels 1-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Levels {
    /// `user1`
    pub service: u8,
    /// `user2`
    pub graph: u8,
    /// `user3`
    pub grpc: u8,
}

impl Levels {
    /// From the EAL `--log-level` options.
    pub fn from_config(cfg: &Config) -> Levels {
        Levels {
            service: cfg.eal.log_level_of("user1"),
            graph: cfg.eal.log_level_of("user2"),
            grpc: cfg.eal.log_level_of("user3"),
        }
    }

    /// The per-target filter; other crates log warnings and errors only.
    pub fn targets(self) -> Targets {
        let service = dpdk_level_filter(self.service);
        let graph = dpdk_level_filter(self.graph);
        let grpc = dpdk_level_filter(self.grpc);
        Targets::new()
            .with_default(service.min(LevelFilter::WARN))
            .with_target("dpservice", service)
            .with_target("dpservice_bin", service)
            .with_target("dpservice_bin::graph", graph)
            .with_target("dpservice_bin::nodes", graph)
            .with_target("graph", graph)
            .with_target("dpservice_bin::grpc", grpc)
            .with_target("grpc", grpc)
    }
}

/// Why logging could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up logging: {0}")]
pub struct LoggingError(String);

/// Installs the global logger; keep the returned [`LogFlush`] until the process ends, so
/// the last lines are written.
pub fn init(cfg: &Config) -> Result<LogFlush, LoggingError> {
    let color = match cfg.color {
        ColorMode::Never => false,
        ColorMode::Always => true,
        ColorMode::Auto => std::io::stdout().is_terminal(),
    } && cfg.log_format == LogFormat::Text;
    let format = cfg.log_format;
    let (out, flush) = log_writer::spawn(std::io::stdout(), log_writer::QUEUE_LINES, move |n| {
        lost_lines(format, color, n)
    })
    .map_err(|e| LoggingError(format!("cannot start the log writer thread: {e}")))?;
    tracing_subscriber::registry()
        .with(StdoutLines { format, color, out }.with_filter(Levels::from_config(cfg).targets()))
        .try_init()
        .map_err(|e| LoggingError(e.to_string()))?;
    Ok(flush)
}

/// The warning that reports lines dropped while stdout did not keep up.
fn lost_lines(format: LogFormat, color: bool, n: u64) -> String {
    format_line(
        format,
        color,
        &Record {
            time: SystemTime::now(),
            thread_id: thread_id(),
            thread_name: "logwriter",
            level: Level::WARN,
            logger: Logger::Service,
            msg: "Log lines lost: stdout did not keep up",
            fields: &[("lost_lines", Value::Uint(n))],
            caller: None,
        },
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(secs: u64, millis: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)
    }

    #[test]
    fn timestamps_are_utc_with_millis() {
        assert_eq!(timestamp(at(0, 0)), "1970-01-01 00:00:00.000");
        assert_eq!(timestamp(at(1_687_867_997, 624)), "2023-06-27 12:13:17.624");
        assert_eq!(timestamp(at(951_782_400, 5)), "2000-02-29 00:00:00.005");
        assert_eq!(timestamp(at(4_107_542_399, 999)), "2100-02-28 23:59:59.999");
    }

    fn record<'a>(fields: &'a [(&'static str, Value)], level: Level) -> Record<'a> {
        Record {
            time: at(1_687_867_997, 624),
            thread_id: 2,
            thread_name: "grpc",
            level,
            logger: Logger::Grpc,
            msg: "Server started and listening",
            fields,
            caller: Some(("src/grpc/server.rs", 34)),
        }
    }

    #[test]
    fn text_format() {
        let fields = [
            ("grpc_server_address", Value::Str("[::]:1337".into())),
            ("port_id", Value::Uint(3)),
            ("ret", Value::Int(-22)),
        ];
        assert_eq!(
            format_line(LogFormat::Text, false, &record(&fields, Level::INFO)),
            "2023-06-27 12:13:17.624 2(grpc) I GRPC: Server started and listening, \
             grpc_server_address: [::]:1337, port_id: 3, ret: -22 [src/grpc/server.rs:34]\n"
        );
        let colored = format_line(LogFormat::Text, true, &record(&[], Level::ERROR));
        assert!(colored.starts_with("\x1b[0;31m2023-06-27"), "{colored:?}");
        assert!(colored.ends_with("\x1b[0m\n"), "{colored:?}");
        assert!(
            format_line(LogFormat::Text, false, &record(&[], Level::WARN)).contains(" W GRPC: ")
        );
        assert!(
            format_line(LogFormat::Text, false, &record(&[], Level::DEBUG)).contains(" D GRPC: ")
        );
    }

    #[test]
    fn json_format_has_upstreams_keys() {
        let fields = [
            ("grpc_server_address", Value::Str("[::]:1337".into())),
            ("port_id", Value::Uint(3)),
            ("quote", Value::Str("a\"b\n".into())),
        ];
        let line = format_line(LogFormat::Json, true, &record(&fields, Level::INFO));
        assert_eq!(
            line,
            "{ \"ts\": \"2023-06-27 12:13:17.624\", \"thread_id\": 2, \"thread_name\": \"grpc\", \
             \"level\": \"Info\", \"logger\": \"grpc\", \"msg\": \"Server started and listening\", \
             \"grpc_server_address\": \"[::]:1337\", \"port_id\": 3, \"quote\": \"a\\\"b\\n\", \
             \"caller\": \"src/grpc/server.rs:34\" }\n"
        );
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["logger"], "grpc");
        assert_eq!(parsed["port_id"], 3);
    }

    #[test]
    fn loggers_follow_targets() {
        assert_eq!(
            Logger::of_target("dpservice_bin::grpc::server"),
            Logger::Grpc
        );
        assert_eq!(Logger::of_target("dpservice_bin::grpc"), Logger::Grpc);
        assert_eq!(Logger::of_target("grpc"), Logger::Grpc);
        assert_eq!(
            Logger::of_target("dpservice_bin::nodes::arp"),
            Logger::Graph
        );
        assert_eq!(Logger::of_target("dpservice_bin::graph"), Logger::Graph);
        assert_eq!(Logger::of_target("dpservice_bin::grpcish"), Logger::Service);
        assert_eq!(Logger::of_target("dpservice_bin::worker"), Logger::Service);
        assert_eq!(Logger::of_target("h2::proto"), Logger::Service);
    }

    #[test]
    fn dpdk_levels_map_onto_tracing() {
        assert_eq!(dpdk_level_filter(1), LevelFilter::ERROR);
        assert_eq!(dpdk_level_filter(4), LevelFilter::ERROR);
        assert_eq!(dpdk_level_filter(5), LevelFilter::WARN);
        assert_eq!(dpdk_level_filter(7), LevelFilter::INFO);
        assert_eq!(dpdk_level_filter(8), LevelFilter::DEBUG);
        let targets = Levels {
            service: 7,
            graph: 8,
            grpc: 4,
        }
        .targets();
        use tracing_subscriber::filter::Targets;
        let enabled = |t: &Targets, target: &str, level: Level| t.would_enable(target, &level);
        assert!(enabled(&targets, "dpservice_bin::worker", Level::INFO));
        assert!(!enabled(&targets, "dpservice_bin::worker", Level::DEBUG));
        assert!(enabled(&targets, "dpservice_bin::nodes::arp", Level::DEBUG));
        assert!(!enabled(
            &targets,
            "dpservice_bin::grpc::server",
            Level::WARN
        ));
        assert!(!enabled(&targets, "h2::codec", Level::INFO));
        assert!(enabled(&targets, "h2::codec", Level::WARN));
    }
}
