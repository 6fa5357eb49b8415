//! The Ethereum adapter against a real node: anvil on 127.0.0.1 at a free port, with
//! `--slots-in-an-epoch` so `safe` lags the head. Gated at run time by `SEQREC_ANVIL`
//! (the anvil binary; `.ci/run` and `cargo xtask anvil` install a pinned one).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use effects::L1;
use effects::eth::{EthL1, SigningKey};
use machine::event::Input;
use machine::{Address, BatchNonce, BlockNumber, WalletNonce};

/// anvil's first dev account (public test key, funded by anvil itself).
pub(crate) const DEV_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
pub(crate) const INBOX: Address = Address([0x22; 20]);

/// A running anvil, stopped on drop.
pub(crate) struct Anvil {
    child: Child,
    pub(crate) url: String,
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts anvil if `SEQREC_ANVIL` names it; `None` (test skipped, said on stderr) otherwise.
pub(crate) fn anvil(chain_id: u64) -> Option<Anvil> {
    let Ok(binary) = std::env::var("SEQREC_ANVIL") else {
        eprintln!("SEQREC_ANVIL is not set: anvil test skipped (run `cargo xtask anvil`)");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
    let child = Command::new(binary)
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--chain-id", &chain_id.to_string()])
        .args(["--block-time", "1", "--slots-in-an-epoch", "2", "--silent"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start anvil: {error}"));
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "anvil did not start listening on {url}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Anvil { child, url })
}

#[test]
fn the_adapter_reads_and_sends_against_anvil() {
    let Some(node) = anvil(31337) else { return };
    let key = SigningKey::parse(DEV_KEY).unwrap();
    let submitter = key.address();
    assert!(!format!("{key:?}").contains("ac0974"), "the key never shows");
    let mut l1 = EthL1::connect(&node.url, key, INBOX, Duration::from_secs(5)).unwrap();
    assert_eq!(l1.chain_id().unwrap(), 31337);
    let wire = machine::wire::encode(BatchNonce(0), BlockNumber(0), b"hello").unwrap();
    l1.send_batch(31337, WalletNonce(0), &wire).unwrap();
    assert!(matches!(l1.send_batch(1, WalletNonce(1), &wire), Err(effects::SendError::WrongChain { found: 31337 })));
    l1.send_noop(31337, WalletNonce(1)).unwrap();
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
    let _ = submitter;
}
