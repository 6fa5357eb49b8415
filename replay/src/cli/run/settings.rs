//! `seqrec run`'s effective settings: flags over environment variables (both through
//! clap) over the `--config` TOML file over the defaults, with where each came from, so
//! `--print-config` can say it and a missing required setting names all three places.

use std::path::PathBuf;

use super::RunArgs;
use crate::checkpointer::{SNAPSHOT_EVERY_MINUTES, SNAPSHOT_EVERY_RECORDS, SNAPSHOTS_KEPT};

/// The default `--rpc-timeout-ms`.
const RPC_TIMEOUT_MS: u64 = 10_000;

/// Where a setting's value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Source {
    Flag,
    Env,
    File,
    Default,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::Env => "environment",
            Source::File => "config file",
            Source::Default => "default",
        }
    }
}

/// The settings `run` uses, the required ones resolved.
#[derive(Debug)]
pub(super) struct Settings {
    /// Every setting after the merge (optional ones may still be `None`: the core's
    /// defaults then apply).
    pub args: RunArgs,
    pub rpc: String,
    pub db: PathBuf,
    pub log: PathBuf,
    pub chain_id: u64,
    pub inbox: String,
    pub json_logs: bool,
    pub rpc_timeout_ms: u64,
    pub snapshot_every_records: u64,
    pub snapshot_every_minutes: u64,
    pub snapshots_kept: usize,
    /// Each setting's key and source, in the order of `--help`.
    pub sources: Vec<(&'static str, Source)>,
}

/// Fills every field of `$args` that flags and environment left empty from `$file`,
/// noting each field's source in `$sources`.
macro_rules! merge {
    ($args:ident, $file:ident, $sources:ident; $($field:ident),* $(,)?) => {$(
        let source = if $args.$field.is_some() {
            given(stringify!($field))
        } else if $file.$field.is_some() {
            $args.$field = $file.$field.take();
            Source::File
        } else {
            Source::Default
        };
        $sources.push((stringify!($field), source));
    )*};
}

/// Where clap took a value from: the command line when the flag is on it, else the
/// environment (clap reads no other place).
fn given(field: &str) -> Source {
    let flag = format!("--{}", field.replace('_', "-"));
    let on_command_line = std::env::args_os().any(|arg| {
        let arg = arg.to_string_lossy();
        arg == flag || arg.strip_prefix(&flag).is_some_and(|rest| rest.starts_with('='))
    });
    let variable = format!("SEQREC_{}", field.to_uppercase());
    if !on_command_line && std::env::var_os(variable).is_some() { Source::Env } else { Source::Flag }
}

/// Merges the config file into `args` and resolves the required settings.
///
/// # Errors
/// Every problem found, each a line naming the setting and what to do: an unreadable or
/// invalid file (with the parser's line and column), a missing required setting, a bad
/// log format.
pub(super) fn settings(mut args: RunArgs) -> Result<Settings, Vec<String>> {
    let mut file = match &args.config {
        Some(path) => read_file(path).map_err(|problem| vec![problem])?,
        None => RunArgs::default(),
    };
    let mut sources = Vec::new();
    merge!(args, file, sources;
        rpc, db, log, segment_bytes, key_file, keystore, password_file, chain_id, inbox, max_wait_blocks,
        preemptive_margin_blocks, l1_read_stale_after_blocks, seconds_per_block, confirmation_depth,
        detector_interval_ms, submit_interval_ms, max_batch_bytes, start_block, min_tip_wei, max_fee_cap_wei,
        flush_cap_multiplier, resubmit_after_blocks, prune_after_blocks, safe_depth, log_format, log_level, metrics,
        metrics_linger_ms,
        rpc_timeout_ms, snapshot_dir, snapshot_every_records, snapshot_every_minutes, snapshots_kept,
    );
    let adopt = if args.adopt_l1_history {
        given("adopt_l1_history")
    } else if file.adopt_l1_history {
        args.adopt_l1_history = true;
        Source::File
    } else {
        Source::Default
    };
    sources.push(("adopt_l1_history", adopt));
    let mut problems = Vec::new();
    let mut required = |value: Option<String>, key: &str| {
        if value.is_none() {
            problems.push(format!(
                "{key}: required: give --{}, set SEQREC_{} or put `{key} = …` in the --config file",
                key.replace('_', "-"),
                key.to_uppercase()
            ));
        }
        value
    };
    let rpc = required(args.rpc.clone(), "rpc");
    let db = required(args.db.as_ref().map(|p| p.display().to_string()), "db");
    let log = required(args.log.as_ref().map(|p| p.display().to_string()), "log");
    let chain_id = required(args.chain_id.map(|id| id.to_string()), "chain_id");
    let inbox = required(args.inbox.clone(), "inbox");
    let json_logs = match args.log_format.as_deref() {
        None | Some("text") => false,
        Some("json") => true,
        Some(other) => {
            problems.push(format!("log_format: {other:?} is not a log format: use \"text\" or \"json\""));
            false
        }
    };
    let (Some(rpc), Some(_), Some(_), Some(_), Some(inbox), true) =
        (rpc, db, log, chain_id, inbox, problems.is_empty())
    else {
        return Err(problems);
    };
    Ok(Settings {
        rpc,
        db: args.db.clone().unwrap_or_default(),
        log: args.log.clone().unwrap_or_default(),
        chain_id: args.chain_id.unwrap_or_default(),
        inbox,
        json_logs,
        rpc_timeout_ms: args.rpc_timeout_ms.unwrap_or(RPC_TIMEOUT_MS),
        snapshot_every_records: args.snapshot_every_records.unwrap_or(SNAPSHOT_EVERY_RECORDS),
        snapshot_every_minutes: args.snapshot_every_minutes.unwrap_or(SNAPSHOT_EVERY_MINUTES),
        snapshots_kept: args.snapshots_kept.unwrap_or(SNAPSHOTS_KEPT),
        sources,
        args,
    })
}

/// Reads a `--config` file: TOML whose keys are `run`'s settings.
fn read_file(path: &std::path::Path) -> Result<RunArgs, String> {
    let text =
        std::fs::read_to_string(path).map_err(|error| format!("--config {}: cannot read: {error}", path.display()))?;
    toml::from_str(&text).map_err(|error| {
        let message = error.message();
        let at = error.span().map(|span| line_column(&text, span.start));
        match at {
            Some((line, column)) => format!("--config {}:{line}:{column}: {message}", path.display()),
            None => format!("--config {}: {message}", path.display()),
        }
    })
}

/// The 1-based line and column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |last| last.chars().count()) + 1;
    (line, column)
}

