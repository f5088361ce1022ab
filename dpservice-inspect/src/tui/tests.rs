//! Every screen rendered on a `TestBackend` over a region with known contents, driven by
//! keys as a user would, and snapshot-tested.
#![allow(clippy::unwrap_used, clippy::panic)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use super::app::{App, Screen};
use super::dataplane::{DataplaneView, Rate};
use super::source::Connection;
use super::{refresh, reload_browser, view, Sources};
use crate::fixture::Fixture;
use crate::values::monotonic_now_ns;

const WIDTH: u16 = 150;
const HEIGHT: u16 = 30;

struct Harness {
    fixture: Option<Fixture>,
    app: App,
    sources: Sources,
}

impl Harness {
    fn new() -> Harness {
        let fixture = Fixture::new(-1).unwrap();
        fixture.populate(monotonic_now_ns(), 7).unwrap();
        let mut app = App::new("golden", None);
        app.page = view::page_rows(HEIGHT);
        let mut sources = Sources::new(&fixture.instance);
        refresh(&mut app, &mut sources);
        Harness {
            fixture: Some(fixture),
            app,
            sources,
        }
    }

    fn press(&mut self, code: KeyCode) {
        let kind = self.app.browser.as_ref().map(|b| b.kind);
        let table = kind.and_then(|k| self.sources.region.table(k));
        self.app.key(KeyEvent::new(code, KeyModifiers::NONE), table);
        if self.app.screen == Screen::Browse {
            reload_browser(&mut self.app, &self.sources);
        }
    }

    fn typing(&mut self, text: &str) {
        for c in text.chars() {
            self.press(KeyCode::Char(c));
        }
    }

    fn screen(&self) -> String {
        let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
        terminal.draw(|f| view::draw(f, &self.app)).unwrap();
        let buffer = terminal.backend().buffer().clone();
        let mut text = String::new();
        for y in 0..HEIGHT {
            for x in 0..WIDTH {
                text.push_str(buffer[(x, y)].symbol());
            }
            text.push('\n');
        }
        text.replace(&format!("pid {}", std::process::id()), "pid PID")
    }
}

