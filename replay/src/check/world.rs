//! The abstract L1 world `seqrec check` explores against: a chain of a few blocks, our
//! account's mempool by wallet nonce, the reads and sends the core asked for and not yet
//! answered, its timers, and the budgets of seals, crashes and faults still to spend.
//!
//! Each [`Move`] is one choice of the world; [`World::event`] turns it into the one event
//! it steps into the core (or none: a lost answer), and [`World::absorb`] records the
//! effects the core returned. The world is a plain value with a derived bincode
//! encoding, which the explorer stores in its frontier and hashes to deduplicate (core
//! state, world) pairs: a new field is part of both without more code.

use machine::{BatchLanding, BlockNumber, Effect, Event, Hash32, Input, RpcCall, UnixMillis, WalletNonce};

/// The first safe block the world starts at (any number far from 0 will do).
pub const BASE_BLOCK: u64 = 100;
/// The clock at the first boot, in milliseconds.
pub const BASE_MS: u64 = 1_700_000_000_000;
/// The world's block time; the core's config says the same (`seconds_per_block`).
pub const BLOCK_MS: u64 = 12_000;
/// At most this many outstanding requests of one kind (the core asks again on its cadences).
const MAX_SAME_REQUEST: usize = 2;

/// The bounds of a scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// Seals the inclusion lane makes.
    pub batches: u32,
    /// Boots while the process is alive.
    pub crashes: u32,
    /// Answers lost or failed.
    pub faults: u32,
    /// Blocks above the safe head at most; 0 makes each block safe as it is mined (no
    /// `Finalize` move, fewer interleavings, no unsafe landings).
    pub unsafe_blocks: u64,
}

/// A read or send the core asked for that the world has not answered.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, bincode::Encode, bincode::Decode)]
pub enum Request {
    /// `read_chain_id`.
    ChainId,
    /// `sync_l1` from this block.
    SyncL1(u64),
    /// `read_wallet`.
    Wallet,
    /// `read_unsafe_landings`.
    UnsafeLandings,
    /// `submit` (with the wire bytes) or `noop` (without) at this wallet nonce.
    Send {
        /// The wallet nonce.
        w_nonce: u64,
        /// The wire bytes; `None` for a no-op.
        wire: Option<Vec<u8>>,
    },
}

/// A transaction of our account: in the mempool or mined.
#[derive(Clone, Debug, PartialEq, Eq, Hash, bincode::Encode, bincode::Decode)]
struct Tx {
    w_nonce: u64,
    /// `None` for a no-op (a transfer to ourselves: nothing reaches the inbox).
    wire: Option<Vec<u8>>,
}

/// One mined block: our transactions in it, and our account's count after it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, bincode::Encode, bincode::Decode)]
struct Block {
    txs: Vec<Tx>,
    nonce_after: u64,
    /// At least a block time after its parent, and not before the clock when mined.
    timestamp_s: u64,
}

/// The world's whole state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, bincode::Encode, bincode::Decode)]
pub struct World {
    /// The clock, in milliseconds.
    now_ms: u64,
    /// Blocks above [`BASE_BLOCK`], oldest first: block `BASE_BLOCK + 1 + i` is `blocks[i]`.
    blocks: Vec<Block>,
    /// How many of `blocks` are safe.
    safe_blocks: u64,
    /// Our pending transactions by wallet nonce (a new send at a nonce replaces the old).
    mempool: Vec<Tx>,
    /// Requests not yet answered, sorted (a multiset).
    outstanding: Vec<Request>,
    /// Timers set and not yet fired, sorted and deduplicated.
    timers: Vec<u64>,
    /// Whether a process runs (false before the first boot and after an exit).
    alive: bool,
    /// Whether user intake is open.
    intake_open: bool,
    seals: u32,
    crashes: u32,
    faults: u32,
}

