//! `seqrec whatif`: re-decide a recorded incident under a changed config. The recorded
//! events are stepped twice, once as recorded and once with every `boot`'s config
//! changed, and the two runs' verdicts are set side by side along the recorded facts.
//!
//! The comparison is sound only while the changed core asks for exactly the effects the
//! recorded one asked for: from the first step where they differ, the world would have
//! answered other effects (a process that exits gets no more ticks; one that does not
//! exit does not restart), so every row from there on is marked counterfactual.

use std::fmt::Write as _;

use machine::{Danger, Effect, Event, ExitCode, RawConfig, Wei};

use crate::audit::utc;
use crate::run::{Traced, run};

/// A `--set KEY=VALUE` that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WhatIfError {
    /// Not `KEY=VALUE`.
    #[error("--set {given:?}: expected KEY=VALUE, e.g. preemptive_margin_blocks=600")]
    Syntax {
        /// What was given.
        given: String,
    },
    /// Not a setting this command changes.
    #[error("--set {key}: not a tuning setting; one of {}", TUNABLE.join(", "))]
    UnknownKey {
        /// The key.
        key: String,
    },
    /// The deployment's identity is not a what-if.
    #[error(
        "--set {key}: the deployment's identity cannot change in a what-if (the log would belong to another deployment)"
    )]
    Identity {
        /// The key.
        key: String,
    },
    /// The value does not parse.
    #[error("--set {key}={value}: {reason}")]
    BadValue {
        /// The key.
        key: String,
        /// The value.
        value: String,
        /// Why.
        reason: String,
    },
    /// The changed config breaks the core's rules.
    #[error("the what-if config is invalid: {}", problems.join("; "))]
    Invalid {
        /// Every rule that fails.
        problems: Vec<String>,
    },
    /// The input has no boot to change.
    #[error("the input has no boot event: there is no config to change")]
    NoBoot,
}

/// The settings a what-if may change.
const TUNABLE: [&str; 13] = [
    "max_wait_blocks",
    "preemptive_margin_blocks",
    "l1_read_stale_after_blocks",
    "seconds_per_block",
    "confirmation_depth",
    "detector_interval_ms",
    "submit_interval_ms",
    "max_batch_bytes",
    "min_tip_wei",
    "max_fee_cap_wei",
    "flush_cap_multiplier",
    "resubmit_after_blocks",
    "prune_after_blocks",
];

/// One parsed `--set`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    key: &'static str,
    /// `None`: unset (the core's default; `max_fee_cap_wei=none` lifts the cap).
    value: Option<u128>,
}

/// Parses `KEY=VALUE`.
///
/// # Errors
/// [`WhatIfError`] naming what is wrong.
pub fn parse_change(given: &str) -> Result<Change, WhatIfError> {
    let Some((key, value)) = given.split_once('=') else {
        return Err(WhatIfError::Syntax { given: given.to_owned() });
    };
    let (key, value) = (key.trim(), value.trim());
    if ["chain_id", "batch_submitter", "inbox", "anchor_nonce", "start_block", "adopt_l1_history"].contains(&key) {
        return Err(WhatIfError::Identity { key: key.to_owned() });
    }
    let Some(key) = TUNABLE.iter().copied().find(|known| *known == key) else {
        return Err(WhatIfError::UnknownKey { key: key.to_owned() });
    };
    if value.eq_ignore_ascii_case("none") || value.eq_ignore_ascii_case("default") {
        return Ok(Change { key, value: None });
    }
    let number = value.replace('_', "").parse::<u128>().map_err(|error| WhatIfError::BadValue {
        key: key.to_owned(),
        value: value.to_owned(),
        reason: format!("{error}: expected a whole number, or `none` for the default"),
    })?;
    if !key.ends_with("_wei") && u64::try_from(number).is_err() {
        return Err(WhatIfError::BadValue {
            key: key.to_owned(),
            value: value.to_owned(),
            reason: "larger than 18446744073709551615".to_owned(),
        });
    }
    Ok(Change { key, value: Some(number) })
}

