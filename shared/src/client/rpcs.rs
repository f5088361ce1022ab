//! One method per RPC, in the order of the service definition (grpc-api.md §7).

use std::net::{IpAddr, Ipv6Addr};

use super::{Client, ClientError};
use crate::model::{
    CaptureConfig, CaptureStatus, ClientVersion, CreateFirewallRule, CreateInterface,
    CreateLbPrefix, CreateLoadBalancer, CreateNat, CreatePrefix, CreateVip, CreatedInterface,
    FirewallRule, FirewallRuleRef, Interface, LbPrefixRef, LoadBalancer, LoadBalancerTarget, Nat,
    NatEntry, NeighborNat, NeighborNatKey, ObjectId, PrefixEntry, PrefixRef, Route, RouteKey,
    ServiceVersion, Vip, VniQuery,
};
use crate::proto;

type Result<T> = std::result::Result<T, ClientError>;

/// Sends one request and returns the response message once its `Status` reports success.
macro_rules! call {
    ($client:ident . $method:ident ( $request:expr )) => {{
        let request = $client.request($request);
        let response = $client
            .raw
            .clone()
            .$method(request)
            .await
            .map_err(|status| ClientError::from_status(&status, &$client.address))?
            .into_inner();
        ClientError::check(&response)?;
        response
    }};
}

/// As [`call!`], then converts the response into the model.
macro_rules! call_into {
    ($client:ident . $method:ident ( $request:expr )) => {
        Ok(call!($client.$method($request)).try_into()?)
    };
}

/// As [`call!`] for calls that answer with the status only.
macro_rules! call_unit {
    ($client:ident . $method:ident ( $request:expr )) => {{
        call!($client.$method($request));
        Ok(())
    }};
}

/// An ID argument: text or an [`ObjectId`] (IDs are bytes on the wire).
fn bytes(id: &(impl AsRef<[u8]> + ?Sized)) -> Vec<u8> {
    id.as_ref().to_vec()
}

impl Client {
    /// The daemon's per-process UUID; `ABORTED` `not initialized` before Initialize.
    pub async fn check_initialized(&self) -> Result<String> {
        call_into!(self.check_initialized(proto::CheckInitializedRequest {}))
    }

    /// Marks the daemon initialized (wiping routes if it already was, §8.1); its UUID.
    pub async fn initialize(&self) -> Result<String> {
        call_into!(self.initialize(proto::InitializeRequest {}))
    }

    /// Exchanges versions.
    pub async fn get_version(&self, client: &ClientVersion) -> Result<ServiceVersion> {
        call_into!(self.get_version(proto::GetVersionRequest::from(client)))
    }

    /// Every interface.
    pub async fn list_interfaces(&self) -> Result<Vec<Interface>> {
        call_into!(self.list_interfaces(proto::ListInterfacesRequest {}))
    }

    /// One interface.
    pub async fn get_interface(
        &self,
        interface_id: &(impl AsRef<[u8]> + ?Sized),
    ) -> Result<Interface> {
        call_into!(self.get_interface(proto::GetInterfaceRequest {
            interface_id: bytes(interface_id),
        }))
    }

    /// Creates an interface; its underlay and VF name.
    pub async fn create_interface(&self, iface: &CreateInterface) -> Result<CreatedInterface> {
        call_into!(self.create_interface(proto::CreateInterfaceRequest::from(iface)))
    }

    /// Deletes an interface.
    pub async fn delete_interface(&self, interface_id: &(impl AsRef<[u8]> + ?Sized)) -> Result<()> {
        call_unit!(self.delete_interface(proto::DeleteInterfaceRequest {
            interface_id: bytes(interface_id),
        }))
    }

    /// The alias prefixes of an interface.
    pub async fn list_prefixes(
        &self,
        interface_id: &(impl AsRef<[u8]> + ?Sized),
    ) -> Result<Vec<PrefixEntry>> {
        call_into!(self.list_prefixes(proto::ListPrefixesRequest {
            interface_id: bytes(interface_id),
        }))
    }

    /// Adds an alias prefix; its underlay.
    pub async fn create_prefix(&self, prefix: &CreatePrefix) -> Result<Ipv6Addr> {
        call_into!(self.create_prefix(proto::CreatePrefixRequest::from(prefix)))
    }

    /// Removes an alias prefix.
    pub async fn delete_prefix(&self, prefix: &PrefixRef) -> Result<()> {
        call_unit!(self.delete_prefix(proto::DeletePrefixRequest::from(prefix)))
    }

