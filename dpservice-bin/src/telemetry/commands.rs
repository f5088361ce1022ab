//! The command table: DPDK's built-ins (`/`, `/info`, `/help`), the `/dp_service/...`
//! commands of tools.md §3.3 (plus `/dp_service/graph/drop_count`), and the standard
//! `/eal` and `/ethdev` ones of §3.4. One request text in, one answer text out.

use std::sync::Arc;

use dpservice::shm::region::Region;
use dpservice::telemetry::request::command_of;
use dpservice::telemetry::{render_response, Greeting, Json, Request, MAX_OUTPUT_LEN};

use super::ethdev;
use super::snapshot::TelemetrySnapshot;
use crate::graph::NodeStats;
use crate::port::PortId;

/// Nodes per block of the graph commands (`Node_0_to_255`, ...).
const NODES_PER_BLOCK: usize = 256;

/// What answers need besides a snapshot: fixed at start-up.
#[derive(Debug, Clone, Default)]
pub struct Statics {
    /// The ethdev name of each port (`net_tap0`, ...).
    pub port_names: Vec<(PortId, String)>,
    /// `PROTO:IPv4:port` of every virtual service, in configuration order.
    pub virtual_services: Vec<String>,
    /// The daemon's shared-memory tables: their directory answers the saturation
    /// command without asking the worker (`None`: no region, nothing to report).
    pub tables: Option<Region>,
}

/// Gives the snapshot an answer needs (asked for only by commands that read one).
pub type SnapshotFn<'a> = &'a mut dyn FnMut() -> Arc<TelemetrySnapshot>;

type Handler = fn(&Commands, SnapshotFn<'_>, Option<&str>) -> Option<Json>;

struct Command {
    name: &'static str,
    help: &'static str,
    run: Handler,
}

/// The registered commands.
pub struct Commands {
    statics: Statics,
    /// Sorted by name.
    table: Vec<Command>,
}

impl std::fmt::Debug for Commands {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Commands")
            .field("statics", &self.statics)
            .field("names", &self.names().collect::<Vec<_>>())
            .finish()
    }
}

fn graph(snap: &TelemetrySnapshot, with_virtsvc: bool, pick: fn(&NodeStats) -> u64) -> Json {
    // the graph has a virtsvc node always; upstream's only with virtual services
    let nodes: Vec<_> = snap
        .nodes
        .iter()
        .filter(|n| with_virtsvc || n.name != "virtsvc")
        .collect();
    Json::Object(
        nodes
            .chunks(NODES_PER_BLOCK)
            .enumerate()
            .map(|(i, block)| {
                let first = i * NODES_PER_BLOCK;
                (
                    format!("Node_{first}_to_{}", first + NODES_PER_BLOCK - 1),
                    Json::object(
                        block
                            .iter()
                            .map(|n| (n.name.as_str(), Json::U64(pick(&n.stats)))),
                    ),
                )
            })
            .collect(),
    )
}

macro_rules! graph_command {
    ($name:literal, $help:literal, $pick:expr) => {
        Command {
            name: $name,
            help: $help,
            run: |c, snap, _| Some(graph(&snap(), c.has_virtsvc(), $pick)),
        }
    };
}

fn per_interface(
    snap: &TelemetrySnapshot,
    pick: fn(&super::snapshot::InterfaceSnapshot) -> u64,
) -> Json {
    Json::object(
        snap.interfaces
            .iter()
            .map(|i| (i.id.as_str(), Json::U64(pick(i)))),
    )
}

