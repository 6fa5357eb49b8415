//! Appending to a segmented log (FORMAT.md "Segmented logs"): the writer holds the
//! directory's lock file for its whole life, appends to the newest segment, and after a
//! checkpoint that leaves the segment at or over its size starts the next segment, whose
//! header names that checkpoint. Readers never lock, so a standby can tail the newest
//! segment and move on when a newer one appears.

use std::fs::File;
use std::path::{Path, PathBuf};

use machine::{Effect, Event, Hash32};

use super::error::LogError;
use super::header::Header;
use super::lock::LogLock;
use super::record::{Checkpoint, Entry, Position};
use super::segment::{LOCK_FILE, SegmentHeader, SegmentStart, list_segments, segment_name, unfinished_segment};
use super::segments::SegmentReader;
use super::writer::{FsyncPolicy, LogWriter};

/// The default size after which a segment is closed (at its next checkpoint).
pub const SEGMENT_BYTES: u64 = 256 << 20;

/// A segmented log's single-writer lock: an exclusive `flock` on `writer.lock` in the
/// directory (FORMAT.md "Locking"), taken before any segment is read.
#[derive(Debug)]
pub struct SegmentLock {
    dir: PathBuf,
    _lock: LogLock,
}

impl SegmentLock {
    /// Creates the directory `dir` if it is missing, then takes its lock.
    ///
    /// # Errors
    /// [`LogError::Locked`] naming the directory (and the holder's pid when Linux says);
    /// I/O errors.
    pub fn acquire(dir: &Path) -> Result<Self, LogError> {
        if !dir.is_dir() {
            std::fs::create_dir_all(dir)?;
            if let Some(parent) = dir.parent().filter(|parent| !parent.as_os_str().is_empty()) {
                // The new directory's entry must survive a crash too.
                File::open(parent)?.sync_all()?;
            }
        }
        let lock = LogLock::acquire(&dir.join(LOCK_FILE)).map_err(|error| match error {
            LogError::Locked { pid, .. } => LogError::Locked { path: dir.to_owned(), pid },
            other => other,
        })?;
        Ok(SegmentLock { dir: dir.to_owned(), _lock: lock })
    }

    /// The log directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Appends to a segmented log, holding its lock.
#[derive(Debug)]
pub struct SegmentWriter {
    /// Held for the writer's life: the directory's single-writer lock.
    lock: SegmentLock,
    writer: LogWriter,
    header: Header,
    policy: FsyncPolicy,
    max_bytes: u64,
    /// The checkpoint after which the newest segment was started by this writer.
    rotated_at: Option<u64>,
}

impl SegmentWriter {
    /// Takes the lock of the segmented log `dir` (creating the directory) and opens it
    /// as [`Self::open_locked`] does.
    ///
    /// # Errors
    /// [`LogError::Locked`] before anything is read; as [`Self::open_locked`].
    pub fn open(
        dir: &Path,
        header: &Header,
        policy: FsyncPolicy,
        max_bytes: u64,
        from: Option<(PathBuf, Position)>,
        visit: impl FnMut(Entry),
    ) -> Result<Self, LogError> {
        Self::open_locked(SegmentLock::acquire(dir)?, header, policy, max_bytes, from, visit)
    }

