//! `seqrec run` into a segmented log (ARCHITECTURE.md choices 53 and 54): the run
//! rotates by size at checkpoints, snapshots every checkpoint that closes a segment and
//! keeps those at the present segments' starts, restarts from the newest valid snapshot
//! across segments; a crash during rotation is refused by `run` and repaired by
//! `seqrec repair`; old segments removed still leave a log `replay --snapshot` verifies.

use std::path::{Path, PathBuf};
use std::time::Duration;

use machine::event::Tick;
use machine::{Event, Hash32, State, UnixMillis};
use replay::checkpointer::Checkpointer;
use replay::cli::{Command, run_log};
use replay::log::{
    AppendLog, FsyncPolicy, Header, LogError, SegmentLock, SegmentWriter, list_segments, repair_segments,
};
use replay::resume::{Resumed, resume_segments};
use replay::snapshot_dir::{SnapshotDir, file_name};

use super::support::{cli, file_names, scratch, script_events, seqrec_run};

fn resume_dir(dir: &Path, snaps: &Path, bytes: u64) -> Result<Resumed<SegmentWriter>, LogError> {
    let lock = SegmentLock::acquire(dir)?;
    resume_segments(lock, &Header::new(Hash32::default()), FsyncPolicy::Group(64), bytes, Some(snaps))
}

/// Runs `events` into the segmented log `dir` as `run` does: a step, its record, then the
/// checkpointer (a snapshot every `every` event records, 0: only when a segment closes).
fn run_events(dir: &Path, snaps: &Path, events: &[Event], every: u64, bytes: u64) -> State {
    let Resumed { mut writer, mut state, .. } = resume_dir(dir, snaps, bytes).unwrap();
    let kept = SnapshotDir::new(snaps.to_owned(), 2).keeping_segment_starts(dir.to_owned());
    let mut checkpointer = Checkpointer::new(kept, every, Duration::ZERO, writer.events());
    for event in events {
        let (next, step) = machine::step(state, event);
        state = next;
        AppendLog::append(&mut writer, event, &step.effects).unwrap();
        if let Some(taken) = checkpointer.after_step(&mut writer, &state).unwrap() {
            taken.written.unwrap();
        }
    }
    state
}

fn starts(dir: &Path) -> Vec<u64> {
    list_segments(dir).unwrap().into_iter().map(|(first, _)| first).collect()
}

fn segment_paths(dir: &Path) -> Vec<PathBuf> {
    list_segments(dir).unwrap().into_iter().map(|(_, path)| path).collect()
}

/// Ticks before any boot: each is a record (a rejected fact), enough of them to pass the
/// periodic checkpoint (every 1,000 events).
fn ticks(n: u64) -> Vec<Event> {
    (0..n).map(|i| Event::Tick(Tick { now_ms: UnixMillis(1_000 + i) })).collect()
}

#[test]
fn a_run_rotates_at_checkpoints_keeps_the_segment_start_snapshots_and_restarts_from_the_newest() {
    let work = scratch("run-segments-rotate");
    let (dir, snaps) = (work.join("run.seqlog"), work.join("run.seqlog.snapshots"));
    let events = script_events("nonce-poisoning");
    let (first, second) = events.split_at(events.len() / 2);
    let ran = run_events(&dir, &snaps, first, 4, 400);
    assert!(starts(&dir).len() >= 3, "{:?}", starts(&dir));
    // Every segment after the first starts after a snapshot's checkpoint, all kept
    // (besides the newest two).
    let snapshot_names = file_names(&snaps);
    for start in starts(&dir).into_iter().skip(1) {
        assert!(snapshot_names.contains(&file_name(start)), "{start}: {snapshot_names:?}");
    }
    let resumed = resume_dir(&dir, &snaps, 400).unwrap();
    let (path, checkpoint) = resumed.snapshot.clone().unwrap();
    assert_eq!(path, snaps.join(file_names(&snaps).last().unwrap()));
    assert_eq!(resumed.stepped, first.len() as u64 - checkpoint.events, "only the tail is stepped");
    assert_eq!(resumed.state, ran);
    assert!(resumed.skipped.is_empty(), "{:?}", resumed.skipped);
    drop(resumed);
    let ran = run_events(&dir, &snaps, second, 4, 400);
    let full = run_log(&dir, false, None, true).unwrap();
    assert_eq!((full.failure, full.records), (None, events.len() as u64));
    assert_eq!(full.state, ran);

    // The operator deletes all but the two newest segments: the snapshot at the oldest
    // remaining one's start was kept, and the rest verifies from it.
    let all = segment_paths(&dir);
    assert!(all.len() >= 4, "{all:?}");
    for old in &all[..all.len() - 2] {
        std::fs::remove_file(old).unwrap();
    }
    let oldest = starts(&dir)[0];
    let replayed = run_log(&dir, false, Some(&snaps.join(file_name(oldest))), true).unwrap();
    assert_eq!((replayed.failure, &replayed.state), (None, &full.state));
    let newest = run_log(&dir, false, Some(&snaps), false).unwrap();
    assert_eq!((newest.failure, newest.state), (None, full.state.clone()));
    // A restart after the deletion resumes; the next prune drops the snapshots of the
    // deleted segments' starts beyond the newest two.
    let ran = run_events(&dir, &snaps, &events[..6], 4, 400);
    assert_eq!(resume_dir(&dir, &snaps, 400).unwrap().state, ran);
    let left = file_names(&snaps);
    let present = starts(&dir);
    let at_starts: Vec<&String> = left.iter().filter(|name| present.iter().any(|s| **name == file_name(*s))).collect();
    assert!(left.len() <= at_starts.len() + 2, "{left:?} vs segments {present:?}");
    for deleted in starts_of(&all[..all.len() - 2]).into_iter().filter(|start| *start > 0) {
        assert!(!left.contains(&file_name(deleted)), "{deleted}: {left:?}");
    }
}

