//! Input events: facts that happened, never replies (docs/protocol.md §10). The serde shape
//! is the event script's JSON line, tagged by `ev`.

use serde::{Deserialize, Serialize};

use crate::bytes::{Bytes, Hash32};
use crate::config::RawConfig;
use crate::fees::{Bid, FeeView, Wei};
use crate::units::{BatchNonce, BlockNumber, OpId, UnixMillis, WalletNonce};

/// One fact handed to [`crate::step`]. Each variant wraps a body struct so a reader can
/// dispatch on `ev` itself and report the exact path of a bad field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "ev", rename_all = "snake_case")]
#[expect(
    clippy::large_enum_variant,
    reason = "`boot` carries the whole config but is rare; events are stepped by reference, and boxing it would change every producer"
)]
pub enum Event {
    /// A process start; a crash is a `boot` not preceded by an exit.
    Boot(Boot),
    /// The L1 node answered `eth_chainId`.
    ChainId(ChainId),
    /// One safe-head sync: the new safe head and every inbox input after the previous one.
    L1(L1),
    /// Batch nonces of our landings above the safe head, in L1 order.
    UnsafeLandings(UnsafeLandings),
    /// The submitter account's transaction counts.
    Wallet(Wallet),
    /// A timer fired (or the executor's clock was read).
    Tick(Tick),
    /// The inclusion lane closes the Tip with this payload.
    Seal(Seal),
    /// A batch or no-op was broadcast at a wallet nonce.
    Sent(Sent),
    /// A batch or no-op send failed.
    SendFailed(SendFailed),
    /// An L1 read failed.
    RpcFailed(RpcFailed),
    /// The outcome of a local write.
    Db(Db),
    /// SIGTERM or SIGINT: a clean shutdown was requested.
    Shutdown,
    /// An operator paused submissions (`seqrec pause`): no batch is sent for the first
    /// time until `resume`; the detector, re-pricing of sends already made and startup's
    /// flush go on (ARCHITECTURE.md choice 61).
    Pause(Pause),
    /// An operator resumed submissions (`seqrec resume`).
    Resume,
}

/// `pause`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pause {
    /// Why, as the operator gave it (may be empty).
    #[serde(default)]
    pub reason: String,
}

/// `boot`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Boot {
    /// The clock at start.
    pub now_ms: UnixMillis,
    /// The configuration, unvalidated.
    pub config: RawConfig,
}

/// `chain_id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainId {
    /// The chain id the node reported.
    pub chain_id: u64,
    /// The hash of the node's genesis block (docs/protocol.md §11.2); omitted in older scripts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genesis_hash: Option<Hash32>,
}

/// `l1`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L1 {
    /// When the observation was made.
    pub now_ms: UnixMillis,
    /// The safe head.
    pub safe_block: BlockNumber,
    /// The safe head's timestamp, in seconds.
    pub safe_timestamp: u64,
    /// Inbox inputs in L1 order.
    #[serde(default)]
    pub inputs: Vec<Input>,
    /// The first block of the range read (the adapter's `from_block`); with
    /// `parent_hash` it lets the core check that history below was not rewritten.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_block: Option<BlockNumber>,
    /// The hash of `safe_block` (docs/protocol.md §11.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safe_hash: Option<Hash32>,
    /// The parent hash of block `from_block` (docs/protocol.md §11.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_hash: Option<Hash32>,
    /// The node's safe head lies beyond `safe_block`: the adapter stopped at its byte
    /// budget (docs/protocol.md §11.4) and the core asks for the rest.
    #[serde(default, skip_serializing_if = "is_false")]
    pub partial: bool,
}

/// `unsafe_landings`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnsafeLandings {
    /// The nonces, in L1 order.
    pub nonces: Vec<BatchNonce>,
    /// The safe block the landings were read above; omitted in older scripts and logs,
    /// whose rounds keep the plan of before ARCHITECTURE.md choice 68.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safe_block: Option<BlockNumber>,
}

