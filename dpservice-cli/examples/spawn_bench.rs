//! Times complete runs (spawn to exit) of several commands, interleaved so that a busy
//! machine slows all of them alike, and prints one JSON line per command: median, p10,
//! p90 and min wall time in microseconds. Used by `scripts/bench-cli-startup.sh`.
//!
//! Usage: `spawn_bench <runs> <name>=<program and args, space-separated> ...`

use std::process::{Command, Stdio};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: spawn_bench <runs> <name>=<command line> ...";
    let runs: usize = args.next().ok_or(usage)?.parse()?;
    let commands: Vec<(String, Vec<String>)> = args
        .map(|a| {
            let (name, line) = a.split_once('=').ok_or(usage)?;
            Ok::<_, &str>((
                name.to_owned(),
                line.split(' ').map(str::to_owned).collect(),
            ))
        })
        .collect::<Result<_, _>>()?;
    let run = |argv: &[String]| -> Result<u128, Box<dyn std::error::Error>> {
        let start = Instant::now();
        let status = Command::new(&argv[0])
            .args(&argv[1..])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        let took = start.elapsed().as_micros();
        if !status.success() {
            return Err(format!("{} failed: {status}", argv.join(" ")).into());
        }
        Ok(took)
    };
    let mut samples = vec![Vec::with_capacity(runs); commands.len()];
    for round in 0..runs.max(1) + 20 {
        for (i, (_, argv)) in commands.iter().enumerate() {
            let took = run(argv)?;
            if round >= 20 {
                samples[i].push(took);
            }
        }
    }
    for ((name, _), mut s) in commands.iter().zip(samples) {
        s.sort_unstable();
        let at = |q: f64| s[((s.len() - 1) as f64 * q).round() as usize];
        println!(
            "{{\"name\":\"{name}\",\"runs\":{},\"median_us\":{},\"p10_us\":{},\"p90_us\":{},\"min_us\":{}}}",
            s.len(),
            at(0.5),
            at(0.1),
            at(0.9),
            s[0]
        );
    }
    Ok(())
}
