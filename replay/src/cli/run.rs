//! `run`: the run loop live — the Ethereum node through alloy, the SQLite projection,
//! the wall clock, the seal queue, SIGTERM/SIGINT — recording every step to the log
//! before its effects run. The process exit status is the core's (0/10/20/30/78).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use effects::eth::{EthL1, SigningKey};
use effects::sqlite::SqliteStore;
use effects::{
    ChainIdentity, Clock, Executor, Hooks, Inputs, L1, LogSink, SafeSync, SendError, Signed, Stop, Store,
    StoreErrorKind, Wake, WalletCounts,
};
use machine::event::Boot;
use machine::{
    Address, BatchNonce, Bid, BlockNumber, DbWrite, Effect, Event, ExitCode, OpId, RawConfig, UnixMillis, WalletNonce,
    Wei,
};

use super::{CliError, Outcome};
use crate::checkpointer::{Checkpointer, SNAPSHOT_EVERY_MINUTES, SNAPSHOT_EVERY_RECORDS, SNAPSHOTS_KEPT, Taken};
use crate::log::{
    AppendLog, FsyncPolicy, Header, LogError, LogLock, RunLog, SEGMENT_BYTES, SegmentLock, config_digest,
};
use crate::resume::{Resumed, resume, resume_segments};
use crate::snapshot_dir::{SnapshotDir, default_dir};

