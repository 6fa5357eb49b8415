//! The `seqrec` subcommands. Each returns an [`Outcome`] or a [`CliError`]; only
//! `main` turns them into exit codes (0 ok, 1 verification failed, 2 bad input).

mod convert;
mod diff;
mod input;
mod inspect;
mod maintain;
mod parts;
mod projection;
mod recorder;
mod repair_dir;
mod run;
mod simulate;
mod sweep;
mod verify;

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

pub use convert::record;
pub use input::{Loaded, load, run_script};
pub use projection::SealError;
pub use run::redact_keys;
pub use verify::{LogReplay, ReplayOptions, run_log, run_log_with};

use crate::log::LogError;
use crate::script::ScriptError;
use crate::snapshot::SnapshotError;

const AFTER_HELP: &str = "\
Inputs: every command that reads events takes a binary log (*.seqlog) or an event
script (*.jsonl, the JSON-lines format of docs/protocol.md §10); the kind is told by
the log's magic bytes, not the file name. docs/operations.md covers running live.

Examples:
  seqrec demo
  seqrec simulate --scenario congestion --seed 7 --log /tmp/congestion.seqlog
  seqrec simulate --seed 42 --crash-points all
  seqrec sweep --seeds 1000
  seqrec trace fixtures/scripts/happy-path.jsonl
  seqrec import fixtures/scripts/nonce-poisoning.jsonl -o /tmp/np.seqlog
  seqrec replay /tmp/np.seqlog
  seqrec snapshot /tmp/np.seqlog -o /tmp/np.snap && seqrec replay /tmp/np.seqlog --snapshot /tmp/np.snap
  seqrec audit /tmp/np.seqlog --at 20
  seqrec audit /tmp/np.seqlog --svg /tmp/np.svg
  seqrec audit /tmp/np.seqlog --since 2023-11-14T22:15:00Z --until block:40
  seqrec diff /tmp/np.seqlog fixtures/logs/nonce-poisoning.seqlog
  seqrec export /tmp/np.seqlog -o /tmp/np.jsonl
  seqrec repair /tmp/np.seqlog

Exit codes:
  0  ok
  1  verification failed: a replay or diff found a divergence, an invariant of
     docs/protocol.md §9 broke, or a `# check:` comment of a script does not hold
  2  bad input: unreadable, corrupt or truncated file, unknown format version, invalid
     script; the message names the file, the line or byte offset, and what was expected";

