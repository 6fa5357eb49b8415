//! `cargo xtask ci`, the README's test command: the pinned dev nodes (installed into
//! `.tools/` when `SEQREC_ANVIL` / `SEQREC_HARDHAT` are unset), fmt, clippy, tidy, every
//! test with the live tests required (`SEQREC_REQUIRE_LIVE=1`: a live test whose node is
//! missing fails instead of skipping), the sabotage tests, the publish dry run. Every stage
//! runs even after one fails; each prints its name and time, streams its output, and says
//! it is still running after a minute without a line. The last line is the verdict.

use std::ffi::OsString;
use std::io::{BufRead as _, BufReader};
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::workspace_root;

/// After this long without a line from a stage, say it is still running.
const QUIET: Duration = Duration::from_secs(50);

/// Runs `command`, passing each line of its standard output to `on_line` and echoing its
/// standard error, and prints a "still running" line whenever it is silent for [`QUIET`].
pub(crate) fn stream(command: &mut Command, label: &str, mut on_line: impl FnMut(&str)) -> std::io::Result<ExitStatus> {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let (send, receive) = mpsc::channel::<(bool, String)>();
    let readers: Vec<_> = [
        child.stdout.take().map(|out| Box::new(out) as Box<dyn std::io::Read + Send>),
        child.stderr.take().map(|err| Box::new(err) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .zip([true, false])
    .filter_map(|(pipe, is_stdout)| pipe.map(|pipe| (pipe, is_stdout)))
    .map(|(pipe, is_stdout)| {
        let send = send.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if send.send((is_stdout, line)).is_err() {
                    break;
                }
            }
        })
    })
    .collect();
    drop(send);
    let started = Instant::now();
    loop {
        match receive.recv_timeout(QUIET) {
            Ok((true, line)) => on_line(&line),
            Ok((false, line)) => eprintln!("{line}"),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                eprintln!("[ci] {label}: still running ({})", human(started.elapsed()));
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    for reader in readers {
        let _ = reader.join();
    }
    child.wait()
}

/// `1h 02m`, `3m 07s`, `12.4s`.
pub(crate) fn human(elapsed: Duration) -> String {
    let seconds = elapsed.as_secs();
    match seconds {
        0..60 => format!("{:.1}s", elapsed.as_secs_f64()),
        60..3600 => format!("{}m {:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h {:02}m", seconds / 3600, seconds / 60 % 60),
    }
}

/// What one stage found: test counts (a stage that is not a test run counts as one
/// check), and a failure message.
#[derive(Default)]
struct Found {
    passed: u64,
    failed: u64,
    error: Option<String>,
}

impl Found {
    /// A stage that is one check: passed, or failed with `error`.
    fn check(result: Result<(), String>) -> Found {
        match result {
            Ok(()) => Found { passed: 1, ..Found::default() },
            Err(error) => Found { failed: 1, error: Some(error), ..Found::default() },
        }
    }
}

/// Adds the counts of a libtest `test result:` line to `found`.
fn count_result(line: &str, found: &mut Found) {
    if let Some(counts) = line.strip_prefix("test result: ") {
        let count = |word: &str| {
            counts
                .split(';')
                .find_map(|part| part.trim().strip_suffix(word)?.trim().rsplit(' ').next()?.parse::<u64>().ok())
        };
        found.passed += count("passed").unwrap_or(0);
        found.failed += count("failed").unwrap_or(0);
    }
}

/// The environment every cargo command of the run gets, and the skip log.
struct Run {
    env: Vec<(&'static str, OsString)>,
    skip_log: std::path::PathBuf,
}

impl Run {
    /// `cargo ARGS` from the workspace root with the run's environment (the sabotage
    /// switch removed unless `sabotage`), streaming; each stdout line to `on_line`.
    fn cargo(&self, args: &[&str], sabotage: bool, on_line: impl FnMut(&str)) -> Result<(), String> {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let shown = if sabotage { "SEQREC_SABOTAGE_BUILD=1 cargo" } else { "cargo" };
        eprintln!("$ {shown} {}", args.join(" "));
        let mut command = Command::new(&cargo);
        command.args(args).current_dir(workspace_root()).envs(self.env.iter().map(|(key, value)| (key, value)));
        if sabotage {
            command.env("SEQREC_SABOTAGE_BUILD", "1");
        } else {
            command.env_remove("SEQREC_SABOTAGE_BUILD");
        }
        let status = stream(&mut command, args.first().copied().unwrap_or("cargo"), on_line)
            .map_err(|error| format!("cannot run cargo: {error}"))?;
        if status.success() { Ok(()) } else { Err(format!("`{shown} {}` failed ({status})", args.join(" "))) }
    }

    /// A cargo command that is one check; its output echoed.
    fn check(&self, args: &[&str]) -> Found {
        Found::check(self.cargo(args, false, |line| println!("{line}")))
    }

    /// `cargo test ARGS`, echoed and counted.
    fn tests(&self, args: &[&str], sabotage: bool, mut seen: impl FnMut(&str)) -> Found {
        let mut found = Found::default();
        let result = self.cargo(args, sabotage, |line| {
            println!("{line}");
            count_result(line, &mut found);
            seen(line);
        });
        found.error = result.err();
        found
    }
}

pub(crate) fn run() -> ExitCode {
    let started = Instant::now();
    let mut stages: Vec<(&str, Found, Duration)> = Vec::new();
    let stage = |name: &'static str, stages: &mut Vec<(&str, Found, Duration)>, body: &mut dyn FnMut() -> Found| {
        eprintln!("\n[ci] == {name} ==");
        let begun = Instant::now();
        let found = body();
        let took = begun.elapsed();
        let verdict = found.error.as_deref().map_or_else(|| "ok".to_owned(), |error| format!("FAILED: {error}"));
        eprintln!("[ci] {name}: {verdict} ({})", human(took));
        stages.push((name, found, took));
    };

    // The nodes first: without them the live tests cannot run, so nothing else is worth it.
    let mut nodes = None;
    stage("nodes", &mut stages, &mut || {
        Found::check(crate::nodes::ensure().map(|found| {
            nodes = Some(found);
        }))
    });
    let Some(nodes) = nodes else {
        return verdict(&stages, started, &[]);
    };
    let skip_log = workspace_root().join("target/ci-skipped.txt");
    let _ = std::fs::create_dir_all(workspace_root().join("target"));
    let _ = std::fs::remove_file(&skip_log);
    let mut env = nodes.env();
    env.push(("SEQREC_REQUIRE_LIVE", "1".into()));
    // Root may mount: the tests that need it must run, not skip.
    if is_root() {
        env.push(("SEQREC_REQUIRE_ROOT", "1".into()));
    }
    env.push(("SEQREC_SKIP_LOG", skip_log.clone().into_os_string()));
    let run = Run { env, skip_log };

    stage("fmt", &mut stages, &mut || run.check(&["fmt", "--all", "--", "--check"]));
    stage("clippy", &mut stages, &mut || {
        run.check(&["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"])
    });
    stage("tidy", &mut stages, &mut || run.check(&["run", "--quiet", "--package", "xtask", "--", "tidy"]));
    stage("tests", &mut stages, &mut || run.tests(&["test", "--workspace", "--locked"], false, |_| {}));
    stage("sabotage", &mut stages, &mut || sabotage(&run));
    // The core is published on its own: its package must build from what it ships.
    stage("publish", &mut stages, &mut || run.check(&["publish", "--dry-run", "--locked", "-p", "seqrec-machine"]));

    let skipped = std::fs::read_to_string(&run.skip_log).unwrap_or_default();
    let skipped: Vec<&str> = skipped.lines().collect();
    verdict(&stages, started, &skipped)
}

/// `cargo xtask sabotage`: the sabotage stage alone, with its time and verdict.
pub(crate) fn sabotage_only() -> ExitCode {
    let started = Instant::now();
    let run = Run { env: Vec::new(), skip_log: workspace_root().join("target/ci-skipped.txt") };
    let found = sabotage(&run);
    verdict(&[("sabotage", found, started.elapsed())], started, &[])
}

/// The sabotage tests ([`crate::SABOTAGE_TESTS`]), each of which must run and pass.
fn sabotage(run: &Run) -> Found {
    let mut command = vec!["test", "--workspace", "--locked", "--lib", "--tests", "--"];
    command.extend(crate::SABOTAGE_TESTS.iter().map(|(filter, _)| *filter));
    let mut seen = Vec::new();
    let mut found = run.tests(&command, true, |line| seen.push(line.to_owned()));
    let missing: Vec<&str> = crate::SABOTAGE_TESTS
        .iter()
        .flat_map(|(_, expected)| expected.iter().copied())
        .filter(|line| !seen.iter().any(|seen| seen == line))
        .collect();
    if !missing.is_empty() {
        found.failed += missing.len() as u64;
        let error =
            format!("sabotage tests that did not run and pass: {missing:?} (was `--cfg seqrec_sabotage` applied?)");
        found.error = Some(found.error.map_or(error.clone(), |before| format!("{before}; {error}")));
    }
    found
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.starts_with(b"0\n"))
}

