//! `create -f` / `delete -f`: objects read from files (spec §7).
//!
//! Every source is decoded before the first call, so a bad file changes nothing. Each
//! object is then created (or deleted) in order; a failure is reported on its own line
//! and the next object is processed.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::delete::{self, Key};
use super::{create, Client, Ctx};
use crate::cli::parsers::flatten;
use crate::cli::Sources;
use crate::error::{CliError, EXIT_CLIENT, EXIT_SERVICE};
use crate::objects::*;
use crate::syntax::{go_quote, parse_addr, parse_prefix, Addr, Prefix as IpPrefix};

/// One decoded document.
#[derive(Debug, Clone)]
enum FileObject {
    Interface(Interface),
    Prefix(Prefix),
    Route(Route),
    VirtualIp(VirtualIp),
    LoadBalancer(LoadBalancer),
    LbPrefix(LoadBalancerPrefix),
    LbTarget(LoadBalancerTarget),
    Nat(Nat),
    NeighborNat(NeighborNat),
    FirewallRule(FirewallRule),
    /// A registered kind that cannot be created or deleted (lists, `Vni`).
    Unsupported(String),
}

impl FileObject {
    fn kind(&self) -> String {
        match self {
            FileObject::Interface(o) => o.kind.to_owned(),
            FileObject::Prefix(o) => o.kind.to_owned(),
            FileObject::Route(o) => o.kind.to_owned(),
            FileObject::VirtualIp(o) => o.kind.to_owned(),
            FileObject::LoadBalancer(o) => o.kind.to_owned(),
            FileObject::LbPrefix(o) => o.kind.to_owned(),
            FileObject::LbTarget(o) => o.kind.to_owned(),
            FileObject::Nat(o) => o.kind.to_owned(),
            FileObject::NeighborNat(o) => o.kind.to_owned(),
            FileObject::FirewallRule(o) => o.kind.to_owned(),
            FileObject::Unsupported(k) => k.clone(),
        }
    }
}

/// Creates every object of the sources.
pub async fn create(sources: &Sources, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    let mut c = ctx.connect("error creating dpdk client").await?;
    ctx.format()?;
    let objects =
        collect(&flatten(&sources.filename)).map_err(|e| e.context("error collecting objects"))?;
    let mut exit = 0;
    for obj in objects {
        let kind = obj.kind();
        if let Err(e) = create_one(&mut c, obj, ctx).await {
            ctx.write(&format!("Error creating {kind}: {}\n", e.text()));
            exit = exit.max(failure_exit(&e));
        }
    }
    finish(exit)
}

/// Deletes every object of the sources.
pub async fn delete(sources: &Sources, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    let mut c = ctx.connect("error creating dpdk client").await?;
    ctx.format()?;
    let objects =
        collect(&flatten(&sources.filename)).map_err(|e| e.context("error collecting objects"))?;
    let mut exit = 0;
    for obj in objects {
        let kind = obj.kind();
        let Some((target, key)) = delete_target(&obj) else {
            ctx.write(&format!(
                "Error deleting {kind} : unsupported object {kind}\n"
            ));
            exit = exit.max(EXIT_CLIENT);
            continue;
        };
        match delete::delete(&mut c, &target).await {
            Ok(_) => print_object(&obj, "deleted", ctx)?,
            Err(e) => {
                ctx.write(&format!("Error deleting {kind} {key}: {}\n", e.text()));
                exit = exit.max(failure_exit(&e));
            }
        }
    }
    finish(exit)
}

fn failure_exit(e: &CliError) -> u8 {
    if e.exit_code() == EXIT_SERVICE {
        EXIT_SERVICE
    } else {
        EXIT_CLIENT
    }
}

fn finish(exit: u8) -> Result<(), CliError> {
    match exit {
        0 => Ok(()),
        n => Err(CliError::reported(n)),
    }
}

