//! `seqrec check` on small scopes: a clean exploration, and a planted property whose
//! counterexample `seqrec replay` accepts as a script.

use clap::Parser as _;

use super::*;
use crate::cli::{Args, Outcome, execute};

fn scope(depth: u32, batches: u32, crashes: u32, faults: u32) -> Scope {
    let boot = boot_event().expect("the built-in boot config parses");
    Scope {
        depth,
        bounds: Bounds { batches, crashes, faults, unsafe_blocks: 1 },
        boot,
        max_states: 1_000_000,
        extra: None,
    }
}

#[test]
fn a_small_scope_explores_states_without_a_violation() {
    let scope = scope(9, 1, 1, 1);
    let report = explore(&scope);
    assert!(report.violation.is_none(), "{}", render_report(&report, &scope, false));
    assert!(report.states > 100, "{}", render_report(&report, &scope, false));
    assert_eq!(report.depth_reached, 9);
}

/// Planted in the explorer, not in the core: "no batch is ever closed".
fn no_batch_closed(state: &machine::State) -> Option<String> {
    state
        .colors()
        .iter()
        .any(|(_, color)| *color != machine::Color::Tip)
        .then(|| "planted property: a batch was closed".to_owned())
}

#[test]
fn a_planted_violation_gives_a_shortest_script_that_replay_accepts() {
    let mut scope = scope(10, 1, 0, 0);
    scope.extra = Some(no_batch_closed);
    let report = explore(&scope);
    let found = report.violation.expect("sealing a batch is reachable in 10 moves");
    // boot, chain_id, l1 (admit, intake opens), seal: nothing shorter closes a batch.
    let names: Vec<&str> = found.events.iter().map(Event::name).collect();
    assert_eq!(names.last(), Some(&"seal"), "{names:?}");
    assert!(found.events.len() <= 5, "{names:?}");
    let script = render_counterexample(&found).expect("events render");
    let dir = std::env::temp_dir().join(format!("seqrec-check-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("counterexample.jsonl");
    std::fs::write(&path, &script).expect("write the script");
    let outcome = execute(Args::parse_from(["seqrec", "replay", path.to_str().expect("utf-8 path")]));
    let _ = std::fs::remove_dir_all(&dir);
    // The core itself breaks nothing here: replay verifies the script (invariants, determinism).
    assert!(matches!(outcome, Ok(Outcome::Done(_))), "{outcome:?}\n{script}");
}

#[test]
fn the_command_prints_its_figures_and_refuses_an_unknown_witness() {
    let outcome = execute(Args::parse_from(["seqrec", "check", "--depth", "6", "--json"]));
    let Ok(Outcome::Done(text)) = outcome else { panic!("{outcome:?}") };
    let figures: serde_json::Value = serde_json::from_str(&text).expect("one JSON object");
    assert_eq!(figures["depth_reached"], 6, "{text}");
    assert!(figures["violation"].is_null(), "{text}");
    let outcome = execute(Args::parse_from(["seqrec", "check", "--witness", "nowhere"]));
    assert!(matches!(outcome, Err(crate::cli::CliError::Invalid { .. })), "{outcome:?}");
    let outcome = execute(Args::parse_from(["seqrec", "check", "--depth", "12", "--witness", "gold"]));
    let Ok(Outcome::Done(text)) = outcome else { panic!("{outcome:?}") };
    assert!(text.contains("witness: gold after 9 events"), "{text}");
}

/// The sabotage tests (`RUSTFLAGS="--cfg seqrec_sabotage"`): each turns one of the core's
/// deliberate bugs on, finds it in a small scope and replays the counterexample.
#[cfg(seqrec_sabotage)]
mod sabotaged {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Mutex, MutexGuard, PoisonError};

    use clap::Parser as _;

    use super::{Scope, explore, render_counterexample, render_report, scope};
    use crate::cli::{Args, Outcome, execute};

    /// The switches are global and the tests of one binary run on parallel threads: one
    /// sabotage test at a time (a failed test poisons nothing that matters).
    static LOCK: Mutex<()> = Mutex::new(());

    /// A switch turned on for one test, off again when the test ends, passed or not.
    struct Switched {
        switch: &'static AtomicBool,
        _turn: MutexGuard<'static, ()>,
    }

    impl Switched {
        fn on(switch: &'static AtomicBool) -> Self {
            let turn = LOCK.lock().unwrap_or_else(PoisonError::into_inner);
            switch.store(true, Ordering::Relaxed);
            Switched { switch, _turn: turn }
        }

        fn set(&self, on: bool) {
            self.switch.store(on, Ordering::Relaxed);
        }
    }

    impl Drop for Switched {
        fn drop(&mut self) {
            self.switch.store(false, Ordering::Relaxed);
        }
    }

    /// Explores `scope` with the switch on: the violation must name `what`, take at most 40
    /// events, make `seqrec replay` of its script fail on the sabotaged core, and replay
    /// cleanly with the switch off (the bug, not the world, breaks it). Returns the script.
    fn found_and_replayed(switched: &Switched, scope: &Scope, what: &str) -> String {
        let report = explore(scope);
        let figures = render_report(&report, scope, false);
        let found = report.violation.expect("the sabotage is found");
        let script = render_counterexample(&found).expect("events render");
        println!("{figures}");
        assert!(found.what.contains(what), "{figures}\n{script}");
        assert!(found.events.len() <= 40, "{figures}\n{script}");
        let dir = std::env::temp_dir().join(format!("seqrec-check-sabotage-{what}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("counterexample.jsonl");
        std::fs::write(&path, &script).expect("write the script");
        let replay = || execute(Args::parse_from(["seqrec", "replay", path.to_str().expect("utf-8 path")]));
        let sabotaged = replay();
        switched.set(false);
        let healthy = replay();
        switched.set(true);
        let _ = std::fs::remove_dir_all(&dir);
        let Ok(Outcome::Failed(failure)) = sabotaged else { panic!("{sabotaged:?}\n{script}") };
        assert!(failure.contains("invariant"), "{failure}\n{script}");
        assert!(matches!(healthy, Ok(Outcome::Done(_))), "{healthy:?}\n{script}");
        script
    }

    /// The cascade pivots one batch late: a small scope finds invariant 7 broken with a
    /// short counterexample (10 events, 13 moves, about 21,600 states when this was written).
    #[test]
    fn the_sabotaged_cascade_pivot_is_found_in_a_small_scope() {
        let switched = Switched::on(&machine::sabotage::CASCADE_PIVOT_ONE_LATE);
        let mut scope = scope(14, 1, 0, 0);
        scope.bounds.unsafe_blocks = 0;
        found_and_replayed(&switched, &scope, "RecoveryNonce");
    }

    /// The watermark is raised after the broadcast: the first submit round breaks
    /// invariant 5 (a send before a durable `W` covering it).
    #[test]
    fn the_sabotaged_watermark_after_broadcast_is_found_in_a_small_scope() {
        let switched = Switched::on(&machine::sabotage::WATERMARK_AFTER_BROADCAST);
        let mut scope = scope(10, 1, 0, 0);
        scope.bounds.unsafe_blocks = 0;
        found_and_replayed(&switched, &scope, "SendBeforeWatermark");
    }
}
