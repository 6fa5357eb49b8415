//! `simulate` and the simulated `demo`: a scenario on the deterministic simulated L1,
//! recorded as a log, with the world checks' verdict.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use effects::sim::scenario::{self, Scenario};
use effects::sim::{Report, simulate};

use super::verify::run_log;
use super::{CliError, Outcome};
use crate::log::{FsyncPolicy, Header, LogWriter, config_digest};

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

/// Writes a run's records as a log file (replacing any file there).
///
/// # Errors
/// [`CliError::Write`].
pub(crate) fn write_log(report: &Report, scenario: &Scenario, path: &Path) -> Result<(), CliError> {
    let write_error =
        |source: crate::log::LogError| CliError::Write { path: path.to_owned(), source: Box::new(source) };
    let _ = std::fs::remove_file(path);
    let header = Header::new(config_digest(&scenario.config));
    // A recorded simulation runs no effects from the file, so one sync at the end suffices.
    let mut writer = LogWriter::create(path, &header, FsyncPolicy::Group(u32::MAX)).map_err(write_error)?;
    // Checkpoints as `run` writes them; the states come from stepping the events again,
    // which gives the simulation's own states (the core is deterministic).
    let mut state = machine::State::new();
    for (event, effects) in &report.log.records {
        state = machine::step(state, event).0;
        writer.append(event, effects).map_err(write_error)?;
        if writer.checkpoint_due() {
            writer.append_checkpoint(state.state_hash()).map_err(write_error)?;
        }
    }
    if writer.events_since_checkpoint() > 0 {
        writer.append_checkpoint(state.state_hash()).map_err(write_error)?;
    }
    writer.sync().map_err(write_error)
}

/// The run in a few lines: outcome, numbers, timeline, failures.
#[must_use]
pub(crate) fn render_report(report: &Report) -> String {
    let mut out = String::new();
    let exits: Vec<&str> = report.exits.iter().map(|(_, code)| code.name()).collect();
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
    for moment in &report.timeline {
        let _ = writeln!(out, "  t={:>6} s  block {:>5}  {}", moment.elapsed_ms / 1000, moment.head, moment.text);
    }
    for failure in &report.failures {
        let _ = writeln!(out, "FAILURE: {failure}");
    }
    out
}

pub(super) fn run(
    name: Option<&str>,
    seed: u64,
    crash_points: bool,
    log: Option<&Path>,
    db: Option<&Path>,
) -> Result<Outcome, CliError> {
    let scenario = load_scenario(name, seed, crash_points)?;
    let report = simulate(&scenario, seed);
    let mut out = render_report(&report);
    if let Some(path) = db {
        let write_error =
            |source: effects::StoreError| CliError::Write { path: path.to_owned(), source: Box::new(source) };
        let _ = std::fs::remove_file(path);
        let mut store = effects::sqlite::SqliteStore::open(path).map_err(write_error)?;
        for (_, effects) in &report.log.records {
            for effect in effects {
                if let machine::Effect::Db { op, write } = effect {
                    effects::Store::apply(&mut store, *op, write).map_err(write_error)?;
                }
            }
        }
        let _ = writeln!(out, "projection: {}", path.display());
    }
    if let Some(path) = log {
        write_log(&report, &scenario, path)?;
        let _ = writeln!(out, "log: {} ({} records)", path.display(), report.log.records.len());
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

/// `demo`: the congestion incident at mainnet parameters, recorded, replayed, verified,
/// told as a timeline and drawn.
pub(super) fn demo(keep_log: Option<&Path>, svg: Option<&Path>) -> Result<Outcome, CliError> {
    let scenario = load_scenario(Some("demo"), 1, false)?;
    let started = std::time::Instant::now();
    let report = simulate(&scenario, 1);
    let simulated_in = started.elapsed();
    let dir = std::env::temp_dir();
    let log =
        keep_log.map_or_else(|| dir.join(format!("seqrec-demo-{}.seqlog", std::process::id())), Path::to_path_buf);
    write_log(&report, &scenario, &log)?;
    let replayed = run_log(&log, false, None, false)?;
    let svg_path = svg.map_or_else(|| dir.join("seqrec-demo.svg"), Path::to_path_buf);
    let events: Vec<_> = report.log.records.iter().map(|(event, _)| event).collect();
    let picture = crate::svg::render("seqrec demo: congestion at mainnet parameters", events);
    std::fs::write(&svg_path, picture)
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
    let _ = writeln!(out, "incident picture: {}", svg_path.display());
    if keep_log.is_none() {
        let _ = std::fs::remove_file(&log);
    }
    if verified && report.failures.is_empty() { Ok(Outcome::Done(out)) } else { Ok(Outcome::Failed(out)) }
}
