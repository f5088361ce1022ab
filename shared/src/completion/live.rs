//! Candidates only the running system knows: object IDs from the daemon (over gRPC,
//! with a short deadline so a TAB never hangs) and the instances that exist.

use std::time::Duration;

use super::objects::{LineContext, ObjectKind};
use crate::client::{Client, ConnectOptions, DEFAULT_ADDRESS};
use crate::model::ObjectId;

/// The longest a TAB waits for the daemon, connection included. Past it (daemon
/// absent, busy or far away) nothing is offered.
pub const DEADLINE: Duration = Duration::from_millis(200);

/// The environment variable upstream's CLI takes the default port from.
const GRPC_PORT_ENV: &str = "DP_GRPC_PORT";

/// The address the typed line would talk to: its `--address`, else the CLI's default
/// (`localhost:$DP_GRPC_PORT`, else `localhost:1337`).
pub fn address(context: &LineContext) -> String {
    if let Some(address) = &context.address {
        return address.clone();
    }
    match std::env::var(GRPC_PORT_ENV) {
        Ok(port) if !port.is_empty() => format!("localhost:{port}"),
        _ => DEFAULT_ADDRESS.to_owned(),
    }
}

/// The IDs of `kind` the daemon has, sorted; empty when it cannot answer in time.
pub fn object_ids(kind: ObjectKind, context: &LineContext) -> Vec<String> {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return Vec::new();
    };
    let address = address(context);
    let mut ids = runtime
        .block_on(async {
            tokio::time::timeout(DEADLINE, fetch(kind, &address, context))
                .await
                .ok()
                .flatten()
        })
        .unwrap_or_default();
    ids.sort();
    ids.dedup();
    ids
}

async fn fetch(kind: ObjectKind, address: &str, context: &LineContext) -> Option<Vec<String>> {
    let opts = ConnectOptions {
        connect_timeout: DEADLINE,
        wait_for_ready: false,
        call_timeout: Some(DEADLINE),
    };
    let client = Client::connect(address, &opts).await.ok()?;
    let ids = match kind {
        ObjectKind::Interface => client
            .list_interfaces()
            .await
            .ok()?
            .into_iter()
            .filter_map(|i| shell_word(i.id))
            .collect(),
        ObjectKind::LoadBalancer => client
            .list_load_balancers()
            .await
            .ok()?
            .into_iter()
            .filter_map(|lb| shell_word(lb.id))
            .collect(),
        ObjectKind::FirewallRule => {
            let interface = context.interface_id.as_deref()?;
            client
                .list_firewall_rules(interface)
                .await
                .ok()?
                .into_iter()
                .filter_map(|rule| shell_word(rule.id))
                .collect()
        }
    };
    Some(ids)
}

/// An id as a completion candidate: ids are byte strings, and one that is not UTF-8
/// cannot be offered on a shell line, so it is left out.
fn shell_word(id: ObjectId) -> Option<String> {
    String::from_utf8(id.into_bytes()).ok()
}

/// The file prefixes of the instances whose shared-memory region exists, sorted.
pub fn running_instances() -> Vec<String> {
    let Ok(template) =
        crate::instance::Instance::new(crate::instance::DEFAULT_FILE_PREFIX).map(|i| i.shm_path())
    else {
        return Vec::new();
    };
    let (Some(dir), Some(name)) = (template.parent(), template.file_name()) else {
        return Vec::new();
    };
    let name = name.to_string_lossy();
    let Some(stem) = name.strip_suffix(crate::instance::DEFAULT_FILE_PREFIX) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut prefixes: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_prefix(stem)
                .map(str::to_owned)
        })
        .filter(|p| !p.is_empty())
        .collect();
    prefixes.sort();
    prefixes
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn the_typed_address_wins() {
        let context = LineContext {
            address: Some("10.1.1.1:1400".into()),
            interface_id: None,
        };
        assert_eq!(address(&context), "10.1.1.1:1400");
    }

    #[test]
    fn an_absent_daemon_gives_nothing_within_the_deadline() {
        // A port nothing listens on: bind one, learn its number, close it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let context = LineContext {
            address: Some(format!("127.0.0.1:{port}")),
            interface_id: None,
        };
        let start = std::time::Instant::now();
        assert!(object_ids(ObjectKind::Interface, &context).is_empty());
        // the bound leaves room for a loaded CI machine; without the deadline a TAB would
        // hang for the client's default connect timeout
        assert!(start.elapsed() < DEADLINE * 5, "{:?}", start.elapsed());
    }

    #[test]
    fn a_daemon_that_never_answers_is_given_up_after_the_deadline() {
        // The kernel completes the TCP handshake for the backlog; nobody ever speaks.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let context = LineContext {
            address: Some(silent.local_addr().unwrap().to_string()),
            interface_id: None,
        };
        let start = std::time::Instant::now();
        assert!(object_ids(ObjectKind::LoadBalancer, &context).is_empty());
        let took = start.elapsed();
        assert!(took >= DEADLINE && took < DEADLINE * 5, "{took:?}");
    }
}
