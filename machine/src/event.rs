//! Input events: facts that happened, never replies (interface.md). The serde shape
//! is the event script's JSON line, tagged by `ev`.

use serde::{Deserialize, Serialize};

use crate::bytes::{Bytes, Hash32};
use crate::config::RawConfig;
use crate::units::{BatchNonce, BlockNumber, OpId, UnixMillis, WalletNonce};

/// One fact handed to [`crate::step`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "ev", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    /// A process start; a crash is a `boot` not preceded by an exit.
    Boot {
        /// The clock at start.
        now_ms: UnixMillis,
        /// The configuration, unvalidated.
        config: RawConfig,
    },
    /// The L1 node answered `eth_chainId`.
    ChainId {
        /// The chain id the node reported.
        chain_id: u64,
    },
    /// One safe-head sync: the new safe head and every inbox input after the previous one.
    L1 {
        /// When the observation was made.
        now_ms: UnixMillis,
        /// The safe head.
        safe_block: BlockNumber,
        /// The safe head's timestamp, in seconds.
        safe_timestamp: u64,
        /// Inbox inputs in L1 order.
        #[serde(default)]
        inputs: Vec<Input>,
    },
    /// Batch nonces of our landings above the safe head, in L1 order.
    UnsafeLandings {
        /// The nonces, in L1 order.
        nonces: Vec<BatchNonce>,
    },
    /// The submitter account's transaction counts.
    Wallet {
        /// Count at `latest`.
        latest: WalletNonce,
        /// Count at `pending`.
        pending: WalletNonce,
        /// Count at `safe`.
        safe: WalletNonce,
        /// The safe block at which `safe` was read.
        safe_block: BlockNumber,
    },
    /// A timer fired (or the executor's clock was read).
    Tick {
        /// The clock now.
        now_ms: UnixMillis,
    },
    /// The inclusion lane closes the Tip with this payload.
    Seal {
        /// The batch payload.
        payload: Bytes,
    },
    /// A batch or no-op was broadcast at a wallet nonce.
    Sent {
        /// The wallet nonce used.
        w_nonce: WalletNonce,
        /// The transaction hash.
        tx_hash: Hash32,
    },
    /// A batch or no-op send failed.
    SendFailed {
        /// The wallet nonce attempted.
        w_nonce: WalletNonce,
        /// The node's error, as reported.
        error: String,
    },
    /// An L1 read failed.
    RpcFailed {
        /// Which read failed.
        call: RpcCall,
        /// The transport or node error, as reported.
        error: String,
    },
    /// The outcome of a local write.
    Db {
        /// The write's op id.
        op: OpId,
        /// Whether it committed; scripts may omit it (the core never waits for `true`).
        #[serde(default = "yes")]
        ok: bool,
    },
    /// SIGTERM or SIGINT: a clean shutdown was requested.
    Shutdown,
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
    /// landing whose bytes do not decode (recovery.md §1).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub decodes: bool,
}

#[expect(clippy::trivially_copy_pass_by_ref, reason = "serde's skip_serializing_if passes a reference")]
fn is_true(value: &bool) -> bool {
    *value
}

impl Event {
    /// The clock reading this event carries, if any.
    #[must_use]
    pub fn now_ms(&self) -> Option<UnixMillis> {
        match self {
            Event::Boot { now_ms, .. } | Event::L1 { now_ms, .. } | Event::Tick { now_ms } => Some(*now_ms),
            Event::ChainId { .. }
            | Event::UnsafeLandings { .. }
            | Event::Wallet { .. }
            | Event::Seal { .. }
            | Event::Sent { .. }
            | Event::SendFailed { .. }
            | Event::RpcFailed { .. }
            | Event::Db { .. }
            | Event::Shutdown => None,
        }
    }

    /// The `ev` name, as in interface.md.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Event::Boot { .. } => "boot",
            Event::ChainId { .. } => "chain_id",
            Event::L1 { .. } => "l1",
            Event::UnsafeLandings { .. } => "unsafe_landings",
            Event::Wallet { .. } => "wallet",
            Event::Tick { .. } => "tick",
            Event::Seal { .. } => "seal",
            Event::Sent { .. } => "sent",
            Event::SendFailed { .. } => "send_failed",
            Event::RpcFailed { .. } => "rpc_failed",
            Event::Db { .. } => "db",
            Event::Shutdown => "shutdown",
        }
    }
}
