//! `replay`: for a log, verify the hash chain and re-execute every step, comparing its
//! effects byte for byte with the recorded ones (streaming, so memory does not grow
//! with the log); for a script, run it twice and check invariants and `# check:` lines.

use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::ops::ControlFlow;
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use machine::State;
use machine::drive::{Driver, Failure};

use super::input::is_log;
use super::{CliError, Outcome, load, parts};
use crate::log::{Checkpoint, DEFAULT_JOBS, Item, LogError, LogSource, effects_json, list_segments, verify_batches};
use crate::run::{self, Traced};
use crate::script::{CheckScan, Script, failed_checks};
use crate::snapshot::Snapshot;
use crate::snapshot_dir::{belongs, newest_valid_snapshot};
use crate::trace;

/// How `seqrec replay` re-executes a log.
#[derive(Clone, Copy, Debug)]
pub struct ReplayOptions<'a> {
    /// Keep the JSON trace.
    pub json: bool,
    /// Start from this snapshot file, or the newest valid one in this directory.
    pub snapshot: Option<&'a Path>,
    /// Check the invariants after every step (and the whole state at checkpoints).
    pub invariants: bool,
    /// Threads (`log::verify_batches`): 1 reads, verifies and steps on this thread; 2
    /// reads and verifies on a second one; more verify chain hashes on N − 2.
    pub jobs: usize,
}

pub(super) fn replay(path: &Path, options: ReplayOptions<'_>) -> Result<Outcome, CliError> {
    let ReplayOptions { json, snapshot, .. } = options;
    if is_log(path)? {
        return replay_log(path, options);
    }
    if snapshot.is_some() {
        return Err(CliError::NotALog { path: path.to_owned(), what: "replay --snapshot" });
    }
    match load(path)? {
        super::Loaded::Script(script) => Ok(replay_script(&script, json)),
        super::Loaded::Log { .. } => Err(CliError::NotALog { path: path.to_owned(), what: "replay" }),
    }
}

/// Runs the script twice in lockstep, streaming: only the step at hand of each run is
/// kept (and the JSON trace when it is asked for).
fn replay_script(script: &Script, json: bool) -> Outcome {
    let events = || script.events.iter().map(|(line, event)| (Some(*line), event));
    let (mut first, mut second) = (run::steps(events()), run::steps(events()));
    let mut scan = CheckScan::new(&script.checks);
    let (mut differ, mut traced_json, mut count) = (None, String::new(), 0_u64);
    while let (Some(a), Some(b)) = (first.next(), second.next()) {
        count += 1;
        let text = trace::render_text(&a);
        if differ.is_none() && (a.step.effects != b.step.effects || a.state_hash != b.state_hash) {
            differ =
                Some(format!("step {}: two runs of the same events differ\n{text}{}", a.seq, trace::render_text(&b)));
        }
        scan.feed(&text);
        if json {
            let _ = writeln!(traced_json, "{}", trace::render_json(&a));
        }
    }
    let mut report = String::new();
    if let Some((seq, violation)) = first.violation() {
        let _ = writeln!(report, "step {seq}: {violation}");
    }
    if let Some(differ) = differ {
        let _ = writeln!(report, "{differ}");
    }
    // A missing `check:` is reported against the whole trace, which only then is kept.
    let failures = scan
        .finish()
        .unwrap_or_else(|| failed_checks(&script.checks, &trace::render_text_all(&super::run_script(script).steps)));
    for failure in failures {
        let _ = writeln!(report, "{failure}");
    }
    if !report.is_empty() {
        return Outcome::Failed(report);
    }
    if json {
        return Outcome::Done(traced_json);
    }
    let hash = first.into_state().state_hash();
    Outcome::Done(format!(
        "ok: {count} steps, invariants held after every step, two runs identical, checks hold, final state {hash}\n"
    ))
}

/// The result of re-executing a log.
#[derive(Debug)]
pub struct LogReplay {
    /// Event records replayed (including those covered by a snapshot).
    pub records: u64,
    /// Checkpoints the replayed state was found to match (those after a snapshot).
    pub checkpoints: u64,
    /// The state after the last record.
    pub state: State,
    /// The first failure, as a printable report.
    pub failure: Option<String>,
    /// The JSON trace, when asked for.
    pub json: String,
    /// Which snapshot was used, and which were skipped and why.
    pub notes: Vec<String>,
}

/// Re-executes a log from the start or from a snapshot, on [`DEFAULT_JOBS`] threads.
///
/// # Errors
/// [`CliError`] for a damaged log or unusable snapshot.
pub fn run_log(path: &Path, json: bool, snapshot: Option<&Path>, invariants: bool) -> Result<LogReplay, CliError> {
    run_log_with(path, ReplayOptions { json, snapshot, invariants, jobs: usize::from(DEFAULT_JOBS) })
}

