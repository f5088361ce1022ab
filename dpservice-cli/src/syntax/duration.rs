//! Go's `time.ParseDuration` (`500ms`, `4s`, `1m30s`, `1.5h`), with its error texts.

use std::fmt;

use super::quote::go_quote;

/// A `time.ParseDuration` failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError(String);

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DurationError {}

const MAX: u128 = 1 << 63;

fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Parses a Go duration into signed nanoseconds.
pub fn parse_duration(orig: &str) -> Result<i64, DurationError> {
    let invalid = || DurationError(format!("time: invalid duration {}", go_quote(orig)));
    let mut s = orig;
    let mut neg = false;
    if let Some(c @ ('-' | '+')) = s.chars().next() {
        neg = c == '-';
        s = &s[1..];
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !s.is_empty() {
        let b = s.as_bytes();
        if !(b[0] == b'.' || b[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let int_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut whole: u128 = 0;
        for &c in &b[..int_len] {
            whole = whole * 10 + u128::from(c - b'0');
            if whole > MAX {
                return Err(invalid());
            }
        }
        s = &s[int_len..];
        let (mut frac, mut scale) = (0u128, 1f64);
        let mut frac_len = 0;
        if s.starts_with('.') {
            s = &s[1..];
            frac_len = s.bytes().take_while(u8::is_ascii_digit).count();
            for c in s[..frac_len].bytes() {
                // Digits beyond what fits are dropped, as Go does.
                if frac < MAX / 10 {
                    frac = frac * 10 + u128::from(c - b'0');
                    scale *= 10.0;
                }
            }
            s = &s[frac_len..];
        }
        if int_len == 0 && frac_len == 0 {
            return Err(invalid());
        }
        let unit_len = s
            .bytes()
            .take_while(|c| *c != b'.' && !c.is_ascii_digit())
            .count();
        if unit_len == 0 {
            return Err(DurationError(format!(
                "time: missing unit in duration {}",
                go_quote(orig)
            )));
        }
        let unit = &s[..unit_len];
        s = &s[unit_len..];
        let Some(nanos) = unit_nanos(unit) else {
            return Err(DurationError(format!(
                "time: unknown unit {} in duration {}",
                go_quote(unit),
                go_quote(orig)
            )));
        };
        let mut v = whole
            .checked_mul(nanos)
            .filter(|v| *v <= MAX)
            .ok_or_else(invalid)?;
        if frac > 0 {
            v += (frac as f64 * (nanos as f64 / scale)) as u128;
        }
        total += v;
        if total > MAX {
            return Err(invalid());
        }
    }
    if neg {
        return Ok(-(total as i128) as i64);
    }
    if total >= MAX {
        return Err(invalid());
    }
    Ok(total as i64)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::parse_duration;

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("4s"), Ok(4_000_000_000));
        assert_eq!(parse_duration("500ms"), Ok(500_000_000));
        assert_eq!(parse_duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(parse_duration("1.5h"), Ok(5_400_000_000_000));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("-1s"), Ok(-1_000_000_000));
        assert_eq!(parse_duration(".5s"), Ok(500_000_000));
    }

    #[test]
    fn go_duration_errors() {
        let e = |s: &str| parse_duration(s).unwrap_err().to_string();
        assert_eq!(e("x"), r#"time: invalid duration "x""#);
        assert_eq!(e(""), r#"time: invalid duration """#);
        assert_eq!(e("1"), r#"time: missing unit in duration "1""#);
        assert_eq!(e("1x"), r#"time: unknown unit "x" in duration "1x""#);
        assert_eq!(e("."), r#"time: invalid duration ".""#);
    }
}
