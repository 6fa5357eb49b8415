//! Every script in `fixtures/scripts/` is run through the core: invariants after every
//! step, determinism across two runs, its `# check:` lines, and an insta snapshot of
//! its text trace in `snapshots/`.

use std::path::Path;

use replay::cli::run_script;
use replay::script::{failed_checks, parse};
use replay::trace::render_text_all;

/// Runs one script file and returns its trace, failing on any broken expectation.
fn check_script_file(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let script = parse(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    assert!(
        !script.checks.is_empty(),
        "{}: a scenario must state its expectations as `# check:` lines",
        path.display()
    );
    let first = run_script(&script);
    let second = run_script(&script);
    if let Some((seq, violation)) = &first.violation {
        panic!("{}: step {seq}: {violation}", path.display());
    }
    for (a, b) in first.steps.iter().zip(&second.steps) {
        assert_eq!(a.step.effects, b.step.effects, "{}: step {} effects differ between runs", path.display(), a.seq);
        assert_eq!(a.state_hash, b.state_hash, "{}: step {} state hash differs between runs", path.display(), a.seq);
    }
    let trace = render_text_all(&first.steps);
    let failures = failed_checks(&script.checks, &trace);
    assert!(failures.is_empty(), "{}:\n{}\n--- trace ---\n{trace}", path.display(), failures.join("\n"));
    trace
}

#[test]
fn fixture_traces() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        insta::glob!("../../../fixtures/scripts", "*.jsonl", |path| {
            insta::assert_snapshot!("trace", check_script_file(path));
        });
    });
}

#[test]
fn smoke() {
    let script = parse(
        r#"
# check: decision initial_sync
# check: decision refuse - chain id mismatch: node reports 5, config says 1
{"ev":"boot","now_ms":0,"config":{"chain_id":1,"batch_submitter":"0x1111111111111111111111111111111111111111","inbox":"0x2222222222222222222222222222222222222222"}}
{"ev":"chain_id","chain_id":5}
"#,
    )
    .unwrap_or_else(|error| panic!("the smoke script does not parse: {error}"));
    assert_eq!(script.checks.len(), 2, "both `# check:` lines are read");
    let trace = render_text_all(&run_script(&script).steps);
    assert_eq!(failed_checks(&script.checks, &trace), Vec::<String>::new(), "{trace}");
}
