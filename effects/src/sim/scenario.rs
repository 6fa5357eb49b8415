//! Scenarios: the sequencer's config, the chain's parameters, a fault schedule and what
//! must come out. Named scenarios are built in; a file is the same thing as JSON; a seed
//! alone draws a random fault schedule.

use machine::{Address, RawConfig, Wei};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

const MINUTE: u64 = 60_000;

/// One simulated incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A short name.
    pub name: String,
    /// What it shows.
    #[serde(default)]
    pub description: String,
    /// The sequencer's config (as a `boot` event carries it).
    pub config: RawConfig,
    /// The chain id the node reports (a different one than the config's is a wrong chain).
    pub node_chain_id: u64,
    /// Blocks between head and the `safe` tag.
    #[serde(default = "two")]
    pub safe_depth: u64,
    /// Chance per block, in thousandths, of a direct input from another sender.
    #[serde(default = "a_fifth")]
    pub direct_per_mille: u32,
    /// Milliseconds between seals while intake is open.
    pub seal_interval_ms: u64,
    /// Sealing runs and faults happen during `0 .. run_ms` of virtual time; afterwards
    /// the simulator waits for convergence.
    pub run_ms: u64,
    /// The fault schedule.
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Chance per step and crash point, in thousandths, that the process dies there
    /// (before `run_ms` only).
    #[serde(default)]
    pub crash_per_mille: u32,
    /// What must come out.
    #[serde(default)]
    pub expect: Expect,
    /// The node answers a submit round as executors did before ARCHITECTURE.md choice 68
    /// (no `head_block` on `wallet`, no `safe_block` on `unsafe_landings`), so the core
    /// plans as it did then: set only to reproduce the committed `fixtures/logs/sim-*`
    /// logs, recorded before it (every named scenario, the demo and `seqrec simulate`
    /// answer as executors do now). Sends at a second wallet nonce are then counted in
    /// `Report::resends_before_one_view`, not failed.
    #[serde(default)]
    pub answers_before_one_view: bool,
}

fn two() -> u64 {
    2
}
fn a_fifth() -> u32 {
    200
}

/// A fault; times are virtual milliseconds after genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// L1 stops producing blocks.
    Halt { from_ms: u64, to_ms: u64 },
    /// The node's `safe` tag stops moving while blocks continue.
    FrozenSafeHead { from_ms: u64, to_ms: u64 },
    /// Demand far above target: the base fee climbs toward 30x and underpriced sends wait.
    Congestion { from_ms: u64, to_ms: u64 },
    /// Every RPC call fails.
    RpcDown { from_ms: u64, to_ms: u64 },
    /// RPC calls fail at random.
    RpcFlaky { from_ms: u64, to_ms: u64, per_mille: u32 },
    /// The local node forgets our pending transactions; they stay alive elsewhere (zombies).
    ForgetPending { at_ms: u64 },
    /// Unsafe blocks are replaced.
    Reorg { at_ms: u64, depth: u64 },
    /// The process's wall clock is off by `offset_ms`.
    ClockStep { from_ms: u64, to_ms: u64, offset_ms: i64 },
    /// A second sequencer with our key lands its own batch at the expected nonce.
    Rogue { at_ms: u64 },
    /// Our transactions are kept out of blocks.
    Censor { from_ms: u64, to_ms: u64 },
    /// The process is killed and not restarted until `to_ms`.
    Outage { from_ms: u64, to_ms: u64 },
    /// The inclusion lane seals nothing.
    QuietIntake { from_ms: u64, to_ms: u64 },
    /// The first `count` safe syncs after our first no-op fail.
    FailSyncAfterNoop { count: u32 },
}

/// What a run must show.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `converge` (default) or `refuse`.
    #[serde(default)]
    pub outcome: ExpectedOutcome,
    /// The recovery generation is at least this at the end.
    #[serde(default)]
    pub min_generation: u64,
    /// Verdict tokens that must appear (`danger:…`, `decision:…`, `exit:…`, `effect:…`).
    #[serde(default)]
    pub must_see: Vec<String>,
    /// Verdict tokens that must not appear.
    #[serde(default)]
    pub must_not_see: Vec<String>,
}

/// How a run must end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpectedOutcome {
    /// After the faults, all closed batches Gold and intake open.
    #[default]
    Converge,
    /// The process refuses (terminal) and is not restarted.
    Refuse,
}

impl Fault {
    /// When the fault is over.
    #[must_use]
    pub fn end_ms(&self) -> u64 {
        match *self {
            Fault::Halt { to_ms, .. }
            | Fault::FrozenSafeHead { to_ms, .. }
            | Fault::Congestion { to_ms, .. }
            | Fault::RpcDown { to_ms, .. }
            | Fault::RpcFlaky { to_ms, .. }
            | Fault::ClockStep { to_ms, .. }
            | Fault::Censor { to_ms, .. }
            | Fault::Outage { to_ms, .. }
            | Fault::QuietIntake { to_ms, .. } => to_ms,
            Fault::ForgetPending { at_ms } | Fault::Reorg { at_ms, .. } | Fault::Rogue { at_ms } => at_ms,
            Fault::FailSyncAfterNoop { .. } => 0,
        }
    }
}

