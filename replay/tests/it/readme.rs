//! Every `seqrec` command of the README's `sh` blocks runs, as written, with the built
//! binary, so the newcomer's path cannot drift from the code (docs that are checked
//! cannot drift, as rust-analyzer checks its own).
//!
//! Each line is run by `sh` in a scratch directory holding a link to `fixtures/`, with
//! the built binary first on `PATH`, in README order (later lines read what earlier ones
//! wrote). A line must exit 0 unless its comment says `# exits N`; a line whose comment
//! says `needs a node` is not run, and every other line of a block must be a `cargo`
//! command (build, install, CI), so no `seqrec` line is ever skipped silently.
//! The example script of docs/protocol.md §10.1 is run the same way.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One command of a README `sh` block, continuation lines joined.
#[derive(Debug)]
struct Line {
    /// Where it starts in the README (1-based).
    number: usize,
    /// The command as a shell reads it, its comment included.
    text: String,
}

impl Line {
    /// The comment after the command, if any (a ` #` outside the command words).
    fn comment(&self) -> &str {
        self.text.split_once(" #").map_or("", |(_, comment)| comment)
    }

    /// The program the line runs, after any leading `NAME=value` assignments.
    fn program(&self) -> &str {
        self.text.split_whitespace().find(|word| !word.contains('=')).unwrap_or("")
    }

    /// The exit status the README documents for this line: `# exits N`, else 0.
    fn expected_status(&self) -> i32 {
        let words: Vec<&str> = self.comment().split_whitespace().collect();
        words
            .windows(2)
            .find(|pair| pair[0] == "exits")
            .and_then(|pair| pair[1].trim_end_matches([':', ',', ';', '.']).parse().ok())
            .unwrap_or(0)
    }
}

/// The commands of every ```` ```sh ```` block of `readme`.
fn sh_lines(readme: &str) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut in_block = false;
    let mut pending: Option<Line> = None;
    for (index, raw) in readme.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed.starts_with("```") {
            in_block = trimmed == "```sh";
            continue;
        }
        if !in_block || (pending.is_none() && (trimmed.is_empty() || trimmed.starts_with('#'))) {
            continue;
        }
        let line = pending.get_or_insert_with(|| Line { number: index + 1, text: String::new() });
        // A trailing backslash continues the command on the next line, as in a shell.
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                line.text.push_str(head.trim_end());
                line.text.push(' ');
            }
            None => {
                line.text.push_str(trimmed);
                lines.extend(pending.take());
            }
        }
    }
    lines
}

/// The workspace root: the README and `fixtures/` are there.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn every_readme_command_runs_as_written() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines = sh_lines(&readme);
    let work = crate::support::scratch("readme");
    std::os::unix::fs::symlink(root().join("fixtures").canonicalize().unwrap(), work.join("fixtures")).unwrap();
    let binary = Path::new(env!("CARGO_BIN_EXE_seqrec"));
    let path = std::env::join_paths(
        std::iter::once(binary.parent().unwrap().to_owned())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();

    let (mut ran, mut need_a_node, mut failures) = (Vec::new(), Vec::new(), Vec::new());
    for line in &lines {
        match line.program() {
            "cargo" => continue,
            "seqrec" if line.comment().contains("needs a node") => {
                need_a_node.push(line.number);
                continue;
            }
            "seqrec" => {}
            other => {
                failures
                    .push(format!("README line {}: `{other}` is neither seqrec nor cargo: {}", line.number, line.text));
                continue;
            }
        }
        let output =
            Command::new("sh").arg("-c").arg(&line.text).current_dir(&work).env("PATH", &path).output().unwrap();
        let status = output.status.code().unwrap_or(-1);
        if status != line.expected_status() {
            failures.push(format!(
                "README line {}: `{}` exited {status}, the README says {}\nstdout:\n{}\nstderr:\n{}",
                line.number,
                line.text,
                line.expected_status(),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
            ));
        }
        ran.push(line.number);
    }

    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    let seqrec_lines = lines.iter().filter(|line| line.program() == "seqrec").count();
    // Every seqrec line either ran or is marked as needing a node; none vanished.
    assert_eq!(ran.len() + need_a_node.len(), seqrec_lines, "ran {ran:?}, needing a node {need_a_node:?}");
    // A parser that lost the blocks would pass the loop above by running nothing.
    assert!(ran.len() >= 15, "only {} README commands ran: {ran:?}", ran.len());
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn readme_lines_are_joined_and_read_like_a_shell() {
    let readme = "text\n```sh\n# a comment line\nA=1 seqrec run --x \\\n    --y 2  # needs a node\nseqrec diff a b  # exits 1: they diverge\n```\n```rust\nseqrec not shell\n```\n";
    let lines = sh_lines(readme);
    let read: Vec<(usize, &str, i32, bool)> = lines
        .iter()
        .map(|line| (line.number, line.program(), line.expected_status(), line.comment().contains("needs a node")))
        .collect();
    assert_eq!(read, [(4, "seqrec", 0, true), (6, "seqrec", 1, false)]);
    assert_eq!(lines[0].text, "A=1 seqrec run --x --y 2  # needs a node");
}

/// The example script of docs/protocol.md §10.1 is a valid script the core runs through.
#[test]
fn the_protocol_example_script_replays() {
    let protocol = std::fs::read_to_string(root().join("docs/protocol.md")).unwrap();
    let section = protocol.split("### 10.1").nth(1).and_then(|rest| rest.split("### 10.2").next()).unwrap();
    let script: String = section.lines().filter(|line| line.starts_with('{')).map(|line| format!("{line}\n")).collect();
    let work = crate::support::scratch("protocol-example");
    let path = work.join("example.jsonl");
    std::fs::write(&path, &script).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_seqrec")).arg("replay").arg(&path).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.starts_with(&format!("ok: {} steps", script.lines().count())), "{stdout}");
    let trace = Command::new(env!("CARGO_BIN_EXE_seqrec")).arg("trace").arg(&path).output().unwrap();
    // The prose above the example promises the watermark and the send.
    let trace = String::from_utf8_lossy(&trace.stdout);
    assert!(
        trace.contains(r#""write":"raise_watermark","to":0"#) && trace.contains(r#""fx":"submit","batch_index":0"#),
        "{trace}"
    );
    let _ = std::fs::remove_dir_all(&work);
}
