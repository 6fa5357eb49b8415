//! `seqrec run` against a real node: anvil on 127.0.0.1 at a free port, with
//! `--slots-in-an-epoch` so `safe` lags the head. Gated at run time by `SEQREC_ANVIL`
//! (`cargo xtask ci` and `cargo xtask nodes` install a pinned anvil). The happy path and the
//! incident are generic over the node and run against hardhat too (`hardhat.rs`).

use std::process::Command;
use std::time::{Duration, Instant};

use crate::live::{
    DEV_KEY, Miner, Node, anvil, anvil_on_chain, finish, poll, rpc, rpc_result, run_args, scratch, seqrec, start_run,
    stop_cleanly, trace,
};

#[test]
fn wrong_chain_id_refuses_with_nothing_read_or_sent() {
    let Some((_anvil, url)) = anvil_on_chain(1) else { return };
    let dir = scratch("wrong-chain");
    let (db, log) = (dir.join("p.db"), dir.join("run.seqlog"));
    let out = Command::new(env!("CARGO_BIN_EXE_seqrec"))
        .args(run_args(&url, db.to_str().unwrap(), log.to_str().unwrap()))
        .args(["--log-format", "json"])
        .env("SEQREC_KEY", DEV_KEY)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(30), "{stderr}");
    // Structured logs: one JSON object per line, the refusal among them; the key never shows.
    let refusal = stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|line| line["fields"]["decision"] == "refuse");
    assert!(refusal.is_some(), "{stderr}");
    assert!(!stderr.contains("ac0974bec39a17e3"), "the key never appears");
    let text = trace(log.to_str().unwrap());
    assert!(text.contains("chain id mismatch: node reports 1, config says 31337"), "{text}");
    for effect in ["sync_l1", "read_wallet", "submit", "noop"] {
        assert!(!text.contains(&format!("\"fx\":\"{effect}\"")), "{effect} happened:\n{text}");
    }
    keep_as_fixture(&log, "anvil-wrong-chain-id");
}

#[test]
fn rpc_down_at_a_first_boot_exits_retry() {
    if crate::live::anvil_binary().is_none() {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}"); // nothing listens here once the listener is dropped
    let dir = scratch("rpc-down");
    let (db, log) = (dir.join("p.db"), dir.join("run.seqlog"));
    let out = Command::new(env!("CARGO_BIN_EXE_seqrec"))
        .args(run_args(&url, db.to_str().unwrap(), log.to_str().unwrap()))
        .env("SEQREC_KEY", DEV_KEY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(20), "{}", String::from_utf8_lossy(&out.stderr));
    let text = trace(log.to_str().unwrap());
    assert!(text.contains("danger l1_view_stale decision retry - no safe head has been observed yet"), "{text}");
    keep_as_fixture(&log, "anvil-rpc-down-at-boot");
}

#[test]
fn run_happy_path_against_anvil_then_replay_offline() {
    happy_path(Node::Anvil);
}

/// `count` KiB of non-zero bytes, as `seqrec seal --payload` takes them.
pub(crate) fn kib_payload(count: usize, seed: u8) -> String {
    machine::encode_hex(&kib_bytes(count, seed))
}

/// The bytes of [`kib_payload`], as the inclusion lane queues them.
pub(crate) fn kib_bytes(count: usize, seed: u8) -> Vec<u8> {
    (0..count * 1024).map(|i| ((i * 31 + usize::from(seed)) % 255 + 1) as u8).collect()
}

