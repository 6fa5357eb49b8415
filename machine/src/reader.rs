//! recovery.md §1, §5: the L1 reader's side of the core. A safe-head sync is checked
//! whole before any of it is applied, then its new inputs are folded in L1 order.

use crate::bytes::Hash32;
use crate::config::Config;
use crate::event::{Input, L1};
use crate::scheduler::Judgement;
use crate::state::{L1View, RECENT_HEADS, State};
use crate::units::BlockNumber;
use crate::verdict::{FactError, Why};

/// What a sync did to the state.
#[derive(Debug)]
pub(crate) enum Applied {
    /// Its new inputs were folded; the block of a diverged landing, if any.
    Folded { why: Why, diverged: Option<BlockNumber> },
    /// Its safe head is below the stored one: ignored and counted (live.md §2).
    Behind(Why),
    /// A block we stored has another hash now: nothing was applied (live.md §2).
    Rewritten(Why),
}

/// Applies one `l1` event. Inputs in blocks at or below the stored safe head were
/// folded by an earlier sync and are skipped, so a repeated answer changes nothing.
///
/// # Errors
/// A [`FactError`] if the inputs are out of order or above the reported head; the
/// state is then unchanged.
pub(crate) fn apply_sync(state: &mut State, config: &Config, sync: &L1) -> Result<Applied, FactError> {
    if let Some(why) = rewritten(&state.view, sync) {
        return Ok(Applied::Rewritten(why));
    }
    let stored = state.view.safe_block;
    if let Some(stored) = stored.filter(|&stored| sync.safe_block < stored) {
        state.view.lagging_answers = state.view.lagging_answers.saturating_add(1);
        let count = state.view.lagging_answers;
        return Ok(Applied::Behind(Why::SafeHeadBehind { stored, reported: sync.safe_block, count }));
    }
    let mut previous = BlockNumber(0);
    for (position, input) in sync.inputs.iter().enumerate() {
        let block = input_block(input);
        if block < previous {
            return Err(FactError::InputsOutOfOrder { position, block, previous });
        }
        if block > sync.safe_block {
            return Err(FactError::InputAboveSafeHead { position, block, safe_block: sync.safe_block });
        }
        previous = block;
    }
    let (mut direct, mut landings, mut accepted, mut diverged) = (0, 0, 0, None);
    let is_new = |block: BlockNumber| stored.is_none_or(|stored| block > stored);
    for input in sync.inputs.iter().filter(|input| is_new(input_block(input))) {
        match input {
            Input::Direct { block, .. } => {
                state.view.direct_inputs.push(*block);
                direct += 1;
            }
            Input::Batch(landing) => {
                landings += 1;
                // interface.md: an omitted hash means the exact bytes we sent at this w_nonce.
                let wire_hash = landing.wire_hash.or_else(|| {
                    state.wallet.slots.get(&landing.w_nonce).and_then(|slot| slot.sent_hash(landing.nonce))
                });
                let judgement = state.scheduler.fold(&mut state.tree, landing, wire_hash, config.max_wait_blocks());
                match judgement {
                    Judgement::Accepted => accepted += 1,
                    Judgement::Diverged { block, .. } => {
                        accepted += 1;
                        diverged = diverged.or(Some(block));
                    }
                    Judgement::Stale | Judgement::WrongNonce | Judgement::Undecodable => {}
                }
            }
        }
    }
    if is_new(sync.safe_block) {
        state.view.safe_block = Some(sync.safe_block);
        state.view.safe_timestamp_s = sync.safe_timestamp;
        state.view.last_progress_ms = sync.now_ms;
    }
    if let Some(hash) = sync.safe_hash
        && state.view.hash_of(sync.safe_block).is_none()
    {
        state.view.recent_heads.push((sync.safe_block, hash));
        let excess = state.view.recent_heads.len().saturating_sub(RECENT_HEADS);
        state.view.recent_heads.drain(..excess);
    }
    let safe_block = sync.safe_block;
    let why = Why::Synced { safe_block, direct, landings, accepted, frontier: state.scheduler.expected_nonce };
    Ok(Applied::Folded { why, diverged })
}

/// live.md §2: a block whose hash we stored must keep it, whether the answer names it
/// as its safe head or as the parent of its range.
fn rewritten(view: &L1View, sync: &L1) -> Option<Why> {
    let check = |block: BlockNumber, found: Option<Hash32>| {
        let (stored, found) = (view.hash_of(block)?, found?);
        (stored != found).then_some(Why::HistoryRewritten { block, stored, found })
    };
    // A node whose head is below the range's parent cannot vouch for that parent.
    let parent = sync
        .from_block
        .and_then(|from| from.0.checked_sub(1))
        .map(BlockNumber)
        .filter(|&parent| parent <= sync.safe_block);
    check(sync.safe_block, sync.safe_hash).or_else(|| parent.and_then(|parent| check(parent, sync.parent_hash)))
}

fn input_block(input: &Input) -> BlockNumber {
    match input {
        Input::Direct { block, .. } => *block,
        Input::Batch(landing) => landing.block,
    }
}
