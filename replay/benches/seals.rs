//! Seals per second that `seqrec run` sustains, with its fsync per record and one SQLite
//! transaction per step, while this process (the inclusion lane) queues seals into the
//! same database concurrently. Needs `SEQREC_ANVIL` (`cargo xtask anvil`); anvil mines a
//! block a second on 127.0.0.1.

// A benchmark that cannot set itself up stops with the reason; that is its whole job.
#![allow(clippy::expect_used, clippy::panic, clippy::cast_precision_loss)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use effects::sqlite::{SealStatus, SqliteStore};

/// anvil's first dev account: a public test key that anvil funds.
const DEV_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// Seals queued by the lane during the measurement.
const SEALS: u64 = 2_000;
/// A payload of realistic size.
const PAYLOAD_BYTES: usize = 1_024;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_or(18_545, |a| a.port())
}

fn counts(store: &SqliteStore) -> (u64, u64) {
    let rows = store.seal_rows().unwrap_or_default();
    let sealed = rows.iter().filter(|row| row.status == SealStatus::Sealed).count() as u64;
    (sealed, rows.len() as u64)
}

fn main() {
    let Ok(anvil) = std::env::var("SEQREC_ANVIL") else {
        println!("seals: skipped (SEQREC_ANVIL is not set; run `cargo xtask anvil`)");
        return;
    };
    let dir = std::env::temp_dir().join(format!("seqrec-bench-seals-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    let port = free_port();
    let _anvil = Killed(
        Command::new(anvil)
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--block-time", "1", "--silent"])
            .args(["--slots-in-an-epoch", "2"])
            .stdout(Stdio::null())
            .spawn()
            .expect("anvil starts"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let (db, log) = (dir.join("p.db"), dir.join("run.seqlog"));
    let run = Killed(
        Command::new(env!("CARGO_BIN_EXE_seqrec"))
            .args(["run", "--rpc", &format!("http://127.0.0.1:{port}"), "--chain-id", "31337"])
            .args(["--inbox", "0x2222222222222222222222222222222222222222", "--seconds-per-block", "1"])
            .args(["--max-wait-blocks", "400", "--preemptive-margin-blocks", "100"])
            .arg("--db")
            .arg(&db)
            .arg("--log")
            .arg(&log)
            .env("SEQREC_KEY", DEV_KEY)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("seqrec run starts"),
    );
    // Admitted once a first seal is taken.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut lane = loop {
        if let Ok(store) = SqliteStore::open(&db) {
            break store;
        }
        assert!(Instant::now() < deadline, "the database never appeared");
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = lane.enqueue_seal(&[0; PAYLOAD_BYTES]);
    while counts(&lane).0 < 1 {
        assert!(Instant::now() < deadline, "seqrec run never admitted");
        std::thread::sleep(Duration::from_millis(50));
    }
    let watcher = SqliteStore::open(&db).expect("a second connection");
    let start = Instant::now();
    let sealer = std::thread::spawn(move || {
        for n in 0..SEALS {
            let mut payload = vec![0xa5; PAYLOAD_BYTES];
            payload[..8].copy_from_slice(&n.to_be_bytes());
            lane.enqueue_seal(&payload).expect("the lane queues");
        }
        start.elapsed()
    });
    let deadline = Instant::now() + Duration::from_secs(600);
    while counts(&watcher).0 < SEALS + 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let drained = start.elapsed();
    let queued = sealer.join().unwrap_or_default();
    let (sealed, rows) = counts(&watcher);
    let _ = Command::new("kill").args(["-TERM", &run.0.id().to_string()]).status();
    let per_s = |n: u64, d: Duration| n as f64 / d.as_secs_f64().max(1e-9);
    println!("seals of {PAYLOAD_BYTES} bytes, queued by a second process while `seqrec run` seals:");
    println!(
        "  lane queued {SEALS} in {:.2} s ({:.0} queued/s, one FULL-sync transaction each)",
        queued.as_secs_f64(),
        per_s(SEALS, queued)
    );
    println!(
        "  run sealed {} of {} in {:.2} s: {:.0} seals/s sustained (fdatasync per record + one transaction per step)",
        sealed.saturating_sub(1),
        rows.saturating_sub(1),
        drained.as_secs_f64(),
        per_s(sealed.saturating_sub(1), drained)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
