//! The audit: every decision with its reason, every exit, and the state at a sequence
//! number as JSON ("why did it cascade from batch 7?").

use std::fmt::Write as _;

use machine::{Effect, State};
use serde_json::{Value, json};

use crate::run::Traced;

/// One line per verdict that matters to an operator: startup decisions, non-safe
/// classifications, rejected facts and exits.
#[must_use]
pub fn render_decisions(steps: &[Traced]) -> String {
    let mut out = String::new();
    for traced in steps {
        for note in &traced.step.notes {
            let danger = note.danger.filter(|d| *d != machine::Danger::Safe);
            let rejected = matches!(note.why, machine::Why::Rejected(_));
            if note.decision.is_none() && danger.is_none() && !rejected {
                continue;
            }
            let _ = write!(out, "#{:<5}", traced.seq);
            if let Some(decision) = note.decision {
                let _ = write!(out, " {:<16}", decision.name());
            } else if let Some(danger) = danger {
                let _ = write!(out, " {:<16}", danger.name());
            } else {
                let _ = write!(out, " {:<16}", "rejected");
            }
            let _ = writeln!(out, " {}", note.why);
        }
        for effect in &traced.step.effects {
            if let Effect::Exit { code, reason } = effect {
                let _ = writeln!(out, "#{:<5} exit {:<11} {reason}", traced.seq, code.name());
            }
        }
    }
    out
}

/// The same verdicts as [`render_decisions`], one JSON object per line.
#[must_use]
pub fn render_decisions_json(steps: &[Traced]) -> String {
    let mut out = String::new();
    for traced in steps {
        for note in &traced.step.notes {
            let danger = note.danger.filter(|d| *d != machine::Danger::Safe);
            let rejected = matches!(note.why, machine::Why::Rejected(_));
            if note.decision.is_none() && danger.is_none() && !rejected {
                continue;
            }
            let line = json!({
                "seq": traced.seq,
                "danger": note.danger.map(machine::Danger::name),
                "danger_batch": note.danger.and_then(machine::Danger::batch),
                "decision": note.decision.map(machine::Decision::name),
                "why": note.why.to_string(),
            });
            let _ = writeln!(out, "{line}");
        }
        for effect in &traced.step.effects {
            if let Effect::Exit { code, reason } = effect {
                let _ =
                    writeln!(out, "{}", json!({ "seq": traced.seq, "exit": code.name(), "why": reason.to_string() }));
            }
        }
    }
    out
}

/// The state as JSON: config identity, tree with colors, frontier, watermark, generation.
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
    json!({
        "gold_frontier": state.scheduler().expected_nonce,
        "divergence": state.scheduler().divergence,
        "generation": state.generation(),
        "watermark": state.wallet().watermark,
        "safe_block": state.view().safe_block,
        "safe_timestamp": state.view().safe_timestamp_s,
        "direct_inputs": state.view().direct_inputs.len(),
        "intake_open": state.intake_open(),
        "now_ms": state.now_ms(),
        "batches": batches,
        "slots": slots,
        "state_hash": state.state_hash().to_string(),
    })
}
