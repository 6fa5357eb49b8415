//! Appending to a segmented log (FORMAT.md "Segmented logs"): the writer holds the
//! directory's lock file for its whole life, appends to the newest segment, and after a
//! checkpoint that leaves the segment at or over its size starts the next segment, whose
//! header names that checkpoint. Readers never lock, so a standby can tail the newest
//! segment and move on when a newer one appears.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use machine::{Effect, Event, Hash32};

use super::error::LogError;
use super::header::Header;
use super::record::{Checkpoint, Entry, Position};
use super::segment::{LOCK_FILE, SegmentHeader, SegmentStart, list_segments, segment_name};
use super::segments::SegmentReader;
use super::writer::{FsyncPolicy, LogWriter};

/// The default size after which a segment is closed (at its next checkpoint).
pub const SEGMENT_BYTES: u64 = 256 << 20;

/// Appends to a segmented log, holding its lock.
#[derive(Debug)]
pub struct SegmentWriter {
    dir: PathBuf,
    /// Held for the writer's life: the directory's single-writer lock.
    _lock: File,
    writer: LogWriter,
    header: Header,
    policy: FsyncPolicy,
    max_bytes: u64,
}

impl SegmentWriter {
    /// Opens (or creates, with its first segment) the segmented log `dir` and takes its
    /// lock; verifies the records from `from` (a snapshot's segment and position) or from
    /// the first record, handing each to `visit`, and appends after the last.
    ///
    /// # Errors
    /// [`LogError::Locked`] before anything is read; any [`LogError`] of the records.
    pub fn open(
        dir: &Path,
        header: &Header,
        policy: FsyncPolicy,
        max_bytes: u64,
        from: Option<(PathBuf, Position)>,
        mut visit: impl FnMut(Entry),
    ) -> Result<Self, LogError> {
        if !dir.is_dir() {
            std::fs::create_dir_all(dir)?;
            if let Some(parent) = dir.parent().filter(|parent| !parent.as_os_str().is_empty()) {
                File::open(parent)?.sync_all()?;
            }
        }
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&lock_path)?;
        if !effects::try_lock_exclusive(&lock)? {
            return Err(LogError::Locked { path: dir.to_owned(), pid: None });
        }
        let max_bytes = max_bytes.max(1);
        let new = |writer| SegmentWriter {
            dir: dir.to_owned(),
            _lock: lock,
            writer,
            header: header.clone(),
            policy,
            max_bytes,
        };
        if matches!(list_segments(dir), Err(LogError::NoSegments { .. })) {
            let first = SegmentHeader::new(header, SegmentStart::default());
            let writer = Self::create(dir, &first, policy)?;
            return Ok(new(writer));
        }
        let mut reader = match from {
            Some((segment, position)) => SegmentReader::resume(dir, &segment, position)?,
            None => SegmentReader::open(dir)?,
        };
        let mut since_checkpoint = 0;
        while let Some(entry) = reader.next_entry() {
            let entry = entry?;
            since_checkpoint = if matches!(entry, Entry::Checkpoint(_)) { 0 } else { since_checkpoint + 1 };
            visit(entry);
        }
        let writer = LogWriter::continue_segment(reader.segment(), reader.position(), since_checkpoint, policy)?;
        Ok(new(writer))
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
            self.writer = Self::create(&self.dir, &SegmentHeader::new(&self.header, start), self.policy)?;
        }
        Ok(checkpoint)
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