#[test]
fn table_list_shows_fill_of_every_table() {
    let h = Harness::new();
    let screen = h.screen();
    assert!(screen.contains("conntrack_table"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn browse_conntrack_sort_filter_and_detail() {
    let mut h = Harness::new();
    h.press(KeyCode::Enter);
    assert_eq!(h.app.screen, Screen::Browse);
    let unsorted = h.screen();
    assert!(unsorted.contains("10.100.1.1:43512"), "{unsorted}");
    // sort by TYPE, then VNI (numbers), descending
    h.press(KeyCode::Char('s'));
    h.press(KeyCode::Char('s'));
    h.press(KeyCode::Char('r'));
    let b = h.app.browser.as_ref().unwrap();
    let vnis: Vec<&str> = b.rows.iter().map(|r| r.cells[1].0.as_str()).collect();
    assert_eq!(vnis, ["200", "100", "100"]);
    insta::assert_snapshot!("conntrack_sorted", h.screen());
    h.press(KeyCode::Char('/'));
    h.typing("43512");
    h.press(KeyCode::Enter);
    assert_eq!(h.app.browser.as_ref().unwrap().rows.len(), 2);
    h.press(KeyCode::Down);
    h.press(KeyCode::Enter);
    let detail = h.screen();
    assert!(detail.contains("routed to port: 3 (vm2)"), "{detail}");
    insta::assert_snapshot!("conntrack_filtered_detail", detail);
}

#[test]
fn help_overlay_and_back_navigation() {
    let mut h = Harness::new();
    h.press(KeyCode::Char('?'));
    insta::assert_snapshot!("help", h.screen());
    h.press(KeyCode::Char('x'));
    assert!(!h.app.help);
    h.press(KeyCode::Down);
    h.press(KeyCode::Down);
    h.press(KeyCode::Enter);
    assert_eq!(h.app.browser.as_ref().unwrap().kind.short(), "iface");
    insta::assert_snapshot!("iface", h.screen());
    h.press(KeyCode::Esc);
    assert_eq!(h.app.screen, Screen::Tables);
    h.app.key(
        KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
        None,
    );
    assert!(h.app.quit);
}

#[test]
fn dataplane_screen() {
    let mut h = Harness::new();
    h.press(KeyCode::Char('d'));
    refresh(&mut h.app, &mut h.sources);
    // no daemon socket behind the fixture: a message, not a crash
    let problem = h.app.dataplane.problem.clone().unwrap();
    assert!(problem.contains("no telemetry"), "{problem}");
    let rate = |name: &str, totals: Vec<u64>, per_second: Vec<f64>| Rate {
        name: name.to_owned(),
        totals,
        per_second,
    };
    h.app.dataplane = DataplaneView {
        nodes: vec![
            rate("cls", vec![5000, 100], vec![1200.0, 30.0]),
            rate("conntrack", vec![4000, 90], vec![1000.0, 28.0]),
        ],
        ports: vec![rate(
            "0 net_tap0",
            vec![5000, 4000, 2, 0],
            vec![1200.0, 1000.0, 0.5, 0.0],
        )],
        drops: vec![rate("no_route", vec![2], vec![0.5])],
        problem: None,
    };
    insta::assert_snapshot!("dataplane", h.screen());
}

#[test]
fn a_daemon_going_away_is_a_message_and_a_new_one_is_found() {
    let mut h = Harness::new();
    h.press(KeyCode::Enter);
    let instance = h.fixture.as_ref().unwrap().instance.clone();
    drop(h.fixture.take());
    refresh(&mut h.app, &mut h.sources);
    let Connection::Unavailable(why) = &h.app.connection else {
        panic!("still attached after the region went");
    };
    assert!(why.contains("stopped"), "{why}");
    let screen = h.screen();
    assert!(screen.contains("cannot be read"), "{screen}");
    // a new daemon under the same prefix is found by itself
    let _again = Fixture::at(instance, 0).unwrap();
    refresh(&mut h.app, &mut h.sources);
    assert_eq!(
        h.app.connection,
        Connection::Attached {
            pid: std::process::id(),
            socket: 0
        }
    );
}

/// A million flows: paging reads only the rows on screen.
#[test]
fn a_million_rows_page_without_reading_them_all() {
    let f = Fixture::new(-1).unwrap();
    f.fill_conntrack(850_000, monotonic_now_ns()).unwrap();
    let mut app = App::new("big", Some(crate::record::Kind::Conntrack));
    app.page = view::page_rows(HEIGHT);
    let mut sources = Sources::new(&f.instance);
    let started = std::time::Instant::now();
    refresh(&mut app, &mut sources);
    for _ in 0..50 {
        let table = sources.region.table(crate::record::Kind::Conntrack);
        app.key(KeyEvent::new(KeyCode::PageDown, KeyModifiers::NONE), table);
        reload_browser(&mut app, &sources);
    }
    let elapsed = started.elapsed();
    let b = app.browser.as_ref().unwrap();
    assert_eq!(b.total, 850_000);
    assert_eq!(b.rows.len(), app.page);
    assert!(b.rows[0].slot >= 50 * (app.page - 1), "{}", b.rows[0].slot);
    assert!(elapsed.as_millis() < 2000, "{elapsed:?}");
    // to the end and back up
    app.key(KeyEvent::new(KeyCode::End, KeyModifiers::NONE), None);
    reload_browser(&mut app, &sources);
    let b = app.browser.as_ref().unwrap();
    assert_eq!(b.rows.last().unwrap().slot, 849_999);
}

/// A region of another release: a clear message on the screen and in upstream mode.
#[test]
fn another_layout_version_is_refused_with_a_message() {
    use std::os::unix::fs::FileExt;
    let f = Fixture::new(-1).unwrap();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(f.instance.shm_path())
        .unwrap();
    // the header's layout version (after the 8-byte magic)
    file.write_all_at(&999u32.to_le_bytes(), 8).unwrap();
    let mut app = App::new("old", None);
    let mut sources = Sources::new(&f.instance);
    refresh(&mut app, &mut sources);
    let Connection::Unavailable(why) = &app.connection else {
        panic!("a region of layout 999 was accepted");
    };
    assert!(why.contains("layout version 999"), "{why}");
    let mut out = Vec::new();
    let code = crate::run_with(
        [
            "dpservice-inspect".to_owned(),
            format!("--file-prefix={}", f.instance.prefix()),
            "-t".to_owned(),
            "dnat".to_owned(),
        ],
        &mut out,
        false,
    );
    assert_eq!(code, std::process::ExitCode::FAILURE);
    assert!(out.is_empty());
}
