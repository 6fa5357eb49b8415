//! Decisions as data: the danger a step classified, the startup decision it took, and
//! a structured `Why` with the numbers. Sentences are rendered by `Display`, outside
//! `step`.

use core::fmt;

use serde::Serialize;

use crate::bytes::Hash32;
use crate::config::{ConfigError, IdentityChange};
use crate::event::{RpcCall, SendClass};
use crate::fees::{Bid, BidReason, Wei};
use crate::units::{BatchIndex, BatchNonce, BlockNumber, OpId, UnixMillis, WalletNonce};

/// docs/protocol.md §4: the danger classification, in its order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Danger {
    /// Arm 1: a divergence marker is present.
    CanonicalDivergence(BatchNonce),
    /// Arms 2 and 5: the L1 view is too old, or the clock cannot be trusted.
    L1ViewStale,
    /// Arm 3: the oldest unaccepted closed batch reached the danger threshold.
    ClosedBatchInDanger(BatchIndex),
    /// Arm 4: the Tip reached the danger threshold.
    TipInDanger(BatchIndex),
    /// Arm 6: the safe head may be frozen and the estimate reaches the threshold.
    EstimatedBatchInDanger(BatchIndex),
    /// Arm 7.
    Safe,
    /// Not an arm of docs/protocol.md §4: a sync showed that history at or below the stored
    /// safe head was rewritten (docs/protocol.md §11.2). Found by the reader, never by `classify`.
    L1HistoryRewritten,
}

impl Danger {
    /// The docs/protocol.md §10 name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Danger::CanonicalDivergence(_) => "canonical_divergence",
            Danger::L1ViewStale => "l1_view_stale",
            Danger::ClosedBatchInDanger(_) => "closed_batch_in_danger",
            Danger::TipInDanger(_) => "tip_in_danger",
            Danger::EstimatedBatchInDanger(_) => "estimated_batch_in_danger",
            Danger::Safe => "safe",
            Danger::L1HistoryRewritten => "l1_history_rewritten",
        }
    }

    /// The batch the arm names, if any (`danger_batch` in the trace).
    #[must_use]
    pub fn batch(self) -> Option<BatchIndex> {
        match self {
            Danger::ClosedBatchInDanger(batch) | Danger::TipInDanger(batch) | Danger::EstimatedBatchInDanger(batch) => {
                Some(batch)
            }
            Danger::CanonicalDivergence(_) | Danger::L1ViewStale | Danger::Safe | Danger::L1HistoryRewritten => None,
        }
    }
}

/// docs/protocol.md §6: the startup decisions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Check the chain id, then sync L1.
    InitialSync,
    /// Open the root Tip, or a Tip after a torn close.
    EnsureOpenTip,
    /// Invalidate the Tip only and open a fresh one.
    RecoverTip,
    /// Consume every wallet slot ever used (docs/protocol.md §7).
    Flush,
    /// Re-read safe inputs after a flush.
    PostFlushSync,
    /// Invalidate everything past gold and open the recovery batch (docs/protocol.md §8).
    Cascade,
    /// Start detector, submitter, reader; open intake.
    Admit,
    /// Exit and be respawned later.
    Retry,
    /// Terminal exit.
    Refuse,
    /// Not a startup decision of docs/protocol.md §6: a send whose bid would exceed
    /// `max_fee_cap_wei` is not sent (docs/protocol.md §11.1).
    HoldFeeCap,
}

impl Decision {
    /// The docs/protocol.md §10 name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Decision::InitialSync => "initial_sync",
            Decision::EnsureOpenTip => "ensure_open_tip",
            Decision::RecoverTip => "recover_tip",
            Decision::Flush => "flush",
            Decision::PostFlushSync => "post_flush_sync",
            Decision::Cascade => "cascade",
            Decision::Admit => "admit",
            Decision::Retry => "retry",
            Decision::Refuse => "refuse",
            Decision::HoldFeeCap => "hold_fee_cap",
        }
    }
}

