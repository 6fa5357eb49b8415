//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! - `cargo xtask ci`: fmt check, clippy with `-D warnings`, every test (the README's test command).
//! - `cargo xtask bench`: runs the benchmarks and writes `BENCHMARKS.md` with machine and date.
//! - `cargo xtask fixtures [--accept]`: regenerates `fixtures/logs/` from `fixtures/scripts/`.
//! - `cargo xtask fuzz [log_reader|script_step] [SECONDS]`: runs a cargo-fuzz target.
//! - `cargo xtask tidy`: the repository rules (also run by `cargo test -p xtask`).

use std::process::{Command, ExitCode};

mod bench;
mod fixtures;
mod fuzz;
mod tidy;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("bench") => bench::run(),
        Some("tidy") => tidy::run(),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("fixtures") => fixtures::run(args.iter().any(|arg| arg == "--accept")),
        _ => {
            eprintln!("usage: cargo xtask <ci|bench|fixtures [--accept]|fuzz [TARGET] [SECONDS]|tidy>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a cargo command from the workspace root, failing with the command line.
pub(crate) fn cargo(args: &[&str]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    eprintln!("$ cargo {}", args.join(" "));
    let status = Command::new(&cargo)
        .args(args)
        .current_dir(workspace_root())
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if status.success() { Ok(()) } else { Err(format!("`cargo {}` failed ({status})", args.join(" "))) }
}

pub(crate) fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(std::path::Path::to_path_buf).unwrap_or_default()
}

fn ci() -> Result<(), String> {
    cargo(&["fmt", "--all", "--", "--check"])?;
    cargo(&["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"])?;
    cargo(&["test", "--workspace", "--locked"])?;
    Ok(())
}