fn apply(config: &mut RawConfig, change: &Change) {
    let small = change.value.and_then(|value| u64::try_from(value).ok());
    match change.key {
        "max_wait_blocks" => config.max_wait_blocks = small,
        "preemptive_margin_blocks" => config.preemptive_margin_blocks = small,
        "l1_read_stale_after_blocks" => config.l1_read_stale_after_blocks = small,
        "seconds_per_block" => config.seconds_per_block = small,
        "confirmation_depth" => config.confirmation_depth = small,
        "detector_interval_ms" => config.detector_interval_ms = small,
        "submit_interval_ms" => config.submit_interval_ms = small,
        "max_batch_bytes" => config.max_batch_bytes = small,
        "min_tip_wei" => config.min_tip_wei = change.value.map(Wei),
        "max_fee_cap_wei" => config.max_fee_cap_wei = change.value.map(Wei),
        "flush_cap_multiplier" => config.flush_cap_multiplier = small,
        "resubmit_after_blocks" => config.resubmit_after_blocks = small,
        // Only the keys of `TUNABLE` parse; the last one is this.
        _ => config.prune_after_blocks = small,
    }
}

/// What one step decided, as the comparison reads it: non-safe dangers, decisions, exits.
fn verdicts(traced: &Traced) -> Vec<String> {
    let mut out = Vec::new();
    for note in &traced.step.notes {
        if let Some(danger) = note.danger.filter(|danger| *danger != Danger::Safe) {
            out.push(format!("danger {}", danger.name()));
        }
        if let Some(decision) = note.decision {
            out.push(format!("decision {}", decision.name()));
        }
    }
    for effect in &traced.step.effects {
        if let Effect::Exit { code, .. } = effect {
            out.push(format!("exit {}", code.name()));
        }
    }
    out
}

/// A verdict repeated on consecutive rows of both runs, shown once.
struct Repeated {
    verdicts: String,
    count: u64,
}

fn flush(text: &mut String, repeated: Option<Repeated>) {
    if let Some(Repeated { count, .. }) = repeated.filter(|repeated| repeated.count > 0) {
        let _ = writeln!(text, "{:<38}  … and {count} more rows with the same verdicts in both", "");
    }
}

/// The first exit a run asks for: step, safe head, code.
fn first_exit(steps: &[Traced]) -> Option<(u64, Option<u64>, ExitCode)> {
    steps.iter().find_map(|traced| {
        traced.step.effects.iter().find_map(|effect| match effect {
            Effect::Exit { code, .. } if *code != ExitCode::AdmittedShutdown => {
                Some((traced.seq, traced.safe_block.map(|block| block.0), *code))
            }
            _ => None,
        })
    })
}

/// The danger threshold of the first boot's config, if it validates.
fn threshold(events: &[Event]) -> Option<u64> {
    events.iter().find_map(|event| match event {
        Event::Boot(boot) => boot.config.validate().ok().map(|config| config.danger_threshold_blocks()),
        _ => None,
    })
}

/// The comparison of a recorded run with its what-if.
#[derive(Debug)]
pub struct Comparison {
    /// The text report.
    pub text: String,
    /// Recorded and what-if first non-clean exit: step, safe head, code.
    pub exits: [Option<(u64, Option<u64>, ExitCode)>; 2],
    /// The first step whose verdicts differ.
    pub first_difference: Option<u64>,
    /// The first step whose effects differ: the comparison is counterfactual from it.
    pub counterfactual_from: Option<u64>,
    /// The clock at that step (the latest reading at or before it).
    pub counterfactual_ms: Option<machine::UnixMillis>,
}

