//! Issue 18, items 9 and 10: `seqrec run` against anvil through a faulty proxy
//! (`proxy.rs`) that answers, by rule, a JSON-RPC error, an empty (`null`) result,
//! garbage, or an oversized block (inbox inputs over what one `l1` record may hold), at
//! the first contact after a restart and mid-run. A node's fault is a failed read: `run`
//! keeps running or exits `retry` (20) with its reason, never `config_invalid` (78, which
//! the systemd unit does not restart); an oversized answer is refused with its own class
//! (`oversized`), the detector keeps running, and no batch is posted at a second wallet
//! nonce. Gated on `SEQREC_ANVIL` like the other live tests.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use machine::Event;

use crate::faults::{Case, Run, try_events, wait_all_gold};
use crate::live::{INBOX, Miner, anvil, poll, rpc};
use crate::proxy::{Hook, Proxy};

/// What the proxy answers instead of the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// A JSON-RPC error object.
    Error,
    /// `"result": null`.
    Empty,
    /// A body that is not JSON.
    Garbage,
    /// The node's answer, every inbox transaction's input grown past
    /// `effects::eth::MAX_BLOCK_INPUT_BYTES`.
    Oversized,
}

/// The proxy's hook: the fault in force, if any, on every call (or on full-block reads
/// only, for [`Fault::Oversized`]), and how many answers it spoiled.
#[derive(Default)]
struct Faults {
    fault: Mutex<Option<Fault>>,
    spoiled: AtomicU64,
}

impl Faults {
    fn set(&self, fault: Option<Fault>) {
        *self.fault.lock().unwrap() = fault;
    }

    fn spoiled(&self) -> u64 {
        self.spoiled.load(Ordering::Relaxed)
    }
}

/// The ids of a request's calls, and whether it is a batch.
fn ids(body: &[u8]) -> Option<(Vec<serde_json::Value>, bool)> {
    match serde_json::from_slice::<serde_json::Value>(body).ok()? {
        serde_json::Value::Array(calls) => Some((calls.iter().map(|call| call["id"].clone()).collect(), true)),
        call => Some((vec![call["id"].clone()], false)),
    }
}

impl Hook for Faults {
    fn answer(&self, body: &[u8]) -> Option<Vec<u8>> {
        let fault = (*self.fault.lock().unwrap())?;
        let (ids, batch) = ids(body)?;
        let answers: Vec<serde_json::Value> = match fault {
            Fault::Oversized => return None,
            Fault::Garbage => {
                self.spoiled.fetch_add(1, Ordering::Relaxed);
                return Some(b"<html><body>502 Bad Gateway</body></html>".to_vec());
            }
            Fault::Error => ids
                .into_iter()
                .map(|id| serde_json::json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32000, "message": "injected: header not found"}}))
                .collect(),
            Fault::Empty => {
                ids.into_iter().map(|id| serde_json::json!({"jsonrpc": "2.0", "id": id, "result": null})).collect()
            }
        };
        self.spoiled.fetch_add(1, Ordering::Relaxed);
        let answer = if batch { serde_json::Value::Array(answers) } else { answers.into_iter().next()? };
        Some(answer.to_string().into_bytes())
    }

    fn rewrite(&self, _request: &[u8], answer: Vec<u8>) -> Vec<u8> {
        if *self.fault.lock().unwrap() != Some(Fault::Oversized) {
            return answer;
        }
        let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&answer) else { return answer };
        let answers: Vec<&mut serde_json::Value> = match &mut value {
            serde_json::Value::Array(answers) => answers.iter_mut().collect(),
            answer => vec![answer],
        };
        let mut grown = false;
        let input = format!("0x{}", "ab".repeat(effects::eth::MAX_BLOCK_INPUT_BYTES + 1));
        for answer in answers {
            let transactions = answer.get_mut("result").and_then(|result| result.get_mut("transactions"));
            for tx in transactions.and_then(serde_json::Value::as_array_mut).into_iter().flatten() {
                if tx["to"].as_str().is_some_and(|to| to.eq_ignore_ascii_case(INBOX)) {
                    tx["input"] = serde_json::Value::String(input.clone());
                    grown = true;
                }
            }
        }
        if !grown {
            return answer;
        }
        self.spoiled.fetch_add(1, Ordering::Relaxed);
        value.to_string().into_bytes()
    }
}

