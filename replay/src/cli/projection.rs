//! `seal` and `status`: the SQLite projection from the command line.

use std::fmt::Write as _;
use std::path::Path;

use effects::sqlite::{SealStatus, SqliteStore};

use super::{CliError, Outcome, load};

fn open(db: &Path) -> Result<SqliteStore, CliError> {
    SqliteStore::open(db).map_err(|source| CliError::Write { path: db.to_owned(), source: Box::new(source) })
}

pub(super) fn seal(db: &Path, payload: &str) -> Result<Outcome, CliError> {
    let bytes = machine::decode_hex(payload).map_err(|error| CliError::Invalid {
        path: "--payload".into(),
        message: format!("{error}: expected 0x-prefixed hex"),
    })?;
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
