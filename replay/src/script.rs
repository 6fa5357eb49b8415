//! Event scripts: JSON lines in the format of docs/protocol.md §10. `#` lines and blank lines
//! are comments; `# check: TEXT` comments are expectations that the trace must contain
//! lines with TEXT, in order; `# check-not: TEXT` comments say no trace line contains
//! TEXT. Both are asserted by `seqrec replay` and the tests, not only snapshotted.

mod keys;

use machine::Event;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A parsed script.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Script {
    /// Events with their 1-based line numbers.
    pub events: Vec<(usize, Event)>,
    /// `# check:` and `# check-not:` expectations with their line numbers, in file order.
    pub checks: Vec<Check>,
}

/// One expectation about the text trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// Some trace line after the previous match contains the text.
    Contains {
        /// The script line of the comment.
        line: usize,
        /// The text.
        text: String,
    },
    /// No trace line contains the text.
    Absent {
        /// The script line of the comment.
        line: usize,
        /// The text.
        text: String,
    },
}

/// Evaluates the checks against a text trace; returns one message per failed check.
#[must_use]
pub fn failed_checks(checks: &[Check], trace: &str) -> Vec<String> {
    let lines: Vec<&str> = trace.lines().collect();
    let mut cursor = 0;
    let mut failures = Vec::new();
    for check in checks {
        match check {
            Check::Contains { line, text } => match lines[cursor..].iter().position(|l| l.contains(text.as_str())) {
                Some(found) => cursor += found + 1,
                None => failures
                    .push(format!("line {line}: `check: {text}` not found in the trace after trace line {cursor}")),
            },
            Check::Absent { line, text } => {
                if let Some(found) = lines.iter().position(|l| l.contains(text.as_str())) {
                    failures.push(absent_failure(*line, text, found + 1, lines[found]));
                }
            }
        }
    }
    failures
}

fn absent_failure(line: usize, text: &str, found: usize, trace_line: &str) -> String {
    format!("line {line}: `check-not: {text}` but trace line {found} has it: {trace_line}")
}

/// [`failed_checks`] fed one trace line at a time, so a long trace need not be kept.
///
/// Exact while every `check:` is found in order; a missing one's report (and where the
/// later ones are searched from) depends on the whole trace, so [`CheckScan::finish`]
/// then returns `None` and the caller evaluates [`failed_checks`] on the full trace.
#[derive(Debug)]
pub struct CheckScan<'c> {
    checks: &'c [Check],
    /// Index of the `check:` to find next (`checks.len()` once all were found).
    pending: usize,
    /// Trace lines seen.
    lines: usize,
    /// The first trace line (number and text) each `check-not:` found, by check index.
    absent: Vec<Option<(usize, String)>>,
}

impl<'c> CheckScan<'c> {
    /// Starts scanning a trace for `checks`.
    #[must_use]
    pub fn new(checks: &'c [Check]) -> Self {
        let mut scan = CheckScan { checks, pending: 0, lines: 0, absent: vec![None; checks.len()] };
        scan.pending = scan.next_contains(0);
        scan
    }

    fn next_contains(&self, from: usize) -> usize {
        (from..self.checks.len())
            .find(|&i| matches!(self.checks[i], Check::Contains { .. }))
            .unwrap_or(self.checks.len())
    }

    /// Scans each line of a piece of the trace (whole lines, as `render_text` gives them).
    pub fn feed(&mut self, text: &str) {
        for trace_line in text.lines() {
            self.lines += 1;
            if let Some(Check::Contains { text, .. }) = self.checks.get(self.pending)
                && trace_line.contains(text.as_str())
            {
                self.pending = self.next_contains(self.pending + 1);
            }
            for (check, found) in self.checks.iter().zip(&mut self.absent) {
                if let Check::Absent { text, .. } = check
                    && found.is_none()
                    && trace_line.contains(text.as_str())
                {
                    *found = Some((self.lines, trace_line.to_owned()));
                }
            }
        }
    }

    /// The failures, as [`failed_checks`] gives them; `None` when a `check:` was not found.
    #[must_use]
    pub fn finish(self) -> Option<Vec<String>> {
        if self.pending < self.checks.len() {
            return None;
        }
        let failures = self.checks.iter().zip(self.absent).filter_map(|(check, found)| match (check, found) {
            (Check::Absent { line, text }, Some((at, trace_line))) => {
                Some(absent_failure(*line, text, at, &trace_line))
            }
            _ => None,
        });
        Some(failures.collect())
    }
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
            let comment = comment.trim_start();
            if let Some(text) = comment.strip_prefix("check:") {
                script.checks.push(Check::Contains { line, text: text.trim().to_owned() });
            } else if let Some(text) = comment.strip_prefix("check-not:") {
                script.checks.push(Check::Absent { line, text: text.trim().to_owned() });
            }
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        script
            .events
            .push((line, parse_event(trimmed).map_err(|(field, message)| ScriptError { line, field, message })?));
    }
    Ok(script)
}

