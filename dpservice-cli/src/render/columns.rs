//! The table and name form of every kind (spec §5.3.1, §5.4).

use super::{Cell, Render, Table};
use crate::objects::*;
use crate::syntax::{Addr, Prefix as IpPrefix};

/// An address cell; `<nil>` when absent, as Go prints a nil pointer.
fn addr(a: Option<&Addr>) -> Cell {
    Cell::text(a.map_or_else(|| "<nil>".to_owned(), ToString::to_string))
}

fn prefix(p: Option<&IpPrefix>) -> Cell {
    Cell::text(p.map_or_else(|| "<nil>".to_owned(), ToString::to_string))
}

fn names<T: Named>(items: &[T]) -> Vec<String> {
    items.iter().map(Named::name_line).collect()
}

/// Rows of the interface table (shared by the object and the list).
fn interface_table(items: &[&Interface], wide: bool) -> Table {
    let mut t = Table::new(&[
        "ID",
        "VNI",
        "Device",
        "IPv4",
        "IPv6",
        "UnderlayRoute",
        "TotalTx",
        "PublicTx",
        "Hostname",
    ]);
    let vf_needed = items.iter().any(|i| i.spec.virtual_function.is_some());
    if vf_needed {
        t.header.push("VirtualFunction".to_owned());
    }
    if wide {
        t.header.push("Nat".to_owned());
        t.header.push("VirtualIP".to_owned());
    }
    for i in items {
        let s = &i.spec;
        let metering = s.metering.clone().unwrap_or_default();
        let mut row = vec![
            Cell::text(&i.metadata.id),
            Cell::num(s.vni),
            Cell::text(&s.device),
            addr(s.ipv4.as_ref()),
            addr(s.ipv6.as_ref()),
            addr(s.underlay_route.as_ref()),
            Cell::num(metering.total_rate),
            Cell::num(metering.public_rate),
            Cell::text(&s.hostname),
        ];
        match &s.virtual_function {
            Some(vf) => row.push(Cell::text(&vf.name)),
            None if vf_needed => row.push(Cell::text("")),
            None => {}
        }
        row.push(match (&s.nat, wide) {
            (Some(nat), true) => Cell::text(nat.summary()),
            _ => Cell::text(""),
        });
        row.push(match (&s.vip, wide) {
            (Some(vip), true) => addr(vip.spec.vip_ip.as_ref()),
            _ => Cell::text(""),
        });
        t.rows.push(row);
    }
    t
}

impl Render for Interface {
    fn name_lines(&self) -> Vec<String> {
        vec![self.name_line()]
    }
    fn table(&self, wide: bool) -> Table {
        interface_table(&[self], wide)
    }
}

impl Render for InterfaceList {
    fn name_lines(&self) -> Vec<String> {
        names(&self.items)
    }
    fn table(&self, wide: bool) -> Table {
        interface_table(&self.items.iter().collect::<Vec<_>>(), wide)
    }
}

fn route_table(items: &[&Route]) -> Table {
    let mut t = Table::new(&["Prefix", "VNI", "NextHopVNI", "NextHopIP"]);
    for r in items {
        let hop = r.spec.next_hop.as_ref();
        t.rows.push(vec![
            prefix(r.spec.prefix.as_ref()),
            Cell::num(r.metadata.vni),
            Cell::num(hop.map_or(0, |h| h.vni)),
            addr(hop.and_then(|h| h.address.as_ref())),
        ]);
    }
    t
}

impl Render for Route {
    fn name_lines(&self) -> Vec<String> {
        vec![self.name_line()]
    }
    fn table(&self, _wide: bool) -> Table {
        route_table(&[self])
    }
}

impl Render for RouteList {
    fn name_lines(&self) -> Vec<String> {
        names(&self.items)
    }
    fn table(&self, _wide: bool) -> Table {
        route_table(&self.items.iter().collect::<Vec<_>>())
    }
}

