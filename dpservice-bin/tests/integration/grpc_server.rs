//! The gRPC server bring-up: dual-stack listener, health, reflection.

use std::net::SocketAddr;
use std::time::Duration;

use dpservice::proto::health::v1::health_check_response::ServingStatus;
use dpservice::proto::health::v1::health_client::HealthClient;
use dpservice::proto::health::v1::HealthCheckRequest;
use dpservice::proto::SERVICE_NAME;
use rustix::process::Signal;
use tokio_stream::StreamExt;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::ServerReflectionRequest;

use crate::support::Daemon;

fn req(service: &str) -> HealthCheckRequest {
    HealthCheckRequest {
        service: service.to_owned(),
    }
}

#[tokio::test]
async fn listens_on_ipv6_and_ipv4_loopback() {
    let d = Daemon::start();
    for addr in [
        SocketAddr::from(([127, 0, 0, 1], d.grpc_port())),
        SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, d.grpc_port())),
    ] {
        let channel = d
            .try_channel(addr)
            .await
            .unwrap_or_else(|e| panic!("{addr}: {e}"));
        let r = HealthClient::new(channel).check(req("")).await.unwrap();
        assert_eq!(r.into_inner().status(), ServingStatus::Serving, "{addr}");
    }
}

#[tokio::test]
async fn health_check_answers_like_upstream() {
    let d = Daemon::start();
    let mut health = d.health_client().await;
    for name in ["", SERVICE_NAME] {
        let r = health.check(req(name)).await.unwrap().into_inner();
        assert_eq!(r.status(), ServingStatus::Serving, "{name:?}");
    }
    let r = health
        .check(req("grpc.health.v1.Health"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.status(), ServingStatus::ServiceUnknown);
    let e = health.watch(req("unknown.Service")).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound);
    assert_eq!(e.message(), "Service not found");
}

#[tokio::test]
async fn health_watch_sees_not_serving_at_shutdown() {
    let mut d = Daemon::start();
    let mut health = d.health_client().await;
    let mut stream = health.watch(req("")).await.unwrap().into_inner();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.status(), ServingStatus::Serving);
    d.signal(Signal::TERM);
    let next = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("a status change within 5 s")
        .expect("a message")
        .expect("not an error");
    assert_eq!(next.status(), ServingStatus::NotServing);
    let end = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .unwrap();
    assert!(
        end.is_none() || end.is_some_and(|r| r.is_err()),
        "the stream ends"
    );
    let status = d.wait_exit(Duration::from_secs(5));
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{}", d.logs());
}

#[tokio::test]
async fn reflection_lists_the_services() {
    let d = Daemon::start();
    let mut client = ServerReflectionClient::new(d.channel().await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.next().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected {response:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(names.iter().any(|n| n == SERVICE_NAME), "{names:?}");
    assert!(
        names.iter().any(|n| n == "grpc.health.v1.Health"),
        "{names:?}"
    );

    // and describes a method of the dpservice API
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::FileContainingSymbol(format!(
            "{SERVICE_NAME}.CreateInterface"
        ))),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.next().await.unwrap().unwrap();
    assert!(
        matches!(response.message_response, Some(MessageResponse::FileDescriptorResponse(ref f)) if !f.file_descriptor_proto.is_empty()),
        "{response:?}"
    );
}
