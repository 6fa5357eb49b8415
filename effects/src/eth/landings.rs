//! Our landings above the safe head, from the receipts of what this process sent: a
//! submit round costs a receipt call per transaction in flight instead of a read of
//! every unsafe block. Only a wallet nonce whose landed transaction this process does not
//! know (a predecessor's send, or a foreign one with our key) is looked up in the blocks.

use std::collections::{BTreeMap, BTreeSet};

use alloy::primitives::Address;
use alloy::providers::Provider as _;
use alloy::rpc::client::BatchRequest;
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
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

/// What this process sent at each wallet nonce still above the safe head, oldest first.
#[derive(Debug)]
pub(super) struct SentTxs {
    inbox: Address,
    by_nonce: BTreeMap<u64, Vec<Sent>>,
}

impl SentTxs {
    pub(super) fn new(inbox: Address) -> Self {
        SentTxs { inbox, by_nonce: BTreeMap::new() }
    }

    /// Remembers that the node accepted `request`, signed as `tx_hash`, at `w_nonce`: the
    /// send path calls this after every successful broadcast.
    pub(super) fn record(&mut self, w_nonce: WalletNonce, tx_hash: Hash32, request: &TransactionRequest) {
        let to_inbox = request.to.as_ref().and_then(|kind| kind.to()) == Some(&self.inbox);
        let wire = request.input.input().map_or(&[][..], |bytes| &bytes[..]);
        let batch = to_inbox.then(|| machine::wire::decode(wire).ok().map(|batch| batch.nonce)).flatten();
        let sends = self.by_nonce.entry(w_nonce.0).or_default();
        sends.retain(|sent| sent.tx_hash != tx_hash);
        sends.push(Sent { tx_hash, batch });
        let excess = sends.len().saturating_sub(HASHES_PER_NONCE);
        sends.drain(..excess);
    }

    /// Forgets the nonces below `w_nonce`: they are safe, so no round asks for them again.
    fn forget_below(&mut self, w_nonce: u64) {
        self.by_nonce = self.by_nonce.split_off(&w_nonce);
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
        self.sent_txs.forget_below(round.safe_count);
        let wanted = round.safe_count..round.latest_count;
        // Newest first: a replacement is likelier to have landed than what it replaced.
        let asks: Vec<(u64, Sent)> = self
            .sent_txs
            .by_nonce
            .range(wanted.clone())
            .flat_map(|(&w_nonce, sends)| sends.iter().rev().map(move |sent| (w_nonce, *sent)))
            .collect();
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
    use alloy::network::TransactionBuilder as _;
    use alloy::primitives::Bytes as AlloyBytes;

    use super::*;

    #[test]
    fn a_send_is_remembered_with_the_batch_nonce_it_carried() {
        let inbox = Address::repeat_byte(0x22);
        let mut sent = SentTxs::new(inbox);
        let wire = machine::wire::encode(BatchNonce(7), machine::BlockNumber(3), b"payload").unwrap();
        let batch = TransactionRequest::default().with_to(inbox).with_input(AlloyBytes::from(wire.clone()));
        let noop = TransactionRequest::default().with_to(Address::repeat_byte(0x11));
        let elsewhere = TransactionRequest::default().with_to(Address::repeat_byte(0x33)).with_input(wire);
        sent.record(WalletNonce(4), Hash32([1; 32]), &batch);
        sent.record(WalletNonce(4), Hash32([2; 32]), &noop);
        sent.record(WalletNonce(4), Hash32([1; 32]), &batch);
        sent.record(WalletNonce(5), Hash32([3; 32]), &elsewhere);
        let at_four: Vec<_> = sent.by_nonce[&4].iter().map(|sent| (sent.tx_hash.0[0], sent.batch)).collect();
        assert_eq!(at_four, [(2, None), (1, Some(BatchNonce(7)))], "a repeat moves to the newest place");
        assert_eq!(sent.by_nonce[&5][0].batch, None, "only the inbox takes batches");
        for n in 0..40 {
            sent.record(WalletNonce(6), Hash32([n; 32]), &noop);
        }
        assert_eq!(sent.by_nonce[&6].len(), HASHES_PER_NONCE);
        assert_eq!(sent.by_nonce[&6].last().map(|sent| sent.tx_hash), Some(Hash32([39; 32])));
        sent.forget_below(5);
        assert_eq!(sent.by_nonce.keys().copied().collect::<Vec<_>>(), [5, 6]);
    }
}
