//! The audit: every decision with its reason, every exit, the facts an operator reads an
//! incident by (boots and what changed in their config, sends with their bids and
//! transaction hashes, our landings in unsafe and safe blocks and the scheduler's verdict
//! on each, refused sends, failed reads and writes), each row keyed by the UTC time of the
//! latest clock reading and the L1 safe head known then; and the state at a sequence
//! number as JSON ("why did it cascade from batch 7?"). The text is for a person: fees in
//! gwei, big numbers grouped, a run of rows that say the same thing folded into one with
//! its count and span; `--json` keeps the exact wei.

use std::fmt::Write as _;
use std::str::FromStr;

use machine::event::{Db, RpcFailed, SendFailed, Sent};
use machine::{BlockNumber, Danger, Effect, Event, ExitCode, Note, State, UnixMillis, Why};
use serde_json::{Value, json};

use crate::landings::{Landing, Seen};
use crate::resend::Resend;
use crate::run::Traced;

/// One line of the audit: where it happened (clock, safe head, step) and what.
#[derive(Debug)]
pub struct Row<'a> {
    /// The step's sequence number.
    pub seq: u64,
    /// The latest clock reading at or before this step; `None` before the first one.
    pub clock: Option<UnixMillis>,
    /// The L1 safe head the state knew after this step; `None` before the first sync.
    pub safe_block: Option<BlockNumber>,
    /// What the row records.
    pub entry: Entry<'a>,
}