/// `wallet`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wallet {
    /// Count at `latest`.
    pub latest: WalletNonce,
    /// Count at `pending`.
    pub pending: WalletNonce,
    /// Count at `safe`.
    pub safe: WalletNonce,
    /// The safe block at which `safe` was read.
    pub safe_block: BlockNumber,
    /// The pending block's base fee, read in the same round (docs/protocol.md §11.1); omitted in
    /// older scripts, whose sends then carry no bid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_fee_wei: Option<Wei>,
    /// The node's priority-fee suggestion (docs/protocol.md §11.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tip_wei: Option<Wei>,
    /// The head block at which `latest` was counted; omitted in older scripts and logs,
    /// whose rounds keep the plan of before ARCHITECTURE.md choice 68.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_block: Option<BlockNumber>,
}

impl Wallet {
    /// The fee observation this answer carries: a base fee, with the tip if given.
    #[must_use]
    pub fn fees(&self) -> Option<FeeView> {
        self.base_fee_wei.map(|base_fee| FeeView { base_fee, tip: self.tip_wei.unwrap_or_default() })
    }
}

/// `tick`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tick {
    /// The clock now.
    pub now_ms: UnixMillis,
}

/// `seal`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seal {
    /// The seal queue row id (docs/protocol.md §11.5); a repeated id is ignored. Omitted in older scripts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// The batch payload.
    pub payload: Bytes,
}

/// `sent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sent {
    /// The wallet nonce used.
    pub w_nonce: WalletNonce,
    /// The transaction hash.
    pub tx_hash: Hash32,
    /// The `maxFeePerGas` signed (docs/protocol.md §11.1); omitted in older scripts (the bid asked for
    /// is then taken as the one signed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fee_per_gas: Option<Wei>,
    /// The `maxPriorityFeePerGas` signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_priority_fee_per_gas: Option<Wei>,
    /// The gas limit signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gas_limit: Option<u64>,
}

impl Sent {
    /// The bid signed, when the event reports it.
    #[must_use]
    pub fn bid(&self) -> Option<Bid> {
        Some(Bid::new(self.max_fee_per_gas?, self.max_priority_fee_per_gas?))
    }
}

/// `send_failed`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendFailed {
    /// The wallet nonce attempted.
    pub w_nonce: WalletNonce,
    /// The node's error, as reported.
    pub error: String,
    /// What the adapter made of the node's answer (docs/protocol.md §11.1); omitted in older scripts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<SendClass>,
}

/// The class of a failed send, decided by the adapter from the node's structured answer
/// (docs/protocol.md §11.1); the raw message stays in `error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendClass {
    /// Fees too low: below the pool's minimum, or a replacement that does not out-bid the
    /// pending transaction at this nonce by the node's required bump.
    Underpriced,
    /// The nonce is already used on chain.
    NonceTooLow,
    /// The identical transaction is already in the pool: counts as sent.
    AlreadyKnown,
    /// The account cannot pay `gas_limit * max_fee_per_gas + value`.
    InsufficientFunds,
    /// The pool is full, or the account has too many pending transactions.
    PoolFull,
    /// Any other rejection by the node (gas limit, size, invalid signature, ...).
    Rejected,
    /// The node could not be reached, or the answer never came.
    Transport,
}

impl SendClass {
    /// The docs/protocol.md §11 name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            SendClass::Underpriced => "underpriced",
            SendClass::NonceTooLow => "nonce_too_low",
            SendClass::AlreadyKnown => "already_known",
            SendClass::InsufficientFunds => "insufficient_funds",
            SendClass::PoolFull => "pool_full",
            SendClass::Rejected => "rejected",
            SendClass::Transport => "transport",
        }
    }
}

/// `rpc_failed`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RpcFailed {
    /// Which read failed.
    pub call: RpcCall,
    /// The transport or node error, as reported.
    pub error: String,
}

/// `db`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Db {
    /// The write's op id.
    pub op: OpId,
    /// Whether it committed; scripts may omit it (the core never waits for `true`).
    #[serde(default = "yes")]
    pub ok: bool,
    /// The store's message when the write failed (the core puts it in its reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn yes() -> bool {
    true
}

/// Which L1 read an `rpc_failed` event reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RpcCall {
    /// `eth_chainId`.
    ChainId,
    /// A safe-head sync.
    L1,
    /// The submitter's transaction counts.
    Wallet,
    /// Our landings in unsafe blocks.
    UnsafeLandings,
}

impl RpcCall {
    /// The docs/protocol.md §10 name of the read.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            RpcCall::ChainId => "chain_id",
            RpcCall::L1 => "l1",
            RpcCall::Wallet => "wallet",
            RpcCall::UnsafeLandings => "unsafe_landings",
        }
    }
}

