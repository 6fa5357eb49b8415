//! `seqrec repair`, under the writer's lock: truncates a torn tail to the last whole
//! record, and removes an unfinished new log (FORMAT.md "Torn tails"). It refuses any
//! other damage, and a "torn tail" after which a whole record still verifies, because
//! truncating there would drop whole records.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::error::LogError;
use super::lock::LogLock;
use super::probe::verified_record_at;
use super::reader::{LogReader, read_full};
use super::record::{PREFIX_LEN, body_seq, framed_len};
use super::segment::{list_segments, unfinished_segment};
use super::segment_writer::SegmentLock;
use super::segments::SegmentReader;

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
            // It holds no record (the reader reports a header followed by whole records as
            // `HeaderDamaged`, refused below), so nothing is lost; `seqrec run` creates
            // the log afresh.
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

/// What a repair of a segmented log did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentsRepaired {
    /// Segments left.
    pub segments: usize,
    /// Whole records kept, from the oldest segment present.
    pub records: u64,
    /// The unfinished newest segment removed (a crash during rotation), and its length.
    pub removed: Option<(PathBuf, u64)>,
    /// The segment whose torn tail was cut, and the bytes dropped.
    pub truncated: Option<(PathBuf, u64)>,
}

/// [`repair`] for a segment directory, under its `writer.lock`: removes an unfinished
/// newest segment (a crash while the writer rotated to it: it holds no record), then
/// verifies every segment present (the oldest need not start the log: archived ones are
/// not needed to check records) and cuts a torn tail of the newest one. Damage anywhere
/// else, an unfinished segment that is not the newest, and a torn tail before which a
/// later whole record verifies are refused, changing nothing.
///
/// # Errors
/// [`LogError::Locked`] while a writer runs; [`LogError::NoSegments`];
/// [`LogError::NotRepairable`] or [`LogError::CorruptionInMiddle`] inside
/// [`LogError::InSegment`] naming the segment.
pub fn repair_segments(dir: &Path) -> Result<SegmentsRepaired, LogError> {
    let _lock = SegmentLock::acquire(dir)?;
    let mut segments = list_segments(dir)?;
    let mut removed = None;
    if let Some((_, newest)) = segments.last()
        && let Some(len) = unfinished_segment(newest)?
    {
        std::fs::remove_file(newest)?;
        // The removal must survive a crash, as the creation would have.
        File::open(dir)?.sync_all()?;
        removed = Some((newest.clone(), len));
        segments.pop();
    }
    let Some((_, newest)) = segments.last().cloned() else {
        return Ok(SegmentsRepaired { segments: 0, records: 0, removed, truncated: None });
    };
    let mut reader = SegmentReader::from_oldest(dir)?;
    let mut torn = None;
    while let Some(entry) = reader.next_entry() {
        match entry {
            Ok(_) => {}
            Err(LogError::InSegment { path, source }) if path == newest => match *source {
                LogError::TornTail { offset, dropped_bytes, .. } => torn = Some((offset, dropped_bytes)),
                other => return Err(in_segment(&path, LogError::NotRepairable(Box::new(other)))),
            },
            Err(other) => return Err(LogError::NotRepairable(Box::new(other))),
        }
    }
    let records = reader.position().next_seq;
    drop(reader);
    let (segments, truncated) = (segments.len(), None);
    let Some((offset, dropped_bytes)) = torn else {
        return Ok(SegmentsRepaired { segments, records, removed, truncated });
    };
    let file = OpenOptions::new().read(true).write(true).open(&newest)?;
    let len = file.metadata()?.len();
    if let Some((later_seq, later_offset)) = later_whole_record(&file, offset, len, records)? {
        return Err(in_segment(
            &newest,
            LogError::CorruptionInMiddle { seq: records, offset, later_seq, later_offset },
        ));
    }
    file.set_len(offset)?;
    file.sync_all()?;
    Ok(SegmentsRepaired { segments, records, removed, truncated: Some((newest, dropped_bytes)) })
}

fn in_segment(path: &Path, source: LogError) -> LogError {
    LogError::InSegment { path: path.to_owned(), source: Box::new(source) }
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
