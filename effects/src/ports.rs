//! The executor's ports: one small trait per thing outside the core. The run loop knows
//! only these; the simulated L1 and the real node implement the same ones.

use machine::event::Input;
use machine::{
    BatchNonce, Bid, BlockNumber, DbWrite, Effect, Event, FeeView, Hash32, OpId, State, Step, UnixMillis, WalletNonce,
};

use crate::error::{L1Error, SendError, StoreError};

/// One safe-head sync, as an L1 node answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SafeSync {
    /// The safe head.
    pub safe_block: BlockNumber,
    /// Its timestamp, in seconds.
    pub safe_timestamp: u64,
    /// Inbox inputs in blocks `from_block ..= safe_block`, in L1 order; our landings carry
    /// their wire bytes (the run loop keeps them only when the core asks, docs/protocol.md §11.7).
    pub inputs: Vec<Input>,
    /// The hash of `safe_block`, when the node gives block hashes (docs/protocol.md §11.2).
    pub safe_hash: Option<Hash32>,
    /// The parent hash of block `from_block` (docs/protocol.md §11.2).
    pub parent_hash: Option<Hash32>,
    /// The node's safe head is beyond `safe_block`: the answer stopped at its byte budget.
    pub partial: bool,
}

/// Who the node says it is: the chain id and, where known, the genesis block hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainIdentity {
    /// `eth_chainId`.
    pub chain_id: u64,
    /// The hash of block 0 (docs/protocol.md §11.2); `None` where the node has no such notion.
    pub genesis_hash: Option<Hash32>,
}

/// The submitter account's transaction counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalletCounts {
    /// Count at `latest`.
    pub latest: WalletNonce,
    /// Count at `pending`.
    pub pending: WalletNonce,
    /// Count at `safe`.
    pub safe: WalletNonce,
    /// The safe block at which `safe` was read.
    pub safe_block: BlockNumber,
    /// The pending block's base fee and the node's tip suggestion, read in the same round
    /// (docs/protocol.md §11.1); `None` where the node gives none.
    pub fees: Option<FeeView>,
    /// The head block at which `latest` was counted (ARCHITECTURE.md choice 68); `None`
    /// only from the simulator replaying a scenario recorded before it.
    pub head_block: Option<BlockNumber>,
}

/// Our landings above a safe block, as one submit round reads them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Landings {
    /// Batch nonces of our decodable batches, in L1 order.
    pub nonces: Vec<BatchNonce>,
    /// The safe block they were read above (ARCHITECTURE.md choice 68); `None` as for
    /// [`WalletCounts::head_block`].
    pub safe_block: Option<BlockNumber>,
}

/// What a send put in the node's pool: the hash, and the bid and gas limit signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signed {
    /// The transaction hash.
    pub tx_hash: Hash32,
    /// The bid signed, where the adapter reports it.
    pub bid: Option<Bid>,
    /// The gas limit signed.
    pub gas_limit: Option<u64>,
}

/// An L1 node.
pub trait L1 {
    /// `eth_chainId` and the genesis block's hash.
    ///
    /// # Errors
    /// [`L1Error`] when the node cannot be reached or answers with an error.
    fn chain_id(&mut self) -> Result<ChainIdentity, L1Error>;
    /// The safe head and the inbox inputs from `from_block` up to it, or up to an earlier
    /// block with `partial` set when the inputs exceed the adapter's byte budget.
    ///
    /// # Errors
    /// As [`L1::chain_id`].
    fn sync_safe(&mut self, from_block: BlockNumber) -> Result<SafeSync, L1Error>;
    /// The submitter's counts at `latest`, `pending` and `safe`.
    ///
    /// # Errors
    /// As [`L1::chain_id`].
    fn wallet(&mut self) -> Result<WalletCounts, L1Error>;
    /// Batch nonces of our landings above the safe head, in L1 order, with that head.
    ///
    /// # Errors
    /// As [`L1::chain_id`].
    fn unsafe_landings(&mut self) -> Result<Landings, L1Error>;
    /// Checks the chain id, then broadcasts `wire` to the inbox at `w_nonce`, signed at
    /// exactly `bid` with a gas limit of at least `min_gas` (docs/protocol.md §11.1). Without a bid
    /// (a log from before fee observations) it prices at the node's estimate.
    ///
    /// # Errors
    /// [`SendError::WrongChain`] before anything is sent; the node's rejections.
    fn send_batch(
        &mut self,
        chain_id: u64,
        w_nonce: WalletNonce,
        wire: &[u8],
        bid: Option<Bid>,
        min_gas: Option<u64>,
    ) -> Result<Signed, SendError>;
    /// Checks the chain id, then sends a zero-value transfer to ourselves at `w_nonce`,
    /// signed at exactly `bid` (without one, [`machine::noop_fees`] on the node's estimate).
    ///
    /// # Errors
    /// As [`L1::send_batch`].
    fn send_noop(&mut self, chain_id: u64, w_nonce: WalletNonce, bid: Option<Bid>) -> Result<Signed, SendError>;
}

