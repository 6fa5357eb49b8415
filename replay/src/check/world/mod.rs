//! The abstract L1 world `seqrec check` explores against: a chain of a few blocks, our
//! account's mempool by wallet nonce, the reads and sends the core asked for and not yet
//! answered, its timers, and the budgets of seals, crashes and faults still to spend.
//!
//! Each [`Move`] is one choice of the world; [`World::event`] turns it into the one event
//! it steps into the core (or none: a lost answer, a block), and [`World::absorb`] records
//! the effects the core returned. The world is a plain value with a derived bincode
//! encoding, which the explorer stores in its frontier and hashes to deduplicate (core
//! state, world) pairs: a new field is part of both without more code. `features.rs` has
//! the scope's bounds, `moves.rs` lists the moves, `answers.rs` builds the answers as an
//! executor would, `scheduler.rs` judges the chain with the simulator's scheduler, and
//! `resends.rs` judges each send the core asks for (one wallet nonce per batch).

mod answers;
mod features;
mod moves;
mod resends;
mod scheduler;
#[cfg(test)]
mod tests;

use machine::{BatchNonce, BlockNumber, DbWrite, Effect, Event, UnixMillis};

pub use answers::CHAIN_ID;
pub use features::{Bounds, Features};
pub use scheduler::MAX_WAIT_BLOCKS;

/// The first safe block the world starts at (any number far from 0 will do).
pub const BASE_BLOCK: u64 = 100;
/// The clock at the first boot, in milliseconds.
pub const BASE_MS: u64 = 1_700_000_000_000;
/// The world's block time; the core's config says the same (`seconds_per_block`).
pub const BLOCK_MS: u64 = 12_000;
/// At most this many outstanding requests of one kind (the core asks again on its cadences).
const MAX_SAME_REQUEST: usize = 2;
/// At most this many dropped or replaced transactions wait to resurface.
const MAX_ZOMBIES: usize = 2;
/// The payload of the foreign batch (a second sequencer with our key).
const FOREIGN_PAYLOAD: u8 = 0xEE;

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

/// A transaction of our key: in the mempool, dropped, or mined.
#[derive(Clone, Debug, PartialEq, Eq, Hash, bincode::Encode, bincode::Decode)]
struct Tx {
    w_nonce: u64,
    /// `None` for a no-op (a transfer to ourselves: nothing reaches the inbox).
    wire: Option<Vec<u8>>,
    /// Sent by a second sequencer with our key, not by the core.
    foreign: bool,
}

/// One mined block: a direct input or not, our key's transactions, our count after it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, bincode::Encode, bincode::Decode)]
struct Block {
    /// Another sender's input, ahead of our transactions.
    direct: bool,
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
    /// The latest the clock ever read: the true time, which a clock that stepped back
    /// returns to when it is set right.
    clock_max_ms: u64,
    /// Blocks above [`BASE_BLOCK`], oldest first: block `BASE_BLOCK + 1 + i` is `blocks[i]`.
    blocks: Vec<Block>,
    /// How many of `blocks` are safe.
    safe_blocks: u64,
    /// Our key's pending transactions by wallet nonce (a new send at a nonce replaces the old).
    mempool: Vec<Tx>,
    /// Dropped or replaced transactions that may resurface (with `zombies` only).
    zombies: Vec<Tx>,
    /// Requests not yet answered, sorted (a multiset).
    outstanding: Vec<Request>,
    /// Timers set and not yet fired, sorted and deduplicated.
    timers: Vec<u64>,
    /// The newest local write, which may fail (with `db_failures` only).
    newest_write: Option<u64>,
    /// Seal ids the core acknowledged.
    acked: Vec<u64>,
    /// Whether a process runs (false before the first boot and after an exit).
    alive: bool,
    /// When the process exited, while it is down.
    down_since_ms: Option<u64>,
    /// Whether user intake is open.
    intake_open: bool,
    seals: u32,
    crashes: u32,
    faults: u32,
    foreign_sent: bool,
    direct_sent: bool,
    /// The first send the core asked for at a second wallet nonce while its first send
    /// still counted (`resends.rs`): a violation, reported by `judge`.
    second_send: Option<String>,
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
    /// Answer the outstanding request at this index and keep it, to be answered again.
    Repeat(usize),
    /// Fire the earliest timer.
    Tick,
    /// Mine a block holding the next `n` of our key's pending transactions in nonce order.
    Mine(usize),
    /// The safe head advances by one block.
    Finalize,
    /// The inclusion lane seals a payload.
    Seal,
    /// The pending transaction at this mempool index is dropped (it may resurface).
    Drop(usize),
    /// The dropped or replaced transaction at this index is back in the mempool, replacing
    /// whatever holds its nonce now.
    Resurface(usize),
    /// A second sequencer with our key sends a batch of its own at our next wallet nonce.
    Foreign,
    /// Another sender's direct input is mined in a block of its own.
    Direct,
    /// The clock steps back one block-time.
    ClockBack,
    /// A clock that stepped back is set right (to the latest time it read).
    ClockRight,
    /// The newest local write fails.
    FailWrite,
}

