//! `seqrec run`'s checkpoints and restarts at the function level (ARCHITECTURE.md choice
//! 53): snapshots written every N records and kept K deep, a restart that resumes from the
//! newest valid one and steps only the tail, damaged or foreign snapshots skipped down to
//! a full replay, and the state always the one a full replay gives.

use std::path::Path;
use std::time::Duration;

use machine::{Event, Hash32, State};
use replay::checkpointer::Checkpointer;
use replay::cli::run_log;
use replay::log::{FsyncPolicy, Header, LogLock, LogWriter};
use replay::resume::{Resumed, resume};
use replay::snapshot::Snapshot;
use replay::snapshot_dir::{SnapshotDir, file_name};

use super::support::{file_names, scratch, script_events, seqrec_run, write_log};

/// Runs `events` into the log at `log` as `run` does: a step, its record, then the
/// checkpointer (a snapshot every `every` event records into `dir`, `keep` kept).
fn run_events(log: &Path, dir: &Path, events: &[Event], every: u64, keep: usize) -> State {
    let lock = LogLock::acquire(log).unwrap();
    let Resumed { mut writer, mut state, .. } =
        resume(lock, &Header::new(Hash32::default()), FsyncPolicy::EveryRecord, Some(dir)).unwrap();
    let mut checkpointer =
        Checkpointer::new(SnapshotDir::new(dir.to_owned(), keep), every, Duration::ZERO, writer.events());
    for event in events {
        let (next, step) = machine::step(state, event);
        state = next;
        writer.append(event, &step.effects).unwrap();
        if let Some(taken) = checkpointer.after_step(&mut writer, &state).unwrap() {
            taken.written.unwrap();
        }
    }
    state
}

fn restart(log: &Path, dir: &Path) -> Resumed {
    resume(LogLock::acquire(log).unwrap(), &Header::new(Hash32::default()), FsyncPolicy::EveryRecord, Some(dir))
        .unwrap()
}

#[test]
fn snapshots_are_written_every_n_records_and_the_newest_k_kept() {
    let work = scratch("run-snapshots-kept");
    let (log, dir) = (work.join("run.seqlog"), work.join("run.seqlog.snapshots"));
    let events = script_events("nonce-poisoning");
    run_events(&log, &dir, &events, 5, 3);
    let taken = events.len() / 5;
    assert!(taken > 3, "{} events give {taken} snapshots", events.len());
    // Every 5 events a checkpoint follows the fifth event: records = 6 per period.
    let expected: Vec<String> = ((taken - 2)..=taken).map(|n| file_name(n as u64 * 6)).collect();
    assert_eq!(file_names(&dir), expected);
    // Each one is vouched for by the log and gives the full replay's state with its tail.
    let full = run_log(&log, false, None, true).unwrap();
    assert_eq!(full.failure, None);
    for name in &expected {
        let resumed = run_log(&log, false, Some(&dir.join(name)), false).unwrap();
        assert_eq!((resumed.state, resumed.failure), (full.state.clone(), None), "{name}");
    }
}

#[test]
fn a_restart_resumes_from_the_newest_snapshot_and_steps_only_the_tail() {
    let work = scratch("run-snapshots-restart");
    let (log, dir) = (work.join("run.seqlog"), work.join("snaps"));
    let events = script_events("nonce-poisoning");
    let (first, second) = events.split_at(events.len() / 2);
    let ran = run_events(&log, &dir, first, 4, 3);
    let resumed = restart(&log, &dir);
    let (path, checkpoint) = resumed.snapshot.clone().unwrap();
    assert_eq!(path, dir.join(file_name(checkpoint.seq + 1)));
    assert_eq!(resumed.stepped, first.len() as u64 - checkpoint.events, "only the tail is stepped");
    assert!(resumed.stepped < 4);
    assert_eq!(resumed.state, ran);
    assert!(resumed.skipped.is_empty(), "{:?}", resumed.skipped);
    drop(resumed);
    // The run goes on after the restart; the log stays one verifiable whole.
    let ran = run_events(&log, &dir, second, 4, 3);
    let full = run_log(&log, false, None, true).unwrap();
    assert_eq!((full.failure, full.records), (None, events.len() as u64));
    assert_eq!(full.state, ran);
    assert_eq!(restart(&log, &dir).state, full.state);
}

