//! docs/protocol.md §11.1 and §11.7 against both real nodes (anvil and hardhat's EDR node, each when `SEQREC_ANVIL` / `SEQREC_HARDHAT` names it): a base
//! fee pushed up each block, a fee cap below the market, an account that cannot pay, and
//! a node rebuilt from L1 after its log and database were lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::live::{DEV_ADDRESS, Node, Process, finish, poll, rpc, run_command, scratch, seqrec, stop_cleanly};

const GWEI: u64 = 1_000_000_000;

/// Mines one block a second, first setting the next block's base fee to what `base_fee`
/// holds (`anvil_setNextBlockBaseFeePerGas`, `hardhat_…` on hardhat), so a test moves
/// the fee market.
struct FeeMiner {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl FeeMiner {
    fn start(url: &str, base_fee: Arc<AtomicU64>) -> FeeMiner {
        let stop = Arc::new(AtomicBool::new(false));
        let (url, flag, node) = (url.to_owned(), Arc::clone(&stop), Node::at(url));
        let handle = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(1000));
                let fee = base_fee.load(Ordering::Relaxed);
                node.set_next_base_fee(&url, u128::from(fee));
                rpc(&url, "evm_mine", "[]");
            }
        });
        FeeMiner { stop, handle: Some(handle) }
    }
}

impl Drop for FeeMiner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

fn status(db: &str, log: &str) -> String {
    String::from_utf8_lossy(&seqrec(&["status", "--db", db, "--log", log]).stdout).into_owned()
}

fn audit(log: &str) -> String {
    String::from_utf8_lossy(&seqrec(&["audit", log]).stdout).into_owned()
}

fn gold(db: &str, log: &str) -> usize {
    status(db, log).lines().filter(|line| line.contains(" Gold ")).count()
}

fn start(url: &str, db: &str, log: &str, extra: &[&str]) -> Process {
    Process(run_command(url, db, log).args(extra).stderr(std::process::Stdio::piped()).spawn().unwrap())
}

fn seal(db: &str, payload: &str) {
    let sealed = seqrec(&["seal", "--db", db, "--payload", payload]);
    assert!(sealed.status.success(), "{sealed:?}");
}

/// A 16 KiB payload of nonzero bytes, as hex.
fn payload_16k(tag: u8) -> String {
    format!("0x{}", format!("{:02x}", tag.max(1)).repeat(16 * 1024))
}

#[test]
fn a_base_fee_pushed_up_each_block_is_repriced_and_the_batch_lands() {
    base_fee_push(Node::Anvil);
}

/// On hardhat too: its pool enforces geth's replacement rule (both fees 10% up), which
/// anvil's does not, and a re-priced batch replaces its pending predecessor.
#[test]
fn a_base_fee_pushed_up_each_block_is_repriced_and_the_batch_lands_on_hardhat() {
    base_fee_push(Node::Hardhat);
}

fn base_fee_push(node: Node) {
    let Some((_node, url)) = node.start() else { return };
    let base_fee = Arc::new(AtomicU64::new(GWEI));
    let _miner = FeeMiner::start(&url, Arc::clone(&base_fee));
    let dir = scratch(&format!("{}-fees-push", node.name()));
    let (db, log) = (dir.join("p.db"), dir.join("run.seqlog"));
    let (db, log) = (db.to_str().unwrap(), log.to_str().unwrap());
    let run = start(&url, db, log, &[]);
    // The base fee triples each block for five blocks, from the seal on: a bid signed at
    // 2 * base + tip is below the next block's base fee and must be re-priced to land.
    base_fee.store(3 * GWEI, Ordering::Relaxed);
    seal(db, &payload_16k(7));
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(1000));
        let next = base_fee.load(Ordering::Relaxed) * 3;
        base_fee.store(next, Ordering::Relaxed);
    }
    poll(Duration::from_secs(40), Duration::from_millis(300), &|| status(db, log), || gold(db, log) >= 1);
    let stderr = stop_cleanly(run);
    let audit = audit(log);
    assert!(audit.contains("re-price: base fee"), "the pending batch was re-priced:\n{audit}\n{stderr}");
    assert!(!audit.contains("recovery_required"), "it landed before the danger threshold:\n{audit}");
    crate::anvil::keep_as_fixture(std::path::Path::new(log), &format!("{}-fees-base-fee-push", node.name()));
}

#[test]
fn a_fee_cap_below_the_market_holds_and_the_detector_takes_over() {
    cap_hold(Node::Anvil);
}

#[test]
fn a_fee_cap_below_the_market_holds_and_the_detector_takes_over_on_hardhat() {
    cap_hold(Node::Hardhat);
}

fn cap_hold(node: Node) {
    let Some((_node, url)) = node.start() else { return };
    // 50 gwei a block against a 20 gwei cap: every bid (2 * 50 + 1 gwei) is held.
    let base_fee = Arc::new(AtomicU64::new(50 * GWEI));
    let _miner = FeeMiner::start(&url, Arc::clone(&base_fee));
    let dir = scratch(&format!("{}-fees-cap", node.name()));
    let (db, log) = (dir.join("p.db"), dir.join("run.seqlog"));
    let (db, log) = (db.to_str().unwrap(), log.to_str().unwrap());
    let cap = (20 * GWEI).to_string();
    let run = start(&url, db, log, &["--max-fee-cap-wei", &cap]);
    seal(db, "0x0102");
    let (code, stderr) = finish(run);
    assert_eq!(code, Some(10), "the detector exits recovery_required at the threshold:\n{stderr}");
    assert!(stderr.contains("WARN") && stderr.contains("hold_fee_cap"), "the hold is a logged warning:\n{stderr}");
    let audit = audit(log);
    assert!(audit.contains("hold_fee_cap") && audit.contains("exceeds the fee cap 20 gwei"), "{audit}");
    assert_eq!(crate::live::dev_nonce(&url, "latest"), 0, "nothing was sent over the cap");
    crate::anvil::keep_as_fixture(std::path::Path::new(log), &format!("{}-fees-cap-hold", node.name()));
}

