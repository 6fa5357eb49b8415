//! `cargo xtask bench`: runs the benchmarks in release mode and writes their figures,
//! with the machine and the date, to `BENCHMARKS.md`.

use std::process::Command;

use crate::workspace_root;

pub(crate) fn run() -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    eprintln!("$ cargo bench -p machine --bench step");
    let output = Command::new(&cargo)
        .args(["bench", "-p", "machine", "--bench", "step", "--locked"])
        .current_dir(workspace_root())
        .output()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if !output.status.success() {
        return Err(format!("benchmark failed:\n{}", String::from_utf8_lossy(&output.stderr)));
    }
    let figures = String::from_utf8_lossy(&output.stdout).into_owned();
    print!("{figures}");
    let report = format!(
        "# Benchmarks\n\nWritten by `cargo xtask bench`; do not edit by hand.\n\n- date: {}\n- machine: {}\n- cores: {}\n- rustc: {}\n\n## `step` over a synthetic day (machine/benches/step.rs)\n\n```\n{}```\n",
        command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        cpu_model(),
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        command_line("rustc", &["--version"]),
        figures,
    );
    std::fs::write(workspace_root().join("BENCHMARKS.md"), report)
        .map_err(|error| format!("cannot write BENCHMARKS.md: {error}"))
}

fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}
