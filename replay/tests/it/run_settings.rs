//! `seqrec run`'s settings before it touches anything: flags over environment over the
//! `--config` file over defaults (`--print-config` names each source and never the key),
//! every problem of a bad config listed, and the key from an encrypted keystore.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output};

use super::support::scratch;

/// anvil's first development key: public, never a real one.
const KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcab7e8a2f42ff2e80";

fn seqrec(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_seqrec"));
    command.arg("run").args(args);
    // The test's own environment must not leak settings into the child.
    for (name, _) in std::env::vars() {
        if name.starts_with("SEQREC_") || name == "RUST_LOG" {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().copied()).output().unwrap()
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn write_private(path: &Path, contents: &str) {
    std::fs::write(path, contents).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

const FILE: &str = r#"
rpc = "http://127.0.0.1:1"
db = "DIR/p.db"
log = "DIR/run.seqlog"
chain_id = 31337
inbox = "0x2222222222222222222222222222222222222222"
max_wait_blocks = 1000
preemptive_margin_blocks = 250
detector_interval_ms = 900
"#;

#[test]
fn flags_win_over_environment_over_the_config_file_and_print_config_names_each_source() {
    let dir = scratch("run-settings-precedence");
    let config = dir.join("seqrec.toml");
    std::fs::write(&config, FILE.replace("DIR", &dir.display().to_string())).unwrap();
    let env = [("SEQREC_KEY", KEY), ("SEQREC_MAX_WAIT_BLOCKS", "1100"), ("SEQREC_DETECTOR_INTERVAL_MS", "5")];
    let args = ["--config", config.to_str().unwrap(), "--print-config", "--detector-interval-ms", "7"];
    let output = seqrec(&args, &env);
    let printed = text(&output);
    assert!(output.status.success(), "{printed}");
    for line in [
        "max_wait_blocks = 1100  # environment",
        "preemptive_margin_blocks = 250  # config file",
        "detector_interval_ms = 7  # flag",
        "chain_id = 31337  # config file",
        "rpc_timeout_ms = 10000  # default",
        "# the signing key: SEQREC_KEY (set; not shown)",
    ] {
        assert!(printed.lines().any(|printed| printed == line), "missing {line:?} in\n{printed}");
    }
    assert!(!printed.contains(&KEY[2..]), "the key must never be printed:\n{printed}");
    assert!(!dir.join("p.db").exists() && !dir.join("run.seqlog").exists(), "--print-config touched files");
}

#[test]
fn a_bad_config_lists_every_problem_and_touches_nothing() {
    let dir = scratch("run-settings-problems");
    let config = dir.join("seqrec.toml");
    let broken =
        FILE.replace("DIR", &dir.display().to_string()).replace("max_wait_blocks = 1000", "max_wait_blocks = 0");
    std::fs::write(&config, broken).unwrap();
    let args = ["--config", config.to_str().unwrap(), "--seconds-per-block", "0", "--rpc", "ftp://x"];
    let output = seqrec(&args, &[("SEQREC_KEY", KEY), ("SEQREC_SUBMIT_INTERVAL_MS", "0")]);
    let printed = text(&output);
    assert_eq!(output.status.code(), Some(78), "{printed}");
    for problem in [
        "--rpc: \"ftp://x\" is not usable",
        "max_wait_blocks must be > 0 (found 0) (set by --max-wait-blocks, SEQREC_MAX_WAIT_BLOCKS or `max_wait_blocks` in the --config file)",
        "seconds_per_block must be > 0",
        "submit_interval_ms must be > 0",
        "exit config_invalid (78)",
    ] {
        assert!(printed.contains(problem), "missing {problem:?} in\n{printed}");
    }
    assert!(!dir.join("p.db").exists() && !dir.join("run.seqlog").exists());
    // A required setting missing everywhere, and a key the file does not know.
    std::fs::write(&config, "max_wait = 3\n").unwrap();
    let printed = text(&seqrec(&["--config", config.to_str().unwrap()], &[]));
    assert!(printed.contains(":1:1: unknown field `max_wait`, expected one of"), "{printed}");
    std::fs::write(&config, "chain_id = 1\n").unwrap();
    let printed = text(&seqrec(&["--config", config.to_str().unwrap()], &[]));
    for key in ["rpc", "db", "log", "inbox"] {
        let line = format!(
            "{key}: required: give --{key}, set SEQREC_{} or put `{key} = …` in the --config file",
            key.to_uppercase()
        );
        assert!(printed.contains(&line), "missing {line:?} in\n{printed}");
    }
}

#[test]
fn the_key_comes_from_an_encrypted_keystore_and_a_wrong_password_is_a_clear_error() {
    let dir = scratch("run-settings-keystore");
    let key = alloy::hex::decode(KEY).unwrap();
    let password = "correct horse battery staple";
    alloy::signers::local::PrivateKeySigner::encrypt_keystore(
        &dir,
        &mut rand08::thread_rng(),
        &key,
        password,
        Some("submitter.json"),
    )
    .unwrap();
    let keystore = dir.join("submitter.json");
    let config = dir.join("seqrec.toml");
    // An invalid rule keeps `run` from touching anything once the key is read.
    let broken =
        FILE.replace("DIR", &dir.display().to_string()).replace("max_wait_blocks = 1000", "max_wait_blocks = 0");
    std::fs::write(&config, broken).unwrap();
    let password_file = dir.join("password");
    let run = |password_file: &Path| {
        let args = ["--config", config.to_str().unwrap(), "--keystore", keystore.to_str().unwrap(), "--password-file"];
        let output = seqrec(&[&args[..], &[password_file.to_str().unwrap()]].concat(), &[]);
        (output.status.code(), text(&output))
    };
    write_private(&password_file, &format!("{password}\n"));
    let (code, printed) = run(&password_file);
    assert_eq!(code, Some(78), "{printed}");
    assert!(printed.contains("max_wait_blocks must be > 0"), "{printed}");
    assert!(!printed.contains("keystore"), "the keystore decrypted, so nothing is said of it:\n{printed}");
    write_private(&password_file, "hunter2-not-it\n");
    let (code, printed) = run(&password_file);
    assert_eq!(code, Some(78), "{printed}");
    assert!(printed.contains("cannot decrypt the keystore: wrong password"), "{printed}");
    for secret in [&KEY[2..], password, "hunter2-not-it"] {
        assert!(!printed.contains(secret), "{secret:?} printed:\n{printed}");
    }
    std::fs::set_permissions(&password_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (_, printed) = run(&password_file);
    assert!(printed.contains("the password file is readable or writable by group or others (mode 644)"), "{printed}");
}

/// Issue 18, item 12: each setting that switches the safety net off is refused with 78
/// before any file is touched, the message naming the flag, variable and file key to
/// change; the values the issue reported (a detector interval of i64::MAX ms, intervals
/// and the re-pricing bound at u64::MAX, a tip floor of 2^128 − 1, a timeout of 2^64 − 1).
#[test]
fn settings_that_switch_the_safety_net_off_are_refused_naming_the_flag() {
    let dir = scratch("run-settings-safety-net");
    let config = dir.join("seqrec.toml");
    std::fs::write(&config, FILE.replace("DIR", &dir.display().to_string())).unwrap();
    // FILE: margin 250 blocks × 12 s = 3,000,000 ms; stale window min(600, 750 − 1) × 12 s.
    let max = u64::MAX.to_string();
    let cases: [(&str, String, &str); 5] = [
        (
            "--detector-interval-ms",
            i64::MAX.to_string(),
            "detector_interval_ms (9223372036854775807) must be < the margin's duration (3000000 ms",
        ),
        (
            "--submit-interval-ms",
            max.clone(),
            "submit_interval_ms (18446744073709551615) must be < the margin's duration",
        ),
        (
            "--resubmit-after-blocks",
            max.clone(),
            "resubmit_after_blocks (18446744073709551615) must be <= preemptive_margin_blocks (250)",
        ),
        (
            "--min-tip-wei",
            u128::MAX.to_string(),
            "min_tip_wei (340282366920938463463374607431768211455) must be <= 10000000000000",
        ),
        ("--rpc-timeout-ms", max, "rpc_timeout_ms (18446744073709551615) must be < the stale window (7200000 ms"),
    ];
    for (flag, value, expected) in &cases {
        let output = seqrec(&["--config", config.to_str().unwrap(), flag, value], &[("SEQREC_KEY", KEY)]);
        let printed = text(&output);
        assert_eq!(output.status.code(), Some(78), "{flag} {value}: {printed}");
        assert!(printed.contains(expected), "{flag} {value}: missing {expected:?} in\n{printed}");
        let variable = format!("SEQREC_{}", flag.trim_start_matches("--").replace('-', "_").to_uppercase());
        let named = format!("(set by {flag}, {variable} or `");
        assert!(printed.contains(&named), "{flag}: the flag to change is not named:\n{printed}");
        assert!(!dir.join("p.db").exists() && !dir.join("run.seqlog").exists(), "{flag} touched files");
        // `--print-config` lists the same problem under the settings.
        let output =
            seqrec(&["--config", config.to_str().unwrap(), flag, value, "--print-config"], &[("SEQREC_KEY", KEY)]);
        let printed = text(&output);
        assert!(printed.contains(&format!("# problem: {expected}")), "{flag}: print-config:\n{printed}");
    }
    // At the boundary they start (here: up to the node, which does not answer).
    let output = seqrec(
        &["--config", config.to_str().unwrap(), "--detector-interval-ms", "2999999", "--print-config"],
        &[("SEQREC_KEY", KEY)],
    );
    assert!(!text(&output).contains("# problem:"), "{}", text(&output));
}

/// Issue 18, item 4: `--print-config` shows the value every setting takes, the core's
/// defaults and derived values included, and says what an absent one means.
#[test]
fn print_config_shows_the_resolved_value_of_every_setting() {
    let dir = scratch("run-settings-resolved");
    let config = dir.join("seqrec.toml");
    std::fs::write(&config, FILE.replace("DIR", &dir.display().to_string())).unwrap();
    let output = seqrec(&["--config", config.to_str().unwrap(), "--print-config"], &[("SEQREC_KEY", KEY)]);
    let printed = text(&output);
    assert!(output.status.success(), "{printed}");
    for line in [
        "max_wait_blocks = 1000  # config file",
        // min(600, (1000 − 250) − 1), derived as the core derives it.
        "l1_read_stale_after_blocks = 600  # default",
        "prune_after_blocks = 2000  # default",
        "seconds_per_block = 12  # default",
        "submit_interval_ms = 1000  # default",
        "confirmation_depth = 1  # default",
        "max_batch_bytes = 122880  # default",
        "start_block = 0  # default",
        "min_tip_wei = 1000000000  # default",
        "flush_cap_multiplier = 3  # default",
        "resubmit_after_blocks = 5  # default",
        "adopt_l1_history = false  # default",
        "rpc_timeout_ms = 10000  # default",
        "# max_fee_cap_wei: not set: no cap",
        "# metrics: not set: no metrics server",
    ] {
        assert!(printed.lines().any(|printed| printed == line), "missing {line:?} in\n{printed}");
    }
    let snapshots = format!("snapshot_dir = \"{}\"  # default", dir.join("run.seqlog.snapshots").display());
    assert!(printed.contains(&snapshots), "missing {snapshots:?} in\n{printed}");
    assert!(!printed.contains("the core's default"), "a value left unsaid:\n{printed}");
    // A derived value follows what it derives from.
    let output = seqrec(
        &[
            "--config",
            config.to_str().unwrap(),
            "--print-config",
            "--max-wait-blocks",
            "300",
            "--preemptive-margin-blocks",
            "100",
        ],
        &[("SEQREC_KEY", KEY)],
    );
    let printed = text(&output);
    assert!(printed.contains("l1_read_stale_after_blocks = 199  # default"), "{printed}");
    assert!(printed.contains("prune_after_blocks = 600  # default"), "{printed}");
}

/// Every spelling of [`KEY`] a leak could take: with and without `0x`, lower and upper case.
fn assert_key_not_in(printed: &str, what: &str) {
    let bare = &KEY[2..];
    let lower = printed.to_lowercase();
    assert!(!lower.contains(bare), "{what}: the key was printed:\n{printed}");
    // A prefix long enough to be the key's and nothing else's.
    assert!(!lower.contains(&bare[..24]), "{what}: part of the key was printed:\n{printed}");
}

/// Issue 18, item 8: no error and no printout repeats the key, wherever it was given —
/// a keystore holding it as a JSON string, bare, or as a key file's text; the key given
/// where a path or a number is expected (flag, environment, config file); `--print-config`
/// with each.
#[test]
fn no_error_and_no_printout_repeats_the_key() {
    let dir = scratch("run-settings-key-leaks");
    let config = dir.join("seqrec.toml");
    std::fs::write(&config, FILE.replace("DIR", &dir.display().to_string())).unwrap();
    let password = dir.join("password");
    write_private(&password, "pw\n");
    let config_arg = config.to_str().unwrap();
    // Keystores that are not keystores: the key as a JSON string, bare, a key file's text.
    for (name, contents) in [
        ("json-string", format!("\"{KEY}\"")),
        ("bare-hex", KEY[2..].to_owned()),
        ("bare-hex-upper", KEY[2..].to_uppercase()),
        ("key-file-text", format!("{KEY}\n")),
        ("json-object-with-key", format!("{{\"crypto\": \"{KEY}\"}}")),
        ("json-array", format!("[\"{KEY}\"]")),
    ] {
        let keystore = dir.join(name);
        write_private(&keystore, &contents);
        let args = [
            "--config",
            config_arg,
            "--keystore",
            keystore.to_str().unwrap(),
            "--password-file",
            password.to_str().unwrap(),
        ];
        let output = seqrec(&args, &[]);
        let printed = text(&output);
        assert_eq!(output.status.code(), Some(78), "{name}: {printed}");
        assert!(
            printed.contains("not an encrypted keystore") || printed.contains("cannot decrypt"),
            "{name}: {printed}"
        );
        assert_key_not_in(&printed, name);
        if name != "json-object-with-key" && name != "json-array" {
            assert!(
                printed.contains("holds a bare private key (not shown)") && printed.contains("--key-file"),
                "{name}: {printed}"
            );
        }
    }
    // The key given where a path, a URL or a number is expected: as a flag, through the
    // environment, in the config file; and --print-config with each.
    let hex = KEY.to_owned();
    let upper = KEY[2..].to_uppercase();
    let flags: Vec<Vec<&str>> = vec![
        vec!["--key-file", &hex],
        vec!["--key-file", &upper],
        vec!["--keystore", &hex, "--password-file", password.to_str().unwrap()],
        vec!["--password-file", &hex, "--keystore", config_arg],
        vec!["--chain-id", &hex],
        vec!["--rpc", &hex],
        vec!["--inbox", &hex],
        vec!["--log-format", &hex],
        vec!["--log-level", &hex],
        vec!["--metrics", &hex],
    ];
    for flag in &flags {
        for print in [false, true] {
            let mut args = vec!["--config", config_arg];
            args.extend(flag.iter().copied());
            if print {
                args.push("--print-config");
            }
            let printed = text(&seqrec(&args, &[]));
            assert_key_not_in(&printed, &format!("{flag:?} print {print}"));
        }
    }
    for (variable, value) in
        [("SEQREC_KEY_FILE", hex.as_str()), ("SEQREC_CONFIG", hex.as_str()), ("SEQREC_DB", upper.as_str())]
    {
        for print in [false, true] {
            let args: &[&str] = if print { &["--print-config"] } else { &[] };
            let printed = text(&seqrec(args, &[(variable, value)]));
            assert_key_not_in(&printed, variable);
        }
    }
    for line in [format!("key_file = \"{KEY}\""), format!("chain_id = \"{KEY}\""), format!("keystore = {KEY}")] {
        let file = dir.join("with-key.toml");
        std::fs::write(&file, format!("{line}\n")).unwrap();
        for print in [false, true] {
            let mut args = vec!["--config", file.to_str().unwrap()];
            if print {
                args.push("--print-config");
            }
            let printed = text(&seqrec(&args, &[]));
            assert_key_not_in(&printed, &line);
        }
    }
    let file = dir.join("with-key.toml");
    std::fs::write(&file, FILE.replace("DIR", &dir.display().to_string()) + &format!("key_file = \"{KEY}\"\n"))
        .unwrap();
    let printed = text(&seqrec(&["--config", file.to_str().unwrap()], &[]));
    assert!(
        printed.contains("--key-file: the value given looks like a private key, not a file path (not shown)"),
        "{printed}"
    );
}
