//! The dpservice API served by the daemon, executed on its worker thread.

use dpservice::proto::{GetVersionRequest, InitializeRequest};
use dpservice::version::{PROTOCOL_VERSION, VERSION};

use crate::support::{api, Daemon};

#[tokio::test]
async fn initialize_gate_then_interfaces() {
    let d = Daemon::start();
    let mut c = d.client().await;
    let err = c
        .get_version(GetVersionRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Aborted);
    assert_eq!(err.message(), "not initialized");
    api::initialize(&mut c).await;
    let v = c
        .get_version(GetVersionRequest {
            client_protocol: PROTOCOL_VERSION.to_owned(),
            client_name: "dpservice-bin-tests".to_owned(),
            client_version: VERSION.to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(v.service_version, VERSION);
    assert_eq!(
        api::create_interface(&mut c, "vm1", 7, "net_tap2", "10.1.0.1", "2001::7").await,
        0
    );
    assert_eq!(
        api::get_interface(&mut c, "vm1").await,
        (0, 7, "10.1.0.1".to_owned())
    );
    // the same device twice is refused by the state (a service error, not a gRPC one)
    let again = api::create_interface(&mut c, "vm2", 7, "net_tap2", "10.1.0.2", "2001::8").await;
    assert_ne!(again, 0);
    assert_eq!(
        api::create_interface(&mut c, "vm2", 7, "net_tap3", "10.1.0.2", "2001::8").await,
        0
    );
    let r = c
        .initialize(InitializeRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        r.status.unwrap_or_default().code,
        0,
        "Initialize again is fine"
    );
}
