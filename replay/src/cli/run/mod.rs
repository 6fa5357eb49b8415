//! `run`: the run loop live — the Ethereum node through alloy, the SQLite projection,
//! the wall clock, the seal queue, SIGTERM/SIGINT — recording every step to the log
//! before its effects run. The process exit status is the core's (0/10/20/30/78).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use effects::eth::EthL1;
use effects::sqlite::SqliteStore;
use effects::{Executor, Stop, StoreErrorKind};
use machine::event::Boot;
use machine::{Event, ExitCode, RawConfig};

use crate::checkpointer::Checkpointer;
use crate::log::{
    AppendLog, FsyncPolicy, Header, LogError, LogLock, RunLog, SEGMENT_BYTES, SegmentLock, config_digest,
};
use crate::resume::{Resumed, resume, resume_segments};
use crate::snapshot_dir::{SnapshotDir, default_dir};

mod args;
mod key;
mod live;
mod logging;
mod metrics;
mod settings;

pub(crate) use args::RunArgs;
pub use key::redact_keys;

use self::args::{check_rpc, config_problems, raw_config};
use self::key::read_key;
use self::live::{Live, wall_clock_ms};
use self::logging::{StepLog, init_logging};
use self::metrics::Metrics;
use self::settings::{Settings, settings};
use super::{CliError, Outcome};

/// Start-up failures outside the core, every one listed, with the core's exit status
/// they deserve; nothing in them may repeat a key (`redact_keys`).
fn stop_all(code: ExitCode, problems: &[String]) -> Outcome {
    let mut text: String = problems.iter().map(|problem| format!("seqrec run: {}\n", redact_keys(problem))).collect();
    text.push_str(&format!("seqrec run: exit {} ({})\n", code.name(), effects::exit_status(code)));
    Outcome::Exit { status: effects::exit_status(code), text }
}

/// A start-up failure outside the core, with the core's exit status it deserves.
fn stop(code: ExitCode, message: &str) -> Outcome {
    Outcome::Exit {
        status: effects::exit_status(code),
        text: format!("seqrec run: {message}\nseqrec run: exit {} ({})\n", code.name(), effects::exit_status(code)),
    }
}

/// The projection's failures at boot: a busy lock or a full disk may pass (retry); a
/// read-only or damaged database needs an operator (refuse).
fn store_exit(kind: StoreErrorKind) -> ExitCode {
    match kind {
        StoreErrorKind::Busy | StoreErrorKind::Full | StoreErrorKind::Other => ExitCode::Retry,
        StoreErrorKind::ReadOnly | StoreErrorKind::Corrupt => ExitCode::Refuse,
    }
}

/// Locks the log before anything else, then rebuilds the state from the newest snapshot
/// the log vouches for and the records after it, or from the whole log, or starts a new
/// one (`resume`). A log another process holds is `retry`: a second `run` touches
/// nothing. A damaged log (a torn tail included: docs/protocol.md §10.6 wants it cut only by an
/// explicit `seqrec repair`) is `refuse`, so an orchestrator waits for the operator
/// instead of looping.
fn open_log(
    path: &Path,
    segments: Option<u64>,
    config: &RawConfig,
    snapshots: &Path,
) -> Result<Resumed<RunLog>, Outcome> {
    let refused = |error: LogError| {
        let code = if matches!(error, LogError::Locked { .. }) { ExitCode::Retry } else { ExitCode::Refuse };
        stop(code, &format!("log {}: {error}", redact_keys(&path.display().to_string())))
    };
    let header = Header::new(config_digest(config));
    let policy = FsyncPolicy::EveryRecord;
    let resumed = match segments {
        Some(max_bytes) => {
            let lock = SegmentLock::acquire(path).map_err(refused)?;
            resume_segments(lock, &header, policy, max_bytes, Some(snapshots))
                .map_err(refused)?
                .map_writer(RunLog::Segments)
        }
        None => {
            let lock = LogLock::acquire(path).map_err(refused)?;
            resume(lock, &header, policy, Some(snapshots)).map_err(refused)?.map_writer(RunLog::File)
        }
    };
    for skipped in &resumed.skipped {
        tracing::warn!(dir = %snapshots.display(), "{skipped}");
    }
    match &resumed.snapshot {
        Some((snapshot, checkpoint)) => tracing::info!(
            snapshot = %snapshot.display(),
            record = checkpoint.seq,
            tail_events = resumed.stepped,
            "state resumed from a snapshot; only the tail was stepped"
        ),
        None => tracing::info!(events = resumed.stepped, "state rebuilt from the whole log"),
    }
    Ok(resumed)
}

