//! Benchmark (issue 4): simulated L1 time per wall-clock second for the demo incident
//! (four hours of L1 at mainnet parameters with a 3.5-hour congestion), world checks
//! and crash-restart replay included. Goal: at least 100,000x real time, the four-hour
//! incident under 150 ms.

#![allow(clippy::print_stdout, clippy::cast_precision_loss, clippy::unwrap_used)]

use std::time::Instant;

use effects::Discard;
use effects::sim::{scenario, simulate_into};

fn main() {
    for (name, rounds) in [("demo", 7), ("congestion", 20)] {
        let scenario = scenario::by_name(name).unwrap();
        let mut best = f64::MAX;
        let mut report = None;
        for _ in 0..rounds {
            let started = Instant::now();
            let run = simulate_into(&scenario, 1, &mut Discard);
            best = best.min(started.elapsed().as_secs_f64());
            report = Some(run);
        }
        let report = report.unwrap();
        let simulated_s = report.virtual_ms as f64 / 1000.0;
        println!(
            "{name}: {:.1} h of L1 time ({} steps, {:?}, {} failures) in {:.0} ms (best of {rounds}) = {:.0}x real time (goal >= 100000x{})",
            simulated_s / 3600.0,
            report.steps,
            report.outcome,
            report.failures.len(),
            best * 1000.0,
            simulated_s / best,
            if name == "demo" { "; under 150 ms" } else { "" },
        );
    }
}
