//! docs/protocol.md §9 as code: [`check`] holds after every step whatever the events, and
//! [`Monotone::check_step`] checks what one step may change.
//!
//! `check` walks the whole (bounded, docs/protocol.md §11.6) state. `check_step` is incremental: it
//! captures a fingerprint of everything `check` depends on before the step (the tree's
//! shape, the frontier, the safe head, the drainable inputs, the seal ids, the watermark)
//! and runs `check` only when the step changed it. Most steps (ticks, wallet answers,
//! send and write outcomes) change none of it and cost O(effects); a step that did is
//! checked in full, O(in-flight). Replays call `check_step` after every step and `check`
//! at checkpoints; the property tests call both after every step.

use crate::batch_tree::Color;
use crate::effect::{DbWrite, Effect};
use crate::state::State;
use crate::step::Step;
use crate::units::{BatchIndex, BatchNonce, WalletNonce};
use crate::verdict::Decision;

/// A broken invariant, named by its number in docs/protocol.md §9.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[expect(missing_docs, reason = "each variant's message documents its fields")]
pub enum Violation {
    #[error(
        "invariant 1: valid path position {position} holds batch {batch} with nonce {found}, expected nonce {expected}"
    )]
    NonceGap { position: u64, batch: BatchIndex, expected: BatchNonce, found: BatchNonce },
    #[error(
        "invariant 1: valid path position {position} holds batch {batch} (nonce {found}) after the batch at nonce {}: no nonce is left for it (a saturated or repeated batch nonce)",
        u64::MAX
    )]
    NonceOverflow { position: u64, batch: BatchIndex, found: BatchNonce },
    #[error("invariant 1: batch {batch} on the valid path is marked invalid or has the wrong parent")]
    BrokenPath { batch: BatchIndex },
    #[error("invariant 1: batch {batch} is open but not at the end of the valid path")]
    OpenBeforeEnd { batch: BatchIndex },
    #[error("invariant 1: batch {batch} is off the valid path but still marked valid")]
    ValidOffPath { batch: BatchIndex },
    #[error("invariant 2: batch {batch} is {found:?} after a {previous:?} batch")]
    ColorOrder { batch: BatchIndex, previous: Color, found: Color },
    #[error("invariant 3: batch {batch} is accepted (Gold) but invalidated")]
    GoldInvalidated { batch: BatchIndex },
    #[error("invariant 3: accepted batches are not the first {expected} of the valid path")]
    GoldNotPrefix { expected: u64 },
    #[error("invariant 3: the gold frontier went from {before} to {after}")]
    FrontierDecreased { before: BatchNonce, after: BatchNonce },
    #[error("invariant 4: batch {batch} drains {from}..{to}, expected to start at {expected}")]
    DrainGap { batch: BatchIndex, from: u64, to: u64, expected: u64 },
    #[error("invariant 4: the valid path drains up to {drained} of {known} known direct inputs")]
    DrainBeyondKnown { drained: u64, known: u64 },
    #[error("invariant 5: wallet nonce {w_nonce} was used but the watermark is {watermark:?}")]
    SlotAboveWatermark { w_nonce: WalletNonce, watermark: Option<WalletNonce> },
    #[error(
        "invariant 5: a send at wallet nonce {w_nonce} came before a durable watermark covering it ({watermark:?})"
    )]
    SendBeforeWatermark { w_nonce: WalletNonce, watermark: Option<WalletNonce> },
    #[error("invariant 5: the watermark went from {before:?} to {after:?}")]
    WatermarkDecreased { before: Option<WalletNonce>, after: Option<WalletNonce> },
    #[error("invariant 6: generation went from {before} to {after} while {invalidated} batch(es) were invalidated")]
    GenerationMismatch { before: u64, after: u64, invalidated: u64 },
    #[error("invariant 7: after the cascade the tip has nonce {tip:?}, the scheduler expects {expected}")]
    RecoveryNonce { tip: Option<BatchNonce>, expected: BatchNonce },
    #[error("invariant 7: the gold frontier {frontier} is past the valid path's next nonce {next}")]
    FrontierPastPath { frontier: BatchNonce, next: BatchNonce },
    #[error("invariant 8: divergence marker went from {before:?} to {after:?}")]
    DivergenceChanged { before: Option<BatchNonce>, after: Option<BatchNonce> },
    #[error("invariant 8: after divergence the step decided {decision:?} or sent something")]
    ActedAfterDivergence { decision: Option<Decision> },
    #[error(
        "seal once (docs/protocol.md §11.5): batch {batch} holds seal id {seal_id}, not above the previous sealed id {previous:?} or above the last consumed {last:?}"
    )]
    SealedTwice { batch: BatchIndex, seal_id: u64, previous: Option<u64>, last: Option<u64> },
}