    /// The load-balancer target prefixes of an interface.
    pub async fn list_load_balancer_prefixes(
        &self,
        interface_id: &(impl AsRef<[u8]> + ?Sized),
    ) -> Result<Vec<PrefixEntry>> {
        call_into!(
            self.list_load_balancer_prefixes(proto::ListLoadBalancerPrefixesRequest {
                interface_id: bytes(interface_id),
            })
        )
    }

    /// Adds a load-balancer target prefix; its underlay.
    pub async fn create_load_balancer_prefix(&self, prefix: &CreateLbPrefix) -> Result<Ipv6Addr> {
        call_into!(
            self.create_load_balancer_prefix(proto::CreateLoadBalancerPrefixRequest::from(prefix))
        )
    }

    /// Removes a load-balancer target prefix.
    pub async fn delete_load_balancer_prefix(&self, prefix: &LbPrefixRef) -> Result<()> {
        call_unit!(
            self.delete_load_balancer_prefix(proto::DeleteLoadBalancerPrefixRequest::from(prefix))
        )
    }

    /// Gives an interface a VIP; its underlay.
    pub async fn create_vip(&self, vip: &CreateVip) -> Result<Ipv6Addr> {
        call_into!(self.create_vip(proto::CreateVipRequest::from(vip)))
    }

    /// An interface's VIP.
    pub async fn get_vip(&self, interface_id: &(impl AsRef<[u8]> + ?Sized)) -> Result<Vip> {
        call_into!(self.get_vip(proto::GetVipRequest {
            interface_id: bytes(interface_id),
        }))
    }

    /// Removes an interface's VIP.
    pub async fn delete_vip(&self, interface_id: &(impl AsRef<[u8]> + ?Sized)) -> Result<()> {
        call_unit!(self.delete_vip(proto::DeleteVipRequest {
            interface_id: bytes(interface_id),
        }))
    }

    /// Creates a load balancer; its underlay.
    pub async fn create_load_balancer(&self, lb: &CreateLoadBalancer) -> Result<Ipv6Addr> {
        call_into!(self.create_load_balancer(proto::CreateLoadBalancerRequest::from(lb)))
    }

    /// One load balancer (the answer carries no ID; it is filled from the argument).
    pub async fn get_load_balancer(
        &self,
        loadbalancer_id: &(impl AsRef<[u8]> + ?Sized),
    ) -> Result<LoadBalancer> {
        let response = call!(self.get_load_balancer(proto::GetLoadBalancerRequest {
            loadbalancer_id: bytes(loadbalancer_id),
        }));
        let lb = LoadBalancer::try_from(response)?;
        Ok(LoadBalancer {
            id: ObjectId::from(loadbalancer_id.as_ref()),
            ..lb
        })
    }

    /// Deletes a load balancer.
    pub async fn delete_load_balancer(
        &self,
        loadbalancer_id: &(impl AsRef<[u8]> + ?Sized),
    ) -> Result<()> {
        call_unit!(self.delete_load_balancer(proto::DeleteLoadBalancerRequest {
            loadbalancer_id: bytes(loadbalancer_id),
        }))
    }

    /// Every load balancer.
    pub async fn list_load_balancers(&self) -> Result<Vec<LoadBalancer>> {
        call_into!(self.list_load_balancers(proto::ListLoadBalancersRequest {}))
    }

    /// Adds a target to a load balancer.
    pub async fn create_load_balancer_target(&self, target: &LoadBalancerTarget) -> Result<()> {
        call_unit!(
            self.create_load_balancer_target(proto::CreateLoadBalancerTargetRequest::from(target))
        )
    }

    /// The targets of one load balancer, or of all (`None`).
    pub async fn list_load_balancer_targets(
        &self,
        loadbalancer_id: Option<&(impl AsRef<[u8]> + ?Sized)>,
    ) -> Result<Vec<Ipv6Addr>> {
        call_into!(
            self.list_load_balancer_targets(proto::ListLoadBalancerTargetsRequest {
                loadbalancer_id: loadbalancer_id.map(bytes).unwrap_or_default(),
            })
        )
    }

    /// Removes a target from a load balancer.
    pub async fn delete_load_balancer_target(&self, target: &LoadBalancerTarget) -> Result<()> {
        call_unit!(
            self.delete_load_balancer_target(proto::DeleteLoadBalancerTargetRequest::from(target))
        )
    }

    /// Gives an interface a NAT slice; its underlay.
    pub async fn create_nat(&self, nat: &CreateNat) -> Result<Ipv6Addr> {
        call_into!(self.create_nat(proto::CreateNatRequest::from(nat)))
    }

    /// An interface's NAT.
    pub async fn get_nat(&self, interface_id: &(impl AsRef<[u8]> + ?Sized)) -> Result<Nat> {
        call_into!(self.get_nat(proto::GetNatRequest {
            interface_id: bytes(interface_id),
        }))
    }

