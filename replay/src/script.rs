//! Event scripts: JSON lines in the format of interface.md. `#` lines and blank lines
//! are comments; `# check: TEXT` comments are expectations that the trace must contain
//! lines with TEXT, in order (asserted by the tests, not only snapshotted).

use machine::Event;

/// A parsed script.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Script {
    /// Events with their 1-based line numbers.
    pub events: Vec<(usize, Event)>,
    /// `# check:` expectations with their line numbers, in file order.
    pub checks: Vec<(usize, String)>,
}

/// A script line that is not a valid event.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: field `{field}`: {message}")]
pub struct ScriptError {
    /// 1-based line number.
    pub line: usize,
    /// The path of the offending field (`.` for the line as a whole).
    pub field: String,
    /// What was wrong, as serde_json reported it.
    pub message: String,
}

/// Parses a whole script; stops at the first bad line.
///
/// # Errors
/// [`ScriptError`] naming the line and field.
pub fn parse(text: &str) -> Result<Script, ScriptError> {
    let mut script = Script::default();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if let Some(comment) = trimmed.strip_prefix('#') {
            if let Some(check) = comment.trim_start().strip_prefix("check:") {
                script.checks.push((line, check.trim().to_owned()));
            }
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        script.events.push((line, parse_event(trimmed).map_err(|(field, message)| ScriptError { line, field, message })?));
    }
    Ok(script)
}

/// Parses one event line; on error returns the field path and message.
fn parse_event(text: &str) -> Result<Event, (String, String)> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let event: Event = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        (path, error.into_inner().to_string())
    })?;
    deserializer.end().map_err(|error| (".".to_owned(), error.to_string()))?;
    Ok(event)
}

/// Writes events back as a script, one JSON object per line.
///
/// # Errors
/// Only if serde_json fails, which the event types cannot cause.
pub fn render(events: &[Event]) -> Result<String, serde_json::Error> {
    let mut out = String::new();
    for event in events {
        out.push_str(&serde_json::to_string(event)?);
        out.push('\n');
    }
    Ok(out)
}
