//! The live terminal browser (ratatui + crossterm): the table list with fill bars, a
//! browser per table (live refresh, filter, sort, follow, detail pane), and a dataplane
//! screen of graph-node, port and drop rates from the telemetry socket.
//!
//! - [`app`]: state and keys, [`view`]: drawing, [`browser`]: which rows to read;
//! - [`source`]: the region (reopened when the daemon restarts), [`dataplane`]: telemetry.
//!
//! Input is polled every ≤ 50 ms and data reread on a tick (`--refresh-ms`, 250 by
//! default, longer when a filtered or sorted read of a big table takes long). The
//! terminal is restored on quit, on Ctrl-C and on a panic (`ratatui::init`'s hook).

pub mod app;
pub mod browser;
pub mod dataplane;
pub mod source;
pub mod view;

use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyEventKind};
use dpservice::instance::Instance;

use crate::record::Kind;
use app::{App, Screen};
use dataplane::TelemetrySource;
use source::{Connection, RegionSource};

/// How the browser starts.
#[derive(Debug, Clone)]
pub struct Options {
    /// Refresh interval of the data.
    pub refresh: Duration,
    /// Table to open first.
    pub table: Option<Kind>,
}

/// Why the browser could not run.
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    /// The terminal failed.
    #[error("terminal error: {0}")]
    Terminal(#[from] std::io::Error),
}

/// The data sources of one instance.
#[derive(Debug)]
pub struct Sources {
    /// The region.
    pub region: RegionSource,
    /// The telemetry socket.
    pub telemetry: TelemetrySource,
}

impl Sources {
    /// The sources of `instance`.
    pub fn new(instance: &Instance) -> Sources {
        Sources {
            region: RegionSource::new(instance),
            telemetry: TelemetrySource::new(instance.telemetry_socket()),
        }
    }
}

/// Rereads what the current screen shows.
pub fn refresh(app: &mut App, sources: &mut Sources) {
    sources.region.refresh();
    app.connection = sources.region.connection.clone();
    app.fills = sources.region.fills();
    if !matches!(app.connection, Connection::Attached { .. }) {
        return;
    }
    match app.screen {
        Screen::Browse => reload_browser(app, sources),
        Screen::Dataplane => app.dataplane = sources.telemetry.poll(),
        Screen::Tables => {}
    }
}

/// Rereads the open table's rows.
pub fn reload_browser(app: &mut App, sources: &Sources) {
    let page = app.page;
    if let Some(b) = app.browser.as_mut() {
        if let Some(table) = sources.region.table(b.kind) {
            b.load(table, &sources.region.context(), page);
        }
    }
}

/// Runs the browser until the user quits.
pub fn run(instance: &Instance, options: &Options) -> Result<(), TuiError> {
    let mut terminal = ratatui::try_init()?;
    let result = event_loop(&mut terminal, instance, options);
    ratatui::try_restore()?;
    result
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    instance: &Instance,
    options: &Options,
) -> Result<(), TuiError> {
    let mut app = App::new(instance.prefix(), options.table);
    let mut sources = Sources::new(instance);
    app.page = view::page_rows(terminal.size()?.height);
    refresh(&mut app, &mut sources);
    let mut next_refresh = Instant::now() + options.refresh;
    loop {
        terminal.draw(|frame| view::draw(frame, &app))?;
        let wait = next_refresh
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(50));
        if event::poll(wait)? {
            match event::read()? {
                Event::Key(key) if key.kind != KeyEventKind::Release => {
                    let screen = app.screen;
                    let kind = app.browser.as_ref().map(|b| b.kind);
                    let table = kind.and_then(|k| sources.region.table(k));
                    app.key(key, table);
                    if app.quit {
                        return Ok(());
                    }
                    if app.screen == Screen::Browse {
                        reload_browser(&mut app, &sources);
                    } else if app.screen != screen {
                        refresh(&mut app, &mut sources);
                    }
                }
                Event::Resize(_, height) => {
                    app.page = view::page_rows(height);
                    reload_browser(&mut app, &sources);
                }
                _ => {}
            }
        }
        if Instant::now() >= next_refresh {
            refresh(&mut app, &mut sources);
            let read = app.browser.as_ref().map_or(Duration::ZERO, |b| b.last_read);
            next_refresh = Instant::now() + options.refresh.max(read * 4);
        }
    }
}

#[cfg(test)]
mod tests;
