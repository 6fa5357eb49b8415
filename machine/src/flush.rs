//! docs/protocol.md §7: the flush. Every wallet slot this deployment ever used (bounded by
//! the durable watermark `W`, not by the node's `pending`, so zombies are covered) is
//! consumed at safe depth before anything local changes.

use crate::config::Config;
use crate::effect::{DbWrite, Effect, ExitCode};
use crate::fees;
use crate::startup::{self, Progress};
use crate::state::{FlushStage, Mode};
use crate::step::Ctx;
use crate::units::{BlockNumber, UnixMillis, WalletNonce};
use crate::verdict::{Decision, Why};

/// At most this many no-ops are asked for in one round, so a hostile `pending` count
/// cannot make one step allocate without bound; later rounds send the rest.
pub(crate) const MAX_NOOPS_PER_ROUND: u64 = 1024;

/// The submitter account's counts, as one `wallet` event reported them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) latest: WalletNonce,
    pub(crate) pending: WalletNonce,
    pub(crate) safe: WalletNonce,
    pub(crate) safe_block: BlockNumber,
}

/// EIP-1559 fees, in wei per gas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fees {
    /// `maxFeePerGas`.
    pub max_fee_per_gas: u128,
    /// `maxPriorityFeePerGas`.
    pub max_priority_fee_per_gas: u128,
}

/// docs/protocol.md §7 step 4: no-op fees from a fresh estimate — tripled, then bumped by
/// `max(x * 11 / 10 + 1, x + 1)`, saturating, the priority fee clamped to the max fee.
/// This out-bids any batch sent at that slot by at least 10%, as replacement requires.
#[must_use]
pub fn noop_fees(estimate: Fees) -> Fees {
    let bump = |fee: u128| {
        let tripled = fee.saturating_mul(3);
        // x * 11 / 10 is exactly x + x / 10 for integers, and this form cannot overflow early.
        tripled.saturating_add(tripled / 10).saturating_add(1).max(tripled.saturating_add(1))
    };
    let max_fee_per_gas = bump(estimate.max_fee_per_gas);
    Fees { max_fee_per_gas, max_priority_fee_per_gas: bump(estimate.max_priority_fee_per_gas).min(max_fee_per_gas) }
}

/// Step 1: the chain id first if this is the process's first L1 contact, then the counts.
pub(crate) fn start(ctx: &mut Ctx<'_>, config: &Config) {
    if ctx.chain_id_verified() {
        ctx.set_mode(Mode::Flush(FlushStage::AwaitWallet));
        ctx.ask(Effect::ReadWallet, config);
    } else {
        ctx.set_mode(Mode::Flush(FlushStage::AwaitChainId));
        ctx.ask(Effect::ReadChainId, config);
    }
}

/// Steps 2 and 3 on every `wallet` fact.
pub(crate) fn on_wallet(ctx: &mut Ctx<'_>, config: &Config, counts: Counts) {
    let watermark = ctx.state.wallet.watermark;
    // Step 2: done when pending <= safe and safe >= W + 1.
    let consumed = watermark.is_none_or(|w| counts.safe > w);
    if counts.pending <= counts.safe && consumed {
        let progress = Progress::Flushed { witness: counts.safe_block, why: (counts.safe, counts.pending) };
        return startup::inspect(ctx, config, progress);
    }
    let now = ctx.state.now_ms;
    let Some(Mode::Flush(stage)) = ctx.mode_mut() else { return };
    match stage {
        FlushStage::AwaitChainId | FlushStage::AwaitWallet => send_round(ctx, config, counts),
        FlushStage::Watching { since_ms } if now.0.saturating_sub(since_ms.0) >= config.flush_watch_ms() => {
            // Step 5: a watch that timed out is not an error; back to step 2.
            send_round(ctx, config, counts);
        }
        &mut FlushStage::Watching { since_ms } => {
            let until_ms = UnixMillis(since_ms.0.saturating_add(config.flush_watch_ms()));
            let Counts { pending, safe, .. } = counts;
            ctx.note(Why::FlushNotYet { pending, safe, watermark, until_ms });
        }
        FlushStage::Sending { .. } => ctx.note(waiting(watermark, counts)),
    }
}

