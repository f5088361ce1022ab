//! Shell completion for every binary of the suite, from its clap definition.
//!
//! The shipped scripts (`completions/`, `dpservice-cli completion <shell>`) are small
//! registrations that ask the binary itself for the candidates of the line being typed
//! (clap_complete's dynamic engine): the binary is started with [`ENV_VAR`] set to the
//! shell's name and the words after `--`, and prints the candidates. One engine serves
//! bash, zsh and fish alike, so subcommands, aliases, options and value sets come out
//! the same in every shell, new options appear without regenerating anything, and values
//! only the running daemon knows (interface, load balancer and firewall rule IDs) are
//! asked from it (see [`live`]).
//!
//! Why not clap_complete's static scripts: their bash variant names its states with the
//! binary's hyphen turned into `__` in one place and into `__subcmd__` in another, so
//! nothing below the first word completes for any `dpservice-*` binary, and a static
//! script cannot ask the daemon for IDs.
//!
//! Each binary calls [`Hook::answer_if_asked`] first thing in `main`.

mod hook;
pub mod live;
mod objects;
mod script;

pub use hook::Hook;
pub use objects::{decorate, ObjectKind};
pub use script::{registration, Shell, UnknownShell};

/// The environment variable that turns a run of any binary into a completion request.
/// Its own name (not clap's default `COMPLETE`) so that other clap programs the shell
/// starts while completing are not affected.
pub const ENV_VAR: &str = "DPSERVICE_COMPLETE";

/// A fixed set of candidates for an option whose values clap cannot know (the value is
/// parsed as a string for compatibility reasons): `#[arg(add = fixed(&["a", "b"]))]`.
pub fn fixed(values: &'static [&'static str]) -> clap_complete::engine::ArgValueCandidates {
    clap_complete::engine::ArgValueCandidates::new(move || {
        values
            .iter()
            .map(|v| clap_complete::engine::CompletionCandidate::new(*v))
            .collect::<Vec<_>>()
    })
}

/// Candidates for `--file-prefix`: the instances whose shared-memory region exists.
pub fn running_instances() -> clap_complete::engine::ArgValueCandidates {
    clap_complete::engine::ArgValueCandidates::new(|| {
        live::running_instances()
            .into_iter()
            .map(clap_complete::engine::CompletionCandidate::new)
            .collect::<Vec<_>>()
    })
}
