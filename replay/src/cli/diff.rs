//! `diff`: the first step where two inputs' events or effects differ, or where a log's
//! recorded effects differ from this build's replay.

use std::fmt::Write as _;
use std::path::Path;

use machine::Event;

use super::{CliError, Loaded, Outcome, load};
use crate::log::effects_json;

/// Each step's event and effects JSON: recorded for a log, computed for a script.
fn steps(loaded: &Loaded) -> Vec<(Event, Vec<u8>)> {
    match loaded {
        Loaded::Log { records, .. } => {
            records.iter().map(|record| (record.event.clone(), record.effects_json.clone())).collect()
        }
        Loaded::Script(_) => {
            loaded.run().steps.into_iter().map(|traced| (traced.event, effects_json(&traced.step.effects))).collect()
        }
    }
}

fn replayed(loaded: &Loaded) -> Vec<(Event, Vec<u8>)> {
    loaded.run().steps.into_iter().map(|traced| (traced.event, effects_json(&traced.step.effects))).collect()
}

pub(super) fn diff(a: &Path, b: Option<&Path>, json: bool) -> Result<Outcome, CliError> {
    let left = load(a)?;
    let (label_b, right) = match b {
        Some(b) => (b.display().to_string(), steps(&load(b)?)),
        None => ("this build's replay".to_owned(), replayed(&left)),
    };
    let label_a = a.display().to_string();
    let left = steps(&left);
    let first = left.iter().zip(&right).position(|(l, r)| l != r);
    if json {
        let side = |steps: &[(Event, Vec<u8>)], label: &str| {
            let at = first.and_then(|seq| steps.get(seq));
            serde_json::json!({
                "input": label,
                "steps": steps.len(),
                "event": at.map(|(event, _)| event),
                "effects": at.map(|(_, effects)| serde_json::from_slice::<serde_json::Value>(effects).unwrap_or_default()),
            })
        };
        let differ = first.is_some() || left.len() != right.len();
        let report = serde_json::json!({
            "identical": !differ,
            "first_divergent_step": first.or_else(|| differ.then(|| left.len().min(right.len()))),
            "a": side(&left, &label_a),
            "b": side(&right, &label_b),
        });
        return Ok(if differ { Outcome::Failed(format!("{report}\n")) } else { Outcome::Done(format!("{report}\n")) });
    }
    for (seq, (l, r)) in left.iter().zip(&right).enumerate() {
        if l != r {
            let mut report = format!("first divergence at step {seq}\n");
            let event = |event: &Event| serde_json::to_string(event).unwrap_or_default();
            let _ = writeln!(
                report,
                "{label_a}:\n  event:   {}\n  effects: {}",
                event(&l.0),
                String::from_utf8_lossy(&l.1)
            );
            let _ = writeln!(
                report,
                "{label_b}:\n  event:   {}\n  effects: {}",
                event(&r.0),
                String::from_utf8_lossy(&r.1)
            );
            return Ok(Outcome::Failed(report));
        }
    }
    if left.len() != right.len() {
        let seq = left.len().min(right.len());
        return Ok(Outcome::Failed(format!(
            "first divergence at step {seq}: {label_a} has {} steps, {label_b} has {}\n",
            left.len(),
            right.len()
        )));
    }
    Ok(Outcome::Done(format!("identical: {} steps, same events and effects\n", left.len())))
}
