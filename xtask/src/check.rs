//! `cargo xtask check [ARGS]`: builds `seqrec` in release mode and runs `seqrec check` on
//! its default scope (issue 12: at least 1,000,000 distinct states in under 5 minutes,
//! 0 violations), with ARGS passed through (`--depth 18`, `--json`, ...). It prints the
//! figures (distinct states, transitions, time, states/s, peak memory) and fails on a
//! violation, whose shortest counterexample `seqrec check` prints as a script.

use std::process::Command;

use crate::workspace_root;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    crate::cargo(&["build", "--quiet", "--release", "-p", "replay", "--bin", "seqrec", "--locked"])?;
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace_root().join("target"), std::path::PathBuf::from);
    let seqrec = target.join("release/seqrec");
    eprintln!("$ {} check {}", seqrec.display(), args.join(" "));
    let status = Command::new(&seqrec)
        .arg("check")
        .args(args)
        .current_dir(workspace_root())
        .status()
        .map_err(|error| format!("cannot run {}: {error}", seqrec.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`seqrec check {}` failed ({status}): a violation, or see the message above", args.join(" ")))
    }
}
