//! Node identities, names and edges (dataplane.md §3.1). Names are part of the interface:
//! telemetry graph statistics and `dpservice-dump --nodes` filters use them.

use crate::port::PortId;

/// The nodes that exist once per graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum Node {
    RxPeriodic,
    Cls,
    Arp,
    Ipv6Nd,
    Dhcp,
    Dhcpv6,
    IpipDecap,
    Conntrack,
    Lb,
    Dnat,
    Ipv4Lookup,
    Ipv6Lookup,
    Snat,
    Firewall,
    PacketRelay,
    IpipEncap,
    Virtsvc,
    Drop,
    /// HA sync messages (§16); exists only with `--sync-tap`.
    Sync,
}

impl Node {
    /// Every fixed node, in index order.
    pub const ALL: [Node; 19] = [
        Node::RxPeriodic,
        Node::Cls,
        Node::Arp,
        Node::Ipv6Nd,
        Node::Dhcp,
        Node::Dhcpv6,
        Node::IpipDecap,
        Node::Conntrack,
        Node::Lb,
        Node::Dnat,
        Node::Ipv4Lookup,
        Node::Ipv6Lookup,
        Node::Snat,
        Node::Firewall,
        Node::PacketRelay,
        Node::IpipEncap,
        Node::Virtsvc,
        Node::Drop,
        Node::Sync,
    ];
    pub const COUNT: usize = Node::ALL.len();

    pub const fn name(self) -> &'static str {
        match self {
            Node::RxPeriodic => "rx_periodic",
            Node::Cls => "cls",
            Node::Arp => "arp",
            Node::Ipv6Nd => "ipv6_nd",
            Node::Dhcp => "dhcp",
            Node::Dhcpv6 => "dhcpv6",
            Node::IpipDecap => "ipip_decap",
            Node::Conntrack => "conntrack",
            Node::Lb => "lb",
            Node::Dnat => "dnat",
            Node::Ipv4Lookup => "ipv4_lookup",
            Node::Ipv6Lookup => "ipv6_lookup",
            Node::Snat => "snat",
            Node::Firewall => "firewall",
            Node::PacketRelay => "packet_relay",
            Node::IpipEncap => "ipip_encap",
            Node::Virtsvc => "virtsvc",
            Node::Drop => "drop",
            Node::Sync => "sync",
        }
    }

    #[inline]
    pub const fn id(self) -> NodeId {
        NodeId(self as u16)
    }

    /// Fixed successors besides `drop` (per-port tx edges are listed by the graph).
    pub const fn fixed_edges(self) -> &'static [Node] {
        match self {
            Node::Cls => &[
                Node::Arp,
                Node::Ipv6Nd,
                Node::Conntrack,
                Node::IpipDecap,
                Node::Virtsvc,
            ],
            Node::IpipDecap => &[Node::Conntrack],
            Node::Conntrack => &[
                Node::Lb,
                Node::Dhcp,
                Node::Dhcpv6,
                Node::Dnat,
                Node::Firewall,
            ],
            Node::Lb => &[Node::IpipEncap, Node::PacketRelay, Node::Dnat],
            Node::Dnat => &[Node::Ipv4Lookup, Node::Ipv6Lookup, Node::PacketRelay],
            Node::Ipv4Lookup | Node::Ipv6Lookup => &[Node::Snat],
            Node::Snat => &[Node::Firewall],
            Node::Firewall => &[Node::IpipEncap],
            Node::PacketRelay => &[Node::IpipEncap],
            Node::IpipEncap => &[Node::Cls],
            _ => &[],
        }
    }

    /// Which per-port tx nodes this node may feed.
    pub const fn tx_edges(self) -> TxEdges {
        match self {
            Node::RxPeriodic
            | Node::Arp
            | Node::Ipv6Nd
            | Node::Dhcp
            | Node::Dhcpv6
            | Node::Firewall => TxEdges::Vfs,
            Node::IpipEncap => TxEdges::Pfs,
            Node::Virtsvc => TxEdges::All,
            _ => TxEdges::None,
        }
    }
}

/// A node's edges to per-port `tx-<port>` nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxEdges {
    None,
    Vfs,
    Pfs,
    All,
}

/// Any node of a graph: the fixed ones first, then `rx-<port>-0` and `tx-<port>` per port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u16);

impl NodeId {
    #[inline]
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// Where a node sends a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Node(Node),
    /// The `tx-<port>` node.
    Tx(PortId),
    /// The `drop` node, counted under the reason.
    Drop(super::drop::DropReason),
}

/// Name of the rx node of a port (queue 0; one queue per port).
pub fn rx_node_name(port: PortId) -> String {
    format!("rx-{port}-0")
}

pub fn tx_node_name(port: PortId) -> String {
    format!("tx-{port}")
}

/// Per-node statistics, as DPDK's graph reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeStats {
    /// Times the node ran with at least one packet.
    pub calls: u64,
    /// Packets processed.
    pub objs: u64,
    /// CPU cycles spent, estimated from samples (0 while no cycle clock is set; see
    /// [`super::Graph::set_cycle_clock`]).
    pub cycles: u64,
}