/// seqrec: deterministic stale-batch recovery for rollup sequencers.
#[derive(Debug, Parser)]
#[command(name = "seqrec", version, after_help = AFTER_HELP)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate the congestion incident at mainnet parameters on the deterministic
    /// simulated L1, record and verify the log, print the timeline, draw the picture.
    Demo {
        /// Keep the recorded log here, replacing any file there (default: a temporary
        /// file, removed afterwards).
        #[arg(long)]
        log: Option<PathBuf>,
        /// Write the incident picture here (default: seqrec-demo.svg in the current directory,
        /// replacing any file there; the output names the full path).
        #[arg(long)]
        svg: Option<PathBuf>,
    },
    /// Run live against an Ethereum node: the SQLite projection, the replay log, the
    /// signing key from --key-file or SEQREC_KEY. Exits with the core's status: 0 clean
    /// shutdown, 10 recovery required, 20 retry, 30 refuse, 78 config invalid.
    Run(Box<run::RunArgs>),
    /// Run a scenario on the deterministic simulated L1 with world checks after every step.
    Simulate {
        /// A built-in scenario name or a scenario JSON file; omitted: a random fault
        /// schedule drawn from the seed.
        #[arg(long)]
        scenario: Option<String>,
        /// The seed (the same seed gives the same run, bit for bit).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// `all`: inject crashes at every kind of crash point (before the log append,
        /// between append and effects, between an effect and its outcome).
        #[arg(long, value_parser = ["all", "none"], default_value = "none")]
        crash_points: String,
        /// Write the recorded log here (replacing any file there).
        #[arg(long)]
        log: Option<PathBuf>,
        /// Write the run's SQLite projection here (every `db` effect, applied in order).
        #[arg(long)]
        db: Option<PathBuf>,
    },
    /// Print the trace (stable text, what snapshots store; `--json`: one object per step).
    Trace {
        /// A log or an event script.
        input: PathBuf,
        /// One JSON object per step instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Verify: a log's hash chain and every step's effects against this build's
    /// re-execution; a script's invariants, determinism and `# check:` comments.
    Replay {
        /// A log or an event script.
        input: PathBuf,
        /// Print the trace as one JSON object per step.
        #[arg(long)]
        json: bool,
        /// Start from this snapshot of the log and replay only the tail; given a
        /// directory, the newest snapshot in it that validates and that a checkpoint of
        /// the log vouches for (others are skipped and named; none means a full replay).
        #[arg(long)]
        snapshot: Option<PathBuf>,
        /// Skip the invariant checks of docs/protocol.md §9 after each step (faster on long logs).
        #[arg(long)]
        no_invariants: bool,
        /// Threads for a log: 1 reads, verifies and steps on one thread; 2 (the default)
        /// reads, checks the hash chain and decodes on a second thread while the first
        /// steps; N > 2 checks the hash chain and decodes on N − 2 threads. For a
        /// segment directory whose segment-start snapshots `run` kept (in
        /// `DIR.snapshots`), N ≥ 2 verifies the segments in parallel instead, each part
        /// from its start snapshot, each part's end checked against the next one's start.
        /// The result and every message are the same for any N. Ignored for a script.
        #[arg(long, default_value_t = crate::log::DEFAULT_JOBS, value_parser = clap::value_parser!(u16).range(1..=256))]
        jobs: u16,
    },
    /// Print the decisions with their reasons, sends with bids and transaction hashes,
    /// failed sends and reads, holds and boots (with config changes), each keyed by UTC time
    /// and L1 safe head; or the state after a step as JSON.
    Audit {
        /// A log or an event script.
        input: PathBuf,
        /// Print the state after this step (sequence number) as JSON.
        #[arg(long)]
        at: Option<u64>,
        /// Also draw the incident (safe head, batch age against the thresholds, exits,
        /// flushes, cascades, recovery batches) as an SVG picture to this file.
        #[arg(long)]
        svg: Option<PathBuf>,
        /// The rows as JSON lines (`time`, `now_ms`, `safe_block`, `seq`, `what`, `why`, and
        /// the fields of what the row records: `decision`, `danger`, `exit`, `tx_hash`, …).
        #[arg(long)]
        json: bool,
        /// List only rows at or after this UTC time (RFC 3339, e.g. 2026-12-07T01:02:03Z)
        /// or L1 safe head (`block:N`); rows before the first clock reading or sync count
        /// as earlier than any bound.
        #[arg(long, conflicts_with = "at")]
        since: Option<String>,
        /// List only rows at or before this UTC time or L1 safe head (as `--since`).
        #[arg(long, conflicts_with = "at")]
        until: Option<String>,
    },
    /// Run an event script through the core and record it as a log.
    Import {
        /// The event script.
        script: PathBuf,
        /// The log to create (must not exist).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Write a log's events as an event script (lossless: importing it gives the same log).
    Export {
        /// The log.
        log: PathBuf,
        /// The script to write (`-` for standard output).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Find the first step where two inputs diverge, or (one input) where a log and this
    /// build's replay of it diverge; prints both effect lists.
    Diff {
        /// A log or an event script.
        a: PathBuf,
        /// Another log or event script; omitted: compare `a` with this build's replay.
        b: Option<PathBuf>,
        /// The result as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// List the built-in simulator scenarios: name, tab, what it shows.
    Scenarios,
    /// Simulate many random seeds (random fault schedules, crash points) on every core;
    /// stops at the first failure and prints the command that reproduces it.
    Sweep {
        /// How many seeds.
        #[arg(long, default_value_t = 200)]
        seeds: u64,
        /// The first seed.
        #[arg(long, default_value_t = 0)]
        from: u64,
    },
    /// Explore every interleaving of a small abstract L1 world against the real core, breadth
    /// first, deduplicated by state hash, with the invariants after every step; on a
    /// violation print the shortest counterexample as an event script and exit 1.
    Check {
        /// Moves from the empty world (each answer, loss, failure, tick, block, seal or boot).
        #[arg(long, default_value_t = crate::check::DEFAULT_DEPTH)]
        depth: u32,
        /// Seals the inclusion lane makes.
        #[arg(long, default_value_t = 2)]
        batches: u32,
        /// Crashes (boots of a live process).
        #[arg(long, default_value_t = 1)]
        crashes: u32,
        /// Answers lost or failed.
        #[arg(long, default_value_t = 1)]
        faults: u32,
        /// Blocks above the safe head at most (0: every block is safe when mined).
        #[arg(long, default_value_t = 1)]
        unsafe_blocks: u64,
        /// Stop after this many distinct states (a memory guard).
        #[arg(long, default_value_t = 20_000_000)]
        max_states: u64,
        /// World features besides lost and failed answers, comma-separated: `zombies`,
        /// `repeats`, `foreign`, `clock-back`, `db-failures`, `direct`; or `all` or `none`.
        #[arg(long, default_value = "all")]
        features: String,
        /// From every state, the fault-free completion must settle within this many moves
        /// (no stuck state, no livelock); 0 turns the check off.
        #[arg(long, default_value_t = crate::check::SETTLE_WITHIN)]
        settle_within: u32,
        /// Instead of a violation, look for the shortest script reaching a situation:
        /// `closed`, `bronze`, `silver`, `gold`, `cascade` or `divergence` (what the scope
        /// covers; a violation met first still fails the check).
        #[arg(long)]
        witness: Option<String>,
        /// Print the figures as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Queue a sealed payload in the SQLite projection's seal queue (what the inclusion lane
    /// does; its table is in docs/operations.md). The flag names the encoding, the value
    /// the source: `--payload` is always hex, `--payload-file` always raw bytes, and `-`
    /// reads either from standard input.
    #[command(group = clap::ArgGroup::new("source").required(true).args(["payload", "payload_file"]))]
    Seal {
        /// The projection database.
        #[arg(long)]
        db: PathBuf,
        /// The payload as 0x-prefixed hex, or `-`: the hex from standard input (surrounding
        /// whitespace ignored). A command-line argument is capped at 128 KiB by Linux, so a
        /// payload over ~64 KiB needs `-` or `--payload-file`.
        #[arg(long)]
        payload: Option<String>,
        /// A file holding the payload as raw bytes, exactly (no decoding, nothing trimmed),
        /// or `-`: the raw bytes from standard input.
        #[arg(long)]
        payload_file: Option<PathBuf>,
        /// Refuse a payload whose batch (the 25-byte wire header plus the payload) exceeds
        /// this: give the `--max-batch-bytes` that `seqrec run` uses.
        #[arg(long, default_value_t = machine::DEFAULT_MAX_BATCH_BYTES)]
        max_batch_bytes: u64,
    },
    /// Shrink a log or script to a minimal script that still shows a property (delta
    /// debugging: chunks, then single events, then payloads), ready to become a fixture.
    Shrink {
        /// A log or an event script.
        input: PathBuf,
        /// What must still show: `violation`, `trace:TEXT`, `danger:NAME`,
        /// `decision:NAME` or `exit:CODE`.
        #[arg(long, required_unless_present = "other_build")]
        until: Option<String>,
        /// Instead: the script must still trace differently with this other `seqrec`
        /// binary (a divergence between builds).
        #[arg(long, conflicts_with = "until")]
        other_build: Option<PathBuf>,
        /// Write the script here (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Re-decide a recorded incident under a changed config: both runs' dangers,
    /// decisions and exits side by side along the recorded facts, the first decision
    /// that differs, and from which step the comparison is counterfactual.
    Whatif {
        /// A log or an event script.
        input: PathBuf,
        /// A tuning setting and its new value, e.g. `preemptive_margin_blocks=600`
        /// (`none` for the default); repeatable.
        #[arg(long = "set", value_name = "KEY=VALUE", required = true)]
        set: Vec<String>,
        /// Also list the rows after the step from which the comparison is counterfactual.
        #[arg(long)]
        all: bool,
        /// Draw both runs' oldest-batch age against both thresholds into this SVG file.
        #[arg(long)]
        svg: Option<PathBuf>,
    },
    /// Pause submissions of the `seqrec run` using this projection: no batch is sent for
    /// the first time until `resume`; the detector, re-pricing of sends already made and a
    /// restart's flush go on. Recorded in the log as a `pause` event.
    Pause {
        /// The projection database.
        #[arg(long)]
        db: PathBuf,
        /// Why (recorded in the log and shown by `status` and `audit`).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Resume submissions paused by `seqrec pause`.
    Resume {
        /// The projection database.
        #[arg(long)]
        db: PathBuf,
    },
    /// Print the SQLite projection: tree, generation, watermark, divergence; with `--log`,
    /// also colors, gold frontier and danger, which the core derives.
    Status {
        /// The projection database.
        #[arg(long)]
        db: PathBuf,
        /// The replay log of the same deployment.
        #[arg(long)]
        log: Option<PathBuf>,
    },
    /// Truncate a torn tail to the last whole record, or remove an unfinished new log (no
    /// record); refuses any other damage, and a "tail" after which a whole record verifies.
    /// For a segmented log (a directory), the newest segment's: an unfinished newest
    /// segment (a crash during rotation) is removed.
    Repair {
        /// The log (a file or a segment directory).
        log: PathBuf,
    },
    /// Write a snapshot of the state at a checkpoint of a log (the latest within the
    /// records asked for), where the log vouches for it.
    Snapshot {
        /// The log (a file or a segment directory).
        log: PathBuf,
        /// Within how many records, checkpoints included (default: all).
        #[arg(long)]
        records: Option<u64>,
        /// The snapshot file to write.
        #[arg(short, long)]
        output: PathBuf,
    },
}

/// What a command produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Success; print this.
    Done(String),
    /// Verification failed; print this report.
    Failed(String),
    /// A live run ended: exit with the core's process status.
    Exit {
        /// The process exit status (docs/protocol.md §10.5).
        status: u8,
        /// What to print on standard error.
        text: String,
    },
}

/// Bad input, with the file it came from.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file could not be written.
    #[error("{path}: cannot write: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The script has a bad line.
    #[error("{path}: {source}")]
    Script {
        /// The file.
        path: PathBuf,
        /// The line, field and message.
        source: ScriptError,
    },
    /// The log is damaged or of another version.
    #[error("{path}: {source}")]
    Log {
        /// The file.
        path: PathBuf,
        /// What is wrong, where.
        source: LogError,
    },
    /// The snapshot cannot be used.
    #[error("{path}: {source}")]
    Snapshot {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: SnapshotError,
    },
    /// A step that does not exist was asked for.
    #[error("{path}: step {at} asked for, but there are {steps} steps (0..{steps})")]
    NoSuchStep {
        /// The input.
        path: PathBuf,
        /// The requested step.
        at: u64,
        /// How many steps there are.
        steps: u64,
    },
    /// An argument or input file is not valid (a scenario, an address, a key, a URL).
    #[error("{path}: {message}")]
    Invalid {
        /// The argument or file.
        path: PathBuf,
        /// What is wrong and what was expected.
        message: String,
    },
    /// An `audit --since/--until` value is neither a time nor a block.
    #[error("{flag}: {source}")]
    AuditBound {
        /// The flag.
        flag: &'static str,
        /// What is wrong with its value.
        source: crate::audit::BoundError,
    },
    /// A `shrink --until` that is not a property, or an input that does not show it.
    #[error("{path}: {source}")]
    Shrink {
        /// The input.
        path: PathBuf,
        /// What is wrong.
        source: crate::shrink::PropertyError,
    },
    /// A `whatif --set` cannot be used, or the input has nothing to change.
    #[error("{path}: {source}")]
    WhatIf {
        /// The input.
        path: PathBuf,
        /// What is wrong.
        source: crate::whatif::WhatIfError,
    },
    /// `seqrec seal` queued nothing: its payload is unreadable, not hex, empty or too large.
    #[error("{source}")]
    Seal {
        /// What is wrong.
        source: projection::SealError,
    },
    /// A command needs a log but got a script.
    #[error("{path}: {what} needs a binary log, not an event script (use `seqrec import` first)")]
    NotALog {
        /// The input.
        path: PathBuf,
        /// The command.
        what: &'static str,
    },
}

impl CliError {
    /// Whether this is a closed standard output (`seqrec trace … | head`), which is not an error.
    #[must_use]
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Write { source, .. }
            if source.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
    }
}

/// Parses `audit --since/--until`.
fn audit_window(since: Option<&str>, until: Option<&str>) -> Result<crate::audit::Window, CliError> {
    let parse = |flag: &'static str, value: Option<&str>| {
        value.map(str::parse).transpose().map_err(|source| CliError::AuditBound { flag, source })
    };
    let window = crate::audit::Window { since: parse("--since", since)?, until: parse("--until", until)? };
    Ok(window)
}

/// Runs one command.
///
/// # Errors
/// [`CliError`] for bad input.
pub fn execute(args: Args) -> Result<Outcome, CliError> {
    // Only in a build with `--cfg seqrec_sabotage`: `SEQREC_SABOTAGE=NAME[,NAME…]` (names
    // `cascade_pivot_one_late`, `watermark_after_broadcast`, `flush_stops_at_pending`,
    // `resend_landed`)
    // turns the core's deliberate bugs on for any command, so `seqrec check` can be shown
    // to find them and `seqrec replay` to reproduce their counterexamples. Other names are
    // ignored: the switch is for tests, not an input.
    #[cfg(seqrec_sabotage)]
    if let Ok(names) = std::env::var("SEQREC_SABOTAGE") {
        for name in names.split(',').map(str::trim) {
            let switch = match name {
                "cascade_pivot_one_late" => &machine::sabotage::CASCADE_PIVOT_ONE_LATE,
                "watermark_after_broadcast" => &machine::sabotage::WATERMARK_AFTER_BROADCAST,
                "flush_stops_at_pending" => &machine::sabotage::FLUSH_STOPS_AT_PENDING,
                "resend_landed" => &machine::sabotage::RESEND_LANDED,
                _ => continue,
            };
            switch.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
    match args.command {
        Command::Demo { log, svg } => simulate::demo(log.as_deref(), svg.as_deref()),
        Command::Simulate { scenario, seed, crash_points, log, db } => {
            simulate::run(scenario.as_deref(), seed, crash_points == "all", log.as_deref(), db.as_deref())
        }
        Command::Trace { input, json } => inspect::trace(&input, json),
        Command::Replay { input, json, snapshot, no_invariants, jobs } => {
            let snapshot = snapshot.as_deref();
            let options = verify::ReplayOptions { json, snapshot, invariants: !no_invariants, jobs: usize::from(jobs) };
            verify::replay(&input, options)
        }
        Command::Audit { input, at, svg, json, since, until } => {
            let window = audit_window(since.as_deref(), until.as_deref())?;
            inspect::audit(&input, at, svg.as_deref(), json, window)
        }
        Command::Import { script, output } => convert::import(&script, &output),
        Command::Export { log, output } => convert::export(&log, &output),
        Command::Diff { a, b, json } => diff::diff(&a, b.as_deref(), json),
        Command::Sweep { seeds, from } => sweep::run(seeds, from),
        Command::Check {
            depth,
            batches,
            crashes,
            faults,
            unsafe_blocks,
            max_states,
            features,
            settle_within,
            witness,
            json,
        } => {
            let features = crate::check::Features::parse(&features)
                .map_err(|message| CliError::Invalid { path: PathBuf::from("--features"), message })?;
            let bounds = crate::check::Bounds { batches, crashes, faults, unsafe_blocks, features };
            let scope = crate::check::Scope {
                depth,
                bounds,
                boot: crate::check::boot_event().map_err(|error| CliError::Invalid {
                    path: PathBuf::from("<seqrec check's built-in boot config>"),
                    message: format!(
                        "does not parse ({error}): a changed config type; fix BOOT_CONFIG in check/mod.rs"
                    ),
                })?,
                max_states,
                extra: None,
                settle_within,
            };
            check(scope, witness.as_deref(), json)
        }
        Command::Scenarios => Ok(Outcome::Done(
            effects::sim::scenario::NAMES
                .iter()
                .filter_map(|name| effects::sim::scenario::by_name(name))
                .map(|scenario| format!("{}\t{}\n", scenario.name, scenario.description))
                .collect(),
        )),
        Command::Repair { log } if log.is_dir() => repair_dir::repair(&log),
        Command::Repair { log } => maintain::repair(&log),
        Command::Run(args) => run::run(*args),
        Command::Seal { db, payload, payload_file, max_batch_bytes } => {
            let source = match (payload, payload_file) {
                (Some(hex), _) => projection::Payload::Hex(hex),
                (None, Some(path)) => projection::Payload::File(path),
                (None, None) => {
                    return Err(CliError::Invalid {
                        path: PathBuf::from("seal"),
                        message: "--payload HEX, --payload -, --payload-file FILE or --payload-file - is required"
                            .to_owned(),
                    });
                }
            };
            projection::seal(&db, source, max_batch_bytes)
        }
        Command::Shrink { input, until, other_build, output } => shrink(&input, until.as_deref(), other_build, output),
        Command::Whatif { input, set, all, svg } => whatif(&input, &set, all, svg.as_deref()),
        Command::Pause { db, reason } => projection::pause(&db, Some(&reason)),
        Command::Resume { db } => projection::pause(&db, None),
        Command::Status { db, log } => projection::status(&db, log.as_deref()),
        Command::Snapshot { log, records, output } => maintain::snapshot(&log, records, &output),
    }
}

/// `seqrec check`: the exploration, its figures, and the counterexample as a script.
fn check(mut scope: crate::check::Scope, witness: Option<&str>, json: bool) -> Result<Outcome, CliError> {
    if let Some(name) = witness {
        scope.extra = Some(crate::check::witness(name).ok_or_else(|| CliError::Invalid {
            path: PathBuf::from("--witness"),
            message: format!("{name}: no such situation; one of {}", crate::check::WITNESSES.join(", ")),
        })?);
        // The completions would reach the situation too and report it with a longer script.
        scope.settle_within = 0;
    }
    let report = crate::check::explore(&scope);
    let mut text = crate::check::render_report(&report, &scope, json);
    let Some(found) = &report.violation else {
        if witness.is_some() {
            return Ok(Outcome::Failed(text + "witness: not reached in this scope\n"));
        }
        return Ok(Outcome::Done(text));
    };
    let script = crate::check::render_counterexample(found)
        .map_err(|source| CliError::Write { path: PathBuf::from("<stdout>"), source: Box::new(source) })?;
    if !json {
        text.push_str(&script);
    }
    // A witness found is what was asked for; a violation fails the check, in either mode.
    match found.finding {
        crate::check::Finding::Witness => Ok(Outcome::Done(text)),
        crate::check::Finding::Violation => Ok(Outcome::Failed(text)),
    }
}

/// `seqrec shrink`: the property parsed, the input shrunk, the script written.
fn shrink(
    input: &Path,
    until: Option<&str>,
    other: Option<PathBuf>,
    output: Option<PathBuf>,
) -> Result<Outcome, CliError> {
    let error = |source| CliError::Shrink { path: input.to_owned(), source };
    let property = match (until, other) {
        (_, Some(other)) => crate::shrink::Property::Diverges(other),
        (Some(until), None) => until.parse().map_err(error)?,
        (None, None) => return Err(error(crate::shrink::PropertyError::Unknown { given: String::new() })),
    };
    let loaded = load(input)?;
    let events: Vec<machine::Event> = loaded.events().into_iter().map(|(_, event)| event.clone()).collect();
    let scratch = std::env::temp_dir().join(format!("seqrec-shrink-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)
        .map_err(|source| CliError::Write { path: scratch.clone(), source: Box::new(source) })?;
    let shrunk = crate::shrink::shrink(events, &property, &scratch, &input.display().to_string());
    let _ = std::fs::remove_dir_all(&scratch);
    let shrunk = shrunk.map_err(error)?;
    match output {
        None => Ok(Outcome::Done(shrunk.script)),
        Some(path) => {
            std::fs::write(&path, &shrunk.script)
                .map_err(|source| CliError::Write { path: path.clone(), source: Box::new(source) })?;
            Ok(Outcome::Done(format!(
                "{}: {} events still show {property} ({} candidates judged)\n",
                path.display(),
                shrunk.events.len(),
                shrunk.tries
            )))
        }
    }
}

/// `seqrec whatif`: the comparison, and its picture with `--svg`.
fn whatif(input: &Path, set: &[String], all: bool, svg: Option<&Path>) -> Result<Outcome, CliError> {
    let what_if = |source| CliError::WhatIf { path: input.to_owned(), source };
    let changes = set.iter().map(|given| crate::whatif::parse_change(given)).collect::<Result<Vec<_>, _>>();
    let changes = changes.map_err(what_if)?;
    let loaded = load(input)?;
    let events: Vec<&machine::Event> = loaded.events().into_iter().map(|(_, event)| event).collect();
    let comparison = crate::whatif::compare(&events, &changes, all).map_err(what_if)?;
    let mut text = comparison.text;
    if let Some(path) = svg {
        let recorded: Vec<machine::Event> = events.iter().map(|event| (*event).clone()).collect();
        let changed = crate::whatif::changed_events(&recorded, &changes).map_err(what_if)?;
        let title = format!("what-if {}: {}", set.join(" "), input.display());
        let picture = crate::whatif_svg::render(
            &title,
            &crate::whatif_svg::curve(&recorded),
            &crate::whatif_svg::curve(&changed),
            comparison.counterfactual_ms,
        );
        std::fs::write(path, picture)
            .map_err(|source| CliError::Write { path: path.to_owned(), source: Box::new(source) })?;
        text.push_str(&format!("picture: {}\n", path.display()));
    }
    Ok(Outcome::Done(text))
}
