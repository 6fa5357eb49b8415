//! The simulated L1 chain, in virtual time: a block every block-time (unless halted),
//! the inbox, direct inputs from other senders, and the submitter account's mempool
//! under Ethereum's rules — one transaction per nonce, included in nonce order, a
//! replacement only if both EIP-1559 fee fields rise by at least 10%, and a base fee
//! that moves at most 12.5% a block toward what demand sets.
//!
//! The chain knows nothing of the core. The node's view of it (safe tag, forgotten
//! transactions, failing RPC) is `world.rs`'s business.

use std::collections::BTreeMap;

use machine::Hash32;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Who sent a transaction from the submitter key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// This sequencer.
    Ours,
    /// A second sequencer instance with the same key (divergence).
    Rogue,
}

/// EIP-1559 fees, in wei per gas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fees {
    /// `maxFeePerGas`.
    pub max_fee: u128,
    /// `maxPriorityFeePerGas`.
    pub priority_fee: u128,
}

impl Fees {
    /// Whether `self` may replace `old` at the same nonce: both fields at least 10% higher.
    #[must_use]
    pub fn replaces(&self, old: &Fees) -> bool {
        self.max_fee.saturating_mul(10) >= old.max_fee.saturating_mul(11)
            && self.priority_fee.saturating_mul(10) >= old.priority_fee.saturating_mul(11)
    }

    /// The smallest fees that replace `old`.
    #[must_use]
    pub fn bumped_over(old: &Fees) -> Fees {
        let bump = |fee: u128| (fee.saturating_mul(11) / 10).saturating_add(1);
        Fees { max_fee: bump(old.max_fee), priority_fee: bump(old.priority_fee) }
    }
}

/// A transaction from the submitter key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tx {
    /// Batch wire bytes to the inbox, or `None` for a zero-value transfer to ourselves.
    pub wire: Option<Vec<u8>>,
    /// Its fees.
    pub fees: Fees,
    /// Its hash.
    pub hash: Hash32,
    /// Who sent it.
    pub origin: Origin,
}

/// One inbox input in a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockInput {
    /// From another sender.
    Direct {
        /// Calldata.
        data: Vec<u8>,
    },
    /// A batch from the submitter key.
    Batch {
        /// Its wallet nonce.
        w_nonce: u64,
        /// Its bytes.
        wire: Vec<u8>,
        /// Who sent it.
        origin: Origin,
    },
}

/// One block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// Its number.
    pub number: u64,
    /// Its timestamp, seconds.
    pub timestamp_s: u64,
    /// Inbox inputs in order.
    pub inputs: Vec<BlockInput>,
    /// The submitter account's transaction count after this block.
    pub nonce_after: u64,
    /// Its hash: over its parent's hash, its number, time and content, and how many
    /// reorgs happened before it, so a replacement block has a hash of its own.
    pub hash: Hash32,
    /// Its parent's hash (zero for genesis).
    pub parent_hash: Hash32,
}

fn block_hash(parent_hash: Hash32, number: u64, timestamp_s: u64, nonce_after: u64, salt: u64) -> Hash32 {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&parent_hash.0);
    for word in [number, timestamp_s, nonce_after, salt] {
        hasher.update(&word.to_le_bytes());
    }
    Hash32(*hasher.finalize().as_bytes())
}

/// Chain parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainParams {
    /// The chain id the node reports.
    pub chain_id: u64,
    /// Milliseconds between blocks.
    pub block_ms: u64,
    /// Virtual time of block 0.
    pub genesis_ms: u64,
    /// Blocks between the head and the `safe` tag.
    pub safe_depth: u64,
    /// The base fee when demand is normal, in wei.
    pub base_fee: u128,
    /// Chance per block, in thousandths, of a direct input from another sender.
    pub direct_per_mille: u32,
    /// Most of our transactions one block includes.
    pub max_ours_per_block: usize,
}

