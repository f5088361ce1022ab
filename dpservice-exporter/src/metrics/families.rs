//! A thin layer over `prometheus::Registry`: declare a family with its label names, set
//! one series per call, encode everything as text format 0.0.4.

use prometheus::core::Collector;
use prometheus::{CounterVec, Encoder, GaugeVec, Opts, Registry, TextEncoder};

/// The families of one rendering.
#[derive(Debug)]
pub struct Families {
    registry: Registry,
}

impl Default for Families {
    fn default() -> Self {
        Self::new()
    }
}

impl Families {
    /// An empty set (no process or runtime collectors: upstream's tests reject them).
    pub fn new() -> Families {
        Families {
            registry: Registry::new(),
        }
    }

    /// Declares a gauge family.
    pub fn gauge(&self, name: &str, help: &str, labels: &[&str]) -> prometheus::Result<GaugeVec> {
        let family = GaugeVec::new(Opts::new(name, help), labels)?;
        self.register(&family)?;
        Ok(family)
    }

    /// Declares a counter family.
    pub fn counter(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> prometheus::Result<CounterVec> {
        let family = CounterVec::new(Opts::new(name, help), labels)?;
        self.register(&family)?;
        Ok(family)
    }

    fn register<C: Collector + Clone + 'static>(&self, family: &C) -> prometheus::Result<()> {
        self.registry.register(Box::new(family.clone()))
    }

    /// Text format: families sorted by name, series by label values, label pairs by
    /// name, `# HELP` and `# TYPE` before each family, no blank lines; families without
    /// series are left out.
    pub fn encode(&self) -> prometheus::Result<String> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        String::from_utf8(out).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}

/// Sets a gauge series.
pub fn set(family: &GaugeVec, labels: &[&str], value: f64) {
    family.with_label_values(labels).set(value);
}

/// Sets a counter series to the daemon's absolute value (a fresh registry starts at 0);
/// a negative or non-finite value (never sent by a sane daemon) is left out.
pub fn set_counter(family: &CounterVec, labels: &[&str], value: f64) {
    if value.is_finite() && value >= 0.0 {
        family.with_label_values(labels).inc_by(value);
    }
}
