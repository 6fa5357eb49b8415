//! docs/protocol.md §7 step 4 as a table: no-op fees are the estimate tripled, then bumped by
//! `max(x * 11 / 10 + 1, x + 1)`, saturating, the priority fee clamped to the max fee.

use crate::flush::{Fees, noop_fees};

#[test]
fn noop_fees_at_their_edges() {
    let rows: &[(u128, u128, u128, u128)] = &[
        // estimate max, estimate tip, expected max, expected tip
        (0, 0, 1, 1),
        (1, 1, 4, 4),
        (10, 1, 34, 4),
        (100, 200, 331, 331),
        // Near saturation the 10% bump still holds: x = 3 * (MAX / 30), x + x / 10 + 1 fits.
        (u128::MAX / 30, 0, 3 * (u128::MAX / 30) + 3 * (u128::MAX / 30) / 10 + 1, 1),
        (u128::MAX, u128::MAX, u128::MAX, u128::MAX),
    ];
    for &(max, tip, want_max, want_tip) in rows {
        let fees = noop_fees(Fees { max_fee_per_gas: max, max_priority_fee_per_gas: tip });
        assert_eq!(
            (fees.max_fee_per_gas, fees.max_priority_fee_per_gas),
            (want_max, want_tip),
            "estimate ({max}, {tip})"
        );
        let tripled = max.saturating_mul(3);
        assert!(fees.max_fee_per_gas >= tripled.saturating_add(tripled / 10), "at least 10% over 3x");
    }
}
