//! `seqrec repair`, under the writer's lock: truncates a torn tail to the last whole
//! record, and removes an unfinished new log (FORMAT.md "Torn tails"). It refuses any
//! other damage, and a "torn tail" after which a whole record still verifies, because
//! truncating there would drop whole records.

use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};
use std::path::Path;

use super::error::LogError;
use super::lock::LogLock;
use super::probe::verified_record_at;
use super::reader::{LogReader, read_full};
use super::record::{PREFIX_LEN, body_seq, framed_len};

/// What a repair did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repaired {
    /// Whole records kept.
    pub records: u64,
    /// Bytes dropped from the end (0 if the log was whole).
    pub dropped_bytes: u64,
    /// The file was an unfinished new log (no header or no byte of one) and was removed.
    pub removed: bool,
}

/// Locks and verifies the log, then truncates a torn tail or removes an unfinished new log.
///
/// # Errors
/// [`LogError::Locked`] while a writer runs; [`LogError::CorruptionInMiddle`] when a whole
/// record follows what reads as a torn tail; [`LogError::NotRepairable`] for other
/// damage; header errors as is.
pub fn repair(path: &Path) -> Result<Repaired, LogError> {
    let lock = LogLock::acquire_existing(path)?;
    let file = lock.file();
    let len = file.metadata()?.len();
    let mut reader = match LogReader::new(BufReader::new(file)) {
        Ok(reader) => reader,
        Err(LogError::Empty | LogError::ZeroFilled { .. } | LogError::HeaderTruncated { .. }) => {
            // It holds no record, so nothing is lost; `seqrec run` creates the log afresh.
            std::fs::remove_file(path)?;
            return Ok(Repaired { records: 0, dropped_bytes: len, removed: true });
        }
        Err(other) => return Err(other),
    };
    let mut torn = None;
    for entry in reader.entries() {
        match entry {
            Ok(_) => {}
            Err(LogError::TornTail { offset, dropped_bytes, .. }) => torn = Some((offset, dropped_bytes)),
            Err(other) => return Err(LogError::NotRepairable(Box::new(other))),
        }
    }
    let records = reader.records_read();
    drop(reader);
    let Some((offset, dropped_bytes)) = torn else {
        return Ok(Repaired { records, dropped_bytes: 0, removed: false });
    };
    if let Some((later_seq, later_offset)) = later_whole_record(file, offset, len, records)? {
        return Err(LogError::CorruptionInMiddle { seq: records, offset, later_seq, later_offset });
    }
    file.set_len(offset)?;
    file.sync_all()?;
    Ok(Repaired { records, dropped_bytes, removed: false })
}

/// The first record starting after byte `from` whose length words hold and whose chain
/// hash verifies against the 32 bytes before it (its predecessor's chain hash), with a
/// sequence number of at least `min_seq`: its sequence number and offset. Any such
/// record proves that the bytes from `from` on are not a torn tail.
fn later_whole_record(mut file: &File, from: u64, len: u64, min_seq: u64) -> Result<Option<(u64, u64)>, LogError> {
    let mut window = vec![0_u8; (1 << 20) + PREFIX_LEN];
    let mut at = from + 1;
    loop {
        file.seek(SeekFrom::Start(at))?;
        let got = read_full(&mut file, &mut window)?;
        let Some(positions) = (got + 1).checked_sub(PREFIX_LEN).filter(|n| *n > 0) else { return Ok(None) };
        for i in 0..positions {
            let Some(body_len) = framed_len(&window[i..i + PREFIX_LEN]) else { continue };
            let offset = at + i as u64;
            // A length running past the end cannot be a whole record: not even read.
            if offset + (PREFIX_LEN + body_len as usize + 32) as u64 > len {
                continue;
            }
            let seq = verified_record_at(&mut file, offset)?.map(|(body, _)| body_seq(&body));
            if let Some(seq) = seq.filter(|seq| *seq >= min_seq) {
                return Ok(Some((seq, offset)));
            }
        }
        at += positions as u64;
    }
}
