//! Benchmark: `step` over a synthetic day of operation (see `synthetic.rs`): 7,200 safe
//! heads, about 1,000 batches and 3 recoveries. The events are recorded first; the timed
//! part steps them from the empty state. The goal (issue 2) is at least 5 million
//! events/s on one core.

// The library is `seqrec_machine`; `synthetic.rs`, shared with replay's benches, names
// it `machine` as the workspace does.
extern crate seqrec_machine as machine;

use std::hint::black_box;
use std::time::Instant;

use machine::{State, step};

mod synthetic;

fn main() {
    let mut events = Vec::new();
    let summary = synthetic::drive(1, |event, _| events.push(event.clone()));
    println!(
        "synthetic day: {} events, {} safe heads, {} batches sealed, {} recoveries (cascades), gold frontier {}",
        summary.events, summary.blocks, summary.sealed, summary.cascades, summary.frontier,
    );
    let rounds = 20;
    let mut best = f64::MAX;
    for _ in 0..rounds {
        let started = Instant::now();
        let mut state = State::new();
        for event in &events {
            let (next, stepped) = step(state, black_box(event));
            black_box(&stepped);
            state = next;
        }
        black_box(&state);
        best = best.min(started.elapsed().as_secs_f64());
    }
    let rate = events.len() as f64 / best;
    println!(
        "step: best of {rounds} runs {:.1} ms for {} events = {:.2} million events/s (goal >= 5)",
        best * 1e3,
        events.len(),
        rate / 1e6
    );
}
