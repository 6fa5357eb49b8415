//! The core's whole state: durable facts (everything the log rebuilds after a crash)
//! and the boot-local `Process` (reset by every `boot`, docs/protocol.md §6). It derives
//! rkyv so snapshots and state hashes see exactly what `step` sees.

use std::collections::BTreeMap;

use crate::batch_tree::{BatchTree, Color};
use crate::bytes::Hash32;
use crate::config::Config;
use crate::fees::{Bid, FeeView};
use crate::scheduler::{Scheduler, submit_start};
use crate::units::{BatchIndex, BatchNonce, BlockNumber, OpId, UnixMillis, WalletNonce};

/// The layout of [`State`]'s rkyv archive, stored in snapshots: bump it with every change
/// of `State` or of a type inside it (the `state_layout_is_pinned` test fails until then),
/// so a snapshot written by another build is refused by number instead of misread when
/// the archive would still validate (fields of one type reordered, say). 2: pruning
/// (docs/protocol.md §11.6). 3: the operator's pause.
pub const STATE_LAYOUT: u32 = 3;

/// Everything `step` knows.
#[derive(Clone, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct State {
    pub(crate) config: Option<Config>,
    pub(crate) tree: BatchTree,
    pub(crate) scheduler: Scheduler,
    pub(crate) view: L1View,
    pub(crate) wallet: WalletBook,
    pub(crate) unsafe_nonces: Vec<BatchNonce>,
    pub(crate) generation: u64,
    /// The genesis hash of the first chain this log saw (docs/protocol.md §11.2).
    pub(crate) genesis_hash: Option<Hash32>,
    /// The highest seal queue id consumed (sealed or rejected); ids are strictly increasing.
    pub(crate) last_seal_id: Option<u64>,
    /// A `seal` closed a batch of this log: adopting history from L1 ends (docs/protocol.md §11.7).
    pub(crate) sealed_own: bool,
    pub(crate) next_op: OpId,
    pub(crate) now_ms: UnixMillis,
    pub(crate) process: Process,
    /// Submissions paused by an operator, with the reason given (`Event::Pause`).
    pub(crate) paused: Option<String>,
}

/// What the core has read from safe L1 blocks.
#[derive(Clone, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct L1View {
    /// The highest safe head observed.
    pub safe_block: Option<BlockNumber>,
    /// Its timestamp, in seconds.
    pub safe_timestamp_s: u64,
    /// The local time at which the safe head last advanced.
    pub last_progress_ms: UnixMillis,
    /// How many direct inputs were seen: the next one's position. Only the count is
    /// kept, so the state does not grow with history (docs/protocol.md §11.6).
    pub direct_inputs: u64,
    /// The hashes of the most recent safe heads, oldest first, at most
    /// [`RECENT_HEADS`]: what a later sync's `parent_hash` must match (docs/protocol.md §11.2).
    pub recent_heads: Vec<(BlockNumber, Hash32)>,
    /// Answers whose safe head was below the stored one (lagging replicas), ignored.
    pub lagging_answers: u64,
}

/// How many recent safe-head hashes the view keeps: enough for syncs answered out of
/// order, bounded so the state does not grow with history.
pub(crate) const RECENT_HEADS: usize = 16;

impl L1View {
    /// The stored hash of `block`, if it is one of the recent safe heads.
    #[must_use]
    pub fn hash_of(&self, block: BlockNumber) -> Option<Hash32> {
        self.recent_heads.iter().find(|&&(at, _)| at == block).map(|&(_, hash)| hash)
    }
}

/// What this deployment did with its wallet nonces.
#[derive(Clone, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct WalletBook {
    /// `W`: the highest wallet nonce ever handed to a send; `None` if never.
    pub watermark: Option<WalletNonce>,
    /// What was last asked to be sent at each wallet nonce.
    pub slots: BTreeMap<WalletNonce, Slot>,
    /// The latest fee observation (docs/protocol.md §11.1); `None` until a `wallet` event carries one,
    /// and then sends carry no bid (the adapter prices at the node's estimate).
    pub fees: Option<FeeView>,
    /// Slots at or below this wallet nonce were pruned (docs/protocol.md §11.6): consumed on L1 at or
    /// before a Gold landing that left the state.
    pub pruned_through: Option<WalletNonce>,
}