/// `seqrec run`'s settings; every flag can also come from its environment variable.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The L1 node's JSON-RPC URL (HTTP).
    #[arg(long, env = "SEQREC_RPC")]
    pub rpc: String,
    /// The SQLite projection.
    #[arg(long, env = "SEQREC_DB")]
    pub db: PathBuf,
    /// The replay log (created if missing; appended to, after verification, if present).
    /// A directory (an existing one, or a path ending in `/` for a new one) is a
    /// segmented log: a new segment starts at a checkpoint after `--segment-bytes`.
    #[arg(long, env = "SEQREC_LOG")]
    pub log: PathBuf,
    /// A segmented log's segment size in bytes: the current segment is closed at the
    /// first checkpoint at or past it (default 268435456, 256 MiB). Only for a directory
    /// `--log`.
    #[arg(long, env = "SEQREC_SEGMENT_BYTES")]
    pub segment_bytes: Option<u64>,
    /// A file holding the submitter's private key (hex); or set SEQREC_KEY.
    #[arg(long, env = "SEQREC_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// The deployment's chain id.
    #[arg(long, env = "SEQREC_CHAIN_ID")]
    pub chain_id: u64,
    /// The inbox address.
    #[arg(long, env = "SEQREC_INBOX")]
    pub inbox: String,
    /// Scheduler staleness bound (default 1200).
    #[arg(long, env = "SEQREC_MAX_WAIT_BLOCKS")]
    pub max_wait_blocks: Option<u64>,
    /// Runway before max wait (default 300).
    #[arg(long, env = "SEQREC_PREEMPTIVE_MARGIN_BLOCKS")]
    pub preemptive_margin_blocks: Option<u64>,
    /// L1 view stale after this many block-times.
    #[arg(long, env = "SEQREC_L1_READ_STALE_AFTER_BLOCKS")]
    pub l1_read_stale_after_blocks: Option<u64>,
    /// Assumed L1 block time (default 12).
    #[arg(long, env = "SEQREC_SECONDS_PER_BLOCK")]
    pub seconds_per_block: Option<u64>,
    /// Block-times a submission is watched for before it is retried (default 1).
    #[arg(long, env = "SEQREC_CONFIRMATION_DEPTH")]
    pub confirmation_depth: Option<u64>,
    /// Detector cadence (default 2000).
    #[arg(long, env = "SEQREC_DETECTOR_INTERVAL_MS")]
    pub detector_interval_ms: Option<u64>,
    /// Submitter cadence (default 1000).
    #[arg(long, env = "SEQREC_SUBMIT_INTERVAL_MS")]
    pub submit_interval_ms: Option<u64>,
    /// The largest encoded batch a seal may produce (default 122880); larger seals are
    /// rejected back to the queue with a reason.
    #[arg(long, env = "SEQREC_MAX_BATCH_BYTES")]
    pub max_batch_bytes: Option<u64>,
    /// The block a first sync starts at: the inbox's deployment block (default 0). Only a
    /// new log's first sync uses it; later syncs continue after the stored safe head.
    #[arg(long, env = "SEQREC_START_BLOCK")]
    pub start_block: Option<u64>,
    /// The lowest priority fee a send bids, in wei (default 1000000000, 1 gwei).
    #[arg(long, env = "SEQREC_MIN_TIP_WEI")]
    pub min_tip_wei: Option<u128>,
    /// A bid whose max fee would exceed this (wei) is held, not sent, and logged; the
    /// danger detector remains the safety net. Default: no cap.
    #[arg(long, env = "SEQREC_MAX_FEE_CAP_WEI")]
    pub max_fee_cap_wei: Option<u128>,
    /// How far a flush's no-op may exceed the fee cap (default 3).
    #[arg(long, env = "SEQREC_FLUSH_CAP_MULTIPLIER")]
    pub flush_cap_multiplier: Option<u64>,
    /// Block-times a pending batch waits before it is re-priced (default 5).
    #[arg(long, env = "SEQREC_RESUBMIT_AFTER_BLOCKS")]
    pub resubmit_after_blocks: Option<u64>,
    /// On a new log, rebuild the accepted (Gold) batches from our own landings on L1 instead
    /// of refusing them as a divergence: the disaster-recovery start of a node whose log
    /// and database were lost (no effect after the first seal).
    #[arg(long, env = "SEQREC_ADOPT_L1_HISTORY")]
    pub adopt_l1_history: bool,
    /// Blocks below the safe head an accepted batch stays in the state before it is
    /// pruned (live.md §6); default 2 × max_wait_blocks.
    #[arg(long, env = "SEQREC_PRUNE_AFTER_BLOCKS")]
    pub prune_after_blocks: Option<u64>,
    /// Take `latest − N` as the safe head instead of the node's `safe` tag, for nodes whose
    /// tag is unusable (dev nodes such as hardhat report safe = latest). N = 64 is about
    /// mainnet's finality; N must be at least the deepest reorg expected. Without it, `run`
    /// checks the node's tag at the first L1 contact and exits 78 if it is unusable.
    #[arg(long, env = "SEQREC_SAFE_DEPTH")]
    pub safe_depth: Option<u64>,
    /// How each step is reported on standard error: `text` or `json` (one object per step).
    #[arg(long, env = "SEQREC_LOG_FORMAT", value_parser = ["text", "json"], default_value = "text")]
    pub log_format: String,
    /// Milliseconds an RPC call may take before it counts as failed.
    #[arg(long, env = "SEQREC_RPC_TIMEOUT_MS", default_value_t = 10_000)]
    pub rpc_timeout_ms: u64,
    /// Where snapshots of the state are written and a restart looks for them (default:
    /// `<log>.snapshots` next to the log).
    #[arg(long, env = "SEQREC_SNAPSHOT_DIR")]
    pub snapshot_dir: Option<PathBuf>,
    /// A snapshot (at a checkpoint of the log) after this many event records; 0: never by count.
    #[arg(long, env = "SEQREC_SNAPSHOT_EVERY_RECORDS", default_value_t = SNAPSHOT_EVERY_RECORDS)]
    pub snapshot_every_records: u64,
    /// A snapshot after this many minutes; 0: never by time.
    #[arg(long, env = "SEQREC_SNAPSHOT_EVERY_MINUTES", default_value_t = SNAPSHOT_EVERY_MINUTES)]
    pub snapshot_every_minutes: u64,
    /// How many snapshots are kept (the newest; at least 1).
    #[arg(long, env = "SEQREC_SNAPSHOTS_KEPT", default_value_t = SNAPSHOTS_KEPT)]
    pub snapshots_kept: usize,
}

/// The live environment.
struct Live {
    l1: EthL1,
    store: SqliteStore,
    log: RunLog,
    checkpointer: Checkpointer,
    intake_open: bool,
    /// The last seal queue row offered to the core by this process.
    offered: Option<u64>,
    /// The reason of the core's exit, printed with the status.
    exit_reason: Option<String>,
    shutdown: Arc<AtomicBool>,
    steps: u64,
    /// Whether the node's `safe` tag was judged (or `--safe-depth` makes it moot).
    safe_tag_checked: bool,
    /// Why the node's `safe` tag is unusable, found at the first L1 contact: `run` stops
    /// and exits `config_invalid` with it.
    safe_tag_unusable: Option<String>,
}

