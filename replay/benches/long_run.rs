//! A node that runs for a year (issue 10, "How it must be shown"): logs of 1 day, 4 days
//! and a year (`SEQREC_BENCH_DAYS` overrides the long one's length) of synthetic
//! production cadence (`synthetic.rs`: 7,200 safe heads and about 1,000 seals a day, one
//! every ~86 s, ~300,000 events a day), recorded with checkpoints every
//! `CHECKPOINT_EVERY` records and a final one, as `run` leaves a log at exit.
//!
//! The logs are cached outside the repository, in `$SEQREC_BENCH_CACHE` or
//! `$HOME/.cache/seqrec-bench`, under names keyed by the log format version and a hash of
//! the generator and of this build's behaviour on it (the state hash and effects of the
//! first synthetic day): a build that would record other bytes regenerates them, and
//! stale files of another key are removed. A file is used only if its `.meta` (written
//! after the log was synced) says so and the sizes agree.
//!
//! Measured: default `seqrec replay` (the release binary, invariants on, as a child) wall
//! time and peak RSS; the 4-day/1-day ratio; the year's time; replay events/s against
//! `step` alone in the same run, for the default (`--jobs 2`) and `--jobs 1`; `run`'s restart
//! (`replay::resume::resume`, the library call `seqrec run` makes) with a snapshot one
//! default snapshot interval (100,000 records) before the end and with one at the very
//! end; the state's size after the long log; `seqrec simulate` of a quiet mainnet
//! scenario of 1 and 7 days.

// A benchmark that cannot set itself up stops with the reason; that is its whole job.
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use machine::{Hash32, State};
use replay::log::{
    CHECKPOINT_EVERY, Checkpoint, FORMAT_VERSION, FsyncPolicy, Header, LogLock, LogWriter, SegmentWriter, effects_json,
};
use replay::snapshot::Snapshot;
use replay::snapshot_dir::{SnapshotDir, default_dir, file_name};

#[path = "../../machine/benches/synthetic.rs"]
mod synthetic;

/// The long log's default length.
const YEAR_DAYS: u64 = 365;
/// The largest long log the bench writes; beyond it, fewer days are measured and the year
/// is extrapolated.
const MAX_LOG_BYTES: u64 = 25 << 30;
/// Free space left on the cache's file system after the long log.
const SPARE_BYTES: u64 = 4 << 30;
/// The longest generation the bench accepts for the long log (seconds).
const MAX_GENERATION_S: f64 = 1_800.0;
/// `seqrec run`'s default `--snapshot-every-records`: the longest tail a restart steps
/// when snapshots are taken by count.
const RUN_SNAPSHOT_EVERY: u64 = 100_000;
const MIB: f64 = 1_048_576.0;
/// Bumped by hand when [`generate`] writes other files (part of the cache key).
const GENERATOR_VERSION: u32 = 2;