/// Whether `effects` serialize to exactly `recorded`, serializing into `buffer`.
fn same_json(effects: &[machine::Effect], recorded: &[u8], buffer: &mut Vec<u8>) -> bool {
    if effects.is_empty() {
        return recorded == b"[]";
    }
    buffer.clear();
    serde_json::to_writer(&mut *buffer, effects).is_ok() && buffer.as_slice() == recorded
}

/// [`run_log`] with its options spelled out, the number of threads among them.
///
/// # Errors
/// [`CliError`] for a damaged log or unusable snapshot.
pub fn run_log_with(path: &Path, options: ReplayOptions<'_>) -> Result<LogReplay, CliError> {
    let ReplayOptions { snapshot, .. } = options;
    let log_error = |source| CliError::Log { path: path.to_owned(), source };
    let read_error = |source| CliError::Read { path: path.to_owned(), source };
    // A segment directory's progress is shown against the segments' total size.
    let total_bytes = if path.is_dir() {
        list_segments(path).map_err(log_error)?.iter().filter_map(|(_, p)| p.metadata().ok()).map(|m| m.len()).sum()
    } else {
        std::fs::metadata(path).map_err(read_error)?.len()
    };
    let progress = progress_bar(total_bytes);
    let mut notes = Vec::new();
    if snapshot.is_none()
        && let Some(parts) = parts::plan(path, options.jobs, &mut notes)?
    {
        let replayed = parts::verify(path, parts, options, &progress, notes);
        progress.finish_and_clear();
        return replayed;
    }
    let chosen = match snapshot {
        Some(dir) if dir.is_dir() => newest_valid_snapshot(path, dir, &mut notes)
            .map_err(|source| CliError::Read { path: dir.to_owned(), source })?,
        Some(file) => {
            let snap = Snapshot::read(file).and_then(|snap| belongs(path, snap));
            Some((file.to_owned(), snap.map_err(|source| CliError::Snapshot { path: file.to_owned(), source })?))
        }
        None => None,
    };
    let (source, state) = match chosen {
        Some((snapshot_path, (snap, checkpoint))) => {
            notes.push(format!(
                "resumed from {} after record {} (the checkpoint after {} events)",
                snapshot_path.display(),
                checkpoint.seq,
                checkpoint.events
            ));
            (LogSource::resume(path, &checkpoint).map_err(log_error)?, snap.state)
        }
        None => (LogSource::open(path).map_err(log_error)?, State::new()),
    };
    let part = verify_part(path, source, state, options, &progress)?;
    progress.finish_and_clear();
    Ok(LogReplay {
        records: part.records,
        checkpoints: part.checkpoints,
        state: part.state,
        failure: part.failure,
        json: part.json,
        notes,
    })
}

