//! The log header: magic, format version, build identity, config digest, and its own
//! hash, which seeds the record chain (FORMAT.md).

use machine::Hash32;

use super::error::LogError;

/// The eight magic bytes that open every log.
pub const MAGIC: [u8; 8] = *b"SEQRLOG\n";
/// The only format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;

/// A decoded header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The format version.
    pub version: u16,
    /// Which build wrote the log, e.g. `seqrec 0.0.0`.
    pub build: String,
    /// blake3 of the first boot's config in the log encoding; zeros if the log has none.
    pub config_digest: Hash32,
}

impl Header {
    /// A header for this build.
    #[must_use]
    pub fn new(config_digest: Hash32) -> Self {
        Header { version: FORMAT_VERSION, build: format!("seqrec {}", env!("CARGO_PKG_VERSION")), config_digest }
    }

    /// The header's bytes, ending with its own hash.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let build = self.build.as_bytes();
        let build_len = u16::try_from(build.len()).unwrap_or(u16::MAX);
        let mut out = Vec::with_capacity(8 + 2 + 2 + build.len() + 64);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&build_len.to_le_bytes());
        out.extend_from_slice(&build[..usize::from(build_len)]);
        out.extend_from_slice(&self.config_digest.0);
        let hash = blake3::hash(&out);
        out.extend_from_slice(hash.as_bytes());
        out
    }

    /// Decodes a header from the start of `bytes`; returns it, its length, and its hash
    /// (the chain seed).
    ///
    /// # Errors
    /// `NotALog`, `UnsupportedVersion`, `HeaderTruncated` or `HeaderCorrupt`.
    pub fn decode(bytes: &[u8]) -> Result<(Header, usize, Hash32), LogError> {
        let truncated = |needed: usize| LogError::HeaderTruncated { found: bytes.len() as u64, needed: needed as u64 };
        let magic = bytes.get(..8).ok_or_else(|| {
            if MAGIC.starts_with(bytes) { truncated(12) } else { LogError::NotALog { found: bytes.to_vec() } }
        })?;
        if magic != MAGIC {
            return Err(LogError::NotALog { found: magic.to_vec() });
        }
        let fixed = bytes.get(8..12).ok_or_else(|| truncated(12))?;
        let version = u16::from_le_bytes([fixed[0], fixed[1]]);
        if version != FORMAT_VERSION {
            return Err(LogError::UnsupportedVersion { found: version, supported: FORMAT_VERSION });
        }
        let build_len = usize::from(u16::from_le_bytes([fixed[2], fixed[3]]));
        let len = 12 + build_len + 64;
        let header = bytes.get(..len).ok_or_else(|| truncated(len))?;
        let (body, stored) = header.split_at(len - 32);
        if blake3::hash(body).as_bytes() != stored {
            return Err(LogError::HeaderCorrupt { len: len as u64 });
        }
        let build = String::from_utf8_lossy(&body[12..12 + build_len]).into_owned();
        let mut config_digest = [0; 32];
        config_digest.copy_from_slice(&body[12 + build_len..]);
        let mut seed = [0; 32];
        seed.copy_from_slice(stored);
        Ok((Header { version, build, config_digest: Hash32(config_digest) }, len, Hash32(seed)))
    }
}
