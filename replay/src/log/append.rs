//! What `seqrec run` appends through, whichever shape its log has: [`AppendLog`] is the
//! part of a writer the run loop and the checkpointer use, implemented by the
//! single-file [`LogWriter`] and the segmented [`SegmentWriter`]; [`RunLog`] is either,
//! chosen at start from `--log` (a file or a directory).

use machine::{Effect, Event, Hash32};

use super::error::LogError;
use super::record::Checkpoint;
use super::segment_writer::SegmentWriter;
use super::writer::LogWriter;

/// Appending records and checkpoints to a log.
pub trait AppendLog {
    /// Appends the record of one step; returns its sequence number.
    ///
    /// # Errors
    /// As [`LogWriter::append`].
    fn append(&mut self, event: &Event, effects: &[Effect]) -> Result<u64, LogError>;

    /// Appends a checkpoint of `state_hash` (a segmented log may start its next segment
    /// after it).
    ///
    /// # Errors
    /// As [`LogWriter::checkpoint_record`].
    fn checkpoint_record(&mut self, state_hash: Hash32) -> Result<Checkpoint, LogError>;

    /// Whether the log can hold checkpoints (version 2 on).
    fn checkpoints_supported(&self) -> bool;

    /// Whether the periodic checkpoint is due.
    fn checkpoint_due(&self) -> bool;

    /// Event records in the log.
    fn events(&self) -> u64;

    /// Writes and syncs everything appended so far.
    ///
    /// # Errors
    /// I/O errors.
    fn sync(&mut self) -> Result<(), LogError>;

    /// Whether the checkpoint numbered `seq` closed a segment: its snapshot is then the
    /// one readers need once the older segments are archived, so it is always taken.
    fn closed_segment_at(&self, seq: u64) -> bool {
        let _ = seq;
        false
    }
}

impl AppendLog for LogWriter {
    fn append(&mut self, event: &Event, effects: &[Effect]) -> Result<u64, LogError> {
        LogWriter::append(self, event, effects)
    }
    fn checkpoint_record(&mut self, state_hash: Hash32) -> Result<Checkpoint, LogError> {
        LogWriter::checkpoint_record(self, state_hash)
    }
    fn checkpoints_supported(&self) -> bool {
        LogWriter::checkpoints_supported(self)
    }
    fn checkpoint_due(&self) -> bool {
        LogWriter::checkpoint_due(self)
    }
    fn events(&self) -> u64 {
        LogWriter::events(self)
    }
    fn sync(&mut self) -> Result<(), LogError> {
        LogWriter::sync(self)
    }
}

impl AppendLog for SegmentWriter {
    fn append(&mut self, event: &Event, effects: &[Effect]) -> Result<u64, LogError> {
        SegmentWriter::append(self, event, effects)
    }
    fn checkpoint_record(&mut self, state_hash: Hash32) -> Result<Checkpoint, LogError> {
        SegmentWriter::checkpoint_record(self, state_hash)
    }
    fn checkpoints_supported(&self) -> bool {
        // Segments hold version-2 records.
        true
    }
    fn checkpoint_due(&self) -> bool {
        self.current().checkpoint_due()
    }
    fn events(&self) -> u64 {
        self.current().events()
    }
    fn sync(&mut self) -> Result<(), LogError> {
        SegmentWriter::sync(self)
    }
    fn closed_segment_at(&self, seq: u64) -> bool {
        self.rotated_at(seq)
    }
}

/// `seqrec run`'s log: a single file or a directory of segments.
#[derive(Debug)]
pub enum RunLog {
    /// A single-file log.
    File(LogWriter),
    /// A segmented log.
    Segments(SegmentWriter),
}

impl RunLog {
    fn inner(&self) -> &dyn AppendLog {
        match self {
            RunLog::File(writer) => writer,
            RunLog::Segments(writer) => writer,
        }
    }

    fn inner_mut(&mut self) -> &mut dyn AppendLog {
        match self {
            RunLog::File(writer) => writer,
            RunLog::Segments(writer) => writer,
        }
    }
}

impl AppendLog for RunLog {
    fn append(&mut self, event: &Event, effects: &[Effect]) -> Result<u64, LogError> {
        self.inner_mut().append(event, effects)
    }
    fn checkpoint_record(&mut self, state_hash: Hash32) -> Result<Checkpoint, LogError> {
        self.inner_mut().checkpoint_record(state_hash)
    }
    fn checkpoints_supported(&self) -> bool {
        self.inner().checkpoints_supported()
    }
    fn checkpoint_due(&self) -> bool {
        self.inner().checkpoint_due()
    }
    fn events(&self) -> u64 {
        self.inner().events()
    }
    fn sync(&mut self) -> Result<(), LogError> {
        self.inner_mut().sync()
    }
    fn closed_segment_at(&self, seq: u64) -> bool {
        self.inner().closed_segment_at(seq)
    }
}
