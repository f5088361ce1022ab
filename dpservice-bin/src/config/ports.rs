//! Which probed port is which (dataplane.md §2.2): `--pf0`/`--pf1` by exact kernel
//! name, VFs by `--vf-pattern` substring in port-id order, the HA sync port by
//! `--sync-tap`.

use std::path::PathBuf;

use super::options::NicType;
use super::vdev::TapSpec;
use crate::state::{PortId, PortInfo, PortKind};

/// Most VF ports upstream supports.
pub const MAX_VFS: usize = 126;

/// The roles of the probed ports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortPlan {
    /// pf0, pf1, then the VFs in port-id order.
    pub ports: Vec<PortInfo>,
    /// The HA sync port (no graph nodes, not a VF).
    pub sync_port: Option<PortId>,
    /// Probed ports with no role (they stay idle).
    pub unused: Vec<PortId>,
}

/// Why the ports do not fit the options.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// `--pf0`/`--pf1` not given.
    #[error("{0} is required: the kernel interface name of that uplink port (e.g. {0}=dtap0)")]
    MissingPf(&'static str),
    /// No probed port has that kernel name.
    #[error("No such interface '{name}' for {option} (ports: {known})")]
    NoSuchInterface {
        /// `--pf0`, `--pf1` or `--sync-tap`.
        option: &'static str,
        /// The name given.
        name: String,
        /// The probed ports' names.
        known: String,
    },
    /// Both uplinks on one port.
    #[error("--pf0 and --pf1 name the same interface '{0}'; they must be two different ports")]
    SamePf(String),
    /// `--vf-pattern` not given.
    #[error("--vf-pattern is required: a part of the kernel name of every VM port (e.g. --vf-pattern=dtapvf_)")]
    MissingVfPattern,
    /// The pattern also matches an uplink or the sync port.
    #[error("--vf-pattern '{pattern}' also matches '{name}', which is {role}; choose a pattern only VM ports contain")]
    PatternMatchesOther {
        /// The pattern.
        pattern: String,
        /// The port's kernel name.
        name: String,
        /// `--pf0`, `--pf1` or `--sync-tap`.
        role: &'static str,
    },
    /// No port matches the pattern.
    #[error("No such VF: no port's interface name contains '{0}'")]
    NoVfs(String),
    /// The kernel reports zero VFs.
    #[error("No VFs defined by the kernel ({0})")]
    ZeroVfs(PathBuf),
    /// Above upstream's limit.
    #[error("Too many VFs: {0} (at most {MAX_VFS})")]
    TooManyVfs(usize),
    /// Fewer ports match than the kernel reports VFs.
    #[error("Not all VFs initialized: {found} ports match '{pattern}', the kernel reports {expected} VFs")]
    NotAllVfs {
        /// Pattern.
        pattern: String,
        /// Matching ports.
        found: usize,
        /// SR-IOV VF count.
        expected: usize,
    },
    /// `--nic-type=mellanox` and the SR-IOV count cannot be read.
    #[error("Cannot read the VF count from {path}: {reason} (for TAP ports use --nic-type=tap)")]
    Sriov {
        /// The sysfs file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Source of the SR-IOV VF count (`/sys/class/net/<pf0>/device/sriov_numvfs`).
pub type SriovReader<'a> = &'a dyn Fn(&std::path::Path) -> std::io::Result<String>;

/// Reads sysfs.
pub fn read_sysfs(path: &std::path::Path) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}

/// Inputs of the port matching.
#[derive(Debug, Clone, Copy)]
pub struct PortOptions<'a> {
    /// `--pf0`.
    pub pf0: Option<&'a str>,
    /// `--pf1`.
    pub pf1: Option<&'a str>,
    /// `--vf-pattern`.
    pub vf_pattern: Option<&'a str>,
    /// `--sync-tap`.
    pub sync_tap: Option<&'a str>,
    /// `--nic-type`.
    pub nic_type: NicType,
}

