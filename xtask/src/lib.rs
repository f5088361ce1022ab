//! Generated documentation: shell completions and man pages, all from the clap
//! definitions of the five binaries (one definition, many outputs). The completion
//! files are registrations: the binaries answer with candidates from their clap
//! definitions at TAB time (`dpservice::completion`).

use std::path::{Path, PathBuf};

use dpservice::completion::{registration, Shell};

/// The clap definitions of every binary of the suite.
pub fn commands() -> Vec<clap::Command> {
    vec![
        dpservice_bin::command(),
        dpservice_cli::command(),
        dpservice_dump::command(),
        dpservice_inspect::command(),
        dpservice_exporter::command(),
    ]
}

/// Every generated file: its path relative to the workspace root, and its content.
pub fn generated_files() -> anyhow::Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut files = Vec::new();
    for cmd in commands() {
        let name = cmd.get_name().to_owned();
        for shell in Shell::ALL {
            let path = format!("completions/{shell}/{}", shell.file_name(&name));
            files.push((PathBuf::from(path), registration(shell, &name).into_bytes()));
        }
        let mut built = cmd.clone();
        built.build();
        man_pages(&built, &name, &mut files)?;
    }
    Ok(files)
}

/// A page for the command and one per (nested) subcommand, named `parent-sub.1`.
fn man_pages(
    cmd: &clap::Command,
    full_name: &str,
    files: &mut Vec<(PathBuf, Vec<u8>)>,
) -> anyhow::Result<()> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone().name(full_name.to_owned())).render(&mut buf)?;
    files.push((PathBuf::from(format!("man/{full_name}.1")), buf));
    for sub in cmd
        .get_subcommands()
        .filter(|s| s.get_name() != "help" && !s.is_hide_set())
    {
        man_pages(sub, &format!("{full_name}-{}", sub.get_name()), files)?;
    }
    Ok(())
}

/// Writes every generated file under `root`, removing stale ones.
pub fn write_all(root: &Path) -> anyhow::Result<usize> {
    let files = generated_files()?;
    for dir in ["completions", "man"] {
        let dir = root.join(dir);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
    }
    for (path, content) in &files {
        let path = root.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, content)?;
    }
    Ok(files.len())
}

/// The paths under `root` whose content differs from what would be generated, plus
/// files present there that would not be generated at all.
pub fn stale_files(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let files = generated_files()?;
    let mut stale: Vec<PathBuf> = files
        .iter()
        .filter(|(path, content)| std::fs::read(root.join(path)).ok().as_ref() != Some(content))
        .map(|(path, _)| path.clone())
        .collect();
    for dir in ["completions", "man"] {
        for entry in walk(&root.join(dir))? {
            let rel = entry.strip_prefix(root)?.to_path_buf();
            if !files.iter().any(|(path, _)| *path == rel) {
                stale.push(rel);
            }
        }
    }
    Ok(stale)
}

fn walk(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(walk(&path)?);
        } else {
            out.push(path);
        }
    }
    Ok(out)
}
