//! How single values are spelled (tools.md §2.4): protocol, VNF type and TCP state
//! names, flow flags, ages, ids. Every type here pads with `Formatter::pad`, so the
//! templates' `{x:>6}` / `{x:<6}` widths apply to them as to numbers.

use std::fmt;

/// An IP protocol number: its name for the common ones, the number otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proto(pub u8);

impl Proto {
    /// The name, if the protocol has one in inspect's list.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "ip",
            1 => "icmp",
            4 => "ipip",
            6 => "tcp",
            17 => "udp",
            41 => "ipv6",
            _ => return None,
        })
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.pad(name),
            None => f.pad(&self.0.to_string()),
        }
    }
}

/// A VNF type (the numbers of `FlowKey::vnf_type` / `VnfValue::vnf_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VnfType(pub u8);

impl fmt::Display for VnfType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            0 => "none",
            1 => "iface",
            2 => "vip",
            3 => "nat",
            4 => "lb",
            5 => "lb_pfx",
            6 => "pfx",
            other => return f.pad(&other.to_string()),
        };
        f.pad(name)
    }
}

/// The TCP state of a flow; every non-TCP flow is `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpState {
    /// IP protocol of the flow.
    pub proto: u8,
    /// The stored state number.
    pub state: u8,
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.proto != 6 {
            return f.pad("none");
        }
        let name = match self.state {
            0 => "none",
            1 => "syn",
            2 => "synack",
            3 => "est",
            4 => "finwai",
            5 => "rstfin",
            other => return f.pad(&other.to_string()),
        };
        f.pad(name)
    }
}

/// Flow flags as `0x` and two lower-case hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags(pub u8);

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        pad_args(f, format_args!("0x{:02x}", self.0))
    }
}

impl Flags {
    /// The names of the set bits, for the TUI's detail pane.
    pub fn names(self) -> String {
        const BITS: [(u8, &str); 7] = [
            (0x01, "source NAT"),
            (0x02, "destination NAT"),
            (0x04, "load-balanced"),
            (0x08, "firewall"),
            (0x10, "NAT64"),
            (0x20, "default"),
            (0x40, "destination-NAT forwarded"),
        ];
        let names: Vec<&str> = BITS
            .iter()
            .filter(|(bit, _)| self.0 & bit != 0)
            .map(|&(_, name)| name)
            .collect();
        if names.is_empty() {
            "-".to_owned()
        } else {
            names.join(", ")
        }
    }
}

/// A duration in whole seconds as `HH:MM:SS` (hours not wrapped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Age(pub u64);

impl Age {
    /// The time from `last_seen_ns` to `now_ns` (both CLOCK_MONOTONIC); 0 if the entry
    /// is newer than `now` (read just after the daemon touched it).
    pub fn since(last_seen_ns: u64, now_ns: u64) -> Age {
        Age(now_ns.saturating_sub(last_seen_ns) / 1_000_000_000)
    }
}

impl fmt::Display for Age {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        pad_args(
            f,
            format_args!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60),
        )
    }
}

/// Writes `args` padded to the formatter's width; without a width (csv, json: the
/// bulk of a dump) directly, without an intermediate string.
fn pad_args(f: &mut fmt::Formatter<'_>, args: fmt::Arguments<'_>) -> fmt::Result {
    if f.width().is_none() {
        f.write_fmt(args)
    } else {
        f.pad(&args.to_string())
    }
}

/// An interface or load-balancer id as text: the bytes up to the first NUL, with
/// invalid UTF-8 replaced (ids are byte strings; the daemon only accepts printable ones).
pub fn id_text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// The current CLOCK_MONOTONIC time in ns, the clock of the daemon's `last_seen_ns`.
pub fn monotonic_now_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    u64::try_from(t.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(t.tv_nsec).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_widths_follow_the_spec() {
        assert_eq!(format!("{:>4}", Proto(6)), " tcp");
        assert_eq!(format!("{:<5}", Proto(58)), "58   ");
        assert_eq!(format!("{}", Proto(41)), "ipv6");
        assert_eq!(format!("{:>6}", VnfType(5)), "lb_pfx");
        assert_eq!(format!("{:<6}", VnfType(0)), "none  ");
        assert_eq!(format!("{}", TcpState { proto: 6, state: 4 }), "finwai");
        assert_eq!(
            format!(
                "{}",
                TcpState {
                    proto: 17,
                    state: 3
                }
            ),
            "none"
        );
        assert_eq!(format!("{}", Flags(0x20)), "0x20");
        assert_eq!(Flags(0x03).names(), "source NAT, destination NAT");
        assert_eq!(format!("{}", Age(7)), "00:00:07");
        assert_eq!(format!("{}", Age(100 * 3600 + 61)), "100:01:01");
        assert_eq!(Age::since(5_000_000_000, 1_000), Age(0));
        assert_eq!(Age::since(1_000_000_000, 3_500_000_000), Age(2));
        assert_eq!(id_text(b"vm1\0\0"), "vm1");
        assert_eq!(id_text(b"a\xffb"), "a\u{fffd}b");
    }
}
