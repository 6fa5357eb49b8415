//! Output effects: requests to the executor, in execution order.
//!
//! Effects run in order; a durable write always precedes the sends that depend on it,
//! and the executor stops at the first failed `db` write. The answer to a read arrives
//! later as an ordinary event, possibly late, repeated or never.

use serde::{Deserialize, Serialize};

use crate::bytes::{Bytes, Hash32};
use crate::fees::Bid;
use crate::units::{BatchIndex, BatchNonce, BlockNumber, OpId, UnixMillis, WalletNonce};
use crate::verdict::Why;

/// One request from the core.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "fx", rename_all = "snake_case")]
#[must_use]
pub enum Effect {
    /// Read `eth_chainId`; answered by `chain_id` or `rpc_failed`.
    ReadChainId,
    /// Sync safe head and inbox inputs from `from_block`; answered by `l1`.
    SyncL1 {
        /// The first block whose inputs are wanted.
        from_block: BlockNumber,
        /// Our own landings must carry their wire bytes: the node is adopting history
        /// from L1 (docs/protocol.md §11.7). Omitted when false.
        #[serde(skip_serializing_if = "is_false")]
        with_wire: bool,
    },
    /// Read the submitter's `latest`/`pending`/`safe` counts; answered by `wallet`.
    ReadWallet,
    /// Read our landings above the safe head; answered by `unsafe_landings`.
    ReadUnsafeLandings,
    /// Broadcast a batch at a wallet nonce, signed at exactly `bid` (or, without one, at
    /// the node's estimate: scripts without fee observations). The executor first checks
    /// that the node's chain id equals `chain_id` and reports a mismatch as a `chain_id`
    /// event instead of sending (docs/protocol.md §5, §6).
    Submit {
        /// The batch.
        batch_index: BatchIndex,
        /// Its scheduler nonce.
        nonce: BatchNonce,
        /// The wallet nonce to use.
        w_nonce: WalletNonce,
        /// blake3 of `wire`.
        wire_hash: Hash32,
        /// The exact bytes to put in the transaction's data.
        wire: Bytes,
        /// The chain id the node must report before anything is sent.
        chain_id: u64,
        /// The bid to sign (docs/protocol.md §11.1); omitted (null) when no fee was ever observed.
        #[serde(flatten, skip_serializing_if = "Option::is_none")]
        bid: Option<Bid>,
        /// The calldata's intrinsic gas (EIP-2028, EIP-7623 floor): the gas limit is at
        /// least this. Given with the bid.
        #[serde(skip_serializing_if = "Option::is_none")]
        min_gas: Option<u64>,
    },
    /// Send a zero-value transfer to ourselves at a wallet nonce, signed at `bid` (or,
    /// without one, with [`crate::flush::noop_fees`] applied to the node's estimate).
    Noop {
        /// The wallet nonce to consume.
        w_nonce: WalletNonce,
        /// The chain id the node must report before anything is sent.
        chain_id: u64,
        /// The bid to sign (docs/protocol.md §11.1); omitted (null) when no fee was ever observed.
        #[serde(flatten, skip_serializing_if = "Option::is_none")]
        bid: Option<Bid>,
    },
    /// A local write to the SQLite projection, with an idempotent op id.
    Db {
        /// The op id; its outcome arrives as a `db` event.
        op: OpId,
        /// What to write.
        #[serde(flatten)]
        write: DbWrite,
    },
    /// Open or close user intake.
    Intake {
        /// Whether intake is open.
        open: bool,
    },
    /// Deliver a `tick` at this time.
    Timer {
        /// When.
        at_ms: UnixMillis,
    },
    /// End the process with this status.
    Exit {
        /// The status.
        code: ExitCode,
        /// Why, rendered as a sentence.
        #[serde(serialize_with = "crate::verdict::serialize_display")]
        reason: Why,
    },
}

