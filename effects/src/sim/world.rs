//! The simulated world as the run loop sees it: the node's view of the chain (its safe
//! tag, its failing RPC, its forgetful mempool), the process's clock, the inclusion lane,
//! the store, the log (replayed as it is appended, and handed to the caller's sink), and
//! the crash points. Virtual time jumps to whatever
//! comes next, so hours of L1 take milliseconds.

use machine::event::{BatchLanding, Input};
use machine::{
    BatchNonce, Bid, BlockNumber, DbWrite, Effect, Event, FeeView, Hash32, OpId, State, Step, UnixMillis, WalletNonce,
    Wei, noop_fees,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::chain::{BlockInput, Chain, ChainParams, Fees, Origin, Tx, Weather};
use super::checks::Checks;
use super::oracle::Oracle;
use super::scenario::{Fault, Scenario};
use crate::error::{L1Error, SendError, StoreError};
use crate::memory_log::Replayer;
use crate::ports::{
    ChainIdentity, Clock, CrashPoint, Hooks, Inputs, L1, Landings, LogSink, SafeSync, Signed, Store, Wake, WalletCounts,
};

/// Virtual time of genesis: a recent date, so timestamps look real.
pub const GENESIS_MS: u64 = 1_700_000_000_000;
const GWEI: u128 = 1_000_000_000;

/// The world; `'s` is the caller's log sink, which receives every record as it is appended.
pub struct World<'s> {
    pub(crate) scenario: Scenario,
    pub(crate) now_ms: u64,
    pub(crate) chain: Chain,
    pub(crate) oracle: Oracle,
    pub(crate) checks: Checks,
    /// The log as a restarted process rebuilds it: kept replayed, never stored.
    pub(crate) replayer: Replayer,
    sink: &'s mut dyn LogSink,
    rng: ChaCha8Rng,
    intake_open: bool,
    next_seal_ms: u64,
    sealed: u64,
    noops_sent: u64,
    failed_syncs_after_noop: u32,
    one_shots_done: Vec<bool>,
    outages_done: Vec<bool>,
    /// Set when the run is over: the next wait returns `Idle`.
    pub(crate) stop: bool,
    /// Hard end of virtual time.
    pub(crate) horizon_ms: u64,
    /// Crash injection is on.
    pub(crate) crashes_enabled: bool,
}

impl std::fmt::Debug for World<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World").field("now_ms", &self.now_ms).field("chain", &self.chain).finish_non_exhaustive()
    }
}

