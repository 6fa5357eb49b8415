//! `seal` and `status`: the SQLite projection from the command line.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use effects::sqlite::{SealStatus, SqliteStore};

use super::{CliError, Outcome, load};

fn open(db: &Path) -> Result<SqliteStore, CliError> {
    SqliteStore::open(db).map_err(|source| CliError::Write { path: db.to_owned(), source: Box::new(source) })
}

/// Where `seqrec seal` reads its payload: the flag names the encoding, the value the
/// source (`-` is standard input).
#[derive(Debug)]
pub(super) enum Payload {
    /// `--payload`: 0x-prefixed hex, or `-` for hex on standard input.
    Hex(String),
    /// `--payload-file`: raw bytes from a file, or `-` for raw bytes on standard input.
    File(PathBuf),
}

/// Why `seqrec seal` queued nothing.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The payload's source could not be read.
    #[error("{source_name}: cannot read the payload: {error}")]
    Unreadable {
        /// The file, or standard input.
        source_name: String,
        /// The I/O error.
        error: std::io::Error,
    },
    /// `--payload` is not 0x-prefixed hex.
    #[error(
        "--payload{from}: not hex: {error} (the flag takes 0x-prefixed hex; raw bytes go through `--payload-file FILE` or `--payload-file -`)"
    )]
    BadHex {
        /// ` -` when the hex came from standard input.
        from: &'static str,
        /// What is wrong with it.
        error: machine::HexError,
    },
    /// Nothing to seal: an empty file or input (a producer that failed upstream).
    #[error("{source_name}: the payload is empty: nothing queued")]
    Empty {
        /// The file, standard input, or `--payload`.
        source_name: String,
    },
    /// The batch would exceed the limit the core enforces; `run` would refuse it back.
    #[error(
        "a payload of {bytes} bytes makes a batch of {wire_bytes} bytes (25-byte header + payload) > --max-batch-bytes {max_batch_bytes}: nothing queued (pass the `--max-batch-bytes` that `seqrec run` uses if it is larger)"
    )]
    TooLarge {
        /// The payload's length.
        bytes: u64,
        /// Its batch's length.
        wire_bytes: u64,
        /// The limit.
        max_batch_bytes: u64,
    },
}

impl Payload {
    /// The payload's bytes, decoded and checked against `max_batch_bytes` like the core's rule.
    fn read(self, max_batch_bytes: u64) -> Result<Vec<u8>, SealError> {
        use std::io::Read as _;
        let stdin = |buffer: &mut Vec<u8>| std::io::stdin().lock().read_to_end(buffer).map(drop);
        fn unreadable(source_name: &str) -> impl FnOnce(std::io::Error) -> SealError + '_ {
            move |error| SealError::Unreadable { source_name: source_name.to_owned(), error }
        }
        let (bytes, source_name) = match self {
            Payload::Hex(hex) if hex == "-" => {
                let mut text = Vec::new();
                stdin(&mut text).map_err(unreadable("standard input"))?;
                let text = String::from_utf8_lossy(&text);
                let bytes =
                    machine::decode_hex(text.trim()).map_err(|error| SealError::BadHex { from: " -", error })?;
                (bytes, "standard input".to_owned())
            }
            Payload::Hex(hex) => (
                machine::decode_hex(&hex).map_err(|error| SealError::BadHex { from: "", error })?,
                "--payload".to_owned(),
            ),
            Payload::File(path) if path.as_os_str() == "-" => {
                let mut bytes = Vec::new();
                stdin(&mut bytes).map_err(unreadable("standard input"))?;
                (bytes, "standard input".to_owned())
            }
            Payload::File(path) => {
                let name = path.display().to_string();
                (std::fs::read(&path).map_err(unreadable(&name))?, name)
            }
        };
        if bytes.is_empty() {
            return Err(SealError::Empty { source_name });
        }
        let length = bytes.len() as u64;
        let wire_bytes = (machine::wire::HEADER_LEN as u64).saturating_add(length);
        if wire_bytes > max_batch_bytes {
            return Err(SealError::TooLarge { bytes: length, wire_bytes, max_batch_bytes });
        }
        Ok(bytes)
    }
}

pub(super) fn seal(db: &Path, payload: Payload, max_batch_bytes: u64) -> Result<Outcome, CliError> {
    let bytes = payload.read(max_batch_bytes).map_err(|source| CliError::Seal { source })?;
    let id = open(db)?
        .enqueue_seal(&bytes)
        .map_err(|source| CliError::Write { path: db.to_owned(), source: Box::new(source) })?;
    Ok(Outcome::Done(format!(
        "{}: payload of {} bytes queued for sealing (queue id {id})\n",
        db.display(),
        bytes.len()
    )))
}

