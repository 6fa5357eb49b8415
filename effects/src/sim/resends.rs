//! The world check that a batch is broadcast at one wallet nonce (issue 18, item 1): no
//! batch is sent at a second wallet nonce while its first send may still land, or after
//! it landed and the scheduler accepted it. A send whose slot was provably lost (taken by
//! our no-op, by other content of ours or by a second sequencer, or forgotten everywhere)
//! may go elsewhere; so may one whose landing the scheduler skipped. Judged on the
//! simulated chain and the independent scheduler, never on the core's view.

use std::collections::VecDeque;

use machine::{Effect, Step};

use super::chain::{BlockInput, Chain, Origin};
use super::oracle::Oracle;

/// The sends remembered: far more than are ever in flight at once, and bounded, so a
/// simulated year keeps a fixed memory.
const REMEMBERED: usize = 4096;

/// Where each recent batch was sent: (blake3 of its bytes, wallet nonce), oldest first.
#[derive(Debug, Default)]
pub(crate) struct Resends {
    sent: VecDeque<([u8; 32], u64)>,
}

impl Resends {
    /// Judges the sends of one step against the chain as it is before they run; returns
    /// what broke, if anything.
    pub(crate) fn judge(&mut self, step: &Step, chain: &Chain, oracle: &Oracle) -> Vec<String> {
        let mut broke = Vec::new();
        for effect in &step.effects {
            let Effect::Submit { w_nonce, nonce, wire, .. } = effect else { continue };
            let hash = *blake3::hash(&wire.0).as_bytes();
            let earlier: Vec<u64> =
                self.sent.iter().filter(|&&(sent, at)| sent == hash && at != w_nonce.0).map(|&(_, at)| at).collect();
            for at in earlier {
                if let Some(why) = still_counts(chain, oracle, at, &wire.0, &hash) {
                    broke.push(format!(
                        "batch nonce {nonce} sent at wallet nonce {} while its send at wallet nonce {at} {why}",
                        w_nonce.0
                    ));
                }
            }
            if !self.sent.contains(&(hash, w_nonce.0)) {
                if self.sent.len() == REMEMBERED {
                    self.sent.pop_front();
                }
                self.sent.push_back((hash, w_nonce.0));
            }
        }
        broke
    }
}

/// Whether our send of `wire` at wallet nonce `at` may still land (pending here or
/// elsewhere) or landed and was (or, above the safe head, will be) accepted.
fn still_counts(chain: &Chain, oracle: &Oracle, at: u64, wire: &[u8], hash: &[u8; 32]) -> Option<String> {
    let ours = |tx: &super::chain::Tx| tx.origin == Origin::Ours && tx.wire.as_deref() == Some(wire);
    if chain.pending_tx(at).is_some_and(ours) {
        return Some("is pending".to_owned());
    }
    if chain.elsewhere_tx(at).is_some_and(ours) {
        return Some("is alive elsewhere (a zombie)".to_owned());
    }
    // Newest first; the block that mined nonce `at` is the oldest whose count is past it.
    let landed = chain.blocks().iter().rev().take_while(|block| block.nonce_after > at).find(|block| {
        block.inputs.iter().any(|input| {
            matches!(input, BlockInput::Batch { w_nonce, wire: landed, origin: Origin::Ours }
                    if *w_nonce == at && landed.as_slice() == wire)
        })
    })?;
    let accepted = oracle.accepted().iter().any(|accepted| accepted.wire_hash == *hash)
        || oracle.accepts_after_all(chain.blocks(), hash);
    accepted.then(|| format!("landed at block {} and was accepted", landed.number))
}
