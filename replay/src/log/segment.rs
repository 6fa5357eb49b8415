//! One segment of a segmented log (FORMAT.md "Segmented logs"): a file of its own kind
//! (magic `SEQRSEG\n`) whose header names the checkpoint it starts after (record number,
//! event count, chain hash, state hash), followed by version-2 records that continue the
//! log's numbering and hash chain. A segment can thus be verified from a snapshot at its
//! starting checkpoint without any earlier segment.

use std::io::Read;
use std::path::{Path, PathBuf};

use machine::Hash32;

use super::error::LogError;
use super::header::{CHECKPOINT_VERSION, Header};
use super::header_damage;
use super::reader::read_full;
use super::record::Position;

/// The eight magic bytes that open every segment.
pub const SEGMENT_MAGIC: [u8; 8] = *b"SEQRSEG\n";
/// The segment header version this build writes and reads.
pub const SEGMENT_VERSION: u16 = 1;
/// The extension of a segment file.
pub const SEGMENT_EXTENSION: &str = "seg";
/// The lock file a segmented log's writer holds (FORMAT.md "Locking").
pub const LOCK_FILE: &str = "writer.lock";

/// Where a segment starts: just after a checkpoint record of the log (all zeros for the
/// first segment, which starts the log).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SegmentStart {
    /// The sequence number of the segment's first record.
    pub first_seq: u64,
    /// Event records before it.
    pub events: u64,
    /// The chain hash after the checkpoint it follows (the previous segment's last record).
    pub prev_chain: Hash32,
    /// That checkpoint's state hash.
    pub state_hash: Hash32,
}

/// A segment's header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentHeader {
    /// Which build wrote it.
    pub build: String,
    /// The log's config digest (the same in every segment).
    pub config_digest: Hash32,
    /// Where it starts.
    pub start: SegmentStart,
}

impl SegmentHeader {
    /// The header of a segment of the log whose header is `log` (its build and digest).
    #[must_use]
    pub fn new(log: &Header, start: SegmentStart) -> Self {
        SegmentHeader { build: log.build.clone(), config_digest: log.config_digest, start }
    }

    /// The log header its records are read under (format version 2: checkpoints).
    #[must_use]
    pub fn log_header(&self) -> Header {
        Header { version: CHECKPOINT_VERSION, build: self.build.clone(), config_digest: self.config_digest }
    }

    /// The header's bytes, ending with its own hash.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let build = self.build.as_bytes();
        let build_len = u16::try_from(build.len()).unwrap_or(u16::MAX);
        let mut out = Vec::with_capacity(12 + build.len() + 32 + 80 + 32);
        out.extend_from_slice(&SEGMENT_MAGIC);
        out.extend_from_slice(&SEGMENT_VERSION.to_le_bytes());
        out.extend_from_slice(&build_len.to_le_bytes());
        out.extend_from_slice(&build[..usize::from(build_len)]);
        out.extend_from_slice(&self.config_digest.0);
        out.extend_from_slice(&self.start.first_seq.to_le_bytes());
        out.extend_from_slice(&self.start.events.to_le_bytes());
        out.extend_from_slice(&self.start.prev_chain.0);
        out.extend_from_slice(&self.start.state_hash.0);
        let hash = blake3::hash(&out);
        out.extend_from_slice(hash.as_bytes());
        out
    }

    /// Reads and checks the header at the start of `input`; returns it and the position
    /// of the segment's first record (its chain seed is the header's hash).
    ///
    /// # Errors
    /// [`LogError::SegmentHeader`] naming what is wrong, or
    /// [`LogError::UnsupportedSegmentVersion`]; I/O errors.
    pub fn read(input: &mut impl Read) -> Result<(SegmentHeader, Position), LogError> {
        let invalid = |reason: String| LogError::SegmentHeader { reason };
        let mut fixed = [0_u8; 12];
        let got = read_full(input, &mut fixed)?;
        if got < 12 {
            return Err(invalid(format!("{got} bytes, a segment header needs at least 12")));
        }
        if fixed[..8] != SEGMENT_MAGIC {
            return Err(invalid(format!("bad magic {:02x?}, expected \"SEQRSEG\\n\"", &fixed[..8])));
        }
        let version = u16::from_le_bytes([fixed[8], fixed[9]]);
        if version != SEGMENT_VERSION {
            return Err(LogError::UnsupportedSegmentVersion { found: version, supported: SEGMENT_VERSION });
        }
        let build_len = usize::from(u16::from_le_bytes([fixed[10], fixed[11]]));
        let len = 12 + build_len + 32 + 80 + 32;
        let mut bytes = fixed.to_vec();
        bytes.resize(len, 0);
        let got = read_full(input, &mut bytes[12..])?;
        if 12 + got < len {
            return Err(invalid(format!("{} bytes, the header needs {len} (a crash while it was created?)", 12 + got)));
        }
        let (body, stored) = bytes.split_at(len - 32);
        if blake3::hash(body).as_bytes() != stored {
            return Err(invalid(format!("its hash does not match its bytes (byte offset 0..{len})")));
        }
        let hash = |at: usize| {
            let mut hash = [0_u8; 32];
            hash.copy_from_slice(&body[at..at + 32]);
            Hash32(hash)
        };
        let word = |at: usize| {
            let mut word = [0_u8; 8];
            word.copy_from_slice(&body[at..at + 8]);
            u64::from_le_bytes(word)
        };
        let at = 12 + build_len;
        let start = SegmentStart {
            first_seq: word(at + 32),
            events: word(at + 40),
            prev_chain: hash(at + 48),
            state_hash: hash(at + 80),
        };
        let header = SegmentHeader {
            build: String::from_utf8_lossy(&body[12..at]).into_owned(),
            config_digest: hash(at),
            start,
        };
        let position =
            Position { offset: len as u64, next_seq: start.first_seq, events: start.events, chain: hash_of(stored) };
        Ok((header, position))
    }
}

