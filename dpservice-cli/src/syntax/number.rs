//! Go's `strconv` integer and boolean parsing (base 0), with its error texts.
//!
//! pflag parses every integer flag with `strconv.ParseUint(s, 0, bits)` or
//! `strconv.ParseInt(s, 0, bits)`, so `0x10`, `010`, `0o10`, `0b11` and `1_000` with a
//! prefix are all accepted, and the messages name the Go function that failed.

use std::fmt;

use super::quote::go_quote;

/// Why a number did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumErrorKind {
    /// Not a number in the accepted syntax.
    Syntax,
    /// A number, but outside the type's range.
    Range,
}

/// A `strconv.NumError`: which function failed, on what input, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumError {
    func: &'static str,
    input: String,
    kind: NumErrorKind,
}

impl NumError {
    fn new(func: &'static str, input: &str, kind: NumErrorKind) -> NumError {
        NumError {
            func,
            input: input.to_owned(),
            kind,
        }
    }
}

impl fmt::Display for NumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self.kind {
            NumErrorKind::Syntax => "invalid syntax",
            NumErrorKind::Range => "value out of range",
        };
        write!(
            f,
            "strconv.{}: parsing {}: {why}",
            self.func,
            go_quote(&self.input)
        )
    }
}

impl std::error::Error for NumError {}

/// `strconv.ParseUint(s, 0, bits)`.
pub fn parse_uint(s: &str, bits: u32) -> Result<u64, NumError> {
    parse_uint_as(s, bits, "ParseUint")
}

fn parse_uint_as(s0: &str, bits: u32, func: &'static str) -> Result<u64, NumError> {
    let syntax = || NumError::new(func, s0, NumErrorKind::Syntax);
    let range = || NumError::new(func, s0, NumErrorKind::Range);
    if s0.is_empty() {
        return Err(syntax());
    }
    let bytes = s0.as_bytes();
    let (base, digits): (u64, &[u8]) = if bytes[0] == b'0' {
        match bytes.get(1).map(u8::to_ascii_lowercase) {
            Some(b'b') if bytes.len() >= 3 => (2, &bytes[2..]),
            Some(b'o') if bytes.len() >= 3 => (8, &bytes[2..]),
            Some(b'x') if bytes.len() >= 3 => (16, &bytes[2..]),
            _ => (8, &bytes[1..]),
        }
    } else {
        (10, bytes)
    };
    let max: u64 = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let mut n: u64 = 0;
    let mut underscores = false;
    for &c in digits {
        let d = match c {
            b'_' => {
                underscores = true;
                continue;
            }
            b'0'..=b'9' => u64::from(c - b'0'),
            c if c.to_ascii_lowercase().is_ascii_lowercase() => {
                u64::from(c.to_ascii_lowercase() - b'a') + 10
            }
            _ => return Err(syntax()),
        };
        if d >= base {
            return Err(syntax());
        }
        n = match n.checked_mul(base).and_then(|v| v.checked_add(d)) {
            Some(v) if v <= max => v,
            _ => return Err(range()),
        };
    }
    if underscores && !underscores_ok(s0) {
        return Err(syntax());
    }
    Ok(n)
}

/// `strconv.ParseInt(s, 0, bits)`.
pub fn parse_int(s0: &str, bits: u32) -> Result<i64, NumError> {
    let syntax = || NumError::new("ParseInt", s0, NumErrorKind::Syntax);
    let range = || NumError::new("ParseInt", s0, NumErrorKind::Range);
    if s0.is_empty() {
        return Err(syntax());
    }
    let (neg, rest) = match s0.as_bytes()[0] {
        b'+' => (false, &s0[1..]),
        b'-' => (true, &s0[1..]),
        _ => (false, s0),
    };
    let magnitude = match parse_uint_as(rest, bits, "ParseInt") {
        Ok(v) => v,
        Err(e) if e.kind == NumErrorKind::Range => u64::MAX,
        Err(_) => return Err(syntax()),
    };
    let cutoff = 1u64 << (bits - 1);
    if !neg && magnitude >= cutoff {
        return Err(range());
    }
    if neg && magnitude > cutoff {
        return Err(range());
    }
    // In range by the checks above, so the conversion cannot wrap.
    let value = i128::from(magnitude);
    Ok(if neg { -value } else { value } as i64)
}

