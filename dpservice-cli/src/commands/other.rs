//! `init`, `reset vni`, `capture` (spec §2.1, §2.6, §2.7).

use dpservice::proto;
use proto::captured_interface::Spec;

use super::conn::{reply_status, rpc};
use super::convert::{self, to_ip};
use super::Ctx;
use crate::cli::{require, CaptureNoun, CaptureStart as StartArgs, Init, ResetVni};
use crate::error::CliError;
use crate::objects::*;
use crate::syntax::number::atoi;

/// `init`: initialize unless already initialized.
pub async fn init(a: Init, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    a.extra.check()?;
    let mut c = ctx.connect("error creating dpdk client").await?;
    match rpc!(c.check_initialized(proto::CheckInitializedRequest {})) {
        Ok(r) => {
            return Err(CliError::client(format!(
                "error dp-service already initialized, uuid: {}",
                r.uuid
            )))
        }
        Err(e) if e.text().contains("not initialized") => {}
        Err(_) => return Err(CliError::client("error checking initialization")),
    }
    let r = rpc!(c.initialize(proto::InitializeRequest {}))
        .map_err(|e| e.context("error initializing"))?;
    let obj = Initialized {
        kind: "Initialized",
        metadata: NoMeta {},
        spec: InitializedSpec { uuid: r.uuid },
        status: reply_status(r.status.as_ref()),
    };
    ctx.print(&obj, "")
}

/// `reset vni`. Unlike upstream, a gRPC failure is reported (spec §10.6).
pub async fn reset_vni(a: ResetVni, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    a.extra.check()?;
    require(&[("vni", a.vni.is_some())])?;
    let vni = a.vni.unwrap_or_default();
    let mut c = ctx.connect("error creating dpdk client").await?;
    let vni_type: u8 = match a.vni_type.to_lowercase().as_str() {
        "ipv4" | "0" => 0,
        "ipv6" | "1" => 1,
        "both" | "2" => 2,
        _ => {
            return Err(CliError::client(
                "VNI type can be only: ipv4 = 0/ipv6 = 1/both = 2",
            ))
        }
    };
    let r = rpc!(c.reset_vni(proto::ResetVniRequest {
        vni,
        r#type: i32::from(vni_type)
    }))
    .map_err(|e| e.context("error resetting vni"))?;
    let obj = Vni {
        kind: "Vni",
        metadata: VniMeta { vni, vni_type },
        spec: VniSpec { in_use: false },
        status: reply_status(r.status.as_ref()),
    };
    ctx.print(&obj, "reset")
}

/// `capture start|stop|status`.
pub async fn capture(noun: CaptureNoun, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    match noun {
        CaptureNoun::Start(a) => start(a, ctx).await,
        CaptureNoun::Stop(a) => {
            a.extra.check()?;
            let mut c = ctx.connect("error creating dpdk client").await?;
            let r = rpc!(c.capture_stop(proto::CaptureStopRequest {}))
                .map_err(|e| e.context("error stopping capturing"))?;
            let obj = CaptureStop {
                kind: "",
                metadata: NoMeta {},
                spec: CaptureStopSpec {
                    iface_cnt: r.stopped_interface_cnt,
                },
                status: reply_status(r.status.as_ref()),
            };
            ctx.print(&obj, "Packet capturing stopped \n")
        }
        CaptureNoun::Status(a) => {
            a.extra.check()?;
            let mut c = ctx.connect("error creating dpdk client").await?;
            let err = |e: CliError| e.context("error checking initialization status");
            let r = rpc!(c.capture_status(proto::CaptureStatusRequest {})).map_err(err)?;
            let mut spec = CaptureStatusSpec::default();
            if r.is_active {
                let cfg = r.capture_config.unwrap_or_default();
                spec.operation_status = true;
                spec.capture_config = CaptureConfig {
                    sink: Some(
                        convert::ip(cfg.sink_node_ip.as_ref(), "IP address")
                            .and_then(|a| a.ok_or_else(|| CliError::client("error parsing IP address: ParseAddr(\"\"): unable to parse IP")))
                            .map_err(err)?,
                    ),
                    udp_src_port: cfg.udp_src_port,
                    udp_dst_port: cfg.udp_dst_port,
                };
                for i in &cfg.interfaces {
                    let (kind, info) = match (&i.spec, i.interface_type) {
                        (Some(Spec::PfIndex(n)), t)
                            if t == proto::CaptureInterfaceType::SinglePf as i32 =>
                        {
                            ("pf", n.to_string())
                        }
                        (Some(Spec::VfName(n)), t)
                            if t == proto::CaptureInterfaceType::SingleVf as i32 =>
                        {
                            ("vf", convert::text(n))
                        }
                        (None, t) if t == proto::CaptureInterfaceType::SinglePf as i32 => {
                            ("pf", "0".to_owned())
                        }
                        (None, t) if t == proto::CaptureInterfaceType::SingleVf as i32 => {
                            ("vf", String::new())
                        }
                        _ => return Err(err(CliError::client("unsupported interface type"))),
                    };
                    spec.interfaces.push(CaptureInterface {
                        interface_type: kind.to_owned(),
                        interface_info: info,
                    });
                }
            }
            let obj = CaptureStatus {
                kind: "",
                metadata: NoMeta {},
                spec,
                status: reply_status(r.status.as_ref()),
            };
            ctx.print(&obj, "")
        }
    }
}