/// Parses one event line; on error returns the field path and message.
///
/// The `ev` tag is dispatched here rather than by serde's internally tagged enum
/// support, which buffers the object and loses the path of a bad field.
fn parse_event(text: &str) -> Result<Event, (String, String)> {
    let whole = |error: serde_json::Error| (".".to_owned(), error.to_string());
    let mut object = match serde_json::from_str::<Value>(text).map_err(whole)? {
        Value::Object(object) => object,
        other => return Err((".".to_owned(), format!("expected a JSON object, found {other}"))),
    };
    // `Value` kept the last of two equal keys; a fact given twice is refused, not guessed.
    if let Some(path) = keys::first_duplicate(text) {
        let key = path.rsplit(['.', ']']).next().unwrap_or(&path).to_owned();
        return Err((path, format!("duplicate field `{key}`: given twice on this line (which one is meant?)")));
    }
    let ev = match object.remove("ev") {
        Some(Value::String(ev)) => ev,
        Some(other) => return Err(("ev".to_owned(), format!("expected a string, found {other}"))),
        None => return Err(("ev".to_owned(), "missing field `ev`".to_owned())),
    };
    let body = Value::Object(object);
    Ok(match ev.as_str() {
        "boot" => Event::Boot(fields(body)?),
        "chain_id" => Event::ChainId(fields(body)?),
        "l1" => Event::L1(fields(body)?),
        "unsafe_landings" => Event::UnsafeLandings(fields(body)?),
        "wallet" => Event::Wallet(fields(body)?),
        "tick" => Event::Tick(fields(body)?),
        "seal" => Event::Seal(fields(body)?),
        "sent" => Event::Sent(fields(body)?),
        "send_failed" => Event::SendFailed(fields(body)?),
        "rpc_failed" => Event::RpcFailed(fields(body)?),
        "db" => Event::Db(fields(body)?),
        "shutdown" => match body.as_object().and_then(|rest| rest.keys().next()) {
            Some(key) => return Err((key.clone(), "unknown field: `shutdown` takes no fields".to_owned())),
            None => Event::Shutdown,
        },
        "pause" => Event::Pause(fields(body)?),
        "resume" => match body.as_object().and_then(|rest| rest.keys().next()) {
            Some(key) => return Err((key.clone(), "unknown field: `resume` takes no fields".to_owned())),
            None => Event::Resume,
        },
        other => return Err(("ev".to_owned(), format!("unknown event `{other}`, expected one of {EVENT_NAMES}"))),
    })
}

const EVENT_NAMES: &str = "boot, chain_id, l1, unsafe_landings, wallet, tick, seal, sent, send_failed, rpc_failed, db, shutdown, pause, resume";

/// Deserializes an event body, keeping the path of the first bad field.
fn fields<T: DeserializeOwned>(body: Value) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize(body).map_err(|error| {
        let path = error.path().to_string();
        (path, error.into_inner().to_string())
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(line: usize, text: &str) -> Check {
        Check::Contains { line, text: text.to_owned() }
    }

    fn absent(line: usize, text: &str) -> Check {
        Check::Absent { line, text: text.to_owned() }
    }

    #[test]
    fn the_streaming_scan_agrees_with_the_whole_trace_or_defers_to_it() {
        let trace = "#0 boot\n  = admit\n#1 tick\n  -> submit\n#2 tick\n";
        let cases = [
            vec![contains(1, "boot"), absent(2, "flush"), contains(3, "tick"), contains(4, "tick")],
            vec![absent(1, "submit"), contains(2, "admit"), absent(3, "#"), contains(4, "")],
            vec![contains(1, "tick"), contains(2, "boot")],
            vec![contains(1, "nowhere"), absent(2, "admit")],
        ];
        for checks in &cases {
            let mut scan = CheckScan::new(checks);
            // Fed in pieces of whole lines, as steps render.
            scan.feed("#0 boot\n  = admit\n");
            scan.feed("#1 tick\n  -> submit\n#2 tick\n");
            let whole = failed_checks(checks, trace);
            match scan.finish() {
                Some(failures) => assert_eq!(failures, whole, "{checks:?}"),
                None => assert!(whole.iter().any(|f| f.contains("`check:")), "{checks:?}: {whole:?}"),
            }
        }
    }
}
