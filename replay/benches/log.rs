//! Log benchmarks (issue 3), on a log of about 10 million events of synthetic operation
//! (`SEQREC_BENCH_EVENTS` overrides the size):
//! (a) replay-and-verify throughput of `seqrec replay` against `b3sum` over the same file
//!     (goal: at least 50% of b3sum's speed);
//! (b) resuming from a snapshot plus a 1% tail against a full replay (goal: 100x faster);
//! (c) append throughput with the default fsync policy (and group commit);
//! (d) peak memory of the full replay (goal: under 256 MiB, independent of log length).

// A benchmark that cannot set itself up stops with the reason; that is its whole job.
#![allow(clippy::expect_used, clippy::panic, clippy::cast_precision_loss, clippy::cast_possible_truncation)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use replay::log::{Entry, FsyncPolicy, Header, LogReader, LogWriter};
use replay::snapshot::Snapshot;

#[path = "../../machine/benches/synthetic.rs"]
mod synthetic;

/// Events in one synthetic day (the `step` bench prints the exact figure), rounded down so
/// the log reaches the goal size.
const EVENTS_PER_DAY: u64 = 300_000;

fn main() {
    let goal: u64 = std::env::var("SEQREC_BENCH_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000_000);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/seqrec-bench");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("bench directory");
    let log = dir.join("big.seqlog");

    // Generation, with group commit (an import runs no effects, so one sync at the end is enough).
    let days = goal.div_ceil(EVENTS_PER_DAY);
    let started = Instant::now();
    let mut writer = LogWriter::create(&log, &Header::new(machine::Hash32::default()), FsyncPolicy::Group(u32::MAX))
        .expect("create");
    // A shadow of the driver's state gives the checkpoints' state hashes (it steps every
    // event a second time, so the recording time below includes that).
    let mut shadow = machine::State::new();
    let summary = synthetic::drive(days, |event, step| {
        writer.append(event, &step.effects).expect("append");
        shadow = machine::step(std::mem::take(&mut shadow), event).0;
        if writer.checkpoint_due() {
            writer.append_checkpoint(shadow.state_hash()).expect("checkpoint");
        }
    });
    writer.sync().expect("sync");
    drop(writer);
    let generated = started.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&log).expect("log").len();
    println!(
        "log: {} events ({days} synthetic days, {} safe heads, {} batches, {} recoveries, gold frontier {}), {:.0} MiB; recorded in {generated:.1} s",
        summary.events,
        summary.blocks,
        summary.sealed,
        summary.cascades,
        summary.frontier,
        bytes as f64 / 1048576.0
    );

    // (c) append throughput.
    append_throughput(&dir);

    // (a) + (d): full replay against b3sum.
    let seqrec = PathBuf::from(env!("CARGO_BIN_EXE_seqrec"));
    let (full_s, peak_kib) = timed_with_peak(&seqrec, &["replay", log.to_str().unwrap_or_default(), "--no-invariants"]);
    let rate = summary.events as f64 / full_s;
    println!(
        "(a) seqrec replay (verify chain + re-execute + compare effects): {full_s:.2} s = {:.2} M events/s, {:.0} MiB/s",
        rate / 1e6,
        bytes as f64 / 1048576.0 / full_s
    );
    match b3sum_seconds(&log) {
        Some(b3) => println!(
            "(a) b3sum over the same file: {b3:.2} s; replay runs at {:.0}% of b3sum's speed (goal >= 50%)",
            100.0 * b3 / full_s
        ),
        None => println!("(a) b3sum not installed: no comparison (apt-get install b3sum)"),
    }
    println!("(d) peak memory of the full replay: {:.1} MiB (goal < 256 MiB)", peak_kib as f64 / 1024.0);

    // (b) snapshot at 99% + 1% tail.
    let snap = dir.join("big.snap");
    write_snapshot(&log, &snap, summary.events - summary.events / 100);
    let (tail_s, _) = timed_with_peak(
        &seqrec,
        &[
            "replay",
            log.to_str().unwrap_or_default(),
            "--snapshot",
            snap.to_str().unwrap_or_default(),
            "--no-invariants",
        ],
    );
    println!(
        "(b) resume from a snapshot + 1% tail: {tail_s:.3} s vs full replay {full_s:.2} s = {:.0}x faster (goal >= 100x)",
        full_s / tail_s
    );

    if std::env::var_os("SEQREC_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn append_throughput(dir: &Path) {
    let mut events = Vec::new();
    synthetic::drive(1, |event, step| {
        if events.len() < 5_000 {
            events.push((event.clone(), step.effects.clone()));
        }
    });
    for (name, policy, count) in
        [("every record (default)", FsyncPolicy::EveryRecord, 2_000), ("group of 64", FsyncPolicy::Group(64), 5_000)]
    {
        let path = dir.join(format!("append-{count}.seqlog"));
        let mut writer = LogWriter::create(&path, &Header::new(machine::Hash32::default()), policy).expect("create");
        let started = Instant::now();
        for (event, effects) in events.iter().take(count) {
            writer.append(event, effects).expect("append");
        }
        writer.sync().expect("sync");
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "(c) append with fsync {name}: {count} records in {seconds:.2} s = {:.0} records/s",
            count as f64 / seconds
        );
    }
}

/// Wall time and peak resident memory (KiB, from GNU time) of a command.
fn timed_with_peak(program: &Path, args: &[&str]) -> (f64, u64) {
    let started = Instant::now();
    let output =
        Command::new("/usr/bin/time").arg("-f").arg("%M").arg(program).args(args).output().expect("run /usr/bin/time");
    let seconds = started.elapsed().as_secs_f64();
    assert!(output.status.success(), "{program:?} {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let peak = stderr.lines().last().and_then(|line| line.trim().parse().ok()).unwrap_or(0);
    (seconds, peak)
}

fn b3sum_seconds(path: &Path) -> Option<f64> {
    let started = Instant::now();
    let status = Command::new("b3sum").arg(path).stdout(std::process::Stdio::null()).status().ok()?;
    status.success().then(|| started.elapsed().as_secs_f64())
}

/// A snapshot at the last checkpoint within the first `records` records, built by
/// replaying them in-process.
fn write_snapshot(log: &Path, snap: &Path, records: u64) {
    let mut reader = LogReader::new(std::io::BufReader::new(std::fs::File::open(log).expect("log"))).expect("header");
    let mut state = machine::State::new();
    let mut last = None;
    for entry in reader.entries() {
        match entry.expect("record") {
            Entry::Event(record) if record.seq < records => state = machine::step(state, &record.event).0,
            Entry::Checkpoint(checkpoint) if checkpoint.seq < records => last = Some((checkpoint, state.clone())),
            _ => break,
        }
    }
    let (checkpoint, state) = last.expect("a checkpoint");
    Snapshot::at_checkpoint(&checkpoint, state).expect("state").write(snap).expect("snapshot");
}
