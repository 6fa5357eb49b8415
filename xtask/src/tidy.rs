//! Repository rules as code (rust-analyzer's tidy): they run under `cargo test -p xtask`
//! and `cargo xtask tidy`.

use std::path::{Path, PathBuf};

use crate::workspace_root;

/// The only dependencies `machine` may have (DEVELOPERS.md: no I/O in the core).
const MACHINE_ALLOWED_DEPENDENCIES: &[&str] = &["serde", "rkyv", "thiserror", "blake3"];

/// Text that must not appear in `machine/src` outside tests: I/O, clocks, threads,
/// randomness, async and stubs.
const MACHINE_FORBIDDEN: &[&str] = &[
    "std::fs",
    "std::net",
    "std::thread",
    "std::time",
    "SystemTime",
    "Instant::now",
    "tokio",
    "alloy",
    "rusqlite",
    "rand::",
    "async fn",
    "todo!(",
    "unimplemented!(",
    "dbg!(",
    ".unwrap()",
    ".expect(",
    "panic!(",
];

pub(crate) fn run() -> Result<(), String> {
    let mut problems = Vec::new();
    problems.extend(machine_dependencies());
    problems.extend(machine_forbidden_text());
    problems.extend(files_open_with_a_doc_comment());
    if problems.is_empty() { Ok(()) } else { Err(problems.join("\n")) }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return files };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn machine_dependencies() -> Vec<String> {
    let manifest = std::fs::read_to_string(workspace_root().join("machine/Cargo.toml")).unwrap_or_default();
    let mut section = "";
    let mut problems = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
            continue;
        }
        let Some((name, _)) = line.split_once('=') else { continue };
        let name = name.trim().trim_end_matches(".workspace");
        if section == "[dependencies]" && !MACHINE_ALLOWED_DEPENDENCIES.contains(&name) {
            problems.push(format!(
                "machine/Cargo.toml: dependency `{name}` is not in the allowlist {MACHINE_ALLOWED_DEPENDENCIES:?}"
            ));
        }
    }
    problems
}

fn machine_forbidden_text() -> Vec<String> {
    let mut problems = Vec::new();
    for path in rust_files(&workspace_root().join("machine/src")) {
        if path.components().any(|part| part.as_os_str() == "tests") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        // Unit tests at the bottom of a file (`#[cfg(test)] mod tests`) may unwrap.
        let shipped = text.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
        for (number, line) in shipped.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for forbidden in MACHINE_FORBIDDEN {
                if code.contains(forbidden) {
                    problems.push(format!(
                        "{}:{}: `{forbidden}` is not allowed in the pure core",
                        path.display(),
                        number + 1
                    ));
                }
            }
        }
    }
    problems
}

fn files_open_with_a_doc_comment() -> Vec<String> {
    let root = workspace_root();
    ["machine/src", "effects/src", "replay/src", "replay/tests", "xtask/src"]
        .iter()
        .flat_map(|dir| rust_files(&root.join(dir)))
        .filter(|path| !std::fs::read_to_string(path).unwrap_or_default().starts_with("//!"))
        .map(|path| format!("{}: every file starts with a `//!` comment saying what it holds", path.display()))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn tidy() {
        if let Err(problems) = super::run() {
            panic!("{problems}");
        }
    }
}
