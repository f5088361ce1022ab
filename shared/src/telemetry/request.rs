//! Requests: `<command>` or `<command>,<parameters>` (tools.md §3.2 step 2).
//!
//! The command is everything before the first comma and the parameters everything after
//! it; nothing is trimmed, so `"/info\n"` names an unknown command while `"/info,0\n"`
//! works (the newline is part of the ignored parameters).

use super::{MAX_COMMAND_LEN, MAX_REQUEST_LEN};

/// A well-formed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// The command, starting with `/`, at most [`MAX_COMMAND_LEN`] bytes.
    pub command: &'a str,
    /// What followed the first comma (`None` without a comma or with nothing after it).
    pub params: Option<&'a str>,
}

/// Why a request names no command (the server answers `null`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Longer than a server reads.
    #[error("request of {0} bytes is longer than {MAX_REQUEST_LEN}; send a shorter one")]
    TooLong(usize),
    /// The command does not start with `/`.
    #[error("command '{0}' does not start with '/'; commands look like /ethdev/list")]
    NoSlash(String),
    /// The command is too long to be registered.
    #[error("command '{0}' is longer than {MAX_COMMAND_LEN} bytes")]
    CommandTooLong(String),
}

/// The command part of a request text (before the first comma), as echoed in answers.
pub fn command_of(text: &str) -> &str {
    text.split_once(',').map_or(text, |(c, _)| c)
}

impl<'a> Request<'a> {
    /// Splits and checks a request as received (at most [`MAX_REQUEST_LEN`] bytes).
    pub fn parse(text: &'a str) -> Result<Request<'a>, RequestError> {
        if text.len() > MAX_REQUEST_LEN {
            return Err(RequestError::TooLong(text.len()));
        }
        let (command, params) = match text.split_once(',') {
            Some((c, p)) => (c, Some(p).filter(|p| !p.is_empty())),
            None => (text, None),
        };
        if !command.starts_with('/') {
            return Err(RequestError::NoSlash(command.to_owned()));
        }
        if command.len() > MAX_COMMAND_LEN {
            return Err(RequestError::CommandTooLong(command.to_owned()));
        }
        Ok(Request { command, params })
    }

    /// The message a client sends for this request.
    pub fn to_message(&self) -> String {
        match self.params {
            Some(p) => format!("{},{p}", self.command),
            None => self.command.to_owned(),
        }
    }
}

/// The longest prefix of `bytes` a server reads, as text (invalid UTF-8 replaced, so
/// the command can still be echoed).
pub fn received_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_REQUEST_LEN)])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn command_and_parameters_split_at_the_first_comma() {
        assert_eq!(
            Request::parse("/ethdev/xstats,1,hide_zero=true").unwrap(),
            Request {
                command: "/ethdev/xstats",
                params: Some("1,hide_zero=true")
            }
        );
        assert_eq!(
            Request::parse("/").unwrap(),
            Request {
                command: "/",
                params: None
            }
        );
        assert_eq!(Request::parse("/info,").unwrap().params, None);
    }

    #[test]
    fn nothing_is_trimmed() {
        assert_eq!(Request::parse("/info\n").unwrap().command, "/info\n");
        let r = Request::parse("/info,0\n").unwrap();
        assert_eq!((r.command, r.params), ("/info", Some("0\n")));
        assert_eq!(
            Request::parse(" /info"),
            Err(RequestError::NoSlash(" /info".into()))
        );
    }

    #[test]
    fn limits() {
        let long = format!("/{}", "c".repeat(54));
        assert!(Request::parse(&long).is_ok());
        let longer = format!("{long}c");
        assert_eq!(
            Request::parse(&longer),
            Err(RequestError::CommandTooLong(longer.clone()))
        );
        let huge = format!("/x,{}", "p".repeat(1021));
        assert_eq!(Request::parse(&huge), Err(RequestError::TooLong(1024)));
        assert_eq!(received_text(huge.as_bytes()).len(), 1023);
        assert_eq!(
            Request::parse(""),
            Err(RequestError::NoSlash(String::new()))
        );
    }

    #[test]
    fn echo_and_message() {
        assert_eq!(command_of("/a,b,c"), "/a");
        assert_eq!(command_of("junk"), "junk");
        let r = Request::parse("/eal/heap_info,0").unwrap();
        assert_eq!(r.to_message(), "/eal/heap_info,0");
        assert_eq!(received_text(b"/x\xff"), "/x\u{fffd}");
    }
}
