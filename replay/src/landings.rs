//! Our batches seen on L1, step by step, for the audit and `run`'s logs: each landing in
//! an unsafe block (the first time its nonce is reported), and each landing a sync folds
//! at the safe head with the scheduler mirror's verdict — accepted (Gold), accepted with
//! bytes we did not make (divergence), or skipped as stale, at a wrong nonce or
//! undecodable (docs/protocol.md §1–§2) — so "when was batch 7 accepted?" has an answer.
//! Read from the state after each step and the event; the core is not asked again.

use std::collections::BTreeSet;

use machine::{BatchIndex, BatchLanding, BatchNonce, BlockNumber, Event, Input, State, WalletNonce};

/// One of our landings, as a step saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Landing {
    /// The batch nonce its bytes carry.
    pub nonce: BatchNonce,
    /// Our batch with these bytes, when the state still holds it.
    pub batch: Option<BatchIndex>,
    /// The wallet nonce and block of the landing transaction; unknown for an unsafe one.
    pub at: Option<(WalletNonce, BlockNumber)>,
    /// What became of it.
    pub seen: Seen,
}

/// Where a landing was seen, and the scheduler mirror's verdict on a safe one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// In a block above the safe head: not judged yet.
    Unsafe,
    /// At the safe head, accepted: the batch is Gold.
    Accepted,
    /// At the safe head, accepted with bytes that match no valid batch of ours.
    Diverged,
    /// At the safe head, skipped: included `max_wait` or more blocks after its first frame's
    /// safe block.
    Stale {
        /// The first-frame safe block its bytes carry.
        first_frame: BlockNumber,
        /// The scheduler's max wait.
        max_wait: u64,
    },
    /// At the safe head, skipped: the scheduler expected another nonce.
    WrongNonce {
        /// The nonce the scheduler expected there.
        expected: BatchNonce,
    },
    /// At the safe head, skipped: its bytes do not decode.
    Undecodable,
}

impl Seen {
    /// The audit's "what" for it.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Seen::Unsafe => "landed_unsafe",
            Seen::Accepted => "accepted",
            Seen::Diverged => "accepted_foreign",
            Seen::Stale { .. } | Seen::WrongNonce { .. } | Seen::Undecodable => "landed_skipped",
        }
    }

    /// The verdict's name in the audit's JSON.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Seen::Unsafe => "unsafe",
            Seen::Accepted => "accepted",
            Seen::Diverged => "diverged",
            Seen::Stale { .. } => "stale",
            Seen::WrongNonce { .. } => "wrong_nonce",
            Seen::Undecodable => "undecodable",
        }
    }
}

impl std::fmt::Display for Landing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.batch {
            Some(batch) => write!(f, "batch {batch} (nonce {})", self.nonce)?,
            None => write!(f, "nonce {}", self.nonce)?,
        }
        match self.at {
            Some((w_nonce, block)) => write!(f, " landed in block {block} (wallet nonce {w_nonce})")?,
            None => write!(f, " landed in a block above the safe head")?,
        }
        match self.seen {
            Seen::Unsafe => write!(f, "; judged once that block is safe"),
            Seen::Accepted => write!(f, ", now safe: accepted by the scheduler (Gold)"),
            Seen::Diverged => write!(
                f,
                ", now safe: the scheduler accepted it with bytes that match no valid batch of ours (canonical divergence)"
            ),
            Seen::Stale { first_frame, max_wait } => write!(
                f,
                ", now safe: skipped by the scheduler as stale: included {} blocks after its first frame's safe block {first_frame} (max wait {max_wait})",
                self.at.map_or(0, |(_, block)| block.blocks_since(first_frame))
            ),
            Seen::WrongNonce { expected } => {
                write!(f, ", now safe: skipped by the scheduler, which expected nonce {expected}")
            }
            Seen::Undecodable => write!(f, ", now safe: skipped by the scheduler: its bytes do not decode"),
        }
    }
}

/// What the steps so far showed: the gold frontier and safe head before the next step,
/// and the nonces already reported in unsafe blocks (bounded: those below the frontier
/// are forgotten).
#[derive(Clone, Debug, Default)]
pub struct Landings {
    frontier: BatchNonce,
    safe_block: Option<BlockNumber>,
    unsafe_seen: BTreeSet<BatchNonce>,
}

