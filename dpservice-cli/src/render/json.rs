//! JSON exactly as Go's `encoding/json` encoder writes it: struct field order, compact
//! or two-space indented, and Go's extra escapes (`<`, `>`, `&`, U+2028, U+2029).

use std::io;

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

/// Serializes `value` as one JSON document followed by a newline.
pub fn to_json<T: Serialize + ?Sized>(value: &T, pretty: bool) -> String {
    let mut out = Vec::with_capacity(256);
    let result = if pretty {
        let fmt = GoEscapes(PrettyFormatter::with_indent(b"  "));
        value.serialize(&mut serde_json::Serializer::with_formatter(&mut out, fmt))
    } else {
        value.serialize(&mut serde_json::Serializer::with_formatter(
            &mut out,
            GoEscapes(CompactFormatter),
        ))
    };
    // Our types serialize infallibly into memory; a failure would be a bug, reported in
    // the output rather than by a panic.
    if let Err(e) = result {
        return format!("{{\"error\":\"{e}\"}}\n");
    }
    out.push(b'\n');
    String::from_utf8(out).unwrap_or_default()
}

/// A formatter adding Go's HTML-safe escapes on top of serde_json's.
struct GoEscapes<F>(F);

impl<F: Formatter> Formatter for GoEscapes<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let escape = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            w.write_all(&fragment.as_bytes()[start..i])?;
            w.write_all(escape.as_bytes())?;
            start = i + c.len_utf8();
        }
        w.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::to_json;
    use serde_json::json;

    #[test]
    fn escapes_like_go() {
        let v = json!({"message": "priority can be only: <0,65536 & \"x\"\n\u{2028}"});
        assert_eq!(
            to_json(&v, false),
            "{\"message\":\"priority can be only: \\u003c0,65536 \\u0026 \\\"x\\\"\\n\\u2028\"}\n"
        );
    }

    #[test]
    fn pretty_uses_two_spaces_and_empty_brackets() {
        let v = json!({"a": {}, "b": [], "c": [1]});
        assert_eq!(
            to_json(&v, true),
            "{\n  \"a\": {},\n  \"b\": [],\n  \"c\": [\n    1\n  ]\n}\n"
        );
    }
}
