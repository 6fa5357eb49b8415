//! Telling a damaged header from an unfinished new file (FORMAT.md "Torn tails and
//! unfinished new logs"): a crash while a log or segment was created leaves at most a
//! prefix of its header, never a record, so a file whose header does not read but in
//! which a whole record verifies was damaged after it was written. Such a file must
//! never be removed or re-initialised: this finds its records, and counts them.

use std::io::{Cursor, Read};

use machine::Hash32;

use super::error::LogError;
use super::header::{CHECKPOINT_VERSION, Header};
use super::reader::{LogReader, read_full};
use super::record::{PREFIX_LEN, Position, body_seq, chain_hash, framed_len};

/// The last byte a header can end at, so the first record can start at: a segment header
/// with a build identity of `u16::MAX` bytes (a log header is 80 bytes shorter).
const LAST_START: usize = 12 + u16::MAX as usize + 32 + 80 + 32;

/// Where the first whole record after a header that does not read lies, and how many
/// whole records follow from there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RecordsFound {
    /// Byte offset of the first record: where the header truly ends.
    pub(crate) offset: u64,
    /// Its sequence number.
    pub(crate) seq: u64,
    /// Whole records from it on, up to the end or the next damage.
    pub(crate) records: u64,
}

/// Reads until `buf` holds `want` bytes or `input` ends; whether it holds them.
fn fill(buf: &mut Vec<u8>, input: &mut impl Read, want: usize) -> std::io::Result<bool> {
    if buf.len() < want {
        let start = buf.len();
        buf.resize(want, 0);
        let got = read_full(input, &mut buf[start..])?;
        buf.truncate(start + got);
    }
    Ok(buf.len() >= want)
}

/// The first record starting at a byte a header can end at (from byte 44: 12 fixed bytes
/// and a hash before it) whose length words hold and whose chain hash verifies against
/// the 32 bytes before it, in a file whose first bytes are `known` and whose rest `input`
/// yields; then the whole records counted from it, and the bytes before it (the header
/// as it is). `None` when there is none: the file holds no whole record (an unfinished
/// new file, or damage before any record).
///
/// # Errors
/// I/O errors.
pub(crate) fn records_after_header(
    mut known: Vec<u8>,
    mut input: impl Read,
) -> std::io::Result<Option<(RecordsFound, Vec<u8>)>> {
    for at in 44..=LAST_START {
        if !fill(&mut known, &mut input, at + PREFIX_LEN)? {
            return Ok(None);
        }
        let Some(body_len) = framed_len(&known[at..at + PREFIX_LEN]) else { continue };
        let body_end = at + PREFIX_LEN + body_len as usize;
        if !fill(&mut known, &mut input, body_end + 32)? {
            continue;
        }
        let mut previous = [0_u8; 32];
        previous.copy_from_slice(&known[at - 32..at]);
        let previous = Hash32(previous);
        if chain_hash(&previous, &known[at + PREFIX_LEN..body_end]).0.as_slice() != &known[body_end..body_end + 32] {
            continue;
        }
        let seq = body_seq(&known[at + PREFIX_LEN..body_end]);
        let rest = Cursor::new(known.split_off(at)).chain(input);
        // Read as version 2 (a version-1 log has no checkpoint mark); the event count is
        // exact when the first record found is record 0, as it is when only the header is
        // damaged.
        let header = Header { version: CHECKPOINT_VERSION, build: String::new(), config_digest: Hash32::default() };
        let position = Position { offset: at as u64, next_seq: seq, events: 0, chain: previous };
        let mut reader = LogReader::resume(rest, header, position);
        let records = reader.entries().take_while(Result::is_ok).count() as u64;
        return Ok(Some((RecordsFound { offset: at as u64, seq, records }, known)));
    }
    Ok(None)
}

/// What the build-identity length word (bytes 10–11 of a log or segment header, whose
/// bytes up to the first record are `bytes`) says against where the records show the header ends (`found.offset`, the
/// header being `fixed_len` bytes plus the build identity): a note naming the word when
/// it disagrees, and whether only that word is damaged (the header's own hash holds with
/// the length the records give).
fn length_word_note(bytes: &[u8], fixed_len: u64, found: &RecordsFound) -> String {
    let Some(word) = bytes.get(10..12).map(|word| u16::from_le_bytes([word[0], word[1]])) else {
        return String::new();
    };
    let Some(implied) = found.offset.checked_sub(fixed_len).and_then(|len| u16::try_from(len).ok()) else {
        return String::new();
    };
    if word == implied {
        return String::new();
    }
    // With the length the records give, would the header's hash hold?
    let mut fixed = bytes.to_vec();
    fixed[10..12].copy_from_slice(&implied.to_le_bytes());
    let hashed = fixed.len().saturating_sub(32);
    let only_word = blake3::hash(&fixed[..hashed]).as_bytes() == &fixed[hashed..];
    format!(
        "; the build-identity length at byte 10 reads {word}, where the records put {implied}{}",
        if only_word { " (with that value the header's hash holds: only that word is damaged)" } else { "" }
    )
}

/// `damage`, a header error of a file whose first bytes are `known` and whose rest
/// `input` yields, unless whole records follow the header: then
/// [`LogError::HeaderDamaged`], naming where they start and how many there are.
/// `fixed_len` is the header's length without its build identity (76 for a log, 156
/// for a segment).
///
/// # Errors
/// I/O errors.
pub(crate) fn unless_records_follow(
    known: Vec<u8>,
    input: impl Read,
    fixed_len: u64,
    damage: LogError,
) -> Result<LogError, LogError> {
    let Some((found, header)) = records_after_header(known, input)? else { return Ok(damage) };
    let note = length_word_note(&header, fixed_len, &found);
    Ok(LogError::HeaderDamaged {
        damage: damage_summary(&damage),
        note,
        first_offset: found.offset,
        first_seq: found.seq,
        records: found.records,
    })
}

/// What a header check found, without the advice its own message gives (which is for a
/// file that holds no record).
fn damage_summary(damage: &LogError) -> String {
    match damage {
        LogError::HeaderTruncated { found, needed } => {
            format!("it announces a header of {needed} bytes and the file has {found}")
        }
        LogError::HeaderCorrupt { len } => format!("its hash does not match its bytes 0..{len}"),
        LogError::SegmentHeader { reason } => reason.clone(),
        other => other.to_string(),
    }
}