/// The first records of `paths` (segment names).
fn starts_of(paths: &[PathBuf]) -> Vec<u64> {
    paths.iter().map(|path| path.file_stem().unwrap().to_string_lossy().parse().unwrap()).collect()
}

#[test]
fn a_periodic_checkpoint_that_closes_a_segment_gets_its_snapshot() {
    let work = scratch("run-segments-periodic");
    let (dir, snaps) = (work.join("run.seqlog"), work.join("snaps"));
    // No snapshot by count or time: only the closing checkpoints (every 1,000 events).
    let events = ticks(2_500);
    let state = run_events(&dir, &snaps, &events, 0, 4_000);
    assert_eq!(starts(&dir), [0, 1_001, 2_002]);
    assert_eq!(file_names(&snaps), [file_name(1_001), file_name(2_002)]);
    let resumed = resume_dir(&dir, &snaps, 4_000).unwrap();
    assert_eq!((resumed.stepped, &resumed.state), (500, &state));
}

#[test]
fn an_unfinished_segment_from_a_crash_during_rotation_is_refused_then_repaired() {
    let work = scratch("run-segments-torn-rotation");
    let (dir, snaps) = (work.join("run.seqlog"), work.join("snaps"));
    let events = script_events("nonce-poisoning");
    let ran = run_events(&dir, &snaps, &events, 4, 1_500);
    let whole = starts(&dir);
    let header = std::fs::read(&segment_paths(&dir)[1]).unwrap()[..40].to_vec();
    let next = dir.join(replay::log::segment_name(whole.last().unwrap() + 100));
    // An empty file, a cut header, zeros where the header never reached the disk.
    for bytes in [Vec::new(), header[..20].to_vec(), vec![0_u8; 300], [&header[..30], &[0_u8; 100]].concat()] {
        std::fs::write(&next, &bytes).unwrap();
        let error = resume_dir(&dir, &snaps, 1_500).unwrap_err().to_string();
        assert!(error.contains("an unfinished segment") && error.contains("`seqrec repair`"), "{error}");
        let repaired = repair_segments(&dir).unwrap();
        assert_eq!(repaired.removed, Some((next.clone(), bytes.len() as u64)));
        assert_eq!((repaired.segments, repaired.truncated), (whole.len(), None));
        assert!(!next.exists());
        assert_eq!(resume_dir(&dir, &snaps, 1_500).unwrap().state, ran);
    }
    // A whole header and no record (the crash came right after the rotation): nothing
    // to repair, and the run continues into it.
    let writer = SegmentWriter::open(&dir, &Header::new(Hash32::default()), FsyncPolicy::Group(8), 1, None, |_| {});
    let mut writer = writer.unwrap();
    writer.checkpoint_record(ran.state_hash()).unwrap();
    drop(writer);
    assert_eq!(starts(&dir).len(), whole.len() + 1);
    let newest = segment_paths(&dir).pop().unwrap();
    assert!(std::fs::metadata(&newest).unwrap().len() < 200, "a header and no record");
    let repaired = repair_segments(&dir).unwrap();
    assert_eq!((repaired.removed, repaired.truncated), (None, None));
    let run = run_events(&dir, &snaps, &events[..3], 4, 1_500);
    assert_eq!(run_log(&dir, false, None, false).unwrap().state, run);

    // An unfinished segment that is not the newest is damage: refused, nothing changed.
    let middle = segment_paths(&dir)[1].clone();
    let saved = std::fs::read(&middle).unwrap();
    std::fs::write(&middle, &saved[..20]).unwrap();
    let error = repair_segments(&dir).unwrap_err().to_string();
    assert!(error.contains("refusing to repair") && error.contains("an unfinished segment"), "{error}");
    assert_eq!(std::fs::read(&middle).unwrap().len(), 20);
    std::fs::write(&middle, &saved).unwrap();
}

