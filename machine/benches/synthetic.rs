//! A deterministic synthetic workload shared by the benchmarks: days of operation with
//! 7,200 safe heads and about 1,000 batches each, and three congestion windows a day that
//! stall every send until the oldest batch crosses the danger threshold (three
//! recoveries a day).
//!
//! A small driver plays a perfect L1: every request is answered, sends are mined in
//! wallet-nonce order one block later, `safe` = `latest`. It is bench code, not a
//! simulator (that is issue #4's `effects::sim`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use machine::event::{self, BatchLanding, Input};
use machine::{
    Address, BatchNonce, BlockNumber, Bytes, Decision, Effect, Event, Hash32, RawConfig, State, UnixMillis,
    WalletNonce, step,
};

/// Safe heads in one synthetic day.
pub(crate) const BLOCKS_PER_DAY: u64 = 7_200;
/// Batches sealed in one synthetic day.
pub(crate) const BATCHES_PER_DAY: u64 = 1_000;
const BLOCK_MS: u64 = 12_000;
const GENESIS_MS: u64 = 1_700_000_000_000;
/// Blocks of each day during which nothing is mined: each is longer than the danger
/// threshold (30), so each causes one recovery.
const CONGESTION: [(u64, u64); 3] = [(2_000, 2_040), (4_000, 4_040), (6_000, 6_040)];

enum Tx {
    Batch { nonce: BatchNonce, first_frame: BlockNumber, wire_hash: Hash32 },
    Noop,
}

struct Driver<F> {
    sink: F,
    state: State,
    events: u64,
    queue: VecDeque<Event>,
    timers: BTreeSet<u64>,
    now_ms: u64,
    block: u64,
    mined: u64,
    pool: BTreeMap<u64, Tx>,
    unreported: Vec<Input>,
    admitted: bool,
    sealed: u64,
    cascades: u64,
}

/// A block's hash on the synthetic chain.
fn block_hash(block: u64) -> machine::Hash32 {
    machine::Hash32(*blake3::hash(&block.to_le_bytes()).as_bytes())
}

fn config() -> RawConfig {
    RawConfig {
        chain_id: Some(7),
        batch_submitter: Some(Address([1; 20])),
        inbox: Some(Address([2; 20])),
        max_wait_blocks: Some(40),
        preemptive_margin_blocks: Some(10),
        seconds_per_block: Some(12),
        ..RawConfig::default()
    }
}

/// What a synthetic run did.
pub(crate) struct Summary {
    /// Events fed to the core.
    pub(crate) events: u64,
    /// Safe heads produced.
    pub(crate) blocks: u64,
    /// Batches sealed.
    pub(crate) sealed: u64,
    /// Cascades decided.
    pub(crate) cascades: u64,
    /// The gold frontier at the end.
    pub(crate) frontier: BatchNonce,
}

/// Runs `days` synthetic days, handing every event and its step to `sink` in order.
pub(crate) fn drive(days: u64, sink: impl FnMut(&Event, &machine::Step)) -> Summary {
    let driver = Driver::run(days, sink);
    Summary {
        events: driver.events,
        blocks: driver.block,
        sealed: driver.sealed,
        cascades: driver.cascades,
        frontier: driver.state.scheduler().expected_nonce,
    }
}

impl<F: FnMut(&Event, &machine::Step)> Driver<F> {
    fn feed(&mut self, event: Event) {
        let state = std::mem::take(&mut self.state);
        let (state, stepped) = step(state, &event);
        self.state = state;
        self.events += 1;
        (self.sink)(&event, &stepped);
        self.cascades += stepped.notes.iter().filter(|note| note.decision == Some(Decision::Cascade)).count() as u64;
        for effect in stepped.effects {
            self.execute(effect);
        }
    }

