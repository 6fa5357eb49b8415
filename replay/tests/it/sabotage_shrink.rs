//! With the core deliberately broken (`--cfg seqrec_sabotage`: the cascade pivots one
//! batch late), a simulator run ends in an invariant violation, and `seqrec shrink`
//! turns its log into a script of at most 40 events that still violates it. Compiled
//! only in that build (`cargo xtask ci` runs it in `target/sabotage`).

#![cfg(seqrec_sabotage)]

use std::sync::atomic::Ordering;

use replay::shrink::{Property, shrink};

use super::support::scratch;

#[test]
fn a_sabotaged_simulator_log_shrinks_to_a_short_violating_script() {
    let scenario = effects::sim::scenario::by_name("repeated-incidents").unwrap();
    machine::sabotage::CASCADE_PIVOT_ONE_LATE.store(true, Ordering::Relaxed);
    let report = effects::sim::simulate(&scenario, 1);
    let events: Vec<machine::Event> = report.log.records.into_iter().map(|(event, _)| event).collect();
    let original = events.len();
    let shrunk = shrink(events, &Property::Violation, &scratch("sabotage-shrink"), "the sabotaged simulation");
    machine::sabotage::CASCADE_PIVOT_ONE_LATE.store(false, Ordering::Relaxed);
    let shrunk = shrunk.unwrap();
    println!("{original} events -> {} ({} candidates)\n{}", shrunk.events.len(), shrunk.tries, shrunk.script);
    assert!(original > 1_000, "a long simulator log: {original} events");
    assert!(shrunk.events.len() <= 40, "{} events:\n{}", shrunk.events.len(), shrunk.script);
}