impl Commands {
    /// The commands of a daemon with these ports and virtual services.
    pub fn new(statics: Statics) -> Commands {
        let mut table = vec![
            Command {
                name: "/",
                help: "Returns list of available commands, Takes no parameters",
                run: |c, _, _| Some(Json::Array(c.names().map(Json::from).collect())),
            },
            Command {
                name: "/info",
                help: "Returns DPDK Telemetry information. Takes no parameters",
                run: |_, _, _| Some(Greeting::of_this_process().to_json()),
            },
            Command {
                name: "/help",
                help: "Returns help text for a command. Parameters: string command",
                run: |c, _, params| {
                    let cmd = c.find(params?)?;
                    Some(Json::object([(cmd.name, Json::from(cmd.help))]))
                },
            },
            graph_command!(
                "/dp_service/graph/obj_count",
                "Packets processed per graph node",
                |s| s.objs
            ),
            graph_command!(
                "/dp_service/graph/call_count",
                "Calls of each graph node",
                |s| s.calls
            ),
            graph_command!(
                "/dp_service/graph/cycle_count",
                "CPU cycles spent per graph node (sampled)",
                |s| s.cycles
            ),
            graph_command!(
                "/dp_service/graph/realloc_count",
                "Buffer reallocations per graph node",
                |_| 0
            ),
            Command {
                name: "/dp_service/graph/drop_count",
                help: "Packets dropped per drop reason",
                run: |_, snap, _| {
                    Some(Json::object(
                        snap().drops.iter().map(|&(r, n)| (r, Json::U64(n))),
                    ))
                },
            },
            Command {
                name: "/dp_service/nat/used_port_count",
                help: "NAT ports in use per VM interface",
                run: |_, snap, _| Some(per_interface(&snap(), |i| i.nat_used_ports)),
            },
            Command {
                name: "/dp_service/firewall/rule_count",
                help: "Firewall rules per VM interface",
                run: |_, snap, _| Some(per_interface(&snap(), |i| i.firewall_rules)),
            },
            Command {
                name: "/dp_service/table/saturation",
                help: "Capacity and entries of every state table",
                run: |cmds, _, _| {
                    // the directory lists the tables in registration order (tools.md §3.3)
                    let stats = cmds.statics.tables.as_ref().map(Region::stats);
                    Some(Json::object(stats.iter().flatten().map(|t| {
                        let v = Json::object([
                            ("capacity", Json::U64(t.capacity)),
                            ("entries", Json::U64(t.entries)),
                        ]);
                        (t.name.as_str(), v)
                    })))
                },
            },
            Command {
                name: "/eal/heap_list",
                help: "List of heap ids holding memory",
                run: |_, _, _| Some(ethdev::heap_list()),
            },
            Command {
                name: "/eal/heap_info",
                help: "Statistics of one heap. Parameters: int heap_id",
                run: |_, snap, params| ethdev::heap_info(&snap().heap, params),
            },
            Command {
                name: "/ethdev/list",
                help: "List of port ids",
                run: |_, snap, _| Some(ethdev::list(&snap())),
            },
            Command {
                name: "/ethdev/info",
                help: "Information about a port. Parameters: int port_id",
                run: |c, snap, params| {
                    let snap = snap();
                    let (port, _) = ethdev::port_param(&snap, params)?;
                    Some(ethdev::info(port, &c.port_name(port.id)))
                },
            },
            Command {
                name: "/ethdev/link_status",
                help: "Link status of a port. Parameters: int port_id",
                run: |_, snap, params| {
                    Some(ethdev::link_status(ethdev::port_param(&snap(), params)?.0))
                },
            },
            Command {
                name: "/ethdev/xstats",
                help: "Extended statistics of a port. Parameters: int port_id",
                run: |_, snap, params| {
                    let snap = snap();
                    let (port, rest) = ethdev::port_param(&snap, params)?;
                    Some(ethdev::xstats(port, rest))
                },
            },
            Command {
                name: "/ethdev/stats",
                help: "Basic statistics of a port. Parameters: int port_id",
                run: |_, snap, params| Some(ethdev::stats(ethdev::port_param(&snap(), params)?.0)),
            },
        ];
        if !statics.virtual_services.is_empty() {
            table.push(Command {
                name: "/dp_service/virtsvc/used_port_count",
                help: "Ports in use per virtual service",
                run: |c, snap, _| {
                    let snap = snap();
                    let used = |i: usize| snap.virtsvc_used_ports.get(i).copied().unwrap_or(0);
                    Some(Json::object(
                        c.statics
                            .virtual_services
                            .iter()
                            .enumerate()
                            .map(|(i, k)| (k.as_str(), Json::U64(used(i)))),
                    ))
                },
            });
        }
        table.sort_by_key(|c| c.name);
        Commands { statics, table }
    }

