//! `--vdev=net_tap<N>,iface=<ifname>[,mac=<MAC>][,persist]`: the TAP ports.
//!
//! Only DPDK's TAP driver exists in the software backend; its device arguments are
//! parsed here and handed to the port layer, which creates the devices.

use super::options::IF_NAMESIZE;
use crate::wire::MacAddr;

/// Prefix of every TAP device name (DPDK matches drivers by name prefix).
pub const TAP_DRIVER: &str = "net_tap";

/// One TAP port to create (or attach to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapSpec {
    /// Port id: position among the `--vdev` arguments.
    pub port_id: u16,
    /// Device name, e.g. `net_tap2` (what gRPC `CreateInterface.device` names).
    pub device: String,
    /// Kernel interface name, e.g. `dtapvf_0`.
    pub iface: String,
    /// The port's MAC, also set on the kernel side; `None` means a random one.
    pub mac: Option<MacAddr>,
    /// Attach to an existing persistent (possibly multi-queue) TAP; keep it on exit.
    pub persist: bool,
}

/// Why a `--vdev` argument was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VdevError {
    /// Not a TAP device.
    #[error("--vdev '{0}': only TAP devices (net_tap...) exist in the software backend")]
    UnsupportedDriver(String),
    /// Device argument without a known meaning.
    #[error(
        "--vdev '{vdev}': unknown device argument '{arg}' (known: iface, mac, persist, remote)"
    )]
    UnknownArg {
        /// The whole argument.
        vdev: String,
        /// The offending key.
        arg: String,
    },
    /// Bad interface name.
    #[error("--vdev '{0}': iface must be 1 to 15 characters without '/' or whitespace")]
    BadIface(String),
    /// Bad MAC.
    #[error(
        "--vdev '{vdev}': invalid MAC address '{mac}' (expected aa:bb:cc:dd:ee:ff or 'fixed')"
    )]
    BadMac {
        /// The whole argument.
        vdev: String,
        /// The offending value.
        mac: String,
    },
    /// Two devices with one name.
    #[error("--vdev: device name '{0}' is used twice")]
    DuplicateDevice(String),
    /// Two devices with one kernel interface.
    #[error("--vdev: interface name '{0}' is used twice")]
    DuplicateIface(String),
    /// Beyond the port-id space.
    #[error("--vdev: too many devices")]
    TooMany,
}

/// Parses every `--vdev` argument in order; port ids follow that order.
pub fn parse_all(vdevs: &[String]) -> Result<Vec<TapSpec>, VdevError> {
    let mut taps: Vec<TapSpec> = Vec::with_capacity(vdevs.len());
    for (index, vdev) in vdevs.iter().enumerate() {
        let port_id = u16::try_from(index).map_err(|_| VdevError::TooMany)?;
        let tap = parse(vdev, port_id)?;
        if taps.iter().any(|t| t.device == tap.device) {
            return Err(VdevError::DuplicateDevice(tap.device));
        }
        if taps.iter().any(|t| t.iface == tap.iface) {
            return Err(VdevError::DuplicateIface(tap.iface));
        }
        taps.push(tap);
    }
    Ok(taps)
}

/// Parses one `--vdev` value.
pub fn parse(vdev: &str, port_id: u16) -> Result<TapSpec, VdevError> {
    let mut parts = vdev.split(',');
    let device = parts.next().unwrap_or_default().trim();
    if !device.starts_with(TAP_DRIVER) {
        return Err(VdevError::UnsupportedDriver(vdev.to_owned()));
    }
    let mut tap = TapSpec {
        port_id,
        device: device.to_owned(),
        // DPDK's default interface name
        iface: format!("dtap{port_id}"),
        mac: None,
        persist: false,
    };
    for part in parts.filter(|p| !p.is_empty()) {
        let (key, value) = match part.split_once('=') {
            Some((k, v)) => (k.trim(), Some(unquote(v.trim()))),
            None => (part.trim(), None),
        };
        match (key, value) {
            ("iface", Some(name)) => {
                if name.is_empty()
                    || name.len() >= IF_NAMESIZE
                    || name.contains(['/', ' ', '\t', ':'])
                {
                    return Err(VdevError::BadIface(vdev.to_owned()));
                }
                tap.iface = name.to_owned();
            }
            ("mac", Some(text)) => {
                tap.mac = Some(if text == "fixed" {
                    // DPDK's fixed MAC: 00:"dtap":<index>
                    MacAddr([0x00, b'd', b't', b'a', b'p', port_id as u8])
                } else {
                    text.parse::<MacAddr>().map_err(|_| VdevError::BadMac {
                        vdev: vdev.to_owned(),
                        mac: text.to_owned(),
                    })?
                });
            }
            ("persist", _) => tap.persist = true,
            // a remote netdevice for flow rules: meaningless without hardware
            ("remote", Some(_)) => {}
            _ => {
                return Err(VdevError::UnknownArg {
                    vdev: vdev.to_owned(),
                    arg: part.to_owned(),
                })
            }
        }
    }
    Ok(tap)
}

