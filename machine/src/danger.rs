//! docs/protocol.md §4: the danger classification. First match wins, and the order is
//! visible in [`classify`]: observed danger (arms 3, 4) is pure block arithmetic and
//! is classified before clock faults (arm 5) so a broken clock cannot mask it.

use crate::batch_tree::Batch;
use crate::config::Config;
use crate::state::State;
use crate::units::{BlockNumber, UnixMillis};
use crate::verdict::{Danger, Why};

/// Classifies the state at `now_ms`.
#[must_use]
pub fn classify(state: &State, config: &Config, now_ms: UnixMillis) -> (Danger, Why) {
    if let Some(nonce) = state.scheduler.divergence {
        return (Danger::CanonicalDivergence(nonce), Why::DivergenceMarker { nonce });
    }
    let Some(safe_head) = state.view.safe_block else {
        return (Danger::L1ViewStale, Why::NoSafeHead);
    };
    if let Some(why) = view_stale(state, config, safe_head, now_ms) {
        return (Danger::L1ViewStale, why);
    }
    let threshold_blocks = config.danger_threshold_blocks();
    let closed = state.tree.oldest_closed_past(state.scheduler.expected_nonce);
    if let Some(batch) = closed.filter(|batch| age(batch, safe_head) >= threshold_blocks) {
        let why = Why::BatchAged {
            batch: batch.index,
            nonce: batch.nonce,
            age_blocks: age(batch, safe_head),
            threshold_blocks,
        };
        return (Danger::ClosedBatchInDanger(batch.index), why);
    }
    let tip = state.tree.tip();
    if let Some(batch) = tip.filter(|batch| age(batch, safe_head) >= threshold_blocks) {
        let why = Why::TipAged {
            batch: batch.index,
            nonce: batch.nonce,
            age_blocks: age(batch, safe_head),
            threshold_blocks,
        };
        return (Danger::TipInDanger(batch.index), why);
    }
    if let Some(why) = clock_fault(state, config, now_ms) {
        return (Danger::L1ViewStale, why);
    }
    let oldest = closed.or(tip);
    if let Some(batch) = oldest {
        let missed_blocks = missed_blocks(state, config, now_ms);
        let age_blocks = age(batch, safe_head);
        if age_blocks >= threshold_blocks.saturating_sub(missed_blocks) {
            let why = Why::EstimatedAged {
                batch: batch.index,
                nonce: batch.nonce,
                age_blocks,
                missed_blocks,
                threshold_blocks,
            };
            return (Danger::EstimatedBatchInDanger(batch.index), why);
        }
    }
    let oldest = oldest.map(|batch| (batch.index, age(batch, safe_head)));
    (Danger::Safe, Why::AllWithinThreshold { oldest, threshold_blocks })
}

fn age(batch: &Batch, safe_head: BlockNumber) -> u64 {
    safe_head.blocks_since(batch.first_frame_safe_block)
}

/// Arm 2: a safe timestamp in the future is not stale.
fn view_stale(state: &State, config: &Config, safe_block: BlockNumber, now_ms: UnixMillis) -> Option<Why> {
    let age_s = (now_ms.0 / 1000).saturating_sub(state.view.safe_timestamp_s);
    let stale_after_s = config.stale_after_s();
    (age_s >= stale_after_s).then_some(Why::ViewStale { safe_block, age_s, stale_after_s })
}

/// Arm 5: the clock reads a full block-time or more before the safe block's timestamp
/// (milliseconds), or before the time the safe head last advanced (whole seconds,
/// rounded down). Smaller steps back are noise.
fn clock_fault(state: &State, config: &Config, now_ms: UnixMillis) -> Option<Why> {
    let block_time_ms = config.block_time_ms();
    let safe_timestamp_ms = state.view.safe_timestamp_s.saturating_mul(1000);
    if safe_timestamp_ms.saturating_sub(now_ms.0) >= block_time_ms {
        return Some(Why::ClockBehindSafeBlock { now_ms, safe_timestamp_ms, block_time_ms });
    }
    let back_s = state.view.last_progress_ms.0.saturating_sub(now_ms.0) / 1000;
    let seconds_per_block = config.seconds_per_block();
    (back_s >= seconds_per_block).then_some(Why::ClockBehindProgress { back_s, seconds_per_block })
}

/// Arm 6: whole block-times elapsed since the safe head last advanced (a clock that
/// stepped back counts as zero elapsed time).
fn missed_blocks(state: &State, config: &Config, now_ms: UnixMillis) -> u64 {
    now_ms.0.saturating_sub(state.view.last_progress_ms.0) / 1000 / config.seconds_per_block()
}