/// Batches of 1 KiB and 16 KiB land and turn Gold; SIGTERM exits 0; the log replays
/// offline to identical effects.
pub(crate) fn happy_path(node: Node) {
    let Some((_node, url)) = node.start() else { return };
    let _miner = Miner::start(&url, false);
    let dir = scratch(&format!("{}-happy-path", node.name()));
    let (db, log) = (dir.join("p.db"), dir.join("run.seqlog"));
    let (db_arg, log_arg) = (db.to_str().unwrap(), log.to_str().unwrap());
    let run = start_run(&url, db_arg, log_arg);
    // Sealed once admitted: `seal` during the boot's reconcile may find the database busy.
    poll(Duration::from_secs(30), Duration::from_millis(100), &|| trace(log_arg), || {
        trace(log_arg).contains("decision admit")
    });
    for payload in [kib_payload(1, 1), kib_payload(16, 2), kib_payload(1, 3)] {
        let sealed = seqrec(&["seal", "--db", db_arg, "--payload", &payload]);
        assert!(sealed.status.success(), "{sealed:?}");
    }
    // The batches land and become safe; the core folds them on its next detector sync.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = seqrec(&["status", "--db", db_arg, "--log", log_arg]);
        let text = String::from_utf8_lossy(&status.stdout).into_owned();
        if text.lines().filter(|line| line.contains(" Gold ")).count() >= 3 {
            break;
        }
        assert!(Instant::now() < deadline, "batches never turned Gold on {}:\n{text}", node.name());
        std::thread::sleep(Duration::from_millis(300));
    }
    // SIGTERM: a clean shutdown, exit 0.
    let stderr = stop_cleanly(run);
    // Offline: the log replays to identical effects, and the batches are Gold.
    let replayed = seqrec(&["replay", log_arg]);
    assert!(replayed.status.success(), "{}", String::from_utf8_lossy(&replayed.stdout));
    let status = seqrec(&["status", "--db", db_arg, "--log", log_arg]);
    let text = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(text.lines().filter(|line| line.contains(" Gold ")).count() >= 3, "{text}\n{stderr}");
    keep_as_fixture(&log, &format!("{}-happy-path", node.name()));
}

/// Holds every send out of blocks and runs a first process with one sealed batch until
/// its detector exits `recovery_required`; returns the still-censoring miner.
pub(crate) fn drive_into_danger(url: &str, db: &str, log: &str) -> Miner {
    let miner = Miner::start(url, true);
    let first = start_run(url, db, log);
    let sealed = seqrec(&["seal", "--db", db, "--payload", "0x01"]);
    assert!(sealed.status.success(), "seal: {}", String::from_utf8_lossy(&sealed.stderr));
    let (code, stderr) = finish(first);
    assert_eq!(code, Some(10), "the detector exits recovery_required:\n{stderr}");
    assert!(stderr.contains("closed_batch_in_danger") || stderr.contains("estimated_batch_in_danger"), "{stderr}");
    miner
}

#[test]
fn incident_batch_held_out_of_blocks_then_recovery_against_anvil() {
    incident(Node::Anvil);
}