/// The small test deployment: max wait 20, margin 5 (danger threshold 15), 12 s blocks.
#[must_use]
pub fn test_config() -> RawConfig {
    RawConfig {
        chain_id: Some(31337),
        batch_submitter: Some(Address([0x11; 20])),
        inbox: Some(Address([0x22; 20])),
        max_wait_blocks: Some(20),
        preemptive_margin_blocks: Some(5),
        seconds_per_block: Some(12),
        // The operator's fee ceiling (docs/protocol.md §11.1), five times the simulated chain's normal
        // base fee: a congestion prices a batch out, the core holds, the detector takes over.
        max_fee_cap_wei: Some(Wei(50_000_000_000)),
        ..RawConfig::default()
    }
}

fn named(name: &str, description: &str, faults: Vec<Fault>, expect: Expect) -> Scenario {
    Scenario {
        name: name.to_owned(),
        description: description.to_owned(),
        config: test_config(),
        node_chain_id: 31337,
        safe_depth: 2,
        direct_per_mille: 200,
        seal_interval_ms: 6_000,
        run_ms: 20 * MINUTE,
        faults,
        crash_per_mille: 0,
        expect,
        answers_before_one_view: false,
    }
}

fn see(tokens: &[&str]) -> Vec<String> {
    tokens.iter().map(|&token| token.to_owned()).collect()
}

/// The names of the built-in scenarios.
pub const NAMES: &[&str] = &[
    "happy-path",
    "congestion",
    "l1-halt",
    "frozen-safe-head",
    "zombie",
    "rpc-down-at-boot",
    "wrong-chain-id",
    "post-flush-sync-failure",
    "nonce-poisoning",
    "tip-ages",
    "repeated-incidents",
    "divergence",
    "demo",
];

/// A built-in scenario by name.
#[must_use]
pub fn by_name(name: &str) -> Option<Scenario> {
    let m = MINUTE;
    let converge = |must_see: &[&str], min_generation: u64| Expect {
        outcome: ExpectedOutcome::Converge,
        min_generation,
        must_see: see(must_see),
        must_not_see: Vec::new(),
    };
    Some(match name {
        "happy-path" => named(
            name,
            "batches are sealed, sent, land fresh and turn Gold; nothing goes wrong",
            vec![],
            Expect {
                must_not_see: see(&["exit:recovery_required", "exit:retry", "decision:flush"]),
                ..converge(&["decision:admit", "effect:submit"], 0)
            },
        ),
        "congestion" => named(
            name,
            "the base fee climbs 30x for 10 minutes: a sent batch is priced out and ages into the danger zone; flush, cascade, recovery",
            vec![Fault::Congestion { from_ms: 2 * m, to_ms: 12 * m }],
            converge(
                &[
                    "danger:closed_batch_in_danger",
                    "exit:recovery_required",
                    "decision:flush",
                    "effect:noop",
                    "decision:cascade",
                ],
                1,
            ),
        ),
        "l1-halt" => named(
            name,
            "L1 produces no blocks for 6 minutes: the detector stops the sequencer, boots retry until blocks resume",
            vec![Fault::Halt { from_ms: 2 * m, to_ms: 8 * m }],
            converge(&["exit:recovery_required", "exit:retry"], 0),
        ),
        "frozen-safe-head" => named(
            name,
            "our sends are held out of blocks for a while, then the node's safe tag freezes for 5 minutes while blocks go on: the oldest batch's age plus the missed block-times reach the threshold before the view counts as stale; estimated danger stops the sequencer and startup retries, never mutating on an estimate",
            vec![Fault::Censor { from_ms: m, to_ms: 3 * m }, Fault::FrozenSafeHead { from_ms: 2 * m, to_ms: 7 * m }],
            converge(&["danger:estimated_batch_in_danger", "exit:recovery_required", "exit:retry"], 0),
        ),
        "zombie" => named(
            name,
            "congestion, and the local node forgets our pending batches while they stay alive elsewhere: the watermark-bounded flush out-bids them",
            vec![Fault::Congestion { from_ms: 2 * m, to_ms: 12 * m }, Fault::ForgetPending { at_ms: 4 * m }],
            converge(&["decision:flush", "effect:noop", "decision:cascade"], 1),
        ),
        "rpc-down-at-boot" => Scenario {
            faults: vec![Fault::RpcDown { from_ms: 0, to_ms: 2 * m }],
            ..named(
                name,
                "the node is unreachable for the first 2 minutes: a first boot has no stored view and retries",
                vec![],
                converge(&["exit:retry", "decision:admit"], 0),
            )
        },
        "wrong-chain-id" => Scenario {
            node_chain_id: 1,
            ..named(
                name,
                "the node reports chain 1 while the config says 31337: refuse, nothing read or sent",
                vec![],
                Expect {
                    outcome: ExpectedOutcome::Refuse,
                    min_generation: 0,
                    must_see: see(&["exit:refuse"]),
                    must_not_see: see(&["effect:sync_l1", "effect:read_wallet", "effect:submit", "effect:noop"]),
                },
            )
        },
        "post-flush-sync-failure" => named(
            name,
            "congestion forces a flush; the safe sync right after it fails: exit retry, the next boot's flush is idempotent and the cascade runs once",
            vec![Fault::Congestion { from_ms: 2 * m, to_ms: 12 * m }, Fault::FailSyncAfterNoop { count: 1 }],
            converge(&["decision:flush", "decision:post_flush_sync", "exit:retry", "decision:cascade"], 1),
        ),
        "nonce-poisoning" => named(
            name,
            "our transactions are censored for 6 minutes while the sequencer is down: a batch lands stale, the ones after it are poisoned; the cascade pivots at the stale one",
            vec![
                Fault::Censor { from_ms: 2 * m, to_ms: 8 * m },
                Fault::Outage { from_ms: 2 * m + 30_000, to_ms: 10 * m },
            ],
            converge(&["danger:closed_batch_in_danger", "decision:flush", "decision:cascade"], 1),
        ),
        "tip-ages" => named(
            name,
            "the inclusion lane seals nothing for 6 minutes: the Tip ages with no closed batch behind it and is replaced without a flush",
            vec![Fault::QuietIntake { from_ms: 2 * m, to_ms: 8 * m }],
            // The detector may see the estimate arm first (age 14 plus one block-time since
            // the last safe progress); startup then observes the Tip at 15 and replaces it.
            Expect { must_not_see: see(&["decision:flush"]), ..converge(&["decision:recover_tip"], 1) },
        ),
        "repeated-incidents" => Scenario {
            run_ms: 60 * m,
            ..named(
                name,
                "three congestion incidents in an hour: three recoveries, each bumping the generation once",
                vec![
                    Fault::Congestion { from_ms: 2 * m, to_ms: 12 * m },
                    Fault::Congestion { from_ms: 22 * m, to_ms: 32 * m },
                    Fault::Congestion { from_ms: 42 * m, to_ms: 52 * m },
                ],
                converge(&["decision:cascade"], 3),
            )
        },
        "divergence" => named(
            name,
            "a second sequencer with our key lands its own batch at the expected nonce: canonical divergence, then refuse forever",
            vec![Fault::Rogue { at_ms: 3 * m }],
            Expect {
                outcome: ExpectedOutcome::Refuse,
                min_generation: 0,
                must_see: see(&["danger:canonical_divergence", "exit:refuse"]),
                must_not_see: Vec::new(),
            },
        ),
        "demo" => Scenario {
            config: RawConfig { max_wait_blocks: Some(1200), preemptive_margin_blocks: Some(300), ..test_config() },
            seal_interval_ms: 84_000,
            run_ms: 4 * 60 * m,
            ..named(
                name,
                "mainnet parameters (max wait 1200, margin 300, 12 s blocks): a 3.5-hour congestion prices a batch out until it reaches the danger threshold",
                vec![Fault::Congestion { from_ms: 10 * m, to_ms: 10 * m + 210 * m }],
                converge(&["danger:closed_batch_in_danger", "decision:flush", "decision:cascade"], 1),
            )
        },
        _ => return None,
    })
}

