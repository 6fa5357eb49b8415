//! `seqrec replay --jobs N` over a segment directory: the log is cut where a segment
//! starts whose start snapshot `run` kept (in `<DIR>.snapshots`, named after the
//! segment's first record), each part is re-executed from its start snapshot on a thread
//! of its own, and each part's end is checked against the next part's start, so the
//! verdict is the sequential replay's (FORMAT.md "Segmented logs").
//!
//! Why a part's start can be trusted: its snapshot is vouched for by the segment's header
//! (its previous chain hash and start state hash are the snapshot's, `snapshot_dir::belongs`),
//! and the part before it must end with a checkpoint of exactly that chain hash, record
//! number, event count and state hash, a state its own replay reached and matched. Every
//! record is thus checked once, and every state is reached by stepping from the log's
//! start, as in the sequential replay; only the order of the work changes.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::ProgressBar;
use machine::State;

use super::CliError;
use super::verify::{LogReplay, PartReplay, ReplayOptions, verify_part};
use crate::log::{Checkpoint, LogError, LogSource, SegmentReader, list_segments, resume_point};
use crate::snapshot::Snapshot;
use crate::snapshot_dir::{belongs, default_dir, file_name};

/// A run of consecutive segments, verified on one thread.
#[derive(Debug)]
pub(super) struct Part {
    /// Its start snapshot and the checkpoint vouching for it; `None`: the log's start.
    start: Option<(Snapshot, Checkpoint)>,
    /// The first segment of the next part, where this one stops.
    end: Option<u64>,
}

/// The parts of `path` for `jobs` threads, or `None` for the sequential replay: a single
/// file, one thread, fewer than two segments, archived first segments (`--snapshot` is
/// needed then) or no usable start snapshot. Snapshots that do not validate are named
/// in `notes` and their segments join the part before them.
///
/// # Errors
/// The segment directory cannot be listed.
pub(super) fn plan(path: &Path, jobs: usize, notes: &mut Vec<String>) -> Result<Option<Vec<Part>>, CliError> {
    if jobs < 2 || !path.is_dir() {
        return Ok(None);
    }
    let segments = list_segments(path).map_err(|source| CliError::Log { path: path.to_owned(), source })?;
    if segments.len() < 2 || segments.first().is_some_and(|(first, _)| *first != 0) {
        return Ok(None);
    }
    let snapshots = default_dir(path);
    let mut parts = vec![Part { start: None, end: None }];
    for (first, _) in segments.iter().skip(1) {
        let file = snapshots.join(file_name(*first));
        if !file.is_file() {
            continue;
        }
        match Snapshot::read(&file).and_then(|snap| belongs(path, snap)) {
            Ok((snap, checkpoint)) if checkpoint.seq + 1 == *first => {
                if let Some(before) = parts.last_mut() {
                    before.end = Some(*first);
                }
                parts.push(Part { start: Some((snap, checkpoint)), end: None });
            }
            Ok(_) => notes.push(format!("skipped {}: not at the start of its segment", file.display())),
            Err(error) => notes.push(format!("skipped {}: {error}", file.display())),
        }
    }
    if parts.len() < 2 {
        return Ok(None);
    }
    notes.push(format!(
        "{} segments verified in {} parts on {} threads, each part from a segment-start snapshot in {}",
        segments.len(),
        parts.len(),
        jobs.min(parts.len()),
        snapshots.display()
    ));
    Ok(Some(parts))
}

