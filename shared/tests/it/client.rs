//! The client against an in-process tonic server on loopback: typed results, and each
//! error source (transport, gRPC, service, malformed response) kept apart.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use dpservice::client::{Client, ClientError, ConnectOptions};
use dpservice::model::{ClientVersion, CreateInterface, Metering};
use dpservice::status::ServiceError;
use tokio::net::TcpListener;
use tonic::Code;

use crate::fake_daemon::{interface, start};

fn fast() -> ConnectOptions {
    ConnectOptions {
        connect_timeout: Duration::from_secs(2),
        wait_for_ready: false,
        call_timeout: Some(Duration::from_secs(5)),
    }
}

/// A loopback port nothing listens on (bound, then released).
async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

#[tokio::test]
async fn typed_results() {
    let daemon = start("127.0.0.1:0").await;
    let client = Client::connect(&daemon.addr.to_string(), &fast())
        .await
        .unwrap();
    assert_eq!(client.initialize().await.unwrap().len(), 36);
    let version = client
        .get_version(&ClientVersion {
            client_protocol: "v0.3.17".into(),
            client_name: "test".into(),
            client_version: "1".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        (
            version.service_protocol.as_str(),
            version.service_version.as_str()
        ),
        ("v0.3.17", "for test")
    );
    let ids: Vec<_> = client
        .list_interfaces()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids, ["vm1", "vm2"]);
    assert_eq!(client.get_interface("vm1").await.unwrap(), interface("vm1"));
    client.delete_interface("vm1").await.unwrap();
    // The client fills in what the wire does not carry.
    let routes = client.list_routes(Some(41)).await.unwrap();
    assert_eq!((routes[0].vni, routes[0].nexthop_vni), (41, 42));
    let routes = client.list_routes(None).await.unwrap();
    assert_eq!((routes[0].vni, routes[0].nexthop_vni), (0, 1));
    let lb = client.get_load_balancer("lb-7").await.unwrap();
    assert_eq!((lb.id.as_str(), lb.vni), (Some("lb-7"), 9));
    assert_eq!(client.capture_status().await.unwrap(), None);

    let create = CreateInterface {
        id: "vm3".into(),
        vni: 1,
        ipv4: Some(Ipv4Addr::new(10, 0, 0, 3)),
        ipv6: None,
        pxe: None,
        device: "net_tap4".into(),
        metering: Metering::default(),
        preferred_underlay: Some("fc00:1::8000:0:3".parse().unwrap()),
        hostname: None,
    };
    let created = client.create_interface(&create).await.unwrap();
    assert_eq!(created.underlay_route, create.preferred_underlay.unwrap());
    assert_eq!(created.vf_name, "tap-vm3");
    daemon.stop.send(()).unwrap();
    daemon.task.await.unwrap();
}

#[tokio::test]
async fn grpc_errors_keep_code_and_message() {
    let daemon = start("127.0.0.1:0").await;
    let client = Client::connect(&daemon.addr.to_string(), &fast())
        .await
        .unwrap();
    match client.check_initialized().await {
        Err(ClientError::Grpc { code, message }) => {
            assert_eq!((code, message.as_str()), (Code::Aborted, "not initialized"))
        }
        other => panic!("expected a gRPC error, got {other:?}"),
    }
    // The fake validates with the model's conversions: the §9 text arrives verbatim.
    let err = client.get_interface("").await.unwrap_err();
    assert_eq!(err.to_string(), "gRPC error #3: Invalid interface_id");
    let other_host = CreateInterface {
        id: "vm3".into(),
        vni: 1,
        ipv4: Some(Ipv4Addr::new(10, 0, 0, 3)),
        ipv6: None,
        pxe: None,
        device: "net_tap4".into(),
        metering: Metering::default(),
        preferred_underlay: Some("fc00:2::8000:0:3".parse().unwrap()),
        hostname: None,
    };
    let err = client.create_interface(&other_host).await.unwrap_err();
    assert!(
        matches!(err, ClientError::Grpc { code: Code::InvalidArgument, ref message }
            if message == "Invalid preferred_underlay_route"),
        "{err:?}"
    );
    let err = client.delete_nat("vm1").await.unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Grpc {
                code: Code::Unimplemented,
                ..
            }
        ),
        "{err:?}"
    );
    daemon.stop.send(()).unwrap();
}

