//! Logs: every committed fixture log replays to identical effects and matches its
//! script; import/export round-trip losslessly; snapshot + tail equals full replay.

use std::path::{Path, PathBuf};

use replay::cli::{load, record, run_log};
use replay::log::{Entry, LogReader};
use replay::snapshot::Snapshot;
use replay::trace::render_text_all;

fn fixtures(dir: &str, ext: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures").join(dir);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == ext))
        .collect();
    paths.sort();
    paths
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("seqrec-logs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_script_has_a_committed_log_that_replays_identically() {
    for script in fixtures("scripts", "jsonl") {
        let name = script.file_stem().unwrap().to_str().unwrap();
        let log = script.parent().unwrap().parent().unwrap().join(format!("logs/{name}.seqlog"));
        assert!(log.exists(), "{}: no committed log; run `cargo xtask fixtures --accept`", log.display());
        let replayed = run_log(&log, false, None, true).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(replayed.failure, None, "{}", log.display());
        let from_log = render_text_all(&load(&log).unwrap().run().steps);
        let from_script = render_text_all(&load(&script).unwrap().run().steps);
        assert_eq!(from_log, from_script, "{}: the log's trace differs from its script's", log.display());
    }
}

#[test]
fn fixture_audits() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        insta::glob!("../../../fixtures/logs", "*.seqlog", |path| {
            let loaded = load(path).unwrap_or_else(|error| panic!("{error}"));
            let run = loaded.run();
            let audit = replay::audit::render_loaded(&loaded, &run.steps, replay::audit::Window::default(), false);
            insta::assert_snapshot!("audit", audit);
        });
    });
}

#[test]
fn import_export_round_trip_is_lossless() {
    let dir = scratch("roundtrip");
    for script in fixtures("scripts", "jsonl") {
        let name = script.file_stem().unwrap().to_str().unwrap();
        let loaded = load(&script).unwrap();
        let events: Vec<_> = loaded.events().into_iter().map(|(_, event)| event).collect();
        let first = dir.join(format!("{name}.seqlog"));
        record(&events, &first).unwrap();
        let exported = match load(&first).unwrap() {
            replay::cli::Loaded::Log { records, .. } => records.into_iter().map(|r| r.event).collect::<Vec<_>>(),
            replay::cli::Loaded::Script(_) => panic!("{name}: not read back as a log"),
        };
        assert_eq!(exported.iter().collect::<Vec<_>>(), events, "{name}: export changed the events");
        let text = replay::script::render(&exported).unwrap();
        let reparsed: Vec<_> = replay::script::parse(&text).unwrap().events.into_iter().map(|(_, e)| e).collect();
        assert_eq!(reparsed, exported, "{name}: script rendering is not lossless");
        let second = dir.join(format!("{name}.again.seqlog"));
        record(&reparsed.iter().collect::<Vec<_>>(), &second).unwrap();
        assert_eq!(std::fs::read(&first).unwrap(), std::fs::read(&second).unwrap(), "{name}: re-import changed bytes");
    }
}

#[test]
fn snapshot_plus_tail_equals_full_replay_at_every_checkpoint() {
    let dir = scratch("snapshots");
    for log in fixtures("logs", "seqlog") {
        let full = run_log(&log, false, None, false).unwrap();
        let mut reader = LogReader::new(std::io::BufReader::new(std::fs::File::open(&log).unwrap())).unwrap();
        let mut state = machine::State::new();
        // Version-1 logs (anvil-*) have no checkpoint, so no snapshot applies to them.
        for entry in reader.entries() {
            let checkpoint = match entry.unwrap() {
                Entry::Event(record) => {
                    state = machine::step(state, &record.event).0;
                    continue;
                }
                Entry::Checkpoint(checkpoint) => checkpoint,
            };
            let snap = Snapshot::at_checkpoint(&checkpoint, state.clone()).unwrap();
            let path = dir.join("split.snap");
            snap.write(&path).unwrap();
            assert_eq!(Snapshot::read(&path).unwrap(), snap, "{}: snapshot round trip", log.display());
            let resumed = run_log(&log, false, Some(&path), false).unwrap();
            assert_eq!(resumed.failure, None);
            assert_eq!(resumed.records, full.records);
            assert_eq!(resumed.state.state_hash(), full.state.state_hash(), "{} at {}", log.display(), checkpoint.seq);
        }
    }
}

