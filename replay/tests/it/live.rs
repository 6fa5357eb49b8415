//! What the live tests (`anvil.rs`, `faults/`) share: anvil on 127.0.0.1 with
//! `--no-mining --slots-in-an-epoch 2` (so `safe` lags the head), a test miner, plain
//! JSON-RPC calls, and `seqrec` commands. Gated at run time by `SEQREC_ANVIL` (`.ci/run`
//! and `cargo xtask anvil` install a pinned anvil).

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// anvil's first dev account: a public test key that anvil funds.
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
    let binary = std::env::var("SEQREC_ANVIL").ok();
    if binary.is_none() {
        eprintln!("SEQREC_ANVIL is not set: anvil test skipped (run `cargo xtask anvil`)");
    }
    binary
}

/// A port nothing listens on right now.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub(crate) fn anvil() -> Option<(Process, String)> {
    anvil_on_chain(31337)
}

pub(crate) fn anvil_on_chain(chain_id: u64) -> Option<(Process, String)> {
    let binary = anvil_binary()?;
    let port = free_port();
    Some((spawn_anvil(&binary, port, chain_id, &[]), format!("http://127.0.0.1:{port}")))
}

/// Starts anvil on `port` and waits until it accepts connections.
pub(crate) fn spawn_anvil(binary: &str, port: u16, chain_id: u64, extra: &[&str]) -> Process {
    let child = Command::new(binary)
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--chain-id", &chain_id.to_string()])
        .args(["--no-mining", "--slots-in-an-epoch", "2", "--silent"])
        .args(extra)
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
/// While censoring it also keeps the raw bytes of the first of our transactions it drops,
/// as a node elsewhere would (a zombie).
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
                        if kept.is_none() {
                            *kept = first_pending_raw(&url);
                        }
                        drop(kept);
                        rpc(&url, "anvil_dropAllTransactions", "[]");
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
    let body = response.split("\r\n\r\n").nth(1)?;
    let value: serde_json::Value = serde_json::from_str(body.trim()).ok()?;
    Some(value["result"].clone())
}

/// One JSON-RPC call over plain HTTP (a test needs no client library for it); an empty
/// answer when nothing listens.
pub(crate) fn rpc(url: &str, method: &str, params: &str) -> String {
    use std::io::{Read as _, Write as _};
    let address = url.trim_start_matches("http://");
    let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{params}}}"#);
    let Ok(mut stream) = std::net::TcpStream::connect(address) else { return String::new() };
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

/// `seqrec run` with the test deployment's arguments and the dev key, not yet spawned.
pub(crate) fn run_command(url: &str, db: &str, log: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_seqrec"));
    command.args(run_args(url, db, log)).env("SEQREC_KEY", DEV_KEY);
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