/// A random fault schedule drawn from `seed`: 1 to 4 recoverable faults (never a rogue
/// sequencer or a wrong chain, which end in refuse) and, with `crashes`, crash points.
#[must_use]
pub fn random(seed: u64, crashes: bool) -> Scenario {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let m = MINUTE;
    let mut faults = Vec::new();
    for _ in 0..rng.random_range(1..=4) {
        let from_ms = rng.random_range(m..25 * m);
        let to_ms = from_ms + rng.random_range(30_000..8 * m);
        faults.push(match rng.random_range(0..12) {
            0 => Fault::Halt { from_ms, to_ms },
            1 => Fault::FrozenSafeHead { from_ms, to_ms },
            2 => Fault::Congestion { from_ms, to_ms },
            3 => Fault::RpcDown { from_ms, to_ms },
            4 => Fault::RpcFlaky { from_ms, to_ms, per_mille: rng.random_range(50..500) },
            5 => Fault::ForgetPending { at_ms: from_ms },
            6 => Fault::Reorg { at_ms: from_ms, depth: rng.random_range(1..=2) },
            7 => Fault::ClockStep { from_ms, to_ms, offset_ms: rng.random_range(-60_000..60_000) },
            8 => Fault::Censor { from_ms, to_ms },
            9 => Fault::Outage { from_ms, to_ms },
            10 => Fault::QuietIntake { from_ms, to_ms },
            _ => Fault::FailSyncAfterNoop { count: rng.random_range(1..=2) },
        });
    }
    Scenario {
        name: format!("random-{seed}"),
        description: "a random fault schedule".to_owned(),
        config: test_config(),
        node_chain_id: 31337,
        safe_depth: 2,
        direct_per_mille: 200,
        seal_interval_ms: rng.random_range(3_000..20_000),
        run_ms: 35 * m,
        faults,
        crash_per_mille: if crashes { rng.random_range(2..=10) } else { 0 },
        expect: Expect::default(),
        answers_before_one_view: false,
    }
}
