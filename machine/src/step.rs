//! `step`: one event in, the new state and the effects and verdicts out. One `match`
//! dispatches to an `on_<event>` handler; the handlers delegate to the module of the
//! spec section they implement.

use crate::bytes::{Bytes, Hash32};
use crate::config::{Config, RawConfig};
use crate::effect::{DbWrite, Effect, ExitCode};
use crate::event::{Event, L1, RpcCall, SendClass};
use crate::fees::Bid;
use crate::scheduler::Scheduler;
use crate::state::{FlushStage, Mode, Process, Running, State};
use crate::units::{BatchIndex, BatchNonce, BlockNumber, OpId, UnixMillis, WalletNonce};
use crate::verdict::{Danger, Decision, FactError, Note, Why};
use crate::{batch_tree::BatchTree, flush, reader, startup, submitter, wire};

/// What one step produced besides the new state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// Requests to the executor, in execution order.
    pub effects: Vec<Effect>,
    /// The verdicts taken, in order; never empty.
    pub notes: Vec<Note>,
}

impl Step {
    /// The fact error of this step, if the event was rejected.
    #[must_use]
    pub fn rejected(&self) -> Option<FactError> {
        self.notes.iter().find_map(|note| match note.why {
            Why::Rejected(error) => Some(error),
            _ => None,
        })
    }
}

/// Applies one event. Pure: the same state and event give the same result everywhere.
/// Never panics on any event; a fact the core cannot use is a [`FactError`] note and
/// leaves the state as it was.
#[must_use]
pub fn step(mut state: State, event: &Event) -> (State, Step) {
    let mut ctx = Ctx { state: &mut state, step: Step::default() };
    ctx.dispatch(event);
    debug_assert!(!ctx.step.notes.is_empty(), "every step gives a reason");
    let step = ctx.step;
    (state, step)
}

/// A Tip just opened.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Opened {
    pub(crate) batch: BatchIndex,
    pub(crate) nonce: BatchNonce,
    pub(crate) first_frame_safe_block: BlockNumber,
    pub(crate) drain_from: u64,
    pub(crate) drain_to: u64,
}

impl Opened {
    pub(crate) fn why(self) -> Why {
        let Opened { batch, nonce, first_frame_safe_block, drain_from, drain_to } = self;
        Why::TipOpened { batch, nonce, first_frame_safe_block, drain_from, drain_to }
    }
}

/// The working context of one step.
pub(crate) struct Ctx<'a> {
    pub(crate) state: &'a mut State,
    step: Step,
}

