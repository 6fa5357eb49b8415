//! `demo`: the embedded incident, recorded as a log, replayed and verified, audited.
//! Until the simulator lands (issue #4) the incident is a recorded script, not a
//! simulation.

use std::fmt::Write as _;
use std::path::Path;

use super::convert::record;
use super::verify::run_log;
use super::{CliError, Outcome};
use crate::audit;
use crate::script::parse;

/// The embedded default incident.
const DEMO_SCRIPT: &str = include_str!("../../../fixtures/scripts/closed-batch-in-danger.jsonl");

pub(super) fn run(keep: Option<&Path>) -> Result<Outcome, CliError> {
    let script = parse(DEMO_SCRIPT).map_err(|source| CliError::Script { path: "embedded demo".into(), source })?;
    let path = keep.map_or_else(
        || std::env::temp_dir().join(format!("seqrec-demo-{}.seqlog", std::process::id())),
        Path::to_path_buf,
    );
    let events: Vec<_> = script.events.iter().map(|(_, event)| event).collect();
    // The demo owns its log path: a previous demo's log there is replaced.
    let _ = std::fs::remove_file(&path);
    let records = record(&events, &path)?;
    let replayed = run_log(&path, false, None, true);
    let run = super::run_script(&script);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "seqrec demo: a batch that never lands ages into the danger zone (max_wait 20, margin 5, 12 s blocks)\n"
    );
    out.push_str(&audit::render_decisions(&run.steps));
    let _ = writeln!(out, "\nfinal: {}", crate::run::summary(&run.state));
    let verdict = match &replayed {
        Ok(replay) if replay.failure.is_none() && replay.state == run.state => {
            format!(
                "recorded {records} records to {}; replayed: hash chain intact, effects identical, invariants held",
                shown(&path, keep)
            )
        }
        Ok(replay) => format!(
            "replay of {} FAILED: {}",
            path.display(),
            replay.failure.clone().unwrap_or_else(|| "state differs".to_owned())
        ),
        Err(error) => format!("replay FAILED: {error}"),
    };
    let _ = writeln!(out, "{verdict}");
    if keep.is_none() {
        let _ = std::fs::remove_file(&path);
    }
    match replayed {
        Ok(replay) if replay.failure.is_none() && replay.state == run.state => Ok(Outcome::Done(out)),
        _ => Ok(Outcome::Failed(out)),
    }
}

fn shown(path: &Path, keep: Option<&Path>) -> String {
    if keep.is_some() { path.display().to_string() } else { "a temporary log".to_owned() }
}
