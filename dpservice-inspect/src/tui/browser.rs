//! The table browser: which rows are shown, and reading them.
//!
//! Without filter or sort the view is a window over the table's pool: only the rows on
//! screen are read (from the pool slot of the first one), so a table of a million
//! entries scrolls as fast as one of ten. A filter or a sort needs every row: then each
//! refresh reads and decodes the whole table once, and the refresh waits longer the
//! longer that took, so the browser stays responsive.

use std::cmp::Ordering;
use std::time::{Duration, Instant};

use crate::record::{cells, AnyTable, Context, Kind, Record};

/// One row as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Pool slot of the entry.
    pub slot: usize,
    /// Text (and number, for sorting) per column.
    pub cells: Vec<(String, Option<i64>)>,
    /// The detail pane's lines.
    pub details: Vec<(&'static str, String)>,
}

fn row(slot: usize, record: &dyn Record, ctx: &Context) -> Row {
    Row {
        slot,
        cells: cells(record).0,
        details: record.details(ctx),
    }
}

/// The browser of one table.
#[derive(Debug, Clone)]
pub struct Browser {
    /// Which table.
    pub kind: Kind,
    /// Column titles.
    pub columns: Vec<&'static str>,
    /// Filter text (case-insensitive substring of any cell).
    pub filter: String,
    /// Whether keys go to the filter.
    pub editing_filter: bool,
    /// Sort column and whether descending.
    pub sort: Option<(usize, bool)>,
    /// Stick to the end of the table.
    pub follow: bool,
    /// Show the detail pane.
    pub detail: bool,
    /// The rows on screen (windowed) or all matching rows (filtered/sorted).
    pub rows: Vec<Row>,
    /// Index of the first row on screen within `rows` (full mode) or 0 (windowed).
    pub offset: usize,
    /// Selected row within `rows`.
    pub selected: usize,
    /// Windowed mode: pool slot of the first row on screen.
    pub anchor_slot: usize,
    /// Entries in the table.
    pub total: usize,
    /// The pool's high-water mark (windowed scroll position).
    pub high_water: usize,
    /// Entries the last read skipped because the daemon kept changing them.
    pub contended: usize,
    /// How long the last full read took (sets the refresh interval).
    pub last_read: Duration,
}

impl Browser {
    /// A browser of `kind`, at the top.
    pub fn new(kind: Kind) -> Browser {
        Browser {
            kind,
            columns: kind.columns(),
            filter: String::new(),
            editing_filter: false,
            sort: None,
            follow: false,
            detail: false,
            rows: Vec::new(),
            offset: 0,
            selected: 0,
            anchor_slot: 0,
            total: 0,
            high_water: 0,
            contended: 0,
            last_read: Duration::ZERO,
        }
    }

    /// Whether every row must be read (filter or sort active).
    pub fn reads_all(&self) -> bool {
        !self.filter.is_empty() || self.sort.is_some()
    }

    /// The selected row.
    pub fn current(&self) -> Option<&Row> {
        self.rows.get(self.selected)
    }

    /// Rereads what is needed for a screen of `height` rows.
    pub fn load(&mut self, table: &dyn AnyTable, ctx: &Context, height: usize) {
        let started = Instant::now();
        let height = height.max(1);
        self.total = table.len();
        self.high_water = table.high_water();
        if self.reads_all() {
            self.load_all(table, ctx, height);
        } else {
            if self.follow {
                self.anchor_slot = self.slot_before(table, self.high_water, height);
                self.selected = usize::MAX;
            }
            let mut rows = Vec::with_capacity(height);
            let (_, contended) = table.visit_from(self.anchor_slot, height, ctx, &mut |slot, r| {
                rows.push(row(slot, r.as_ref(), ctx))
            });
            if rows.is_empty() && self.anchor_slot > 0 {
                // paged past the end: show the last screen
                self.anchor_slot = self.slot_before(table, self.high_water, height);
                table.visit_from(self.anchor_slot, height, ctx, &mut |slot, r| {
                    rows.push(row(slot, r.as_ref(), ctx))
                });
                self.selected = usize::MAX;
            }
            self.contended = contended;
            self.rows = rows;
            self.offset = 0;
        }
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
        self.last_read = started.elapsed();
    }

