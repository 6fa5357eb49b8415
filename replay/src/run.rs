//! Runs events through the core, checking the invariants of docs/protocol.md §9 after every
//! step: [`Steps`] streams what the trace and audit render, one step at a time, and
//! [`run`] collects it for the commands that print every step.

use machine::drive::{Drive, Driver, Failure};
use machine::invariants::Violation;
use machine::{BlockNumber, Event, Hash32, State, Step};

use crate::landings::{Landing, Landings};

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
    /// The L1 safe head the state knows after the step (the audit's block column).
    pub safe_block: Option<BlockNumber>,
    /// Our landings the step's event showed, with the scheduler's verdict on safe ones.
    pub landings: Vec<Landing>,
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

/// Runs `events` from the empty state, keeping every step.
#[must_use]
pub fn run<'a>(events: impl IntoIterator<Item = (Option<usize>, &'a Event)>) -> Run {
    let mut stream = steps(events);
    let steps = stream.by_ref().collect();
    let violation = stream.violation.take();
    Run { steps, state: stream.into_state(), violation }
}

/// Streams `events` from the empty state, checking invariants after each step; memory
/// is bounded by the state, not by the number of events.
#[must_use]
pub fn steps<'a, I>(events: I) -> Steps<I::IntoIter>
where
    I: IntoIterator<Item = (Option<usize>, &'a Event)>,
{
    Steps {
        drive: Driver::new(State::new()).checking_invariants(true).drive(events),
        violation: None,
        landings: Landings::default(),
    }
}

/// The steps of a run, as an iterator of [`Traced`].
#[derive(Debug)]
pub struct Steps<I> {
    drive: Drive<I>,
    violation: Option<(u64, Violation)>,
    landings: Landings,
}

impl<I> Steps<I> {
    /// The first invariant violation so far, with the step's sequence number.
    #[must_use]
    pub fn violation(&self) -> Option<&(u64, Violation)> {
        self.violation.as_ref()
    }

    /// The state after the last step taken.
    #[must_use]
    pub fn into_state(self) -> State {
        self.drive.into_driver().into_state()
    }
}

impl<'a, I: Iterator<Item = (Option<usize>, &'a Event)>> Iterator for Steps<I> {
    type Item = Traced;

    fn next(&mut self) -> Option<Traced> {
        let ((line, event), stepped) = self.drive.next()?;
        if self.violation.is_none()
            && let Some(Failure::Invariant(violation)) = stepped.failure
        {
            self.violation = Some((stepped.seq, violation));
        }
        let landings = self.landings.after_step(event, stepped.state);
        Some(Traced {
            landings,
            seq: stepped.seq,
            line,
            event: event.clone(),
            state_hash: stepped.state.state_hash(),
            summary: summary(stepped.state),
            safe_block: stepped.state.view().safe_block,
            step: stepped.step,
        })
    }
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