/// A fact the core cannot use: recorded in the trace, the state is unchanged by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FactError {
    /// An event other than `boot` arrived while no process runs (before the first boot
    /// or after an exit).
    #[error("`{event}` arrived while no process is running (before a boot or after an exit); ignored")]
    NoProcess {
        /// The event name.
        event: &'static str,
    },
    /// An L1 fact arrived before this process verified the chain id.
    #[error("`{event}` arrived before this process verified the chain id; nothing from L1 is used until it is")]
    ChainIdNotVerified {
        /// The event name.
        event: &'static str,
    },
    /// Inputs were not in L1 block order.
    #[error(
        "input {position} is in block {block}, before the previous input's block {previous}; inputs must be in L1 order"
    )]
    InputsOutOfOrder {
        /// Zero-based position in the event's `inputs`.
        position: usize,
        /// Its block.
        block: BlockNumber,
        /// The previous input's block.
        previous: BlockNumber,
    },
    /// An input lies above the reported safe head.
    #[error("input {position} is in block {block}, above the reported safe head {safe_block}")]
    InputAboveSafeHead {
        /// Zero-based position in the event's `inputs`.
        position: usize,
        /// Its block.
        block: BlockNumber,
        /// The reported safe head.
        safe_block: BlockNumber,
    },
    /// Wallet counts must satisfy `safe <= latest <= pending`.
    #[error(
        "wallet counts are inconsistent: safe {safe}, latest {latest}, pending {pending} (expected safe <= latest <= pending)"
    )]
    WalletInconsistent {
        /// Count at `latest`.
        latest: WalletNonce,
        /// Count at `pending`.
        pending: WalletNonce,
        /// Count at `safe`.
        safe: WalletNonce,
    },
    /// A send outcome for a wallet nonce this deployment never asked to send at.
    #[error("send outcome for wallet nonce {w_nonce}, where nothing was ever asked to be sent")]
    SendOutcomeForUnknownSlot {
        /// The wallet nonce.
        w_nonce: WalletNonce,
    },
    /// A send outcome for a wallet nonce that was consumed on L1 and pruned (docs/protocol.md §11.6).
    #[error(
        "send outcome for wallet nonce {w_nonce}, which was consumed on L1 and pruned with the slots through {pruned_through}: it can no longer matter"
    )]
    SendOutcomeForPrunedSlot {
        /// The wallet nonce.
        w_nonce: WalletNonce,
        /// Slots at or below this were pruned.
        pruned_through: WalletNonce,
    },
    /// A `db` outcome for an op id never issued.
    #[error("db outcome for op {op}, which was never issued (next op is {next})")]
    UnknownDbOp {
        /// The op id.
        op: OpId,
        /// The next op id to be issued.
        next: OpId,
    },
    /// A seal arrived but the valid path ends in a closed batch.
    #[error("seal but no tip is open; the payload is not taken")]
    NoTip,
    /// The payload does not fit the wire format.
    #[error("seal payload of {bytes} bytes exceeds the 4 GiB wire limit")]
    PayloadTooLarge {
        /// The payload size.
        bytes: u64,
    },
    /// A seal arrived while intake is closed.
    #[error("seal while user intake is closed (the process is not admitted); the payload is not taken")]
    SealWhileIntakeClosed,
    /// A seal of the Tip at batch nonce `u64::MAX`: no batch could follow it, so it is not
    /// closed (ARCHITECTURE.md choice 70).
    #[error(
        "seal but the Tip has batch nonce {nonce}, the last there is: no batch could follow it, so it is not sealed; the payload is not taken (this deployment's batch nonces are used up)"
    )]
    BatchNoncesExhausted {
        /// The Tip's nonce (`u64::MAX`).
        nonce: BatchNonce,
    },
    /// An `l1` fact gives `parent_hash` without `from_block`: the parent of which block?
    #[error(
        "`parent_hash` given without `from_block`: it is the parent of the range's first block, so the range must say where it starts (docs/protocol.md §11.2); the fact is not used"
    )]
    ParentHashWithoutFromBlock,
}

