//! `simulate` and the simulated `demo`: a scenario on the deterministic simulated L1,
//! recorded as a log, with the world checks' verdict.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use effects::LogSink;
use effects::sim::scenario::{self, Scenario};
use effects::sim::{Report, simulate_into};
use machine::{Effect, Event};

use super::recorder::Recorder;
use super::verify::run_log;
use super::{CliError, Outcome};
use crate::log::{Header, config_digest};
use crate::svg::Incident;

/// Resolves `--scenario`: a built-in name, a JSON file, or (none) a random schedule.
///
/// # Errors
/// [`CliError`] for an unknown name or an unreadable or invalid file.
pub(crate) fn load_scenario(name: Option<&str>, seed: u64, crash_points: bool) -> Result<Scenario, CliError> {
    let mut scenario = match name {
        None => scenario::random(seed, crash_points),
        Some(name) => match scenario::by_name(name) {
            Some(scenario) => scenario,
            None => {
                let path = PathBuf::from(name);
                let text = std::fs::read_to_string(&path).map_err(|source| CliError::Invalid {
                    path: path.clone(),
                    message: format!(
                        "not a built-in scenario nor a readable file ({source}); built-in scenarios: {}",
                        scenario::NAMES.join(", ")
                    ),
                })?;
                serde_json::from_str(&text).map_err(|source| CliError::Invalid {
                    path,
                    message: format!("invalid scenario: {source} (built-in scenarios: {})", scenario::NAMES.join(", ")),
                })?
            }
        },
    };
    if crash_points && scenario.crash_per_mille == 0 {
        scenario.crash_per_mille = 5;
    }
    Ok(scenario)
}

/// Where a simulation's records go as the process appends them: a log file, the SQLite
/// projection, the incident picture. The simulator keeps none, so memory stays bounded.
#[derive(Debug, Default)]
struct Sinks {
    log: Option<Recorder>,
    db: Option<(PathBuf, effects::sqlite::SqliteStore)>,
    picture: Option<Incident>,
    /// The first failure; the simulated process stops at it.
    error: Option<CliError>,
}

impl Sinks {
    /// Starts the log at `path` (replacing any file there).
    fn log_to(&mut self, path: &Path, scenario: &Scenario) -> Result<(), CliError> {
        let _ = std::fs::remove_file(path);
        self.log = Some(Recorder::create(path, &Header::new(config_digest(&scenario.config)))?);
        Ok(())
    }

    /// Opens a fresh projection at `path`.
    fn project_to(&mut self, path: &Path) -> Result<(), CliError> {
        let _ = std::fs::remove_file(path);
        let store = effects::sqlite::SqliteStore::open(path)
            .map_err(|source| CliError::Write { path: path.to_owned(), source: Box::new(source) })?;
        self.db = Some((path.to_owned(), store));
        Ok(())
    }

    fn write(&mut self, event: &Event, effects: &[Effect]) -> Result<(), CliError> {
        if let Some(recorder) = &mut self.log {
            recorder.append(event, effects)?;
        }
        if let Some((path, store)) = &mut self.db {
            for effect in effects {
                if let Effect::Db { op, write } = effect {
                    effects::Store::apply(store, *op, write)
                        .map_err(|source| CliError::Write { path: path.clone(), source: Box::new(source) })?;
                }
            }
        }
        if let Some(picture) = &mut self.picture {
            picture.push(event);
        }
        Ok(())
    }

    /// Closes the log; returns its event records (0 without one).
    fn finish(self) -> Result<u64, CliError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        self.log.map_or(Ok(0), Recorder::finish)
    }
}

impl LogSink for Sinks {
    fn append(&mut self, event: &Event, effects: &[Effect]) -> Result<(), String> {
        self.write(event, effects).map_err(|error| {
            let message = error.to_string();
            self.error.get_or_insert(error);
            message
        })
    }
}

