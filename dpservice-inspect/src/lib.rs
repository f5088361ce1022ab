//! `dpservice-inspect`: the daemon's state tables, read from its shared-memory region.
//!
//! Two faces (tools.md §2): upstream's non-interactive output ([`upstream`]; whenever
//! stdout is not a terminal or `-t`, `--dump`, `-o`, `-s` or `--all` is given), and a
//! live terminal browser ([`tui`]; on a terminal without those options, or `--tui`).

#[doc(hidden)]
pub mod fixture;
pub mod record;
pub mod tui;
pub mod upstream;
pub mod values;

use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::builder::PossibleValuesParser;
use clap::{CommandFactory, Parser};
use dpservice::shm::Region;
use dpservice::version::VERSION;

use record::Kind;
use upstream::{Format, OutputError};

/// Command line of `dpservice-inspect`.
#[derive(Debug, Parser)]
#[command(
    name = "dpservice-inspect",
    about = "Show the state tables of a running dpservice-bin: entry counts and dumps as upstream prints them, or a live terminal browser",
    disable_version_flag = true,
    infer_long_args = true
)]
pub struct Args {
    /// The daemon instance.
    #[command(flatten)]
    pub instance: dpservice::instance::InstanceArgs,
    /// Output format
    #[arg(short = 'o', long, value_name = "FORMAT", value_enum)]
    pub output_format: Option<Format>,
    /// Table to show ("list": the names of the tables)
    #[arg(short = 't', long, value_name = "NAME", value_parser = table_names())]
    pub table: Option<String>,
    /// NUMA socket the daemon created its tables on (default: the one it used)
    #[arg(
        short = 's',
        long,
        value_name = "NUMBER",
        allow_negative_numbers = true
    )]
    pub socket: Option<i32>,
    /// Print the table's entries instead of its entry count
    #[arg(long)]
    pub dump: bool,
    /// Print the entry count of every table
    #[arg(long, conflicts_with_all = ["table", "dump"])]
    pub all: bool,
    /// Open the live browser (the default on a terminal without -t, -o, -s, --dump, --all)
    #[arg(long, conflicts_with_all = ["output_format", "dump", "all"])]
    pub tui: bool,
    /// Browser refresh interval in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 250, value_parser = clap::value_parser!(u64).range(50..=60_000))]
    pub refresh_ms: u64,
    /// Print the version and exit
    #[arg(short = 'v', long)]
    pub version: bool,
}

fn table_names() -> PossibleValuesParser {
    let mut names = vec!["list"];
    names.extend(Kind::ALL.map(Kind::short));
    PossibleValuesParser::new(names)
}

/// The clap definition, for completions and man pages.
pub fn command() -> clap::Command {
    Args::command()
}

/// What the arguments ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Upstream's output.
    Upstream,
    /// The live browser.
    Tui,
}

impl Args {
    /// The mode, given whether stdout is a terminal.
    pub fn mode(&self, stdout_is_terminal: bool) -> Mode {
        let upstream_options = self.table.is_some()
            || self.dump
            || self.output_format.is_some()
            || self.socket.is_some()
            || self.all;
        if self.tui || (stdout_is_terminal && !upstream_options) {
            Mode::Tui
        } else {
            Mode::Upstream
        }
    }

    /// The `-t` table, `None` for list mode.
    pub fn kind(&self) -> Option<Kind> {
        let name = self.table.as_deref()?;
        Kind::ALL.into_iter().find(|k| k.short() == name)
    }
}

/// Entry point of the binary.
pub fn run() -> ExitCode {
    run_with(
        std::env::args_os(),
        &mut io::stdout().lock(),
        io::stdout().is_terminal(),
    )
}

/// The whole program over an argument list and an output (tests call it in-process).
pub fn run_with(
    argv: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    out: &mut dyn Write,
    stdout_is_terminal: bool,
) -> ExitCode {
    let args = match Args::try_parse_from(argv) {
        Ok(args) => args,
        Err(e) if !e.use_stderr() => {
            // --help: usage on stdout, success
            let _ = write!(out, "{}", e.render());
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("dpservice-inspect: {}", one_line(&e.render().to_string()));
            return ExitCode::FAILURE;
        }
    };
    if args.version {
        return finish(writeln!(out, "DP Service version {VERSION}").map_err(OutputError::from));
    }
    let instance = match args.instance.instance() {
        Ok(instance) => instance,
        Err(e) => {
            eprintln!("dpservice-inspect: {e}");
            return ExitCode::FAILURE;
        }
    };
    match args.mode(stdout_is_terminal) {
        Mode::Tui => {
            let options = tui::Options {
                refresh: Duration::from_millis(args.refresh_ms),
                table: args.kind(),
            };
            match tui::run(&instance, &options) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("dpservice-inspect: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Mode::Upstream => finish(print_upstream(&args, &instance, out)),
    }
}

/// Upstream's output for the parsed arguments.
fn print_upstream(
    args: &Args,
    instance: &dpservice::instance::Instance,
    out: &mut dyn Write,
) -> Result<(), OutputError> {
    let format = args.output_format.unwrap_or_default();
    let kind = args.kind();
    if kind.is_none() && !args.all {
        // list mode needs no daemon (upstream's did)
        upstream::print_list(format, out)?;
        return Ok(());
    }
    let region = Region::open_instance(instance)?;
    match kind {
        None => upstream::print_all_counts(&region, args.socket, format, out),
        Some(kind) if args.dump => {
            let skipped = upstream::print_dump(&region, kind, args.socket, format, out)?;
            if skipped > 0 {
                eprintln!(
                    "dpservice-inspect: {skipped} entries were left out because the daemon changed them throughout the read"
                );
            }
            Ok(())
        }
        Some(kind) => upstream::print_count(&region, kind, args.socket, format, out),
    }
}

/// The exit status of a result; a closed pipe (`| head`) is success.
fn finish(result: Result<(), OutputError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(OutputError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dpservice-inspect: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A clap error on one line: its message and the valid choices, without usage and tip.
fn one_line(rendered: &str) -> String {
    rendered
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information")
        })
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests;
