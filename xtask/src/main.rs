//! `cargo xtask gen` regenerates `completions/` and `man/`; `cargo xtask check` fails when
//! they are stale.

use std::path::PathBuf;
use std::process::ExitCode;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn main() -> ExitCode {
    let root = workspace_root();
    let result = match std::env::args().nth(1).as_deref() {
        Some("gen") => xtask::write_all(&root).map(|n| println!("wrote {n} files")),
        Some("check") => xtask::stale_files(&root).and_then(|stale| {
            if stale.is_empty() {
                Ok(())
            } else {
                for path in &stale {
                    eprintln!("stale: {}", path.display());
                }
                anyhow::bail!("generated files are stale: run `cargo xtask gen` and commit")
            }
        }),
        _ => {
            eprintln!("usage: cargo xtask gen | check");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err:#}");
            ExitCode::FAILURE
        }
    }
}