fn main() {
    let cache = cache_dir();
    std::fs::create_dir_all(&cache).expect("cache directory");
    let seqrec = PathBuf::from(env!("CARGO_BIN_EXE_seqrec"));
    println!("machine load (1, 5, 15 min) at start: {}", load_average());

    // `step` alone over one synthetic day, and this build's fingerprint on it.
    let (step_rate, fingerprint) = step_alone();
    let key = cache_key(&fingerprint);
    remove_stale(&cache, &key);
    println!("cache: {} (key v{FORMAT_VERSION}-{key}; reused when present and valid)", cache.display());

    let day = ensure_log(&cache, &key, 1);
    let four = ensure_log(&cache, &key, 4);
    let requested: u64 =
        std::env::var("SEQREC_BENCH_DAYS").ok().and_then(|v| v.parse().ok()).filter(|&d| d > 0).unwrap_or(YEAR_DAYS);
    let long_days = feasible_days(&cache, &key, requested, &four);
    let long = ensure_log(&cache, &key, long_days);
    for log in [&day, &four, &long] {
        println!(
            "log {:>3} days: {} events, {} checkpoints, {} safe heads, {} batches, {} recoveries, gold frontier {}, {:.0} MiB; {}",
            log.days,
            log.events,
            log.checkpoints,
            log.blocks,
            log.sealed,
            log.cascades,
            log.frontier,
            log.bytes as f64 / MIB,
            log.origin
        );
    }

    println!("step alone (in-process, one thread): {:.2} M events/s, best of 10 runs over one day", step_rate / 1e6);

    // Default replay, invariants on.
    println!("seqrec replay LOG (default: invariants on; release binary as a child; wall time, peak RSS):");
    let mut times = Vec::new();
    for log in [&day, &four, &long] {
        let rounds = if log.days > 4 { 1 } else { 3 };
        let run = timed_best(&seqrec, &["replay", path_str(&log.path)], rounds);
        println!(
            "  {:>3} days: {:.2} s{} = {:.2} M events/s, peak RSS {:.1} MiB",
            log.days,
            run.seconds,
            if rounds > 1 { " (best of 3)" } else { "" },
            log.events as f64 / run.seconds / 1e6,
            run.peak_kib as f64 / 1024.0
        );
        times.push(run.seconds);
    }
    let ratio = times[1] / times[0];
    println!("  ratio 4 days / 1 day: {ratio:.2} (goal <= 5; linear is 4) {}", verdict(ratio <= 5.0));
    let year_s = times[2] * YEAR_DAYS as f64 / long_days as f64;
    if long_days == YEAR_DAYS {
        println!("  the year: {year_s:.1} s (goal < 120 s) {}", verdict(year_s < 120.0));
    } else {
        println!(
            "  the year, EXTRAPOLATED linearly from {long_days} days: {year_s:.1} s (goal < 120 s) {}",
            verdict(year_s < 120.0)
        );
    }
    // The default is two threads (`--jobs 2`); the one-thread figure is `--jobs 1`, on the
    // 4-day log (the per-record cost is flat, as the ratio above shows).
    let default_share = long.events as f64 / times[2] / step_rate;
    println!(
        "  default replay (--jobs 2) at {:.2} M events/s = {:.0}% of step alone (goal >= 80% with --jobs 2) {}",
        long.events as f64 / times[2] / 1e6,
        100.0 * default_share,
        verdict(default_share >= 0.8)
    );
    let one = timed_best(&seqrec, &["replay", "--jobs", "1", path_str(&four.path)], 3);
    let one_share = four.events as f64 / one.seconds / step_rate;
    println!(
        "  --jobs 1 on 4 days: {:.2} s (best of 3) = {:.2} M events/s = {:.0}% of step alone (goal >= 50% on one thread) {}",
        one.seconds,
        four.events as f64 / one.seconds / 1e6,
        100.0 * one_share,
        verdict(one_share >= 0.5)
    );

    segments_in_parallel(&seqrec, &cache, &key, step_rate);

    restart(&seqrec, &long);

    // The state after the long log: the snapshot `run` would write at its end.
    let snapshot_bytes = std::fs::metadata(snapshot_file(&long.path, "end")).expect("snapshot").len();
    println!(
        "state after {} days: snapshot file {snapshot_bytes} bytes = {:.1} KiB (goal < 1 MiB) {}",
        long.days,
        snapshot_bytes as f64 / 1024.0,
        verdict(snapshot_bytes < 1 << 20)
    );

    simulate(&seqrec, &cache);
    println!("machine load (1, 5, 15 min) at end: {}", load_average());
}

/// The segment size of the segmented 4-day log: about a dozen segments.
const BENCH_SEGMENT_BYTES: u64 = 16 << 20;

