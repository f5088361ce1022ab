//! Compact JSON as DPDK's telemetry writes it: no spaces, object keys in insertion order,
//! and a hard cap on the size of a message. Entries that would not fit are left out
//! whole, so the text stays valid JSON (tools.md §3.2 step 5). Any key or string is
//! accepted and escaped (upstream refuses keys outside `[A-Za-z0-9_/.:-]`).

use std::fmt::Write as _;

/// A JSON value with ordered object entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Json {
    /// `null`.
    Null,
    /// An unsigned number.
    U64(u64),
    /// A signed number.
    I64(i64),
    /// A string (escaped when written).
    Str(String),
    /// An array.
    Array(Vec<Json>),
    /// An object; keys in the order given.
    Object(Vec<(String, Json)>),
}

impl From<&str> for Json {
    fn from(s: &str) -> Json {
        Json::Str(s.to_owned())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Json {
        Json::Str(s)
    }
}

impl From<u64> for Json {
    fn from(n: u64) -> Json {
        Json::U64(n)
    }
}

impl Json {
    /// An object from `(key, value)` pairs, in that order.
    pub fn object<K: Into<String>>(entries: impl IntoIterator<Item = (K, Json)>) -> Json {
        Json::Object(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// An array of unsigned numbers.
    pub fn u64_array(values: impl IntoIterator<Item = u64>) -> Json {
        Json::Array(values.into_iter().map(Json::U64).collect())
    }

    /// The value alone, at most `cap` bytes (entries that do not fit are left out; a
    /// string that does not fit becomes `null`).
    pub fn render(&self, cap: usize) -> String {
        let mut out = String::new();
        if !self.write_capped(&mut out, cap) {
            out.clear();
            out.push_str("null");
        }
        out
    }

    /// Appends the value to `out` so that `out` ends at most `limit` bytes long.
    /// Containers drop the entries that would pass the limit; false if not even an
    /// empty container or the scalar fits (then `out` may hold a partial value, which
    /// the caller cuts off).
    fn write_capped(&self, out: &mut String, limit: usize) -> bool {
        match self {
            Json::Null => out.push_str("null"),
            // writing into a String cannot fail
            Json::U64(n) => {
                let _ = write!(out, "{n}");
            }
            Json::I64(n) => {
                let _ = write!(out, "{n}");
            }
            Json::Str(s) => write_string(out, s),
            Json::Array(items) => {
                return write_container(out, limit, '[', ']', items.iter(), |out, item, inner| {
                    item.write_capped(out, inner)
                })
            }
            Json::Object(entries) => {
                return write_container(
                    out,
                    limit,
                    '{',
                    '}',
                    entries.iter(),
                    |out, (key, value), inner| {
                        write_string(out, key);
                        out.push(':');
                        out.len() <= inner && value.write_capped(out, inner)
                    },
                )
            }
        }
        out.len() <= limit
    }
}

/// Writes `open`, every item that fits before `limit` minus the closing bracket, `close`.
fn write_container<T>(
    out: &mut String,
    limit: usize,
    open: char,
    close: char,
    items: impl Iterator<Item = T>,
    mut write_item: impl FnMut(&mut String, T, usize) -> bool,
) -> bool {
    if out.len() + 2 > limit {
        return false;
    }
    out.push(open);
    let inner = limit - 1;
    let mut first = true;
    for item in items {
        let mark = out.len();
        if !first {
            out.push(',');
        }
        if write_item(out, item, inner) && out.len() <= inner {
            first = false;
        } else {
            out.truncate(mark);
        }
    }
    out.push(close);
    true
}

/// Writes `s` as a JSON string literal.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// One answer: `{"<command>":<value>}`, at most `cap` bytes. The command is echoed as
/// the client sent it (escaped).
pub fn render_response(command: &str, value: &Json, cap: usize) -> String {
    let mut out = String::with_capacity(256);
    out.push('{');
    write_string(&mut out, command);
    out.push(':');
    let mark = out.len();
    // room for the closing brace
    if !value.write_capped(&mut out, cap.saturating_sub(1)) {
        out.truncate(mark);
        out.push_str("null");
    }
    out.push('}');
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::telemetry::MAX_OUTPUT_LEN;

    #[test]
    fn compact_and_in_insertion_order() {
        let v = Json::object([
            ("zeta", Json::U64(1)),
            ("alpha", Json::I64(-2)),
            ("list", Json::u64_array([3, 4])),
            ("none", Json::Null),
            ("nested", Json::object([("s", Json::from("x"))])),
            ("empty", Json::Array(Vec::new())),
        ]);
        assert_eq!(
            render_response("/x", &v, MAX_OUTPUT_LEN),
            r#"{"/x":{"zeta":1,"alpha":-2,"list":[3,4],"none":null,"nested":{"s":"x"},"empty":[]}}"#
        );
        assert_eq!(
            render_response("/unknown", &Json::Null, MAX_OUTPUT_LEN),
            r#"{"/unknown":null}"#
        );
    }

    #[test]
    fn any_key_is_escaped() {
        let v = Json::object([
            ("vm \"1\"\\", Json::U64(0)),
            ("tab\there\nnl\u{1}", Json::U64(1)),
            ("ünïcode", Json::U64(2)),
        ]);
        let text = render_response("/k", &v, MAX_OUTPUT_LEN);
        assert_eq!(
            text,
            "{\"/k\":{\"vm \\\"1\\\"\\\\\":0,\"tab\\there\\nnl\\u0001\":1,\"ünïcode\":2}}"
        );
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["/k"]["vm \"1\"\\"], 0);
        assert_eq!(parsed["/k"]["tab\there\nnl\u{1}"], 1);
    }

    #[test]
    fn entries_that_do_not_fit_are_left_out() {
        // {"/c":{"a":1,"bb":22}} is 22 bytes
        let v = Json::object([
            ("a", Json::U64(1)),
            ("bb", Json::U64(22)),
            ("c", Json::U64(3)),
        ]);
        assert_eq!(render_response("/c", &v, 22), r#"{"/c":{"a":1,"bb":22}}"#);
        assert_eq!(render_response("/c", &v, 21), r#"{"/c":{"a":1,"c":3}}"#);
        assert_eq!(render_response("/c", &v, 14), r#"{"/c":{"a":1}}"#);
        assert_eq!(render_response("/c", &v, 13), r#"{"/c":{}}"#);
        // a nested object keeps what fits of itself
        let nested = Json::object([(
            "Node_0_to_255",
            Json::object((0..5).map(|i| (format!("n{i}"), Json::U64(i)))),
        )]);
        assert_eq!(
            render_response("/g", &nested, 40),
            r#"{"/g":{"Node_0_to_255":{"n0":0,"n1":1}}}"#
        );
    }

    #[test]
    fn the_cap_holds_for_large_answers() {
        let v = Json::object((0..2000).map(|i| {
            (
                format!("4a7c5e0e-0000-4000-8000-{i:012}"),
                Json::U64(u64::MAX - i),
            )
        }));
        let text = render_response("/dp_service/nat/used_port_count", &v, MAX_OUTPUT_LEN);
        assert!(text.len() <= MAX_OUTPUT_LEN, "{}", text.len());
        assert!(text.len() > MAX_OUTPUT_LEN - 80, "{}", text.len());
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        let kept = parsed["/dp_service/nat/used_port_count"]
            .as_object()
            .unwrap()
            .len();
        assert!((200..2000).contains(&kept), "{kept}");
    }

    #[test]
    fn a_string_too_long_becomes_null() {
        let v = Json::from("x".repeat(100));
        assert_eq!(render_response("/s", &v, 50), r#"{"/s":null}"#);
        assert_eq!(v.render(50), "null");
    }
}
