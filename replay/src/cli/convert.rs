//! `import` (script → log) and `export` (log → script); lossless both ways.

use std::path::Path;

use machine::Event;

use super::input::{is_log, read_log};
use super::recorder::Recorder;
use super::{CliError, Outcome, load};
use crate::log::{Header, config_digest};
use crate::script;

/// Records events as a log at `output`, each with the effects this build's core gives,
/// with a checkpoint every `CHECKPOINT_EVERY` events and one after the last.
///
/// Returns the number of event records.
///
/// # Errors
/// [`CliError::Write`].
pub fn record(events: &[&Event], output: &Path) -> Result<u64, CliError> {
    let digest = events
        .iter()
        .find_map(|event| match event {
            Event::Boot(boot) => Some(config_digest(&boot.config)),
            _ => None,
        })
        .unwrap_or_default();
    let mut recorder = Recorder::create(output, &Header::new(digest))?;
    for event in events {
        recorder.record(event)?;
    }
    recorder.finish()
}

pub(super) fn import(script: &Path, output: &Path) -> Result<Outcome, CliError> {
    let loaded = load(script)?;
    let events: Vec<&Event> = loaded.events().into_iter().map(|(_, event)| event).collect();
    let events = record(&events, output)?;
    Ok(Outcome::Done(format!("{}: {events} event records written, with checkpoints\n", output.display())))
}

pub(super) fn export(log: &Path, output: &Path) -> Result<Outcome, CliError> {
    if !is_log(log)? {
        return Err(CliError::NotALog { path: log.to_owned(), what: "export" });
    }
    let (_, records) = read_log(log)?;
    let events: Vec<Event> = records.into_iter().map(|record| record.event).collect();
    let text = script::render(&events)
        .map_err(|source| CliError::Write { path: output.to_owned(), source: Box::new(source) })?;
    if output.as_os_str() == "-" {
        return Ok(Outcome::Done(text));
    }
    std::fs::write(output, text)
        .map_err(|source| CliError::Write { path: output.to_owned(), source: Box::new(source) })?;
    Ok(Outcome::Done(format!("{}: {} events written\n", output.display(), events.len())))
}
