//! `seqrec check` (issue 12, item 1): exhaustive bounded exploration of the real core
//! against a small abstract L1 world, deduplicated by a lossless encoding of the core's
//! state and the world's, with the invariants of docs/protocol.md §9, the world's
//! properties and a fault-free completion after every step, and the shortest
//! counterexample printed as an event script `seqrec replay` reads.
//!
//! `world/` is the world, its moves, answers and scheduler, `explore.rs` the breadth-first
//! search and the completions, `frontier.rs` the compact encoding of a pair;
//! docs/check-design.md says what is modelled, what is bounded and what is next.

pub mod explore;
mod frontier;
pub mod world;

use std::fmt::Write as _;

use machine::Event;

pub use explore::{Counterexample, ExtraProperty, Finding, Report, Scope, explore};
pub use world::{Bounds, Features, Move, World};

/// The default scope's depth: with the other defaults (batches 2, crashes 1, faults 1,
/// unsafe-blocks 1, every world feature) about 1.9 million distinct states, under a
/// minute in a release build (BENCHMARKS.md).
pub const DEFAULT_DEPTH: u32 = 13;

/// The default bound of the fault-free completion, in moves: enough for a danger exit,
/// a restart, the flush, its witness, the cascade and admission, with room to spare.
pub const SETTLE_WITHIN: u32 = 40;

/// The config every boot of the checked world carries: a danger threshold of 3 blocks
/// (max wait 4, margin 1) so danger, flush and cascade are reachable in a few moves, the
/// view stale after 2 block-times, and both cadences one block-time.
const BOOT_CONFIG: &str = r#"{"ev":"boot","now_ms":0,"config":{"chain_id":31337,"batch_submitter":"0x1111111111111111111111111111111111111111","inbox":"0x2222222222222222222222222222222222222222","max_wait_blocks":4,"preemptive_margin_blocks":1,"l1_read_stale_after_blocks":2,"seconds_per_block":12,"detector_interval_ms":12000,"submit_interval_ms":12000}}"#;

/// The `boot` event of the checked world.
///
/// # Errors
/// Only if the built-in config stops parsing (a changed `RawConfig`): the message says so.
pub fn boot_event() -> Result<Event, serde_json::Error> {
    serde_json::from_str(BOOT_CONFIG)
}

/// The situations `seqrec check --witness NAME` looks for: the shortest script reaching
/// each shows what the scope covers (docs/check-design.md).
pub const WITNESSES: &[&str] = &["closed", "bronze", "silver", "gold", "cascade", "divergence"];

/// The property that fails once the situation `name` is reached.
#[must_use]
pub fn witness(name: &str) -> Option<ExtraProperty> {
    fn colored(state: &machine::State, wanted: machine::Color) -> bool {
        state.colors().iter().any(|(_, color)| *color == wanted)
    }
    fn closed(state: &machine::State) -> Option<String> {
        state.colors().iter().any(|(_, color)| *color != machine::Color::Tip).then(|| "witness: closed".to_owned())
    }
    fn bronze(state: &machine::State) -> Option<String> {
        colored(state, machine::Color::Bronze).then(|| "witness: bronze".to_owned())
    }
    fn silver(state: &machine::State) -> Option<String> {
        colored(state, machine::Color::Silver).then(|| "witness: silver".to_owned())
    }
    fn gold(state: &machine::State) -> Option<String> {
        colored(state, machine::Color::Gold).then(|| "witness: gold".to_owned())
    }
    fn cascade(state: &machine::State) -> Option<String> {
        (state.generation() > 0).then(|| "witness: cascade".to_owned())
    }
    fn divergence(state: &machine::State) -> Option<String> {
        state.scheduler().divergence.is_some().then(|| "witness: divergence".to_owned())
    }
    match name {
        "closed" => Some(closed),
        "bronze" => Some(bronze),
        "silver" => Some(silver),
        "gold" => Some(gold),
        "cascade" => Some(cascade),
        "divergence" => Some(divergence),
        _ => None,
    }
}

/// Renders the figures, one per line (or one JSON object with `json`).
#[must_use]
pub fn render_report(report: &Report, scope: &Scope, json: bool) -> String {
    let seconds = (report.elapsed_ms as f64 / 1000.0).max(0.001);
    let states_per_s = report.states as f64 / seconds;
    let peak_mib = peak_rss_bytes().map(|bytes| bytes / (1 << 20));
    if json {
        let value = serde_json::json!({
            "depth": scope.depth,
            "batches": scope.bounds.batches,
            "crashes": scope.bounds.crashes,
            "faults": scope.bounds.faults,
            "unsafe_blocks": scope.bounds.unsafe_blocks,
            "features": scope.bounds.features.names(),
            "settle_within": scope.settle_within,
            "settle_max": report.settle_max,
            "states": report.states,
            "transitions": report.transitions,
            "depth_reached": report.depth_reached,
            "exhausted": report.exhausted,
            "truncated": report.truncated,
            "elapsed_ms": report.elapsed_ms,
            "states_per_s": states_per_s.round(),
            "peak_rss_mib": peak_mib,
            "violation": report.violation.as_ref().map(|found| serde_json::json!({
                "what": found.what,
                "events": found.events.len(),
            })),
        });
        return format!("{value}\n");
    }
    let mut out = String::new();
    let features = scope.bounds.features.names();
    let features = if features.is_empty() { "none".to_owned() } else { features.join(",") };
    let _ = writeln!(
        out,
        "scope: depth {} batches {} crashes {} faults {} unsafe-blocks {} features {features} settle-within {}",
        scope.depth,
        scope.bounds.batches,
        scope.bounds.crashes,
        scope.bounds.faults,
        scope.bounds.unsafe_blocks,
        scope.settle_within
    );
    let _ = writeln!(out, "distinct states: {}", report.states);
    let _ = writeln!(out, "transitions: {}", report.transitions);
    let how = if report.exhausted {
        " (scope exhausted)"
    } else if report.truncated {
        " (stopped at --max-states)"
    } else {
        ""
    };
    let _ = writeln!(out, "depth reached: {}{how}", report.depth_reached);
    let _ = writeln!(out, "time: {:.3} s, {:.0} states/s", seconds, states_per_s);
    if let Some(mib) = peak_mib {
        let _ = writeln!(out, "peak memory: {mib} MiB (the process's peak RSS)");
    }
    if scope.settle_within > 0 {
        let _ = writeln!(out, "fault-free completion: settles within {} moves from every state", report.settle_max);
    }
    match &report.violation {
        None => out.push_str("violations: 0\n"),
        Some(found) => {
            let _ = writeln!(out, "violation: {} after {} events", found.what, found.events.len());
        }
    }
    out
}

/// The process's peak resident set size (`VmHWM`), where the system reports it (Linux).
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|line| line.strip_prefix("VmHWM:"))?;
    let kib: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kib * 1024)
}

/// The counterexample as an event script: a comment header (what broke, the world's
/// moves) and one event per line, which `seqrec replay` reads.
///
/// # Errors
/// Only if serde_json fails, which the event types cannot cause.
pub fn render_counterexample(found: &Counterexample) -> Result<String, serde_json::Error> {
    let mut out = String::new();
    let _ = writeln!(out, "# seqrec check counterexample: {}", found.what);
    let _ = writeln!(out, "# {} events; the world's moves, in order:", found.events.len());
    for chosen in &found.moves {
        let _ = writeln!(out, "#   {chosen:?}");
    }
    out.push_str(&crate::script::render(&found.events)?);
    Ok(out)
}

#[cfg(test)]
mod tests;