impl<'s> World<'s> {
    /// A new world for `scenario`, deterministic from `seed`, whose log goes to `sink`.
    #[must_use]
    pub fn new(
        scenario: Scenario,
        seed: u64,
        max_wait_blocks: u64,
        horizon_ms: u64,
        sink: &'s mut dyn LogSink,
    ) -> Self {
        let block_ms = scenario.config.seconds_per_block.unwrap_or(12).saturating_mul(1000);
        let params = ChainParams {
            chain_id: scenario.node_chain_id,
            block_ms,
            genesis_ms: GENESIS_MS,
            safe_depth: scenario.safe_depth,
            base_fee: 10 * GWEI,
            direct_per_mille: scenario.direct_per_mille,
            max_ours_per_block: 16,
        };
        let anchor = scenario.config.anchor_nonce.unwrap_or(0);
        let n_faults = scenario.faults.len();
        World {
            now_ms: GENESIS_MS,
            chain: Chain::new(params, seed),
            oracle: Oracle::new(anchor, max_wait_blocks),
            checks: Checks::new(scenario.answers_before_one_view),
            replayer: Replayer::default(),
            sink,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_f417),
            intake_open: false,
            next_seal_ms: 0,
            sealed: 0,
            noops_sent: 0,
            failed_syncs_after_noop: 0,
            one_shots_done: vec![false; n_faults],
            outages_done: vec![false; n_faults],
            stop: false,
            horizon_ms,
            crashes_enabled: scenario.crash_per_mille > 0,
            scenario,
        }
    }

    /// Milliseconds since genesis.
    #[must_use]
    pub fn elapsed_ms(&self) -> u64 {
        self.now_ms - GENESIS_MS
    }

    fn active(&self, at_ms: u64, fault: &Fault) -> bool {
        let t = at_ms.saturating_sub(GENESIS_MS);
        match *fault {
            Fault::Halt { from_ms, to_ms }
            | Fault::FrozenSafeHead { from_ms, to_ms }
            | Fault::Congestion { from_ms, to_ms }
            | Fault::RpcDown { from_ms, to_ms }
            | Fault::RpcFlaky { from_ms, to_ms, .. }
            | Fault::ClockStep { from_ms, to_ms, .. }
            | Fault::Censor { from_ms, to_ms }
            | Fault::Outage { from_ms, to_ms }
            | Fault::QuietIntake { from_ms, to_ms } => (from_ms..to_ms).contains(&t),
            Fault::ForgetPending { .. }
            | Fault::Reorg { .. }
            | Fault::Rogue { .. }
            | Fault::FailSyncAfterNoop { .. } => false,
        }
    }

    fn weather(faults: &[Fault], at_ms: u64) -> Weather {
        let t = at_ms.saturating_sub(GENESIS_MS);
        let mut weather = Weather::default();
        for fault in faults {
            match *fault {
                Fault::Halt { from_ms, to_ms } if (from_ms..to_ms).contains(&t) => weather.halted = true,
                Fault::Congestion { from_ms, to_ms } if (from_ms..to_ms).contains(&t) => weather.congested = true,
                Fault::Censor { from_ms, to_ms } if (from_ms..to_ms).contains(&t) => weather.censored = true,
                _ => {}
            }
        }
        weather
    }

    /// Brings the chain and the scheduler up to now, applying one-shot faults in time order.
    pub(crate) fn advance(&mut self) {
        // Taken out for the duration (nothing below reads them through `self`), put back at the end.
        let faults = std::mem::take(&mut self.scenario.faults);
        let mut due: Vec<(u64, usize)> = faults
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.one_shots_done[*i])
            .filter_map(|(i, fault)| match *fault {
                Fault::ForgetPending { at_ms } | Fault::Reorg { at_ms, .. } | Fault::Rogue { at_ms } => {
                    Some((GENESIS_MS + at_ms, i))
                }
                _ => None,
            })
            .filter(|&(at, _)| at <= self.now_ms)
            .collect();
        due.sort_unstable();
        for (at, i) in due {
            self.chain.advance_to(at, |t| World::weather(&faults, t));
            self.one_shots_done[i] = true;
            match faults[i] {
                Fault::ForgetPending { .. } => self.chain.forget_pending(),
                Fault::Reorg { depth, .. } => self.chain.reorg(depth),
                Fault::Rogue { .. } => {
                    let nonce = self.oracle.expected_after_all(self.chain.blocks());
                    let wire = machine::wire::encode(BatchNonce(nonce), BlockNumber(self.chain.safe()), b"rogue")
                        .unwrap_or_default();
                    self.checks.rogue_bytes.push(*blake3::hash(&wire).as_bytes());
                    self.chain.inject_rogue(wire);
                }
                _ => {}
            }
        }
        self.chain.advance_to(self.now_ms, |t| World::weather(&faults, t));
        self.scenario.faults = faults;
        self.oracle.fold(self.chain.blocks(), self.chain.safe());
    }

    /// The safe head as the node reports it (frozen during a frozen-safe-head fault).
    fn node_safe(&self) -> u64 {
        let frozen_at = self.scenario.faults.iter().find_map(|fault| match *fault {
            Fault::FrozenSafeHead { from_ms, .. } if self.active(self.now_ms, fault) => Some(GENESIS_MS + from_ms),
            _ => None,
        });
        match frozen_at {
            Some(from) => {
                let head_then =
                    self.chain.blocks().iter().rev().find(|b| b.timestamp_s * 1000 <= from).map_or(0, |b| b.number);
                head_then.saturating_sub(self.scenario.safe_depth).min(self.chain.safe())
            }
            None => self.chain.safe(),
        }
    }

    /// Whether this RPC call fails.
    fn rpc_fails(&mut self) -> bool {
        let now = self.now_ms;
        let mut fails = false;
        for index in 0..self.scenario.faults.len() {
            let fault = self.scenario.faults[index].clone();
            match fault {
                Fault::RpcDown { .. } if self.active(now, &fault) => fails = true,
                Fault::RpcFlaky { per_mille, .. } if self.active(now, &fault) => {
                    fails |= self.rng.random_ratio(per_mille.min(1000), 1000);
                }
                _ => {}
            }
        }
        fails
    }

    fn clock_offset_ms(&self, at_ms: u64) -> i64 {
        self.scenario
            .faults
            .iter()
            .find_map(|fault| match *fault {
                Fault::ClockStep { offset_ms, .. } if self.active(at_ms, fault) => Some(offset_ms),
                _ => None,
            })
            .unwrap_or(0)
    }

    /// Whether the inclusion lane may seal at `at_ms`.
    fn sealing(&self, at_ms: u64) -> bool {
        at_ms.saturating_sub(GENESIS_MS) < self.scenario.run_ms
            && !self.scenario.faults.iter().any(|f| matches!(f, Fault::QuietIntake { .. }) && self.active(at_ms, f))
    }

    /// The first outage starting at or before now that has not killed the process yet.
    pub(crate) fn outage_due(&mut self) -> Option<u64> {
        let now = self.elapsed_ms();
        let index = self.scenario.faults.iter().enumerate().position(|(i, fault)| {
            !self.outages_done[i] && matches!(*fault, Fault::Outage { from_ms, .. } if from_ms <= now)
        })?;
        self.outages_done[index] = true;
        match self.scenario.faults[index] {
            Fault::Outage { to_ms, .. } => Some(to_ms),
            _ => None,
        }
    }

    /// The end of any outage in force now.
    pub(crate) fn outage_end(&self) -> Option<u64> {
        let now = self.elapsed_ms();
        self.scenario
            .faults
            .iter()
            .filter_map(|fault| match *fault {
                Fault::Outage { from_ms, to_ms } if (from_ms..to_ms).contains(&now) => Some(to_ms),
                _ => None,
            })
            .max()
    }

    /// Our batches in blocks `from ..= to`, as the node reports them.
    fn inputs(&self, from: u64, to: u64) -> Vec<Input> {
        let mut inputs = Vec::new();
        for block in
            self.chain.blocks().iter().skip(usize::try_from(from).unwrap_or(usize::MAX)).take_while(|b| b.number <= to)
        {
            for input in &block.inputs {
                inputs.push(match input {
                    BlockInput::Direct { data } => {
                        Input::Direct { block: BlockNumber(block.number), data: machine::Bytes(data.clone()) }
                    }
                    BlockInput::Batch { w_nonce, wire, .. } => landing(block.number, *w_nonce, wire),
                });
            }
        }
        inputs
    }

    /// A fresh EIP-1559 estimate: twice the base fee plus a 1 gwei tip, capped at the
    /// operator's fee ceiling (five times the normal base fee) as submitters are, which
    /// is how a long congestion prices a batch out.
    fn estimate(&self) -> Fees {
        let ceiling = self.chain.params().base_fee.saturating_mul(5);
        let max_fee = self.chain.base_fee().saturating_mul(2).saturating_add(GWEI).min(ceiling);
        Fees { max_fee, priority_fee: GWEI.min(max_fee) }
    }

    fn send(
        &mut self,
        chain_id: u64,
        w_nonce: WalletNonce,
        wire: Option<&[u8]>,
        bid: Option<Bid>,
    ) -> Result<Signed, SendError> {
        self.advance();
        if self.rpc_fails() {
            return Err(SendError::Transport("connection refused".to_owned()));
        }
        let found = self.chain.params().chain_id;
        if found != chain_id {
            return Err(SendError::WrongChain { found });
        }
        if let Some(bid) = bid {
            // docs/protocol.md §11.1: the core's bid, signed as it is; the pool's replacement rule
            // judges it like a real node's.
            let fees = Fees { max_fee: bid.max_fee_per_gas.0, priority_fee: bid.max_priority_fee_per_gas.0 };
            let tx_hash = self.submit_tx(w_nonce, wire, fees)?;
            let gas_limit = Some(wire.map_or(21_000, machine::min_gas));
            return Ok(Signed { tx_hash, bid: Some(bid), gas_limit });
        }
        let mut fees = match wire {
            Some(_) => self.estimate(),
            None => {
                let estimate = self.estimate();
                let fees = noop_fees(machine::Fees {
                    max_fee_per_gas: estimate.max_fee,
                    max_priority_fee_per_gas: estimate.priority_fee,
                });
                Fees { max_fee: fees.max_fee_per_gas, priority_fee: fees.max_priority_fee_per_gas }
            }
        };
        // Read back what the node holds at this nonce (crash-safe: no fee memory in the
        // process). The same bytes already pending at fees the fresh estimate does not
        // beat by 10% stay as they are; anything else must out-bid what is there.
        if let Some(old) = self.chain.pending_tx(w_nonce.0).cloned()
            && !fees.replaces(&old.fees)
        {
            if old.wire.as_deref() == wire {
                return Ok(Signed { tx_hash: old.hash, bid: None, gas_limit: None });
            }
            let bumped = Fees::bumped_over(&old.fees);
            fees = Fees {
                max_fee: fees.max_fee.max(bumped.max_fee),
                priority_fee: fees.priority_fee.max(bumped.priority_fee),
            };
        }
        let tx_hash = self.submit_tx(w_nonce, wire, fees)?;
        Ok(Signed { tx_hash, bid: None, gas_limit: None })
    }

    /// Puts a transaction in the local node's pool, as `eth_sendRawTransaction` does.
    fn submit_tx(&mut self, w_nonce: WalletNonce, wire: Option<&[u8]>, fees: Fees) -> Result<Hash32, SendError> {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&w_nonce.0.to_le_bytes());
        hasher.update(wire.unwrap_or_default());
        hasher.update(&fees.max_fee.to_le_bytes());
        let hash = Hash32(*hasher.finalize().as_bytes());
        if self.chain.pending_tx(w_nonce.0).is_some_and(|old| old.hash == hash) {
            // The identical transaction is pending: a node answers "already known", which
            // the adapter counts as sent, as the live one does.
            return Ok(hash);
        }
        let tx = Tx { wire: wire.map(<[u8]>::to_vec), fees, hash, origin: Origin::Ours };
        match self.chain.submit(w_nonce.0, tx) {
            Ok(()) => Ok(hash),
            Err(true) => Err(SendError::Node {
                class: machine::SendClass::NonceTooLow,
                code: -32000,
                message: "nonce too low".to_owned(),
            }),
            Err(false) => Err(SendError::Node {
                class: machine::SendClass::Underpriced,
                code: -32000,
                message: "replacement transaction underpriced".to_owned(),
            }),
        }
    }
}

