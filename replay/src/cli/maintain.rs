//! `repair` and `snapshot`.

use std::path::Path;

use machine::State;
use machine::drive::Driver;

use super::input::is_log;
use super::verify::run_log;
use super::{CliError, Outcome};
use crate::log::{self, Entry, LogError, LogSource};
use crate::snapshot::{Snapshot, SnapshotError};

pub(super) fn repair(path: &Path) -> Result<Outcome, CliError> {
    if !is_log(path)? {
        return Err(CliError::NotALog { path: path.to_owned(), what: "repair" });
    }
    let repaired = log::repair(path).map_err(|source| CliError::Log { path: path.to_owned(), source })?;
    Ok(Outcome::Done(if repaired.removed {
        format!(
            "{}: an unfinished new log ({} bytes, no record: a crash while it was created) removed; `seqrec run` creates it afresh\n",
            path.display(),
            repaired.dropped_bytes
        )
    } else if repaired.dropped_bytes == 0 {
        format!("{}: whole ({} records); nothing to repair\n", path.display(), repaired.records)
    } else {
        format!(
            "{}: dropped {} bytes of a torn tail; {} whole records kept\n",
            path.display(),
            repaired.dropped_bytes,
            repaired.records
        )
    }))
}

/// Writes a snapshot at the latest checkpoint within the first `records` records (all by
/// default): only there can the log vouch for the state.
pub(super) fn snapshot(path: &Path, records: Option<u64>, output: &Path) -> Result<Outcome, CliError> {
    if !is_log(path)? {
        return Err(CliError::NotALog { path: path.to_owned(), what: "snapshot" });
    }
    let log_error = |source| CliError::Log { path: path.to_owned(), source };
    let snapshot_error = |source| CliError::Snapshot { path: path.to_owned(), source };
    // A file or a segment directory alike.
    let mut reader = LogSource::open(path).map_err(log_error)?;
    let limit = records.unwrap_or(u64::MAX);
    let (mut driver, mut chosen) = (Driver::new(State::new()), None);
    while let Some(entry) = reader.next_entry() {
        match entry.map_err(log_error)? {
            Entry::Event(record) if record.seq < limit => {
                driver.step(&record.event);
            }
            Entry::Checkpoint(checkpoint) if checkpoint.seq < limit => {
                chosen = Some((checkpoint, driver.state().clone()));
            }
            _ => {}
        }
    }
    let total = reader.records_read();
    let keep = records.unwrap_or(total);
    if keep == 0 || keep > total {
        return Err(CliError::NoSuchStep { path: path.to_owned(), at: keep, steps: total });
    }
    let (checkpoint, state) = chosen.ok_or(snapshot_error(SnapshotError::NoCheckpoint { records: keep }))?;
    // A state the checkpoint disagrees with means this build does not replay the log.
    let snap = Snapshot::at_checkpoint(&checkpoint, state).map_err(snapshot_error)?;
    // `-o snaps/latest.snap` into a directory that does not exist yet is what an operator
    // starting a snapshot directory types; creating it spares a failure after the replay.
    if let Some(dir) = output.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|source| CliError::Write { path: dir.to_owned(), source: source.into() })?;
    }
    snap.write(output).map_err(|source| CliError::Snapshot { path: output.to_owned(), source })?;
    // A snapshot that does not reproduce a full replay is worse than none: check it now.
    let full = run_log(path, false, None, false)?;
    let resumed = run_log(path, false, Some(output), false)?;
    if full.state != resumed.state {
        return Err(CliError::Log {
            path: path.to_owned(),
            source: LogError::EventUndecodable {
                seq: snap.records,
                offset: snap.end_offset,
                reason: "snapshot + tail differs from full replay".to_owned(),
            },
        });
    }
    Ok(Outcome::Done(format!(
        "{}: snapshot after {} of {total} records (the checkpoint after {} events; chain {}), verified: snapshot + tail equals full replay\n",
        output.display(),
        snap.records,
        checkpoint.events,
        snap.chain
    )))
}