fn prefix_table<'a>(items: impl Iterator<Item = (u32, &'a PrefixSpec, &'a str)>) -> Table {
    let mut t = Table::new(&["VNI", "Prefix", "UnderlayRoute", "InterfaceID"]);
    for (vni, spec, iface) in items {
        t.rows.push(vec![
            Cell::num(vni),
            Cell::text(spec.prefix.to_string()),
            addr(spec.underlay_route.as_ref()),
            Cell::text(iface),
        ]);
    }
    t
}

impl Render for Prefix {
    fn name_lines(&self) -> Vec<String> {
        vec![self.name_line()]
    }
    fn table(&self, _wide: bool) -> Table {
        prefix_table(
            [(
                self.metadata.vni,
                &self.spec,
                self.metadata.interface_id.as_str(),
            )]
            .into_iter(),
        )
    }
}

impl Render for LoadBalancerPrefix {
    fn name_lines(&self) -> Vec<String> {
        vec![self.name_line()]
    }
    fn table(&self, _wide: bool) -> Table {
        prefix_table([(0, &self.spec, self.metadata.interface_id.as_str())].into_iter())
    }
}

impl Render for PrefixList {
    fn name_lines(&self) -> Vec<String> {
        names(&self.items)
    }
    fn table(&self, _wide: bool) -> Table {
        prefix_table(
            self.items
                .iter()
                .map(|p| (p.metadata.vni, &p.spec, p.metadata.interface_id.as_str())),
        )
    }
}

impl Render for VirtualIp {
    fn name_lines(&self) -> Vec<String> {
        vec![self.name_line()]
    }
    fn table(&self, _wide: bool) -> Table {
        let mut t = Table::new(&["InterfaceID", "VirtualIP", "UnderlayRoute"]);
        t.rows.push(vec![
            Cell::text(&self.metadata.interface_id),
            addr(self.spec.vip_ip.as_ref()),
            addr(self.spec.underlay_route.as_ref()),
        ]);
        t
    }
}

/// The proto enum name of a protocol number (`TCP`), empty for unknown numbers.
fn protocol_name(n: u32) -> &'static str {
    match n {
        0 => "UNDEFINED",
        1 => "ICMP",
        6 => "TCP",
        17 => "UDP",
        58 => "ICMPV6",
        132 => "SCTP",
        _ => "",
    }
}

fn lb_table(items: &[&LoadBalancer]) -> Table {
    let mut t = Table::new(&["ID", "VNI", "LbVipIP", "Lbports", "UnderlayRoute"]);
    for lb in items {
        let ports: Vec<String> = lb
            .spec
            .ports
            .iter()
            .map(|p| format!("{}/{}", protocol_name(p.protocol), p.port))
            .collect();
        t.rows.push(vec![
            Cell::text(&lb.metadata.id),
            Cell::num(lb.spec.vni),
            addr(lb.spec.vip.as_ref()),
            Cell::text(format!("[{}]", ports.join(" "))),
            addr(lb.spec.underlay_route.as_ref()),
        ]);
    }
    t
}

impl Render for LoadBalancer {
    fn name_lines(&self) -> Vec<String> {
        vec![self.name_line()]
    }
    fn table(&self, _wide: bool) -> Table {
        lb_table(&[self])
    }
}

impl Render for LoadBalancerList {
    fn name_lines(&self) -> Vec<String> {
        names(&self.items)
    }
    fn table(&self, _wide: bool) -> Table {
        lb_table(&self.items.iter().collect::<Vec<_>>())
    }
}

fn target_table(items: &[&LoadBalancerTarget]) -> Table {
    let mut t = Table::new(&["IpVersion", "Address"]);
    for target in items {
        let version = match &target.spec.target_ip {
            Some(a) if a.is_v4() => Cell::num_text("IPV4"),
            Some(_) => Cell::num_text("IPV6"),
            None => Cell::text("<nil>"),
        };
        t.rows
            .push(vec![version, addr(target.spec.target_ip.as_ref())]);
    }
    t
}

