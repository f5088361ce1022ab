//! Sources (`-f`): files, directories and `file://` URLs, decoded into objects.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::CliError;
use crate::objects::*;
use crate::syntax::{go_quote, parse_addr, parse_prefix, Addr, Prefix as IpPrefix};

/// One decoded document.
#[derive(Debug, Clone)]
pub enum FileObject {
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
    /// The document's kind.
    pub fn kind(&self) -> String {
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

/// Decodes every document of every source, in order.
pub fn collect(sources: &[String]) -> Result<Vec<FileObject>, CliError> {
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
        for doc in serde_norway::Deserializer::from_str(content) {
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
