//! Client-side list order (`--sort-by`, spec §2.3.1): stable sorts on rendered text,
//! compared byte-wise, so `10.20.0.0/16` sorts before `10.9.0.0/16` as upstream does.

use std::cmp::Ordering;

use super::{FirewallRule, Interface, LoadBalancer, LoadBalancerTarget, Nat, Prefix, Route};
use crate::syntax::{Addr, Prefix as IpPrefix};

fn text(a: Option<&Addr>) -> String {
    a.map(ToString::to_string).unwrap_or_default()
}

fn ptext(p: Option<&IpPrefix>) -> String {
    p.map(ToString::to_string).unwrap_or_default()
}

/// Sorts `list interfaces` items.
pub fn interfaces(items: &mut [Interface], key: &str) {
    let ipv4 = |i: &Interface| text(i.spec.ipv4.as_ref());
    match key.to_lowercase().as_str() {
        "vni" => items.sort_by(|a, b| {
            a.spec
                .vni
                .cmp(&b.spec.vni)
                .then_with(|| ipv4(a).cmp(&ipv4(b)))
        }),
        "device" => items.sort_by(|a, b| a.spec.device.cmp(&b.spec.device)),
        "ipv4" => items.sort_by(|a, b| ipv4(a).cmp(&ipv4(b)).then(a.spec.vni.cmp(&b.spec.vni))),
        "ipv6" => items.sort_by_cached_key(|i| text(i.spec.ipv6.as_ref())),
        "underlayroute" => items.sort_by_cached_key(|i| text(i.spec.underlay_route.as_ref())),
        _ => items.sort_by(|a, b| a.metadata.id.cmp(&b.metadata.id)),
    }
}

/// Sorts `list prefixes` / `list lbprefixes` items.
pub fn prefixes(items: &mut [Prefix], key: &str) {
    match key.to_lowercase().as_str() {
        "underlayroute" => items.sort_by_cached_key(|p| text(p.spec.underlay_route.as_ref())),
        _ => items.sort_by_cached_key(|p| p.spec.prefix.to_string()),
    }
}

/// Sorts `list routes` items.
pub fn routes(items: &mut [Route], key: &str) {
    let hop_vni = |r: &Route| r.spec.next_hop.as_ref().map_or(0, |h| h.vni);
    match key.to_lowercase().as_str() {
        "nexthopvni" => items.sort_by_key(hop_vni),
        "nexthopip" => items.sort_by_cached_key(|r| {
            text(r.spec.next_hop.as_ref().and_then(|h| h.address.as_ref()))
        }),
        _ => items.sort_by_cached_key(|r| ptext(r.spec.prefix.as_ref())),
    }
}

/// Sorts `list lbtargets` items (the key is accepted and ignored, as upstream).
pub fn lb_targets(items: &mut [LoadBalancerTarget], _key: &str) {
    items.sort_by_cached_key(|t| text(t.spec.target_ip.as_ref()));
}

/// Sorts `list loadbalancers` items.
pub fn loadbalancers(items: &mut [LoadBalancer], key: &str) {
    let vip = |l: &LoadBalancer| text(l.spec.vip.as_ref());
    match key.to_lowercase().as_str() {
        "vni" => items.sort_by(|a, b| {
            a.spec
                .vni
                .cmp(&b.spec.vni)
                .then_with(|| vip(a).cmp(&vip(b)))
        }),
        "ip" => items.sort_by(|a, b| vip(a).cmp(&vip(b)).then(a.spec.vni.cmp(&b.spec.vni))),
        "underlayroute" => items.sort_by_cached_key(|l| text(l.spec.underlay_route.as_ref())),
        _ => items.sort_by(|a, b| a.metadata.id.cmp(&b.metadata.id)),
    }
}

/// Entries having the field first (by its text), entries lacking it after, stable.
fn present_first(a: Option<&Addr>, b: Option<&Addr>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.to_string().cmp(&b.to_string()),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Sorts `list nats` items; the default (VNI) keeps the daemon's order within a VNI.
pub fn nats(items: &mut [Nat], key: &str) {
    match key.to_lowercase().as_str() {
        "ip" => items.sort_by(|a, b| present_first(a.spec.nat_ip.as_ref(), b.spec.nat_ip.as_ref())),
        "minport" => items.sort_by_key(|n| n.spec.min_port),
        "maxport" => items.sort_by_key(|n| n.spec.max_port),
        "underlayroute" => items.sort_by(|a, b| {
            present_first(
                a.spec.underlay_route.as_ref(),
                b.spec.underlay_route.as_ref(),
            )
        }),
        _ => items.sort_by_key(|n| n.spec.vni),
    }
}

/// Sorts `list firewallrules` items.
pub fn firewall_rules(items: &mut [FirewallRule], key: &str) {
    match key.to_lowercase().as_str() {
        "direction" => items.sort_by(|a, b| a.spec.direction.cmp(&b.spec.direction)),
        "src" | "source" => items.sort_by_cached_key(|r| ptext(r.spec.source_prefix.as_ref())),
        "dst" | "destination" => {
            items.sort_by_cached_key(|r| ptext(r.spec.destination_prefix.as_ref()))
        }
        "action" => items.sort_by(|a, b| a.spec.action.cmp(&b.spec.action)),
        "protocol" => items
            .sort_by_cached_key(|r| r.spec.protocol_filter.map(|f| f.text()).unwrap_or_default()),
        "priority" => items.sort_by_key(|r| r.spec.priority),
        _ => items.sort_by(|a, b| a.spec.id.cmp(&b.spec.id)),
    }
}
