//! HA state sync (dataplane.md §16.2, §16.3): the `sync` source node's work.
//!
//! Both instances of an HA pair share a bridge through their `--sync-tap` ports. The
//! active one sends what its packet path changes (NAT ports allocated and released,
//! virtual-service connections, learned VM MACs) and answers dump requests; the standby
//! mirrors the NAT port tables and VM MACs and, when it becomes active, turns the synced
//! NAT entries into conntrack flows so established NAT connections survive the takeover.
//!
//! [`HaSync::run`] is called by the worker once per loop turn (after the packet bursts,
//! so the outbox of that turn goes out at once); [`HaSync::activate`] when the HA lock
//! is obtained.

pub mod messages;
pub mod port;

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

use dpservice::shm::catalogue::{addr_from_bytes, PortmapKey, PortoverloadKey, PortoverloadValue};

use crate::flow::key::FlowKey;
use crate::flow::{self, key, CtKey, FlowEntry, FlowError};
use crate::graph::ha_sync::{NatApplied, NatSyncError};
use crate::graph::sync_outbox::SyncMessage;
use crate::graph::{Graph, GraphEvent};
use crate::hash::vnf_type;
use crate::port::Port;
use crate::wire::{icmpv4, icmpv6, ip_proto};
use messages::{DecodeError, Message};
use port::SyncPort;

/// Messages handed to the device per loop turn (a dump of many flows goes out over
/// several turns, so the peer's receive queue keeps up).
const SEND_PER_TURN: usize = 256;
/// Bursts a standby reads per turn at most ("drain completely", bounded so that a
/// flooded sync bridge cannot stop gRPC requests).
const MAX_BURSTS_PER_TURN: usize = 1024;
/// How long the dump request waits for the sync port's link at most (the kernel
/// reports a new TAP's carrier, and a bridge starts forwarding for it, up to a second
/// after it was attached; a request sent before is lost).
const LINK_WAIT: Duration = Duration::from_secs(3);
/// How long the link must have been up, when it was seen down first, before the dump
/// request goes out: the kernel marks a TAP running a moment before its bridge port starts
/// forwarding (one step of its link-watch work, which sets up the TAP's queue disciplines
/// in between), and a request sent in that moment is dropped by the bridge.
const LINK_SETTLE: Duration = Duration::from_millis(50);
/// At most one warning per kind and this interval.
const WARN_INTERVAL: Duration = Duration::from_secs(5);

/// A rate limit for one kind of warning.
#[derive(Debug, Default)]
struct Throttle {
    next: Option<Instant>,
    suppressed: u64,
}

impl Throttle {
    /// `Some(suppressed since the last one)` when a warning may be logged now.
    fn allow(&mut self, now: Instant) -> Option<u64> {
        if self.next.is_some_and(|at| now < at) {
            self.suppressed += 1;
            return None;
        }
        self.next = Some(now + WARN_INTERVAL);
        Some(std::mem::take(&mut self.suppressed))
    }
}

/// The warnings of the sync node, each rate-limited on its own.
#[derive(Debug, Default)]
struct Warnings {
    foreign: Throttle,
    invalid: Throttle,
    role: Throttle,
    apply: Throttle,
}

/// What the sync node counted (tests, telemetry).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncCounters {
    /// Messages sent to the peer.
    pub sent: u64,
    /// Valid messages acted on.
    pub applied: u64,
    /// Frames ignored (other ethertype, malformed, wrong role, not applicable).
    pub ignored: u64,
    /// Dump requests answered.
    pub dumps_answered: u64,
}

/// The sync node of one worker.
#[derive(Debug)]
pub struct HaSync {
    port: SyncPort,
    active: bool,
    /// The dump request of §16.2 went out (once, at the first turn the link is up).
    dump_requested: bool,
    /// The first turn (when the wait for the link started).
    started: Option<Instant>,
    /// The link was seen down while waiting for it.
    link_seen_down: bool,
    /// Since when the link is seen up (while waiting for it).
    link_up_since: Option<Instant>,
    /// Messages waiting for the device.
    backlog: VecDeque<Message>,
    /// Standby: the port-map key of every synced overload entry. The overload entry's
    /// value in the region holds the rest of the metadata (creating port, ICMP type,
    /// checksum); the source is needed to rebuild the flow at activation.
    sources: HashMap<PortoverloadKey, PortmapKey>,
    received: Vec<Result<Message, DecodeError>>,
    warnings: Warnings,
    counters: SyncCounters,
}