/// A batch landing as the executor reports it (`BatchLanding::observed`).
fn landing(block: u64, w_nonce: u64, wire: &[u8]) -> Input {
    Input::Batch(BatchLanding::observed(BlockNumber(block), WalletNonce(w_nonce), wire, true))
}

impl L1 for World<'_> {
    fn chain_id(&mut self) -> Result<ChainIdentity, L1Error> {
        self.advance();
        if self.rpc_fails() {
            return Err(L1Error::Transport("connection refused".to_owned()));
        }
        let genesis_hash = self.chain.blocks().first().map(|genesis| genesis.hash);
        Ok(ChainIdentity { chain_id: self.chain.params().chain_id, genesis_hash })
    }

    fn sync_safe(&mut self, from_block: BlockNumber) -> Result<SafeSync, L1Error> {
        self.advance();
        let fail_after_noop = self.scenario.faults.iter().find_map(|f| match *f {
            Fault::FailSyncAfterNoop { count } => Some(count),
            _ => None,
        });
        if let Some(count) = fail_after_noop
            && self.noops_sent > 0
            && self.failed_syncs_after_noop < count
        {
            self.failed_syncs_after_noop += 1;
            return Err(L1Error::Timeout { ms: 10_000 });
        }
        if self.rpc_fails() {
            return Err(L1Error::Transport("connection refused".to_owned()));
        }
        let safe = self.node_safe();
        let block = |number: u64| self.chain.blocks().get(usize::try_from(number).unwrap_or(usize::MAX));
        let head = block(safe);
        // As a node answers: the parent of the range's first block, if the node has it.
        let parent_hash = match block(from_block.0) {
            Some(first) if from_block.0 <= safe => Some(first.parent_hash),
            _ if from_block.0 == safe + 1 => head.map(|head| head.hash),
            _ => None,
        };
        Ok(SafeSync {
            safe_block: BlockNumber(safe),
            safe_timestamp: head.map_or(0, |b| b.timestamp_s),
            inputs: self.inputs(from_block.0, safe),
            safe_hash: head.map(|b| b.hash),
            parent_hash,
            partial: false,
        })
    }

    fn wallet(&mut self) -> Result<WalletCounts, L1Error> {
        self.advance();
        if self.rpc_fails() {
            return Err(L1Error::Transport("connection refused".to_owned()));
        }
        let safe = self.node_safe();
        let safe_count =
            self.chain.blocks().get(usize::try_from(safe).unwrap_or(usize::MAX)).map_or(0, |b| b.nonce_after);
        Ok(WalletCounts {
            latest: WalletNonce(self.chain.mined()),
            pending: WalletNonce(self.chain.pending()),
            safe: WalletNonce(safe_count),
            safe_block: BlockNumber(safe),
            // The pending block's base fee and a 1 gwei tip suggestion, as a node reports.
            fees: Some(FeeView { base_fee: Wei(self.chain.base_fee()), tip: Wei(GWEI) }),
            head_block: (!self.scenario.answers_before_one_view).then(|| BlockNumber(self.chain.head())),
        })
    }

    fn unsafe_landings(&mut self) -> Result<Landings, L1Error> {
        self.advance();
        if self.rpc_fails() {
            return Err(L1Error::Transport("connection refused".to_owned()));
        }
        let safe = self.node_safe();
        let nonces = self
            .inputs(safe + 1, self.chain.head())
            .into_iter()
            .filter_map(|input| match input {
                Input::Batch(landing) if landing.decodes => Some(landing.nonce),
                _ => None,
            })
            .collect();
        Ok(Landings { nonces, safe_block: (!self.scenario.answers_before_one_view).then_some(BlockNumber(safe)) })
    }

    fn send_batch(
        &mut self,
        chain_id: u64,
        w_nonce: WalletNonce,
        wire: &[u8],
        bid: Option<Bid>,
        _min_gas: Option<u64>,
    ) -> Result<Signed, SendError> {
        // The simulated chain has no gas accounting: every limit at or above the floor fits.
        self.send(chain_id, w_nonce, Some(wire), bid)
    }

    fn send_noop(&mut self, chain_id: u64, w_nonce: WalletNonce, bid: Option<Bid>) -> Result<Signed, SendError> {
        let sent = self.send(chain_id, w_nonce, None, bid);
        if sent.is_ok() {
            self.noops_sent += 1;
        }
        sent
    }
}

