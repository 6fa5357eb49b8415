//! How many JSON-RPC calls `seqrec run` makes (issue #9: bounded catch-up, cheap idle
//! reads): a counting HTTP proxy in front of anvil, per method, a batch counted per call
//! and per HTTP request. Prints calls per minute (`--nocapture`; BENCHMARKS.md has them).

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::anvil::drive_into_danger;
use crate::live::{
    DEV_KEY, Miner, Process, anvil, assert_replays, poll, quantity, rpc_result, run_args, scratch, seqrec, start_run,
    stop_cleanly, trace,
};
use crate::proxy::{Hook, Proxy};

/// A full-block fetch is counted under this name as well as under its method.
const FULL_BLOCKS: &str = "eth_getBlockByNumber(full)";
/// HTTP requests, and those carrying a batch.
const HTTP: &str = "http requests";
const BATCHES: &str = "http batch requests";

type Counts = Arc<Mutex<BTreeMap<String, u64>>>;

/// A proxy to anvil (`proxy.rs`) that counts JSON-RPC calls by method.
struct CountingProxy {
    proxy: Proxy,
    counts: Counts,
}

/// The proxy's hook: counts each request, answers none itself.
struct Counting(Counts);

impl Hook for Counting {
    fn answer(&self, body: &[u8]) -> Option<Vec<u8>> {
        count(&self.0, body);
        None
    }
}

impl CountingProxy {
    fn start(target: &str) -> CountingProxy {
        let counts = Counts::default();
        CountingProxy { proxy: Proxy::start(target, Arc::new(Counting(Arc::clone(&counts)))), counts }
    }

    fn url(&self) -> String {
        self.proxy.url()
    }

    /// The calls made during `window`, and the blocks anvil mined meanwhile.
    fn measure(&self, anvil: &str, window: Duration) -> (BTreeMap<String, u64>, u64) {
        let head = || quantity(&rpc_result(anvil, "eth_blockNumber", "[]").unwrap());
        let before = head();
        self.counts.lock().unwrap().clear();
        std::thread::sleep(window);
        let counts = self.counts.lock().unwrap().clone();
        (counts, head() - before)
    }
}

fn count(counts: &Counts, body: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else { return };
    let mut counts = counts.lock().unwrap();
    *counts.entry(HTTP.to_owned()).or_default() += 1;
    let calls = match &value {
        serde_json::Value::Array(calls) => {
            *counts.entry(BATCHES.to_owned()).or_default() += 1;
            calls.clone()
        }
        call => vec![call.clone()],
    };
    for call in calls {
        let method = call["method"].as_str().unwrap_or("?").to_owned();
        if method == "eth_getBlockByNumber" && call["params"][1] == serde_json::Value::Bool(true) {
            *counts.entry(FULL_BLOCKS.to_owned()).or_default() += 1;
        }
        *counts.entry(method).or_default() += 1;
    }
}

fn get(counts: &BTreeMap<String, u64>, name: &str) -> u64 {
    counts.get(name).copied().unwrap_or(0)
}

/// Prints the counts as calls per minute, one line per method.
fn report(phase: &str, counts: &BTreeMap<String, u64>, blocks: u64, window: Duration) {
    let per_minute = |n: u64| n as f64 * 60.0 / window.as_secs_f64();
    println!("rpc calls, {phase}: {:.0} s, {blocks} new blocks ({:.0}/min)", window.as_secs_f64(), per_minute(blocks));
    for (method, n) in counts {
        println!("  {method:<32} {n:>6} = {:>7.1}/min", per_minute(*n));
    }
}

fn deployment() -> Option<(Process, String, Miner, CountingProxy)> {
    let (anvil, url) = anvil()?;
    let miner = Miner::start(&url, false);
    let proxy = CountingProxy::start(&url);
    Some((anvil, url, miner, proxy))
}