#[test]
fn damaged_foreign_and_other_layout_snapshots_are_skipped_down_to_a_full_replay() {
    let work = scratch("run-snapshots-damaged");
    let (log, dir) = (work.join("run.seqlog"), work.join("snaps"));
    let events = script_events("nonce-poisoning");
    run_events(&log, &dir, &events, 5, 3);
    let full = run_log(&log, false, None, false).unwrap();
    let mut names = file_names(&dir);
    assert_eq!(names.len(), 3);

    // The newest damaged (a flipped byte in the state): the next newest is used.
    let newest = dir.join(names.pop().unwrap());
    let mut bytes = std::fs::read(&newest).unwrap();
    bytes[70] ^= 0x40;
    std::fs::write(&newest, &bytes).unwrap();
    // A snapshot of another log, covering more records than any of ours.
    let other = work.join("other.seqlog");
    let twice: Vec<Event> = events.iter().chain(&events).cloned().collect();
    write_log(&other, &twice, twice.len());
    let foreign = run_log(&other, false, None, false).unwrap();
    let (foreign_records, foreign_chain, foreign_offset) = {
        let bytes = std::fs::read(&other).unwrap();
        let (entries, _) = super::support::entries(&bytes);
        let Some(replay::log::Entry::Checkpoint(checkpoint)) = entries.last() else { panic!("no checkpoint") };
        (checkpoint.seq + 1, checkpoint.chain, checkpoint.end())
    };
    let foreign_path = dir.join(file_name(foreign_records));
    Snapshot { records: foreign_records, chain: foreign_chain, end_offset: foreign_offset, state: foreign.state }
        .write(&foreign_path)
        .unwrap();
    // Rewritten copies of a real snapshot, re-hashed, claiming more records than any
    // other: one of another state layout (refused by number), one whose archive is not a
    // `State` at all (refused by validation).
    let rewrite = |layout: u32, archive: Option<&[u8]>, records: u64| {
        let mut bytes = std::fs::read(dir.join(&names[1])).unwrap();
        bytes.truncate(bytes.len() - 32);
        bytes[10..18].copy_from_slice(&records.to_le_bytes());
        bytes[66..70].copy_from_slice(&layout.to_le_bytes());
        if let Some(archive) = archive {
            bytes.truncate(70);
            bytes[58..66].copy_from_slice(&(archive.len() as u64).to_le_bytes());
            bytes.extend_from_slice(archive);
        }
        let hash = *blake3::hash(&bytes).as_bytes();
        bytes.extend_from_slice(&hash);
        let path = dir.join(file_name(records));
        std::fs::write(&path, &bytes).unwrap();
        path
    };
    let layout_path = rewrite(machine::STATE_LAYOUT + 1, None, 999_999);
    let invalid_path = rewrite(machine::STATE_LAYOUT, Some(&[0xff; 8]), 999_998);

    let resumed = restart(&log, &dir);
    let (used, _) = resumed.snapshot.clone().unwrap();
    assert_eq!(used, dir.join(&names[1]));
    assert_eq!(resumed.state, full.state);
    let skipped = resumed.skipped.join("\n");
    for (path, why) in [
        (&newest, "snapshot corrupt"),
        (&foreign_path, "belongs to another log"),
        (&layout_path, "state layout"),
        (&invalid_path, "snapshot state fails validation"),
    ] {
        let name = path.display().to_string();
        assert!(skipped.lines().any(|line| line.contains(&name) && line.contains(why)), "{name}: {skipped}");
    }
    drop(resumed);

    // Every snapshot damaged: the whole log is stepped, and the state is still right.
    for name in file_names(&dir) {
        std::fs::write(dir.join(name), b"garbage").unwrap();
    }
    let resumed = restart(&log, &dir);
    assert!(resumed.snapshot.is_none());
    assert_eq!((resumed.stepped, &resumed.state), (events.len() as u64, &full.state));
    assert!(resumed.skipped.last().unwrap().contains("full replay"), "{:?}", resumed.skipped);
}

#[test]
fn damage_in_the_tail_after_the_snapshot_is_still_refused() {
    let work = scratch("run-snapshots-tail-damage");
    let (log, dir) = (work.join("run.seqlog"), work.join("snaps"));
    let events = script_events("nonce-poisoning");
    run_events(&log, &dir, &events[..events.len() - 2], 5, 3);
    let lock = LogLock::acquire(&log).unwrap();
    drop(lock);
    let mut bytes = std::fs::read(&log).unwrap();
    let at = bytes.len() - 40;
    bytes[at] ^= 1;
    std::fs::write(&log, &bytes).unwrap();
    let error =
        resume(LogLock::acquire(&log).unwrap(), &Header::new(Hash32::default()), FsyncPolicy::EveryRecord, Some(&dir))
            .unwrap_err()
            .to_string();
    assert!(error.contains("chain hash mismatch"), "{error}");
    // A version-1 log has no checkpoints: no snapshot is taken, nothing fails.
    let v1 = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/logs/anvil-happy-path.seqlog");
    let copy = work.join("v1.seqlog");
    std::fs::copy(&v1, &copy).unwrap();
    let mut writer = LogWriter::open_append(&copy, FsyncPolicy::EveryRecord).unwrap();
    let mut checkpointer = Checkpointer::new(SnapshotDir::new(work.join("v1-snaps"), 3), 1, Duration::ZERO, 0);
    writer.append(&Event::Shutdown, &[]).unwrap();
    assert!(checkpointer.snapshot_now(&mut writer, &State::new()).unwrap().is_none());
    assert!(!work.join("v1-snaps").exists());
}

/// The built binary, with no node (an unreachable RPC: a first boot exits `retry` after
/// two steps): every run ends with a snapshot, the next start resumes from it, and a
/// damaged one is skipped with a warning naming it.
#[test]
fn seqrec_run_snapshots_at_exit_and_resumes_from_the_snapshot() {
    let work = scratch("run-snapshots-cli");
    let log = work.join("r.seqlog");
    let run = || seqrec_run(&work, log.as_os_str(), &[]);
    let (code, err) = run();
    assert_eq!(code, Some(20), "{err}");
    assert!(err.contains("state rebuilt from the whole log events=0"), "{err}");
    let dir = work.join("r.seqlog.snapshots");
    assert_eq!(file_names(&dir), [file_name(3)]);
    let (code, err) = run();
    assert_eq!(code, Some(20), "{err}");
    assert!(err.contains("state resumed from a snapshot") && err.contains("tail_events=0"), "{err}");
    assert_eq!(file_names(&dir), [file_name(3), file_name(6)]);
    std::fs::write(dir.join(file_name(6)), b"damaged").unwrap();
    let (code, err) = run();
    assert_eq!(code, Some(20), "{err}");
    assert!(err.contains("00000000000000000006.snap: snapshot truncated"), "{err}");
    assert!(err.contains("tail_events=2"), "{err}");
    // Two kept: the damaged one (named as `run` names them) is removed with the pruning.
    assert_eq!(file_names(&dir), [file_name(3), file_name(9)]);
    let full = run_log(&log, false, None, true).unwrap();
    assert_eq!((full.failure, full.records), (None, 6));
    assert_eq!(full.checkpoints, 3);
}
