//! Snapshots of the core's state (FORMAT.md "Snapshots"): an rkyv archive, validated on
//! load (bytecheck), tied to the log by the sequence number and chain hash of the last
//! record it includes and that record's end offset, so a resume reads only the tail. That
//! record must be a checkpoint recording the snapshot state's hash: a snapshot is a cache
//! the log authenticates, never a source of truth.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use machine::{Hash32, State};

use crate::log::{Checkpoint, checkpoint_ending_at};

/// The eight magic bytes of a snapshot file.
pub const SNAPSHOT_MAGIC: [u8; 8] = *b"SEQRSNAP";
/// The snapshot format version this build writes and reads (2 added the state layout).
pub const SNAPSHOT_VERSION: u16 = 2;
const FIXED_LEN: usize = 8 + 2 + 8 + 32 + 8 + 8 + 4;

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
    /// The state was archived by a build with another `State` layout.
    #[error(
        "snapshot holds state layout {found}, this build's is {supported}: it was written by another build; replay the full log instead"
    )]
    OtherStateLayout {
        /// The layout in the file.
        found: u32,
        /// This build's layout.
        supported: u32,
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
    /// The record the snapshot ends at is not a checkpoint with its sequence number.
    #[error(
        "snapshot after record {seq} (byte {offset}) is not at a checkpoint of the log, so the log cannot vouch for its state (version-1 logs have no checkpoints); take one with `seqrec snapshot`"
    )]
    NotAtCheckpoint {
        /// The last record it includes.
        seq: u64,
        /// The byte offset it ends at.
        offset: u64,
    },
    /// The snapshot's state is not the one the log's checkpoint records.
    #[error(
        "snapshot after record {seq}: its state hash {snapshot} differs from the log's checkpoint there ({log}); the snapshot was altered or written by another build"
    )]
    StateMismatch {
        /// The checkpoint record.
        seq: u64,
        /// The snapshot state's hash.
        snapshot: Hash32,
        /// The hash the checkpoint records.
        log: Hash32,
    },
    /// A snapshot was asked for where the log has no checkpoint.
    #[error(
        "no checkpoint record in the first {records} records: snapshots are taken at checkpoints (a version-1 log has none; `seqrec export` then `seqrec import` rewrites it with them)"
    )]
    NoCheckpoint {
        /// The records searched.
        records: u64,
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
        out.extend_from_slice(&machine::STATE_LAYOUT.to_le_bytes());
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
        Self::check_magic(fixed)?;
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

    /// The snapshot of `state` at `checkpoint`, whose recorded state hash it must have.
    ///
    /// # Errors
    /// [`SnapshotError::StateMismatch`] if `state` is not the checkpoint's.
    pub fn at_checkpoint(checkpoint: &Checkpoint, state: State) -> Result<Snapshot, SnapshotError> {
        let snap =
            Snapshot { records: checkpoint.seq + 1, chain: checkpoint.chain, end_offset: checkpoint.end(), state };
        snap.matches(checkpoint)?;
        Ok(snap)
    }

    fn matches(&self, checkpoint: &Checkpoint) -> Result<(), SnapshotError> {
        let hash = self.state.state_hash();
        if hash != checkpoint.state_hash {
            return Err(SnapshotError::StateMismatch {
                seq: checkpoint.seq,
                snapshot: hash,
                log: checkpoint.state_hash,
            });
        }
        Ok(())
    }

    /// Checks the snapshot against its log: the 32 bytes before its offset must be its
    /// chain hash (else it belongs to another log), the record ending there a checkpoint
    /// numbered `records - 1`, and that checkpoint's state hash the snapshot state's.
    /// Returns the checkpoint, the point to resume reading from.
    ///
    /// # Errors
    /// `WrongLog`, `NotAtCheckpoint`, `StateMismatch` or I/O errors.
    pub fn check_against(&self, log: &mut (impl Read + Seek)) -> Result<Checkpoint, SnapshotError> {
        let seq = self.records.saturating_sub(1);
        let log_chain = chain_before(log, self.end_offset)?;
        if self.records == 0 || log_chain != Some(self.chain) {
            return Err(SnapshotError::WrongLog { seq, snapshot: self.chain, log: log_chain.unwrap_or_default() });
        }
        let checkpoint = checkpoint_ending_at(log, self.end_offset)?
            .filter(|checkpoint| checkpoint.seq == seq)
            .ok_or(SnapshotError::NotAtCheckpoint { seq, offset: self.end_offset })?;
        self.matches(&checkpoint)?;
        Ok(checkpoint)
    }

    /// Writes the snapshot atomically: a temporary file, synced, renamed over `path`,
    /// then the directory synced, so a crash leaves the old file or the new one whole.
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
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            // The rename itself must survive a crash.
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }

    /// How many records the snapshot in the file at `path` covers, from its fixed header
    /// alone (magic and version checked; the state is neither read nor validated).
    ///
    /// # Errors
    /// `NotASnapshot`, `UnsupportedVersion`, `Truncated` or I/O errors.
    pub fn read_records(path: &Path) -> Result<u64, SnapshotError> {
        let mut fixed = [0_u8; FIXED_LEN];
        let got = crate::log::read_prefix(&mut std::fs::File::open(path)?, &mut fixed)?;
        if got < FIXED_LEN {
            return Err(SnapshotError::Truncated { found: got as u64, expected: FIXED_LEN as u64 });
        }
        Self::check_magic(&fixed)?;
        let mut records = [0_u8; 8];
        records.copy_from_slice(&fixed[10..18]);
        Ok(u64::from_le_bytes(records))
    }

    fn check_magic(fixed: &[u8]) -> Result<(), SnapshotError> {
        if fixed[..8] != SNAPSHOT_MAGIC {
            return Err(SnapshotError::NotASnapshot);
        }
        let version = u16::from_le_bytes([fixed[8], fixed[9]]);
        if version != SNAPSHOT_VERSION {
            return Err(SnapshotError::UnsupportedVersion { found: version, supported: SNAPSHOT_VERSION });
        }
        // rkyv validation alone would accept a layout that only reorders fields of one type.
        let layout = u32::from_le_bytes([fixed[66], fixed[67], fixed[68], fixed[69]]);
        if layout != machine::STATE_LAYOUT {
            return Err(SnapshotError::OtherStateLayout { found: layout, supported: machine::STATE_LAYOUT });
        }
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

/// The 32 bytes before `offset`: the chain hash of the record that ends there.
fn chain_before(file: &mut (impl Read + Seek), offset: u64) -> std::io::Result<Option<Hash32>> {
    let Some(start) = offset.checked_sub(32) else { return Ok(None) };
    file.seek(SeekFrom::Start(start))?;
    let mut hash = [0_u8; 32];
    match file.read_exact(&mut hash) {
        Ok(()) => Ok(Some(Hash32(hash))),
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
        Err(error) => Err(error),
    }
}
