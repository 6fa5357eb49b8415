//! Blocks and their inbox inputs: fetched in JSON-RPC batch requests, kept in a small
//! cache keyed by number and trusted only where a chain of parent hashes links them to a
//! hash just read from the node, so a reorg above the safe head never serves stale inputs.

use std::collections::BTreeMap;
use std::sync::Arc;

use alloy::consensus::Transaction as _;
use alloy::eips::BlockNumberOrTag;
use alloy::primitives::Address;
use alloy::providers::Provider as _;
use alloy::rpc::client::BatchRequest;
use alloy::rpc::types::Block;
use machine::event::{BatchLanding, Input};
use machine::{BatchNonce, BlockNumber, Bytes, Hash32, WalletNonce};

use super::{BlockFacts, EthL1, MAX_BLOCK_INPUT_BYTES, input_bytes, l1_error};
use crate::error::L1Error;

/// Full blocks asked for in one HTTP request: geth answers a batch of at most 25 MB, and
/// 16 full mainnet blocks stay well below it; providers that cap batches allow this many.
pub(super) const BLOCKS_PER_REQUEST: usize = 16;

/// Blocks the cache keeps: the unsafe window of a healthy chain (64 to 96 blocks) and
/// more, so a block read above the safe head is not read again when it becomes safe.
const CACHE_BLOCKS: usize = 256;

/// Input bytes the cache keeps: a hostile chain's calldata cannot grow it without bound.
const CACHE_BYTES: usize = 32 * 1024 * 1024;

/// One block as a sync needs it: its facts and every inbox input in it, in L1 order.
#[derive(Debug)]
pub(super) struct Fetched {
    pub(super) facts: BlockFacts,
    pub(super) inputs: Vec<Input>,
    /// The record bytes its inputs take in an `l1` event (see `SYNC_BYTE_BUDGET`).
    pub(super) bytes: usize,
}

/// A block of a read, and whether it came from the node in this read.
struct Loaded {
    block: Arc<Fetched>,
    fresh: bool,
}

/// The inbox inputs of recently read blocks, by number; each entry carries its hash.
#[derive(Debug, Default)]
pub(super) struct BlockCache {
    blocks: BTreeMap<u64, Arc<Fetched>>,
    bytes: usize,
}

impl BlockCache {
    fn insert(&mut self, number: u64, block: Arc<Fetched>) {
        self.bytes = self.bytes.saturating_add(block.bytes);
        if let Some(old) = self.blocks.insert(number, block) {
            self.bytes = self.bytes.saturating_sub(old.bytes);
        }
        // The lowest blocks go first: they are the ones the next syncs no longer need.
        while self.blocks.len() > CACHE_BLOCKS || (self.bytes > CACHE_BYTES && self.blocks.len() > 1) {
            let Some((_, old)) = self.blocks.pop_first() else { break };
            self.bytes = self.bytes.saturating_sub(old.bytes);
        }
    }

    fn remove(&mut self, number: u64) {
        if let Some(old) = self.blocks.remove(&number) {
            self.bytes = self.bytes.saturating_sub(old.bytes);
        }
    }

    /// How many blocks it holds.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.blocks.len()
    }
}

/// Where the parent-hash chain of `blocks` (ascending, consecutive) breaks when its top
/// must have hash `top`: the index of the first block, from the top, that does not match.
fn first_mismatch<'a>(blocks: impl Iterator<Item = &'a BlockFacts>, top: Hash32) -> Option<usize> {
    let blocks: Vec<_> = blocks.collect();
    let mut expected = top;
    for (index, facts) in blocks.iter().enumerate().rev() {
        if facts.hash != expected {
            return Some(index);
        }
        expected = facts.parent_hash;
    }
    None
}