#[tokio::test]
async fn service_and_response_errors() {
    let daemon = start("127.0.0.1:0").await;
    let client = Client::connect(&daemon.addr.to_string(), &fast())
        .await
        .unwrap();
    let err = client.get_interface("nope").await.unwrap_err();
    assert!(
        matches!(err, ClientError::Service { code: 201, ref name } if name == "NOT_FOUND"),
        "{err:?}"
    );
    assert_eq!(err.service_error(), Some(ServiceError::NotFound));
    assert_eq!(err.to_string(), "Service error #201: NOT_FOUND");
    let err = client.delete_interface("nope").await.unwrap_err();
    assert_eq!(err.service_error(), Some(ServiceError::NotFound));
    // A code the table does not know keeps the daemon's message.
    let vip = dpservice::model::CreateVip {
        interface_id: "vm1".into(),
        ip: IpAddr::from([1, 2, 3, 4]),
        preferred_underlay: None,
    };
    let err = client.create_vip(&vip).await.unwrap_err();
    assert!(
        matches!(err, ClientError::Service { code: 999, ref name } if name == "FUTURE_CODE"),
        "{err:?}"
    );
    assert_eq!(err.service_error(), None);
    match client.get_vip("vm1").await {
        Err(ClientError::Response(e)) => assert_eq!(e.field, "status"),
        other => panic!("expected a response error, got {other:?}"),
    }
    match client.get_nat("vm1").await {
        Err(ClientError::Response(e)) => assert_eq!(e.field, "GetNatResponse.nat_ip"),
        other => panic!("expected a response error, got {other:?}"),
    }
    daemon.stop.send(()).unwrap();
}

#[tokio::test]
async fn call_deadline_is_a_grpc_error() {
    let daemon = start("127.0.0.1:0").await;
    let opts = ConnectOptions {
        call_timeout: Some(Duration::from_millis(200)),
        ..fast()
    };
    let client = Client::connect(&daemon.addr.to_string(), &opts)
        .await
        .unwrap();
    let started = Instant::now();
    let err = client.capture_stop().await.unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Grpc {
                code: Code::DeadlineExceeded,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    daemon.stop.send(()).unwrap();
}

#[tokio::test]
async fn address_forms() {
    let v4 = start("127.0.0.1:0").await;
    let port = v4.addr.port();
    for address in [
        format!("127.0.0.1:{port}"),
        format!("http://127.0.0.1:{port}"),
        format!("localhost:{port}"),
    ] {
        let client = Client::connect(&address, &fast()).await.unwrap();
        assert_eq!(client.address(), address);
        assert_eq!(client.get_interface("vm1").await.unwrap().id, "vm1");
    }
    let v6 = start("[::1]:0").await;
    let client = Client::connect(&format!("[::1]:{}", v6.addr.port()), &fast())
        .await
        .unwrap();
    assert_eq!(client.list_interfaces().await.unwrap().len(), 2);
    for bad in ["localhost", "https://localhost:1337", "[::1]"] {
        let err = Client::connect(bad, &fast()).await.unwrap_err();
        assert!(matches!(err, ClientError::Address { .. }), "{bad}: {err:?}");
    }
    v4.stop.send(()).unwrap();
    v6.stop.send(()).unwrap();
}

#[tokio::test]
async fn refused_connection_is_a_transport_error() {
    let addr = closed_port().await.to_string();
    let started = Instant::now();
    let err = Client::connect(&addr, &fast()).await.unwrap_err();
    match &err {
        ClientError::Transport {
            address,
            timed_out,
            message,
        } => {
            assert_eq!((address, *timed_out), (&addr, false));
            assert!(message.contains("refused"), "{message}");
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "no retry without wait_for_ready"
    );

    // Waiting for the daemon gives up at the connect timeout.
    let opts = ConnectOptions {
        connect_timeout: Duration::from_millis(300),
        wait_for_ready: true,
        ..fast()
    };
    let started = Instant::now();
    let err = Client::connect(&addr, &opts).await.unwrap_err();
    assert!(
        matches!(err, ClientError::Transport { timed_out: true, ref message, .. } if message.contains("refused")),
        "{err:?}"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
}

#[tokio::test]
async fn waiting_reaches_a_daemon_that_starts_late() {
    let addr = closed_port().await;
    let opts = ConnectOptions {
        connect_timeout: Duration::from_secs(5),
        wait_for_ready: true,
        ..fast()
    };
    let late = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        start(&addr.to_string()).await
    });
    let client = Client::connect(&addr.to_string(), &opts).await.unwrap();
    assert_eq!(client.get_interface("vm1").await.unwrap().id, "vm1");
    late.await.unwrap().stop.send(()).unwrap();
}

#[tokio::test]
async fn broken_connection_is_a_transport_error() {
    let daemon = start("127.0.0.1:0").await;
    let address = daemon.addr.to_string();
    let client = Client::connect(&address, &fast()).await.unwrap();
    client.get_interface("vm1").await.unwrap();
    daemon.stop.send(()).unwrap();
    daemon.task.await.unwrap();
    let err = client.get_interface("vm1").await.unwrap_err();
    assert!(
        matches!(err, ClientError::Transport { address: ref a, timed_out: false, .. } if *a == address),
        "{err:?}"
    );
}