/// Prints each stage's outcome and time, the skipped tests, and, last, the verdict line.
fn verdict(stages: &[(&str, Found, Duration)], started: Instant, skipped: &[&str]) -> ExitCode {
    eprintln!("\n[ci] == summary ==");
    for (name, found, took) in stages {
        let outcome = found.error.as_deref().map_or("ok", |_| "FAILED");
        eprintln!("[ci] {name:<9} {outcome:<6} {:>9}  {} passed, {} failed", human(*took), found.passed, found.failed);
    }
    for line in skipped {
        eprintln!("[ci] skipped: {line}");
    }
    let passed: u64 = stages.iter().map(|(_, found, _)| found.passed).sum();
    // A stage can fail with no test failed (a build error): it counts as one failure then.
    let failed: u64 = stages.iter().map(|(_, found, _)| found.failed.max(u64::from(found.error.is_some()))).sum();
    let failed_stages: Vec<&str> =
        stages.iter().filter(|(_, found, _)| found.error.is_some()).map(|(name, ..)| *name).collect();
    let failed_stages =
        if failed_stages.is_empty() { String::new() } else { format!(", failed stages: {}", failed_stages.join(" ")) };
    println!(
        "ci: {passed} passed, {failed} failed ({} stages, {} skipped, {}{failed_stages})",
        stages.len(),
        skipped.len(),
        human(started.elapsed())
    );
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn each_libtest_result_line_is_counted_and_other_lines_are_not() {
        let mut found = super::Found::default();
        for line in [
            "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 3 filtered out; finished in 0.20s",
            "test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.00s",
            "test a_passed_test ... ok",
            "tests: 99 passed, 99 failed",
        ] {
            super::count_result(line, &mut found);
        }
        assert_eq!((found.passed, found.failed), (15, 2));
    }

    #[test]
    fn times_read_as_a_person_would() {
        assert_eq!(super::human(Duration::from_millis(12_400)), "12.4s");
        assert_eq!(super::human(Duration::from_secs(187)), "3m 07s");
        assert_eq!(super::human(Duration::from_secs(3_720)), "1h 02m");
    }
}