/// One choice of the world.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Move {
    /// Start the process: the first boot, a restart after an exit, or a crash (a boot of a live process).
    Boot,
    /// Answer the outstanding request at this index.
    Answer(usize),
    /// Lose the outstanding request at this index (a send is still broadcast; its answer is lost).
    Lose(usize),
    /// Fail the outstanding request at this index (`rpc_failed`, or `send_failed` with nothing sent).
    Fail(usize),
    /// Fire the earliest timer.
    Tick,
    /// Mine a block holding the next `n` of our pending transactions in nonce order.
    Mine(usize),
    /// The safe head advances by one block.
    Finalize,
    /// The inclusion lane seals a payload.
    Seal,
}

impl World {
    /// The world before the first boot.
    #[must_use]
    pub fn new() -> Self {
        World {
            now_ms: BASE_MS,
            blocks: Vec::new(),
            safe_blocks: 0,
            mempool: Vec::new(),
            outstanding: Vec::new(),
            timers: Vec::new(),
            alive: false,
            intake_open: false,
            seals: 0,
            crashes: 0,
            faults: 0,
        }
    }

    fn head(&self) -> u64 {
        BASE_BLOCK + self.blocks.len() as u64
    }

    fn safe(&self) -> u64 {
        BASE_BLOCK + self.safe_blocks
    }

    fn nonce_at(&self, block: u64) -> u64 {
        match block.checked_sub(BASE_BLOCK + 1).and_then(|i| usize::try_from(i).ok()) {
            Some(i) => self.blocks.get(i).map_or(0, |b| b.nonce_after),
            None => 0,
        }
    }

    fn mined(&self) -> u64 {
        self.nonce_at(self.head())
    }

    fn timestamp_s(&self, block: u64) -> u64 {
        match block.checked_sub(BASE_BLOCK + 1).and_then(|i| usize::try_from(i).ok()) {
            Some(i) => self.blocks.get(i).map_or(BASE_MS / 1000, |b| b.timestamp_s),
            None => BASE_MS / 1000,
        }
    }

    /// The pending transactions that a block could take next: consecutive from the mined count.
    fn minable(&self) -> usize {
        let mut next = self.mined();
        let mut n = 0;
        while self.mempool.iter().any(|tx| tx.w_nonce == next) {
            next += 1;
            n += 1;
        }
        n
    }

    /// Every move the world may make now, in a fixed order (the explorer stores a move's
    /// index, so this order must depend only on the world).
    #[must_use]
    pub fn moves(&self, depth_left: u32, bounds: &Bounds) -> Vec<Move> {
        let mut moves = Vec::new();
        if !self.alive {
            moves.push(Move::Boot);
            return moves;
        }
        for (i, request) in self.outstanding.iter().enumerate() {
            // A repeated request is one choice, not two.
            if i > 0 && self.outstanding[i - 1] == *request {
                continue;
            }
            moves.push(Move::Answer(i));
            if self.faults < bounds.faults {
                moves.push(Move::Lose(i));
                moves.push(Move::Fail(i));
            }
        }
        if !self.timers.is_empty() {
            moves.push(Move::Tick);
        }
        // Blocks are only worth mining while the depth left can still observe them.
        if depth_left > 0 && self.head() - self.safe() <= bounds.unsafe_blocks.saturating_sub(1) {
            for n in 0..=self.minable().min(2) {
                moves.push(Move::Mine(n));
            }
        }
        if self.safe() < self.head() {
            moves.push(Move::Finalize);
        }
        if self.intake_open && self.seals < bounds.batches {
            moves.push(Move::Seal);
        }
        if self.crashes < bounds.crashes {
            moves.push(Move::Boot);
        }
        moves
    }