/// What this deployment sent at one wallet nonce.
#[derive(Clone, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Slot {
    /// Every batch ever sent here, oldest first. A no-op sent later does not erase them:
    /// a replaced transaction may still land elsewhere (a zombie), and a landing at this
    /// slot must still be recognized as ours.
    pub batches: Vec<(BatchIndex, BatchNonce, Hash32)>,
    /// The last send here: a batch, or `None` for a no-op.
    pub last: Option<BatchIndex>,
    /// When the last send here was asked for.
    pub last_sent_ms: UnixMillis,
    /// The transaction hash of the last broadcast, once reported.
    pub tx_hash: Option<Hash32>,
    /// The bid of the last send asked for here, if it carried one.
    pub asked: Option<Bid>,
    /// Our highest bid the node took here, or refused as underpriced: a replacement must
    /// beat it by 10% (docs/protocol.md §11.1). Survives restarts because `sent` is in the log.
    pub floor: Option<Bid>,
    /// The last send here was refused: it is due again at the next submit round.
    pub failed: bool,
}

impl Slot {
    /// Records a batch sent here.
    pub(crate) fn send_batch(&mut self, sent: (BatchIndex, BatchNonce, Hash32), now_ms: UnixMillis, bid: Option<Bid>) {
        let (batch, _, _) = sent;
        if !self.batches.iter().any(|&(index, _, _)| index == batch) {
            self.batches.push(sent);
        }
        self.last = Some(batch);
        self.asked(now_ms, bid);
    }

    /// Records a no-op sent here.
    pub(crate) fn send_noop(&mut self, now_ms: UnixMillis, bid: Option<Bid>) {
        self.last = None;
        self.asked(now_ms, bid);
    }

    fn asked(&mut self, now_ms: UnixMillis, bid: Option<Bid>) {
        self.last_sent_ms = now_ms;
        self.tx_hash = None;
        self.asked = bid;
        self.failed = false;
    }

    /// The node took a send here at `bid` (or the bid asked for, when not reported).
    pub(crate) fn took(&mut self, tx_hash: Option<Hash32>, bid: Option<Bid>) {
        if tx_hash.is_some() {
            self.tx_hash = tx_hash;
        }
        self.raise_floor(bid.or(self.asked));
        self.failed = false;
    }

    /// A send here was refused; an underpriced one raises the floor to what was refused,
    /// so the retry out-bids whatever the node holds (a predecessor's send, say).
    pub(crate) fn refused(&mut self, underpriced: bool) {
        if underpriced {
            self.raise_floor(self.asked);
        }
        self.failed = true;
    }

    fn raise_floor(&mut self, bid: Option<Bid>) {
        if let Some(bid) = bid {
            self.floor = Some(self.floor.map_or(bid, |floor| floor.max(bid)));
        }
    }

    /// What a replacement here must beat by 10%.
    #[must_use]
    pub fn floor(&self) -> Option<Bid> {
        self.floor
    }

    /// Whether `batch` was the last send here less than `watch_ms` ago: it is still
    /// being watched and is not sent again yet.
    #[must_use]
    pub fn watching(&self, batch: BatchIndex, now_ms: UnixMillis, watch_ms: u64) -> bool {
        self.last == Some(batch) && now_ms.0.saturating_sub(self.last_sent_ms.0) < watch_ms
    }

    /// The wire hash of the batch with `nonce` we sent here, if any: what a landing at
    /// this slot that omits its hash carries (docs/protocol.md §10).
    #[must_use]
    pub fn sent_hash(&self, nonce: BatchNonce) -> Option<Hash32> {
        self.batches.iter().rev().find(|&&(_, sent, _)| sent == nonce).map(|&(_, _, hash)| hash)
    }
}

/// The boot-local process; nothing in it survives a crash.
#[derive(Clone, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub(crate) enum Process {
    /// No process: before the first boot or after an exit.
    #[default]
    Down,
    /// A process is running.
    Running(Running),
}

/// A running process.
#[derive(Clone, Debug, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub(crate) struct Running {
    /// This process lifetime has verified the chain id.
    pub chain_id_verified: bool,
    /// What it is doing.
    pub mode: Mode,
}

/// What a running process is doing.
#[derive(Clone, Debug, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub(crate) enum Mode {
    /// Startup's initial sync.
    InitialSync {
        /// Waiting for the chain id (`false`) or the sync (`true`).
        chain_checked: bool,
    },
    /// Startup's flush.
    Flush(FlushStage),
    /// Startup's post-flush sync.
    PostFlushSync {
        /// The flush witness `c`.
        witness: BlockNumber,
    },
    /// The admitted runtime.
    Admitted(Runtime),
}

