//! `--nodes REGEX`: upstream compiles the pattern as a POSIX basic regular expression
//! (GNU flavour), where `|+?(){}` are literal and their backslashed forms are operators.
//! We translate that into the `regex` crate's syntax and pick the node ids it matches,
//! so the daemon only ever tests a bit per entry.

use regex::Regex;

/// Why a node pattern is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodesError {
    /// Looks like an option that was swallowed as the value.
    #[error("--nodes: '{0}' looks like an option; give a pattern (--nodes=PATTERN) or --nodes alone for all nodes")]
    LooksLikeOption(String),
    /// Longer than upstream's buffer.
    #[error("--nodes: the pattern is longer than 255 bytes")]
    TooLong,
    /// Does not compile.
    #[error("--nodes: invalid regular expression '{0}': {1}")]
    Invalid(String, String),
}

/// The `regex` syntax of a basic regular expression.
pub fn bre_to_regex(bre: &str) -> String {
    let mut out = String::with_capacity(bre.len() + 4);
    let mut chars = bre.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        if in_class {
            if c == ']' {
                in_class = false;
            }
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(c);
            }
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                out.push('[');
                // a leading ']' (or '^]') is literal inside a class
                let rest = chars.as_str();
                for lead in ["^]", "]", "^"] {
                    if let Some(r) = rest.strip_prefix(lead) {
                        out.push_str(&lead.replace(']', "\\]"));
                        chars = r.chars();
                        break;
                    }
                }
            }
            '\\' => match chars.next() {
                Some(o @ ('|' | '+' | '?' | '(' | ')' | '{' | '}')) => out.push(o),
                Some(o) => {
                    out.push('\\');
                    out.push(o);
                }
                None => out.push_str("\\\\"),
            },
            '|' | '+' | '?' | '(' | ')' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Compiles a `--nodes` pattern (empty: every node).
pub fn compile(pattern: &str) -> Result<Regex, NodesError> {
    if pattern.starts_with('-') {
        return Err(NodesError::LooksLikeOption(pattern.to_owned()));
    }
    if pattern.len() > 255 {
        return Err(NodesError::TooLong);
    }
    Regex::new(&bre_to_regex(pattern))
        .map_err(|e| NodesError::Invalid(pattern.to_owned(), e.to_string()))
}

/// The ids (indices) of the node names the pattern finds (unanchored).
pub fn matching_ids(re: &Regex, names: &[String]) -> Vec<u16> {
    names
        .iter()
        .enumerate()
        .filter(|(_, n)| !n.is_empty() && re.is_match(n))
        .map(|(i, _)| i as u16)
        .collect()
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    fn ids(pattern: &str) -> Vec<u16> {
        let names: Vec<String> = ["cls", "conntrack", "rx-2-0", "tx-0", "drop", "ipv4_lookup"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        match compile(pattern) {
            Ok(re) => matching_ids(&re, &names),
            Err(e) => panic!("{pattern}: {e}"),
        }
    }

    #[test]
    fn basic_regex_semantics() {
        assert_eq!(ids(""), [0, 1, 2, 3, 4, 5], "empty means all");
        assert_eq!(ids("conntrack"), [1]);
        assert_eq!(ids("rx\\|tx"), [2, 3], "escaped bar alternates");
        assert!(ids("rx|tx").is_empty(), "plain bar is literal");
        assert_eq!(ids("^c"), [0, 1]);
        assert_eq!(ids("p$"), [4, 5]);
        assert_eq!(ids("[rt]x-.*"), [2, 3]);
        assert_eq!(ids("v4_"), [5]);
    }

    #[test]
    fn refused_patterns() {
        assert!(matches!(
            compile("--drops"),
            Err(NodesError::LooksLikeOption(_))
        ));
        assert!(matches!(
            compile(&"a".repeat(256)),
            Err(NodesError::TooLong)
        ));
        assert!(matches!(compile("[abc"), Err(NodesError::Invalid(..))));
    }
}
