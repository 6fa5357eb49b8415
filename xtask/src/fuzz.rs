//! `cargo xtask fuzz [TARGET] [SECONDS]`: runs a cargo-fuzz target (`log_reader` or
//! `script_step`, default `log_reader`, 60 s) seeded with the fixtures. Installs
//! cargo-fuzz if missing. The toolchain here is stable, so it runs with
//! `RUSTC_BOOTSTRAP=1` and without a sanitizer (the code under test has no `unsafe`).

use std::process::Command;

use crate::workspace_root;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let target = args.first().map_or("log_reader", String::as_str);
    let seconds = args.get(1).map_or("60", String::as_str);
    let (seeds, ext) = match target {
        "log_reader" => ("fixtures/logs", "seqlog"),
        "script_step" => ("fixtures/scripts", "jsonl"),
        other => return Err(format!("unknown fuzz target `{other}`: use log_reader or script_step")),
    };
    let root = workspace_root();
    let have_fuzz = Command::new("cargo").args(["fuzz", "--version"]).output().is_ok_and(|out| out.status.success());
    if !have_fuzz {
        crate::cargo(&["install", "cargo-fuzz", "--locked"])?;
    }
    let corpus = root.join("replay/fuzz/corpus").join(target);
    std::fs::create_dir_all(&corpus).map_err(|error| error.to_string())?;
    for entry in std::fs::read_dir(root.join(seeds)).map_err(|error| error.to_string())?.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == ext)
            && let Some(name) = path.file_name()
        {
            std::fs::copy(&path, corpus.join(name)).map_err(|error| error.to_string())?;
        }
    }
    let status = Command::new("cargo")
        .args(["fuzz", "run", target, "--sanitizer", "none", "--", &format!("-max_total_time={seconds}")])
        .env("RUSTC_BOOTSTRAP", "1")
        .current_dir(root.join("replay/fuzz"))
        .status()
        .map_err(|error| format!("cannot run cargo fuzz: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("fuzz target {target} found a failure; the input is in replay/fuzz/artifacts/{target}/"))
    }
}
