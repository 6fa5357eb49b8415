//! `seqrec replay --jobs N` (issue 10, item 6): the log is framed, verified and stepped on
//! 1, 2 or more threads in batches, and every N gives the same result and the same
//! message as the sequential reader, whatever the damage and wherever it falls (inside
//! a batch, at a batch boundary, under a later failure of the step).

use std::path::Path;

use machine::event::Tick;
use machine::{Event, UnixMillis};
use replay::cli::{CliError, LogReplay, ReplayOptions, run_log_with};
use replay::log::BATCH_RECORDS;

use super::support::{entries, offsets, scratch, script_events, write_log};

/// The nonce-poisoning scenario followed by enough ticks to fill several batches.
fn long_events() -> Vec<Event> {
    let mut events = script_events("nonce-poisoning");
    let start = 1_700_000_000_000_u64;
    let ticks = 2 * BATCH_RECORDS as u64 + 500;
    events.extend((0..ticks).map(|i| Event::Tick(Tick { now_ms: UnixMillis(start + 1_000 * i) })));
    events
}

/// What a replay reported, comparable across thread counts.
fn outcome(result: Result<LogReplay, CliError>) -> String {
    match result {
        Ok(replayed) => format!(
            "records {} checkpoints {} state {} failure {:?}",
            replayed.records,
            replayed.checkpoints,
            replayed.state.state_hash(),
            replayed.failure
        ),
        Err(error) => format!("error: {error}"),
    }
}

/// Replays `path` with 1 to 4 threads; all must agree. Returns the outcome.
fn same_for_every_job_count(path: &Path, invariants: bool) -> String {
    let run = |jobs| outcome(run_log_with(path, ReplayOptions { json: false, snapshot: None, invariants, jobs }));
    let first = run(1);
    for jobs in 2..=4 {
        assert_eq!(run(jobs), first, "--jobs {jobs} against --jobs 1");
    }
    first
}

#[test]
fn every_job_count_replays_a_long_log_alike() {
    let dir = scratch("pipeline-whole");
    let path = dir.join("long.seqlog");
    let events = long_events();
    write_log(&path, &events, 97);
    let outcome = same_for_every_job_count(&path, true);
    assert!(outcome.starts_with(&format!("records {} ", events.len())), "{outcome}");
    assert!(outcome.ends_with("failure None"), "{outcome}");
}

#[test]
fn damage_anywhere_gives_the_sequential_readers_error_for_every_job_count() {
    let dir = scratch("pipeline-damage");
    let path = dir.join("long.seqlog");
    let bytes = write_log(&path, &long_events(), 97);
    let starts = offsets(&bytes);
    let damaged = dir.join("damaged.seqlog");
    // Records early, just before and after the first batch boundary, and the very last.
    let picks = [3, BATCH_RECORDS - 1, BATCH_RECORDS, BATCH_RECORDS + 1, starts.len() - 1];
    for record in picks {
        let start = usize::try_from(starts[record]).unwrap();
        // The length word, the sequence number, the event, the stored chain hash.
        let end = starts.get(record + 1).map_or(bytes.len(), |next| usize::try_from(*next).unwrap());
        for at in [start, start + 9, start + 20, end - 1] {
            let mut copy = bytes.clone();
            copy[at] ^= 0x40;
            std::fs::write(&damaged, &copy).unwrap();
            let expected = entries(&copy).1.unwrap_or_else(|| panic!("record {record} byte {at}: damage not detected"));
            let outcome = same_for_every_job_count(&damaged, false);
            assert!(outcome.contains(&expected.to_string()), "record {record} byte {at}: {outcome} vs {expected}");
        }
    }
}

#[test]
fn a_zero_filled_tail_is_a_torn_tail_for_every_job_count() {
    let dir = scratch("pipeline-zeros");
    let path = dir.join("long.seqlog");
    let bytes = write_log(&path, &long_events(), 97);
    // The last record's chain hash and a few bytes before it zeroed: a write cut short on
    // a file system that zero-fills. Its chain does not hold, yet it is a torn tail.
    let mut copy = bytes.clone();
    let len = copy.len();
    copy[len - 40..].fill(0);
    std::fs::write(&path, &copy).unwrap();
    let expected = entries(&copy).1.unwrap();
    assert!(expected.to_string().starts_with("torn tail"), "{expected}");
    let outcome = same_for_every_job_count(&path, false);
    assert!(outcome.contains(&expected.to_string()), "{outcome}");
}

#[test]
fn a_failing_step_before_the_damage_is_reported_first() {
    let dir = scratch("pipeline-order");
    let path = dir.join("long.seqlog");
    let bytes = write_log(&path, &long_events(), 97);
    let starts = offsets(&bytes);
    // A checkpoint whose state hash is wrong, then damage two batches later: the
    // mismatch comes first in record order, so it wins for every job count.
    let (whole, _) = entries(&bytes);
    let checkpoint = whole
        .iter()
        .find_map(|entry| match entry {
            replay::log::Entry::Checkpoint(checkpoint) => Some(*checkpoint),
            replay::log::Entry::Event(_) => None,
        })
        .unwrap();
    let mut copy = bytes.clone();
    let at = usize::try_from(checkpoint.offset).unwrap() + 20;
    copy[at] ^= 0x01;
    // Re-chain from the checkpoint on, so the log itself is whole up to the later damage.
    let mut damaged = rechain(&copy, &starts);
    let late = usize::try_from(starts[2 * BATCH_RECORDS + 10]).unwrap() + 20;
    damaged[late] ^= 0x01;
    std::fs::write(&path, &damaged).unwrap();
    let outcome = same_for_every_job_count(&path, false);
    let expected = format!("record {} at byte {}: checkpoint after", checkpoint.seq, checkpoint.offset);
    assert!(outcome.contains(&expected), "{outcome}");
    assert!(!outcome.starts_with("error:"), "{outcome}");
}

/// `bytes` with every record's chain hash computed again over its (possibly edited) body.
fn rechain(bytes: &[u8], starts: &[u64]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let first = usize::try_from(starts[0]).unwrap();
    let mut previous = [0_u8; 32];
    previous.copy_from_slice(&out[first - 32..first]);
    for (index, start) in starts.iter().enumerate() {
        let start = usize::try_from(*start).unwrap();
        let end = starts.get(index + 1).map_or(out.len(), |next| usize::try_from(*next).unwrap());
        let mut hasher = blake3::Hasher::new();
        hasher.update(&previous);
        hasher.update(&out[start + 8..end - 32]);
        previous = *hasher.finalize().as_bytes();
        out[end - 32..end].copy_from_slice(&previous);
    }
    out
}
