//! The flow tables: `conntrack`, `portmap`, `portoverload`.

use std::fmt::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use dpservice::shm::catalogue::{
    addr_from_bytes, Conntrack, FlowEntry, FlowKey, NatPortmap, NatPortoverload, PortmapKey,
    PortmapValue, PortoverloadKey, PortoverloadValue,
};

use super::{Context, Decode, Field, Layout, Record, Sink};
use crate::values::{Age, Flags, Proto, TcpState, VnfType};

/// An `ip:port` endpoint as csv/json print it.
struct Endpoint(IpAddr, u16);

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.0, self.1)
    }
}

/// One conntrack key with its flow.
#[derive(Debug, Clone)]
pub struct ConntrackRecord {
    key: FlowKey,
    entry: FlowEntry,
    age: Age,
}

impl ConntrackRecord {
    /// Keys referring to the flow: both directions, or one when a flow's reply key equals
    /// its original key (the region stores each key's copy, not a counter).
    fn ref_count(&self) -> u32 {
        if self.entry.other_key == self.key {
            1
        } else {
            2
        }
    }
    fn src(&self) -> IpAddr {
        addr_from_bytes(self.key.l3_src, self.key.src_is_v6)
    }
    fn dst(&self) -> IpAddr {
        addr_from_bytes(self.key.l3_dst, self.key.dst_is_v6)
    }
    fn state(&self) -> TcpState {
        TcpState {
            proto: self.key.proto,
            state: self.entry.tcp_state,
        }
    }
}

impl Decode for Conntrack {
    type Rec = ConntrackRecord;
    const LAYOUT: Layout = Layout {
        table_header: "TYPE    VNI  PROTO            SOURCE            DESTINATION       PORT_ID  STATE   FLAGS  AGED       AGE  TIMEOUT  REF_COUNT",
        csv_header: "TYPE,VNI,PROTO,SOURCE,DESTINATION,PORT_ID,STATE,FLAGS,AGED,AGE,TIMEOUT,REF_COUNT",
    };
    fn decode(key: &FlowKey, entry: &FlowEntry, ctx: &Context) -> ConntrackRecord {
        ConntrackRecord {
            key: *key,
            entry: *entry,
            age: Age::since(entry.last_seen_ns, ctx.now_ns),
        }
    }
}

impl Record for ConntrackRecord {
    fn human(&self, out: &mut String) -> fmt::Result {
        let (k, e) = (&self.key, &self.entry);
        write!(
            out,
            "type: {:>6}, vni: {:>3}, proto: {:>4}, src: {:>15}:{:<5}, dst: {:>15}:{:<5}, port_id: {:>3}, state: {:>6}, flags: {}, aged: {}, age: {}, timeout: {:>5}, ref_count: {}",
            VnfType(k.vnf_type), k.vni, Proto(k.proto), self.src(), k.src, self.dst(), k.port_dst,
            e.port_id, self.state(), Flags(e.flags), e.aged, self.age, e.timeout_s, self.ref_count()
        )
    }

    fn table_row(&self, out: &mut String) -> fmt::Result {
        let (k, e) = (&self.key, &self.entry);
        write!(
            out,
            "{:<6}  {:>3}  {:<5}  {:>15}:{:<5}  {:>15}:{:<5}  {:>7}  {:<6}   {}     {}  {}  {:>7}  {:>9}",
            VnfType(k.vnf_type), k.vni, Proto(k.proto), self.src(), k.src, self.dst(), k.port_dst,
            e.port_id, self.state(), Flags(e.flags), e.aged, self.age, e.timeout_s, self.ref_count()
        )
    }

    fn fields(&self, sink: &mut dyn Sink) {
        let (k, e) = (&self.key, &self.entry);
        sink.field("type", Field::Text(&VnfType(k.vnf_type)));
        sink.field("vni", Field::Num(k.vni.into()));
        sink.field("proto", Field::Text(&Proto(k.proto)));
        sink.field("src", Field::Text(&Endpoint(self.src(), k.src)));
        sink.field("dst", Field::Text(&Endpoint(self.dst(), k.port_dst)));
        sink.field("port_id", Field::Num(e.port_id.into()));
        sink.field("state", Field::Text(&self.state()));
        sink.field("flags", Field::Text(&Flags(e.flags)));
        sink.field("aged", Field::Num(e.aged.into()));
        sink.field("age", Field::Text(&self.age));
        sink.field("timeout", Field::Num(e.timeout_s.into()));
        sink.field("ref_count", Field::Num(self.ref_count().into()));
    }

