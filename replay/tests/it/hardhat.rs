//! `seqrec run` against a second real node: hardhat's EDR node (npm `hardhat`, run in a
//! scratch project on 127.0.0.1 at a free port). Gated at run time by `SEQREC_HARDHAT`
//! (`cargo xtask ci` and `cargo xtask nodes` install the pinned hardhat).
//!
//! hardhat reports `safe` = `latest`, so `run` refuses it unless `--safe-depth` is given
//! (choice 46); the other tests run with `--safe-depth 2` (`live::run_command`). The happy
//! path and the incident share their bodies with the anvil tests. The rest of `anvil.rs`
//! and the fault suite stay anvil-only: the zombie test re-broadcasts a dropped
//! transaction's raw bytes, which hardhat does not serve (no `txpool_content`, no
//! `eth_getRawTransactionByHash`); the SIGKILL, RPC-down and adapter tests exercise our
//! side, not the node's, and would only double CI's time.

use std::process::Command;
use std::time::Duration;

use crate::anvil::{happy_path, incident, keep_as_fixture};
use crate::live::{
    DEV_ADDRESS, DEV_KEY, Node, Process, quantity, rpc, rpc_result, run_args, run_command, scratch, stop_cleanly, trace,
};

#[test]
fn run_happy_path_against_hardhat() {
    happy_path(Node::Hardhat);
}

#[test]
fn incident_batch_held_out_of_blocks_then_recovery_against_hardhat() {
    incident(Node::Hardhat);
}

#[test]
fn a_safe_tag_at_the_head_is_refused_until_safe_depth_is_given() {
    let Some((_node, url)) = Node::Hardhat.start() else { return };
    Node::Hardhat.mine(&url, 3);
    let dir = scratch("hardhat-safe-tag");
    let (db, log) = (dir.join("p.db"), dir.join("run.seqlog"));
    let (db_arg, log_arg) = (db.to_str().unwrap(), log.to_str().unwrap());
    let out = Command::new(env!("CARGO_BIN_EXE_seqrec"))
        .args(run_args(&url, db_arg, log_arg))
        .env("SEQREC_KEY", DEV_KEY)
        .env_remove("SEQREC_SAFE_DEPTH")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "config_invalid:\n{stdout}");
    assert!(stdout.contains("safe = latest = 3") && stdout.contains("--safe-depth N"), "{stdout}");
    assert!(!log.exists() && !db.exists(), "nothing touched before the refusal");

    // With a safe depth the same node runs: a sync, an admission, a clean shutdown.
    let run = Process(run_command(&url, db_arg, log_arg).stderr(std::process::Stdio::piped()).spawn().unwrap());
    let _miner = crate::live::Miner::start(&url, false);
    crate::live::poll(Duration::from_secs(30), Duration::from_millis(100), &|| trace(log_arg), || {
        trace(log_arg).contains("decision admit")
    });
    let stderr = stop_cleanly(run);
    assert!(stderr.contains("the node's `safe` tag is not used"), "a warning at start:\n{stderr}");
    keep_as_fixture(&log, "hardhat-safe-depth");
}

/// The harness's controls do what the tests take them for, on both nodes.
fn node_controls(node: Node) {
    let Some((_node, url)) = node.start() else { return };
    let height = || quantity(&rpc_result(&url, "eth_blockNumber", "[]").unwrap());
    let before = height();
    node.mine(&url, 3);
    assert_eq!(height(), before + 3, "{}: mine", node.name());
    node.set_balance(&url, DEV_ADDRESS, 5_000_000_000_000_000_000);
    let balance = rpc_result(&url, "eth_getBalance", &format!(r#"["{DEV_ADDRESS}","latest"]"#)).unwrap();
    assert_eq!(balance.as_str(), Some("0x4563918244f40000"), "{}: set balance", node.name());
    node.set_next_base_fee(&url, 7_000_000_000);
    node.mine(&url, 1);
    let block = rpc_result(&url, "eth_getBlockByNumber", r#"["latest",false]"#).unwrap();
    assert_eq!(quantity(&block["baseFeePerGas"]), 7_000_000_000, "{}: next base fee", node.name());
    // Held in the pool while mining is manual; dropped from it; mined at once with automine.
    let other = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    let send = || {
        let tx = format!(r#"[{{"from":"{other}","to":"{other}","value":"0x1"}}]"#);
        rpc_result(&url, "eth_sendTransaction", &tx).and_then(|hash| hash.as_str().map(str::to_owned)).unwrap()
    };
    let pending =
        || quantity(&rpc_result(&url, "eth_getTransactionCount", &format!(r#"["{other}","pending"]"#)).unwrap());
    let hash = send();
    assert_eq!(pending(), 1, "{}: pending", node.name());
    node.drop_transaction(&url, &hash);
    assert_eq!(pending(), 0, "{}: drop", node.name());
    let hash = send();
    node.drop_pending(&url);
    assert_eq!(pending(), 0, "{}: drop all ({hash})", node.name());
    node.set_automine(&url, true);
    let at = height();
    send();
    // anvil answers the send before its automined block is in `eth_blockNumber`.
    crate::live::poll(
        Duration::from_secs(5),
        Duration::from_millis(20),
        &|| format!("{}: automine", node.name()),
        || height() > at,
    );
    assert_eq!(height(), at + 1, "{}: automine mines one block", node.name());
    node.set_automine(&url, false);
    assert!(rpc(&url, "evm_mine", "[]").contains("result"), "{}: evm_mine", node.name());
}

#[test]
fn the_harness_controls_work_on_hardhat() {
    node_controls(Node::Hardhat);
}

#[test]
fn the_harness_controls_work_on_anvil() {
    node_controls(Node::Anvil);
}
