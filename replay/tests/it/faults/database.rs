//! Case 4: the SQLite projection fails under `run` — locked by another writer past the
//! busy timeout, read-only, or deleted while the node was stopped.

use std::process::Command;
use std::time::{Duration, Instant};

use effects::sqlite::SqliteStore;

use super::{Case, sealed_payloads, state_of, wait_all_gold};
use crate::live::{INBOX, Miner, anvil, assert_replays};

/// A first run that seals `payloads`, sees them accepted, and stops cleanly.
fn first_run(case: &Case, url: &str, db: &std::path::Path, payloads: &[&[u8]]) {
    let run = case.run_on(url, &case.log(), db, &["--inbox", INBOX, "--max-wait-blocks", "20"]);
    case.wait_admitted(1);
    let mut store = SqliteStore::open(db).unwrap();
    let ids: Vec<u64> = payloads.iter().map(|payload| store.enqueue_seal(payload).unwrap()).collect();
    wait_all_gold(&case.log(), ids.last().copied(), &run);
    run.stop_cleanly();
}

#[test]
fn a_database_locked_past_the_busy_timeout_at_boot_exits_retry_naming_it() {
    let Some((_anvil, url)) = anvil() else { return };
    let _miner = Miner::start(&url, false);
    let case = Case::new("db-locked");
    let db = case.db();
    first_run(&case, &url, &db, &[b"locked"]);
    // Another process (this test) holds the write lock longer than run's busy timeout.
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = Instant::now();
    let stderr = case.run(&url).expect_exit(Duration::from_secs(60), 20);
    eprintln!("faults::db_locked: gave up after {:?}", started.elapsed());
    // Retry (systemd restarts on 20): the lock is someone else's and passes.
    assert!(stderr.contains(db.to_str().unwrap()), "the message names the database:\n{stderr}");
    assert!(stderr.contains("locked") || stderr.contains("busy"), "{stderr}");
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    // The lock gone, the next boot runs; the refused boot damaged nothing.
    let run = case.run(&url);
    case.wait_admitted(2);
    run.stop_cleanly();
    assert_replays(&case.log());
}

/// Remounts `dir` read-only over itself; `None` (with a message) where that is refused.
fn read_only_bind(dir: &std::path::Path) -> Option<ReadOnly> {
    let ok = |args: &[&str]| Command::new("mount").args(args).arg(dir).arg(dir).status().is_ok_and(|s| s.success());
    if !ok(&["--bind"]) {
        crate::gate::skip("the read-only bind mount part: mount --bind refused", crate::gate::Needs::Root);
        return None;
    }
    let guard = ReadOnly(dir.to_owned());
    let remounted = Command::new("mount").args(["-o", "remount,bind,ro"]).arg(dir).status();
    assert!(remounted.is_ok_and(|s| s.success()), "bind-mounted, but the read-only remount failed");
    Some(guard)
}

struct ReadOnly(std::path::PathBuf);

impl Drop for ReadOnly {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// One boot refused on a read-only projection.
struct Refusal {
    /// `None`: still running after 60 s; `Some(None)`: killed by a signal.
    exited: Option<Option<i32>>,
    stderr: String,
    db: String,
}

/// Boots on a read-only projection — chmod 0444 where that binds (not as root, whom file
/// modes do not stop), a read-only bind mount where mounting is allowed — and returns the
/// refusals; then checks that the node, writable again, boots and its log replays.
fn refusals_on_a_read_only_database(name: &'static str) -> Option<Vec<Refusal>> {
    let (_anvil, url) = anvil()?;
    let _miner = Miner::start(&url, false);
    let case = Case::new(name);
    std::fs::create_dir_all(case.path("db")).unwrap();
    let db = case.path("db/p.db");
    first_run(&case, &url, &db, &[b"read-only"]);
    let flags = ["--inbox", INBOX, "--max-wait-blocks", "20"];
    let boot = || {
        let mut run = case.run_on(&url, &case.log(), &db, &flags);
        let exited = run.exited_within(Duration::from_secs(60));
        let refusal = Refusal { exited, stderr: run.stderr(), db: db.display().to_string() };
        eprintln!("faults::{name}: exit {:?}: {}", refusal.exited, refusal.stderr.trim_end());
        refusal
    };
    let mut refusals = Vec::new();
    let root = Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.starts_with(b"0\n"));
    if root {
        eprintln!("faults::{name}: chmod 0444 part skipped: root ignores file modes");
    } else {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
        refusals.push(boot());
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    if let Some(read_only) = read_only_bind(&case.path("db")) {
        refusals.push(boot());
        drop(read_only);
    }
    if refusals.is_empty() {
        eprintln!("faults::{name}: skipped: no way to make the database read-only here");
    }
    // Writable again: the node boots, and the refused boots damaged nothing.
    let run = case.run_on(&url, &case.log(), &db, &flags);
    case.wait_admitted(2);
    run.stop_cleanly();
    assert_replays(&case.log());
    Some(refusals)
}

#[test]
fn a_read_only_database_stops_run_with_an_exit_status_not_a_signal() {
    let Some(refusals) = refusals_on_a_read_only_database("db-ro-status") else { return };
    for Refusal { exited, stderr, db } in refusals {
        // A status, not a signal or a hang, not a panic: 30 (refuse), as a restart cannot
        // make the file writable; and a message naming the file.
        let Some(Some(code)) = exited else { panic!("no exit status within 60 s: {exited:?}\n{stderr}") };
        assert_eq!(code, 30, "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(stderr.contains(&db), "the message names the database:\n{stderr}");
    }
}

#[test]
fn a_read_only_database_is_reported_as_read_only() {
    let Some(refusals) = refusals_on_a_read_only_database("db-ro-message") else { return };
    for Refusal { stderr, db, .. } in refusals {
        // The operator must learn what to fix: the message says read-only (the path aside).
        let message = stderr.replace(&db, "").to_lowercase();
        assert!(message.contains("read-only") || message.contains("readonly"), "{stderr}");
    }
}

#[test]
fn a_database_deleted_while_stopped_is_rebuilt_from_the_log() {
    let Some((_anvil, url)) = anvil() else { return };
    let _miner = Miner::start(&url, false);
    let case = Case::new("db-deleted");
    let db = case.db();
    first_run(&case, &url, &db, &[b"one", b"two", b"three"]);
    for file in ["p.db", "p.db-wal", "p.db-shm"] {
        let _ = std::fs::remove_file(case.path(file));
    }
    // The boot reconciles the new, empty projection from the log.
    let run = case.run(&url);
    case.wait_admitted(2);
    run.stop_cleanly();
    let state = state_of(&case.log());
    let expected: Vec<String> =
        state.tree().batches().iter().filter_map(|batch| Some(batch.sealed.as_ref()?.wire_hash.to_string())).collect();
    let rebuilt: Vec<String> =
        SqliteStore::open(&db).unwrap().batches().unwrap().into_iter().filter_map(|row| row.wire_hash).collect();
    assert_eq!(sealed_payloads(&state).len(), 3, "the log holds the three sealed batches");
    assert_eq!(rebuilt, expected, "every sealed batch is back in the projection");
    assert_replays(&case.log());
}