/// The SQLite projection (or any store other components read).
pub trait Store {
    /// Applies one write; idempotent per op id.
    ///
    /// # Errors
    /// [`StoreError`]; the executor then reports `db { ok: false }` and skips the rest
    /// of the step's effects, which may depend on the write.
    fn apply(&mut self, op: OpId, write: &DbWrite) -> Result<(), StoreError>;

    /// Applies the consecutive writes of one step together, atomically where the store
    /// can (a cascade is one transaction). The default applies them one by one.
    ///
    /// # Errors
    /// As [`Store::apply`]; the op id of the write that failed comes with it.
    fn apply_all(&mut self, writes: &[(OpId, DbWrite)]) -> Result<(), (OpId, StoreError)> {
        for (op, write) in writes {
            self.apply(*op, write).map_err(|error| (*op, error))?;
        }
        Ok(())
    }
}

/// The process's wall clock.
pub trait Clock {
    /// Now.
    fn now_ms(&mut self) -> UnixMillis;
}

/// What ended a wait.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wake {
    /// The deadline passed.
    Deadline,
    /// The inclusion lane sealed the Tip with this payload; `id` is its queue row, if
    /// it came from a durable queue (the row is marked taken only by the core's write).
    Seal {
        /// The queue row id.
        id: Option<u64>,
        /// The payload.
        payload: Vec<u8>,
    },
    /// SIGTERM or SIGINT.
    Shutdown,
    /// An operator paused submissions (`Some(reason)`) or resumed them (`None`).
    Pause(Option<String>),
    /// Nothing will ever happen again (no deadline and no input): stop.
    Idle,
}

/// Everything that arrives without being asked: timers, seals, signals.
pub trait Inputs {
    /// Opens or closes user intake (the inclusion lane seals only while it is open).
    fn set_intake(&mut self, open: bool);
    /// Waits until `deadline` (none: no timer is set) or an input arrives.
    fn wait(&mut self, deadline: Option<UnixMillis>) -> Wake;
}

/// Where each step is recorded before its effects run.
pub trait LogSink {
    /// Appends the step's event and effects; durable when it returns.
    ///
    /// # Errors
    /// A message saying why the log could not be written; the process then stops.
    fn append(&mut self, event: &Event, effects: &[Effect]) -> Result<(), String>;
}

/// The places where a process can die, for crash injection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashPoint {
    /// After stepping an event, before its record is durable: the event is lost.
    BeforeAppend,
    /// After the record is durable, before any of its effects ran.
    AfterAppend,
    /// After an effect ran, before its outcome was turned into an event.
    AfterEffect,
}

/// Test seams: crash injection and a look at every step. Real adapters keep the defaults.
pub trait Hooks {
    /// Whether the process dies at this point.
    fn crash_at(&mut self, _point: CrashPoint) -> bool {
        false
    }
    /// Called after every durable step, with the state after it.
    fn stepped(&mut self, _state: &State, _event: &Event, _step: &Step) {}
}

/// Everything the run loop needs.
pub trait Environment: L1 + Store + Clock + Inputs + LogSink + Hooks {}

impl<T: L1 + Store + Clock + Inputs + LogSink + Hooks> Environment for T {}
