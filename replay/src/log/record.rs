//! One record: `len | !len | seq | event_len | event | effects JSON | effects digest |
//! chain hash`, or from version 2 a checkpoint `len | !len | seq | MARK | state hash |
//! events | chain hash` (FORMAT.md). The effects are stored, not only digested, so a
//! divergence found by a later build can show what the writing build did.

use machine::{Effect, Event, Hash32};

use super::codec;
use super::error::LogError;

/// Bytes before the body: the length and its check word.
pub(crate) const PREFIX_LEN: usize = 8;
/// The smallest body: seq, event length, a one-byte event, `[]`, the effects digest.
pub(crate) const MIN_BODY_LEN: u32 = 8 + 4 + 1 + 2 + 32;
/// The largest body: the reader refuses a longer one and the writer never writes one
/// (a seal payload is at most a few hundred KiB).
pub const MAX_BODY_LEN: u32 = 64 << 20;
/// The event-length word that marks a checkpoint record: no event can be this long.
pub(crate) const CHECKPOINT_MARK: u32 = u32::MAX;
/// A checkpoint's body: seq, mark, state hash, event count.
pub(crate) const CHECKPOINT_BODY_LEN: u32 = 8 + 4 + 32 + 8;
/// A whole checkpoint record.
pub(crate) const CHECKPOINT_RECORD_LEN: usize = PREFIX_LEN + CHECKPOINT_BODY_LEN as usize + 32;

/// A record read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Sequence number, 0-based and consecutive.
    pub seq: u64,
    /// Byte offset of the record's first byte.
    pub offset: u64,
    /// Total bytes of the record.
    pub len: u64,
    /// The event.
    pub event: Event,
    /// The effects its step produced when it was written, as a JSON array.
    pub effects_json: Vec<u8>,
    /// blake3 of `effects_json`.
    pub effects_digest: Hash32,
    /// The chain hash after this record.
    pub chain: Hash32,
}

/// A checkpoint record read back: the core's state hash after the preceding record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Sequence number (checkpoints are numbered with the events).
    pub seq: u64,
    /// Byte offset of the record's first byte.
    pub offset: u64,
    /// `State::state_hash()` after every event record before it.
    pub state_hash: Hash32,
    /// How many event records precede it.
    pub events: u64,
    /// The chain hash after this record.
    pub chain: Hash32,
}

impl Checkpoint {
    /// Byte offset just past the record.
    #[must_use]
    pub fn end(&self) -> u64 {
        self.offset + CHECKPOINT_RECORD_LEN as u64
    }

    /// The reading position just past it.
    #[must_use]
    pub fn position(&self) -> Position {
        Position { offset: self.end(), next_seq: self.seq + 1, events: self.events, chain: self.chain }
    }
}

/// A point between two records where reading can resume (`LogReader::resume`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// Byte offset of the next record.
    pub offset: u64,
    /// Its sequence number.
    pub next_seq: u64,
    /// Event records before it.
    pub events: u64,
    /// The chain hash after the record before it (the header hash before any).
    pub chain: Hash32,
}

/// Any record: an event's, or a checkpoint.
// Entries are handed out one at a time, so the size of the rare checkpoint does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A step's event and effects.
    Event(Record),
    /// A checkpoint.
    Checkpoint(Checkpoint),
}

/// The effects' JSON array, exactly as the JSON trace prints them: stable because the
/// effect JSON is the docs/protocol.md §10 contract.
#[must_use]
pub fn effects_json(effects: &[Effect]) -> Vec<u8> {
    // Serializing plain data to a Vec cannot fail; an empty array would then fail every
    // replay comparison loudly rather than pass silently.
    serde_json::to_vec(effects).unwrap_or_default()
}

/// blake3 of [`effects_json`].
#[must_use]
pub fn effects_digest(effects_json: &[u8]) -> Hash32 {
    Hash32(*blake3::hash(effects_json).as_bytes())
}

/// `blake3(previous chain hash || body)`.
pub(crate) fn chain_hash(previous: &Hash32, body: &[u8]) -> Hash32 {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&previous.0);
    hasher.update(body);
    Hash32(*hasher.finalize().as_bytes())
}

/// The length words and sequence number that open every record.
fn open(len: u32, seq: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(PREFIX_LEN + len as usize + 32);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out
}

/// Appends the chain hash over the body; returns the record and that hash.
fn close(mut out: Vec<u8>, previous: &Hash32) -> (Vec<u8>, Hash32) {
    let chain = chain_hash(previous, &out[PREFIX_LEN..]);
    out.extend_from_slice(&chain.0);
    (out, chain)
}

/// Encodes an event record; returns its bytes and its chain hash.
///
/// # Errors
/// [`LogError::RecordTooLarge`] when the body would exceed [`MAX_BODY_LEN`].
pub(crate) fn encode(
    seq: u64,
    event: &Event,
    effects_json: &[u8],
    previous: &Hash32,
) -> Result<(Vec<u8>, Hash32), LogError> {
    let event_bytes = codec::encode_event(event);
    let body_len = 8 + 4 + event_bytes.len() + effects_json.len() + 32;
    let too_large = || LogError::RecordTooLarge { seq, len: body_len as u64, max: MAX_BODY_LEN };
    let len = u32::try_from(body_len).ok().filter(|len| *len <= MAX_BODY_LEN).ok_or_else(too_large)?;
    // Shorter than the whole body, so it fits too.
    let event_len = u32::try_from(event_bytes.len()).map_err(|_| too_large())?;
    let mut out = open(len, seq);
    out.extend_from_slice(&event_len.to_le_bytes());
    out.extend_from_slice(&event_bytes);
    out.extend_from_slice(effects_json);
    out.extend_from_slice(&effects_digest(effects_json).0);
    Ok(close(out, previous))
}

/// Encodes a checkpoint record; returns its bytes and its chain hash.
pub(crate) fn encode_checkpoint(seq: u64, state_hash: &Hash32, events: u64, previous: &Hash32) -> (Vec<u8>, Hash32) {
    let mut out = open(CHECKPOINT_BODY_LEN, seq);
    out.extend_from_slice(&CHECKPOINT_MARK.to_le_bytes());
    out.extend_from_slice(&state_hash.0);
    out.extend_from_slice(&events.to_le_bytes());
    close(out, previous)
}

/// A checkpoint body's state hash and event count, if `body` is one.
pub(crate) fn decode_checkpoint(body: &[u8]) -> Option<(Hash32, u64)> {
    if body.len() != CHECKPOINT_BODY_LEN as usize || body.get(8..12)? != CHECKPOINT_MARK.to_le_bytes() {
        return None;
    }
    let mut hash = [0_u8; 32];
    hash.copy_from_slice(&body[12..44]);
    let mut events = [0_u8; 8];
    events.copy_from_slice(&body[44..52]);
    Some((Hash32(hash), u64::from_le_bytes(events)))
}

/// The sequence number that opens a record body (at least 8 bytes, which every body
/// the framing admits has).
pub(crate) fn body_seq(body: &[u8]) -> u64 {
    let mut seq = [0_u8; 8];
    seq.copy_from_slice(&body[..8]);
    u64::from_le_bytes(seq)
}

/// The body length a record prefix announces, if its check word agrees and it is in range.
pub(crate) fn framed_len(prefix: &[u8]) -> Option<u32> {
    let word = |at: usize| prefix.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let (len, check) = (word(0)?, word(4)?);
    (check == !len && (MIN_BODY_LEN..=MAX_BODY_LEN).contains(&len)).then_some(len)
}
