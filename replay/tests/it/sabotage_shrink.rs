//! With the core deliberately broken (`--cfg seqrec_sabotage`: the cascade pivots one
//! batch late), a long simulator run ends in an invariant violation, and `seqrec shrink`
//! turns its log of more than 10,000 events into a script of at most 40 events that still
//! violates it. Compiled only in that build (`SEQREC_SABOTAGE_BUILD=1`; `cargo xtask ci`).

#![cfg(seqrec_sabotage)]

use std::sync::atomic::Ordering;

use machine::drive::Driver;
use replay::shrink::{Property, shrink};

use super::support::scratch;

/// Turns the cascade sabotage off again when the test ends, passed or not.
struct CascadePivotOneLate;

impl Drop for CascadePivotOneLate {
    fn drop(&mut self) {
        machine::sabotage::CASCADE_PIVOT_ONE_LATE.store(false, Ordering::Relaxed);
    }
}

#[test]
fn a_sabotaged_simulator_log_shrinks_to_a_short_violating_script() {
    // Fifty minutes of normal operation (batches sealed, sent, Gold), then one congestion
    // incident whose recovery the sabotaged cascade gets wrong: 12,529 events up to the
    // violation with seed 1, shrunk to 9 in 151 candidates (about 10 s in the sabotage build).
    let minute = 60_000;
    let mut scenario = effects::sim::scenario::by_name("congestion").unwrap();
    scenario.faults = vec![effects::sim::scenario::Fault::Congestion { from_ms: 50 * minute, to_ms: 60 * minute }];
    scenario.run_ms = 60 * minute;
    let _off = CascadePivotOneLate;
    machine::sabotage::CASCADE_PIVOT_ONE_LATE.store(true, Ordering::Relaxed);
    let report = effects::sim::simulate(&scenario, 1);
    let mut events: Vec<machine::Event> = report.log.records.into_iter().map(|(event, _)| event).collect();
    // The log as it stood when the first violation was stepped: it ends in the violation.
    let mut driver = Driver::new(machine::State::new()).checking_invariants(true);
    let first = events.iter().position(|event| driver.step(event).failure.is_some());
    let first = first.expect("the sabotaged core breaks an invariant");
    events.truncate(first + 1);
    let original = events.len();
    let shrunk = shrink(events, &Property::Violation, &scratch("sabotage-shrink"), "the sabotaged simulation").unwrap();
    println!("{original} events -> {} ({} candidates)\n{}", shrunk.events.len(), shrunk.tries, shrunk.script);
    assert!(original >= 10_000, "a long simulator log: {original} events");
    assert!(shrunk.events.len() <= 40, "{} events:\n{}", shrunk.events.len(), shrunk.script);
}
