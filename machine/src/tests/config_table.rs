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

/// Issue 18, item 12: the live rules (`Config::live_problems`, applied by `seqrec run`, not
/// by `validate`) as a table, each at its boundary and at its type's maximum, with the key
/// (so the flag) to change. Defaults: margin 300 blocks × 12 s = 3,600,000 ms, stale
/// window 600 × 12 s = 7,200,000 ms.
#[test]
fn every_live_rule_at_its_boundary() {
    use crate::config_live::{LiveConfigError as L, MAX_MIN_TIP_WEI};
    use crate::fees::Wei;
    const TIMEOUT: u64 = 10_000;
    let margin_ms = 3_600_000;
    type Row = (RawConfig, u64, Vec<L>);
    let with = |change: fn(&mut RawConfig)| {
        let mut config = raw(&[]);
        change(&mut config);
        config
    };
    let rows: Vec<Row> = vec![
        (raw(&[]), TIMEOUT, vec![]),
        (raw(&[("detector_interval_ms", margin_ms - 1)]), TIMEOUT, vec![]),
        (
            raw(&[("detector_interval_ms", margin_ms)]),
            TIMEOUT,
            vec![L::DetectorIntervalNotBelowMargin { interval_ms: margin_ms, margin_ms }],
        ),
        (
            raw(&[("detector_interval_ms", i64::MAX as u64)]),
            TIMEOUT,
            vec![L::DetectorIntervalNotBelowMargin { interval_ms: i64::MAX as u64, margin_ms }],
        ),
        (raw(&[("submit_interval_ms", margin_ms - 1)]), TIMEOUT, vec![]),
        (
            raw(&[("submit_interval_ms", u64::MAX)]),
            TIMEOUT,
            vec![L::SubmitIntervalNotBelowMargin { interval_ms: u64::MAX, margin_ms }],
        ),
        (with(|config| config.resubmit_after_blocks = Some(300)), TIMEOUT, vec![]),
        (
            with(|config| config.resubmit_after_blocks = Some(301)),
            TIMEOUT,
            vec![L::ResubmitAfterAboveMargin { resubmit_after_blocks: 301, margin_blocks: 300 }],
        ),
        (
            with(|config| config.resubmit_after_blocks = Some(u64::MAX)),
            TIMEOUT,
            vec![L::ResubmitAfterAboveMargin { resubmit_after_blocks: u64::MAX, margin_blocks: 300 }],
        ),
        (raw(&[]), 7_199_999, vec![]),
        (
            raw(&[]),
            7_200_000,
            vec![L::RpcTimeoutNotBelowStaleWindow { timeout_ms: 7_200_000, stale_window_ms: 7_200_000 }],
        ),
        (
            raw(&[]),
            u64::MAX,
            vec![L::RpcTimeoutNotBelowStaleWindow { timeout_ms: u64::MAX, stale_window_ms: 7_200_000 }],
        ),
        (with(|config| config.min_tip_wei = Some(MAX_MIN_TIP_WEI)), TIMEOUT, vec![]),
        (
            with(|config| config.min_tip_wei = Some(Wei(u128::MAX))),
            TIMEOUT,
            vec![L::MinTipTooHigh { min_tip: Wei(u128::MAX), max: MAX_MIN_TIP_WEI }],
        ),
        // Every live rule at once, in the order of the config's fields.
        (
            {
                let mut config = raw(&[("detector_interval_ms", u64::MAX), ("submit_interval_ms", u64::MAX)]);
                config.resubmit_after_blocks = Some(u64::MAX);
                config.min_tip_wei = Some(Wei(u128::MAX));
                config
            },
            u64::MAX,
            vec![
                L::DetectorIntervalNotBelowMargin { interval_ms: u64::MAX, margin_ms },
                L::SubmitIntervalNotBelowMargin { interval_ms: u64::MAX, margin_ms },
                L::MinTipTooHigh { min_tip: Wei(u128::MAX), max: MAX_MIN_TIP_WEI },
                L::ResubmitAfterAboveMargin { resubmit_after_blocks: u64::MAX, margin_blocks: 300 },
                L::RpcTimeoutNotBelowStaleWindow { timeout_ms: u64::MAX, stale_window_ms: 7_200_000 },
            ],
        ),
    ];
    for (config, timeout, expected) in rows {
        let valid = config.validate().unwrap_or_else(|error| panic!("the core accepts {config:?}: {error}"));
        assert_eq!(valid.live_problems(timeout), expected, "row {config:?}, timeout {timeout}");
    }
    // Each names the setting to change.
    let keys: Vec<&str> = [
        L::DetectorIntervalNotBelowMargin { interval_ms: 0, margin_ms: 0 },
        L::SubmitIntervalNotBelowMargin { interval_ms: 0, margin_ms: 0 },
        L::ResubmitAfterAboveMargin { resubmit_after_blocks: 0, margin_blocks: 0 },
        L::RpcTimeoutNotBelowStaleWindow { timeout_ms: 0, stale_window_ms: 0 },
        L::MinTipTooHigh { min_tip: Wei(0), max: Wei(0) },
    ]
    .iter()
    .map(L::key)
    .collect();
    assert_eq!(
        keys,
        ["detector_interval_ms", "submit_interval_ms", "resubmit_after_blocks", "rpc_timeout_ms", "min_tip_wei"]
    );
}