    /// Removes an interface's NAT.
    pub async fn delete_nat(&self, interface_id: &(impl AsRef<[u8]> + ?Sized)) -> Result<()> {
        call_unit!(self.delete_nat(proto::DeleteNatRequest {
            interface_id: bytes(interface_id),
        }))
    }

    /// Local NAT entries of one NAT IP, or of all (`None`, sent as `0.0.0.0`).
    pub async fn list_local_nats(&self, nat_ip: Option<IpAddr>) -> Result<Vec<NatEntry>> {
        call_into!(self.list_local_nats(proto::ListLocalNatsRequest::from(nat_ip)))
    }

    /// Records a neighbour's NAT range.
    pub async fn create_neighbor_nat(&self, nat: &NeighborNat) -> Result<()> {
        call_unit!(self.create_neighbor_nat(proto::CreateNeighborNatRequest::from(nat)))
    }

    /// Forgets a neighbour's NAT range.
    pub async fn delete_neighbor_nat(&self, nat: &NeighborNatKey) -> Result<()> {
        call_unit!(self.delete_neighbor_nat(proto::DeleteNeighborNatRequest::from(nat)))
    }

    /// Neighbour NAT entries of one NAT IP, or of all (`None`, sent as `0.0.0.0`).
    pub async fn list_neighbor_nats(&self, nat_ip: Option<IpAddr>) -> Result<Vec<NatEntry>> {
        call_into!(self.list_neighbor_nats(proto::ListNeighborNatsRequest::from(nat_ip)))
    }

    /// The routes of one VNI, or of all (`None`, sent as VNI 0). Each route's `vni` is
    /// the one asked for (0 for all: the answer does not say).
    pub async fn list_routes(&self, vni: Option<u32>) -> Result<Vec<Route>> {
        let response = call!(self.list_routes(proto::ListRoutesRequest::from(vni)));
        let mut routes = Vec::<Route>::try_from(response)?;
        for route in &mut routes {
            route.vni = vni.unwrap_or(0);
        }
        Ok(routes)
    }

    /// Adds a route.
    pub async fn create_route(&self, route: &Route) -> Result<()> {
        call_unit!(self.create_route(proto::CreateRouteRequest::from(route)))
    }

    /// Removes a route.
    pub async fn delete_route(&self, route: &RouteKey) -> Result<()> {
        call_unit!(self.delete_route(proto::DeleteRouteRequest::from(route)))
    }

    /// Whether the daemon has routing tables for a VNI.
    pub async fn check_vni_in_use(&self, query: &VniQuery) -> Result<bool> {
        call_into!(self.check_vni_in_use(proto::CheckVniInUseRequest::from(query)))
    }

    /// Flushes the routes of a VNI.
    pub async fn reset_vni(&self, query: &VniQuery) -> Result<()> {
        call_unit!(self.reset_vni(proto::ResetVniRequest::from(query)))
    }

    /// The firewall rules of an interface.
    pub async fn list_firewall_rules(
        &self,
        interface_id: &(impl AsRef<[u8]> + ?Sized),
    ) -> Result<Vec<FirewallRule>> {
        call_into!(self.list_firewall_rules(proto::ListFirewallRulesRequest {
            interface_id: bytes(interface_id),
        }))
    }

    /// Adds a firewall rule; the rule ID the daemon echoes (upstream's is unreliable, §13).
    pub async fn create_firewall_rule(&self, rule: &CreateFirewallRule) -> Result<ObjectId> {
        call_into!(self.create_firewall_rule(proto::CreateFirewallRuleRequest::from(rule)))
    }

    /// One firewall rule.
    pub async fn get_firewall_rule(&self, rule: &FirewallRuleRef) -> Result<FirewallRule> {
        call_into!(self.get_firewall_rule(proto::GetFirewallRuleRequest::from(rule)))
    }

    /// Removes a firewall rule.
    pub async fn delete_firewall_rule(&self, rule: &FirewallRuleRef) -> Result<()> {
        call_unit!(self.delete_firewall_rule(proto::DeleteFirewallRuleRequest::from(rule)))
    }

    /// Starts a packet capture.
    pub async fn capture_start(&self, config: &CaptureConfig) -> Result<()> {
        call_unit!(self.capture_start(proto::CaptureStartRequest::from(config)))
    }

    /// Stops the capture; the number of ports it was switched off on.
    pub async fn capture_stop(&self) -> Result<u32> {
        call_into!(self.capture_stop(proto::CaptureStopRequest {}))
    }

    /// The running capture's configuration, `None` when none runs.
    pub async fn capture_status(&self) -> Result<CaptureStatus> {
        call_into!(self.capture_status(proto::CaptureStatusRequest {}))
    }
}