/// The run in a few lines: outcome, numbers, timeline, failures.
#[must_use]
pub(crate) fn render_report(report: &Report) -> String {
    let mut out = String::new();
    // Runs of the same exit are told once with their count: `retry ×36`.
    let mut exits: Vec<(&str, u64)> = Vec::new();
    for (_, code) in &report.exits {
        match exits.last_mut() {
            Some((name, count)) if *name == code.name() => *count += 1,
            _ => exits.push((code.name(), 1)),
        }
    }
    let exits: Vec<String> = exits
        .into_iter()
        .map(|(name, count)| if count > 1 { format!("{name} ×{}", machine::grouped(count)) } else { name.to_owned() })
        .collect();
    let _ = writeln!(
        out,
        "{} seed {}: {:?}; {} steps over {} s of L1 time ({} blocks), {} process lifetimes, {} crash points, exits [{}], generation {}",
        report.scenario,
        report.seed,
        report.outcome,
        report.steps,
        report.virtual_ms / 1000,
        report.head,
        report.lifetimes,
        report.crashes.len(),
        exits.join(", "),
        report.state.generation(),
    );
    if let Some(after_ms) = report.converged_after_ms {
        let _ = writeln!(
            out,
            "converged {} s after the faults ended: all closed batches Gold, intake open",
            after_ms / 1000
        );
    }
    let timeline = &report.timeline;
    let line = |out: &mut String, moment: &effects::sim::checks::Moment| {
        let _ = writeln!(out, "  t={:>6} s  block {:>5}  {}", moment.elapsed_ms / 1000, moment.head, moment.text);
    };
    let mut at = 0;
    while at < timeline.len() {
        let (period, repeats) = repetition(timeline, at);
        let (first, last) = (&timeline[at..at + period], &timeline[at + period * (repeats - 1)..at + period * repeats]);
        first.iter().for_each(|moment| line(&mut out, moment));
        let what = if period == 1 { "the line above".to_owned() } else { format!("the {period} lines above") };
        let exact = (0..repeats).all(|k| (0..period).all(|i| timeline[at + k * period + i].text == first[i].text));
        if repeats > 1 && exact {
            let end = &last[period - 1];
            let times = machine::grouped(repeats as u64);
            let (t, block) = (end.elapsed_ms / 1000, end.head);
            let _ = writeln!(out, "  {:23}  … {what} ×{times} in all, the last at t={t} s, block {block}", "");
        } else if repeats > 1 {
            // The same moments with other numbers (an age that grows): the first and the
            // last are told, the ones between counted.
            if repeats > 2 {
                let between = machine::grouped(repeats as u64 - 2);
                let _ = writeln!(out, "  {:23}  … {what} ×{between} more with other numbers, then:", "");
            }
            last.iter().for_each(|moment| line(&mut out, moment));
        }
        at += period * repeats;
    }
    for failure in &report.failures {
        let _ = writeln!(out, "FAILURE: {failure}");
    }
    out
}

/// The longest repetition starting at `at`: a cycle of up to [`MAX_PERIOD`] moments whose
/// texts, numbers aside, repeat back to back (a restart loop: flush, exit retry, flush, exit retry, …),
/// as `(period, repeats)`; `(1, 1)` when nothing repeats.
fn repetition(timeline: &[effects::sim::checks::Moment], at: usize) -> (usize, usize) {
    // Moments are the same when their texts are, numbers aside.
    let shape = |i: usize| {
        timeline
            .get(i)
            .map(|m| m.text.chars().filter(|c| !c.is_ascii_digit() && !matches!(c, '.' | ',')).collect::<String>())
    };
    let same = |a: usize, b: usize, period: usize| (0..period).all(|i| shape(a + i) == shape(b + i));
    let mut best = (1, 1);
    for period in 1..=MAX_PERIOD {
        let mut repeats = 1;
        while at + (repeats + 1) * period <= timeline.len() && same(at, at + repeats * period, period) {
            repeats += 1;
        }
        if repeats > 1 && period * repeats > best.0 * best.1 {
            best = (period, repeats);
        }
    }
    best
}

