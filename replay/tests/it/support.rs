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

/// The names of the files in `dir`, sorted.
pub(crate) fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// One `seqrec` command run in-process: its output, or the error's message.
pub(crate) fn cli(command: replay::cli::Command) -> String {
    use replay::cli::{Args, Outcome, execute};
    match execute(Args { command }) {
        Ok(Outcome::Done(text) | Outcome::Failed(text)) => text,
        Ok(other) => format!("{other:?}"),
        Err(error) => format!("error: {error}"),
    }
}

/// The built `seqrec run` with no node (an unreachable RPC: a first boot exits `retry`
/// after two steps), the projection and key in `work`, the log at `log`, two snapshots
/// kept, and `extra` flags; returns the exit status and standard error.
pub(crate) fn seqrec_run(work: &Path, log: &std::ffi::OsStr, extra: &[&str]) -> (Option<i32>, String) {
    use std::os::unix::fs::PermissionsExt as _;
    let key = work.join("key");
    if !key.exists() {
        std::fs::write(&key, "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\n").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_seqrec"))
        .args(["run", "--rpc", "http://127.0.0.1:1", "--chain-id", "31337", "--snapshots-kept", "2"])
        .args(["--inbox", "0x2222222222222222222222222222222222222222"])
        .args(extra)
        .arg("--db")
        .arg(work.join("p.db"))
        .arg("--log")
        .arg(log)
        .arg("--key-file")
        .arg(&key)
        .output()
        .unwrap();
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}
