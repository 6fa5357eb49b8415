//! `seqrec run`'s effective settings: flags over environment variables (both through
//! clap) over the `--config` TOML file over the defaults, with where each came from, so
//! `--print-config` can say it and a missing required setting names all three places.

use std::path::PathBuf;

use machine::{Address, Config, RawConfig};

use super::RunArgs;
use super::args::{config_problems, raw_config};
use super::key::redact_keys;
use crate::checkpointer::{SNAPSHOT_EVERY_MINUTES, SNAPSHOT_EVERY_RECORDS, SNAPSHOTS_KEPT};
use crate::snapshot_dir::default_dir;

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
    /// commented with its source; a setting not given shows the value that applies (the
    /// core's default resolved as `Config::validate` resolves it, a derived one included),
    /// and one without a value is a comment saying what its absence means. The key is
    /// never shown, only where it comes from; every line goes through `redact_keys`.
    pub(super) fn render(&self) -> String {
        let values = serde_json::to_value(&self.args).unwrap_or_default();
        let raw = raw_config(self, Address::default());
        let resolved = raw.as_ref().ok().and_then(|raw| raw.validate().ok());
        let problems = match &raw {
            Ok(raw) => config_problems(raw, self.rpc_timeout_ms),
            Err(problem) => vec![problem.clone()],
        };
        let mut out = String::from("# seqrec run: effective settings (flag > environment > config file > default)\n");
        for (key, source) in &self.sources {
            let given = values.get(*key).filter(|value| !value.is_null() && **value != serde_json::Value::Bool(false));
            match (given, self.default_value(key, resolved.as_ref())) {
                (Some(value), _) => out.push_str(&format!("{key} = {value}  # {}\n", source.name())),
                (None, Ok(value)) => out.push_str(&format!("{key} = {value}  # default\n")),
                (None, Err(absent)) => out.push_str(&format!("# {key}: {absent}\n")),
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
        for problem in problems {
            out.push_str(&format!("# problem: {problem}\n"));
        }
        redact_keys(&out)
    }

    /// The value that applies to `key` when it is not given, as TOML, or what its absence
    /// means. The core's settings come from `resolved` (the boot config after
    /// `Config::validate`); while the config is invalid, a setting derived from others is
    /// not shown.
    fn default_value(&self, key: &str, resolved: Option<&Config>) -> Result<String, String> {
        let number = |value: u64| Ok(value.to_string());
        let core = resolved.map_or_else(core_defaults, |config| Ok(*config));
        let derived = |value: fn(&Config) -> u64| {
            resolved.map_or_else(
                || Err("derived from other settings; not shown while the config is invalid".to_owned()),
                |config| number(value(config)),
            )
        };
        match key {
            "rpc_timeout_ms" => number(RPC_TIMEOUT_MS),
            "snapshot_every_records" => number(SNAPSHOT_EVERY_RECORDS),
            "snapshot_every_minutes" => number(SNAPSHOT_EVERY_MINUTES),
            "snapshots_kept" => Ok(SNAPSHOTS_KEPT.to_string()),
            "log_format" => Ok("\"text\"".to_owned()),
            "metrics" => Err("not set: no metrics server".to_owned()),
            "metrics_linger_ms" => number(0),
            "log_level" => match std::env::var("RUST_LOG") {
                Ok(filter) => Err(format!("not set: RUST_LOG applies ({filter:?})")),
                Err(_) => Ok("\"info\"".to_owned()),
            },
            "snapshot_dir" => Ok(toml_string(&default_dir(&self.log).display().to_string())),
            "segment_bytes" if self.log.is_dir() || self.log.as_os_str().to_string_lossy().ends_with('/') => {
                number(crate::log::SEGMENT_BYTES)
            }
            "segment_bytes" => Err("not used: --log is a single file (segments need a directory)".to_owned()),
            "key_file" | "keystore" | "password_file" => Err("not set".to_owned()),
            "safe_depth" => Err("not set: the node's `safe` tag is used".to_owned()),
            "max_fee_cap_wei" => Err("not set: no cap".to_owned()),
            "l1_read_stale_after_blocks" => derived(Config::l1_read_stale_after_blocks),
            "prune_after_blocks" => derived(Config::prune_after_blocks),
            _ => {
                let core = core.map_err(|error| format!("the core's default (unknown: {error})"))?;
                match key {
                    "max_wait_blocks" => number(core.max_wait_blocks()),
                    "preemptive_margin_blocks" => number(core.preemptive_margin_blocks()),
                    "seconds_per_block" => number(core.seconds_per_block()),
                    "confirmation_depth" => number(core.confirmation_depth()),
                    "detector_interval_ms" => number(core.detector_interval_ms()),
                    "submit_interval_ms" => number(core.submit_interval_ms()),
                    "max_batch_bytes" => number(core.max_batch_bytes()),
                    "start_block" => number(core.start_block().0),
                    "min_tip_wei" => Ok(core.min_tip_wei().0.to_string()),
                    "flush_cap_multiplier" => number(core.flush_cap_multiplier()),
                    "resubmit_after_blocks" => number(core.resubmit_after_blocks()),
                    "adopt_l1_history" => Ok(core.adopt_l1_history().to_string()),
                    _ => Err("the core's default (docs/protocol.md §3)".to_owned()),
                }
            }
        }
    }
}

/// The core's defaults: a boot config with only its required fields.
fn core_defaults() -> Result<Config, machine::ConfigError> {
    let address = Some(Address::default());
    RawConfig { chain_id: Some(0), batch_submitter: address, inbox: address, ..RawConfig::default() }.validate()
}

/// `text` as a TOML string.
fn toml_string(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}