/// `seqrec run` on the case's log through `url`, with a max wait of 600 blocks (1 s
/// blocks): the seconds a fault lasts do not age a batch into danger, so an exit can only
/// be the fault's doing.
fn start(case: &Case, url: &str) -> Run {
    case.run_on(url, &case.log(), &case.db(), &["--inbox", INBOX, "--max-wait-blocks", "600"])
}

/// Waits `within` for the run to exit: a fault may only end it with `retry` (20) and a
/// reason; `None` while it keeps running.
fn retry_or_running(run: &mut Run, within: Duration, what: &str) -> Option<i32> {
    let exited = run.exited_within(within)?;
    let stderr = run.stderr();
    assert_eq!(exited, Some(20), "{what}: a node fault ends `run` only with retry (20), never 78:\n{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("seqrec run: exit retry (20): "), "{what}: the exit's last line:\n{stderr}");
    assert!(!last.contains("no reason recorded"), "{what}: the exit gives no reason:\n{stderr}");
    exited
}

/// Waits until the proxy has spoiled `count` answers in all, or the run exited (which
/// [`retry_or_running`] then judges).
fn spoil(faults: &Faults, count: u64, run: &mut Run, what: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while faults.spoiled() < count && run.exited_within(Duration::from_millis(50)).is_none() {
        assert!(std::time::Instant::now() < deadline, "{what}: no call spoiled in 20 s:\n{}", run.stderr());
    }
}

/// Every batch content (its wire hash) the log sent, with the wallet nonces it
/// went out at: a replacement at the same nonce is the same send, a second nonce a
/// second post.
fn sends_by_content(log: &Path) -> BTreeMap<String, BTreeSet<u64>> {
    let Ok(replay::cli::Loaded::Log { records, .. }) = replay::cli::load(log) else {
        panic!("{}: not a log", log.display())
    };
    let mut sends: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for record in records {
        // The recorded effects (`{"fx":"submit","w_nonce":…,"wire_hash":…}`): what was sent.
        let effects: Vec<serde_json::Value> = serde_json::from_slice(&record.effects_json).unwrap();
        for effect in effects.iter().filter(|effect| effect["fx"] == "submit") {
            let content = effect["wire_hash"].as_str().unwrap().to_owned();
            sends.entry(content).or_default().insert(effect["w_nonce"].as_u64().unwrap());
        }
    }
    sends
}

fn assert_each_batch_posted_once(log: &Path) {
    let sends = sends_by_content(log);
    assert!(!sends.is_empty(), "nothing was sent");
    for (content, nonces) in &sends {
        assert_eq!(nonces.len(), 1, "a batch (wire hash {content}) was posted at wallet nonces {nonces:?}");
    }
    eprintln!("node_faults: {} batches, each posted at one wallet nonce", sends.len());
}

/// `rpc_failed` events of a log whose error says `text`.
fn failed_reads(log: &Path, text: &str) -> usize {
    try_events(log).map_or(0, |events| {
        events.iter().filter(|event| matches!(event, Event::RpcFailed(failed) if failed.error.contains(text))).count()
    })
}

/// While the fault is on: five calls spoiled after `before`, then `run` still running or
/// exited with retry (20); the fault is cleared and, after an exit, `run` started again.
fn outlast(faults: &Faults, before: u64, mut run: Run, case: &Case, url: &str, what: &str) -> Run {
    spoil(faults, before + 5, &mut run, what);
    let exited = retry_or_running(&mut run, Duration::from_secs(2), what);
    faults.set(None);
    if exited.is_some() {
        eprintln!("node_faults: {what}: exit retry (20), restarted");
        run = start(case, url);
    }
    run
}

/// Error, empty and garbage answers, first at the first contact after a restart (every
/// call spoiled for a few seconds), then mid-run: `run` keeps running or exits 20 with its
/// reason, recovers once the node answers again, and posts each batch once.
#[test]
fn a_node_answering_errors_empty_results_or_garbage_is_a_failed_read_never_a_config_error() {
    let Some((_anvil, node)) = anvil() else { return };
    let _miner = Miner::start(&node, false);
    let faults = Arc::new(Faults::default());
    let proxy = Proxy::start(&node, Arc::clone(&faults) as Arc<dyn Hook>);
    let url = proxy.url();
    let case = Case::new("node-faults");
    let log = case.log();
    let mut run = start(&case, &url);
    case.wait_admitted(1);
    let mut payload = 0_u8;
    let mut seal_and_land = |case: &Case, run: &Run| {
        payload += 1;
        let id = case.seal(&vec![payload; 4096]);
        wait_all_gold(&log, Some(id), run);
    };
    seal_and_land(&case, &run);
    for fault in [Fault::Error, Fault::Empty, Fault::Garbage] {
        // At the first contact after a restart.
        run.stop_cleanly();
        faults.set(Some(fault));
        let before = faults.spoiled();
        run = start(&case, &url);
        run = outlast(&faults, before, run, &case, &url, &format!("{fault:?} at boot"));
        seal_and_land(&case, &run);
        // Mid-run.
        let before = faults.spoiled();
        faults.set(Some(fault));
        run = outlast(&faults, before, run, &case, &url, &format!("{fault:?} mid-run"));
        seal_and_land(&case, &run);
    }
    run.stop_cleanly();
    assert!(failed_reads(&log, "malformed answer") > 0, "no malformed answer logged as a failed read");
    assert!(failed_reads(&log, "rpc error -32000") > 0, "no node error logged as a failed read");
    assert_each_batch_posted_once(&log);
    crate::live::assert_replays(&log);
}

/// A block whose inbox inputs are larger than one `l1` record may hold (the issue's
/// forged 134 MB answer; here just over `MAX_BLOCK_INPUT_BYTES`) is refused as an
/// `oversized` failed read, mid-run and at the first contact after a restart: the log is
/// never asked to hold it, `run` keeps running (the detector keeps reading), and once
/// the node answers sanely the block is read and the batches land, each posted once.
#[test]
fn an_answer_too_large_to_log_is_an_oversized_failed_read_and_the_node_keeps_running() {
    let Some((_anvil, node)) = anvil() else { return };
    let _miner = Miner::start(&node, false);
    let faults = Arc::new(Faults::default());
    let proxy = Proxy::start(&node, Arc::clone(&faults) as Arc<dyn Hook>);
    let url = proxy.url();
    let case = Case::new("node-oversized");
    let log = case.log();
    let mut run = start(&case, &url);
    case.wait_admitted(1);
    let id = case.seal(&[7; 4096]);
    wait_all_gold(&log, Some(id), &run);
    // Mid-run: a direct input lands, and every answer holding it is grown past the limit.
    faults.set(Some(Fault::Oversized));
    let direct = format!(r#"[{{"from":"0x70997970C51812dc3A010C7d01b50e0d17dc79C8","to":"{INBOX}","data":"0x01"}}]"#);
    let sent = rpc(&node, "eth_sendTransaction", &direct);
    assert!(sent.contains("\"result\""), "{sent}");
    let what = || format!("no oversized read logged:\n{}", run.stderr());
    poll(Duration::from_secs(30), Duration::from_millis(200), &what, || failed_reads(&log, "oversized answer") >= 2);
    assert_eq!(retry_or_running(&mut run, Duration::from_secs(1), "oversized mid-run"), None, "run stopped");
    // At the first contact after a restart, the block still unread.
    run.stop_cleanly();
    let logged = failed_reads(&log, "oversized answer");
    run = start(&case, &url);
    let what = || format!("no oversized read logged after the restart:\n{}", run.stderr());
    poll(Duration::from_secs(30), Duration::from_millis(200), &what, || {
        failed_reads(&log, "oversized answer") > logged
    });
    assert_eq!(retry_or_running(&mut run, Duration::from_secs(1), "oversized at boot"), None, "run stopped");
    let stderr = run.stderr();
    assert!(!stderr.contains("the log could not be written"), "{stderr}");
    assert!(stderr.contains("oversized answer"), "the class is in the log lines:\n{stderr}");
    // The node answers sanely again: the block is read, a new batch lands.
    faults.set(None);
    let id = case.seal(&[8; 4096]);
    wait_all_gold(&log, Some(id), &run);
    run.stop_cleanly();
    assert_each_batch_posted_once(&log);
    crate::live::assert_replays(&log);
}
