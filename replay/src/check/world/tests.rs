//! The world's judgement on known states: a batch the scheduler accepted that the core's
//! tree pruned is not a lost batch, while one the tree should hold and does not is.

use machine::drive::Driver;
use machine::{BatchNonce, BlockNumber, State};

use super::{BASE_BLOCK, Block, Tx, World};

/// The state after the first `events` events of the pruning fixture (all of them: `None`).
fn pruning_fixture(events: Option<usize>) -> State {
    let text = include_str!("../../../../fixtures/scripts/prune-settled-history.jsonl");
    let script = crate::script::parse(text).expect("the fixture parses");
    let mut driver = Driver::new(State::new());
    for (_, event) in script.events.iter().take(events.unwrap_or(usize::MAX)) {
        let _ = driver.step(event);
    }
    driver.into_state()
}

/// Eight safe blocks above the base; block 102 holds a batch at nonce 0 whose bytes the
/// core never made, which the scheduler accepts.
fn world_accepting_nonce_zero() -> World {
    let wire =
        machine::wire::encode(BatchNonce(0), BlockNumber(BASE_BLOCK), &[0xAB]).expect("a 1-byte payload encodes");
    let mut world = World::new();
    for i in 1..=8 {
        let txs = if i == 2 { vec![Tx { w_nonce: 0, wire: Some(wire.clone()), foreign: false }] } else { Vec::new() };
        let nonce_after = u64::from(i >= 2);
        world.blocks.push(Block { direct: false, txs, nonce_after, timestamp_s: BASE_BLOCK + i * 12 });
    }
    world.safe_blocks = 8;
    world
}

#[test]
fn an_accepted_batch_the_tree_pruned_is_not_judged() {
    let pruned = pruning_fixture(None);
    assert!(pruned.tree().pruned().count > 0, "the fixture prunes");
    assert!(pruned.tree().first_nonce() > BatchNonce(0));
    assert_eq!(world_accepting_nonce_zero().judge(&pruned), None);
}

#[test]
fn an_accepted_batch_the_tree_should_hold_and_does_not_is_a_violation() {
    // Before anything was pruned, nonce 0 is in the tree's range: bytes it does not hold.
    let early = pruning_fixture(Some(3));
    assert_eq!(early.tree().pruned().count, 0);
    let what = world_accepting_nonce_zero().judge(&early).expect("a violation");
    assert!(what.contains("bytes the core does not hold"), "{what}");
}
