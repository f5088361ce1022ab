//! Interfaces: a VM port bound to a VNI with its addresses (grpc-api.md §8.2,
//! dataplane.md §2.4).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use dpservice::model::{
    CreateInterface, CreatedInterface, Interface, IpPrefix, Metering, ObjectId, Pxe,
};
use dpservice::status::ServiceError;

use super::routes::interface_route;
use super::{
    FirewallRules, FlowPurge, NatConfig, NicType, PortId, PortKind, PrefixRecord, State, VipConfig,
    Vnf, VnfKind,
};

/// The configuration of the interface on a VM port; what the packet path needs about
/// the VM behind the port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VfConfig {
    /// Interface ID.
    pub interface_id: ObjectId,
    /// VNI.
    pub vni: u32,
    /// Primary IPv4 (`None`: IPv4 disabled).
    pub ipv4: Option<Ipv4Addr>,
    /// Primary IPv6 (`None`: IPv6 disabled).
    pub ipv6: Option<Ipv6Addr>,
    /// The interface's underlay (`INTERFACE_IP` VNF; tunnel source of its traffic).
    pub underlay: Ipv6Addr,
    /// Network boot for DHCP/DHCPv6.
    pub pxe: Option<Pxe>,
    /// Hostname for DHCP.
    pub hostname: Option<String>,
    /// Caps in effect (zeros where metering does not apply).
    pub metering: Metering,
    /// 1:1 public IPv4.
    pub vip: Option<VipConfig>,
    /// NAT gateway address and port slice.
    pub nat: Option<NatConfig>,
    /// Firewall rules, in insertion order.
    pub firewall: FirewallRules,
    /// Alias prefixes in creation order.
    pub alias_prefixes: Vec<PrefixRecord>,
    /// Load-balancer target prefixes in creation order.
    pub lb_prefixes: Vec<PrefixRecord>,
}

impl VfConfig {
    /// The /32 and /128 of the interface's own addresses.
    pub fn own_prefixes(&self) -> impl Iterator<Item = IpPrefix> {
        let v4 = self
            .ipv4
            .and_then(|a| IpPrefix::new(IpAddr::V4(a), 32).ok());
        let v6 = self
            .ipv6
            .and_then(|a| IpPrefix::new(IpAddr::V6(a), 128).ok());
        v4.into_iter().chain(v6)
    }

    fn to_model(&self, device: &str) -> Interface {
        Interface {
            id: self.interface_id.clone(),
            vni: self.vni,
            ipv4: self.ipv4,
            ipv6: self.ipv6,
            underlay_route: self.underlay,
            device: device.to_owned(),
            metering: self.metering,
            hostname: self.hostname.clone(),
        }
    }
}

impl State {
    /// `CreateInterface`, checked in upstream's order: **201** no such device, **202**
    /// device taken, **401** underlay, **402** ID in use, **361** VNI tables, **301** /
    /// **303** own routes, **383** metering.
    pub fn create_interface(
        &mut self,
        req: CreateInterface,
    ) -> Result<CreatedInterface, ServiceError> {
        let port = self
            .ports
            .iter()
            .find(|p| p.device == req.device)
            .ok_or(ServiceError::NotFound)?;
        // uplinks are always in use, as upstream's started PF ports are
        if port.kind != PortKind::Vf || self.vf(port.id).is_some() {
            return Err(ServiceError::AlreadyExists);
        }
        let (port_id, vf_name) = (port.id, port.kernel_name.clone());
        let plan = self.underlays.plan(req.preferred_underlay)?;
        if self.iface_ids.contains_key(&req.id) {
            return Err(ServiceError::VmHandle);
        }
        self.vnis.check_acquire(req.vni)?;
        let mut vf = VfConfig {
            interface_id: req.id,
            vni: req.vni,
            ipv4: req.ipv4.filter(|a| !a.is_unspecified()),
            ipv6: req.ipv6.filter(|a| !a.is_unspecified()),
            underlay: plan.addr(),
            pxe: req.pxe,
            hostname: req.hostname.filter(|h| !h.is_empty()),
            metering: Metering::default(),
            vip: None,
            nat: None,
            firewall: FirewallRules::default(),
            alias_prefixes: Vec::new(),
            lb_prefixes: Vec::new(),
        };
        for prefix in vf.own_prefixes() {
            self.vnis.check_insert_acquired(req.vni, &prefix)?;
        }
        vf.metering = self.applied_metering(req.metering)?;

        self.underlays.commit(
            plan,
            Vnf {
                kind: VnfKind::Interface,
                port: Some(port_id),
                vni: req.vni,
                prefix: None,
            },
        );
        self.iface_ids.insert(vf.interface_id.clone(), port_id);
        self.vnis.acquire(req.vni);
        for prefix in vf.own_prefixes() {
            self.vnis.insert(req.vni, interface_route(prefix, port_id));
        }
        let underlay_route = vf.underlay;
        if let Some(slot) = self.vfs.get_mut(usize::from(port_id)) {
            *slot = Some(vf);
        }
        self.touch();
        Ok(CreatedInterface {
            underlay_route,
            vf_name,
        })
    }