impl L1 for Live {
    fn chain_id(&mut self) -> Result<ChainIdentity, effects::L1Error> {
        let identity = self.l1.chain_id()?;
        // The node was down when `run` started: its `safe` tag is judged at the first
        // contact instead, before the core reads anything from it.
        if !self.safe_tag_checked {
            match self.l1.check_safe_tag()? {
                Ok(()) => self.safe_tag_checked = true,
                Err(why) => {
                    self.shutdown.store(true, Ordering::Relaxed);
                    self.safe_tag_unusable = Some(why.clone());
                    return Err(effects::L1Error::Rpc { code: 0, message: why });
                }
            }
        }
        Ok(identity)
    }
    fn sync_safe(&mut self, from_block: BlockNumber) -> Result<SafeSync, effects::L1Error> {
        self.l1.sync_safe(from_block)
    }
    fn wallet(&mut self) -> Result<WalletCounts, effects::L1Error> {
        self.l1.wallet()
    }
    fn unsafe_landings(&mut self) -> Result<Vec<BatchNonce>, effects::L1Error> {
        self.l1.unsafe_landings()
    }
    fn send_batch(
        &mut self,
        chain_id: u64,
        w_nonce: WalletNonce,
        wire: &[u8],
        bid: Option<Bid>,
        min_gas: Option<u64>,
    ) -> Result<Signed, SendError> {
        self.l1.send_batch(chain_id, w_nonce, wire, bid, min_gas)
    }
    fn send_noop(&mut self, chain_id: u64, w_nonce: WalletNonce, bid: Option<Bid>) -> Result<Signed, SendError> {
        self.l1.send_noop(chain_id, w_nonce, bid)
    }
}

impl Store for Live {
    fn apply(&mut self, op: OpId, write: &DbWrite) -> Result<(), effects::StoreError> {
        self.store.apply(op, write)
    }
    fn apply_all(&mut self, writes: &[(OpId, DbWrite)]) -> Result<(), (OpId, effects::StoreError)> {
        self.store.apply_all(writes)
    }
}

fn wall_clock_ms() -> UnixMillis {
    UnixMillis(
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
    )
}

impl Clock for Live {
    fn now_ms(&mut self) -> UnixMillis {
        wall_clock_ms()
    }
}

impl Inputs for Live {
    fn set_intake(&mut self, open: bool) {
        self.intake_open = open;
    }

    fn wait(&mut self, deadline: Option<UnixMillis>) -> Wake {
        loop {
            if self.shutdown.load(Ordering::Relaxed) {
                return Wake::Shutdown;
            }
            if self.intake_open
                && let Ok(Some((id, payload))) = self.store.peek_seal(self.offered)
            {
                // Offered once per process: a row the core did not consume (it had no Tip)
                // waits for the next boot instead of being stepped in a loop.
                self.offered = Some(id);
                return Wake::Seal { id: Some(id), payload };
            }
            let now = wall_clock_ms();
            if deadline.is_some_and(|at| now >= at) {
                return Wake::Deadline;
            }
            let left = deadline.map_or(50, |at| at.0.saturating_sub(now.0)).min(50);
            std::thread::sleep(Duration::from_millis(left.max(1)));
        }
    }
}

impl LogSink for Live {
    fn append(&mut self, event: &Event, effects: &[Effect]) -> Result<(), String> {
        self.log.append(event, effects).map(|_| ()).map_err(|error| error.to_string())
    }
}

impl Live {
    /// Appends the checkpoints and writes the snapshots that are due after a step, or (at
    /// shutdown, `now`) one of each (FORMAT.md "Checkpoints"). A failed append is undone
    /// by the writer, which then refuses every later one: the next step stops. A snapshot
    /// that cannot be written is only a warning: it is a cache.
    fn checkpoint(&mut self, state: &machine::State, now: bool) {
        let taken = if now {
            self.checkpointer.snapshot_now(&mut self.log, state)
        } else {
            self.checkpointer.after_step(&mut self.log, state)
        };
        match taken {
            Ok(None) => {}
            Ok(Some(Taken { checkpoint, written: Ok((path, removed)) })) => tracing::info!(
                snapshot = %path.display(),
                record = checkpoint.seq,
                events = checkpoint.events,
                removed = removed.len(),
                "snapshot written"
            ),
            Ok(Some(Taken { checkpoint, written: Err(error) })) => tracing::warn!(
                %error,
                dir = %self.checkpointer.dir().path().display(),
                record = checkpoint.seq,
                "the snapshot could not be written; the next restart steps more of the log"
            ),
            Err(error) => tracing::error!(%error, "the log could not be written (checkpoint)"),
        }
    }
}

