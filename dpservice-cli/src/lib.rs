//! `dpservice-cli`: the gRPC command-line client, a drop-in for upstream's Go CLI
//! (spec cli.md): same command tree, flags, output bytes and exit codes.
//!
//! - [`argv`]: finding the command path on the raw line (cobra-style);
//! - [`cli`]: the clap command tree; [`parse_error`]: its errors in pflag wording;
//! - [`commands`]: the gRPC calls behind each command;
//! - [`objects`]: what is printed; [`render`]: how (json, yaml, table, name);
//! - [`syntax`]: Go's value syntax and messages; [`error`]: failures and exit codes.

pub mod argv;
pub mod cli;
pub mod commands;
pub mod error;
pub mod objects;
pub mod parse_error;
pub mod render;
pub mod syntax;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use clap::FromArgMatches;
use dpservice::version::VERSION;

use crate::cli::{Cli, Verb};
use crate::error::CliError;
use crate::parse_error::ParseFailure;

/// The clap definition, for completions and man pages.
pub fn command() -> clap::Command {
    cli::command()
}

/// Entry point of the binary.
pub fn run() -> ExitCode {
    let raw: Vec<OsString> = std::env::args_os().collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let code = run_with(&raw, &mut out);
    // A closed stdout (`| head`) is not an error.
    let _ = out.flush();
    ExitCode::from(code)
}

/// Runs one command line (program name first), printing to `out`; returns the exit code.
pub fn run_with(raw: &[OsString], out: &mut dyn Write) -> u8 {
    match execute(raw, out) {
        Ok(()) => 0,
        Err(e) => {
            let _ = out.write_all(e.render(&argv::early_output(raw)).as_bytes());
            e.exit_code()
        }
    }
}

fn execute(raw: &[OsString], out: &mut dyn Write) -> Result<(), CliError> {
    let mut root = cli::command_for(raw);
    if let Some(port) = std::env::var("DP_GRPC_PORT").ok().filter(|p| !p.is_empty()) {
        root = root.mut_arg("address", |a| a.default_value(format!("localhost:{port}")));
    }
    let prepared = argv::prepare(&root, raw);
    let matches = match root.try_get_matches_from_mut(&prepared.args) {
        Ok(m) => m,
        Err(e) => {
            return match parse_error::translate(&e, &prepared) {
                ParseFailure::Help(text) => {
                    let _ = out.write_all(text.as_bytes());
                    Ok(())
                }
                ParseFailure::Error(err) => Err(err),
            }
        }
    };
    let bad = |e: clap::Error| CliError::client(e.to_string().trim().to_owned());
    let cli = Cli::from_arg_matches(&matches).map_err(bad)?;
    let Some(verb) = cli::verb_of(&matches).map_err(bad)? else {
        if cli.version {
            let _ = writeln!(out, "dpservice-cli version {VERSION}");
            return Ok(());
        }
        return Err(help_then_fail(&mut root, &[], out));
    };
    let group_without_noun = match &verb {
        Verb::Get(g) => g.noun.is_none().then_some("get"),
        Verb::List(l) => l.noun.is_none().then_some("list"),
        Verb::Reset(r) => r.noun.is_none().then_some("reset"),
        Verb::Capture(c) => c.noun.is_none().then_some("capture"),
        Verb::Create(c) if c.noun.is_none() && c.sources.filename.is_empty() => None,
        _ => None,
    };
    if let Some(group) = group_without_noun {
        return Err(help_then_fail(&mut root, &[group], out));
    }
    if let Verb::Completion(c) = &verb {
        let shell = c.shell()?;
        completion(shell, out);
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::client(format!("error starting the runtime: {e}")))?;
    runtime.block_on(commands::run(verb, &cli.global, out))
}

/// Prints the help of the command at `path`, then returns `subcommand is required`.
fn help_then_fail(root: &mut clap::Command, path: &[&str], out: &mut dyn Write) -> CliError {
    root.build();
    let mut cmd = &*root;
    for name in path {
        if let Some(sub) = cmd.find_subcommand(name) {
            cmd = sub;
        }
    }
    let _ = write!(out, "{}", cmd.clone().render_help());
    commands::subcommand_required()
}

/// Prints the completion script for `shell`: for bash, zsh and fish the same text as
/// the shipped `completions/` files (they ask this binary for candidates); PowerShell,
/// which we do not ship, gets clap's static script.
fn completion(shell: &str, out: &mut dyn Write) {
    match shell.parse::<dpservice::completion::Shell>() {
        Ok(shell) => {
            let script = dpservice::completion::registration(shell, "dpservice-cli");
            let _ = out.write_all(script.as_bytes());
        }
        Err(_) => clap_complete::generate(
            clap_complete::Shell::PowerShell,
            &mut cli::command(),
            "dpservice-cli",
            out,
        ),
    }
}
