//! docs/protocol.md §5: the admitted runtime — detector, reader and submitter cadences on
//! `tick`, and the submitter's plan when a round's answers are in. The submitter never
//! looks at danger; the detector never sends.

use crate::config::Config;
use crate::danger::classify;
use crate::effect::{DbWrite, Effect, ExitCode};
use crate::fees::{self, Resend};
use crate::scheduler::submit_start;
use crate::state::{Mode, SubmitRound};
use crate::step::Ctx;
use crate::units::{BatchNonce, UnixMillis, WalletNonce};
use crate::verdict::{Danger, Decision, Why};

/// A tick: run whatever cadence is due, then ask for the next tick.
pub(crate) fn on_tick(ctx: &mut Ctx<'_>, config: &Config, now_ms: UnixMillis) {
    let verified = ctx.chain_id_verified();
    let Some(Mode::Admitted(runtime)) = ctx.mode_mut() else { return };
    // Due when an interval has passed since the last run, or when the clock reads earlier
    // than the last run: a clock that stepped back (or a reading that glitched ahead)
    // must never silence the detector (docs/protocol.md §4: a broken clock masks nothing).
    let due = |last: UnixMillis, interval_ms: u64| now_ms < last || now_ms.0 - last.0 >= interval_ms;
    let detector_due = due(runtime.last_detector_ms, config.detector_interval_ms());
    let submit_due = due(runtime.last_submit_ms, config.submit_interval_ms());
    if detector_due {
        runtime.last_detector_ms = now_ms;
    }
    if submit_due {
        runtime.last_submit_ms = now_ms;
        if verified {
            runtime.round = Some(SubmitRound::default());
        }
    }
    let next_at = |last: UnixMillis, interval_ms: u64| UnixMillis(last.0.saturating_add(interval_ms).max(now_ms.0 + 1));
    let next_tick_ms = next_at(runtime.last_detector_ms, config.detector_interval_ms())
        .min(next_at(runtime.last_submit_ms, config.submit_interval_ms()));
    if detector_due {
        let (danger, why) = classify(ctx.state, config, now_ms);
        if danger != Danger::Safe {
            // The runtime detector always exits recovery_required; the arm is the reason.
            ctx.verdict(Some(danger), None, why.clone());
            return ctx.exit(ExitCode::RecoveryRequired, why);
        }
        ctx.verdict(Some(danger), None, why);
    }
    if (detector_due || submit_due) && !verified {
        // Nothing is read from L1 before this process has verified the chain id.
        ctx.emit(Effect::ReadChainId);
    } else {
        if detector_due {
            let from_block = ctx.sync_from();
            ctx.emit(Effect::SyncL1 { from_block, with_wire: ctx.adopting() });
        }
        if submit_due {
            ctx.emit(Effect::ReadWallet);
            ctx.emit(Effect::ReadUnsafeLandings);
        }
    }
    if !detector_due {
        ctx.note(match (submit_due, verified) {
            (true, true) => Why::AwaitingAnswers,
            (true, false) => Why::ChainIdFirst,
            (false, _) => Why::NothingDue,
        });
    }
    ctx.emit(Effect::Timer { at_ms: next_tick_ms });
}

/// The wire bytes one submit round may send: the step's record holds every send's bytes
/// (twice, as hex in the effects JSON), and must stay far below the log's 64 MiB record
/// limit however many batches are pending. A round sends at least one batch.
pub(crate) const MAX_SUBMIT_BYTES_PER_ROUND: usize = 8 * 1024 * 1024;

/// The `latest` count for the current round. `one_view`: the answer says where it was
/// read (`head_block`), as executors of ARCHITECTURE.md choice 68 do; the plan then counts a
/// slot below `latest` holding our only send there as a landing.
pub(crate) fn on_wallet(ctx: &mut Ctx<'_>, config: &Config, latest: WalletNonce, one_view: bool) {
    if let Some(Mode::Admitted(runtime)) = ctx.mode_mut()
        && let Some(round) = &mut runtime.round
    {
        round.latest = Some(latest);
    }
    try_plan(ctx, config, one_view);
}

