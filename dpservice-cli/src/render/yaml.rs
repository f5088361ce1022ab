//! YAML the way upstream produces it (JSON → go-yaml v2): block style, keys sorted,
//! sequences indented like their parent key, go-yaml's quoting and 80-column folding.

use std::cmp::Ordering;

use serde::Serialize;
use serde_json::Value;

const BEST_WIDTH: usize = 80;

/// Serializes `value` as a YAML document (no `---`, ends with a newline).
pub fn to_yaml<T: Serialize + ?Sized>(value: &T) -> String {
    let value = serde_json::to_value(value).unwrap_or(Value::Null);
    let mut w = Writer {
        out: String::new(),
        column: 0,
    };
    match &value {
        Value::Object(m) if !m.is_empty() => w.mapping(m, 0),
        Value::Array(a) if !a.is_empty() => w.sequence(a, 0),
        other => {
            w.inline(other, 0);
            w.newline();
        }
    }
    w.out
}

struct Writer {
    out: String,
    column: usize,
}

impl Writer {
    fn put(&mut self, s: &str) {
        self.out.push_str(s);
        self.column += s.chars().count();
    }

    fn put_char(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn newline(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn indent_to(&mut self, indent: usize) {
        while self.column < indent {
            self.put_char(' ');
        }
    }

    /// A block mapping whose first key starts at the current position (column `indent`).
    fn mapping(&mut self, map: &serde_json::Map<String, Value>, indent: usize) {
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort_by(|a, b| key_order(a, b));
        for (n, key) in keys.into_iter().enumerate() {
            if n > 0 {
                self.indent_to(indent);
            }
            self.scalar(key, indent + 2, true);
            self.put_char(':');
            match &map[key] {
                Value::Object(m) if !m.is_empty() => {
                    self.newline();
                    self.indent_to(indent + 2);
                    self.mapping(m, indent + 2);
                }
                Value::Array(a) if !a.is_empty() => {
                    self.newline();
                    self.indent_to(indent);
                    self.sequence(a, indent);
                }
                v => {
                    self.put_char(' ');
                    self.inline(v, indent + 2);
                    self.newline();
                }
            }
        }
    }

    /// A block sequence whose first `- ` starts at column `indent`.
    fn sequence(&mut self, items: &[Value], indent: usize) {
        for (n, item) in items.iter().enumerate() {
            if n > 0 {
                self.indent_to(indent);
            }
            self.put("- ");
            match item {
                Value::Object(m) if !m.is_empty() => self.mapping(m, indent + 2),
                Value::Array(a) if !a.is_empty() => self.sequence(a, indent + 2),
                v => {
                    self.inline(v, indent + 2);
                    self.newline();
                }
            }
        }
    }

    /// A scalar or empty collection on the current line.
    fn inline(&mut self, v: &Value, indent: usize) {
        match v {
            Value::Null => self.put("null"),
            Value::Bool(b) => self.put(if *b { "true" } else { "false" }),
            Value::Number(n) => self.put(&n.to_string()),
            Value::String(s) => self.scalar(s, indent, false),
            Value::Array(_) => self.put("[]"),
            Value::Object(_) => self.put("{}"),
        }
    }

    fn scalar(&mut self, s: &str, indent: usize, key: bool) {
        match style(s, key) {
            Style::Plain => self.plain(s, indent, !key),
            Style::Single => self.single(s, indent, !key),
            Style::Double => self.double(s, indent, !key),
            Style::Literal => self.literal(s, indent),
        }
    }

    fn break_line(&mut self, indent: usize) {
        self.newline();
        self.indent_to(indent);
    }

    fn plain(&mut self, s: &str, indent: usize, breaks: bool) {
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if breaks && !spaces && self.column > BEST_WIDTH && chars.get(i + 1) != Some(&' ') {
                    self.break_line(indent);
                } else {
                    self.put_char(c);
                }
                spaces = true;
            } else {
                self.put_char(c);
                spaces = false;
            }
        }
    }

