//! docs/protocol.md §1–§2: the core's mirror of the on-chain scheduler. Safe batch landings
//! are folded in L1 order into `expected_nonce` (the gold frontier); an accepted
//! landing whose bytes match no valid local batch is canonical divergence.

use crate::batch_tree::BatchTree;
use crate::bytes::Hash32;
use crate::event::BatchLanding;
use crate::units::{BatchNonce, BlockNumber};

/// The scheduler mirror.
#[derive(Clone, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Scheduler {
    /// The nonce the scheduler accepts next: the gold frontier.
    pub expected_nonce: BatchNonce,
    /// The first nonce at which L1 accepted bytes we did not make; permanent.
    pub divergence: Option<BatchNonce>,
}

/// What the scheduler did with one landing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Judgement {
    /// Accepted, and the bytes match the valid local batch at that nonce.
    Accepted,
    /// Accepted, but the bytes match no valid local batch at that nonce.
    Diverged {
        /// The nonce accepted.
        nonce: BatchNonce,
        /// The block it landed in.
        block: BlockNumber,
    },
    /// Skipped: `inclusion - S >= max_wait`.
    Stale,
    /// Skipped: not the expected nonce (poisoned or a duplicate).
    WrongNonce,
    /// Skipped: the bytes do not decode.
    Undecodable,
}

/// Is a batch with first-frame safe block `first_frame` stale when included at `inclusion`?
/// A batch with no frames is never stale (docs/protocol.md §1).
#[must_use]
pub fn stale_by_inclusion(inclusion: BlockNumber, first_frame: Option<BlockNumber>, max_wait_blocks: u64) -> bool {
    first_frame.is_some_and(|first_frame| inclusion.blocks_since(first_frame) >= max_wait_blocks)
}

impl Scheduler {
    /// A mirror starting at the anchor nonce.
    #[must_use]
    pub fn new(anchor: BatchNonce) -> Self {
        Scheduler { expected_nonce: anchor, divergence: None }
    }

    /// Folds one safe landing whose bytes hash to `wire_hash` (`None`: bytes we never made).
    pub(crate) fn fold(
        &mut self,
        tree: &mut BatchTree,
        landing: &BatchLanding,
        wire_hash: Option<Hash32>,
        max_wait_blocks: u64,
    ) -> Judgement {
        let ours = |tree: &BatchTree| {
            let local = tree.valid_at_nonce(landing.nonce).and_then(|batch| batch.sealed.as_ref());
            matches!((local, wire_hash), (Some(sealed), Some(hash)) if sealed.wire_hash == hash)
        };
        let judgement = if !landing.decodes {
            Judgement::Undecodable
        } else if stale_by_inclusion(landing.block, landing.first_frame_safe_block, max_wait_blocks) {
            Judgement::Stale
        } else if landing.nonce != self.expected_nonce {
            Judgement::WrongNonce
        } else {
            // Saturates only when a landing at `u64::MAX` is accepted: never ours (no batch
            // is closed there, ARCHITECTURE.md choice 70), so it is divergence, terminal; the
            // invariant checker counts the frontier without saturating.
            self.expected_nonce = self.expected_nonce.next();
            if ours(tree) {
                tree.mark_accepted(landing.nonce, landing.block, landing.w_nonce);
                Judgement::Accepted
            } else {
                self.divergence.get_or_insert(landing.nonce);
                Judgement::Diverged { nonce: landing.nonce, block: landing.block }
            }
        };
        if matches!(judgement, Judgement::Stale | Judgement::WrongNonce) && ours(tree) {
            tree.mark_landed_safe(landing.nonce);
        }
        judgement
    }
}

/// docs/protocol.md §5: the submitter's start nonce — the frontier advanced by our unsafe
/// landings, in L1 order, each equal to the running expectation.
#[must_use]
pub(crate) fn submit_start(frontier: BatchNonce, unsafe_nonces: &[BatchNonce]) -> BatchNonce {
    // A start saturated at `u64::MAX` finds nothing to send: no batch is closed there.
    unsafe_nonces.iter().fold(frontier, |start, &nonce| if nonce == start { start.next() } else { start })
}
