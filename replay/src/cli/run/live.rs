//! The live environment of `seqrec run`: the ports of the executor (L1, store, clock,
//! inputs, log) on the real node, SQLite, the wall clock and the seal queue.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use effects::eth::EthL1;
use effects::sqlite::SqliteStore;
use effects::{
    ChainIdentity, Clock, Hooks, Inputs, L1, LogSink, SafeSync, SendError, Signed, Store, Wake, WalletCounts,
};
use machine::{Bid, BlockNumber, DbWrite, Effect, Event, OpId, UnixMillis, WalletNonce};

use super::logging::StepLog;
use super::metrics::Metrics;
use crate::checkpointer::{Checkpointer, Taken};
use crate::log::{AppendLog, RunLog};

/// The live environment.
pub(super) struct Live {
    pub(super) l1: EthL1,
    pub(super) store: SqliteStore,
    pub(super) log: RunLog,
    pub(super) checkpointer: Checkpointer,
    pub(super) intake_open: bool,
    /// The pause the core was last told of (`Some(reason)`), starting from the state's:
    /// a change of the database's flag is handed over once, as an event.
    pub(super) announced_pause: Option<String>,
    /// The last seal queue row offered to the core by this process.
    pub(super) offered: Option<u64>,
    /// The reason of the core's exit, printed with the status.
    pub(super) exit_reason: Option<String>,
    pub(super) shutdown: Arc<AtomicBool>,
    pub(super) step_log: StepLog,
    /// `--metrics`: what the run loop shows to the metrics server.
    pub(super) metrics: Option<Arc<Metrics>>,
    /// Whether the node's `safe` tag was judged (or `--safe-depth` makes it moot).
    pub(super) safe_tag_checked: bool,
    /// Why the node's `safe` tag is unusable, found at the first L1 contact: `run` stops
    /// and exits `config_invalid` with it.
    pub(super) safe_tag_unusable: Option<String>,
}

impl L1 for Live {
    fn chain_id(&mut self) -> Result<ChainIdentity, effects::L1Error> {
        let identity = self.l1.chain_id();
        self.rpc("chain_id", identity.as_ref().err().map(effects::L1Error::class));
        let identity = identity?;
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
        let answer = self.l1.sync_safe(from_block);
        self.rpc("sync_safe", answer.as_ref().err().map(effects::L1Error::class));
        answer
    }
    fn wallet(&mut self) -> Result<WalletCounts, effects::L1Error> {
        let answer = self.l1.wallet();
        self.rpc("wallet", answer.as_ref().err().map(effects::L1Error::class));
        answer
    }
    fn unsafe_landings(&mut self) -> Result<effects::Landings, effects::L1Error> {
        let answer = self.l1.unsafe_landings();
        self.rpc("unsafe_landings", answer.as_ref().err().map(effects::L1Error::class));
        answer
    }
    fn send_batch(
        &mut self,
        chain_id: u64,
        w_nonce: WalletNonce,
        wire: &[u8],
        bid: Option<Bid>,
        min_gas: Option<u64>,
    ) -> Result<Signed, SendError> {
        let answer = self.l1.send_batch(chain_id, w_nonce, wire, bid, min_gas);
        self.rpc("send_batch", answer.as_ref().err().map(send_class));
        answer
    }
    fn send_noop(&mut self, chain_id: u64, w_nonce: WalletNonce, bid: Option<Bid>) -> Result<Signed, SendError> {
        let answer = self.l1.send_noop(chain_id, w_nonce, bid);
        self.rpc("send_noop", answer.as_ref().err().map(send_class));
        answer
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

pub(super) fn wall_clock_ms() -> UnixMillis {
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
            if let Ok(paused) = self.store.paused()
                && paused != self.announced_pause
            {
                self.announced_pause.clone_from(&paused);
                return Wake::Pause(paused);
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
        let started = std::time::Instant::now();
        let appended = self.log.append(event, effects).map(|_| ()).map_err(|error| error.to_string());
        if let Some(metrics) = &self.metrics {
            metrics.appended(started.elapsed(), appended.is_ok());
        }
        appended
    }
}

/// A failed send's class, for the metrics.
fn send_class(error: &SendError) -> &'static str {
    error.class().map_or("wrong_chain", machine::SendClass::name)
}

impl Live {
    /// Counts one call of the L1 port for `--metrics`, with the class of its failure.
    fn rpc(&self, method: &'static str, failed: Option<&'static str>) {
        if let Some(metrics) = &self.metrics {
            metrics.rpc(method, failed);
        }
    }

    /// Appends the checkpoints and writes the snapshots that are due after a step, or (at
    /// shutdown, `now`) one of each (FORMAT.md "Checkpoints"). A failed append is undone
    /// by the writer, which then refuses every later one: the next step stops. A snapshot
    /// that cannot be written is only a warning: it is a cache.
    pub(super) fn checkpoint(&mut self, state: &machine::State, now: bool) {
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
        self.checkpoint(state, false);
        if let Some(reason) = step.effects.iter().find_map(|effect| match effect {
            Effect::Exit { reason, .. } => Some(reason),
            _ => None,
        }) {
            self.exit_reason = Some(format!("{reason:#}"));
        }
        // The event was appended before this hook: its number in the whole log is the
        // count of events before it, as `seqrec audit` and `trace` number it.
        let seq = self.log.events().saturating_sub(1);
        self.step_log.stepped(seq, state, event, step);
        if let Some(metrics) = &self.metrics {
            metrics.stepped(state, event, step);
        }
    }
}
