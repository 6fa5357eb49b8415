//! Our landings above the safe head, from the receipts of what this process sent: a
//! submit round costs a receipt call per transaction in flight instead of a read of
//! every unsafe block. Only a wallet nonce whose landed transaction this process does not
//! know (a predecessor's send, or a foreign one with our key) is looked up in the blocks.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, PoisonError};

use alloy::primitives::Address;
use alloy::providers::Provider as _;
use alloy::rpc::client::BatchRequest;
use alloy::rpc::types::TransactionReceipt;
use machine::event::Input;
use machine::{BatchNonce, Hash32, WalletNonce};

use super::{EthL1, l1_error};
use crate::error::L1Error;

/// Transactions remembered per wallet nonce: a send escalates at most a dozen times,
/// and the newest are the ones that can still land.
const HASHES_PER_NONCE: usize = 16;

/// Receipts asked for in one HTTP request.
const RECEIPTS_PER_REQUEST: usize = 64;

/// One transaction this process broadcast.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sent {
    tx_hash: Hash32,
    /// The batch nonce it carried, if it is a decodable batch to the inbox.
    batch: Option<BatchNonce>,
}

/// What this process signed at each wallet nonce still above the safe head, oldest
/// first. Behind a lock so the send path, which signs through `&self`, can record.
#[derive(Debug)]
pub(super) struct SentTxs {
    inbox: Address,
    by_nonce: Mutex<BTreeMap<u64, Vec<Sent>>>,
}

impl SentTxs {
    pub(super) fn new(inbox: Address) -> Self {
        SentTxs { inbox, by_nonce: Mutex::new(BTreeMap::new()) }
    }

    /// Remembers a transaction signed as `tx_hash` at `w_nonce`, to `to` with calldata
    /// `input`: the send path calls this for every transaction it hands to the node (one
    /// the node refused only costs a receipt call that finds nothing).
    pub(super) fn record(&self, w_nonce: WalletNonce, tx_hash: Hash32, to: Option<Address>, input: &[u8]) {
        let batch = (to == Some(self.inbox)).then(|| machine::wire::decode(input).ok().map(|batch| batch.nonce));
        let mut by_nonce = self.by_nonce.lock().unwrap_or_else(PoisonError::into_inner);
        let sends = by_nonce.entry(w_nonce.0).or_default();
        sends.retain(|sent| sent.tx_hash != tx_hash);
        sends.push(Sent { tx_hash, batch: batch.flatten() });
        let excess = sends.len().saturating_sub(HASHES_PER_NONCE);
        sends.drain(..excess);
    }

    /// Forgets the nonces below `w_nonce` (they are safe, so no round asks for them
    /// again) and returns what was sent at the nonces of `wanted`, newest first per nonce.
    fn at(&self, forget_below: u64, wanted: std::ops::Range<u64>) -> Vec<(u64, Sent)> {
        let mut by_nonce = self.by_nonce.lock().unwrap_or_else(PoisonError::into_inner);
        *by_nonce = by_nonce.split_off(&forget_below);
        // Newest first: a replacement is likelier to have landed than what it replaced.
        by_nonce
            .range(wanted)
            .flat_map(|(&w_nonce, sends)| sends.iter().rev().map(move |sent| (w_nonce, *sent)))
            .collect()
    }
}

/// What a submit round's `wallet` read, kept for its `unsafe_landings`: both answers
/// then describe the same blocks.
#[derive(Clone, Copy, Debug)]
pub(super) struct Round {
    pub(super) safe_block: u64,
    pub(super) head: u64,
    pub(super) head_hash: Hash32,
    /// Our transactions at or below the safe block.
    pub(super) safe_count: u64,
    /// Our transactions at or below the head.
    pub(super) latest_count: u64,
}

