//! The Ethereum JSON-RPC adapter (alloy, HTTP): the `L1` port against a real node. It
//! reads safe heads, inbox inputs, our unsafe landings and the submitter's counts, and
//! signs and broadcasts batches and no-ops at given wallet nonces. The signing key never
//! appears in a log, a trace or an error.
//!
//! The run loop is synchronous; this adapter owns a small tokio runtime and blocks on
//! each call, with a timeout, so a hung node becomes an `rpc_failed`, never a hang.

mod blocks;
mod landings;
mod safe;

use std::collections::BTreeMap;
use std::time::Duration;

use alloy::consensus::Transaction as _;
use alloy::eips::eip1559::BaseFeeParams;
use alloy::eips::{BlockId, BlockNumberOrTag};
use alloy::network::{Ethereum, EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, Bytes as AlloyBytes, U256};
use alloy::providers::{Provider, ProviderBuilder, RootProvider};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use machine::event::Input;
use machine::{Bid, BlockNumber, FeeView, Hash32, SendClass, WalletNonce, Wei};

use self::blocks::BlockCache;
use self::landings::{Round, SentTxs};

use crate::error::{L1Error, SendError};
use crate::ports::{ChainIdentity, L1, Landings, SafeSync, Signed, WalletCounts};

/// A zero-value transfer to an account without code costs exactly this.
const NOOP_GAS: u64 = 21_000;

pub mod send_error;

fn input_bytes(input: &Input) -> usize {
    match input {
        Input::Direct { data, .. } => data.0.len() + INPUT_OVERHEAD,
        // Counted even where the run loop drops the wire: the budget then errs on the safe side.
        Input::Batch(landing) => landing.wire.as_ref().map_or(0, |wire| wire.0.len()) + INPUT_OVERHEAD,
    }
}

/// The submitter's signing key; `Debug` never shows it.
pub struct SigningKey(PrivateKeySigner);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.0.address())
    }
}

impl SigningKey {
    /// Parses a 0x-prefixed hex private key. The error never repeats the text.
    ///
    /// # Errors
    /// A message saying the key is not 32 bytes of hex.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.trim()
            .parse::<PrivateKeySigner>()
            .map(SigningKey)
            .map_err(|_| "the signing key is not a 32-byte hex private key".to_owned())
    }

    /// Decrypts an encrypted JSON keystore (Web3 Secret Storage v3, as geth, clef and
    /// foundry's `cast wallet` write it) with `password`. The error never repeats the
    /// password or the key.
    ///
    /// # Errors
    /// A message naming the file and what went wrong (unreadable, not a keystore, wrong
    /// password: the MAC does not match).
    pub fn from_keystore(path: &std::path::Path, password: &str) -> Result<Self, String> {
        PrivateKeySigner::decrypt_keystore(path, password).map(SigningKey).map_err(|error| {
            let reason = error.to_string();
            // eth-keystore says only "Mac Mismatch" for a wrong password.
            let reason = if reason.contains("Mac Mismatch") {
                "wrong password (the keystore's MAC does not match)".to_owned()
            } else {
                reason
            };
            format!("{}: cannot decrypt the keystore: {reason}", path.display())
        })
    }

    /// The submitter address.
    #[must_use]
    pub fn address(&self) -> machine::Address {
        machine::Address(self.0.address().into_array())
    }
}

/// A send this process made at one wallet nonce.
#[derive(Clone, Copy, Debug)]
struct LastSend {
    /// blake3 of the calldata, or of nothing for a no-op.
    content: [u8; 32],
    fees: (u128, u128),
    tx_hash: Hash32,
}

/// Replacing a pending transaction needs both fee fields at least 10% higher.
fn replaces(new: (u128, u128), old: (u128, u128)) -> bool {
    new.0.saturating_mul(10) >= old.0.saturating_mul(11) && new.1.saturating_mul(10) >= old.1.saturating_mul(11)
}

fn bump((max_fee, tip): (u128, u128)) -> (u128, u128) {
    (max_fee.saturating_add(max_fee / 10).saturating_add(1), tip.saturating_add(tip / 10).saturating_add(1))
}