    /// Every command name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.table.iter().map(|c| c.name)
    }

    fn find(&self, name: &str) -> Option<&Command> {
        self.table.iter().find(|c| c.name == name)
    }

    fn has_virtsvc(&self) -> bool {
        !self.statics.virtual_services.is_empty()
    }

    fn port_name(&self, id: PortId) -> String {
        self.statics
            .port_names
            .iter()
            .find(|(p, _)| *p == id)
            .map_or_else(|| format!("net_tap{id}"), |(_, n)| n.clone())
    }

    /// The answer to one request text: `{"<command>":<value>}`, `null` for unknown
    /// commands and failed handlers, at most [`MAX_OUTPUT_LEN`] bytes.
    pub fn answer(&self, text: &str, snapshot: SnapshotFn<'_>) -> String {
        let value = Request::parse(text)
            .ok()
            .and_then(|req| {
                let cmd = self.find(req.command)?;
                (cmd.run)(self, snapshot, req.params)
            })
            .unwrap_or(Json::Null);
        render_response(command_of(text), &value, MAX_OUTPUT_LEN)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::telemetry::snapshot::{InterfaceSnapshot, NodeCounters};

    fn ask(c: &Commands, snap: &TelemetrySnapshot, text: &str) -> String {
        let snap = Arc::new(snap.clone());
        c.answer(text, &mut || Arc::clone(&snap))
    }

    #[test]
    fn golden_answers() {
        let snap = TelemetrySnapshot {
            nodes: ["rx-0-0", "cls", "virtsvc"]
                .iter()
                .map(|n| NodeCounters {
                    name: (*n).to_owned(),
                    stats: NodeStats {
                        calls: 2,
                        objs: 5,
                        cycles: 70,
                    },
                })
                .collect(),
            interfaces: vec![InterfaceSnapshot {
                id: "vm\"1".into(),
                firewall_rules: 3,
                nat_used_ports: 0,
            }],
            ..TelemetrySnapshot::default()
        };
        let c = Commands::new(Statics::default());
        assert_eq!(
            ask(&c, &snap, "/dp_service/graph/cycle_count,0\n"),
            r#"{"/dp_service/graph/cycle_count":{"Node_0_to_255":{"rx-0-0":70,"cls":70}}}"#
        );
        assert_eq!(
            ask(&c, &snap, "/dp_service/firewall/rule_count"),
            r#"{"/dp_service/firewall/rule_count":{"vm\"1":3}}"#
        );
        assert_eq!(
            ask(&c, &snap, "/dp_service/virtsvc/used_port_count"),
            r#"{"/dp_service/virtsvc/used_port_count":null}"#
        );
        let with = Commands::new(Statics {
            port_names: Vec::new(),
            virtual_services: vec!["UDP:1.2.3.4:5353".into()],
            tables: None,
        });
        assert_eq!(
            ask(&with, &snap, "/dp_service/virtsvc/used_port_count"),
            r#"{"/dp_service/virtsvc/used_port_count":{"UDP:1.2.3.4:5353":0}}"#
        );
        let busy = TelemetrySnapshot {
            virtsvc_used_ports: vec![3],
            ..snap.clone()
        };
        assert_eq!(
            ask(&with, &busy, "/dp_service/virtsvc/used_port_count"),
            r#"{"/dp_service/virtsvc/used_port_count":{"UDP:1.2.3.4:5353":3}}"#
        );
        assert!(ask(&with, &snap, "/dp_service/graph/obj_count").contains(r#""virtsvc":5"#));
    }

    #[test]
    fn large_answers_keep_the_cap_and_stay_json() {
        let snap = TelemetrySnapshot {
            interfaces: (0..1000)
                .map(|i| InterfaceSnapshot {
                    id: format!("4a7c5e0e-0000-4000-8000-{i:012}"),
                    firewall_rules: i,
                    nat_used_ports: 0,
                })
                .collect(),
            nodes: (0..600)
                .map(|i| NodeCounters {
                    name: format!("n{i}"),
                    stats: NodeStats::default(),
                })
                .collect(),
            ..TelemetrySnapshot::default()
        };
        let c = Commands::new(Statics::default());
        let text = ask(&c, &snap, "/dp_service/firewall/rule_count");
        assert!(text.len() <= MAX_OUTPUT_LEN && text.len() > MAX_OUTPUT_LEN - 100);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(
            v["/dp_service/firewall/rule_count"]
                .as_object()
                .unwrap()
                .len()
                > 300
        );
        // nodes beyond 256 go to the next blocks
        let text = ask(&c, &snap, "/dp_service/graph/obj_count");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let blocks: Vec<_> = v["/dp_service/graph/obj_count"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(
            blocks,
            ["Node_0_to_255", "Node_256_to_511", "Node_512_to_767"]
        );
    }
}
