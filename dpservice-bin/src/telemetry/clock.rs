//! The cycle clock for per-node cycle counts (`graph/cycles.rs`).
//!
//! Reading the time-stamp counter directly needs `unsafe`; the monotonic clock (vDSO,
//! some 20 ns) scaled by the CPU frequency gives the same unit without it. The
//! frequency is read once from `/proc/cpuinfo` by [`calibrate`]; without it one cycle
//! counts as one nanosecond.

use std::sync::OnceLock;
use std::time::Instant;

/// Start of the count and cycles per nanosecond.
static BASE: OnceLock<(Instant, f64)> = OnceLock::new();

/// Reads the CPU frequency (call once at start-up, before the worker runs).
pub fn calibrate() {
    BASE.get_or_init(|| (Instant::now(), cycles_per_ns()));
}

/// Cycles since [`calibrate`] (or the first call).
pub fn cycles_now() -> u64 {
    let (start, per_ns) = BASE.get_or_init(|| (Instant::now(), 1.0));
    (start.elapsed().as_nanos() as f64 * per_ns) as u64
}

fn cycles_per_ns() -> f64 {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| cpu_mhz(&text))
        .map_or(1.0, |mhz| mhz / 1000.0)
}

/// The first `cpu MHz` of a `/proc/cpuinfo` text.
fn cpu_mhz(cpuinfo: &str) -> Option<f64> {
    cpuinfo
        .lines()
        .find(|l| l.starts_with("cpu MHz"))
        .and_then(|l| l.split(':').nth(1))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|mhz| *mhz > 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequency_from_cpuinfo() {
        let text = "processor\t: 0\nmodel name\t: X\ncpu MHz\t\t: 2445.406\ncache size\t: 512 KB\n";
        assert_eq!(cpu_mhz(text), Some(2445.406));
        assert_eq!(cpu_mhz("processor\t: 0\n"), None);
        assert_eq!(cpu_mhz("cpu MHz : junk\n"), None);
    }

    #[test]
    fn the_clock_moves_forward() {
        calibrate();
        let a = cycles_now();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(cycles_now() > a);
    }
}