/// What an audit row records.
#[derive(Debug)]
pub enum Entry<'a> {
    /// A process start, with what changed in its config since the previous boot.
    Boot {
        /// Config keys whose value differs from the previous boot's, in the config's order.
        changed: Vec<ConfigChange>,
        /// How the previous process ended: `None` for the log's first boot.
        after: Option<Previous>,
    },
    /// A send the node took: wallet nonce, transaction hash, the bid signed.
    Sent(&'a Sent),
    /// A warning: the send before it carried content already sent at another wallet
    /// nonce ([`crate::resend`]).
    Resend(Resend),
    /// A send the node refused, with the adapter's class and the node's error.
    SendFailed(&'a SendFailed),
    /// One of our landings: in an unsafe block, or at the safe head with the scheduler's
    /// verdict (accepted, or skipped and why).
    Landing(&'a Landing),
    /// An L1 read that failed, with the error.
    RpcFailed(&'a RpcFailed),
    /// A local write that failed, with the store's error.
    DbFailed(&'a Db),
    /// A verdict of the core: a decision, a non-safe classification, a warning or an
    /// audited fact (a bid, an adoption, a prune).
    Note(&'a Note),
    /// The process exit the core asked for.
    Exit {
        /// The exit code.
        code: ExitCode,
        /// Why.
        reason: &'a Why,
    },
}

/// How the process before a boot ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Previous {
    /// It asked for this exit.
    Exit(ExitCode),
    /// No exit was recorded since the previous boot: it crashed or was killed.
    Crash,
}

/// One config key that differs between two boots (JSON values as the script writes them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigChange {
    /// The `RawConfig` key.
    pub key: String,
    /// The previous boot's value; `None` when unset.
    pub old: Option<String>,
    /// This boot's value; `None` when unset.
    pub new: Option<String>,
}

/// The audit rows of `steps`, in step order; within a step: the event's fact, the
/// verdicts in the core's order, the exit. Resends are found in the steps' effects.
#[must_use]
pub fn rows(steps: &[Traced]) -> Vec<Row<'_>> {
    rows_with(steps, crate::resend::in_steps(steps))
}

/// [`rows`] with the resends given (a log's, from its recorded effects: [`crate::resend::of_loaded`]),
/// each right after the `sent` row of its step.
#[must_use]
pub fn rows_with(steps: &[Traced], resends: Vec<Resend>) -> Vec<Row<'_>> {
    let mut resends = resends.into_iter().peekable();
    let mut rows = Vec::new();
    let mut clock = None;
    let mut previous_config: Option<Value> = None;
    let mut previous_end: Option<Previous> = None;
    for traced in steps {
        clock = traced.event.now_ms().or(clock);
        let mut push = |entry| rows.push(Row { seq: traced.seq, clock, safe_block: traced.safe_block, entry });
        match &traced.event {
            Event::Boot(boot) => {
                let config = serde_json::to_value(&boot.config).unwrap_or(Value::Null);
                let changed = previous_config.as_ref().map(|old| config_changes(old, &config)).unwrap_or_default();
                let after = previous_config.as_ref().map(|_| previous_end.unwrap_or(Previous::Crash));
                push(Entry::Boot { changed, after });
                previous_config = Some(config);
                previous_end = None;
            }
            Event::Sent(sent) => {
                push(Entry::Sent(sent));
                while let Some(resend) = resends.next_if(|resend| resend.again.seq <= traced.seq) {
                    push(Entry::Resend(resend));
                }
            }
            Event::SendFailed(failed) => push(Entry::SendFailed(failed)),
            Event::RpcFailed(failed) => push(Entry::RpcFailed(failed)),
            Event::Db(db) if !db.ok => push(Entry::DbFailed(db)),
            _ => {}
        }
        for landing in &traced.landings {
            push(Entry::Landing(landing));
        }
        for note in traced.step.notes.iter().filter(|note| {
            note.decision.is_some()
                || note.danger.is_some_and(|danger| danger != Danger::Safe)
                || note.why.audited().is_some()
        }) {
            push(Entry::Note(note));
        }
        for effect in &traced.step.effects {
            if let Effect::Exit { code, reason } = effect {
                push(Entry::Exit { code: *code, reason });
                previous_end = Some(Previous::Exit(*code));
            }
        }
    }
    rows
}

/// The keys whose values differ between two configs' JSON objects: the new config's keys
/// in order, then keys only the old one set.
fn config_changes(old: &Value, new: &Value) -> Vec<ConfigChange> {
    let empty = serde_json::Map::new();
    let (old, new) = (old.as_object().unwrap_or(&empty), new.as_object().unwrap_or(&empty));
    let show = |value: Option<&Value>| {
        value.map(|value| match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
    };
    let keys = new.keys().chain(old.keys().filter(|key| !new.contains_key(*key)));
    keys.filter(|key| old.get(*key) != new.get(*key))
        .map(|key| ConfigChange { key: key.clone(), old: show(old.get(key)), new: show(new.get(key)) })
        .collect()
}

impl Row<'_> {
    /// The short name in the audit's "what" column.
    #[must_use]
    pub fn label(&self) -> String {
        match &self.entry {
            Entry::Boot { .. } => "boot".to_owned(),
            Entry::Sent(_) => "sent".to_owned(),
            Entry::Resend(resend) => resend.label().to_owned(),
            Entry::SendFailed(_) => "send_failed".to_owned(),
            Entry::Landing(landing) => landing.seen.label().to_owned(),
            Entry::RpcFailed(_) => "rpc_failed".to_owned(),
            Entry::DbFailed(_) => "db_failed".to_owned(),
            Entry::Note(note) => match (note.decision, note.danger) {
                (Some(decision), _) => decision.name().to_owned(),
                (None, Some(danger)) if danger != Danger::Safe => danger.name().to_owned(),
                _ => note.why.audited().unwrap_or("rejected").to_owned(),
            },
            Entry::Exit { code, .. } => format!("exit {}", code.name()),
        }
    }

    /// The sentence in the audit's last column.
    #[must_use]
    pub fn details(&self) -> String {
        match &self.entry {
            Entry::Boot { after: None, .. } => "first boot in this log".to_owned(),
            Entry::Boot { changed, after: Some(after) } => {
                let mut out = match after {
                    Previous::Exit(code) => format!("restart after exit {}", code.name()),
                    Previous::Crash => "restart after a crash (no exit recorded since the previous boot)".to_owned(),
                };
                if changed.is_empty() {
                    out.push_str("; config unchanged");
                } else {
                    out.push_str("; config changed:");
                    for (i, change) in changed.iter().enumerate() {
                        let show = |value: &Option<String>| value.clone().unwrap_or_else(|| "unset".to_owned());
                        let sep = if i == 0 { " " } else { ", " };
                        let _ = write!(out, "{sep}{} {} -> {}", change.key, show(&change.old), show(&change.new));
                    }
                }
                out
            }
            Entry::Sent(sent) => {
                let mut out = format!("sent at wallet nonce {}: tx {}", sent.w_nonce, sent.tx_hash);
                match sent.bid() {
                    Some(bid) => {
                        let _ = write!(out, ", {bid:#}");
                    }
                    None => out.push_str(", no bid recorded"),
                }
                if let Some(gas_limit) = sent.gas_limit {
                    let _ = write!(out, ", gas limit {}", machine::grouped(gas_limit));
                }
                out
            }
            Entry::Landing(landing) => landing.to_string(),
            Entry::Resend(resend) => resend.details(),
            Entry::SendFailed(failed) => format!(
                "send at wallet nonce {} failed ({}): {}",
                failed.w_nonce,
                failed.class.map_or("unclassified", machine::SendClass::name),
                failed.error
            ),
            Entry::RpcFailed(failed) => format!("{} read failed: {}", failed.call.name(), failed.error),
            Entry::DbFailed(db) => {
                format!("db op {} failed: {}", db.op, db.error.as_deref().unwrap_or("no message from the store"))
            }
            Entry::Note(note) => format!("{:#}", note.why),
            Entry::Exit { reason, .. } => format!("{reason:#}"),
        }
    }

    /// The row's value for a bound of the same kind (`None`: before the first one).
    fn key(&self, bound: Bound) -> Option<u64> {
        match bound {
            Bound::Time(_) => self.clock.map(|clock| clock.0 / 1000),
            Bound::Block(_) => self.safe_block.map(|block| block.0),
        }
    }

    /// The row as one JSON object: the text columns, plus the fields of what it records.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut object = json!({
            "time": self.clock.map(utc),
            "now_ms": self.clock,
            "safe_block": self.safe_block,
            "seq": self.seq,
            "what": self.label(),
            "why": self.details(),
        });
        let fields = match &self.entry {
            Entry::Boot { changed, after } => json!({
                "after": after.map(|after| match after {
                    Previous::Exit(code) => code.name(),
                    Previous::Crash => "crash",
                }),
                "changed": changed
                    .iter()
                    .map(|change| json!({ "key": change.key, "old": change.old, "new": change.new }))
                    .collect::<Vec<_>>(),
            }),
            Entry::Sent(sent) => json!({
                "w_nonce": sent.w_nonce,
                "tx_hash": sent.tx_hash.to_string(),
                "max_fee_per_gas": sent.max_fee_per_gas,
                "max_priority_fee_per_gas": sent.max_priority_fee_per_gas,
                "gas_limit": sent.gas_limit,
            }),
            Entry::Resend(resend) => resend.fields(),
            Entry::SendFailed(failed) => json!({
                "w_nonce": failed.w_nonce,
                "class": failed.class.map(machine::SendClass::name),
                "error": failed.error,
            }),
            Entry::Landing(landing) => json!({
                "batch": landing.batch,
                "nonce": landing.nonce,
                "w_nonce": landing.at.map(|(w_nonce, _)| w_nonce),
                "block": landing.at.map(|(_, block)| block),
                "landing": if landing.seen == Seen::Unsafe { "unsafe" } else { "safe" },
                "judgement": landing.seen.name(),
                "expected_nonce": match landing.seen {
                    Seen::WrongNonce { expected } => Some(expected),
                    _ => None,
                },
            }),
            Entry::RpcFailed(failed) => json!({ "call": failed.call.name(), "error": failed.error }),
            Entry::DbFailed(db) => json!({ "op": db.op, "error": db.error }),
            Entry::Note(note) => {
                let mut fields = json!({
                    "danger": note.danger.map(Danger::name),
                    "danger_batch": note.danger.and_then(Danger::batch),
                    "decision": note.decision.map(machine::Decision::name),
                    "warning": note.why.warning(),
                    "fact": note.why.audited().filter(|_| note.why.warning().is_none()),
                });
                // The text says gwei; the exact amounts, in wei (decimal strings), are here.
                let (bid, cap) = match &note.why {
                    Why::Bid { bid, .. } => (Some(bid), None),
                    Why::HoldFeeCap { bid, cap, .. } => (Some(bid), Some(cap)),
                    _ => (None, None),
                };
                if let (Some(map), Some(bid)) = (fields.as_object_mut(), bid) {
                    map.insert("max_fee_per_gas".into(), json!(bid.max_fee_per_gas));
                    map.insert("max_priority_fee_per_gas".into(), json!(bid.max_priority_fee_per_gas));
                    if let Some(cap) = cap {
                        map.insert("fee_cap_wei".into(), json!(cap));
                    }
                }
                fields
            }
            Entry::Exit { code, .. } => json!({ "exit": code.name() }),
        };
        if let (Some(map), Value::Object(fields)) = (object.as_object_mut(), fields) {
            map.extend(fields);
        }
        object
    }
}

