//! Byte strings, hashes and addresses, written as `0x` hex in scripts and traces
//! (docs/protocol.md §10).
//!
//! Hex is hand-written here because `machine` may depend only on serde, rkyv,
//! thiserror and blake3; it is twenty lines and fully tested.

use core::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// Arbitrary bytes (payloads, direct-input data, wire bytes).
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Bytes(pub Vec<u8>);

/// A 32-byte hash (blake3 wire hashes, transaction hashes).
#[derive(
    Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct Hash32(pub [u8; 32]);

/// A 20-byte Ethereum address.
#[derive(
    Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct Address(pub [u8; 20]);

/// Why a hex string was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    /// The `0x` prefix is missing.
    #[error("expected a 0x-prefixed hex string")]
    MissingPrefix,
    /// A character outside `0-9a-fA-F`, or an odd number of digits.
    #[error("invalid hex digit at position {position}")]
    BadDigit {
        /// Zero-based position of the digit after the `0x` prefix.
        position: usize,
    },
    /// The string has an odd number of digits.
    #[error("odd number of hex digits")]
    OddLength,
    /// The decoded value has the wrong size.
    #[error("expected {expected} bytes, found {found}")]
    WrongLength {
        /// Bytes the type holds.
        expected: usize,
        /// Bytes the string held.
        found: usize,
    },
}

/// Decodes a `0x`-prefixed hex string.
///
/// # Errors
/// [`HexError`] when the prefix is missing, a digit is invalid or the length is odd.
pub fn decode_hex(text: &str) -> Result<Vec<u8>, HexError> {
    let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")).ok_or(HexError::MissingPrefix)?;
    if digits.len() % 2 != 0 {
        return Err(HexError::OddLength);
    }
    let nibble = |position: usize, digit: u8| -> Result<u8, HexError> {
        match digit {
            b'0'..=b'9' => Ok(digit - b'0'),
            b'a'..=b'f' => Ok(digit - b'a' + 10),
            b'A'..=b'F' => Ok(digit - b'A' + 10),
            _ => Err(HexError::BadDigit { position }),
        }
    };
    digits
        .as_bytes()
        .chunks_exact(2)
        .enumerate()
        .map(|(i, pair)| Ok((nibble(2 * i, pair[0])? << 4) | nibble(2 * i + 1, pair[1])?))
        .collect()
}

/// Writes bytes as lowercase `0x` hex.
#[must_use]
pub fn encode_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 + 2 * bytes.len());
    out.push_str("0x");
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

fn decode_fixed<const N: usize>(text: &str) -> Result<[u8; N], HexError> {
    let bytes = decode_hex(text)?;
    let found = bytes.len();
    bytes.try_into().map_err(|_| HexError::WrongLength { expected: N, found })
}

impl core::str::FromStr for Bytes {
    type Err = HexError;
    fn from_str(text: &str) -> Result<Self, HexError> {
        decode_hex(text).map(Bytes)
    }
}

impl core::str::FromStr for Hash32 {
    type Err = HexError;
    fn from_str(text: &str) -> Result<Self, HexError> {
        decode_fixed(text).map(Hash32)
    }
}

impl core::str::FromStr for Address {
    type Err = HexError;
    fn from_str(text: &str) -> Result<Self, HexError> {
        decode_fixed(text).map(Address)
    }
}

macro_rules! hex_text {
    ($name:ident) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&encode_hex(&self.0[..]))
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(de::Error::custom)
            }
        }
    };
}

hex_text!(Bytes);
hex_text!(Hash32);
hex_text!(Address);

impl Hash32 {
    /// The first four bytes as hex, for compact text traces.
    #[must_use]
    pub fn short(&self) -> String {
        encode_hex(&self.0[..4])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_bad_input() {
        assert_eq!(decode_hex("0x00ff10Ab"), Ok(vec![0x00, 0xff, 0x10, 0xab]));
        assert_eq!(encode_hex(&[0x00, 0xff, 0x10, 0xab]), "0x00ff10ab");
        assert_eq!(decode_hex("0x"), Ok(vec![]));
        assert_eq!(decode_hex("00"), Err(HexError::MissingPrefix));
        assert_eq!(decode_hex("0x0"), Err(HexError::OddLength));
        assert_eq!(decode_hex("0x0g"), Err(HexError::BadDigit { position: 1 }));
        assert_eq!("0x0102".parse::<Address>(), Err(HexError::WrongLength { expected: 20, found: 2 }));
    }
}
