//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! - `cargo xtask ci`: the README's test command: the dev nodes (installed if missing), fmt
//!   check, clippy with `-D warnings`, tidy, every test with the live ones required, the
//!   sabotage tests, the publish dry run; ends with the verdict (`ci.rs`).
//! - `cargo xtask sabotage`: `ci`'s sabotage stage alone.
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
mod ci;
mod faults;
mod fixtures;
mod fuzz;
mod nodes;
mod sim;
mod tidy;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => return ci::run(),
        Some("sabotage") => return ci::sabotage_only(),
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
                "usage: cargo xtask <ci|sabotage|nodes|bench|check [ARGS]|faults [KILLS] [RESEND_SECONDS]|fixtures [--accept]|fuzz [TARGET] [SECONDS]|sim [--seeds N]|tidy>"
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

/// The sabotage tests `cargo xtask ci` runs with the core's deliberate bugs compiled in
/// (`SEQREC_SABOTAGE_BUILD=1`: `machine/build.rs` sets `--cfg seqrec_sabotage` for the
/// workspace crates only; no Cargo feature can): the simulator's world checks catch the
/// bug, `seqrec shrink` turns the failing run into a short script, and `seqrec check`
/// finds each planted defect in a small scope. Each row: a test-name filter, and the
/// lines that must appear (each test must run and pass, not be skipped). All rows run in
/// one `cargo test --workspace --lib --tests`, so the features, and so the registry
/// crates, are the test stage's: only the workspace crates are rebuilt.
pub(crate) const SABOTAGE_TESTS: &[(&str, &[&str])] = &[
    ("a_cascade_pivot_one_batch_late_is_caught", &["test a_cascade_pivot_one_batch_late_is_caught ... ok"]),
    (
        "check::tests::sabotaged::",
        &[
            "test check::tests::sabotaged::the_sabotaged_cascade_pivot_is_found_in_a_small_scope ... ok",
            "test check::tests::sabotaged::the_sabotaged_watermark_after_broadcast_is_found_in_a_small_scope ... ok",
            "test check::tests::sabotaged::the_sabotaged_flush_stopping_at_pending_is_found_in_a_small_scope ... ok",
            "test check::tests::sabotaged::the_sabotaged_resend_of_a_landed_batch_is_found_in_a_small_scope ... ok",
        ],
    ),
    (
        "sabotage_shrink::",
        &["test sabotage_shrink::a_sabotaged_simulator_log_shrinks_to_a_short_violating_script ... ok"],
    ),
];