#[test]
fn a_damaged_length_word_in_the_newest_segments_header_is_refused_not_removed() {
    let work = scratch("run-segments-header-damage");
    let (dir, snaps) = (work.join("run.seqlog"), work.join("snaps"));
    let events = script_events("nonce-poisoning");
    let mut state = run_events(&dir, &snaps, &events, 4, 1_500);
    // Rotate to a new segment (a limit of 1 byte) and step 2 records into it.
    let header = Header::new(Hash32::default());
    let mut writer = SegmentWriter::open(&dir, &header, FsyncPolicy::EveryRecord, 1, None, |_| {}).unwrap();
    writer.checkpoint_record(state.state_hash()).unwrap();
    for event in ticks(2) {
        let (next, step) = machine::step(state, &event);
        state = next;
        AppendLog::append(&mut writer, &event, &step.effects).unwrap();
    }
    drop(writer);
    let paths = segment_paths(&dir);
    let newest = paths.last().unwrap().clone();
    let bytes = std::fs::read(&newest).unwrap();
    let header_len = 12 + 12 + 32 + 80 + 32; // `seqrec 0.0.0`
    assert_eq!(u16::from_le_bytes([bytes[10], bytes[11]]), 12);
    for word in [u16::MAX, 12 ^ 0x4000, 12 ^ 0x0100, 13, 0] {
        let mut damaged = bytes.clone();
        damaged[10..12].copy_from_slice(&word.to_le_bytes());
        std::fs::write(&newest, &damaged).unwrap();
        assert_eq!(replay::log::unfinished_segment(&newest).unwrap(), None, "word {word}");
        let follow = format!("2 whole records follow from byte {header_len}");
        let byte = format!("the build-identity length at byte 10 reads {word}, where the records put 12");
        let error = repair_segments(&dir).unwrap_err().to_string();
        assert!(error.contains("refusing to repair") && error.contains(&follow) && error.contains(&byte), "{error}");
        assert!(!error.contains("removes it") && !error.contains("an unfinished segment"), "{error}");
        assert_eq!(std::fs::read(&newest).unwrap(), damaged, "word {word}: nothing changed");
        assert_eq!(segment_paths(&dir), paths, "word {word}: no segment removed");
        let error = resume_dir(&dir, &snaps, 1_500).err().unwrap().to_string();
        assert!(error.contains("header damaged") && error.contains(&follow), "{error}");
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_seqrec")).arg("repair").arg(&dir).output().unwrap();
        let text = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_ne!(output.status.code(), Some(0), "{text}");
        assert!(text.contains(&follow) && !text.contains("an unfinished segment"), "{text}");
        assert_eq!(segment_paths(&dir), paths, "word {word}: the CLI removed no segment");
    }
    std::fs::write(&newest, &bytes).unwrap();
    assert_eq!(resume_dir(&dir, &snaps, 1_500).unwrap().state, state);
}

