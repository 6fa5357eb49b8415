//! Snapshots of the core's state (FORMAT.md "Snapshots"): an rkyv archive, validated on
//! load (bytecheck), tied to the log by the sequence number and chain hash of the last
//! record it includes and that record's end offset, so a resume reads only the tail.

use std::path::Path;

use machine::{Hash32, State};

/// The eight magic bytes of a snapshot file.
pub const SNAPSHOT_MAGIC: [u8; 8] = *b"SEQRSNAP";
/// The snapshot format version this build writes and reads.
pub const SNAPSHOT_VERSION: u16 = 1;
const FIXED_LEN: usize = 8 + 2 + 8 + 32 + 8 + 8;

/// A state after a log record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// How many records the state includes (the next record to replay has this seq).
    pub records: u64,
    /// The chain hash after the last included record.
    pub chain: Hash32,
    /// The byte offset just past the last included record.
    pub end_offset: u64,
    /// The state.
    pub state: State,
}

/// Why a snapshot cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Reading or writing failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// Not a snapshot file.
    #[error("not a seqrec snapshot (bad magic)")]
    NotASnapshot,
    /// A version this build cannot read.
    #[error("snapshot version {found} is not one this build reads ({supported}); replay the full log instead")]
    UnsupportedVersion {
        /// The version in the file.
        found: u16,
        /// The version this build reads.
        supported: u16,
    },
    /// The file is shorter than its header says.
    #[error("snapshot truncated: {found} bytes, expected {expected}")]
    Truncated {
        /// Bytes present.
        found: u64,
        /// Bytes expected.
        expected: u64,
    },
    /// The file's hash does not match its bytes.
    #[error("snapshot corrupt: its hash does not match its bytes")]
    Corrupt,
    /// The archive fails validation.
    #[error("snapshot state fails validation: {0}")]
    Invalid(String),
    /// The snapshot does not belong to this log.
    #[error(
        "snapshot after record {seq} has chain hash {snapshot} but the log has {log} there; it belongs to another log"
    )]
    WrongLog {
        /// The last record it includes.
        seq: u64,
        /// Its chain hash.
        snapshot: Hash32,
        /// The log's chain hash at that record.
        log: Hash32,
    },
}

impl Snapshot {
    /// The file's bytes.
    ///
    /// # Errors
    /// If rkyv cannot archive the state (it cannot fail for plain owned data).
    pub fn encode(&self) -> Result<Vec<u8>, SnapshotError> {
        let archive =
            rkyv::to_bytes::<rkyv::rancor::Error>(&self.state).map_err(|e| SnapshotError::Invalid(e.to_string()))?;
        let mut out = Vec::with_capacity(FIXED_LEN + archive.len() + 32);
        out.extend_from_slice(&SNAPSHOT_MAGIC);
        out.extend_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
        out.extend_from_slice(&self.records.to_le_bytes());
        out.extend_from_slice(&self.chain.0);
        out.extend_from_slice(&self.end_offset.to_le_bytes());
        out.extend_from_slice(&(archive.len() as u64).to_le_bytes());
        out.extend_from_slice(&archive);
        let hash = blake3::hash(&out);
        out.extend_from_slice(hash.as_bytes());
        Ok(out)
    }

    /// Decodes and validates a snapshot.
    ///
    /// # Errors
    /// A [`SnapshotError`] naming what is wrong.
    pub fn decode(bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
        let truncated =
            |expected: usize| SnapshotError::Truncated { found: bytes.len() as u64, expected: expected as u64 };
        let fixed = bytes.get(..FIXED_LEN).ok_or_else(|| truncated(FIXED_LEN))?;
        if fixed[..8] != SNAPSHOT_MAGIC {
            return Err(SnapshotError::NotASnapshot);
        }
        let version = u16::from_le_bytes([fixed[8], fixed[9]]);
        if version != SNAPSHOT_VERSION {
            return Err(SnapshotError::UnsupportedVersion { found: version, supported: SNAPSHOT_VERSION });
        }
        let word = |at: usize| {
            let mut word = [0_u8; 8];
            word.copy_from_slice(&fixed[at..at + 8]);
            u64::from_le_bytes(word)
        };
        let records = word(10);
        let mut chain = [0_u8; 32];
        chain.copy_from_slice(&fixed[18..50]);
        let end_offset = word(50);
        let state_len = usize::try_from(word(58)).map_err(|_| SnapshotError::Corrupt)?;
        let total = FIXED_LEN.checked_add(state_len).and_then(|n| n.checked_add(32)).ok_or(SnapshotError::Corrupt)?;
        if bytes.len() != total {
            return Err(truncated(total));
        }
        let (body, stored) = bytes.split_at(total - 32);
        if blake3::hash(body).as_bytes() != stored {
            return Err(SnapshotError::Corrupt);
        }
        // rkyv needs the archive aligned; a copy into an aligned buffer guarantees it.
        let mut aligned = rkyv::util::AlignedVec::<16>::with_capacity(state_len);
        aligned.extend_from_slice(&body[FIXED_LEN..]);
        let state = rkyv::from_bytes::<State, rkyv::rancor::Error>(&aligned)
            .map_err(|error| SnapshotError::Invalid(error.to_string()))?;
        Ok(Snapshot { records, chain: Hash32(chain), end_offset, state })
    }

    /// Writes the snapshot atomically (temporary file, sync, rename).
    ///
    /// # Errors
    /// I/O errors.
    pub fn write(&self, path: &Path) -> Result<(), SnapshotError> {
        let bytes = self.encode()?;
        let temporary = path.with_extension("tmp");
        {
            use std::io::Write as _;
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
        }
        std::fs::rename(&temporary, path)?;
        Ok(())
    }

    /// Reads and validates a snapshot file.
    ///
    /// # Errors
    /// A [`SnapshotError`].
    pub fn read(path: &Path) -> Result<Snapshot, SnapshotError> {
        Snapshot::decode(&std::fs::read(path)?)
    }
}
