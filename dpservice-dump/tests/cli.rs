//! The command line of dpservice-dump without a daemon: validation before attaching,
//! exit codes, the refusal when no daemon runs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_dpservice-dump");

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .env_remove("DP_FILE_PREFIX")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn version_and_help_exit_zero() {
    let (code, out, _) = run(&["-v"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("DP Service version "), "{out}");
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("--drops") && out.contains("--pcapng"), "{out}");
}

#[test]
fn bad_arguments_are_refused_before_attaching() {
    let prefix = "--file-prefix=dumpclinone";
    for (args, needle) in [
        (vec!["--filter", "tcp and", prefix], "invalid filter"),
        (vec!["--nodes=[x", prefix], "invalid regular expression"),
        (vec!["-c", "-1", prefix], "-1"),
        (vec!["-c", "2147483648", prefix], "2147483648"),
        (vec!["--bogus", prefix], "--bogus"),
        (
            vec!["--pcap", "/nonexistent/dir/x.pcap", prefix],
            "/nonexistent/dir/x.pcap",
        ),
    ] {
        let (code, _, err) = run(&args);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn no_daemon_is_a_clear_error() {
    let (code, _, err) = run(&["--file-prefix=dumpclinone"]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot connect to service"), "{err}");
    assert!(err.contains("--file-prefix=dumpclinone"), "{err}");
    let (code, _, _) = run(&["--stop", "--file-prefix=dumpclinone"]);
    assert_eq!(code, 1);
}
