//! The one stepping driver: every loop that re-executes events (the executor, the
//! replayer, script runs, log verification, snapshots, imports, the incident picture)
//! steps through a [`Driver`], so the state threading, the sequence numbers and the
//! opt-in checks (invariants, recorded effects) live in one place.
//!
//! [`Drive`] is the iterator form: a lending `next` that yields each item, its [`Step`]
//! and the state after it without cloning the state (a `std::iter::Iterator` cannot
//! hand out a borrow of itself).

use crate::invariants::{self, Monotone, Violation};
use crate::{Effect, Event, State, Step, step};

/// The invariant checks of one step (docs/protocol.md §9), captured before and judged after.
///
/// Every caller checks through here. The check is incremental ([`Monotone::check_step`]):
/// the whole state is checked again only when the step changed what that check reads,
/// so a long replay stays linear; [`Checks::full`] checks the whole state (at checkpoints).
#[derive(Clone, Debug)]
pub struct Checks {
    before: Monotone,
}

impl Checks {
    /// What the step may not undo, taken from the state before it.
    #[must_use]
    pub fn before(state: &State) -> Self {
        Checks { before: Monotone::of(state) }
    }

    /// The invariants after the step, and what the step changed against `before`.
    ///
    /// # Errors
    /// The first [`Violation`].
    pub fn after_step(&self, after: &State, step: &Step) -> Result<(), Violation> {
        self.before.check_step(after, step)
    }

    /// Every invariant of the whole state, whatever changed.
    ///
    /// # Errors
    /// The first [`Violation`].
    pub fn full(state: &State) -> Result<(), Violation> {
        invariants::check(state)
    }
}

/// Why a step failed its opt-in checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// This build's effects differ from the recorded ones.
    Effects,
    /// An invariant broke.
    Invariant(Violation),
}

/// One step as the driver took it.
#[derive(Debug)]
pub struct Stepped<'a> {
    /// 0-based sequence number of the step among those this driver took (plus its start).
    pub seq: u64,
    /// What the core returned.
    pub step: Step,
    /// The state after the step.
    pub state: &'a State,
    /// The first check that failed, if any (effects before invariants).
    pub failure: Option<Failure>,
}

/// A state stepped event by event, with the checks asked for.
#[derive(Clone, Debug, Default)]
pub struct Driver {
    state: State,
    seq: u64,
    invariants: bool,
}

impl Driver {
    /// Steps from `state` (the empty state for a new log) without checks.
    #[must_use]
    pub fn new(state: State) -> Self {
        Driver { state, seq: 0, invariants: false }
    }

    /// Checks the invariants after every step (off by default: a running node trusts its core).
    #[must_use]
    pub fn checking_invariants(mut self, on: bool) -> Self {
        self.invariants = on;
        self
    }

    /// Numbers the next step `seq` (a replay resumed after `seq` events).
    #[must_use]
    pub fn starting_at(mut self, seq: u64) -> Self {
        self.seq = seq;
        self
    }

    /// The state after the last step.
    #[must_use]
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The state, giving up the driver.
    #[must_use]
    pub fn into_state(self) -> State {
        self.state
    }

    /// The sequence number the next step gets.
    #[must_use]
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Steps `event`.
    pub fn step(&mut self, event: &Event) -> Stepped<'_> {
        self.replay(event, |_| true)
    }

    /// Steps a recorded `event`; `recorded_matches` compares this build's effects with the
    /// recorded ones (as `Vec<Effect>` or as the log's bytes, whichever the caller holds).
    pub fn replay(&mut self, event: &Event, recorded_matches: impl FnOnce(&[Effect]) -> bool) -> Stepped<'_> {
        let checks = self.invariants.then(|| Checks::before(&self.state));
        let (next, stepped) = step(std::mem::take(&mut self.state), event);
        self.state = next;
        let failure = if recorded_matches(&stepped.effects) {
            checks.and_then(|checks| checks.after_step(&self.state, &stepped).err()).map(Failure::Invariant)
        } else {
            Some(Failure::Effects)
        };
        let seq = self.seq;
        self.seq += 1;
        Stepped { seq, step: stepped, state: &self.state, failure }
    }

    /// Drives the events of `items`, one [`Drive::next`] at a time.
    #[must_use]
    pub fn drive<I>(self, items: I) -> Drive<I::IntoIter>
    where
        I: IntoIterator,
        I::Item: AsEvent,
    {
        Drive { driver: self, items: items.into_iter() }
    }
}

/// Something that carries an event: the event itself, or an event with a label (its
/// script line, say) after it.
pub trait AsEvent {
    /// The event to step.
    fn as_event(&self) -> &Event;
}

impl AsEvent for Event {
    fn as_event(&self) -> &Event {
        self
    }
}

impl<T: AsEvent + ?Sized> AsEvent for &T {
    fn as_event(&self) -> &Event {
        (**self).as_event()
    }
}

impl<L, T: AsEvent> AsEvent for (L, T) {
    fn as_event(&self) -> &Event {
        self.1.as_event()
    }
}

/// The iterator form of a [`Driver`]: each item with its step and the state after it.
#[derive(Debug)]
pub struct Drive<I> {
    driver: Driver,
    items: I,
}

impl<I> Drive<I> {
    /// The driver, for the state after the last item.
    #[must_use]
    pub fn driver(&self) -> &Driver {
        &self.driver
    }

    /// The driver, giving up the remaining items.
    #[must_use]
    pub fn into_driver(self) -> Driver {
        self.driver
    }
}

impl<I> Drive<I>
where
    I: Iterator,
    I::Item: AsEvent,
{
    /// Steps the next item; `None` when the items are exhausted.
    #[expect(clippy::should_implement_trait, reason = "a lending iterator: the state is borrowed from the drive")]
    pub fn next(&mut self) -> Option<(I::Item, Stepped<'_>)> {
        let item = self.items.next()?;
        let stepped = self.driver.step(item.as_event());
        Some((item, stepped))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_driver_numbers_steps_and_flags_differing_effects() {
        let events = [Event::Shutdown, Event::Shutdown];
        let mut driver = Driver::new(State::new()).checking_invariants(true).starting_at(5);
        let first = driver.replay(&events[0], |_| false);
        assert_eq!((first.seq, first.failure), (5, Some(Failure::Effects)));
        let mut drive = driver.drive(&events);
        let mut seqs = Vec::new();
        while let Some((_, stepped)) = drive.next() {
            assert_eq!(stepped.failure, None);
            seqs.push(stepped.seq);
        }
        assert_eq!(seqs, [6, 7]);
        assert_eq!(drive.driver().seq(), 8);
    }
}