/// Drawn on standard error only when it is a terminal: quiet when piped, and then not
/// even updated (reading the clock per record would cost more than the bar is worth).
/// The rate is in bytes, since the bar counts bytes; no ETA, because indicatif's estimate
/// follows the last seconds' rate and jumps with every slower stretch of the log, while
/// the elapsed time and the percentage never go back. The widest line (`100% 1023.99
/// MiB/1023.99 GiB 1023.99 MiB/s 00:00:00` after the bar) fits an 80-column terminal.
fn progress_bar(total_bytes: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    ProgressBar::new(total_bytes).with_style(
        ProgressStyle::with_template(
            "{bar:24} {percent:>3}% {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {elapsed_precise}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    )
}

/// What re-executing the records of one [`LogSource`] found.
#[derive(Debug)]
pub(super) struct PartReplay {
    /// Event records before the part's end (those before its start included).
    pub records: u64,
    /// Checkpoints matched in the part.
    pub checkpoints: u64,
    /// The state after its last record.
    pub state: State,
    /// The first failure, as a printable report.
    pub failure: Option<String>,
    /// The JSON trace, when asked for.
    pub json: String,
    /// The part's last record when it was a checkpoint (a segment ends with one).
    pub last_checkpoint: Option<Checkpoint>,
}

/// Re-executes the records `source` gives from `state`, comparing effects, checkpoints
/// and (when asked) invariants; `path` names the log in errors.
///
/// # Errors
/// [`CliError::Log`] for the log's own damage.
pub(super) fn verify_part(
    path: &Path,
    source: LogSource,
    state: State,
    options: ReplayOptions<'_>,
    progress: &ProgressBar,
) -> Result<PartReplay, CliError> {
    let ReplayOptions { json, invariants, jobs, .. } = options;
    let log_error = |source| CliError::Log { path: path.to_owned(), source };
    let mut driver = Driver::new(state).checking_invariants(invariants);
    let show_progress = !progress.is_hidden();
    let start = source.position();
    progress.inc(start.offset);
    let mut out = String::new();
    let (mut checkpoints, mut records, mut last_checkpoint) = (0, start.events, None);
    // This build's effects are serialized into one reused buffer and compared with the
    // recorded bytes where they lie in the batch: no allocation per record.
    let mut replayed_json = Vec::with_capacity(4096);
    let verified = verify_batches(source, path, jobs.max(1), |batch| {
        let (items, bytes) = batch.items();
        for item in items {
            let record = match item {
                Item::Event(record) => record,
                Item::Checkpoint(checkpoint) => {
                    let replayed = driver.state().state_hash();
                    if replayed != checkpoint.state_hash {
                        return ControlFlow::Break(Ok(format!("{}\n", mismatch(checkpoint, replayed))));
                    }
                    // The per-step check is incremental; a checkpoint gets the whole one.
                    if invariants && let Err(violation) = machine::drive::Checks::full(driver.state()) {
                        return ControlFlow::Break(Ok(format!(
                            "checkpoint record {} at byte {}: {violation}\n",
                            checkpoint.seq, checkpoint.offset
                        )));
                    }
                    checkpoints += 1;
                    last_checkpoint = Some(*checkpoint);
                    continue;
                }
            };
            records += 1;
            last_checkpoint = None;
            if show_progress {
                progress.inc(record.len);
            }
            let recorded = record.effects(bytes);
            let stepped = driver.replay(&record.event, |effects| same_json(effects, recorded, &mut replayed_json));
            match stepped.failure {
                Some(Failure::Effects) => {
                    return ControlFlow::Break(Ok(format!(
                        "record {} at byte {}: this build's effects differ from the recorded ones\nevent:    {}\nrecorded: {}\nreplayed: {}\n",
                        record.seq,
                        record.offset,
                        serde_json::to_string(&record.event).unwrap_or_default(),
                        String::from_utf8_lossy(recorded),
                        String::from_utf8_lossy(&effects_json(&stepped.step.effects)),
                    )));
                }
                Some(Failure::Invariant(violation)) => {
                    return ControlFlow::Break(Ok(format!(
                        "record {} at byte {}: {violation}\n",
                        record.seq, record.offset
                    )));
                }
                None => {}
            }
            if json {
                let traced = Traced {
                    seq: record.seq,
                    line: None,
                    event: record.event.clone(),
                    state_hash: stepped.state.state_hash(),
                    step: stepped.step,
                    summary: String::new(),
                    safe_block: stepped.state.view().safe_block,
                    landings: Vec::new(),
                };
                let _ = writeln!(out, "{}", trace::render_json(&traced));
            }
        }
        // The log's own damage comes after every record before it.
        match batch.take_end() {
            Some(error) => ControlFlow::Break(Err(error)),
            None => ControlFlow::Continue(()),
        }
    });
    let failure = match verified.map_err(log_error)? {
        Some(Ok(failure)) => Some(failure),
        Some(Err(error)) => return Err(log_error(error)),
        None => None,
    };
    Ok(PartReplay { records, checkpoints, state: driver.into_state(), failure, json: out, last_checkpoint })
}

/// The typed error of a checkpoint the replay disagrees with.
fn mismatch(checkpoint: &Checkpoint, replayed: machine::Hash32) -> LogError {
    LogError::CheckpointMismatch {
        seq: checkpoint.seq,
        offset: checkpoint.offset,
        events: checkpoint.events,
        recorded: checkpoint.state_hash,
        replayed,
    }
}

fn replay_log(path: &Path, options: ReplayOptions<'_>) -> Result<Outcome, CliError> {
    let ReplayOptions { json, invariants, .. } = options;
    let replayed = run_log_with(path, options)?;
    if let Some(failure) = replayed.failure {
        return Ok(Outcome::Failed(failure));
    }
    if json {
        return Ok(Outcome::Done(replayed.json));
    }
    let notes: String = replayed.notes.iter().map(|note| format!("{note}\n")).collect();
    Ok(Outcome::Done(format!(
        "{notes}ok: {} records, hash chain intact, effects identical to the recorded ones{}, {} checkpoints matched, final state {}\n",
        replayed.records,
        if invariants { ", invariants held" } else { "" },
        replayed.checkpoints,
        replayed.state.state_hash()
    )))
}
