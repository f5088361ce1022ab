//! `grpc.health.v1.Health`, written out to match upstream exactly (grpc-api.md §11):
//! known names are `""` and the dpservice service; `Check` on any other name answers
//! `SERVICE_UNKNOWN` (not gRPC `NOT_FOUND`, as `tonic-health` would), `Watch` on one
//! fails with `NOT_FOUND` "Service not found". The status is SERVING while the server
//! runs and NOT_SERVING once shutdown starts, independent of Initialize and HA role.

use std::sync::Arc;

use dpservice::proto::health::v1::health_check_response::ServingStatus;
use dpservice::proto::health::v1::health_server::Health;
use dpservice::proto::health::v1::{HealthCheckRequest, HealthCheckResponse};
use dpservice::proto::SERVICE_NAME;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

/// Sets the status every health client sees.
#[derive(Debug, Clone)]
pub struct HealthReporter {
    status: Arc<watch::Sender<ServingStatus>>,
}

impl Default for HealthReporter {
    fn default() -> Self {
        HealthReporter::new()
    }
}

impl HealthReporter {
    /// Starts SERVING: the service exists only once the server listens.
    pub fn new() -> HealthReporter {
        HealthReporter {
            status: Arc::new(watch::Sender::new(ServingStatus::Serving)),
        }
    }

    /// Switches between SERVING and NOT_SERVING; watchers hear only real changes.
    pub fn set_serving(&self, serving: bool) {
        let new = if serving {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        self.status.send_if_modified(|s| {
            let changed = *s != new;
            *s = new;
            changed
        });
    }

    /// The current status.
    pub fn status(&self) -> ServingStatus {
        *self.status.borrow()
    }

    /// The service to register with the server.
    pub fn service(&self) -> HealthService {
        HealthService {
            reporter: self.clone(),
        }
    }
}

/// The `Health` implementation.
#[derive(Debug, Clone)]
pub struct HealthService {
    reporter: HealthReporter,
}

fn is_known(service: &str) -> bool {
    service.is_empty() || service == SERVICE_NAME
}

fn response(status: ServingStatus) -> HealthCheckResponse {
    HealthCheckResponse {
        status: status.into(),
    }
}

#[tonic::async_trait]
impl Health for HealthService {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        let status = if is_known(&request.get_ref().service) {
            self.reporter.status()
        } else {
            ServingStatus::ServiceUnknown
        };
        Ok(Response::new(response(status)))
    }

    type WatchStream = ReceiverStream<Result<HealthCheckResponse, Status>>;

    async fn watch(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        if !is_known(&request.get_ref().service) {
            return Err(Status::not_found("Service not found"));
        }
        let mut status = self.reporter.status.subscribe();
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(async move {
            let mut current = *status.borrow_and_update();
            loop {
                if tx.send(Ok(response(current))).await.is_err() {
                    return; // client gone
                }
                // NOT_SERVING only comes with shutdown: end the stream so the server
                // can finish its graceful shutdown
                if current == ServingStatus::NotServing {
                    return;
                }
                tokio::select! {
                    changed = status.changed() => if changed.is_err() { return },
                    () = tx.closed() => return,
                }
                current = *status.borrow_and_update();
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use tokio_stream::StreamExt;

    use super::*;

    fn req(service: &str) -> Request<HealthCheckRequest> {
        Request::new(HealthCheckRequest {
            service: service.to_owned(),
        })
    }

    #[tokio::test]
    async fn check_known_and_unknown_names() {
        let reporter = HealthReporter::new();
        let svc = reporter.service();
        for name in ["", SERVICE_NAME] {
            let r = svc.check(req(name)).await.unwrap().into_inner();
            assert_eq!(r.status(), ServingStatus::Serving, "{name:?}");
        }
        let r = svc
            .check(req("grpc.other.v1.X"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(r.status(), ServingStatus::ServiceUnknown);
        reporter.set_serving(false);
        let r = svc.check(req("")).await.unwrap().into_inner();
        assert_eq!(r.status(), ServingStatus::NotServing);
        let r = svc.check(req("nope")).await.unwrap().into_inner();
        assert_eq!(r.status(), ServingStatus::ServiceUnknown);
    }

    #[tokio::test]
    async fn watch_reports_current_then_changes_then_ends() {
        let reporter = HealthReporter::new();
        let svc = reporter.service();
        let err = svc.watch(req("nope")).await.unwrap_err();
        assert_eq!(err.code(), tonic::Code::NotFound);
        assert_eq!(err.message(), "Service not found");

        let mut stream = svc.watch(req(SERVICE_NAME)).await.unwrap().into_inner();
        let first = stream.next().await.unwrap().unwrap();
        assert_eq!(first.status(), ServingStatus::Serving);
        reporter.set_serving(true); // no change, no message
        reporter.set_serving(false);
        let second = stream.next().await.unwrap().unwrap();
        assert_eq!(second.status(), ServingStatus::NotServing);
        assert!(stream.next().await.is_none(), "stream ends at shutdown");
    }
}
