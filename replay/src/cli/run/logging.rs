//! What `seqrec run` says on standard error: tracing, filtered by `--log-level` or
//! `RUST_LOG`, as text or JSON lines. Levels (ARCHITECTURE.md choice 59): ERROR for
//! every failed send, read or database write (with the underlying error), every exit
//! other than a clean shutdown and every reason that needs an operator; WARN for every
//! danger other than safe, every hold and refused or retried send, and the tuning
//! warnings; INFO for each send (wallet nonce, what it carries, hash, bid, gas), the
//! startup decisions, boots, bids and snapshots; DEBUG for every other fact.

use std::collections::HashMap;

use machine::{Bid, Danger, Effect, Event, ExitCode, State, Step, WalletNonce};

use crate::landings::{Landings, Seen};
use tracing_subscriber::EnvFilter;

/// The filter when neither `--log-level` nor `RUST_LOG` gives one.
const DEFAULT_FILTER: &str = "info";

/// Installs the subscriber: `level` (`--log-level`, a level or a `tracing` filter
/// directive such as `info,seqrec=debug`) over `RUST_LOG` over [`DEFAULT_FILTER`].
///
/// # Errors
/// A filter that does not parse, with the parser's reason.
pub(super) fn init_logging(json: bool, level: Option<&str>) -> Result<(), String> {
    let filter = match level {
        Some(level) => EnvFilter::try_new(level).map_err(|error| format!("--log-level {level:?}: {error}"))?,
        None => match std::env::var("RUST_LOG") {
            Ok(directives) if !directives.trim().is_empty() => {
                EnvFilter::try_new(&directives).map_err(|error| format!("RUST_LOG={directives:?}: {error}"))?
            }
            _ => EnvFilter::new(DEFAULT_FILTER),
        },
    };
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(false)
        .with_env_filter(filter);
    // A second initialization (tests run several `run`s in one process) keeps the first.
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
    Ok(())
}

/// What a send in flight carries, remembered from the step that asked for it until its
/// outcome arrives, so the outcome's line can say it.
#[derive(Clone, Copy, Debug)]
struct Asked {
    /// The batch index and scheduler nonce, or `None` for a no-op.
    batch: Option<(u64, u64)>,
    bid: Option<Bid>,
    wire_bytes: usize,
}

/// Logs each step of the run loop at the level its content deserves.
#[derive(Debug)]
pub(super) struct StepLog {
    asked: HashMap<WalletNonce, Asked>,
    /// Our landings seen so far, for a line when one lands or is judged.
    landings: Landings,
}

impl StepLog {
    /// A log for the steps after `state` (the resumed state).
    pub(super) fn new(state: &State) -> StepLog {
        StepLog { asked: HashMap::new(), landings: Landings::new(state) }
    }

    /// Logs the step that `event` caused, `state` being the state after it; `seq` is the
    /// event's 0-based number in the whole log, the `#N` of `seqrec audit` and `trace`.
    pub(super) fn stepped(&mut self, seq: u64, state: &State, event: &Event, step: &Step) {
        let (step_number, generation) = (seq, state.generation());
        self.outcome(event, step_number);
        for landing in self.landings.after_step(event, state) {
            let (what, text) = (landing.seen.label(), landing.to_string());
            let (nonce, batch) = (landing.nonce.0, landing.batch.map(|batch| batch.0));
            let block = landing.at.map(|(_, block)| block.0);
            match landing.seen {
                Seen::Unsafe | Seen::Accepted => {
                    tracing::info!(step = step_number, what, batch, nonce, block, why = %text, "landing");
                }
                Seen::Diverged | Seen::Stale { .. } | Seen::WrongNonce { .. } | Seen::Undecodable => {
                    tracing::warn!(step = step_number, what, batch, nonce, block, why = %text, "landing");
                }
            }
        }
        for note in &step.notes {
            // For a person: fees in gwei, sizes grouped (`{:#}`); the fields keep wei.
            let why = format!("{:#}", note.why);
            let danger = note.danger.map_or("", Danger::name);
            let decision = note.decision.map_or("", machine::Decision::name);
            let event = event.name();
            let endangered = note.danger.is_some_and(|d| d != Danger::Safe);
            if let Some(error) = note.why.error() {
                // docs/protocol.md §11.1: an account that cannot pay for its sends needs an operator.
                tracing::error!(step = step_number, event, error, generation, why = %why, "error");
            } else if endangered {
                tracing::warn!(step = step_number, event, danger, decision, generation, why = %why, "danger");
            } else if let Some(warning) = note.why.warning() {
                // A send held at the fee cap or refused, a tuning change between boots, a
                // refused seal, a lagging node.
                tracing::warn!(step = step_number, event, warning, decision, generation, why = %why, "warning");
            } else if note.decision.is_some() {
                tracing::info!(step = step_number, event, danger, decision, generation, why = %why, "decision");
            } else if note.why.audited().is_some() {
                // Every bid, adoption and pruning, with its reason (docs/protocol.md §11.1).
                tracing::info!(step = step_number, event, generation, why = %why, "fact");
            } else {
                tracing::debug!(step = step_number, event, danger, generation, why = %why, "step");
            }
        }
        for effect in &step.effects {
            self.effect(effect, step_number, generation);
        }
    }

