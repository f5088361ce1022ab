//! The greeting: the first message on every connection, and the answer of `/info`.

use super::json::Json;
use super::MAX_OUTPUT_LEN;

/// What DPDK calls its version in the greeting. Scripts only read the three keys; we
/// announce the DPDK release whose telemetry protocol we speak.
pub const DPDK_VERSION: &str = "DPDK 22.11.0";

/// The greeting object `{"version":…,"pid":…,"max_output_len":16384}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting {
    /// The `version` string.
    pub version: String,
    /// The serving process.
    pub pid: u32,
    /// The largest answer the server sends.
    pub max_output_len: usize,
}

impl Greeting {
    /// The greeting of this process.
    pub fn of_this_process() -> Greeting {
        Greeting {
            version: DPDK_VERSION.to_owned(),
            pid: std::process::id(),
            max_output_len: MAX_OUTPUT_LEN,
        }
    }

    /// As a JSON object, keys in DPDK's order.
    pub fn to_json(&self) -> Json {
        Json::object([
            ("version", Json::from(self.version.as_str())),
            ("pid", Json::U64(self.pid.into())),
            ("max_output_len", Json::U64(self.max_output_len as u64)),
        ])
    }

    /// The message sent on connect.
    pub fn render(&self) -> String {
        self.to_json().render(MAX_OUTPUT_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greeting_is_dpdks_three_keys() {
        let g = Greeting {
            version: DPDK_VERSION.to_owned(),
            pid: 1369006,
            max_output_len: MAX_OUTPUT_LEN,
        };
        assert_eq!(
            g.render(),
            r#"{"version":"DPDK 22.11.0","pid":1369006,"max_output_len":16384}"#
        );
    }
}
