//! What a monitor reads of the state: every batch the scheduler has not accepted yet,
//! its age in safe blocks against the danger threshold and max wait, and the live safety
//! margin (blocks left before danger). A read-only summary, so an embedder or `seqrec
//! run --metrics` need not know the tree's layout.

use crate::danger::classify;
use crate::state::{Mode, Process, State};
use crate::units::{BatchIndex, BatchNonce, BlockNumber, UnixMillis};
use crate::verdict::Danger;

/// A batch on the valid path at or past the Gold frontier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unresolved {
    /// Its index.
    pub index: BatchIndex,
    /// Its scheduler nonce.
    pub nonce: BatchNonce,
    /// Safe blocks since its first frame's safe block.
    pub age_blocks: u64,
    /// Sealed (closed); `false` for the open Tip.
    pub closed: bool,
}

/// The state as a monitor sees it at one instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watch {
    /// The safe head known, if any.
    pub safe_head: Option<BlockNumber>,
    /// `max_wait_blocks − preemptive_margin_blocks`: the age at which a batch is in danger.
    pub danger_threshold_blocks: u64,
    /// The age at which the scheduler skips a batch.
    pub max_wait_blocks: u64,
    /// Unresolved batches, oldest first.
    pub unresolved: Vec<Unresolved>,
    /// Blocks the oldest unresolved batch has left before the danger threshold (0 at or
    /// past it); `None` with nothing unresolved or no safe head.
    pub margin_blocks: Option<u64>,
    /// The process is admitted (past startup's recovery, submitting).
    pub admitted: bool,
    /// The danger classification now (docs/protocol.md §4).
    pub danger: Danger,
    /// The generation (docs/protocol.md §2).
    pub generation: u64,
}

/// The monitor's view of `state` at `now_ms`; `None` before a valid boot config.
#[must_use]
pub fn watch(state: &State, now_ms: UnixMillis) -> Option<Watch> {
    let config = state.config()?;
    let (danger, _) = classify(state, config, now_ms);
    let safe_head = state.view().safe_block;
    let frontier = state.scheduler().expected_nonce;
    let tip = state.tree().tip().map(|tip| tip.index);
    let unresolved: Vec<Unresolved> = state
        .tree()
        .valid_from(frontier)
        .filter(|batch| !batch.accepted)
        .map(|batch| Unresolved {
            index: batch.index,
            nonce: batch.nonce,
            age_blocks: safe_head.map_or(0, |head| head.blocks_since(batch.first_frame_safe_block)),
            closed: Some(batch.index) != tip,
        })
        .collect();
    let threshold = config.danger_threshold_blocks();
    let oldest = unresolved.iter().map(|batch| batch.age_blocks).max();
    let margin_blocks = safe_head.and(oldest).map(|age| threshold.saturating_sub(age));
    let admitted = matches!(state.process(), Process::Running(running) if matches!(running.mode, Mode::Admitted(_)));
    Some(Watch {
        safe_head,
        danger_threshold_blocks: threshold,
        max_wait_blocks: config.max_wait_blocks(),
        unresolved,
        margin_blocks,
        admitted,
        danger,
        generation: state.generation(),
    })
}
