//! `seqrec shrink`: a simulator log shrinks to a script of a few events that still shows
//! the property, replays with its `# check:` line, and is 1-minimal; each property kind
//! (trace text, danger, decision, exit, divergence from another build) and the errors.

use std::os::unix::fs::PermissionsExt as _;
use std::process::Command;

use super::support::scratch;

fn seqrec(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_seqrec")).args(args).output().unwrap();
    let (out, err) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.code().unwrap_or(-1), out.into_owned(), err.into_owned())
}

fn events(script: &str) -> usize {
    script.lines().filter(|line| !line.starts_with('#') && !line.trim().is_empty()).count()
}

const LOG: &str = "../fixtures/logs/sim-repeated-incidents.seqlog";

#[test]
fn each_property_shrinks_a_simulator_log_to_a_replayable_script_of_a_few_events() {
    let dir = scratch("shrink");
    let log = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(LOG);
    let log = log.to_str().unwrap();
    for (until, check) in [
        ("exit:recovery_required", "# check: \"fx\":\"exit\",\"code\":\"recovery_required\""),
        ("decision:cascade", "# check: decision cascade"),
        ("danger:closed_batch_in_danger", "# check: danger closed_batch_in_danger"),
        ("trace:bid for a no-op", "# check: bid for a no-op"),
    ] {
        let out = dir.join(format!("{}.jsonl", until.replace(':', "-")));
        let (code, said, err) = seqrec(&["shrink", log, "--until", until, "-o", out.to_str().unwrap()]);
        assert_eq!(code, 0, "{until}: {said}{err}");
        let script = std::fs::read_to_string(&out).unwrap();
        assert!(script.lines().any(|line| line == check), "{until}:\n{script}");
        assert!(events(&script) <= 40, "{until}: {} events\n{script}", events(&script));
        assert!(said.contains(&format!("{} events still show", events(&script))), "{said}");
        // The script replays: its check holds, the invariants hold, two runs agree.
        let (code, replayed, err) = seqrec(&["replay", out.to_str().unwrap()]);
        assert_eq!(code, 0, "{until}: {replayed}{err}\n{script}");
        // 1-minimal: shrinking the result again removes nothing.
        let (_, again, _) = seqrec(&["shrink", out.to_str().unwrap(), "--until", until]);
        assert_eq!(events(&again), events(&script), "{until}");
    }
}

#[test]
fn a_divergence_from_another_build_shrinks_to_the_events_that_show_it() {
    let dir = scratch("shrink-other-build");
    // Another build that traces every cascade differently (what a changed core would do).
    let other = dir.join("other-seqrec");
    let body = format!(
        "#!/bin/sh\n\"{}\" \"$@\" | sed 's/decision cascade/decision cascade-changed/'\n",
        env!("CARGO_BIN_EXE_seqrec")
    );
    std::fs::write(&other, body).unwrap();
    std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o755)).unwrap();
    let log = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/logs/sim-congestion.seqlog");
    let (code, script, err) = seqrec(&["shrink", log.to_str().unwrap(), "--other-build", other.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(events(&script) <= 40, "{script}");
    let path = dir.join("shrunk.jsonl");
    std::fs::write(&path, &script).unwrap();
    let (_, trace, _) = seqrec(&["trace", path.to_str().unwrap()]);
    assert!(trace.contains("decision cascade"), "the divergence is a cascade:\n{trace}");
}

#[test]
fn a_property_the_input_does_not_show_or_cannot_parse_is_a_clear_error() {
    let log = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/logs/happy-path.seqlog");
    let log = log.to_str().unwrap();
    let (code, _, err) = seqrec(&["shrink", log, "--until", "violation"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("the input does not show an invariant violation: nothing to shrink"), "{err}");
    let (code, _, err) = seqrec(&["shrink", log, "--until", "cascade"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--until \"cascade\": expected `violation`, `trace:TEXT`"), "{err}");
}
