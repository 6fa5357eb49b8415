//! The world property that a batch is broadcast at one wallet nonce (issue 18, item 1):
//! no batch is sent at a second wallet nonce while its first send may still land —
//! pending, dropped but able to resurface, asked for and not yet answered — or after it
//! landed and the scheduler accepted it. A slot provably lost (mined with our no-op, other
//! content of ours or a second sequencer's transaction) frees the batch to go elsewhere;
//! so does a landing the scheduler skipped. Judged on the world's chain and the
//! simulator's scheduler when the core asks for the send, never on the core's view.

use super::{Request, World};

impl World {
    /// What breaks the property if the core now asks to send `wire` at `w_nonce`.
    pub(super) fn judge_send(&self, w_nonce: u64, wire: &[u8]) -> Option<String> {
        let ours = |at: u64, tx_wire: Option<&Vec<u8>>, foreign: bool| {
            at != w_nonce && !foreign && tx_wire.is_some_and(|sent| sent.as_slice() == wire)
        };
        let nonce = machine::wire::decode(wire).map_or(u64::MAX, |batch| batch.nonce.0);
        let broke = |at: u64, why: String| {
            Some(format!(
                "world: batch nonce {nonce} sent at wallet nonce {w_nonce} while its send at wallet nonce {at} {why}"
            ))
        };
        if let Some(tx) = self.mempool.iter().find(|tx| ours(tx.w_nonce, tx.wire.as_ref(), tx.foreign)) {
            return broke(tx.w_nonce, "is pending".to_owned());
        }
        if let Some(tx) = self.zombies.iter().find(|tx| ours(tx.w_nonce, tx.wire.as_ref(), tx.foreign)) {
            return broke(tx.w_nonce, "was dropped and may resurface".to_owned());
        }
        let mined = self.mined();
        let asked = self.outstanding.iter().find_map(|request| match request {
            Request::Send { w_nonce: at, wire: sent } if *at >= mined && ours(*at, sent.as_ref(), false) => Some(*at),
            _ => None,
        });
        if let Some(at) = asked {
            return broke(at, "was asked for and may still be broadcast".to_owned());
        }
        let hash = *blake3::hash(wire).as_bytes();
        let accepted = self.scheduler(u64::MAX).accepted().iter().find(|accepted| accepted.wire_hash == hash)?.block;
        let at = self.block(accepted)?.txs.iter().find(|tx| ours(tx.w_nonce, tx.wire.as_ref(), tx.foreign))?.w_nonce;
        broke(at, format!("landed at block {accepted} and was accepted"))
    }
}