/// Go's rule for `_` in base-prefixed literals: only between digits (a prefix counts
/// as a digit).
fn underscores_ok(s: &str) -> bool {
    let mut b = s.as_bytes();
    if let Some(&(b'+' | b'-')) = b.first() {
        b = &b[1..];
    }
    // Last seen class: '^' start, '0' digit or prefix, '_' underscore, '!' other.
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && c.to_ascii_lowercase().is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// `strconv.ParseBool`.
pub fn parse_bool(s: &str) -> Result<bool, NumError> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(NumError::new("ParseBool", s, NumErrorKind::Syntax)),
    }
}

/// `strconv.Atoi`: decimal with optional sign, as used for PF indexes and LB ports.
pub fn atoi(s: &str) -> Result<i64, NumError> {
    let syntax = || NumError::new("Atoi", s, NumErrorKind::Syntax);
    let range = || NumError::new("Atoi", s, NumErrorKind::Range);
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(syntax());
    }
    let mut n: i64 = 0;
    for c in digits.bytes() {
        let d = i64::from(c - b'0');
        n = n
            .checked_mul(10)
            .and_then(|v| v.checked_add(d))
            .ok_or_else(range)?;
    }
    Ok(if neg { -n } else { n })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn base_prefixes() {
        assert_eq!(parse_uint("0x10", 32), Ok(16));
        assert_eq!(parse_uint("010", 32), Ok(8));
        assert_eq!(parse_uint("0o10", 32), Ok(8));
        assert_eq!(parse_uint("0b11", 32), Ok(3));
        assert_eq!(parse_uint("0", 32), Ok(0));
        assert_eq!(parse_uint("0x_1_0", 32), Ok(16));
        assert_eq!(parse_uint("4294967295", 32), Ok(4_294_967_295));
    }

    #[test]
    fn uint_errors_read_like_go() {
        let msg = |s: &str, bits| parse_uint(s, bits).unwrap_err().to_string();
        assert_eq!(
            msg("x", 32),
            r#"strconv.ParseUint: parsing "x": invalid syntax"#
        );
        assert_eq!(
            msg("-1", 32),
            r#"strconv.ParseUint: parsing "-1": invalid syntax"#
        );
        // Go's literal syntax allows `_` between digits, also in decimal.
        assert_eq!(parse_uint("1_000", 32), Ok(1000));
        assert_eq!(
            msg("1__0", 32),
            r#"strconv.ParseUint: parsing "1__0": invalid syntax"#
        );
        assert_eq!(
            msg("_1", 32),
            r#"strconv.ParseUint: parsing "_1": invalid syntax"#
        );
        assert_eq!(
            msg("08", 32),
            r#"strconv.ParseUint: parsing "08": invalid syntax"#
        );
        assert_eq!(
            msg("0x", 32),
            r#"strconv.ParseUint: parsing "0x": invalid syntax"#
        );
        assert_eq!(
            msg("", 32),
            r#"strconv.ParseUint: parsing "": invalid syntax"#
        );
        assert_eq!(
            msg("4294967296", 32),
            r#"strconv.ParseUint: parsing "4294967296": value out of range"#
        );
        assert_eq!(
            msg("256", 8),
            r#"strconv.ParseUint: parsing "256": value out of range"#
        );
    }

    #[test]
    fn signed() {
        assert_eq!(parse_int("-1", 32), Ok(-1));
        assert_eq!(parse_int("+7", 32), Ok(7));
        assert_eq!(parse_int("-2147483648", 32), Ok(-2_147_483_648));
        assert_eq!(parse_int("-0x10", 32), Ok(-16));
        assert_eq!(
            parse_int("2147483648", 32).unwrap_err().to_string(),
            r#"strconv.ParseInt: parsing "2147483648": value out of range"#
        );
        assert_eq!(
            parse_int("--1", 32).unwrap_err().to_string(),
            r#"strconv.ParseInt: parsing "--1": invalid syntax"#
        );
    }

    #[test]
    fn bools_and_atoi() {
        assert_eq!(parse_bool("T"), Ok(true));
        assert_eq!(parse_bool("False"), Ok(false));
        assert_eq!(
            parse_bool("yes").unwrap_err().to_string(),
            r#"strconv.ParseBool: parsing "yes": invalid syntax"#
        );
        assert_eq!(atoi("-3"), Ok(-3));
        assert_eq!(
            atoi("x").unwrap_err().to_string(),
            r#"strconv.Atoi: parsing "x": invalid syntax"#
        );
    }
}