async fn create_one(c: &mut Client, obj: FileObject, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    const OP: &str = "created";
    match obj {
        FileObject::Interface(o) => ctx.print(&create::interface(c, o).await?, OP),
        FileObject::Prefix(o) => ctx.print(&create::prefix(c, o).await?, OP),
        FileObject::Route(o) => ctx.print(&create::route(c, o).await?, OP),
        FileObject::VirtualIp(o) => ctx.print(&create::virtual_ip(c, o).await?, OP),
        FileObject::LoadBalancer(o) => ctx.print(&create::loadbalancer(c, o).await?, OP),
        FileObject::LbPrefix(o) => ctx.print(&create::lb_prefix(c, o).await?, OP),
        FileObject::LbTarget(o) => ctx.print(&create::lb_target(c, o).await?, OP),
        FileObject::Nat(o) => ctx.print(&create::nat(c, o).await?, OP),
        FileObject::NeighborNat(o) => ctx.print(&create::neighbor_nat(c, o).await?, OP),
        FileObject::FirewallRule(o) => ctx.print(&create::firewall_rule(c, o).await?, OP),
        FileObject::Unsupported(kind) => {
            Err(CliError::client(format!("unsupported object {kind}")))
        }
    }
}

fn print_object(obj: &FileObject, op: &str, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    match obj {
        FileObject::Interface(o) => ctx.print(o, op),
        FileObject::Prefix(o) => ctx.print(o, op),
        FileObject::Route(o) => ctx.print(o, op),
        FileObject::VirtualIp(o) => ctx.print(o, op),
        FileObject::LoadBalancer(o) => ctx.print(o, op),
        FileObject::LbPrefix(o) => ctx.print(o, op),
        FileObject::LbTarget(o) => ctx.print(o, op),
        FileObject::Nat(o) => ctx.print(o, op),
        FileObject::NeighborNat(o) => ctx.print(o, op),
        FileObject::FirewallRule(o) => ctx.print(o, op),
        FileObject::Unsupported(_) => Ok(()),
    }
}

fn text(a: Option<&Addr>) -> String {
    a.map_or_else(|| "invalid IP".to_owned(), ToString::to_string)
}

/// The delete call of an object and the key its failure line names.
fn delete_target(obj: &FileObject) -> Option<(Key, String)> {
    let any = || IpPrefix {
        addr: Addr::unspecified_v6(),
        len: 0,
    };
    Some(match obj {
        FileObject::Interface(o) => (Key::Interface(o.metadata.id.clone()), o.metadata.id.clone()),
        FileObject::Prefix(o) => {
            let id = o.metadata.interface_id.clone();
            let key = format!("{id}/{}", o.spec.prefix);
            (Key::Prefix(id, o.spec.prefix.clone()), key)
        }
        FileObject::Route(o) => {
            let p = o.spec.prefix.clone().unwrap_or_else(any);
            let key = format!("{}:{p}-0:invalid IP", o.metadata.vni);
            (Key::Route(o.metadata.vni, p), key)
        }
        FileObject::VirtualIp(o) => (
            Key::VirtualIp(o.metadata.interface_id.clone()),
            o.metadata.interface_id.clone(),
        ),
        FileObject::LoadBalancer(o) => (
            Key::LoadBalancer(o.metadata.id.clone()),
            o.metadata.id.clone(),
        ),
        FileObject::LbPrefix(o) => {
            let id = o.metadata.interface_id.clone();
            let key = format!("{id}-{}", o.spec.prefix);
            (Key::LbPrefix(id, o.spec.prefix.clone()), key)
        }
        FileObject::LbTarget(o) => {
            let id = o.metadata.loadbalancer_id.clone();
            let ip = o
                .spec
                .target_ip
                .clone()
                .unwrap_or_else(Addr::unspecified_v6);
            let key = format!("{id}-{}", text(o.spec.target_ip.as_ref()));
            (Key::LbTarget(id, ip), key)
        }
        FileObject::Nat(o) => (
            Key::Nat(o.metadata.interface_id.clone()),
            o.metadata.interface_id.clone(),
        ),
        FileObject::NeighborNat(o) => {
            let s = &o.spec;
            let key = format!(
                "{}-{}:<{},{}>",
                s.vni,
                text(o.metadata.nat_ip.as_ref()),
                s.min_port,
                s.max_port
            );
            let ip = o
                .metadata
                .nat_ip
                .clone()
                .unwrap_or_else(Addr::unspecified_v6);
            (Key::NeighborNat(ip, s.vni, s.min_port, s.max_port), key)
        }
        FileObject::FirewallRule(o) => {
            let id = o.metadata.interface_id.clone();
            let key = format!("{id}-{}", o.spec.id);
            (Key::FirewallRule(id, o.spec.id.clone()), key)
        }
        FileObject::Unsupported(_) => return None,
    })
}