    fn details(&self, ctx: &Context) -> Vec<(&'static str, String)> {
        let (k, e) = (&self.key, &self.entry);
        let o = &e.other_key;
        let other = format!(
            "{} {}:{} -> {}:{} vni {}",
            Proto(o.proto),
            addr_from_bytes(o.l3_src, o.src_is_v6),
            o.src,
            addr_from_bytes(o.l3_dst, o.dst_is_v6),
            o.port_dst,
            o.vni
        );
        let nat = if e.nat_type == 0 && e.nat_ip == [0; 16] {
            "-".to_owned()
        } else {
            format!(
                "{}:{} vni {} (type {})",
                addr_from_bytes(e.nat_ip, e.nat_is_v6),
                e.nat_port,
                e.nat_vni,
                e.nat_type
            )
        };
        let out_port = if e.out_port == u16::MAX {
            "-".to_owned()
        } else {
            ctx.port_name(e.out_port)
        };
        let mac = e.next_hop_mac;
        vec![
            ("protocol", Proto(k.proto).to_string()),
            ("source", Endpoint(self.src(), k.src).to_string()),
            ("destination", Endpoint(self.dst(), k.port_dst).to_string()),
            ("vni", k.vni.to_string()),
            ("vnf type", VnfType(k.vnf_type).to_string()),
            (
                "direction",
                if e.direction == 0 {
                    "original"
                } else {
                    "reply"
                }
                .to_owned(),
            ),
            ("other direction", other),
            ("created on port", ctx.port_name(e.port_id)),
            ("routed to port", out_port),
            ("tcp state", self.state().to_string()),
            (
                "flags",
                format!("{} ({})", Flags(e.flags), Flags(e.flags).names()),
            ),
            ("aged", e.aged.to_string()),
            ("age", self.age.to_string()),
            ("timeout", format!("{} s", e.timeout_s)),
            ("ref_count", self.ref_count().to_string()),
            ("nat", nat),
            (
                "underlay destination",
                Ipv6Addr::from(e.underlay_dst).to_string(),
            ),
            (
                "next-hop mac",
                format!(
                    "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                    mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]
                ),
            ),
            ("flow hash", format!("0x{:08x}", e.flow_hash)),
            (
                "firewall",
                format!(
                    "original {}, reply {}",
                    e.fw_verdict_org, e.fw_verdict_reply
                ),
            ),
        ]
    }
}

/// A NAT port-map entry.
#[derive(Debug, Clone)]
pub struct PortmapRecord {
    key: PortmapKey,
    value: PortmapValue,
}

impl Decode for NatPortmap {
    type Rec = PortmapRecord;
    const LAYOUT: Layout = Layout {
        table_header: "VNI  SRC_IP           SRC_PORT  NAT_IP           NAT_PORT  FLOWS",
        csv_header: "VNI,SRC_IP,SRC_PORT,NAT_IP,NAT_PORT,FLOWS",
    };
    fn decode(key: &PortmapKey, value: &PortmapValue, _: &Context) -> PortmapRecord {
        PortmapRecord {
            key: *key,
            value: *value,
        }
    }
}

impl PortmapRecord {
    fn src_ip(&self) -> IpAddr {
        addr_from_bytes(self.key.addr, self.key.is_v6)
    }
    fn nat_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from_bits(self.value.nat_ip)
    }
}

