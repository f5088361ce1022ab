//! Every RPC of the `DPDKironcore` service, for the servers that implement all of them:
//! the tests' scripted fake and the CLI start-up benchmark's server, which includes this
//! file by path (`examples/bench_server.rs`) so that test support stays out of the library.

/// Calls `$then!` with every RPC as `method: Request => Response;`, `get_version` first
/// (the benchmark's server answers that one and no other).
macro_rules! with_every_rpc {
    ($then:ident) => {
        $then! {
            get_version: GetVersionRequest => GetVersionResponse;
            check_initialized: CheckInitializedRequest => CheckInitializedResponse;
            initialize: InitializeRequest => InitializeResponse;
            list_interfaces: ListInterfacesRequest => ListInterfacesResponse;
            get_interface: GetInterfaceRequest => GetInterfaceResponse;
            create_interface: CreateInterfaceRequest => CreateInterfaceResponse;
            delete_interface: DeleteInterfaceRequest => DeleteInterfaceResponse;
            list_prefixes: ListPrefixesRequest => ListPrefixesResponse;
            create_prefix: CreatePrefixRequest => CreatePrefixResponse;
            delete_prefix: DeletePrefixRequest => DeletePrefixResponse;
            list_load_balancer_prefixes: ListLoadBalancerPrefixesRequest => ListLoadBalancerPrefixesResponse;
            create_load_balancer_prefix: CreateLoadBalancerPrefixRequest => CreateLoadBalancerPrefixResponse;
            delete_load_balancer_prefix: DeleteLoadBalancerPrefixRequest => DeleteLoadBalancerPrefixResponse;
            create_vip: CreateVipRequest => CreateVipResponse;
            get_vip: GetVipRequest => GetVipResponse;
            delete_vip: DeleteVipRequest => DeleteVipResponse;
            create_load_balancer: CreateLoadBalancerRequest => CreateLoadBalancerResponse;
            get_load_balancer: GetLoadBalancerRequest => GetLoadBalancerResponse;
            delete_load_balancer: DeleteLoadBalancerRequest => DeleteLoadBalancerResponse;
            list_load_balancers: ListLoadBalancersRequest => ListLoadBalancersResponse;
            create_load_balancer_target: CreateLoadBalancerTargetRequest => CreateLoadBalancerTargetResponse;
            list_load_balancer_targets: ListLoadBalancerTargetsRequest => ListLoadBalancerTargetsResponse;
            delete_load_balancer_target: DeleteLoadBalancerTargetRequest => DeleteLoadBalancerTargetResponse;
            create_nat: CreateNatRequest => CreateNatResponse;
            get_nat: GetNatRequest => GetNatResponse;
            delete_nat: DeleteNatRequest => DeleteNatResponse;
            list_local_nats: ListLocalNatsRequest => ListLocalNatsResponse;
            create_neighbor_nat: CreateNeighborNatRequest => CreateNeighborNatResponse;
            delete_neighbor_nat: DeleteNeighborNatRequest => DeleteNeighborNatResponse;
            list_neighbor_nats: ListNeighborNatsRequest => ListNeighborNatsResponse;
            list_routes: ListRoutesRequest => ListRoutesResponse;
            create_route: CreateRouteRequest => CreateRouteResponse;
            delete_route: DeleteRouteRequest => DeleteRouteResponse;
            check_vni_in_use: CheckVniInUseRequest => CheckVniInUseResponse;
            reset_vni: ResetVniRequest => ResetVniResponse;
            list_firewall_rules: ListFirewallRulesRequest => ListFirewallRulesResponse;
            create_firewall_rule: CreateFirewallRuleRequest => CreateFirewallRuleResponse;
            get_firewall_rule: GetFirewallRuleRequest => GetFirewallRuleResponse;
            delete_firewall_rule: DeleteFirewallRuleRequest => DeleteFirewallRuleResponse;
            capture_start: CaptureStartRequest => CaptureStartResponse;
            capture_stop: CaptureStopRequest => CaptureStopResponse;
            capture_status: CaptureStatusRequest => CaptureStatusResponse;
        }
    };
}
pub(crate) use with_every_rpc;