#[test]
fn rpc_calls_stay_bounded_at_idle_and_during_a_submission() {
    let Some((_anvil, url, _miner, proxy)) = deployment() else { return };
    let dir = scratch("rpc-calls");
    let (db, log) = (dir.join("p.db"), dir.join("run.seqlog"));
    let (db_arg, log_arg) = (db.to_str().unwrap(), log.to_str().unwrap());
    // A long max wait: an open batch with nothing sealed must not age into danger while
    // the node idles for the measurement.
    let via = proxy.url();
    let mut args = run_args(&via, db_arg, log_arg);
    let wait = args.iter().position(|arg| *arg == "--max-wait-blocks").unwrap() + 1;
    args[wait] = "600";
    let command =
        Command::new(env!("CARGO_BIN_EXE_seqrec")).args(args).env("SEQREC_KEY", DEV_KEY).stderr(Stdio::piped()).spawn();
    let run = Process(command.unwrap());
    poll(Duration::from_secs(30), Duration::from_millis(100), &|| trace(log_arg), || {
        trace(log_arg).contains("decision admit")
    });
    // A submission, sealed at once (the open batch ages from the first block on): the
    // batches in flight are found by their receipts, not by reading unsafe blocks.
    for payload in ["0x01", "0x02", "0x03", "0x04"] {
        assert!(seqrec(&["seal", "--db", db_arg, "--payload", payload]).status.success());
    }
    let window = Duration::from_secs(15);
    let (busy, blocks) = proxy.measure(&url, window);
    report("submitting 4 batches", &busy, blocks, window);
    assert!(get(&busy, FULL_BLOCKS) <= blocks + 2, "{busy:?} for {blocks} new blocks");
    assert!(get(&busy, "eth_getTransactionReceipt") > 0, "landings came from receipts: {busy:?}");
    let status = || String::from_utf8_lossy(&seqrec(&["status", "--db", db_arg, "--log", log_arg]).stdout).into_owned();
    poll(Duration::from_secs(30), Duration::from_millis(300), &status, || {
        status().lines().filter(|line| line.contains(" Gold ")).count() >= 4
    });

    // Idle: each new block is fetched once, when it becomes safe; nothing else is read
    // whole, and with nothing in flight no receipt is asked for.
    let (idle, blocks) = proxy.measure(&url, 2 * window);
    report("idle", &idle, blocks, 2 * window);
    assert!(get(&idle, FULL_BLOCKS) <= blocks + 2, "{idle:?} for {blocks} new blocks");
    assert_eq!(get(&idle, "eth_getTransactionReceipt"), 0, "{idle:?}");
    stop_cleanly(run);
    assert_replays(&log);
}

#[test]
fn rpc_calls_during_a_recovery() {
    let Some((_anvil, url)) = anvil() else { return };
    let proxy = CountingProxy::start(&url);
    let dir = scratch("rpc-calls-recovery");
    let (db, log) = (dir.join("p.db"), dir.join("run.seqlog"));
    let (db_arg, log_arg) = (db.to_str().unwrap(), log.to_str().unwrap());
    let miner = drive_into_danger(&proxy.url(), db_arg, log_arg);
    miner.censor(false);
    let head = || quantity(&rpc_result(&url, "eth_blockNumber", "[]").unwrap());
    let (start, first_block) = (Instant::now(), head());
    proxy.counts.lock().unwrap().clear();
    // Restarted: flush, post-flush sync, cascade, recovery batch, until generation 1.
    let second = start_run(&proxy.url(), db_arg, log_arg);
    let generation = || String::from_utf8_lossy(&seqrec(&["status", "--db", db_arg]).stdout).into_owned();
    poll(Duration::from_secs(90), Duration::from_millis(200), &generation, || generation().starts_with("generation 1"));
    let (window, blocks) = (start.elapsed(), head() - first_block);
    let counts = proxy.counts.lock().unwrap().clone();
    report("restart to recovery (generation 1)", &counts, blocks, window);
    // The restart's first sync reads the blocks mined while no process ran; after that,
    // each block once, like at idle.
    assert!(get(&counts, FULL_BLOCKS) <= 2 * blocks + 30, "{counts:?} for {blocks} new blocks");
    stop_cleanly(second);
    assert_replays(&log);
}
