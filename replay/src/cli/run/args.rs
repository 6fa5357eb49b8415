//! `seqrec run`'s settings: flags, environment variables, and the checks made before
//! any file is touched.

use std::path::PathBuf;

use machine::{Address, RawConfig, Wei};

use super::settings::Settings;

/// `seqrec run`'s settings; every flag can also come from its environment variable.
///
/// A config file (`--config FILE`, TOML) may give any of them under the flag's name with
/// `_` for `-` (`max_wait_blocks = 1200`); a flag wins over its environment variable, which
/// wins over the file, which wins over the default.
#[derive(Debug, Default, clap::Args, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunArgs {
    /// A TOML file with any of the settings below (keys: the flags' names with `_`).
    #[arg(long, env = "SEQREC_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Print the effective settings, each with where it came from (flag, environment,
    /// file or default), and exit without touching anything. The key is never shown.
    #[arg(long)]
    #[serde(skip)]
    pub print_config: bool,
    /// The L1 node's JSON-RPC URL (HTTP).
    #[arg(long, env = "SEQREC_RPC")]
    pub rpc: Option<String>,
    /// The SQLite projection.
    #[arg(long, env = "SEQREC_DB")]
    pub db: Option<PathBuf>,
    /// The replay log (created if missing; appended to, after verification, if present).
    /// A directory (an existing one, or a path ending in `/` for a new one) is a
    /// segmented log: a new segment starts at a checkpoint after `--segment-bytes`.
    #[arg(long, env = "SEQREC_LOG")]
    pub log: Option<PathBuf>,
    /// A segmented log's segment size in bytes: the current segment is closed at the
    /// first checkpoint at or past it (default 268435456, 256 MiB). Only for a directory
    /// `--log`.
    #[arg(long, env = "SEQREC_SEGMENT_BYTES")]
    pub segment_bytes: Option<u64>,
    /// A file holding the submitter's private key (hex; mode 0600 required); or set
    /// SEQREC_KEY, or give --keystore.
    #[arg(long, env = "SEQREC_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// An encrypted JSON keystore (as geth, clef and `cast wallet` write it) holding the
    /// submitter's key; needs --password-file.
    #[arg(long, env = "SEQREC_KEYSTORE")]
    pub keystore: Option<PathBuf>,
    /// The file holding the keystore's password (mode 0600 required).
    #[arg(long, env = "SEQREC_PASSWORD_FILE")]
    pub password_file: Option<PathBuf>,
    /// The deployment's chain id.
    #[arg(long, env = "SEQREC_CHAIN_ID")]
    pub chain_id: Option<u64>,
    /// The inbox address.
    #[arg(long, env = "SEQREC_INBOX")]
    pub inbox: Option<String>,
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
    /// pruned (docs/protocol.md §11.6); default 2 × max_wait_blocks.
    #[arg(long, env = "SEQREC_PRUNE_AFTER_BLOCKS")]
    pub prune_after_blocks: Option<u64>,
    /// Take `latest − N` as the safe head instead of the node's `safe` tag, for nodes whose
    /// tag is unusable (dev nodes such as hardhat report safe = latest). N = 64 is about
    /// mainnet's finality; N must be at least the deepest reorg expected. Without it, `run`
    /// checks the node's tag at the first L1 contact and exits 78 if it is unusable.
    #[arg(long, env = "SEQREC_SAFE_DEPTH")]
    pub safe_depth: Option<u64>,
    /// How each step is reported on standard error: `text` (the default) or `json` (one
    /// object per line).
    #[arg(long, env = "SEQREC_LOG_FORMAT", value_parser = ["text", "json"])]
    pub log_format: Option<String>,
    /// What is logged: a level (`error`, `warn`, `info`, `debug`, `trace`) or a `tracing`
    /// filter directive; overrides `RUST_LOG`, which applies when this is not given
    /// (default `info`).
    #[arg(long, env = "SEQREC_LOG_LEVEL")]
    pub log_level: Option<String>,
    /// Serve Prometheus metrics on `http://ADDR/metrics`, with `/healthz` and `/readyz`
    /// (for example `127.0.0.1:9464`). Off by default.
    #[arg(long, env = "SEQREC_METRICS")]
    pub metrics: Option<String>,
    /// With --metrics: keep serving this long after the run stops (`/readyz` then says
    /// not ready), for a last scrape (default 0).
    #[arg(long, env = "SEQREC_METRICS_LINGER_MS")]
    pub metrics_linger_ms: Option<u64>,
    /// Milliseconds an RPC call may take before it counts as failed (default 10000).
    #[arg(long, env = "SEQREC_RPC_TIMEOUT_MS")]
    pub rpc_timeout_ms: Option<u64>,
    /// Where snapshots of the state are written and a restart looks for them (default:
    /// `<log>.snapshots` next to the log).
    #[arg(long, env = "SEQREC_SNAPSHOT_DIR")]
    pub snapshot_dir: Option<PathBuf>,
    /// A snapshot (at a checkpoint of the log) after this many event records; 0: never by
    /// count (default 100000).
    #[arg(long, env = "SEQREC_SNAPSHOT_EVERY_RECORDS")]
    pub snapshot_every_records: Option<u64>,
    /// A snapshot after this many minutes; 0: never by time (default 10).
    #[arg(long, env = "SEQREC_SNAPSHOT_EVERY_MINUTES")]
    pub snapshot_every_minutes: Option<u64>,
    /// How many snapshots are kept (the newest; at least 1; default 3).
    #[arg(long, env = "SEQREC_SNAPSHOTS_KEPT")]
    pub snapshots_kept: Option<usize>,
}

