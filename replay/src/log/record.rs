//! One record: `len | !len | seq | event_len | event | effects JSON | effects digest |
//! chain hash` (FORMAT.md). The effects are stored, not only digested, so a divergence
//! found by a later build can show what the writing build did.

use machine::{Effect, Event, Hash32};

use super::codec;

/// Bytes before the body: the length and its check word.
pub(crate) const PREFIX_LEN: usize = 8;
/// The smallest body: seq, event length, a one-byte event, `[]`, the effects digest.
pub(crate) const MIN_BODY_LEN: u32 = 8 + 4 + 1 + 2 + 32;
/// The largest body this build accepts (a seal payload is at most a few hundred KiB).
pub(crate) const MAX_BODY_LEN: u32 = 64 << 20;

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

/// The effects' JSON array, exactly as the JSON trace prints them: stable because the
/// effect JSON is the interface.md contract.
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

/// Encodes a record; returns its bytes and its chain hash.
pub(crate) fn encode(seq: u64, event: &Event, effects_json: &[u8], previous: &Hash32) -> (Vec<u8>, Hash32) {
    let event_bytes = codec::encode_event(event);
    let body_len = 8 + 4 + event_bytes.len() + effects_json.len() + 32;
    let len = u32::try_from(body_len).unwrap_or(u32::MAX);
    let event_len = u32::try_from(event_bytes.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(PREFIX_LEN + body_len + 32);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&event_len.to_le_bytes());
    out.extend_from_slice(&event_bytes);
    out.extend_from_slice(effects_json);
    out.extend_from_slice(&effects_digest(effects_json).0);
    let chain = chain_hash(previous, &out[PREFIX_LEN..]);
    out.extend_from_slice(&chain.0);
    (out, chain)
}
