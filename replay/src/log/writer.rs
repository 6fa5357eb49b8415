//! Crash-safe append (FORMAT.md "Durability"): a record is written whole and synced
//! before the effects of its step run. The default policy syncs every record; a group
//! policy syncs every N records and the executor must call [`LogWriter::sync`] before it
//! runs the effects of any record not yet synced.

use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom, Write};
use std::path::Path;

use machine::{Effect, Event, Hash32};

use super::error::LogError;
use super::header::{FORMAT_VERSION, Header};
use super::lock::LogLock;
use super::reader::LogReader;
use super::record::{self, Checkpoint, Entry, Position, effects_json};

/// Event records between two checkpoints the run loop writes (FORMAT.md "Checkpoints");
/// it also writes one at shutdown and whenever it takes a snapshot.
pub const CHECKPOINT_EVERY: u64 = 1_000;

/// When appended records are made durable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// `fdatasync` after every record (the default).
    #[default]
    EveryRecord,
    /// `fdatasync` after every `n` records, and on [`LogWriter::sync`].
    Group(u32),
}

/// Appends records to a log, holding its lock (FORMAT.md "Locking") for its whole life.
#[derive(Debug)]
pub struct LogWriter {
    file: File,
    version: u16,
    chain: Hash32,
    next_seq: u64,
    events: u64,
    since_checkpoint: u64,
    /// Byte offset just past the last record appended (buffered ones included).
    offset: u64,
    policy: FsyncPolicy,
    unsynced: u32,
    buffer: Vec<u8>,
    /// A write failed: the file ends before records the chain hash already covers.
    failed: bool,
}

impl LogWriter {
    /// Creates a new log (fails if the file exists), locks it and makes its header durable.
    ///
    /// # Errors
    /// [`LogError::UnsupportedVersion`] for a header this build cannot read back; I/O errors.
    pub fn create(path: &Path, header: &Header, policy: FsyncPolicy) -> Result<Self, LogError> {
        if !(1..=FORMAT_VERSION).contains(&header.version) {
            return Err(LogError::UnsupportedVersion { found: header.version, supported: FORMAT_VERSION });
        }
        Self::initialise(LogLock::create_new(path)?, header, policy)
    }

    /// Locks an existing log, then opens it for appending after verifying every record;
    /// a torn tail or any damage is refused (run `seqrec repair` for a torn tail).
    ///
    /// # Errors
    /// [`LogError::Locked`] before anything is read; any [`LogError`] of the content.
    pub fn open_append(path: &Path, policy: FsyncPolicy) -> Result<Self, LogError> {
        Self::append_to(LogLock::acquire_existing(path)?, policy, None, |_| {})
    }

    /// Opens the log whose lock the caller took first ([`LogLock::acquire`]): an
    /// unfinished new log (empty, all zeros, a cut header, or a header and no record:
    /// FORMAT.md "Torn tails and unfinished new logs") is (re)initialised with `header`, as it holds
    /// no record; any other log is verified and appended to as by [`Self::open_append`].
    ///
    /// # Errors
    /// Any [`LogError`] of the content; I/O errors.
    pub fn open(lock: LogLock, header: &Header, policy: FsyncPolicy) -> Result<Self, LogError> {
        Self::open_from(lock, header, policy, None, |_| {})
    }

    /// [`Self::open`], handing every record it verifies to `visit` (so a caller rebuilding
    /// its state reads the log once), and with `from` (the position just past a checkpoint
    /// a snapshot was vouched for: `Checkpoint::position`) verifying only the records after
    /// it: a restart from a snapshot reads only the tail.
    ///
    /// # Errors
    /// Any [`LogError`] of the content; I/O errors.
    pub fn open_from(
        lock: LogLock,
        header: &Header,
        policy: FsyncPolicy,
        from: Option<Position>,
        visit: impl FnMut(Entry),
    ) -> Result<Self, LogError> {
        if from.is_none() {
            let unfinished = match LogReader::new(BufReader::new(lock.file())) {
                Err(LogError::Empty | LogError::ZeroFilled { .. } | LogError::HeaderTruncated { .. }) => true,
                Ok(mut reader) => reader.next_entry().is_none(),
                Err(other) => return Err(other),
            };
            if unfinished {
                return Self::initialise(lock, header, policy);
            }
        }
        Self::append_to(lock, policy, from, visit)
    }

