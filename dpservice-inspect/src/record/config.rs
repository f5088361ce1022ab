//! The configuration tables: `dnat`, `snat`, `iface`, `lb`, `lb_id`, `vnf`, `vnf_rev`,
//! `vni`.

use std::fmt::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use dpservice::shm::catalogue::{
    addr_from_bytes, Dnat, DnatValue, IdKey, InterfaceValue, Interfaces, Ipv4VniKey, LbKey,
    LbValue, LoadBalancerIds, LoadBalancers, ReverseVnfs, Snat, SnatValue, VnfKey, VnfValue, Vnfs,
    VniKey, VniValue, Vnis, MAGLEV_EMPTY,
};

use super::{Context, Decode, Field, Layout, Record, Sink};
use crate::values::{id_text, Proto, VnfType};

/// A destination NAT: VIP (or NAT address) and its target.
#[derive(Debug, Clone)]
pub struct DnatRecord {
    vip: Ipv4Addr,
    vni: u32,
    ip: Ipv4Addr,
}

impl Decode for Dnat {
    type Rec = DnatRecord;
    const LAYOUT: Layout = Layout {
        table_header: "VIP              VNI  IP",
        csv_header: "VIP,VNI,IP",
    };
    fn decode(key: &Ipv4VniKey, value: &DnatValue, _: &Context) -> DnatRecord {
        DnatRecord {
            vip: Ipv4Addr::from_bits(key.ip),
            vni: key.vni,
            ip: Ipv4Addr::from_bits(value.target_ip),
        }
    }
}

impl Record for DnatRecord {
    fn human(&self, out: &mut String) -> fmt::Result {
        write!(
            out,
            "vip: {:>15}, vni: {:>3}, ip: {:>15}",
            self.vip, self.vni, self.ip
        )
    }
    fn table_row(&self, out: &mut String) -> fmt::Result {
        write!(out, "{:<15}  {:>3}  {:<15}", self.vip, self.vni, self.ip)
    }
    fn fields(&self, sink: &mut dyn Sink) {
        sink.field("vip", Field::Text(&self.vip));
        sink.field("vni", Field::Num(self.vni.into()));
        sink.field("ip", Field::Text(&self.ip));
    }
    fn details(&self, _: &Context) -> Vec<(&'static str, String)> {
        let target = if self.ip.is_unspecified() {
            "network NAT address (no 1:1 target)".to_owned()
        } else {
            format!("{} (virtual IP of this interface address)", self.ip)
        };
        vec![
            ("address", self.vip.to_string()),
            ("vni", self.vni.to_string()),
            ("target", target),
        ]
    }
}

/// Source NAT and VIP of a VM address.
#[derive(Debug, Clone)]
pub struct SnatRecord {
    ip: Ipv4Addr,
    vni: u32,
    value: SnatValue,
}

impl SnatRecord {
    fn vip(&self) -> Ipv4Addr {
        Ipv4Addr::from_bits(self.value.vip_ip)
    }
    fn nat(&self) -> Ipv4Addr {
        Ipv4Addr::from_bits(self.value.nat_ip)
    }
    fn ul_vip(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.value.vip_underlay)
    }
    fn ul_nat(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.value.nat_underlay)
    }
}

impl Decode for Snat {
    type Rec = SnatRecord;
    const LAYOUT: Layout = Layout {
        table_header: "VNI  IP               VIP_IP           NAT_IP           MIN_PORT  MAX_PORT  UL_VIP                                   UL_NAT",
        csv_header: "VNI,IP,VIP_IP,NAT_IP,MIN_PORT,MAX_PORT,UL_VIP,UL_NAT",
    };
    fn decode(key: &Ipv4VniKey, value: &SnatValue, _: &Context) -> SnatRecord {
        SnatRecord {
            ip: Ipv4Addr::from_bits(key.ip),
            vni: key.vni,
            value: *value,
        }
    }
}

