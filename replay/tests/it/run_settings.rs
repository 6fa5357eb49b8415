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
        "# rpc_timeout_ms: default 10000",
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
