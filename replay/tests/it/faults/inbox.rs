//! Case 6: a restart with another `--inbox` exits 78 (`config_invalid`) naming the field
//! with its old and new value, before any L1 contact, so nothing reaches the new inbox.

use std::time::Duration;

use machine::Event;

use super::{Case, try_events, wait_all_gold};
use crate::live::{INBOX, Miner, anvil, dev_nonce, poll, quantity, rpc_result, trace, transactions_to};

const OTHER_INBOX: &str = "0x3333333333333333333333333333333333333333";

fn head(url: &str) -> u64 {
    quantity(&rpc_result(url, "eth_blockNumber", "[]").unwrap())
}

#[test]
fn a_restart_with_another_inbox_exits_config_invalid_naming_both_values() {
    let Some((_anvil, url)) = anvil() else { return };
    let _miner = Miner::start(&url, false);
    let case = Case::new("inbox");
    let run = case.run(&url);
    case.wait_admitted(1);
    let id = case.seal(b"to the first inbox");
    wait_all_gold(&case.log(), Some(id), &run);
    run.stop_cleanly();
    let sent_before = dev_nonce(&url, "pending");

    let flags = ["--inbox", OTHER_INBOX, "--max-wait-blocks", "20"];
    let stderr = case.run_on(&url, &case.log(), &case.db(), &flags).expect_exit(Duration::from_secs(30), 78);
    // Before any L1 contact: the refused boot's record is the log's last, no answer after it.
    let events = try_events(&case.log()).unwrap();
    let last_boot = events.iter().rposition(|event| matches!(event, Event::Boot(_))).unwrap();
    assert_eq!(last_boot, events.len() - 1, "nothing after the refused boot: {:?}", &events[last_boot..]);
    // And nothing was sent: two more blocks later, no transaction to the new inbox and the
    // submitter's nonce has not moved.
    let after = head(&url) + 2;
    poll(Duration::from_secs(30), Duration::from_millis(200), &|| "no new blocks".to_owned(), || head(&url) >= after);
    assert!(transactions_to(&url, OTHER_INBOX).is_empty(), "a transaction reached the new inbox");
    assert_eq!(dev_nonce(&url, "pending"), sent_before, "the refused boot sent a transaction");
    // The core's reason names the field with its old and new value (it is in the log) …
    let text = trace(case.log().to_str().unwrap());
    let refusal = &text[text.rfind("\"ev\":\"boot\"").unwrap()..];
    for expected in ["config invalid", "`inbox`", INBOX, OTHER_INBOX] {
        assert!(refusal.contains(expected), "the log's reason lacks `{expected}`:\n{refusal}");
    }
    // … and the operator, who reads standard error (the journal), sees it too.
    for expected in ["config invalid", "`inbox`", INBOX, OTHER_INBOX] {
        assert!(stderr.contains(expected), "standard error lacks `{expected}`:\n{stderr}");
    }
}
