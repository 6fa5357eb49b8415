//! docs/protocol.md §4 as a table: every arm at its exact boundary, in spec order.
//! Config: max wait 20, margin 5 (threshold 15), stale window 14 blocks (168 s), 12 s blocks.

use crate::batch_tree::{BatchTree, Sealed};
use crate::bytes::{Address, Bytes, Hash32};
use crate::config::{Config, RawConfig};
use crate::danger::classify;
use crate::state::State;
use crate::units::{BatchNonce, BlockNumber, UnixMillis};

/// Builds a state with one batch opened at `first_frame` (closed unless `kind` is `tip`).
fn state(kind: &str, safe_head: u64, first_frame: u64, safe_ts_s: u64, progress_ms: u64) -> State {
    let mut tree = BatchTree::new(BatchNonce(0));
    tree.open(BlockNumber(first_frame), 0);
    if kind == "closed" {
        tree.close_tip(Sealed { wire: Bytes(vec![1]), wire_hash: Hash32([1; 32]), seal_id: None });
    }
    let mut state = State { tree, ..State::new() };
    state.view.safe_block = Some(BlockNumber(safe_head));
    state.view.safe_timestamp_s = safe_ts_s;
    state.view.last_progress_ms = UnixMillis(progress_ms);
    state
}

/// Max wait 20, margin 5 (threshold 15), stale window 14 blocks (168 s), 12 s blocks.
fn config() -> Config {
    RawConfig {
        chain_id: Some(1),
        batch_submitter: Some(Address([1; 20])),
        inbox: Some(Address([2; 20])),
        max_wait_blocks: Some(20),
        preemptive_margin_blocks: Some(5),
        seconds_per_block: Some(12),
        ..RawConfig::default()
    }
    .validate()
    .unwrap_or_else(|error| panic!("{error}"))
}

fn check_danger(table: &str) {
    let config = config();
    for row in table.lines().map(str::trim).filter(|row| !row.is_empty() && !row.starts_with("//")) {
        let cells: Vec<&str> = row.split_whitespace().collect();
        let number = |i: usize| cells[i].parse::<u64>().unwrap_or_else(|_| panic!("row `{row}`: column {i}"));
        let state = state(cells[0], number(1), number(2), number(3), number(4));
        let (danger, why) = classify(&state, &config, UnixMillis(number(5)));
        let got =
            danger.batch().map_or_else(|| danger.name().to_owned(), |batch| format!("{}({batch})", danger.name()));
        assert_eq!(got, cells[6], "row `{row}`: {why}");
    }
}

#[test]
fn arms_at_their_boundaries() {
    check_danger(
        "
        // batch  safe_head  S    safe_ts_s  progress_ms  now_ms      expect
        // arm 2: view stale at exactly 168 s, not at 167.999 s; a future timestamp is not stale
        closed    100        100  1000       1000000      1168000     l1_view_stale
        closed    100        100  1000       1000000      1167999     safe
        closed    100        100  1005       1000000      1000000     safe
        // arm 3: the oldest closed batch at age == threshold - 1 and == threshold
        closed    114        100  1000       1000000      1000000     safe
        closed    115        100  1000       1000000      1000000     closed_batch_in_danger(0)
        // arm 4: the Tip at the same edges
        tip       114        100  1000       1000000      1000000     safe
        tip       115        100  1000       1000000      1000000     tip_in_danger(0)
        // arm 5: clock a full block-time (12000 ms) before the safe timestamp, and 1 ms less
        closed    100        100  1000       988000       988000      l1_view_stale
        closed    100        100  1000       988000       988001      safe
        // arm 5: clock 12 whole seconds before the last safe-head progress, and 11.999 s
        closed    100        100  900        1000000      988000      l1_view_stale
        closed    100        100  900        1000000      988001      safe
        // arm 6: age 10 + 5 missed blocks (60 s frozen) reaches 15; 59.999 s does not
        closed    110        100  1000       1000000      1060000     estimated_batch_in_danger(0)
        closed    110        100  1000       1000000      1059999     safe
        tip       110        100  1000       1000000      1060000     estimated_batch_in_danger(0)
        ",
    );
}

#[test]
fn observed_danger_outranks_a_clock_fault() {
    check_danger(
        "
        closed    115        100  1000       1000000      600000      closed_batch_in_danger(0)
        tip       115        100  1000       1000000      600000      tip_in_danger(0)
        ",
    );
}

#[test]
fn divergence_and_no_safe_head() {
    let config = config();
    let mut fresh = State::new();
    assert_eq!(classify(&fresh, &config, UnixMillis(0)).0.name(), "l1_view_stale");
    fresh.scheduler.divergence = Some(BatchNonce(3));
    assert_eq!(classify(&fresh, &config, UnixMillis(0)).0.name(), "canonical_divergence");
}