fn waiting(watermark: Option<WalletNonce>, counts: Counts) -> Why {
    let Counts { latest, pending, safe, .. } = counts;
    Why::FlushWaiting { latest, pending, safe, end: end(watermark, counts) }
}

/// `end = max(pending, W + 1)`.
fn end(watermark: Option<WalletNonce>, counts: Counts) -> WalletNonce {
    // The sabotage: the no-ops stop at the node's `pending`; a slot up to `W` the node does not
    // count (a zombie, or a send asked for and never made) is left unfilled.
    #[cfg(seqrec_sabotage)]
    if crate::sabotage::FLUSH_STOPS_AT_PENDING.load(core::sync::atomic::Ordering::Relaxed) {
        return counts.pending;
    }
    counts.pending.max(watermark.map_or(WalletNonce(0), WalletNonce::next))
}

/// Step 3: raise `W` durably, then a no-op at every nonce in `latest .. end`.
fn send_round(ctx: &mut Ctx<'_>, config: &Config, counts: Counts) {
    let watermark = ctx.state.wallet.watermark;
    let end = end(watermark, counts);
    if counts.latest >= end {
        // Every slot is used but not yet consumed at safe depth: watch.
        ctx.note(waiting(watermark, counts));
        return watch(ctx, config);
    }
    let top = WalletNonce(end.0 - 1); // end > latest >= 0, so no underflow.
    if watermark.is_none_or(|w| top > w) {
        ctx.state.wallet.watermark = Some(top);
        ctx.db(DbWrite::RaiseWatermark { to: top });
    }
    let to = WalletNonce(end.0.min(counts.latest.0.saturating_add(MAX_NOOPS_PER_ROUND)));
    let (mut outstanding, mut failed, mut hold) = (Vec::new(), Vec::new(), None);
    for w_nonce in (counts.latest.0..to.0).map(WalletNonce) {
        let bid = match ctx.state.wallet.fees {
            Some(view) => {
                let (bid, reason) = fees::noop_bid(ctx.state.wallet.slots.get(&w_nonce), view, config);
                if let Some(cap) = fees::exceeded_cap(bid, config, true) {
                    // docs/protocol.md §11.1: held like a batch; the round then fails and startup retries.
                    hold.get_or_insert((w_nonce, bid, cap));
                    failed.push(w_nonce);
                    continue;
                }
                ctx.note(Why::Bid { w_nonce, batch: None, bid, reason });
                Some(bid)
            }
            None => None,
        };
        let now_ms = ctx.state.now_ms;
        ctx.state.wallet.slots.entry(w_nonce).or_default().send_noop(now_ms, bid);
        ctx.emit(Effect::Noop { w_nonce, chain_id: config.chain_id(), bid });
        outstanding.push(w_nonce);
    }
    if let Some((w_nonce, bid, cap)) = hold {
        let held = failed.len() as u64;
        ctx.verdict(None, Some(Decision::HoldFeeCap), Why::HoldFeeCap { w_nonce, batch: None, bid, cap, held });
    }
    ctx.note(Why::FlushSending { from: counts.latest, to, watermark: ctx.state.wallet.watermark.unwrap_or(top) });
    if outstanding.is_empty()
        && let Some(&first) = failed.first()
    {
        // Every no-op of the round was held: nothing will answer, so the round ends now.
        let why = Why::FlushSendsFailed { failed: failed.len() as u64, first };
        ctx.verdict(None, Some(Decision::Retry), why.clone());
        return ctx.exit(ExitCode::Retry, why);
    }
    let since_ms = ctx.state.now_ms;
    ctx.set_mode(Mode::Flush(FlushStage::Sending { outstanding, failed, since_ms }));
    ctx.emit(Effect::Timer { at_ms: UnixMillis(since_ms.0.saturating_add(config.block_time_ms())) });
}