/// `events` with `changes` applied to every boot's config.
///
/// # Errors
/// [`WhatIfError::NoBoot`]; [`WhatIfError::Invalid`] when the changed config breaks a rule.
pub fn changed_events(events: &[Event], changes: &[Change]) -> Result<Vec<Event>, WhatIfError> {
    let mut changed = events.to_vec();
    let mut boots = 0;
    for event in &mut changed {
        if let Event::Boot(boot) = event {
            boots += 1;
            for change in changes {
                apply(&mut boot.config, change);
            }
            let problems = boot.config.problems();
            if !problems.is_empty() {
                return Err(WhatIfError::Invalid { problems: problems.iter().map(ToString::to_string).collect() });
            }
        }
    }
    if boots == 0 {
        return Err(WhatIfError::NoBoot);
    }
    Ok(changed)
}

/// Steps `events` as recorded and with `changes` applied to every boot's config, and
/// compares them; rows after the counterfactual step are listed only with `all`.
///
/// # Errors
/// [`WhatIfError::NoBoot`]; [`WhatIfError::Invalid`] when the changed config breaks a rule.
pub fn compare(events: &[&Event], changes: &[Change], all: bool) -> Result<Comparison, WhatIfError> {
    let recorded: Vec<Event> = events.iter().map(|event| (*event).clone()).collect();
    let changed = changed_events(&recorded, changes)?;
    let as_recorded = run(recorded.iter().map(|event| (None, event)).collect::<Vec<_>>()).steps;
    let what_if = run(changed.iter().map(|event| (None, event)).collect::<Vec<_>>()).steps;
    let counterfactual_from =
        as_recorded.iter().zip(&what_if).find(|(a, b)| a.step.effects != b.step.effects).map(|(a, _)| a.seq);
    let mut text = String::new();
    let settings: Vec<String> = changes
        .iter()
        .map(|change| {
            format!("{}={}", change.key, change.value.map_or_else(|| "default".to_owned(), |v| v.to_string()))
        })
        .collect();
    let (before, after) = (threshold(&recorded), threshold(&changed));
    let _ = writeln!(
        text,
        "what-if {} (danger threshold {} -> {})",
        settings.join(" "),
        before.map_or_else(|| "-".to_owned(), |t| t.to_string()),
        after.map_or_else(|| "-".to_owned(), |t| t.to_string())
    );
    let _ = writeln!(
        text,
        "{:<8} {:<20} {:>8}  verdicts (danger other than safe, decisions, exits)",
        "step", "time (UTC)", "safe"
    );
    let mut first_difference = None;
    let (mut clock, mut run_of, mut hidden) = (None, None::<Repeated>, 0_u64);
    for (a, b) in as_recorded.iter().zip(&what_if) {
        clock = a.event.now_ms().or(clock);
        let (left, right) = (verdicts(a), verdicts(b));
        if left.is_empty() && right.is_empty() {
            continue;
        }
        if left != right && first_difference.is_none() {
            first_difference = Some(a.seq);
        }
        if counterfactual_from.is_some_and(|from| a.seq > from) && !all {
            hidden += 1;
            continue;
        }
        let at = format!(
            "#{:<7} {:<20} {:>8}",
            a.seq,
            clock.map_or_else(|| "-".to_owned(), utc),
            a.safe_block.map_or_else(|| "-".to_owned(), |block| block.0.to_string())
        );
        let counterfactual =
            if counterfactual_from.is_some_and(|from| a.seq > from) { " (counterfactual)" } else { "" };
        if left == right {
            let same = left.join(", ");
            // Runs of one identical verdict (a hold every round) are shown once.
            if let Some(repeated) = run_of.as_mut().filter(|repeated| repeated.verdicts == same) {
                repeated.count += 1;
                continue;
            }
            flush(&mut text, run_of.take());
            let _ = writeln!(text, "{at}  both:     {same}{counterfactual}");
            run_of = Some(Repeated { verdicts: same, count: 0 });
            continue;
        }
        flush(&mut text, run_of.take());
        let show = |verdicts: &[String]| if verdicts.is_empty() { "-".to_owned() } else { verdicts.join(", ") };
        let _ = writeln!(text, "{at}  recorded: {}{counterfactual}", show(&left));
        let _ = writeln!(text, "{:<38}  what-if:  {}", "", show(&right));
    }
    flush(&mut text, run_of.take());
    if hidden > 0 {
        let _ = writeln!(text, "{hidden} rows after the counterfactual step not shown (`--all` shows them)");
    }
    match first_difference {
        Some(seq) => {
            let _ = writeln!(text, "first different decision: step {seq}");
        }
        None => {
            let _ = writeln!(text, "no decision differs along the recorded facts");
        }
    }
    if let Some(from) = counterfactual_from {
        let _ = writeln!(
            text,
            "counterfactual from step {from}: the what-if asks for other effects there, so the recorded facts after it are not what its world would have answered"
        );
    }
    let exits = [first_exit(&as_recorded), first_exit(&what_if)];
    let _ = writeln!(text, "{}", exit_line(exits, counterfactual_from));
    let counterfactual_ms = counterfactual_from.and_then(|from| {
        as_recorded.iter().take_while(|traced| traced.seq <= from).filter_map(|traced| traced.event.now_ms()).last()
    });
    Ok(Comparison { text, exits, first_difference, counterfactual_from, counterfactual_ms })
}