/// `seqrec replay --jobs N DIR` of the 4 synthetic days as a segment directory with
/// `run`'s segment-start snapshots: the parts verified in parallel (`cli/parts.rs`).
fn segments_in_parallel(seqrec: &Path, cache: &Path, key: &str, step_rate: f64) {
    let dir = cache.join(format!("days4-{key}.seqdir"));
    let (segments, events) = generate_segments(&dir, 4);
    println!(
        "seqrec replay --jobs N DIR, the 4 days as {segments} segments of ~{} MiB with their start snapshots (parts verified in parallel):",
        BENCH_SEGMENT_BYTES >> 20
    );
    for (jobs, goal) in [("1", 0.5), ("2", 0.8)] {
        let run = timed_best(seqrec, &["replay", "--jobs", jobs, path_str(&dir)], 3);
        let share = events as f64 / run.seconds / step_rate;
        println!(
            "  --jobs {jobs}: {:.2} s (best of 3) = {:.2} M events/s = {:.0}% of step alone (goal >= {:.0}%) {}, peak RSS {:.1} MiB",
            run.seconds,
            events as f64 / run.seconds / 1e6,
            100.0 * share,
            100.0 * goal,
            verdict(share >= goal),
            run.peak_kib as f64 / 1024.0
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(default_dir(&dir));
}

/// Records `days` synthetic days into the segment directory `dir` as `run --log DIR/`
/// does (a checkpoint every `CHECKPOINT_EVERY` records, rotation at a checkpoint past
/// [`BENCH_SEGMENT_BYTES`], a snapshot at each segment's start); returns the segments
/// and events written.
fn generate_segments(dir: &Path, days: u64) -> (usize, u64) {
    let _ = std::fs::remove_dir_all(dir);
    let snapshots = default_dir(dir);
    let _ = std::fs::remove_dir_all(&snapshots);
    std::fs::create_dir_all(&snapshots).expect("snapshot directory");
    let header = Header::new(Hash32::default());
    let mut writer = SegmentWriter::open(dir, &header, FsyncPolicy::Group(1 << 16), BENCH_SEGMENT_BYTES, None, |_| {})
        .expect("segment directory");
    let (mut shadow, mut segments) = (State::new(), 1);
    let summary = synthetic::drive(days, |event, step| {
        writer.append(event, &step.effects).expect("append");
        shadow = machine::step(std::mem::take(&mut shadow), event).0;
        if writer.current().checkpoint_due() {
            let checkpoint = writer.checkpoint_record(shadow.state_hash()).expect("checkpoint");
            if writer.rotated_at(checkpoint.seq) {
                segments += 1;
                let snap = Snapshot::at_checkpoint(&checkpoint, shadow.clone()).expect("snapshot");
                snap.write(&snapshots.join(file_name(checkpoint.seq + 1))).expect("write snapshot");
            }
        }
    });
    writer.checkpoint_record(shadow.state_hash()).expect("final checkpoint");
    writer.sync().expect("sync");
    (segments, summary.events)
}

/// A generated log and what its generation recorded.
struct Log {
    path: PathBuf,
    days: u64,
    events: u64,
    blocks: u64,
    frontier: u64,
    checkpoints: u64,
    sealed: u64,
    cascades: u64,
    bytes: u64,
    generation_s: f64,
    origin: String,
}

fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SEQREC_BENCH_CACHE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map_or_else(std::env::temp_dir, PathBuf::from);
    home.join(".cache/seqrec-bench")
}

/// `step` alone over one synthetic day held in memory (best of 10), and a fingerprint of
/// this build's behaviour on it: the final state hash and every step's effects JSON.
fn step_alone() -> (f64, blake3::Hash) {
    let mut events = Vec::new();
    let mut fingerprint = blake3::Hasher::new();
    let mut state = State::new();
    synthetic::drive(1, |event, step| {
        events.push(event.clone());
        fingerprint.update(&effects_json(&step.effects));
        state = machine::step(std::mem::take(&mut state), event).0;
    });
    fingerprint.update(&state.state_hash().0);
    let mut best = f64::MAX;
    for _ in 0..10 {
        let started = Instant::now();
        let mut state = State::new();
        for event in &events {
            let (next, stepped) = machine::step(state, std::hint::black_box(event));
            std::hint::black_box(&stepped);
            state = next;
        }
        std::hint::black_box(&state);
        best = best.min(started.elapsed().as_secs_f64());
    }
    (events.len() as f64 / best, fingerprint.finalize())
}

/// The cache key: the generator's source, the checkpoint interval, the snapshot version
/// and state layout (the cached snapshots must be readable) and this build's fingerprint
/// (the format version is in the file names besides).
fn cache_key(fingerprint: &blake3::Hash) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(include_str!("../../machine/benches/synthetic.rs").as_bytes());
    hasher.update(&GENERATOR_VERSION.to_le_bytes());
    hasher.update(&CHECKPOINT_EVERY.to_le_bytes());
    hasher.update(&FORMAT_VERSION.to_le_bytes());
    hasher.update(&replay::snapshot::SNAPSHOT_VERSION.to_le_bytes());
    hasher.update(&machine::STATE_LAYOUT.to_le_bytes());
    hasher.update(fingerprint.as_bytes());
    hasher.finalize().to_hex()[..16].to_owned()
}

