//! The state layout is pinned: a change of `State`'s archive must come with a new
//! `STATE_LAYOUT`, which snapshots store, so another build's snapshot is refused by
//! number rather than misread.

use crate::{Event, STATE_LAYOUT, State, step};

/// The state after the events of a fixture script (comment lines skipped).
fn state_after(script: &str) -> State {
    script
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| serde_json::from_str::<Event>(line).unwrap_or_else(|error| panic!("{line}: {error}")))
        .fold(State::new(), |state, event| step(state, &event).0)
}

#[test]
fn state_layout_is_pinned() {
    // Batches, slots with bids and floors, fee views, pruning: most of `State` is filled.
    let fees = state_after(include_str!("../../../fixtures/scripts/fees-reprice-base-fee.jsonl"));
    let pruned = state_after(include_str!("../../../fixtures/scripts/prune-settled-history.jsonl"));
    let hashes = (fees.state_hash().to_string(), pruned.state_hash().to_string());
    assert_eq!(
        (STATE_LAYOUT, hashes.0.as_str(), hashes.1.as_str()),
        (
            3,
            "0x81bb8bf2edddcbc3c52305e7c4a48cf481b0e4e0f9c6db82c86b34650fe41ed9",
            "0x3dc47632b8f2bebfba12f7656f01f38fafcef67bd8f8a7f5f7a7804a0065ba8b"
        ),
        "the archive of State changed: if its layout did (a field added, removed, retyped or moved), bump \
         STATE_LAYOUT; then pin the new layout and hashes here"
    );
}