/// Decodes every document of every source, in order.
fn collect(sources: &[String]) -> Result<Vec<FileObject>, CliError> {
    let mut objects = Vec::new();
    for source in sources {
        for file in files_of(source)? {
            let ext = file
                .extension()
                .map(|e| format!(".{}", e.to_string_lossy()))
                .unwrap_or_default();
            let yaml = match ext.as_str() {
                ".json" => false,
                ".yaml" | ".yml" => true,
                _ => {
                    return Err(CliError::client(format!(
                        "unsupported extension {}",
                        go_quote(&ext)
                    )))
                }
            };
            let content = std::fs::read_to_string(&file).map_err(|e| {
                CliError::client(format!("open {}: {}", file.display(), os_error(&e)))
            })?;
            for doc in documents(&content, yaml)? {
                objects.push(decode(doc)?);
            }
        }
    }
    Ok(objects)
}

/// Go's wording of common OS errors (`no such file or directory`).
fn os_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}

/// The regular files a source names: the file itself, or a directory's files in name
/// order (not recursive).
fn files_of(source: &str) -> Result<Vec<PathBuf>, CliError> {
    let path = match scheme_of(source) {
        None => source.to_owned(),
        Some(("file", rest)) => rest
            .strip_prefix("//")
            .map_or(rest, |r| &r[r.find('/').unwrap_or(r.len())..])
            .to_owned(),
        Some((scheme, _)) => {
            return Err(CliError::client(format!(
                "unsupported source scheme {scheme}"
            )))
        }
    };
    let meta = std::fs::metadata(&path).map_err(|e| {
        CliError::client(format!(
            "error stat-ing file source {path}: stat {path}: {}",
            os_error(&e)
        ))
    })?;
    if !meta.is_dir() {
        return Ok(vec![PathBuf::from(path)]);
    }
    let entries = std::fs::read_dir(&path)
        .map_err(|e| CliError::client(format!("error reading dir {path}: {}", os_error(&e))))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| !Path::is_dir(p))
        .collect();
    files.sort();
    Ok(files)
}

/// A URL scheme (`file:`, `http:`), as Go's `url.Parse` would find it.
fn scheme_of(s: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = s.split_once(':')?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some((scheme, rest))
}

/// The documents of a JSON stream or a multi-document YAML file.
fn documents(content: &str, yaml: bool) -> Result<Vec<Value>, CliError> {
    if yaml {
        use serde::Deserialize;
        let mut docs = Vec::new();
        for doc in serde_yaml::Deserializer::from_str(content) {
            let v = Value::deserialize(doc).map_err(|e| CliError::client(e.to_string()))?;
            if !v.is_null() {
                docs.push(v);
            }
        }
        return Ok(docs);
    }
    serde_json::Deserializer::from_str(content)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .map_err(|e| CliError::client(e.to_string()))
}

/// Keys of every object lowercased: Go's decoder matches field names case-insensitively.
fn lowercase_keys(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k.to_lowercase(), lowercase_keys(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(lowercase_keys).collect()),
        other => other,
    }
}