/// PF indexes of `--pf` (at most two, each 0 or 1), as written.
fn pf_indexes(s: &str) -> Result<Vec<(String, u32)>, String> {
    let parts: Vec<&str> = s.split(',').collect();
    if parts.len() > 2 {
        return Err("too many pf indexes specified".to_owned());
    }
    parts
        .into_iter()
        .map(|p| match atoi(p) {
            Err(e) => Err(format!("error parsing pf index: {e}")),
            Ok(n) if !(0..=1).contains(&n) => Err("pf index must be 0 or 1".to_owned()),
            Ok(n) => Ok((p.to_owned(), n as u32)),
        })
        .collect()
}

async fn start(a: StartArgs, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    a.extra.check()?;
    require(&[
        ("sink-node-ip", a.sink_node_ip.is_some()),
        ("udp-src-port", a.udp_src_port.is_some()),
        ("udp-dst-port", a.udp_dst_port.is_some()),
    ])?;
    let mut c = ctx.connect("error creating dpdk client").await?;
    let mut shown = Vec::new();
    let mut wire = Vec::new();
    if !a.pf.is_empty() {
        let pfs = pf_indexes(&a.pf)
            .map_err(|e| CliError::client(format!("error converting PF indexes: {e}")))?;
        for (text, n) in pfs {
            shown.push(CaptureInterface {
                interface_type: "pf".to_owned(),
                interface_info: text,
            });
            wire.push(proto::CapturedInterface {
                interface_type: proto::CaptureInterfaceType::SinglePf as i32,
                filter: Vec::new(),
                spec: Some(Spec::PfIndex(n)),
            });
        }
    }
    if !a.vf.is_empty() {
        for vf in a.vf.split(',') {
            shown.push(CaptureInterface {
                interface_type: "vf".to_owned(),
                interface_info: vf.to_owned(),
            });
            wire.push(proto::CapturedInterface {
                interface_type: proto::CaptureInterfaceType::SingleVf as i32,
                filter: Vec::new(),
                spec: Some(Spec::VfName(vf.as_bytes().to_vec())),
            });
        }
    }
    let config = CaptureConfig {
        sink: a.sink_node_ip,
        udp_src_port: a.udp_src_port.unwrap_or_default(),
        udp_dst_port: a.udp_dst_port.unwrap_or_default(),
    };
    let r = rpc!(c.capture_start(proto::CaptureStartRequest {
        capture_config: Some(proto::CaptureConfig {
            sink_node_ip: config.sink.as_ref().map(to_ip),
            udp_src_port: config.udp_src_port,
            udp_dst_port: config.udp_dst_port,
            interfaces: wire,
        }),
    }))
    .map_err(|e| e.context("error initializing packet capturing"))?;
    let sink = config
        .sink
        .as_ref()
        .map_or_else(|| "invalid IP".to_owned(), ToString::to_string);
    let obj = CaptureStart {
        kind: "CaptureStart",
        metadata: CaptureStartMeta {
            capture_config: config,
        },
        spec: CaptureStartSpec { interfaces: shown },
        status: reply_status(r.status.as_ref()),
    };
    ctx.print(&obj, &format!("Packet capturing initialized: {sink}\n"))
}
