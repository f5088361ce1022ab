//! Initialization, version exchange and VNI queries (§8.1, §8.10).

/// What a client tells about itself in `GetVersion` (each 1..63 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientVersion {
    /// Version of the proto the client was built from.
    pub client_protocol: String,
    /// Client name, e.g. `dpservice-cli`.
    pub client_name: String,
    /// Client build version.
    pub client_version: String,
}

/// What the daemon answers in `GetVersion` (upstream puts the same string in both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceVersion {
    /// Daemon protocol version.
    pub service_protocol: String,
    /// Daemon build version.
    pub service_version: String,
}

/// The table family a VNI query is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VniType {
    /// IPv4 table.
    Ipv4,
    /// IPv6 table.
    Ipv6,
    /// Both (only ResetVni executes it; CheckVniInUse answers 203).
    Both,
}

/// `CheckVniInUse` / `ResetVni`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VniQuery {
    /// VNI.
    pub vni: u32,
    /// Family.
    pub vni_type: VniType,
}
