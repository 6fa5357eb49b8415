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

/// Issue 18, item 11: a key given twice in one object of a line (the tag, a field, a
/// field of a nested object) is refused naming the line and the field's path, never read
/// as the last one; the refusals are snapshotted.
#[test]
fn duplicate_keys_are_refused_with_the_line_and_field() {
    let boot = r#"{"ev":"boot","now_ms":0,"config":{"chain_id":1,"batch_submitter":"0x1111111111111111111111111111111111111111","inbox":"0x2222222222222222222222222222222222222222"}}"#;
    let lines = [
        (r#"{"ev":"tick","ev":"seal","payload":"0x01"}"#, "field `ev`: duplicate field `ev`"),
        (r#"{"ev":"tick","now_ms":1,"now_ms":2}"#, "field `now_ms`: duplicate field `now_ms`"),
        (
            r#"{"ev":"boot","now_ms":0,"config":{"chain_id":1,"chain_id":5,"batch_submitter":"0x1111111111111111111111111111111111111111","inbox":"0x2222222222222222222222222222222222222222"}}"#,
            "field `config.chain_id`: duplicate field `chain_id`",
        ),
        (
            r#"{"ev":"l1","now_ms":0,"safe_block":1,"safe_timestamp":0,"inputs":[{"direct":{"block":1,"data":"0x"}},{"direct":{"block":1,"data":"0x","block":0}}]}"#,
            "field `inputs[1].direct.block`: duplicate field `block`",
        ),
        (r#"{"ev":"seal","payload":"0x01","id":1,"payload":"0x02"}"#, "field `payload`: duplicate field `payload`"),
    ];
    let mut report = String::new();
    for (line, expected) in lines {
        // The bad line is line 3, after a comment and a valid boot.
        let text = format!("# a script\n{boot}\n{line}\n");
        let error = parse(&text).expect_err(line);
        let shown = error.to_string();
        assert!(shown.starts_with("line 3: ") && shown.contains(expected), "{line}: {shown}");
        report.push_str(&format!("{line}\n  -> {shown}\n"));
    }
    // Equal keys in different objects are no repeat.
    let distinct = r#"{"ev":"l1","now_ms":0,"safe_block":1,"safe_timestamp":0,"inputs":[{"direct":{"block":1,"data":"0x"}},{"direct":{"block":1,"data":"0x"}}]}"#;
    assert!(parse(&format!("{boot}\n{distinct}\n")).is_ok());
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!("script-duplicate-keys", report));
}
