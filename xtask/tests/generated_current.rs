//! The checked-in completions and man pages must match the clap definitions.

use std::path::PathBuf;

#[test]
fn completions_and_man_pages_are_current() -> anyhow::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let stale = xtask::stale_files(&root)?;
    assert!(
        stale.is_empty(),
        "stale generated files (run `cargo xtask gen` and commit): {stale:?}"
    );
    Ok(())
}

#[test]
fn every_binary_has_completions_for_three_shells() -> anyhow::Result<()> {
    let files = xtask::generated_files()?;
    for cmd in xtask::commands() {
        let name = cmd.get_name();
        for path in [
            format!("completions/bash/{name}"),
            format!("completions/zsh/_{name}"),
            format!("completions/fish/{name}.fish"),
            format!("man/{name}.1"),
        ] {
            assert!(
                files
                    .iter()
                    .any(|(p, _)| p.as_path() == std::path::Path::new(&path)),
                "missing {path}"
            );
        }
    }
    Ok(())
}
