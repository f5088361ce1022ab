//! The aliases of each singular noun, the same under `create`, `get` and `delete`
//! (`list` names its nouns in the plural and has its own).

/// `interface`.
pub const INTERFACE: [&str; 3] = ["interfaces", "iface", "ifaces"];
/// `prefix`.
pub const PREFIX: [&str; 3] = ["prefixes", "prfx", "prfxs"];
/// `route`.
pub const ROUTE: [&str; 3] = ["routes", "rt", "rts"];
/// `virtualip`.
pub const VIRTUAL_IP: [&str; 3] = ["virtualips", "vip", "vips"];
/// `loadbalancer`.
pub const LOADBALANCER: [&str; 3] = ["loadbalancers", "lbs", "lb"];
/// `lbprefix`.
pub const LB_PREFIX: [&str; 4] = [
    "loadbalancer-prefix",
    "loadbalancer-prefixes",
    "lbprfx",
    "lbprfxs",
];
/// `lbtarget`.
pub const LB_TARGET: [&str; 4] = [
    "loadbalancer-target",
    "loadbalancer-targets",
    "lbtrgt",
    "lbtrgts",
];
/// `nat`.
pub const NAT: [&str; 1] = ["translation"];
/// `neighbornat`.
pub const NEIGHBOR_NAT: [&str; 3] = ["nnat", "ngbnat", "neighnat"];
/// `firewallrule`.
pub const FIREWALL_RULE: [&str; 5] = ["fwrule", "fw-rule", "firewallrules", "fwrules", "fw-rules"];
