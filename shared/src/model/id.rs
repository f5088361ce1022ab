//! Object IDs (interface, load balancer, firewall rule) as the wire carries them: bytes.
//!
//! The proto fields are `bytes` and upstream keeps IDs as C strings, so an ID need not
//! be UTF-8 (grpc-api.md §4.1, §4.5). Keeping the bytes means a non-UTF-8 ID is created,
//! found and listed back byte for byte, and IDs compare byte-exact.

use std::borrow::Borrow;
use std::fmt;

/// An object ID: the exact bytes of the request (validated there: 1..63 bytes, no NUL).
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(Vec<u8>);

impl ObjectId {
    /// The ID's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The ID's bytes, for a proto field.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// The ID as text, if it is UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the ID has no byte (only as a filter: "every object").
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// UTF-8 as it is; other bytes as `\xNN`, so logs show what was sent.
impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_str() {
            Some(s) => f.write_str(s),
            None => write!(f, "{}", self.0.escape_ascii()),
        }
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0.escape_ascii())
    }
}

impl From<Vec<u8>> for ObjectId {
    fn from(bytes: Vec<u8>) -> Self {
        ObjectId(bytes)
    }
}

impl From<&[u8]> for ObjectId {
    fn from(bytes: &[u8]) -> Self {
        ObjectId(bytes.to_vec())
    }
}

impl From<String> for ObjectId {
    fn from(s: String) -> Self {
        ObjectId(s.into_bytes())
    }
}

impl From<&str> for ObjectId {
    fn from(s: &str) -> Self {
        ObjectId(s.as_bytes().to_vec())
    }
}

impl From<ObjectId> for Vec<u8> {
    fn from(id: ObjectId) -> Self {
        id.0
    }
}

impl AsRef<[u8]> for ObjectId {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Maps keyed by `ObjectId` can be searched with the bytes of a request.
impl Borrow<[u8]> for ObjectId {
    fn borrow(&self) -> &[u8] {
        &self.0
    }
}

impl PartialEq<str> for ObjectId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for ObjectId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<[u8]> for ObjectId {
    fn eq(&self, other: &[u8]) -> bool {
        self.0 == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_kept_and_shown_readably() {
        let id = ObjectId::from(vec![b'l', b'b', 0xff, 0xfe]);
        assert_eq!(id.as_bytes(), b"lb\xff\xfe");
        assert_eq!(id.as_str(), None);
        assert_eq!(id.to_string(), "lb\\xff\\xfe");
        assert_eq!(format!("{id:?}"), "\"lb\\xff\\xfe\"");
        let text = ObjectId::from("vm1");
        assert_eq!(text.to_string(), "vm1");
        assert_eq!(text, "vm1");
        assert_eq!(text.into_bytes(), b"vm1");
    }

    #[test]
    fn maps_find_ids_by_request_bytes() {
        let mut m = std::collections::HashMap::new();
        m.insert(ObjectId::from(vec![0x80]), 1);
        assert_eq!(m.get(&[0x80u8][..]), Some(&1));
        assert_eq!(m.get("\u{80}".as_bytes()), None, "bytes, not code points");
    }
}
