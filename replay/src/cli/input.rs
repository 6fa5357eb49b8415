//! Reading inputs: a binary log (told by its magic bytes) or an event script.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use machine::Event;

use super::CliError;
use crate::log::{Entry, Header, LogSource, Record, SNIFF_LEN, looks_like_a_log};
use crate::run::{Run, run};
use crate::script::{Script, parse};

/// A whole input in memory (incident logs and scripts are small; `replay` streams).
#[derive(Debug)]
pub enum Loaded {
    /// An event script.
    Script(Script),
    /// A verified log.
    Log {
        /// Its header.
        header: Header,
        /// Its records.
        records: Vec<Record>,
    },
}

impl Loaded {
    /// The events with their script lines (none for a log).
    #[must_use]
    pub fn events(&self) -> Vec<(Option<usize>, &Event)> {
        match self {
            Loaded::Script(script) => script.events.iter().map(|(line, event)| (Some(*line), event)).collect(),
            Loaded::Log { records, .. } => records.iter().map(|record| (None, &record.event)).collect(),
        }
    }

    /// Runs the events through the core.
    #[must_use]
    pub fn run(&self) -> Run {
        run(self.events())
    }
}

/// Whether the file is to be read as a log: it starts with (or near) the log magic, is
/// empty or is not text (`log::looks_like_a_log`); only text is read as a script, so a
/// damaged log is reported as a log error.
///
/// # Errors
/// [`CliError::Read`].
pub(crate) fn is_log(path: &Path) -> Result<bool, CliError> {
    if path.is_dir() {
        // A directory is read as a segmented log (FORMAT.md "Segmented logs").
        return Ok(true);
    }
    let read_error = |source| CliError::Read { path: path.to_owned(), source };
    let mut first = Vec::with_capacity(SNIFF_LEN);
    File::open(path).map_err(read_error)?.take(SNIFF_LEN as u64).read_to_end(&mut first).map_err(read_error)?;
    Ok(looks_like_a_log(&first))
}

/// Loads a log or a script.
///
/// # Errors
/// [`CliError`] naming the file and what is wrong.
pub fn load(path: &Path) -> Result<Loaded, CliError> {
    if is_log(path)? {
        let (header, records) = read_log(path)?;
        return Ok(Loaded::Log { header, records });
    }
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Read { path: path.to_owned(), source })?;
    parse(&text).map(Loaded::Script).map_err(|source| CliError::Script { path: path.to_owned(), source })
}

/// Reads and verifies a whole log.
///
/// # Errors
/// [`CliError::Log`] at the first damage.
pub(crate) fn read_log(path: &Path) -> Result<(Header, Vec<Record>), CliError> {
    let log_error = |source| CliError::Log { path: path.to_owned(), source };
    let mut reader = LogSource::open(path).map_err(log_error)?;
    let header = reader.header().clone();
    let mut records = Vec::new();
    for entry in reader.entries() {
        if let Entry::Event(record) = entry.map_err(log_error)? {
            records.push(record);
        }
    }
    Ok((header, records))
}

/// Runs a parsed script from the empty state.
#[must_use]
pub fn run_script(script: &Script) -> Run {
    run(script.events.iter().map(|(line, event)| (Some(*line), event)))
}
