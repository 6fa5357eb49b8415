//! `seqrec run` against a real node: anvil on 127.0.0.1 at a free port, with
//! `--slots-in-an-epoch` so `safe` lags the head. Gated at run time by `SEQREC_ANVIL`
//! (`.ci/run` and `cargo xtask anvil` install a pinned anvil).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// anvil's first dev account: a public test key that anvil funds.
const DEV_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn anvil() -> Option<(Process, String)> {
    let Ok(binary) = std::env::var("SEQREC_ANVIL") else {
        eprintln!("SEQREC_ANVIL is not set: anvil test skipped (run `cargo xtask anvil`)");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
    let child = Command::new(binary)
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--chain-id", "31337"])
        .args(["--block-time", "1", "--slots-in-an-epoch", "2", "--silent"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start anvil: {error}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "anvil did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some((Process(child), format!("http://127.0.0.1:{port}")))
}

fn seqrec(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_seqrec")).args(args).output().unwrap_or_else(|error| panic!("seqrec: {error}"))
}

#[test]
fn run_happy_path_against_anvil_then_replay_offline() {
    let Some((_anvil, url)) = anvil() else { return };
    let dir = std::env::temp_dir().join(format!("seqrec-anvil-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (db, log) = (dir.join("p.db"), dir.join("run.seqlog"));
    let (db_arg, log_arg) = (db.to_str().unwrap(), log.to_str().unwrap());
    let mut run = Process(
        Command::new(env!("CARGO_BIN_EXE_seqrec"))
            .args(["run", "--rpc", &url, "--db", db_arg, "--log", log_arg, "--chain-id", "31337"])
            .args(["--inbox", "0x2222222222222222222222222222222222222222", "--max-wait-blocks", "20"])
            .args(["--preemptive-margin-blocks", "5", "--seconds-per-block", "1"])
            .args(["--detector-interval-ms", "300", "--submit-interval-ms", "300"])
            .env("SEQREC_KEY", DEV_KEY)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    for payload in ["0x01", "0x02"] {
        let sealed = seqrec(&["seal", "--db", db_arg, "--payload", payload]);
        assert!(sealed.status.success(), "{sealed:?}");
    }
    // Both batches land and become safe; the core folds them on its next detector sync.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = seqrec(&["status", "--db", db_arg]);
        let text = String::from_utf8_lossy(&status.stdout).into_owned();
        let closed = text.lines().filter(|line| line.contains("0x") && line.contains("valid")).count();
        if closed >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "batches never closed:\n{text}");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(6));
    // SIGTERM: a clean shutdown, exit 0.
    let pid = run.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = run.0.wait().unwrap();
    let mut stderr = String::new();
    if let Some(mut pipe) = run.0.stderr.take() {
        use std::io::Read as _;
        let _ = pipe.read_to_string(&mut stderr);
    }
    assert_eq!(status.code(), Some(0), "{stderr}");
    // Offline: the log replays to identical effects, and the batches are Gold.
    let replayed = seqrec(&["replay", log_arg]);
    assert!(replayed.status.success(), "{}", String::from_utf8_lossy(&replayed.stdout));
    let status = seqrec(&["status", "--db", db_arg, "--log", log_arg]);
    let text = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(text.lines().filter(|line| line.contains(" Gold ")).count() >= 2, "{text}\n{stderr}");
}