impl Ctx<'_> {
    fn dispatch(&mut self, event: &Event) {
        match event {
            Event::Boot(boot) => self.on_boot(boot.now_ms, &boot.config),
            Event::ChainId(answer) => self.on_chain_id(answer.chain_id, answer.genesis_hash),
            Event::L1(sync) => self.on_l1(sync),
            Event::UnsafeLandings(landings) => self.on_unsafe_landings(&landings.nonces, landings.safe_block.is_some()),
            Event::Wallet(wallet) => self.on_wallet(wallet),
            Event::Tick(tick) => self.on_tick(tick.now_ms),
            Event::Seal(seal) => self.on_seal(seal.id, &seal.payload),
            Event::Sent(sent) => self.on_send_outcome(sent.w_nonce, Ok((sent.tx_hash, sent.bid()))),
            Event::SendFailed(failed) => self.on_send_outcome(failed.w_nonce, Err(failed.class)),
            Event::RpcFailed(failed) => self.on_rpc_failed(failed.call),
            Event::Db(db) => self.on_db(db.op, db.ok, db.error.as_deref()),
            Event::Shutdown => self.on_shutdown(),
            Event::Pause(pause) => self.on_pause(Some(&pause.reason)),
            Event::Resume => self.on_pause(None),
        }
    }

    // ---- emitting ----

    pub(crate) fn emit(&mut self, effect: Effect) {
        self.step.effects.push(effect);
    }

    pub(crate) fn db(&mut self, write: DbWrite) {
        let op = self.state.next_op;
        self.state.next_op = OpId(op.0.saturating_add(1));
        self.emit(Effect::Db { op, write });
    }

    /// Emits a startup read and arms a timer one block-time later: answers may be lost
    /// (docs/protocol.md §10), and a tick with the answer still missing asks again.
    pub(crate) fn ask(&mut self, request: Effect, config: &Config) {
        self.emit(request);
        let at_ms = UnixMillis(self.state.now_ms.0.saturating_add(config.block_time_ms()));
        self.emit(Effect::Timer { at_ms });
    }

    pub(crate) fn note(&mut self, why: Why) {
        self.step.notes.push(Note { danger: None, decision: None, why });
    }

    pub(crate) fn verdict(&mut self, danger: Option<Danger>, decision: Option<Decision>, why: Why) {
        self.step.notes.push(Note { danger, decision, why });
    }

    pub(crate) fn reject(&mut self, error: FactError) {
        self.note(Why::Rejected(error));
    }

    /// Ends the process: intake closes first if it was open. The reason is also noted
    /// unless the verdict just taken already gives it.
    pub(crate) fn exit(&mut self, code: ExitCode, reason: Why) {
        if self.step.notes.last().is_none_or(|note| note.why != reason) {
            self.note(reason.clone());
        }
        if self.state.intake_open() {
            self.emit(Effect::Intake { open: false });
        }
        self.emit(Effect::Exit { code, reason });
        self.state.process = Process::Down;
    }

    // ---- shared lookups ----

    pub(crate) fn running_mut(&mut self) -> Option<&mut Running> {
        match &mut self.state.process {
            Process::Running(running) => Some(running),
            Process::Down => None,
        }
    }

    pub(crate) fn mode_mut(&mut self) -> Option<&mut Mode> {
        self.running_mut().map(|running| &mut running.mode)
    }

    pub(crate) fn set_mode(&mut self, mode: Mode) {
        if let Some(running) = self.running_mut() {
            running.mode = mode;
        }
    }

    pub(crate) fn chain_id_verified(&self) -> bool {
        matches!(&self.state.process, Process::Running(Running { chain_id_verified: true, .. }))
    }

    /// The process's config, or a `NoProcess` rejection: the config of a running process
    /// always exists because only a valid boot starts one.
    fn live_config(&mut self, event: &'static str) -> Option<Config> {
        match (&self.state.process, self.state.config) {
            (Process::Running(_), Some(config)) => Some(config),
            _ => {
                self.reject(FactError::NoProcess { event });
                None
            }
        }
    }

    /// As [`Ctx::live_config`], and the chain id must be verified: nothing from L1 is used before.
    fn l1_config(&mut self, event: &'static str) -> Option<Config> {
        let config = self.live_config(event)?;
        if self.chain_id_verified() {
            Some(config)
        } else {
            self.reject(FactError::ChainIdNotVerified { event });
            None
        }
    }

    /// The first block the next sync reads: after the stored safe head, or the configured
    /// `start_block` (the inbox's deployment block) before any (docs/protocol.md §11.4).
    pub(crate) fn sync_from(&self) -> BlockNumber {
        let start = self.state.config.map_or(BlockNumber(0), |config| config.start_block());
        self.state.view.safe_block.map_or(start, |head| BlockNumber(head.0.saturating_add(1)))
    }

    /// Whether our own landings are adopted as Gold batches (docs/protocol.md §11.7): the config asks
    /// for it and nothing was sealed by this log yet.
    pub(crate) fn adopting(&self) -> bool {
        self.state.config.is_some_and(|config| config.adopt_l1_history()) && !self.state.sealed_own
    }

    /// Opens a Tip on the valid path at the current safe head, draining every direct
    /// input not drained by a valid batch (docs/protocol.md §2, §8).
    pub(crate) fn open_tip(&mut self) -> Opened {
        // A Tip is opened only after a `Safe` classification or by an admitted seal, both
        // of which imply a safe head; 0 is never used in practice.
        let first_frame_safe_block = self.state.view.safe_block.unwrap_or_default();
        let drain_to = self.state.view.direct_inputs;
        let batch = self.state.tree.open(first_frame_safe_block, drain_to);
        let (batch_index, nonce, parent, drain_from, drain_to) =
            (batch.index, batch.nonce, batch.parent, batch.drain_from, batch.drain_to);
        self.db(DbWrite::OpenBatch { batch_index, nonce, parent, first_frame_safe_block, drain_from, drain_to });
        Opened { batch: batch_index, nonce, first_frame_safe_block, drain_from, drain_to }
    }

    // ---- handlers, one per event ----

    fn on_boot(&mut self, now_ms: UnixMillis, raw: &RawConfig) {
        self.state.now_ms = now_ms;
        self.state.process = Process::Down;
        // Unsafe landings are a boot-local observation: the next submit round reads them anew.
        self.state.unsafe_nonces.clear();
        let config = match raw.validate() {
            Ok(config) => config,
            Err(error) => return self.exit(ExitCode::ConfigInvalid, Why::ConfigInvalid(error)),
        };
        if let Some(stored) = self.state.config {
            // docs/protocol.md §11.3: a log belongs to one deployment; tuning may change, noted.
            if let Some(change) = stored.identity_change(&config) {
                return self.exit(ExitCode::ConfigInvalid, Why::IdentityChanged(change));
            }
            for (field, old, new) in stored.tuning_changes(&config) {
                self.note(Why::ConfigChanged { field, old, new });
            }
        }
        if self.state.config.is_none() {
            // The anchor is fixed by the first valid boot; later boots keep the tree's root.
            self.state.tree = BatchTree::new(config.anchor_nonce());
            self.state.scheduler = Scheduler::new(config.anchor_nonce());
        }
        self.state.config = Some(config);
        self.state.process =
            Process::Running(Running { chain_id_verified: false, mode: Mode::InitialSync { chain_checked: false } });
        if let Some(nonce) = self.state.scheduler.divergence {
            // docs/protocol.md §6: a divergence marker refuses at once, before any L1 call.
            let why = Why::DivergenceMarker { nonce };
            self.verdict(Some(Danger::CanonicalDivergence(nonce)), Some(Decision::Refuse), why.clone());
            return self.exit(ExitCode::Refuse, why);
        }
        self.verdict(None, Some(Decision::InitialSync), Why::Booted { chain_id: config.chain_id() });
        self.ask(Effect::ReadChainId, &config);
    }

    fn on_chain_id(&mut self, found: u64, genesis_hash: Option<Hash32>) {
        let Some(config) = self.live_config("chain_id") else { return };
        let expected = config.chain_id();
        if found != expected {
            let why = Why::ChainIdMismatch { expected, found };
            self.verdict(None, Some(Decision::Refuse), why.clone());
            return self.exit(ExitCode::Refuse, why);
        }
        // docs/protocol.md §11.2: the chain is its id and its genesis; the first genesis seen is kept.
        match (self.state.genesis_hash, genesis_hash) {
            (Some(stored), Some(found)) if stored != found => {
                let why = Why::GenesisMismatch { stored, found };
                self.verdict(None, Some(Decision::Refuse), why.clone());
                return self.exit(ExitCode::Refuse, why);
            }
            (None, Some(genesis_hash)) => {
                self.state.genesis_hash = Some(genesis_hash);
                self.note(Why::GenesisStored { genesis_hash });
            }
            (Some(_) | None, _) => {}
        }
        if let Some(running) = self.running_mut() {
            running.chain_id_verified = true;
        }
        self.note(Why::ChainIdVerified { chain_id: found });
        match self.mode_mut() {
            Some(Mode::InitialSync { chain_checked }) => {
                *chain_checked = true;
                let from_block = self.sync_from();
                self.ask(Effect::SyncL1 { from_block, with_wire: self.adopting() }, &config);
            }
            Some(Mode::Flush(stage @ FlushStage::AwaitChainId)) => {
                *stage = FlushStage::AwaitWallet;
                self.ask(Effect::ReadWallet, &config);
            }
            Some(Mode::Admitted(_)) => {
                let from_block = self.sync_from();
                self.emit(Effect::SyncL1 { from_block, with_wire: self.adopting() });
            }
            Some(Mode::Flush(_) | Mode::PostFlushSync { .. }) | None => {}
        }
    }

    fn on_l1(&mut self, sync: &L1) {
        let Some(config) = self.l1_config("l1") else { return };
        let divergence_before = self.state.scheduler.divergence;
        let mut diverged_at = None;
        let (mut complete, mut folded) = (true, false);
        match reader::apply_sync(self.state, &config, sync) {
            Ok(reader::Applied::Folded { why, diverged, adopted }) => {
                folded = true;
                self.state.now_ms = sync.now_ms;
                self.note(why);
                self.record_adopted(adopted);
                diverged_at = diverged;
                complete = !sync.partial;
            }
            Ok(reader::Applied::Behind(why)) => self.note(why),
            Ok(reader::Applied::Rewritten(why)) => {
                // docs/protocol.md §11.2: an operator must look; no restart can fix this by itself.
                self.verdict(Some(Danger::L1HistoryRewritten), Some(Decision::Refuse), why.clone());
                return self.exit(ExitCode::Refuse, why);
            }
            Err(error) => self.reject(error),
        }
        if divergence_before.is_none()
            && let Some(nonce) = self.state.scheduler.divergence
        {
            self.db(DbWrite::MarkDivergence { nonce });
            let why = Why::DivergenceDetected { nonce, block: diverged_at.unwrap_or(sync.safe_block) };
            let danger = Some(Danger::CanonicalDivergence(nonce));
            // docs/protocol.md §5: divergence exits at once, whatever the process was doing.
            return if self.state.intake_open() {
                self.verdict(danger, None, why.clone());
                self.exit(ExitCode::RecoveryRequired, why)
            } else {
                self.verdict(danger, Some(Decision::Refuse), why.clone());
                self.exit(ExitCode::Refuse, why)
            };
        }
        // Only a folded sync moves the safe head or accepts a batch: what may leave.
        if folded && let Some(why) = crate::prune::prune(self.state, &config) {
            self.note(why);
        }
        if !complete {
            // docs/protocol.md §11.4: a catch-up stopped at its byte budget; the sync goes on.
            return self.continue_sync(&config);
        }
        // Any complete answer, used or rejected, completes a sync that startup waits for.
        match self.mode_mut() {
            Some(Mode::InitialSync { chain_checked: true }) => {
                startup::inspect(self, &config, startup::Progress::Synced)
            }
            Some(&mut Mode::PostFlushSync { witness }) => {
                startup::inspect(self, &config, startup::Progress::PostFlushSynced { witness });
            }
            Some(Mode::InitialSync { chain_checked: false } | Mode::Flush(_) | Mode::Admitted(_)) | None => {}
        }
    }

    /// docs/protocol.md §11.7: the projection learns the adopted batches; `W` covers their wallet
    /// nonces; an admitted process whose Tip took a landing's bytes opens a new one.
    fn record_adopted(&mut self, adopted: Vec<reader::Adopted>) {
        for reader::Adopted { tip_taken, opened, wire_hash, w_nonce, block } in adopted {
            let Opened { batch, nonce, first_frame_safe_block, drain_from, drain_to } = opened;
            let parent = self.state.tree.get(batch).and_then(|batch| batch.parent);
            if !tip_taken {
                let open = DbWrite::OpenBatch {
                    batch_index: batch,
                    nonce,
                    parent,
                    first_frame_safe_block,
                    drain_from,
                    drain_to,
                };
                self.db(open);
            }
            self.db(DbWrite::CloseBatch { batch_index: batch, wire_hash, seal_id: None });
            if self.state.wallet.watermark.is_none_or(|w| w_nonce > w) {
                self.state.wallet.watermark = Some(w_nonce);
                self.db(DbWrite::RaiseWatermark { to: w_nonce });
            }
            self.note(Why::Adopted { batch, nonce, w_nonce, block, tip_taken });
            if tip_taken && matches!(self.mode_mut(), Some(Mode::Admitted(_))) {
                let opened = self.open_tip().why();
                self.note(opened);
            }
        }
    }

    /// Asks for the rest of a partial sync, wherever a sync is awaited.
    fn continue_sync(&mut self, config: &Config) {
        let from_block = self.sync_from();
        match self.mode_mut() {
            Some(Mode::InitialSync { chain_checked: true } | Mode::PostFlushSync { .. }) => {
                self.note(Why::SyncContinues { from_block });
                self.ask(Effect::SyncL1 { from_block, with_wire: self.adopting() }, config);
            }
            Some(Mode::Admitted(_)) => {
                self.note(Why::SyncContinues { from_block });
                self.emit(Effect::SyncL1 { from_block, with_wire: self.adopting() });
            }
            Some(Mode::InitialSync { chain_checked: false } | Mode::Flush(_)) | None => {}
        }
    }

    fn on_unsafe_landings(&mut self, nonces: &[BatchNonce], one_view: bool) {
        let Some(config) = self.l1_config("unsafe_landings") else { return };
        self.state.unsafe_nonces = nonces.to_vec();
        if matches!(self.mode_mut(), Some(Mode::Admitted(_))) {
            submitter::on_unsafe_landings(self, &config, nonces, one_view);
        } else {
            self.note(Why::Observed);
        }
    }

    fn on_wallet(&mut self, wallet: &crate::event::Wallet) {
        let Some(config) = self.l1_config("wallet") else { return };
        let crate::event::Wallet { latest, pending, safe, safe_block, .. } = *wallet;
        if !(safe <= latest && latest <= pending) {
            return self.reject(FactError::WalletInconsistent { latest, pending, safe });
        }
        if let Some(fees) = wallet.fees() {
            // docs/protocol.md §11.1: the round's sends are priced from this observation.
            self.state.wallet.fees = Some(fees);
        }
        match self.mode_mut() {
            Some(Mode::Flush(_)) => {
                flush::on_wallet(self, &config, flush::Counts { latest, pending, safe, safe_block })
            }
            Some(Mode::Admitted(_)) => submitter::on_wallet(self, &config, latest, wallet.head_block.is_some()),
            Some(Mode::InitialSync { .. } | Mode::PostFlushSync { .. }) | None => self.note(Why::Observed),
        }
    }

    fn on_tick(&mut self, now_ms: UnixMillis) {
        let Some(config) = self.live_config("tick") else { return };
        self.state.now_ms = now_ms;
        match self.mode_mut() {
            Some(Mode::Admitted(_)) => submitter::on_tick(self, &config, now_ms),
            Some(Mode::Flush(_)) => flush::on_tick(self, &config, now_ms),
            Some(&mut Mode::InitialSync { chain_checked }) => {
                // The answer is overdue: ask again (docs/protocol.md §10: answers may never come).
                let request = if chain_checked {
                    Effect::SyncL1 { from_block: self.sync_from(), with_wire: self.adopting() }
                } else {
                    Effect::ReadChainId
                };
                self.note(Why::AskAgain { what: if chain_checked { "sync_l1" } else { "read_chain_id" } });
                self.ask(request, &config);
            }
            Some(Mode::PostFlushSync { .. }) => {
                self.note(Why::AskAgain { what: "sync_l1" });
                let from_block = self.sync_from();
                self.ask(Effect::SyncL1 { from_block, with_wire: self.adopting() }, &config);
            }
            None => self.note(Why::NothingDue),
        }
    }

    fn on_seal(&mut self, seal_id: Option<u64>, payload: &Bytes) {
        let Some(config) = self.live_config("seal") else { return };
        if let (Some(seal_id), Some(last)) = (seal_id, self.state.last_seal_id)
            && seal_id <= last
        {
            // docs/protocol.md §11.5: a row whose record is durable but that was not marked taken yet.
            self.note(Why::SealRepeated { seal_id, last });
            return self.db(DbWrite::AckSeal { seal_id });
        }
        if !self.state.intake_open() {
            return self.reject(FactError::SealWhileIntakeClosed);
        }
        let Some(tip) = self.state.tree.tip() else {
            return self.reject(FactError::NoTip);
        };
        let (batch, nonce, first_frame_safe_block) = (tip.index, tip.nonce, tip.first_frame_safe_block);
        if nonce.checked_next().is_none() {
            // The next Tip would need a nonce past `u64::MAX` (ARCHITECTURE.md choice 70).
            return self.reject(FactError::BatchNoncesExhausted { nonce });
        }
        let wire_bytes = (wire::HEADER_LEN as u64).saturating_add(payload.0.len() as u64);
        if wire_bytes > config.max_batch_bytes() {
            // docs/protocol.md §11.4: refused back to the lane, never dropped, never a crash.
            self.state.last_seal_id = seal_id.or(self.state.last_seal_id);
            let max_batch_bytes = config.max_batch_bytes();
            self.note(Why::SealTooLarge { seal_id, wire_bytes, max_batch_bytes });
            if let Some(seal_id) = seal_id {
                self.db(DbWrite::RejectSeal { seal_id, wire_bytes, max_batch_bytes });
            }
            return;
        }
        let wire = match wire::encode(nonce, first_frame_safe_block, &payload.0) {
            Ok(wire) => wire,
            Err(_) => return self.reject(FactError::PayloadTooLarge { bytes: payload.0.len() as u64 }),
        };
        let wire_hash = wire::wire_hash(&wire);
        self.state.last_seal_id = seal_id.or(self.state.last_seal_id);
        self.state.tree.close_tip(crate::batch_tree::Sealed { wire: Bytes(wire), wire_hash, seal_id });
        self.state.sealed_own = true;
        self.db(DbWrite::CloseBatch { batch_index: batch, wire_hash, seal_id });
        let tip = self.open_tip().batch;
        self.note(Why::Sealed { batch, nonce, tip });
    }

    fn on_send_outcome(&mut self, w_nonce: WalletNonce, outcome: Result<(Hash32, Option<Bid>), Option<SendClass>>) {
        let event = if outcome.is_ok() { "sent" } else { "send_failed" };
        let Some(config) = self.live_config(event) else { return };
        if let Some(pruned_through) = self.state.wallet.pruned_through.filter(|&through| w_nonce <= through) {
            // docs/protocol.md §11.6: the nonce was consumed on L1 long ago; no decision depends on it.
            return self.reject(FactError::SendOutcomeForPrunedSlot { w_nonce, pruned_through });
        }
        let Some(slot) = self.state.wallet.slots.get_mut(&w_nonce) else {
            return self.reject(FactError::SendOutcomeForUnknownSlot { w_nonce });
        };
        // docs/protocol.md §11.1: the node holding the identical transaction is the outcome asked for.
        let sent = match outcome {
            Ok((tx_hash, bid)) => {
                slot.took(Some(tx_hash), bid);
                let batch_index = slot.last;
                self.db(DbWrite::RecordSubmission { w_nonce, batch_index, tx_hash });
                true
            }
            Err(Some(SendClass::AlreadyKnown)) => {
                slot.took(None, None);
                true
            }
            Err(class) => {
                slot.refused(class == Some(SendClass::Underpriced));
                false
            }
        };
        let class = outcome.err().flatten();
        match self.mode_mut() {
            Some(Mode::Flush(_)) => {
                if let (false, Some(class)) = (sent, class) {
                    self.note(Why::SendRefused { w_nonce, class: Some(class) });
                }
                flush::on_outcome(self, &config, w_nonce, sent);
            }
            Some(_) | None if sent => self.note(Why::SendRecorded { w_nonce }),
            Some(_) | None => self.note(Why::SendRetryLater { w_nonce, class }),
        }
    }

    fn on_rpc_failed(&mut self, call: RpcCall) {
        let Some(config) = self.live_config("rpc_failed") else { return };
        match (self.mode_mut(), call) {
            (Some(Mode::InitialSync { .. }), RpcCall::ChainId | RpcCall::L1) => {
                // docs/protocol.md §6: inspection goes on from the stored view.
                self.note(Why::InitialSyncFailed { call });
                startup::inspect(self, &config, startup::Progress::Synced);
            }
            (Some(Mode::Flush(_)), RpcCall::ChainId | RpcCall::Wallet) => {
                // docs/protocol.md §7 step 6: no internal retry.
                self.exit(ExitCode::Retry, Why::RpcFailedNoRetry { call, decision: Decision::Flush });
            }
            (Some(Mode::PostFlushSync { .. }), RpcCall::L1) => {
                // docs/protocol.md §8: L1 is flushed but nothing local changed; the next boot repeats.
                self.exit(ExitCode::Retry, Why::RpcFailedNoRetry { call, decision: Decision::PostFlushSync });
            }
            (Some(Mode::Admitted(runtime)), RpcCall::Wallet | RpcCall::UnsafeLandings) => {
                runtime.round = None;
                self.note(Why::Transient { call });
            }
            (Some(_) | None, _) => self.note(Why::Transient { call }),
        }
    }

    fn on_db(&mut self, op: OpId, ok: bool, error: Option<&str>) {
        if self.live_config("db").is_none() {
            return;
        }
        let next = self.state.next_op;
        if op >= next {
            return self.reject(FactError::UnknownDbOp { op, next });
        }
        if ok {
            self.note(Why::DbCommitted { op });
        } else {
            self.exit(ExitCode::Retry, Why::DbFailed { op, error: error.map(str::to_owned) });
        }
    }

    /// Pausing is the operator's, at any time: it changes no batch and asks for no effect,
    /// only which sends the submitter may start (`submitter::plan`).
    fn on_pause(&mut self, reason: Option<&str>) {
        let was = self.state.paused.is_some();
        self.state.paused = reason.map(str::to_owned);
        let why = match reason {
            Some(reason) => Why::Paused { reason: reason.to_owned(), already: was },
            None => Why::Resumed { was_paused: was },
        };
        self.note(why);
    }

    fn on_shutdown(&mut self) {
        if self.live_config("shutdown").is_some() {
            self.exit(ExitCode::AdmittedShutdown, Why::ShutdownRequested);
        }
    }
}
