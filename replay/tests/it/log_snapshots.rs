//! Checkpoints authenticate snapshots: a snapshot is used only at a checkpoint whose
//! state hash is its state's, a directory falls back past the ones the log does not vouch
//! for, and a replay fails at a checkpoint its state disagrees with (FORMAT.md
//! "Checkpoints", "Snapshot file").

use std::path::Path;

use machine::{Hash32, State};
use replay::cli::{record, run_log};
use replay::log::{CHECKPOINT_EVERY, Checkpoint, Entry, FsyncPolicy, Header, LogWriter};
use replay::snapshot::Snapshot;

use super::support::{entries, scratch, script_events, write_log};

/// The checkpoints of a log, each with the state the events before it give.
fn checkpoints(bytes: &[u8]) -> Vec<(Checkpoint, State)> {
    let mut state = State::new();
    let mut found = Vec::new();
    for entry in entries(bytes).0 {
        match entry {
            Entry::Event(record) => state = machine::step(state, &record.event).0,
            Entry::Checkpoint(checkpoint) => found.push((checkpoint, state.clone())),
        }
    }
    found
}

fn snapshot(checkpoint: &Checkpoint, state: State) -> Snapshot {
    Snapshot::at_checkpoint(checkpoint, state).unwrap()
}

#[test]
fn import_writes_a_checkpoint_every_period_and_after_the_last_event() {
    let path = scratch("import-checkpoints").join("ticks.seqlog");
    let ticks: Vec<_> = (0..2_500_u64)
        .map(|ms| machine::Event::Tick(machine::event::Tick { now_ms: machine::UnixMillis(ms) }))
        .collect();
    assert_eq!(record(&ticks.iter().collect::<Vec<_>>(), &path).unwrap(), 2_500);
    let found = checkpoints(&std::fs::read(&path).unwrap());
    let at: Vec<(u64, u64)> = found.iter().map(|(c, _)| (c.seq, c.events)).collect();
    assert_eq!(at, [(CHECKPOINT_EVERY, 1_000), (2_001, 2_000), (2_502, 2_500)]);
    assert!(found.iter().all(|(checkpoint, state)| checkpoint.state_hash == state.state_hash()));
}

#[test]
fn a_checkpoint_the_replay_disagrees_with_fails_it_naming_the_record() {
    let path = scratch("bad-checkpoint").join("forged.seqlog");
    let mut writer = LogWriter::create(&path, &Header::new(Hash32::default()), FsyncPolicy::EveryRecord).unwrap();
    let mut state = State::new();
    for event in &script_events("happy-path")[..5] {
        let (next, step) = machine::step(state, event);
        state = next;
        writer.append(event, &step.effects).unwrap();
    }
    writer.append_checkpoint(Hash32([7; 32])).unwrap();
    drop(writer);
    let replayed = run_log(&path, false, None, true).unwrap();
    let failure = replayed.failure.unwrap_or_default();
    assert!(failure.starts_with("record 5 at byte "), "{failure}");
    assert!(failure.contains(&format!("checkpoint after 5 events records state {}", Hash32([7; 32]))), "{failure}");
    assert!(failure.contains(&format!("but the replay reached {}", state.state_hash())), "{failure}");
}

#[test]
fn a_snapshot_directory_falls_back_past_snapshots_the_log_does_not_vouch_for() {
    let dir = scratch("snapshot-fallback");
    let log = dir.join("log.seqlog");
    let events = script_events("nonce-poisoning");
    let bytes = write_log(&log, &events, 5);
    let found = checkpoints(&bytes);
    assert_eq!(found.len(), 6);
    snapshot(&found[1].0, found[1].1.clone()).write(&dir.join("a-good.snap")).unwrap();
    // A valid archive of another state, at the newest checkpoint (the file re-hashed).
    let forged = Snapshot { state: found[4].1.clone(), ..snapshot(&found[5].0, found[5].1.clone()) };
    forged.write(&dir.join("b-forged-state.snap")).unwrap();
    // The right chain hash and offset with a wrong record count: the resumed reader
    // would find the wrong sequence numbers and blame the log.
    let miscounted = Snapshot { records: found[4].0.seq + 2, ..snapshot(&found[4].0, found[4].1.clone()) };
    miscounted.write(&dir.join("c-miscounted.snap")).unwrap();
    // After an event record, not a checkpoint.
    let replay::cli::Loaded::Log { records, .. } = replay::cli::load(&log).unwrap() else { panic!("not a log") };
    let after_event = &records[12];
    let state = replay::run::run(records[..13].iter().map(|r| (None, &r.event))).state;
    let loose = Snapshot {
        records: after_event.seq + 1,
        chain: after_event.chain,
        end_offset: after_event.offset + after_event.len,
        state,
    };
    loose.write(&dir.join("d-not-at-checkpoint.snap")).unwrap();
    std::fs::write(dir.join("e-garbage.snap"), b"not a snapshot").unwrap();
    let full = run_log(&log, false, None, false).unwrap();
    let resumed = run_log(&log, false, Some(&dir), false).unwrap();
    assert_eq!((resumed.state, resumed.records, resumed.failure), (full.state, full.records, None));
    let notes = resumed.notes.join("\n");
    assert!(notes.contains(&format!("resumed from {} after record 11", dir.join("a-good.snap").display())), "{notes}");
    for (name, why) in [
        ("b-forged-state.snap", "differs from the log's checkpoint"),
        ("c-miscounted.snap", "is not at a checkpoint"),
        ("d-not-at-checkpoint.snap", "is not at a checkpoint"),
        ("e-garbage.snap", "snapshot truncated"),
    ] {
        assert!(notes.lines().any(|line| line.contains(name) && line.contains(why)), "{name}: {notes}");
    }
}