/// Field access on one decoded section, with errors naming the kind.
struct Fields<'a> {
    kind: &'a str,
    map: Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn of(kind: &'a str, v: Option<&Value>) -> Result<Fields<'a>, CliError> {
        match v {
            None | Some(Value::Null) => Ok(Fields {
                kind,
                map: Map::new(),
            }),
            Some(Value::Object(m)) => Ok(Fields {
                kind,
                map: m.clone(),
            }),
            Some(_) => Err(bad(kind, "expected an object")),
        }
    }

    fn sub(&self, key: &str) -> Result<Option<Fields<'a>>, CliError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            v => Fields::of(self.kind, v).map(Some),
        }
    }

    fn string(&self, key: &str) -> Result<String, CliError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(bad(self.kind, &format!("field {key} must be a string"))),
        }
    }

    fn int<T: TryFrom<i64>>(&self, key: &str) -> Result<T, CliError> {
        let n = match self.map.get(key) {
            None | Some(Value::Null) => 0,
            Some(Value::Number(n)) => n
                .as_i64()
                .ok_or_else(|| bad(self.kind, &format!("field {key} out of range")))?,
            Some(_) => return Err(bad(self.kind, &format!("field {key} must be a number"))),
        };
        T::try_from(n).map_err(|_| bad(self.kind, &format!("field {key} out of range")))
    }

    fn addr(&self, key: &str) -> Result<Option<Addr>, CliError> {
        match self.string(key)?.as_str() {
            "" => Ok(None),
            s => parse_addr(s)
                .map(Some)
                .map_err(|e| bad(self.kind, &e.to_string())),
        }
    }

    fn prefix(&self, key: &str) -> Result<Option<IpPrefix>, CliError> {
        match self.string(key)?.as_str() {
            "" => Ok(None),
            s => parse_prefix(s)
                .map(Some)
                .map_err(|e| bad(self.kind, &e.to_string())),
        }
    }
}

fn bad(kind: &str, why: &str) -> CliError {
    CliError::client(format!("error unmarshaling {kind}: {why}"))
}

