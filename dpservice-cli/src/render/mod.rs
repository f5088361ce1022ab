//! Output formats (spec §5): `json`, `yaml`, `table` (with `-w`), `name`.

mod columns;
pub mod json;
pub mod table;
pub mod yaml;

use serde::Serialize;

pub use table::{Cell, Table};

use crate::error::CliError;

/// A selected output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON document per object.
    Json {
        /// Indent with two spaces.
        pretty: bool,
    },
    /// YAML with sorted keys.
    Yaml,
    /// Borderless table.
    Table {
        /// `-w`: the interface table's NAT and VIP columns.
        wide: bool,
    },
    /// `<kind>/<name> <operation>` lines.
    Name,
}

impl Format {
    /// The renderer for `-o <name>`; an empty name means `table`.
    pub fn from_name(name: &str, pretty: bool, wide: bool) -> Result<Format, CliError> {
        Ok(match name {
            "json" => Format::Json { pretty },
            "yaml" => Format::Yaml,
            "table" | "" => Format::Table { wide },
            "name" => Format::Name,
            other => {
                return Err(CliError::client(format!(
                    "error creating renderer: unknown renderer {}",
                    crate::syntax::go_quote(other)
                )))
            }
        })
    }
}

/// Anything the CLI prints: serializable, with name lines and a table form.
pub trait Render: Serialize {
    /// One `name` line per object (lists: per item), without the operation text.
    fn name_lines(&self) -> Vec<String>;
    /// The table form.
    fn table(&self, wide: bool) -> Table;
}

/// Renders `obj` in `format`; `operation` is appended to `name` lines (`created`, ...).
pub fn render<T: Render>(obj: &T, format: Format, operation: &str) -> String {
    match format {
        Format::Json { pretty } => json::to_json(obj, pretty),
        Format::Yaml => yaml::to_yaml(obj),
        Format::Table { wide } => obj.table(wide).render(),
        Format::Name => {
            let mut out = String::new();
            for line in obj.name_lines() {
                out.push_str(&line);
                if !operation.is_empty() {
                    out.push(' ');
                    out.push_str(operation);
                }
                out.push('\n');
            }
            out
        }
    }
}