impl Record for SnatRecord {
    fn human(&self, out: &mut String) -> fmt::Result {
        write!(
            out,
            "vni: {:>3}, ip: {:>15}, vip_ip: {:>15}, nat_ip: {:>15}, min_port: {:>5}, max_port: {:>5}, ul_vip: {}, ul_nat: {}",
            self.vni, self.ip, self.vip(), self.nat(), self.value.min_port, self.value.max_port,
            self.ul_vip(), self.ul_nat()
        )
    }
    fn table_row(&self, out: &mut String) -> fmt::Result {
        write!(
            out,
            "{:>3}  {:<15}  {:<15}  {:<15}  {:>8}  {:>8}  {:<39}  {:<39}",
            self.vni,
            self.ip,
            self.vip(),
            self.nat(),
            self.value.min_port,
            self.value.max_port,
            self.ul_vip(),
            self.ul_nat()
        )
    }
    fn fields(&self, sink: &mut dyn Sink) {
        sink.field("vni", Field::Num(self.vni.into()));
        sink.field("ip", Field::Text(&self.ip));
        sink.field("vip_ip", Field::Text(&self.vip()));
        sink.field("nat_ip", Field::Text(&self.nat()));
        sink.field("min_port", Field::Num(self.value.min_port.into()));
        sink.field("max_port", Field::Num(self.value.max_port.into()));
        sink.field("ul_vip", Field::Text(&self.ul_vip()));
        sink.field("ul_nat", Field::Text(&self.ul_nat()));
    }
    fn details(&self, _: &Context) -> Vec<(&'static str, String)> {
        let vip = if self.value.vip_ip == 0 {
            "-".to_owned()
        } else {
            format!("{} (underlay {})", self.vip(), self.ul_vip())
        };
        let nat = if self.value.nat_ip == 0 {
            "-".to_owned()
        } else {
            format!(
                "{} ports {}..{} (underlay {})",
                self.nat(),
                self.value.min_port,
                self.value.max_port,
                self.ul_nat()
            )
        };
        vec![
            ("vm address", self.ip.to_string()),
            ("vni", self.vni.to_string()),
            ("virtual ip", vip),
            ("nat", nat),
        ]
    }
}

/// An interface and its port.
#[derive(Debug, Clone)]
pub struct IfaceRecord {
    id: String,
    value: InterfaceValue,
}

impl Decode for Interfaces {
    type Rec = IfaceRecord;
    const LAYOUT: Layout = Layout {
        table_header: "IFACE_ID                              PORT",
        csv_header: "IFACE_ID,PORT",
    };
    fn decode(key: &IdKey, value: &InterfaceValue, _: &Context) -> IfaceRecord {
        IfaceRecord {
            id: id_text(&key.id),
            value: *value,
        }
    }
}

impl Record for IfaceRecord {
    fn human(&self, out: &mut String) -> fmt::Result {
        write!(
            out,
            "iface_id: {}, port: {}(private)",
            self.id, self.value.port_id
        )
    }
    fn table_row(&self, out: &mut String) -> fmt::Result {
        write!(out, "{:<36}  {}(private)", self.id, self.value.port_id)
    }
    fn fields(&self, sink: &mut dyn Sink) {
        sink.field("iface_id", Field::Text(&self.id));
        sink.field("port", Field::Private(self.value.port_id));
    }
    fn details(&self, _: &Context) -> Vec<(&'static str, String)> {
        let v = &self.value;
        let m = v.mac;
        vec![
            ("interface", self.id.clone()),
            ("port", v.port_id.to_string()),
            ("vni", v.vni.to_string()),
            ("ipv4", Ipv4Addr::from_bits(v.ipv4).to_string()),
            ("ipv6", Ipv6Addr::from(v.ipv6).to_string()),
            (
                "mac",
                format!(
                    "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                    m[0], m[1], m[2], m[3], m[4], m[5]
                ),
            ),
            ("underlay", Ipv6Addr::from(v.underlay).to_string()),
        ]
    }
}

/// A load balancer (from `lb` or `lb_id`; `value` only known from `lb`).
#[derive(Debug, Clone)]
pub struct LbRecord {
    id: String,
    vni: u32,
    ip: IpAddr,
    value: Option<Box<LbValue>>,
}

impl Decode for LoadBalancers {
    type Rec = LbRecord;
    const LAYOUT: Layout = LB_LAYOUT;
    fn decode(key: &LbKey, value: &LbValue, _: &Context) -> LbRecord {
        LbRecord {
            id: id_text(&value.id),
            vni: key.vni,
            ip: addr_from_bytes(key.addr, key.is_v6),
            value: Some(Box::new(*value)),
        }
    }
}