/// Shell helpers sometimes leave the quotes of `mac="22:..."` in place.
fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn upstream_test_runner_vdevs() {
        let vdevs: Vec<String> = [
            "net_tap0,iface=dtap0,mac=22:22:22:22:22:00",
            "net_tap1,iface=dtap1,mac=\"22:22:22:22:22:01\"",
            "net_tap2,iface=dtapvf_0,mac=66:66:66:66:66:00",
            "net_tap_sync,iface=dps_sync_a,persist",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let taps = parse_all(&vdevs).unwrap();
        assert_eq!(taps.len(), 4);
        assert_eq!(
            taps[0],
            TapSpec {
                port_id: 0,
                device: "net_tap0".into(),
                iface: "dtap0".into(),
                mac: Some(MacAddr([0x22, 0x22, 0x22, 0x22, 0x22, 0x00])),
                persist: false,
            }
        );
        assert_eq!(
            taps[1].mac,
            Some(MacAddr([0x22, 0x22, 0x22, 0x22, 0x22, 0x01]))
        );
        assert_eq!(taps[2].iface, "dtapvf_0");
        assert_eq!(taps[2].port_id, 2);
        assert_eq!(taps[3].device, "net_tap_sync");
        assert!(taps[3].persist);
        assert_eq!(taps[3].mac, None);
        assert_eq!(taps[3].port_id, 3);
    }

    #[test]
    fn defaults_and_fixed_mac() {
        let t = parse("net_tap5", 5).unwrap();
        assert_eq!(t.iface, "dtap5");
        assert_eq!(t.mac, None);
        let t = parse("net_tap5,mac=fixed", 5).unwrap();
        assert_eq!(t.mac.unwrap().to_string(), "00:64:74:61:70:05");
        let t = parse("net_tap1,iface=x,mac=AA-bb-CC-dd-EE-ff,remote=eth0", 1).unwrap();
        assert_eq!(t.mac.unwrap().to_string(), "aa:bb:cc:dd:ee:ff");
    }

    #[test]
    fn refusals() {
        assert!(matches!(
            parse("net_ring0", 0),
            Err(VdevError::UnsupportedDriver(_))
        ));
        assert!(matches!(
            parse("net_tap0,iface=aaaaaaaaaaaaaaaa", 0),
            Err(VdevError::BadIface(_))
        ));
        assert!(matches!(
            parse("net_tap0,iface=", 0),
            Err(VdevError::BadIface(_))
        ));
        for mac in [
            "22:22:22:22:22",
            "22:22:22:22:22:22:22",
            "zz:22:22:22:22:22",
            "222:2:2:2:2:2",
        ] {
            assert!(
                matches!(
                    parse(&format!("net_tap0,mac={mac}"), 0),
                    Err(VdevError::BadMac { .. })
                ),
                "{mac}"
            );
        }
        assert!(matches!(
            parse("net_tap0,speed=10", 0),
            Err(VdevError::UnknownArg { .. })
        ));
        let dup = vec![
            "net_tap0,iface=a".to_string(),
            "net_tap0,iface=b".to_string(),
        ];
        assert_eq!(
            parse_all(&dup),
            Err(VdevError::DuplicateDevice("net_tap0".into()))
        );
        let dup = vec![
            "net_tap0,iface=a".to_string(),
            "net_tap1,iface=a".to_string(),
        ];
        assert_eq!(parse_all(&dup), Err(VdevError::DuplicateIface("a".into())));
    }
}