/// The inbox inputs of one block: our transactions as batch landings (decodable or
/// not), everyone else's as direct inputs.
fn decode_block(block: &Block, inbox: Address, from: Address) -> Fetched {
    let number = block.header.number;
    let facts = BlockFacts {
        timestamp: block.header.timestamp,
        hash: Hash32(block.header.hash.0),
        parent_hash: Hash32(block.header.parent_hash.0),
    };
    let mut inputs = Vec::new();
    for tx in block.transactions.txns() {
        if tx.to() != Some(inbox) {
            continue;
        }
        let data = tx.input().to_vec();
        if tx.inner.signer() == from {
            let decoded = machine::wire::decode(&data);
            inputs.push(Input::Batch(BatchLanding {
                block: BlockNumber(number),
                w_nonce: WalletNonce(tx.nonce()),
                nonce: decoded.as_ref().map_or(BatchNonce(0), |batch| batch.nonce),
                first_frame_safe_block: decoded.as_ref().ok().map(|batch| batch.first_frame_safe_block),
                wire_hash: Some(machine::wire::wire_hash(&data)),
                decodes: decoded.is_ok(),
                // The run loop keeps them only where the core adopts history (docs/protocol.md §11.7).
                wire: Some(Bytes(data)),
            }));
        } else {
            inputs.push(Input::Direct { block: BlockNumber(number), data: Bytes(data) });
        }
    }
    let bytes = inputs.iter().map(input_bytes).sum();
    Fetched { facts, inputs, bytes }
}

impl EthL1 {
    /// Full blocks `numbers` from the node, [`BLOCKS_PER_REQUEST`] to an HTTP request.
    fn fetch_full(&self, numbers: &[u64]) -> Result<Vec<Arc<Fetched>>, L1Error> {
        let mut fetched = Vec::with_capacity(numbers.len());
        for chunk in numbers.chunks(BLOCKS_PER_REQUEST) {
            let mut batch = BatchRequest::new(self.provider.client());
            let mut waiters = Vec::with_capacity(chunk.len());
            for &number in chunk {
                let params = (BlockNumberOrTag::Number(number), true);
                waiters.push(batch.add_call::<_, Option<Block>>("eth_getBlockByNumber", &params).map_err(l1_error)?);
            }
            let blocks = self.block_on(async move {
                batch.send().await?;
                let mut blocks = Vec::with_capacity(waiters.len());
                for waiter in waiters {
                    blocks.push(waiter.await?);
                }
                Ok::<_, alloy::transports::TransportError>(blocks)
            })?;
            for (&number, block) in chunk.iter().zip(blocks) {
                let block =
                    block.ok_or_else(|| L1Error::Malformed(format!("block {number} not found (an empty answer)")))?;
                let decoded = decode_block(&block, self.inbox, self.from);
                if decoded.bytes > MAX_BLOCK_INPUT_BYTES {
                    return Err(L1Error::Oversized {
                        block: number,
                        bytes: decoded.bytes as u64,
                        limit: MAX_BLOCK_INPUT_BYTES as u64,
                    });
                }
                fetched.push(Arc::new(decoded));
            }
        }
        Ok(fetched)
    }

    /// Blocks `first..=last` (cached where possible), in ascending chunks, up to `budget`
    /// input bytes: the block that would exceed it ends the read, though a first block
    /// always fits.
    fn load(&mut self, first: u64, last: u64, budget: usize, use_cache: bool) -> Result<Vec<Loaded>, L1Error> {
        let (mut loaded, mut bytes) = (Vec::new(), 0usize);
        let mut start = first;
        while start <= last {
            let end = last.min(start.saturating_add(BLOCKS_PER_REQUEST as u64 - 1));
            let cached: Vec<_> = (start..=end)
                .map(|number| use_cache.then(|| self.cache.blocks.get(&number).cloned()).flatten())
                .collect();
            let missing: Vec<u64> =
                (start..=end).zip(&cached).filter(|(_, block)| block.is_none()).map(|(number, _)| number).collect();
            let mut fresh = self.fetch_full(&missing)?.into_iter();
            for (number, cached) in (start..=end).zip(cached) {
                let (block, is_fresh) = match cached {
                    Some(block) => (block, false),
                    None => {
                        let block = fresh.next().ok_or_else(|| l1_error(format!("block {number} missing")))?;
                        self.cache.insert(number, Arc::clone(&block));
                        (block, true)
                    }
                };
                if !loaded.is_empty() && bytes.saturating_add(block.bytes) > budget {
                    return Ok(loaded);
                }
                bytes = bytes.saturating_add(block.bytes);
                loaded.push(Loaded { block, fresh: is_fresh });
            }
            start = end.saturating_add(1);
        }
        Ok(loaded)
    }