/// Where a flush stands (docs/protocol.md §7).
#[derive(Clone, Debug, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub(crate) enum FlushStage {
    /// The flush is this process's first L1 contact: chain id first.
    AwaitChainId,
    /// Waiting for the wallet counts (step 1).
    AwaitWallet,
    /// A round of no-ops was asked for; waiting for each outcome.
    Sending {
        /// Wallet nonces without an outcome yet.
        outstanding: Vec<WalletNonce>,
        /// Wallet nonces whose send failed.
        failed: Vec<WalletNonce>,
        /// When the round was asked for.
        since_ms: UnixMillis,
    },
    /// Watching for the slots to be consumed at safe depth.
    Watching {
        /// When the watch started.
        since_ms: UnixMillis,
    },
}

/// The admitted runtime's cadences (docs/protocol.md §5).
#[derive(Clone, Debug, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub(crate) struct Runtime {
    /// When the detector last ran (or the process was admitted).
    pub last_detector_ms: UnixMillis,
    /// When the submitter last ran (or the process was admitted).
    pub last_submit_ms: UnixMillis,
    /// The submitter's current round, waiting for its answers.
    pub round: Option<SubmitRound>,
}

/// The answers one submitter tick waits for.
#[derive(Clone, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub(crate) struct SubmitRound {
    /// The `latest` account nonce, once answered.
    pub latest: Option<WalletNonce>,
    /// Our unsafe landings, once answered.
    pub unsafe_nonces: Option<Vec<BatchNonce>>,
}

impl State {
    /// The state before anything happened.
    #[must_use]
    pub fn new() -> Self {
        State::default()
    }

    /// Why submissions are paused (`seqrec pause`), if they are.
    #[must_use]
    pub fn paused(&self) -> Option<&str> {
        self.paused.as_deref()
    }

    /// The validated config of the last valid boot.
    #[must_use]
    pub fn config(&self) -> Option<&Config> {
        self.config.as_ref()
    }

    /// The batch tree.
    #[must_use]
    pub fn tree(&self) -> &BatchTree {
        &self.tree
    }

    /// The scheduler mirror (gold frontier and divergence marker).
    #[must_use]
    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }

    /// The safe L1 view.
    #[must_use]
    pub fn view(&self) -> &L1View {
        &self.view
    }

    /// The wallet book (watermark and slots).
    #[must_use]
    pub fn wallet(&self) -> &WalletBook {
        &self.wallet
    }

    /// The recovery generation.
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The genesis hash of this log's chain, once seen.
    #[must_use]
    pub fn genesis_hash(&self) -> Option<Hash32> {
        self.genesis_hash
    }

    /// The highest seal queue id consumed, sealed or rejected.
    #[must_use]
    pub fn last_seal_id(&self) -> Option<u64> {
        self.last_seal_id
    }

    /// The next op id to be issued.
    #[must_use]
    pub fn next_op(&self) -> OpId {
        self.next_op
    }

    /// The latest clock reading.
    #[must_use]
    pub fn now_ms(&self) -> UnixMillis {
        self.now_ms
    }

    /// The boot-local process.
    #[must_use]
    pub(crate) fn process(&self) -> &Process {
        &self.process
    }

    /// Whether user intake is open (the process is admitted).
    #[must_use]
    pub fn intake_open(&self) -> bool {
        matches!(&self.process, Process::Running(Running { mode: Mode::Admitted(_), .. }))
    }

    /// Colors along the valid path (docs/protocol.md §2).
    #[must_use]
    pub fn colors(&self) -> Vec<(BatchIndex, Color)> {
        self.tree.colors(self.bronze_below())
    }

    /// The start nonce below which a batch counts as seen in an unsafe block (Bronze).
    #[must_use]
    pub fn bronze_below(&self) -> BatchNonce {
        submit_start(self.scheduler.expected_nonce, &self.unsafe_nonces)
    }

    /// blake3 of the state's rkyv archive: equal states, equal hashes, on every machine.
    #[must_use]
    pub fn state_hash(&self) -> Hash32 {
        match rkyv::to_bytes::<rkyv::rancor::Error>(self) {
            Ok(bytes) => Hash32(*blake3::hash(&bytes).as_bytes()),
            // Serializing plain owned data into a growable buffer cannot fail; if it ever
            // did, an all-zero hash would make every determinism check fail loudly.
            Err(_) => Hash32::default(),
        }
    }
}