/// How often a send escalates its fees after "replacement underpriced" before giving up:
/// a restarted process does not know what its predecessor paid at the nonce.
const ESCALATIONS: usize = 12;

/// What a sync needs of a block besides its inbox inputs.
#[derive(Clone, Copy, Debug)]
struct BlockFacts {
    timestamp: u64,
    hash: Hash32,
    parent_hash: Hash32,
}

/// The input bytes one `l1` event may carry (docs/protocol.md §11.4): a catch-up over more stops at
/// a block boundary and says `partial`. Far below the log's 64 MiB record limit, and a
/// single block's calldata (at most a few MiB under any gas limit) always fits.
pub const SYNC_BYTE_BUDGET: usize = 8 * 1024 * 1024;

/// The blocks one `l1` event may cover: a first sync over a long range makes progress in
/// bounded steps (each durable before the next is read), like the byte budget.
pub const SYNC_BLOCK_LIMIT: u64 = 1024;

/// The input bytes one block may carry: a block over it (a forged or hostile answer; no
/// gas limit allows it) is refused as [`L1Error::Oversized`], a failed read, instead of
/// an `l1` event the log cannot hold (its record limit is 64 MiB, and the record also
/// holds the step's effects: half of it is left for them). Issue 18, item 10.
pub const MAX_BLOCK_INPUT_BYTES: usize = 32 * 1024 * 1024;

/// Bytes an input adds to a record beyond its data: block, nonces, hash, tags.
const INPUT_OVERHEAD: usize = 64;

/// The adapter.
#[derive(Debug)]
pub struct EthL1 {
    runtime: tokio::runtime::Runtime,
    provider: RootProvider,
    wallet: EthereumWallet,
    from: Address,
    inbox: Address,
    timeout: Duration,
    /// What this process last sent at each wallet nonce: content, fees, transaction hash.
    last_sent: BTreeMap<u64, LastSend>,
    /// The input bytes one sync answer may carry.
    sync_budget: usize,
    /// What the last `wallet` answer read (safe block, head, counts): the submit round's
    /// `unsafe_landings`, read right after, looks at the same blocks.
    round: Option<Round>,
    /// Inbox inputs of recently read blocks, so each block is fetched once.
    cache: BlockCache,
    /// What this process broadcast at each wallet nonce above the safe head.
    sent_txs: SentTxs,
    /// `Some(N)`: the safe head is `latest − N`, not the node's `safe` tag (`safe.rs`).
    safe_depth: Option<u64>,
}

fn l1_error(error: impl std::fmt::Display) -> L1Error {
    L1Error::Transport(error.to_string())
}

/// A failed JSON-RPC call, classified: the node's own error, an answer that does not
/// parse or is empty where a value is due (a failed read either way, never a config
/// problem: issue 18, item 9), or no answer.
fn rpc_error(error: &alloy::transports::TransportError) -> L1Error {
    use alloy::transports::RpcError;
    match error {
        RpcError::ErrorResp(payload) => L1Error::Rpc { code: payload.code, message: payload.message.to_string() },
        RpcError::NullResp | RpcError::DeserError { .. } => L1Error::Malformed(error.to_string()),
        other => L1Error::Transport(other.to_string()),
    }
}

impl EthL1 {
    /// Connects to `rpc_url` (HTTP) for the submitter `key` and the `inbox`.
    ///
    /// # Errors
    /// A message if the URL is invalid or the runtime cannot start.
    pub fn connect(rpc_url: &str, key: SigningKey, inbox: machine::Address, timeout: Duration) -> Result<Self, String> {
        let url = rpc_url.parse().map_err(|error| format!("invalid RPC URL {rpc_url}: {error}"))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .enable_io()
            .build()
            .map_err(|error| format!("cannot start the I/O runtime: {error}"))?;
        let provider = ProviderBuilder::new().disable_recommended_fillers().connect_http(url).root().clone();
        let from = key.0.address();
        Ok(EthL1 {
            runtime,
            provider,
            wallet: EthereumWallet::from(key.0),
            from,
            inbox: Address::from(inbox.0),
            timeout,
            last_sent: BTreeMap::new(),
            sync_budget: SYNC_BYTE_BUDGET,
            round: None,
            cache: BlockCache::default(),
            sent_txs: SentTxs::new(Address::from(inbox.0)),
            safe_depth: None,
        })
    }