impl HaSync {
    /// The sync node over `port` (brought up here), starting in the standby role as the
    /// instance does.
    pub fn new(port: Box<dyn Port>) -> HaSync {
        HaSync {
            port: SyncPort::new(port),
            active: false,
            dump_requested: false,
            started: None,
            link_seen_down: false,
            link_up_since: None,
            backlog: VecDeque::new(),
            sources: HashMap::new(),
            received: Vec::with_capacity(port::BURST),
            warnings: Warnings::default(),
            counters: SyncCounters::default(),
        }
    }

    pub fn is_active(&self) -> bool {
        self.active
    }

    pub fn counters(&self) -> SyncCounters {
        self.counters
    }

    /// Synced NAT entries a takeover would turn into flows.
    pub fn synced_nat_entries(&self) -> usize {
        self.sources.len()
    }

    /// The descriptor to sleep on (`None`: poll).
    pub fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        self.port.poll_fd()
    }

    /// Whether the dump request still waits for the link (the worker must look again
    /// soon).
    pub fn awaiting_link(&self) -> bool {
        !self.dump_requested
    }

    /// Whether messages wait to be sent (the worker must not sleep).
    pub fn sending(&self) -> bool {
        !self.backlog.is_empty() || self.port.pending() > 0
    }

    /// One loop turn: the first turn the link is up asks the peer for a dump (a link that
    /// was seen down first must stay up `LINK_SETTLE`); the active role sends
    /// what the graph queued and the VM MACs that changed and answers dump requests; the
    /// standby drains the port and applies what it receives. Answers whether anything
    /// moved or is left to send.
    pub fn run(&mut self, graph: &mut Graph, now: Instant) -> bool {
        if !self.dump_requested {
            let started = *self.started.get_or_insert(now);
            let link_up = self.port.link_up();
            if link_up {
                self.link_up_since.get_or_insert(now);
            } else {
                self.link_seen_down = true;
                self.link_up_since = None;
            }
            // a link up from the first look goes at once (it came up long before)
            let settled = self.link_up_since.is_some_and(|since| {
                !self.link_seen_down || now.saturating_duration_since(since) >= LINK_SETTLE
            });
            if settled || now.saturating_duration_since(started) >= LINK_WAIT {
                if !link_up {
                    tracing::warn!("The HA sync port's link is not up; requesting a dump anyway");
                }
                self.dump_requested = true;
                self.backlog.push_back(Message::DumpRequest);
            }
        }
        let active = self.active;
        for m in graph.drain_sync() {
            if active {
                self.backlog.push_back(m.into());
            }
        }
        for ev in graph.drain_events() {
            let GraphEvent::NeighMacChanged { port, mac } = ev;
            if active {
                self.backlog
                    .push_back(Message::VmMac { port_id: port, mac });
            }
        }
        let received = self.receive(graph, now);
        let sent = self.send();
        received > 0 || sent > 0 || self.sending()
    }

    /// The HA lock is ours (§16.1): take the former active's last messages, switch to
    /// the active role and build a conntrack flow for every synced NAT entry. Answers
    /// the number of flows built.
    pub fn activate(&mut self, graph: &mut Graph, now: Instant) -> usize {
        if self.active {
            return 0;
        }
        self.receive(graph, now);
        self.active = true;
        tracing::info!("Sync node switching from standby to active role");
        let mut built = 0;
        let mut failed = 0;
        for (overload, portmap) in self.sources.drain() {
            let Some(meta) = graph.overload_entry(&overload) else {
                continue; // deleted since
            };
            let (org, reply, shared) = synced_flow(
                &portmap,
                &overload,
                &meta,
                graph.flows().default_timeout_s(),
            );
            match graph.insert_flow(org, reply, shared, now) {
                Ok(()) => built += 1,
                Err(FlowError::Taken) => {}
                Err(FlowError::Full) => failed += 1,
            }
        }
        if failed > 0 {
            tracing::warn!(
                failed,
                "Conntrack table full: some synced NAT connections were not restored"
            );
        }
        tracing::info!(
            flows = built,
            "Conntrack flows created from synced NAT entries"
        );
        built
    }

    /// Reads the port: one burst while active (dump requests only), until empty while
    /// standing by. Answers the number of frames.
    fn receive(&mut self, graph: &mut Graph, now: Instant) -> usize {
        let mut total = 0;
        for _ in 0..MAX_BURSTS_PER_TURN {
            let mut batch = std::mem::take(&mut self.received);
            let n = self.port.receive(&mut batch);
            graph.count_sync_rx(n);
            for msg in batch.drain(..) {
                self.handle(msg, graph, now);
            }
            self.received = batch;
            total += n;
            if n == 0 || self.active {
                break;
            }
        }
        total
    }

    fn handle(&mut self, msg: Result<Message, DecodeError>, graph: &mut Graph, now: Instant) {
        let msg = match msg {
            Ok(m) => m,
            Err(e) => {
                self.counters.ignored += 1;
                let throttle = match e {
                    DecodeError::Ethertype(_) => &mut self.warnings.foreign,
                    _ => &mut self.warnings.invalid,
                };
                if let Some(suppressed) = throttle.allow(now) {
                    tracing::warn!(error = %e, suppressed, "Frame on the HA sync port ignored");
                }
                return;
            }
        };
        if msg.for_standby() == self.active {
            self.counters.ignored += 1;
            if let Some(suppressed) = self.warnings.role.allow(now) {
                let role = if self.active { "active" } else { "standby" };
                tracing::warn!(
                    msg_type = msg.type_byte(),
                    role,
                    suppressed,
                    "HA sync message not valid for this instance's role ignored"
                );
            }
            return;
        }
        let applied = match msg {
            Message::DumpRequest => {
                self.answer_dump(graph);
                true
            }
            Message::Data(SyncMessage::NatCreate {
                portmap,
                overload,
                port_id,
                icmp_type,
                ip_checksum,
            }) => {
                let meta = PortoverloadValue {
                    port_id,
                    icmp_type,
                    ip_cksum: ip_checksum,
                    pad0: 0,
                };
                match graph.sync_nat_create(&portmap, &overload, meta) {
                    Ok(NatApplied::Created | NatApplied::Added) => {
                        self.sources.insert(overload, portmap);
                        true
                    }
                    Ok(NatApplied::Duplicate) => true,
                    Err(e @ NatSyncError::Full) => {
                        self.warn_not_applied(now, &e.to_string());
                        false
                    }
                }
            }
            Message::Data(SyncMessage::NatDelete { portmap, overload }) => {
                self.sources.remove(&overload);
                graph.sync_nat_delete(&portmap, &overload);
                true
            }
            Message::Data(SyncMessage::VirtsvcConnection { .. }) => {
                let done = msg
                    .to_outbox()
                    .is_some_and(|m| graph.open_synced_virtsvc(&m, now));
                if !done {
                    self.warn_not_applied(
                        now,
                        "virtual-service connection for an endpoint no service here has \
                         (are both instances started with the same --virtual-services?)",
                    );
                }
                done
            }
            Message::VmMac { port_id, mac } => {
                let vf = graph.port(port_id).is_some_and(|p| !p.is_pf());
                if vf {
                    graph.set_neigh_mac(port_id, mac);
                } else {
                    self.warn_not_applied(
                        now,
                        &format!("VM MAC for port {port_id}, which is no VF here; are both instances started with the same ports?"),
                    );
                }
                vf
            }
        };
        if applied {
            self.counters.applied += 1;
        } else {
            self.counters.ignored += 1;
        }
    }

    fn warn_not_applied(&mut self, now: Instant, why: &str) {
        if let Some(suppressed) = self.warnings.apply.allow(now) {
            tracing::warn!(suppressed, "HA sync message not applied: {why}");
        }
    }

    /// Active, dump request (§16.2): NAT create per network-local flow, a
    /// virtual-service message per used slot, VM MAC per started VF.
    fn answer_dump(&mut self, graph: &Graph) {
        let mut data = Vec::new();
        graph.sync_dump_nat(&mut data);
        let nat = data.len();
        data.extend(graph.virtsvc_sync_dump());
        let virtsvc = data.len() - nat;
        self.backlog.extend(data.into_iter().map(Message::from));
        let vms = graph.started_vms();
        let vm_count = vms.len();
        self.backlog.extend(
            vms.into_iter()
                .map(|(port_id, mac)| Message::VmMac { port_id, mac }),
        );
        self.counters.dumps_answered += 1;
        tracing::info!(
            nat,
            virtsvc,
            vms = vm_count,
            "Answering the HA peer's dump request"
        );
    }

    /// Moves a share of the backlog to the device and sends. Answers how many went.
    fn send(&mut self) -> usize {
        let mut budget = SEND_PER_TURN.min(self.port.room());
        while budget > 0 {
            let Some(msg) = self.backlog.pop_front() else {
                break;
            };
            self.port.queue(&msg);
            budget -= 1;
        }
        let sent = self.port.flush();
        self.counters.sent += sent as u64;
        sent
    }
}