/// Verifies `parts` of `path` on up to `options.jobs` threads (each part on one), then
/// joins their results in log order: the first failure or damage by record order is the
/// one reported, as in the sequential replay.
///
/// # Errors
/// As the sequential replay; [`LogError::SegmentDiscontinuous`] where a part does not end
/// at the next part's start; [`LogError::WorkerStopped`] for a thread that panicked.
pub(super) fn verify(
    path: &Path,
    parts: Vec<Part>,
    options: ReplayOptions<'_>,
    progress: &ProgressBar,
    notes: Vec<String>,
) -> Result<LogReplay, CliError> {
    let log_error = |source| CliError::Log { path: path.to_owned(), source };
    let results: Vec<Mutex<Option<Result<PartReplay, CliError>>>> = parts.iter().map(|_| Mutex::new(None)).collect();
    let starts: Vec<Option<Checkpoint>> = parts.iter().map(|part| part.start.as_ref().map(|(_, c)| *c)).collect();
    let (next, failed_at) = (AtomicUsize::new(0), AtomicUsize::new(usize::MAX));
    let todo: Vec<Mutex<Option<Part>>> = parts.into_iter().map(|part| Mutex::new(Some(part))).collect();
    let one_thread = ReplayOptions { jobs: 1, ..options };
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.min(todo.len()) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::AcqRel);
                    // A part after a failed one cannot change the verdict.
                    if index >= todo.len() || index > failed_at.load(Ordering::Acquire) {
                        break;
                    }
                    let Some(part) = todo.get(index).and_then(|slot| slot.lock().ok()?.take()) else { break };
                    let result = verify_one(path, part, one_thread, progress);
                    if !matches!(&result, Ok(replayed) if replayed.failure.is_none()) {
                        failed_at.fetch_min(index, Ordering::AcqRel);
                    }
                    if let Some(slot) = results.get(index)
                        && let Ok(mut slot) = slot.lock()
                    {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    let (mut checkpoints, mut json, mut before) = (0, String::new(), None::<Checkpoint>);
    let count = results.len();
    for (index, (result, start)) in results.into_iter().zip(starts).enumerate() {
        if let (Some(end), Some(start)) = (before, start)
            && let Some(reason) = discontinuity(&end, &start)
        {
            let segment = path.join(crate::log::segment_name(start.seq + 1));
            let source = Box::new(LogError::SegmentDiscontinuous { reason });
            return Err(log_error(LogError::InSegment { path: segment, source }));
        }
        let replayed = result.into_inner().ok().flatten().ok_or_else(|| log_error(LogError::WorkerStopped))??;
        checkpoints += replayed.checkpoints;
        json.push_str(&replayed.json);
        if replayed.failure.is_some() || index + 1 == count {
            let PartReplay { records, state, failure, .. } = replayed;
            return Ok(LogReplay { records, checkpoints, state, failure, json, notes });
        }
        // A part that does not end with a checkpoint does not end at a segment's start.
        before = Some(replayed.last_checkpoint.unwrap_or(Checkpoint {
            seq: u64::MAX,
            offset: 0,
            state_hash: machine::Hash32::default(),
            events: replayed.records,
            chain: machine::Hash32::default(),
        }));
    }
    Err(log_error(LogError::WorkerStopped))
}

/// Re-executes one part: from the log's first record, or from the segment its snapshot
/// starts, up to the next part's first segment.
fn verify_one(
    path: &Path,
    part: Part,
    options: ReplayOptions<'_>,
    progress: &ProgressBar,
) -> Result<PartReplay, CliError> {
    let log_error = |source| CliError::Log { path: path.to_owned(), source };
    let (reader, state) = match part.start {
        None => (SegmentReader::open(path).map_err(log_error)?, State::new()),
        Some((snap, checkpoint)) => {
            let (segment, position): (PathBuf, _) = resume_point(path, &checkpoint).map_err(log_error)?;
            (SegmentReader::resume(path, &segment, position).map_err(log_error)?, snap.state)
        }
    };
    let reader = match part.end {
        Some(end) => reader.until(end),
        None => reader,
    };
    verify_part(path, LogSource::Segments(reader), state, options, progress)
}

/// Why a part ending with checkpoint `end` is not followed by one starting after `start`.
fn discontinuity(end: &Checkpoint, start: &Checkpoint) -> Option<String> {
    if end.seq != start.seq || end.events != start.events {
        return Some(format!(
            "the part before it ends {}after {} events, this segment starts after record {} and {} events",
            if end.seq == u64::MAX { "without a checkpoint, ".to_owned() } else { format!("at record {}, ", end.seq) },
            end.events,
            start.seq,
            start.events
        ));
    }
    if end.chain != start.chain {
        return Some(format!("it continues chain hash {}, the part before it ends with {}", start.chain, end.chain));
    }
    if end.state_hash != start.state_hash {
        return Some(format!(
            "it starts at state {}, the part before it ends with a checkpoint of state {}",
            start.state_hash, end.state_hash
        ));
    }
    None
}
