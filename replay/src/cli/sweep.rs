//! `sweep`: many random seeds with random fault schedules and crash points, on every
//! core; the first failure prints the one command that reproduces it.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use effects::Discard;
use effects::sim::{scenario, simulate_into};

use super::{CliError, Outcome};

pub(super) fn run(seeds: u64, from: u64) -> Result<Outcome, CliError> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get) as u64;
    let next = AtomicU64::new(from);
    let (steps, crashes, runs) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let stop = AtomicBool::new(false);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= from + seeds {
                        break;
                    }
                    let report = simulate_into(&scenario::random(seed, true), seed, &mut Discard);
                    steps.fetch_add(report.steps, Ordering::Relaxed);
                    crashes.fetch_add(report.crashes.len() as u64, Ordering::Relaxed);
                    runs.fetch_add(1, Ordering::Relaxed);
                    if !report.failures.is_empty() {
                        stop.store(true, Ordering::Relaxed);
                        if let Ok(mut failures) = failures.lock() {
                            failures.push((seed, super::simulate::render_report(&report)));
                        }
                    }
                }
            });
        }
    });
    let mut out = format!(
        "{} seeds ({}..{}): {} steps, {} crash points exercised\n",
        runs.load(Ordering::Relaxed),
        from,
        from + seeds,
        steps.load(Ordering::Relaxed),
        crashes.load(Ordering::Relaxed)
    );
    let mut failures = failures.into_inner().unwrap_or_default();
    failures.sort_by_key(|(seed, _)| *seed);
    if let Some((seed, report)) = failures.first() {
        out.push_str(report);
        let _ = writeln!(out, "reproduce: seqrec simulate --seed {seed} --crash-points all");
        return Ok(Outcome::Failed(out));
    }
    out.push_str("all runs converged with every world check holding\n");
    Ok(Outcome::Done(out))
}