impl Settings {
    /// The effective settings as a TOML document a `--config` file could hold, each line
    /// commented with its source; unset settings as comments with the default that
    /// applies. The key is never shown: only where it comes from.
    pub(super) fn render(&self) -> String {
        let values = serde_json::to_value(&self.args).unwrap_or_default();
        let mut out = String::from("# seqrec run: effective settings (flag > environment > config file > default)\n");
        for (key, source) in &self.sources {
            let value = values.get(*key).filter(|value| !value.is_null() && **value != serde_json::Value::Bool(false));
            match value {
                Some(value) => out.push_str(&format!("{key} = {value}  # {}\n", source.name())),
                None => out.push_str(&format!("# {key}: {}\n", default_of(key))),
            }
        }
        let key = if self.args.key_file.is_some() {
            "the key file above"
        } else if self.args.keystore.is_some() {
            "the keystore above, with the password file"
        } else if std::env::var_os("SEQREC_KEY").is_some() {
            "SEQREC_KEY (set; not shown)"
        } else {
            "none given: run needs --key-file, --keystore or SEQREC_KEY"
        };
        out.push_str(&format!("# the signing key: {key}\n"));
        out
    }
}

/// What applies when `key` is not set.
fn default_of(key: &str) -> String {
    match key {
        "rpc_timeout_ms" => format!("default {RPC_TIMEOUT_MS}"),
        "snapshot_every_records" => format!("default {SNAPSHOT_EVERY_RECORDS}"),
        "snapshot_every_minutes" => format!("default {SNAPSHOT_EVERY_MINUTES}"),
        "snapshots_kept" => format!("default {SNAPSHOTS_KEPT}"),
        "log_format" => "default \"text\"".to_owned(),
        "metrics" => "not set: no metrics server".to_owned(),
        "metrics_linger_ms" => "default 0".to_owned(),
        "log_level" => "default RUST_LOG, else \"info\"".to_owned(),
        "snapshot_dir" => "default <log>.snapshots".to_owned(),
        "segment_bytes" => format!("default {} (a directory --log only)", crate::log::SEGMENT_BYTES),
        "adopt_l1_history" => "default false".to_owned(),
        "key_file" | "keystore" | "password_file" => "not set".to_owned(),
        "safe_depth" => "not set: the node's `safe` tag is used".to_owned(),
        "max_fee_cap_wei" => "not set: no cap".to_owned(),
        _ => "the core's default (docs/protocol.md §3; `seqrec audit` shows the boot config)".to_owned(),
    }
}
