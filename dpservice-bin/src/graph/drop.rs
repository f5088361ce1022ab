//! Why packets are dropped (dataplane.md §6.7 and the local services of §5). A reason is a
//! small `Copy` value that indexes a counter; its name is what statistics show.

macro_rules! drop_reasons {
    ($($(#[doc = $doc:literal])* $variant:ident => $name:literal,)+) => {
        /// Why a packet went to the `drop` node.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum DropReason {
            $($(#[doc = $doc])* $variant,)+
        }

        impl DropReason {
            /// Every reason, in counter order.
            pub const ALL: &'static [DropReason] = &[$(DropReason::$variant,)+];

            /// Stable snake-case name (statistics, logs).
            pub const fn name(self) -> &'static str {
                match self {
                    $(DropReason::$variant => $name,)+
                }
            }
        }
    };
}

drop_reasons! {
    /// Not a plain Ethernet II frame (VLAN-tagged, or shorter than a header).
    NotEthernet => "not_ethernet",
    /// Neither ARP (Ethernet/IPv4) nor IPv4 nor IPv6.
    NotIp => "not_ip",
    /// Longer than the port's receive buffer: only a cut-off prefix arrived.
    FrameTooLong => "frame_too_long",
    /// Received on a port the daemon does not know.
    UnknownPort => "unknown_port",
    /// An L3 or L4 header shorter than its fixed part.
    Malformed => "malformed",
    /// Plain IPv4 from an uplink (only tunnels are accepted there).
    Ipv4FromPf => "ipv4_from_pf",
    /// IPv6 from an uplink that is neither IP-in-IPv6 nor a virtual-service reply.
    NotTunnel => "not_tunnel",
    /// Neighbour or router solicitation from an uplink.
    NdFromPf => "nd_from_pf",
    /// A local answer for a packet that came from an uplink (no tx edge to a PF).
    AnswerToPf => "answer_to_pf",
    /// ARP other than a request for the gateway (no proxy ARP).
    ArpNotForGateway => "arp_not_for_gateway",
    /// IPv6 ND while `--enable-ipv6-overlay` is off.
    NdDisabled => "nd_disabled",
    /// Neighbour solicitation for an address other than the gateway.
    NdNotForGateway => "nd_not_for_gateway",
    /// DHCP frame shorter than the BOOTP header.
    DhcpTooShort => "dhcp_too_short",
    /// DHCP on a port without an interface IPv4 address.
    DhcpNoAddress => "dhcp_no_address",
    /// BOOTP op other than request.
    DhcpNotRequest => "dhcp_not_request",
    /// DHCP options malformed, or no message type.
    DhcpMalformed => "dhcp_malformed",
    /// DHCP message type other than DISCOVER or REQUEST.
    DhcpUnhandled => "dhcp_unhandled",
    /// The DHCP answer's options would not fit a 1500-byte frame.
    DhcpTooLong => "dhcp_too_long",
    /// DHCPv6 frame shorter than the fixed header.
    Dhcpv6TooShort => "dhcpv6_too_short",
    /// DHCPv6 options malformed.
    Dhcpv6Malformed => "dhcpv6_malformed",
    /// DHCPv6 message type that is not answered.
    Dhcpv6Unhandled => "dhcpv6_unhandled",
    /// The DHCPv6 answer would not fit the buffer.
    Dhcpv6TooLong => "dhcpv6_too_long",
    /// Tunnel to an underlay address that no object owns.
    UnknownUnderlay => "unknown_underlay",
    /// Inner L4 protocol other than TCP, UDP, ICMP, ICMPv6.
    UnsupportedL4 => "unsupported_l4",
    /// ICMP other than echo, or unreachable codes 2–4 about TCP/UDP.
    UnsupportedIcmp => "unsupported_icmp",
    /// The flow table is full.
    FlowTableFull => "flow_table_full",
    /// Reply direction of a one-way flow (neighbour NAT, LB forward).
    OneWayFlow => "one_way_flow",
    /// No route in the VNI.
    NoRoute => "no_route",
    /// Uplink to uplink routing (no transit).
    PfToPf => "pf_to_pf",
    /// Inbound to a NAT address without flow, neighbour range or echo request.
    NatNoFlow => "nat_no_flow",
    /// NAT port range exhausted.
    NatPortExhausted => "nat_port_exhausted",
    /// Load balancer without targets or without the packet's port.
    LbNoTarget => "lb_no_target",
    /// Public rate limit exceeded.
    MeterRed => "meter_red",
    /// No room or no known inner type to build a tunnel header.
    EncapFailed => "encap_failed",
    /// A recirculated packet would recirculate again.
    RecirculationLoop => "recirculation_loop",
    /// Every translated port of a virtual service is held by a live connection.
    VirtsvcNoSlot => "virtsvc_no_slot",
    /// A virtual-service reply to a port that no connection holds (or below 1024).
    VirtsvcNoConnection => "virtsvc_no_connection",
    /// The output port does not exist or is not a valid target for this node.
    BadOutputPort => "bad_output_port",
    /// Not handled by this node (e.g. ICMP other than echo request for a relay).
    NotHandled => "not_handled",
    /// The port's transmit queue was full.
    TxQueueFull => "tx_queue_full",
}

impl DropReason {
    pub const COUNT: usize = DropReason::ALL.len();

    #[inline]
    pub const fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_indices_dense() {
        let mut names: Vec<_> = DropReason::ALL.iter().map(|r| r.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DropReason::COUNT);
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
    }
}