    /// Blocks `first..=last`, or fewer when `budget` input bytes end the read early, each
    /// block fetched at most once across reads. `top` is the hash block `last` must have,
    /// when the caller just read it; a read that ends below `last`, or has no `top`,
    /// anchors its own top block by a fresh fetch or header. A cached block off that
    /// chain of parent hashes (a reorg since it was cached) is read again.
    ///
    /// # Errors
    /// An RPC failure, or the chain changing while it was read (the caller asks again).
    pub(super) fn read_blocks(
        &mut self,
        first: u64,
        last: u64,
        top: Option<Hash32>,
        budget: usize,
    ) -> Result<Vec<Arc<Fetched>>, L1Error> {
        for use_cache in [true, false] {
            let loaded = self.load(first, last, budget, use_cache)?;
            let Some(highest) = loaded.last() else { return Ok(Vec::new()) };
            let top_number = first.saturating_add(loaded.len() as u64 - 1);
            let anchor = match top.filter(|_| top_number == last) {
                Some(hash) => hash,
                None if highest.fresh => highest.block.facts.hash,
                None => self.header_hash(top_number)?,
            };
            match first_mismatch(loaded.iter().map(|block| &block.block.facts), anchor) {
                None => return Ok(loaded.into_iter().map(|block| block.block).collect()),
                Some(index) if loaded[index].fresh => break,
                Some(_) => {
                    // A reorg replaced blocks we cached: none of this range is trusted.
                    for number in first..=last {
                        self.cache.remove(number);
                    }
                }
            }
        }
        Err(L1Error::Rpc { code: 0, message: format!("blocks {first}..={last} changed while they were read") })
    }

    /// The hash of block `number`, from its header alone.
    fn header_hash(&self, number: u64) -> Result<Hash32, L1Error> {
        let block = self
            .block_on(self.provider.get_block_by_number(BlockNumberOrTag::Number(number)))?
            .ok_or_else(|| L1Error::Rpc { code: 0, message: format!("block {number} not found") })?;
        Ok(Hash32(block.header.hash.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(length: u8) -> Vec<BlockFacts> {
        (1..=length)
            .map(|n| BlockFacts { timestamp: u64::from(n), hash: Hash32([n; 32]), parent_hash: Hash32([n - 1; 32]) })
            .collect()
    }

    #[test]
    fn a_chain_linked_to_its_top_hash_is_trusted_and_a_stale_block_is_found() {
        let mut blocks = chain(5);
        assert_eq!(first_mismatch(blocks.iter(), Hash32([5; 32])), None);
        assert_eq!(first_mismatch(blocks.iter(), Hash32([9; 32])), Some(4), "the top itself is checked");
        // A reorg replaced block 3: the stale copy no longer matches block 4's parent.
        blocks[2].hash = Hash32([33; 32]);
        assert_eq!(first_mismatch(blocks.iter(), Hash32([5; 32])), Some(2));
        assert_eq!(first_mismatch(std::iter::empty(), Hash32([5; 32])), None);
    }

    #[test]
    fn the_cache_keeps_the_newest_blocks_within_its_bounds() {
        let mut cache = BlockCache::default();
        let block = |bytes| {
            let facts = BlockFacts { timestamp: 0, hash: Hash32::default(), parent_hash: Hash32::default() };
            Arc::new(Fetched { facts, inputs: Vec::new(), bytes })
        };
        for number in 0..300 {
            cache.insert(number, block(10));
        }
        assert_eq!(cache.len(), CACHE_BLOCKS);
        assert!(cache.blocks.contains_key(&299) && !cache.blocks.contains_key(&43));
        cache.insert(299, block(CACHE_BYTES));
        assert_eq!(cache.len(), 1, "one huge block pushes the others out, never itself");
        cache.remove(299);
        assert_eq!((cache.len(), cache.bytes), (0, 0));
    }
}