/// Every byte of the archive changed in turn, the file re-hashed so that only the state
/// can tell: each is refused, or (a byte that does not matter) gives the right state.
#[test]
fn forged_snapshots_never_replay_ok_with_a_wrong_state() {
    let dir = scratch("snapshot-forged");
    let log = dir.join("log.seqlog");
    let bytes = write_log(&log, &script_events("closed-batch-in-danger"), 10);
    let full = run_log(&log, false, None, false).unwrap();
    let (checkpoint, state) = checkpoints(&bytes).swap_remove(1);
    let good = snapshot(&checkpoint, state).encode().unwrap();
    let path = dir.join("forged.snap");
    let (archive_start, archive_end) = (66, good.len() - 32);
    let (mut refused, mut harmless) = (0, 0);
    for at in archive_start..archive_end {
        let mut forged = good.clone();
        forged[at] ^= if at % 2 == 0 { 0x01 } else { 0x80 };
        let hash = *blake3::hash(&forged[..archive_end]).as_bytes();
        forged[archive_end..].copy_from_slice(&hash);
        std::fs::write(&path, &forged).unwrap();
        match run_log(&log, false, Some(&path), false) {
            Err(_) => refused += 1,
            Ok(resumed) => {
                assert_eq!(resumed.failure, None, "byte {at}");
                assert_eq!(resumed.state, full.state, "byte {at}: a forged snapshot replayed ok with a wrong state");
                harmless += 1;
            }
        }
    }
    assert!(refused > 0, "{refused} refused, {harmless} harmless");
}

#[test]
fn snapshot_plus_tail_equals_full_replay_at_every_checkpoint_and_nowhere_else() {
    let dir = scratch("snapshot-splits");
    let log = dir.join("log.seqlog");
    let bytes = write_log(&log, &script_events("nonce-poisoning"), 3);
    let full = run_log(&log, false, None, false).unwrap();
    let path = dir.join("split.snap");
    for (checkpoint, state) in checkpoints(&bytes) {
        snapshot(&checkpoint, state).write(&path).unwrap();
        let resumed = run_log(&log, false, Some(&path), false).unwrap();
        assert_eq!((resumed.state, resumed.records, resumed.failure), (full.state.clone(), full.records, None));
    }
    let replay::cli::Loaded::Log { records, .. } = replay::cli::load(&log).unwrap() else { panic!("not a log") };
    let mut state = State::new();
    for record in &records {
        state = machine::step(state, &record.event).0;
        let end_offset = record.offset + record.len;
        Snapshot { records: record.seq + 1, chain: record.chain, end_offset, state: state.clone() }
            .write(&path)
            .unwrap();
        let error = run_log(&log, false, Some(&path), false).unwrap_err().to_string();
        assert!(error.contains("is not at a checkpoint"), "after record {}: {error}", record.seq);
    }
}

#[test]
fn the_snapshot_command_takes_the_latest_checkpoint_at_or_before_the_point_asked() {
    let dir = scratch("snapshot-command");
    let log = dir.join("log.seqlog");
    write_log(&log, &script_events("nonce-poisoning"), 5);
    let out = dir.join("s.snap");
    let cases = [(Some(14), 12), (Some(12), 12), (Some(11), 6), (None, 36)];
    for (asked, taken) in cases {
        let done = snapshot_command(&log, asked, &out).unwrap_or_else(|error| panic!("{asked:?}: {error}"));
        assert!(done.contains(&format!("snapshot after {taken} of 36 records")), "{asked:?}: {done}");
        assert_eq!(Snapshot::read(&out).unwrap().records, taken);
    }
    let error = snapshot_command(&log, Some(5), &out).unwrap_err();
    assert!(error.contains("no checkpoint record in the first 5 records"), "{error}");
    // A version-1 log has no checkpoints, so no snapshot.
    let v1 = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/logs/anvil-happy-path.seqlog");
    let error = snapshot_command(&v1, None, &out).unwrap_err();
    assert!(error.contains("a version-1 log has none"), "{error}");
}

fn snapshot_command(log: &Path, records: Option<u64>, output: &Path) -> Result<String, String> {
    let command = replay::cli::Command::Snapshot { log: log.to_owned(), records, output: output.to_owned() };
    match replay::cli::execute(replay::cli::Args { command }) {
        Ok(replay::cli::Outcome::Done(text)) => Ok(text),
        Ok(other) => Err(format!("{other:?}")),
        Err(error) => Err(error.to_string()),
    }
}