/// The log's path (without a trailing `/`) and, for a segmented log, its segment size.
/// A directory, or a path ending in `/`, is a segmented log; `--segment-bytes` with a
/// single-file log is refused rather than ignored, as the operator meant segments.
fn log_shape(settings: &Settings) -> Result<(PathBuf, Option<u64>), String> {
    let given = settings.log.as_os_str().to_string_lossy();
    let trimmed = given.trim_end_matches('/');
    let (slash, path) = if trimmed.is_empty() {
        (false, settings.log.clone())
    } else {
        (trimmed.len() < given.len(), PathBuf::from(trimmed))
    };
    let segmented = slash || path.is_dir();
    if segmented && path.exists() && !path.is_dir() {
        return Err(format!(
            "--log {given}: a path ending in `/` names a segmented log (a directory), but {} is a file; drop the `/` to use that single-file log",
            path.display()
        ));
    }
    match (segmented, settings.args.segment_bytes) {
        (_, Some(0)) => Err("--segment-bytes: must be > 0".to_owned()),
        (false, Some(_)) => Err(format!(
            "--segment-bytes: {} is a single-file log; segments need a directory: give --log a directory (end the path with `/` for a new one)",
            path.display()
        )),
        (true, bytes) => Ok((path, Some(bytes.unwrap_or(SEGMENT_BYTES)))),
        (false, None) => Ok((path, None)),
    }
}

/// What to do about a refusal an operator can resolve: a log that never sealed a batch
/// refused for canonical divergence means the key already posted to this inbox before
/// this log began (a lost log, or another deployment's key); empty otherwise.
fn refusal_hint(code: ExitCode, state: &machine::State) -> String {
    let fresh = state.tree().batches().iter().all(|batch| batch.sealed.is_none()) && state.tree().pruned().count == 0;
    match (code, state.scheduler().divergence) {
        (ExitCode::Refuse, Some(nonce)) if fresh => format!(
            "seqrec run: hint: this log has sealed no batch, yet L1 accepted nonce {nonce} from this key: the key \
             posted to this inbox before this log began. To continue that history (a lost log), start a new log and \
             database with --adopt-l1-history (docs/operations.md, \"Disaster recovery\"); if that history is not \
             this deployment's, start the sync past it with --start-block, or use another key\n"
        ),
        _ => String::new(),
    }
}

/// Sets the flag on SIGTERM or SIGINT, from a thread of its own.
fn watch_signals(flag: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_io().build() else { return };
        runtime.block_on(async {
            let Ok(mut terminate) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
                return;
            };
            tokio::select! {
                _ = terminate.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            flag.store(true, Ordering::Relaxed);
        });
    });
}

