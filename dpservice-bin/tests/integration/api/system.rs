//! The initialization gate, Initialize, CheckInitialized, GetVersion.

use dpservice::client::ClientError;
use dpservice::model::{ClientVersion, VniType};
use dpservice::version::VERSION;

use super::*;

fn aborted(r: Result<impl std::fmt::Debug, ClientError>) {
    match r {
        Err(ClientError::Grpc { code, message }) => {
            assert_eq!(code, tonic::Code::Aborted);
            assert_eq!(message, "not initialized");
        }
        other => panic!("expected ABORTED not initialized, got {other:?}"),
    }
}

fn version() -> ClientVersion {
    ClientVersion {
        client_protocol: "v0.3.16".into(),
        client_name: "integration-test".into(),
        client_version: "1".into(),
    }
}

#[test]
fn gate_then_initialize_and_reinitialize() {
    let d = daemon();
    with_client(&d, |c| async move {
        aborted(c.check_initialized().await);
        aborted(c.get_version(&version()).await);
        aborted(c.list_interfaces().await);
        aborted(c.capture_status().await);
        // the gate comes before validation: an invalid request is still ABORTED
        aborted(
            c.create_interface(&iface("bad id!", VF0, 1, "0.0.0.0", "::"))
                .await,
        );
        aborted(c.check_vni_in_use(&vni_q(1, VniType::Both)).await);

        let uuid = c.initialize().await.unwrap();
        assert_eq!(uuid.len(), 36, "{uuid}");
        assert_eq!(uuid, uuid.to_uppercase());
        assert_eq!(
            uuid.split('-').map(str::len).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert_eq!(c.check_initialized().await.unwrap(), uuid);
        let v = c.get_version(&version()).await.unwrap();
        assert_eq!(v.service_protocol, v.service_version);
        assert_eq!(v.service_version, VERSION);

        // Initialize again: accepted (as upstream), same UUID, routes wiped
        c.create_interface(&iface("vm1", VF0, 100, "10.0.0.1", "::"))
            .await
            .unwrap();
        c.create_route(&route(100, "0.0.0.0/0", "fc00:2::1"))
            .await
            .unwrap();
        c.create_neighbor_nat(&neigh("172.20.0.1", 100, 1, 2))
            .await
            .unwrap();
        assert_eq!(c.initialize().await.unwrap(), uuid);
        assert!(c.list_routes(Some(100)).await.unwrap().is_empty());
        assert!(c.list_neighbor_nats(None).await.unwrap().is_empty());
        // DNAT entries go only for VNI 0 (upstream's wildcard, dataplane.md §8.3.4): the
        // neighbour range's address stays taken in VNI 100
        fails!(c, c.create_vip(&vip("vm1", "172.20.0.1")), service DnatExists);
        // the interface and its own routes stay
        assert_eq!(c.list_interfaces().await.unwrap().len(), 1);
        fails!(c, c.create_route(&route(100, "10.0.0.1/32", "fc00:2::1")), service RouteExists);
    });
}

#[test]
fn get_version_validates_the_client_strings() {
    let d = daemon();
    with_initialized(&d, |c| async move {
        let mut v = version();
        v.client_name = String::new();
        fails!(c, c.get_version(&v), invalid "Invalid client_name");
        v.client_name = "x".repeat(64);
        fails!(c, c.get_version(&v), invalid "Invalid client_name");
        let mut v = version();
        v.client_version = String::new();
        fails!(c, c.get_version(&v), invalid "Invalid client_version");
    });
}