#[test]
fn insufficient_funds_is_an_error_retried_without_fee_escalation() {
    insufficient_funds(Node::Anvil);
}

#[test]
fn insufficient_funds_is_an_error_retried_without_fee_escalation_on_hardhat() {
    insufficient_funds(Node::Hardhat);
}

fn insufficient_funds(node: Node) {
    let Some((_node, url)) = node.start() else { return };
    let base_fee = Arc::new(AtomicU64::new(GWEI));
    let _miner = FeeMiner::start(&url, Arc::clone(&base_fee));
    node.set_balance(&url, DEV_ADDRESS, 0);
    let dir = scratch(&format!("{}-fees-funds", node.name()));
    let (db, log) = (dir.join("p.db"), dir.join("run.seqlog"));
    let (db, log) = (db.to_str().unwrap(), log.to_str().unwrap());
    let run = start(&url, db, log, &[]);
    seal(db, "0x0102");
    poll(Duration::from_secs(30), Duration::from_millis(300), &|| audit(log), || {
        audit(log).contains("insufficient_funds")
    });
    std::thread::sleep(Duration::from_secs(2));
    // Funded again: the same batch lands.
    node.set_balance(&url, DEV_ADDRESS, 100_000_000_000_000_000_000);
    poll(Duration::from_secs(30), Duration::from_millis(300), &|| status(db, log), || gold(db, log) >= 1);
    let stderr = stop_cleanly(run);
    assert!(stderr.contains("ERROR") && stderr.contains("insufficient_funds"), "an error line:\n{stderr}");
    // Every bid while the account could not pay is the fresh bid at a pinned base fee:
    // a refusal for funds never raises the floor.
    let audit = audit(log);
    let bids: Vec<&str> = audit.lines().filter(|line| line.contains("bid for batch 0")).collect();
    // The audit folds a run of identical rows into one, `×N, to …`.
    let times = |line: &&str| {
        line.split_once('×').and_then(|(_, rest)| rest.split(", to").next()?.replace(',', "").parse().ok()).unwrap_or(1)
    };
    assert!(bids.iter().map(times).sum::<u64>() >= 2, "retried at the submit cadence:\n{audit}");
    let fees: std::collections::BTreeSet<&str> =
        bids.iter().filter_map(|line| line.split(": max fee ").nth(1)?.split(" / ").next()).collect();
    assert_eq!(fees.len(), 1, "no fee escalation:\n{audit}");
    crate::anvil::keep_as_fixture(std::path::Path::new(log), &format!("{}-fees-insufficient-funds", node.name()));
}

#[test]
fn a_node_whose_log_and_database_were_lost_adopts_its_history_from_l1() {
    adopt_history(Node::Anvil);
}

#[test]
fn a_node_whose_log_and_database_were_lost_adopts_its_history_from_l1_on_hardhat() {
    adopt_history(Node::Hardhat);
}

fn adopt_history(node: Node) {
    let Some((_node, url)) = node.start() else { return };
    let base_fee = Arc::new(AtomicU64::new(GWEI));
    let _miner = FeeMiner::start(&url, Arc::clone(&base_fee));
    let dir = scratch(&format!("{}-adopt", node.name()));
    let (db, log) = (dir.join("p.db"), dir.join("run.seqlog"));
    let (db_arg, log_arg) = (db.to_str().unwrap(), log.to_str().unwrap());
    let run = start(&url, db_arg, log_arg, &[]);
    for tag in 1..=5_u8 {
        seal(db_arg, &format!("0x{tag:02x}{tag:02x}"));
    }
    poll(Duration::from_secs(60), Duration::from_millis(300), &|| status(db_arg, log_arg), || {
        gold(db_arg, log_arg) >= 5
    });
    stop_cleanly(run);
    // The disk is lost.
    let lost = || {
        for path in [&db, &log] {
            let _ = std::fs::remove_file(path);
        }
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{db_arg}{suffix}"));
        }
    };
    lost();
    // Without adopt_l1_history: our own accepted batches are bytes this log never made.
    let (code, stderr) = finish(start(&url, db_arg, log_arg, &[]));
    assert_eq!(code, Some(30), "refused as a divergence:\n{stderr}");
    assert!(
        stderr.contains("hint:") && stderr.contains("--adopt-l1-history") && stderr.contains("--start-block"),
        "the refusal says what to do:\n{stderr}"
    );
    lost();
    // With it: the five batches are rebuilt from L1 and the node continues at nonce 5.
    let run = start(&url, db_arg, log_arg, &["--adopt-l1-history"]);
    poll(Duration::from_secs(30), Duration::from_millis(300), &|| status(db_arg, log_arg), || {
        gold(db_arg, log_arg) >= 5
    });
    seal(db_arg, "0x0606");
    poll(Duration::from_secs(60), Duration::from_millis(300), &|| status(db_arg, log_arg), || {
        gold(db_arg, log_arg) >= 6
    });
    let stderr = stop_cleanly(run);
    assert_eq!(crate::live::dev_nonce(&url, "latest"), 6, "the new batch went to wallet nonce 5:\n{stderr}");
    let audit = audit(log_arg);
    assert_eq!(audit.lines().filter(|line| line.contains("adopted our landing")).count(), 5, "{audit}");
    crate::live::assert_replays(&log);
    crate::anvil::keep_as_fixture(&log, &format!("{}-adopt-l1-history", node.name()));
}
