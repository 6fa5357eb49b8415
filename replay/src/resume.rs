//! How `seqrec run` rebuilds its state at a restart (ARCHITECTURE.md choice 53): from the
//! newest snapshot the log vouches for, stepping only the records after its checkpoint,
//! or from the empty state and the whole log when none does. The log is read once: the
//! writer's verification of the tail is also the pass that steps it.

use std::path::{Path, PathBuf};

use machine::State;
use machine::drive::Driver;

use crate::log::{
    Checkpoint, Entry, FsyncPolicy, Header, LogError, LogLock, LogWriter, SegmentLock, SegmentWriter, list_segments,
    resume_point,
};
use crate::snapshot_dir::{Vouched, newest_valid_snapshot};

/// A log opened for appending, with the state its records give.
#[derive(Debug)]
pub struct Resumed<W = LogWriter> {
    /// The writer, positioned after the last record.
    pub writer: W,
    /// The state after every event record.
    pub state: State,
    /// The snapshot the state started from, and the checkpoint that vouched for it.
    pub snapshot: Option<(PathBuf, Checkpoint)>,
    /// Event records stepped at this restart (the tail after the snapshot, or all).
    pub stepped: u64,
    /// Snapshots skipped and why, for the operator's log.
    pub skipped: Vec<String>,
}

impl<W> Resumed<W> {
    /// The same, with the writer wrapped (`seqrec run` holds either kind of log).
    pub fn map_writer<V>(self, wrap: impl FnOnce(W) -> V) -> Resumed<V> {
        let Resumed { writer, state, snapshot, stepped, skipped } = self;
        Resumed { writer: wrap(writer), state, snapshot, stepped, skipped }
    }
}

/// Opens the locked log for appending (an unfinished new one is initialised with
/// `header`) and rebuilds the state, from the newest valid snapshot in `snapshots` when
/// there is one. Snapshots that do not validate (damaged, of another log, or of a build
/// whose `State` has another layout) are skipped and named in `skipped`; the records they
/// would have covered are then stepped instead. Checkpoints after the snapshot are not
/// compared (choice 42): another build may have another state layout.
///
/// # Errors
/// Any [`LogError`] of the records read (a damaged tail, a torn one included).
pub fn resume(
    lock: LogLock,
    header: &Header,
    policy: FsyncPolicy,
    snapshots: Option<&Path>,
) -> Result<Resumed, LogError> {
    let mut skipped = Vec::new();
    let chosen = choose(lock.path(), snapshots, &mut skipped);
    let (state, snapshot, from) = match chosen {
        Some((path, (snap, checkpoint))) => (snap.state, Some((path, checkpoint)), Some(checkpoint.position())),
        None => (State::new(), None, None),
    };
    let (mut driver, mut stepped) = (Driver::new(state), 0);
    let writer = LogWriter::open_from(lock, header, policy, from, stepper(&mut driver, &mut stepped))?;
    Ok(Resumed { writer, state: driver.into_state(), snapshot, stepped, skipped })
}

/// [`resume`] for a segmented log whose lock the caller holds: the newest valid snapshot
/// (at a checkpoint inside a present segment, or at a segment's start, vouched for by its
/// header), then the records after it across segments; a new segment is started after a
/// checkpoint that leaves the current one at `max_bytes` or more.
///
/// # Errors
/// Any [`LogError`] of the records read; [`LogError::UnfinishedSegment`] for a newest
/// segment a crash during rotation left; [`LogError::SegmentStartsLater`] when older
/// segments were archived and no snapshot at the oldest one's start validates.
pub fn resume_segments(
    lock: SegmentLock,
    header: &Header,
    policy: FsyncPolicy,
    max_bytes: u64,
    snapshots: Option<&Path>,
) -> Result<Resumed<SegmentWriter>, LogError> {
    let mut skipped = Vec::new();
    // A directory with no segment yet is a new log: no snapshot can be its.
    let has_segments = list_segments(lock.dir()).is_ok();
    let chosen = if has_segments { choose(lock.dir(), snapshots, &mut skipped) } else { None };
    let (state, snapshot, from) = match chosen {
        Some((path, (snap, checkpoint))) => {
            (snap.state, Some((path, checkpoint)), Some(resume_point(lock.dir(), &checkpoint)?))
        }
        None => (State::new(), None, None),
    };
    let (mut driver, mut stepped) = (Driver::new(state), 0);
    let writer = SegmentWriter::open_locked(lock, header, policy, max_bytes, from, stepper(&mut driver, &mut stepped))?;
    Ok(Resumed { writer, state: driver.into_state(), snapshot, stepped, skipped })
}

/// The newest snapshot in `snapshots` that `log` vouches for; the others are named in
/// `skipped` with the reason.
fn choose(log: &Path, snapshots: Option<&Path>, skipped: &mut Vec<String>) -> Option<(PathBuf, Vouched)> {
    let dir = snapshots.filter(|dir| dir.is_dir())?;
    newest_valid_snapshot(log, dir, skipped).unwrap_or_else(|error| {
        skipped.push(format!("cannot list {}: {error}; full replay", dir.display()));
        None
    })
}

/// Steps each event record the writer verifies through `driver`, counting them. No
/// checks: a running node trusts its core, and `seqrec replay` is where logs are verified.
fn stepper<'a>(driver: &'a mut Driver, stepped: &'a mut u64) -> impl FnMut(Entry) + 'a {
    move |entry| {
        if let Entry::Event(record) = entry {
            // The step's effects ran when the record was written; only the state matters.
            let _ = driver.step(&record.event);
            *stepped += 1;
        }
    }
}
