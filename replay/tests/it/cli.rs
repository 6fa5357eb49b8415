//! The command line: exit codes and messages for good and bad input.

use std::path::Path;
use std::process::Command;

fn check_cmd(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_seqrec"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .unwrap_or_else(|error| panic!("cannot run seqrec: {error}"));
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn demo_simulates_the_mainnet_congestion_incident() {
    let svg = std::env::temp_dir().join(format!("seqrec-cli-demo-{}.svg", std::process::id()));
    let (code, out, err) = check_cmd(&["demo", "--svg", svg.to_str().unwrap_or_default()]);
    assert_eq!(code, 0, "{out}{err}");
    for expected in [
        "mainnet parameters (max_wait 1200, margin 300, 12 s blocks)",
        "danger detected",
        "flush: batch",
        "cascade:",
        "generation 1",
        "recovery batch",
        "accepted at block",
        "replayed: hash chain intact, effects identical, same final state",
    ] {
        assert!(out.contains(expected), "missing `{expected}`:\n{out}");
    }
    assert!(std::fs::read_to_string(&svg).unwrap_or_default().contains("cascade"));
}

#[test]
fn simulate_reports_and_reproduces() {
    let log = std::env::temp_dir().join(format!("seqrec-cli-sim-{}.seqlog", std::process::id()));
    let log_arg = log.to_str().unwrap_or_default();
    let (code, out, err) = check_cmd(&["simulate", "--scenario", "congestion", "--seed", "3", "--log", log_arg]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("congestion seed 3: Converged") && out.contains("cascade"), "{out}");
    let (code, out, _) = check_cmd(&["replay", log_arg, "--no-invariants"]);
    assert_eq!(code, 0, "{out}");
    let (code, _, err) = check_cmd(&["simulate", "--scenario", "no-such-thing"]);
    assert_eq!(code, 2);
    assert!(err.contains("no-such-thing") && err.contains("built-in scenarios: happy-path"), "{err}");
}

#[test]
fn replay_verifies_a_script() {
    let (code, out, err) = check_cmd(&["replay", "fixtures/scripts/happy-path.jsonl"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("ok: 15 steps"), "{out}");
    let (code, out, err) = check_cmd(&["replay", "fixtures/logs/happy-path.seqlog"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("ok: 15 records, hash chain intact, effects identical"), "{out}");
}

#[test]
fn bad_input_exits_2_naming_file_line_and_field() {
    let dir = std::env::temp_dir().join(format!("seqrec-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_default();
    let cases = [
        ("missing.jsonl", None, "cannot read"),
        ("unknown-event.jsonl", Some("{\"ev\":\"teleport\"}\n"), "line 1: field `ev`: unknown event `teleport`"),
        ("missing-field.jsonl", Some("# c\n{\"ev\":\"chain_id\"}\n"), "line 2: field `.`: missing field `chain_id`"),
        (
            "out-of-range.jsonl",
            Some("{\"ev\":\"tick\",\"now_ms\":-1}\n"),
            "line 1: field `now_ms`: invalid value: integer `-1`",
        ),
        (
            "nested.jsonl",
            Some(
                "{\"ev\":\"l1\",\"now_ms\":0,\"safe_block\":1,\"safe_timestamp\":0,\"inputs\":[{\"direct\":{\"block\":\"x\",\"data\":\"0x\"}}]}\n",
            ),
            "line 1: field `inputs[0].direct.block`: invalid type: string",
        ),
        (
            "unknown-field.jsonl",
            Some("{\"ev\":\"tick\",\"now_ms\":1,\"later_ms\":2}\n"),
            "line 1: field `later_ms`: unknown field `later_ms`",
        ),
        ("not-json.jsonl", Some("{\"ev\":\n"), "line 1: field `.`: EOF while parsing"),
        (
            "bad-hex.jsonl",
            Some("{\"ev\":\"seal\",\"payload\":\"0xzz\"}\n"),
            "line 1: field `payload`: invalid hex digit",
        ),
    ];
    for (name, content, expected) in cases {
        let path = dir.join(name);
        if let Some(content) = content {
            std::fs::write(&path, content).unwrap_or_default();
        }
        let (code, _, err) = check_cmd(&["trace", path.to_str().unwrap_or_default()]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains(name) && err.contains(expected), "{name}: expected `{expected}` in: {err}");
    }
}

#[test]
fn failed_check_exits_1() {
    let dir = std::env::temp_dir().join(format!("seqrec-cli-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_default();
    let path = dir.join("wrong-expectation.jsonl");
    std::fs::write(&path, "# check: decision admit\n{\"ev\":\"shutdown\"}\n").unwrap_or_default();
    let (code, out, _) = check_cmd(&["replay", path.to_str().unwrap_or_default()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("`check: decision admit` not found"), "{out}");
}

/// `audit FIXTURE --svg FILE` in a scratch file; the picture's text.
fn audit_svg(fixture: &str, name: &str) -> String {
    let out_path = std::env::temp_dir().join(format!("seqrec-cli-{name}-{}.svg", std::process::id()));
    let out_arg = out_path.to_str().unwrap_or_default();
    let (code, out, err) = check_cmd(&["audit", &format!("fixtures/logs/{fixture}"), "--svg", out_arg]);
    assert_eq!(code, 0, "{out}{err}");
    let svg = std::fs::read_to_string(&out_path).unwrap_or_default();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{svg}");
    svg
}

#[test]
fn audit_draws_the_incident_as_svg() {
    let svg = audit_svg("closed-batch-in-danger.seqlog", "svg");
    for label in [
        "exit recovery_required",
        "flush",
        "cascade",
        "recovery batch 2 (nonce 0, gen 1)",
        "danger threshold 15",
        "max wait 20",
        "UTC 2023-11-14T22:13:20Z to 2023-11-14T22:16:44Z",
        ">22:14:00</text>",
        "time (UTC)",
        r#"id="fee-panel""#,
        "no fee observed in this log",
        "exit recovery_required</text>",
        "danger threshold (per boot)",
    ] {
        assert!(svg.contains(label), "missing `{label}`");
    }
}

#[test]
fn a_damaged_log_exits_2_naming_the_record_and_offset() {
    let dir = std::env::temp_dir().join(format!("seqrec-cli-damaged-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_default();
    let path = dir.join("damaged.seqlog");
    let mut bytes =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/logs/happy-path.seqlog")).unwrap_or_default();
    // The last event record ends before the closing checkpoint record (92 bytes).
    let len = bytes.len() - 92;
    bytes[len - 40] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap_or_default();
    let (code, _, err) = check_cmd(&["replay", path.to_str().unwrap_or_default()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("damaged.seqlog: record 14 at byte") && err.contains("chain hash mismatch"), "{err}");
    std::fs::write(&path, &bytes[..len - 10]).unwrap_or_default();
    let (code, _, err) = check_cmd(&["replay", path.to_str().unwrap_or_default()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("torn tail") && err.contains("seqrec repair"), "{err}");
    let (code, out, _) = check_cmd(&["repair", path.to_str().unwrap_or_default()]);
    assert_eq!(code, 0);
    assert!(out.contains("14 whole records kept"), "{out}");
}

#[test]
fn diff_finds_the_first_divergent_step() {
    let (code, out, _) =
        check_cmd(&["diff", "fixtures/logs/happy-path.seqlog", "fixtures/logs/nonce-poisoning.seqlog"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("first divergence at step 4"), "{out}");
    let (code, out, _) = check_cmd(&["diff", "fixtures/logs/happy-path.seqlog"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("identical: 15 steps"), "{out}");
}

#[test]
fn the_sqlite_projection_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("seqrec-cli-db-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_default();
    let (db, log) = (dir.join("p.db"), dir.join("c.seqlog"));
    let (db_arg, log_arg) = (db.to_str().unwrap_or_default(), log.to_str().unwrap_or_default());
    let (code, out, err) = check_cmd(&["simulate", "--scenario", "congestion", "--db", db_arg, "--log", log_arg]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = check_cmd(&["status", "--db", db_arg, "--log", log_arg]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("generation 1 | watermark W"), "{out}");
    assert!(
        out.contains("gold frontier") && out.contains("danger safe") && out.contains("invalid") && out.contains("Gold"),
        "{out}"
    );
    let (code, out, _) = check_cmd(&["seal", "--db", db_arg, "--payload", "0x0102"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("payload of 2 bytes queued"), "{out}");
    let (code, _, err) = check_cmd(&["seal", "--db", db_arg, "--payload", "0102"]);
    assert_eq!(code, 2, "{err}");
    // The queued payload waits for a `run` to seal it; status says so.
    let (code, out, _) = check_cmd(&["status", "--db", db_arg]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("seal queue: 1 queued, 0 sealed, 0 refused"), "{out}");
}

#[test]
fn an_empty_file_or_a_damaged_magic_is_a_log_error_for_every_reader() {
    let dir = super::support::scratch("cli-not-a-log");
    let empty = dir.join("empty.seqlog");
    std::fs::write(&empty, b"").unwrap();
    let damaged = dir.join("damaged-magic.seqlog");
    let mut bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/logs/happy-path.seqlog")).unwrap();
    bytes[..3].copy_from_slice(b"XYZ");
    std::fs::write(&damaged, &bytes).unwrap();
    for command in ["replay", "trace", "audit", "export"] {
        let extra: &[&str] = if command == "export" { &["-o", "-"] } else { &[] };
        for (path, expected) in
            [(&empty, "not a seqrec log (empty file)"), (&damaged, "not a seqrec log: bad magic at byte 0")]
        {
            let mut args = vec![command, path.to_str().unwrap()];
            args.extend_from_slice(extra);
            let (code, out, err) = check_cmd(&args);
            assert_eq!(code, 2, "{command} {}: {out}{err}", path.display());
            assert!(err.contains(expected) && !err.contains("UTF-8"), "{command} {}: {err}", path.display());
        }
    }
}

#[test]
fn a_log_locked_by_a_writer_is_refused_by_another_process() {
    let path = super::support::scratch("cli-locked").join("held.seqlog");
    super::support::write_log(&path, &super::support::script_events("happy-path"), 0);
    let writer = replay::log::LogWriter::open_append(&path, replay::log::FsyncPolicy::EveryRecord).unwrap();
    let (code, _, err) = check_cmd(&["repair", path.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    let pid = if cfg!(target_os = "linux") { format!(" (pid {})", std::process::id()) } else { String::new() };
    assert!(err.contains(&format!("is locked by another process{pid} — another `seqrec run`")), "{err}");
    // Readers do not lock.
    let (code, out, err) = check_cmd(&["replay", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    drop(writer);
    let (code, out, err) = check_cmd(&["repair", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn a_checkpoint_the_replay_disagrees_with_exits_1() {
    let path = super::support::scratch("cli-checkpoint").join("forged.seqlog");
    let header = replay::log::Header::new(machine::Hash32::default());
    let mut writer = replay::log::LogWriter::create(&path, &header, replay::log::FsyncPolicy::EveryRecord).unwrap();
    writer.append(&machine::Event::Shutdown, &[]).unwrap();
    writer.append_checkpoint(machine::Hash32([9; 32])).unwrap();
    drop(writer);
    let (code, out, err) = check_cmd(&["replay", path.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("record 1 at byte ") && out.contains("checkpoint after 1 events records state"), "{out}");
}

/// What an operator can get wrong is refused before any file is touched, with the exit
/// status the systemd unit stops on (78), and `status` never creates a database.
#[test]
fn run_refuses_bad_settings_before_touching_anything() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = super::support::scratch("cli-run-settings");
    let (db, log, key) = (dir.join("p.db"), dir.join("r.seqlog"), dir.join("key"));
    std::fs::write(&key, "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\n").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (db_arg, log_arg, key_arg) = (db.to_str().unwrap(), log.to_str().unwrap(), key.to_str().unwrap());
    let base = ["run", "--db", db_arg, "--log", log_arg, "--key-file", key_arg, "--chain-id", "31337"];
    let inbox = ["--inbox", "0x2222222222222222222222222222222222222222"];
    let cases: [(&[&str], &str); 4] = [
        (&["--rpc", "localhost:8545"], "--rpc: \"localhost:8545\" is not usable"),
        (&["--rpc", "http://127.0.0.1:1", "--rpc-timeout-ms", "0"], "--rpc-timeout-ms: must be > 0"),
        (&["--rpc", "http://127.0.0.1:1", "--inbox", "0x22"], "--inbox"),
        (&["--rpc", "http://127.0.0.1:1", "--max-wait-blocks", "0"], "max_wait_blocks must be > 0"),
    ];
    for (extra, expected) in cases {
        let mut args = base.to_vec();
        if !extra.contains(&"--inbox") {
            args.extend_from_slice(&inbox);
        }
        args.extend_from_slice(extra);
        let (code, out, err) = check_cmd(&args);
        assert!(err.contains(expected), "{extra:?}: {out}{err}");
        assert_eq!(code, 78, "{extra:?}: {err}");
        if !expected.contains("max_wait") {
            // Settings the command checks itself are refused before the log or database exist.
            assert!(!log.exists() && !db.exists(), "{extra:?} touched files");
        }
    }
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_file(&db);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut args = base.to_vec();
    args.extend_from_slice(&inbox);
    args.extend_from_slice(&["--rpc", "http://127.0.0.1:1"]);
    let (code, _, err) = check_cmd(&args);
    assert_eq!(code, 78, "{err}");
    assert!(err.contains("readable or writable by group or others (mode 644)") && err.contains("chmod 600"), "{err}");
    assert!(!log.exists() && !db.exists(), "a refused key touched files");

    let missing = dir.join("missing.db");
    let (code, _, err) = check_cmd(&["status", "--db", missing.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("does not exist (`seqrec run` creates the projection)"), "{err}");
    assert!(!missing.exists(), "status created the database");
}

/// A torn tail is cut only by an explicit `seqrec repair` (docs/protocol.md §10): `run` refuses
/// with 30, saying so, instead of exiting in a loop an orchestrator would restart.
#[test]
fn run_on_a_torn_log_refuses_until_repaired() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = super::support::scratch("cli-run-torn");
    let (db, log, key) = (dir.join("p.db"), dir.join("r.seqlog"), dir.join("key"));
    super::support::write_log(&log, &super::support::script_events("happy-path"), 0);
    let mut bytes = std::fs::read(&log).unwrap();
    bytes.extend_from_slice(&[0x30, 0x00, 0x00]);
    std::fs::write(&log, &bytes).unwrap();
    std::fs::write(&key, "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\n").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let args = [
        "run",
        "--rpc",
        "http://127.0.0.1:1",
        "--db",
        db.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
        "--chain-id",
        "31337",
        "--inbox",
        "0x2222222222222222222222222222222222222222",
    ];
    let (code, _, err) = check_cmd(&args);
    assert_eq!(code, 30, "{err}");
    assert!(err.contains("torn tail") && err.contains("run `seqrec repair`"), "{err}");
    assert_eq!(std::fs::read(&log).unwrap(), bytes, "run changed the torn log");
}

#[test]
fn audit_rows_are_keyed_by_utc_time_and_safe_head() {
    let (code, out, err) = check_cmd(&["audit", "fixtures/logs/closed-batch-in-danger.seqlog"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("time (UTC)            safe head  step"), "{out}");
    for expected in [
        "2023-11-14T22:13:20Z          -  #0      boot                   first boot in this log",
        "2023-11-14T22:16:20Z        115  #37     exit recovery_required batch 0 (nonce 0) aged 15 blocks",
        "2023-11-14T22:16:25Z        115  #38     boot                   restart after exit recovery_required; config unchanged",
        "2023-11-14T22:16:25Z        115  #42     sent                   sent at wallet nonce 0: tx 0xcccc",
    ] {
        assert!(lines.iter().any(|line| line.starts_with(expected)), "missing `{expected}` in:\n{out}");
    }
}

#[test]
fn audit_since_and_until_take_a_utc_time_or_a_block() {
    let audit = |since: &str, until: &str| {
        let (code, out, err) = check_cmd(&[
            "audit",
            "fixtures/logs/closed-batch-in-danger.seqlog",
            "--since",
            since,
            "--until",
            until,
            "--json",
        ]);
        assert_eq!(code, 0, "{err}");
        out.lines().map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()).collect::<Vec<_>>()
    };
    let seqs = |rows: &[serde_json::Value]| rows.iter().map(|row| row["seq"].as_u64().unwrap()).collect::<Vec<_>>();
    // The recovery exit and the boot after it, by time (bounds inclusive).
    let by_time = audit("2023-11-14T22:16:20Z", "2023-11-14T22:16:25Z");
    assert_eq!(seqs(&by_time), [37, 37, 38, 38, 40, 42], "{by_time:?}");
    assert!(by_time.iter().all(|row| row["time"].as_str().is_some_and(|time| time.starts_with("2023-11-14T22:16:2"))));
    // Another offset names the same instant.
    assert_eq!(seqs(&audit("2023-11-14T23:16:20+01:00", "2023-11-14T22:16:25Z")), seqs(&by_time));
    // From the safe head 116 on: what followed the flush.
    let by_block = audit("block:116", "block:117");
    assert_eq!(seqs(&by_block), [44, 45, 45], "{by_block:?}");
    assert_eq!(by_block[0]["safe_block"], 117);
    // Rows before the first sync are earlier than any block.
    assert_eq!(seqs(&audit("2023-11-14T22:13:20Z", "block:0")), [0, 0]);
}

#[test]
fn audit_bounds_that_are_neither_a_time_nor_a_block_exit_2() {
    for (flag, value, expected) in [
        ("--since", "12", "`12` is a bare number: write `block:12` for an L1 safe head, or an RFC 3339 UTC time"),
        ("--until", "yesterday", "`yesterday` is neither `block:N` nor an RFC 3339 time"),
        ("--since", "block:-3", "expected `block:N` with N a decimal L1 block number"),
        ("--since", "2026-12-07T01:02:03", "is neither `block:N` nor an RFC 3339 time with an offset"),
        ("--until", "1969-12-31T23:59:59Z", "is before 1970-01-01T00:00:00Z"),
    ] {
        let (code, out, err) = check_cmd(&["audit", "fixtures/logs/closed-batch-in-danger.seqlog", flag, value]);
        assert_eq!(code, 2, "{flag} {value}: {out}");
        assert!(err.contains(&format!("seqrec: {flag}: ")) && err.contains(expected), "{flag} {value}: {err}");
    }
}

#[test]
fn audit_svg_marks_an_operator_pause_and_resume() {
    let svg = audit_svg("pause-holds-new-submissions.seqlog", "pause");
    for label in [
        "1  2023-11-14T22:13:21Z  paused by the operator",
        "2  2023-11-14T22:13:22Z  resumed by the operator",
        "operator pause / resume",
    ] {
        assert!(svg.contains(label), "missing `{label}`");
    }
}

#[test]
fn audit_lists_a_failed_write_and_rows_before_any_clock_reading() {
    let dir = std::env::temp_dir().join(format!("seqrec-cli-audit-db-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_default();
    let path = dir.join("db-fails.jsonl");
    let script = [
        r#"{"ev":"shutdown"}"#,
        r#"{"ev":"boot","now_ms":1700000000000,"config":{"chain_id":31337,"batch_submitter":"0x1111111111111111111111111111111111111111","inbox":"0x2222222222222222222222222222222222222222","max_wait_blocks":20,"preemptive_margin_blocks":5,"seconds_per_block":12}}"#,
        r#"{"ev":"chain_id","chain_id":31337}"#,
        r#"{"ev":"l1","now_ms":1700000000500,"safe_block":100,"safe_timestamp":1700000000,"inputs":[]}"#,
        r#"{"ev":"db","op":0,"ok":false,"error":"disk I/O error"}"#,
    ];
    std::fs::write(&path, script.join("\n") + "\n").unwrap_or_default();
    let path_arg = path.to_str().unwrap_or_default();
    let (code, out, err) = check_cmd(&["audit", path_arg]);
    assert_eq!(code, 0, "{err}");
    for expected in [
        "-                             -  #0      rejected               rejected: `shutdown` arrived while no process is running",
        "2023-11-14T22:13:20Z        100  #4      db_failed              db op 0 failed: disk I/O error",
        "2023-11-14T22:13:20Z        100  #4      exit retry             db op 0 failed: disk I/O error",
    ] {
        assert!(out.lines().any(|line| line.starts_with(expected)), "missing `{expected}` in:\n{out}");
    }
    let (code, out, err) = check_cmd(&["audit", path_arg, "--json", "--since", "block:100"]);
    assert_eq!(code, 0, "{err}");
    let failed: serde_json::Value = out
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|row| row["what"] == "db_failed")
        .unwrap_or_else(|| panic!("no db_failed row in:\n{out}"));
    assert_eq!(failed["op"], 0);
    assert_eq!(failed["error"], "disk I/O error");
    assert_eq!(failed["time"], "2023-11-14T22:13:20Z");
    assert_eq!(failed["now_ms"], 1_700_000_000_500_u64);
}

/// `seqrec seal --db DB ARGS` with `stdin` on its standard input: exit code, stdout, stderr.
fn seal_cmd(db: &Path, args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_seqrec"))
        .arg("seal")
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let bytes = stdin.to_vec();
    // Written from a thread: a refusal may exit before reading all of it.
    let writer = std::thread::spawn(move || drop(input.write_all(&bytes)));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Queues a payload with `seqrec seal --db DB ARGS` (standard input `stdin`), as an
/// operator or an inclusion lane's script would; the queue row's id.
pub(crate) fn seal_with(db: &Path, args: &[&str], stdin: &[u8]) -> u64 {
    let (code, out, err) = seal_cmd(db, args, stdin);
    assert_eq!(code, 0, "seqrec seal {args:?}: {out}{err}");
    let id = out.trim_end().strip_suffix(')').and_then(|out| out.rsplit("queue id ").next());
    id.and_then(|id| id.parse().ok()).unwrap_or_else(|| panic!("no queue id in {out}"))
}

/// Payloads beyond a command-line argument's 128 KiB (as hex) go through `--payload-file`
/// (raw bytes) or standard input, each queued byte for byte; bad input queues nothing and
/// says why.
#[test]
fn seal_queues_raw_files_and_standard_input_and_refuses_bad_input_with_its_reason() {
    use effects::sqlite::SqliteStore;
    let dir = super::support::scratch("cli-seal-sources");
    let db = dir.join("p.db");
    let bytes = |len: usize, seed: usize| -> Vec<u8> { (0..len).map(|i| ((i * 131 + seed) % 251) as u8).collect() };
    // 65,216 bytes, and the largest payload the default max_batch_bytes takes (a 120 KiB batch).
    let (small, large) = (bytes(65_216, 1), bytes(122_880 - 25, 2));
    let file = dir.join("small.bin");
    std::fs::write(&file, &small).unwrap();
    let large_file = dir.join("large.bin");
    std::fs::write(&large_file, &large).unwrap();
    let hex = |payload: &[u8]| format!("0x{}", payload.iter().map(|b| format!("{b:02x}")).collect::<String>());
    let cases: [(&[&str], Vec<u8>, &Vec<u8>); 5] = [
        (&["--payload-file", file.to_str().unwrap()], Vec::new(), &small),
        (&["--payload-file", large_file.to_str().unwrap()], Vec::new(), &large),
        (&["--payload-file", "-"], small.clone(), &small),
        (&["--payload-file", "-"], large.clone(), &large),
        // Hex on standard input, with the newline `echo` or a here-string adds.
        (&["--payload", "-"], format!("{}\n", hex(&large)).into_bytes(), &large),
    ];
    let mut ids = Vec::new();
    for (args, stdin, expected) in &cases {
        let id = seal_with(&db, args, stdin);
        let store = SqliteStore::open(&db).unwrap();
        let (row, queued) = store.peek_seal(ids.last().copied()).unwrap().unwrap();
        assert_eq!((row, queued.len()), (id, expected.len()), "{args:?}");
        assert!(queued == **expected, "{args:?}: the row holds other bytes");
        ids.push(id);
    }
    // The node takes them too: a run's reader sees each row in order (the live test
    // `faults::sizes` seals them on anvil).
    let store = SqliteStore::open(&db).unwrap();
    let mut after = None;
    for (id, (_, _, expected)) in ids.iter().zip(&cases) {
        let (row, queued) = store.peek_seal(after).unwrap().unwrap();
        assert_eq!(row, *id);
        assert!(queued == **expected);
        after = Some(row);
    }
    assert_eq!(store.peek_seal(after).unwrap(), None);
    drop(store);

    let too_large = dir.join("too-large.bin");
    std::fs::write(&too_large, bytes(122_880 - 24, 3)).unwrap();
    let too_large = too_large.to_str().unwrap();
    let missing = dir.join("missing.bin");
    let refusals: [(&[&str], &[u8], &str); 6] = [
        (&["--payload-file", "-"], b"", "standard input: the payload is empty: nothing queued"),
        (
            &["--payload-file", too_large],
            b"",
            "a payload of 122856 bytes makes a batch of 122881 bytes (25-byte header + payload) > --max-batch-bytes 122880: nothing queued",
        ),
        (
            &["--payload-file", missing.to_str().unwrap()],
            b"",
            "missing.bin: cannot read the payload: No such file or directory",
        ),
        (&["--payload", "0x12zz"], b"", "--payload: not hex: invalid hex digit at position 2"),
        (&["--payload", "-"], b"1234\n", "--payload -: not hex: expected a 0x-prefixed hex string"),
        (&["--payload", "0x"], b"", "--payload: the payload is empty: nothing queued"),
    ];
    for (args, stdin, expected) in refusals {
        let (code, out, err) = seal_cmd(&db, args, stdin);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    // A larger limit, as `run --max-batch-bytes` may have, takes it.
    seal_with(&db, &["--payload-file", too_large, "--max-batch-bytes", "200000"], &[]);
    let rows = SqliteStore::open(&db).unwrap().seal_rows().unwrap();
    assert_eq!(rows.len(), cases.len() + 1, "each refusal queued nothing: {rows:?}");
    // Neither source given: clap says which flags.
    let (code, _, err) = seal_cmd(&db, &[], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--payload <PAYLOAD>") && err.contains("--payload-file <PAYLOAD_FILE>"), "{err}");
}