impl World {
    /// The world before the first boot.
    #[must_use]
    pub fn new() -> Self {
        World {
            now_ms: BASE_MS,
            clock_max_ms: BASE_MS,
            blocks: Vec::new(),
            safe_blocks: 0,
            mempool: Vec::new(),
            zombies: Vec::new(),
            outstanding: Vec::new(),
            timers: Vec::new(),
            newest_write: None,
            acked: Vec::new(),
            alive: false,
            down_since_ms: None,
            intake_open: false,
            seals: 0,
            crashes: 0,
            faults: 0,
            foreign_sent: false,
            direct_sent: false,
            second_send: None,
        }
    }

    fn head(&self) -> u64 {
        BASE_BLOCK + self.blocks.len() as u64
    }

    fn safe(&self) -> u64 {
        BASE_BLOCK + self.safe_blocks
    }

    fn block(&self, number: u64) -> Option<&Block> {
        let i = number.checked_sub(BASE_BLOCK + 1)?;
        self.blocks.get(usize::try_from(i).ok()?)
    }

    fn nonce_at(&self, block: u64) -> u64 {
        self.block(block).map_or(0, |b| b.nonce_after)
    }

    fn mined(&self) -> u64 {
        self.nonce_at(self.head())
    }

    fn timestamp_s(&self, block: u64) -> u64 {
        self.block(block).map_or(BASE_MS / 1000, |b| b.timestamp_s)
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

    #[must_use]
    pub fn event(&mut self, chosen: &Move, boot: &Event, bounds: &Bounds) -> Option<Event> {
        match chosen {
            Move::Boot => {
                if self.alive {
                    self.crashes += 1;
                }
                self.alive = true;
                self.down_since_ms = None;
                self.intake_open = false;
                self.outstanding.clear();
                self.timers.clear();
                self.newest_write = None;
                let mut event = boot.clone();
                if let Event::Boot(body) = &mut event {
                    body.now_ms = UnixMillis(self.now_ms);
                }
                Some(event)
            }
            Move::Answer(i) => {
                let request = self.take(*i)?;
                Some(self.answer(request, bounds))
            }
            Move::Lose(i) => {
                self.faults += 1;
                let request = self.take(*i)?;
                if let Request::Send { w_nonce, wire } = request {
                    self.broadcast(Tx { w_nonce, wire, foreign: false }, bounds);
                }
                None
            }
            Move::Fail(i) => {
                self.faults += 1;
                let request = self.take(*i)?;
                Some(answers::failure(&request))
            }
            Move::Repeat(i) => {
                self.faults += 1;
                let request = self.outstanding.get(*i)?.clone();
                Some(self.answer(request, bounds))
            }
            Move::Tick => {
                let at_ms = *self.timers.first()?;
                self.timers.remove(0);
                self.set_clock(self.now_ms.max(at_ms));
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
                self.mine(false, txs, next, bounds);
                None
            }
            Move::Direct => {
                self.direct_sent = true;
                self.mine(true, Vec::new(), self.mined(), bounds);
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
            Move::Drop(i) => {
                self.faults += 1;
                let tx = (*i < self.mempool.len()).then(|| self.mempool.remove(*i))?;
                self.zombies.push(tx);
                None
            }
            Move::Resurface(i) => {
                let tx = (*i < self.zombies.len()).then(|| self.zombies.remove(*i))?;
                // Whatever holds the nonce now is the one dropped this time (and not kept:
                // the zombie budget stays small).
                self.mempool.retain(|held| held.w_nonce != tx.w_nonce);
                self.insert_pending(tx);
                None
            }
            Move::Foreign => {
                self.foreign_sent = true;
                let w_nonce = self.mined() + self.minable() as u64;
                let nonce = scheduler::expected_after_all(self);
                // A one-byte payload always fits the wire format's 4-byte length.
                let wire =
                    machine::wire::encode(BatchNonce(nonce), BlockNumber(self.safe()), &[FOREIGN_PAYLOAD]).ok()?;
                self.insert_pending(Tx { w_nonce, wire: Some(wire), foreign: true });
                None
            }
            Move::ClockBack => {
                self.faults += 1;
                self.now_ms = self.now_ms.saturating_sub(BLOCK_MS);
                None
            }
            Move::ClockRight => {
                self.set_clock(self.clock_max_ms);
                None
            }
            Move::FailWrite => {
                self.faults += 1;
                let op = self.newest_write.take()?;
                Some(Event::Db(machine::event::Db {
                    op: machine::OpId(op),
                    ok: false,
                    error: Some("disk I/O error".to_owned()),
                }))
            }
        }
    }

    fn mine(&mut self, direct: bool, txs: Vec<Tx>, nonce_after: u64, bounds: &Bounds) {
        let timestamp_s = (self.timestamp_s(self.head()) + BLOCK_MS / 1000).max(self.now_ms / 1000);
        self.blocks.push(Block { direct, txs, nonce_after, timestamp_s });
        self.set_clock(self.now_ms.max(timestamp_s * 1000));
        if bounds.unsafe_blocks == 0 {
            self.safe_blocks += 1;
        }
        // A transaction whose nonce is mined can never land.
        self.zombies.retain(|tx| tx.w_nonce >= nonce_after);
    }

    fn set_clock(&mut self, now_ms: u64) {
        self.now_ms = now_ms;
        self.clock_max_ms = self.clock_max_ms.max(now_ms);
    }

    fn take(&mut self, i: usize) -> Option<Request> {
        (i < self.outstanding.len()).then(|| self.outstanding.remove(i))
    }

    /// Our transaction enters the mempool, unless its nonce is already mined; the one it
    /// replaces may resurface later (with `zombies`).
    fn broadcast(&mut self, tx: Tx, bounds: &Bounds) {
        if tx.w_nonce < self.mined() {
            return;
        }
        if let Some(at) = self.mempool.iter().position(|held| held.w_nonce == tx.w_nonce) {
            let replaced = self.mempool.remove(at);
            if bounds.features.zombies && replaced != tx && self.zombies.len() < MAX_ZOMBIES {
                self.zombies.push(replaced);
            }
        }
        self.insert_pending(tx);
    }

    fn insert_pending(&mut self, tx: Tx) {
        let at = self.mempool.partition_point(|held| held.w_nonce < tx.w_nonce);
        self.mempool.insert(at, tx);
    }

    /// Records the effects of the step just taken: new requests, timers, intake, writes, an exit.
    pub fn absorb(&mut self, effects: &[Effect], bounds: &Bounds) {
        for effect in effects {
            let request = match effect {
                Effect::ReadChainId => Some(Request::ChainId),
                Effect::SyncL1 { from_block, .. } => Some(Request::SyncL1(from_block.0)),
                Effect::ReadWallet => Some(Request::Wallet),
                Effect::ReadUnsafeLandings => Some(Request::UnsafeLandings),
                Effect::Submit { w_nonce, wire, .. } => {
                    if self.second_send.is_none() {
                        self.second_send = self.judge_send(w_nonce.0, &wire.0);
                    }
                    Some(Request::Send { w_nonce: w_nonce.0, wire: Some(wire.0.clone()) })
                }
                Effect::Noop { w_nonce, .. } => Some(Request::Send { w_nonce: w_nonce.0, wire: None }),
                // The core never waits for a write's outcome: a write commits unless the
                // world fails the newest one (`db_failures`).
                Effect::Db { op, write } => {
                    if let DbWrite::AckSeal { seal_id } = write {
                        self.acked.push(*seal_id);
                    }
                    if bounds.features.db_failures {
                        self.newest_write = Some(op.0);
                    }
                    None
                }
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
                    self.down_since_ms = Some(self.now_ms);
                    self.intake_open = false;
                    self.outstanding.clear();
                    self.timers.clear();
                    self.newest_write = None;
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

    /// Seal ids the core acknowledged, in order.
    #[must_use]
    pub fn acked(&self) -> &[u64] {
        &self.acked
    }

    /// Whether a batch a second sequencer sent is in a mined block.
    #[must_use]
    pub fn foreign_mined(&self) -> bool {
        self.blocks.iter().any(|block| block.txs.iter().any(|tx| tx.foreign && tx.wire.is_some()))
    }
}

impl Default for World {
    fn default() -> Self {
        World::new()
    }
}
