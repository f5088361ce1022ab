//! The command line as a user meets it: help, version, refusals, the config file.

use std::process::{Command, Output};

use dpservice::version::VERSION;

use crate::support::bin;

fn run(args: &[&str], dp_conf: &str) -> Output {
    Command::new(bin())
        .env_clear()
        .env("DP_CONF", dp_conf)
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_after_separator_goes_to_stdout_and_exits_0() {
    // exactly how upstream's test runner asks
    let out = run(&["--no-pci", "--no-huge", "--", "--help"], "");
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for needle in [
        "--udp-virtsvc",
        "--flow-timeout",
        "--grpc-port <PORT>",
        "--active-lockfile",
    ] {
        assert!(help.contains(needle), "{needle} missing:\n{help}");
    }
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn version_after_separator_is_one_line() {
    let out = run(&["--no-pci", "--no-huge", "--", "--version"], "");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), format!("DP Service version {VERSION}\n"));
    let out = run(&["--", "-v"], "");
    assert_eq!(text(&out.stdout), format!("DP Service version {VERSION}\n"));
}

#[test]
fn help_before_separator_is_the_eal_usage() {
    let out = run(&["--help"], "");
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("EAL options"));
}

#[test]
fn bad_options_exit_1_with_a_message_on_stderr() {
    for (args, needle) in [
        (&["--", "--bogus"][..], "--bogus"),
        (
            &["--", "--grpc-port=80"][..],
            "Value '80' is out of range (1024-65535)",
        ),
        (&["--", "--nic-type=e1000"][..], "Invalid choice 'e1000'"),
        (&["--", "--pf0"][..], "--pf0"),
        (&["--bogus-eal", "--"][..], "unknown EAL option"),
        (&["--pf0=dtap0"][..], "put it after '--'"),
        (
            &[
                // --no-pci: the ports are known before DPDK probes (either backend)
                "--no-pci",
                "--vdev=net_tap0,iface=a",
                "--",
                "--pf0=a",
                "--pf1=b",
                "--vf-pattern=v",
                "--nic-type=tap",
            ][..],
            "No such interface 'b' for --pf1",
        ),
    ] {
        let out = run(args, "");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out.stdout));
    }
}

#[test]
fn config_file_is_read_before_the_command_line() {
    let dir = std::env::temp_dir().join(format!("dpconf-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.conf");
    std::fs::write(&bad, "# comment\nno-such-key 1\n").unwrap();
    let out = run(&["--", "--version"], bad.to_str().unwrap());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("unknown key 'no-such-key' on line 2"),
        "{}",
        text(&out.stderr)
    );

    let out = run(&["--", "--version"], "/nonexistent/dpservice.conf");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("Error opening config file"));

    std::fs::remove_dir_all(&dir).unwrap();
}
