//! Upstream's non-interactive output (tools.md §2.2, §2.5): the table list, entry
//! counts and dumps in the `human`, `table`, `csv` and `json` formats, character for
//! character, plus `--all` (every table's count in one call).
//!
//! Only the shared-memory region is read: no gRPC call, nothing the worker waits for.

use std::fmt::Write as _;
use std::io::{self, Write};

use dpservice::shm::{OpenError, Region, TableError};
use dpservice::telemetry::json::write_string;

use crate::record::{open_table, Context, Field, Kind, Record, Sink};
use crate::values::monotonic_now_ns;

/// `-o/--output-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Lines for people.
    #[default]
    Human,
    /// Aligned columns with a header.
    Table,
    /// Comma-separated values with a header.
    Csv,
    /// A JSON array or object.
    Json,
}

/// What went wrong while printing.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The region could not be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The region lacks the table (another build's catalogue).
    #[error("cannot read the table: {0}")]
    Table(#[from] TableError),
    /// `-s` names another NUMA socket than the daemon's.
    #[error("table '{wanted}' not found, maybe the NUMA socket is wrong? The daemon created its tables on socket {actual} ('{found}'): pass -s {actual} or leave -s out")]
    WrongSocket {
        /// The name asked for.
        wanted: String,
        /// The daemon's name.
        found: String,
        /// The daemon's socket.
        actual: i32,
    },
    /// Writing stdout failed.
    #[error("cannot write the output: {0}")]
    Io(#[from] io::Error),
}

/// The table names of list mode.
pub fn print_list(format: Format, out: &mut dyn Write) -> io::Result<()> {
    let names = Kind::ALL.map(Kind::short);
    match format {
        Format::Human => {
            writeln!(out, "Supported tables (-t argument):")?;
            for name in names {
                writeln!(out, "  {name}")?;
            }
        }
        Format::Table | Format::Csv => {
            writeln!(out, "NAME")?;
            for name in names {
                writeln!(out, "{name}")?;
            }
        }
        Format::Json => {
            let quoted: Vec<String> = names.iter().map(|n| format!("\t\"{n}\"")).collect();
            writeln!(out, "[\n{}\n]", quoted.join(",\n"))?;
        }
    }
    Ok(())
}

/// The daemon's full name of `kind`'s table (`<name>_<socket>`), checking an explicit
/// `-s` against the socket the daemon used.
pub fn full_name(region: &Region, kind: Kind, socket: Option<i32>) -> Result<String, OutputError> {
    let actual = region.numa_socket();
    let found = format!("{}_{actual}", kind.table_name());
    match socket {
        Some(s) if s != actual => Err(OutputError::WrongSocket {
            wanted: format!("{}_{s}", kind.table_name()),
            found,
            actual,
        }),
        _ => Ok(found),
    }
}

/// Count mode: one table's number of keys.
pub fn print_count(
    region: &Region,
    kind: Kind,
    socket: Option<i32>,
    format: Format,
    out: &mut dyn Write,
) -> Result<(), OutputError> {
    let full = full_name(region, kind, socket)?;
    let n = open_table(region, kind)?.len();
    print_counts(&[(full, n)], format, out)
}

/// `--all`: the count of every table, in `-t` order.
pub fn print_all_counts(
    region: &Region,
    socket: Option<i32>,
    format: Format,
    out: &mut dyn Write,
) -> Result<(), OutputError> {
    let mut counts = Vec::new();
    for kind in Kind::ALL {
        counts.push((
            full_name(region, kind, socket)?,
            open_table(region, kind)?.len(),
        ));
    }
    print_counts(&counts, format, out)
}

/// Counts as upstream prints one; several (`--all`) as one table or one JSON array.
fn print_counts(
    counts: &[(String, usize)],
    format: Format,
    out: &mut dyn Write,
) -> Result<(), OutputError> {
    let json = |(full, n): &(String, usize)| {
        let mut s = String::from("{ \"table\": ");
        write_string(&mut s, full);
        format!("{s}, \"entries\": {n} }}")
    };
    match format {
        Format::Human => {
            for (full, n) in counts {
                writeln!(out, "Table '{full}' has {n} entries")?;
            }
        }
        Format::Table => {
            let width = counts.iter().map(|(f, _)| f.len()).max().unwrap_or(0);
            writeln!(out, "{:<width$}  ENTRIES", "TABLE")?;
            for (full, n) in counts {
                writeln!(out, "{full:<width$}  {n}")?;
            }
        }
        Format::Csv => {
            writeln!(out, "TABLE,ENTRIES")?;
            for (full, n) in counts {
                writeln!(out, "{full},{n}")?;
            }
        }
        Format::Json => match counts {
            [one] => writeln!(out, "{}", json(one))?,
            many => {
                let lines: Vec<String> = many.iter().map(|c| format!("\t{}", json(c))).collect();
                writeln!(out, "[\n{}\n]", lines.join(",\n"))?;
            }
        },
    }
    Ok(())
}

/// Dump mode: every entry of one table. Answers the entries skipped because the
/// daemon kept changing them (normally 0).
pub fn print_dump(
    region: &Region,
    kind: Kind,
    socket: Option<i32>,
    format: Format,
    out: &mut dyn Write,
) -> Result<usize, OutputError> {
    full_name(region, kind, socket)?;
    let table = open_table(region, kind)?;
    let ctx = Context {
        now_ns: monotonic_now_ns(),
        ..Context::default()
    };
    let layout = kind.layout();
    let mut writer = DumpWriter {
        format,
        line: String::with_capacity(256),
        buf: Vec::with_capacity(1 << 16),
        first: true,
        out,
        error: None,
    };
    match format {
        Format::Table => writeln!(writer.buf, "{}", layout.table_header)?,
        Format::Csv => writeln!(writer.buf, "{}", layout.csv_header)?,
        Format::Json => writer.buf.extend_from_slice(b"[\n"),
        Format::Human => {}
    }
    let (_, contended) = table.visit_from(0, usize::MAX, &ctx, &mut |_, record| {
        writer.entry(record.as_ref());
    });
    if let Some(e) = writer.error.take() {
        return Err(e.into());
    }
    match format {
        Format::Table => writeln!(writer.buf, "{}", layout.table_header)?,
        Format::Json => writer.buf.extend_from_slice(b"\n]\n"),
        Format::Human | Format::Csv => {}
    }
    writer.out.write_all(&writer.buf)?;
    writer.out.flush()?;
    Ok(contended)
}

/// Formats entries into a buffer flushed to the output in large writes.
struct DumpWriter<'a> {
    format: Format,
    line: String,
    buf: Vec<u8>,
    first: bool,
    out: &'a mut dyn Write,
    error: Option<io::Error>,
}

