//! The shipped completion files in the real shells (bash with bash-completion, zsh,
//! fish), asking the real binaries: a table of command lines and their candidates, and
//! live object IDs from a real daemon in a namespace.
//!
//! Needs `bash-completion`, `zsh` and `fish` (Debian packages; `.ci/run` installs them).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::daemon::{daemon_bin, Daemon};
use support::CLI;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sh {
    Bash,
    Zsh,
    Fish,
}

const SHELLS: [Sh; 3] = [Sh::Bash, Sh::Zsh, Sh::Fish];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/shells")
}

/// A scratch directory the shells run in: a file and a directory for file completion,
/// and bash-completion's user directory pointing at the shipped bash files.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("dps-compl-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("objects.d")).unwrap();
        std::fs::write(dir.join("objects.yaml"), "").unwrap();
        std::fs::create_dir_all(dir.join("bc")).unwrap();
        std::os::unix::fs::symlink(root().join("completions/bash"), dir.join("bc/completions"))
            .unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The command running `shell` on `line` with the binaries of this build on PATH.
fn shell_command(shell: Sh, line: &str, scratch: &Scratch, prefix: Option<Command>) -> Command {
    let (program, args): (&str, Vec<String>) = match shell {
        Sh::Bash => (
            "bash",
            vec![
                "--noprofile".into(),
                "--norc".into(),
                scripts().join("bash.sh").display().to_string(),
                line.into(),
            ],
        ),
        Sh::Zsh => (
            "zsh",
            vec![
                "-f".into(),
                scripts().join("zsh.zsh").display().to_string(),
                root().join("completions/zsh").display().to_string(),
                line.into(),
            ],
        ),
        Sh::Fish => (
            "fish",
            vec![
                "--no-config".into(),
                scripts().join("fish.fish").display().to_string(),
                root().join("completions/fish").display().to_string(),
                line.into(),
            ],
        ),
    };
    let mut cmd = match prefix {
        Some(mut p) => {
            p.arg(program);
            p
        }
        None => Command::new(program),
    };
    let bin_dir = Path::new(CLI).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    cmd.args(args)
        .current_dir(&scratch.0)
        .env("PATH", path)
        .env("BASH_COMPLETION_USER_DIR", scratch.0.join("bc"))
        .env("HOME", &scratch.0)
        .env("XDG_CONFIG_HOME", &scratch.0)
        .env("XDG_DATA_HOME", &scratch.0)
        .env_remove("DP_GRPC_PORT")
        .env_remove("DP_FILE_PREFIX");
    cmd
}

fn run(mut cmd: Command, shell: Sh, line: &str) -> Vec<String> {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {shell:?} ({e}): install bash-completion, zsh and fish (.ci/run does)")
    });
    assert!(
        out.status.success(),
        "{shell:?} on {line:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut candidates: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_end().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    candidates.sort();
    candidates.dedup();
    candidates
}

fn complete(shell: Sh, line: &str, scratch: &Scratch) -> Vec<String> {
    run(shell_command(shell, line, scratch, None), shell, line)
}

/// What a line must offer: `Exactly` these, or `AtLeast` these (and `Never` those).
enum Want {
    Exactly(&'static [&'static str]),
    AtLeast(&'static [&'static str], &'static [&'static str]),
}
use Want::*;

const NO_FILES: &[&str] = &["objects.yaml", "objects.d/", "bc/"];

const TABLE: &[(&str, Want)] = &[
    // top level: verbs by their canonical names, and the global options
    (
        "dpservice-cli ",
        AtLeast(
            &[
                "create",
                "get",
                "list",
                "delete",
                "reset",
                "init",
                "capture",
                "completion",
                "--output",
                "--address",
            ],
            NO_FILES,
        ),
    ),
    // aliases complete too
    ("dpservice-cli de", Exactly(&["del", "delete"])),
    ("dpservice-cli ad", Exactly(&["add"])),
    // nested subcommands, under a verb and under its alias
    (
        "dpservice-cli get ",
        AtLeast(
            &[
                "interface",
                "loadbalancer",
                "firewallrule",
                "vni",
                "prefix",
                "route",
            ],
            NO_FILES,
        ),
    ),
    (
        "dpservice-cli add fw",
        Exactly(&["fw-rule", "fw-rules", "fwrule", "fwrules"]),
    ),
    (
        "dpservice-cli capture ",
        AtLeast(&["start", "status", "stop"], &[]),
    ),
    // options of a nested subcommand reached through aliases
    (
        "dpservice-cli del fwrule --",
        AtLeast(
            &["--interface-id", "--rule-id", "--address", "--output"],
            &[],
        ),
    ),
    (
        "dpservice-cli add iface --",
        AtLeast(&["--id", "--vni", "--device", "--ipv4", "--ipv6"], &[]),
    ),
    // value sets
    (
        "dpservice-cli -o ",
        Exactly(&["json", "name", "table", "yaml"]),
    ),
    (
        "dpservice-cli list interfaces --output ",
        Exactly(&["json", "name", "table", "yaml"]),
    ),
    (
        "dpservice-cli add fwrule --protocol ",
        Exactly(&["icmp", "tcp", "udp"]),
    ),
    (
        "dpservice-cli add fwrule --direction ",
        Exactly(&["egress", "ingress"]),
    ),
    (
        "dpservice-cli completion ",
        AtLeast(&["bash", "fish", "zsh"], NO_FILES),
    ),
    // files only where a file is meant
    ("dpservice-cli create -f ", AtLeast(&["objects.yaml"], &[])),
    ("dpservice-cli add iface --vni ", Exactly(&[])),
    // no daemon listening: no IDs, and no file names instead
    ("dpservice-cli get interface --id ", Exactly(&[])),
    // the daemon: EAL options before `--`, its own after it, with their values
    (
        "dpservice-bin --no-",
        AtLeast(&["--no-huge", "--no-pci"], &["--no-stats"]),
    ),
    (
        "dpservice-bin --no-pci -- --no-",
        AtLeast(&["--no-offload", "--no-stats"], &["--no-pci"]),
    ),
    (
        "dpservice-bin -- --nic-type ",
        Exactly(&["bluefield2", "mellanox", "tap"]),
    ),
    (
        "dpservice-bin -- --log-format ",
        AtLeast(&["json", "text"], NO_FILES),
    ),
];

