//! docs/protocol.md §2: the pure batch encoder. The bytes submitted are exactly the bytes
//! judged, so the nonce and first-frame safe block are baked into them here.
//!
//! Layout (version 1), all integers big-endian:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `SQRB` (`0x53 0x51 0x52 0x42`) |
//! | 4 | 1 | version, `0x01` |
//! | 5 | 8 | batch nonce |
//! | 13 | 8 | first-frame safe block `S` |
//! | 21 | 4 | payload length `n` |
//! | 25 | n | payload |
//!
//! Nothing may follow the payload. The wire hash is blake3 of the whole byte string.

use crate::bytes::Hash32;
use crate::units::{BatchNonce, BlockNumber};

/// The four magic bytes that open every batch.
pub const MAGIC: [u8; 4] = *b"SQRB";
/// The only wire version this build writes and reads.
pub const VERSION: u8 = 1;
/// Bytes the wire format adds before the payload.
pub const HEADER_LEN: usize = 25;

/// A decoded batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireBatch {
    /// The scheduler nonce.
    pub nonce: BatchNonce,
    /// The first-frame safe block.
    pub first_frame_safe_block: BlockNumber,
    /// The payload.
    pub payload: Vec<u8>,
}

/// Why bytes are not a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Shorter than the fixed header.
    #[error("batch is {found} bytes, shorter than the {HEADER_LEN}-byte header")]
    TooShort {
        /// Bytes present.
        found: usize,
    },
    /// The magic is wrong.
    #[error("batch does not start with the SQRB magic")]
    BadMagic,
    /// An unknown version.
    #[error("batch wire version {found} is not supported (this build reads {VERSION})")]
    UnsupportedVersion {
        /// The version byte.
        found: u8,
    },
    /// The payload length disagrees with the bytes present.
    #[error("payload length field says {declared} bytes but {present} follow the header")]
    LengthMismatch {
        /// The length field.
        declared: u64,
        /// Bytes after the header.
        present: usize,
    },
    /// The payload does not fit the 4-byte length field.
    #[error("payload of {found} bytes exceeds the 4 GiB wire limit")]
    PayloadTooLarge {
        /// The payload size.
        found: usize,
    },
}

/// Encodes a batch.
///
/// # Errors
/// [`WireError::PayloadTooLarge`] for a payload over `u32::MAX` bytes.
pub fn encode(nonce: BatchNonce, first_frame_safe_block: BlockNumber, payload: &[u8]) -> Result<Vec<u8>, WireError> {
    let len = u32::try_from(payload.len()).map_err(|_| WireError::PayloadTooLarge { found: payload.len() })?;
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&nonce.0.to_be_bytes());
    out.extend_from_slice(&first_frame_safe_block.0.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    Ok(out)
}

/// Decodes a batch; the inverse of [`encode`].
///
/// # Errors
/// A [`WireError`] naming what is wrong with the bytes.
pub fn decode(bytes: &[u8]) -> Result<WireBatch, WireError> {
    let Some((header, payload)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return Err(WireError::TooShort { found: bytes.len() });
    };
    let (magic, rest) = header.split_at(4);
    if magic != MAGIC {
        return Err(WireError::BadMagic);
    }
    if rest[0] != VERSION {
        return Err(WireError::UnsupportedVersion { found: rest[0] });
    }
    let field = |at: usize| -> u64 {
        let mut word = [0_u8; 8];
        word.copy_from_slice(&header[at..at + 8]);
        u64::from_be_bytes(word)
    };
    let declared = u64::from(u32::from_be_bytes([header[21], header[22], header[23], header[24]]));
    if u64::try_from(payload.len()).ok() != Some(declared) {
        return Err(WireError::LengthMismatch { declared, present: payload.len() });
    }
    Ok(WireBatch {
        nonce: BatchNonce(field(5)),
        first_frame_safe_block: BlockNumber(field(13)),
        payload: payload.to_vec(),
    })
}

/// The wire hash: blake3 of the exact bytes submitted.
#[must_use]
pub fn wire_hash(bytes: &[u8]) -> Hash32 {
    Hash32(*blake3::hash(bytes).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip_and_golden_bytes() {
        let bytes = encode(BatchNonce(7), BlockNumber(100), &[0xab, 0xcd]).unwrap_or_default();
        let golden =
            [0x53, 0x51, 0x52, 0x42, 0x01, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 2, 0xab, 0xcd];
        assert_eq!(bytes, golden);
        assert_eq!(
            decode(&bytes),
            Ok(WireBatch { nonce: BatchNonce(7), first_frame_safe_block: BlockNumber(100), payload: vec![0xab, 0xcd] })
        );
    }

    #[test]
    fn decode_rejects_damage() {
        let bytes = encode(BatchNonce(1), BlockNumber(2), &[1, 2, 3]).unwrap_or_default();
        assert_eq!(decode(&bytes[..10]), Err(WireError::TooShort { found: 10 }));
        let mut bad = bytes.clone();
        bad[0] = b'X';
        assert_eq!(decode(&bad), Err(WireError::BadMagic));
        let mut bad = bytes.clone();
        bad[4] = 2;
        assert_eq!(decode(&bad), Err(WireError::UnsupportedVersion { found: 2 }));
        assert_eq!(decode(&bytes[..bytes.len() - 1]), Err(WireError::LengthMismatch { declared: 3, present: 2 }));
    }
}
