//! clap's parse errors in pflag/cobra wording (spec §3.4), which scripts compare.

use clap::error::{ContextKind, ContextValue, ErrorKind};

use crate::argv::Prepared;
use crate::error::CliError;

/// What a failed parse means for the run.
#[derive(Debug)]
pub enum ParseFailure {
    /// Help text to print; exit 0.
    Help(String),
    /// A client error.
    Error(CliError),
}

fn context(err: &clap::Error, kind: ContextKind) -> Option<String> {
    match err.get(kind)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Strings(v) => v.first().cloned(),
        _ => None,
    }
}

/// Translates a clap error, using the raw command line where cobra's text needs it.
pub fn translate(err: &clap::Error, prepared: &Prepared) -> ParseFailure {
    let client = |msg: String| ParseFailure::Error(CliError::client(msg));
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        | ErrorKind::DisplayVersion => ParseFailure::Help(err.render().to_string()),
        ErrorKind::ValueValidation => match context(err, ContextKind::Custom) {
            Some(msg) => client(msg),
            None => client(fallback(err)),
        },
        ErrorKind::UnknownArgument => {
            let arg = context(err, ContextKind::InvalidArg).unwrap_or_default();
            if let Some(long) = arg.strip_prefix("--") {
                let name = long.split('=').next().unwrap_or_default();
                client(format!("unknown flag: --{name}"))
            } else if let Some(short) = arg.strip_prefix('-') {
                client(unknown_shorthand(
                    short.chars().next().unwrap_or('-'),
                    prepared,
                ))
            } else {
                client(format!(
                    "unknown command \"{arg}\" for \"{}\"",
                    prepared.command_path()
                ))
            }
        }
        ErrorKind::InvalidSubcommand => {
            let word = context(err, ContextKind::InvalidSubcommand).unwrap_or_default();
            client(format!(
                "unknown command {} for \"{}\"",
                crate::syntax::go_quote(&word),
                prepared.command_path()
            ))
        }
        ErrorKind::InvalidValue | ErrorKind::NoEquals | ErrorKind::TooFewValues => {
            let arg = context(err, ContextKind::InvalidArg).unwrap_or_default();
            let long = arg
                .trim_start_matches('-')
                .split([' ', '=', '['])
                .next()
                .unwrap_or_default()
                .to_owned();
            client(needs_argument(&long, prepared))
        }
        _ => client(fallback(err)),
    }
}

/// `unknown shorthand flag: 'x' in -xyz`, naming the rest of the token from `x` on.
fn unknown_shorthand(c: char, prepared: &Prepared) -> String {
    let rest = prepared
        .raw
        .iter()
        .filter(|t| t.starts_with('-') && !t.starts_with("--"))
        .find_map(|t| t[1..].find(c).map(|i| t[1 + i..].to_owned()))
        .unwrap_or_else(|| c.to_string());
    format!("unknown shorthand flag: '{c}' in -{rest}")
}

/// `flag needs an argument: --name`, or `'o' in -o` when written in short form.
fn needs_argument(long: &str, prepared: &Prepared) -> String {
    let shorts = [("output", 'o')];
    if let Some((_, c)) = shorts.iter().find(|(l, _)| *l == long) {
        let short = format!("-{c}");
        if prepared.raw.last().is_some_and(|t| *t == short) {
            return format!("flag needs an argument: '{c}' in -{c}");
        }
    }
    format!("flag needs an argument: --{long}")
}

/// clap's own text, without its `error: ` prefix and usage hints.
fn fallback(err: &clap::Error) -> String {
    let text = err.render().to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_owned()
}