/// The stale-batch incident: a batch held out of blocks until the danger exit, then the
/// restart's flush, cascade and recovery batch; a later seal lands Gold.
pub(crate) fn incident(node: Node) {
    let Some((_node, url)) = node.start() else { return };
    let dir = scratch(&format!("{}-incident", node.name()));
    let (db, log) = (dir.join("p.db"), dir.join("run.seqlog"));
    let (db_arg, log_arg) = (db.to_str().unwrap(), log.to_str().unwrap());
    // Every pending transaction is dropped before each block: our batch is held out of
    // blocks while the chain goes on, until the detector sees it in danger.
    let miner = drive_into_danger(&url, db_arg, log_arg);
    miner.censor(false);

    // Restarted: flush with no-ops, cascade, recovery batch; a new seal then lands Gold.
    let second = start_run(&url, db_arg, log_arg);
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let text = String::from_utf8_lossy(&seqrec(&["status", "--db", db_arg]).stdout).into_owned();
        if text.starts_with("generation 1") {
            break;
        }
        assert!(Instant::now() < deadline, "no recovery:\n{text}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(seqrec(&["seal", "--db", db_arg, "--payload", "0x02"]).status.success());
    std::thread::sleep(Duration::from_secs(8));
    let stderr = stop_cleanly(second);
    let text = trace(log_arg);
    for expected in
        ["decision flush", "\"fx\":\"noop\"", "decision post_flush_sync", "decision cascade", "generation 1"]
    {
        assert!(text.contains(expected), "missing `{expected}`:\n{stderr}");
    }
    // The second process numbers its steps as the whole log does: its cascade line's
    // step is the audit's (and the trace's) #N of the cascade, not a count from its start.
    let logged = stderr.lines().find(|line| line.contains("decision") && line.contains("cascade"));
    let logged_step = logged.and_then(|line| line.split("step=").nth(1)?.split(' ').next()?.parse::<u64>().ok());
    let audit = String::from_utf8_lossy(&seqrec(&["audit", log_arg]).stdout).into_owned();
    let audited = audit
        .lines()
        .find(|line| line.contains(" cascade "))
        .and_then(|line| line.split_whitespace().find_map(|word| word.strip_prefix('#')?.parse::<u64>().ok()));
    assert!(logged_step.is_some() && logged_step == audited, "run says {logged:?}, audit #{audited:?}:\n{audit}");
    assert!(text.contains(&format!("#{} ", audited.unwrap_or_default())), "the trace numbers it alike");
    let replayed = seqrec(&["replay", log_arg]);
    assert!(replayed.status.success(), "{}", String::from_utf8_lossy(&replayed.stdout));
    let status = String::from_utf8_lossy(&seqrec(&["status", "--db", db_arg, "--log", log_arg]).stdout).into_owned();
    assert!(
        status.contains(" Gold ") && status.contains("invalid"),
        "the recovery batch is Gold, the doomed one invalid:\n{status}"
    );
    keep_as_fixture(&log, &format!("{}-incident", node.name()));
}

/// With `SEQREC_KEEP_ANVIL_LOGS` set, keeps a real-L1 log in `fixtures/logs/`, where CI
/// replays it without a node.
pub(crate) fn keep_as_fixture(log: &std::path::Path, name: &str) {
    if std::env::var_os("SEQREC_KEEP_ANVIL_LOGS").is_some() {
        let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../fixtures/logs/{name}.seqlog"));
        std::fs::copy(log, target).unwrap();
    }
}

#[test]
fn sigkill_in_the_middle_of_a_submission_then_restart_converges() {
    let Some((_anvil, url)) = anvil() else { return };
    let dir = scratch("sigkill");
    let (db, log) = (dir.join("p.db"), dir.join("run.seqlog"));
    let (db_arg, log_arg) = (db.to_str().unwrap(), log.to_str().unwrap());
    // Hold sends out of blocks so the process is killed with a batch sent but not landed.
    let miner = Miner::start(&url, true);
    let mut first = start_run(&url, db_arg, log_arg);
    assert!(seqrec(&["seal", "--db", db_arg, "--payload", "0x01"]).status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    while !String::from_utf8_lossy(&seqrec(&["trace", log_arg]).stdout).contains("\"write\":\"record_submission\"") {
        assert!(Instant::now() < deadline, "nothing was ever sent");
        std::thread::sleep(Duration::from_millis(100));
    }
    first.0.kill().unwrap(); // SIGKILL
    let _ = first.0.wait();
    miner.censor(false);
    // A kill can tear the last record; repair keeps every whole one (and says so).
    assert!(seqrec(&["repair", log_arg]).status.success());

    let second = start_run(&url, db_arg, log_arg);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = String::from_utf8_lossy(&seqrec(&["status", "--db", db_arg]).stdout).into_owned();
        let landed = rpc(&url, "eth_getTransactionCount", r#"["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266","safe"]"#);
        if !landed.contains("\"result\":\"0x0\"") && status.contains("0x") {
            break;
        }
        assert!(Instant::now() < deadline, "the batch never landed after the restart:\n{status}\n{landed}");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(3));
    let stderr = stop_cleanly(second);
    let replayed = seqrec(&["replay", log_arg]);
    assert!(replayed.status.success(), "{}", String::from_utf8_lossy(&replayed.stdout));
    let status = String::from_utf8_lossy(&seqrec(&["status", "--db", db_arg, "--log", log_arg]).stdout).into_owned();
    assert!(
        status.contains(" Gold ") && status.starts_with("generation 0"),
        "nothing lost, no recovery needed:\n{status}\n{stderr}"
    );
    keep_as_fixture(&log, "anvil-sigkill-mid-submission");
}

#[test]
fn zombie_rebroadcast_during_recovery_never_breaks_the_outcome() {
    let Some((_anvil, url)) = anvil() else { return };
    let dir = scratch("zombie");
    let (db, log) = (dir.join("p.db"), dir.join("run.seqlog"));
    let (db_arg, log_arg) = (db.to_str().unwrap(), log.to_str().unwrap());
    let miner = drive_into_danger(&url, db_arg, log_arg);
    miner.censor(false);
    let raw = miner.zombie().expect("the miner kept the dropped batch's raw bytes");
    // Restarted, and the batch the node forgot comes back from elsewhere during recovery:
    // the flush's no-op must hold the slot, or the batch lands first; either way the
    // outcome must be correct.
    let second = start_run(&url, db_arg, log_arg);
    for _ in 0..10 {
        rpc(&url, "eth_sendRawTransaction", &format!(r#"["{raw}"]"#));
        std::thread::sleep(Duration::from_millis(300));
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let trace = trace(log_arg);
        if trace.contains("decision admit") && trace.matches("decision admit").count() >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "no second admission");
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(seqrec(&["seal", "--db", db_arg, "--payload", "0x02"]).status.success());
    std::thread::sleep(Duration::from_secs(8));
    let stderr = stop_cleanly(second);
    // The replay checks every invariant: no Gold batch invalidated, no divergence.
    let replayed = seqrec(&["replay", log_arg]);
    assert!(replayed.status.success(), "{}", String::from_utf8_lossy(&replayed.stdout));
    let status = String::from_utf8_lossy(&seqrec(&["status", "--db", db_arg, "--log", log_arg]).stdout).into_owned();
    assert!(status.contains("divergence none") && status.contains(" Gold "), "{status}\n{stderr}");
    keep_as_fixture(&log, "anvil-zombie");
}

/// A TCP proxy in front of anvil that can be cut: while cut, connections are accepted
/// and closed at once, so every RPC call fails as it would with the node down.
struct Proxy {
    port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Proxy {
    fn start(target: &str) -> Proxy {
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let target = target.trim_start_matches("http://").to_owned();
        let up = std::sync::Arc::new(AtomicBool::new(true));
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let (thread_up, thread_stop) = (std::sync::Arc::clone(&up), std::sync::Arc::clone(&stop));
        std::thread::spawn(move || {
            while !thread_stop.load(Ordering::Relaxed) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                if !thread_up.load(Ordering::Relaxed) {
                    drop(client);
                    continue;
                }
                let Ok(server) = std::net::TcpStream::connect(&target) else { continue };
                let _ = client.set_nonblocking(false);
                let (mut client_read, mut server_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (mut server_read, mut client_write) = (server, client);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut client_read, &mut server_write);
                    let _ = server_write.shutdown(std::net::Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut server_read, &mut client_write);
                    // The node closed: so does the client's side (a `Connection: close`
                    // reader waits for it).
                    let _ = client_write.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        Proxy { port, up, stop }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn set_up(&self, up: bool) {
        self.up.store(up, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

#[test]
fn rpc_down_at_a_warm_restart_admits_seals_locally_and_verifies_the_chain_first() {
    let Some((_anvil, url)) = anvil() else { return };
    let _miner = Miner::start(&url, false);
    let proxy = Proxy::start(&url);
    let dir = scratch("warm-restart");
    let (db, log) = (dir.join("p.db"), dir.join("run.seqlog"));
    let (db_arg, log_arg) = (db.to_str().unwrap(), log.to_str().unwrap());
    let via = proxy.url();
    // A first run syncs and admits: the stored view is fresh.
    let first = start_run(&via, db_arg, log_arg);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !trace(log_arg).contains("decision admit") {
        assert!(Instant::now() < deadline, "never admitted");
        std::thread::sleep(Duration::from_millis(100));
    }
    stop_cleanly(first);
    // The node is unreachable at the restart: the warm node admits from its fresh view
    // and keeps sealing locally.
    proxy.set_up(false);
    let second = start_run(&via, db_arg, log_arg);
    let deadline = Instant::now() + Duration::from_secs(10);
    while trace(log_arg).matches("decision admit").count() < 2 {
        assert!(Instant::now() < deadline, "the warm restart did not admit:\n{}", trace(log_arg));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(seqrec(&["seal", "--db", db_arg, "--payload", "0x01"]).status.success());
    std::thread::sleep(Duration::from_secs(2));
    // The node returns: the chain id is verified before the first read, then the batch lands.
    proxy.set_up(true);
    std::thread::sleep(Duration::from_secs(8));
    let stderr = stop_cleanly(second);
    let text = trace(log_arg);
    let boot = text.rfind("decision initial_sync").unwrap();
    let after = &text[boot..];
    assert!(after.contains("initial sync: chain_id read failed; inspecting from the stored view"), "{after}");
    assert!(after.contains("sealed batch"), "sealed locally while the node was down");
    let verified = after.find("chain id 31337 verified").expect("verified when the node returned");
    let first_read = after.find("\"fx\":\"sync_l1\"").expect("a read after the node returned");
    assert!(verified < first_read, "the chain id is verified before the first read");
    let replayed = seqrec(&["replay", log_arg]);
    assert!(replayed.status.success(), "{}", String::from_utf8_lossy(&replayed.stdout));
    let status = String::from_utf8_lossy(&seqrec(&["status", "--db", db_arg, "--log", log_arg]).stdout).into_owned();
    assert!(status.contains(" Gold "), "the batch sealed offline landed:\n{status}\n{stderr}");
    keep_as_fixture(&log, "anvil-rpc-down-at-warm-restart");
}

#[test]
fn sigkill_in_the_middle_of_a_flush_then_restart_converges() {
    let Some((_anvil, url)) = anvil() else { return };
    let dir = scratch("sigkill-flush");
    let (db, log) = (dir.join("p.db"), dir.join("run.seqlog"));
    let (db_arg, log_arg) = (db.to_str().unwrap(), log.to_str().unwrap());
    let miner = drive_into_danger(&url, db_arg, log_arg);
    // Keep censoring so the flush's no-op cannot land before the kill.
    let mut second = start_run(&url, db_arg, log_arg);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !trace(log_arg).contains("\"fx\":\"noop\"") {
        assert!(Instant::now() < deadline, "no flush");
        std::thread::sleep(Duration::from_millis(50));
    }
    second.0.kill().unwrap(); // SIGKILL in the middle of the flush
    let _ = second.0.wait();
    miner.censor(false);
    assert!(seqrec(&["repair", log_arg]).status.success());
    let third = start_run(&url, db_arg, log_arg);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !String::from_utf8_lossy(&seqrec(&["status", "--db", db_arg]).stdout).starts_with("generation 1") {
        assert!(Instant::now() < deadline, "no recovery after the kill:\n{}", trace(log_arg));
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(seqrec(&["seal", "--db", db_arg, "--payload", "0x02"]).status.success());
    std::thread::sleep(Duration::from_secs(8));
    let stderr = stop_cleanly(third);
    let text = trace(log_arg);
    assert_eq!(text.matches("\"write\":\"bump_generation\"").count(), 1, "the generation bumps once:\n{stderr}");
    let replayed = seqrec(&["replay", log_arg]);
    assert!(replayed.status.success(), "{}", String::from_utf8_lossy(&replayed.stdout));
    let status = String::from_utf8_lossy(&seqrec(&["status", "--db", db_arg, "--log", log_arg]).stdout).into_owned();
    assert!(status.contains(" Gold ") && status.contains("divergence none"), "{status}");
    keep_as_fixture(&log, "anvil-sigkill-mid-flush");
}

#[test]
fn the_ethereum_adapter_reads_and_sends_against_anvil() {
    use effects::L1 as _;
    use effects::eth::{EthL1, SigningKey};
    use machine::event::Input;
    use machine::{Address, BatchNonce, BlockNumber, WalletNonce};

    let Some((_anvil, url)) = anvil() else { return };
    let _miner = Miner::start(&url, false);
    let key = SigningKey::parse(DEV_KEY).unwrap();
    assert!(!format!("{key:?}").contains("ac0974"), "the key never shows");
    let mut l1 = EthL1::connect(&url, key, Address([0x22; 20]), Duration::from_secs(5)).unwrap();
    let identity = l1.chain_id().unwrap();
    assert_eq!(identity.chain_id, 31337);
    assert!(identity.genesis_hash.is_some_and(|hash| hash != machine::Hash32::default()), "{identity:?}");
    let wire = machine::wire::encode(BatchNonce(0), BlockNumber(0), b"hello").unwrap();
    l1.send_batch(31337, WalletNonce(0), &wire, None, None).unwrap();
    assert!(matches!(
        l1.send_batch(1, WalletNonce(1), &wire, None, None),
        Err(effects::SendError::WrongChain { found: 31337 })
    ));
    l1.send_noop(31337, WalletNonce(1), None).unwrap();
    // Wait until both are safe.
    let deadline = Instant::now() + Duration::from_secs(30);
    let counts = loop {
        let counts = l1.wallet().unwrap();
        if counts.safe.0 >= 2 {
            break counts;
        }
        assert!(Instant::now() < deadline, "never safe: {counts:?}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(counts.latest.0 >= 2 && counts.pending >= counts.latest, "{counts:?}");
    let sync = l1.sync_safe(BlockNumber(0)).unwrap();
    let landings: Vec<_> = sync
        .inputs
        .iter()
        .filter_map(|input| match input {
            Input::Batch(landing) => Some(landing.clone()),
            Input::Direct { .. } => None,
        })
        .collect();
    assert_eq!(landings.len(), 1, "one batch landing (the no-op is not an inbox input): {:?}", sync.inputs);
    assert_eq!((landings[0].nonce, landings[0].w_nonce, landings[0].decodes), (BatchNonce(0), WalletNonce(0), true));
    assert_eq!(landings[0].wire_hash, Some(machine::wire::wire_hash(&wire)));
    assert!(sync.safe_block.0 >= landings[0].block.0);
    // docs/protocol.md §11.2: the next range's parent is the head this answer reported.
    let next = l1.sync_safe(BlockNumber(sync.safe_block.0 + 1)).unwrap();
    assert!(sync.safe_hash.is_some() && !sync.partial);
    assert_eq!(next.parent_hash, sync.safe_hash, "{sync:?} then {next:?}");

    // docs/protocol.md §11.4: third-party inputs of 3 KB, one per block, read with a 4 KB budget come
    // as chained partial answers that together equal the one full answer.
    let other = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"; // anvil's second dev account
    let data = format!("0x{}", "ab".repeat(3_000));
    for _ in 0..3 {
        let tx = format!(r#"[{{"from":"{other}","to":"0x{}","data":"{data}"}}]"#, "22".repeat(20));
        rpc(&url, "eth_sendTransaction", &tx);
        let height = |url: &str| rpc_result(url, "eth_blockNumber", "[]").and_then(|v| v.as_str().map(str::to_owned));
        let before = height(&url);
        let deadline = Instant::now() + Duration::from_secs(10);
        while height(&url) == before {
            assert!(Instant::now() < deadline, "no block mined");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let full = loop {
        let full = l1.sync_safe(BlockNumber(0)).unwrap();
        let direct = full.inputs.iter().filter(|input| matches!(input, Input::Direct { .. })).count();
        if direct == 3 {
            break full;
        }
        assert!(Instant::now() < deadline, "the inputs never became safe: {direct}");
        std::thread::sleep(Duration::from_millis(300));
    };
    let mut l1 = l1.with_sync_budget(4_096);
    let (mut from, mut inputs, mut parent, mut answers) = (BlockNumber(0), Vec::new(), None, 0);
    loop {
        let part = l1.sync_safe(from).unwrap();
        answers += 1;
        if parent.is_some() {
            assert_eq!(part.parent_hash, parent, "each answer continues the previous one");
        }
        inputs.extend(part.inputs.iter().cloned());
        (from, parent) = (BlockNumber(part.safe_block.0 + 1), part.safe_hash);
        if !part.partial || part.safe_block >= full.safe_block {
            break;
        }
    }
    assert!(answers >= 3, "a 4 KB budget splits 9 KB of inputs: {answers} answer(s)");
    let full_direct: Vec<_> = full.inputs.iter().filter(|i| matches!(i, Input::Direct { .. })).collect();
    let split_direct: Vec<_> = inputs.iter().filter(|i| matches!(i, Input::Direct { .. })).collect();
    assert_eq!(full_direct, split_direct);
}