/// One document as an object of its kind.
fn decode(doc: Value) -> Result<FileObject, CliError> {
    let doc = lowercase_keys(doc);
    let Value::Object(top) = &doc else {
        return Err(CliError::client(
            "error decoding object: expected kind, metadata and spec",
        ));
    };
    let kind = match top.get("kind") {
        Some(Value::String(k)) => k.clone(),
        _ => String::new(),
    };
    let k = kind.as_str();
    let meta = Fields::of(k, top.get("metadata"))?;
    let spec = Fields::of(k, top.get("spec"))?;
    let st = Status::empty;
    Ok(match k {
        "Interface" => FileObject::Interface(Interface {
            kind: "Interface",
            metadata: InterfaceMeta {
                id: meta.string("id")?,
            },
            spec: InterfaceSpec {
                vni: spec.int("vni")?,
                device: spec.string("device")?,
                ipv4: spec.addr("primary_ipv4")?,
                ipv6: spec.addr("primary_ipv6")?,
                underlay_route: spec.addr("underlay_route")?,
                pxe: spec
                    .sub("pxe")?
                    .map(|p| {
                        Ok::<_, CliError>(Pxe {
                            next_server: p.string("next_server")?,
                            boot_filename: p.string("boot_filename")?,
                        })
                    })
                    .transpose()?,
                metering: spec
                    .sub("metering")?
                    .map(|m| {
                        Ok::<_, CliError>(Metering {
                            total_rate: m.int("total_rate")?,
                            public_rate: m.int("public_rate")?,
                        })
                    })
                    .transpose()?,
                hostname: spec.string("hostname")?,
                ..InterfaceSpec::default()
            },
            status: st(),
        }),
        "Prefix" => FileObject::Prefix(Prefix {
            kind: "Prefix",
            metadata: PrefixMeta {
                interface_id: meta.string("interface_id")?,
                vni: meta.int("vni")?,
            },
            spec: PrefixSpec {
                prefix: spec.prefix("prefix")?.unwrap_or_else(zero_prefix),
                underlay_route: spec.addr("underlay_route")?,
            },
            status: st(),
        }),
        "Route" => FileObject::Route(Route {
            kind: "Route",
            metadata: RouteMeta {
                vni: meta.int("vni")?,
            },
            spec: RouteSpec {
                prefix: spec.prefix("prefix")?,
                next_hop: spec
                    .sub("next_hop")?
                    .map(|h| {
                        Ok::<_, CliError>(NextHop {
                            vni: h.int("vni")?,
                            address: h.addr("address")?,
                        })
                    })
                    .transpose()?,
            },
            status: st(),
        }),
        "VirtualIP" => FileObject::VirtualIp(VirtualIp {
            kind: "VirtualIP",
            metadata: VirtualIpMeta {
                interface_id: meta.string("interface_id")?,
            },
            spec: VirtualIpSpec {
                vip_ip: spec.addr("vip_ip")?,
                underlay_route: spec.addr("underlay_route")?,
            },
            status: st(),
        }),
        "LoadBalancer" => {
            let mut ports = Vec::new();
            if let Some(Value::Array(items)) = spec.map.get("loadbalanced_ports") {
                for item in items {
                    let p = Fields::of(k, Some(item))?;
                    ports.push(LbPort {
                        protocol: p.int("protocol")?,
                        port: p.int("port")?,
                    });
                }
            }
            FileObject::LoadBalancer(LoadBalancer {
                kind: "LoadBalancer",
                metadata: LoadBalancerMeta {
                    id: meta.string("id")?,
                },
                spec: LoadBalancerSpec {
                    vni: spec.int("vni")?,
                    vip: spec.addr("loadbalanced_ip")?,
                    ports,
                    underlay_route: spec.addr("underlay_route")?,
                },
                status: st(),
            })
        }
        "LoadBalancerPrefix" => FileObject::LbPrefix(LoadBalancerPrefix {
            kind: "LoadBalancerPrefix",
            metadata: LoadBalancerPrefixMeta {
                interface_id: meta.string("interface_id")?,
            },
            spec: PrefixSpec {
                prefix: spec.prefix("prefix")?.unwrap_or_else(zero_prefix),
                underlay_route: spec.addr("underlay_route")?,
            },
            status: st(),
        }),
        "LoadBalancerTarget" => FileObject::LbTarget(LoadBalancerTarget {
            kind: "LoadBalancerTarget",
            metadata: LoadBalancerTargetMeta {
                loadbalancer_id: meta.string("loadbalancer_id")?,
            },
            spec: LoadBalancerTargetSpec {
                target_ip: spec.addr("target_ip")?,
            },
            status: st(),
        }),
        "Nat" => FileObject::Nat(Nat {
            kind: "Nat",
            metadata: NatMeta {
                interface_id: meta.string("interface_id")?,
            },
            spec: NatSpec {
                nat_ip: spec.addr("nat_ip")?,
                min_port: spec.int("min_port")?,
                max_port: spec.int("max_port")?,
                underlay_route: spec.addr("underlay_route")?,
                vni: spec.int("vni")?,
                actual_nat_ip: spec.addr("actual_nat_ip")?,
            },
            status: st(),
        }),
        "NeighborNat" => FileObject::NeighborNat(NeighborNat {
            kind: "NeighborNat",
            metadata: NeighborNatMeta {
                nat_ip: meta.addr("nat_ip")?,
            },
            spec: NeighborNatSpec {
                vni: spec.int("vni")?,
                min_port: spec.int("min_port")?,
                max_port: spec.int("max_port")?,
                underlay_route: spec.addr("underlay_route")?,
            },
            status: st(),
        }),
        "FirewallRule" => FileObject::FirewallRule(FirewallRule {
            kind: "FirewallRule",
            metadata: FirewallRuleMeta {
                interface_id: meta.string("interface_id")?,
            },
            spec: FirewallRuleSpec {
                id: spec.string("id")?,
                direction: spec.string("direction")?,
                action: spec.string("action")?,
                priority: spec.int("priority")?,
                source_prefix: spec.prefix("source_prefix")?,
                destination_prefix: spec.prefix("destination_prefix")?,
                protocol_filter: protocol_filter(&spec)?,
            },
            status: st(),
        }),
        "InterfaceList"
        | "PrefixList"
        | "RouteList"
        | "LoadBalancerList"
        | "LoadBalancerTargetList"
        | "NatList"
        | "Vni" => FileObject::Unsupported(kind.clone()),
        other => {
            let q = go_quote(other);
            return Err(CliError::client(format!(
                "error creating new {other}: no type {q} registered"
            )));
        }
    })
}

fn zero_prefix() -> IpPrefix {
    IpPrefix {
        addr: Addr::new(std::net::Ipv4Addr::UNSPECIFIED.into()),
        len: 0,
    }
}

