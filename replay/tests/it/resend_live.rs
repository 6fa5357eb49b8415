//! Issue 18, item 1: each batch goes out at one wallet nonce. `seqrec run` against anvil
//! and hardhat's EDR node mining a block every second by themselves, their safe head
//! [`SAFE_LAG`] blocks behind, the detector every 2 s and the submit round every 1 s
//! (where a landing can cross the safe head between the two), while the test queues 20
//! seals a second of 1–60 KiB (sizes drawn from a fixed seed). From the run's log: every
//! batch's content (wire hash) is submitted at one wallet nonce only; re-priced
//! replacements at that nonce are counted apart. Gated at run time by `SEQREC_ANVIL` /
//! `SEQREC_HARDHAT` (`Node::binary`).
//!
//! The test seals for [`SEAL_SECONDS`] (CI); `SEQREC_RESEND_SECONDS` sets more
//! (`cargo xtask faults` gives 150 per node).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use effects::sqlite::SqliteStore;
use machine::{Hash32, WalletNonce};
use rand08::{Rng as _, SeedableRng as _};
use replay::resend::{Asked, Tracker, recorded_sends};

use super::anvil::kib_bytes;
use super::live::{DEV_KEY, Node, Process, dev_nonce, poll, run_args, scratch, trace};

/// Seconds of sealing in CI.
const SEAL_SECONDS: u64 = 30;
/// Seals queued per second.
const SEALS_PER_SECOND: u64 = 20;
/// How far the node's safe head is behind its head, in blocks.
const SAFE_LAG: u64 = 4;
/// Blocks large enough for 20 batches of up to 60 KiB a second with room to spare, so
/// the base fee moves with the load but does not climb without end.
const GAS_LIMIT: u64 = 100_000_000;
/// The size seed: every run draws the same sizes.
const SIZE_SEED: u64 = 18;

#[test]
fn every_batch_goes_out_at_one_wallet_nonce_under_interval_mining_on_anvil() {
    one_wallet_nonce_per_batch(Node::Anvil);
}

#[test]
fn every_batch_goes_out_at_one_wallet_nonce_under_interval_mining_on_hardhat() {
    one_wallet_nonce_per_batch(Node::Hardhat);
}

