//! Benchmark: `step` over a synthetic day of operation — 7,200 safe heads, about 1,000
//! batches and 3 recoveries (three congestion windows that stall every send until the
//! oldest batch crosses the danger threshold).
//!
//! A small deterministic driver plays a perfect L1 (every request answered, sends mined
//! in wallet-nonce order one block later, safe = latest) and records the events the core
//! consumes; the timed part then steps the recorded events from the empty state. The
//! goal (issue 2) is at least 5 million events/s on one core.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::hint::black_box;
use std::time::Instant;

use machine::event::{self, BatchLanding, Input};
use machine::{
    Address, BatchNonce, BlockNumber, Bytes, Decision, Effect, Event, Hash32, RawConfig, State, UnixMillis,
    WalletNonce, step,
};

const BLOCKS: u64 = 7_200;
const BATCHES: u64 = 1_000;
const BLOCK_MS: u64 = 12_000;
const GENESIS_MS: u64 = 1_700_000_000_000;
/// Blocks during which nothing is mined: each is longer than the danger threshold (30).
const CONGESTION: [(u64, u64); 3] = [(2_000, 2_040), (4_000, 4_040), (6_000, 6_040)];

enum Tx {
    Batch { nonce: BatchNonce, first_frame: BlockNumber, wire_hash: Hash32 },
    Noop,
}

struct Driver {
    state: State,
    recorded: Vec<Event>,
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

impl Driver {
    fn feed(&mut self, event: Event) {
        let state = std::mem::take(&mut self.state);
        let (state, stepped) = step(state, &event);
        self.state = state;
        self.recorded.push(event);
        self.cascades += stepped.notes.iter().filter(|note| note.decision == Some(Decision::Cascade)).count() as u64;
        for effect in stepped.effects {
            self.execute(effect);
        }
    }

    fn execute(&mut self, effect: Effect) {
        let now_ms = UnixMillis(self.now_ms);
        match effect {
            Effect::ReadChainId => self.queue.push_back(Event::ChainId(event::ChainId { chain_id: 7 })),
            Effect::SyncL1 { .. } => self.queue.push_back(Event::L1(event::L1 {
                now_ms,
                safe_block: BlockNumber(self.block),
                safe_timestamp: (GENESIS_MS + self.block * BLOCK_MS) / 1000,
                inputs: std::mem::take(&mut self.unreported),
            })),
            Effect::ReadWallet => self.queue.push_back(Event::Wallet(event::Wallet {
                latest: WalletNonce(self.mined),
                pending: WalletNonce(self.mined + self.pool.len() as u64),
                safe: WalletNonce(self.mined),
                safe_block: BlockNumber(self.block),
            })),
            Effect::ReadUnsafeLandings => {
                self.queue.push_back(Event::UnsafeLandings(event::UnsafeLandings { nonces: Vec::new() }));
            }
            Effect::Submit { nonce, w_nonce, wire_hash, wire, .. } => {
                let first_frame = machine::wire::decode(&wire.0).map_or(BlockNumber(0), |b| b.first_frame_safe_block);
                self.pool.insert(w_nonce.0, Tx::Batch { nonce, first_frame, wire_hash });
                self.queue.push_back(Event::Sent(event::Sent { w_nonce, tx_hash: wire_hash }));
            }
            Effect::Noop { w_nonce, .. } => {
                self.pool.insert(w_nonce.0, Tx::Noop);
                self.queue.push_back(Event::Sent(event::Sent { w_nonce, tx_hash: Hash32([0xee; 32]) }));
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
        if CONGESTION.iter().any(|&(from, to)| (from..to).contains(&self.block)) {
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
                }));
            }
            self.mined += 1;
        }
        self.pool.retain(|&w, _| w >= self.mined);
    }

    fn run_day() -> Driver {
        let mut driver = Driver {
            state: State::new(),
            recorded: Vec::new(),
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
        while driver.block < BLOCKS {
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
                    if driver.admitted && driver.sealed < BATCHES && driver.block * BATCHES / BLOCKS > driver.sealed {
                        driver.sealed += 1;
                        driver.feed(Event::Seal(event::Seal { payload: Bytes(driver.sealed.to_be_bytes().to_vec()) }));
                    }
                }
            }
        }
        driver
    }
}

fn main() {
    let driver = Driver::run_day();
    let events = driver.recorded;
    let frontier = driver.state.scheduler().expected_nonce;
    println!(
        "synthetic day: {} events, {BLOCKS} safe heads, {} batches sealed, {} recoveries (cascades), gold frontier {frontier}",
        events.len(),
        driver.sealed,
        driver.cascades,
    );
    let rounds = 20;
    let mut best = f64::MAX;
    for _ in 0..rounds {
        let started = Instant::now();
        let mut state = State::new();
        for event in &events {
            let (next, stepped) = step(state, black_box(event));
            black_box(&stepped);
            state = next;
        }
        black_box(&state);
        best = best.min(started.elapsed().as_secs_f64());
    }
    let rate = events.len() as f64 / best;
    println!(
        "step: best of {rounds} runs {:.1} ms for {} events = {:.2} million events/s (goal >= 5)",
        best * 1e3,
        events.len(),
        rate / 1e6
    );
}