/// The core's boot config from the settings, the submitter being the key's address.
pub(super) fn raw_config(settings: &Settings, submitter: Address) -> Result<RawConfig, String> {
    let args = &settings.args;
    let inbox = settings
        .inbox
        .parse::<Address>()
        .map_err(|error| format!("--inbox: {error}: expected a 0x-prefixed 20-byte address"))?;
    Ok(RawConfig {
        chain_id: Some(settings.chain_id),
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

/// Every rule of the core's config that fails, each with the setting to change
/// (`RawConfig::problems`), then, for a config the core accepts, every live rule
/// (`Config::live_problems`: the safety net's cadences, the RPC timeout against the stale
/// window, the tip floor): an operator fixes them all in one go.
pub(super) fn config_problems(config: &RawConfig, rpc_timeout_ms: u64) -> Vec<String> {
    let core = config.problems();
    if !core.is_empty() {
        return core.iter().map(|problem| with_setting(problem, problem.key())).collect();
    }
    config.validate().map_or_else(
        |problem| vec![with_setting(&problem, problem.key())],
        |valid| {
            valid.live_problems(rpc_timeout_ms).iter().map(|problem| with_setting(problem, problem.key())).collect()
        },
    )
}

/// A rule that fails, with the flag, variable and config file key that set `key`.
fn with_setting(problem: &dyn std::fmt::Display, key: &str) -> String {
    format!(
        "{problem} (set by --{}, SEQREC_{} or `{key}` in the --config file)",
        key.replace('_', "-"),
        key.to_uppercase()
    )
}

/// The RPC endpoint must be an http(s) URL with a host, and calls need a positive timeout.
pub(super) fn check_rpc(settings: &Settings) -> Result<(), String> {
    let url = settings.rpc.trim();
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
    if rest.is_none_or(|rest| rest.is_empty() || rest.starts_with('/') || rest.starts_with(':')) {
        return Err(format!("--rpc: {url:?} is not usable: expected http://HOST[:PORT] or https://HOST[:PORT]"));
    }
    if settings.rpc_timeout_ms == 0 {
        return Err("--rpc-timeout-ms: must be > 0 (an RPC call needs time to answer)".to_owned());
    }
    Ok(())
}