    fn single(&mut self, s: &str, indent: usize, breaks: bool) {
        let chars: Vec<char> = s.chars().collect();
        self.put_char('\'');
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let inner = i != 0 && i + 1 != chars.len();
                if breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && inner
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.break_line(indent);
                } else {
                    self.put_char(c);
                }
                spaces = true;
            } else {
                if c == '\'' {
                    self.put_char('\'');
                }
                self.put_char(c);
                spaces = false;
            }
        }
        self.put_char('\'');
    }

    fn double(&mut self, s: &str, indent: usize, breaks: bool) {
        let chars: Vec<char> = s.chars().collect();
        self.put_char('"');
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !printable(c) || c == '\u{feff}' || is_break(c) || c == '"' || c == '\\' {
                self.put(&escape(c));
                spaces = false;
            } else if c == ' ' {
                let inner = i != 0 && i + 1 != chars.len();
                if breaks && !spaces && self.column > BEST_WIDTH && inner {
                    self.break_line(indent);
                    if chars.get(i + 1) == Some(&' ') {
                        self.put_char('\\');
                    }
                } else {
                    self.put_char(c);
                }
                spaces = true;
            } else {
                self.put_char(c);
                spaces = false;
            }
        }
        self.put_char('"');
    }

    fn literal(&mut self, s: &str, indent: usize) {
        let trailing = s.chars().rev().take_while(|c| *c == '\n').count();
        self.put_char('|');
        if s.starts_with(' ') {
            self.put("2");
        }
        match trailing {
            0 => self.put_char('-'),
            1 => {}
            _ => self.put_char('+'),
        }
        for line in s.trim_end_matches('\n').split('\n') {
            self.newline();
            if !line.is_empty() {
                self.indent_to(indent);
                self.put(line);
            }
        }
        for _ in 1..trailing {
            self.newline();
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && c != '\u{feff}'
}

fn escape(c: char) -> String {
    match c {
        '\0' => "\\0".into(),
        '\u{7}' => "\\a".into(),
        '\u{8}' => "\\b".into(),
        '\t' => "\\t".into(),
        '\n' => "\\n".into(),
        '\u{b}' => "\\v".into(),
        '\u{c}' => "\\f".into(),
        '\r' => "\\r".into(),
        '\u{1b}' => "\\e".into(),
        '"' => "\\\"".into(),
        '\\' => "\\\\".into(),
        '\u{85}' => "\\N".into(),
        '\u{a0}' => "\\_".into(),
        '\u{2028}' => "\\L".into(),
        '\u{2029}' => "\\P".into(),
        c if (c as u32) <= 0xff => format!("\\x{:02X}", c as u32),
        c if (c as u32) <= 0xffff => format!("\\u{:04X}", c as u32),
        c => format!("\\U{:08X}", c as u32),
    }
}

/// go-yaml's choice: plain if the text reads back as the same string and needs no
/// quoting, single quotes if allowed, double quotes otherwise.
fn style(s: &str, key: bool) -> Style {
    if !resolves_to_string(s) {
        return Style::Double;
    }
    let a = analyze(s);
    if s.contains('\n') && !key {
        return if a.block_allowed {
            Style::Literal
        } else {
            Style::Double
        };
    }
    if a.block_plain_allowed && !(key && a.multiline) {
        Style::Plain
    } else if a.single_allowed {
        Style::Single
    } else {
        Style::Double
    }
}

struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_allowed: bool,
    block_allowed: bool,
}

fn analyze(s: &str) -> Analysis {
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: false,
            single_allowed: true,
            block_allowed: false,
        };
    }
    let blankz = |i: usize| {
        chars
            .get(i)
            .is_none_or(|c| matches!(c, ' ' | '\t') || is_break(*c) || *c == '\0')
    };
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break, mut previous_space, mut previous_break) =
        (false, false, false, false);
    let (mut line_breaks, mut special) = (false, false);
    let mut preceded_by_ws = true;
    let last = chars.len() - 1;
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_ws = blankz(i + 1);
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if !printable(c) {
            special = true;
        }
        if is_break(c) {
            line_breaks = true;
        }
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= i == last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            leading_break |= i == 0;
            trailing_break |= i == last;
            space_break |= previous_space;
            previous_break = true;
            previous_space = false;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_ws = matches!(c, ' ' | '\t') || is_break(c);
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// Whether go-yaml would read `s`, unquoted, back as a string (not null, bool, number,
/// timestamp or base-60 float).
fn resolves_to_string(s: &str) -> bool {
    const SPECIAL: &[&str] = &[
        "", "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
        "true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
        ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
        "-.Inf", "-.INF", "<<",
    ];
    if SPECIAL.contains(&s) {
        return false;
    }
    match s.as_bytes()[0] {
        b'.' => s.parse::<f64>().is_err() || !is_yaml_float(s),
        b'0'..=b'9' | b'+' | b'-' => {
            if is_timestamp(s) || is_base60_float(s) {
                return false;
            }
            let plain: String = s.chars().filter(|c| *c != '_').collect();
            let unsigned = plain.strip_prefix(['+', '-']).unwrap_or(&plain);
            let int = crate::syntax::number::parse_uint(unsigned, 64).is_ok();
            let binary = unsigned
                .strip_prefix("0b")
                .is_some_and(|b| !b.is_empty() && b.bytes().all(|c| c == b'0' || c == b'1'));
            !(int || binary || is_yaml_float(&plain))
        }
        _ => true,
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let b = s.strip_prefix(['+', '-']).unwrap_or(s).as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = digits(0);
    if i == 0 {
        if b.first() != Some(&b'.') || digits(1) == 0 {
            return false;
        }
        i = 1 + digits(1);
    } else if b.get(i) == Some(&b'.') {
        i += 1 + digits(i + 1);
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let d = digits(i);
        if d == 0 {
            return false;
        }
        i += d;
    }
    i == b.len()
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let b = s.strip_prefix(['+', '-']).unwrap_or(s).as_bytes();
    if !b.first().is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let mut i = 1 + b[1..]
        .iter()
        .take_while(|c| c.is_ascii_digit() || **c == b'_')
        .count();
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        let d = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if d == 0 || d > 2 || (d == 2 && b[i + 1] > b'5') {
            return false;
        }
        i += 1 + d;
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1 + b[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit() || **c == b'_')
            .count();
    }
    i == b.len()
}

