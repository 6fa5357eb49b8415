//! Batches of the sizes production sends land and turn Gold against anvil (Prague rules,
//! whose calldata floor once kept every batch over ~830 bytes out of blocks); one over
//! `max_batch_bytes` is refused back to its queue row with the sizes. Payloads too large
//! for a command-line argument, queued by `seqrec seal` from a file and from standard
//! input, are taken and land the same.

use effects::sqlite::{SealStatus, SqliteStore};

use super::{Case, assert_sealed_exactly_once, sealed_payloads, state_of, wait_all_gold};
use crate::cli::seal_with;
use crate::live::{Miner, anvil, assert_replays};

/// Incompressible, non-zero bytes: the costliest calldata per byte.
fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| u8::try_from((i * 31 + usize::from(seed)) % 255 + 1).unwrap_or(1)).collect()
}

#[test]
fn kilobyte_batches_up_to_the_limit_land_and_one_over_it_is_refused() {
    let Some((_anvil, url)) = anvil() else { return };
    let _miner = Miner::start(&url, false);
    let case = Case::new("sizes");
    let run = case.run(&url);
    case.wait_admitted(1);
    // 122,880 bytes of batch = 25 bytes of wire header + 122,855 of payload.
    let sizes = [1_024, 16_384, 102_400, 122_855];
    let ids: Vec<u64> = sizes.iter().zip(1..).map(|(&len, seed)| case.seal(&payload(len, seed))).collect();
    let over = case.seal(&payload(122_856, 9));
    wait_all_gold(&case.log(), ids.last().copied(), &run);
    run.stop_cleanly();

    let state = state_of(&case.log());
    let sealed: Vec<usize> = sealed_payloads(&state).iter().map(|(bytes, ..)| bytes.len()).collect();
    assert_eq!(sealed, sizes, "each size sealed once, in order");
    assert_eq!(state.scheduler().expected_nonce.0, 4, "all four accepted (Gold)");
    let rows = SqliteStore::open(&case.db()).unwrap().seal_rows().unwrap();
    let refused = rows.iter().find(|row| row.id == over).unwrap();
    assert_eq!(refused.status, SealStatus::Rejected);
    assert_eq!(refused.reason.as_deref(), Some("batch of 122881 bytes > max_batch_bytes 122880"));
    assert_replays(&case.log());
}

#[test]
fn payloads_queued_by_seqrec_seal_from_a_file_and_stdin_are_taken_and_land() {
    let Some((_anvil, url)) = anvil() else { return };
    let _miner = Miner::start(&url, false);
    let case = Case::new("seal-file-stdin");
    let run = case.run(&url);
    case.wait_admitted(1);
    // 65,216 bytes: 130,432 hex digits, near Linux's 128 KiB cap on one argument; 122,855:
    // the largest payload the default max_batch_bytes takes (a 120 KiB batch).
    let file = case.path("payload.bin");
    let small = payload(65_216, 11);
    std::fs::write(&file, &small).unwrap();
    let large = payload(122_855, 12);
    let db = case.db();
    let queued = [
        seal_with(&db, &["--payload-file", file.to_str().unwrap()], &[]),
        seal_with(&db, &["--payload-file", "-"], &large),
    ];
    wait_all_gold(&case.log(), queued.last().copied(), &run);
    run.stop_cleanly();

    let state = state_of(&case.log());
    let sealed: Vec<Vec<u8>> = sealed_payloads(&state).into_iter().map(|(bytes, ..)| bytes).collect();
    assert_eq!(sealed, [small.clone(), large.clone()], "each payload sealed once, byte for byte, in order");
    let rows = SqliteStore::open(&db).unwrap().seal_rows().unwrap();
    assert!(rows.iter().all(|row| row.status == SealStatus::Sealed), "{rows:?}");
    assert_sealed_exactly_once(&state, &[(queued[0], small), (queued[1], large)], &rows, 122_880);
    assert_replays(&case.log());
}
