//! recovery.md §1, §5: the L1 reader's side of the core. A safe-head sync is checked
//! whole before any of it is applied, then its new inputs are folded in L1 order.

use crate::config::Config;
use crate::event::Input;
use crate::scheduler::Judgement;
use crate::state::State;
use crate::units::{BlockNumber, UnixMillis};
use crate::verdict::{FactError, Why};

/// Applies one `l1` event. Inputs in blocks at or below the stored safe head were
/// folded by an earlier sync and are skipped, so a repeated answer changes nothing.
///
/// Returns the note for the sync and, if a landing in it diverged, that landing's block.
///
/// # Errors
/// A [`FactError`] if the safe head went back or the inputs are out of order or above
/// the reported head; the state is then unchanged.
pub(crate) fn apply_sync(
    state: &mut State,
    config: &Config,
    now_ms: UnixMillis,
    safe_block: BlockNumber,
    safe_timestamp_s: u64,
    inputs: &[Input],
) -> Result<(Why, Option<BlockNumber>), FactError> {
    let stored = state.view.safe_block;
    if let Some(stored) = stored.filter(|&stored| safe_block < stored) {
        return Err(FactError::SafeHeadWentBack { stored, reported: safe_block });
    }
    let mut previous = BlockNumber(0);
    for (position, input) in inputs.iter().enumerate() {
        let block = input_block(input);
        if block < previous {
            return Err(FactError::InputsOutOfOrder { position, block, previous });
        }
        if block > safe_block {
            return Err(FactError::InputAboveSafeHead { position, block, safe_block });
        }
        previous = block;
    }
    let (mut direct, mut landings, mut accepted, mut diverged_at) = (0, 0, 0, None);
    let is_new = |block: BlockNumber| stored.is_none_or(|stored| block > stored);
    for input in inputs.iter().filter(|input| is_new(input_block(input))) {
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
                        diverged_at = diverged_at.or(Some(block));
                    }
                    Judgement::Stale | Judgement::WrongNonce | Judgement::Undecodable => {}
                }
            }
        }
    }
    if is_new(safe_block) {
        state.view.safe_block = Some(safe_block);
        state.view.safe_timestamp_s = safe_timestamp_s;
        state.view.last_progress_ms = now_ms;
    }
    let why = Why::Synced { safe_block, direct, landings, accepted, frontier: state.scheduler.expected_nonce };
    Ok((why, diverged_at))
}

fn input_block(input: &Input) -> BlockNumber {
    match input {
        Input::Direct { block, .. } => *block,
        Input::Batch(landing) => landing.block,
    }
}
