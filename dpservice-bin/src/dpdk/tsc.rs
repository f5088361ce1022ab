//! The time-stamp counter as the graph's cycle clock under DPDK, as upstream counts its
//! per-node cycles (`rte_rdtsc`). A read is one instruction; the portable clock
//! (`telemetry::clock`: the vDSO's `clock_gettime` scaled by the CPU frequency) costs
//! ~20 ns per read and took ~10 % of the DPDK worker's time (BENCHMARKS.md, "DPDK
//! backend"). The unit is the same: cycles at the nominal frequency.

/// TSC cycles now (on x86-64; elsewhere the portable clock).
pub fn cycles_now() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `rdtsc` reads a counter every x86-64 CPU has and touches no memory.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        crate::telemetry::clock::cycles_now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counter_moves_forward_at_about_the_cpu_frequency() {
        let a = cycles_now();
        std::thread::sleep(std::time::Duration::from_millis(10));
        let b = cycles_now();
        // 10 ms at 0.5 GHz or more (any CPU DPDK runs on) is at least 5 million cycles
        assert!(b - a >= 5_000_000, "{a} -> {b}");
    }
}