fn one_wallet_nonce_per_batch(node: Node) {
    let Some((_node, url)) = node.start_mining_every_second(SAFE_LAG, GAS_LIMIT) else { return };
    let seconds = std::env::var("SEQREC_RESEND_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(SEAL_SECONDS);
    let started = Instant::now();
    let dir = scratch(&format!("{}-resend-live", node.name()));
    let (db, log) = (dir.join("p.db"), dir.join("run.seqlog"));
    let (db_arg, log_arg) = (db.to_str().unwrap(), log.to_str().unwrap());
    // The production cadences (the test deployment's 300 ms hides the window), and the
    // node's safe lag as hardhat's safe depth (anvil's `safe` tag has it already).
    let mut args = run_args(&url, db_arg, log_arg);
    // A wider margin than the test deployment's 20/5: a debug build on two busy cores,
    // logging a megabyte a second, must not reach the danger threshold (or the stale
    // window) while it keeps up. Warnings and errors only on standard error.
    let cadences = [
        ("--detector-interval-ms", "2000"),
        ("--submit-interval-ms", "1000"),
        ("--max-wait-blocks", "120"),
        ("--preemptive-margin-blocks", "30"),
    ];
    for (flag, value) in cadences {
        let at = args.iter().position(|arg| *arg == flag).unwrap();
        args[at + 1] = value;
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_seqrec"));
    command.args(&args).args(["--log-level", "warn"]).env("SEQREC_KEY", DEV_KEY).env_remove("SEQREC_SAFE_DEPTH");
    if node == Node::Hardhat {
        command.env("SEQREC_SAFE_DEPTH", SAFE_LAG.to_string());
    }
    // Standard error to a file: 20 seals a second fill a pipe nobody reads until the end.
    let stderr_path = dir.join("run.stderr");
    let mut run = Process(command.stderr(std::fs::File::create(&stderr_path).unwrap()).spawn().unwrap());
    poll(Duration::from_secs(60), Duration::from_millis(200), &|| trace(log_arg), || {
        trace(log_arg).contains("decision admit")
    });
    let seals = seal_steadily(&db, seconds);
    // Settle: every send mined (at most two minutes: the counts are reported anyway),
    // then past the safe head and synced by the detector.
    let settle = Instant::now() + Duration::from_secs(120);
    while dev_nonce(&url, "pending") != dev_nonce(&url, "latest") && Instant::now() < settle {
        std::thread::sleep(Duration::from_millis(500));
    }
    std::thread::sleep(Duration::from_secs(SAFE_LAG + 4));
    // Still running (an exit of its own, e.g. for danger, is reported after the counts).
    let early = run.wait_for(Duration::ZERO).map(|status| status.code());
    if early.is_none() {
        run.terminate();
    }
    let status = early.or_else(|| run.wait_for(Duration::from_secs(60)).map(|status| status.code()));
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let tail: Vec<&str> = stderr.lines().rev().take(12).collect();
    let tail = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
    let counted = count_sends(&log);
    let took = started.elapsed();
    let report = format!(
        "resend_live {}: {seals} seals in {seconds} s, {} batches submitted, {} submits, {} replacements at the same \
         wallet nonce, {} duplicates (a batch at a second wallet nonce){}; the audit's resend warnings: {} with the \
         first slot not known lost, {} known lost; {:.0} s in all",
        node.name(),
        counted.batches,
        counted.submits,
        counted.replacements,
        counted.duplicates,
        if counted.examples.is_empty() { String::new() } else { format!(" e.g. {}", counted.examples.join(", ")) },
        counted.resends_live,
        counted.resends_lost,
        took.as_secs_f64(),
    );
    eprintln!("{report}");
    assert!(counted.batches > 0, "nothing was submitted: {report}\n{tail}");
    assert_eq!(counted.duplicates, 0, "sends per batch must be 1: {report}");
    assert_eq!(counted.resends_live, 0, "{report}");
    assert_eq!(status, Some(Some(0)), "{report}; `run` did not end with the clean shutdown:\n{tail}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Queues [`SEALS_PER_SECOND`] payloads a second for `seconds`, as the inclusion lane
/// does (the seal queue table); how many were queued.
fn seal_steadily(db: &Path, seconds: u64) -> u64 {
    let mut store = SqliteStore::open(db).unwrap();
    let mut sizes = rand08::rngs::StdRng::seed_from_u64(SIZE_SEED);
    let (start, every) = (Instant::now(), Duration::from_millis(1000 / SEALS_PER_SECOND));
    let total = seconds * SEALS_PER_SECOND;
    for n in 0..total {
        let payload = kib_bytes(sizes.gen_range(1..=60), (n % 251) as u8);
        // The run's writes may hold the database for a moment: the lane tries again.
        let mut tries = 0;
        while let Err(error) = store.enqueue_seal(&payload) {
            tries += 1;
            assert!(tries < 200, "seal {n}: {error}");
            std::thread::sleep(Duration::from_millis(10));
        }
        if let Some(wait) = (start + every * (n as u32 + 1)).checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    total
}

/// What the log's `submit` effects show.
#[derive(Debug, Default)]
struct Counted {
    /// Distinct batch contents submitted.
    batches: usize,
    /// `submit` effects.
    submits: usize,
    /// Submits of a content again at a wallet nonce it was submitted at (re-pricing).
    replacements: usize,
    /// Submits of a content at a wallet nonce other than its first.
    duplicates: usize,
    /// The first few duplicates, `batch B at wallet nonces X, Y`.
    examples: Vec<String>,
    /// Resends the audit shows (sends the node took) with the first slot not known lost.
    resends_live: usize,
    /// Resends the audit shows whose first slot our no-op or another batch took.
    resends_lost: usize,
}

/// Streams the log's records (it may be hundreds of megabytes): each content's wallet
/// nonces from the `submit` effects as recorded, and the audit's resends.
fn count_sends(log: &Path) -> Counted {
    let file = std::io::BufReader::new(std::fs::File::open(log).unwrap());
    let mut reader = replay::log::LogReader::new(file).unwrap();
    let mut at: HashMap<Hash32, (u64, BTreeMap<WalletNonce, usize>)> = HashMap::new();
    let (mut tracker, mut counted) = (Tracker::default(), Counted::default());
    let mut seq = 0;
    for entry in reader.entries() {
        let replay::log::Entry::Event(record) = entry.unwrap() else { continue };
        let sends = recorded_sends(&record.effects_json);
        for (w_nonce, asked) in &sends {
            if let Asked::Batch { batch, wire_hash, .. } = asked {
                counted.submits += 1;
                *at.entry(*wire_hash).or_insert_with(|| (batch.0, BTreeMap::new())).1.entry(*w_nonce).or_default() += 1;
            }
        }
        if let Some(resend) = tracker.observe(seq, &record.event, sends) {
            if resend.lost.is_some() {
                counted.resends_lost += 1;
            } else {
                counted.resends_live += 1;
            }
        }
        seq += 1;
    }
    let mut contents: Vec<_> = at.into_values().collect();
    contents.sort_by_key(|(batch, _)| *batch);
    counted.batches = contents.len();
    for (batch, nonces) in &contents {
        counted.replacements += nonces.values().map(|sends| sends - 1).sum::<usize>();
        counted.duplicates += nonces.len() - 1;
        if nonces.len() > 1 && counted.examples.len() < 5 {
            let listed: Vec<String> = nonces.keys().map(ToString::to_string).collect();
            counted.examples.push(format!("batch {batch} at wallet nonces {}", listed.join(", ")));
        }
    }
    counted
}