#[test]
fn a_snapshot_of_another_log_or_damaged_is_refused() {
    let dir = scratch("snapshot-refused");
    let logs = fixtures("logs", "seqlog");
    let (a, b) = (&logs[0], &logs[1]);
    let replay::cli::Loaded::Log { records, .. } = load(a).unwrap() else { panic!("not a log") };
    // The last record: logs of different scenarios share their first records (same boot,
    // same config), so only a later record tells them apart.
    let last = records.last().unwrap();
    let state = replay::run::run(records.iter().map(|r| (None, &r.event))).state;
    let snap = Snapshot { records: records.len() as u64, chain: last.chain, end_offset: last.offset + last.len, state };
    let path = dir.join("a.snap");
    snap.write(&path).unwrap();
    let error = run_log(b, false, Some(&path), false).unwrap_err().to_string();
    assert!(error.contains("belongs to another log"), "{error}");
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let error = run_log(a, false, Some(&path), false).unwrap_err().to_string();
    assert!(error.contains("snapshot corrupt"), "{error}");
    bytes[8] = 9;
    assert!(Snapshot::decode(&bytes).unwrap_err().to_string().contains("snapshot version 9"));
}

#[test]
fn a_snapshot_directory_resumes_from_the_newest_valid_snapshot() {
    let dir = scratch("snapshot-dir");
    // Checkpoints after every 10 events, so after records 10, 21, 32, …
    let log = dir.join("closed-batch-in-danger.seqlog");
    super::support::write_log(&log, &super::support::script_events("closed-batch-in-danger"), 10);
    let logs = fixtures("logs", "seqlog");
    let other = logs.iter().find(|p| p.ends_with("happy-path.seqlog")).unwrap();
    let snapshot_at = |log: &Path, nth: usize| {
        let mut reader = LogReader::new(std::io::BufReader::new(std::fs::File::open(log).unwrap())).unwrap();
        let mut state = machine::State::new();
        let mut found = Vec::new();
        for entry in reader.entries() {
            match entry.unwrap() {
                Entry::Event(record) => state = machine::step(state, &record.event).0,
                Entry::Checkpoint(checkpoint) => {
                    found.push(Snapshot::at_checkpoint(&checkpoint, state.clone()).unwrap())
                }
            }
        }
        found.swap_remove(nth)
    };
    snapshot_at(&log, 0).write(&dir.join("a-early.snap")).unwrap();
    snapshot_at(&log, 2).write(&dir.join("b-late.snap")).unwrap();
    snapshot_at(other, 0).write(&dir.join("c-other-log.snap")).unwrap();
    std::fs::write(dir.join("d-garbage.snap"), b"not a snapshot").unwrap();
    let full = run_log(&log, false, None, false).unwrap();
    let resumed = run_log(&log, false, Some(&dir), false).unwrap();
    assert_eq!(resumed.state, full.state);
    let notes = resumed.notes.join("\n");
    assert!(notes.contains("b-late.snap after record 32"), "{notes}");
    assert!(notes.contains("skipped") && notes.contains("d-garbage.snap"), "{notes}");
    let empty = scratch("snapshot-dir-empty");
    let fallback = run_log(&log, false, Some(&empty), false).unwrap();
    assert_eq!(fallback.state, full.state);
    assert!(fallback.notes.join("\n").contains("full replay"));
}

#[test]
fn simulator_scenario_logs_are_reproduced_bit_for_bit() {
    for log in fixtures("logs", "seqlog") {
        let stem = log.file_stem().unwrap().to_str().unwrap();
        let Some(name) = stem.strip_prefix("sim-") else { continue };
        let scenario = effects::sim::scenario::by_name(name).unwrap_or_else(|| panic!("{stem}: no scenario {name}"));
        // The committed simulator logs were recorded before ARCHITECTURE.md choice 68: the
        // simulated node answers the submit rounds as executors did then.
        let scenario = effects::sim::scenario::Scenario { answers_before_one_view: true, ..scenario };
        let report = effects::sim::simulate(&scenario, 1);
        assert!(report.failures.is_empty(), "{stem}: {:?}", report.failures);
        let replay::cli::Loaded::Log { records, .. } = load(&log).unwrap() else { panic!("not a log") };
        assert_eq!(records.len(), report.log.records.len(), "{stem}: record count");
        for (record, (event, effects)) in records.iter().zip(&report.log.records) {
            assert_eq!(&record.event, event, "{stem}: record {}", record.seq);
            assert_eq!(record.effects_json, replay::log::effects_json(effects), "{stem}: record {}", record.seq);
        }
    }
}

#[test]
fn every_fixture_log_replays_to_identical_effects() {
    for log in fixtures("logs", "seqlog") {
        let replayed = run_log(&log, false, None, true).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(replayed.failure, None, "{}", log.display());
    }
}