/// The longest cycle of timeline lines folded into one.
const MAX_PERIOD: usize = 4;

pub(super) fn run(
    name: Option<&str>,
    seed: u64,
    crash_points: bool,
    log: Option<&Path>,
    db: Option<&Path>,
) -> Result<Outcome, CliError> {
    let scenario = load_scenario(name, seed, crash_points)?;
    let mut sinks = Sinks::default();
    if let Some(path) = db {
        sinks.project_to(path)?;
    }
    if let Some(path) = log {
        sinks.log_to(path, &scenario)?;
    }
    let report = simulate_into(&scenario, seed, &mut sinks);
    let records = sinks.finish()?;
    let mut out = render_report(&report);
    if let Some(path) = db {
        let _ = writeln!(out, "projection: {}", path.display());
    }
    if let Some(path) = log {
        let _ = writeln!(out, "log: {} ({records} records)", path.display());
    }
    if report.failures.is_empty() {
        Ok(Outcome::Done(out))
    } else {
        let scenario_arg = name.map_or_else(String::new, |name| format!(" --scenario {name}"));
        let crash_arg = if crash_points { " --crash-points all" } else { "" };
        let _ = writeln!(out, "reproduce: seqrec simulate{scenario_arg} --seed {seed}{crash_arg}");
        Ok(Outcome::Failed(out))
    }
}

/// Where `demo` draws its picture without `--svg`: in the current directory.
const DEMO_SVG: &str = "seqrec-demo.svg";

/// `demo`: the congestion incident at mainnet parameters, recorded, replayed, verified,
/// told as a timeline and drawn.
pub(super) fn demo(keep_log: Option<&Path>, svg: Option<&Path>) -> Result<Outcome, CliError> {
    let scenario = load_scenario(Some("demo"), 1, false)?;
    let dir = std::env::temp_dir();
    let log =
        keep_log.map_or_else(|| dir.join(format!("seqrec-demo-{}.seqlog", std::process::id())), Path::to_path_buf);
    let mut sinks = Sinks { picture: Some(Incident::default()), ..Sinks::default() };
    sinks.log_to(&log, &scenario)?;
    let started = std::time::Instant::now();
    let report = simulate_into(&scenario, 1, &mut sinks);
    let simulated_in = started.elapsed();
    let picture = sinks.picture.take().map(|picture| picture.render("seqrec demo: congestion at mainnet parameters"));
    sinks.finish()?;
    let replayed = run_log(&log, false, None, false)?;
    // The picture goes where the operator is, not into a temporary directory they must find.
    let svg_path = svg.map_or_else(|| PathBuf::from(DEMO_SVG), Path::to_path_buf);
    std::fs::write(&svg_path, picture.unwrap_or_default())
        .map_err(|source| CliError::Write { path: svg_path.clone(), source: Box::new(source) })?;

    let mut out = String::new();
    let _ = writeln!(
        out,
        "seqrec demo: {} hours of L1 at mainnet parameters (max_wait 1200, margin 300, 12 s blocks) on the deterministic simulated L1, in {} ms",
        report.virtual_ms / 3_600_000,
        simulated_in.as_millis()
    );
    let _ = writeln!(out, "{}", scenario.description);
    out.push('\n');
    out.push_str(&render_report(&report));
    let verified = replayed.failure.is_none() && replayed.state == report.state;
    let _ = writeln!(
        out,
        "\nlog: {} records{}; replayed: {}",
        replayed.records,
        if keep_log.is_some() { format!(" in {}", log.display()) } else { String::new() },
        if verified { "hash chain intact, effects identical, same final state" } else { "FAILED" }
    );
    let shown = std::path::absolute(&svg_path).unwrap_or_else(|_| svg_path.clone());
    let _ = writeln!(out, "incident picture: {} (open it in a browser)", shown.display());
    if keep_log.is_none() {
        let _ = std::fs::remove_file(&log);
    }
    if verified && report.failures.is_empty() { Ok(Outcome::Done(out)) } else { Ok(Outcome::Failed(out)) }
}
