//! The browser's state and what each key does (no terminal here: tests drive it).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::browser::Browser;
use super::dataplane::DataplaneView;
use super::source::{Connection, TableFill};
use crate::record::{AnyTable, Kind};

/// The screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// Every table with its fill.
    Tables,
    /// One table's entries.
    Browse,
    /// Graph nodes, ports and drops.
    Dataplane,
}

/// Everything the screens show.
#[derive(Debug, Clone)]
pub struct App {
    /// The screen shown.
    pub screen: Screen,
    /// The key help overlay.
    pub help: bool,
    /// The daemon's state.
    pub connection: Connection,
    /// Fill of every table.
    pub fills: Vec<TableFill>,
    /// Selected line of the table list.
    pub selected_table: usize,
    /// The browser, once a table was opened.
    pub browser: Option<Browser>,
    /// The dataplane screen's rates.
    pub dataplane: DataplaneView,
    /// The instance prefix (title).
    pub prefix: String,
    /// Set by `q` / Ctrl-C.
    pub quit: bool,
    /// Rows the browser shows (set by the view from the terminal size).
    pub page: usize,
}

impl App {
    /// The start state; `table` opens that table's browser.
    pub fn new(prefix: &str, table: Option<Kind>) -> App {
        App {
            screen: if table.is_some() {
                Screen::Browse
            } else {
                Screen::Tables
            },
            help: false,
            connection: Connection::Unavailable("connecting".to_owned()),
            fills: Vec::new(),
            selected_table: table
                .and_then(|k| Kind::ALL.iter().position(|&x| x == k))
                .unwrap_or(0),
            browser: table.map(Browser::new),
            dataplane: DataplaneView::default(),
            prefix: prefix.to_owned(),
            quit: false,
            page: 20,
        }
    }

    /// Handles one key; `table` is the open table's reader (for paging).
    pub fn key(&mut self, key: KeyEvent, table: Option<&dyn AnyTable>) {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.quit = true;
            return;
        }
        if let Some(b) = self.browser.as_mut().filter(|b| b.editing_filter) {
            if self.screen == Screen::Browse {
                match key.code {
                    KeyCode::Enter | KeyCode::Esc => b.editing_filter = false,
                    KeyCode::Backspace => {
                        b.filter.pop();
                    }
                    KeyCode::Char(c) => b.filter.push(c),
                    _ => {}
                }
                b.selected = 0;
                b.offset = 0;
                return;
            }
        }
        if self.help {
            self.help = false;
            return;
        }
        match key.code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Char('?') => self.help = true,
            KeyCode::Char('1') | KeyCode::Char('t') => self.screen = Screen::Tables,
            KeyCode::Char('2') | KeyCode::Char('d') => self.screen = Screen::Dataplane,
            _ => match self.screen {
                Screen::Tables => self.tables_key(key.code),
                Screen::Browse => self.browse_key(key.code, table),
                Screen::Dataplane => {
                    if matches!(key.code, KeyCode::Esc | KeyCode::Backspace) {
                        self.screen = Screen::Tables;
                    }
                }
            },
        }
    }

    fn tables_key(&mut self, code: KeyCode) {
        let last = Kind::ALL.len() - 1;
        match code {
            KeyCode::Up | KeyCode::Char('k') => {
                self.selected_table = self.selected_table.saturating_sub(1)
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected_table = (self.selected_table + 1).min(last)
            }
            KeyCode::Enter | KeyCode::Right | KeyCode::Char('l') => {
                let kind = Kind::ALL[self.selected_table.min(last)];
                if self.browser.as_ref().map(|b| b.kind) != Some(kind) {
                    self.browser = Some(Browser::new(kind));
                }
                self.screen = Screen::Browse;
            }
            _ => {}
        }
    }

    fn browse_key(&mut self, code: KeyCode, table: Option<&dyn AnyTable>) {
        let page = self.page.max(1);
        let Some(b) = self.browser.as_mut() else {
            self.screen = Screen::Tables;
            return;
        };
        match code {
            KeyCode::Esc | KeyCode::Backspace | KeyCode::Left => {
                if b.detail {
                    b.detail = false;
                } else {
                    self.screen = Screen::Tables;
                }
            }
            KeyCode::Up | KeyCode::Char('k') => b.move_by(table, -1, page),
            KeyCode::Down | KeyCode::Char('j') => b.move_by(table, 1, page),
            KeyCode::PageUp => b.move_by(table, -(page as isize), page),
            KeyCode::PageDown | KeyCode::Char(' ') => b.move_by(table, page as isize, page),
            KeyCode::Home | KeyCode::Char('g') => b.home(),
            KeyCode::End | KeyCode::Char('G') | KeyCode::Char('f') => b.follow = !b.follow,
            KeyCode::Enter => b.detail = !b.detail,
            KeyCode::Char('/') => {
                b.editing_filter = true;
            }
            KeyCode::Char('c') => {
                b.filter.clear();
                b.sort = None;
            }
            KeyCode::Char('s') => {
                let next = b.sort.map_or(0, |(c, _)| (c + 1) % b.columns.len().max(1));
                b.sort = Some((next, false));
            }
            KeyCode::Char('r') => {
                if let Some((c, desc)) = b.sort {
                    b.sort = Some((c, !desc));
                }
            }
            _ => {}
        }
    }
}

/// The key help.
pub const HELP: &[(&str, &str)] = &[
    ("1 / t", "table list"),
    ("2 / d", "dataplane: nodes, ports, drops"),
    ("Enter", "open table / toggle detail pane"),
    ("Esc", "back"),
    ("↑ ↓ j k", "move"),
    ("PgUp PgDn", "page"),
    ("g / Home", "first entry"),
    ("f / End", "follow the end of the table"),
    ("/", "filter as you type (Enter ends)"),
    ("s", "sort by the next column"),
    ("r", "reverse the sort"),
    ("c", "clear filter and sort"),
    ("?", "this help"),
    ("q / Ctrl-C", "quit"),
];
