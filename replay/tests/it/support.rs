//! What the log tests share: scratch directories, fixture events, and logs written with
//! checkpoints where a test wants them.

use std::path::{Path, PathBuf};

use machine::{Event, Hash32, State};
use replay::log::{Entry, FsyncPolicy, Header, LogError, LogReader, LogWriter};

/// A fresh, empty directory for one test.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("seqrec-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The events of `fixtures/scripts/<name>.jsonl`.
pub(crate) fn script_events(name: &str) -> Vec<Event> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../fixtures/scripts/{name}.jsonl"));
    let script = replay::script::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
    script.events.into_iter().map(|(_, event)| event).collect()
}

/// Writes `events` as a new log at `path` with a checkpoint after every `every` events
/// (none if 0); returns the file's bytes.
pub(crate) fn write_log(path: &Path, events: &[Event], every: usize) -> Vec<u8> {
    let mut writer = LogWriter::create(path, &Header::new(Hash32::default()), FsyncPolicy::Group(u32::MAX)).unwrap();
    let mut state = State::new();
    for (index, event) in events.iter().enumerate() {
        let (next, step) = machine::step(state, event);
        state = next;
        writer.append(event, &step.effects).unwrap();
        if every > 0 && (index + 1) % every == 0 {
            writer.append_checkpoint(state.state_hash()).unwrap();
        }
    }
    drop(writer);
    std::fs::read(path).unwrap()
}

/// Every record of `bytes`, events and checkpoints, and the error that ended them.
pub(crate) fn entries(bytes: &[u8]) -> (Vec<Entry>, Option<LogError>) {
    let mut reader = match LogReader::new(std::io::Cursor::new(bytes)) {
        Ok(reader) => reader,
        Err(error) => return (Vec::new(), Some(error)),
    };
    let mut whole = Vec::new();
    for entry in reader.entries() {
        match entry {
            Ok(entry) => whole.push(entry),
            Err(error) => return (whole, Some(error)),
        }
    }
    (whole, None)
}

/// Where each record of `bytes` starts.
pub(crate) fn offsets(bytes: &[u8]) -> Vec<u64> {
    entries(bytes)
        .0
        .iter()
        .map(|entry| match entry {
            Entry::Event(record) => record.offset,
            Entry::Checkpoint(checkpoint) => checkpoint.offset,
        })
        .collect()
}
