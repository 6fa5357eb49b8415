//! Issue 18, item 5 (ARCHITECTURE.md choice 70): batch nonces end at `u64::MAX`. The
//! checker sees a saturated nonce (two batches sharing the last one, a frontier counted
//! past it), and the core never makes one.

use crate::batch_tree::{BatchTree, Sealed};
use crate::bytes::{Bytes, Hash32};
use crate::invariants::{Violation, check};
use crate::scheduler::Scheduler;
use crate::units::{BatchNonce, BlockNumber, WalletNonce};
use crate::verdict::{FactError, Why};
use crate::{Event, State, step};

fn sealed(byte: u8) -> Sealed {
    Sealed { wire: Bytes(vec![byte]), wire_hash: Hash32([byte; 32]), seal_id: None }
}

/// A state whose tree is anchored at `anchor`, with the scheduler there too.
fn anchored(anchor: u64) -> State {
    State { tree: BatchTree::new(BatchNonce(anchor)), scheduler: Scheduler::new(BatchNonce(anchor)), ..State::new() }
}

#[test]
fn two_batches_at_the_last_nonce_break_invariant_1() {
    let mut state = anchored(u64::MAX);
    state.tree.open(BlockNumber(100), 0);
    assert_eq!(check(&state), Ok(()), "one batch at the last nonce is fine");
    state.tree.close_tip(sealed(1));
    // What a saturating core did: the Tip after it got the same nonce.
    state.tree.open(BlockNumber(100), 0);
    let nonces: Vec<u64> = state.tree.valid_path().map(|batch| batch.nonce.0).collect();
    assert_eq!(nonces, [u64::MAX, u64::MAX]);
    match check(&state) {
        Err(Violation::NonceOverflow { position: 1, found: BatchNonce(u64::MAX), .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_frontier_counted_past_the_last_nonce_is_not_a_gold_prefix() {
    let mut state = anchored(u64::MAX);
    state.tree.open(BlockNumber(100), 0);
    state.tree.close_tip(sealed(1));
    state.tree.mark_accepted(BatchNonce(u64::MAX), BlockNumber(101), WalletNonce(0));
    // The scheduler's fold saturates: one batch accepted, the frontier still u64::MAX.
    state.scheduler.expected_nonce = BatchNonce(u64::MAX);
    assert!(matches!(check(&state), Err(Violation::GoldNotPrefix { .. })), "{:?}", check(&state));
}

#[test]
fn the_core_refuses_to_seal_the_tip_at_the_last_nonce() {
    let config = r#"{"chain_id":1,"batch_submitter":"0x1111111111111111111111111111111111111111","inbox":"0x2222222222222222222222222222222222222222","anchor_nonce":18446744073709551614}"#;
    let lines = [
        format!(r#"{{"ev":"boot","now_ms":0,"config":{config}}}"#),
        r#"{"ev":"chain_id","chain_id":1}"#.to_owned(),
        r#"{"ev":"l1","now_ms":0,"safe_block":100,"safe_timestamp":0,"inputs":[]}"#.to_owned(),
        r#"{"ev":"seal","payload":"0x01"}"#.to_owned(),
    ];
    let mut state = State::new();
    for line in &lines {
        let event: Event = serde_json::from_str(line).unwrap_or_else(|error| panic!("{line}: {error}"));
        state = step(state, &event).0;
        assert_eq!(check(&state), Ok(()), "{line}");
    }
    let tip = state.tree.tip().map(|tip| tip.nonce);
    assert_eq!(tip, Some(BatchNonce(u64::MAX)));
    let seal: Event = serde_json::from_str(r#"{"ev":"seal","payload":"0x02"}"#).unwrap_or_else(|e| panic!("{e}"));
    let (after, stepped) = step(state.clone(), &seal);
    let rejected = Why::Rejected(FactError::BatchNoncesExhausted { nonce: BatchNonce(u64::MAX) });
    assert!(stepped.notes.iter().any(|note| note.why == rejected), "{:?}", stepped.notes);
    assert!(stepped.effects.is_empty(), "{:?}", stepped.effects);
    assert_eq!(after, state, "a rejected seal changes nothing");
}