fn watch(ctx: &mut Ctx<'_>, config: &Config) {
    let now = ctx.state.now_ms;
    ctx.set_mode(Mode::Flush(FlushStage::Watching { since_ms: now }));
    ctx.emit(Effect::Timer { at_ms: UnixMillis(now.0.saturating_add(config.block_time_ms())) });
}

/// Step 5/6: one send outcome; when the round is complete, watch or exit.
pub(crate) fn on_outcome(ctx: &mut Ctx<'_>, config: &Config, w_nonce: WalletNonce, sent: bool) {
    let Some(Mode::Flush(FlushStage::Sending { outstanding, failed, .. })) = ctx.mode_mut() else {
        // A late outcome of an earlier round: recorded, nothing to decide.
        return ctx.note(if sent {
            Why::SendRecorded { w_nonce }
        } else {
            Why::SendRetryLater { w_nonce, class: None }
        });
    };
    outstanding.retain(|&w| w != w_nonce);
    if !sent && !failed.contains(&w_nonce) {
        failed.push(w_nonce);
    }
    let left = outstanding.len() as u64;
    if left > 0 {
        return ctx.note(Why::FlushOutcome { w_nonce, outstanding: left });
    }
    if let Some(&first) = failed.iter().min() {
        // Every no-op of the round was attempted; failures are reported together.
        let why = Why::FlushSendsFailed { failed: failed.len() as u64, first };
        ctx.verdict(None, Some(Decision::Retry), why.clone());
        return ctx.exit(ExitCode::Retry, why);
    }
    let until_ms = UnixMillis(ctx.state.now_ms.0.saturating_add(config.flush_watch_ms()));
    ctx.note(Why::FlushWatching { until_ms });
    watch(ctx, config);
}

/// A tick re-reads what the flush waits for: the chain id or the counts, or, once send
/// outcomes are overdue by a whole watch, the counts (which tell what landed).
pub(crate) fn on_tick(ctx: &mut Ctx<'_>, config: &Config, now_ms: UnixMillis) {
    let watch_ms = config.flush_watch_ms();
    let Some(Mode::Flush(stage)) = ctx.mode_mut() else { return };
    let request = match stage {
        FlushStage::AwaitChainId => Some((Effect::ReadChainId, Why::AskAgain { what: "read_chain_id" })),
        FlushStage::AwaitWallet => Some((Effect::ReadWallet, Why::AskAgain { what: "read_wallet" })),
        FlushStage::Watching { .. } => Some((Effect::ReadWallet, Why::FlushPolling)),
        &mut FlushStage::Sending { since_ms, ref outstanding, ref failed }
            if now_ms.0.saturating_sub(since_ms.0) >= watch_ms =>
        {
            // docs/protocol.md §7 step 6: a failure already known is not forgotten because
            // another outcome never came.
            if let Some(&first) = failed.iter().min() {
                let why = Why::FlushSendsFailed { failed: failed.len() as u64, first };
                ctx.verdict(None, Some(Decision::Retry), why.clone());
                return ctx.exit(ExitCode::Retry, why);
            }
            let missing = outstanding.len() as u64;
            *stage = FlushStage::Watching { since_ms };
            Some((Effect::ReadWallet, Why::FlushOutcomesOverdue { missing }))
        }
        FlushStage::Sending { .. } => None,
    };
    match request {
        Some((effect, why)) => {
            ctx.note(why);
            ctx.ask(effect, config);
        }
        None => {
            ctx.note(Why::NothingDue);
            ctx.emit(Effect::Timer { at_ms: UnixMillis(now_ms.0.saturating_add(config.block_time_ms())) });
        }
    }
}