impl Store for World<'_> {
    fn apply(&mut self, op: OpId, write: &DbWrite) -> Result<(), StoreError> {
        // Nothing in the simulation reads the projection back (the SQLite tests cover
        // applying and re-applying writes), so it keeps none: its memory stays bounded.
        let _ = (op, write);
        Ok(())
    }
}

impl Clock for World<'_> {
    fn now_ms(&mut self) -> UnixMillis {
        UnixMillis(self.now_ms.saturating_add_signed(self.clock_offset_ms(self.now_ms)))
    }
}

impl Inputs for World<'_> {
    fn set_intake(&mut self, open: bool) {
        if open && !self.intake_open {
            self.next_seal_ms = self.now_ms + self.scenario.seal_interval_ms;
        }
        self.intake_open = open;
    }

    fn wait(&mut self, deadline: Option<UnixMillis>) -> Wake {
        if self.stop {
            return Wake::Idle;
        }
        // The deadline is on the process's clock; the world runs on virtual time.
        let offset = self.clock_offset_ms(self.now_ms);
        let deadline_ms = deadline.map(|at| at.0.saturating_add_signed(-offset));
        let mut seal_ms = None;
        if self.intake_open {
            // During a quiet spell the lane seals nothing; try again once a seal interval passes.
            while !self.sealing(self.next_seal_ms) && self.next_seal_ms < GENESIS_MS + self.scenario.run_ms {
                self.next_seal_ms += self.scenario.seal_interval_ms;
            }
            seal_ms = self.sealing(self.next_seal_ms).then_some(self.next_seal_ms);
        }
        let Some(target) = [deadline_ms, seal_ms].into_iter().flatten().min() else {
            return Wake::Idle;
        };
        if target >= self.horizon_ms {
            self.now_ms = self.now_ms.max(self.horizon_ms);
            self.stop = true;
            return Wake::Idle;
        }
        self.now_ms = self.now_ms.max(target);
        self.advance();
        if seal_ms == Some(target) && deadline_ms.is_none_or(|d| d > target) {
            self.next_seal_ms += self.scenario.seal_interval_ms;
            self.sealed += 1;
            let mut payload = self.sealed.to_be_bytes().to_vec();
            payload.extend_from_slice(&self.rng.random::<[u8; 4]>());
            return Wake::Seal { id: None, payload };
        }
        Wake::Deadline
    }
}

impl LogSink for World<'_> {
    /// The caller's sink first: a record it refused is not durable, so it is not replayed.
    fn append(&mut self, event: &Event, effects: &[Effect]) -> Result<(), String> {
        self.sink.append(event, effects)?;
        self.replayer.append(event, effects)
    }
}

impl Hooks for World<'_> {
    fn crash_at(&mut self, _point: CrashPoint) -> bool {
        if self.outage_due().is_some() {
            return true;
        }
        self.crashes_enabled
            && self.elapsed_ms() < self.scenario.run_ms
            && self.rng.random_ratio(self.scenario.crash_per_mille.min(1000), 1000)
    }

    fn stepped(&mut self, state: &State, event: &Event, step: &Step) {
        self.advance();
        let elapsed_ms = self.elapsed_ms();
        let settled = elapsed_ms >= self.scenario.run_ms;
        let head = self.chain.head();
        let converged = self.checks.after_step(state, event, step, &self.oracle, elapsed_ms, head, settled);
        self.checks.judge_resends(step, &self.chain, &self.oracle);
        if converged {
            self.stop = true;
        }
    }
}