/// `seqrec pause` (`Some(reason)`) and `seqrec resume` (`None`): the flag the run loop
/// reads and records as an event; the database must exist (`run` creates it).
pub(super) fn pause(db: &Path, reason: Option<&str>) -> Result<Outcome, CliError> {
    if !db.exists() {
        return Err(CliError::Invalid {
            path: db.to_owned(),
            message: "the projection does not exist (`seqrec run` creates the projection)".to_owned(),
        });
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX));
    open(db)?
        .set_paused(reason, now_ms)
        .map_err(|source| CliError::Write { path: db.to_owned(), source: Box::new(source) })?;
    Ok(Outcome::Done(match reason {
        Some(_) => format!(
            "{}: submissions paused; `seqrec run` records it at its next poll (the detector keeps running)\n",
            db.display()
        ),
        None => format!("{}: submissions resumed; `seqrec run` records it at its next poll\n", db.display()),
    }))
}

pub(super) fn status(db: &Path, log: Option<&Path>) -> Result<Outcome, CliError> {
    // Read only: a status query never creates or migrates a database.
    let store = SqliteStore::open_read_only(db)
        .map_err(|source| CliError::Read { path: db.to_owned(), source: std::io::Error::other(source) })?;
    let read_error = |source| CliError::Write { path: db.to_owned(), source: Box::new(source) };
    let meta = store.meta().map_err(read_error)?;
    let mut out = String::new();
    let opt = |value: Option<u64>| value.map_or_else(|| "none".to_owned(), |v| v.to_string());
    let _ = writeln!(
        out,
        "generation {} | watermark W {} | divergence {}",
        meta.generation,
        opt(meta.watermark),
        meta.divergence_nonce
            .map_or_else(|| "none".to_owned(), |n| format!("at nonce {n} (terminal: every boot refuses)"))
    );
    if let Some(reason) = store.paused().map_err(read_error)? {
        let reason = if reason.is_empty() { String::new() } else { format!(" ({reason})") };
        let _ = writeln!(out, "submissions PAUSED by the operator{reason}: `seqrec resume --db …` resumes them");
    }
    let seals = store.seal_rows().map_err(read_error)?;
    let count = |status| seals.iter().filter(|row| row.status == status).count();
    let _ = writeln!(
        out,
        "seal queue: {} queued, {} sealed, {} refused",
        count(SealStatus::Queued),
        count(SealStatus::Sealed),
        count(SealStatus::Rejected)
    );
    for row in seals.iter().filter(|row| row.status == SealStatus::Rejected).rev().take(10) {
        let _ = writeln!(out, "  refused seal {}: {}", row.id, row.reason.as_deref().unwrap_or("no reason recorded"));
    }
    // Colors, the frontier and danger are derived by the core: they need the log.
    let state = match log {
        Some(log) => Some(load(log)?.run().state),
        None => None,
    };
    let colors = state.as_ref().map(machine::State::colors).unwrap_or_default();
    if let Some(state) = &state {
        let danger = state.config().map(|config| machine::classify(state, config, state.now_ms()));
        let _ = writeln!(
            out,
            "gold frontier {} | safe head {} | danger {}",
            state.scheduler().expected_nonce,
            opt(state.view().safe_block.map(|b| b.0)),
            danger.map_or_else(
                || "unknown (no valid boot)".to_owned(),
                |(danger, why)| format!("{} ({why})", danger.name())
            )
        );
    }
    let _ = writeln!(
        out,
        "{:>6} {:>6} {:>6} {:>8} {:>11} {:<7} wire hash",
        "batch", "nonce", "parent", "S", "drained", "state"
    );
    for row in store.batches().map_err(read_error)? {
        let color = colors.iter().find(|(index, _)| index.0 == row.batch_index).map(|(_, color)| format!("{color:?}"));
        let state = if row.valid { color.unwrap_or_else(|| "valid".to_owned()) } else { "invalid".to_owned() };
        let _ = writeln!(
            out,
            "{:>6} {:>6} {:>6} {:>8} {:>11} {:<7} {}",
            row.batch_index,
            row.nonce,
            opt(row.parent),
            row.first_frame_safe_block,
            format!("{}..{}", row.drain.0, row.drain.1),
            state,
            row.wire_hash.as_deref().unwrap_or("(open)")
        );
    }
    Ok(Outcome::Done(out))
}
