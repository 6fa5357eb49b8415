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
        // Pruned batches (docs/protocol.md §11.6) stay in a projection as history; the state knows
        // only the rest, which must be row for row what the effects wrote.
        let tree = report.state.tree();
        let first_kept = tree.next_index().0 - tree.batches().len() as u64;
        let kept: Vec<_> = applied.batches().unwrap().into_iter().filter(|row| row.batch_index >= first_kept).collect();
        assert_eq!(kept, reconciled.batches().unwrap(), "{name}: batches");
        assert_eq!(applied.meta().unwrap(), reconciled.meta().unwrap(), "{name}: meta");
        assert_eq!(applied.meta().unwrap().generation, report.state.generation());
        // A boot's reconcile keeps the pruned rows.
        let all = applied.batches().unwrap();
        assert!(all.len() > tree.batches().len() || tree.pruned().count == 0, "{name}: nothing pruned to keep");
        applied.reconcile(&report.state).unwrap();
        assert_eq!(applied.batches().unwrap(), all, "{name}: a reconcile dropped history");
        let history = applied.submissions().unwrap();
        for row in reconciled.submissions().unwrap() {
            assert!(history.contains(&row), "{name}: {row:?} missing from the applied history");
        }
    }
}

#[test]
fn the_seal_queue_hands_payloads_over_in_order_and_only_the_core_marks_them() {
    use effects::sqlite::SealStatus;
    use machine::{BatchIndex, DbWrite, Hash32, OpId};
    let dir = scratch("seals");
    let mut store = SqliteStore::open(&dir.join("p.db")).unwrap();
    store.enqueue_seal(b"one").unwrap();
    store.enqueue_seal(b"two").unwrap();
    // A second connection, as the inclusion lane's process would have.
    let mut executor = SqliteStore::open(&dir.join("p.db")).unwrap();
    // docs/protocol.md §11.5: looking at a row does not take it (a crash here loses nothing).
    assert_eq!(executor.peek_seal(None).unwrap(), Some((1, b"one".to_vec())));
    assert_eq!(executor.peek_seal(None).unwrap(), Some((1, b"one".to_vec())));
    assert_eq!(executor.peek_seal(Some(1)).unwrap(), Some((2, b"two".to_vec())));
    let close = DbWrite::CloseBatch { batch_index: BatchIndex(0), wire_hash: Hash32([1; 32]), seal_id: Some(1) };
    let reject = DbWrite::RejectSeal { seal_id: 2, wire_bytes: 200_000, max_batch_bytes: 122_880 };
    executor.apply_all(&[(OpId(0), close), (OpId(1), reject)]).unwrap();
    assert_eq!(executor.peek_seal(None).unwrap(), None);
    let rows = executor.seal_rows().unwrap();
    assert_eq!((rows[0].status, rows[0].batch_index), (SealStatus::Sealed, Some(0)));
    assert_eq!(rows[1].status, SealStatus::Rejected);
    assert!(rows[1].reason.as_deref().is_some_and(|r| r.contains("200000 bytes > max_batch_bytes 122880")), "{rows:?}");
}

/// A row no batch can hold (a payload the lane stored as text or a number, or one longer
/// than any batch) is refused in the queue with its reason and kept, and the rows after
/// it are still handed over: it never blocks the queue, and never reaches the log.
#[test]
fn a_row_no_batch_can_hold_is_refused_and_does_not_block_the_queue() {
    use effects::sqlite::SealStatus;
    let dir = scratch("seal-bad-rows");
    let mut store = SqliteStore::open(&dir.join("p.db")).unwrap();
    let lane = rusqlite::Connection::open(dir.join("p.db")).unwrap();
    lane.execute("INSERT INTO seal_queue (payload) VALUES ('0xdeadbeef')", []).unwrap();
    lane.execute("INSERT INTO seal_queue (payload) VALUES (42)", []).unwrap();
    let too_long = i64::try_from(machine::MAX_MAX_BATCH_BYTES).unwrap() + 1;
    lane.execute("INSERT INTO seal_queue (payload) VALUES (zeroblob(?1))", [too_long]).unwrap();
    store.enqueue_seal(b"good").unwrap();
    assert_eq!(store.peek_seal(None).unwrap(), Some((4, b"good".to_vec())));
    let rows = store.seal_rows().unwrap();
    let reasons: Vec<_> = rows.iter().map(|row| (row.status, row.reason.clone().unwrap_or_default())).collect();
    assert_eq!(
        reasons[0],
        (SealStatus::Rejected, "payload stored as text, not a BLOB: bind the bytes as a blob".into())
    );
    assert_eq!(
        reasons[1],
        (SealStatus::Rejected, "payload stored as integer, not a BLOB: bind the bytes as a blob".into())
    );
    assert_eq!(
        reasons[2],
        (SealStatus::Rejected, format!("payload of {too_long} bytes: no batch can hold more than 33554432 bytes"))
    );
    assert_eq!(reasons[3].0, SealStatus::Queued, "{rows:?}");
    // The lane's rows keep their payloads: nothing is lost, the lane can read and re-queue them.
    let kept: i64 =
        lane.query_row("SELECT count(*) FROM seal_queue WHERE payload IS NOT NULL", [], |row| row.get(0)).unwrap();
    assert_eq!(kept, 4);
}

/// A crash after the `seal` records were durable but before their writes ran: boot's
/// reconcile marks the rows from the log's state (sealed or refused), none stays queued.
#[test]
fn reconcile_marks_the_rows_the_log_consumed() {
    use effects::sqlite::SealStatus;
    use machine::event::{Boot, ChainId, L1, Seal};
    use machine::{Bytes, Event, UnixMillis};
    let dir = scratch("seal-reconcile");
    let mut store = SqliteStore::open(&dir.join("p.db")).unwrap();
    for payload in [vec![1_u8; 10], vec![2; 300], vec![3; 10]] {
        store.enqueue_seal(&payload).unwrap();
    }
    let config = machine::RawConfig { max_batch_bytes: Some(100), ..scenario::test_config() };
    let seal = |id: u64, payload: Vec<u8>| Event::Seal(Seal { id: Some(id), payload: Bytes(payload) });
    let events = [
        Event::Boot(Boot { now_ms: UnixMillis(1_000_000), config }),
        Event::ChainId(ChainId { chain_id: 31337, genesis_hash: None }),
        Event::L1(L1 {
            now_ms: UnixMillis(1_000_000),
            safe_block: machine::BlockNumber(10),
            safe_timestamp: 1_000,
            inputs: vec![],
            from_block: None,
            safe_hash: None,
            parent_hash: None,
            partial: false,
        }),
        seal(1, vec![1; 10]),
        seal(2, vec![2; 300]),
    ];
    let mut state = machine::State::new();
    for event in &events {
        state = machine::step(state, event).0;
    }
    assert_eq!(state.last_seal_id(), Some(2), "both seals consumed");
    store.reconcile(&state).unwrap();
    let status: Vec<_> = store.seal_rows().unwrap().into_iter().map(|row| row.status).collect();
    assert_eq!(status, [SealStatus::Sealed, SealStatus::Rejected, SealStatus::Queued]);
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