    /// The same adapter with another sync byte budget (tests use a small one).
    #[must_use]
    pub fn with_sync_budget(mut self, bytes: usize) -> Self {
        self.sync_budget = bytes;
        self
    }

    fn block_on<T>(
        &self,
        call: impl std::future::IntoFuture<Output = Result<T, alloy::transports::TransportError>>,
    ) -> Result<T, L1Error> {
        let timeout = self.timeout;
        match self.runtime.block_on(async { tokio::time::timeout(timeout, call.into_future()).await }) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(rpc_error(&error)),
            Err(_) => Err(L1Error::Timeout { ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX) }),
        }
    }

    fn tag_number(&self, tag: BlockNumberOrTag) -> Result<u64, L1Error> {
        let block = self
            .block_on(self.provider.get_block_by_number(tag))?
            .ok_or_else(|| L1Error::Malformed(format!("no {tag} block")))?;
        Ok(block.header.number)
    }

    fn check_chain(&self, chain_id: u64) -> Result<(), SendError> {
        let found =
            self.block_on(self.provider.get_chain_id()).map_err(|error| SendError::Transport(error.to_string()))?;
        if found == chain_id { Ok(()) } else { Err(SendError::WrongChain { found }) }
    }

    /// Signs and broadcasts `request` at `w_nonce`. The same content already sent here
    /// at fees a fresh estimate does not beat by 10% stays pending as it is (no compounding
    /// bumps); other content out-bids what this process sent here. A "replacement
    /// underpriced" answer (a predecessor process paid more) escalates the fees by half,
    /// up to [`ESCALATIONS`] times.
    fn broadcast(
        &mut self,
        chain_id: u64,
        w_nonce: WalletNonce,
        content: [u8; 32],
        request: TransactionRequest,
        fresh: (u128, u128),
    ) -> Result<Hash32, SendError> {
        let mut fees = fresh;
        if let Some(last) = self.last_sent.get(&w_nonce.0).copied() {
            if last.content == content && !replaces(fresh, last.fees) {
                return Ok(last.tx_hash);
            }
            if !replaces(fees, last.fees) {
                let bumped = bump(last.fees);
                fees = (fees.0.max(bumped.0), fees.1.max(bumped.1));
            }
        }
        let mut escalations = 0;
        loop {
            fees.1 = fees.1.min(fees.0);
            match self.sign_and_send(chain_id, w_nonce, request.clone(), fees) {
                Ok(tx_hash) => {
                    self.last_sent.insert(w_nonce.0, LastSend { content, fees, tx_hash });
                    return Ok(tx_hash);
                }
                Err(SendError::Node { class: SendClass::Underpriced, .. }) if escalations < ESCALATIONS => {
                    escalations += 1;
                    fees = (
                        fees.0.saturating_add(fees.0 / 2).saturating_add(1),
                        fees.1.saturating_add(fees.1 / 2).saturating_add(1),
                    );
                }
                Err(error) => return Err(error),
            }
        }
    }

    fn sign_and_send(
        &self,
        chain_id: u64,
        w_nonce: WalletNonce,
        request: TransactionRequest,
        fees: (u128, u128),
    ) -> Result<Hash32, SendError> {
        let request = request
            .with_from(self.from)
            .with_nonce(w_nonce.0)
            .with_chain_id(chain_id)
            .with_max_fee_per_gas(fees.0)
            .with_max_priority_fee_per_gas(fees.1);
        let wallet = self.wallet.clone();
        let envelope = self
            .runtime
            .block_on(async {
                <TransactionRequest as NetworkTransactionBuilder<Ethereum>>::build(request, &wallet).await
            })
            .map_err(|error| SendError::Transport(format!("cannot sign: {error}")))?;
        let tx_hash = *envelope.tx_hash();
        self.sent_txs.record(w_nonce, Hash32(tx_hash.0), envelope.to(), envelope.input());
        let timeout = self.timeout;
        let sent = self
            .runtime
            .block_on(async { tokio::time::timeout(timeout, self.provider.send_tx_envelope(envelope)).await });
        let error = match sent {
            Ok(Ok(pending)) => return Ok(Hash32(pending.tx_hash().0)),
            Ok(Err(error)) => send_error::from_transport(&error),
            Err(_) => SendError::Transport(format!("no answer within {} ms", timeout.as_millis())),
        };
        // The identical transaction is pending already (a restarted process signed the
        // same send again): that is the outcome asked for.
        if matches!(error, SendError::Node { class: SendClass::AlreadyKnown, .. }) {
            return Ok(Hash32(tx_hash.0));
        }
        // A node that knows this very transaction (pending or mined) has it, whatever it
        // answered: a resend of a send whose answer was lost, or a predecessor's.
        match self.block_on(self.provider.get_transaction_by_hash(tx_hash)) {
            Ok(Some(_)) => Ok(Hash32(tx_hash.0)),
            Ok(None) | Err(_) => Err(error),
        }
    }

    /// docs/protocol.md §11.1: `max(min_gas, eth_estimateGas × 1.2)`. A failed estimate (the node
    /// refusing to simulate, say for lack of funds) falls back to the floor × 1.2: the send
    /// then reports the node's real objection.
    fn gas_limit(&self, request: &TransactionRequest, min_gas: u64) -> u64 {
        let request = request.clone().with_from(self.from);
        let estimate = self.block_on(self.provider.estimate_gas(request)).unwrap_or(min_gas);
        min_gas.max(estimate.saturating_add(estimate / 5))
    }

    fn estimate(&self) -> Result<(u128, u128), SendError> {
        let estimate = self
            .block_on(self.provider.estimate_eip1559_fees())
            .map_err(|error| SendError::Transport(error.to_string()))?;
        Ok((estimate.max_fee_per_gas, estimate.max_priority_fee_per_gas))
    }
}

