//! Segmented logs (FORMAT.md "Segmented logs"): a directory of segments rotated by size
//! at checkpoints, read as one log by every command; old segments removed leave the rest
//! replayable from a snapshot at the oldest one's start, or refused naming that snapshot.

use std::path::{Path, PathBuf};

use machine::{Event, Hash32, State};
use replay::cli::{Command, run_log};
use replay::log::{Entry, FsyncPolicy, Header, SegmentWriter, list_segments};
use replay::snapshot::Snapshot;
use replay::snapshot_dir::file_name;

use super::support::{cli, scratch, script_events, write_log};

/// Writes `events` into the segmented log `dir` (segments of about `bytes` bytes), a
/// checkpoint after every `every` events; returns each checkpoint with its state.
fn write_segments(dir: &Path, events: &[Event], every: usize, bytes: u64) -> Vec<(replay::log::Checkpoint, State)> {
    let header = Header::new(Hash32::default());
    let mut state = State::new();
    let mut writer = SegmentWriter::open(dir, &header, FsyncPolicy::EveryRecord, bytes, None, |entry| {
        if let Entry::Event(record) = entry {
            state = machine::step(std::mem::take(&mut state), &record.event).0;
        }
    })
    .unwrap();
    let mut checkpoints = Vec::new();
    for (index, event) in events.iter().enumerate() {
        let (next, step) = machine::step(state, event);
        state = next;
        writer.append(event, &step.effects).unwrap();
        if (index + 1) % every == 0 {
            checkpoints.push((writer.checkpoint_record(state.state_hash()).unwrap(), state.clone()));
        }
    }
    checkpoints
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    list_segments(dir).unwrap().into_iter().map(|(_, path)| path).collect()
}

#[test]
fn a_segment_directory_reads_as_the_same_log_in_every_command() {
    let work = scratch("segments-commands");
    let (dir, file) = (work.join("run.seqlog"), work.join("single.seqlog"));
    let events = script_events("nonce-poisoning");
    write_segments(&dir, &events, 3, 1_500);
    write_log(&file, &events, 3);
    assert!(segments(&dir).len() >= 3, "{:?}", segments(&dir));
    let (from_dir, from_file) = (run_log(&dir, false, None, true).unwrap(), run_log(&file, false, None, true).unwrap());
    assert_eq!(from_dir.failure, None);
    assert_eq!(
        (from_dir.state, from_dir.records, from_dir.checkpoints),
        (from_file.state, from_file.records, from_file.checkpoints)
    );
    let trace = |input: &Path| cli(Command::Trace { input: input.to_owned(), json: false });
    assert_eq!(trace(&dir), trace(&file));
    let audit = |input: &Path| {
        cli(Command::Audit { input: input.to_owned(), at: Some(9), svg: None, json: false, since: None, until: None })
    };
    assert_eq!(audit(&dir), audit(&file));
    let export = |log: &Path| cli(Command::Export { log: log.to_owned(), output: "-".into() });
    assert_eq!(export(&dir), export(&file));
    let diff = cli(Command::Diff { a: dir.clone(), b: Some(file.clone()), json: false });
    assert!(diff.starts_with("identical:"), "{diff}");
    let replayed =
        cli(Command::Replay { input: dir.clone(), json: false, snapshot: None, no_invariants: false, jobs: 3 });
    assert!(replayed.starts_with("ok: "), "{replayed}");
}

