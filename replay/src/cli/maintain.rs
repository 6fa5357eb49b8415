//! `repair` and `snapshot`.

use std::path::Path;

use super::input::{is_log, read_log};
use super::verify::run_log;
use super::{CliError, Outcome};
use crate::log::{self, LogError};
use crate::snapshot::Snapshot;

pub(super) fn repair(path: &Path) -> Result<Outcome, CliError> {
    if !is_log(path)? {
        return Err(CliError::NotALog { path: path.to_owned(), what: "repair" });
    }
    let repaired = log::repair(path).map_err(|source| CliError::Log { path: path.to_owned(), source })?;
    Ok(Outcome::Done(if repaired.dropped_bytes == 0 {
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

pub(super) fn snapshot(path: &Path, records: Option<u64>, output: &Path) -> Result<Outcome, CliError> {
    if !is_log(path)? {
        return Err(CliError::NotALog { path: path.to_owned(), what: "snapshot" });
    }
    let (_, all) = read_log(path)?;
    let total = all.len() as u64;
    let keep = records.unwrap_or(total);
    if keep == 0 || keep > total {
        return Err(CliError::NoSuchStep { path: path.to_owned(), at: keep, steps: total });
    }
    let last = &all[usize::try_from(keep - 1).unwrap_or(usize::MAX).min(all.len() - 1)];
    let state =
        crate::run::run(all.iter().take(usize::try_from(keep).unwrap_or(usize::MAX)).map(|r| (None, &r.event))).state;
    let snap = Snapshot { records: keep, chain: last.chain, end_offset: last.offset + last.len, state };
    snap.write(output).map_err(|source| CliError::Snapshot { path: output.to_owned(), source })?;
    // A snapshot that does not reproduce a full replay is worse than none: check it now.
    let full = run_log(path, false, None, false)?;
    let resumed = run_log(path, false, Some(output), false)?;
    if full.state != resumed.state {
        return Err(CliError::Log {
            path: path.to_owned(),
            source: LogError::EventUndecodable {
                seq: keep,
                offset: snap.end_offset,
                reason: "snapshot + tail differs from full replay".to_owned(),
            },
        });
    }
    Ok(Outcome::Done(format!(
        "{}: snapshot after {keep} of {total} records (chain {}), verified: snapshot + tail equals full replay\n",
        output.display(),
        snap.chain
    )))
}
