//! Batches of the sizes production sends land and turn Gold against anvil (Prague rules,
//! whose calldata floor once kept every batch over ~830 bytes out of blocks); one over
//! `max_batch_bytes` is refused back to its queue row with the sizes.

use effects::sqlite::{SealStatus, SqliteStore};

use super::{Case, sealed_payloads, state_of, wait_all_gold};
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
