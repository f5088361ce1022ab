//! The Debian package: built by `scripts/build-deb.sh`, installed with `dpkg -i` into a
//! scratch root, and everything where it belongs: binaries that run, man pages found by
//! `man -w`, completions in the directories each shell loads, units that
//! `systemd-analyze verify` accepts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BINARIES: [&str; 5] = [
    "dpservice-bin",
    "dpservice-cli",
    "dpservice-dump",
    "dpservice-inspect",
    "dpservice-exporter",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn ok(mut cmd: Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A scratch directory removed at the end, even on failure.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The first line of a shell's answer to `script`.
fn shell_says(shell: &str, args: &[&str]) -> String {
    String::from_utf8_lossy(
        &ok({
            let mut c = Command::new(shell);
            c.args(args);
            c
        })
        .stdout,
    )
    .into_owned()
}

#[test]
fn the_package_installs_everything_where_it_belongs() {
    let scratch = Scratch(std::env::temp_dir().join(format!("dps-deb-{}", std::process::id())));
    let out_dir = scratch.0.join("out");
    let inst = scratch.0.join("root");

    // build (debug binaries: the release build is for real installs)
    let built = ok({
        let mut c = Command::new(root().join("scripts/build-deb.sh"));
        c.args(["--debug", "--out"])
            .arg(&out_dir)
            .current_dir(root());
        c
    });
    let deb = PathBuf::from(
        String::from_utf8_lossy(&built.stdout)
            .lines()
            .last()
            .unwrap(),
    );
    assert!(deb.exists(), "{deb:?}");
    let fields = String::from_utf8_lossy(
        &ok({
            let mut c = Command::new("dpkg-deb");
            c.arg("--field").arg(&deb).args(["Package", "Version"]);
            c
        })
        .stdout,
    )
    .into_owned();
    assert!(fields.contains("Package: dpservice"), "{fields}");
    assert!(
        fields.contains(&format!("Version: {}", env!("CARGO_PKG_VERSION"))),
        "{fields}"
    );

    // install into a scratch root with its own dpkg database
    std::fs::create_dir_all(inst.join("var/lib/dpkg/info")).unwrap();
    std::fs::create_dir_all(inst.join("var/lib/dpkg/updates")).unwrap();
    std::fs::write(inst.join("var/lib/dpkg/status"), "").unwrap();
    ok({
        let mut c = Command::new("dpkg");
        c.arg(format!("--root={}", inst.display()))
            // libc6 and iproute2 live in the host's database, not the scratch one
            .args([
                "--force-depends",
                "--force-script-chrootless",
                "--log=/dev/null",
                "-i",
            ])
            .arg(&deb);
        c
    });

    for bin in BINARIES {
        let path = inst.join("usr/bin").join(bin);
        let version = ok({
            let mut c = Command::new(&path);
            // the daemon's own options follow the EAL part and `--`
            if bin == "dpservice-bin" {
                c.arg("--");
            }
            c.arg("--version").env("DP_CONF", "");
            c
        });
        assert!(
            String::from_utf8_lossy(&version.stdout).contains(env!("CARGO_PKG_VERSION")),
            "{bin} --version"
        );
        // man -w finds each binary's page in the installed tree
        let man = ok({
            let mut c = Command::new("man");
            c.arg("-w")
                .arg("-M")
                .arg(inst.join("usr/share/man"))
                .arg(bin);
            c
        });
        let page = String::from_utf8_lossy(&man.stdout).trim().to_owned();
        assert_eq!(
            Path::new(&page),
            inst.join(format!("usr/share/man/man1/{bin}.1.gz")),
            "man -w {bin}"
        );
        for file in [
            format!("usr/share/bash-completion/completions/{bin}"),
            format!("usr/share/zsh/vendor-completions/_{bin}"),
            format!("usr/share/fish/vendor_completions.d/{bin}.fish"),
        ] {
            assert!(inst.join(&file).is_file(), "missing {file}");
        }
    }
    // a subcommand's page too
    ok({
        let mut c = Command::new("man");
        c.arg("-w")
            .arg("-M")
            .arg(inst.join("usr/share/man"))
            .arg("dpservice-cli-get-interface");
        c
    });

    // the completion directories are the ones each shell loads from
    let bash_dir = String::from_utf8_lossy(
        &ok({
            let mut c = Command::new("pkg-config");
            c.args(["--variable=completionsdir", "bash-completion"]);
            c
        })
        .stdout,
    )
    .trim()
    .to_owned();
    assert_eq!(bash_dir, "/usr/share/bash-completion/completions");
    let zsh_fpath = shell_says("zsh", &["-fc", "print -l $fpath"]);
    assert!(
        zsh_fpath
            .lines()
            .any(|l| l == "/usr/share/zsh/vendor-completions"),
        "{zsh_fpath}"
    );
    let fish_path = shell_says("fish", &["-c", "printf '%s\\n' $fish_complete_path"]);
    assert!(
        fish_path
            .lines()
            .any(|l| l == "/usr/share/fish/vendor_completions.d"),
        "{fish_path}"
    );

    // units and configuration
    for file in [
        "usr/lib/systemd/system/dpservice.service",
        "usr/lib/systemd/system/dpservice-exporter.service",
        "etc/dpservice/dpservice.conf",
        "etc/default/dpservice",
    ] {
        assert!(inst.join(file).is_file(), "missing {file}");
    }
    let unit =
        std::fs::read_to_string(inst.join("usr/lib/systemd/system/dpservice.service")).unwrap();
    assert!(unit.contains("Type=notify"), "{unit}");
    assert!(
        unit.contains("DP_CONF=/etc/dpservice/dpservice.conf"),
        "{unit}"
    );
    let conffiles =
        std::fs::read_to_string(inst.join("var/lib/dpkg/info/dpservice.conffiles")).unwrap();
    assert!(
        conffiles.contains("/etc/dpservice/dpservice.conf"),
        "{conffiles}"
    );

    verify_units(&inst);
}

/// `systemd-analyze verify` inside the scratch root (with the host's stock units
/// copied in, for the targets ours are ordered against).
fn verify_units(inst: &Path) {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("SKIPPED systemd-analyze verify: systemd-analyze is not installed (Debian package systemd)");
        return;
    }
    let host_units = Path::new("/lib/systemd/system");
    let ours = inst.join("usr/lib/systemd/system");
    for entry in std::fs::read_dir(host_units).unwrap() {
        let entry = entry.unwrap();
        let target = ours.join(entry.file_name());
        if !target.exists() && entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
    let out = ok({
        let mut c = Command::new("systemd-analyze");
        c.args(["verify", "--man=no"])
            .arg(format!("--root={}", inst.display()))
            .args([
                "/usr/lib/systemd/system/dpservice.service",
                "/usr/lib/systemd/system/dpservice-exporter.service",
            ]);
        c
    });
    // Unknown keys and the like are warnings with exit status 0: none allowed.
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(
        warnings.trim().is_empty(),
        "systemd-analyze verify: {warnings}"
    );
}
