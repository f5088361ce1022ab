//! Times a command's complete run (spawn to exit) many times and prints one JSON line:
//! median, p10, p90 and min wall time in microseconds. Used by
//! `scripts/bench-cli-startup.sh`. Usage: `spawn_bench <name> <runs> <program> [args...]`.

use std::process::{Command, Stdio};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let name = args
        .next()
        .ok_or("usage: spawn_bench <name> <runs> <program> [args...]")?;
    let runs: usize = args.next().ok_or("missing run count")?.parse()?;
    let program = args.next().ok_or("missing program")?;
    let rest: Vec<String> = args.collect();
    let run = || -> Result<u128, Box<dyn std::error::Error>> {
        let start = Instant::now();
        let status = Command::new(&program)
            .args(&rest)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        let took = start.elapsed().as_micros();
        if !status.success() {
            return Err(format!("{program} failed: {status}").into());
        }
        Ok(took)
    };
    for _ in 0..runs.min(20) {
        run()?;
    }
    let mut samples = (0..runs.max(1))
        .map(|_| run())
        .collect::<Result<Vec<_>, _>>()?;
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{{\"name\":\"{name}\",\"runs\":{},\"median_us\":{},\"p10_us\":{},\"p90_us\":{},\"min_us\":{}}}",
        samples.len(),
        at(0.5),
        at(0.1),
        at(0.9),
        samples[0]
    );
    Ok(())
}
