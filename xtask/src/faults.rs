//! `cargo xtask faults [KILLS]`: the SIGKILL case of the fault suite (issue #8) with many
//! more kills than the default test's 30 (default here: 300), against the pinned anvil.
//! `SEQREC_FAULT_SEED` repeats a schedule; the test prints the seed it used.

use std::process::Command;

use crate::workspace_root;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let kills = match args.first() {
        Some(kills) => kills.parse::<u64>().map_err(|_| format!("KILLS must be a number, not `{kills}`"))?,
        None => 300,
    };
    let anvil = match std::env::var_os("SEQREC_ANVIL") {
        Some(anvil) => std::path::PathBuf::from(anvil),
        None => workspace_root().join(".tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"),
    };
    if !anvil.exists() {
        return Err("no anvil: run `cargo xtask anvil` (or set SEQREC_ANVIL)".to_owned());
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let args = ["test", "--locked", "-p", "replay", "--test", "it", "faults::sigkill", "--", "--nocapture"];
    eprintln!("$ SEQREC_FAULT_KILLS={kills} cargo {}", args.join(" "));
    let status = Command::new(cargo)
        .args(args)
        .env("SEQREC_ANVIL", &anvil)
        .env("SEQREC_FAULT_KILLS", kills.to_string())
        .current_dir(workspace_root())
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if status.success() { Ok(()) } else { Err(format!("the fault suite failed ({status}); its seed is printed above")) }
}
