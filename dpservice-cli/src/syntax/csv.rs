//! One CSV record, as pflag's slice flags split their values (`--lbports=tcp/80,udp/53`,
//! with `"..."` quoting for fields that contain commas).

use std::fmt;

/// A malformed record, worded like Go's `encoding/csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvError {
    column: usize,
    bare: bool,
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.bare {
            "bare \" in non-quoted-field"
        } else {
            "extraneous or missing \" in quoted-field"
        };
        write!(f, "parse error on line 1, column {}: {what}", self.column)
    }
}

impl std::error::Error for CsvError {}

/// Splits the first line of `s` into fields; an empty string is an empty list.
pub fn split_record(s: &str) -> Result<Vec<String>, CsvError> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let line = s
        .split('\n')
        .next()
        .unwrap_or_default()
        .trim_end_matches('\r');
    let chars: Vec<char> = line.chars().collect();
    let mut fields = Vec::new();
    let mut i = 0;
    loop {
        let mut field = String::new();
        if chars.get(i) == Some(&'"') {
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(CsvError {
                            column: i + 1,
                            bare: false,
                        })
                    }
                    Some('"') if chars.get(i + 1) == Some(&'"') => {
                        field.push('"');
                        i += 2;
                    }
                    Some('"') => {
                        i += 1;
                        match chars.get(i) {
                            None | Some(',') => break,
                            Some(_) => {
                                return Err(CsvError {
                                    column: i + 1,
                                    bare: false,
                                })
                            }
                        }
                    }
                    Some(&c) => {
                        field.push(c);
                        i += 1;
                    }
                }
            }
        } else {
            while let Some(&c) = chars.get(i) {
                match c {
                    ',' => break,
                    '"' => {
                        return Err(CsvError {
                            column: i + 1,
                            bare: true,
                        })
                    }
                    c => field.push(c),
                }
                i += 1;
            }
        }
        fields.push(field);
        if chars.get(i) == Some(&',') {
            i += 1;
        } else {
            return Ok(fields);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::split_record;

    #[test]
    fn splits_like_go_csv() {
        assert_eq!(split_record("tcp/80,udp/53").unwrap(), ["tcp/80", "udp/53"]);
        assert_eq!(split_record("").unwrap(), Vec::<String>::new());
        assert_eq!(split_record(r#""a,b",c"#).unwrap(), ["a,b", "c"]);
        assert_eq!(split_record("a,,b,").unwrap(), ["a", "", "b", ""]);
        assert_eq!(
            split_record(r#"a"b"#).unwrap_err().to_string(),
            r#"parse error on line 1, column 2: bare " in non-quoted-field"#
        );
        assert!(split_record(r#""ab"#).is_err());
    }
}