/// The chain.
#[derive(Debug)]
pub struct Chain {
    params: ChainParams,
    blocks: Vec<Block>,
    /// Reorgs so far: part of every later block's hash.
    reorgs: u64,
    next_block_ms: u64,
    base_fee: u128,
    /// The local node's pending transactions of the submitter, by nonce.
    pool: BTreeMap<u64, Tx>,
    /// Transactions the local node forgot that stay alive elsewhere (zombies).
    elsewhere: BTreeMap<u64, Tx>,
    /// Transactions included, by nonce (to return them to the pool on a reorg).
    included: BTreeMap<u64, Tx>,
    mined: u64,
    rng: ChaCha8Rng,
}

/// What the block producer must know of the moment: faults that shape blocks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Weather {
    /// No blocks are produced.
    pub halted: bool,
    /// Demand is far above the target: the base fee climbs toward 30x normal.
    pub congested: bool,
    /// Our transactions are kept out of blocks (and, included in nonce order, so is
    /// everything after the first one held).
    pub censored: bool,
}

impl Chain {
    /// A chain with only its genesis block.
    #[must_use]
    pub fn new(params: ChainParams, seed: u64) -> Self {
        let timestamp_s = params.genesis_ms / 1000;
        let parent_hash = Hash32::default();
        let hash = block_hash(parent_hash, 0, timestamp_s, 0, params.chain_id);
        let genesis = Block { number: 0, timestamp_s, inputs: Vec::new(), nonce_after: 0, hash, parent_hash };
        Chain {
            next_block_ms: params.genesis_ms + params.block_ms,
            base_fee: params.base_fee,
            params,
            blocks: vec![genesis],
            pool: BTreeMap::new(),
            elsewhere: BTreeMap::new(),
            included: BTreeMap::new(),
            mined: 0,
            reorgs: 0,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0xc4a1_0000),
        }
    }

    /// The parameters.
    #[must_use]
    pub fn params(&self) -> &ChainParams {
        &self.params
    }

    /// Every block so far.
    #[must_use]
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// The head block number.
    #[must_use]
    pub fn head(&self) -> u64 {
        self.blocks.len() as u64 - 1
    }

    /// The true safe head (`head - safe_depth`); safe blocks never reorg.
    #[must_use]
    pub fn safe(&self) -> u64 {
        self.head().saturating_sub(self.params.safe_depth)
    }

    /// The base fee of the next block.
    #[must_use]
    pub fn base_fee(&self) -> u128 {
        self.base_fee
    }

    /// The account's transaction count at the head.
    #[must_use]
    pub fn mined(&self) -> u64 {
        self.mined
    }

    /// The account's count at the `pending` tag of the local node: the head count plus
    /// the run of pending transactions it knows from there.
    #[must_use]
    pub fn pending(&self) -> u64 {
        let mut next = self.mined;
        while self.pool.contains_key(&next) {
            next += 1;
        }
        next
    }

    /// The transaction the local node holds at `nonce`.
    #[must_use]
    pub fn pending_tx(&self, nonce: u64) -> Option<&Tx> {
        self.pool.get(&nonce)
    }

    /// The transaction the local node forgot at `nonce` that stays alive elsewhere (a zombie).
    #[must_use]
    pub fn elsewhere_tx(&self, nonce: u64) -> Option<&Tx> {
        self.elsewhere.get(&nonce)
    }

    /// Produces every block due by `now_ms`; `weather` says what holds at each block time.
    pub fn advance_to(&mut self, now_ms: u64, weather: impl Fn(u64) -> Weather) {
        while self.next_block_ms <= now_ms {
            let at = self.next_block_ms;
            self.next_block_ms += self.params.block_ms;
            let today = weather(at);
            if today.halted {
                continue;
            }
            self.produce(at, today);
        }
    }

    fn produce(&mut self, at_ms: u64, weather: Weather) {
        // EIP-1559: at most 12.5% a block toward what demand sets.
        let target = if weather.congested { self.params.base_fee.saturating_mul(30) } else { self.params.base_fee };
        self.base_fee = if self.base_fee < target {
            (self.base_fee.saturating_mul(9) / 8).min(target).max(self.base_fee + 1)
        } else {
            (self.base_fee.saturating_mul(7) / 8).max(target)
        };
        let number = self.blocks.len() as u64;
        let mut inputs = Vec::new();
        if self.rng.random_ratio(self.params.direct_per_mille.min(1000), 1000) {
            inputs.push(BlockInput::Direct { data: self.rng.random::<[u8; 4]>().to_vec() });
        }
        for _ in 0..self.params.max_ours_per_block {
            if weather.censored {
                break;
            }
            // The builder takes the best-paying transaction for the next nonce, wherever it is.
            let local = self.pool.get(&self.mined);
            let remote = self.elsewhere.get(&self.mined);
            let best = match (local, remote) {
                (Some(a), Some(b)) => Some(if b.fees.max_fee > a.fees.max_fee { b } else { a }),
                (a, b) => a.or(b),
            };
            let Some(tx) = best.filter(|tx| tx.fees.max_fee >= self.base_fee).cloned() else { break };
            self.pool.remove(&self.mined);
            self.elsewhere.remove(&self.mined);
            if let Some(wire) = &tx.wire {
                inputs.push(BlockInput::Batch { w_nonce: self.mined, wire: wire.clone(), origin: tx.origin });
            }
            self.included.insert(self.mined, tx);
            self.mined += 1;
        }
        let parent_hash = self.blocks.last().map_or_else(Hash32::default, |parent| parent.hash);
        let timestamp_s = at_ms / 1000;
        let hash = block_hash(parent_hash, number, timestamp_s, self.mined, self.reorgs);
        self.blocks.push(Block { number, timestamp_s, inputs, nonce_after: self.mined, hash, parent_hash });
        // A reorg drops at most `safe_depth` blocks, so what was included below them never
        // returns to the pool: forget it, or a long simulation keeps every transaction.
        let settled = self.blocks.len().checked_sub(1 + usize::try_from(self.params.safe_depth).unwrap_or(usize::MAX));
        if let Some(block) = settled.and_then(|index| self.blocks.get(index)) {
            self.included = self.included.split_off(&block.nonce_after);
        }
    }

    /// Submits a transaction at `nonce` to the local node.
    ///
    /// # Errors
    /// `Err(true)` for a nonce already used on chain, `Err(false)` for an underpriced replacement.
    pub fn submit(&mut self, nonce: u64, tx: Tx) -> Result<(), bool> {
        if nonce < self.mined {
            return Err(true);
        }
        if let Some(old) = self.pool.get(&nonce)
            && !tx.fees.replaces(&old.fees)
        {
            return Err(false);
        }
        self.pool.insert(nonce, tx);
        Ok(())
    }

    /// A second sequencer with the same key lands `wire` at the next nonce in the next
    /// block it can, out-bidding whatever we have there.
    pub fn inject_rogue(&mut self, wire: Vec<u8>) {
        let fees = Fees { max_fee: u128::MAX / 4, priority_fee: u128::MAX / 8 };
        let hash = Hash32(*blake3::hash(&wire).as_bytes());
        self.elsewhere.insert(self.mined, Tx { wire: Some(wire), fees, hash, origin: Origin::Rogue });
    }

    /// The local node forgets every pending transaction; they stay alive elsewhere.
    pub fn forget_pending(&mut self) {
        let forgotten = std::mem::take(&mut self.pool);
        self.elsewhere.extend(forgotten);
    }

    /// Drops up to `depth` blocks above the safe head and produces replacements at the
    /// same times; their transactions go back to the pool first.
    pub fn reorg(&mut self, depth: u64) {
        let depth = depth.min(self.params.safe_depth).min(self.head());
        if depth == 0 {
            return;
        }
        let keep = self.blocks.len() - usize::try_from(depth).unwrap_or(0);
        let dropped: Vec<Block> = self.blocks.drain(keep..).collect();
        self.reorgs += 1;
        self.mined = self.blocks.last().map_or(0, |block| block.nonce_after);
        let returned: Vec<u64> = self.included.range(self.mined..).map(|(&nonce, _)| nonce).collect();
        for nonce in returned {
            if let Some(tx) = self.included.remove(&nonce) {
                self.pool.entry(nonce).or_insert(tx);
            }
        }
        for block in dropped {
            self.produce(block.timestamp_s * 1000, Weather::default());
        }
    }
}
