//! The embedded software default: what `dpservice-bin` without any argument (and
//! without a configuration file) runs, so that a new user gets a working daemon on TAP
//! ports at once. It is upstream's test-suite layout.

/// The whole command line used when none is given.
pub const DEFAULT_ARGS: &[&str] = &[
    "--no-pci",
    "--vdev=net_tap0,iface=dtap0,mac=22:22:22:22:22:00",
    "--vdev=net_tap1,iface=dtap1,mac=22:22:22:22:22:01",
    "--vdev=net_tap2,iface=dtapvf_0,mac=66:66:66:66:66:00",
    "--vdev=net_tap3,iface=dtapvf_1,mac=66:66:66:66:66:01",
    "--vdev=net_tap4,iface=dtapvf_2,mac=66:66:66:66:66:02",
    "--vdev=net_tap5,iface=dtapvf_3,mac=66:66:66:66:66:03",
    "--",
    "--pf0=dtap0",
    "--pf1=dtap1",
    "--vf-pattern=dtapvf_",
    "--nic-type=tap",
    "--ipv6=fc00:1::1",
    "--no-offload",
    "--no-stats",
];

/// The text under `--help` that explains the command line's two parts, the
/// configuration file and this default.
pub fn help_text() -> String {
    let mut text = String::from(
        "Everything before '--' is DPDK EAL options ('dpservice-bin --help' lists them); \
         TAP ports are given as --vdev=net_tapN,iface=IFNAME[,mac=MAC][,persist].\n\
         \n\
         Before the command line, the configuration file named by DP_CONF (default \
         /run/dpservice/dpservice.conf, DP_CONF=\"\" for none) is read: one 'key value' per \
         line, keys being the options above without dashes, plus 'a-pf0'/'a-pf1' for PCI \
         devices. Command-line values override the file's; lists append.\n\
         \n\
         Without any argument (and without a configuration file) dpservice-bin runs this \
         software default on TAP ports:\n  dpservice-bin",
    );
    for arg in DEFAULT_ARGS {
        text.push_str(" \\\n      ");
        text.push_str(arg);
    }
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn help_shows_every_default_argument() {
        let text = help_text();
        for arg in DEFAULT_ARGS {
            assert!(text.contains(arg), "{arg}");
        }
    }
}
