//! The completion request a shell makes: `DPSERVICE_COMPLETE=<shell> <bin> -- <words>`.

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap_complete::engine::CompletionCandidate;

use super::objects::{decorate, LineContext};
use super::script::{registration, Shell, UnknownShell};
use super::ENV_VAR;

/// Where bash and zsh pass the index of the word under the cursor (clap's protocol).
const INDEX_VAR: &str = "_CLAP_COMPLETE_INDEX";

/// Why a completion request could not be answered (the shell then offers nothing).
#[derive(Debug, thiserror::Error)]
pub enum CompletionError {
    /// The variable names a shell we do not support.
    #[error(transparent)]
    Shell(#[from] UnknownShell),
    /// Writing the candidates failed (the shell went away).
    #[error("cannot write the candidates: {0}")]
    Write(#[from] std::io::Error),
}

/// How one binary answers completion requests.
#[derive(Debug, Clone, Copy)]
pub struct Hook {
    command: fn() -> clap::Command,
    before_separator: Option<fn() -> clap::Command>,
}

impl Hook {
    /// Completion from the binary's clap definition.
    pub fn new(command: fn() -> clap::Command) -> Hook {
        Hook {
            command,
            before_separator: None,
        }
    }

    /// For a command line in two parts, `<before> -- <options>` (the daemon: EAL
    /// options, then its own): words before the first `--` complete from `before`,
    /// words after it from the main definition.
    pub fn options_after_separator(self, before: fn() -> clap::Command) -> Hook {
        Hook {
            before_separator: Some(before),
            ..self
        }
    }

    /// Call first thing in `main`: when the shell asked for candidates (or for the
    /// registration script), answers and returns the exit code; otherwise `None`.
    pub fn answer_if_asked(self) -> Option<ExitCode> {
        let shell = std::env::var(ENV_VAR).ok().filter(|s| !s.is_empty())?;
        let args: Vec<OsString> = std::env::args_os().collect();
        let index = std::env::var(INDEX_VAR).ok().and_then(|i| i.parse().ok());
        let cwd = std::env::current_dir().ok();
        let mut out = std::io::stdout().lock();
        match self.answer(&shell, &args, index, cwd.as_deref(), &mut out) {
            Ok(()) => Some(ExitCode::SUCCESS),
            Err(err) => {
                eprintln!(
                    "{}: completion: {err}",
                    (self.command)().get_name().to_owned()
                );
                Some(ExitCode::FAILURE)
            }
        }
    }

    /// Answers one request. `args` is the process's command line (`<bin> -- <words>`,
    /// the typed line's words starting with the program name), `index` the position
    /// of the word under the cursor in those words (bash and zsh pass it; fish
    /// completes the last word).
    pub fn answer(
        &self,
        shell: &str,
        args: &[OsString],
        index: Option<usize>,
        cwd: Option<&Path>,
        out: &mut dyn Write,
    ) -> Result<(), CompletionError> {
        let shell: Shell = shell.parse()?;
        let words: Vec<OsString> = match args.iter().position(|a| a == "--") {
            Some(sep) => args[sep + 1..].to_vec(),
            None => Vec::new(),
        };
        if words.is_empty() {
            let name = (self.command)().get_name().to_owned();
            out.write_all(registration(shell, &name).as_bytes())?;
            return Ok(());
        }
        let index = index.unwrap_or(words.len() - 1).min(words.len());
        let (command, words, index) = self.part_under_cursor(words, index);
        let context = LineContext::from_words(&words[..index.min(words.len())]);
        let mut cmd = decorate(command(), &context);
        cmd.build();
        // Our own copy of the shell's output step: clap's reads the index from the
        // environment, which we may have shifted.
        write_candidates(shell, &mut cmd, words, index, cwd, out)
    }

    /// The definition that completes the word at `index`, with the words it sees.
    fn part_under_cursor(
        &self,
        words: Vec<OsString>,
        index: usize,
    ) -> (fn() -> clap::Command, Vec<OsString>, usize) {
        let Some(before) = self.before_separator else {
            return (self.command, words, index);
        };
        match words.iter().take(index).skip(1).position(|w| w == "--") {
            Some(pos) => {
                let sep = pos + 1;
                let mut rest = vec![words[0].clone()];
                rest.extend(words[sep + 1..].iter().cloned());
                (self.command, rest, index - sep)
            }
            None => (before, words, index),
        }
    }
}

/// Prints the candidates the way each shell's registration script reads them.
fn write_candidates(
    shell: Shell,
    cmd: &mut clap::Command,
    mut words: Vec<OsString>,
    index: usize,
    cwd: Option<&Path>,
    out: &mut dyn Write,
) -> Result<(), CompletionError> {
    if words.len() == index {
        words.push(OsString::new());
    }
    let typed: Vec<String> = words
        .iter()
        .take(index + 1)
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    let candidates = clap_complete::engine::complete(cmd, words, index, cwd)?;
    let candidates = all_subcommand_names(cmd, &typed, candidates);
    let ifs = std::env::var("_CLAP_IFS").ok();
    for (i, candidate) in candidates.iter().enumerate() {
        let value = candidate.get_value().to_string_lossy();
        let help = candidate
            .get_help()
            .map(|h| h.to_string().lines().next().unwrap_or_default().to_owned());
        match shell {
            Shell::Bash => {
                if i != 0 {
                    out.write_all(ifs.as_deref().unwrap_or("\n").as_bytes())?;
                }
                out.write_all(value.as_bytes())?;
            }
            Shell::Zsh => {
                if i != 0 {
                    out.write_all(ifs.as_deref().unwrap_or("\n").as_bytes())?;
                }
                out.write_all(zsh_escape(&value, ":").as_bytes())?;
                if let Some(help) = help {
                    write!(out, ":{}", zsh_escape(&help, ""))?;
                }
            }
            Shell::Fish => {
                out.write_all(value.as_bytes())?;
                if let Some(help) = help {
                    write!(out, "\t{help}")?;
                }
                writeln!(out)?;
            }
        }
    }
    Ok(())
}

/// clap's engine offers one name per subcommand, the alphabetically first of its name
/// and aliases (`add` for `create`, `iface` for `interface`). We offer the canonical
/// names when nothing is typed yet, and every name and alias that starts with what is.
fn all_subcommand_names(
    root: &clap::Command,
    typed: &[String],
    candidates: Vec<CompletionCandidate>,
) -> Vec<CompletionCandidate> {
    let is_subcommand = |c: &CompletionCandidate| {
        c.get_id()
            .is_some_and(|id| id.to_string().starts_with("command::"))
    };
    let Some(first) = candidates.iter().position(is_subcommand) else {
        return candidates;
    };
    let Some((prefix, before)) = typed.split_last() else {
        return candidates;
    };
    // The subcommand the cursor is in: the words before it that name subcommands.
    let mut current = root;
    for word in before.iter().skip(1) {
        if let Some(sub) = current.find_subcommand(word) {
            current = sub;
        }
    }
    let mut names = Vec::new();
    for sub in current.get_subcommands().filter(|s| !s.is_hide_set()) {
        let about = sub.get_about().cloned();
        let mut add = |name: &str| {
            if name.starts_with(prefix.as_str()) {
                names.push(CompletionCandidate::new(name).help(about.clone()));
            }
        };
        add(sub.get_name());
        if !prefix.is_empty() {
            sub.get_visible_aliases().for_each(&mut add);
        }
    }
    let mut out: Vec<CompletionCandidate> = Vec::with_capacity(candidates.len() + names.len());
    for (i, candidate) in candidates.into_iter().enumerate() {
        if i == first {
            out.append(&mut names);
        }
        if !is_subcommand(&candidate) {
            out.push(candidate);
        }
    }
    out
}

/// zsh's `_describe` splits `value:help` at the first unescaped colon.
fn zsh_escape(text: &str, also: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\\' || also.contains(c) {
            escaped.push('\\');
        }
        if c != '\n' {
            escaped.push(c);
        }
    }
    escaped
}