    /// Creates the segment file `path` (failing if it exists), locks it, writes `header`
    /// (a segment header's bytes) and makes it and its directory entry durable; records
    /// then continue at `start` (FORMAT.md "Segmented logs").
    pub(crate) fn create_segment(
        path: &Path,
        header: &[u8],
        start: Position,
        policy: FsyncPolicy,
    ) -> Result<Self, LogError> {
        let mut file = LogLock::create_new(path)?.into_file();
        file.write_all(header)?;
        file.sync_all()?;
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            File::open(dir)?.sync_all()?;
        }
        Ok(Self::at(file, super::header::CHECKPOINT_VERSION, policy, start, 0))
    }

    /// Appends to the segment `path` at `end`, just past its last record, which the caller
    /// has verified (it read the segment through to its end).
    pub(crate) fn continue_segment(
        path: &Path,
        end: Position,
        since_checkpoint: u64,
        policy: FsyncPolicy,
    ) -> Result<Self, LogError> {
        let mut file = LogLock::acquire_existing(path)?.into_file();
        file.seek(SeekFrom::Start(end.offset))?;
        Ok(Self::at(file, super::header::CHECKPOINT_VERSION, policy, end, since_checkpoint))
    }

    /// Writes `header` as the whole content of the locked file and makes it durable.
    fn initialise(lock: LogLock, header: &Header, policy: FsyncPolicy) -> Result<Self, LogError> {
        let path = lock.path().to_owned();
        let mut file = lock.into_file();
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        let bytes = header.encode();
        file.write_all(&bytes)?;
        file.sync_all()?;
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            // The new directory entry must survive a crash too.
            File::open(dir)?.sync_all()?;
        }
        let (_, len, seed) = Header::decode(&bytes)?;
        let start = Position { offset: len as u64, next_seq: 0, events: 0, chain: seed };
        Ok(Self::at(file, header.version, policy, start, 0))
    }

    /// A writer appending at `end` of `file`, `since_checkpoint` events after the last
    /// checkpoint.
    fn at(file: File, version: u16, policy: FsyncPolicy, end: Position, since_checkpoint: u64) -> Self {
        let Position { offset, next_seq, events, chain } = end;
        let (unsynced, buffer, failed) = (0, Vec::new(), false);
        LogWriter { file, version, chain, next_seq, events, since_checkpoint, offset, policy, unsynced, buffer, failed }
    }

    /// Verifies the locked log (from `from`, a position just past a checkpoint, or from
    /// its start) and positions the writer after its last record.
    fn append_to(
        lock: LogLock,
        policy: FsyncPolicy,
        from: Option<Position>,
        mut visit: impl FnMut(Entry),
    ) -> Result<Self, LogError> {
        let mut file = lock.into_file();
        // From the first byte, whatever read the file before.
        file.seek(SeekFrom::Start(0))?;
        let mut reader = LogReader::new(BufReader::new(&file))?;
        if let Some(position) = from {
            let header = reader.header().clone();
            drop(reader);
            file.seek(SeekFrom::Start(position.offset))?;
            reader = LogReader::resume(BufReader::new(&file), header, position);
        }
        let mut since_checkpoint = 0;
        for entry in reader.entries() {
            let entry = entry?;
            since_checkpoint = match entry {
                Entry::Event(_) => since_checkpoint + 1,
                Entry::Checkpoint(_) => 0,
            };
            visit(entry);
        }
        let (version, end) = (reader.header().version, reader.position());
        drop(reader);
        file.seek(SeekFrom::Start(end.offset))?;
        Ok(Self::at(file, version, policy, end, since_checkpoint))
    }

    /// Appends the record of one step; returns its sequence number. Under
    /// [`FsyncPolicy::EveryRecord`] it is durable when this returns.
    ///
    /// # Errors
    /// [`LogError::RecordTooLarge`] before any byte is written, the writer unchanged, if
    /// the record would exceed [`super::MAX_BODY_LEN`]; I/O errors, after which the log
    /// is unusable until reopened.
    pub fn append(&mut self, event: &Event, effects: &[Effect]) -> Result<u64, LogError> {
        let seq = self.next_seq;
        let (bytes, chain) = record::encode(seq, event, &effects_json(effects), &self.chain)?;
        self.events += 1;
        self.since_checkpoint += 1;
        self.push(&bytes, chain)?;
        Ok(seq)
    }

    /// Appends a checkpoint: `state_hash` is `State::state_hash()` after every event
    /// appended so far. Returns its sequence number.
    ///
    /// # Errors
    /// [`LogError::CheckpointsUnsupported`] for a version-1 log (nothing is written);
    /// I/O errors as for [`Self::append`].
    pub fn append_checkpoint(&mut self, state_hash: Hash32) -> Result<u64, LogError> {
        self.checkpoint_record(state_hash).map(|checkpoint| checkpoint.seq)
    }

    /// [`Self::append_checkpoint`], returning the checkpoint as a reader would see it (a
    /// snapshot is cut there: `Snapshot::at_checkpoint`).
    ///
    /// # Errors
    /// As [`Self::append_checkpoint`].
    pub fn checkpoint_record(&mut self, state_hash: Hash32) -> Result<Checkpoint, LogError> {
        if self.version < super::header::CHECKPOINT_VERSION {
            return Err(LogError::CheckpointsUnsupported { version: self.version });
        }
        let (seq, offset, events) = (self.next_seq, self.offset, self.events);
        let (bytes, chain) = record::encode_checkpoint(seq, &state_hash, events, &self.chain);
        self.since_checkpoint = 0;
        self.push(&bytes, chain)?;
        Ok(Checkpoint { seq, offset, state_hash, events, chain })
    }

    /// Whether [`CHECKPOINT_EVERY`] event records have been appended since the last
    /// checkpoint (never for a version-1 log, which cannot hold one).
    #[must_use]
    pub fn checkpoint_due(&self) -> bool {
        self.version >= super::header::CHECKPOINT_VERSION && self.since_checkpoint >= CHECKPOINT_EVERY
    }

    /// Whether this log can hold checkpoint records (version 2 on).
    #[must_use]
    pub fn checkpoints_supported(&self) -> bool {
        self.version >= super::header::CHECKPOINT_VERSION
    }

    /// Event records appended since the last checkpoint (or since the log began).
    #[must_use]
    pub fn events_since_checkpoint(&self) -> u64 {
        self.since_checkpoint
    }

    /// Event records in the log.
    #[must_use]
    pub fn events(&self) -> u64 {
        self.events
    }

    fn push(&mut self, bytes: &[u8], chain: Hash32) -> Result<(), LogError> {
        self.buffer.extend_from_slice(bytes);
        self.offset += bytes.len() as u64;
        self.chain = chain;
        self.next_seq += 1;
        self.unsynced += 1;
        let due = match self.policy {
            FsyncPolicy::EveryRecord => true,
            FsyncPolicy::Group(n) => self.unsynced >= n.max(1),
        };
        if due {
            self.sync()?;
        }
        Ok(())
    }

    /// Writes and syncs everything appended so far.
    ///
    /// # Errors
    /// I/O errors.
    pub fn sync(&mut self) -> Result<(), LogError> {
        if self.failed {
            // The chain hash already includes records that never reached the file.
            return Err(std::io::Error::other("an earlier write to this log failed; reopen it").into());
        }
        let end = self.file.stream_position()?;
        let written = if self.buffer.is_empty() { Ok(()) } else { self.file.write_all(&self.buffer) };
        let synced = written.and_then(|()| if self.unsynced > 0 { self.file.sync_data() } else { Ok(()) });
        if let Err(error) = synced {
            // Undo what this sync may have written (a full disk fails mid-record, or at the
            // fsync): shrinking needs no space, so the log ends at its last durable record
            // instead of a torn tail that would need `seqrec repair` before any restart.
            // None of these records' effects ran; the writer refuses to write again.
            self.failed = true;
            self.buffer.clear();
            let _ = self.file.set_len(end).and_then(|()| self.file.sync_data());
            return Err(error.into());
        }
        self.buffer.clear();
        self.unsynced = 0;
        Ok(())
    }

    /// The chain hash after the last record.
    #[must_use]
    pub fn chain(&self) -> Hash32 {
        self.chain
    }

    /// Byte offset just past the last record appended.
    #[must_use]
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next sequence number.
    #[must_use]
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        // Best effort: a record still buffered under a group policy is written; its
        // effects were not run (the executor syncs before running them).
        let _ = self.sync();
    }
}