impl L1 for EthL1 {
    fn chain_id(&mut self) -> Result<ChainIdentity, L1Error> {
        let chain_id = self.block_on(self.provider.get_chain_id())?;
        let genesis = self
            .block_on(self.provider.get_block_by_number(BlockNumberOrTag::Number(0)))?
            .ok_or_else(|| L1Error::Malformed("the node has no genesis block".to_owned()))?;
        Ok(ChainIdentity { chain_id, genesis_hash: Some(Hash32(genesis.header.hash.0)) })
    }

    fn sync_safe(&mut self, from_block: BlockNumber) -> Result<SafeSync, L1Error> {
        let safe = self.safe_head()?;
        let head = safe.facts;
        let mut sync = SafeSync {
            safe_block: BlockNumber(safe.number),
            safe_timestamp: head.timestamp,
            inputs: Vec::new(),
            safe_hash: Some(head.hash),
            // Nothing new: the parent of the next block is the safe head itself.
            parent_hash: (from_block.0 == safe.number.saturating_add(1)).then_some(head.hash),
            partial: false,
        };
        if from_block.0 > safe.number {
            return Ok(sync);
        }
        // A long range is read in bounded steps; the core asks for the rest.
        let last = safe.number.min(from_block.0.saturating_add(SYNC_BLOCK_LIMIT - 1));
        let top = (last == safe.number).then_some(head.hash);
        let blocks = self.read_blocks(from_block.0, last, top, self.sync_budget)?;
        let (Some(first), Some(end)) = (blocks.first(), blocks.last()) else { return Ok(sync) };
        sync.parent_hash = Some(first.facts.parent_hash);
        let end_number = from_block.0.saturating_add(blocks.len() as u64 - 1);
        if end_number < safe.number {
            // The rest, from the next block on, comes in the next answer; this one is
            // complete up to its last block.
            let BlockFacts { timestamp, hash, .. } = end.facts;
            (sync.safe_block, sync.safe_timestamp, sync.safe_hash) = (BlockNumber(end_number), timestamp, Some(hash));
            sync.partial = true;
        }
        sync.inputs = blocks.iter().flat_map(|block| block.inputs.iter().cloned()).collect();
        Ok(sync)
    }

