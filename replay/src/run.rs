//! Runs events through the core, checking the invariants of recovery.md §9 after every
//! step, and keeps what the trace and audit render.

use machine::invariants::{self, Monotone, Violation};
use machine::{Event, Hash32, State, Step, step};

/// One executed step.
#[derive(Clone, Debug)]
pub struct Traced {
    /// 0-based sequence number.
    pub seq: u64,
    /// Where the event came from (a script line), if known.
    pub line: Option<usize>,
    /// The event.
    pub event: Event,
    /// What the core returned.
    pub step: Step,
    /// The state hash after the step.
    pub state_hash: Hash32,
    /// A one-line summary of the state after the step.
    pub summary: String,
}

/// A run of events: every step, the final state, and the first invariant violation.
#[derive(Debug)]
pub struct Run {
    /// Every step, in order.
    pub steps: Vec<Traced>,
    /// The state after the last step.
    pub state: State,
    /// The first invariant violation, with the step's sequence number.
    pub violation: Option<(u64, Violation)>,
}

/// Runs `events` from the empty state.
#[must_use]
pub fn run<'a>(events: impl IntoIterator<Item = (Option<usize>, &'a Event)>) -> Run {
    let mut state = State::new();
    let mut steps = Vec::new();
    let mut violation = None;
    for (seq, (line, event)) in (0_u64..).zip(events) {
        let before = Monotone::of(&state);
        let (next, stepped) = step(state, event);
        state = next;
        if violation.is_none()
            && let Err(error) = invariants::check(&state).and_then(|()| before.check_step(&state, &stepped))
        {
            violation = Some((seq, error));
        }
        steps.push(Traced {
            seq,
            line,
            event: event.clone(),
            step: stepped,
            state_hash: state.state_hash(),
            summary: summary(&state),
        });
    }
    Run { steps, state, violation }
}

/// `frontier 2 | generation 0 | W 1 | safe 103 | path 0:G 1:G 2:T`.
#[must_use]
pub fn summary(state: &State) -> String {
    use std::fmt::Write as _;
    let mut out = format!(
        "frontier {} | generation {} | W {} | safe {}",
        state.scheduler().expected_nonce,
        state.generation(),
        state.wallet().watermark.map_or_else(|| "none".to_owned(), |w| w.to_string()),
        state.view().safe_block.map_or_else(|| "none".to_owned(), |b| b.to_string()),
    );
    if let Some(nonce) = state.scheduler().divergence {
        let _ = write!(out, " | DIVERGED at nonce {nonce}");
    }
    out.push_str(" | path");
    for (index, color) in state.colors() {
        let _ = write!(out, " {index}:{}", color.letter());
    }
    out
}
