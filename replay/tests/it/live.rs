//! What the live tests (`anvil.rs`, `hardhat.rs`, `faults/`) share: a real node on
//! 127.0.0.1 at a free port that mines only when told ([`Node`]: anvil with
//! `--no-mining --slots-in-an-epoch 2`, so `safe` lags the head; hardhat's EDR node, whose
//! `safe` is its head, so `run` gets `--safe-depth 2` there) or that mines every second by
//! itself ([`Node::start_mining_every_second`], `resend_live.rs`), a test miner, plain
//! JSON-RPC calls, and `seqrec` commands. Gated at run time by `SEQREC_ANVIL` / `SEQREC_HARDHAT`
//! (`cargo xtask ci` and `cargo xtask nodes` install the pinned nodes; `gate.rs` decides
//! whether a missing node skips or fails).

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// anvil's first dev account: a public test key that anvil funds. hardhat derives its
/// default accounts from the same mnemonic ("test test … junk"), so it is hardhat's
/// account #0 too, funded alike.
pub(crate) const DEV_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// The address of [`DEV_KEY`].
pub(crate) const DEV_ADDRESS: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
/// The test deployment's inbox.
pub(crate) const INBOX: &str = "0x2222222222222222222222222222222222222222";

/// A child process killed (SIGKILL) and reaped when dropped.
pub(crate) struct Process(pub(crate) Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Process {
    /// Waits at most `within` for the process to exit.
    pub(crate) fn wait_for(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM (through `kill`: the tests use no `libc`).
    pub(crate) fn terminate(&self) {
        assert!(Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status().unwrap().success());
    }
}

/// The anvil binary, or `None` (with a message) when the live tests are off.
pub(crate) fn anvil_binary() -> Option<String> {
    Node::Anvil.binary()
}

/// The `--safe-depth` the tests give `seqrec run` against hardhat: anvil's lag with
/// `--slots-in-an-epoch 2`, so both nodes run the same deployment.
pub(crate) const HARDHAT_SAFE_DEPTH: &str = "2";

/// A real node the live tests run against, and its test controls (each node names its
/// own: `anvil_*` or `hardhat_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Node {
    Anvil,
    Hardhat,
}

impl Node {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Node::Anvil => "anvil",
            Node::Hardhat => "hardhat",
        }
    }

    fn variable(self) -> &'static str {
        match self {
            Node::Anvil => "SEQREC_ANVIL",
            Node::Hardhat => "SEQREC_HARDHAT",
        }
    }

    /// The node's binary, or `None` (with a message) when its tests are off.
    pub(crate) fn binary(self) -> Option<String> {
        let binary = std::env::var(self.variable()).ok();
        if binary.is_none() {
            let why = format!("{} is not set (run `cargo xtask nodes`)", self.variable());
            crate::gate::skip(&why, crate::gate::Needs::Node);
        }
        binary
    }

    /// The node serving `url`, told by its client version (anvil when nothing answers).
    pub(crate) fn at(url: &str) -> Node {
        let version = rpc_result(url, "web3_clientVersion", "[]").unwrap_or_default();
        if version.as_str().is_some_and(|version| version.starts_with("HardhatNetwork")) {
            Node::Hardhat
        } else {
            Node::Anvil
        }
    }

    /// Starts the node for chain 31337 at a free port: the process and its URL.
    pub(crate) fn start(self) -> Option<(Process, String)> {
        self.start_on_chain(31337)
    }

    pub(crate) fn start_on_chain(self, chain_id: u64) -> Option<(Process, String)> {
        let binary = self.binary()?;
        let port = free_port();
        let process = match self {
            Node::Anvil => spawn_anvil(&binary, port, chain_id, &[]),
            Node::Hardhat => spawn_hardhat(&binary, port, chain_id),
        };
        Some((process, format!("http://127.0.0.1:{port}")))
    }

    /// Starts the node for chain 31337 mining a block every second by itself, with blocks
    /// of `gas_limit`: anvil with `--block-time 1 --slots-in-an-epoch SAFE_LAG` (its `safe`
    /// is `latest − SAFE_LAG`), hardhat with `mining.interval` 1000 (`run` then needs
    /// `--safe-depth SAFE_LAG`).
    pub(crate) fn start_mining_every_second(self, safe_lag: u64, gas_limit: u64) -> Option<(Process, String)> {
        let binary = self.binary()?;
        let port = free_port();
        let process = match self {
            Node::Anvil => {
                let (lag, gas) = (safe_lag.to_string(), gas_limit.to_string());
                let args =
                    ["--chain-id", "31337", "--block-time", "1", "--slots-in-an-epoch", &lag, "--gas-limit", &gas];
                start_anvil(&binary, port, &args)
            }
            Node::Hardhat => {
                let network = format!("mining: {{ auto: false, interval: 1000 }}, blockGasLimit: {gas_limit}");
                spawn_hardhat_with(&binary, port, 31337, &network)
            }
        };
        Some((process, format!("http://127.0.0.1:{port}")))
    }

    /// `anvil_x` or `hardhat_x`.
    fn control(self, method: &str) -> String {
        format!("{}_{method}", self.name())
    }

    /// Mines `blocks` empty-or-not blocks at once.
    pub(crate) fn mine(self, url: &str, blocks: u64) {
        ok(url, &self.control("mine"), &format!(r#"["0x{blocks:x}"]"#));
    }

    /// The next block's base fee, in wei.
    pub(crate) fn set_next_base_fee(self, url: &str, wei: u128) {
        ok(url, &self.control("setNextBlockBaseFeePerGas"), &format!(r#"["0x{wei:x}"]"#));
    }

    /// Mining on every transaction, or only when told.
    pub(crate) fn set_automine(self, url: &str, on: bool) {
        ok(url, "evm_setAutomine", &format!("[{on}]"));
    }

    pub(crate) fn set_balance(self, url: &str, address: &str, wei: u128) {
        ok(url, &self.control("setBalance"), &format!(r#"["{address}","0x{wei:x}"]"#));
    }

    /// Removes one pending transaction from the node's pool.
    pub(crate) fn drop_transaction(self, url: &str, hash: &str) {
        ok(url, &self.control("dropTransaction"), &format!(r#"["{hash}"]"#));
    }

    /// Empties the node's pool. hardhat has no call for it: its pending transactions
    /// (`eth_pendingTransactions`) are dropped one by one.
    pub(crate) fn drop_pending(self, url: &str) {
        match self {
            Node::Anvil => ok(url, "anvil_dropAllTransactions", "[]"),
            Node::Hardhat => {
                let pending = rpc_result(url, "eth_pendingTransactions", "[]").unwrap_or_default();
                for tx in pending.as_array().into_iter().flatten() {
                    if let Some(hash) = tx["hash"].as_str() {
                        self.drop_transaction(url, hash);
                    }
                }
            }
        }
    }
}

/// A control call the test relies on; a node that refuses it fails the test.
fn ok(url: &str, method: &str, params: &str) {
    let response = rpc(url, method, params);
    let body = response_body(&response).unwrap_or_default();
    let value: serde_json::Value = serde_json::from_str(body.trim()).unwrap_or_default();
    // An empty answer is a node that is gone (the test is ending): nothing to check.
    assert!(response.is_empty() || value.get("error").is_none(), "{method} {params}: {body}");
}

/// Starts hardhat's EDR node on `port` and waits until it accepts connections (a few
/// seconds). hardhat runs only inside a project that has it installed locally, so the
/// node gets a scratch project: a `hardhat.config.js` (the chain id, Prague, mining only
/// when told, like anvil's `--no-mining`) and a `node_modules` link to the installation
/// `binary` belongs to (`…/node_modules/.bin/hardhat`).
pub(crate) fn spawn_hardhat(binary: &str, port: u16, chain_id: u64) -> Process {
    spawn_hardhat_with(binary, port, chain_id, "mining: { auto: false, interval: 0 }")
}

/// [`spawn_hardhat`] with `network` (the JavaScript of more fields of the `hardhat`
/// network: mining, gas limit) in place of mining only when told.
fn spawn_hardhat_with(binary: &str, port: u16, chain_id: u64, network: &str) -> Process {
    let project = std::env::temp_dir().join(format!("seqrec-hardhat-{}-{port}", std::process::id()));
    let _ = std::fs::remove_dir_all(&project);
    std::fs::create_dir_all(&project).unwrap();
    let config = format!(
        "module.exports = {{ networks: {{ hardhat: {{ chainId: {chain_id}, hardfork: \"prague\", {network} }} }} }};\n"
    );
    std::fs::write(project.join("hardhat.config.js"), config).unwrap();
    let installed = Path::new(binary).canonicalize().unwrap_or_else(|error| panic!("{binary}: {error}"));
    let modules = installed
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|name| name == "node_modules"))
        .unwrap_or_else(|| panic!("{binary} is not inside a node_modules directory"));
    std::os::unix::fs::symlink(modules, project.join("node_modules")).unwrap();
    let child = Command::new(binary)
        .args(["node", "--hostname", "127.0.0.1", "--port", &port.to_string()])
        .current_dir(&project)
        .env("HARDHAT_DISABLE_TELEMETRY_PROMPT", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start hardhat: {error}"));
    let mut process = Process(child);
    let deadline = Instant::now() + Duration::from_secs(90);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(process.wait_for(Duration::ZERO).is_none(), "hardhat exited at start (port {port} taken?)");
        assert!(Instant::now() < deadline, "hardhat did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    process
}

/// A port nothing listens on right now.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub(crate) fn anvil() -> Option<(Process, String)> {
    anvil_on_chain(31337)
}

pub(crate) fn anvil_on_chain(chain_id: u64) -> Option<(Process, String)> {
    Node::Anvil.start_on_chain(chain_id)
}

/// Starts anvil on `port`, mining only when told, and waits until it accepts connections.
pub(crate) fn spawn_anvil(binary: &str, port: u16, chain_id: u64, extra: &[&str]) -> Process {
    let chain_id = chain_id.to_string();
    let args = [&["--chain-id", chain_id.as_str(), "--no-mining", "--slots-in-an-epoch", "2"], extra].concat();
    start_anvil(binary, port, &args)
}

/// Starts anvil on `port` with `args` and waits until it accepts connections.
fn start_anvil(binary: &str, port: u16, args: &[&str]) -> Process {
    let child = Command::new(binary)
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--silent"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start anvil: {error}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "anvil did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Process(child)
}

pub(crate) fn seqrec(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_seqrec")).args(args).output().unwrap_or_else(|error| panic!("seqrec: {error}"))
}

/// Mines one block a second (the deployment's block time), first dropping every pending
/// transaction while censoring: a deterministic way to hold our sends out of blocks.
/// While censoring on anvil it also keeps the raw bytes of the first of our transactions
/// it drops, as a node elsewhere would (a zombie); hardhat serves no raw pending bytes.
pub(crate) struct Miner {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    censor: std::sync::Arc<std::sync::atomic::AtomicBool>,
    zombie: std::sync::Arc<std::sync::Mutex<Option<String>>>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Miner {
    pub(crate) fn start(url: &str, censoring: bool) -> Miner {
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let censor = std::sync::Arc::new(AtomicBool::new(censoring));
        let zombie = std::sync::Arc::new(std::sync::Mutex::new(None));
        let node = Node::at(url);
        let handle = {
            let (url, stop, censor, zombie) = (
                url.to_owned(),
                std::sync::Arc::clone(&stop),
                std::sync::Arc::clone(&censor),
                std::sync::Arc::clone(&zombie),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(1000));
                    if censor.load(Ordering::Relaxed) {
                        let mut kept = zombie.lock().unwrap();
                        if kept.is_none() && node == Node::Anvil {
                            *kept = first_pending_raw(&url);
                        }
                        drop(kept);
                        node.drop_pending(&url);
                    }
                    rpc(&url, "evm_mine", "[]");
                }
            })
        };
        Miner { stop, censor, zombie, handle: Some(handle) }
    }

    pub(crate) fn censor(&self, on: bool) {
        self.censor.store(on, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn zombie(&self) -> Option<String> {
        self.zombie.lock().unwrap().clone()
    }
}

impl Drop for Miner {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// The raw bytes of the first pending transaction in anvil's pool, if any.
fn first_pending_raw(url: &str) -> Option<String> {
    let content = rpc_result(url, "txpool_content", "[]")?;
    let hash = content["pending"]
        .as_object()?
        .values()
        .flat_map(|by_nonce| by_nonce.as_object().into_iter().flatten())
        .find_map(|(_, tx)| tx["hash"].as_str().map(str::to_owned))?;
    rpc_result(url, "eth_getRawTransactionByHash", &format!(r#"["{hash}"]"#))?.as_str().map(str::to_owned)
}

/// The `result` of a JSON-RPC call.
pub(crate) fn rpc_result(url: &str, method: &str, params: &str) -> Option<serde_json::Value> {
    let response = rpc(url, method, params);
    let body = response_body(&response)?;
    let value: serde_json::Value = serde_json::from_str(body.trim()).ok()?;
    Some(value["result"].clone())
}

/// The body of an HTTP response, its chunks joined when it came chunked (hardhat).
fn response_body(response: &str) -> Option<String> {
    let (head, body) = response.split_once("\r\n\r\n")?;
    if !head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        return Some(body.to_owned());
    }
    let (mut rest, mut joined) = (body, String::new());
    loop {
        let (size, after) = rest.split_once("\r\n")?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(joined);
        }
        joined.push_str(after.get(..size)?);
        rest = after.get(size..)?.strip_prefix("\r\n")?;
    }
}

/// One JSON-RPC call over plain HTTP (a test needs no client library for it); an empty
/// answer when nothing listens.
pub(crate) fn rpc(url: &str, method: &str, params: &str) -> String {
    use std::io::{Read as _, Write as _};
    let address = url.trim_start_matches("http://");
    let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{params}}}"#);
    let Ok(mut stream) = std::net::TcpStream::connect(address) else { return String::new() };
    // A node (or a proxy) that never closes must not hang a test: an empty answer.
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(stream, "POST / HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

/// A JSON-RPC quantity (`"0x1f"`) as a number.
pub(crate) fn quantity(value: &serde_json::Value) -> u64 {
    u64::from_str_radix(value.as_str().unwrap_or("0x0").trim_start_matches("0x"), 16).unwrap()
}

/// The dev account's transaction count at `tag` (`latest`, `pending`, `safe`).
pub(crate) fn dev_nonce(url: &str, tag: &str) -> u64 {
    quantity(&rpc_result(url, "eth_getTransactionCount", &format!(r#"["{DEV_ADDRESS}","{tag}"]"#)).unwrap())
}

/// Every transaction mined so far whose recipient is `to` (lower case), as `(from, input)`.
pub(crate) fn transactions_to(url: &str, to: &str) -> Vec<(String, String)> {
    let head = quantity(&rpc_result(url, "eth_blockNumber", "[]").unwrap());
    let mut found = Vec::new();
    for number in 0..=head {
        let block = rpc_result(url, "eth_getBlockByNumber", &format!(r#"["0x{number:x}",true]"#)).unwrap();
        for tx in block["transactions"].as_array().into_iter().flatten() {
            if tx["to"].as_str().is_some_and(|address| address.eq_ignore_ascii_case(to)) {
                let field = |name: &str| tx[name].as_str().unwrap_or_default().to_owned();
                found.push((field("from"), field("input")));
            }
        }
    }
    found
}

/// The arguments of a test deployment: max wait 20, margin 5, 1 s blocks.
pub(crate) fn run_args<'a>(url: &'a str, db: &'a str, log: &'a str) -> Vec<&'a str> {
    vec![
        "run",
        "--rpc",
        url,
        "--db",
        db,
        "--log",
        log,
        "--chain-id",
        "31337",
        "--inbox",
        INBOX,
        "--max-wait-blocks",
        "20",
        "--preemptive-margin-blocks",
        "5",
        "--seconds-per-block",
        "1",
        "--detector-interval-ms",
        "300",
        "--submit-interval-ms",
        "300",
    ]
}

/// `seqrec run` with the test deployment's arguments and the dev key, not yet spawned;
/// against hardhat also with [`HARDHAT_SAFE_DEPTH`] (its `safe` tag is its head).
pub(crate) fn run_command(url: &str, db: &str, log: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_seqrec"));
    command.args(run_args(url, db, log)).env("SEQREC_KEY", DEV_KEY);
    if Node::at(url) == Node::Hardhat {
        command.env("SEQREC_SAFE_DEPTH", HARDHAT_SAFE_DEPTH);
    }
    command
}

pub(crate) fn start_run(url: &str, db: &str, log: &str) -> Process {
    Process(run_command(url, db, log).stderr(Stdio::piped()).spawn().unwrap())
}

pub(crate) fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("seqrec-anvil-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) fn trace(log: &str) -> String {
    String::from_utf8_lossy(&seqrec(&["trace", log]).stdout).into_owned()
}

/// Polls `done` every `every` until it holds, failing with `what` after `within`.
pub(crate) fn poll(within: Duration, every: Duration, what: &dyn Fn() -> String, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "timed out after {within:?}: {}", what());
        std::thread::sleep(every);
    }
}

/// Waits for `seqrec run` to exit, returning its status and standard error.
pub(crate) fn finish(mut run: Process) -> (Option<i32>, String) {
    let status = run.0.wait().unwrap();
    let mut stderr = String::new();
    if let Some(mut pipe) = run.0.stderr.take() {
        use std::io::Read as _;
        let _ = pipe.read_to_string(&mut stderr);
    }
    (status.code(), stderr)
}

/// SIGTERM, then the clean-shutdown status 0; returns the process's standard error.
pub(crate) fn stop_cleanly(run: Process) -> String {
    run.terminate();
    let (code, stderr) = finish(run);
    assert_eq!(code, Some(0), "a clean shutdown exits 0:\n{stderr}");
    stderr
}

/// `seqrec replay LOG` succeeds: the hash chain verifies and every step re-executes to
/// the recorded effects with every invariant holding.
pub(crate) fn assert_replays(log: &Path) {
    let replayed = seqrec(&["replay", log.to_str().unwrap()]);
    assert!(
        replayed.status.success(),
        "{}: replay failed:\n{}{}",
        log.display(),
        String::from_utf8_lossy(&replayed.stdout),
        String::from_utf8_lossy(&replayed.stderr)
    );
}