/// Our unsafe landings for the current round; `one_view` as for [`on_wallet`] (`safe_block`).
pub(crate) fn on_unsafe_landings(ctx: &mut Ctx<'_>, config: &Config, nonces: &[BatchNonce], one_view: bool) {
    if let Some(Mode::Admitted(runtime)) = ctx.mode_mut()
        && let Some(round) = &mut runtime.round
    {
        round.unsafe_nonces = Some(nonces.to_vec());
    }
    try_plan(ctx, config, one_view);
}

/// Plans once both answers are in. Whether slots count as landings is decided by the
/// answer that completes the round: an executor of this build marks both answers, and
/// the state keeps no flag, so a log recorded before choice 68 replays as it was.
fn try_plan(ctx: &mut Ctx<'_>, config: &Config, one_view: bool) {
    let Some(Mode::Admitted(runtime)) = ctx.mode_mut() else { return };
    let Some(round) = &mut runtime.round else {
        return ctx.note(Why::Observed);
    };
    // Take the answers only when both are in: they may arrive in either order.
    let (Some(latest), Some(_)) = (round.latest, &round.unsafe_nonces) else {
        return ctx.note(Why::AwaitingAnswers);
    };
    let unsafe_nonces = round.unsafe_nonces.take().unwrap_or_default();
    runtime.round = None;
    plan(ctx, config, latest, &unsafe_nonces, one_view);
}

/// ARCHITECTURE.md choice 68: the start nonce advanced past every batch whose send already
/// consumed its wallet slot. A slot below `latest` is mined; if it holds our only send
/// there (one batch's content, however often re-priced, and no no-op) and that batch is
/// not known to have landed and been skipped, the landing is that batch's, whether or
/// not a sync has shown it yet. Our own transactions land in wallet-nonce order, so only
/// slots above the last one counted extend the run. A slot taken by a transaction we did
/// not make is provably lost only once the safe view shows the batch skipped or the
/// detector's danger sends the flush; until then the batch is not sent elsewhere.
fn landed_by_slot(ctx: &Ctx<'_>, mut start: BatchNonce, latest: WalletNonce) -> BatchNonce {
    let mut above = None;
    for batch in ctx.state.tree.valid_from(start) {
        if batch.nonce != start || batch.sealed.is_none() || batch.landed_safe {
            break;
        }
        // The batch's newest slot: a send elsewhere came later and is the one that counts.
        let slot = ctx
            .state
            .wallet
            .slots
            .iter()
            .rev()
            .find(|(_, slot)| slot.batches.iter().any(|&(index, _, _)| index == batch.index));
        let Some((&w_nonce, slot)) = slot else { break };
        let only = slot.last == Some(batch.index) && slot.batches.iter().all(|&(index, _, _)| index == batch.index);
        if !only || w_nonce >= latest || above.is_some_and(|above| w_nonce <= above) {
            break;
        }
        above = Some(w_nonce);
        start = start.next();
    }
    start
}

