//! The moves the world may make from a given world, in a fixed order: the explorer
//! stores a move's index, so the order must depend only on the world.

use super::{Bounds, MAX_ZOMBIES, Move, World};

impl World {
    /// Whether a fault may still happen.
    fn may_fault(&self, bounds: &Bounds) -> bool {
        self.faults < bounds.faults
    }

    /// Every move the world may make now, in a fixed order (the explorer stores a move's
    /// index, so this order must depend only on the world).
    #[must_use]
    pub fn moves(&self, bounds: &Bounds) -> Vec<Move> {
        let mut moves = Vec::new();
        let features = &bounds.features;
        if !self.alive {
            moves.push(Move::Boot);
            self.chain_moves(bounds, &mut moves);
            return moves;
        }
        for (i, request) in self.outstanding.iter().enumerate() {
            // A repeated request is one choice, not two.
            if i > 0 && self.outstanding[i - 1] == *request {
                continue;
            }
            moves.push(Move::Answer(i));
            if self.may_fault(bounds) {
                moves.push(Move::Lose(i));
                moves.push(Move::Fail(i));
                if features.repeats {
                    moves.push(Move::Repeat(i));
                }
            }
        }
        if !self.timers.is_empty() {
            moves.push(Move::Tick);
        }
        self.chain_moves(bounds, &mut moves);
        if self.intake_open && self.seals < bounds.batches {
            moves.push(Move::Seal);
        }
        if self.crashes < bounds.crashes {
            moves.push(Move::Boot);
        }
        if self.may_fault(bounds) {
            if features.clock_back {
                moves.push(Move::ClockBack);
            }
            if features.db_failures && self.newest_write.is_some() {
                moves.push(Move::FailWrite);
            }
        }
        if self.now_ms < self.clock_max_ms {
            moves.push(Move::ClockRight);
        }
        moves
    }

    /// The moves of the chain and of other senders, which go on whether our process runs or not.
    fn chain_moves(&self, bounds: &Bounds, moves: &mut Vec<Move>) {
        let features = &bounds.features;
        // A block on the last move counts too: the world's properties are judged after it.
        let room = self.head() - self.safe() < bounds.unsafe_blocks.max(1);
        if room {
            for n in 0..=self.minable().min(2) {
                moves.push(Move::Mine(n));
            }
            if features.direct && !self.direct_sent {
                moves.push(Move::Direct);
            }
        }
        if self.safe() < self.head() {
            moves.push(Move::Finalize);
        }
        if features.zombies {
            if self.may_fault(bounds) && self.zombies.len() < MAX_ZOMBIES {
                for (i, tx) in self.mempool.iter().enumerate() {
                    if !tx.foreign {
                        moves.push(Move::Drop(i));
                    }
                }
            }
            for i in 0..self.zombies.len() {
                moves.push(Move::Resurface(i));
            }
        }
        if features.foreign && !self.foreign_sent && !self.blocks.is_empty() {
            moves.push(Move::Foreign);
        }
    }
}
