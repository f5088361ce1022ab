//! The 42 `DPDKironcore` RPCs (grpc-api.md §2, §8).
//!
//! Every handler goes through the stages of §2 in order: the initialization gate
//! (`ABORTED not initialized`, all but `Initialize`), conversion and validation of the
//! request by the shared model (`INVALID_ARGUMENT` with upstream's message), execution
//! of one [`State`] method, and the response: `status` always present, every other field
//! at its default on failure.
//!
//! The handlers never touch the tables themselves. Changes go to a [`StateExecutor`]
//! (the worker), which runs them one at a time in arrival order; Get/List calls read
//! the shared state off the worker and build their response after letting it go.

use std::future::Future;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, Ordering};

use dpservice::model::{
    CaptureConfig, ClientVersion, CreateFirewallRule, CreateInterface, CreateLbPrefix,
    CreateLoadBalancer, CreateNat, CreatePrefix, CreateVip, FirewallRuleRef, LbPrefixRef,
    LoadBalancerTarget, NeighborNat, NeighborNatKey, ObjectId, PrefixRef, RequestContext, Route,
    RouteKey, ServiceResponse, ServiceVersion, VniQuery,
};
use dpservice::proto::dpd_kironcore_server::DpdKironcore;
// the request/response messages; `Status` below is tonic's (the gRPC outcome)
use dpservice::proto::*;
use dpservice::status::ServiceError;
use dpservice::version::VERSION;
use tonic::{Request, Response, Status};

use crate::state::State;
use crate::worker::WorkerHandle;

/// Message of the `ABORTED` error before `Initialize` (clients match on it).
pub const NOT_INITIALIZED: &str = "not initialized";

/// Runs changes on the thread that owns the [`State`], one at a time, in the order
/// they were submitted, and reads without that thread. `None` when it is gone.
pub trait StateExecutor: Send + Sync + 'static {
    /// Runs `f` on the state's thread and resolves with its result.
    fn exec<R, F>(&self, f: F) -> impl Future<Output = Option<R>> + Send
    where
        R: Send + 'static,
        F: FnOnce(&mut State) -> R + Send + 'static;

    /// Runs `read` with the state read-locked, off the async runtime and off the
    /// state's thread, then `then` with its result once the lock is released. Sees every
    /// change whose `exec` resolved before.
    fn read<R, T, F, G>(&self, read: F, then: G) -> impl Future<Output = Option<T>> + Send
    where
        R: Send + 'static,
        T: Send + 'static,
        F: FnOnce(&State) -> R + Send + 'static,
        G: FnOnce(R) -> T + Send + 'static;
}

/// The worker applies the changes; readers use its shared state.
impl StateExecutor for WorkerHandle {
    async fn exec<R, F>(&self, f: F) -> Option<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut State) -> R + Send + 'static,
    {
        WorkerHandle::write(self, f).await.ok()
    }

    async fn read<R, T, F, G>(&self, read: F, then: G) -> Option<T>
    where
        R: Send + 'static,
        T: Send + 'static,
        F: FnOnce(&State) -> R + Send + 'static,
        G: FnOnce(R) -> T + Send + 'static,
    {
        WorkerHandle::read(self, read, then).await.ok()
    }
}

/// The `DPDKironcore` service.
#[derive(Debug)]
pub struct DpService<E> {
    executor: E,
    ctx: RequestContext,
    uuid: String,
    initialized: AtomicBool,
}

impl<E: StateExecutor> DpService<E> {
    /// A service over `executor` for a daemon whose underlay address (`--ipv6`) is
    /// `host_underlay`, with a fresh process UUID.
    pub fn new(executor: E, host_underlay: Ipv6Addr) -> DpService<E> {
        DpService {
            executor,
            ctx: RequestContext::new(host_underlay),
            uuid: new_uuid(),
            initialized: AtomicBool::new(false),
        }
    }

    /// The per-process UUID that CheckInitialized/Initialize report.
    pub fn uuid(&self) -> &str {
        &self.uuid
    }

    /// Stage 1 of §2.
    fn gate(&self) -> Result<(), Status> {
        if self.initialized.load(Ordering::Acquire) {
            Ok(())
        } else {
            Err(Status::aborted(NOT_INITIALIZED))
        }
    }