/// One inbox input, in L1 order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Input {
    /// An input from any sender but the batch submitter.
    Direct {
        /// The block it landed in.
        block: BlockNumber,
        /// Its calldata.
        data: Bytes,
    },
    /// A landing from the batch submitter, decoded by the executor with [`crate::wire::decode`].
    Batch(BatchLanding),
}

/// A batch landing as observed on L1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchLanding {
    /// The block it landed in.
    pub block: BlockNumber,
    /// The wallet nonce of the landing transaction.
    pub w_nonce: WalletNonce,
    /// The batch nonce its wire bytes carry.
    pub nonce: BatchNonce,
    /// The first-frame safe block its wire bytes carry; `null` for a batch with no frames,
    /// which is never stale. Required (write `null` explicitly) so a forgotten field is an error.
    #[serde(deserialize_with = "Option::deserialize")]
    pub first_frame_safe_block: Option<BlockNumber>,
    /// The blake3 hash of its wire bytes; omitted means "the exact bytes we sent at this
    /// `w_nonce`" (foreign if we sent nothing there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wire_hash: Option<Hash32>,
    /// Whether the wire bytes decode; omitted means they do. The scheduler skips a
    /// landing whose bytes do not decode (docs/protocol.md §1).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub decodes: bool,
    /// The wire bytes themselves, given only when a sync asked for them (`with_wire`:
    /// adopting history from L1, docs/protocol.md §11.7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wire: Option<Bytes>,
}

impl BatchLanding {
    /// A landing of `wire` at `w_nonce` in `block` as an executor reports it: decoded with
    /// the core's own decoder and hashed; the bytes travel along only with `keep_wire`
    /// (while adopting history, docs/protocol.md §11.7).
    #[must_use]
    pub fn observed(block: BlockNumber, w_nonce: WalletNonce, wire: &[u8], keep_wire: bool) -> Self {
        let decoded = crate::wire::decode(wire);
        BatchLanding {
            block,
            w_nonce,
            nonce: decoded.as_ref().map_or(BatchNonce(0), |batch| batch.nonce),
            first_frame_safe_block: decoded.as_ref().ok().map(|batch| batch.first_frame_safe_block),
            wire_hash: Some(crate::wire::wire_hash(wire)),
            decodes: decoded.is_ok(),
            wire: keep_wire.then(|| Bytes(wire.to_vec())),
        }
    }
}

#[expect(clippy::trivially_copy_pass_by_ref, reason = "serde's skip_serializing_if passes a reference")]
fn is_true(value: &bool) -> bool {
    *value
}

#[expect(clippy::trivially_copy_pass_by_ref, reason = "serde's skip_serializing_if passes a reference")]
fn is_false(value: &bool) -> bool {
    !*value
}

impl Event {
    /// The clock reading this event carries, if any.
    #[must_use]
    pub fn now_ms(&self) -> Option<UnixMillis> {
        match self {
            Event::Boot(Boot { now_ms, .. }) | Event::L1(L1 { now_ms, .. }) | Event::Tick(Tick { now_ms }) => {
                Some(*now_ms)
            }
            Event::ChainId(_)
            | Event::UnsafeLandings(_)
            | Event::Wallet(_)
            | Event::Seal(_)
            | Event::Sent(_)
            | Event::SendFailed(_)
            | Event::RpcFailed(_)
            | Event::Db(_)
            | Event::Shutdown
            | Event::Pause(_)
            | Event::Resume => None,
        }
    }

    /// The `ev` name, as in docs/protocol.md §10.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Event::Boot(_) => "boot",
            Event::ChainId(_) => "chain_id",
            Event::L1(_) => "l1",
            Event::UnsafeLandings(_) => "unsafe_landings",
            Event::Wallet(_) => "wallet",
            Event::Tick(_) => "tick",
            Event::Seal(_) => "seal",
            Event::Sent(_) => "sent",
            Event::SendFailed(_) => "send_failed",
            Event::RpcFailed(_) => "rpc_failed",
            Event::Db(_) => "db",
            Event::Shutdown => "shutdown",
            Event::Pause(_) => "pause",
            Event::Resume => "resume",
        }
    }
}