    fn load_all(&mut self, table: &dyn AnyTable, ctx: &Context, height: usize) {
        let needle = self.filter.to_lowercase();
        let selected_slot = self.current().map(|r| r.slot);
        let mut rows = Vec::new();
        let (_, contended) = table.visit_from(0, usize::MAX, ctx, &mut |slot, r| {
            let row = row(slot, r.as_ref(), ctx);
            if needle.is_empty()
                || row
                    .cells
                    .iter()
                    .any(|(text, _)| text.to_lowercase().contains(&needle))
            {
                rows.push(row);
            }
        });
        if let Some((col, desc)) = self.sort {
            rows.sort_by(|a, b| {
                let order = compare(a.cells.get(col), b.cells.get(col));
                if desc {
                    order.reverse()
                } else {
                    order
                }
            });
        }
        self.contended = contended;
        self.rows = rows;
        if self.follow {
            self.selected = self.rows.len().saturating_sub(1);
        } else if let Some(slot) = selected_slot {
            // keep the selected entry selected when rows move
            if let Some(i) = self.rows.iter().position(|r| r.slot == slot) {
                self.selected = i;
            }
        }
        self.scroll_into_view(height);
    }

    /// The pool slot from which `count` entries end just before `end` (scanning back
    /// in doubling steps, reading only about `count` entries more than needed).
    fn slot_before(&self, table: &dyn AnyTable, end: usize, count: usize) -> usize {
        let mut step = count.max(1);
        loop {
            let start = end.saturating_sub(step);
            let mut slots = Vec::new();
            table.visit_from(start, usize::MAX, &Context::default(), &mut |slot, _| {
                if slot < end {
                    slots.push(slot)
                }
            });
            if slots.len() >= count || start == 0 {
                return slots
                    .len()
                    .checked_sub(count)
                    .and_then(|i| slots.get(i))
                    .copied()
                    .unwrap_or(0);
            }
            step = step.saturating_mul(2);
        }
    }

    fn scroll_into_view(&mut self, height: usize) {
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
    }

    /// Moves the selection by `delta` rows (negative: up) on a screen of `height`.
    pub fn move_by(&mut self, table: Option<&dyn AnyTable>, delta: isize, height: usize) {
        self.follow = false;
        let height = height.max(1);
        if self.reads_all() {
            let last = self.rows.len().saturating_sub(1) as isize;
            self.selected = (self.selected as isize + delta).clamp(0, last.max(0)) as usize;
            self.scroll_into_view(height);
            return;
        }
        let Some(table) = table else { return };
        let target = self.selected as isize + delta;
        if target < 0 {
            let back = target.unsigned_abs();
            self.anchor_slot = self.slot_before(table, self.anchor_slot, back);
            self.selected = 0;
        } else if target as usize >= self.rows.len() {
            if self.rows.len() < height {
                // the end of the table is on screen already
                self.selected = self.rows.len().saturating_sub(1);
                return;
            }
            // the window moves forward by the overshoot
            let shift = target as usize + 1 - height;
            self.anchor_slot = match (self.rows.get(shift), self.rows.last()) {
                (Some(r), _) => r.slot,
                (None, Some(last)) => last.slot + 1,
                (None, None) => self.anchor_slot,
            };
            self.selected = height - 1;
        } else {
            self.selected = target as usize;
        }
    }

    /// To the first row.
    pub fn home(&mut self) {
        self.follow = false;
        self.anchor_slot = 0;
        self.offset = 0;
        self.selected = 0;
    }

    /// Sorts by `column`, or flips the order when already sorted by it.
    pub fn sort_by(&mut self, column: usize) {
        self.sort = match self.sort {
            Some((c, desc)) if c == column => Some((c, !desc)),
            _ => Some((column, false)),
        };
    }
}

/// Numbers numerically, text as text, numbers before text.
fn compare(a: Option<&(String, Option<i64>)>, b: Option<&(String, Option<i64>)>) -> Ordering {
    match (a, b) {
        (Some((_, Some(x))), Some((_, Some(y)))) => x.cmp(y),
        (Some((x, _)), Some((y, _))) => x.cmp(y),
        (a, b) => a.is_some().cmp(&b.is_some()),
    }
}
