//! `seqrec run`'s settings: flags, environment variables, and the checks made before
//! any file is touched.

use std::path::PathBuf;

use machine::{Address, RawConfig, Wei};

use crate::checkpointer::{SNAPSHOT_EVERY_MINUTES, SNAPSHOT_EVERY_RECORDS, SNAPSHOTS_KEPT};
use crate::cli::CliError;

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

pub(super) fn raw_config(args: &RunArgs, submitter: Address) -> Result<RawConfig, CliError> {
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

/// The RPC endpoint must be an http(s) URL with a host, and calls need a positive timeout.
pub(super) fn check_rpc(args: &RunArgs) -> Result<(), String> {
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