#[test]
fn a_torn_tail_of_the_newest_segment_is_cut_and_the_cli_repairs_and_snapshots_a_directory() {
    let work = scratch("run-segments-torn-tail");
    let (dir, snaps) = (work.join("run.seqlog"), work.join("snaps"));
    let events = script_events("nonce-poisoning");
    run_events(&dir, &snaps, &events, 4, 1_500);
    let newest = segment_paths(&dir).pop().unwrap();
    let len = std::fs::metadata(&newest).unwrap().len();
    let mut bytes = std::fs::read(&newest).unwrap();
    bytes.extend_from_slice(&[7, 0, 0, 0, 0xf8, 0xff]);
    std::fs::write(&newest, &bytes).unwrap();
    let error = resume_dir(&dir, &snaps, 1_500).unwrap_err().to_string();
    assert!(error.contains("torn"), "{error}");
    let text = cli(Command::Repair { log: dir.clone() });
    assert!(text.contains("dropped 6 bytes of a torn tail"), "{text}");
    assert_eq!(std::fs::metadata(&newest).unwrap().len(), len);
    let text = cli(Command::Repair { log: dir.clone() });
    assert!(text.contains("nothing to repair"), "{text}");
    let snap = work.join("at.snap");
    let text = cli(Command::Snapshot { log: dir.clone(), records: None, output: snap.clone() });
    assert!(text.contains("verified: snapshot + tail equals full replay"), "{text}");
    // With old segments gone, the snapshot command says which snapshot the rest needs.
    std::fs::remove_file(&segment_paths(&dir)[0]).unwrap();
    let text = cli(Command::Snapshot { log: dir.clone(), records: None, output: work.join("no.snap") });
    assert!(text.starts_with("error: ") && text.contains("the oldest segment starts at record"), "{text}");
    let empty = work.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let text = cli(Command::Repair { log: empty.clone() });
    assert!(text.contains("holds no log segment"), "{text}");
}

/// The built binary with no node (an unreachable RPC: a first boot exits `retry` after
/// two steps), into a directory with a tiny segment size: every closing checkpoint
/// rotates, each start resumes from the snapshot at the newest segment's start, old
/// segments deleted leave a log `seqrec replay DIR --snapshot SNAPDIR` verifies, and a
/// torn rotation is refused (30) until `seqrec repair DIR`.
#[test]
fn seqrec_run_into_a_directory_rotates_resumes_and_refuses_a_torn_rotation() {
    let work = scratch("run-segments-cli");
    let dir = work.join("r.seqlog");
    let seqrec = |extra: &[&str], log: &str| seqrec_run(&work, log.as_ref(), extra);
    let slash = format!("{}/", dir.display());
    let run = || seqrec(&["--segment-bytes", "1"], &slash);
    let (code, err) = run();
    assert_eq!(code, Some(20), "{err}");
    assert!(err.contains("state rebuilt from the whole log events=0"), "{err}");
    let snaps = work.join("r.seqlog.snapshots");
    assert_eq!(starts(&dir), [0, 3]);
    assert_eq!(file_names(&snaps), [file_name(3)]);
    for _ in 0..2 {
        let (code, err) = run();
        assert_eq!(code, Some(20), "{err}");
        assert!(err.contains("state resumed from a snapshot") && err.contains("tail_events=0"), "{err}");
    }
    assert_eq!(starts(&dir), [0, 3, 6, 9]);
    // Kept: the newest two and the snapshot at every present segment's start.
    assert_eq!(file_names(&snaps), [file_name(3), file_name(6), file_name(9)]);
    let full = run_log(&dir, false, None, true).unwrap();
    assert_eq!((full.failure, full.records, full.checkpoints), (None, 6, 3));

    // The operator archives the two oldest segments.
    for old in &segment_paths(&dir)[..2] {
        std::fs::remove_file(old).unwrap();
    }
    let replay = |snapshot: &Path| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_seqrec"))
            .arg("replay")
            .arg(&dir)
            .arg("--snapshot")
            .arg(snapshot)
            .output()
            .unwrap();
        (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let (code, out) = replay(&snaps.join(file_name(6)));
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = replay(&snaps);
    assert_eq!(code, Some(0), "{out}");
    let (code, err) = run();
    assert_eq!(code, Some(20), "{err}");
    // The snapshot at a deleted segment's start, beyond the newest two, is gone.
    assert_eq!(file_names(&snaps), [file_name(6), file_name(9), file_name(12)]);

    // A crash while the run rotated: the newest segment holds half a header.
    let torn = dir.join(replay::log::segment_name(15));
    std::fs::write(&torn, b"SEQRSEG\n\x01").unwrap();
    let (code, err) = run();
    assert_eq!(code, Some(30), "{err}");
    assert!(err.contains("an unfinished segment") && err.contains("seqrec repair"), "{err}");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_seqrec")).arg("repair").arg(&dir).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("an unfinished segment (9 bytes"), "{text}");
    let (code, err) = run();
    assert_eq!(code, Some(20), "{err}");

    // Segments need a directory: `--segment-bytes` with a single-file log is refused.
    let (code, err) = seqrec(&["--segment-bytes", "1000"], &work.join("single.seqlog").display().to_string());
    assert_eq!(code, Some(78), "{err}");
    assert!(err.contains("--segment-bytes") && err.contains("single-file log"), "{err}");
    assert!(!work.join("single.seqlog").exists());
}
