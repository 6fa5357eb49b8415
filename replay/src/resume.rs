//! How `seqrec run` rebuilds its state at a restart (ARCHITECTURE.md choice 53): from the
//! newest snapshot the log vouches for, stepping only the records after its checkpoint,
//! or from the empty state and the whole log when none does. The log is read once: the
//! writer's verification of the tail is also the pass that steps it.

use std::path::{Path, PathBuf};

use machine::State;

use crate::log::{Checkpoint, Entry, FsyncPolicy, Header, LogError, LogLock, LogWriter};
use crate::snapshot_dir::newest_valid_snapshot;

/// A log opened for appending, with the state its records give.
#[derive(Debug)]
pub struct Resumed {
    /// The writer, positioned after the last record.
    pub writer: LogWriter,
    /// The state after every event record.
    pub state: State,
    /// The snapshot the state started from, and the checkpoint that vouched for it.
    pub snapshot: Option<(PathBuf, Checkpoint)>,
    /// Event records stepped at this restart (the tail after the snapshot, or all).
    pub stepped: u64,
    /// Snapshots skipped and why, for the operator's log.
    pub skipped: Vec<String>,
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
    let chosen = match snapshots.filter(|dir| dir.is_dir()) {
        Some(dir) => newest_valid_snapshot(lock.path(), dir, &mut skipped).unwrap_or_else(|error| {
            skipped.push(format!("cannot list {}: {error}; full replay", dir.display()));
            None
        }),
        None => None,
    };
    let (mut state, snapshot, from) = match chosen {
        Some((path, (snap, checkpoint))) => (snap.state, Some((path, checkpoint)), Some(checkpoint.position())),
        None => (State::new(), None, None),
    };
    let mut stepped = 0;
    let writer = LogWriter::open_from(lock, header, policy, from, |entry| {
        if let Entry::Event(record) = entry {
            state = machine::step(std::mem::take(&mut state), &record.event).0;
            stepped += 1;
        }
    })?;
    Ok(Resumed { writer, state, snapshot, stepped, skipped })
}