    /// The outcome an event reports of an earlier effect: a send, a failed read or write.
    fn outcome(&mut self, event: &Event, step: u64) {
        match event {
            Event::Sent(sent) => {
                let asked = self.asked.remove(&sent.w_nonce);
                let carries = asked.map_or_else(|| "unknown".to_owned(), |asked| carries(asked.batch));
                let bid = sent.bid().or(asked.and_then(|asked| asked.bid));
                tracing::info!(
                    step,
                    w_nonce = sent.w_nonce.0,
                    carries,
                    tx_hash = %sent.tx_hash,
                    max_fee_per_gas = bid.map(|bid| bid.max_fee_per_gas.0),
                    max_priority_fee_per_gas = bid.map(|bid| bid.max_priority_fee_per_gas.0),
                    gas_limit = sent.gas_limit,
                    wire_bytes = asked.map(|asked| asked.wire_bytes),
                    "sent"
                );
            }
            Event::SendFailed(failed) => {
                let asked = self.asked.remove(&failed.w_nonce);
                let carries = asked.map_or_else(|| "unknown".to_owned(), |asked| carries(asked.batch));
                let class = failed.class.map_or("unclassified", machine::event::SendClass::name);
                let bid = asked.and_then(|asked| asked.bid);
                tracing::error!(
                    step,
                    w_nonce = failed.w_nonce.0,
                    carries,
                    class,
                    max_fee_per_gas = bid.map(|bid| bid.max_fee_per_gas.0),
                    error = %failed.error,
                    "send failed"
                );
            }
            Event::RpcFailed(failed) => {
                tracing::error!(step, call = failed.call.name(), error = %failed.error, "L1 read failed");
            }
            Event::Db(db) if !db.ok => {
                let error = db.error.as_deref().unwrap_or("no message");
                tracing::error!(step, op = db.op.0, error, "database write failed");
            }
            Event::Boot(boot) => tracing::info!(step, now_ms = boot.now_ms.0, "boot"),
            Event::Shutdown => tracing::info!(step, "shutdown requested"),
            _ => {}
        }
    }

    /// Remembers the sends a step asks for; logs its exit.
    fn effect(&mut self, effect: &Effect, step: u64, generation: u64) {
        match effect {
            Effect::Submit { batch_index, nonce, w_nonce, wire, bid, .. } => {
                let asked = Asked { batch: Some((batch_index.0, nonce.0)), bid: *bid, wire_bytes: wire.0.len() };
                self.asked.insert(*w_nonce, asked);
            }
            Effect::Noop { w_nonce, bid, .. } => {
                self.asked.insert(*w_nonce, Asked { batch: None, bid: *bid, wire_bytes: 0 });
            }
            Effect::Exit { code: ExitCode::AdmittedShutdown, reason } => {
                let reason = format!("{reason:#}");
                tracing::info!(step, generation, code = "admitted_shutdown", status = 0, why = %reason, "exit");
            }
            Effect::Exit { code, reason } => {
                let reason = format!("{reason:#}");
                let status = effects::exit_status(*code);
                tracing::error!(step, generation, code = code.name(), status, why = %reason, "exit");
            }
            _ => {}
        }
    }
}

/// What a send carries, for its log line.
fn carries(batch: Option<(u64, u64)>) -> String {
    match batch {
        Some((index, nonce)) => format!("batch {index} (scheduler nonce {nonce})"),
        None => "no-op".to_owned(),
    }
}