    fn execute(&mut self, effect: Effect) {
        let now_ms = UnixMillis(self.now_ms);
        match effect {
            Effect::ReadChainId => {
                self.queue.push_back(Event::ChainId(event::ChainId { chain_id: 7, genesis_hash: Some(block_hash(0)) }))
            }
            // As the live adapter answers: the range, the head's hash and the range's parent hash.
            Effect::SyncL1 { from_block, .. } => self.queue.push_back(Event::L1(event::L1 {
                now_ms,
                safe_block: BlockNumber(self.block),
                safe_timestamp: (GENESIS_MS + self.block * BLOCK_MS) / 1000,
                inputs: std::mem::take(&mut self.unreported),
                from_block: Some(from_block),
                safe_hash: Some(block_hash(self.block)),
                parent_hash: Some(block_hash(from_block.0.saturating_sub(1))),
                partial: false,
            })),
            Effect::ReadWallet => self.queue.push_back(Event::Wallet(event::Wallet {
                latest: WalletNonce(self.mined),
                pending: WalletNonce(self.mined + self.pool.len() as u64),
                safe: WalletNonce(self.mined),
                safe_block: BlockNumber(self.block),
                // Production adapters always report fees (docs/protocol.md §11.1): bids are priced.
                base_fee_wei: Some(machine::Wei(10_000_000_000)),
                tip_wei: Some(machine::Wei(1_000_000_000)),
                head_block: Some(BlockNumber(self.block)),
            })),
            Effect::ReadUnsafeLandings => {
                let landings = event::UnsafeLandings { nonces: Vec::new(), safe_block: Some(BlockNumber(self.block)) };
                self.queue.push_back(Event::UnsafeLandings(landings));
            }
            Effect::Submit { nonce, w_nonce, wire_hash, wire, bid, min_gas, .. } => {
                let first_frame = machine::wire::decode(&wire.0).map_or(BlockNumber(0), |b| b.first_frame_safe_block);
                self.pool.insert(w_nonce.0, Tx::Batch { nonce, first_frame, wire_hash });
                self.queue.push_back(Event::Sent(sent(w_nonce, wire_hash, bid, min_gas)));
            }
            Effect::Noop { w_nonce, bid, .. } => {
                self.pool.insert(w_nonce.0, Tx::Noop);
                self.queue.push_back(Event::Sent(sent(w_nonce, Hash32([0xee; 32]), bid, Some(21_000))));
            }
            Effect::Intake { open } => self.admitted = open,
            Effect::Timer { at_ms } => {
                self.timers.insert(at_ms.0);
            }
            Effect::Exit { .. } => {
                self.admitted = false;
                self.timers.clear();
                self.queue.clear();
                self.queue.push_back(Event::Boot(event::Boot { now_ms, config: config() }));
            }
            Effect::Db { .. } => {}
        }
    }

    /// Mines the pool in wallet-nonce order unless the block is congested.
    fn mine(&mut self) {
        let in_day = self.block % BLOCKS_PER_DAY;
        if CONGESTION.iter().any(|&(from, to)| (from..to).contains(&in_day)) {
            return;
        }
        while let Some(tx) = self.pool.remove(&self.mined) {
            if let Tx::Batch { nonce, first_frame, wire_hash } = tx {
                self.unreported.push(Input::Batch(BatchLanding {
                    block: BlockNumber(self.block),
                    w_nonce: WalletNonce(self.mined),
                    nonce,
                    first_frame_safe_block: Some(first_frame),
                    wire_hash: Some(wire_hash),
                    decodes: true,
                    wire: None,
                }));
            }
            self.mined += 1;
        }
        self.pool.retain(|&w, _| w >= self.mined);
    }

    fn run(days: u64, sink: F) -> Self {
        let blocks = BLOCKS_PER_DAY * days;
        let batches = BATCHES_PER_DAY * days;
        let mut driver = Driver {
            sink,
            state: State::new(),
            events: 0,
            queue: VecDeque::from([Event::Boot(event::Boot { now_ms: UnixMillis(GENESIS_MS), config: config() })]),
            timers: BTreeSet::new(),
            now_ms: GENESIS_MS,
            block: 0,
            mined: 0,
            pool: BTreeMap::new(),
            unreported: Vec::new(),
            admitted: false,
            sealed: 0,
            cascades: 0,
        };
        while driver.block < blocks {
            if let Some(event) = driver.queue.pop_front() {
                driver.feed(event);
                continue;
            }
            let next_block_ms = GENESIS_MS + (driver.block + 1) * BLOCK_MS;
            match driver.timers.first().copied() {
                Some(at_ms) if at_ms < next_block_ms => {
                    driver.timers.remove(&at_ms);
                    driver.now_ms = driver.now_ms.max(at_ms);
                    driver.feed(Event::Tick(event::Tick { now_ms: UnixMillis(driver.now_ms) }));
                }
                _ => {
                    driver.now_ms = next_block_ms;
                    driver.block += 1;
                    driver.mine();
                    // About one batch every 7.2 blocks: 1,000 over the day.
                    if driver.admitted
                        && driver.sealed < batches
                        && driver.block * BATCHES_PER_DAY / BLOCKS_PER_DAY > driver.sealed
                    {
                        driver.sealed += 1;
                        driver.feed(Event::Seal(event::Seal {
                            id: Some(driver.sealed),
                            payload: Bytes(driver.sealed.to_be_bytes().to_vec()),
                        }));
                    }
                }
            }
        }
        driver
    }
}

/// A `sent` as a live adapter reports it: the bid and gas limit signed.
fn sent(w_nonce: WalletNonce, tx_hash: Hash32, bid: Option<machine::Bid>, gas_limit: Option<u64>) -> event::Sent {
    event::Sent {
        w_nonce,
        tx_hash,
        max_fee_per_gas: bid.map(|bid| bid.max_fee_per_gas),
        max_priority_fee_per_gas: bid.map(|bid| bid.max_priority_fee_per_gas),
        gas_limit,
    }
}