impl Hooks for Live {
    fn stepped(&mut self, state: &machine::State, event: &Event, step: &machine::Step) {
        self.steps += 1;
        self.checkpoint(state, false);
        if let Some(reason) = step.effects.iter().find_map(|effect| match effect {
            Effect::Exit { reason, .. } => Some(reason),
            _ => None,
        }) {
            self.exit_reason = Some(reason.to_string());
        }
        for note in &step.notes {
            let danger = note.danger.map_or("", machine::Danger::name);
            let decision = note.decision.map_or("", machine::Decision::name);
            let (step_number, event, generation) = (self.steps, event.name(), state.generation());
            // Verdicts that matter to an operator at info, the rest (every fact) at debug.
            if let Some(error) = note.why.error() {
                // live.md §1: an account that cannot pay for its sends needs an operator.
                tracing::error!(step = step_number, event, error, generation, why = %note.why, "error");
            } else if let Some(warning) = note.why.warning().filter(|_| note.decision.is_some()) {
                // A decision that is also a warning: a send held at the fee cap.
                tracing::warn!(step = step_number, event, warning, decision, generation, why = %note.why, "warning");
            } else if note.decision.is_some() || note.danger.is_some_and(|d| d != machine::Danger::Safe) {
                tracing::info!(step = step_number, event, danger, decision, generation, why = %note.why, "verdict");
            } else if let Some(warning) = note.why.warning() {
                // live.md §3: a tuning change between boots, a refused seal, a lagging node.
                tracing::warn!(step = step_number, event, warning, generation, why = %note.why, "warning");
            } else if note.why.audited().is_some() {
                // Every bid, with its reason (live.md §1).
                tracing::info!(step = step_number, event, generation, why = %note.why, "bid");
            } else {
                tracing::debug!(step = step_number, event, danger, generation, why = %note.why, "step");
            }
        }
    }
}

/// Structured logs on standard error: `text` or one JSON object per line.
fn init_logging(json: bool) {
    let builder = tracing_subscriber::fmt().with_writer(std::io::stderr).with_target(false).with_ansi(false);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}

fn raw_config(args: &RunArgs, submitter: Address) -> Result<RawConfig, CliError> {
    let inbox = args.inbox.parse::<Address>().map_err(|error| CliError::Invalid {
        path: "--inbox".into(),
        message: format!("{error}: expected a 0x-prefixed 20-byte address"),
    })?;
    Ok(RawConfig {
        chain_id: Some(args.chain_id),
        batch_submitter: Some(submitter),
        inbox: Some(inbox),
        max_wait_blocks: args.max_wait_blocks,
        preemptive_margin_blocks: args.preemptive_margin_blocks,
        l1_read_stale_after_blocks: args.l1_read_stale_after_blocks,
        seconds_per_block: args.seconds_per_block,
        confirmation_depth: args.confirmation_depth,
        detector_interval_ms: args.detector_interval_ms,
        submit_interval_ms: args.submit_interval_ms,
        anchor_nonce: None,
        max_batch_bytes: args.max_batch_bytes,
        start_block: args.start_block,
        min_tip_wei: args.min_tip_wei.map(Wei),
        max_fee_cap_wei: args.max_fee_cap_wei.map(Wei),
        flush_cap_multiplier: args.flush_cap_multiplier,
        resubmit_after_blocks: args.resubmit_after_blocks,
        adopt_l1_history: args.adopt_l1_history.then_some(true),
        prune_after_blocks: args.prune_after_blocks,
    })
}

fn read_key(args: &RunArgs) -> Result<SigningKey, String> {
    let (text, source) = match (&args.key_file, std::env::var("SEQREC_KEY")) {
        (Some(path), _) => {
            key_file_private(path)?;
            let text =
                std::fs::read_to_string(path).map_err(|error| format!("{}: cannot read: {error}", path.display()))?;
            (text, path.display().to_string())
        }
        (None, Ok(key)) => (key, "SEQREC_KEY".to_owned()),
        (None, Err(_)) => return Err("--key-file: no key: give --key-file or set SEQREC_KEY".to_owned()),
    };
    SigningKey::parse(&text).map_err(|message| format!("{source}: {message}"))
}

/// A key file others can read is refused: the key signs for the whole deployment.
fn key_file_private(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path)
        .map_err(|error| format!("{}: cannot read: {error}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "{}: the key file is readable or writable by group or others (mode {:o}); run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        ));
    }
    Ok(())
}

