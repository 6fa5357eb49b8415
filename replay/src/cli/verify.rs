//! `replay`: for a log, verify the hash chain and re-execute every step, comparing its
//! effects byte for byte with the recorded ones (streaming, so memory does not grow
//! with the log); for a script, run it twice and check invariants and `# check:` lines.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufReader, IsTerminal as _, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use machine::invariants::{Monotone, check};
use machine::{State, step};

use super::input::is_log;
use super::{CliError, Outcome, load};
use crate::log::{LogReader, effects_json};
use crate::run::Traced;
use crate::script::{Script, failed_checks};
use crate::snapshot::{Snapshot, SnapshotError};
use crate::trace;

pub(super) fn replay(path: &Path, json: bool, snapshot: Option<&Path>, invariants: bool) -> Result<Outcome, CliError> {
    if is_log(path)? {
        return replay_log(path, json, snapshot, invariants);
    }
    if snapshot.is_some() {
        return Err(CliError::NotALog { path: path.to_owned(), what: "replay --snapshot" });
    }
    match load(path)? {
        super::Loaded::Script(script) => Ok(replay_script(&script, json)),
        super::Loaded::Log { .. } => Err(CliError::NotALog { path: path.to_owned(), what: "replay" }),
    }
}

fn replay_script(script: &Script, json: bool) -> Outcome {
    let first = super::run_script(script);
    let second = super::run_script(script);
    let mut report = String::new();
    if let Some((seq, violation)) = &first.violation {
        let _ = writeln!(report, "step {seq}: {violation}");
    }
    let differ = first
        .steps
        .iter()
        .zip(&second.steps)
        .find(|(a, b)| a.step.effects != b.step.effects || a.state_hash != b.state_hash);
    if let Some((a, b)) = differ {
        let _ = writeln!(
            report,
            "step {}: two runs of the same events differ\n{}{}",
            a.seq,
            trace::render_text(a),
            trace::render_text(b)
        );
    }
    for failure in failed_checks(&script.checks, &trace::render_text_all(&first.steps)) {
        let _ = writeln!(report, "{failure}");
    }
    if !report.is_empty() {
        return Outcome::Failed(report);
    }
    if json {
        return Outcome::Done(trace::render_json_all(&first.steps));
    }
    let hash = first.state.state_hash();
    Outcome::Done(format!(
        "ok: {} steps, invariants held after every step, two runs identical, checks hold, final state {hash}\n",
        first.steps.len()
    ))
}

/// The result of re-executing a log.
#[derive(Debug)]
pub struct LogReplay {
    /// Records replayed (including those covered by a snapshot).
    pub records: u64,
    /// The state after the last record.
    pub state: State,
    /// The first failure, as a printable report.
    pub failure: Option<String>,
    /// The JSON trace, when asked for.
    pub json: String,
    /// Which snapshot was used, and which were skipped and why.
    pub notes: Vec<String>,
}