/// Dates (`2006-1-2`) and date-times, which go-yaml reads as timestamps.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let num = |from: usize, min: usize, max: usize| {
        let n = b[from.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        (min..=max).contains(&n).then_some(from + n)
    };
    let Some(i) = num(0, 4, 4) else { return false };
    let Some(i) = (b.get(i) == Some(&b'-'))
        .then(|| num(i + 1, 1, 2))
        .flatten()
    else {
        return false;
    };
    let Some(i) = (b.get(i) == Some(&b'-'))
        .then(|| num(i + 1, 1, 2))
        .flatten()
    else {
        return false;
    };
    i == b.len() || matches!(b[i], b'T' | b't' | b' ')
}

/// go-yaml's key order: letters after other characters, digit runs compared as numbers.
fn key_order(a: &str, b: &str) -> Ordering {
    let (ar, br): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    for i in 0..ar.len().min(br.len()) {
        if ar[i] == br[i] {
            continue;
        }
        let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let number = |r: &[char]| {
            let end = r[i..].iter().take_while(|c| c.is_ascii_digit()).count() + i;
            let n = r[i..end]
                .iter()
                .fold(0u128, |n, c| n * 10 + u128::from(*c as u8 - b'0'));
            (n, end)
        };
        let ((an, ae), (bn, be)) = (number(&ar), number(&br));
        if an != bn {
            return an.cmp(&bn);
        }
        if ae != be {
            return ae.cmp(&be);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;

    #[test]
    fn block_style_sorted_keys() {
        let v = json!({
            "kind": "LoadBalancer",
            "metadata": {"id": "my_lb"},
            "spec": {"vni": 100, "loadbalanced_ip": "172.22.2.1",
                     "loadbalanced_ports": [{"protocol": 6, "port": 80}, {"protocol": 17, "port": 80}],
                     "underlay_route": "fc00:1::1c:0:4"},
            "status": {"code": 0, "message": ""},
            "empty": {}, "none": [], "nothing": null
        });
        assert_eq!(
            to_yaml(&v),
            "empty: {}\nkind: LoadBalancer\nmetadata:\n  id: my_lb\nnone: []\nnothing: null\nspec:\n  loadbalanced_ip: 172.22.2.1\n  loadbalanced_ports:\n  - port: 80\n    protocol: 6\n  - port: 80\n    protocol: 17\n  underlay_route: fc00:1::1c:0:4\n  vni: 100\nstatus:\n  code: 0\n  message: \"\"\n"
        );
    }

    #[test]
    fn quoting_follows_go_yaml() {
        let y = |s: &str| to_yaml(&json!({ "k": s }));
        assert_eq!(y("::"), "k: '::'\n");
        assert_eq!(y("fc00::1"), "k: fc00::1\n");
        assert_eq!(y("0"), "k: \"0\"\n");
        assert_eq!(y("true"), "k: \"true\"\n");
        assert_eq!(y("1.5"), "k: \"1.5\"\n");
        assert_eq!(y("10.100.1.1"), "k: 10.100.1.1\n");
        assert_eq!(y("1:2:3"), "k: \"1:2:3\"\n");
        assert_eq!(y("2001-12-14"), "k: \"2001-12-14\"\n");
        assert_eq!(y("a: b"), "k: 'a: b'\n");
        assert_eq!(y("it's"), "k: it's\n");
        assert_eq!(y("'x'"), "k: '''x'''\n");
        assert_eq!(y("tab\there"), "k: \"tab\\there\"\n");
        assert_eq!(y(" lead"), "k: ' lead'\n");
        assert_eq!(y("e2d5ab8d-4b8b-4c1e"), "k: e2d5ab8d-4b8b-4c1e\n");
        assert_eq!(y("1e5"), "k: \"1e5\"\n");
        assert_eq!(y("0x1F"), "k: \"0x1F\"\n");
        assert_eq!(y("123abc"), "k: 123abc\n");
    }

    #[test]
    fn folds_long_scalars() {
        let msg = "invalid argument \"xxx\" for \"--vip\" flag: ParseAddr(\"xxx\"): unable to parse IP and some more words";
        let out = to_yaml(&json!({"status": {"message": msg}}));
        assert_eq!(
            out,
            "status:\n  message: 'invalid argument \"xxx\" for \"--vip\" flag: ParseAddr(\"xxx\"): unable to parse\n    IP and some more words'\n"
        );
    }

    #[test]
    fn key_order_is_go_yamls() {
        let mut keys = vec!["vni", "vni_type", "b", "a10", "a9", "_x", "A"];
        keys.sort_by(|a, b| key_order(a, b));
        assert_eq!(keys, ["_x", "A", "a9", "a10", "b", "vni", "vni_type"]);
    }
}
