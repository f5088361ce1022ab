//! From a [`Snapshot`](crate::poll::Snapshot) to Prometheus' text exposition format.
//!
//! Every rendering builds a fresh registry from the latest snapshot, so a series whose
//! source vanished (a deleted interface, a removed port) disappears with the next poll
//! instead of keeping its last value forever as upstream's does.
//!
//! - [`upstream`]: upstream's eleven gauge families, names and labels exactly;
//! - [`native`]: `dpservice_*` families that follow Prometheus' naming rules;
//! - [`families`]: the small registry wrapper both use.

pub mod families;
pub mod native;
pub mod upstream;

use crate::args::MetricSet;
use crate::poll::Snapshot;

/// The registry refused a family or the encoder failed: a bug, not a data problem.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the metrics: {0}")]
pub struct RenderError(#[from] prometheus::Error);

/// Where the values came from besides the snapshot.
#[derive(Debug, Clone)]
pub struct Labels<'a> {
    /// Value of upstream's `node` label.
    pub hostname: &'a str,
}

/// The `/metrics` text for `snapshot`.
pub fn render(
    snapshot: &Snapshot,
    set: MetricSet,
    labels: &Labels<'_>,
) -> Result<String, RenderError> {
    let mut families = families::Families::new();
    if set.upstream() {
        upstream::add(&mut families, snapshot, labels)?;
    }
    if set.native() {
        native::add(&mut families, snapshot, labels)?;
    }
    Ok(families.encode()?)
}