fn log_path(cache: &Path, key: &str, days: u64) -> PathBuf {
    cache.join(format!("days{days}-v{FORMAT_VERSION}-{key}.seqlog"))
}

/// Removes logs, snapshots and metadata of other keys (a stale year is ~13 GiB).
fn remove_stale(cache: &Path, key: &str) {
    let Ok(entries) = std::fs::read_dir(cache) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("days") && !name.contains(key) {
            let path = entry.path();
            let removed = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
            if removed.is_ok() {
                println!("removed stale cache entry {name}");
            }
        }
    }
}

fn snapshot_dir(log: &Path, which: &str) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(format!(".snap-{which}"));
    PathBuf::from(name)
}

fn snapshot_file(log: &Path, which: &str) -> PathBuf {
    let dir = snapshot_dir(log, which);
    std::fs::read_dir(&dir)
        .expect("snapshot directory")
        .flatten()
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|ext| ext == "snap"))
        .expect("a snapshot")
}

fn meta_path(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".meta");
    PathBuf::from(name)
}

/// The long log's length: `requested` days unless that would exceed `MAX_LOG_BYTES`, the
/// free space or `MAX_GENERATION_S` (estimated from the 4-day log), then as many as fit.
fn feasible_days(cache: &Path, key: &str, requested: u64, four: &Log) -> u64 {
    let path = log_path(cache, key, requested);
    if read_meta(&path, requested).is_some() {
        return requested;
    }
    let per_day = four.bytes / four.days;
    let available = free_bytes(cache).saturating_sub(SPARE_BYTES);
    let by_space = MAX_LOG_BYTES.min(available) / per_day.max(1);
    let by_time = if four.generation_s > 0.0 {
        (MAX_GENERATION_S / (four.generation_s / four.days as f64)) as u64
    } else {
        u64::MAX
    };
    let days = requested.min(by_space).min(by_time).max(4);
    println!(
        "long log: {requested} days requested, ~{:.1} GiB and ~{:.0} s to generate estimated from the 4-day log; {} GiB free",
        (per_day * requested) as f64 / (1u64 << 30) as f64,
        four.generation_s / four.days as f64 * requested as f64,
        free_bytes(cache) >> 30
    );
    if days < requested {
        println!("long log: measuring {days} days instead (space or time bound); the year is extrapolated below");
    }
    days
}

fn free_bytes(dir: &Path) -> u64 {
    Command::new("df")
        .args(["-B1", "--output=avail"])
        .arg(dir)
        .output()
        .ok()
        .and_then(|out| String::from_utf8_lossy(&out.stdout).lines().nth(1).and_then(|l| l.trim().parse().ok()))
        .unwrap_or(0)
}

/// The cached log of `days` days, generated first if missing or not valid.
fn ensure_log(cache: &Path, key: &str, days: u64) -> Log {
    let path = log_path(cache, key, days);
    if let Some(log) = read_meta(&path, days) {
        return log;
    }
    for which in ["end", "tail"] {
        let _ = std::fs::remove_dir_all(snapshot_dir(&path, which));
    }
    let _ = std::fs::remove_file(meta_path(&path));
    let _ = std::fs::remove_file(&path);
    generate(&path, days)
}

