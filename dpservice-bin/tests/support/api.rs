//! Small helpers over the dpservice API for tests.

use dpservice::proto::dpd_kironcore_client::DpdKironcoreClient;
use dpservice::proto::{CreateInterfaceRequest, GetInterfaceRequest, InitializeRequest, IpConfig};
use tonic::transport::Channel;

/// Calls `Initialize` and checks it succeeded.
pub async fn initialize(client: &mut DpdKironcoreClient<Channel>) {
    let r = client
        .initialize(InitializeRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.status.unwrap_or_default().code, 0, "Initialize");
}

/// Creates interface `id` in `vni` on `device` with the given IPv4 and IPv6 addresses;
/// returns the service status code.
pub async fn create_interface(
    client: &mut DpdKironcoreClient<Channel>,
    id: &str,
    vni: u32,
    device: &str,
    ipv4: &str,
    ipv6: &str,
) -> u32 {
    let r = client
        .create_interface(CreateInterfaceRequest {
            interface_id: id.as_bytes().to_vec(),
            vni,
            ipv4_config: Some(IpConfig {
                primary_address: ipv4.as_bytes().to_vec(),
            }),
            ipv6_config: Some(IpConfig {
                primary_address: ipv6.as_bytes().to_vec(),
            }),
            device_name: device.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    r.status.unwrap_or_default().code
}

/// `GetInterface`: (status code, vni, primary IPv4 text).
pub async fn get_interface(
    client: &mut DpdKironcoreClient<Channel>,
    id: &str,
) -> (u32, u32, String) {
    let r = client
        .get_interface(GetInterfaceRequest {
            interface_id: id.as_bytes().to_vec(),
        })
        .await
        .unwrap()
        .into_inner();
    let iface = r.interface.unwrap_or_default();
    (
        r.status.unwrap_or_default().code,
        iface.vni,
        String::from_utf8_lossy(&iface.primary_ipv4).into_owned(),
    )
}