/// The reason behind a step's verdict, with the numbers that drove it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[expect(missing_docs, reason = "the fields are named for what they hold; `Display` below is their documentation")]
pub enum Why {
    // --- danger classification (docs/protocol.md §4) ---
    /// Arm 1.
    DivergenceMarker { nonce: BatchNonce },
    /// Arm 2, no observation yet.
    NoSafeHead,
    /// Arm 2.
    ViewStale { safe_block: BlockNumber, age_s: u64, stale_after_s: u64 },
    /// Arm 3.
    BatchAged { batch: BatchIndex, nonce: BatchNonce, age_blocks: u64, threshold_blocks: u64 },
    /// Arm 4.
    TipAged { batch: BatchIndex, nonce: BatchNonce, age_blocks: u64, threshold_blocks: u64 },
    /// Arm 5, against the safe block's timestamp.
    ClockBehindSafeBlock { now_ms: UnixMillis, safe_timestamp_ms: u64, block_time_ms: u64 },
    /// Arm 5, against the time the safe head last advanced.
    ClockBehindProgress { back_s: u64, seconds_per_block: u64 },
    /// Arm 6.
    EstimatedAged { batch: BatchIndex, nonce: BatchNonce, age_blocks: u64, missed_blocks: u64, threshold_blocks: u64 },
    /// Arm 7.
    AllWithinThreshold { oldest: Option<(BatchIndex, u64)>, threshold_blocks: u64 },

