//! The command line before clap sees it.
//!
//! Upstream (cobra) first finds the command path, skipping flags anywhere on the line
//! and matching command words case-insensitively, and only then parses every flag with
//! the final command's flag set. We do the same: find the path here, put its canonical
//! words first and every other token after them in the original order, and let clap
//! parse that. So `dpservice-cli -o json --id=vm1 GET Interface` works as upstream.

use std::ffi::OsString;

use clap::{Arg, Command};

/// The command line, reordered for clap, and the command path found.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Program name, command words, then all other tokens in their original order.
    pub args: Vec<OsString>,
    /// Canonical names of the command path (`["get", "interface"]`).
    pub path: Vec<String>,
    /// Raw tokens after the program name, as written.
    pub raw: Vec<String>,
}

impl Prepared {
    /// `dpservice-cli get` style path of the found command.
    pub fn command_path(&self) -> String {
        std::iter::once("dpservice-cli")
            .chain(self.path.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Finds the command path of `raw` (program name first) in `root`.
pub fn prepare(root: &Command, raw: &[OsString]) -> Prepared {
    let tokens: Vec<OsString> = raw.iter().skip(1).cloned().collect();
    let text: Vec<String> = tokens
        .iter()
        .map(|t| t.to_string_lossy().into_owned())
        .collect();
    let mut consumed = vec![false; tokens.len()];
    let mut path = Vec::new();
    let mut cmd = root;
    let mut globals: Vec<&Arg> = Vec::new();
    loop {
        globals.extend(cmd.get_arguments().filter(|a| a.is_global_set()));
        let Some(i) = next_word(&text, &consumed, cmd, &globals) else {
            break;
        };
        if path.is_empty() && text[i].eq_ignore_ascii_case("help") {
            consumed[i] = true;
            path.push("help".to_owned());
            canonicalize_help_path(root, &text, &mut consumed, &mut path);
            break;
        }
        let Some(sub) = find_subcommand(cmd, &text[i]) else {
            break;
        };
        consumed[i] = true;
        path.push(sub.get_name().to_owned());
        cmd = sub;
    }
    let mut args = Vec::with_capacity(raw.len());
    args.push(
        raw.first()
            .cloned()
            .unwrap_or_else(|| OsString::from("dpservice-cli")),
    );
    args.extend(path.iter().map(OsString::from));
    args.extend(
        tokens
            .into_iter()
            .zip(&consumed)
            .filter(|(_, c)| !**c)
            .map(|(t, _)| t),
    );
    Prepared {
        args,
        path,
        raw: text,
    }
}

/// `help get iface`: the words after `help` name a command path too.
fn canonicalize_help_path(
    root: &Command,
    text: &[String],
    consumed: &mut [bool],
    path: &mut Vec<String>,
) {
    let mut cmd = root;
    for i in 0..text.len() {
        if consumed[i] || text[i].starts_with('-') {
            continue;
        }
        let Some(sub) = find_subcommand(cmd, &text[i]) else {
            break;
        };
        consumed[i] = true;
        path.push(sub.get_name().to_owned());
        cmd = sub;
    }
}

/// The first command word of `raw` (program name first) at `cmd`'s level.
pub fn first_word(cmd: &Command, raw: &[OsString]) -> Option<String> {
    let text: Vec<String> = raw
        .iter()
        .skip(1)
        .map(|t| t.to_string_lossy().into_owned())
        .collect();
    let globals: Vec<&Arg> = cmd.get_arguments().filter(|a| a.is_global_set()).collect();
    next_word(&text, &vec![false; text.len()], cmd, &globals).map(|i| text[i].clone())
}

/// A subcommand by name or alias, ignoring case (cobra's `EnableCaseInsensitive`).
pub fn find_subcommand<'a>(cmd: &'a Command, word: &str) -> Option<&'a Command> {
    cmd.get_subcommands().find(|s| {
        s.get_name().eq_ignore_ascii_case(word)
            || s.get_all_aliases().any(|a| a.eq_ignore_ascii_case(word))
    })
}

/// The first token that is not a flag or a flag's value (cobra's `stripFlags`).
fn next_word(text: &[String], consumed: &[bool], cmd: &Command, globals: &[&Arg]) -> Option<usize> {
    let live: Vec<usize> = (0..text.len()).filter(|i| !consumed[*i]).collect();
    let mut k = 0;
    while k < live.len() {
        let s = text[live[k]].as_str();
        k += 1;
        if s == "--" {
            return None;
        }
        if let Some(name) = s.strip_prefix("--") {
            if !s.contains('=')
                && takes_value(cmd, globals, |a| a.get_long() == Some(name), name == "help")
            {
                k += 1;
            }
            continue;
        }
        if let Some(short) = s.strip_prefix('-') {
            let mut chars = short.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                if takes_value(cmd, globals, |a| a.get_short() == Some(c), c == 'h') {
                    k += 1;
                }
            }
            continue;
        }
        if !s.is_empty() {
            return Some(live[k - 1]);
        }
    }
    None
}