    /// Applies `chosen` to the world; the event to step, if the move makes one.
    #[must_use]
    pub fn event(&mut self, chosen: &Move, boot: &Event, bounds: &Bounds) -> Option<Event> {
        match chosen {
            Move::Boot => {
                if self.alive {
                    self.crashes += 1;
                }
                self.alive = true;
                self.intake_open = false;
                self.outstanding.clear();
                self.timers.clear();
                let mut event = boot.clone();
                if let Event::Boot(body) = &mut event {
                    body.now_ms = UnixMillis(self.now_ms);
                }
                Some(event)
            }
            Move::Answer(i) => {
                let request = self.take(*i)?;
                Some(self.answer(request))
            }
            Move::Lose(i) => {
                self.faults += 1;
                let request = self.take(*i)?;
                if let Request::Send { w_nonce, wire } = request {
                    self.broadcast(w_nonce, wire);
                }
                None
            }
            Move::Fail(i) => {
                self.faults += 1;
                let request = self.take(*i)?;
                Some(failure(&request))
            }
            Move::Tick => {
                let at_ms = *self.timers.first()?;
                self.timers.remove(0);
                self.now_ms = self.now_ms.max(at_ms);
                Some(Event::Tick(machine::event::Tick { now_ms: UnixMillis(self.now_ms) }))
            }
            Move::Mine(n) => {
                let mut next = self.mined();
                let mut txs = Vec::new();
                for _ in 0..*n {
                    let at = self.mempool.iter().position(|tx| tx.w_nonce == next)?;
                    txs.push(self.mempool.remove(at));
                    next += 1;
                }
                let timestamp_s = (self.timestamp_s(self.head()) + BLOCK_MS / 1000).max(self.now_ms / 1000);
                self.blocks.push(Block { txs, nonce_after: next, timestamp_s });
                self.now_ms = self.now_ms.max(timestamp_s * 1000);
                if bounds.unsafe_blocks == 0 {
                    self.safe_blocks += 1;
                }
                None
            }
            Move::Finalize => {
                self.safe_blocks += 1;
                None
            }
            Move::Seal => {
                self.seals += 1;
                let payload = machine::Bytes(vec![u8::try_from(self.seals).unwrap_or(u8::MAX)]);
                Some(Event::Seal(machine::event::Seal { id: Some(u64::from(self.seals)), payload }))
            }
        }
    }

    fn take(&mut self, i: usize) -> Option<Request> {
        (i < self.outstanding.len()).then(|| self.outstanding.remove(i))
    }

    /// Our transaction enters the mempool, unless its nonce is already mined.
    fn broadcast(&mut self, w_nonce: u64, wire: Option<Vec<u8>>) {
        if w_nonce < self.mined() {
            return;
        }
        self.mempool.retain(|tx| tx.w_nonce != w_nonce);
        self.mempool.push(Tx { w_nonce, wire });
        self.mempool.sort_by_key(|tx| tx.w_nonce);
    }

    /// The answer to `request`, judged on the world as it is now (so an answer is as late as its delivery).
    fn answer(&mut self, request: Request) -> Event {
        let safe = self.safe();
        match request {
            Request::ChainId => Event::ChainId(machine::event::ChainId { chain_id: CHAIN_ID, genesis_hash: None }),
            Request::SyncL1(from_block) => Event::L1(machine::event::L1 {
                now_ms: UnixMillis(self.now_ms),
                safe_block: BlockNumber(safe),
                safe_timestamp: self.timestamp_s(safe),
                inputs: self.inputs(from_block, safe),
                from_block: Some(BlockNumber(from_block)),
                safe_hash: None,
                parent_hash: None,
                partial: false,
            }),
            Request::Wallet => {
                let latest = self.mined();
                let pending = latest + self.minable() as u64;
                Event::Wallet(machine::event::Wallet {
                    latest: WalletNonce(latest),
                    pending: WalletNonce(pending),
                    safe: WalletNonce(self.nonce_at(safe)),
                    safe_block: BlockNumber(safe),
                    base_fee_wei: None,
                    tip_wei: None,
                })
            }
            Request::UnsafeLandings => {
                let nonces = self
                    .inputs(safe + 1, self.head())
                    .into_iter()
                    .filter_map(|input| match input {
                        Input::Batch(landing) if landing.decodes => Some(landing.nonce),
                        _ => None,
                    })
                    .collect();
                Event::UnsafeLandings(machine::event::UnsafeLandings { nonces })
            }
            Request::Send { w_nonce, wire } => {
                if w_nonce < self.mined() {
                    return Event::SendFailed(machine::event::SendFailed {
                        w_nonce: WalletNonce(w_nonce),
                        error: "nonce too low".to_owned(),
                        class: Some(machine::SendClass::NonceTooLow),
                    });
                }
                let tx_hash = tx_hash(w_nonce, wire.as_deref());
                self.broadcast(w_nonce, wire);
                Event::Sent(machine::event::Sent {
                    w_nonce: WalletNonce(w_nonce),
                    tx_hash,
                    max_fee_per_gas: None,
                    max_priority_fee_per_gas: None,
                    gas_limit: None,
                })
            }
        }
    }

