//! Running a parsed command line: connect, call, convert, sort, render.

mod conn;
mod convert;
mod create;
mod create_calls;
mod delete;
mod files;
mod get;
mod list;
mod other;

use std::io::Write;

use crate::cli::{GlobalOpts, Verb};
use crate::error::CliError;
use crate::render::{render, Format, Render};

pub use conn::{connect, Client};

/// What every command needs: the global options, the verb's default output format,
/// and where to print.
pub struct Ctx<'a> {
    /// `--address`, `-o`, `--pretty`, `-w`, ...
    pub global: &'a GlobalOpts,
    /// `-o` when not given (depends on the verb).
    pub default_output: &'static str,
    /// Standard output.
    pub out: &'a mut dyn Write,
}

impl std::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("global", &self.global)
            .finish_non_exhaustive()
    }
}

impl Ctx<'_> {
    /// Connects; `what` is the command's prefix for connection failures.
    pub async fn connect(&self, what: &str) -> Result<Client, CliError> {
        connect(&self.global.address, self.global.connect_timeout)
            .await
            .map_err(|e| e.context(what))
    }

    /// Whether `-w` was given.
    pub fn wide(&self) -> bool {
        self.global.wide
    }

    /// The selected output format; an unknown `-o` is an error.
    pub fn format(&self) -> Result<Format, CliError> {
        let name = self.global.output.as_deref().unwrap_or(self.default_output);
        Format::from_name(name, self.global.pretty, self.global.wide)
    }

    /// Renders and prints `obj`; an unknown `-o` fails here, after the RPC succeeded.
    pub fn print<T: Render>(&mut self, obj: &T, operation: &str) -> Result<(), CliError> {
        let format = self.format()?;
        self.write(&render(obj, format, operation));
        Ok(())
    }

    /// Prints text as is. A closed stdout (`| head`) is not an error.
    pub fn write(&mut self, s: &str) {
        let _ = self.out.write_all(s.as_bytes());
    }
}

/// Runs a verb. Group verbs without a noun are handled by the caller.
pub async fn run(verb: Verb, global: &GlobalOpts, out: &mut dyn Write) -> Result<(), CliError> {
    match verb {
        Verb::Get(g) => {
            let mut ctx = Ctx {
                global,
                default_output: "table",
                out,
            };
            match g.noun {
                Some(noun) => get::run(noun, &mut ctx).await,
                None => Err(subcommand_required()),
            }
        }
        Verb::List(l) => {
            let mut ctx = Ctx {
                global,
                default_output: "table",
                out,
            };
            match l.noun {
                Some(noun) => list::run(noun, &mut ctx).await,
                None => Err(subcommand_required()),
            }
        }
        Verb::Create(c) => {
            let mut ctx = Ctx {
                global,
                default_output: "name",
                out,
            };
            match c.noun {
                Some(noun) => create::run(noun, &mut ctx).await,
                None => files::create(&c.sources, &mut ctx).await,
            }
        }
        Verb::Delete(d) => {
            let mut ctx = Ctx {
                global,
                default_output: "name",
                out,
            };
            match d.noun {
                Some(noun) => delete::run(noun, &mut ctx).await,
                None => files::delete(&d.sources, &mut ctx).await,
            }
        }
        Verb::Reset(r) => {
            let mut ctx = Ctx {
                global,
                default_output: "name",
                out,
            };
            match r.noun {
                Some(crate::cli::ResetNoun::Vni(v)) => other::reset_vni(v, &mut ctx).await,
                None => Err(subcommand_required()),
            }
        }
        Verb::Capture(c) => {
            let mut ctx = Ctx {
                global,
                default_output: "table",
                out,
            };
            match c.noun {
                Some(noun) => other::capture(noun, &mut ctx).await,
                None => Err(subcommand_required()),
            }
        }
        Verb::Init(i) => {
            let mut ctx = Ctx {
                global,
                default_output: "",
                out,
            };
            other::init(i, &mut ctx).await
        }
        Verb::Completion(_) => Ok(()),
    }
}

/// The error of a verb group run without a noun (after its help was printed).
pub fn subcommand_required() -> CliError {
    CliError::client("subcommand is required")
}
