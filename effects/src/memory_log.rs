//! In-memory log sinks: [`MemoryLog`] keeps every record (for tests that compare whole
//! runs), [`Discard`] none, [`Replayer`] only the state a restarted process rebuilds from the log.

use machine::drive::{Driver, Failure};
use machine::{Effect, Event, State};

use crate::ports::LogSink;

/// Records in memory.
#[derive(Clone, Debug, Default)]
pub struct MemoryLog {
    /// Each step's event and effects, in order.
    pub records: Vec<(Event, Vec<Effect>)>,
}

impl LogSink for MemoryLog {
    fn append(&mut self, event: &Event, effects: &[Effect]) -> Result<(), String> {
        self.records.push((event.clone(), effects.to_vec()));
        Ok(())
    }
}

/// A sink that keeps nothing: for runs judged by their report alone (sweeps, benchmarks).
#[derive(Clone, Copy, Debug, Default)]
pub struct Discard;

impl LogSink for Discard {
    fn append(&mut self, _event: &Event, _effects: &[Effect]) -> Result<(), String> {
        Ok(())
    }
}

/// A replay of the log kept up to date as each record is appended, so that a restart
/// finds its state ready and memory stays bounded by the state, not by the log.
#[derive(Clone, Debug, Default)]
pub struct Replayer {
    driver: Driver,
    first_difference: Option<u64>,
}

impl Replayer {
    /// The state after every record appended so far.
    #[must_use]
    pub fn state(&self) -> &State {
        self.driver.state()
    }

    /// The first record whose re-executed effects differ from the recorded ones, if any.
    #[must_use]
    pub fn first_difference(&self) -> Option<u64> {
        self.first_difference
    }
}

impl LogSink for Replayer {
    fn append(&mut self, event: &Event, effects: &[Effect]) -> Result<(), String> {
        let stepped = self.driver.replay(event, |replayed| replayed == effects);
        if self.first_difference.is_none() && stepped.failure == Some(Failure::Effects) {
            self.first_difference = Some(stepped.seq);
        }
        Ok(())
    }
}