    /// Stage 3 of §2 for a Get/List call: `f` reads the state, `then` builds the
    /// response from its copy.
    async fn read<R, T, F, G>(&self, f: F, then: G) -> Result<T, Status>
    where
        R: Send + 'static,
        T: Send + 'static,
        F: FnOnce(&State) -> R + Send + 'static,
        G: FnOnce(R) -> T + Send + 'static,
    {
        self.executor
            .read(f, then)
            .await
            .ok_or_else(|| Status::internal("the dataplane worker is not running"))
    }

    /// Stage 3 of §2: runs `f` on the worker.
    async fn run<R, F>(&self, f: F) -> Result<R, Status>
    where
        R: Send + 'static,
        F: FnOnce(&mut State) -> R + Send + 'static,
    {
        self.executor
            .exec(f)
            .await
            .ok_or_else(|| Status::internal("the dataplane worker is not running"))
    }
}

/// Upstream prints the UUID in upper case (`8-4-4-4-12`).
fn new_uuid() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string().to_uppercase()
}

/// The response for a call whose success carries a value.
fn respond<T, R: ServiceResponse + From<T>>(result: Result<T, ServiceError>) -> R {
    match result {
        Ok(value) => R::from(value),
        Err(err) => R::failure(err),
    }
}

/// Gate, convert the request to `$model`, run `$body` with the state and the request on
/// the worker, and answer with the value (`value`) or only the status (`status`).
macro_rules! handle {
    (
        read $svc:ident, $request:ident as $model:ty,
        |$state:ident, $req:ident| $kind:ident $body:expr
    ) => {{
        $svc.gate()?;
        let $req: $model = $svc.ctx.parse($request.into_inner())?;
        let response = $svc
            .read(move |$state: &State| $body, |result| handle!(@$kind result))
            .await?;
        Ok(Response::new(response))
    }};
    (read $svc:ident, |$state:ident| $kind:ident $body:expr) => {{
        $svc.gate()?;
        let response = $svc
            .read(move |$state: &State| $body, |result| handle!(@$kind result))
            .await?;
        Ok(Response::new(response))
    }};
    (
        $svc:ident, $request:ident as $model:ty,
        |$state:ident, $req:ident| $kind:ident $body:expr
    ) => {{
        $svc.gate()?;
        let $req: $model = $svc.ctx.parse($request.into_inner())?;
        let result = $svc.run(move |$state: &mut State| $body).await?;
        Ok(Response::new(handle!(@$kind result)))
    }};
    ($svc:ident, |$state:ident| $kind:ident $body:expr) => {{
        $svc.gate()?;
        let result = $svc.run(move |$state: &mut State| $body).await?;
        Ok(Response::new(handle!(@$kind result)))
    }};
    (@value $result:ident) => {
        respond($result)
    };
    (@status $result:ident) => {
        ServiceResponse::from_result($result)
    };
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl<E: StateExecutor> DpdKironcore for DpService<E> {
    async fn check_initialized(
        &self,
        _: Request<CheckInitializedRequest>,
    ) -> Reply<CheckInitializedResponse> {
        self.gate()?;
        Ok(Response::new(self.uuid.clone().into()))
    }

    async fn initialize(&self, _: Request<InitializeRequest>) -> Reply<InitializeResponse> {
        let result = self.run(State::initialize).await?;
        if result.is_ok() {
            self.initialized.store(true, Ordering::Release);
        }
        Ok(Response::new(respond(result.map(|()| self.uuid.clone()))))
    }

    async fn get_version(&self, request: Request<GetVersionRequest>) -> Reply<GetVersionResponse> {
        self.gate()?;
        // the client's versions are only validated (upstream logs them)
        let _: ClientVersion = self.ctx.parse(request.into_inner())?;
        Ok(Response::new(
            ServiceVersion {
                service_protocol: VERSION.to_owned(),
                service_version: VERSION.to_owned(),
            }
            .into(),
        ))
    }

    async fn list_interfaces(
        &self,
        _: Request<ListInterfacesRequest>,
    ) -> Reply<ListInterfacesResponse> {
        handle!(read self, |s| value Ok(s.list_interfaces()))
    }

    async fn get_interface(
        &self,
        request: Request<GetInterfaceRequest>,
    ) -> Reply<GetInterfaceResponse> {
        handle!(read self, request as ObjectId, |s, id| value s.get_interface(&id))
    }

    async fn create_interface(
        &self,
        request: Request<CreateInterfaceRequest>,
    ) -> Reply<CreateInterfaceResponse> {
        handle!(self, request as CreateInterface, |s, req| value s.create_interface(req))
    }

    async fn delete_interface(
        &self,
        request: Request<DeleteInterfaceRequest>,
    ) -> Reply<DeleteInterfaceResponse> {
        handle!(self, request as ObjectId, |s, id| status s.delete_interface(&id))
    }

    async fn list_prefixes(
        &self,
        request: Request<ListPrefixesRequest>,
    ) -> Reply<ListPrefixesResponse> {
        handle!(read self, request as ObjectId, |s, id| value s.list_prefixes(&id))
    }

    async fn create_prefix(
        &self,
        request: Request<CreatePrefixRequest>,
    ) -> Reply<CreatePrefixResponse> {
        handle!(self, request as CreatePrefix, |s, req| value s.create_prefix(&req))
    }

    async fn delete_prefix(
        &self,
        request: Request<DeletePrefixRequest>,
    ) -> Reply<DeletePrefixResponse> {
        handle!(self, request as PrefixRef, |s, req| status s.delete_prefix(&req))
    }

    async fn list_load_balancer_prefixes(
        &self,
        request: Request<ListLoadBalancerPrefixesRequest>,
    ) -> Reply<ListLoadBalancerPrefixesResponse> {
        handle!(read self, request as ObjectId, |s, id| value s.list_lb_prefixes(&id))
    }

    async fn create_load_balancer_prefix(
        &self,
        request: Request<CreateLoadBalancerPrefixRequest>,
    ) -> Reply<CreateLoadBalancerPrefixResponse> {
        handle!(self, request as CreateLbPrefix, |s, req| value s.create_lb_prefix(&req))
    }

    async fn delete_load_balancer_prefix(
        &self,
        request: Request<DeleteLoadBalancerPrefixRequest>,
    ) -> Reply<DeleteLoadBalancerPrefixResponse> {
        handle!(self, request as LbPrefixRef, |s, req| status s.delete_lb_prefix(&req))
    }

    async fn create_vip(&self, request: Request<CreateVipRequest>) -> Reply<CreateVipResponse> {
        handle!(self, request as CreateVip, |s, req| value s.create_vip(&req))
    }

    async fn get_vip(&self, request: Request<GetVipRequest>) -> Reply<GetVipResponse> {
        handle!(read self, request as ObjectId, |s, id| value s.get_vip(&id))
    }

    async fn delete_vip(&self, request: Request<DeleteVipRequest>) -> Reply<DeleteVipResponse> {
        handle!(self, request as ObjectId, |s, id| status s.delete_vip(&id))
    }

    async fn create_load_balancer(
        &self,
        request: Request<CreateLoadBalancerRequest>,
    ) -> Reply<CreateLoadBalancerResponse> {
        handle!(self, request as CreateLoadBalancer, |s, req| value s.create_load_balancer(req))
    }

    async fn get_load_balancer(
        &self,
        request: Request<GetLoadBalancerRequest>,
    ) -> Reply<GetLoadBalancerResponse> {
        handle!(read self, request as ObjectId, |s, id| value s.get_load_balancer(&id))
    }

    async fn delete_load_balancer(
        &self,
        request: Request<DeleteLoadBalancerRequest>,
    ) -> Reply<DeleteLoadBalancerResponse> {
        handle!(self, request as ObjectId, |s, id| status s.delete_load_balancer(&id))
    }

    async fn list_load_balancers(
        &self,
        _: Request<ListLoadBalancersRequest>,
    ) -> Reply<ListLoadBalancersResponse> {
        handle!(read self, |s| value Ok(s.list_load_balancers()))
    }

    async fn create_load_balancer_target(
        &self,
        request: Request<CreateLoadBalancerTargetRequest>,
    ) -> Reply<CreateLoadBalancerTargetResponse> {
        handle!(self, request as LoadBalancerTarget, |s, req| status s.create_lb_target(&req))
    }

    async fn list_load_balancer_targets(
        &self,
        request: Request<ListLoadBalancerTargetsRequest>,
    ) -> Reply<ListLoadBalancerTargetsResponse> {
        handle!(read self, request as Option<ObjectId>, |s, id| value s.list_lb_targets(id.as_ref().map(ObjectId::as_bytes)))
    }

    async fn delete_load_balancer_target(
        &self,
        request: Request<DeleteLoadBalancerTargetRequest>,
    ) -> Reply<DeleteLoadBalancerTargetResponse> {
        handle!(self, request as LoadBalancerTarget, |s, req| status s.delete_lb_target(&req))
    }

    async fn create_nat(&self, request: Request<CreateNatRequest>) -> Reply<CreateNatResponse> {
        handle!(self, request as CreateNat, |s, req| value s.create_nat(&req))
    }

    async fn get_nat(&self, request: Request<GetNatRequest>) -> Reply<GetNatResponse> {
        handle!(read self, request as ObjectId, |s, id| value s.get_nat(&id))
    }

    async fn delete_nat(&self, request: Request<DeleteNatRequest>) -> Reply<DeleteNatResponse> {
        handle!(self, request as ObjectId, |s, id| status s.delete_nat(&id))
    }

    async fn list_local_nats(
        &self,
        request: Request<ListLocalNatsRequest>,
    ) -> Reply<ListLocalNatsResponse> {
        handle!(read self, request as Option<IpAddr>, |s, filter| value s.list_local_nats(filter))
    }

    async fn create_neighbor_nat(
        &self,
        request: Request<CreateNeighborNatRequest>,
    ) -> Reply<CreateNeighborNatResponse> {
        handle!(self, request as NeighborNat, |s, req| status s.create_neighbor_nat(&req))
    }

    async fn delete_neighbor_nat(
        &self,
        request: Request<DeleteNeighborNatRequest>,
    ) -> Reply<DeleteNeighborNatResponse> {
        handle!(self, request as NeighborNatKey, |s, req| status s.delete_neighbor_nat(&req))
    }

    async fn list_neighbor_nats(
        &self,
        request: Request<ListNeighborNatsRequest>,
    ) -> Reply<ListNeighborNatsResponse> {
        handle!(read self, request as Option<IpAddr>, |s, f| value s.list_neighbor_nats(f))
    }

    async fn list_routes(&self, request: Request<ListRoutesRequest>) -> Reply<ListRoutesResponse> {
        handle!(read self, request as Option<u32>, |s, vni| value s.list_routes(vni))
    }

    async fn create_route(
        &self,
        request: Request<CreateRouteRequest>,
    ) -> Reply<CreateRouteResponse> {
        handle!(self, request as Route, |s, req| status s.create_route(&req))
    }

    async fn delete_route(
        &self,
        request: Request<DeleteRouteRequest>,
    ) -> Reply<DeleteRouteResponse> {
        handle!(self, request as RouteKey, |s, req| status s.delete_route(&req))
    }

    async fn check_vni_in_use(
        &self,
        request: Request<CheckVniInUseRequest>,
    ) -> Reply<CheckVniInUseResponse> {
        handle!(read self, request as VniQuery, |s, query| value s.check_vni_in_use(query))
    }

    async fn reset_vni(&self, request: Request<ResetVniRequest>) -> Reply<ResetVniResponse> {
        handle!(self, request as VniQuery, |s, query| status s.reset_vni(query))
    }

    async fn list_firewall_rules(
        &self,
        request: Request<ListFirewallRulesRequest>,
    ) -> Reply<ListFirewallRulesResponse> {
        handle!(read self, request as ObjectId, |s, id| value s.list_firewall_rules(&id))
    }

    async fn create_firewall_rule(
        &self,
        request: Request<CreateFirewallRuleRequest>,
    ) -> Reply<CreateFirewallRuleResponse> {
        handle!(self, request as CreateFirewallRule, |s, req| value s.create_firewall_rule(req))
    }

    async fn get_firewall_rule(
        &self,
        request: Request<GetFirewallRuleRequest>,
    ) -> Reply<GetFirewallRuleResponse> {
        handle!(read self, request as FirewallRuleRef, |s, req| value s.get_firewall_rule(&req))
    }

    async fn delete_firewall_rule(
        &self,
        request: Request<DeleteFirewallRuleRequest>,
    ) -> Reply<DeleteFirewallRuleResponse> {
        handle!(self, request as FirewallRuleRef, |s, req| status s.delete_firewall_rule(&req))
    }

    async fn capture_start(
        &self,
        request: Request<CaptureStartRequest>,
    ) -> Reply<CaptureStartResponse> {
        handle!(self, request as CaptureConfig, |s, cfg| status s.capture_start(&cfg))
    }

    async fn capture_stop(&self, _: Request<CaptureStopRequest>) -> Reply<CaptureStopResponse> {
        handle!(self, |s| value s.capture_stop())
    }

    async fn capture_status(
        &self,
        _: Request<CaptureStatusRequest>,
    ) -> Reply<CaptureStatusResponse> {
        handle!(read self, |s| value Ok(s.capture_status()))
    }
}