/// A clock reading as an RFC 3339 UTC time to the second (`2026-12-07T01:02:03Z`); a
/// reading outside the years 1970..=9999 is shown as its milliseconds.
#[must_use]
pub fn utc(clock: UnixMillis) -> String {
    i64::try_from(clock.0 / 1000)
        .ok()
        .and_then(|seconds| jiff::Timestamp::from_second(seconds).ok())
        .map_or_else(|| format!("{} ms", clock.0), |timestamp| timestamp.to_string())
}

/// One end of `audit --since/--until`: a UTC time or an L1 safe head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    /// A clock reading (RFC 3339, any offset; compared with each row's latest reading).
    Time(UnixMillis),
    /// An L1 safe head (`block:N`; compared with each row's known safe head).
    Block(BlockNumber),
}

/// A `--since`/`--until` value that cannot be used.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BoundError {
    /// A bare number: a block, a step or a Unix time? It must say.
    #[error(
        "`{value}` is a bare number: write `block:{value}` for an L1 safe head, or an RFC 3339 UTC time such as 2026-12-07T01:02:03Z"
    )]
    BareNumber {
        /// The value given.
        value: String,
    },
    /// `block:` without a decimal block number after it.
    #[error("`{value}`: expected `block:N` with N a decimal L1 block number, such as block:19000000")]
    BadBlock {
        /// The value given.
        value: String,
    },
    /// Not an RFC 3339 time.
    #[error(
        "`{value}` is neither `block:N` nor an RFC 3339 time with an offset, such as 2026-12-07T01:02:03Z ({reason})"
    )]
    BadTime {
        /// The value given.
        value: String,
        /// What the time parser said.
        reason: String,
    },
    /// A time before 1970: no clock reading can be there.
    #[error("`{value}` is before 1970-01-01T00:00:00Z, where no clock reading can be")]
    BeforeEpoch {
        /// The value given.
        value: String,
    },
}

