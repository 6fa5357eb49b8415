//! An in-memory log sink: what the simulator records (and writes to a file at the end),
//! and what a restarted process rebuilds its state from.

use machine::{Effect, Event, State, step};

use crate::ports::LogSink;

/// Records in memory.
#[derive(Clone, Debug, Default)]
pub struct MemoryLog {
    /// Each step's event and effects, in order.
    pub records: Vec<(Event, Vec<Effect>)>,
}

/// A replay of a [`MemoryLog`] kept up to date as the log grows, so that each restart
/// re-executes only the records appended since the previous one.
#[derive(Clone, Debug, Default)]
pub struct Replayer {
    state: State,
    replayed: usize,
    first_difference: Option<usize>,
}

impl Replayer {
    /// Re-executes the records not replayed yet; returns the state after all of them and
    /// the first record whose re-executed effects differ from the recorded ones, if any.
    pub fn catch_up(&mut self, log: &MemoryLog) -> (&State, Option<usize>) {
        for (index, (event, effects)) in log.records.iter().enumerate().skip(self.replayed) {
            let (next, stepped) = step(std::mem::take(&mut self.state), event);
            self.state = next;
            if self.first_difference.is_none() && &stepped.effects != effects {
                self.first_difference = Some(index);
            }
        }
        self.replayed = log.records.len();
        (&self.state, self.first_difference)
    }
}

impl LogSink for MemoryLog {
    fn append(&mut self, event: &Event, effects: &[Effect]) -> Result<(), String> {
        self.records.push((event.clone(), effects.to_vec()));
        Ok(())
    }
}
