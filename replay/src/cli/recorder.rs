//! Writing a log from events that are not run by a live process (an imported script, a
//! simulation): each record appended as it comes, with a checkpoint every
//! `CHECKPOINT_EVERY` events and one after the last, as `run` writes them.

use std::path::{Path, PathBuf};

use machine::drive::Driver;
use machine::{Effect, Event, State};

use super::CliError;
use crate::log::{FsyncPolicy, Header, LogError, LogWriter};

/// A log being written, with the state its checkpoints vouch for.
#[derive(Debug)]
pub(crate) struct Recorder {
    path: PathBuf,
    writer: LogWriter,
    /// The events stepped again: the checkpoints need the state, and the core is
    /// deterministic, so these are the states of the run that produced the records.
    driver: Driver,
}

impl Recorder {
    /// Creates the log at `path`.
    pub(crate) fn create(path: &Path, header: &Header) -> Result<Self, CliError> {
        // Nothing runs effects from a recorded log, so one sync at the end suffices.
        let writer = LogWriter::create(path, header, FsyncPolicy::Group(u32::MAX)).map_err(write_error(path))?;
        Ok(Recorder { path: path.to_owned(), writer, driver: Driver::new(State::new()) })
    }

    /// Appends `event` with the effects this build's core gives.
    pub(crate) fn record(&mut self, event: &Event) -> Result<(), CliError> {
        let effects = self.driver.step(event).step.effects;
        self.write(event, &effects)
    }

    /// Appends `event` with the effects recorded by whoever ran it.
    pub(crate) fn append(&mut self, event: &Event, effects: &[Effect]) -> Result<(), CliError> {
        self.driver.step(event);
        self.write(event, effects)
    }

    fn write(&mut self, event: &Event, effects: &[Effect]) -> Result<(), CliError> {
        let write_error = write_error(&self.path);
        self.writer.append(event, effects).map_err(write_error)?;
        if self.writer.checkpoint_due() {
            self.writer.append_checkpoint(self.driver.state().state_hash()).map_err(write_error)?;
        }
        Ok(())
    }

    /// Closes the log with a checkpoint after the last event; returns the event records.
    pub(crate) fn finish(mut self) -> Result<u64, CliError> {
        let write_error = write_error(&self.path);
        if self.writer.events_since_checkpoint() > 0 {
            self.writer.append_checkpoint(self.driver.state().state_hash()).map_err(write_error)?;
        }
        self.writer.sync().map_err(write_error)?;
        Ok(self.writer.events())
    }
}

fn write_error(path: &Path) -> impl Fn(LogError) -> CliError + Copy + '_ {
    move |source| CliError::Write { path: path.to_owned(), source: Box::new(source) }
}
