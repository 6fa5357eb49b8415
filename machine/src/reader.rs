//! docs/protocol.md §1, §5: the L1 reader's side of the core. A safe-head sync is checked
//! whole before any of it is applied, then its new inputs are folded in L1 order.

use crate::batch_tree::Sealed;
use crate::bytes::Hash32;
use crate::config::Config;
use crate::event::{BatchLanding, Input, L1};
use crate::scheduler::{Judgement, stale_by_inclusion};
use crate::state::{L1View, RECENT_HEADS, State};
use crate::step::Opened;
use crate::units::{BlockNumber, WalletNonce};
use crate::verdict::{FactError, Why};

/// What a sync did to the state.
#[derive(Debug)]
pub(crate) enum Applied {
    /// Its new inputs were folded; the block of a diverged landing, if any, and the
    /// landings adopted as Gold batches (docs/protocol.md §11.7).
    Folded { why: Why, diverged: Option<BlockNumber>, adopted: Vec<Adopted> },
    /// Its safe head is below the stored one: ignored and counted (docs/protocol.md §11.2).
    Behind(Why),
    /// A block we stored has another hash now: nothing was applied (docs/protocol.md §11.2).
    Rewritten(Why),
}

/// Applies one `l1` event. Inputs in blocks at or below the stored safe head were
/// folded by an earlier sync and are skipped, so a repeated answer changes nothing.
///
/// # Errors
/// A [`FactError`] if the inputs are out of order or above the reported head, or a
/// parent hash names no block; the state is then unchanged.
pub(crate) fn apply_sync(state: &mut State, config: &Config, sync: &L1) -> Result<Applied, FactError> {
    if sync.parent_hash.is_some() && sync.from_block.is_none() {
        // The parent of which block? Refused, not guessed (ARCHITECTURE.md choice 71).
        return Err(FactError::ParentHashWithoutFromBlock);
    }
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
    let (mut direct, mut landings, mut accepted, mut diverged, mut adopted) = (0, 0, 0, None, Vec::new());
    let is_new = |block: BlockNumber| stored.is_none_or(|stored| block > stored);
    for input in sync.inputs.iter().filter(|input| is_new(input_block(input))) {
        match input {
            Input::Direct { .. } => {
                state.view.direct_inputs += 1;
                direct += 1;
            }
            Input::Batch(landing) => {
                landings += 1;
                // docs/protocol.md §10: an omitted hash means the exact bytes we sent at this w_nonce.
                let mut wire_hash = landing.wire_hash.or_else(|| {
                    state.wallet.slots.get(&landing.w_nonce).and_then(|slot| slot.sent_hash(landing.nonce))
                });
                if let Some(batch) = adopt(state, config, landing, wire_hash) {
                    wire_hash = Some(batch.wire_hash);
                    adopted.push(batch);
                }
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
    Ok(Applied::Folded { why, diverged, adopted })
}

/// A landing of ours rebuilt as a Gold batch from L1 (docs/protocol.md §11.7).
#[derive(Clone, Debug)]
pub(crate) struct Adopted {
    /// The unsealed Tip at its nonce took the bytes (no batch was opened for them).
    pub(crate) tip_taken: bool,
    /// The batch as opened: index, nonce, parent, first-frame block, drain range.
    pub(crate) opened: Opened,
    pub(crate) wire_hash: Hash32,
    pub(crate) w_nonce: WalletNonce,
    pub(crate) block: BlockNumber,
}

/// docs/protocol.md §11.7: while the log has sealed nothing, an accepted landing from our submitter
/// at the expected nonce whose bytes decode (and that matches no batch of ours) becomes
/// a batch with the bytes read from L1, which the fold then accepts as Gold. Its drain
/// range is every direct input seen before it: the payload is opaque to the core.
fn adopt(state: &mut State, config: &Config, landing: &BatchLanding, wire_hash: Option<Hash32>) -> Option<Adopted> {
    let wire = landing.wire.as_ref()?;
    let adopting = config.adopt_l1_history() && !state.sealed_own;
    let first_frame = landing.first_frame_safe_block;
    // No batch is closed at `u64::MAX`: none could follow it (ARCHITECTURE.md choice 70).
    let will_accept = landing.decodes
        && landing.nonce.checked_next().is_some()
        && landing.nonce == state.scheduler.expected_nonce
        && !stale_by_inclusion(landing.block, first_frame, config.max_wait_blocks());
    let ours = state.tree.valid_at_nonce(landing.nonce).and_then(|batch| batch.sealed.as_ref()).map(|s| s.wire_hash);
    if !adopting || !will_accept || (ours.is_some() && ours == wire_hash) {
        return None;
    }
    // An unsealed Tip at this nonce (opened after an earlier sync) takes the landing's
    // bytes; otherwise a batch is opened for them.
    let tip_taken = state.tree.tip().is_some_and(|tip| tip.nonce == landing.nonce);
    if !tip_taken && (state.tree.next_nonce() != landing.nonce || state.tree.tip().is_some()) {
        return None;
    }
    let wire_hash = crate::wire::wire_hash(&wire.0);
    let batch = match state.tree.tip() {
        Some(tip) if tip_taken => tip,
        _ => state.tree.open(first_frame.unwrap_or(landing.block), state.view.direct_inputs),
    };
    let opened = Opened {
        batch: batch.index,
        nonce: batch.nonce,
        first_frame_safe_block: batch.first_frame_safe_block,
        drain_from: batch.drain_from,
        drain_to: batch.drain_to,
    };
    state.tree.close_tip(Sealed { wire: wire.clone(), wire_hash, seal_id: None });
    let now_ms = state.now_ms;
    let slot = state.wallet.slots.entry(landing.w_nonce).or_default();
    slot.send_batch((opened.batch, opened.nonce, wire_hash), now_ms, None);
    Some(Adopted { tip_taken, opened, wire_hash, w_nonce: landing.w_nonce, block: landing.block })
}

/// docs/protocol.md §11.2: a block whose hash we stored must keep it, whether the answer names it
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