fn check(shell: Sh, line: &str, want: &Want, got: &[String]) {
    match want {
        Exactly(expected) => assert_eq!(got, *expected, "{shell:?}: {line:?}"),
        AtLeast(expected, never) => {
            for e in *expected {
                assert!(
                    got.iter().any(|g| g == e),
                    "{shell:?}: {line:?} lacks {e}: {got:?}"
                );
            }
            for n in *never {
                assert!(
                    !got.iter().any(|g| g == n),
                    "{shell:?}: {line:?} offers {n}: {got:?}"
                );
            }
        }
    }
}

#[test]
fn every_shell_completes_the_table_of_lines() {
    // dpservice-bin of this build, next to dpservice-cli.
    let _ = daemon_bin();
    let scratch = Scratch::new("table");
    // one thread per shell: the three are independent and each line starts processes
    std::thread::scope(|s| {
        for shell in SHELLS {
            let scratch = &scratch;
            s.spawn(move || {
                for (line, want) in TABLE {
                    let got = complete(shell, line, scratch);
                    check(shell, line, want, &got);
                }
            });
        }
    });
}

#[test]
fn completion_subcommand_prints_the_shipped_files() {
    for (shell, file) in [
        ("bash", "completions/bash/dpservice-cli"),
        ("zsh", "completions/zsh/_dpservice-cli"),
        ("fish", "completions/fish/dpservice-cli.fish"),
    ] {
        let out = Command::new(CLI)
            .args(["completion", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        let shipped = std::fs::read(root().join(file)).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&shipped),
            "{shell}"
        );
    }
}

#[test]
fn live_ids_come_from_the_running_daemon() {
    let d = Daemon::start();
    for line in [
        "init",
        "add interface --id=vm1 --device=net_tap2 --vni=100 --ipv4=10.100.1.1 --ipv6=2000:100:1::1",
        "add interface --id=vm2 --device=net_tap3 --vni=100 --ipv4=10.100.1.2 --ipv6=2000:100:1::2",
        "add loadbalancer --id=web_lb --vni=100 --vip=172.22.2.1 --lbports=tcp/80",
        "add fwrule --interface-id=vm1 --rule-id=allow-in --src=0.0.0.0/0 --dst=0.0.0.0/0 --action=accept --direction=ingress",
        "add fwrule --interface-id=vm1 --rule-id=allow-out --src=0.0.0.0/0 --dst=0.0.0.0/0 --action=accept --direction=egress",
    ] {
        let r = d.cli(line);
        assert_eq!(r.code, 0, "{line}: {}{}", r.stdout, r.stderr);
    }
    let scratch = Scratch::new("live");
    let cases: &[(&str, &[&str])] = &[
        ("dpservice-cli get interface --id ", &["vm1", "vm2"]),
        ("dpservice-cli del iface --id vm", &["vm1", "vm2"]),
        (
            "dpservice-cli list prefixes --interface-id ",
            &["vm1", "vm2"],
        ),
        ("dpservice-cli add vip --interface-id v", &["vm1", "vm2"]),
        ("dpservice-cli get lb --id ", &["web_lb"]),
        ("dpservice-cli list lbtargets --lb-id ", &["web_lb"]),
        (
            "dpservice-cli get fwrule --interface-id vm1 --rule-id ",
            &["allow-in", "allow-out"],
        ),
        (
            "dpservice-cli get fwrule --interface-id vm2 --rule-id ",
            &[],
        ),
        // a new object's own ID is never an existing one
        ("dpservice-cli add interface --id ", &[]),
        // another daemon address on the line: asked there (nothing listens)
        (
            "dpservice-cli --address=localhost:1 get interface --id ",
            &[],
        ),
    ];
    for shell in SHELLS {
        for (line, expected) in cases {
            let started = std::time::Instant::now();
            let got = run(
                shell_command(shell, line, &scratch, Some(d.in_netns_prefix())),
                shell,
                line,
            );
            assert_eq!(got, *expected, "{shell:?}: {line:?}\n{}", d.log());
            assert!(
                started.elapsed() < std::time::Duration::from_secs(5),
                "{line:?} took {:?}",
                started.elapsed()
            );
        }
    }
}