/// The RPC endpoint must be an http(s) URL with a host, and calls need a positive timeout.
fn check_rpc(args: &RunArgs) -> Result<(), String> {
    let url = args.rpc.trim();
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
    if rest.is_none_or(|rest| rest.is_empty() || rest.starts_with('/') || rest.starts_with(':')) {
        return Err(format!("--rpc: {url:?} is not usable: expected http://HOST[:PORT] or https://HOST[:PORT]"));
    }
    if args.rpc_timeout_ms == 0 {
        return Err("--rpc-timeout-ms: must be > 0 (an RPC call needs time to answer)".to_owned());
    }
    Ok(())
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
/// nothing. A damaged log (a torn tail included: interface.md wants it cut only by an
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
        stop(code, &format!("log {}: {error}", path.display()))
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
fn log_shape(args: &RunArgs) -> Result<(PathBuf, Option<u64>), String> {
    let given = args.log.as_os_str().to_string_lossy();
    let trimmed = given.trim_end_matches('/');
    let (slash, path) = if trimmed.is_empty() {
        (false, args.log.clone())
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
    match (segmented, args.segment_bytes) {
        (_, Some(0)) => Err("--segment-bytes: must be > 0".to_owned()),
        (false, Some(_)) => Err(format!(
            "--segment-bytes: {} is a single-file log; segments need a directory: give --log a directory (end the path with `/` for a new one)",
            path.display()
        )),
        (true, bytes) => Ok((path, Some(bytes.unwrap_or(SEGMENT_BYTES)))),
        (false, None) => Ok((path, None)),
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

pub(super) fn run(args: &RunArgs) -> Result<Outcome, CliError> {
    // Everything an operator can get wrong is checked before any file is touched.
    let key = match read_key(args) {
        Ok(key) => key,
        Err(message) => return Ok(stop(ExitCode::ConfigInvalid, &message)),
    };
    if let Err(message) = check_rpc(args) {
        return Ok(stop(ExitCode::ConfigInvalid, &message));
    }
    if args.snapshots_kept == 0 {
        return Ok(stop(ExitCode::ConfigInvalid, "--snapshots-kept: must be > 0 (the newest snapshot is kept)"));
    }
    let (log_path, segments) = match log_shape(args) {
        Ok(shape) => shape,
        Err(message) => return Ok(stop(ExitCode::ConfigInvalid, &message)),
    };
    let config = match raw_config(args, key.address()) {
        Ok(config) => config,
        Err(error) => return Ok(stop(ExitCode::ConfigInvalid, &error.to_string())),
    };
    let inbox = config.inbox.unwrap_or_default();
    let l1 = match EthL1::connect(&args.rpc, key, inbox, Duration::from_millis(args.rpc_timeout_ms)) {
        Ok(l1) => l1.with_safe_depth(args.safe_depth),
        Err(message) => return Ok(stop(ExitCode::ConfigInvalid, &format!("--rpc: {message}"))),
    };
    init_logging(args.log_format == "json");
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
    let mut snapshots = SnapshotDir::new(snapshot_dir, args.snapshots_kept);
    if segments.is_some() {
        snapshots = snapshots.keeping_segment_starts(log_path.clone());
    }
    let checkpointer = Checkpointer::new(
        snapshots,
        args.snapshot_every_records,
        Duration::from_secs(args.snapshot_every_minutes.saturating_mul(60)),
        log.events(),
    );
    let mut store = match SqliteStore::open_writer(&args.db) {
        Ok(store) => store,
        Err(error) => return Ok(stop(store_exit(error.kind), &format!("database {}: {error}", args.db.display()))),
    };
    // Boot reconciles the projection from the log's state (writes lost in a crash come back).
    if let Err(error) = store.reconcile(&state) {
        return Ok(stop(store_exit(error.kind), &format!("database {}: {error}", args.db.display())));
    }
    let shutdown = Arc::new(AtomicBool::new(false));
    watch_signals(Arc::clone(&shutdown));
    let mut live = Live {
        l1,
        store,
        log,
        checkpointer,
        intake_open: false,
        offered: None,
        exit_reason: None,
        shutdown,
        steps: 0,
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
    if let Some(why) = live.safe_tag_unusable {
        return Ok(stop(ExitCode::ConfigInvalid, &why));
    }
    match stopped {
        Stop::Exited(code) => Ok(Outcome::Exit {
            status: effects::exit_status(code),
            text: format!(
                "seqrec run: exit {} ({}): {}\n",
                code.name(),
                effects::exit_status(code),
                live.exit_reason.as_deref().unwrap_or("no reason recorded")
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