impl Landings {
    /// Starting from `state` (a resumed process's, or the empty state).
    #[must_use]
    pub fn new(state: &State) -> Landings {
        Landings {
            frontier: state.scheduler().expected_nonce,
            safe_block: state.view().safe_block,
            unsafe_seen: BTreeSet::new(),
        }
    }

    /// The landings `event` showed, `state` being the state after its step.
    pub fn after_step(&mut self, event: &Event, state: &State) -> Vec<Landing> {
        let frontier = state.scheduler().expected_nonce;
        let mut seen = Vec::new();
        match event {
            Event::L1(sync) if self.folded(sync.safe_block, state) => {
                let stored = self.safe_block;
                let new = sync.inputs.iter().filter_map(|input| match input {
                    Input::Batch(landing) if stored.is_none_or(|stored| landing.block > stored) => Some(landing),
                    _ => None,
                });
                let max_wait = state.config().map_or(u64::MAX, machine::Config::max_wait_blocks);
                let mut expected = self.frontier;
                for landing in new {
                    let verdict = judge(landing, &mut expected, max_wait, state);
                    seen.push(Landing {
                        nonce: landing.nonce,
                        batch: ours(landing, state),
                        at: Some((landing.w_nonce, landing.block)),
                        seen: verdict,
                    });
                }
            }
            Event::UnsafeLandings(landings) => {
                for &nonce in landings.nonces.iter().filter(|&&nonce| nonce >= frontier) {
                    if self.unsafe_seen.insert(nonce) {
                        let batch = state.tree().valid_at_nonce(nonce).map(|batch| batch.index);
                        seen.push(Landing { nonce, batch, at: None, seen: Seen::Unsafe });
                    }
                }
            }
            _ => {}
        }
        self.unsafe_seen.retain(|&nonce| nonce >= frontier);
        self.frontier = frontier;
        self.safe_block = state.view().safe_block;
        seen
    }

    /// Whether a sync reporting `safe_block` was folded: the state took its safe head (a
    /// sync refused, ignored as lagging or showing rewritten history leaves it).
    fn folded(&self, safe_block: BlockNumber, state: &State) -> bool {
        state.view().safe_block == Some(safe_block) && self.safe_block.is_none_or(|stored| stored <= safe_block)
    }
}

/// The scheduler mirror's verdict on a new safe landing, in L1 order from `expected`
/// (docs/protocol.md §1): the checks in the scheduler's order; an acceptance is ours when
/// the state holds the batch at that nonce accepted at this landing.
fn judge(landing: &BatchLanding, expected: &mut BatchNonce, max_wait: u64, state: &State) -> Seen {
    if !landing.decodes {
        return Seen::Undecodable;
    }
    if machine::stale_by_inclusion(landing.block, landing.first_frame_safe_block, max_wait) {
        let first_frame = landing.first_frame_safe_block.unwrap_or(landing.block);
        return Seen::Stale { first_frame, max_wait };
    }
    if landing.nonce != *expected {
        return Seen::WrongNonce { expected: *expected };
    }
    *expected = expected.next();
    let accepted_here = state.tree().batches().iter().any(|batch| {
        batch.valid && batch.nonce == landing.nonce && batch.accepted_at == Some((landing.block, landing.w_nonce))
    });
    // A batch accepted and pruned in the same step (a long catch-up) is no longer held;
    // without a divergence marker at its nonce, the acceptance was ours.
    let pruned = state.tree().pruned().last_nonce.is_some_and(|last| landing.nonce <= last);
    if accepted_here || (pruned && state.scheduler().divergence != Some(landing.nonce)) {
        Seen::Accepted
    } else {
        Seen::Diverged
    }
}

/// Our batch with the landing's bytes: by their hash, or (hash omitted: the bytes we sent
/// at that wallet nonce, docs/protocol.md §10) by what the slot sent.
fn ours(landing: &BatchLanding, state: &State) -> Option<BatchIndex> {
    match landing.wire_hash {
        Some(hash) => state
            .tree()
            .batches()
            .iter()
            .find(|batch| batch.sealed.as_ref().is_some_and(|sealed| sealed.wire_hash == hash))
            .map(|batch| batch.index),
        None => state.wallet().slots.get(&landing.w_nonce).and_then(|slot| {
            slot.batches.iter().rev().find(|(_, nonce, _)| *nonce == landing.nonce).map(|(index, _, _)| *index)
        }),
    }
}
