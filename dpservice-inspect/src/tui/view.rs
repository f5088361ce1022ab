//! Drawing the screens from the [`App`] state.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

use super::app::{App, Screen, HELP};
use super::dataplane::Rate;
use super::source::Connection;
use crate::record::Kind;

/// Rows of the browser's table body for a terminal of `height` lines.
pub fn page_rows(height: u16) -> usize {
    // title line, status line, table border (2) and header
    usize::from(height.saturating_sub(5)).max(1)
}

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let [title, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    let screen = match app.screen {
        Screen::Tables => "tables",
        Screen::Browse => app.browser.as_ref().map_or("tables", |b| b.kind.short()),
        Screen::Dataplane => "dataplane",
    };
    frame.render_widget(
        Line::from(vec![
            Span::from(" dpservice-inspect ").bold().reversed(),
            Span::from(format!(" {}  [{screen}]", app.prefix)),
        ]),
        title,
    );
    match &app.connection {
        Connection::Unavailable(why) => {
            let text = vec![
                Line::from("The daemon's tables cannot be read:".bold()),
                Line::from(""),
                Line::from(why.as_str()),
                Line::from(""),
                Line::from("Retrying every second; q quits."),
            ];
            frame.render_widget(
                Paragraph::new(text)
                    .wrap(Wrap { trim: true })
                    .block(Block::default().borders(Borders::ALL).title(" no daemon ")),
                body,
            );
        }
        Connection::Attached { .. } => match app.screen {
            Screen::Tables => tables(frame, app, body),
            Screen::Browse => browse(frame, app, body),
            Screen::Dataplane => dataplane(frame, app, body),
        },
    }
    let status_text = match &app.connection {
        Connection::Attached { pid, socket } => {
            format!(" daemon pid {pid}, NUMA socket {socket}  |  ? keys  q quit")
        }
        Connection::Unavailable(_) => " waiting for the daemon  |  q quit".to_owned(),
    };
    frame.render_widget(Line::from(status_text).dim(), status);
    if app.help {
        help(frame, body);
    }
}

fn bar(entries: u64, capacity: u64, width: usize) -> String {
    let filled = if capacity == 0 {
        0
    } else {
        ((entries as u128 * width as u128).div_ceil(capacity as u128) as usize).min(width)
    };
    format!("{}{}", "█".repeat(filled), "·".repeat(width - filled))
}

fn tables(frame: &mut Frame, app: &App, area: Rect) {
    let rows = Kind::ALL.iter().map(|&kind| {
        let fill = app.fills.iter().find(|f| f.kind == kind);
        let (entries, capacity) = fill.map_or((0, 0), |f| (f.entries, f.capacity));
        let percent = if capacity == 0 {
            0.0
        } else {
            entries as f64 * 100.0 / capacity as f64
        };
        Row::new(vec![
            Cell::from(kind.short()),
            Cell::from(kind.table_name()),
            Cell::from(format!("{entries:>9}")),
            Cell::from(format!("{capacity:>9}")),
            Cell::from(format!("{percent:>5.1}%")),
            Cell::from(bar(entries, capacity, 20)),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(13),
            Constraint::Length(23),
            Constraint::Length(9),
            Constraint::Length(9),
            Constraint::Length(6),
            Constraint::Length(20),
        ],
    )
    .header(Row::new(["TABLE", "DAEMON NAME", "ENTRIES", "CAPACITY", "FILL", ""]).bold())
    .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED))
    .block(
        Block::default()
            .borders(Borders::ALL)
            .title(" tables (Enter: browse, d: dataplane) "),
    );
    let mut state = TableState::default().with_selected(Some(app.selected_table));
    frame.render_stateful_widget(table, area, &mut state);
}