    /// The caps that take effect: on Mellanox they are checked (**383**: total above
    /// 32 bits, public above total) and applied; other NICs ignore them (§10.6).
    fn applied_metering(&self, requested: Metering) -> Result<Metering, ServiceError> {
        if self.nic_type != NicType::Mellanox {
            if requested != Metering::default() {
                tracing::warn!(
                    total_rate = requested.total_rate,
                    public_rate = requested.public_rate,
                    nic_type = ?self.nic_type,
                    "metering needs --nic-type=mellanox; the caps are ignored and read back as 0"
                );
            }
            return Ok(Metering::default());
        }
        if requested.total_rate > u64::from(u32::MAX)
            || requested.public_rate > requested.total_rate
        {
            return Err(ServiceError::PortMeter);
        }
        Ok(requested)
    }

    /// `DeleteInterface`: **201** unknown ID. Removes the interface with everything
    /// hanging off it — VIP, NAT, alias and LB prefixes (our fix of §13 #8), firewall
    /// rules, routes, underlay, capture — and releases the VNI.
    pub fn delete_interface(
        &mut self,
        interface_id: &(impl AsRef<[u8]> + ?Sized),
    ) -> Result<(), ServiceError> {
        let port = self.port_of(interface_id).ok_or(ServiceError::NotFound)?;
        self.capture.forget_port(port);
        self.remove_vip(port);
        self.remove_nat(port);
        self.remove_all_prefixes(port);
        let Some(vf) = self.vfs.get_mut(usize::from(port)).and_then(Option::take) else {
            return Err(ServiceError::NotFound);
        };
        for prefix in vf.own_prefixes() {
            self.vnis.remove(vf.vni, &prefix);
        }
        self.underlays.release(&vf.underlay);
        self.iface_ids.remove(interface_id.as_ref());
        self.purge_flows(FlowPurge::Interface {
            port,
            vni: vf.vni,
            ipv4: vf.ipv4,
        });
        if self.vnis.release(vf.vni) {
            self.purge_vni(vf.vni);
        }
        // its firewall rules can be many
        self.retire(vf);
        self.touch();
        Ok(())
    }

    /// `GetInterface`: **201** unknown ID.
    pub fn get_interface(
        &self,
        interface_id: &(impl AsRef<[u8]> + ?Sized),
    ) -> Result<Interface, ServiceError> {
        let port = self.port_of(interface_id).ok_or(ServiceError::NotFound)?;
        let vf = self.vf(port).ok_or(ServiceError::NotFound)?;
        Ok(vf.to_model(&self.device_of(port)))
    }

    /// `ListInterfaces`: every configured interface, in port order.
    pub fn list_interfaces(&self) -> Vec<Interface> {
        self.interfaces()
            .map(|(port, vf)| vf.to_model(&self.device_of(port)))
            .collect()
    }

    fn device_of(&self, port: PortId) -> String {
        self.port_info(port)
            .map(|p| p.device.clone())
            .unwrap_or_default()
    }
}