#[test]
fn removed_old_segments_need_the_snapshot_at_the_oldest_segments_start() {
    let work = scratch("segments-archived");
    let dir = work.join("run.seqlog");
    let events = script_events("nonce-poisoning");
    let checkpoints = write_segments(&dir, &events, 3, 1_500);
    let full = run_log(&dir, false, None, false).unwrap();
    let all = segments(&dir);
    // The operator archives the two oldest segments.
    for old in &all[..2] {
        std::fs::remove_file(old).unwrap();
    }
    let (first_seq, _) = list_segments(&dir).unwrap()[0].clone();
    let error = run_log(&dir, false, None, false).unwrap_err().to_string();
    assert!(error.contains(&format!("the oldest segment starts at record {first_seq}")), "{error}");
    assert!(error.contains(&file_name(first_seq)) && error.contains("--snapshot"), "{error}");
    let trace = cli(Command::Trace { input: dir.clone(), json: false });
    assert!(trace.contains("the oldest segment starts at record"), "{trace}");
    // The snapshot at the boundary checkpoint, whose own segment is gone: the next
    // segment's header vouches for it.
    let snapshots = work.join("run.seqlog.snapshots");
    std::fs::create_dir_all(&snapshots).unwrap();
    let (checkpoint, state) = checkpoints.iter().find(|(c, _)| c.seq + 1 == first_seq).unwrap().clone();
    Snapshot::at_checkpoint(&checkpoint, state).unwrap().write(&snapshots.join(file_name(first_seq))).unwrap();
    let resumed = run_log(&dir, false, Some(&snapshots), true).unwrap();
    assert_eq!((resumed.failure, &resumed.state, resumed.records), (None, &full.state, full.records));
    // A later snapshot, inside a present segment, works as in a single file.
    let (checkpoint, state) = checkpoints.last().unwrap().clone();
    let later = work.join("later.snap");
    Snapshot::at_checkpoint(&checkpoint, state).unwrap().write(&later).unwrap();
    let resumed = run_log(&dir, false, Some(&later), false).unwrap();
    assert_eq!((resumed.failure, resumed.state), (None, full.state));
}

#[test]
fn a_missing_middle_segment_or_a_newer_segment_version_is_refused() {
    let work = scratch("segments-gap");
    let dir = work.join("run.seqlog");
    write_segments(&dir, &script_events("nonce-poisoning"), 3, 1_500);
    let all = segments(&dir);
    assert!(all.len() >= 3);
    let kept = work.join("kept.seg");
    std::fs::rename(&all[1], &kept).unwrap();
    let error = run_log(&dir, false, None, false).unwrap_err().to_string();
    assert!(
        error.contains("does not continue the log") && error.contains("a segment between them is missing"),
        "{error}"
    );
    std::fs::rename(&kept, &all[1]).unwrap();
    assert_eq!(run_log(&dir, false, None, false).unwrap().failure, None);
    let mut bytes = std::fs::read(&all[2]).unwrap();
    bytes[8] = 2;
    std::fs::write(&all[2], &bytes).unwrap();
    let error = run_log(&dir, false, None, false).unwrap_err().to_string();
    assert!(error.contains("segment header version 2 is not one this build reads (it reads version 1)"), "{error}");
}

#[test]
fn a_reopened_segment_directory_continues_the_chain() {
    let work = scratch("segments-reopen");
    let dir = work.join("run.seqlog");
    let events = script_events("nonce-poisoning");
    let (first, second) = events.split_at(events.len() / 2);
    write_segments(&dir, first, 3, 1_500);
    let before = segments(&dir).len();
    write_segments(&dir, second, 3, 1_500);
    assert!(segments(&dir).len() > before);
    let full = run_log(&dir, false, None, true).unwrap();
    assert_eq!((full.failure, full.records), (None, events.len() as u64));
    // A second writer is refused while the first holds the directory's lock.
    let header = Header::new(Hash32::default());
    let holder = SegmentWriter::open(&dir, &header, FsyncPolicy::EveryRecord, 1_500, None, |_| {}).unwrap();
    let error = SegmentWriter::open(&dir, &header, FsyncPolicy::EveryRecord, 1_500, None, |_| {}).unwrap_err();
    assert!(error.to_string().contains("is locked by another process"), "{error}");
    drop(holder);
}

/// Writes the snapshot `run` keeps at each segment's start into `<dir>.snapshots`.
fn write_start_snapshots(dir: &Path, checkpoints: &[(replay::log::Checkpoint, State)]) -> PathBuf {
    let snapshots = replay::snapshot_dir::default_dir(dir);
    std::fs::create_dir_all(&snapshots).unwrap();
    for (first_seq, _) in list_segments(dir).unwrap().into_iter().skip(1) {
        let (checkpoint, state) = checkpoints.iter().find(|(c, _)| c.seq + 1 == first_seq).unwrap().clone();
        Snapshot::at_checkpoint(&checkpoint, state).unwrap().write(&snapshots.join(file_name(first_seq))).unwrap();
    }
    snapshots
}

