//! When `seqrec run` writes checkpoints and snapshots (FORMAT.md "Checkpoints"): the
//! log's checkpoint record every `CHECKPOINT_EVERY` events, and a snapshot at a
//! checkpoint every N event records or M minutes, whichever comes first, and at shutdown.
//! In a segmented log, a checkpoint that closes a segment always gets its snapshot: it is
//! the one readers need once the segments before it are archived.
//! A snapshot is a cache: failing to write one is a warning, never a stop.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use machine::State;

use crate::log::{AppendLog, Checkpoint, LogError};
use crate::snapshot::{Snapshot, SnapshotError};
use crate::snapshot_dir::SnapshotDir;

/// The default number of event records between two snapshots.
pub const SNAPSHOT_EVERY_RECORDS: u64 = 100_000;
/// The default number of minutes between two snapshots.
pub const SNAPSHOT_EVERY_MINUTES: u64 = 10;
/// The default number of snapshots kept.
pub const SNAPSHOTS_KEPT: usize = 3;

/// A snapshot written (or not) at a checkpoint.
#[derive(Debug)]
pub struct Taken {
    /// The checkpoint the snapshot is at.
    pub checkpoint: Checkpoint,
    /// The snapshot file and the older ones removed, or why it could not be written.
    pub written: Result<(PathBuf, Vec<PathBuf>), SnapshotError>,
}

/// Decides, after each step, whether a checkpoint and a snapshot are due, and takes them.
#[derive(Debug)]
pub struct Checkpointer {
    dir: SnapshotDir,
    every_records: u64,
    every: Duration,
    /// Event records in the log at the last snapshot (or at the start).
    last_events: u64,
    last_at: Instant,
}

impl Checkpointer {
    /// Snapshots into `dir` every `every_records` event records and every `every` (a zero
    /// turns that trigger off), counting from now and the log's `events_now` events.
    #[must_use]
    pub fn new(dir: SnapshotDir, every_records: u64, every: Duration, events_now: u64) -> Self {
        Checkpointer { dir, every_records, every, last_events: events_now, last_at: Instant::now() }
    }

    /// The snapshot directory.
    #[must_use]
    pub fn dir(&self) -> &SnapshotDir {
        &self.dir
    }

    /// After a step appended to `log` and gave `state`: the log's periodic checkpoint when
    /// due, and a snapshot when due (at that checkpoint, or at a new one).
    ///
    /// # Errors
    /// The checkpoint record could not be appended (the writer then refuses every later
    /// append, so the run stops at its next step).
    pub fn after_step(&mut self, log: &mut impl AppendLog, state: &State) -> Result<Option<Taken>, LogError> {
        if !log.checkpoints_supported() {
            return Ok(None);
        }
        let periodic = if log.checkpoint_due() { Some(log.checkpoint_record(state.state_hash())?) } else { None };
        let by_records = self.every_records > 0 && log.events() - self.last_events >= self.every_records;
        let by_time = !self.every.is_zero() && self.last_at.elapsed() >= self.every;
        let closed_segment = periodic.as_ref().is_some_and(|checkpoint| log.closed_segment_at(checkpoint.seq));
        if !(by_records || by_time || closed_segment) {
            return Ok(None);
        }
        self.snapshot(log, state, periodic).map(Some)
    }

    /// A checkpoint and a snapshot now (at shutdown: the next start steps nothing), unless
    /// the log cannot hold checkpoints (version 1).
    ///
    /// # Errors
    /// As [`Self::after_step`].
    pub fn snapshot_now(&mut self, log: &mut impl AppendLog, state: &State) -> Result<Option<Taken>, LogError> {
        if !log.checkpoints_supported() {
            return Ok(None);
        }
        self.snapshot(log, state, None).map(Some)
    }

    fn snapshot(&mut self, log: &mut impl AppendLog, state: &State, at: Option<Checkpoint>) -> Result<Taken, LogError> {
        let checkpoint = match at {
            Some(checkpoint) => checkpoint,
            None => log.checkpoint_record(state.state_hash())?,
        };
        // The snapshot must never name a record that is not durable yet.
        log.sync()?;
        self.last_events = log.events();
        self.last_at = Instant::now();
        let snap = Snapshot {
            records: checkpoint.seq + 1,
            chain: checkpoint.chain,
            end_offset: checkpoint.end(),
            state: state.clone(),
        };
        Ok(Taken { checkpoint, written: self.dir.write(&snap) })
    }
}