impl Decode for LoadBalancerIds {
    type Rec = LbRecord;
    const LAYOUT: Layout = LB_LAYOUT;
    fn decode(key: &IdKey, value: &LbKey, _: &Context) -> LbRecord {
        LbRecord {
            id: id_text(&key.id),
            vni: value.vni,
            ip: addr_from_bytes(value.addr, value.is_v6),
            value: None,
        }
    }
}

const LB_LAYOUT: Layout = Layout {
    table_header: "LB_ID                                 VNI  IP",
    csv_header: "LB_ID,VNI,IP",
};

impl Record for LbRecord {
    fn human(&self, out: &mut String) -> fmt::Result {
        write!(
            out,
            "lb_id: {}, vni: {:>3}, ip: {:>15}",
            self.id, self.vni, self.ip
        )
    }
    fn table_row(&self, out: &mut String) -> fmt::Result {
        write!(out, "{:<36}  {:>3}  {}", self.id, self.vni, self.ip)
    }
    fn fields(&self, sink: &mut dyn Sink) {
        sink.field("lb_id", Field::Text(&self.id));
        sink.field("vni", Field::Num(self.vni.into()));
        sink.field("ip", Field::Text(&self.ip));
    }
    fn details(&self, _: &Context) -> Vec<(&'static str, String)> {
        let mut rows = vec![
            ("load balancer", self.id.clone()),
            ("vni", self.vni.to_string()),
            ("address", self.ip.to_string()),
        ];
        let Some(v) = &self.value else {
            rows.push(("targets", "see the lb table".to_owned()));
            return rows;
        };
        let ports: Vec<String> = v
            .ports
            .iter()
            .filter(|p| p.port != 0)
            .map(|p| format!("{}/{}", Proto(p.protocol), p.port))
            .collect();
        rows.push(("ports", ports.join(", ")));
        rows.push(("underlay", Ipv6Addr::from(v.underlay).to_string()));
        let count = usize::from(v.target_count).min(v.targets.len());
        for (i, target) in v.targets.iter().take(count).enumerate() {
            let slots = v.maglev.iter().filter(|&&s| usize::from(s) == i).count();
            rows.push((
                "target",
                format!("{} ({slots} Maglev slots)", Ipv6Addr::from(*target)),
            ));
        }
        let empty = v.maglev.iter().filter(|&&s| s == MAGLEV_EMPTY).count();
        rows.push(("empty Maglev slots", empty.to_string()));
        rows
    }
}

/// A VNF record with its underlay (from `vnf` or `vnf_rev`).
#[derive(Debug, Clone)]
pub struct VnfRecord {
    ul: Ipv6Addr,
    vnf: VnfValue,
}

impl VnfRecord {
    fn prefix(&self) -> IpAddr {
        addr_from_bytes(self.vnf.prefix, self.vnf.prefix_is_v6)
    }
}

const VNF_LAYOUT: Layout = Layout {
    table_header:
        "UNDERLAY_IP                              TYPE    VNI  PORT_ID  PREFIX           LENGTH",
    csv_header: "UNDERLAY_IP,TYPE,VNI,PORT_ID,PREFIX,LENGTH",
};

impl Decode for Vnfs {
    type Rec = VnfRecord;
    const LAYOUT: Layout = VNF_LAYOUT;
    fn decode(key: &VnfKey, value: &VnfValue, _: &Context) -> VnfRecord {
        VnfRecord {
            ul: Ipv6Addr::from(key.underlay),
            vnf: *value,
        }
    }
}

impl Decode for ReverseVnfs {
    type Rec = VnfRecord;
    const LAYOUT: Layout = VNF_LAYOUT;
    fn decode(key: &VnfValue, value: &VnfKey, _: &Context) -> VnfRecord {
        VnfRecord {
            ul: Ipv6Addr::from(value.underlay),
            vnf: *key,
        }
    }
}