impl FromStr for Bound {
    type Err = BoundError;

    fn from_str(value: &str) -> Result<Bound, BoundError> {
        let owned = || value.to_owned();
        if let Some(block) = value.strip_prefix("block:") {
            return block
                .parse()
                .map(|n| Bound::Block(BlockNumber(n)))
                .map_err(|_| BoundError::BadBlock { value: owned() });
        }
        if !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(BoundError::BareNumber { value: owned() });
        }
        let timestamp: jiff::Timestamp = value
            .parse()
            .map_err(|error: jiff::Error| BoundError::BadTime { value: owned(), reason: error.to_string() })?;
        u64::try_from(timestamp.as_millisecond())
            .map(|ms| Bound::Time(UnixMillis(ms)))
            .map_err(|_| BoundError::BeforeEpoch { value: owned() })
    }
}

/// Which rows `audit` prints: those at or after `since` and at or before `until`, times
/// compared to the second, as the rows show them. A row with no clock reading (or no safe
/// head) yet is earlier than any time (or block).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    /// The first time or block shown.
    pub since: Option<Bound>,
    /// The last time or block shown.
    pub until: Option<Bound>,
}

impl Window {
    fn contains(&self, row: &Row<'_>) -> bool {
        let after_since = self.since.is_none_or(|since| row.key(since).is_some_and(|key| key >= bound_value(since)));
        let before_until = self.until.is_none_or(|until| row.key(until).is_none_or(|key| key <= bound_value(until)));
        after_since && before_until
    }
}

fn bound_value(bound: Bound) -> u64 {
    match bound {
        Bound::Time(clock) => clock.0 / 1000,
        Bound::Block(block) => block.0,
    }
}

/// One line per row: UTC time, safe head, step, what, details.
#[must_use]
pub fn render_decisions(steps: &[Traced]) -> String {
    render_within(steps, Window::default(), false)
}

/// The same rows as [`render_decisions`], one JSON object per line.
#[must_use]
pub fn render_decisions_json(steps: &[Traced]) -> String {
    render_within(steps, Window::default(), true)
}

/// A run of consecutive rows that say the same (what and details), told once: the first
/// row, and the last one's step, time and safe head when there are more.
struct Folded<'r, 'a> {
    first: &'r Row<'a>,
    last: &'r Row<'a>,
    count: u64,
    what: String,
    details: String,
}

/// Folds consecutive rows whose what and details are equal: a fee-cap hold repeated
/// every round for hours is one row with its count, not ten thousand.
fn fold<'r, 'a>(rows: impl Iterator<Item = &'r Row<'a>>) -> Vec<Folded<'r, 'a>>
where
    'a: 'r,
{
    let mut folded: Vec<Folded<'r, 'a>> = Vec::new();
    for row in rows {
        let (what, details) = (row.label(), row.details());
        match folded.last_mut() {
            Some(run) if run.what == what && run.details == details => {
                run.last = row;
                run.count += 1;
            }
            _ => folded.push(Folded { first: row, last: row, count: 1, what, details }),
        }
    }
    folded
}