/// Whether the flag matched by `is` needs a separate value; unknown flags are assumed to.
fn takes_value(cmd: &Command, globals: &[&Arg], is: impl Fn(&Arg) -> bool, is_help: bool) -> bool {
    if is_help {
        return false;
    }
    let arg = cmd
        .get_arguments()
        .find(|a| is(a))
        .or_else(|| globals.iter().copied().find(|a| is(a)));
    match arg {
        Some(a) => {
            a.get_action().takes_values() && a.get_num_args().is_none_or(|r| r.min_values() != 0)
        }
        None => true,
    }
}

/// The output format named on the raw command line, for rendering errors: the first
/// `-o X`, `-o=X`, `--output X` or `--output=X` (`-oX` does not count), as upstream.
pub fn early_output(raw: &[OsString]) -> String {
    let args: Vec<String> = raw
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    for (i, a) in args.iter().enumerate() {
        if a == "--output" || a == "-o" {
            if let Some(v) = args.get(i + 1) {
                return v.clone();
            }
        } else if let Some(v) = a
            .strip_prefix("--output=")
            .or_else(|| a.strip_prefix("-o="))
        {
            return v.to_owned();
        }
    }
    "name".to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn prep(line: &str) -> (Vec<String>, String) {
        let raw: Vec<OsString> = line.split(' ').map(OsString::from).collect();
        let p = prepare(&crate::cli::command(), &raw);
        let args = p
            .args
            .iter()
            .skip(1)
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        (args, p.command_path())
    }

    #[test]
    fn finds_path_across_flags_and_case() {
        let (args, path) = prep("cli -o json --id=vm1 GET Iface");
        assert_eq!(args, ["get", "interface", "-o", "json", "--id=vm1"]);
        assert_eq!(path, "dpservice-cli get interface");
        let (args, _) = prep("cli --address localhost:1 get version");
        assert_eq!(args, ["get", "version", "--address", "localhost:1"]);
        let (args, _) = prep("cli add vip --interface-id vm1 --vip 1.2.3.4");
        assert_eq!(
            args,
            [
                "create",
                "virtualip",
                "--interface-id",
                "vm1",
                "--vip",
                "1.2.3.4"
            ]
        );
    }

    #[test]
    fn unknown_long_flags_swallow_a_value_like_cobra() {
        let (args, path) = prep("cli --bogus get list");
        assert_eq!(path, "dpservice-cli list");
        assert_eq!(args, ["list", "--bogus", "get"]);
        let (_, path) = prep("cli --pretty get init");
        assert_eq!(path, "dpservice-cli get init");
    }

    #[test]
    fn stops_at_unknown_words_and_double_dash() {
        let (args, path) = prep("cli get nope --id x");
        assert_eq!(path, "dpservice-cli get");
        assert_eq!(args, ["get", "nope", "--id", "x"]);
        let (_, path) = prep("cli -- get");
        assert_eq!(path, "dpservice-cli");
        let (args, _) = prep("cli help GET iface");
        assert_eq!(args, ["help", "get", "interface"]);
    }

    #[test]
    fn early_output_scan() {
        let o = |line: &str| early_output(&line.split(' ').map(OsString::from).collect::<Vec<_>>());
        assert_eq!(o("cli -o json get x"), "json");
        assert_eq!(o("cli get x --output=yaml"), "yaml");
        assert_eq!(o("cli -ojson get x"), "name");
        assert_eq!(o("cli -o=table"), "table");
        assert_eq!(o("cli get x -o"), "name");
    }
}
