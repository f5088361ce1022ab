//! Completion of all five binaries, asked in-process through the same hook the shells
//! call: at every depth of every command tree, every visible long option and every
//! subcommand name is offered. Generic over the clap definitions, so options added to
//! any tool are covered without touching this test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::OsString;

use dpservice::completion::Hook;

/// The candidates (fish format: one per line, help after a tab) for `line`.
fn candidates(hook: Hook, line: &[String]) -> Vec<String> {
    let mut args: Vec<OsString> = vec!["completer".into(), "--".into()];
    args.extend(line.iter().map(OsString::from));
    let mut out = Vec::new();
    hook.answer("fish", &args, None, None, &mut out).unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
        .collect()
}

/// Walks `cmd`, checking each level; `line` is the words that reach it.
fn check_level(hook: Hook, cmd: &clap::Command, line: &[String], checked: &mut usize) {
    let mut options = line.to_vec();
    options.push("--".into());
    let got = candidates(hook, &options);
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        if let Some(long) = arg.get_long() {
            let want = format!("--{long}");
            assert!(
                got.contains(&want),
                "{line:?} --<TAB> lacks {want}: {got:?}"
            );
            *checked += 1;
        }
    }
    let subs: Vec<&clap::Command> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        .collect();
    if !subs.is_empty() {
        let mut next = line.to_vec();
        next.push(String::new());
        let got = candidates(hook, &next);
        for sub in &subs {
            assert!(
                got.iter().any(|g| g == sub.get_name()),
                "{line:?} <TAB> lacks {}: {got:?}",
                sub.get_name()
            );
            *checked += 1;
        }
    }
    for sub in subs {
        let mut deeper = line.to_vec();
        deeper.push(sub.get_name().to_owned());
        check_level(hook, sub, &deeper, checked);
    }
}

#[test]
fn every_option_and_subcommand_of_every_binary_completes() {
    let hooks = [
        Hook::new(dpservice_cli::command),
        Hook::new(dpservice_dump::command),
        Hook::new(dpservice_inspect::command),
        Hook::new(dpservice_exporter::command),
    ];
    let mut checked = 0;
    for (hook, mut cmd) in hooks.into_iter().zip([
        dpservice_cli::command(),
        dpservice_dump::command(),
        dpservice_inspect::command(),
        dpservice_exporter::command(),
    ]) {
        cmd.build();
        let name = cmd.get_name().to_owned();
        check_level(hook, &cmd, &[name], &mut checked);
    }
    // the daemon: its own options after the EAL part and `--`
    let mut daemon = dpservice_bin::command();
    daemon.build();
    check_level(
        dpservice_bin::completion_hook(),
        &daemon,
        &["dpservice-bin".into(), "--no-pci".into(), "--".into()],
        &mut checked,
    );
    assert!(checked > 300, "only {checked} names checked");
}
