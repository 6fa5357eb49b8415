//! `seqrec shrink`: the smallest script that still shows a property, by delta debugging
//! (Zeller's ddmin): drop chunks of events while the property holds, halving the chunks
//! down to single events, then simplify what is left (seal payloads to one byte). The
//! result is a script ready to become a fixture, with a `# check:` line for the property
//! where the trace can show it.
//!
//! The property is judged by running a candidate through the core (with the invariants
//! checked after every step), or, for `--other-build`, by comparing this build's trace
//! with another `seqrec` binary's: a divergence between builds shrinks to the events that
//! show it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use machine::{Bytes, Effect, Event};

use crate::run::steps;
use crate::trace::render_text;

/// What a shrunk script must still show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Property {
    /// An invariant of docs/protocol.md §9 is violated at some step.
    Violation,
    /// Some step's text trace contains this (a danger, a decision, any reason).
    Trace(String),
    /// The core asks for an exit with this code (`recovery_required`, `retry`, …).
    Exit(String),
    /// Another `seqrec` binary traces the script differently from this build.
    Diverges(PathBuf),
}

/// A `--until` value that is not a property.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PropertyError {
    /// Not one of the forms.
    #[error(
        "--until {given:?}: expected `violation`, `trace:TEXT`, `danger:NAME`, `decision:NAME` or `exit:CODE` (or give --other-build PATH)"
    )]
    Unknown {
        /// What was given.
        given: String,
    },
    /// The input does not show the property to begin with.
    #[error("the input does not show {property}: nothing to shrink")]
    NotShown {
        /// The property, described.
        property: String,
    },
}

impl std::str::FromStr for Property {
    type Err = PropertyError;

    fn from_str(given: &str) -> Result<Self, PropertyError> {
        let unknown = || PropertyError::Unknown { given: given.to_owned() };
        if given == "violation" {
            return Ok(Property::Violation);
        }
        let (kind, value) = given.split_once(':').ok_or_else(unknown)?;
        if value.is_empty() {
            return Err(unknown());
        }
        match kind {
            "trace" => Ok(Property::Trace(value.to_owned())),
            "danger" => Ok(Property::Trace(format!("danger {value}"))),
            "decision" => Ok(Property::Trace(format!("decision {value}"))),
            "exit" => Ok(Property::Exit(value.to_owned())),
            _ => Err(unknown()),
        }
    }
}

impl std::fmt::Display for Property {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Property::Violation => write!(f, "an invariant violation"),
            Property::Trace(text) => write!(f, "`{text}` in the trace"),
            Property::Exit(code) => write!(f, "an exit {code}"),
            Property::Diverges(other) => write!(f, "a divergence from {}", other.display()),
        }
    }
}

/// Whether `events` show `property`.
fn shows(events: &[Event], property: &Property, scratch: &Path) -> bool {
    match property {
        Property::Diverges(other) => diverges(events, other, scratch),
        Property::Violation => {
            let mut run = steps(events.iter().map(|event| (None, event)));
            run.by_ref().for_each(drop);
            run.violation().is_some()
        }
        Property::Trace(text) => {
            steps(events.iter().map(|event| (None, event))).any(|traced| render_text(&traced).contains(text.as_str()))
        }
        Property::Exit(code) => steps(events.iter().map(|event| (None, event))).any(|traced| {
            traced
                .step
                .effects
                .iter()
                .any(|effect| matches!(effect, Effect::Exit { code: exit, .. } if exit.name() == code))
        }),
    }
}

/// Whether `other` traces `events` differently from this build (or fails where this build
/// does not).
fn diverges(events: &[Event], other: &Path, scratch: &Path) -> bool {
    let script = scratch.join("candidate.jsonl");
    if std::fs::write(&script, script_text(events, &[])).is_err() {
        return false;
    }
    let theirs = Command::new(other).arg("trace").arg(&script).output();
    let ours: String = steps(events.iter().map(|event| (None, event))).map(|traced| render_text(&traced)).collect();
    match theirs {
        Ok(output) => !output.status.success() || String::from_utf8_lossy(&output.stdout) != ours,
        Err(_) => false,
    }
}

/// The events as a script: `header` comment lines, then one event per line.
fn script_text(events: &[Event], header: &[String]) -> String {
    let mut out = String::new();
    for line in header {
        let _ = writeln!(out, "# {line}");
    }
    for event in events {
        let _ = writeln!(out, "{}", serde_json::to_string(event).unwrap_or_default());
    }
    out
}

/// The outcome of a shrink.
#[derive(Debug)]
pub struct Shrunk {
    /// The minimal events.
    pub events: Vec<Event>,
    /// How many candidates were judged.
    pub tries: u64,
    /// The script text, with its header.
    pub script: String,
}

/// Shrinks `events` to a 1-minimal list (no single event can be removed) that still
/// shows `property`; `scratch` holds the candidates another build reads.
///
/// # Errors
/// [`PropertyError::NotShown`] when the input does not show the property.
pub fn shrink(events: Vec<Event>, property: &Property, scratch: &Path, source: &str) -> Result<Shrunk, PropertyError> {
    let original = events.len();
    let mut tries = 1_u64;
    if !shows(&events, property, scratch) {
        return Err(PropertyError::NotShown { property: property.to_string() });
    }
    let mut test = |candidate: &[Event]| {
        tries += 1;
        shows(candidate, property, scratch)
    };
    // The events after the first step that shows it cannot matter (except for another
    // build's divergence, which may need them): cut them first, cheaply.
    let mut current = events;
    if !matches!(property, Property::Diverges(_)) {
        let (mut low, mut high) = (1, current.len());
        while low < high {
            let mid = low + (high - low) / 2;
            if test(&current[..mid]) { high = mid } else { low = mid + 1 }
        }
        current.truncate(high);
    }
    let mut chunks = 2_usize;
    while current.len() >= 2 {
        let size = current.len().div_ceil(chunks);
        let mut reduced = false;
        let mut start = 0;
        while start < current.len() {
            let end = (start + size).min(current.len());
            let candidate: Vec<Event> = current[..start].iter().chain(&current[end..]).cloned().collect();
            if !candidate.is_empty() && test(&candidate) {
                current = candidate;
                reduced = true;
                chunks = chunks.saturating_sub(1).max(2);
                break;
            }
            start = end;
        }
        if reduced {
            continue;
        }
        if size == 1 {
            break;
        }
        chunks = (chunks * 2).min(current.len());
    }
    // Simplify values: a seal's payload to one byte, where the property does not need it.
    for index in 0..current.len() {
        if let Event::Seal(seal) = &current[index]
            && seal.payload.0.len() > 1
        {
            let mut candidate = current.clone();
            if let Event::Seal(seal) = &mut candidate[index] {
                seal.payload = Bytes(vec![1]);
            }
            if test(&candidate) {
                current = candidate;
            }
        }
    }
    let mut header = vec![
        format!(
            "shrunk by `seqrec shrink` from {source}: {original} events -> {}, {tries} candidates judged",
            current.len()
        ),
        format!("property: {property}"),
    ];
    if let Property::Trace(text) = property {
        header.push(format!("check: {text}"));
    }
    if let Property::Exit(code) = property {
        header.push(format!("check: \"fx\":\"exit\",\"code\":\"{code}\""));
    }
    let script = script_text(&current, &header);
    Ok(Shrunk { events: current, tries, script })
}
