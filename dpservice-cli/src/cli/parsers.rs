//! Flag value parsers with pflag's wording: `invalid argument "<v>" for "--<flag>" flag:
//! <Go error>`. Each parser sees the flag it parses for, so the message names it.

use std::ffi::OsStr;
use std::marker::PhantomData;
use std::time::Duration;

use clap::builder::TypedValueParser;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, Command};

use crate::syntax::{self, csv, duration, go_quote, number, Addr, Prefix};

/// A Go-syntax value type: how to parse it and what the inner error says.
pub trait GoParse: Clone + Send + Sync + 'static {
    /// The parsed value.
    type Out: Clone + Send + Sync + 'static;
    /// Parses one occurrence of the flag.
    fn parse(s: &str) -> Result<Self::Out, String>;
}

/// A clap value parser for a [`GoParse`] type.
#[derive(Debug, Clone, Copy, Default)]
pub struct Go<T>(PhantomData<T>);

/// Shorthand used in the derive attributes.
pub fn go<T: GoParse>() -> Go<T> {
    Go(PhantomData)
}

impl<T: GoParse> TypedValueParser for Go<T> {
    type Value = T::Out;

    fn parse_ref(
        &self,
        cmd: &Command,
        arg: Option<&Arg>,
        value: &OsStr,
    ) -> Result<T::Out, clap::Error> {
        let s = value.to_string_lossy();
        T::parse(&s).map_err(|inner| flag_error(cmd, arg, &s, &inner))
    }
}

/// pflag's name of a flag in messages: `--name`, or `-x, --name` with a shorthand.
pub fn flag_display_name(arg: &Arg) -> String {
    match (arg.get_short(), arg.get_long()) {
        (Some(c), Some(l)) => format!("-{c}, --{l}"),
        (None, Some(l)) => format!("--{l}"),
        (Some(c), None) => format!("-{c}"),
        (None, None) => arg.get_id().to_string(),
    }
}

fn flag_error(cmd: &Command, arg: Option<&Arg>, value: &str, inner: &str) -> clap::Error {
    let name = arg.map(flag_display_name).unwrap_or_default();
    let msg = format!(
        "invalid argument {} for {} flag: {inner}",
        go_quote(value),
        go_quote(&name)
    );
    let mut err = clap::Error::new(ErrorKind::ValueValidation).with_cmd(cmd);
    err.insert(ContextKind::Custom, ContextValue::String(msg));
    err
}

/// `uint32` flags.
#[derive(Debug, Clone, Copy)]
pub struct U32;
impl GoParse for U32 {
    type Out = u32;
    fn parse(s: &str) -> Result<u32, String> {
        number::parse_uint(s, 32)
            .map(|v| v as u32)
            .map_err(|e| e.to_string())
    }
}

/// `uint8` flags.
#[derive(Debug, Clone, Copy)]
pub struct U8;
impl GoParse for U8 {
    type Out = u8;
    fn parse(s: &str) -> Result<u8, String> {
        number::parse_uint(s, 8)
            .map(|v| v as u8)
            .map_err(|e| e.to_string())
    }
}

/// `uint` (uint64) flags.
#[derive(Debug, Clone, Copy)]
pub struct U64;
impl GoParse for U64 {
    type Out = u64;
    fn parse(s: &str) -> Result<u64, String> {
        number::parse_uint(s, 64).map_err(|e| e.to_string())
    }
}

/// `int32` flags.
#[derive(Debug, Clone, Copy)]
pub struct I32;
impl GoParse for I32 {
    type Out = i32;
    fn parse(s: &str) -> Result<i32, String> {
        number::parse_int(s, 32)
            .map(|v| v as i32)
            .map_err(|e| e.to_string())
    }
}

/// `bool` flags (`--pretty`, `--pretty=false`).
#[derive(Debug, Clone, Copy)]
pub struct Bool;
impl GoParse for Bool {
    type Out = bool;
    fn parse(s: &str) -> Result<bool, String> {
        number::parse_bool(s).map_err(|e| e.to_string())
    }
}

/// `duration` flags.
#[derive(Debug, Clone, Copy)]
pub struct GoDuration;
impl GoParse for GoDuration {
    type Out = Duration;
    fn parse(s: &str) -> Result<Duration, String> {
        let nanos = duration::parse_duration(s).map_err(|e| e.to_string())?;
        Ok(Duration::from_nanos(nanos.max(0) as u64))
    }
}

/// `ip` flags (surrounding whitespace ignored).
#[derive(Debug, Clone, Copy)]
pub struct Ip;
impl GoParse for Ip {
    type Out = Addr;
    fn parse(s: &str) -> Result<Addr, String> {
        syntax::parse_addr(s.trim()).map_err(|e| e.to_string())
    }
}

/// `ipprefix` flags (surrounding whitespace ignored).
#[derive(Debug, Clone, Copy)]
pub struct IpPrefix;
impl GoParse for IpPrefix {
    type Out = Prefix;
    fn parse(s: &str) -> Result<Prefix, String> {
        syntax::parse_prefix(s.trim()).map_err(|e| e.to_string())
    }
}

/// One occurrence of a `strings` flag, split as CSV.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvList(pub Vec<String>);

/// `strings` flags (`--lbports`, `-f`).
#[derive(Debug, Clone, Copy)]
pub struct Strings;
impl GoParse for Strings {
    type Out = CsvList;
    fn parse(s: &str) -> Result<CsvList, String> {
        csv::split_record(s).map(CsvList).map_err(|e| e.to_string())
    }
}

/// All values of a repeated `strings` flag, in order.
pub fn flatten(lists: &[CsvList]) -> Vec<String> {
    lists.iter().flat_map(|l| l.0.iter().cloned()).collect()
}