    /// Opens the segmented log whose lock the caller holds, creating its first segment
    /// when it has none (or re-creating it when a crash left it unfinished: it held no
    /// record); verifies the records from `from` (a snapshot's segment and position) or
    /// from the first record, handing each to `visit`, and appends after the last. New
    /// segments keep the log's config digest; `header` gives it only to a new log.
    ///
    /// # Errors
    /// Any [`LogError`] of the records, [`LogError::UnfinishedSegment`] for a newer
    /// segment a crash during rotation left (`seqrec repair` removes it).
    pub fn open_locked(
        lock: SegmentLock,
        header: &Header,
        policy: FsyncPolicy,
        max_bytes: u64,
        from: Option<(PathBuf, Position)>,
        mut visit: impl FnMut(Entry),
    ) -> Result<Self, LogError> {
        let dir = lock.dir().to_owned();
        let max_bytes = max_bytes.max(1);
        let segments = match list_segments(&dir) {
            Err(LogError::NoSegments { .. }) => Vec::new(),
            listed => listed?,
        };
        let new_log = match segments.as_slice() {
            [] => true,
            // Like an unfinished new single-file log: no record, so it is started again.
            [(0, only)] if from.is_none() && unfinished_segment(only)?.is_some() => {
                std::fs::remove_file(only)?;
                true
            }
            _ => false,
        };
        let mut header = header.clone();
        let writer = if new_log {
            Self::create(&dir, &SegmentHeader::new(&header, SegmentStart::default()), policy)?
        } else {
            let mut reader = match from {
                Some((segment, position)) => SegmentReader::resume(&dir, &segment, position)?,
                None => SegmentReader::open(&dir)?,
            };
            let mut since_checkpoint = 0;
            while let Some(entry) = reader.next_entry() {
                let entry = entry?;
                since_checkpoint = if matches!(entry, Entry::Checkpoint(_)) { 0 } else { since_checkpoint + 1 };
                visit(entry);
            }
            header.config_digest = reader.header().config_digest;
            LogWriter::continue_segment(reader.segment(), reader.position(), since_checkpoint, policy)?
        };
        Ok(SegmentWriter { lock, writer, header, policy, max_bytes, rotated_at: None })
    }

    /// Creates the segment `header` describes, empty of records.
    fn create(dir: &Path, header: &SegmentHeader, policy: FsyncPolicy) -> Result<LogWriter, LogError> {
        let bytes = header.encode();
        let (_, start) = SegmentHeader::read(&mut bytes.as_slice())?;
        LogWriter::create_segment(&dir.join(segment_name(header.start.first_seq)), &bytes, start, policy)
    }

    /// Appends the record of one step; returns its sequence number.
    ///
    /// # Errors
    /// As [`LogWriter::append`].
    pub fn append(&mut self, event: &Event, effects: &[Effect]) -> Result<u64, LogError> {
        self.writer.append(event, effects)
    }

    /// Appends a checkpoint and, when the segment has reached its size, starts the next
    /// segment after it (the checkpoint is the old segment's last record).
    ///
    /// # Errors
    /// As [`LogWriter::append_checkpoint`]; I/O errors creating the next segment.
    pub fn checkpoint_record(&mut self, state_hash: Hash32) -> Result<Checkpoint, LogError> {
        let checkpoint = self.writer.checkpoint_record(state_hash)?;
        if self.writer.offset() >= self.max_bytes {
            // The checkpoint must be durable before a segment names it.
            self.writer.sync()?;
            let start = SegmentStart {
                first_seq: checkpoint.seq + 1,
                events: checkpoint.events,
                prev_chain: checkpoint.chain,
                state_hash,
            };
            self.writer = Self::create(self.lock.dir(), &SegmentHeader::new(&self.header, start), self.policy)?;
            self.rotated_at = Some(checkpoint.seq);
        }
        Ok(checkpoint)
    }

    /// Whether the checkpoint numbered `seq` closed a segment: the next one starts after
    /// it, so its snapshot is what a reader needs once the older segments are archived.
    #[must_use]
    pub fn rotated_at(&self, seq: u64) -> bool {
        self.rotated_at == Some(seq)
    }

    /// The log directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.lock.dir()
    }

    /// The writer of the newest segment.
    #[must_use]
    pub fn current(&self) -> &LogWriter {
        &self.writer
    }

    /// Writes and syncs everything appended so far.
    ///
    /// # Errors
    /// I/O errors.
    pub fn sync(&mut self) -> Result<(), LogError> {
        self.writer.sync()
    }
}