/// The conntrack flow of a synced NAT entry (§16.3): original key (destination IPv4 —
/// `64:ff9b::` form for an IPv6 source —, destination port, protocol, VNI, the port-map
/// source and its port or the ICMP type, `vnf_type` NAT) and reply key (its reverse
/// with destination := NAT IP, `port_dst` := NAT port; NAT64 as §8.5 makes it: source :=
/// the destination IPv4, ICMPv6 → ICMP with the echo types translated), plus the entry
/// both keys share.
pub fn synced_flow(
    portmap: &PortmapKey,
    overload: &PortoverloadKey,
    meta: &PortoverloadValue,
    timeout_s: u32,
) -> (CtKey, CtKey, FlowEntry) {
    let dst4 = Ipv4Addr::from(overload.dst_ip);
    let nat64 = portmap.is_v6 != 0;
    let icmp = matches!(overload.proto, ip_proto::ICMP | ip_proto::ICMPV6);
    let org = FlowKey {
        l3_dst: if nat64 {
            IpAddr::V6(nat64_addr(dst4))
        } else {
            IpAddr::V4(dst4)
        },
        l3_src: addr_from_bytes(portmap.addr, portmap.is_v6),
        proto: overload.proto,
        port_dst: overload.dst_port,
        src: if icmp { meta.icmp_type } else { portmap.port },
        vni: portmap.vni,
        vnf_type: vnf_type::NAT,
    };
    let mut reply = key::reverse(&org);
    reply.l3_dst = IpAddr::V4(Ipv4Addr::from(overload.nat_ip));
    reply.port_dst = overload.nat_port;
    if nat64 {
        reply.l3_src = IpAddr::V4(dst4);
        if overload.proto == ip_proto::ICMPV6 {
            reply.proto = ip_proto::ICMP;
            reply.src = u16::from(match u8::try_from(reply.src) {
                Ok(icmpv6::msg_type::ECHO_REQUEST) => icmpv4::msg_type::ECHO_REQUEST,
                Ok(icmpv6::msg_type::ECHO_REPLY) => icmpv4::msg_type::ECHO_REPLY,
                _ => 0,
            });
        }
    }
    let reply_proto = reply.proto;
    let org = key::pack(&org);
    let reply = key::pack(&reply);
    let (nat_ip, nat_is_v6) =
        dpservice::shm::catalogue::addr_to_bytes(IpAddr::V4(Ipv4Addr::from(overload.nat_ip)));
    let shared = FlowEntry {
        port_id: meta.port_id,
        flags: if nat64 {
            flow::flags::SRC_NAT64
        } else {
            flow::flags::SRC_NAT
        },
        nat_type: flow::nat_kind::NETWORK_LOCAL,
        nat_vni: portmap.vni,
        // what the NAT stage records: the protocol of the IPv4 side
        l4_type: reply_proto,
        nat_ip,
        nat_is_v6,
        nat_port: overload.nat_port,
        icmp_err_cksum: u16::from_be_bytes(meta.ip_cksum),
        timeout_s,
        ..bytemuck::Zeroable::zeroed()
    };
    (org, reply, shared)
}

/// `64:ff9b::<a.b.c.d>` (RFC 6052 well-known prefix).
fn nat64_addr(v4: Ipv4Addr) -> Ipv6Addr {
    let [a, b, c, d] = v4.octets();
    Ipv6Addr::new(
        0x64,
        0xff9b,
        0,
        0,
        0,
        0,
        u16::from_be_bytes([a, b]),
        u16::from_be_bytes([c, d]),
    )
}
