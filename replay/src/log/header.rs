//! The log header: magic, format version, build identity, config digest, and its own
//! hash, which seeds the record chain (FORMAT.md).

use machine::Hash32;

use super::error::LogError;

/// The eight magic bytes that open every log.
pub const MAGIC: [u8; 8] = *b"SEQRLOG\n";
/// The format version this build writes; it reads every version from 1 up to this one.
pub const FORMAT_VERSION: u16 = 2;
/// The first format version with checkpoint records.
pub const CHECKPOINT_VERSION: u16 = 2;
/// How many leading bytes [`looks_like_a_log`] wants to see.
pub const SNIFF_LEN: usize = 4096;

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

    /// Whether logs of this header's version hold checkpoint records.
    #[must_use]
    pub fn has_checkpoints(&self) -> bool {
        self.version >= CHECKPOINT_VERSION
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
    /// `Empty`, `ZeroFilled`, `NotALog`, `UnsupportedVersion`, `HeaderTruncated` or
    /// `HeaderCorrupt`.
    pub fn decode(bytes: &[u8]) -> Result<(Header, usize, Hash32), LogError> {
        let truncated = |needed: usize| LogError::HeaderTruncated { found: bytes.len() as u64, needed: needed as u64 };
        if bytes.is_empty() {
            return Err(LogError::Empty);
        }
        if bytes.iter().all(|byte| *byte == 0) {
            return Err(LogError::ZeroFilled { len: bytes.len() as u64 });
        }
        let magic = bytes.get(..8).ok_or_else(|| {
            if MAGIC.starts_with(bytes) { truncated(12) } else { LogError::NotALog { found: bytes.to_vec() } }
        })?;
        if magic != MAGIC {
            return Err(LogError::NotALog { found: magic.to_vec() });
        }
        let fixed = bytes.get(8..12).ok_or_else(|| truncated(12))?;
        let version = u16::from_le_bytes([fixed[0], fixed[1]]);
        if !(1..=FORMAT_VERSION).contains(&version) {
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

/// Whether a file whose first bytes (up to [`SNIFF_LEN`]) are `first` is to be read as a
/// log rather than as a text script: it is empty, starts with the magic or with half of
/// it or more in place, or is not text (a NUL, a control character, invalid UTF-8). A
/// damaged log is then reported as a log error, never as a script that is not UTF-8.
#[must_use]
pub fn looks_like_a_log(first: &[u8]) -> bool {
    let near_magic = first.iter().zip(MAGIC).filter(|(found, magic)| **found == *magic).count() >= MAGIC.len() / 2;
    let text = match std::str::from_utf8(first) {
        Ok(_) => true,
        // A character cut by the sample's end is still text.
        Err(error) => error.error_len().is_none() && first.len() >= SNIFF_LEN,
    };
    let control = first.iter().any(|byte| (*byte < 0x20 && !b"\t\n\r\x0c".contains(byte)) || *byte == 0x7f);
    first.is_empty() || near_magic || MAGIC.starts_with(first) || !text || control
}