    // --- startup (docs/protocol.md §6) ---
    /// A boot starts with a chain-id check and a sync.
    Booted { chain_id: u64 },
    /// The config broke a rule.
    ConfigInvalid(ConfigError),
    /// The config names another deployment than the one this log was started for (docs/protocol.md §11.3).
    IdentityChanged(IdentityChange),
    /// A tuning field changed since the last boot: allowed, noted (docs/protocol.md §11.3).
    ConfigChanged { field: &'static str, old: Option<u128>, new: Option<u128> },
    /// The node's genesis block is not the one this log first saw (docs/protocol.md §11.2).
    GenesisMismatch { stored: Hash32, found: Hash32 },
    /// The first genesis hash seen was stored.
    GenesisStored { genesis_hash: Hash32 },
    /// The node reported another chain.
    ChainIdMismatch { expected: u64, found: u64 },
    /// The node reported our chain.
    ChainIdVerified { chain_id: u64 },
    /// An RPC failure during initial sync: inspection goes on from the stored view.
    InitialSyncFailed { call: RpcCall },
    /// The Tip was opened by `EnsureOpenTip`.
    TipOpened {
        batch: BatchIndex,
        nonce: BatchNonce,
        first_frame_safe_block: BlockNumber,
        drain_from: u64,
        drain_to: u64,
    },
    /// `RecoverTip` replaced the Tip.
    TipRecovered { invalidated: BatchIndex, generation: u64, tip: BatchIndex, first_frame_safe_block: BlockNumber },
    /// The flush found every used slot consumed at safe depth.
    FlushWitness { witness: BlockNumber, safe: WalletNonce, pending: WalletNonce, watermark: Option<WalletNonce> },
    /// Post-flush sync saw a safe head below the witness.
    LaggingReplica { stored: Option<BlockNumber>, witness: BlockNumber },
    /// Post-flush sync reached the witness; the cascade ran.
    Cascaded {
        witness: BlockNumber,
        pivot: Option<BatchIndex>,
        invalidated: u64,
        generation: u64,
        recovery_batch: Option<(BatchIndex, BatchNonce, BlockNumber)>,
    },
    /// A repair already ran this boot and the next inspection is not `Safe` with a Tip.
    AtMostOneRepair(Box<Why>),
    /// `Safe` but no Tip after a repair: cannot happen unless the tree is torn again.
    NoTipAfterRepair,

    // --- flush (docs/protocol.md §7) ---
    /// No-ops were sent at `from .. to`.
    FlushSending { from: WalletNonce, to: WalletNonce, watermark: WalletNonce },
    /// Every slot below `end` is used but not yet consumed at safe depth.
    FlushWaiting { latest: WalletNonce, pending: WalletNonce, safe: WalletNonce, end: WalletNonce },
    /// A no-op round was sent; the watch starts.
    FlushWatching { until_ms: UnixMillis },
    /// A tick while watching: the counts are read again.
    FlushPolling,
    /// The counts do not show the flush done yet; the watch goes on.
    FlushNotYet { pending: WalletNonce, safe: WalletNonce, watermark: Option<WalletNonce>, until_ms: UnixMillis },
    /// Send outcomes of the round are overdue by a whole watch: the counts tell what landed.
    FlushOutcomesOverdue { missing: u64 },
    /// A startup answer is overdue: the request is made again.
    AskAgain { what: &'static str },
    /// Sends of the round failed.
    FlushSendsFailed { failed: u64, first: WalletNonce },
    /// An RPC failure in a phase with no internal retry.
    RpcFailedNoRetry { call: RpcCall, decision: Decision },
    /// The send outcome was recorded; the round waits for others.
    FlushOutcome { w_nonce: WalletNonce, outstanding: u64 },

    // --- runtime (docs/protocol.md §5) ---
    /// The L1 view advanced.
    Synced { safe_block: BlockNumber, direct: u64, landings: u64, accepted: u64, frontier: BatchNonce },
    /// The hash the node gives for a block we stored differs: history was rewritten.
    HistoryRewritten { block: BlockNumber, stored: Hash32, found: Hash32 },
    /// A node answered with a safe head below the stored one (a lagging replica): ignored.
    SafeHeadBehind { stored: BlockNumber, reported: BlockNumber, count: u64 },
    /// A catch-up sync stopped at its byte budget; the rest is asked for.
    SyncContinues { from_block: BlockNumber },
    /// A seal whose queue id was already consumed: ignored, acknowledged again.
    SealRepeated { seal_id: u64, last: u64 },
    /// A seal whose encoded batch exceeds `max_batch_bytes`: rejected back to the lane.
    SealTooLarge { seal_id: Option<u64>, wire_bytes: u64, max_batch_bytes: u64 },
    /// A safe landing was accepted at a nonce with bytes we did not make.
    DivergenceDetected { nonce: BatchNonce, block: BlockNumber },
    /// The Tip was sealed and a new one opened.
    Sealed { batch: BatchIndex, nonce: BatchNonce, tip: BatchIndex },
    /// The submitter planned sends.
    SubmitPlanned {
        start: BatchNonce,
        latest: WalletNonce,
        batches: u64,
        last_w_nonce: WalletNonce,
        watched: u64,
        deferred: u64,
    },
    /// The submitter found nothing at or past its start nonce.
    NothingToSubmit { start: BatchNonce },
    /// Waiting for the other answer of a submit round.
    AwaitingAnswers,
    /// A cadence is due but this process has not verified the chain id: that comes first.
    ChainIdFirst,
    /// A fact was stored; nothing is due.
    Observed,
    /// A send was recorded.
    SendRecorded { w_nonce: WalletNonce },
    /// A transient failure; retried on the next cadence.
    Transient { call: RpcCall },
    /// A send failed at runtime; retried on the next tick with fresh fees.
    SendRetryLater { w_nonce: WalletNonce, class: Option<SendClass> },
    /// A flush's no-op was refused, with the adapter's class.
    SendRefused { w_nonce: WalletNonce, class: Option<SendClass> },
    /// Settled batches and slots left the state (docs/protocol.md §11.6).
    Pruned { batches: u64, slots: u64, through_nonce: Option<BatchNonce>, total: u64 },
    /// A landing of ours was adopted from L1 as a Gold batch (docs/protocol.md §11.7).
    Adopted { batch: BatchIndex, nonce: BatchNonce, w_nonce: WalletNonce, block: BlockNumber, tip_taken: bool },
    /// A send's bid and why (docs/protocol.md §11.1); `batch` is `None` for a no-op.
    Bid { w_nonce: WalletNonce, batch: Option<BatchIndex>, bid: Bid, reason: BidReason },
    /// A bid over the cap was not sent; `held` sends wait with it (docs/protocol.md §11.1).
    HoldFeeCap { w_nonce: WalletNonce, batch: Option<BatchIndex>, bid: Bid, cap: Wei, held: u64 },
    /// Submissions paused by an operator; `already`: they were paused before.
    Paused { reason: String, already: bool },
    /// Submissions resumed by an operator; `was_paused`: they were paused.
    Resumed { was_paused: bool },
    /// While paused, the batch at wallet nonce `w_nonce` was due for its first send and
    /// was not sent; `held` sends wait with it (ARCHITECTURE.md choice 61).
    HoldPaused { w_nonce: WalletNonce, batch: BatchIndex, held: u64, reason: String },
    /// A local write committed.
    DbCommitted { op: OpId },
    /// A local write failed.
    DbFailed { op: OpId, error: Option<String> },
    /// A clean shutdown was requested.
    ShutdownRequested,
    /// A tick with nothing due.
    NothingDue,
    /// A fact the core cannot use.
    Rejected(FactError),
}

fn opt<T: fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "none".to_owned(), |v| v.to_string())
}