impl Render for LoadBalancerTarget {
    fn name_lines(&self) -> Vec<String> {
        vec![self.name_line()]
    }
    fn table(&self, _wide: bool) -> Table {
        target_table(&[self])
    }
}

impl Render for LoadBalancerTargetList {
    fn name_lines(&self) -> Vec<String> {
        names(&self.items)
    }
    fn table(&self, _wide: bool) -> Table {
        target_table(&self.items.iter().collect::<Vec<_>>())
    }
}

fn nat_table(items: &[&Nat]) -> Table {
    let per_interface = items
        .first()
        .is_some_and(|n| !n.metadata.interface_id.is_empty());
    if per_interface {
        let mut t = Table::new(&[
            "InterfaceID",
            "NatIP",
            "MinPort",
            "MaxPort",
            "UnderlayRoute",
        ]);
        for n in items {
            t.rows.push(vec![
                Cell::text(&n.metadata.interface_id),
                addr(n.spec.nat_ip.as_ref()),
                Cell::num(n.spec.min_port),
                Cell::num(n.spec.max_port),
                addr(n.spec.underlay_route.as_ref()),
            ]);
        }
        return t;
    }
    let mut t = Table::new(&[
        "VNI",
        "IP",
        "MinPort",
        "MaxPort",
        "UnderlayRoute",
        "NatIP",
        "NatType",
    ]);
    for n in items {
        let kind = if n.spec.underlay_route.is_none() {
            "Local"
        } else {
            "Neighbor"
        };
        t.rows.push(vec![
            Cell::num(n.spec.vni),
            addr(n.spec.nat_ip.as_ref()),
            Cell::num(n.spec.min_port),
            Cell::num(n.spec.max_port),
            addr(n.spec.underlay_route.as_ref()),
            addr(n.spec.actual_nat_ip.as_ref()),
            Cell::text(kind),
        ]);
    }
    t
}

impl Render for Nat {
    fn name_lines(&self) -> Vec<String> {
        vec![self.name_line()]
    }
    fn table(&self, _wide: bool) -> Table {
        nat_table(&[self])
    }
}

impl Render for NatList {
    fn name_lines(&self) -> Vec<String> {
        names(&self.items)
    }
    fn table(&self, _wide: bool) -> Table {
        nat_table(&self.items.iter().collect::<Vec<_>>())
    }
}

impl Render for NeighborNat {
    fn name_lines(&self) -> Vec<String> {
        vec![self.name_line()]
    }
    fn table(&self, _wide: bool) -> Table {
        let mut t = Table::new(&["VNI", "NatIP", "MinPort", "MaxPort", "UnderlayRoute"]);
        t.rows.push(vec![
            Cell::num(self.spec.vni),
            addr(self.metadata.nat_ip.as_ref()),
            Cell::num(self.spec.min_port),
            Cell::num(self.spec.max_port),
            addr(self.spec.underlay_route.as_ref()),
        ]);
        t
    }
}

fn fwrule_table(items: &[&FirewallRule]) -> Table {
    let mut t = Table::new(&[
        "InterfaceID",
        "RuleID",
        "Direction",
        "Src",
        "Dst",
        "Action",
        "Protocol",
        "Priority",
    ]);
    for r in items {
        let s = &r.spec;
        t.rows.push(vec![
            Cell::text(&r.metadata.interface_id),
            Cell::text(&s.id),
            Cell::text(&s.direction),
            prefix(s.source_prefix.as_ref()),
            prefix(s.destination_prefix.as_ref()),
            Cell::text(&s.action),
            Cell::text(s.protocol_filter.map(|f| f.text()).unwrap_or_default()),
            Cell::num(s.priority),
        ]);
    }
    t
}

impl Render for FirewallRule {
    fn name_lines(&self) -> Vec<String> {
        vec![self.name_line()]
    }
    fn table(&self, _wide: bool) -> Table {
        fwrule_table(&[self])
    }
}

impl Render for FirewallRuleList {
    fn name_lines(&self) -> Vec<String> {
        names(&self.items)
    }
    fn table(&self, _wide: bool) -> Table {
        fwrule_table(&self.items.iter().collect::<Vec<_>>())
    }
}