fn browse(frame: &mut Frame, app: &App, area: Rect) {
    let Some(b) = &app.browser else { return };
    let (main, side) = if b.detail {
        let [m, s] =
            Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
        (m, Some(s))
    } else {
        (area, None)
    };
    // room for the sort marker after each title
    let mut widths: Vec<u16> = b.columns.iter().map(|c| c.len() as u16 + 1).collect();
    let visible = if b.reads_all() {
        let end = (b.offset + page_rows(area.height + 2)).min(b.rows.len());
        &b.rows[b.offset.min(end)..end]
    } else {
        &b.rows[..]
    };
    for r in visible {
        for (w, (text, _)) in widths.iter_mut().zip(&r.cells) {
            *w = (*w).max(text.chars().count() as u16);
        }
    }
    let header = Row::new(b.columns.iter().enumerate().map(|(i, c)| {
        let mark = match b.sort {
            Some((col, false)) if col == i => "▲",
            Some((col, true)) if col == i => "▼",
            _ => "",
        };
        Cell::from(format!("{c}{mark}"))
    }))
    .bold();
    let rows = visible.iter().map(|r| {
        Row::new(r.cells.iter().map(|(text, num)| {
            if num.is_some() {
                Cell::from(Line::from(text.as_str()).right_aligned())
            } else {
                Cell::from(text.as_str())
            }
        }))
    });
    let position = if b.reads_all() {
        format!("{} of {} match", b.rows.len(), b.total)
    } else if b.high_water == 0 {
        "empty".to_owned()
    } else {
        let first = b.rows.first().map_or(0, |r| r.slot);
        format!(
            "{} entries, at {}%",
            b.total,
            (first as u128 * 100 / b.high_water as u128)
        )
    };
    let mut title = format!(" {} ({}) ", b.kind.short(), position);
    if !b.filter.is_empty() || b.editing_filter {
        title.push_str(&format!(
            "filter: {}{} ",
            b.filter,
            if b.editing_filter { "▏" } else { "" }
        ));
    }
    if b.follow {
        title.push_str("[follow] ");
    }
    if b.contended > 0 {
        title.push_str(&format!("[{} busy entries skipped] ", b.contended));
    }
    let table = Table::new(rows, widths.iter().map(|&w| Constraint::Length(w)))
        .header(header)
        .column_spacing(2)
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED))
        .block(Block::default().borders(Borders::ALL).title(title));
    let selected = b
        .selected
        .checked_sub(if b.reads_all() { b.offset } else { 0 });
    let mut state = TableState::default().with_selected(selected);
    frame.render_stateful_widget(table, main, &mut state);
    if let Some(side) = side {
        let lines: Vec<Line> = match b.current() {
            Some(row) => row
                .details
                .iter()
                .map(|(label, value)| {
                    Line::from(vec![
                        Span::from(format!("{label}: ")).bold(),
                        Span::from(value.as_str()),
                    ])
                })
                .collect(),
            None => vec![Line::from("no entry selected")],
        };
        let block = Block::default().borders(Borders::ALL).title(" detail ");
        let inner = block.inner(side);
        frame.render_widget(block, side);
        // two columns, so the details of a flow fit beside each other
        let half = lines.len().div_ceil(2);
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(inner);
        let (first, second) = lines.split_at(half.min(lines.len()));
        frame.render_widget(
            Paragraph::new(first.to_vec()).wrap(Wrap { trim: false }),
            left,
        );
        frame.render_widget(
            Paragraph::new(second.to_vec()).wrap(Wrap { trim: false }),
            right,
        );
    }
}

fn rate_table<'a>(title: &'a str, columns: &'a [&'a str], rates: &'a [Rate]) -> Table<'a> {
    let rows = rates.iter().map(|r| {
        let mut cells = vec![Cell::from(r.name.as_str())];
        for (total, per_second) in r.totals.iter().zip(&r.per_second) {
            cells.push(Cell::from(
                Line::from(format!("{per_second:.0}")).right_aligned(),
            ));
            cells.push(Cell::from(Line::from(total.to_string()).right_aligned()));
        }
        Row::new(cells)
    });
    let mut widths = vec![Constraint::Length(24)];
    widths.extend(std::iter::repeat_n(
        Constraint::Length(12),
        columns.len() - 1,
    ));
    Table::new(rows, widths)
        .header(Row::new(columns.iter().copied()).bold())
        .block(Block::default().borders(Borders::ALL).title(title))
}

fn dataplane(frame: &mut Frame, app: &App, area: Rect) {
    let view = &app.dataplane;
    if let Some(problem) = &view.problem {
        frame.render_widget(
            Paragraph::new(problem.as_str())
                .wrap(Wrap { trim: true })
                .block(Block::default().borders(Borders::ALL).title(" dataplane ")),
            area,
        );
        return;
    }
    let [top, bottom] =
        Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(area);
    let [ports, drops] =
        Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(bottom);
    frame.render_widget(
        rate_table(
            " graph nodes ",
            &["NODE", "PKTS/S", "PACKETS", "CALLS/S", "CALLS"],
            &view.nodes,
        ),
        top,
    );
    frame.render_widget(
        rate_table(
            " ports ",
            &[
                "PORT", "RX/S", "RX", "TX/S", "TX", "DROP/S", "DROPS", "TXERR/S", "TXERR",
            ],
            &view.ports,
        ),
        ports,
    );
    frame.render_widget(
        rate_table(
            " drops per reason ",
            &["REASON", "PER S", "TOTAL"],
            &view.drops,
        ),
        drops,
    );
}

fn help(frame: &mut Frame, area: Rect) {
    let height = (HELP.len() as u16 + 2).min(area.height);
    let width = 52.min(area.width);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let lines: Vec<Line> = HELP
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::from(format!("{k:>12}  ")).bold(),
                Span::from(*what),
            ])
        })
        .collect();
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" keys (any key closes) "),
        ),
        popup,
    );
}
