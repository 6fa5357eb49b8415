//! `cargo xtask nodes` (or `anvil`): installs the pinned real nodes from the npm registry
//! into `.tools/` — anvil and hardhat (its EDR node) — and prints the `SEQREC_ANVIL` and
//! `SEQREC_HARDHAT` lines that turn the live tests on. `cargo xtask ci` calls [`ensure`]
//! for the same nodes when the variables are unset.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::workspace_root;

/// The anvil release the tests are pinned to.
pub(crate) const ANVIL_PACKAGE: &str = "@foundry-rs/anvil-linux-amd64@1.7.1";
/// The hardhat release (its EDR node) the tests are pinned to; it runs on Node.js 20.
pub(crate) const HARDHAT_PACKAGE: &str = "hardhat@2.29.1";

/// The two dev nodes' binaries.
pub(crate) struct Nodes {
    pub(crate) anvil: PathBuf,
    pub(crate) hardhat: PathBuf,
}

impl Nodes {
    /// What the live tests read: both binaries, and hardhat's prompt off.
    pub(crate) fn env(&self) -> Vec<(&'static str, std::ffi::OsString)> {
        vec![
            ("SEQREC_ANVIL", self.anvil.clone().into_os_string()),
            ("SEQREC_HARDHAT", self.hardhat.clone().into_os_string()),
            ("HARDHAT_DISABLE_TELEMETRY_PROMPT", "true".into()),
        ]
    }
}

pub(crate) fn run() -> Result<(), String> {
    let nodes = install(&tools())?;
    verify(&nodes)?;
    println!("export SEQREC_ANVIL={}", nodes.anvil.display());
    println!("export SEQREC_HARDHAT={}", nodes.hardhat.display());
    Ok(())
}

fn tools() -> PathBuf {
    workspace_root().join(".tools")
}

/// Where npm puts the two binaries under `tools`.
fn installed(tools: &Path) -> Nodes {
    Nodes {
        anvil: tools.join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"),
        hardhat: tools.join("node_modules/.bin/hardhat"),
    }
}

/// Whether `tools` holds the pinned release of `package` (`name@version`).
fn pinned_present(tools: &Path, package: &str) -> bool {
    let Some((name, version)) = package.rsplit_once('@') else { return false };
    let manifest = tools.join("node_modules").join(name).join("package.json");
    std::fs::read_to_string(manifest).is_ok_and(|text| {
        text.lines().any(|line| line.trim().trim_end_matches(',') == format!("\"version\": \"{version}\""))
    })
}

/// Installs the pinned nodes into `tools` (nothing to do when they are there already).
fn install(tools: &Path) -> Result<Nodes, String> {
    let nodes = installed(tools);
    if pinned_present(tools, ANVIL_PACKAGE) && pinned_present(tools, HARDHAT_PACKAGE) && nodes.anvil.exists() {
        eprintln!("nodes: {ANVIL_PACKAGE} and {HARDHAT_PACKAGE} already in {}", tools.display());
        return Ok(nodes);
    }
    std::fs::create_dir_all(tools).map_err(|error| format!("cannot create {}: {error}", tools.display()))?;
    eprintln!("nodes: installing {ANVIL_PACKAGE} and {HARDHAT_PACKAGE} into {} with npm …", tools.display());
    let mut command = Command::new("npm");
    command.args(["install", "--no-audit", "--no-fund", "--loglevel=notice", "--prefix"]).arg(tools);
    command.args([ANVIL_PACKAGE, HARDHAT_PACKAGE]);
    let status = crate::ci::stream(&mut command, "npm install", |line| eprintln!("{line}"))
        .map_err(|error| format!("cannot run npm (install Node.js 20 and npm first): {error}"))?;
    if !status.success() {
        return Err(format!("npm install {ANVIL_PACKAGE} {HARDHAT_PACKAGE} failed ({status})"));
    }
    Ok(nodes)
}

/// The nodes the live tests run against: `SEQREC_ANVIL` and `SEQREC_HARDHAT` when both
/// are set, else the pinned releases in `.tools/`, installed now if missing. Each must
/// answer `--version`; anything else is an error, so the live tests never skip.
pub(crate) fn ensure() -> Result<Nodes, String> {
    let nodes = match (std::env::var_os("SEQREC_ANVIL"), std::env::var_os("SEQREC_HARDHAT")) {
        (Some(anvil), Some(hardhat)) => {
            eprintln!("nodes: SEQREC_ANVIL and SEQREC_HARDHAT are set: using them");
            Nodes { anvil: anvil.into(), hardhat: hardhat.into() }
        }
        _ => install(&tools())?,
    };
    verify(&nodes)?;
    Ok(nodes)
}

/// Each node must answer `--version` (printed).
fn verify(nodes: &Nodes) -> Result<(), String> {
    for (name, binary) in [("anvil", &nodes.anvil), ("hardhat", &nodes.hardhat)] {
        // hardhat reads its project from the working directory: the scratch `.tools/` one.
        let out = Command::new(binary)
            .arg("--version")
            .current_dir(tools().exists().then(tools).unwrap_or_else(workspace_root))
            .env("HARDHAT_DISABLE_TELEMETRY_PROMPT", "true")
            .output()
            .map_err(|error| format!("{name} at {} cannot run: {error}", binary.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{name} at {} fails `--version` ({}): {}",
                binary.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim_end()
            ));
        }
        let version = String::from_utf8_lossy(&out.stdout);
        eprintln!("nodes: {name} {} ({})", version.lines().next().unwrap_or("").trim(), binary.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_pinned_release_is_told_by_its_package_json() {
        let tools = std::env::temp_dir().join(format!("xtask-nodes-{}", std::process::id()));
        let dir = tools.join("node_modules/hardhat");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("package.json"), "{\n  \"name\": \"hardhat\",\n  \"version\": \"2.29.1\",\n}\n")
            .unwrap();
        assert!(super::pinned_present(&tools, super::HARDHAT_PACKAGE));
        assert!(!super::pinned_present(&tools, "hardhat@2.30.0"), "another release is not the pinned one");
        assert!(!super::pinned_present(&tools, super::ANVIL_PACKAGE), "not installed");
        std::fs::remove_dir_all(&tools).unwrap();
    }
}