impl EthL1 {
    /// Batch nonces of our decodable batches in blocks `safe_block + 1 ..= head`, in L1
    /// order: one landing per wallet nonce `safe_count..latest_count`.
    pub(super) fn round_landings(&mut self, round: Round) -> Result<Vec<BatchNonce>, L1Error> {
        let wanted = round.safe_count..round.latest_count;
        let asks = self.sent_txs.at(round.safe_count, wanted.clone());
        let receipts = self.receipts(&asks.iter().map(|(_, sent)| sent.tx_hash).collect::<Vec<_>>())?;
        // (block, wallet nonce, batch): one sender's transactions land in nonce order, so
        // this sorts them in L1 order as well as (block, transaction index) would.
        let mut landed: Vec<(u64, u64, Option<BatchNonce>)> = Vec::new();
        let mut known = BTreeSet::new();
        for ((w_nonce, sent), receipt) in asks.into_iter().zip(receipts) {
            let block = receipt.and_then(|receipt| receipt.block_number);
            if let Some(block) = block.filter(|&block| block > round.safe_block && block <= round.head)
                && known.insert(w_nonce)
            {
                landed.push((block, w_nonce, sent.batch));
            }
        }
        let unknown: BTreeSet<u64> = wanted.filter(|w_nonce| !known.contains(w_nonce)).collect();
        if !unknown.is_empty() {
            let blocks = self.read_blocks(round.safe_block + 1, round.head, Some(round.head_hash), usize::MAX)?;
            for input in blocks.iter().flat_map(|block| &block.inputs) {
                if let Input::Batch(landing) = input
                    && unknown.contains(&landing.w_nonce.0)
                {
                    landed.push((landing.block.0, landing.w_nonce.0, landing.decodes.then_some(landing.nonce)));
                }
            }
        }
        landed.sort_unstable_by_key(|&(block, w_nonce, _)| (block, w_nonce));
        Ok(landed.into_iter().filter_map(|(_, _, batch)| batch).collect())
    }

    /// `eth_getTransactionReceipt` for each hash, batched; `None` where nothing landed.
    fn receipts(&self, hashes: &[Hash32]) -> Result<Vec<Option<TransactionReceipt>>, L1Error> {
        let mut receipts = Vec::with_capacity(hashes.len());
        for chunk in hashes.chunks(RECEIPTS_PER_REQUEST) {
            let mut batch = BatchRequest::new(self.provider.client());
            let mut waiters = Vec::with_capacity(chunk.len());
            for hash in chunk {
                let params = (alloy::primitives::B256::from(hash.0),);
                let waiter = batch.add_call::<_, Option<TransactionReceipt>>("eth_getTransactionReceipt", &params);
                waiters.push(waiter.map_err(l1_error)?);
            }
            receipts.extend(self.block_on(async move {
                batch.send().await?;
                let mut answers = Vec::with_capacity(waiters.len());
                for waiter in waiters {
                    answers.push(waiter.await?);
                }
                Ok::<_, alloy::transports::TransportError>(answers)
            })?);
        }
        Ok(receipts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_send_is_remembered_with_the_batch_nonce_it_carried() {
        let inbox = Address::repeat_byte(0x22);
        let sent = SentTxs::new(inbox);
        let wire = machine::wire::encode(BatchNonce(7), machine::BlockNumber(3), b"payload").unwrap();
        let noop = Some(Address::repeat_byte(0x11));
        sent.record(WalletNonce(4), Hash32([1; 32]), Some(inbox), &wire);
        sent.record(WalletNonce(4), Hash32([2; 32]), noop, &[]);
        sent.record(WalletNonce(4), Hash32([1; 32]), Some(inbox), &wire);
        sent.record(WalletNonce(5), Hash32([3; 32]), Some(Address::repeat_byte(0x33)), &wire);
        sent.record(WalletNonce(5), Hash32([4; 32]), Some(inbox), b"not a batch");
        let at = |from, to| -> Vec<_> {
            sent.at(0, from..to).into_iter().map(|(w_nonce, sent)| (w_nonce, sent.tx_hash.0[0], sent.batch)).collect()
        };
        assert_eq!(at(4, 5), [(4, 1, Some(BatchNonce(7))), (4, 2, None)], "newest first; a repeat moves up");
        assert_eq!(at(5, 6), [(5, 4, None), (5, 3, None)], "only decodable batches to the inbox count");
        for n in 0..40 {
            sent.record(WalletNonce(6), Hash32([n; 32]), noop, &[]);
        }
        let at_six = at(6, 7);
        assert_eq!((at_six.len(), at_six[0].1), (HASHES_PER_NONCE, 39));
        assert_eq!(sent.at(5, 0..10).len(), 2 + HASHES_PER_NONCE, "nonce 4 is forgotten");
    }
}
