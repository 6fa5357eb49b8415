//! `seqrec pause` / `seqrec resume` against anvil and hardhat's EDR node: while paused a
//! sealed batch (16 KiB) is not sent, across a restart on a log with history (the
//! detector keeps running), `status` says so, and resume sends it; both are events in
//! the log, which replays.

use std::time::Duration;

use super::anvil::kib_payload;
use super::live::{
    INBOX, Miner, Node, assert_replays, poll, scratch, seqrec, start_run, stop_cleanly, trace, transactions_to,
};

#[test]
fn a_paused_run_sends_nothing_new_until_resumed_on_anvil() {
    paused_run(Node::Anvil);
}

#[test]
fn a_paused_run_sends_nothing_new_until_resumed_on_hardhat() {
    paused_run(Node::Hardhat);
}

/// A 1 KiB batch lands; then, paused, a 16 KiB batch is held across a restart on that
/// log (its history replayed, the pause kept), and lands once resumed.
fn paused_run(node: Node) {
    let Some((_node, url)) = node.start() else { return };
    let _miner = Miner::start(&url, false);
    let dir = scratch(&format!("{}-pause", node.name()));
    let (db, log) = (dir.join("p.db"), dir.join("run.seqlog"));
    let (db_arg, log_arg) = (db.to_str().unwrap(), log.to_str().unwrap());
    let wait = |what: &str, done: &dyn Fn() -> bool| {
        let what = what.to_owned();
        poll(Duration::from_secs(60), Duration::from_millis(200), &|| what.clone(), done);
    };
    let landed = || transactions_to(&url, INBOX).len();
    let run = start_run(&url, db_arg, log_arg);
    wait("admission", &|| trace(log_arg).contains("decision admit"));
    assert!(seqrec(&["seal", "--db", db_arg, "--payload", &kib_payload(1, 1)]).status.success());
    wait("the first batch on L1", &|| landed() == 1);
    let paused = seqrec(&["pause", "--db", db_arg, "--reason", "key rotation"]);
    assert!(paused.status.success(), "{paused:?}");
    wait("the pause event", &|| trace(log_arg).contains("submissions paused by the operator"));
    assert!(seqrec(&["seal", "--db", db_arg, "--payload", &kib_payload(16, 2)]).status.success());
    wait("a held round", &|| trace(log_arg).contains("hold: paused (key rotation)"));
    // A restart on the log that holds all this: still paused, the batch still held.
    let first = stop_cleanly(run);
    let holds = trace(log_arg).matches("hold: paused").count();
    let run = start_run(&url, db_arg, log_arg);
    wait("a held round after the restart", &|| trace(log_arg).matches("hold: paused").count() > holds);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(landed(), 1, "a batch was sent while paused");
    let status = String::from_utf8_lossy(&seqrec(&["status", "--db", db_arg]).stdout).into_owned();
    assert!(status.contains("submissions PAUSED by the operator (key rotation)"), "{status}");
    assert!(seqrec(&["resume", "--db", db_arg]).status.success());
    wait("the held batch on L1 after resume", &|| landed() == 2);
    let second = stop_cleanly(run);
    assert!(first.contains("WARN") && first.contains("warning=\"paused\""), "{first}");
    let text = trace(log_arg);
    assert_eq!(
        text.matches("\"ev\":\"pause\",\"reason\":\"key rotation\"").count(),
        1,
        "the pause is recorded once:\n{second}"
    );
    assert!(text.contains("\"ev\":\"resume\"") && text.contains("submissions resumed by the operator"), "{second}");
    assert_replays(&log);
}
