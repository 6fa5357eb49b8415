//! docs/protocol.md §11.6, bounded state: what is settled leaves the state. An accepted (Gold) batch
//! whose landing is more than `prune_after_blocks` below the safe head leaves the tree,
//! with every invalidated batch created before it and every wallet slot at or below the
//! wallet nonce it landed at. The tree keeps a running summary of what left
//! (`batch_tree::Pruned`), so the state hash still commits to the whole history, and the
//! step says what it pruned (`Why::Pruned`). State size then depends on what is in flight.
//!
//! Why it is safe: nothing folded again can need them. A safe landing is folded once
//! (syncs skip blocks at or below the stored safe head); a slot at or below the nonce of
//! a safe landing was consumed on L1 at or before that block; a Gold batch is never
//! invalidated and its nonce is below the frontier; an invalidated batch is never valid
//! again. After divergence nothing is pruned: the log is then evidence.

use crate::config::Config;
use crate::state::State;
use crate::units::WalletNonce;
use crate::verdict::Why;

/// Prunes what is settled; returns the note, or `None` when nothing left.
pub(crate) fn prune(state: &mut State, config: &Config) -> Option<Why> {
    let safe = state.view.safe_block?;
    if state.scheduler.divergence.is_some() {
        return None;
    }
    let after = config.prune_after_blocks();
    let left =
        state.tree.prune_prefix(|batch| batch.accepted_at.is_some_and(|(block, _)| safe.blocks_since(block) > after));
    // Gold batches are accepted in L1 order, so a kept one landed at a higher wallet
    // nonce than any that left, and a pending one will land above every consumed nonce.
    let slots_through = left.iter().filter_map(|batch| batch.accepted_at.map(|(_, w_nonce)| w_nonce)).max();
    let mut slots = 0;
    if let Some(through) = slots_through {
        let kept = state.wallet.slots.split_off(&WalletNonce(through.0.saturating_add(1)));
        slots = std::mem::replace(&mut state.wallet.slots, kept).len() as u64;
        state.wallet.pruned_through = state.wallet.pruned_through.max(Some(through));
    }
    (!left.is_empty()).then(|| Why::Pruned {
        batches: left.len() as u64,
        slots,
        through_nonce: state.tree.pruned().last_nonce,
        total: state.tree.pruned().count,
    })
}
