//! docs/protocol.md §3 as a table: one row per rule, at its boundary.

use crate::bytes::Address;
use crate::config::{ConfigError, RawConfig};

fn raw(overrides: &[(&str, u64)]) -> RawConfig {
    let mut raw = RawConfig {
        chain_id: Some(31337),
        batch_submitter: Some(Address([0x11; 20])),
        inbox: Some(Address([0x22; 20])),
        ..RawConfig::default()
    };
    for &(field, value) in overrides {
        let slot = match field {
            "max_wait_blocks" => &mut raw.max_wait_blocks,
            "preemptive_margin_blocks" => &mut raw.preemptive_margin_blocks,
            "l1_read_stale_after_blocks" => &mut raw.l1_read_stale_after_blocks,
            "seconds_per_block" => &mut raw.seconds_per_block,
            "detector_interval_ms" => &mut raw.detector_interval_ms,
            "submit_interval_ms" => &mut raw.submit_interval_ms,
            other => panic!("unknown field in table: {other}"),
        };
        *slot = Some(value);
    }
    raw
}

#[test]
fn every_rule_at_its_boundary() {
    use ConfigError as E;
    type Row<'a> = (&'a [(&'a str, u64)], Result<(), ConfigError>);
    let rows: &[Row<'_>] = &[
        (&[], Ok(())),
        (&[("max_wait_blocks", 0)], Err(E::MaxWaitZero)),
        (&[("preemptive_margin_blocks", 0)], Err(E::MarginZero)),
        (&[("max_wait_blocks", 20), ("preemptive_margin_blocks", 18)], Ok(())),
        (
            &[("max_wait_blocks", 20), ("preemptive_margin_blocks", 20)],
            Err(E::MarginNotBelowMaxWait { margin_blocks: 20, max_wait_blocks: 20 }),
        ),
        (&[("l1_read_stale_after_blocks", 0)], Err(E::StaleAfterZero)),
        (&[("l1_read_stale_after_blocks", 899)], Ok(())),
        (
            &[("l1_read_stale_after_blocks", 900)],
            Err(E::StaleAfterNotBelowThreshold { stale_after_blocks: 900, danger_threshold_blocks: 900 }),
        ),
        (&[("seconds_per_block", 0)], Err(E::SecondsPerBlockZero)),
        (&[("l1_read_stale_after_blocks", 2), ("seconds_per_block", u64::MAX / 2)], Ok(())),
        (
            &[("l1_read_stale_after_blocks", 3), ("seconds_per_block", u64::MAX / 2)],
            Err(E::StaleWindowOverflows { stale_after_blocks: 3, seconds_per_block: u64::MAX / 2 }),
        ),
        (&[("detector_interval_ms", 0)], Err(E::DetectorIntervalZero)),
        (&[("submit_interval_ms", 0)], Err(E::SubmitIntervalZero)),
    ];
    for (overrides, expected) in rows {
        let got = raw(overrides).validate().map(|_| ());
        assert_eq!(&got, expected, "row {overrides:?}");
    }
}

#[test]
fn required_identity_fields() {
    for (field, raw) in [
        ("chain_id", RawConfig { chain_id: None, ..raw(&[]) }),
        ("batch_submitter", RawConfig { batch_submitter: None, ..raw(&[]) }),
        ("inbox", RawConfig { inbox: None, ..raw(&[]) }),
    ] {
        assert_eq!(raw.validate(), Err(ConfigError::Missing { field }));
    }
}

#[test]
fn defaults_and_derived_values() {
    let config = raw(&[]).validate().unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        (config.max_wait_blocks(), config.preemptive_margin_blocks(), config.danger_threshold_blocks()),
        (1200, 300, 900)
    );
    assert_eq!((config.l1_read_stale_after_blocks(), config.seconds_per_block()), (600, 12));
    assert_eq!(
        (config.detector_interval_ms(), config.submit_interval_ms(), config.confirmation_depth()),
        (2000, 1000, 1)
    );
    // min(600, danger_threshold - 1) when the threshold is small.
    let small = raw(&[("max_wait_blocks", 20), ("preemptive_margin_blocks", 5)]).validate();
    assert_eq!(small.map(|config| config.l1_read_stale_after_blocks()), Ok(14));
    // A threshold of 1 leaves no room for a stale window: the default (0) is refused.
    let tight = raw(&[("max_wait_blocks", 2), ("preemptive_margin_blocks", 1)]).validate();
    assert_eq!(tight, Err(ConfigError::StaleAfterZero));
}

#[test]
fn an_invalid_config_lists_every_failed_rule_with_its_key() {
    use ConfigError as E;
    let mut broken = raw(&[("max_wait_blocks", 0), ("seconds_per_block", 0), ("submit_interval_ms", 0)]);
    broken.inbox = None;
    broken.flush_cap_multiplier = Some(0);
    let problems = broken.problems();
    assert_eq!(
        problems,
        [
            E::MaxWaitZero,
            E::SecondsPerBlockZero,
            E::Missing { field: "inbox" },
            E::SubmitIntervalZero,
            E::FlushCapMultiplierZero
        ]
    );
    let keys: Vec<&str> = problems.iter().map(ConfigError::key).collect();
    assert_eq!(keys, ["max_wait_blocks", "seconds_per_block", "inbox", "submit_interval_ms", "flush_cap_multiplier"]);
    assert!(raw(&[]).problems().is_empty());
}

proptest::proptest! {
    /// The list starts with the rule the core refuses the config by: the operator's first
    /// line is the boot's reason.
    #[test]
    fn the_first_problem_is_the_rule_validate_refuses(
        values in proptest::collection::vec(
            proptest::option::of(proptest::sample::select(vec![0_u64, 1, 2, 3, 19, 20, 300, 899, 900, 1200, u64::MAX / 2, u64::MAX])),
            10,
        ),
        missing in proptest::sample::select(vec![0_usize, 1, 2, 3]),
    ) {
        let mut config = raw(&[]);
        config.max_wait_blocks = values[0];
        config.preemptive_margin_blocks = values[1];
        config.l1_read_stale_after_blocks = values[2];
        config.seconds_per_block = values[3];
        config.detector_interval_ms = values[4];
        config.submit_interval_ms = values[5];
        config.max_batch_bytes = values[6];
        config.flush_cap_multiplier = values[7];
        config.resubmit_after_blocks = values[8];
        config.max_fee_cap_wei = values[9].map(|wei| crate::Wei(u128::from(wei)));
        match missing {
            1 => config.chain_id = None,
            2 => config.inbox = None,
            3 => config.batch_submitter = None,
            _ => {}
        }
        let problems = config.problems();
        proptest::prop_assert_eq!(problems.first().copied(), config.validate().err());
    }
}

#[test]
fn the_anchor_leaves_a_nonce_for_the_next_batch() {
    for (anchor, expected) in [(u64::MAX - 1, Ok(())), (u64::MAX, Err(ConfigError::AnchorNoRoom { anchor: u64::MAX }))]
    {
        let raw = RawConfig { anchor_nonce: Some(anchor), ..raw(&[]) };
        assert_eq!(raw.validate().map(|_| ()), expected, "anchor {anchor}");
        assert_eq!(raw.problems(), expected.err().into_iter().collect::<Vec<_>>(), "anchor {anchor}");
    }
}