/// The danger exits of both runs, and how far apart they are in safe blocks.
fn exit_line(exits: [Option<(u64, Option<u64>, ExitCode)>; 2], counterfactual_from: Option<u64>) -> String {
    let show = |exit: Option<(u64, Option<u64>, ExitCode)>| match exit {
        Some((seq, block, code)) => {
            format!(
                "{} at step {seq} (safe head {})",
                code.name(),
                block.map_or_else(|| "-".to_owned(), |b| b.to_string())
            )
        }
        None => "none".to_owned(),
    };
    let [recorded, what_if] = exits;
    let beyond = |exit: Option<(u64, Option<u64>, ExitCode)>| {
        exit.filter(|(seq, _, _)| counterfactual_from.is_some_and(|from| *seq > from))
            .map_or("", |_| " (counterfactual)")
    };
    let delta = match (recorded, what_if) {
        (Some((_, Some(a), _)), Some((seq, Some(b), _))) if counterfactual_from.is_none_or(|from| seq <= from) => {
            match a.cmp(&b) {
                std::cmp::Ordering::Greater => format!(": {} blocks earlier", a - b),
                std::cmp::Ordering::Less => format!(": {} blocks later", b - a),
                std::cmp::Ordering::Equal => ": at the same safe head".to_owned(),
            }
        }
        (Some((seq, _, _)), _) if counterfactual_from.is_some_and(|from| from <= seq) => format!(
            ": the what-if does not exit there; its exit, if any, is later than step {seq} and beyond the recorded facts"
        ),
        _ => String::new(),
    };
    format!(
        "first exit other than a clean shutdown: recorded {}; what-if {}{}{delta}",
        show(recorded),
        show(what_if),
        beyond(what_if)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_are_typed_errors() {
        let table: [(&str, WhatIfError); 4] = [
            ("margin", WhatIfError::Syntax { given: "margin".to_owned() }),
            ("margin=3", WhatIfError::UnknownKey { key: "margin".to_owned() }),
            ("chain_id=5", WhatIfError::Identity { key: "chain_id".to_owned() }),
            (
                "max_wait_blocks=x",
                WhatIfError::BadValue {
                    key: "max_wait_blocks".to_owned(),
                    value: "x".to_owned(),
                    reason: "invalid digit found in string: expected a whole number, or `none` for the default"
                        .to_owned(),
                },
            ),
        ];
        for (given, expected) in table {
            assert_eq!(parse_change(given), Err(expected), "{given}");
        }
        assert_eq!(parse_change("max_fee_cap_wei=none"), Ok(Change { key: "max_fee_cap_wei", value: None }));
    }
}