/// Checks the invariants that hold of any single state.
///
/// # Errors
/// The first [`Violation`] found.
pub fn check(state: &State) -> Result<(), Violation> {
    let tree = state.tree();
    let n_path = tree.path_len() as u64;
    // The path continues the pruned prefix (docs/protocol.md §11.6): its nonces, parent and
    // drain. `None`: the previous batch had nonce `u64::MAX`, so no batch may follow it (a
    // saturating count would let two batches share it).
    let mut expected_nonce = Some(tree.first_nonce());
    let mut expected_drain = tree.pruned().drain_to;
    let mut parent = tree.pruned().last_index;
    let mut n_accepted = 0_u64;
    // After canonical divergence L1 accepted foreign bytes, and a later landing of our own
    // batch may be accepted on top of them: Gold is a prefix only while not diverged.
    let diverged = state.scheduler().divergence.is_some();
    for (position, batch) in (0_u64..).zip(tree.valid_path()) {
        let Some(expected) = expected_nonce else {
            return Err(Violation::NonceOverflow { position, batch: batch.index, found: batch.nonce });
        };
        if batch.nonce != expected {
            return Err(Violation::NonceGap { position, batch: batch.index, expected, found: batch.nonce });
        }
        if !batch.valid || batch.parent != parent {
            return Err(Violation::BrokenPath { batch: batch.index });
        }
        if batch.sealed.is_none() && position + 1 != n_path {
            return Err(Violation::OpenBeforeEnd { batch: batch.index });
        }
        if batch.drain_from != expected_drain || batch.drain_to < batch.drain_from {
            let (from, to) = (batch.drain_from, batch.drain_to);
            return Err(Violation::DrainGap { batch: batch.index, from, to, expected: expected_drain });
        }
        if batch.accepted {
            if n_accepted != position && !diverged {
                return Err(Violation::GoldNotPrefix { expected: n_accepted });
            }
            n_accepted += 1;
        }
        expected_nonce = expected.checked_next();
        expected_drain = batch.drain_to;
        parent = Some(batch.index);
    }
    let known = state.view().direct_inputs;
    if expected_drain > known {
        return Err(Violation::DrainBeyondKnown { drained: expected_drain, known });
    }
    // Every batch on the path is valid (checked above), so as many valid batches as path
    // positions means no valid batch lies off the path.
    let mut n_valid = 0_u64;
    // Batches are sealed in index order and queue ids only grow, so a payload sealed
    // twice shows as seal ids that do not strictly increase along the indices.
    let (mut previous_seal, last_seal) = (None, state.last_seal_id());
    for batch in tree.batches() {
        if batch.accepted && !batch.valid {
            return Err(Violation::GoldInvalidated { batch: batch.index });
        }
        n_valid += u64::from(batch.valid);
        if let Some(seal_id) = batch.sealed.as_ref().and_then(|sealed| sealed.seal_id) {
            if previous_seal.is_some_and(|previous| seal_id <= previous) || last_seal.is_none_or(|last| seal_id > last)
            {
                let (batch, previous, last) = (batch.index, previous_seal, last_seal);
                return Err(Violation::SealedTwice { batch, seal_id, previous, last });
            }
            previous_seal = Some(seal_id);
        }
    }
    if n_valid != n_path
        && let Some(batch) = tree.batches().iter().find(|b| b.valid && tree.valid_at_nonce(b.nonce) != Some(b))
    {
        return Err(Violation::ValidOffPath { batch: batch.index });
    }
    let mut previous = None;
    for (batch, found) in tree.color_iter(state.bronze_below()) {
        if let Some(previous) = previous
            && (found < previous || previous == Color::Tip)
        {
            return Err(Violation::ColorOrder { batch, previous, found });
        }
        previous = Some(found);
    }
    let frontier = state.scheduler().expected_nonce;
    if state.scheduler().divergence.is_none() {
        // A path ending at nonce `u64::MAX` has no next nonce: no frontier is past it.
        if let Some(next) = expected_nonce
            && frontier > next
        {
            return Err(Violation::FrontierPastPath { frontier, next });
        }
        // Every pruned path batch was Gold; accepting the batch at `u64::MAX` would leave
        // no frontier to count (the scheduler's would saturate): a violation too.
        if tree.first_nonce().0.checked_add(n_accepted) != Some(frontier.0) {
            return Err(Violation::GoldNotPrefix { expected: frontier.0.saturating_sub(tree.first_nonce().0) });
        }
    }
    let watermark = state.wallet().watermark;
    if let Some((&w_nonce, _)) = state.wallet().slots.last_key_value()
        && watermark.is_none_or(|w| w_nonce > w)
    {
        return Err(Violation::SlotAboveWatermark { w_nonce, watermark });
    }
    Ok(())
}

