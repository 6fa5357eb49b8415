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

/// Amounts for a person (`{:#}`): gwei, two decimals from 1 gwei up, three significant
/// digits below, digits grouped; `{}` stays the exact wei the trace compares.
#[test]
fn wei_for_a_person_in_gwei() {
    use crate::fees::{Bid, Wei, grouped};
    let rows: &[(u128, &str)] = &[
        (0, "0 gwei"),
        (7, "0.000000007 gwei"),
        (1_050_000, "0.00105 gwei"),
        (1_054_999, "0.00105 gwei"),
        (105_000_000, "0.105 gwei"),
        (999_999_999, "1 gwei"),
        (1_000_000_000, "1 gwei"),
        (1_100_000_000, "1.1 gwei"),
        (82_500_000_001, "82.5 gwei"),
        (105_031_607_638, "105.03 gwei"),
        (12_345_678_900_000, "12,345.68 gwei"),
        (u128::MAX, "340,282,366,920,938,463,463,374,607,431.77 gwei"),
    ];
    for &(wei, want) in rows {
        assert_eq!(format!("{:#}", Wei(wei)), want, "{wei} wei");
        assert_eq!(Wei(wei).to_string(), wei.to_string(), "the exact form is unchanged");
    }
    let bid = Bid::new(Wei(41_000_000_000), Wei(1_000_000_000));
    assert_eq!(format!("{bid:#}"), "max fee 41 / tip 1 gwei");
    assert_eq!(bid.to_string(), "max fee 41000000000 / tip 1000000000 wei");
    assert_eq!(
        (grouped(0_u64), grouped(999_u64), grouped(1000_u64), grouped(10_751_u64)),
        ("0".into(), "999".into(), "1,000".into(), "10,751".into())
    );
}