impl DumpWriter<'_> {
    fn entry(&mut self, record: &dyn Record) {
        if self.error.is_some() {
            return;
        }
        self.line.clear();
        // formatting into a String cannot fail
        let _ = match self.format {
            Format::Human => record.human(&mut self.line),
            Format::Table => record.table_row(&mut self.line),
            Format::Csv => {
                record.fields(&mut CsvSink {
                    line: &mut self.line,
                });
                Ok(())
            }
            Format::Json => {
                if !self.first {
                    self.buf.extend_from_slice(b",\n");
                }
                self.line.push_str("\t{ ");
                let mut sink = JsonSink {
                    line: &mut self.line,
                    scratch: String::new(),
                    first: true,
                };
                record.fields(&mut sink);
                self.line.push_str(" }");
                Ok(())
            }
        };
        self.first = false;
        self.buf.extend_from_slice(self.line.as_bytes());
        if self.format != Format::Json {
            self.buf.push(b'\n');
        }
        if self.buf.len() >= 1 << 16 {
            if let Err(e) = self.out.write_all(&self.buf) {
                self.error = Some(e);
            }
            self.buf.clear();
        }
    }
}

/// Writes fields comma-separated.
struct CsvSink<'a> {
    line: &'a mut String,
}

impl Sink for CsvSink<'_> {
    fn field(&mut self, _key: &'static str, value: Field<'_>) {
        if !self.line.is_empty() {
            self.line.push(',');
        }
        let _ = match value {
            Field::Num(n) => write!(self.line, "{n}"),
            Field::Text(t) => write!(self.line, "{t}"),
            Field::Private(p) => write!(self.line, "{p}"),
        };
    }
}

/// Writes fields as `"key": value` pairs, strings escaped.
struct JsonSink<'a> {
    line: &'a mut String,
    scratch: String,
    first: bool,
}

impl Sink for JsonSink<'_> {
    fn field(&mut self, key: &'static str, value: Field<'_>) {
        if !self.first {
            self.line.push_str(", ");
        }
        self.first = false;
        self.line.push('"');
        self.line.push_str(key);
        self.line.push_str("\": ");
        self.scratch.clear();
        let _ = match value {
            Field::Num(n) => write!(self.line, "{n}"),
            Field::Text(t) => {
                let _ = write!(self.scratch, "{t}");
                if self
                    .scratch
                    .bytes()
                    .any(|b| b < 0x20 || b == b'"' || b == b'\\')
                {
                    write_string(self.line, &self.scratch);
                } else {
                    // nothing to escape (addresses, names, numbers): copy it
                    self.line.push('"');
                    self.line.push_str(&self.scratch);
                    self.line.push('"');
                }
                Ok(())
            }
            Field::Private(p) => write!(self.line, "\"{p} (private)\""),
        };
    }
}
