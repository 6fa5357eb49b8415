//! `LogError`: everything that can be wrong with a log file, each naming where.
//! The CLI adds the path.

use machine::Hash32;

/// A log that cannot be read as written.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Reading or writing failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The file does not start with the log magic.
    #[error("not a seqrec log: the first 8 bytes are {found:02x?}, expected \"SEQRLOG\\n\"")]
    NotALog {
        /// The bytes found.
        found: Vec<u8>,
    },
    /// A format version this build cannot read.
    #[error(
        "format version {found} is not one this build reads (it reads version {supported}); use the seqrec that wrote it or a newer one"
    )]
    UnsupportedVersion {
        /// The version in the header.
        found: u16,
        /// The version this build reads.
        supported: u16,
    },
    /// The header is cut short.
    #[error("header truncated: {found} bytes, the header needs {needed}")]
    HeaderTruncated {
        /// Bytes present.
        found: u64,
        /// Bytes needed.
        needed: u64,
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
    /// A repair was asked for but the damage is not a torn tail.
    #[error("refusing to repair: the damage is not a torn tail ({0}); truncating would drop records that are whole")]
    NotRepairable(Box<LogError>),
}