/// Records `days` synthetic days with a checkpoint every `CHECKPOINT_EVERY` records and a
/// final one, a snapshot at the final checkpoint (`.snap-end`) and one at the last
/// checkpoint at least `RUN_SNAPSHOT_EVERY` records before it (`.snap-tail`); the
/// `.meta` file, written last, makes them valid.
fn generate(path: &Path, days: u64) -> Log {
    eprintln!("generating {days} synthetic days into {}", path.display());
    let started = Instant::now();
    // Group commit (an import runs no effects); the writer buffers a group in memory, so
    // groups of 65,536 records (~9 MiB), not one group for the whole year.
    let mut writer =
        LogWriter::create(path, &Header::new(Hash32::default()), FsyncPolicy::Group(1 << 16)).expect("create");
    // A shadow of the driver's state gives the checkpoints' state hashes; the states at
    // the checkpoints of the last `RUN_SNAPSHOT_EVERY` records are kept for the tail snapshot.
    let mut shadow = State::new();
    let mut checkpoints = 0;
    let mut recent: std::collections::VecDeque<(Checkpoint, State)> = std::collections::VecDeque::new();
    let summary = synthetic::drive(days, |event, step| {
        writer.append(event, &step.effects).expect("append");
        shadow = machine::step(std::mem::take(&mut shadow), event).0;
        if writer.checkpoint_due() {
            let checkpoint = writer.checkpoint_record(shadow.state_hash()).expect("checkpoint");
            checkpoints += 1;
            recent.push_back((checkpoint, shadow.clone()));
            while recent.get(1).is_some_and(|(next, _)| next.events + RUN_SNAPSHOT_EVERY <= checkpoint.events) {
                recent.pop_front();
            }
        }
    });
    let last = writer.checkpoint_record(shadow.state_hash()).expect("final checkpoint");
    writer.sync().expect("sync");
    drop(writer);
    let generation_s = started.elapsed().as_secs_f64();
    let end = Snapshot::at_checkpoint(&last, shadow).expect("end snapshot");
    SnapshotDir::new(snapshot_dir(path, "end"), 1).write(&end).expect("write end snapshot");
    if let Some((checkpoint, state)) =
        recent.into_iter().rev().find(|(c, _)| c.events + RUN_SNAPSHOT_EVERY <= last.events)
    {
        let snap = Snapshot::at_checkpoint(&checkpoint, state).expect("tail snapshot");
        SnapshotDir::new(snapshot_dir(path, "tail"), 1).write(&snap).expect("write tail snapshot");
    }
    let bytes = std::fs::metadata(path).expect("log").len();
    let meta = format!(
        "days={days}\nevents={}\nblocks={}\nfrontier={}\ncheckpoints={}\nsealed={}\ncascades={}\nbytes={bytes}\ngeneration_s={generation_s:.3}\n",
        summary.events,
        summary.blocks,
        summary.frontier.0,
        checkpoints + 1,
        summary.sealed,
        summary.cascades,
    );
    std::fs::write(meta_path(path), meta).expect("meta");
    read_meta(path, days)
        .map(|log| Log { origin: format!("generated now in {generation_s:.1} s"), ..log })
        .expect("the meta just written")
}

/// The log described by its `.meta`, if the file is there whole.
fn read_meta(path: &Path, days: u64) -> Option<Log> {
    let meta = std::fs::read_to_string(meta_path(path)).ok()?;
    let field = |name: &str| {
        meta.lines().find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')).map(str::to_owned))
    };
    let number = |name: &str| field(name).and_then(|value| value.parse::<u64>().ok());
    let bytes = number("bytes")?;
    if std::fs::metadata(path).ok()?.len() != bytes || number("days")? != days {
        return None;
    }
    std::fs::metadata(snapshot_dir(path, "end")).ok()?;
    let generation_s = field("generation_s").and_then(|value| value.parse().ok()).unwrap_or(0.0);
    Some(Log {
        path: path.to_owned(),
        days,
        events: number("events")?,
        blocks: number("blocks")?,
        frontier: number("frontier")?,
        checkpoints: number("checkpoints")?,
        sealed: number("sealed")?,
        cascades: number("cascades")?,
        bytes,
        generation_s,
        origin: format!("reused from the cache (generated in {generation_s:.1} s)"),
    })
}