/// The rows inside `window`, as text (with a header line) or as JSON lines; a run of
/// rows that say the same is folded into its first, with `×N, to …` in the text and
/// `repeated`, `last_seq`, `last_time`, `last_now_ms`, `last_safe_block` in the JSON.
#[must_use]
pub fn render_within(steps: &[Traced], window: Window, json: bool) -> String {
    render_rows(&rows(steps), window, json)
}

/// What `seqrec audit` prints for what it loaded: [`render_within`], with a log's resends
/// read from its recorded effects (what the process sent, whatever this build would do).
#[must_use]
pub fn render_loaded(loaded: &crate::cli::Loaded, steps: &[Traced], window: Window, json: bool) -> String {
    render_rows(&rows_with(steps, crate::resend::of_loaded(loaded, steps)), window, json)
}

fn render_rows(rows: &[Row<'_>], window: Window, json: bool) -> String {
    let mut out = String::new();
    if !json {
        let _ = writeln!(out, "{:<20}  {:>9}  {:<7} {:<22} details", "time (UTC)", "safe head", "step", "what");
    }
    for run in fold(rows.iter().filter(|row| window.contains(row))) {
        let (first, last) = (run.first, run.last);
        if json {
            let mut object = first.to_json();
            if let (Some(map), true) = (object.as_object_mut(), run.count > 1) {
                map.insert("repeated".into(), json!(run.count));
                map.insert("last_seq".into(), json!(last.seq));
                map.insert("last_time".into(), json!(last.clock.map(utc)));
                map.insert("last_now_ms".into(), json!(last.clock));
                map.insert("last_safe_block".into(), json!(last.safe_block));
            }
            let _ = writeln!(out, "{object}");
        } else {
            let time = first.clock.map_or_else(|| "-".to_owned(), utc);
            let safe = first.safe_block.map_or_else(|| "-".to_owned(), |block| block.to_string());
            let step = format!("#{}", first.seq);
            let repeated = if run.count > 1 {
                format!(
                    "×{}, to #{} at {} (safe head {}): ",
                    machine::grouped(run.count),
                    last.seq,
                    last.clock.map_or_else(|| "-".to_owned(), utc),
                    last.safe_block.map_or_else(|| "-".to_owned(), |block| block.to_string())
                )
            } else {
                String::new()
            };
            let _ = writeln!(out, "{time:<20}  {safe:>9}  {step:<7} {:<22} {repeated}{}", run.what, run.details);
        }
    }
    out
}

/// The state as JSON: config identity, tree with colors, frontier, watermark, generation,
/// and the summary of what was pruned (docs/protocol.md §11.6).
#[must_use]
pub fn state_json(state: &State) -> Value {
    let colors = state.colors();
    let batches: Vec<Value> = state
        .tree()
        .batches()
        .iter()
        .map(|batch| {
            let color = colors.iter().find(|(index, _)| *index == batch.index).map(|(_, color)| format!("{color:?}"));
            json!({
                "index": batch.index,
                "parent": batch.parent,
                "nonce": batch.nonce,
                "first_frame_safe_block": batch.first_frame_safe_block,
                "drain": [batch.drain_from, batch.drain_to],
                "wire_hash": batch.sealed.as_ref().map(|sealed| sealed.wire_hash.to_string()),
                "valid": batch.valid,
                "color": color,
            })
        })
        .collect();
    let slots: Vec<Value> = state
        .wallet()
        .slots
        .iter()
        .map(|(w_nonce, slot)| {
            json!({
                "w_nonce": w_nonce,
                "last": slot.last,
                "batches": slot.batches.iter().map(|(index, _, _)| index).collect::<Vec<_>>(),
                "tx_hash": slot.tx_hash.map(|hash| hash.to_string()),
            })
        })
        .collect();
    let pruned = state.tree().pruned();
    json!({
        "gold_frontier": state.scheduler().expected_nonce,
        "divergence": state.scheduler().divergence,
        "generation": state.generation(),
        "watermark": state.wallet().watermark,
        "safe_block": state.view().safe_block,
        "safe_timestamp": state.view().safe_timestamp_s,
        "direct_inputs": state.view().direct_inputs,
        "intake_open": state.intake_open(),
        "now_ms": state.now_ms(),
        "batches": batches,
        "slots": slots,
        "pruned": {
            "batches": pruned.count,
            "last_index": pruned.last_index,
            "last_nonce": pruned.last_nonce,
            "slots_through": state.wallet().pruned_through,
            "hash": pruned.hash.to_string(),
        },
        "state_hash": state.state_hash().to_string(),
    })
}
