//! `seqrec pause` / `seqrec resume` against anvil: while paused a sealed batch is not
//! sent (the detector keeps running), `status` says so, and resume sends it; both are
//! events in the log, which replays.

use std::time::Duration;

use super::live::{
    INBOX, Miner, Node, assert_replays, poll, scratch, seqrec, start_run, stop_cleanly, trace, transactions_to,
};

#[test]
fn a_paused_run_sends_nothing_new_until_resumed() {
    let Some((_node, url)) = Node::Anvil.start() else { return };
    let _miner = Miner::start(&url, false);
    let dir = scratch("pause");
    let (db, log) = (dir.join("p.db"), dir.join("run.seqlog"));
    let (db_arg, log_arg) = (db.to_str().unwrap(), log.to_str().unwrap());
    let run = start_run(&url, db_arg, log_arg);
    poll(Duration::from_secs(30), Duration::from_millis(200), &|| "admission".to_owned(), || {
        trace(log_arg).contains("decision admit")
    });
    let paused = seqrec(&["pause", "--db", db_arg, "--reason", "key rotation"]);
    assert!(paused.status.success(), "{paused:?}");
    poll(Duration::from_secs(10), Duration::from_millis(200), &|| "the pause event".to_owned(), || {
        trace(log_arg).contains("submissions paused by the operator")
    });
    assert!(seqrec(&["seal", "--db", db_arg, "--payload", "0x0102"]).status.success());
    poll(Duration::from_secs(20), Duration::from_millis(200), &|| "a held round".to_owned(), || {
        trace(log_arg).contains("hold: paused (key rotation)")
    });
    // Several blocks later, still nothing sent to the inbox, and `status` says why.
    std::thread::sleep(Duration::from_secs(3));
    assert!(transactions_to(&url, INBOX).is_empty(), "a batch was sent while paused");
    let status = String::from_utf8_lossy(&seqrec(&["status", "--db", db_arg]).stdout).into_owned();
    assert!(status.contains("submissions PAUSED by the operator (key rotation)"), "{status}");
    assert!(seqrec(&["resume", "--db", db_arg]).status.success());
    poll(Duration::from_secs(30), Duration::from_millis(200), &|| "the batch on L1 after resume".to_owned(), || {
        !transactions_to(&url, INBOX).is_empty()
    });
    let stderr = stop_cleanly(run);
    assert!(stderr.contains("WARN") && stderr.contains("warning=\"paused\""), "{stderr}");
    let text = trace(log_arg);
    assert!(
        text.contains("\"ev\":\"pause\",\"reason\":\"key rotation\"") && text.contains("\"ev\":\"resume\""),
        "{text}"
    );
    assert!(text.contains("submissions resumed by the operator"), "{text}");
    assert_replays(&log);
}
