//! The audit: every decision with its reason, every exit, and the state at a sequence
//! number as JSON ("why did it cascade from batch 7?").

use std::fmt::Write as _;

use machine::{Danger, Effect, ExitCode, Note, State, Why};
use serde_json::{Value, json};

use crate::run::Traced;

/// What the audit lists: per step, the verdicts that matter to an operator (startup
/// decisions, non-safe classifications, rejected facts) and the exits.
fn audited(steps: &[Traced]) -> impl Iterator<Item = (u64, Vec<&Note>, Option<(ExitCode, &Why)>)> {
    steps.iter().map(|traced| {
        let notes = traced
            .step
            .notes
            .iter()
            .filter(|note| {
                note.decision.is_some()
                    || note.danger.is_some_and(|danger| danger != Danger::Safe)
                    || note.why.audited().is_some()
            })
            .collect();
        let exit = traced.step.effects.iter().find_map(|effect| match effect {
            Effect::Exit { code, reason } => Some((*code, reason)),
            _ => None,
        });
        (traced.seq, notes, exit)
    })
}

/// One line per audited verdict and exit.
#[must_use]
pub fn render_decisions(steps: &[Traced]) -> String {
    let mut out = String::new();
    for (seq, notes, exit) in audited(steps) {
        for note in notes {
            let label = match (note.decision, note.danger) {
                (Some(decision), _) => decision.name(),
                (None, Some(danger)) if danger != Danger::Safe => danger.name(),
                _ => note.why.audited().unwrap_or("rejected"),
            };
            let _ = writeln!(out, "#{seq:<5} {label:<16} {}", note.why);
        }
        if let Some((code, reason)) = exit {
            let _ = writeln!(out, "#{seq:<5} exit {:<11} {reason}", code.name());
        }
    }
    out
}

/// The same verdicts as [`render_decisions`], one JSON object per line.
#[must_use]
pub fn render_decisions_json(steps: &[Traced]) -> String {
    let mut out = String::new();
    for (seq, notes, exit) in audited(steps) {
        for note in notes {
            let line = json!({
                "seq": seq,
                "danger": note.danger.map(Danger::name),
                "danger_batch": note.danger.and_then(Danger::batch),
                "decision": note.decision.map(machine::Decision::name),
                "warning": note.why.warning(),
                "fact": note.why.audited().filter(|_| note.why.warning().is_none()),
                "why": note.why.to_string(),
            });
            let _ = writeln!(out, "{line}");
        }
        if let Some((code, reason)) = exit {
            let _ = writeln!(out, "{}", json!({ "seq": seq, "exit": code.name(), "why": reason.to_string() }));
        }
    }
    out
}

/// The state as JSON: config identity, tree with colors, frontier, watermark, generation,
/// and the summary of what was pruned (docs/protocol.md §11.6).
#[must_use]
pub fn state_json(state: &State) -> Value {
    let colors = state.colors();
    let batches: Vec<Value> = state
        .tree()
        .batches()
        .iter()
        .map(|batch| {
            let color = colors.iter().find(|(index, _)| *index == batch.index).map(|(_, color)| format!("{color:?}"));
            json!({
                "index": batch.index,
                "parent": batch.parent,
                "nonce": batch.nonce,
                "first_frame_safe_block": batch.first_frame_safe_block,
                "drain": [batch.drain_from, batch.drain_to],
                "wire_hash": batch.sealed.as_ref().map(|sealed| sealed.wire_hash.to_string()),
                "valid": batch.valid,
                "color": color,
            })
        })
        .collect();
    let slots: Vec<Value> = state
        .wallet()
        .slots
        .iter()
        .map(|(w_nonce, slot)| {
            json!({
                "w_nonce": w_nonce,
                "last": slot.last,
                "batches": slot.batches.iter().map(|(index, _, _)| index).collect::<Vec<_>>(),
                "tx_hash": slot.tx_hash.map(|hash| hash.to_string()),
            })
        })
        .collect();
    let pruned = state.tree().pruned();
    json!({
        "gold_frontier": state.scheduler().expected_nonce,
        "divergence": state.scheduler().divergence,
        "generation": state.generation(),
        "watermark": state.wallet().watermark,
        "safe_block": state.view().safe_block,
        "safe_timestamp": state.view().safe_timestamp_s,
        "direct_inputs": state.view().direct_inputs,
        "intake_open": state.intake_open(),
        "now_ms": state.now_ms(),
        "batches": batches,
        "slots": slots,
        "pruned": {
            "batches": pruned.count,
            "last_index": pruned.last_index,
            "last_nonce": pruned.last_nonce,
            "slots_through": state.wallet().pruned_through,
            "hash": pruned.hash.to_string(),
        },
        "state_hash": state.state_hash().to_string(),
    })
}
