//! `trace` and `audit`.

use std::path::Path;

use super::{CliError, Outcome, load};
use crate::run::run;
use crate::{audit, trace as render};

pub(super) fn trace(path: &Path, json: bool) -> Result<Outcome, CliError> {
    let run = load(path)?.run();
    Ok(Outcome::Done(if json { render::render_json_all(&run.steps) } else { render::render_text_all(&run.steps) }))
}

pub(super) fn audit(path: &Path, at: Option<u64>) -> Result<Outcome, CliError> {
    let loaded = load(path)?;
    let events = loaded.events();
    let Some(at) = at else {
        return Ok(Outcome::Done(audit::render_decisions(&run(events).steps)));
    };
    let steps = events.len() as u64;
    if at >= steps {
        return Err(CliError::NoSuchStep { path: path.to_owned(), at, steps });
    }
    let prefix = events.into_iter().take(usize::try_from(at).unwrap_or(usize::MAX).saturating_add(1));
    let state = run(prefix).state;
    let json = serde_json::to_string_pretty(&audit::state_json(&state)).unwrap_or_default();
    Ok(Outcome::Done(format!("{json}\n")))
}
