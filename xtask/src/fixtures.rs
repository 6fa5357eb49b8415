//! `cargo xtask fixtures [--accept]`: regenerates `fixtures/logs/<name>.seqlog` from
//! every `fixtures/scripts/<name>.jsonl` with this build's `seqrec import`, and fails if
//! a regenerated log differs from the committed one unless `--accept` is given.

use std::path::Path;
use std::process::Command;

use crate::workspace_root;

pub(crate) fn run(accept: bool) -> Result<(), String> {
    let root = workspace_root();
    crate::cargo(&["build", "--quiet", "--release", "-p", "replay", "--locked"])?;
    let seqrec = root.join("target/release/seqrec");
    let logs = root.join("fixtures/logs");
    std::fs::create_dir_all(&logs).map_err(|error| format!("cannot create {}: {error}", logs.display()))?;
    let scratch = std::env::temp_dir().join(format!("seqrec-fixtures-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).map_err(|error| format!("cannot create {}: {error}", scratch.display()))?;
    let mut scripts: Vec<_> = std::fs::read_dir(root.join("fixtures/scripts"))
        .map_err(|error| format!("cannot list fixtures/scripts: {error}"))?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
        .collect();
    scripts.sort();
    let (mut changed, mut written) = (Vec::new(), 0);
    for script in &scripts {
        let name = script.file_stem().and_then(|stem| stem.to_str()).unwrap_or_default();
        let fresh = scratch.join(format!("{name}.seqlog"));
        import(&seqrec, script, &fresh)?;
        let committed = logs.join(format!("{name}.seqlog"));
        let same = std::fs::read(&committed).ok() == std::fs::read(&fresh).ok();
        if !same {
            changed.push(name.to_owned());
            if accept {
                std::fs::copy(&fresh, &committed)
                    .map_err(|error| format!("cannot write {}: {error}", committed.display()))?;
                written += 1;
            }
        }
    }
    // The named simulator scenarios, seed 1, as `seqrec scenarios` lists them (the demo is
    // left out: `seqrec demo` records it).
    let listed =
        Command::new(&seqrec).arg("scenarios").output().map_err(|error| format!("cannot run seqrec: {error}"))?;
    let names: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter_map(|line| line.split('\t').next())
        .filter(|name| *name != "demo")
        .map(str::to_owned)
        .collect();
    for name in &names {
        let stem = format!("sim-{name}");
        let fresh = scratch.join(format!("{stem}.seqlog"));
        let status = Command::new(&seqrec)
            .args(["simulate", "--scenario", name.as_str(), "--seed", "1", "--log"])
            .arg(&fresh)
            .stdout(std::process::Stdio::null())
            .status()
            .map_err(|error| format!("cannot run seqrec: {error}"))?;
        if !status.success() {
            return Err(format!("seqrec simulate --scenario {name} --seed 1 failed ({status})"));
        }
        let committed = logs.join(format!("{stem}.seqlog"));
        if std::fs::read(&committed).ok() != std::fs::read(&fresh).ok() {
            changed.push(stem.clone());
            if accept {
                std::fs::copy(&fresh, &committed)
                    .map_err(|error| format!("cannot write {}: {error}", committed.display()))?;
                written += 1;
            }
        }
        // Counted with the scripts so the stale-log check below knows this log has a source.
        scripts.push(root.join(format!("fixtures/scripts/{stem}.jsonl")));
    }
    // A log whose script (or scenario) is gone is stale.
    for entry in std::fs::read_dir(&logs).map_err(|error| error.to_string())?.flatten() {
        let path = entry.path();
        let stem = path.file_stem().and_then(|stem| stem.to_str()).unwrap_or_default().to_owned();
        // Real-L1 logs are recorded by the anvil tests (SEQREC_KEEP_ANVIL_LOGS), not regenerated here.
        if stem.starts_with("anvil-") {
            continue;
        }
        if !scripts.iter().any(|script| script.file_stem().and_then(|s| s.to_str()) == Some(stem.as_str())) {
            changed.push(format!("{stem} (no script)"));
            if accept {
                std::fs::remove_file(&path).map_err(|error| error.to_string())?;
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    if changed.is_empty() || accept {
        eprintln!(
            "fixtures: {} logs (scripts and simulator scenarios), {} written, {} unchanged",
            scripts.len(),
            written,
            scripts.len() - changed.len().min(scripts.len())
        );
        Ok(())
    } else {
        Err(format!(
            "{} fixture log(s) differ from what this build records: {}\nrun `cargo xtask fixtures --accept` if the change is intended",
            changed.len(),
            changed.join(", ")
        ))
    }
}

fn import(seqrec: &Path, script: &Path, output: &Path) -> Result<(), String> {
    let status = Command::new(seqrec)
        .arg("import")
        .arg(script)
        .arg("-o")
        .arg(output)
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|error| format!("cannot run seqrec: {error}"))?;
    if status.success() { Ok(()) } else { Err(format!("seqrec import {} failed ({status})", script.display())) }
}
