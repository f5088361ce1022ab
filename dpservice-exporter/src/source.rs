//! Where `/metrics` gets its text: the latest timer poll (upstream's behaviour), or a
//! fresh poll on every scrape.

use std::sync::{Mutex, PoisonError, RwLock};

use crate::args::MetricSet;
use crate::link::{Link, LinkError};
use crate::metrics::{render, Labels, RenderError};

/// Why a scrape gets no metrics (answered with HTTP 503).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The daemon cannot be read now.
    #[error("dpservice-bin cannot be read: {0}")]
    Daemon(#[from] LinkError),
    /// Rendering failed.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The timer loop has no current values (the daemon is gone).
    #[error("no current values: {0}")]
    Stale(String),
}

/// The daemon reader and how to render what it reads.
#[derive(Debug)]
pub struct Collector {
    /// The connection.
    pub link: Link,
    /// Families served.
    pub set: MetricSet,
    /// `node` label value.
    pub hostname: String,
}

impl Collector {
    /// One poll cycle, rendered.
    pub fn collect(&mut self) -> Result<String, SourceError> {
        let snapshot = self.link.poll()?;
        let labels = Labels {
            hostname: &self.hostname,
        };
        Ok(render(&snapshot, self.set, &labels)?)
    }
}

/// What the HTTP server reads.
#[derive(Debug)]
pub enum MetricsSource {
    /// Text rendered by the timer loop ([`MetricsSource::publish`]).
    Polled {
        /// The latest result.
        latest: RwLock<Result<String, String>>,
        /// The collector the timer loop drives.
        collector: Mutex<Collector>,
    },
    /// Polled on every scrape.
    OnScrape(Mutex<Collector>),
}

impl MetricsSource {
    /// The body of a `/metrics` answer.
    pub fn text(&self) -> Result<String, SourceError> {
        match self {
            MetricsSource::Polled { latest, .. } => latest
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
                .map_err(SourceError::Stale),
            MetricsSource::OnScrape(collector) => collector
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .collect(),
        }
    }

    /// The collector (for the supervising loop).
    pub fn collector(&self) -> &Mutex<Collector> {
        match self {
            MetricsSource::Polled { collector, .. } | MetricsSource::OnScrape(collector) => {
                collector
            }
        }
    }

    /// Timer mode: polls now and keeps the result for the scrapes until the next poll;
    /// scrape mode: checks that the daemon still answers. Returns whether it did.
    pub fn refresh(&self) -> bool {
        let mut collector = self
            .collector()
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match self {
            MetricsSource::Polled { latest, .. } => {
                let result = collector.collect();
                let ok = result.is_ok();
                if let Err(e) = &result {
                    tracing::warn!(error = %e, "poll failed");
                }
                *latest.write().unwrap_or_else(PoisonError::into_inner) =
                    result.map_err(|e| e.to_string());
                ok
            }
            MetricsSource::OnScrape(_) => collector.link.check().is_ok(),
        }
    }
}
