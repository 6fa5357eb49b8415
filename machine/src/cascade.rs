//! docs/protocol.md §8: the cascade — one atomic local transaction (the executor commits the
//! `db` effects of one step together). Everything past gold is doomed: stale, poisoned,
//! no-op'd or never sent, all are dropped so recovery converges in one cycle.

use crate::config::Config;
use crate::effect::DbWrite;
use crate::step::Ctx;
use crate::units::BlockNumber;
use crate::verdict::Why;

/// Runs the cascade after the witness check; returns its reason with the numbers.
pub(crate) fn run(ctx: &mut Ctx<'_>, config: &Config, witness: BlockNumber) -> Why {
    let tree = &ctx.state.tree;
    let safe_head = ctx.state.view.safe_block.unwrap_or_default();
    // 1. Pivot: the first valid closed batch at or past the frontier, else an aged Tip.
    let pivot = tree.oldest_closed_past(ctx.state.scheduler.expected_nonce).map(|batch| batch.index).or_else(|| {
        tree.tip()
            .filter(|tip| safe_head.blocks_since(tip.first_frame_safe_block) >= config.danger_threshold_blocks())
            .map(|tip| tip.index)
    });
    #[cfg(seqrec_sabotage)]
    let pivot = if crate::sabotage::CASCADE_PIVOT_ONE_LATE.load(core::sync::atomic::Ordering::Relaxed) {
        pivot.and_then(|p| ctx.state.tree.batches().iter().find(|b| b.valid && b.parent == Some(p)).map(|b| b.index))
    } else {
        pivot
    };
    // 2. Invalidate every valid batch from the pivot on.
    let invalidated = pivot.map_or(0, |pivot| ctx.state.tree.invalidate_from(pivot));
    if let Some(batch_index) = pivot {
        ctx.db(DbWrite::InvalidateFrom { batch_index });
    }
    // 3. One generation per recovery that invalidated something.
    if invalidated > 0 {
        ctx.state.generation = ctx.state.generation.saturating_add(1);
        ctx.db(DbWrite::BumpGeneration { to: ctx.state.generation });
    }
    // 4. The recovery batch, re-draining direct inputs; a no-op recovery keeps the Tip.
    let recovery_batch = (invalidated > 0 || ctx.state.tree.tip().is_none()).then(|| {
        let opened = ctx.open_tip();
        (opened.batch, opened.nonce, opened.first_frame_safe_block)
    });
    Why::Cascaded { witness, pivot, invalidated, generation: ctx.state.generation, recovery_batch }
}
