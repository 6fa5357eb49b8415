//! The world judged by a scheduler written independently of the core: the simulator's
//! (`effects::sim::oracle`), folded over the world's safe blocks. It gives the world
//! properties `seqrec check` asserts after every move, and the end state the fault-free
//! completion must reach (no stuck state, no livelock).

use effects::sim::chain::Origin;
use effects::sim::oracle::Oracle;
use machine::{BlockNumber, State};

use super::{BASE_BLOCK, BLOCK_MS, Move, World};

/// The checked config's `max_wait_blocks` (the boot config in `check/mod.rs` says the same;
/// a test holds them together). The anchor is the config's default, nonce 0.
pub const MAX_WAIT_BLOCKS: u64 = 4;

impl World {
    /// The scheduler after folding every block up to `to`, in L1 order.
    pub(super) fn scheduler(&self, to: u64) -> Oracle {
        let mut oracle = Oracle::new(0, MAX_WAIT_BLOCKS);
        for (number, block) in (BASE_BLOCK + 1..).zip(&self.blocks) {
            if number > to {
                break;
            }
            if block.direct {
                oracle.direct_input(number);
            }
            for tx in &block.txs {
                if let Some(wire) = &tx.wire {
                    oracle.judge(number, wire, if tx.foreign { Origin::Rogue } else { Origin::Ours });
                }
            }
        }
        oracle
    }

    /// The world properties after a move: `Some(what broke)`.
    ///
    /// - every batch of ours the scheduler accepted is one the core made and never
    ///   invalidated (no zombie accepted, no Gold batch invalidated), draining the direct
    ///   inputs the scheduler drained with it;
    /// - divergence is recorded only once the scheduler accepted bytes we did not make;
    /// - every seal the core acknowledged is held by a batch of its tree (no payload lost);
    /// - no batch was asked to be sent at a second wallet nonce while its first send may
    ///   still land or after it was accepted (`resends.rs`).
    #[must_use]
    pub fn judge(&self, state: &State) -> Option<String> {
        if let Some(what) = &self.second_send {
            return Some(what.clone());
        }
        let oracle = self.scheduler(self.safe());
        let diverged = state.scheduler().divergence.is_some();
        let mut foreign_accepted = false;
        // Gold batches settled long enough ago leave the tree (docs/protocol.md §11.6):
        // below the first nonce kept, the tree holds nothing to compare.
        let kept_from = state.tree().first_nonce().0;
        for accepted in oracle.accepted() {
            if accepted.origin == Origin::Rogue {
                foreign_accepted = true;
                continue;
            }
            if accepted.nonce < kept_from {
                continue;
            }
            let found = state
                .tree()
                .batches()
                .iter()
                .find(|batch| batch.sealed.as_ref().is_some_and(|sealed| sealed.wire_hash.0 == accepted.wire_hash));
            match found {
                None => {
                    return Some(format!(
                        "world: the scheduler accepted nonce {} at block {} with bytes the core does not hold",
                        accepted.nonce, accepted.block
                    ));
                }
                Some(batch) if !batch.valid => {
                    return Some(format!(
                        "world: the scheduler accepted batch {} (nonce {}) at block {}, which the core invalidated",
                        batch.index, accepted.nonce, accepted.block
                    ));
                }
                Some(batch)
                    if !diverged && !foreign_accepted && (batch.drain_from, batch.drain_to) != accepted.drain =>
                {
                    return Some(format!(
                        "world: batch {} drains direct inputs {}..{} but the scheduler drained {}..{} with it",
                        batch.index, batch.drain_from, batch.drain_to, accepted.drain.0, accepted.drain.1
                    ));
                }
                Some(_) => {}
            }
        }
        if diverged && !foreign_accepted {
            return Some("world: divergence recorded but the scheduler accepted only bytes the core made".to_owned());
        }
        let held_ids: Vec<u64> = state
            .tree()
            .batches()
            .iter()
            .filter_map(|batch| batch.sealed.as_ref().and_then(|sealed| sealed.seal_id))
            .collect();
        // Pruning removes the oldest batches, and seal ids grow with the batch index, so a
        // pruned seal is one below every seal id still held (or any, if none is held).
        let pruned_below = match state.tree().pruned().count {
            0 => 0,
            _ => held_ids.iter().copied().min().unwrap_or(u64::MAX),
        };
        for seal_id in &self.acked {
            let held = held_ids.contains(seal_id);
            if !held && *seal_id >= pruned_below {
                return Some(format!("world: seal {seal_id} was acknowledged but no batch holds its payload"));
            }
        }
        None
    }

    /// Whether the process is admitted with its tree consistent with L1: intake open, the
    /// core has seen the world's safe head and expects the nonce the scheduler expects.
    /// A core that recorded the divergence a second sequencer caused has also reached its
    /// end: it refuses until an operator acts (docs/protocol.md §9 invariant 8).
    #[must_use]
    pub fn settled(&self, state: &State) -> bool {
        let oracle = self.scheduler(self.safe());
        if state.scheduler().divergence.is_some() {
            return oracle.accepted().iter().any(|accepted| accepted.origin == Origin::Rogue);
        }
        self.alive
            && state.intake_open()
            && state.view().safe_block == Some(BlockNumber(self.safe()))
            && state.scheduler().expected_nonce.0 == oracle.expected()
    }

    /// The fault-free completion's next move: first the chain and the clock catch up with
    /// each other (no stalled L1, a clock that stepped back set right) and the head becomes safe; then an exited process restarts (a block-time later), the
    /// first outstanding request (in the sorted order: chain id, syncs, wallet, landings, sends) is answered, what is pending is mined, the next timer fires, and
    /// else an empty block passes.
    #[must_use]
    pub fn calm_move(&self) -> Move {
        let head_ms = self.timestamp_s(self.head()) * 1000;
        // A clock behind the head's timestamp is set right as the next block comes.
        let behind = head_ms + BLOCK_MS <= self.now_ms || self.now_ms < head_ms;
        if self.now_ms < self.clock_max_ms {
            Move::ClockRight
        } else if self.safe() < self.head() {
            Move::Finalize
        } else if behind {
            Move::Mine(self.minable())
        } else if !self.alive {
            // A supervisor restarts an exited process after a while: a block passes first.
            if self.down_since_ms.is_some_and(|down| down >= self.now_ms) {
                Move::Mine(self.minable())
            } else {
                Move::Boot
            }
        } else if !self.outstanding.is_empty() {
            Move::Answer(0)
        } else if self.minable() > 0 {
            Move::Mine(self.minable())
        } else if !self.timers.is_empty() {
            Move::Tick
        } else {
            Move::Mine(0)
        }
    }
}

/// The nonce a second sequencer would use now: the scheduler's after every block, safe or not.
pub(super) fn expected_after_all(world: &World) -> u64 {
    world.scheduler(u64::MAX).expected()
}
