//! `cargo xtask nodes` (or `anvil`): installs the pinned real nodes from the npm registry
//! into `.tools/` — anvil and hardhat (its EDR node) — and prints the `SEQREC_ANVIL` and
//! `SEQREC_HARDHAT` lines that turn the live tests on.

use std::process::Command;

use crate::workspace_root;

/// The anvil release the tests are pinned to.
pub(crate) const ANVIL_PACKAGE: &str = "@foundry-rs/anvil-linux-amd64@1.7.1";
/// The hardhat release (its EDR node) the tests are pinned to; it runs on Node.js 20.
pub(crate) const HARDHAT_PACKAGE: &str = "hardhat@2.29.1";

pub(crate) fn run() -> Result<(), String> {
    let tools = workspace_root().join(".tools");
    std::fs::create_dir_all(&tools).map_err(|error| format!("cannot create {}: {error}", tools.display()))?;
    let status = Command::new("npm")
        .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
        .arg(&tools)
        .args([ANVIL_PACKAGE, HARDHAT_PACKAGE])
        .status()
        .map_err(|error| format!("cannot run npm (install Node.js and npm first): {error}"))?;
    if !status.success() {
        return Err(format!("npm install {ANVIL_PACKAGE} {HARDHAT_PACKAGE} failed ({status})"));
    }
    println!("export SEQREC_ANVIL={}", tools.join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil").display());
    println!("export SEQREC_HARDHAT={}", tools.join("node_modules/.bin/hardhat").display());
    Ok(())
}
