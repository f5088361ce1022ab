//! Baseline for the CLI start-up benchmark: the least a Rust gRPC client must do for
//! `get version` (runtime, connect, one call, print), with no argument parsing, no
//! rendering. Usage: `bare_client <host:port>`.

use dpservice::proto;
use dpservice::proto::dpd_kironcore_client::DpdKironcoreClient;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let address = std::env::args()
        .nth(1)
        .ok_or("usage: bare_client <host:port>")?;
    let mut client = DpdKironcoreClient::connect(format!("http://{address}")).await?;
    let reply = client
        .get_version(proto::GetVersionRequest::default())
        .await?
        .into_inner();
    println!("{}", reply.service_version);
    Ok(())
}
