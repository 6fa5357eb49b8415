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

impl MemoryLog {
    /// The state a restarted process rebuilds: every recorded event stepped from the
    /// empty state. Returns the first record whose re-executed effects differ from the
    /// recorded ones, if any.
    #[must_use]
    pub fn rebuild(&self) -> (State, Option<usize>) {
        let mut state = State::new();
        let mut differs = None;
        for (index, (event, effects)) in self.records.iter().enumerate() {
            let (next, stepped) = step(state, event);
            state = next;
            if differs.is_none() && &stepped.effects != effects {
                differs = Some(index);
            }
        }
        (state, differs)
    }
}

impl LogSink for MemoryLog {
    fn append(&mut self, event: &Event, effects: &[Effect]) -> Result<(), String> {
        self.records.push((event.clone(), effects.to_vec()));
        Ok(())
    }
}
