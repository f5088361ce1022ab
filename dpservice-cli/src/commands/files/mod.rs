//! `create -f` / `delete -f`: objects read from files (spec §7).
//!
//! Every source is decoded before the first call, so a bad file changes nothing. Each
//! object is then created (or deleted) in order; a failure is reported on its own line
//! and the next object is processed.

mod decode;

use decode::{collect, FileObject};

use super::create_calls::Create;
use super::delete::{self, Key};
use super::{Client, Ctx};
use crate::cli::parsers::flatten;
use crate::cli::Sources;
use crate::error::{CliError, EXIT_CLIENT, EXIT_SERVICE};
use crate::syntax::{Addr, Prefix as IpPrefix};

/// Creates every object of the sources.
pub async fn create(sources: &Sources, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    let (mut c, objects) = open(sources, ctx).await?;
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
    let (mut c, objects) = open(sources, ctx).await?;
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

/// Connects, checks `-o`, and decodes every source, before the first call.
async fn open(sources: &Sources, ctx: &Ctx<'_>) -> Result<(Client, Vec<FileObject>), CliError> {
    let c = ctx.connect("error creating dpdk client").await?;
    ctx.format()?;
    let objects =
        collect(&flatten(&sources.filename)).map_err(|e| e.context("error collecting objects"))?;
    Ok((c, objects))
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
        FileObject::Interface(o) => ctx.print(&o.create(c).await?, OP),
        FileObject::Prefix(o) => ctx.print(&o.create(c).await?, OP),
        FileObject::Route(o) => ctx.print(&o.create(c).await?, OP),
        FileObject::VirtualIp(o) => ctx.print(&o.create(c).await?, OP),
        FileObject::LoadBalancer(o) => ctx.print(&o.create(c).await?, OP),
        FileObject::LbPrefix(o) => ctx.print(&o.create(c).await?, OP),
        FileObject::LbTarget(o) => ctx.print(&o.create(c).await?, OP),
        FileObject::Nat(o) => ctx.print(&o.create(c).await?, OP),
        FileObject::NeighborNat(o) => ctx.print(&o.create(c).await?, OP),
        FileObject::FirewallRule(o) => ctx.print(&o.create(c).await?, OP),
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