impl Record for PortmapRecord {
    fn human(&self, out: &mut String) -> fmt::Result {
        write!(
            out,
            "vni: {:>3}, src_ip: {:>15}, src_port: {:>5}, nat_ip: {:>15}, nat_port: {:>5}, flows: {}",
            self.key.vni, self.src_ip(), self.key.port, self.nat_ip(), self.value.nat_port,
            self.value.flow_count
        )
    }
    fn table_row(&self, out: &mut String) -> fmt::Result {
        write!(
            out,
            "{:>3}  {:<15}  {:>8}  {:<15}  {:>8}  {:>5}",
            self.key.vni,
            self.src_ip(),
            self.key.port,
            self.nat_ip(),
            self.value.nat_port,
            self.value.flow_count
        )
    }
    fn fields(&self, sink: &mut dyn Sink) {
        sink.field("vni", Field::Num(self.key.vni.into()));
        sink.field("src_ip", Field::Text(&self.src_ip()));
        sink.field("src_port", Field::Num(self.key.port.into()));
        sink.field("nat_ip", Field::Text(&self.nat_ip()));
        sink.field("nat_port", Field::Num(self.value.nat_port.into()));
        sink.field("flows", Field::Num(self.value.flow_count.into()));
    }
    fn details(&self, _: &Context) -> Vec<(&'static str, String)> {
        vec![
            ("vni", self.key.vni.to_string()),
            (
                "vm source",
                Endpoint(self.src_ip(), self.key.port).to_string(),
            ),
            (
                "nat source",
                Endpoint(self.nat_ip().into(), self.value.nat_port).to_string(),
            ),
            ("flows using it", self.value.flow_count.to_string()),
        ]
    }
}

/// A NAT port-overload entry (a NAT port in use towards one destination).
#[derive(Debug, Clone)]
pub struct PortoverloadRecord {
    key: PortoverloadKey,
    value: PortoverloadValue,
}

impl Decode for NatPortoverload {
    type Rec = PortoverloadRecord;
    const LAYOUT: Layout = Layout {
        table_header: "NAT_IP           NAT_PORT  DST_IP           DST_PORT  PROTO",
        csv_header: "NAT_IP,NAT_PORT,DST_IP,DST_PORT,PROTO",
    };
    fn decode(key: &PortoverloadKey, value: &PortoverloadValue, _: &Context) -> PortoverloadRecord {
        PortoverloadRecord {
            key: *key,
            value: *value,
        }
    }
}

impl PortoverloadRecord {
    fn nat_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from_bits(self.key.nat_ip)
    }
    fn dst_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from_bits(self.key.dst_ip)
    }
}

impl Record for PortoverloadRecord {
    fn human(&self, out: &mut String) -> fmt::Result {
        let k = &self.key;
        write!(
            out,
            "nat_ip: {:>15}, nat_port: {:>5}, dst_ip: {:>15}, dst_port: {:>5}, proto: {:>4}",
            self.nat_ip(),
            k.nat_port,
            self.dst_ip(),
            k.dst_port,
            Proto(k.proto)
        )
    }
    fn table_row(&self, out: &mut String) -> fmt::Result {
        let k = &self.key;
        write!(
            out,
            "{:<15}  {:>8}  {:<15}  {:>8}  {:<5}",
            self.nat_ip(),
            k.nat_port,
            self.dst_ip(),
            k.dst_port,
            Proto(k.proto)
        )
    }
    fn fields(&self, sink: &mut dyn Sink) {
        let k = &self.key;
        sink.field("nat_ip", Field::Text(&self.nat_ip()));
        sink.field("nat_port", Field::Num(k.nat_port.into()));
        sink.field("dst_ip", Field::Text(&self.dst_ip()));
        sink.field("dst_port", Field::Num(k.dst_port.into()));
        sink.field("proto", Field::Text(&Proto(k.proto)));
    }
    fn details(&self, ctx: &Context) -> Vec<(&'static str, String)> {
        let k = &self.key;
        vec![
            (
                "nat source",
                Endpoint(self.nat_ip().into(), k.nat_port).to_string(),
            ),
            (
                "destination",
                Endpoint(self.dst_ip().into(), k.dst_port).to_string(),
            ),
            ("protocol", Proto(k.proto).to_string()),
            ("created on port", ctx.port_name(self.value.port_id)),
            ("icmp type", self.value.icmp_type.to_string()),
        ]
    }
}
