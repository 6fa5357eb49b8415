//! The SQLite projection: applying every `db` effect of a run equals reconciling from the
//! run's final state; applying them twice (a crash replay) changes nothing; the seal
//! queue hands payloads over in order; a newer schema is refused.

use effects::Store;
use effects::sim::{scenario, simulate};
use effects::sqlite::SqliteStore;
use machine::Effect;

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("seqrec-sqlite-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn applied_effects_equal_the_reconciled_state_and_repeat_idempotently() {
    for name in ["congestion", "nonce-poisoning", "tip-ages"] {
        let report = simulate(&scenario::by_name(name).unwrap(), 1);
        let dir = scratch(name);
        let mut applied = SqliteStore::open(&dir.join("applied.db")).unwrap();
        for _ in 0..2 {
            for (_, effects) in &report.log.records {
                for effect in effects {
                    if let Effect::Db { op, write } = effect {
                        applied.apply(*op, write).unwrap();
                    }
                }
            }
        }
        let mut reconciled = SqliteStore::open(&dir.join("reconciled.db")).unwrap();
        reconciled.reconcile(&report.state).unwrap();
        assert_eq!(applied.batches().unwrap(), reconciled.batches().unwrap(), "{name}: batches");
        assert_eq!(applied.meta().unwrap(), reconciled.meta().unwrap(), "{name}: meta");
        assert_eq!(applied.meta().unwrap().generation, report.state.generation());
        let history = applied.submissions().unwrap();
        for row in reconciled.submissions().unwrap() {
            assert!(history.contains(&row), "{name}: {row:?} missing from the applied history");
        }
    }
}

#[test]
fn the_seal_queue_hands_payloads_over_once_in_order() {
    let dir = scratch("seals");
    let mut store = SqliteStore::open(&dir.join("p.db")).unwrap();
    store.enqueue_seal(b"one").unwrap();
    store.enqueue_seal(b"two").unwrap();
    // A second connection, as the inclusion lane's process would have.
    let mut executor = SqliteStore::open(&dir.join("p.db")).unwrap();
    assert_eq!(executor.take_seal().unwrap().as_deref(), Some(&b"one"[..]));
    assert_eq!(executor.take_seal().unwrap().as_deref(), Some(&b"two"[..]));
    assert_eq!(executor.take_seal().unwrap(), None);
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = scratch("newer");
    let path = dir.join("p.db");
    drop(SqliteStore::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let error = SqliteStore::open(&path).unwrap_err().to_string();
    assert!(error.contains("schema version 99 is newer"), "{error}");
}
