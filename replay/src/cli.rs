//! The `seqrec` subcommands. Library code returns an [`Outcome`] or a [`CliError`];
//! only `main` turns them into exit codes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::run::{Run, run};
use crate::script::{Script, ScriptError, failed_checks, parse};
use crate::{audit, trace};

/// The embedded default incident for `seqrec demo`.
const DEMO_SCRIPT: &str = include_str!("../../fixtures/scripts/closed-batch-in-danger.jsonl");

const AFTER_HELP: &str = "\
Examples:
  seqrec demo
  seqrec trace fixtures/scripts/happy-path.jsonl
  seqrec replay fixtures/scripts/nonce-poisoning.jsonl --json
  seqrec audit fixtures/scripts/closed-batch-in-danger.jsonl --at 45

Exit codes:
  0  ok
  1  verification failed: an invariant of recovery.md §9 broke, two runs differed,
     or a `# check:` comment of the script does not hold
  2  bad input: unreadable file or invalid script (the message names the file, line and field)";

/// seqrec: deterministic stale-batch recovery for rollup sequencers.
#[derive(Debug, Parser)]
#[command(name = "seqrec", version, after_help = AFTER_HELP)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the embedded stale-batch incident through the core and print its audit.
    Demo,
    /// Print the trace of an event script (stable text, what snapshots store).
    Trace {
        /// The event script (JSON lines).
        script: PathBuf,
        /// One JSON object per step instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Re-execute an event script twice, checking every invariant after every step,
    /// that both runs give identical effects and state hashes, and the script's
    /// `# check:` comments.
    Replay {
        /// The event script (JSON lines).
        script: PathBuf,
        /// Print the trace as one JSON object per step.
        #[arg(long)]
        json: bool,
    },
    /// Print the decisions with their reasons, or the state at a sequence number.
    Audit {
        /// The event script (JSON lines).
        script: PathBuf,
        /// Print the state after this step as JSON.
        #[arg(long)]
        at: Option<u64>,
    },
}

/// What a command produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Success; print this.
    Done(String),
    /// Verification failed; print this report.
    Failed(String),
}

/// Bad input.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The script has a bad line.
    #[error("{path}: {source}")]
    Script {
        /// The file.
        path: PathBuf,
        /// The line, field and message.
        source: ScriptError,
    },
    /// `--at` names a step that does not exist.
    #[error("--at {at}: the script has {steps} steps (0..{steps})")]
    NoSuchStep {
        /// The requested step.
        at: u64,
        /// How many steps there are.
        steps: u64,
    },
}

/// Runs one command.
///
/// # Errors
/// [`CliError`] for bad input.
pub fn execute(args: Args) -> Result<Outcome, CliError> {
    match args.command {
        Command::Demo => demo(),
        Command::Trace { script, json } => {
            let run = run_script(&load(&script)?);
            Ok(Outcome::Done(render(&run, json)))
        }
        Command::Replay { script, json } => replay(&load(&script)?, json),
        Command::Audit { script, at } => {
            let run = run_script(&load(&script)?);
            audit_at(&run, at)
        }
    }
}

/// Reads and parses a script file.
///
/// # Errors
/// [`CliError::Read`] or [`CliError::Script`].
pub fn load(path: &Path) -> Result<Script, CliError> {
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Read { path: path.to_owned(), source })?;
    parse(&text).map_err(|source| CliError::Script { path: path.to_owned(), source })
}

/// Runs a parsed script from the empty state.
#[must_use]
pub fn run_script(script: &Script) -> Run {
    run(script.events.iter().map(|(line, event)| (Some(*line), event)))
}

fn render(run: &Run, json: bool) -> String {
    if json {
        run.steps.iter().map(|traced| format!("{}\n", trace::render_json(traced))).collect()
    } else {
        trace::render_text_all(&run.steps)
    }
}

fn replay(script: &Script, json: bool) -> Result<Outcome, CliError> {
    let first = run_script(script);
    let second = run_script(script);
    let mut report = String::new();
    if let Some((seq, violation)) = &first.violation {
        let _ = writeln!(report, "step {seq}: {violation}");
    }
    let diverged = first
        .steps
        .iter()
        .zip(&second.steps)
        .find(|(a, b)| a.step.effects != b.step.effects || a.state_hash != b.state_hash);
    if let Some((a, b)) = diverged {
        let _ = writeln!(
            report,
            "step {}: two runs of the same events differ\n{}{}",
            a.seq,
            trace::render_text(a),
            trace::render_text(b)
        );
    }
    for failure in failed_checks(&script.checks, &trace::render_text_all(&first.steps)) {
        let _ = writeln!(report, "{failure}");
    }
    if report.is_empty() {
        let mut out = if json { render(&first, true) } else { String::new() };
        if !json {
            let hash = first.state.state_hash();
            let _ = writeln!(
                out,
                "ok: {} steps, invariants held after every step, two runs identical, final state {hash}",
                first.steps.len()
            );
        }
        Ok(Outcome::Done(out))
    } else {
        Ok(Outcome::Failed(report))
    }
}

fn audit_at(run: &Run, at: Option<u64>) -> Result<Outcome, CliError> {
    let Some(at) = at else {
        return Ok(Outcome::Done(audit::render_decisions(&run.steps)));
    };
    let steps = run.steps.len() as u64;
    if at >= steps {
        return Err(CliError::NoSuchStep { at, steps });
    }
    let prefix = run.steps.iter().take_while(|traced| traced.seq <= at).map(|traced| (traced.line, &traced.event));
    let state = crate::run::run(prefix).state;
    let json = serde_json::to_string_pretty(&audit::state_json(&state)).unwrap_or_default();
    Ok(Outcome::Done(format!("{json}\n")))
}

fn demo() -> Result<Outcome, CliError> {
    let script = parse(DEMO_SCRIPT).map_err(|source| CliError::Script { path: "embedded demo".into(), source })?;
    let first = run_script(&script);
    let second = run_script(&script);
    let identical = first
        .steps
        .iter()
        .zip(&second.steps)
        .all(|(a, b)| a.step.effects == b.step.effects && a.state_hash == b.state_hash);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "seqrec demo: a batch that never lands ages into the danger zone (max_wait 20, margin 5, 12 s blocks)\n"
    );
    out.push_str(&audit::render_decisions(&first.steps));
    let _ = writeln!(out, "\nfinal: {}", crate::run::summary(&first.state));
    let invariants = first
        .violation
        .as_ref()
        .map_or_else(|| "held after every step".to_owned(), |(seq, v)| format!("BROKEN at step {seq}: {v}"));
    let _ = writeln!(out, "invariants: {invariants}");
    let _ =
        writeln!(out, "replayed twice: {}", if identical { "identical effects and state hashes" } else { "DIFFERENT" });
    if first.violation.is_some() || !identical {
        return Ok(Outcome::Failed(out));
    }
    Ok(Outcome::Done(out))
}
