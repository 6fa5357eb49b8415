//! The on-chain scheduler, written again from docs/protocol.md §1 and independently of the
//! core's mirror (it does not call `machine`), so the simulator can judge the core. It
//! folds safe blocks in L1 order and also derives each accepted batch's drained direct
//! inputs from its first-frame safe block.

use super::chain::{Block, BlockInput, Origin};

/// A batch the scheduler accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// Its nonce.
    pub nonce: u64,
    /// blake3 of its bytes.
    pub wire_hash: [u8; 32],
    /// The block it landed in.
    pub block: u64,
    /// Who sent it.
    pub origin: Origin,
    /// Direct-input positions it drains: those in blocks up to its first-frame safe
    /// block not drained by an earlier accepted batch.
    pub drain: (u64, u64),
}

/// The scheduler.
#[derive(Debug, Default)]
pub struct Oracle {
    max_wait_blocks: u64,
    expected: u64,
    folded: Option<u64>,
    direct_blocks: Vec<u64>,
    drained: u64,
    accepted: Vec<Accepted>,
}

/// `(nonce, first-frame safe block)` from a batch's bytes, read from the documented
/// layout (magic `SQRB`, version 1, nonce and S as big-endian u64, u32 payload length).
fn decode(wire: &[u8]) -> Option<(u64, u64)> {
    if wire.len() < 25 || wire[..4] != *b"SQRB" || wire[4] != 1 {
        return None;
    }
    let word = |at: usize| u64::from_be_bytes(wire[at..at + 8].try_into().unwrap_or([0; 8]));
    let len = u32::from_be_bytes(wire[21..25].try_into().unwrap_or([0; 4])) as usize;
    (wire.len() == 25 + len).then(|| (word(5), word(13)))
}

impl Oracle {
    /// A scheduler expecting `anchor` first.
    #[must_use]
    pub fn new(anchor: u64, max_wait_blocks: u64) -> Self {
        Oracle { max_wait_blocks, expected: anchor, ..Oracle::default() }
    }

    /// The next nonce it accepts.
    #[must_use]
    pub fn expected(&self) -> u64 {
        self.expected
    }

    /// Everything accepted so far.
    #[must_use]
    pub fn accepted(&self) -> &[Accepted] {
        &self.accepted
    }

    /// Direct inputs seen in folded blocks.
    #[must_use]
    pub fn direct_inputs(&self) -> u64 {
        self.direct_blocks.len() as u64
    }

    /// Folds every block up to `safe` not folded yet; returns how many were accepted.
    pub fn fold(&mut self, blocks: &[Block], safe: u64) -> usize {
        let before = self.accepted.len();
        let from = self.folded.map_or(0, |folded| folded + 1);
        for block in blocks.iter().skip(usize::try_from(from).unwrap_or(usize::MAX)).take_while(|b| b.number <= safe) {
            for input in &block.inputs {
                match input {
                    BlockInput::Direct { .. } => self.direct_input(block.number),
                    BlockInput::Batch { wire, origin, .. } => self.judge(block.number, wire, *origin),
                }
            }
            self.folded = Some(block.number);
        }
        self.accepted.len() - before
    }

    /// Folds one direct input mined in `block` (for a caller that keeps its own chain,
    /// such as `seqrec check`'s world; blocks must be folded in L1 order).
    pub fn direct_input(&mut self, block: u64) {
        self.direct_blocks.push(block);
    }

    /// Judges one batch landing at block `inclusion`, in L1 order (the entry for a caller
    /// that keeps its own chain): accepted when fresh and at the expected nonce.
    pub fn judge(&mut self, inclusion: u64, wire: &[u8], origin: Origin) {
        let Some((nonce, first_frame)) = decode(wire) else { return };
        let stale = inclusion.saturating_sub(first_frame) >= self.max_wait_blocks;
        if stale || nonce != self.expected {
            return;
        }
        self.expected += 1;
        let safe_then = self.direct_blocks.iter().filter(|&&block| block <= first_frame).count() as u64;
        let drain = (self.drained, safe_then.max(self.drained));
        self.drained = drain.1;
        let wire_hash = *blake3::hash(wire).as_bytes();
        self.accepted.push(Accepted { nonce, wire_hash, block: inclusion, origin, drain });
    }

    /// The nonce a second sequencer would use now: the expected nonce after folding
    /// every block produced so far, safe or not.
    #[must_use]
    pub fn expected_after_all(&self, blocks: &[Block]) -> u64 {
        self.after_all(blocks).expected
    }

    /// Whether the bytes hashing to `wire_hash` are accepted once every block produced
    /// so far is folded, safe or not.
    #[must_use]
    pub fn accepts_after_all(&self, blocks: &[Block], wire_hash: &[u8; 32]) -> bool {
        self.after_all(blocks).accepted.iter().any(|accepted| accepted.wire_hash == *wire_hash)
    }

    /// This scheduler with every block produced so far folded, safe or not.
    fn after_all(&self, blocks: &[Block]) -> Oracle {
        let mut probe = Oracle { max_wait_blocks: self.max_wait_blocks, expected: self.expected, ..Oracle::default() };
        probe.folded = self.folded;
        probe.direct_blocks.clone_from(&self.direct_blocks);
        probe.drained = self.drained;
        probe.fold(blocks, u64::MAX);
        probe
    }
}
