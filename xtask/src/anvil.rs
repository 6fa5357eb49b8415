//! `cargo xtask anvil`: installs the pinned anvil from the npm registry into `.tools/`
//! and prints the `SEQREC_ANVIL` line that turns the anvil tests on.

use std::process::Command;

use crate::workspace_root;

/// The anvil release the tests are pinned to.
pub(crate) const ANVIL_PACKAGE: &str = "@foundry-rs/anvil-linux-amd64@1.7.1";

pub(crate) fn run() -> Result<(), String> {
    let tools = workspace_root().join(".tools");
    std::fs::create_dir_all(&tools).map_err(|error| format!("cannot create {}: {error}", tools.display()))?;
    let status = Command::new("npm")
        .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
        .arg(&tools)
        .arg(ANVIL_PACKAGE)
        .status()
        .map_err(|error| format!("cannot run npm (install Node.js and npm first): {error}"))?;
    if !status.success() {
        return Err(format!("npm install {ANVIL_PACKAGE} failed ({status})"));
    }
    let binary = tools.join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
    println!("export SEQREC_ANVIL={}", binary.display());
    Ok(())
}
