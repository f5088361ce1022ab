//! The configuration file (`DP_CONF`, default `/run/dpservice/dpservice.conf`).
//!
//! One `key value` per line, keys being the long dpservice options without dashes, plus
//! `a-pf0`/`a-pf1` which add `-a <devargs>` to the EAL part. The file is read before the
//! command line; its options become command-line words placed in front of the real
//! ones, so scalars given on the command line win and lists append.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// Where the file is looked for when `DP_CONF` is unset.
pub const DEFAULT_PATH: &str = "/run/dpservice/dpservice.conf";

/// Environment variable naming the file (empty: no file).
pub const ENV_VAR: &str = "DP_CONF";

/// What the file contributes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileArgs {
    /// The file read, if any.
    pub path: Option<PathBuf>,
    /// `a-pf0` devargs (the last one wins).
    pub a_pf0: Option<String>,
    /// `a-pf1` devargs (the last one wins).
    pub a_pf1: Option<String>,
    /// dpservice option words (`--key=value` or `--flag`), in file order.
    pub option_words: Vec<String>,
}

impl FileArgs {
    /// Whether the file set anything at all.
    pub fn is_empty(&self) -> bool {
        self.a_pf0.is_none() && self.a_pf1.is_none() && self.option_words.is_empty()
    }

    /// The PCI devices to add to the EAL part (`-a`), pf0's first.
    pub fn eal_allow(&self) -> Vec<String> {
        self.a_pf0.iter().chain(&self.a_pf1).cloned().collect()
    }
}

/// Why the configuration file was refused.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// `DP_CONF` names a file that cannot be read.
    #[error("Error opening config file '{path}': {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line of blanks.
    #[error("Config file error: no key on line {line} of '{path}'")]
    NoKey {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// A key that needs a value without one.
    #[error("Config file error: value required for key '{key}' on line {line} of '{path}'")]
    MissingValue {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// 1-based line number.
        line: usize,
    },
    /// Not an option name.
    #[error("Config file: unknown key '{key}' on line {line} of '{path}'")]
    UnknownKey {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// 1-based line number.
        line: usize,
    },
    /// A value the option refuses.
    #[error("Config file error on line {line} of '{path}': {message}")]
    BadValue {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The option's own message.
        message: String,
    },
}

/// Which file to read: `DP_CONF` if set (empty: none), else the default path if present.
pub fn locate(env_value: Option<&OsStr>) -> Result<Option<(PathBuf, String)>, FileError> {
    match env_value {
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => {
            let path = PathBuf::from(v);
            match std::fs::read_to_string(&path) {
                Ok(text) => Ok(Some((path, text))),
                Err(source) => Err(FileError::Open { path, source }),
            }
        }
        // the default file is optional: any failure to read it means "no file"
        None => Ok(std::fs::read_to_string(DEFAULT_PATH)
            .ok()
            .map(|text| (PathBuf::from(DEFAULT_PATH), text))),
    }
}

/// Reads the file `DP_CONF` designates (see [`locate`]).
pub fn load(env_value: Option<&OsStr>) -> Result<FileArgs, FileError> {
    match locate(env_value)? {
        Some((path, text)) => parse(&path, &text),
        None => Ok(FileArgs::default()),
    }
}

/// Parses the file's text; every value is checked here so errors name the line.
pub fn parse(path: &Path, text: &str) -> Result<FileArgs, FileError> {
    let command = super::options::command();
    let mut out = FileArgs {
        path: Some(path.to_owned()),
        ..FileArgs::default()
    };
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let lineno = index + 1;
        if line.starts_with('#') || line == "\n" {
            continue;
        }
        let mut tokens = line.split([' ', '\t', '\n']).filter(|t| !t.is_empty());
        let Some(key) = tokens.next() else {
            return Err(FileError::NoKey {
                path: path.to_owned(),
                line: lineno,
            });
        };
        let value = tokens.next();
        if key == "a-pf0" || key == "a-pf1" {
            let Some(value) = value else {
                return Err(FileError::MissingValue {
                    path: path.to_owned(),
                    key: key.to_owned(),
                    line: lineno,
                });
            };
            let slot = if key == "a-pf0" {
                &mut out.a_pf0
            } else {
                &mut out.a_pf1
            };
            *slot = Some(value.to_owned());
            continue;
        }
        let arg = command
            .get_arguments()
            .find(|a| a.get_long() == Some(key))
            // upstream's table has them, but they only make sense on a command line
            .filter(|a| a.get_id() != "help" && a.get_id() != "version");
        let Some(arg) = arg else {
            return Err(FileError::UnknownKey {
                path: path.to_owned(),
                key: key.to_owned(),
                line: lineno,
            });
        };
        let word = if arg.get_action().takes_values() {
            let Some(value) = value else {
                return Err(FileError::MissingValue {
                    path: path.to_owned(),
                    key: key.to_owned(),
                    line: lineno,
                });
            };
            format!("--{key}={value}")
        } else {
            // a value after a flag is ignored, as upstream does
            format!("--{key}")
        };
        // check the value alone, so that the error names this line
        if let Err(e) = command
            .clone()
            .try_get_matches_from(["dpservice-bin", word.as_str()])
        {
            return Err(FileError::BadValue {
                path: path.to_owned(),
                line: lineno,
                message: first_line(&e.to_string()),
            });
        }
        out.option_words.push(word);
    }
    Ok(out)
}

fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<FileArgs, FileError> {
        parse(Path::new("/test.conf"), text)
    }

    #[test]
    fn keys_values_comments() {
        let f = p("# Mellanox setup\n\
                   pf0 enp3s0f0np0\n\
                   \n\
                   pf1\tenp3s0f1np1 trailing ignored\n\
                   vf-pattern enp3s0f0v\n\
                   no-offload\n\
                   no-stats whatever\n\
                   dhcp-dns 8.8.8.8\n\
                   dhcp-dns 8.8.4.4\n\
                   a-pf0 0000:03:00.0,class=rxq_cqe_comp_en=0\n\
                   ipv6 fc00:1::1")
        .unwrap();
        assert_eq!(
            f.option_words,
            vec![
                "--pf0=enp3s0f0np0",
                "--pf1=enp3s0f1np1",
                "--vf-pattern=enp3s0f0v",
                "--no-offload",
                "--no-stats",
                "--dhcp-dns=8.8.8.8",
                "--dhcp-dns=8.8.4.4",
                "--ipv6=fc00:1::1",
            ]
        );
        assert_eq!(f.eal_allow(), vec!["0000:03:00.0,class=rxq_cqe_comp_en=0"]);
        assert!(!f.is_empty());
    }

    #[test]
    fn a_pf0_precedes_a_pf1() {
        let f = p("a-pf1 0000:03:00.1\na-pf0 0000:03:00.9\na-pf0 0000:03:00.0\n").unwrap();
        assert_eq!(f.eal_allow(), vec!["0000:03:00.0", "0000:03:00.1"]);
    }

    #[test]
    fn errors_name_the_line() {
        match p("pf0 a\n   \n") {
            Err(FileError::NoKey { line: 2, .. }) => {}
            other => panic!("{other:?}"),
        }
        match p("pf0\n") {
            Err(FileError::MissingValue { line: 1, key, .. }) => assert_eq!(key, "pf0"),
            other => panic!("{other:?}"),
        }
        match p("a-pf0\n") {
            Err(FileError::MissingValue { line: 1, .. }) => {}
            other => panic!("{other:?}"),
        }
        match p("#x\nbogus 1\n") {
            Err(FileError::UnknownKey { line: 2, key, .. }) => assert_eq!(key, "bogus"),
            other => panic!("{other:?}"),
        }
        // with dashes it is not a key; comments only in the first column
        assert!(matches!(p("--pf0 a\n"), Err(FileError::UnknownKey { .. })));
        assert!(matches!(p(" # x\n"), Err(FileError::UnknownKey { .. })));
        assert!(matches!(p("help\n"), Err(FileError::UnknownKey { .. })));
        assert!(matches!(p("version\n"), Err(FileError::UnknownKey { .. })));
        match p("\n\ngrpc-port 80\n") {
            Err(FileError::BadValue {
                line: 3, message, ..
            }) => {
                assert!(
                    message.contains("Value '80' is out of range (1024-65535)"),
                    "{message}"
                )
            }
            other => panic!("{other:?}"),
        }
        let text = p("wcmp x\n").unwrap_err().to_string();
        assert!(
            text.contains("line 1") && text.contains("not an integer"),
            "{text}"
        );
    }

    #[test]
    fn dp_conf_rules() {
        assert_eq!(load(Some(OsStr::new(""))).unwrap(), FileArgs::default());
        assert!(matches!(
            load(Some(OsStr::new("/nonexistent/dpservice.conf"))),
            Err(FileError::Open { .. })
        ));
        let dir = std::env::temp_dir().join(format!("dpconf-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("x.conf");
        std::fs::write(&file, "grpc-port 2000\n").unwrap();
        let f = load(Some(file.as_os_str())).unwrap();
        assert_eq!(f.option_words, vec!["--grpc-port=2000"]);
        assert_eq!(f.path.as_deref(), Some(file.as_path()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