    fn wallet(&mut self) -> Result<WalletCounts, L1Error> {
        let safe_block = self.safe_number()?;
        // `latest` is counted at a block number, not the tag, so the round's landings can
        // be read up to that very block: a block mined between the two reads would
        // otherwise show a landing the count does not (or the reverse), and the plan
        // would put batches at shifted wallet nonces, landing them out of order.
        let latest = self
            .block_on(self.provider.get_block_by_number(BlockNumberOrTag::Latest))?
            .ok_or_else(|| L1Error::Malformed("no latest block".to_owned()))?;
        let head = latest.header.number;
        // docs/protocol.md §11.1: the fee observation of the same round. The pending block's base fee
        // follows from the head by EIP-1559's rule; a pre-London chain has none.
        let base_fee = latest.header.inner.next_block_base_fee(BaseFeeParams::ethereum());
        let tip = self.block_on(self.provider.get_max_priority_fee_per_gas())?;
        let fees = base_fee.map(|base_fee| FeeView { base_fee: Wei(u128::from(base_fee)), tip: Wei(tip) });
        let count = |id: BlockId| self.block_on(self.provider.get_transaction_count(self.from).block_id(id));
        let counts = WalletCounts {
            latest: WalletNonce(count(BlockId::number(head))?),
            pending: WalletNonce(count(BlockId::pending())?),
            safe: WalletNonce(count(BlockId::number(safe_block))?),
            safe_block: BlockNumber(safe_block),
            fees,
            head_block: Some(BlockNumber(head)),
        };
        self.round = Some(Round {
            safe_block,
            head,
            head_hash: Hash32(latest.header.hash.0),
            safe_count: counts.safe.0,
            latest_count: counts.latest.0,
        });
        Ok(counts)
    }

    fn unsafe_landings(&mut self) -> Result<Landings, L1Error> {
        // The core asks right after `wallet` in a submit round; alone, it reads the counts.
        let round = match self.round.take() {
            Some(round) => round,
            None => {
                self.wallet()?;
                self.round.take().ok_or_else(|| l1_error("no wallet counts"))?
            }
        };
        let nonces = self.round_landings(round)?;
        Ok(Landings { nonces, safe_block: Some(BlockNumber(round.safe_block)) })
    }

    fn send_batch(
        &mut self,
        chain_id: u64,
        w_nonce: WalletNonce,
        wire: &[u8],
        bid: Option<Bid>,
        min_gas: Option<u64>,
    ) -> Result<Signed, SendError> {
        self.check_chain(chain_id)?;
        let request = TransactionRequest::default().with_to(self.inbox).with_input(AlloyBytes::copy_from_slice(wire));
        let gas = self.gas_limit(&request, min_gas.unwrap_or_else(|| machine::min_gas(wire)));
        let request = request.with_gas_limit(gas);
        let tx_hash = match bid {
            Some(bid) => {
                self.sign_and_send(chain_id, w_nonce, request, (bid.max_fee_per_gas.0, bid.max_priority_fee_per_gas.0))?
            }
            None => {
                let fees = self.estimate()?;
                self.broadcast(chain_id, w_nonce, *blake3::hash(wire).as_bytes(), request, fees)?
            }
        };
        Ok(Signed { tx_hash, bid, gas_limit: Some(gas) })
    }

    fn send_noop(&mut self, chain_id: u64, w_nonce: WalletNonce, bid: Option<Bid>) -> Result<Signed, SendError> {
        self.check_chain(chain_id)?;
        let request = TransactionRequest::default().with_to(self.from).with_value(U256::ZERO).with_gas_limit(NOOP_GAS);
        let tx_hash = match bid {
            Some(bid) => {
                self.sign_and_send(chain_id, w_nonce, request, (bid.max_fee_per_gas.0, bid.max_priority_fee_per_gas.0))?
            }
            None => {
                let (max_fee, tip) = self.estimate()?;
                let fees =
                    machine::noop_fees(machine::Fees { max_fee_per_gas: max_fee, max_priority_fee_per_gas: tip });
                let fees = (fees.max_fee_per_gas, fees.max_priority_fee_per_gas);
                self.broadcast(chain_id, w_nonce, *blake3::hash(b"").as_bytes(), request, fees)?
            }
        };
        Ok(Signed { tx_hash, bid, gas_limit: Some(NOOP_GAS) })
    }
}
