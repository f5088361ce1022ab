//! Tables as upstream's go-pretty style prints them: no borders, each cell padded with
//! one space either side, numeric columns (header included) right-aligned.

use unicode_width::UnicodeWidthStr;

/// One cell: its text, and whether it holds an integer-typed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    text: String,
    numeric: bool,
}

impl Cell {
    /// A text cell (left-aligned).
    pub fn text(s: impl Into<String>) -> Cell {
        Cell {
            text: s.into(),
            numeric: false,
        }
    }

    /// An integer cell (makes its column numeric if all cells are).
    pub fn num(n: impl Into<u64>) -> Cell {
        Cell {
            text: n.into().to_string(),
            numeric: true,
        }
    }

    /// An integer-typed cell with custom text (an enum printed by name).
    pub fn num_text(s: impl Into<String>) -> Cell {
        Cell {
            text: s.into(),
            numeric: true,
        }
    }
}

/// A header and rows; rows may be longer than the header.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Column names.
    pub header: Vec<String>,
    /// Data rows.
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// A table with this header and no rows yet.
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Renders the table, one `\n`-terminated line per row, header first.
    pub fn render(&self) -> String {
        let columns = self
            .rows
            .iter()
            .map(Vec::len)
            .chain([self.header.len()])
            .max()
            .unwrap_or(0);
        let mut numeric = vec![true; columns];
        let mut widths = vec![0usize; columns];
        for (i, h) in self.header.iter().enumerate() {
            widths[i] = h.width();
        }
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                numeric[i] &= cell.numeric;
                widths[i] = widths[i].max(cell.text.width());
            }
        }
        let mut out = String::new();
        let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
            for i in 0..columns {
                let text = cells.next().unwrap_or("");
                let pad = " ".repeat(widths[i].saturating_sub(text.width()));
                out.push(' ');
                if numeric[i] {
                    out.push_str(&pad);
                    out.push_str(text);
                } else {
                    out.push_str(text);
                    out.push_str(&pad);
                }
                out.push(' ');
            }
            out.push('\n');
        };
        line(&mut out, &mut self.header.iter().map(String::as_str));
        for row in &self.rows {
            line(&mut out, &mut row.iter().map(|c| c.text.as_str()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::{Cell, Table};

    #[test]
    fn matches_upstream_layout() {
        let mut t = Table::new(&[
            "ID",
            "VNI",
            "Device",
            "IPv4",
            "IPv6",
            "UnderlayRoute",
            "TotalTx",
            "PublicTx",
            "Hostname",
        ]);
        let row = |id: &str, vni: u32, dev: &str, v4: &str, ul: &str, host: &str| {
            vec![
                Cell::text(id),
                Cell::num(vni),
                Cell::text(dev),
                Cell::text(v4),
                Cell::text("::"),
                Cell::text(ul),
                Cell::num(0u32),
                Cell::num(0u32),
                Cell::text(host),
                Cell::text(""),
                Cell::text(""),
            ]
        };
        t.rows
            .push(row("a1", 5, "d1", "1.1.1.1", "fc00:1::8000:0:1", "a<b>&c"));
        t.rows.push(row(
            "big",
            16_777_215,
            "dbig",
            "9.9.9.1",
            "fc00:1::8000:0:5",
            "",
        ));
        assert_eq!(
            t.render(),
            concat!(
                " ID        VNI  Device  IPv4     IPv6  UnderlayRoute     TotalTx  PublicTx  Hostname     \n",
                " a1          5  d1      1.1.1.1  ::    fc00:1::8000:0:1        0         0  a<b>&c       \n",
                " big  16777215  dbig    9.9.9.1  ::    fc00:1::8000:0:5        0         0               \n",
            )
        );
    }

    #[test]
    fn empty_table_is_just_the_header() {
        let t = Table::new(&["IpVersion", "Address"]);
        assert_eq!(t.render(), " IpVersion  Address \n");
    }
}
