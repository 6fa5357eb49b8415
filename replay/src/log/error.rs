//! `LogError`: everything that can be wrong with a log file, each naming where.
//! The CLI adds the path.

use std::path::PathBuf;

use machine::Hash32;

/// ` (pid N)` when the lock holder is known, else nothing.
fn pid_note(pid: Option<u32>) -> String {
    pid.map_or_else(String::new, |pid| format!(" (pid {pid})"))
}

/// `N whole records follow` (`1 whole record follows`).
fn records_follow(records: u64) -> String {
    if records == 1 { "1 whole record follows".to_owned() } else { format!("{records} whole records follow") }
}

/// A log that cannot be read as written.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Reading or writing failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// Another process holds the log's writer lock.
    #[error(
        "log {} is locked by another process{} — another `seqrec run` is using it; stop it first",
        path.display(),
        pid_note(*pid)
    )]
    Locked {
        /// The log.
        path: PathBuf,
        /// The holder, when the system says (Linux `/proc/locks`).
        pid: Option<u32>,
    },
    /// The file has no bytes at all.
    #[error("not a seqrec log (empty file); if a `seqrec run` crashed while creating it, `seqrec repair` removes it")]
    Empty,
    /// The file is nothing but zero bytes (a crash while creating it, on some file systems).
    #[error(
        "not a seqrec log: all {len} bytes are zero (an unfinished new log: a crash while it was created); `seqrec repair` removes it"
    )]
    ZeroFilled {
        /// The file's length.
        len: u64,
    },
    /// The file does not start with the log magic.
    #[error("not a seqrec log: bad magic at byte 0 (found {found:02x?}, expected \"SEQRLOG\\n\")")]
    NotALog {
        /// The bytes found.
        found: Vec<u8>,
    },
    /// A format version this build cannot read.
    #[error(
        "format version {found} is not one this build reads (it reads versions 1 to {supported}); use the seqrec that wrote it or a newer one"
    )]
    UnsupportedVersion {
        /// The version in the header.
        found: u16,
        /// The version this build reads.
        supported: u16,
    },
    /// The header is cut short.
    #[error(
        "header truncated: {found} bytes, the header needs {needed} (an unfinished new log: a crash while it was created); `seqrec repair` removes it"
    )]
    HeaderTruncated {
        /// Bytes present.
        found: u64,
        /// Bytes needed.
        needed: u64,
    },
    /// The header does not read, but whole records follow it: damage after the log was
    /// written (a crash while it was created leaves no record), never removed.
    #[error(
        "header damaged: {damage}{note}; yet {} from byte {first_offset} (record {first_seq} on), so this is no unfinished new file but a log damaged after it was written: nothing was removed, and `seqrec repair` refuses it; restore the file from a copy or a standby",
        records_follow(*records)
    )]
    HeaderDamaged {
        /// What the header check found.
        damage: String,
        /// The length word at byte 10, when it disagrees with where the records start.
        note: String,
        /// Where the first whole record starts (where the header truly ends).
        first_offset: u64,
        /// Its sequence number.
        first_seq: u64,
        /// Whole records from there on.
        records: u64,
    },
    /// The header's own hash does not match its bytes.
    #[error("header corrupt: its hash does not match its bytes (byte offset 0..{len})")]
    HeaderCorrupt {
        /// The header's length.
        len: u64,
    },
    /// The file ends inside a record.
    #[error(
        "torn tail: {dropped_bytes} bytes at byte offset {offset} after {} are an incomplete record; run `seqrec repair` to truncate them",
        last_whole_seq.map_or_else(|| "the header".to_owned(), |seq| format!("record {seq}"))
    )]
    TornTail {
        /// The last whole record, if any.
        last_whole_seq: Option<u64>,
        /// Where the incomplete record starts (the length to truncate to).
        offset: u64,
        /// Bytes after the last whole record.
        dropped_bytes: u64,
    },
    /// A record's length field fails its check word.
    #[error(
        "record {seq} at byte {offset}: length field corrupt (length {len:#010x}, check {check:#010x}); the log was damaged after it was written"
    )]
    LengthCorrupt {
        /// The record's expected sequence number.
        seq: u64,
        /// Its byte offset.
        offset: u64,
        /// The length field.
        len: u32,
        /// The check word.
        check: u32,
    },
    /// A record's length is outside what the format allows.
    #[error("record {seq} at byte {offset}: length {len} is outside {min}..={max}")]
    LengthOutOfRange {
        /// The record's expected sequence number.
        seq: u64,
        /// Its byte offset.
        offset: u64,
        /// The length.
        len: u32,
        /// Smallest valid length.
        min: u32,
        /// Largest valid length.
        max: u32,
    },
    /// Records are out of order, missing or duplicated.
    #[error(
        "record at byte {offset}: sequence number {found}, expected {expected} (records swapped, lost or duplicated)"
    )]
    SeqMismatch {
        /// Its byte offset.
        offset: u64,
        /// The sequence number expected here.
        expected: u64,
        /// The one found.
        found: u64,
    },
    /// The hash chain breaks at this record.
    #[error(
        "record {seq} at byte {offset}: chain hash mismatch (expected {expected}, found {found}); the log was altered after it was written"
    )]
    ChainBroken {
        /// The record.
        seq: u64,
        /// Its byte offset.
        offset: u64,
        /// The hash computed from the previous record and this one's body.
        expected: Hash32,
        /// The hash stored.
        found: Hash32,
    },
    /// The chain holds but the event bytes do not decode (written by a different build).
    #[error("record {seq} at byte {offset}: event does not decode: {reason}")]
    EventUndecodable {
        /// The record.
        seq: u64,
        /// Its byte offset.
        offset: u64,
        /// What the decoder said.
        reason: String,
    },
    /// A checkpoint record is malformed or counts the wrong number of events.
    #[error("record {seq} at byte {offset}: checkpoint invalid: {reason}")]
    CheckpointInvalid {
        /// The record.
        seq: u64,
        /// Its byte offset.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A replay reached a different state than a checkpoint records (found by the replay,
    /// which steps the core; the reader cannot tell).
    #[error(
        "record {seq} at byte {offset}: checkpoint after {events} events records state {recorded}, but the replay reached {replayed}; the log was not written by this core's steps: another build (this build's state layout is {}; a build with another layout hashes the same state differently, and `seqrec export` then `seqrec import` re-records the checkpoints while the effects are still compared), or forged",
        machine::STATE_LAYOUT
    )]
    CheckpointMismatch {
        /// The checkpoint record.
        seq: u64,
        /// Its byte offset.
        offset: u64,
        /// Event records before it.
        events: u64,
        /// The state hash it records.
        recorded: Hash32,
        /// The state hash the replay reached.
        replayed: Hash32,
    },
    /// A record would be longer than any reader accepts; nothing was written.
    #[error(
        "record {seq}: body of {len} bytes exceeds the log's limit of {max} bytes; nothing was written (the event is too large to log: reject it before it is stepped)"
    )]
    RecordTooLarge {
        /// The sequence number it would have had.
        seq: u64,
        /// Its body length.
        len: u64,
        /// The limit (`MAX_BODY_LEN`).
        max: u32,
    },
    /// A checkpoint was asked for in a log whose version has none.
    #[error(
        "this log is format version {version}, which has no checkpoint records; start a new log (or export and import this one) to get checkpoints"
    )]
    CheckpointsUnsupported {
        /// The log's version.
        version: u16,
    },
    /// A repair found whole records after what reads as a torn tail: it is not one.
    #[error(
        "refusing to repair: record {seq} at byte {offset} reads as incomplete (its length runs past the end of the file), but record {later_seq} at byte {later_offset} after it verifies; the corruption is in the middle of the log and truncating would drop whole records. Restore the log from a copy"
    )]
    CorruptionInMiddle {
        /// The damaged record.
        seq: u64,
        /// Its byte offset.
        offset: u64,
        /// A later record whose chain hash verifies.
        later_seq: u64,
        /// Its byte offset.
        later_offset: u64,
    },
    /// A repair was asked for but the damage is not a torn tail.
    #[error("refusing to repair: the damage is not a torn tail ({0}); truncating would drop records that are whole")]
    NotRepairable(Box<LogError>),
    /// A segment's header is not one.
    #[error("not a seqrec log segment: {reason}")]
    SegmentHeader {
        /// What is wrong.
        reason: String,
    },
    /// A segment header version this build cannot read.
    #[error(
        "segment header version {found} is not one this build reads (it reads version {supported}); use the seqrec that wrote it or a newer one"
    )]
    UnsupportedSegmentVersion {
        /// The version in the segment.
        found: u16,
        /// The version this build reads.
        supported: u16,
    },
    /// A directory given as a log holds no segment.
    #[error("{} holds no log segment (`<first record, 12 digits>.seg`)", dir.display())]
    NoSegments {
        /// The directory.
        dir: PathBuf,
    },
    /// A segment does not continue where the one before it ended.
    #[error(
        "does not continue the log: {reason}; a segment between them is missing, or one was replaced. Restore it from the archive"
    )]
    SegmentDiscontinuous {
        /// What differs.
        reason: String,
    },
    /// The oldest segment present does not start the log and no snapshot was given.
    #[error(
        "the oldest segment starts at record {first_seq}, after the checkpoint of {events} events (chain {prev_chain}, state {state_hash}); the segments before it were archived or deleted: give `--snapshot` the snapshot at that checkpoint (`{}` in the log's snapshot directory), or restore them",
        crate::snapshot_dir::file_name(*first_seq)
    )]
    SegmentStartsLater {
        /// Its first record.
        first_seq: u64,
        /// Event records before it.
        events: u64,
        /// The chain hash it continues.
        prev_chain: Hash32,
        /// The state hash at its start.
        state_hash: Hash32,
    },
    /// A segment a crash left unfinished while the writer rotated to it: shorter than its
    /// header (empty, cut, or zeros where the header never reached the disk), so it holds
    /// no record.
    #[error(
        "an unfinished segment ({len} bytes, shorter than its header, no record): a crash while the log rotated to it; `seqrec repair` on the log directory removes it when it is the newest segment"
    )]
    UnfinishedSegment {
        /// Its length in bytes.
        len: u64,
    },
    /// An error inside one segment of a segmented log.
    #[error("segment {}: {source}", path.file_name().map_or_else(|| path.display().to_string(), |name| name.to_string_lossy().into_owned()))]
    InSegment {
        /// The segment file.
        path: PathBuf,
        /// The error, with the record and its byte offset in that file.
        source: Box<LogError>,
    },
    /// A thread of a parallel replay stopped before the log's end (it panicked).
    #[error("internal error: a thread verifying the log stopped before its end (see the message above)")]
    WorkerStopped,
}