/// Assigns roles to the probed ports (`taps`, in port-id order).
pub fn plan(
    taps: &[TapSpec],
    opts: PortOptions<'_>,
    sriov: SriovReader<'_>,
) -> Result<PortPlan, PortError> {
    let known = || {
        if taps.is_empty() {
            "none; add --vdev=net_tapN,iface=NAME before '--'".to_owned()
        } else {
            taps.iter()
                .map(|t| t.iface.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let find = |option: &'static str, name: Option<&str>| -> Result<&TapSpec, PortError> {
        let name = name
            .filter(|n| !n.is_empty())
            .ok_or(PortError::MissingPf(option))?;
        taps.iter()
            .find(|t| t.iface == name)
            .ok_or_else(|| PortError::NoSuchInterface {
                option,
                name: name.to_owned(),
                known: known(),
            })
    };
    let pf0 = find("--pf0", opts.pf0)?;
    let pf1 = find("--pf1", opts.pf1)?;
    if pf0.port_id == pf1.port_id {
        return Err(PortError::SamePf(pf0.iface.clone()));
    }
    let sync = match opts.sync_tap.filter(|s| !s.is_empty()) {
        Some(name) => Some(taps.iter().find(|t| t.iface == name).ok_or_else(|| {
            PortError::NoSuchInterface {
                option: "--sync-tap",
                name: name.to_owned(),
                known: known(),
            }
        })?),
        None => None,
    };
    let pattern = opts
        .vf_pattern
        .filter(|p| !p.is_empty())
        .ok_or(PortError::MissingVfPattern)?;
    let matching: Vec<&TapSpec> = taps.iter().filter(|t| t.iface.contains(pattern)).collect();
    for m in &matching {
        let role = if m.port_id == pf0.port_id {
            Some("--pf0")
        } else if m.port_id == pf1.port_id {
            Some("--pf1")
        } else if sync.is_some_and(|s| s.port_id == m.port_id) {
            Some("--sync-tap")
        } else {
            None
        };
        if let Some(role) = role {
            return Err(PortError::PatternMatchesOther {
                pattern: pattern.to_owned(),
                name: m.iface.clone(),
                role,
            });
        }
    }
    let expected = match opts.nic_type {
        NicType::Tap | NicType::Bluefield2 => matching.len(),
        NicType::Mellanox => {
            let path = PathBuf::from(format!("/sys/class/net/{}/device/sriov_numvfs", pf0.iface));
            let text = sriov(&path).map_err(|e| PortError::Sriov {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            let count = text.trim().parse::<usize>().map_err(|_| PortError::Sriov {
                path: path.clone(),
                reason: format!("not a number: '{}'", text.trim()),
            })?;
            if count == 0 {
                return Err(PortError::ZeroVfs(path));
            }
            count
        }
    };
    if matching.is_empty() {
        return Err(PortError::NoVfs(pattern.to_owned()));
    }
    if expected > MAX_VFS {
        return Err(PortError::TooManyVfs(expected));
    }
    if matching.len() < expected {
        return Err(PortError::NotAllVfs {
            pattern: pattern.to_owned(),
            found: matching.len(),
            expected,
        });
    }
    let info = |t: &TapSpec, kind| PortInfo {
        id: t.port_id,
        device: t.device.clone(),
        kernel_name: t.iface.clone(),
        kind,
    };
    let mut ports = vec![info(pf0, PortKind::Pf0), info(pf1, PortKind::Pf1)];
    ports.extend(
        matching
            .iter()
            .take(expected)
            .map(|t| info(t, PortKind::Vf)),
    );
    let sync_port = sync.map(|s| s.port_id);
    let unused = taps
        .iter()
        .map(|t| t.port_id)
        .filter(|id| !ports.iter().any(|p| p.id == *id) && sync_port != Some(*id))
        .collect();
    Ok(PortPlan {
        ports,
        sync_port,
        unused,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::config::vdev;

    fn taps(names: &[&str]) -> Vec<TapSpec> {
        let vdevs: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, n)| format!("net_tap{i},iface={n}"))
            .collect();
        vdev::parse_all(&vdevs).unwrap()
    }

    fn no_sysfs(_: &std::path::Path) -> std::io::Result<String> {
        Err(std::io::Error::new(std::io::ErrorKind::NotFound, "absent"))
    }

    fn opts<'a>(pf0: &'a str, pf1: &'a str, pattern: &'a str) -> PortOptions<'a> {
        PortOptions {
            pf0: Some(pf0),
            pf1: Some(pf1),
            vf_pattern: Some(pattern),
            sync_tap: None,
            nic_type: NicType::Tap,
        }
    }

    #[test]
    fn upstream_test_layout() {
        let t = taps(&[
            "dtap0",
            "dtap1",
            "dtapvf_0",
            "dtapvf_1",
            "dtapvf_2",
            "dtapvf_3",
            "dps_sync_a",
        ]);
        let mut o = opts("dtap0", "dtap1", "dtapvf_");
        o.sync_tap = Some("dps_sync_a");
        let plan = plan(&t, o, &no_sysfs).unwrap();
        let summary: Vec<(u16, &str, &str, PortKind)> = plan
            .ports
            .iter()
            .map(|p| (p.id, p.device.as_str(), p.kernel_name.as_str(), p.kind))
            .collect();
        assert_eq!(
            summary,
            vec![
                (0, "net_tap0", "dtap0", PortKind::Pf0),
                (1, "net_tap1", "dtap1", PortKind::Pf1),
                (2, "net_tap2", "dtapvf_0", PortKind::Vf),
                (3, "net_tap3", "dtapvf_1", PortKind::Vf),
                (4, "net_tap4", "dtapvf_2", PortKind::Vf),
                (5, "net_tap5", "dtapvf_3", PortKind::Vf),
            ]
        );
        assert_eq!(plan.sync_port, Some(6));
        assert!(plan.unused.is_empty());
    }

    #[test]
    fn uplinks_in_any_position_and_unused_ports() {
        let t = taps(&["vf_a", "up1", "other", "up0", "vf_b"]);
        let plan = plan(&t, opts("up0", "up1", "vf_"), &no_sysfs).unwrap();
        let ids: Vec<(u16, PortKind)> = plan.ports.iter().map(|p| (p.id, p.kind)).collect();
        assert_eq!(
            ids,
            vec![
                (3, PortKind::Pf0),
                (1, PortKind::Pf1),
                (0, PortKind::Vf),
                (4, PortKind::Vf)
            ]
        );
        assert_eq!(plan.unused, vec![2]);
    }

    #[test]
    fn refusals() {
        let t = taps(&["dtap0", "dtap1", "dtapvf_0"]);
        let err = |o| plan(&t, o, &no_sysfs).unwrap_err();
        let mut o = opts("dtap0", "dtap1", "dtapvf_");
        o.pf0 = None;
        assert!(matches!(err(o), PortError::MissingPf("--pf0")));
        let e = err(opts("eth0", "dtap1", "dtapvf_"));
        assert!(
            e.to_string()
                .contains("No such interface 'eth0' for --pf0 (ports: dtap0, dtap1, dtapvf_0)"),
            "{e}"
        );
        assert!(matches!(
            err(opts("dtap0", "dtap0", "dtapvf_")),
            PortError::SamePf(_)
        ));
        let mut o = opts("dtap0", "dtap1", "");
        assert!(matches!(err(o), PortError::MissingVfPattern));
        o.vf_pattern = Some("vm");
        assert!(matches!(err(o), PortError::NoVfs(_)));
        assert!(matches!(
            err(opts("dtap0", "dtap1", "dtap")),
            PortError::PatternMatchesOther { role: "--pf0", .. }
        ));
        let mut o = opts("dtap0", "dtap1", "dtapvf_");
        o.sync_tap = Some("nosuch");
        assert!(matches!(
            err(o),
            PortError::NoSuchInterface {
                option: "--sync-tap",
                ..
            }
        ));
        let e = plan(&[], opts("dtap0", "dtap1", "vf"), &no_sysfs).unwrap_err();
        assert!(e.to_string().contains("add --vdev"), "{e}");
    }

    #[test]
    fn too_many_vfs() {
        let names: Vec<String> = ["p0".to_string(), "p1".to_string()]
            .into_iter()
            .chain((0..=MAX_VFS).map(|i| format!("vf{i}")))
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let t = taps(&refs);
        assert!(matches!(
            plan(&t, opts("p0", "p1", "vf"), &no_sysfs),
            Err(PortError::TooManyVfs(127))
        ));
        assert_eq!(
            plan(&t[..MAX_VFS + 2], opts("p0", "p1", "vf"), &no_sysfs)
                .unwrap()
                .ports
                .len(),
            MAX_VFS + 2
        );
    }

    #[test]
    fn mellanox_counts_vfs_from_sysfs() {
        let t = taps(&["pf0", "pf1", "pf0v0", "pf0v1", "pf0v2"]);
        let mut o = opts("pf0", "pf1", "pf0v");
        o.nic_type = NicType::Mellanox;
        let two = |p: &std::path::Path| {
            assert_eq!(
                p,
                std::path::Path::new("/sys/class/net/pf0/device/sriov_numvfs")
            );
            Ok("2\n".to_string())
        };
        let plan = plan(&t, o, &two).unwrap();
        assert_eq!(plan.ports.len(), 4, "only the first two matches become VFs");
        assert_eq!(plan.unused, vec![4]);
        let four = |_: &std::path::Path| Ok("4".to_string());
        assert!(matches!(
            super::plan(&t, o, &four),
            Err(PortError::NotAllVfs {
                found: 3,
                expected: 4,
                ..
            })
        ));
        let zero = |_: &std::path::Path| Ok("0".to_string());
        assert!(matches!(
            super::plan(&t, o, &zero),
            Err(PortError::ZeroVfs(_))
        ));
        let e = super::plan(&t, o, &no_sysfs).unwrap_err();
        assert!(e.to_string().contains("--nic-type=tap"), "{e}");
    }
}