/// Every valid closed batch at or past the start nonce, in nonce order, at consecutive
/// wallet nonces from `latest`; `W` is raised durably before the first send.
fn plan(ctx: &mut Ctx<'_>, config: &Config, latest: WalletNonce, unsafe_nonces: &[BatchNonce], one_view: bool) {
    let start = submit_start(ctx.state.scheduler.expected_nonce, unsafe_nonces);
    // The sabotage: the round's start comes from the safe view and the unsafe landings
    // alone, so a landing that became safe between the two re-sends its batch elsewhere.
    #[cfg(seqrec_sabotage)]
    let one_view = one_view && !crate::sabotage::RESEND_LANDED.load(core::sync::atomic::Ordering::Relaxed);
    let start = if one_view { landed_by_slot(ctx, start, latest) } else { start };
    let (now_ms, watch_ms, fee_view) = (ctx.state.now_ms, config.submission_watch_ms(), ctx.state.wallet.fees);
    // One pass to count the plan and pick the sends that are due, and usually few are.
    // With fee observations a pending send is re-priced by docs/protocol.md §11.1's rules; without
    // (scripts written before it), it is watched for `confirmation_depth` block-times.
    let (mut count, mut due, mut due_bytes, mut deferred) = (0_u64, Vec::new(), 0_usize, 0_u64);
    for batch in ctx.state.tree.valid_from(start) {
        let Some(sealed) = &batch.sealed else { break };
        let w_nonce = WalletNonce(latest.0.saturating_add(count));
        let slot = ctx.state.wallet.slots.get(&w_nonce);
        let resend = match fee_view {
            Some(view) => fees::resend(slot, batch.index, view, now_ms, config),
            None => (!slot.is_some_and(|slot| slot.watching(batch.index, now_ms, watch_ms))).then_some(Resend::New),
        };
        if let Some(resend) = resend {
            if !due.is_empty() && due_bytes.saturating_add(sealed.wire.0.len()) > MAX_SUBMIT_BYTES_PER_ROUND {
                // The step's record carries every send's bytes: the rest goes next round.
                deferred += 1;
            } else {
                due_bytes = due_bytes.saturating_add(sealed.wire.0.len());
                due.push((w_nonce, batch.index, batch.nonce, sealed.wire_hash, sealed.wire.clone(), resend));
            }
        }
        count += 1;
    }
    let Some(last_offset) = count.checked_sub(1) else {
        return ctx.note(Why::NothingToSubmit { start });
    };
    let last_w_nonce = WalletNonce(latest.0.saturating_add(last_offset));
    let raise = ctx.state.wallet.watermark.is_none_or(|w| last_w_nonce > w);
    // The sabotage: `W` is raised after the round's sends (below) instead of before them.
    #[cfg(seqrec_sabotage)]
    let late = crate::sabotage::WATERMARK_AFTER_BROADCAST.load(core::sync::atomic::Ordering::Relaxed);
    #[cfg(seqrec_sabotage)]
    let (raise, raise_late) = (raise && !late, raise && late);
    if raise {
        raise_watermark(ctx, last_w_nonce);
    }
    let watched = count - due.len() as u64 - deferred;
    // docs/protocol.md §11.1: a bid over the cap is not sent; a later batch could not land before
    // that one anyway, so the rest of the round is held with it. The detector remains
    // the safety net.
    let (mut hold, mut held) = (None, 0_u64);
    // Paused (choice 61): a batch due for its first send is held, and every later one
    // with it; sends already made are still re-priced, so they keep their chance to land.
    let (mut pause_hold, mut paused_held) = (None, 0_u64);
    for (w_nonce, batch_index, nonce, wire_hash, wire, resend) in due {
        if hold.is_some() {
            held += 1;
            continue;
        }
        if pause_hold.is_some() || (ctx.state.paused.is_some() && matches!(resend, Resend::New)) {
            pause_hold = pause_hold.or(Some((w_nonce, batch_index)));
            paused_held += 1;
            continue;
        }
        let (bid, min_gas) = match fee_view {
            Some(view) => {
                let (bid, reason) = fees::bid_for(ctx.state.wallet.slots.get(&w_nonce), view, config, resend);
                if let Some(cap) = fees::exceeded_cap(bid, config, false) {
                    (hold, held) = (Some((w_nonce, batch_index, bid, cap)), 1);
                    continue;
                }
                ctx.note(Why::Bid { w_nonce, batch: Some(batch_index), bid, reason });
                (Some(bid), Some(fees::min_gas(&wire.0)))
            }
            None => (None, None),
        };
        ctx.state.wallet.slots.entry(w_nonce).or_default().send_batch((batch_index, nonce, wire_hash), now_ms, bid);
        ctx.emit(Effect::Submit {
            batch_index,
            nonce,
            w_nonce,
            wire_hash,
            wire,
            chain_id: config.chain_id(),
            bid,
            min_gas,
        });
    }
    #[cfg(seqrec_sabotage)]
    if raise_late {
        raise_watermark(ctx, last_w_nonce);
    }
    if let Some((w_nonce, batch)) = pause_hold {
        let reason = ctx.state.paused.clone().unwrap_or_default();
        ctx.note(Why::HoldPaused { w_nonce, batch, held: paused_held, reason });
    }
    if let Some((w_nonce, batch, bid, cap)) = hold {
        ctx.verdict(None, Some(Decision::HoldFeeCap), Why::HoldFeeCap { w_nonce, batch: Some(batch), bid, cap, held });
    }
    ctx.note(Why::SubmitPlanned { start, latest, batches: count, last_w_nonce, watched, deferred });
}

/// Makes `W = to` durable: the state and its `db` write, in this step's effects before the
/// sends that follow it.
fn raise_watermark(ctx: &mut Ctx<'_>, to: WalletNonce) {
    ctx.state.wallet.watermark = Some(to);
    ctx.db(DbWrite::RaiseWatermark { to });
}
