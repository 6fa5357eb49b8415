//! Case 5: the L1 node is killed under a running node (which keeps running locally or
//! exits 10/20, never crashes), then replaced by a fresh anvil with the same chain id on
//! the same port: the next boot refuses (30) on the genesis hash and sends nothing.

use std::time::{Duration, Instant};

use machine::Event;

use super::{Case, try_events, wait_all_gold};
use crate::live::{Miner, anvil_binary, dev_nonce, free_port, rpc_result, spawn_anvil};

fn genesis_hash(url: &str) -> String {
    rpc_result(url, "eth_getBlockByNumber", r#"["0x0",false]"#).unwrap()["hash"].as_str().unwrap().to_lowercase()
}

fn rpc_failures(log: &std::path::Path) -> usize {
    try_events(log).map_or(0, |events| events.iter().filter(|event| matches!(event, Event::RpcFailed(_))).count())
}

#[test]
fn the_l1_node_killed_then_replaced_by_a_fresh_chain_is_refused_on_its_genesis() {
    let Some(binary) = anvil_binary() else { return };
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let node = spawn_anvil(&binary, port, 31337, &[]);
    let miner = Miner::start(&url, false);
    let case = Case::new("l1-node");
    let log = case.log();
    let mut run = case.run(&url);
    case.wait_admitted(1);
    let id = case.seal(b"before the node dies");
    wait_all_gold(&log, Some(id), &run);
    let old_genesis = genesis_hash(&url);

    // Killed: the node's calls fail; the core keeps going from its stored view or exits
    // with one of its statuses, and the log says which calls failed.
    drop(miner);
    drop(node);
    let failures = rpc_failures(&log);
    let deadline = Instant::now() + Duration::from_secs(60);
    let exited = loop {
        if let Some(code) = run.exited_within(Duration::from_millis(200)) {
            break Some(code);
        }
        if rpc_failures(&log) >= failures + 20 {
            break None;
        }
        assert!(Instant::now() < deadline, "no RPC failures logged with the node down:\n{}", run.stderr());
    };
    eprintln!(
        "faults::l1_node: with the node down, run {}",
        exited.map_or("kept running".to_owned(), |code| format!("exited {code:?}"))
    );
    if let Some(code) = exited {
        assert!(matches!(code, Some(10 | 20)), "exited {code:?} with the node down:\n{}", run.stderr());
    }

    // Replaced: a fresh chain (another genesis time, so another genesis hash) with the
    // same chain id at the same address.
    let an_hour_ago = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 3600;
    let _fresh = spawn_anvil(&binary, port, 31337, &["--timestamp", &an_hour_ago.to_string()]);
    let _miner = Miner::start(&url, false);
    let new_genesis = genesis_hash(&url);
    assert_ne!(old_genesis, new_genesis);
    if exited.is_none() {
        // A process that kept running meets the fresh chain, with a payload to send: it
        // must stop (history rewritten once the new chain passes its safe head, or its
        // view gone stale) without sending anything there.
        case.seal(b"while the node is replaced");
        let code = run.exited_within(Duration::from_secs(120));
        let stderr = run.stderr();
        eprintln!("faults::l1_node: the running process met the fresh chain and exited {code:?}");
        assert!(matches!(code, Some(Some(10 | 20 | 30))), "{code:?}:\n{stderr}");
        if code == Some(Some(30)) {
            assert!(stderr.contains("L1 history rewritten"), "{stderr}");
        }
        assert_eq!(dev_nonce(&url, "pending"), 0, "the running process sent to the fresh chain");
    }
    let stderr = case.run(&url).expect_exit(Duration::from_secs(60), 30);
    // The operator is told which chain this log belongs to and which one answered.
    assert!(stderr.contains("genesis hash mismatch"), "{stderr}");
    assert!(stderr.contains(&old_genesis) && stderr.contains(&new_genesis), "both hashes named:\n{stderr}");
    // Nothing was sent to the fresh chain: the dev account's nonce there is still 0.
    assert_eq!(dev_nonce(&url, "pending"), 0, "a transaction reached the fresh chain");
}
