//! Renders steps as the trace of docs/protocol.md §10: stable text for people and snapshots,
//! one JSON object per step for machines.

use std::fmt::Write as _;

use machine::{Danger, Note};
use serde_json::{Value, json};

use crate::run::Traced;

/// The note whose verdict the step is known by: the last decision, else the last
/// classification, else the last note.
fn headline(notes: &[Note]) -> Option<&Note> {
    notes
        .iter()
        .rev()
        .find(|note| note.decision.is_some())
        .or_else(|| notes.iter().rev().find(|note| note.danger.is_some()))
        .or_else(|| notes.last())
}

fn danger_text(danger: Danger) -> String {
    match (danger, danger.batch()) {
        (Danger::CanonicalDivergence(nonce), _) => format!("canonical_divergence(nonce {nonce})"),
        (_, Some(batch)) => format!("{}(batch {batch})", danger.name()),
        (_, None) => danger.name().to_owned(),
    }
}

/// The text block of one step.
#[must_use]
pub fn render_text(traced: &Traced) -> String {
    let mut out = String::new();
    let event = serde_json::to_string(&traced.event).unwrap_or_default();
    let _ = writeln!(out, "#{} {event}", traced.seq);
    for note in &traced.step.notes {
        out.push_str("  ");
        if let Some(danger) = note.danger {
            let _ = write!(out, "danger {} ", danger_text(danger));
        }
        if let Some(decision) = note.decision {
            let _ = write!(out, "decision {} ", decision.name());
        }
        let _ = writeln!(out, "- {}", note.why);
    }
    for effect in &traced.step.effects {
        let _ = writeln!(out, "  -> {}", serde_json::to_string(effect).unwrap_or_default());
    }
    let _ = writeln!(out, "  = {}", traced.summary);
    out
}

/// The JSON object of one step.
#[must_use]
pub fn render_json(traced: &Traced) -> Value {
    let mut object = json!({
        "seq": traced.seq,
        "event": traced.event,
        "effects": traced.step.effects,
        "state_hash": traced.state_hash.to_string(),
    });
    if let Some(map) = object.as_object_mut() {
        if let Some(note) = headline(&traced.step.notes) {
            if let Some(danger) = note.danger.or_else(|| traced.step.notes.iter().rev().find_map(|n| n.danger)) {
                map.insert("danger".into(), json!(danger.name()));
                if let Some(batch) = danger.batch() {
                    map.insert("danger_batch".into(), json!(batch));
                }
            }
            if let Some(decision) = note.decision {
                map.insert("decision".into(), json!(decision.name()));
            }
            map.insert("why".into(), json!(note.why.to_string()));
        }
        if traced.step.notes.len() > 1 {
            let notes: Vec<Value> = traced
                .step
                .notes
                .iter()
                .map(|note| {
                    json!({
                        "danger": note.danger.map(Danger::name),
                        "decision": note.decision.map(|d| d.name()),
                        "why": note.why.to_string(),
                    })
                })
                .collect();
            map.insert("notes".into(), Value::Array(notes));
        }
        if let Some(error) = traced.step.rejected() {
            map.insert("error".into(), json!(error.to_string()));
        }
    }
    object
}

/// The whole text trace.
#[must_use]
pub fn render_text_all(steps: &[Traced]) -> String {
    steps.iter().map(render_text).collect()
}

/// The whole JSON trace, one object per line.
#[must_use]
pub fn render_json_all(steps: &[Traced]) -> String {
    steps.iter().map(|traced| format!("{}\n", render_json(traced))).collect()
}