pub(super) fn run(args: RunArgs) -> Result<Outcome, CliError> {
    let print_config = args.print_config;
    let settings = match settings(args) {
        Ok(settings) => settings,
        Err(problems) => return Ok(stop_all(ExitCode::ConfigInvalid, &problems)),
    };
    if print_config {
        return Ok(Outcome::Done(settings.render()));
    }
    // Everything an operator can get wrong is checked before any file is touched, and
    // every problem is listed, not only the first.
    let mut problems = Vec::new();
    let key = read_key(&settings.args).map_err(|message| problems.push(message)).ok();
    if let Err(message) = check_rpc(&settings) {
        problems.push(message);
    }
    if settings.snapshots_kept == 0 {
        problems.push("--snapshots-kept: must be > 0 (the newest snapshot is kept)".to_owned());
    }
    let shape = log_shape(&settings).map_err(|message| problems.push(message)).ok();
    let submitter = key.as_ref().map_or_else(machine::Address::default, effects::eth::SigningKey::address);
    let config = raw_config(&settings, submitter).map_err(|message| problems.push(message)).ok();
    if let Some(config) = &config {
        problems.extend(config_problems(config, settings.rpc_timeout_ms));
    }
    if let Err(message) = init_logging(settings.json_logs, settings.args.log_level.as_deref()) {
        problems.push(message);
    }
    let (Some(key), Some((log_path, segments)), Some(config), true) = (key, shape, config, problems.is_empty()) else {
        return Ok(stop_all(ExitCode::ConfigInvalid, &problems));
    };
    let args = &settings.args;
    // Served from before the log is opened, so `/healthz` answers while a long log is
    // verified; `/readyz` says not ready until the core admits the process.
    let metrics = match &args.metrics {
        Some(addr) => {
            let metrics = Arc::new(Metrics::new());
            if let Err(message) = metrics::serve(addr, Arc::clone(&metrics)) {
                return Ok(stop(ExitCode::ConfigInvalid, &redact_keys(&message)));
            }
            Some(metrics)
        }
        None => None,
    };
    let inbox = config.inbox.unwrap_or_default();
    let l1 = match EthL1::connect(&settings.rpc, key, inbox, Duration::from_millis(settings.rpc_timeout_ms)) {
        Ok(l1) => l1.with_safe_depth(args.safe_depth),
        Err(message) => return Ok(stop(ExitCode::ConfigInvalid, &redact_keys(&format!("--rpc: {message}")))),
    };
    // Choice 46: the safe head's source is judged before any file is touched. An
    // unreachable node cannot be judged: the core's boot rules apply (a warm node admits
    // from its stored view) and the check runs at the first contact (`Live::chain_id`).
    let safe_tag_checked = match (args.safe_depth, l1.check_safe_tag()) {
        (Some(depth), _) => {
            tracing::warn!(
                safe_depth = depth,
                "--safe-depth {depth}: the safe head is latest - {depth}; the node's `safe` tag is not used"
            );
            true
        }
        (None, Ok(Ok(()))) => true,
        (None, Ok(Err(why))) => return Ok(stop(ExitCode::ConfigInvalid, &why)),
        (None, Err(error)) => {
            tracing::warn!(%error, "the node's `safe` tag could not be checked now; it is checked at the first contact");
            false
        }
    };
    let snapshot_dir = args.snapshot_dir.clone().unwrap_or_else(|| default_dir(&log_path));
    let Resumed { writer: log, state, .. } = match open_log(&log_path, segments, &config, &snapshot_dir) {
        Ok(resumed) => resumed,
        Err(stopped) => return Ok(stopped),
    };
    let mut snapshots = SnapshotDir::new(snapshot_dir, settings.snapshots_kept);
    if segments.is_some() {
        snapshots = snapshots.keeping_segment_starts(log_path.clone());
    }
    let checkpointer = Checkpointer::new(
        snapshots,
        settings.snapshot_every_records,
        Duration::from_secs(settings.snapshot_every_minutes.saturating_mul(60)),
        log.events(),
    );
    let mut store = match SqliteStore::open_writer(&settings.db) {
        Ok(store) => store,
        Err(error) => {
            return Ok(stop(
                store_exit(error.kind),
                &format!("database {}: {error}", redact_keys(&settings.db.display().to_string())),
            ));
        }
    };
    // Boot reconciles the projection from the log's state (writes lost in a crash come back).
    if let Err(error) = store.reconcile(&state) {
        return Ok(stop(
            store_exit(error.kind),
            &format!("database {}: {error}", redact_keys(&settings.db.display().to_string())),
        ));
    }
    let shutdown = Arc::new(AtomicBool::new(false));
    watch_signals(Arc::clone(&shutdown));
    let mut live = Live {
        l1,
        store,
        log,
        checkpointer,
        intake_open: false,
        announced_pause: state.paused().map(str::to_owned),
        offered: None,
        exit_reason: None,
        shutdown,
        step_log: StepLog::new(&state),
        metrics: metrics.clone(),
        safe_tag_checked,
        safe_tag_unusable: None,
    };
    let mut executor = Executor::resume(state);
    let boot = Event::Boot(Boot { now_ms: wall_clock_ms(), config });
    let stopped = executor.run(&mut live, boot);
    // A closing checkpoint vouches for the final state, and its snapshot makes the next
    // start step nothing.
    if !matches!(stopped, Stop::LogFailed(_)) {
        live.checkpoint(executor.state(), true);
    }
    if let Some(metrics) = &metrics {
        metrics.set_ready(false, "stopped");
        std::thread::sleep(Duration::from_millis(args.metrics_linger_ms.unwrap_or(0)));
    }
    if let Some(why) = live.safe_tag_unusable {
        return Ok(stop(ExitCode::ConfigInvalid, &why));
    }
    match stopped {
        Stop::Exited(code) => Ok(Outcome::Exit {
            status: effects::exit_status(code),
            text: format!(
                "seqrec run: exit {} ({}): {}\n{}",
                code.name(),
                effects::exit_status(code),
                live.exit_reason.as_deref().unwrap_or("no reason recorded"),
                refusal_hint(code, executor.state())
            ),
        }),
        Stop::LogFailed(message) => {
            Ok(Outcome::Exit { status: 20, text: format!("seqrec run: the log could not be written: {message}\n") })
        }
        Stop::Crashed(_) | Stop::Idle => {
            Ok(Outcome::Exit { status: 20, text: "seqrec run: stopped with nothing left to do\n".to_owned() })
        }
    }
}