    /// Our batch landings in blocks `from ..= to`, as an executor reports them.
    fn inputs(&self, from: u64, to: u64) -> Vec<Input> {
        let mut inputs = Vec::new();
        for (i, block) in self.blocks.iter().enumerate() {
            let number = BASE_BLOCK + 1 + i as u64;
            if number < from || number > to {
                continue;
            }
            for tx in &block.txs {
                if let Some(wire) = &tx.wire {
                    inputs.push(landing(number, tx.w_nonce, wire));
                }
            }
        }
        inputs
    }

    /// Records the effects of the step just taken: new requests, timers, intake, an exit.
    pub fn absorb(&mut self, effects: &[Effect]) {
        for effect in effects {
            let request = match effect {
                Effect::ReadChainId => Some(Request::ChainId),
                Effect::SyncL1 { from_block, .. } => Some(Request::SyncL1(from_block.0)),
                Effect::ReadWallet => Some(Request::Wallet),
                Effect::ReadUnsafeLandings => Some(Request::UnsafeLandings),
                Effect::Submit { w_nonce, wire, .. } => {
                    Some(Request::Send { w_nonce: w_nonce.0, wire: Some(wire.0.clone()) })
                }
                Effect::Noop { w_nonce, .. } => Some(Request::Send { w_nonce: w_nonce.0, wire: None }),
                // The core never waits for a write's outcome: the world takes every write as committed.
                Effect::Db { .. } => None,
                Effect::Intake { open } => {
                    self.intake_open = *open;
                    None
                }
                Effect::Timer { at_ms } => {
                    if let Err(at) = self.timers.binary_search(&at_ms.0) {
                        self.timers.insert(at, at_ms.0);
                    }
                    None
                }
                Effect::Exit { .. } => {
                    self.alive = false;
                    self.intake_open = false;
                    self.outstanding.clear();
                    self.timers.clear();
                    return;
                }
            };
            if let Some(request) = request
                && self.outstanding.iter().filter(|r| **r == request).count() < MAX_SAME_REQUEST
            {
                let at = self.outstanding.partition_point(|r| *r <= request);
                self.outstanding.insert(at, request);
            }
        }
    }

    /// Whether a process runs.
    #[must_use]
    pub fn alive(&self) -> bool {
        self.alive
    }
}

impl Default for World {
    fn default() -> Self {
        World::new()
    }
}

/// The chain id of the world and of the checked config.
pub const CHAIN_ID: u64 = 31337;

/// The failure of `request`: what a node that cannot be reached answers.
fn failure(request: &Request) -> Event {
    let call = match request {
        Request::ChainId => RpcCall::ChainId,
        Request::SyncL1(_) => RpcCall::L1,
        Request::Wallet => RpcCall::Wallet,
        Request::UnsafeLandings => RpcCall::UnsafeLandings,
        Request::Send { w_nonce, .. } => {
            return Event::SendFailed(machine::event::SendFailed {
                w_nonce: WalletNonce(*w_nonce),
                error: "connection refused".to_owned(),
                class: Some(machine::SendClass::Transport),
            });
        }
    };
    Event::RpcFailed(machine::event::RpcFailed { call, error: "connection refused".to_owned() })
}

/// A stable transaction hash for our send of `wire` (or a no-op) at `w_nonce`.
fn tx_hash(w_nonce: u64, wire: Option<&[u8]>) -> Hash32 {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&w_nonce.to_le_bytes());
    hasher.update(&[u8::from(wire.is_some())]);
    hasher.update(wire.unwrap_or_default());
    Hash32(*hasher.finalize().as_bytes())
}

/// A batch landing as the executor reports it (`BatchLanding::observed`).
fn landing(block: u64, w_nonce: u64, wire: &[u8]) -> Input {
    Input::Batch(BatchLanding::observed(BlockNumber(block), WalletNonce(w_nonce), wire, false))
}