/// `seqrec run`'s restart against the long log, through `replay::resume::resume` (the
/// call `run` makes at boot: the newest valid snapshot, then the tail read once), and the
/// same through `seqrec replay --snapshot DIR LOG` as a child.
fn restart(seqrec: &Path, long: &Log) {
    println!(
        "seqrec run restart against the {}-day log (replay::resume::resume in-process, as run boots; best of 5, page cache warm):",
        long.days
    );
    for (which, what, goal_ms) in [
        ("tail", format!("snapshot {RUN_SNAPSHOT_EVERY} records (run's default interval) before the end"), 1_000.0),
        ("end", "snapshot at the end, zero tail (the fixed cost)".to_owned(), 5.0),
    ] {
        let dir = snapshot_dir(&long.path, which);
        if !dir.is_dir() {
            println!("  {what}: no such snapshot (log shorter than the interval)");
            continue;
        }
        let mut best = f64::MAX;
        let mut stepped = 0;
        for _ in 0..5 {
            let started = Instant::now();
            let lock = LogLock::acquire(&long.path).expect("lock");
            let resumed =
                replay::resume::resume(lock, &Header::new(Hash32::default()), FsyncPolicy::Group(u32::MAX), Some(&dir))
                    .expect("resume");
            let seconds = started.elapsed().as_secs_f64();
            assert!(resumed.snapshot.is_some(), "the snapshot was skipped: {:?}", resumed.skipped);
            stepped = resumed.stepped;
            drop(resumed);
            best = best.min(seconds);
        }
        let ms = best * 1e3;
        println!("  {what}: {ms:.2} ms, {stepped} records stepped (goal < {goal_ms:.0} ms) {}", verdict(ms < goal_ms));
        let run = timed(seqrec, &["replay", "--snapshot", path_str(&dir), path_str(&long.path)]);
        println!(
            "    as `seqrec replay --snapshot DIR LOG` (child, process start and invariants included): {:.1} ms, peak RSS {:.1} MiB",
            run.seconds * 1e3,
            run.peak_kib as f64 / 1024.0
        );
    }
}

/// `seqrec simulate` of a quiet scenario (the demo's mainnet config, a seal every 84 s,
/// no faults) for 1 and 7 days, from scenario files written to the cache.
fn simulate(seqrec: &Path, cache: &Path) {
    println!(
        "seqrec simulate, quiet scenario (mainnet config: max wait 1200, margin 300; a seal every 84 s; no faults):"
    );
    let mut runs = Vec::new();
    for days in [1, 7] {
        let base = effects::sim::scenario::by_name("demo").expect("the demo scenario");
        let scenario = effects::sim::scenario::Scenario {
            name: format!("quiet-{days}d"),
            description: format!("{days} days of quiet operation at mainnet parameters"),
            faults: Vec::new(),
            run_ms: days * 86_400_000,
            expect: effects::sim::scenario::Expect::default(),
            ..base
        };
        let file = cache.join(format!("quiet-{days}d.json"));
        std::fs::write(&file, serde_json::to_vec_pretty(&scenario).expect("scenario json")).expect("scenario file");
        let run = timed_best(seqrec, &["simulate", "--scenario", path_str(&file)], 3);
        println!("  {days} day(s): {:.2} s (best of 3), peak RSS {:.1} MiB", run.seconds, run.peak_kib as f64 / 1024.0);
        runs.push(run);
    }
    let time_ratio = runs[1].seconds / runs[0].seconds;
    let memory_ratio = runs[1].peak_kib as f64 / runs[0].peak_kib.max(1) as f64;
    println!(
        "  ratio 7 days / 1 day: time {time_ratio:.2} (linear is 7) {}, peak RSS {memory_ratio:.2} (bounded is ~1) {}",
        verdict(time_ratio <= 8.5),
        verdict(memory_ratio <= 1.5)
    );
}

struct Timed {
    seconds: f64,
    peak_kib: u64,
}

/// The best wall time of `rounds` runs of a child, and the highest peak RSS.
fn timed_best(program: &Path, args: &[&str], rounds: u32) -> Timed {
    let runs: Vec<Timed> = (0..rounds).map(|_| timed(program, args)).collect();
    Timed {
        seconds: runs.iter().map(|run| run.seconds).fold(f64::MAX, f64::min),
        peak_kib: runs.iter().map(|run| run.peak_kib).max().unwrap_or(0),
    }
}

/// Wall time and peak RSS (KiB, from GNU time's `%M`) of a child; its output is discarded.
fn timed(program: &Path, args: &[&str]) -> Timed {
    let started = Instant::now();
    let output = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg(program)
        .args(args)
        .stdout(Stdio::null())
        .output()
        .expect("run /usr/bin/time");
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{program:?} {args:?} failed: {stderr}");
    let peak_kib = stderr.lines().last().and_then(|line| line.trim().parse().ok()).unwrap_or(0);
    Timed { seconds, peak_kib }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|load| load.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}