/// `{}` is the trace's exact sentence; `{:#}` the same for a person: amounts in gwei,
/// sizes and totals with their digits grouped (the audit, `run`'s logs, the demo).
impl fmt::Display for Why {
    #[expect(clippy::too_many_lines, reason = "one arm per reason, kept together so the wording is consistent")]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::DivergenceMarker { nonce } => {
                write!(f, "canonical divergence recorded at nonce {nonce}: L1 accepted bytes this node did not make")
            }
            Why::NoSafeHead => write!(f, "no safe head has been observed yet"),
            Why::ViewStale { safe_block, age_s, stale_after_s } => {
                write!(f, "safe head {safe_block} is {age_s} s old >= stale window {stale_after_s} s")
            }
            Why::BatchAged { batch, nonce, age_blocks, threshold_blocks } => {
                write!(
                    f,
                    "batch {batch} (nonce {nonce}) aged {age_blocks} blocks >= danger threshold {threshold_blocks}"
                )
            }
            Why::TipAged { batch, nonce, age_blocks, threshold_blocks } => write!(
                f,
                "tip batch {batch} (nonce {nonce}) aged {age_blocks} blocks >= danger threshold {threshold_blocks}"
            ),
            Why::ClockBehindSafeBlock { now_ms, safe_timestamp_ms, block_time_ms } => write!(
                f,
                "clock fault: local clock {now_ms} ms is {} ms before the safe block's timestamp {safe_timestamp_ms} ms (>= one block-time {block_time_ms} ms)",
                safe_timestamp_ms.saturating_sub(now_ms.0)
            ),
            Why::ClockBehindProgress { back_s, seconds_per_block } => write!(
                f,
                "clock fault: local clock is {back_s} s before the time the safe head last advanced (>= one block-time {seconds_per_block} s)"
            ),
            Why::EstimatedAged { batch, nonce, age_blocks, missed_blocks, threshold_blocks } => write!(
                f,
                "batch {batch} (nonce {nonce}) aged {age_blocks} blocks + {missed_blocks} estimated missed blocks >= danger threshold {threshold_blocks} (safe head may be frozen)"
            ),
            Why::AllWithinThreshold { oldest: Some((batch, age_blocks)), threshold_blocks } => write!(
                f,
                "oldest unresolved batch {batch} aged {age_blocks} blocks < danger threshold {threshold_blocks}"
            ),
            Why::AllWithinThreshold { oldest: None, threshold_blocks } => {
                write!(f, "no unresolved batch (danger threshold {threshold_blocks})")
            }
            Why::Booted { chain_id } => {
                write!(f, "boot: config valid; check chain id {chain_id} before the first L1 read, then sync")
            }
            Why::ConfigInvalid(error) => write!(f, "config invalid: {error}"),
            Why::IdentityChanged(change) => write!(f, "config invalid: {change}"),
            Why::ConfigChanged { field, old, new } => {
                let show = |value: &Option<u128>| value.map_or_else(|| "unset".to_owned(), |v| v.to_string());
                write!(
                    f,
                    "config `{field}` changed since the last boot: {} -> {} (allowed; noted)",
                    show(old),
                    show(new)
                )
            }
            Why::GenesisMismatch { stored, found } => write!(
                f,
                "genesis hash mismatch: node's genesis is {found}, this log's chain has {stored} (a reset or another chain with the same id); nothing is read or sent"
            ),
            Why::GenesisStored { genesis_hash } => write!(f, "genesis hash {genesis_hash} stored as this log's chain"),
            Why::HistoryRewritten { block, stored, found } => write!(
                f,
                "L1 history rewritten: block {block} was {stored} and is now {found} (a deep reorg or a swapped node); an operator must look"
            ),
            Why::SafeHeadBehind { stored, reported, count } => write!(
                f,
                "safe head {reported} is below the stored {stored} (a lagging replica, {count} so far); answer ignored"
            ),
            Why::SyncContinues { from_block } => {
                write!(f, "catch-up sync stopped at its byte budget; asking again from block {from_block}")
            }
            Why::SealRepeated { seal_id, last } => {
                write!(f, "seal {seal_id} was already consumed (last seal id {last}); ignored")
            }
            Why::SealTooLarge { seal_id, wire_bytes, max_batch_bytes } => {
                match seal_id {
                    Some(id) => write!(f, "seal {id} rejected")?,
                    None => write!(f, "seal (no queue id) rejected")?,
                }
                let (wire_bytes, max_batch_bytes) = if f.alternate() {
                    (crate::fees::grouped(*wire_bytes), crate::fees::grouped(*max_batch_bytes))
                } else {
                    (wire_bytes.to_string(), max_batch_bytes.to_string())
                };
                write!(
                    f,
                    ": its batch would be {wire_bytes} bytes > max_batch_bytes {max_batch_bytes}; reported back to the inclusion lane"
                )
            }
            Why::ChainIdMismatch { expected, found } => {
                write!(f, "chain id mismatch: node reports {found}, config says {expected}; nothing is read or sent")
            }
            Why::ChainIdVerified { chain_id } => write!(f, "chain id {chain_id} verified"),
            Why::InitialSyncFailed { call } => {
                write!(f, "initial sync: {} read failed; inspecting from the stored view", call.name())
            }
            Why::TipOpened { batch, nonce, first_frame_safe_block, drain_from, drain_to } => write!(
                f,
                "opened tip batch {batch} (nonce {nonce}, S={first_frame_safe_block}) draining direct inputs {drain_from}..{drain_to}"
            ),
            Why::TipRecovered { invalidated, generation, tip, first_frame_safe_block } => write!(
                f,
                "invalidated tip batch {invalidated}, generation {generation}, opened tip batch {tip} (S={first_frame_safe_block})"
            ),
            Why::FlushWitness { witness, safe, pending, watermark } => write!(
                f,
                "flush done: pending {pending} <= safe {safe} and safe >= W+1 (W={}) at safe block {witness}: witness {witness}",
                opt(*watermark)
            ),
            Why::LaggingReplica { stored, witness } => {
                write!(f, "stored safe head {} < flush witness {witness}: a lagging replica answered", opt(*stored))
            }
            Why::Cascaded { witness, pivot: None, recovery_batch: None, .. } => {
                write!(
                    f,
                    "stored safe head >= witness {witness}; cascade: nothing past gold, tip kept (no-op recovery)"
                )
            }
            Why::Cascaded { witness, pivot, invalidated, generation, recovery_batch } => {
                write!(f, "stored safe head >= witness {witness}; cascade from batch {}", opt(*pivot))?;
                write!(f, ": {invalidated} invalidated, generation {generation}")?;
                if let Some((batch, nonce, first_frame_safe_block)) = recovery_batch {
                    write!(f, "; recovery batch {batch} (nonce {nonce}, S={first_frame_safe_block})")?;
                }
                Ok(())
            }
            Why::AtMostOneRepair(inner) if f.alternate() => {
                write!(f, "at most one repair per boot; after it: {inner:#}")
            }
            Why::AtMostOneRepair(inner) => write!(f, "at most one repair per boot; after it: {inner}"),
            Why::NoTipAfterRepair => write!(f, "at most one repair per boot; after it there is no tip"),
            Why::FlushSending { from, to, watermark } => {
                write!(f, "flush: no-ops at wallet nonces {from}..{to}, watermark W={watermark}")
            }
            Why::FlushWaiting { latest, pending, safe, end } => write!(
                f,
                "flush: slots below {end} are used (latest {latest}, pending {pending}) but safe is {safe}; watching"
            ),
            Why::FlushWatching { until_ms } => write!(f, "flush: round sent; watching until {until_ms} ms"),
            Why::FlushPolling => write!(f, "flush: watching; reading the wallet counts again"),
            Why::FlushNotYet { pending, safe, watermark, until_ms } => write!(
                f,
                "flush: not done yet (pending {pending}, safe {safe}, W={}); watching until {until_ms} ms",
                opt(*watermark)
            ),
            Why::FlushOutcomesOverdue { missing } => write!(
                f,
                "flush: {missing} send outcome(s) missing after a whole watch; reading the wallet counts to see what landed"
            ),
            Why::AskAgain { what } => write!(f, "no answer yet: asking again ({what})"),
            Why::FlushSendsFailed { failed, first } => {
                write!(f, "flush: {failed} no-op send(s) failed (first at wallet nonce {first}); exit and retry")
            }
            Why::RpcFailedNoRetry { call, decision } => {
                write!(f, "{} read failed during {}; no internal retry", call.name(), decision.name())
            }
            Why::FlushOutcome { w_nonce, outstanding } => {
                write!(f, "flush: outcome at wallet nonce {w_nonce}; {outstanding} outstanding")
            }
            Why::Synced { safe_block, direct, landings, accepted, frontier } => write!(
                f,
                "safe head {safe_block}: {direct} direct input(s), {landings} landing(s), {accepted} accepted; gold frontier {frontier}"
            ),
            Why::DivergenceDetected { nonce, block } => write!(
                f,
                "canonical divergence: block {block} accepted nonce {nonce} with bytes that match no valid local batch"
            ),
            Why::Sealed { batch, nonce, tip } => {
                write!(f, "sealed batch {batch} (nonce {nonce}); opened tip batch {tip}")
            }
            Why::SubmitPlanned { start, latest, batches, last_w_nonce, watched, deferred } => {
                write!(f, "submit from nonce {start}: {batches} batch(es) at wallet nonces {latest}..={last_w_nonce}")?;
                if *watched > 0 {
                    write!(f, ", {watched} still watched (not resent yet)")?;
                }
                if *deferred > 0 {
                    write!(f, ", {deferred} deferred to the next round (the round's byte budget is spent)")?;
                }
                Ok(())
            }
            Why::NothingToSubmit { start } => write!(f, "nothing to submit at or past nonce {start}"),
            Why::AwaitingAnswers => write!(f, "submit round waits for its other answer"),
            Why::ChainIdFirst => write!(f, "chain id not verified by this process yet: checking it before any L1 read"),
            Why::Observed => write!(f, "fact stored; nothing due"),
            Why::SendRecorded { w_nonce } => write!(f, "send at wallet nonce {w_nonce} recorded"),
            Why::Transient { call } => write!(f, "{} read failed; retried on the next cadence", call.name()),
            Why::SendRetryLater { w_nonce, class: None } => {
                write!(f, "send at wallet nonce {w_nonce} failed; retried on the next tick with fresh fees")
            }
            Why::SendRetryLater { w_nonce, class: Some(class) } => write!(
                f,
                "send at wallet nonce {w_nonce} refused ({}){}",
                class.name(),
                match class {
                    SendClass::Underpriced => "; retried at the next round at least 10% over the refused bid",
                    SendClass::InsufficientFunds =>
                        "; the submitter account cannot pay for it: fund it; retried at the next round at the same bid",
                    SendClass::NonceTooLow => "; the nonce is used on chain, the next round starts above it",
                    SendClass::AlreadyKnown | SendClass::PoolFull | SendClass::Rejected | SendClass::Transport =>
                        "; retried at the next round",
                }
            ),
            Why::SendRefused { w_nonce, class } => {
                write!(f, "no-op at wallet nonce {w_nonce} refused ({})", class.map_or("unclassified", SendClass::name))
            }
            Why::Pruned { batches, slots, through_nonce, total } => {
                write!(f, "pruned {batches} settled batch(es) and {slots} wallet slot(s)")?;
                if let Some(nonce) = through_nonce {
                    write!(f, "; Gold through nonce {nonce} left the state")?;
                }
                if f.alternate() {
                    write!(f, " ({} pruned in all)", crate::fees::grouped(*total))
                } else {
                    write!(f, " ({total} pruned in all)")
                }
            }
            Why::Adopted { batch, nonce, w_nonce, block, tip_taken } => {
                write!(
                    f,
                    "adopted our landing at wallet nonce {w_nonce} (block {block}) as batch {batch} (nonce {nonce}) with its bytes from L1"
                )?;
                if *tip_taken { write!(f, "; the unsealed tip took them") } else { Ok(()) }
            }
            Why::Bid { w_nonce, batch, bid, reason } => {
                match batch {
                    Some(batch) => write!(f, "bid for batch {batch} at wallet nonce {w_nonce}: ")?,
                    None => write!(f, "bid for a no-op at wallet nonce {w_nonce}: ")?,
                }
                if f.alternate() { write!(f, "{bid:#} ({reason:#})") } else { write!(f, "{bid} ({reason})") }
            }
            Why::HoldFeeCap { w_nonce, batch, bid, cap, held } => {
                let what = batch.map_or_else(|| "a no-op".to_owned(), |batch| format!("batch {batch}"));
                let (bid, cap) = if f.alternate() {
                    (format!("{bid:#}"), format!("{cap:#}"))
                } else {
                    (bid.to_string(), format!("{cap} wei"))
                };
                write!(
                    f,
                    "hold: the bid for {what} at wallet nonce {w_nonce} ({bid}) exceeds the fee cap {cap}; {held} send(s) not sent this round (the danger detector remains the safety net)"
                )
            }
            Why::Paused { reason, already } => write!(
                f,
                "submissions paused by the operator{}{}: no batch is sent for the first time until resume; the detector, re-pricing and flushes go on",
                if reason.is_empty() { String::new() } else { format!(" ({reason})") },
                if *already { ", already paused" } else { "" }
            ),
            Why::Resumed { was_paused: true } => write!(f, "submissions resumed by the operator"),
            Why::Resumed { was_paused: false } => write!(f, "resume asked while not paused: nothing changes"),
            Why::HoldPaused { w_nonce, batch, held, reason } => write!(
                f,
                "hold: paused{}: batch {batch} at wallet nonce {w_nonce} is not sent; {held} send(s) wait for resume",
                if reason.is_empty() { String::new() } else { format!(" ({reason})") }
            ),
            Why::DbCommitted { op } => write!(f, "db op {op} committed"),
            Why::DbFailed { op, error: None } => {
                write!(f, "db op {op} failed; exit and retry (boot reconciles the projection)")
            }
            Why::DbFailed { op, error: Some(error) } => {
                write!(f, "db op {op} failed: {error}; exit and retry (boot reconciles the projection)")
            }
            Why::ShutdownRequested => write!(f, "shutdown requested"),
            Why::NothingDue => write!(f, "nothing due"),
            Why::Rejected(error) => write!(f, "rejected: {error}"),
        }
    }
}