impl Render for Initialized {
    fn name_lines(&self) -> Vec<String> {
        vec![self.name_line()]
    }
    fn table(&self, _wide: bool) -> Table {
        let mut t = Table::new(&["UUID"]);
        t.rows.push(vec![Cell::text(&self.spec.uuid)]);
        t
    }
}

impl Render for Vni {
    fn name_lines(&self) -> Vec<String> {
        vec![self.name_line()]
    }
    fn table(&self, _wide: bool) -> Table {
        let mut t = Table::new(&["VNI", "VniType", "inUse"]);
        t.rows.push(vec![
            Cell::num(self.metadata.vni),
            Cell::num(self.metadata.vni_type),
            Cell::text(self.spec.in_use.to_string()),
        ]);
        t
    }
}

impl Render for Version {
    fn name_lines(&self) -> Vec<String> {
        vec![self.name_line()]
    }
    fn table(&self, _wide: bool) -> Table {
        let mut t = Table::new(&[
            "ServiceProto",
            "ServiceVersion",
            "ClientName",
            "ClientProto",
            "ClientVersion",
        ]);
        t.rows.push(vec![
            Cell::text(&self.spec.service_protocol),
            Cell::text(&self.spec.service_version),
            Cell::text(&self.metadata.client_name),
            Cell::text(&self.metadata.client_protocol),
            Cell::text(&self.metadata.client_version),
        ]);
        t
    }
}

/// PF and VF cells: each entry followed by a space, as upstream prints them.
fn capture_cells(interfaces: &[CaptureInterface]) -> (Cell, Cell) {
    let (mut pf, mut vf) = (String::new(), String::new());
    for i in interfaces {
        let target = if i.interface_type == "pf" {
            &mut pf
        } else {
            &mut vf
        };
        target.push_str(&i.interface_info);
        target.push(' ');
    }
    (Cell::text(pf), Cell::text(vf))
}

impl Render for CaptureStart {
    fn name_lines(&self) -> Vec<String> {
        vec![self.name_line()]
    }
    fn table(&self, _wide: bool) -> Table {
        let mut t = Table::new(&[
            "SinkNodeIP",
            "UdpSrcPort",
            "UdpDstPort",
            "PF Interfaces",
            "VF Interfaces",
        ]);
        let c = &self.metadata.capture_config;
        let (pf, vf) = capture_cells(&self.spec.interfaces);
        t.rows.push(vec![
            addr(c.sink.as_ref()),
            Cell::num(c.udp_src_port),
            Cell::num(c.udp_dst_port),
            pf,
            vf,
        ]);
        t
    }
}

impl Render for CaptureStop {
    fn name_lines(&self) -> Vec<String> {
        vec![self.name_line()]
    }
    fn table(&self, _wide: bool) -> Table {
        let mut t = Table::new(&["Stopped Interface"]);
        t.rows.push(vec![Cell::num(self.spec.iface_cnt)]);
        t
    }
}

impl Render for CaptureStatus {
    fn name_lines(&self) -> Vec<String> {
        vec![self.name_line()]
    }
    fn table(&self, _wide: bool) -> Table {
        let mut t = Table::new(&[
            "Operation Status",
            "SinkNodeIP",
            "UdpSrcPort",
            "UdpDstPort",
            "PF Interfaces",
            "VF Interfaces",
        ]);
        if !self.spec.operation_status {
            let mut row = vec![Cell::text("NOT_ACTIVE")];
            row.extend((0..5).map(|_| Cell::text("")));
            t.rows.push(row);
            return t;
        }
        let c = &self.spec.capture_config;
        let (pf, vf) = capture_cells(&self.spec.interfaces);
        t.rows.push(vec![
            Cell::text("ACTIVE"),
            addr(c.sink.as_ref()),
            Cell::num(c.udp_src_port),
            Cell::num(c.udp_dst_port),
            pf,
            vf,
        ]);
        t
    }
}
