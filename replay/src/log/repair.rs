//! `seqrec repair`: truncates a torn tail to the last whole record; refuses any other
//! damage, because truncating there would drop whole records.

use std::fs::{File, OpenOptions};
use std::io::BufReader;
use std::path::Path;

use super::error::LogError;
use super::reader::LogReader;

/// What a repair did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repaired {
    /// Whole records kept.
    pub records: u64,
    /// Bytes dropped from the end (0 if the log was whole).
    pub dropped_bytes: u64,
}

/// Verifies the log and truncates a torn tail.
///
/// # Errors
/// [`LogError::NotRepairable`] for damage other than a torn tail; header errors as is.
pub fn repair(path: &Path) -> Result<Repaired, LogError> {
    let mut reader = LogReader::new(BufReader::new(File::open(path)?))?;
    let mut torn = None;
    for record in reader.by_ref() {
        match record {
            Ok(_) => {}
            Err(LogError::TornTail { offset, dropped_bytes, .. }) => torn = Some((offset, dropped_bytes)),
            Err(other) => return Err(LogError::NotRepairable(Box::new(other))),
        }
    }
    let records = reader.records_read();
    let Some((offset, dropped_bytes)) = torn else {
        return Ok(Repaired { records, dropped_bytes: 0 });
    };
    let file = OpenOptions::new().write(true).open(path)?;
    file.set_len(offset)?;
    file.sync_all()?;
    Ok(Repaired { records, dropped_bytes })
}