impl Why {
    /// A label for reasons an operator should see although nothing was decided: the
    /// audit lists them and `run` logs them as warnings.
    #[must_use]
    pub fn warning(&self) -> Option<&'static str> {
        match self {
            Why::ConfigChanged { .. } => Some("config_changed"),
            Why::SealTooLarge { .. } => Some("seal_rejected"),
            Why::SealRepeated { .. } => Some("seal_repeated"),
            Why::SafeHeadBehind { .. } => Some("lagging_replica"),
            Why::Rejected(_) => Some("rejected"),
            Why::HoldFeeCap { .. } => Some("hold_fee_cap"),
            Why::Paused { .. } => Some("paused"),
            Why::HoldPaused { .. } => Some("hold_paused"),
            Why::SendRetryLater { class: Some(_), .. } | Why::SendRefused { class: Some(_), .. } => {
                Some("send_refused")
            }
            _ => None,
        }
    }

    /// Reasons `run` logs as errors: an operator must act (docs/protocol.md §11.1: an account that
    /// cannot pay for its sends).
    #[must_use]
    pub fn error(&self) -> Option<&'static str> {
        match self {
            Why::SendRetryLater { class: Some(SendClass::InsufficientFunds), .. }
            | Why::SendRefused { class: Some(SendClass::InsufficientFunds), .. } => Some("insufficient_funds"),
            _ => None,
        }
    }

    /// Facts the audit lists besides decisions and warnings: every bid (docs/protocol.md §11.1).
    #[must_use]
    pub fn audited(&self) -> Option<&'static str> {
        match self {
            Why::Bid { .. } => Some("bid"),
            Why::Adopted { .. } => Some("adopted"),
            Why::Pruned { .. } => Some("pruned"),
            Why::Resumed { .. } => Some("resumed"),
            _ => self.warning(),
        }
    }
}

/// One verdict of a step: what it classified, what it decided, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The danger classified, when the step classified.
    pub danger: Option<Danger>,
    /// The startup decision, when startup decided.
    pub decision: Option<Decision>,
    /// The reason, with numbers.
    pub why: Why,
}

/// Serializes any `Display` value as its sentence.
pub(crate) fn serialize_display<T: fmt::Display, S: serde::Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}