/// The quantities that may only move one way, and the fingerprint of what [`check`]
/// reads, captured before a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Monotone {
    frontier: BatchNonce,
    watermark: Option<WalletNonce>,
    generation: u64,
    divergence: Option<BatchNonce>,
    invalidated: u64,
    shape: Shape,
}

/// Everything [`check`]'s verdict depends on that a step can change; every mutation of
/// the tree moves one of these (open: `next_index`; close: `tip_closed`; invalidate:
/// `path_len`; accept: the frontier; landed safe: the safe head; prune: `pruned`;
/// colors: `bronze_below` as well).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Shape {
    next_index: BatchIndex,
    path_len: usize,
    tip_closed: Option<bool>,
    pruned: u64,
    safe_block: Option<crate::units::BlockNumber>,
    direct_inputs: u64,
    last_seal_id: Option<u64>,
    last_slot: Option<WalletNonce>,
    bronze_below: BatchNonce,
}

impl Monotone {
    /// Captures `state` before a step, in O(1).
    #[must_use]
    pub fn of(state: &State) -> Self {
        let tree = state.tree();
        let slots = &state.wallet().slots;
        Monotone {
            frontier: state.scheduler().expected_nonce,
            watermark: state.wallet().watermark,
            generation: state.generation(),
            divergence: state.scheduler().divergence,
            invalidated: tree.invalidated(),
            shape: Shape {
                next_index: tree.next_index(),
                path_len: tree.path_len(),
                tip_closed: tree.last_valid().map(|batch| batch.sealed.is_some()),
                pruned: tree.pruned().count,
                safe_block: state.view().safe_block,
                direct_inputs: state.view().direct_inputs,
                last_seal_id: state.last_seal_id(),
                last_slot: slots.last_key_value().map(|(&w, _)| w),
                bronze_below: state.bronze_below(),
            },
        }
    }

    /// Checks what one step did, given the state before (`self`) and after.
    ///
    /// # Errors
    /// The first [`Violation`] found.
    pub fn check_step(&self, after: &State, step: &Step) -> Result<(), Violation> {
        let next = Monotone::of(after);
        if next.frontier < self.frontier {
            return Err(Violation::FrontierDecreased { before: self.frontier, after: next.frontier });
        }
        if next.watermark < self.watermark {
            return Err(Violation::WatermarkDecreased { before: self.watermark, after: next.watermark });
        }
        if next.shape != self.shape || next.frontier != self.frontier || next.watermark != self.watermark {
            check(after)?;
        }
        let invalidated = next.invalidated.saturating_sub(self.invalidated);
        let bumped = next.generation.checked_sub(self.generation);
        if bumped != Some(u64::from(invalidated > 0)) {
            return Err(Violation::GenerationMismatch { before: self.generation, after: next.generation, invalidated });
        }
        if self.divergence.is_some() && next.divergence != self.divergence {
            return Err(Violation::DivergenceChanged { before: self.divergence, after: next.divergence });
        }
        let mut watermark = self.watermark;
        for effect in &step.effects {
            match effect {
                Effect::Db { write: DbWrite::RaiseWatermark { to }, .. } => watermark = watermark.max(Some(*to)),
                Effect::Submit { w_nonce, .. } | Effect::Noop { w_nonce, .. }
                    if watermark.is_none_or(|w| *w_nonce > w) =>
                {
                    return Err(Violation::SendBeforeWatermark { w_nonce: *w_nonce, watermark });
                }
                _ => {}
            }
        }
        if self.divergence.is_some() {
            let sends = step.effects.iter().any(|effect| matches!(effect, Effect::Submit { .. } | Effect::Noop { .. }));
            let decision = step.notes.iter().find_map(|note| note.decision.filter(|&d| d != Decision::Refuse));
            if sends || decision.is_some() {
                return Err(Violation::ActedAfterDivergence { decision });
            }
        }
        if step.notes.iter().any(|note| note.decision == Some(Decision::Cascade)) && invalidated > 0 {
            let tip = after.tree().tip().map(|tip| tip.nonce);
            if tip != Some(after.scheduler().expected_nonce) {
                return Err(Violation::RecoveryNonce { tip, expected: after.scheduler().expected_nonce });
            }
        }
        Ok(())
    }
}