impl Record for VnfRecord {
    fn human(&self, out: &mut String) -> fmt::Result {
        let v = &self.vnf;
        write!(
            out,
            "ul: {:>39}, type: {:>6}, vni: {:>3}, port_id: {:>3}, prefix: {:>15}, length: {:>2}",
            self.ul,
            VnfType(v.vnf_type),
            v.vni,
            v.port_id,
            self.prefix(),
            v.prefix_len
        )
    }
    fn table_row(&self, out: &mut String) -> fmt::Result {
        let v = &self.vnf;
        write!(
            out,
            "{:<39}  {:<6}  {:>3}  {:>7}  {:<15}  {:>6}",
            self.ul,
            VnfType(v.vnf_type),
            v.vni,
            v.port_id,
            self.prefix(),
            v.prefix_len
        )
    }
    fn fields(&self, sink: &mut dyn Sink) {
        let v = &self.vnf;
        sink.field("ul", Field::Text(&self.ul));
        sink.field("type", Field::Text(&VnfType(v.vnf_type)));
        sink.field("vni", Field::Num(v.vni.into()));
        sink.field("port_id", Field::Num(v.port_id.into()));
        sink.field("prefix", Field::Text(&self.prefix()));
        sink.field("length", Field::Num(v.prefix_len.into()));
    }
    fn details(&self, ctx: &Context) -> Vec<(&'static str, String)> {
        let v = &self.vnf;
        let port = if v.port_id == u16::MAX {
            "any".to_owned()
        } else {
            ctx.port_name(v.port_id)
        };
        vec![
            ("underlay", self.ul.to_string()),
            ("type", VnfType(v.vnf_type).to_string()),
            ("vni", v.vni.to_string()),
            ("port", port),
            ("prefix", format!("{}/{}", self.prefix(), v.prefix_len)),
        ]
    }
}

/// A VNI in use.
#[derive(Debug, Clone)]
pub struct VniRecord {
    vni: i32,
    value: VniValue,
}

impl VniRecord {
    /// Routes of a family, or `-` without a route table (upstream printed a pointer).
    fn rib(has: u8, routes: u32) -> String {
        if has != 0 {
            routes.to_string()
        } else {
            "-".to_owned()
        }
    }
    fn rib4(&self) -> String {
        Self::rib(self.value.has_rib_v4, self.value.routes_v4)
    }
    fn rib6(&self) -> String {
        Self::rib(self.value.has_rib_v6, self.value.routes_v6)
    }
    fn data_vni(&self) -> i32 {
        self.value.data_vni as i32
    }
}

impl Decode for Vnis {
    type Rec = VniRecord;
    const LAYOUT: Layout = Layout {
        table_header: "VNI  DATA_VNI  SOCKET                 RIB                RIB6  REF_COUNT",
        csv_header: "VNI,DATA_VNI,SOCKET,RIB,RIB6,REF_COUNT",
    };
    fn decode(key: &VniKey, value: &VniValue, _: &Context) -> VniRecord {
        VniRecord {
            // upstream prints the VNI with %d
            vni: key.vni as i32,
            value: *value,
        }
    }
}

impl Record for VniRecord {
    fn human(&self, out: &mut String) -> fmt::Result {
        write!(
            out,
            "vni: {:>3}, data_vni: {:>3}, socket: {}, rib: {}, rib6: {}, ref_count: {}",
            self.vni,
            self.data_vni(),
            self.value.socket,
            self.rib4(),
            self.rib6(),
            self.value.ref_count
        )
    }
    fn table_row(&self, out: &mut String) -> fmt::Result {
        write!(
            out,
            "{:>3}  {:>8}  {:>6}  {:>18}  {:>18}  {:>9}",
            self.vni,
            self.data_vni(),
            self.value.socket,
            self.rib4(),
            self.rib6(),
            self.value.ref_count
        )
    }
    fn fields(&self, sink: &mut dyn Sink) {
        sink.field("vni", Field::Num(self.vni.into()));
        sink.field("data_vni", Field::Num(self.data_vni().into()));
        sink.field("socket", Field::Num(self.value.socket.into()));
        sink.field("rib", Field::Text(&self.rib4()));
        sink.field("rib6", Field::Text(&self.rib6()));
        sink.field("ref_count", Field::Num(self.value.ref_count.into()));
    }
    fn details(&self, _: &Context) -> Vec<(&'static str, String)> {
        vec![
            ("vni", self.vni.to_string()),
            ("numa socket", self.value.socket.to_string()),
            ("ipv4 routes", self.rib4()),
            ("ipv6 routes", self.rib6()),
            ("references", self.value.ref_count.to_string()),
        ]
    }
}