/// `protocol_filter` in the output shape: `{"Filter": {"Tcp": {...}}}` (keys any case).
fn protocol_filter(spec: &Fields<'_>) -> Result<Option<ProtocolFilter>, CliError> {
    let Some(pf) = spec.sub("protocol_filter")? else {
        return Ok(None);
    };
    let Some(filter) = pf.sub("filter")? else {
        return Ok(Some(ProtocolFilter::Any));
    };
    let ports = |f: &Fields<'_>| -> Result<PortFilter, CliError> {
        Ok(PortFilter {
            src_port_lower: f.int("src_port_lower")?,
            src_port_upper: f.int("src_port_upper")?,
            dst_port_lower: f.int("dst_port_lower")?,
            dst_port_upper: f.int("dst_port_upper")?,
        })
    };
    if let Some(t) = filter.sub("tcp")? {
        return Ok(Some(ProtocolFilter::Tcp(ports(&t)?)));
    }
    if let Some(u) = filter.sub("udp")? {
        return Ok(Some(ProtocolFilter::Udp(ports(&u)?)));
    }
    if let Some(i) = filter.sub("icmp")? {
        return Ok(Some(ProtocolFilter::Icmp(IcmpFilter {
            icmp_type: i.int("icmp_type")?,
            icmp_code: i.int("icmp_code")?,
        })));
    }
    Ok(Some(ProtocolFilter::Any))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn decodes_json_stream_and_yaml_documents() {
        let json = r#"{"kind":"VirtualIP","metadata":{"interface_id":"vm2"},"spec":{"vip_ip":"20.20.20.30"}}
{"Kind":"Prefix","Metadata":{"Interface_ID":"vm2"},"spec":{"prefix":"20.20.20.0/24"}}"#;
        let docs = documents(json, false).unwrap();
        let objs: Vec<FileObject> = docs.into_iter().map(|d| decode(d).unwrap()).collect();
        assert!(
            matches!(&objs[0], FileObject::VirtualIp(v) if v.metadata.interface_id == "vm2"
            && v.spec.vip_ip.as_ref().unwrap().to_string() == "20.20.20.30")
        );
        assert!(
            matches!(&objs[1], FileObject::Prefix(p) if p.metadata.interface_id == "vm2"
            && p.spec.prefix.to_string() == "20.20.20.0/24")
        );

        let yaml = "kind: FirewallRule\nmetadata:\n  interface_id: vm1\nspec:\n  id: r1\n  action: accept\n  direction: ingress\n  source_prefix: 1.2.3.4/16\n  destination_prefix: 0.0.0.0/0\n  protocol_filter:\n    Filter:\n      Tcp:\n        src_port_lower: -1\n---\nkind: Nat\nmetadata:\n  interface_id: vm3\nspec:\n  nat_ip: 1.1.1.1\n  min_port: 100\n  max_port: 200\n";
        let objs: Vec<FileObject> = documents(yaml, true)
            .unwrap()
            .into_iter()
            .map(|d| decode(d).unwrap())
            .collect();
        let FileObject::FirewallRule(r) = &objs[0] else {
            panic!("{objs:?}")
        };
        assert_eq!(
            r.spec.protocol_filter.unwrap().text(),
            "tcp:{src_port_lower:-1}"
        );
        assert_eq!(
            r.spec.source_prefix.as_ref().unwrap().to_string(),
            "1.2.3.4/16"
        );
        assert!(matches!(&objs[1], FileObject::Nat(n) if n.spec.max_port == 200));
    }

    #[test]
    fn unknown_kinds_and_sources_fail_like_upstream() {
        let doc: Value = serde_json::from_str(r#"{"kind":"Bogus"}"#).unwrap();
        assert_eq!(
            decode(doc).unwrap_err().text(),
            r#"error creating new Bogus: no type "Bogus" registered"#
        );
        assert_eq!(
            files_of("/nonexistent/x.json").unwrap_err().text(),
            "error stat-ing file source /nonexistent/x.json: stat /nonexistent/x.json: no such file or directory"
        );
        assert_eq!(
            files_of("http://x/y.json").unwrap_err().text(),
            "unsupported source scheme http"
        );
    }
}
