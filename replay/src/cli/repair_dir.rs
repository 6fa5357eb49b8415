//! `repair` of a segmented log (FORMAT.md "Segmented logs"): the unfinished newest
//! segment a crash during rotation left is removed, a torn tail of the newest segment is
//! cut; any other damage is refused, naming the segment.

use std::path::Path;

use super::{CliError, Outcome};
use crate::log::{self, SegmentsRepaired};

pub(super) fn repair(dir: &Path) -> Result<Outcome, CliError> {
    let repaired = log::repair_segments(dir).map_err(|source| CliError::Log { path: dir.to_owned(), source })?;
    let SegmentsRepaired { segments, records, removed, truncated } = repaired;
    let mut text = String::new();
    if let Some((path, len)) = &removed {
        text.push_str(&format!(
            "{}: an unfinished segment ({len} bytes, no record: a crash while the log rotated to it) removed; `seqrec run` continues the segment before it\n",
            path.display()
        ));
    }
    if let Some((path, dropped)) = &truncated {
        text.push_str(&format!("{}: dropped {dropped} bytes of a torn tail\n", path.display()));
    }
    if removed.is_none() && truncated.is_none() {
        text.push_str(&format!(
            "{}: whole ({records} records in {segments} segments); nothing to repair\n",
            dir.display()
        ));
    } else {
        text.push_str(&format!("{}: {records} whole records kept in {segments} segments\n", dir.display()));
    }
    Ok(Outcome::Done(text))
}