fn hash_of(bytes: &[u8]) -> Hash32 {
    let mut hash = [0_u8; 32];
    hash.copy_from_slice(bytes);
    Hash32(hash)
}

/// The file name of the segment whose first record is `first_seq`: zero-padded, so names
/// sort as the segments do.
#[must_use]
pub fn segment_name(first_seq: u64) -> String {
    format!("{first_seq:012}.{SEGMENT_EXTENSION}")
}

/// The segments in `dir`, by the first record their name gives, oldest first.
///
/// # Errors
/// [`LogError::NoSegments`] when there is none; I/O errors.
pub fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, LogError> {
    let mut found: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)?
        .flatten()
        .map(|entry| entry.path())
        .filter_map(|path| {
            let stem = path.file_stem()?.to_str()?;
            let first = stem.parse::<u64>().ok()?;
            path.extension().is_some_and(|ext| ext == SEGMENT_EXTENSION).then_some((first, path))
        })
        .collect();
    found.sort();
    if found.is_empty() {
        return Err(LogError::NoSegments { dir: dir.to_owned() });
    }
    Ok(found)
}

/// A segment header's length without its build identity.
pub(crate) const SEGMENT_FIXED_LEN: u64 = 12 + 32 + 80 + 32;
/// The longest a segment header can be (a build identity of `u16::MAX` bytes).
const MAX_HEADER_LEN: u64 = SEGMENT_FIXED_LEN + u16::MAX as u64;

/// Whether the segment at `path` is an unfinished new segment, and its length: a crash
/// while the writer created it (it writes the header with one `write`, then syncs) can
/// leave it empty, cut inside the header, or with zeros where the header's bytes never
/// reached the disk; any of these holds no record, so removing it loses nothing. A
/// segment whose header is whole, whose bytes are not a prefix of one (damage, or not
/// ours), or in which a whole record verifies (a damaged length word makes its header
/// look longer than the file) is not unfinished.
///
/// # Errors
/// I/O errors reading the file.
pub fn unfinished_segment(path: &Path) -> Result<Option<u64>, LogError> {
    let len = std::fs::metadata(path)?.len();
    if len > MAX_HEADER_LEN {
        return Ok(None);
    }
    let bytes = std::fs::read(path)?;
    if SegmentHeader::read(&mut bytes.as_slice()).is_ok() {
        return Ok(None);
    }
    // What the writer's one `write` put there: the bytes before a run of zeros to the end.
    let written = bytes.iter().rposition(|byte| *byte != 0).map_or(0, |last| last + 1);
    let magic_prefix = bytes[..written.min(8)] == SEGMENT_MAGIC[..written.min(8)];
    // The header's length, when the bytes announcing it were written.
    let header_len = (written >= 12).then(|| 12 + u64::from(u16::from_le_bytes([bytes[10], bytes[11]])) + 32 + 80 + 32);
    // No longer than that header (a record would follow it), and cut short or zero-filled.
    let fits = header_len.is_none_or(|needed| len <= needed);
    let incomplete = header_len.is_none_or(|needed| len < needed) || written < bytes.len();
    if !(magic_prefix && fits && incomplete) {
        return Ok(None);
    }
    // A crash during creation leaves no record; one that verifies means damage.
    let records = header_damage::records_after_header(bytes, std::io::empty())?;
    Ok(records.is_none().then_some(len))
}
