//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! - `cargo xtask ci`: fmt check, clippy with `-D warnings`, every test (the README's test command).
//! - `cargo xtask bench`: runs the benchmarks and writes `BENCHMARKS.md` with machine and date.
//! - `cargo xtask fixtures [--accept]`: regenerates `fixtures/logs/` from `fixtures/scripts/`.
//! - `cargo xtask fuzz [log_reader|script_step] [SECONDS]`: runs a cargo-fuzz target.
//! - `cargo xtask sim [--seeds N]`: sweeps random seeds with fault schedules and crash points.
//! - `cargo xtask check [ARGS]`: `seqrec check`'s default scope in a release build (ARGS passed through).
//! - `cargo xtask nodes` (or `anvil`): installs the pinned anvil and hardhat for the live tests
//!   (prints SEQREC_ANVIL and SEQREC_HARDHAT).
//! - `cargo xtask faults [KILLS] [RESEND_SECONDS]`: the SIGKILL fault case against anvil with KILLS kills
//!   (default 300), then the interval-mining resend test on anvil and hardhat, sealing RESEND_SECONDS per node (default 150).
//! - `cargo xtask tidy`: the repository rules (also run by `cargo test -p xtask`).

use std::process::{Command, ExitCode};

mod bench;
mod check;
mod faults;
mod fixtures;
mod fuzz;
mod nodes;
mod sim;
mod tidy;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("bench") => bench::run(),
        Some("tidy") => tidy::run(),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("nodes" | "anvil") => nodes::run(),
        Some("faults") => faults::run(&args[1..]),
        Some("sim") => sim::run(&args[1..]),
        Some("check") => check::run(&args[1..]),
        Some("fixtures") => fixtures::run(args.iter().any(|arg| arg == "--accept")),
        _ => {
            eprintln!(
                "usage: cargo xtask <ci|nodes|bench|check [ARGS]|faults [KILLS] [RESEND_SECONDS]|fixtures [--accept]|fuzz [TARGET] [SECONDS]|sim [--seeds N]|tidy>"
            );
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
    cargo(&["run", "--quiet", "--package", "xtask", "--", "tidy"])?;
    test_with_total()?;
    sabotage()?;
    // The core is published on its own: its package must build from what it ships.
    cargo(&["publish", "--dry-run", "--locked", "-p", "seqrec-machine"])
}

/// The sabotage tests, with the core's deliberate bug compiled in (`--cfg
/// seqrec_sabotage`, which no Cargo feature can set) in a target directory of its own so
/// the normal build is untouched: the simulator's world checks catch the bug, `seqrec
/// shrink` turns the failing run into a short script, and `seqrec check` finds each
/// planted defect in a small scope. Each must run and pass, not be skipped.
fn sabotage() -> Result<(), String> {
    let runs: [(&[&str], &[&str]); 3] = [
        (&["-p", "effects", "--test", "sabotage"], &["test a_cascade_pivot_one_batch_late_is_caught ... ok"]),
        (
            &["-p", "replay", "--lib", "check::tests::sabotaged::"],
            &[
                "test check::tests::sabotaged::the_sabotaged_cascade_pivot_is_found_in_a_small_scope ... ok",
                "test check::tests::sabotaged::the_sabotaged_watermark_after_broadcast_is_found_in_a_small_scope ... ok",
                "test check::tests::sabotaged::the_sabotaged_flush_stopping_at_pending_is_found_in_a_small_scope ... ok",
            ],
        ),
        (
            &["-p", "replay", "--test", "it", "sabotage_shrink"],
            &["test sabotage_shrink::a_sabotaged_simulator_log_shrinks_to_a_short_violating_script ... ok"],
        ),
    ];
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let target = workspace_root().join("target/sabotage");
    for (args, passed) in runs {
        eprintln!("$ RUSTFLAGS='--cfg seqrec_sabotage' cargo test --locked {}", args.join(" "));
        let output = Command::new(&cargo)
            .arg("test")
            .arg("--locked")
            .args(args)
            .env("RUSTFLAGS", "--cfg seqrec_sabotage")
            .env("CARGO_TARGET_DIR", &target)
            .current_dir(workspace_root())
            .output()
            .map_err(|error| format!("cannot run cargo: {error}"))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        print!("{stdout}");
        if !output.status.success() {
            eprint!("{}", String::from_utf8_lossy(&output.stderr));
            return Err(format!("the sabotage test `{}` failed", args.join(" ")));
        }
        if !passed.iter().all(|line| stdout.contains(line)) {
            return Err(format!(
                "the sabotage test `{}` did not run (was `--cfg seqrec_sabotage` applied?)",
                args.join(" ")
            ));
        }
    }
    Ok(())
}

/// Runs every test, echoing cargo's output, and closes with one line that totals all
/// test binaries (cargo's own last line is that of whichever binary ran last).
fn test_with_total() -> Result<(), String> {
    use std::io::{BufRead as _, BufReader};
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    eprintln!("$ cargo test --workspace --locked");
    let mut child = Command::new(&cargo)
        .args(["test", "--workspace", "--locked"])
        .current_dir(workspace_root())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    let (mut passed, mut failed) = (0_u64, 0_u64);
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            if let Some(counts) = line.strip_prefix("test result: ") {
                let count = |word: &str| {
                    counts
                        .split(';')
                        .find_map(|part| part.trim().strip_suffix(word)?.trim().rsplit(' ').next()?.parse::<u64>().ok())
                };
                passed += count("passed").unwrap_or(0);
                failed += count("failed").unwrap_or(0);
            }
        }
    }
    let status = child.wait().map_err(|error| error.to_string())?;
    println!("tests: {passed} passed, {failed} failed");
    if status.success() { Ok(()) } else { Err(format!("`cargo test --workspace` failed ({status})")) }
}
