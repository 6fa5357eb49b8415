//! `cargo xtask sim [--seeds N] [--from S]`: builds `seqrec` in release mode and sweeps N
//! random seeds (default 10,000) with random fault schedules and crash points; a failure
//! prints the one command that reproduces it.

use std::process::Command;

use crate::workspace_root;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let value = |flag: &str, default: &str| {
        args.iter()
            .position(|arg| arg == flag)
            .and_then(|i| args.get(i + 1))
            .map_or_else(|| default.to_owned(), Clone::clone)
    };
    let (seeds, from) = (value("--seeds", "10000"), value("--from", "0"));
    crate::cargo(&["build", "--quiet", "--release", "-p", "replay", "--locked"])?;
    let status = Command::new(workspace_root().join("target/release/seqrec"))
        .args(["sweep", "--seeds", &seeds, "--from", &from])
        .status()
        .map_err(|error| format!("cannot run seqrec: {error}"))?;
    if status.success() { Ok(()) } else { Err("the sweep found a failure (see the reproduce line above)".to_owned()) }
}
