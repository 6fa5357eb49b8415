//! Case 1: two `seqrec run` processes on one log and one database. The second must
//! refuse at once, naming the lock, touching nothing; the first keeps running.

use std::time::Duration;

use machine::Event;

use super::{Case, try_events, wait_all_gold};
use crate::live::{INBOX, Miner, anvil, assert_replays};

fn boots(log: &std::path::Path) -> usize {
    try_events(log).unwrap().iter().filter(|event| matches!(event, Event::Boot(_))).count()
}

#[test]
fn a_second_run_on_the_same_log_and_database_refuses_at_once() {
    let Some((_anvil, url)) = anvil() else { return };
    let _miner = Miner::start(&url, false);
    let case = Case::new("lock");
    let (log, db) = (case.log(), case.db());
    let first = case.run(&url);
    case.wait_admitted(1);

    // Promptly (no busy wait on the lock), with status 20 (retry: the lock is another
    // process's and passes, as a standby waits its turn), and a message naming the file.
    let stderr = case.run(&url).expect_exit(Duration::from_secs(5), 20);
    assert!(stderr.contains("locked") && stderr.contains(log.to_str().unwrap()), "{stderr}");
    // The same database under another log: the database's lock refuses it.
    let other_log = case.path("other.seqlog");
    let flags = ["--inbox", INBOX, "--max-wait-blocks", "20"];
    let stderr = case.run_on(&url, &other_log, &db, &flags).expect_exit(Duration::from_secs(5), 20);
    assert!(stderr.contains("locked") && stderr.contains(db.to_str().unwrap()), "{stderr}");

    // The first keeps running: it still seals and lands a payload.
    let id = case.seal(b"after the second run");
    wait_all_gold(&log, Some(id), &first);
    first.stop_cleanly();
    // Touching nothing: one boot in the log, which replays.
    assert_eq!(boots(&log), 1, "the refused run wrote to the log");
    assert_replays(&log);
}
