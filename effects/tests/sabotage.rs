//! The world checks can fail: with the core deliberately broken (the cascade pivots one
//! batch too late), the congestion scenario must not pass. A separate test binary, so
//! the global switch cannot leak into other tests running in parallel. Compiled only with
//! `--cfg seqrec_sabotage` (the switch is not in a normal build of the core):
//! `cargo xtask ci` runs it so, with `SEQREC_SABOTAGE_BUILD=1` (`machine/build.rs`).

#![cfg(seqrec_sabotage)]
#![allow(clippy::panic, clippy::unwrap_used)]

use std::sync::atomic::Ordering;

use effects::sim::{Outcome, scenario, simulate};

#[test]
fn a_cascade_pivot_one_batch_late_is_caught() {
    let congestion = scenario::by_name("congestion").unwrap();
    let healthy = simulate(&congestion, 1);
    assert!(healthy.failures.is_empty(), "{:?}", healthy.failures);

    machine::sabotage::CASCADE_PIVOT_ONE_LATE.store(true, Ordering::Relaxed);
    let broken = simulate(&congestion, 1);
    machine::sabotage::CASCADE_PIVOT_ONE_LATE.store(false, Ordering::Relaxed);

    assert_ne!(broken.outcome, Outcome::Converged, "a broken cascade must not converge");
    let failures = broken.failures.join("\n");
    assert!(failures.contains("invariant 7"), "the recovery nonce check names the bug:\n{failures}");
}
