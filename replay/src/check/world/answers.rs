//! The answers of the world's L1 node, built as an executor builds them: landings decoded
//! and hashed with the core's own helpers, wallet counts from the mined blocks and the
//! mempool, a send's outcome as the node reports it. An answer is judged on the world as
//! it is when delivered, so an answer delivered late reports what happened meanwhile.

use machine::{BatchLanding, BlockNumber, Event, Hash32, Input, RpcCall, UnixMillis, WalletNonce};

use super::{Bounds, Request, Tx, World};

/// The chain id of the world and of the checked config.
pub const CHAIN_ID: u64 = 31337;

impl World {
    /// The answer to `request`, judged on the world as it is now.
    pub(super) fn answer(&mut self, request: Request, bounds: &Bounds) -> Event {
        let safe = self.safe();
        match request {
            Request::ChainId => Event::ChainId(machine::event::ChainId { chain_id: CHAIN_ID, genesis_hash: None }),
            Request::SyncL1(from_block) => Event::L1(machine::event::L1 {
                now_ms: UnixMillis(self.now_ms),
                safe_block: BlockNumber(safe),
                safe_timestamp: self.timestamp_s(safe),
                inputs: self.inputs(from_block, safe),
                from_block: Some(BlockNumber(from_block)),
                safe_hash: None,
                parent_hash: None,
                partial: false,
            }),
            Request::Wallet => {
                let latest = self.mined();
                let pending = latest + self.minable() as u64;
                Event::Wallet(machine::event::Wallet {
                    latest: WalletNonce(latest),
                    pending: WalletNonce(pending),
                    safe: WalletNonce(self.nonce_at(safe)),
                    safe_block: BlockNumber(safe),
                    base_fee_wei: None,
                    tip_wei: None,
                    head_block: (!bounds.features.answers_before_one_view).then(|| BlockNumber(self.head())),
                })
            }
            Request::UnsafeLandings => {
                let nonces = self
                    .inputs(safe + 1, self.head())
                    .into_iter()
                    .filter_map(|input| match input {
                        Input::Batch(landing) if landing.decodes => Some(landing.nonce),
                        _ => None,
                    })
                    .collect();
                let safe_block = (!bounds.features.answers_before_one_view).then_some(BlockNumber(safe));
                Event::UnsafeLandings(machine::event::UnsafeLandings { nonces, safe_block })
            }
            Request::Send { w_nonce, wire } => {
                if w_nonce < self.mined() {
                    return Event::SendFailed(machine::event::SendFailed {
                        w_nonce: WalletNonce(w_nonce),
                        error: "nonce too low".to_owned(),
                        class: Some(machine::SendClass::NonceTooLow),
                    });
                }
                let tx_hash = tx_hash(w_nonce, wire.as_deref());
                self.broadcast(Tx { w_nonce, wire, foreign: false }, bounds);
                Event::Sent(machine::event::Sent {
                    w_nonce: WalletNonce(w_nonce),
                    tx_hash,
                    max_fee_per_gas: None,
                    max_priority_fee_per_gas: None,
                    gas_limit: None,
                })
            }
        }
    }

    /// The inbox inputs of blocks `from ..= to`, in L1 order, as an executor reports them.
    fn inputs(&self, from: u64, to: u64) -> Vec<Input> {
        let mut inputs = Vec::new();
        for number in from.max(super::BASE_BLOCK + 1)..=to {
            let Some(block) = self.block(number) else { break };
            if block.direct {
                let data = machine::Bytes(vec![0xD1]);
                inputs.push(Input::Direct { block: BlockNumber(number), data });
            }
            for tx in &block.txs {
                if let Some(wire) = &tx.wire {
                    inputs.push(landing(number, tx.w_nonce, wire));
                }
            }
        }
        inputs
    }
}

/// The failure of `request`: what a node that cannot be reached answers.
pub(super) fn failure(request: &Request) -> Event {
    let call = match request {
        Request::ChainId => RpcCall::ChainId,
        Request::SyncL1(_) => RpcCall::L1,
        Request::Wallet => RpcCall::Wallet,
        Request::UnsafeLandings => RpcCall::UnsafeLandings,
        Request::Send { w_nonce, .. } => {
            return Event::SendFailed(machine::event::SendFailed {
                w_nonce: WalletNonce(*w_nonce),
                error: "connection refused".to_owned(),
                class: Some(machine::SendClass::Transport),
            });
        }
    };
    Event::RpcFailed(machine::event::RpcFailed { call, error: "connection refused".to_owned() })
}

/// A stable transaction hash for our send of `wire` (or a no-op) at `w_nonce`.
fn tx_hash(w_nonce: u64, wire: Option<&[u8]>) -> Hash32 {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&w_nonce.to_le_bytes());
    hasher.update(&[u8::from(wire.is_some())]);
    hasher.update(wire.unwrap_or_default());
    Hash32(*hasher.finalize().as_bytes())
}

/// A batch landing as the executor reports it (`BatchLanding::observed`).
fn landing(block: u64, w_nonce: u64, wire: &[u8]) -> Input {
    Input::Batch(BatchLanding::observed(BlockNumber(block), WalletNonce(w_nonce), wire, false))
}