fn replay_jobs(dir: &Path, jobs: usize) -> Result<replay::cli::LogReplay, String> {
    let options = replay::cli::ReplayOptions { json: false, snapshot: None, invariants: true, jobs };
    replay::cli::run_log_with(dir, options).map_err(|error| error.to_string())
}

#[test]
fn segments_are_verified_in_parallel_from_their_start_snapshots_with_the_sequential_verdict() {
    let work = scratch("segments-parallel");
    let dir = work.join("run.seqlog");
    let checkpoints = write_segments(&dir, &script_events("nonce-poisoning"), 3, 1_500);
    let count = segments(&dir).len();
    assert!(count >= 4, "{count}");
    let snapshots = write_start_snapshots(&dir, &checkpoints);
    let sequential = replay_jobs(&dir, 1).unwrap();
    assert!(sequential.notes.is_empty(), "{:?}", sequential.notes);
    for jobs in [2, 3, 8] {
        let parallel = replay_jobs(&dir, jobs).unwrap();
        assert_eq!(
            (&parallel.failure, &parallel.state, parallel.records, parallel.checkpoints),
            (&sequential.failure, &sequential.state, sequential.records, sequential.checkpoints),
            "--jobs {jobs}"
        );
        let parts = format!("{count} segments verified in {count} parts on {} threads", jobs.min(count));
        assert!(parallel.notes.iter().any(|note| note.starts_with(&parts)), "{:?}", parallel.notes);
    }
    // A start snapshot that does not validate is named and skipped: its segment joins the
    // part before it.
    let second = list_segments(&dir).unwrap()[2].0;
    let bad = snapshots.join(file_name(second));
    let mut bytes = std::fs::read(&bad).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&bad, &bytes).unwrap();
    let parallel = replay_jobs(&dir, 2).unwrap();
    assert_eq!((&parallel.state, parallel.records), (&sequential.state, sequential.records));
    assert!(parallel.notes.iter().any(|note| note.starts_with(&format!("skipped {}", bad.display()))));
    assert!(
        parallel.notes.iter().any(|note| note.contains(&format!("in {} parts", count - 1))),
        "{:?}",
        parallel.notes
    );
}

#[test]
fn damage_in_a_later_part_or_a_missing_segment_is_reported_as_the_sequential_replay_does() {
    let work = scratch("segments-parallel-damage");
    let dir = work.join("run.seqlog");
    let checkpoints = write_segments(&dir, &script_events("nonce-poisoning"), 3, 1_500);
    write_start_snapshots(&dir, &checkpoints);
    let all = segments(&dir);
    // A flipped byte in the body of the last segment's last record, and then one in an
    // earlier segment too: the first by record order is the one reported.
    for damaged in [all.len() - 1, 1] {
        let path = &all[damaged];
        let mut bytes = std::fs::read(path).unwrap();
        let in_body = bytes.len() - 40;
        bytes[in_body] ^= 0x01;
        std::fs::write(path, &bytes).unwrap();
        let (sequential, parallel) = (replay_jobs(&dir, 1).unwrap_err(), replay_jobs(&dir, 3).unwrap_err());
        assert_eq!(sequential, parallel);
        let name = all[damaged].file_name().unwrap().to_string_lossy().into_owned();
        assert!(sequential.contains(&format!("segment {name}")), "{sequential}");
    }
    // A middle segment lost, while the next segment's start snapshot is still there.
    let dir = work.join("lost.seqlog");
    let checkpoints = write_segments(&dir, &script_events("nonce-poisoning"), 3, 1_500);
    write_start_snapshots(&dir, &checkpoints);
    std::fs::remove_file(&segments(&dir)[1]).unwrap();
    let (sequential, parallel) = (replay_jobs(&dir, 1).unwrap_err(), replay_jobs(&dir, 2).unwrap_err());
    for error in [&sequential, &parallel] {
        assert!(
            error.contains("does not continue the log") && error.contains("a segment between them is missing"),
            "{error}"
        );
    }
}
