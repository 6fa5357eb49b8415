//! `cargo xtask faults [KILLS] [RESEND_SECONDS]`: the long runs of the fault suite against
//! the pinned nodes. First the SIGKILL case (issue #8) with many more kills than the
//! default test's 30 (default here: 300), against anvil; `SEQREC_FAULT_SEED` repeats a
//! schedule, and the test prints the seed it used. Then the interval-mining resend test
//! (issue #18: every batch at one wallet nonce) on anvil and hardhat, sealing for
//! RESEND_SECONDS per node instead of CI's 30 (default here: 150).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::workspace_root;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let number = |at: usize, name: &str, default: u64| match args.get(at) {
        Some(value) => value.parse::<u64>().map_err(|_| format!("{name} must be a number, not `{value}`")),
        None => Ok(default),
    };
    let (kills, resend_seconds) = (number(0, "KILLS", 300)?, number(1, "RESEND_SECONDS", 150)?);
    let anvil = node("SEQREC_ANVIL", "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")?;
    let hardhat = node("SEQREC_HARDHAT", "node_modules/.bin/hardhat")?;
    test(&[("SEQREC_FAULT_KILLS", kills.to_string())], &anvil, &hardhat, "faults::sigkill")
        .map_err(|status| format!("the fault suite failed ({status}); its seed is printed above"))?;
    test(&[("SEQREC_RESEND_SECONDS", resend_seconds.to_string())], &anvil, &hardhat, "resend_live::")
        .map_err(|status| format!("the resend test failed ({status}); its duplicate counts are printed above"))
}

/// A pinned node's binary: `variable`, or where `cargo xtask nodes` installs it.
fn node(variable: &str, installed: &str) -> Result<PathBuf, String> {
    let path = match std::env::var_os(variable) {
        Some(path) => PathBuf::from(path),
        None => workspace_root().join(".tools").join(installed),
    };
    if path.exists() {
        Ok(path)
    } else {
        Err(format!("no {}: run `cargo xtask nodes` (or set {variable})", path.display()))
    }
}

/// `cargo test` of the `replay` live tests matching `filter`, with `env` and both nodes.
fn test(env: &[(&str, String)], anvil: &Path, hardhat: &Path, filter: &str) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let args = ["test", "--locked", "-p", "replay", "--test", "it", filter, "--", "--nocapture", "--test-threads", "1"];
    let shown: Vec<String> = env.iter().map(|(name, value)| format!("{name}={value}")).collect();
    eprintln!("$ {} cargo {}", shown.join(" "), args.join(" "));
    let status = Command::new(cargo)
        .args(args)
        .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
        .env("SEQREC_ANVIL", anvil)
        .env("SEQREC_HARDHAT", hardhat)
        .env("HARDHAT_DISABLE_TELEMETRY_PROMPT", "true")
        .current_dir(workspace_root())
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if status.success() { Ok(()) } else { Err(status.to_string()) }
}
