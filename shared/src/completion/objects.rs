//! Which options name objects of the running daemon, and what the typed line already
//! says about where and which daemon to ask.
//!
//! The rules go by the option's long name and the subcommand it belongs to, so any
//! tool whose clap definition uses the same names gets the same live candidates.

use std::ffi::OsString;

use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};

use super::live;

/// An object kind whose IDs the daemon lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// Interfaces (`ListInterfaces`).
    Interface,
    /// Load balancers (`ListLoadBalancers`).
    LoadBalancer,
    /// Firewall rules of the interface named by `--interface-id` on the same line.
    FirewallRule,
}

/// An option that names an existing object.
struct Rule {
    /// The option's long name.
    long: &'static str,
    /// Only inside this subcommand (canonical name), if set.
    within: Option<&'static str>,
    kind: ObjectKind,
}

const RULES: &[Rule] = &[
    Rule {
        long: "interface-id",
        within: None,
        kind: ObjectKind::Interface,
    },
    Rule {
        long: "lb-id",
        within: None,
        kind: ObjectKind::LoadBalancer,
    },
    Rule {
        long: "id",
        within: Some("interface"),
        kind: ObjectKind::Interface,
    },
    Rule {
        long: "id",
        within: Some("loadbalancer"),
        kind: ObjectKind::LoadBalancer,
    },
    Rule {
        long: "rule-id",
        within: Some("firewallrule"),
        kind: ObjectKind::FirewallRule,
    },
];

/// Verbs under which the object's own ID is new, so existing ones are no candidates.
const CREATING_VERBS: &[&str] = &["create"];

/// What the words typed so far say about the daemon to ask.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineContext {
    /// `--address` as typed, if any.
    pub address: Option<String>,
    /// `--interface-id` as typed, if any (firewall rules are listed per interface).
    pub interface_id: Option<String>,
}

impl LineContext {
    /// Scans the words before the cursor for the options that matter.
    pub fn from_words(words: &[OsString]) -> LineContext {
        let words = rejoin_bash_words(words);
        let mut context = LineContext::default();
        for (i, word) in words.iter().enumerate() {
            let take = |name: &str| -> Option<String> {
                let flag = format!("--{name}");
                if let Some(value) = word.strip_prefix(&format!("{flag}=")) {
                    return Some(value.to_owned());
                }
                (*word == flag).then(|| words.get(i + 1).cloned()).flatten()
            };
            if let Some(address) = take("address") {
                context.address = Some(address);
            }
            if let Some(id) = take("interface-id") {
                context.interface_id = Some(id);
            }
        }
        context
    }
}

/// bash splits words at `=` and `:` too (`COMP_WORDBREAKS`): `--address=host:1400`
/// arrives as `--address`, `=`, `host`, `:`, `1400`. Glues such pieces back together.
fn rejoin_bash_words(words: &[OsString]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut glue_next = false;
    for word in words.iter().filter_map(|w| w.to_str()) {
        let is_break = word == "=" || word == ":";
        match out.last_mut() {
            Some(last) if is_break || glue_next => last.push_str(word),
            _ => out.push(word.to_owned()),
        }
        glue_next = is_break;
    }
    out
}

/// Adds live-ID candidates to every option of `cmd` (at any depth) that names an
/// existing object.
pub fn decorate(cmd: clap::Command, context: &LineContext) -> clap::Command {
    decorate_at(cmd, &[], context)
}

fn decorate_at(mut cmd: clap::Command, path: &[String], context: &LineContext) -> clap::Command {
    let here = cmd.get_name().to_owned();
    let creating = path.iter().any(|p| CREATING_VERBS.contains(&p.as_str()));
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    cmd = cmd.mut_args(|arg| {
        let Some(long) = arg.get_long() else {
            return arg;
        };
        let rule = RULES.iter().find(|r| {
            r.long == long
                && r.within.is_none_or(|w| w == here)
                && !(creating && r.within == Some(here.as_str()))
        });
        match rule {
            Some(rule) => arg.add(candidates(rule.kind, context.clone())),
            None => arg,
        }
    });
    let mut inner = path.to_vec();
    inner.push(here);
    for name in names {
        cmd = cmd.mut_subcommand(&name, |sub| decorate_at(sub, &inner, context));
    }
    cmd
}

fn candidates(kind: ObjectKind, context: LineContext) -> ArgValueCandidates {
    ArgValueCandidates::new(move || {
        live::object_ids(kind, &context)
            .into_iter()
            .map(CompletionCandidate::new)
            .collect::<Vec<_>>()
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<OsString> {
        line.split(' ').map(OsString::from).collect()
    }

    #[test]
    fn the_line_names_address_and_interface_in_either_spelling() {
        let c = LineContext::from_words(&words(
            "dpservice-cli --address=localhost:1400 get fwrule --interface-id vm1 --rule-id",
        ));
        assert_eq!(c.address.as_deref(), Some("localhost:1400"));
        assert_eq!(c.interface_id.as_deref(), Some("vm1"));
        let c = LineContext::from_words(&words("dpservice-cli --address 10.0.0.1:1337 get"));
        assert_eq!(c.address.as_deref(), Some("10.0.0.1:1337"));
        assert_eq!(c.interface_id, None);
        // as bash hands them over, split at '=' and ':'
        let c = LineContext::from_words(&words(
            "dpservice-cli --address = localhost : 1400 get fwrule --interface-id = vm1 --rule-id",
        ));
        assert_eq!(c.address.as_deref(), Some("localhost:1400"));
        assert_eq!(c.interface_id.as_deref(), Some("vm1"));
    }

    fn has_candidates(cmd: &clap::Command, path: &[&str], long: &str) -> bool {
        let mut cmd = cmd;
        for name in path {
            cmd = cmd.find_subcommand(name).unwrap();
        }
        let arg = cmd
            .get_arguments()
            .find(|a| a.get_long() == Some(long))
            .unwrap();
        arg.get::<ArgValueCandidates>().is_some()
    }

    #[test]
    fn object_options_get_live_candidates_except_for_new_objects() {
        let object = |name: &'static str| {
            clap::Command::new(name)
                .arg(clap::Arg::new("id").long("id"))
                .arg(clap::Arg::new("interface-id").long("interface-id"))
                .arg(clap::Arg::new("vni").long("vni"))
        };
        let verb = |name: &'static str| {
            clap::Command::new(name)
                .subcommand(object("interface"))
                .subcommand(object("loadbalancer"))
                .subcommand(object("prefix"))
        };
        let root = clap::Command::new("t")
            .subcommand(verb("get"))
            .subcommand(verb("create"));
        let cmd = decorate(root, &LineContext::default());
        assert!(has_candidates(&cmd, &["get", "interface"], "id"));
        assert!(has_candidates(&cmd, &["get", "loadbalancer"], "id"));
        assert!(!has_candidates(&cmd, &["get", "prefix"], "id"));
        assert!(has_candidates(&cmd, &["get", "prefix"], "interface-id"));
        assert!(!has_candidates(&cmd, &["get", "prefix"], "vni"));
        assert!(!has_candidates(&cmd, &["create", "interface"], "id"));
        assert!(has_candidates(&cmd, &["create", "prefix"], "interface-id"));
    }
}