/// The local writes of docs/protocol.md §10, tagged by `write`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "write", rename_all = "snake_case")]
pub enum DbWrite {
    /// A new open batch (a Tip).
    OpenBatch {
        /// Its index.
        batch_index: BatchIndex,
        /// Its nonce.
        nonce: BatchNonce,
        /// Its parent, absent for a root.
        parent: Option<BatchIndex>,
        /// Its first-frame safe block.
        first_frame_safe_block: BlockNumber,
        /// First direct-input position it drains.
        drain_from: u64,
        /// One past the last direct-input position it drains.
        drain_to: u64,
    },
    /// The Tip was sealed.
    CloseBatch {
        /// Its index.
        batch_index: BatchIndex,
        /// blake3 of its wire bytes.
        wire_hash: Hash32,
        /// The seal queue row it came from: marked taken in the same write (docs/protocol.md §11.5).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seal_id: Option<u64>,
    },
    /// A seal queue row was refused: its batch would exceed `max_batch_bytes` (docs/protocol.md §11.4).
    RejectSeal {
        /// The queue row.
        seal_id: u64,
        /// The encoded batch size it would have had.
        wire_bytes: u64,
        /// The limit.
        max_batch_bytes: u64,
    },
    /// A seal queue row the core had already consumed was offered again: mark it taken.
    AckSeal {
        /// The queue row.
        seal_id: u64,
    },
    /// Every valid batch from this index on is invalidated.
    InvalidateFrom {
        /// The pivot.
        batch_index: BatchIndex,
    },
    /// A send at a wallet nonce was broadcast.
    RecordSubmission {
        /// The wallet nonce.
        w_nonce: WalletNonce,
        /// The batch sent there; absent for a no-op.
        batch_index: Option<BatchIndex>,
        /// The transaction hash.
        tx_hash: Hash32,
    },
    /// The durable watermark `W` rose.
    RaiseWatermark {
        /// The new `W`.
        to: WalletNonce,
    },
    /// The recovery generation rose by one.
    BumpGeneration {
        /// The new generation.
        to: u64,
    },
    /// Canonical divergence, permanent.
    MarkDivergence {
        /// The nonce where L1 accepted bytes we did not make.
        nonce: BatchNonce,
    },
}

/// The process exit statuses of docs/protocol.md §10. `effects` maps them to numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitCode {
    /// A clean shutdown of an admitted process (0).
    AdmittedShutdown,
    /// The runtime detector saw danger (10): restart, and startup decides.
    RecoveryRequired,
    /// Startup cannot proceed now (20): restart later.
    Retry,
    /// Terminal (30): divergence or a wrong chain; do not restart.
    Refuse,
    /// The configuration breaks a rule (78): do not restart.
    ConfigInvalid,
}

impl ExitCode {
    /// The process exit number (docs/protocol.md §10).
    #[must_use]
    pub fn number(self) -> u8 {
        match self {
            ExitCode::AdmittedShutdown => 0,
            ExitCode::RecoveryRequired => 10,
            ExitCode::Retry => 20,
            ExitCode::Refuse => 30,
            ExitCode::ConfigInvalid => 78,
        }
    }

    /// The docs/protocol.md §10 name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ExitCode::AdmittedShutdown => "admitted_shutdown",
            ExitCode::RecoveryRequired => "recovery_required",
            ExitCode::Retry => "retry",
            ExitCode::Refuse => "refuse",
            ExitCode::ConfigInvalid => "config_invalid",
        }
    }
}

impl DbWrite {
    /// The docs/protocol.md §10 name of the write.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            DbWrite::OpenBatch { .. } => "open_batch",
            DbWrite::CloseBatch { .. } => "close_batch",
            DbWrite::RejectSeal { .. } => "reject_seal",
            DbWrite::AckSeal { .. } => "ack_seal",
            DbWrite::InvalidateFrom { .. } => "invalidate_from",
            DbWrite::RecordSubmission { .. } => "record_submission",
            DbWrite::RaiseWatermark { .. } => "raise_watermark",
            DbWrite::BumpGeneration { .. } => "bump_generation",
            DbWrite::MarkDivergence { .. } => "mark_divergence",
        }
    }
}

#[expect(clippy::trivially_copy_pass_by_ref, reason = "serde's skip_serializing_if passes a reference")]
fn is_false(value: &bool) -> bool {
    !*value
}
