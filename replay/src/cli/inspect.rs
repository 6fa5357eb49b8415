//! `trace` and `audit`.

use std::path::Path;

use super::{CliError, Outcome, load};
use crate::run::run;
use crate::{audit, trace as render};

pub(super) fn trace(path: &Path, json: bool) -> Result<Outcome, CliError> {
    let run = load(path)?.run();
    Ok(Outcome::Done(if json { render::render_json_all(&run.steps) } else { render::render_text_all(&run.steps) }))
}

pub(super) fn audit(
    path: &Path,
    at: Option<u64>,
    svg: Option<&Path>,
    json: bool,
    window: audit::Window,
) -> Result<Outcome, CliError> {
    let loaded = load(path)?;
    let events = loaded.events();
    let mut drawn = String::new();
    if let Some(svg_path) = svg {
        let title = format!(
            "seqrec incident: {}",
            path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        );
        let picture = crate::svg::render(&title, events.iter().map(|(_, event)| *event));
        std::fs::write(svg_path, picture)
            .map_err(|source| CliError::Write { path: svg_path.to_owned(), source: Box::new(source) })?;
        drawn = format!("incident picture written to {}\n", svg_path.display());
    }
    let Some(at) = at else {
        let steps = run(events).steps;
        let listed = audit::render_loaded(&loaded, &steps, window, json);
        return Ok(Outcome::Done(listed + &drawn));
    };
    let steps = events.len() as u64;
    if at >= steps {
        return Err(CliError::NoSuchStep { path: path.to_owned(), at, steps });
    }
    let prefix = events.into_iter().take(usize::try_from(at).unwrap_or(usize::MAX).saturating_add(1));
    let state = run(prefix).state;
    let json = serde_json::to_string_pretty(&audit::state_json(&state)).unwrap_or_default();
    Ok(Outcome::Done(format!("{json}\n{drawn}")))
}