/// Re-executes a log from the start or from a snapshot.
///
/// # Errors
/// [`CliError`] for a damaged log or unusable snapshot.
pub fn run_log(path: &Path, json: bool, snapshot: Option<&Path>, invariants: bool) -> Result<LogReplay, CliError> {
    let log_error = |source| CliError::Log { path: path.to_owned(), source };
    let read_error = |source| CliError::Read { path: path.to_owned(), source };
    let file = File::open(path).map_err(read_error)?;
    let total_bytes = file.metadata().map_err(read_error)?.len();
    let mut reader = LogReader::new(BufReader::new(file)).map_err(log_error)?;
    let mut state = State::new();
    let mut notes = Vec::new();
    let chosen = match snapshot {
        Some(dir) if dir.is_dir() => newest_valid_snapshot(path, dir, &mut notes)?,
        Some(file) => {
            let snap = Snapshot::read(file).and_then(|snap| belongs(path, snap));
            Some((file.to_owned(), snap.map_err(|source| CliError::Snapshot { path: file.to_owned(), source })?))
        }
        None => None,
    };
    if let Some((snapshot_path, snap)) = chosen {
        let mut file = File::open(path).map_err(read_error)?;
        file.seek(SeekFrom::Start(snap.end_offset)).map_err(read_error)?;
        reader =
            LogReader::resume(BufReader::new(file), reader.header().clone(), snap.end_offset, snap.records, snap.chain);
        notes.push(format!("resumed from {} after record {}", snapshot_path.display(), snap.records - 1));
        state = snap.state;
    }
    // Drawn on standard error only when it is a terminal: quiet when piped, and then not
    // even updated (reading the clock per record would cost more than the bar is worth).
    let progress = if std::io::stderr().is_terminal() {
        ProgressBar::new(total_bytes).with_style(
            ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    } else {
        ProgressBar::hidden()
    };
    let show_progress = !progress.is_hidden();
    progress.set_position(reader.offset());
    let mut out = String::new();
    let mut failure = None;
    for record in reader.by_ref() {
        let record = record.map_err(log_error)?;
        if show_progress {
            progress.inc(record.len);
        }
        let before = invariants.then(|| Monotone::of(&state));
        let (next, stepped) = step(state, &record.event);
        state = next;
        let replayed = effects_json(&stepped.effects);
        if replayed != record.effects_json {
            failure = Some(format!(
                "record {} at byte {}: this build's effects differ from the recorded ones\nevent:    {}\nrecorded: {}\nreplayed: {}\n",
                record.seq,
                record.offset,
                serde_json::to_string(&record.event).unwrap_or_default(),
                String::from_utf8_lossy(&record.effects_json),
                String::from_utf8_lossy(&replayed),
            ));
            break;
        }
        if let Some(before) = before
            && let Err(violation) = check(&state).and_then(|()| before.check_step(&state, &stepped))
        {
            failure = Some(format!("record {} at byte {}: {violation}\n", record.seq, record.offset));
            break;
        }
        if json {
            let traced = Traced {
                seq: record.seq,
                line: None,
                event: record.event,
                step: stepped,
                state_hash: state.state_hash(),
                summary: String::new(),
            };
            let _ = writeln!(out, "{}", trace::render_json(&traced));
        }
    }
    progress.finish_and_clear();
    Ok(LogReplay { records: reader.records_read(), state, failure, json: out, notes })
}

/// Checks that a snapshot belongs to the log: the log's chain hash just before the
/// snapshot's offset must be the snapshot's.
fn belongs(log: &Path, snap: Snapshot) -> Result<Snapshot, SnapshotError> {
    let mut file = File::open(log)?;
    let log_chain = chain_before(&mut file, snap.end_offset)?;
    if snap.records == 0 || log_chain != Some(snap.chain) {
        let seq = snap.records.saturating_sub(1);
        return Err(SnapshotError::WrongLog { seq, snapshot: snap.chain, log: log_chain.unwrap_or_default() });
    }
    Ok(snap)
}

/// The snapshot in `dir` that covers the most records of `log` and validates; the ones
/// that do not are named in `notes` and skipped (snapshots are caches, the log is truth).
fn newest_valid_snapshot(
    log: &Path,
    dir: &Path,
    notes: &mut Vec<String>,
) -> Result<Option<(PathBuf, Snapshot)>, CliError> {
    let entries = std::fs::read_dir(dir).map_err(|source| CliError::Read { path: dir.to_owned(), source })?;
    let mut best: Option<(PathBuf, Snapshot)> = None;
    let mut candidates: Vec<PathBuf> =
        entries.flatten().map(|entry| entry.path()).filter(|p| p.extension().is_some_and(|e| e == "snap")).collect();
    candidates.sort();
    for candidate in candidates {
        match Snapshot::read(&candidate).and_then(|snap| belongs(log, snap)) {
            Ok(snap) if best.as_ref().is_none_or(|(_, b)| snap.records > b.records) => best = Some((candidate, snap)),
            Ok(_) => {}
            Err(error) => notes.push(format!("skipped {}: {error}", candidate.display())),
        }
    }
    if best.is_none() {
        notes.push(format!("no valid snapshot in {}: full replay", dir.display()));
    }
    Ok(best)
}

/// The 32 bytes before `offset`: the chain hash of the record that ends there.
fn chain_before(file: &mut File, offset: u64) -> std::io::Result<Option<machine::Hash32>> {
    let Some(start) = offset.checked_sub(32) else { return Ok(None) };
    file.seek(SeekFrom::Start(start))?;
    let mut hash = [0_u8; 32];
    match file.read_exact(&mut hash) {
        Ok(()) => Ok(Some(machine::Hash32(hash))),
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
        Err(error) => Err(error),
    }
}

fn replay_log(path: &Path, json: bool, snapshot: Option<&Path>, invariants: bool) -> Result<Outcome, CliError> {
    let replayed = run_log(path, json, snapshot, invariants)?;
    if let Some(failure) = replayed.failure {
        return Ok(Outcome::Failed(failure));
    }
    if json {
        return Ok(Outcome::Done(replayed.json));
    }
    let notes: String = replayed.notes.iter().map(|note| format!("{note}\n")).collect();
    Ok(Outcome::Done(format!(
        "{notes}ok: {} records, hash chain intact, effects identical to the recorded ones{}, final state {}\n",
        replayed.records,
        if invariants { ", invariants held" } else { "" },
        replayed.state.state_hash()
    )))
}
