//! The SQLite projection (rusqlite, bundled SQLite, WAL): the batch tree, submissions,
//! watermark, generation and divergence marker as tables the rest of the sequencer
//! reads, plus the seal queue through which the inclusion lane hands payloads over.
//! Written only from the core's `db` effects, idempotently by op id; reconciled from the
//! core's state at boot. Migrations are versioned by SQLite's `user_version`.

use std::path::Path;

use machine::{DbWrite, OpId, State};
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{StoreError, StoreErrorKind};
use crate::ports::Store;

/// Every migration, in order; `user_version` says how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_seal_outcome.sql"),
    include_str!("migrations/0003_admin.sql"),
];

/// The projection.
#[derive(Debug)]
pub struct SqliteStore {
    // Declared before `_writer` so the connection closes first: closing any descriptor
    // of the file drops the process's POSIX locks on it, which SQLite relies on.
    conn: Connection,
    /// The single-writer lock of `seqrec run`, held for the store's life.
    _writer: Option<std::fs::File>,
}

/// How often a step's transaction is tried again when the database stays busy past the
/// busy timeout (each try waits up to [`BUSY_TIMEOUT`]).
const BUSY_TRIES: u32 = 3;

/// How long SQLite waits for another connection's lock before answering busy.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A batch as the projection holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchRow {
    /// Creation index.
    pub batch_index: u64,
    /// Scheduler nonce.
    pub nonce: u64,
    /// Parent index.
    pub parent: Option<u64>,
    /// First-frame safe block.
    pub first_frame_safe_block: u64,
    /// Drained direct inputs.
    pub drain: (u64, u64),
    /// Wire hash once closed.
    pub wire_hash: Option<String>,
    /// Not invalidated.
    pub valid: bool,
}

/// What became of a queued seal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealStatus {
    /// Not consumed by the core yet.
    Queued,
    /// Sealed into a batch.
    Sealed,
    /// Refused: too large for the config (the core), or a row no batch can hold (the queue).
    Rejected,
}

/// One seal queue row's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealRow {
    /// The row id.
    pub id: u64,
    /// What became of it.
    pub status: SealStatus,
    /// The batch it was sealed into.
    pub batch_index: Option<u64>,
    /// Why it was refused.
    pub reason: Option<String>,
}

/// The projection's scalar facts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    /// Durable watermark `W`.
    pub watermark: Option<u64>,
    /// Recovery generation.
    pub generation: u64,
    /// Divergence marker.
    pub divergence_nonce: Option<u64>,
}

/// Classifies SQLite's answer by its primary result code.
fn sql(error: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    let kind = match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreErrorKind::Busy,
        Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => StoreErrorKind::ReadOnly,
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => StoreErrorKind::Corrupt,
        Some(ErrorCode::DiskFull) => StoreErrorKind::Full,
        _ => StoreErrorKind::Other,
    };
    StoreError { kind, message: error.to_string() }
}

/// Switches to WAL. On a new file opened by two processes at once (`run` booting while
/// the inclusion lane or `seqrec seal` queues a payload), the switch can answer "database
/// is locked" at once, without waiting on the busy handler: retry it for the busy timeout.
fn wal_mode(conn: &Connection) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL").map_err(sql) {
            Err(error) if error.kind == StoreErrorKind::Busy && started.elapsed() < BUSY_TIMEOUT => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            result => return result,
        }
    }
}

fn int(value: u64) -> i64 {
    // SQLite integers are signed; block numbers, nonces and op ids stay far below 2^63.
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn uint(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn io_error(path: &Path, error: &std::io::Error) -> StoreError {
    let kind = match error.kind() {
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => StoreErrorKind::ReadOnly,
        std::io::ErrorKind::StorageFull => StoreErrorKind::Full,
        _ => StoreErrorKind::Other,
    };
    StoreError { kind, message: format!("{}: {error}", path.display()) }
}

/// Refuses, with a message, a database whose files cannot be written, before SQLite maps
/// them: an immutable or read-only `-shm` file otherwise ends the process with SIGBUS.
fn writable(path: &Path) -> Result<(), StoreError> {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = Path::new(&name);
        if file.exists() {
            std::fs::OpenOptions::new().read(true).write(true).open(file).map_err(|error| io_error(file, &error))?;
        }
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the projection at `path` and runs pending migrations.
    ///
    /// # Errors
    /// [`StoreError`] if the file cannot be opened, or its schema is newer than this build.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        writable(path)?;
        let conn = Connection::open(path).map_err(sql)?;
        Self::setup(conn, None)
    }

    /// As [`SqliteStore::open`], for the one process that writes the projection (`seqrec
    /// run`): first takes an exclusive lock on the database file, held while the store
    /// lives, so a second writer is refused at once (readers and `seqrec seal` are not).
    ///
    /// # Errors
    /// [`StoreErrorKind::Busy`] naming the lock if another writer holds it; as `open`.
    pub fn open_writer(path: &Path) -> Result<Self, StoreError> {
        writable(path)?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|error| io_error(path, &error))?;
        if !crate::try_lock_exclusive(&file).map_err(|error| io_error(path, &error))? {
            return Err(StoreError {
                kind: StoreErrorKind::Busy,
                message: format!(
                    "{} is locked by another `seqrec run`: one writer per database; stop the other process first",
                    path.display()
                ),
            });
        }
        let conn = Connection::open(path).map_err(sql)?;
        Self::setup(conn, Some(file))
    }

    /// Opens an existing projection for reading only (`seqrec status`): a missing file is
    /// an error, never created.
    ///
    /// # Errors
    /// [`StoreError`] if the file does not exist or is not a projection this build reads.
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        if !path.exists() {
            return Err(StoreError::other(format!(
                "{} does not exist (`seqrec run` creates the projection)",
                path.display()
            )));
        }
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(sql)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(sql)?;
        if version != MIGRATIONS.len() as i64 {
            return Err(StoreError::other(format!(
                "{} has schema version {version}, this build reads {}; run `seqrec run` (which migrates) or use the matching seqrec",
                path.display(),
                MIGRATIONS.len()
            )));
        }
        Ok(SqliteStore { conn, _writer: None })
    }

    fn setup(conn: Connection, writer: Option<std::fs::File>) -> Result<Self, StoreError> {
        // Other components (the inclusion lane, `seqrec seal`) write concurrently: wait for locks.
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
        wal_mode(&conn)?;
        // FULL: a queued seal is the only copy of its payload until its record is durable.
        conn.pragma_update(None, "synchronous", "FULL").map_err(sql)?;
        let mut store = SqliteStore { conn, _writer: writer };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        // One writer at a time reads the version and migrates: two processes opening a new
        // file together must not both create the tables.
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(sql)?;
        let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(sql)?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::other(format!(
                "schema version {version} is newer than this build knows ({known}); use the seqrec that wrote it"
            )));
        }
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(usize::try_from(version).unwrap_or(0)) {
            tx.execute_batch(migration).map_err(sql)?;
            tx.pragma_update(None, "user_version", index as i64 + 1).map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }

    /// Rewrites the projection from the core's state in one transaction (boot: the log is
    /// the truth; writes lost in a crash are restored, writes of discarded steps removed).
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn reconcile(&mut self, state: &State) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(sql)?;
        // Rows of batches and slots the state pruned (docs/protocol.md §11.6) stay as history: the
        // state no longer knows them, and the projection is the operator's record.
        let first_kept = state.tree().next_index().0.saturating_sub(state.tree().batches().len() as u64);
        tx.execute("DELETE FROM batches WHERE batch_index >= ?1", params![int(first_kept)]).map_err(sql)?;
        let slots_from = state.wallet().pruned_through.map_or(0, |w| w.0.saturating_add(1));
        tx.execute("DELETE FROM submissions WHERE w_nonce >= ?1", params![int(slots_from)]).map_err(sql)?;
        for batch in state.tree().batches() {
            tx.execute(
                "INSERT INTO batches (batch_index, nonce, parent, first_frame_safe_block, drain_from, drain_to, wire_hash, valid)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    int(batch.index.0),
                    int(batch.nonce.0),
                    batch.parent.map(|p| int(p.0)),
                    int(batch.first_frame_safe_block.0),
                    int(batch.drain_from),
                    int(batch.drain_to),
                    batch.sealed.as_ref().map(|s| s.wire_hash.to_string()),
                    batch.valid,
                ],
            )
            .map_err(sql)?;
        }
        for (w_nonce, slot) in &state.wallet().slots {
            if let Some(tx_hash) = slot.tx_hash {
                tx.execute(
                    "INSERT OR IGNORE INTO submissions (w_nonce, batch_index, tx_hash) VALUES (?1, ?2, ?3)",
                    params![int(w_nonce.0), slot.last.map(|b| int(b.0)), tx_hash.to_string()],
                )
                .map_err(sql)?;
            }
        }
        set_meta(&tx, "watermark", state.wallet().watermark.map(|w| int(w.0)))?;
        set_meta(&tx, "generation", Some(int(state.generation())))?;
        set_meta(&tx, "divergence_nonce", state.scheduler().divergence.map(|n| int(n.0)))?;
        // docs/protocol.md §11.5: rows the log consumed but whose mark was lost in a crash.
        if let Some(last) = state.last_seal_id() {
            for batch in state.tree().batches() {
                if let Some(id) = batch.sealed.as_ref().and_then(|sealed| sealed.seal_id) {
                    tx.execute(
                        "UPDATE seal_queue SET taken = 1, batch_index = ?2 WHERE id = ?1 AND taken = 0",
                        params![int(id), int(batch.index.0)],
                    )
                    .map_err(sql)?;
                }
            }
            tx.execute(
                "UPDATE seal_queue SET taken = 2, reason = 'refused by the core (see the log)' WHERE id <= ?1 AND taken = 0",
                params![int(last)],
            )
            .map_err(sql)?;
        }
        // Every op the core ever issued is reflected now; a late repeat is a no-op.
        tx.execute("DELETE FROM applied_ops", []).map_err(sql)?;
        if let Some(last) = state.next_op().0.checked_sub(1) {
            tx.execute("INSERT INTO applied_ops (op) VALUES (?1)", params![int(last)]).map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }

    /// Queues a sealed payload for the executor (what the inclusion lane, or `seqrec seal`, does).
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn enqueue_seal(&mut self, payload: &[u8]) -> Result<u64, StoreError> {
        self.conn.execute("INSERT INTO seal_queue (payload) VALUES (?1)", params![payload]).map_err(sql)?;
        Ok(uint(self.conn.last_insert_rowid()))
    }

    /// The oldest queued payload after row `after` and its row id, if any. Nothing is marked: the row is
    /// taken by the core's `close_batch` (or `reject_seal`) write, which runs only after
    /// the `seal` record is durable (docs/protocol.md §11.5), so a crash or a full disk loses nothing.
    ///
    /// A row no batch can ever hold is refused here instead (`taken = 2` with the reason,
    /// its payload kept), so it never blocks the rows after it: a `payload` stored as
    /// another type than a BLOB (text, a number, NULL: the lane bound it wrongly), or one
    /// longer than [`machine::MAX_MAX_BATCH_BYTES`] (its `seal` record could not be logged).
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn peek_seal(&self, after: Option<u64>) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let mut after = after.map_or(-1, int);
        loop {
            let next: Option<(i64, String, i64)> = self
                .conn
                .query_row(
                    "SELECT id, typeof(payload), length(CAST(payload AS BLOB)) FROM seal_queue \
                     WHERE taken = 0 AND id > ?1 ORDER BY id LIMIT 1",
                    params![after],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get::<_, Option<i64>>(2)?.unwrap_or(0))),
                )
                .optional()
                .map_err(sql)?;
            let Some((id, kind, len)) = next else { return Ok(None) };
            let refusal = if kind != "blob" {
                Some(format!("payload stored as {kind}, not a BLOB: bind the bytes as a blob"))
            } else if u64::try_from(len).unwrap_or(u64::MAX) > machine::MAX_MAX_BATCH_BYTES {
                Some(format!(
                    "payload of {len} bytes: no batch can hold more than {} bytes",
                    machine::MAX_MAX_BATCH_BYTES
                ))
            } else {
                None
            };
            if let Some(reason) = refusal {
                self.conn
                    .execute(
                        "UPDATE seal_queue SET taken = 2, reason = ?2 WHERE id = ?1 AND taken = 0",
                        params![id, reason],
                    )
                    .map_err(sql)?;
                after = id;
                continue;
            }
            let payload: Vec<u8> = self
                .conn
                .query_row("SELECT payload FROM seal_queue WHERE id = ?1", params![id], |row| row.get(0))
                .map_err(sql)?;
            return Ok(Some((uint(id), payload)));
        }
    }

    /// Pauses submissions with `reason` (`Some`), or resumes them (`None`): what `seqrec
    /// pause` and `seqrec resume` write; the run loop reads it ([`Self::paused`]).
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn set_paused(&mut self, reason: Option<&str>, now_ms: u64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE admin SET paused = ?1, reason = ?2, changed_at_ms = ?3 WHERE id = 1",
                params![reason.is_some(), reason.unwrap_or_default(), int(now_ms)],
            )
            .map_err(sql)?;
        Ok(())
    }

    /// Why submissions are paused, if an operator paused them.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn paused(&self) -> Result<Option<String>, StoreError> {
        let (paused, reason): (bool, String) = self
            .conn
            .query_row("SELECT paused, reason FROM admin WHERE id = 1", [], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(sql)?;
        Ok(paused.then_some(reason))
    }

    /// What became of each queued seal: `(id, taken, batch_index, reason)`, by id.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn seal_rows(&self) -> Result<Vec<SealRow>, StoreError> {
        let mut statement =
            self.conn.prepare("SELECT id, taken, batch_index, reason FROM seal_queue ORDER BY id").map_err(sql)?;
        let rows = statement
            .query_map([], |row| {
                Ok(SealRow {
                    id: uint(row.get(0)?),
                    status: match row.get::<_, i64>(1)? {
                        0 => SealStatus::Queued,
                        1 => SealStatus::Sealed,
                        _ => SealStatus::Rejected,
                    },
                    batch_index: row.get::<_, Option<i64>>(2)?.map(uint),
                    reason: row.get(3)?,
                })
            })
            .map_err(sql)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(sql)
    }

    /// Every batch, by index.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn batches(&self) -> Result<Vec<BatchRow>, StoreError> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT batch_index, nonce, parent, first_frame_safe_block, drain_from, drain_to, wire_hash, valid
                 FROM batches ORDER BY batch_index",
            )
            .map_err(sql)?;
        let rows = statement
            .query_map([], |row| {
                Ok(BatchRow {
                    batch_index: uint(row.get(0)?),
                    nonce: uint(row.get(1)?),
                    parent: row.get::<_, Option<i64>>(2)?.map(uint),
                    first_frame_safe_block: uint(row.get(3)?),
                    drain: (uint(row.get(4)?), uint(row.get(5)?)),
                    wire_hash: row.get(6)?,
                    valid: row.get(7)?,
                })
            })
            .map_err(sql)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(sql)
    }

    /// Watermark, generation and divergence marker.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn meta(&self) -> Result<Meta, StoreError> {
        let get = |key: &str| -> Result<Option<i64>, StoreError> {
            self.conn.query_row("SELECT value FROM meta WHERE key = ?1", params![key], |row| row.get(0)).map_err(sql)
        };
        Ok(Meta {
            watermark: get("watermark")?.map(uint),
            generation: get("generation")?.map_or(0, uint),
            divergence_nonce: get("divergence_nonce")?.map(uint),
        })
    }

    /// Submissions recorded: `(w_nonce, batch_index, tx_hash)`.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn submissions(&self) -> Result<Vec<(u64, Option<u64>, String)>, StoreError> {
        let mut statement = self
            .conn
            .prepare("SELECT w_nonce, batch_index, tx_hash FROM submissions ORDER BY w_nonce, tx_hash")
            .map_err(sql)?;
        let rows = statement
            .query_map([], |row| Ok((uint(row.get(0)?), row.get::<_, Option<i64>>(1)?.map(uint), row.get(2)?)))
            .map_err(sql)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(sql)
    }
}

fn set_meta(tx: &rusqlite::Transaction<'_>, key: &str, value: Option<i64>) -> Result<(), StoreError> {
    tx.execute("UPDATE meta SET value = ?2 WHERE key = ?1", params![key, value]).map(|_| ()).map_err(sql)
}

impl Store for SqliteStore {
    fn apply(&mut self, op: OpId, write: &DbWrite) -> Result<(), StoreError> {
        self.apply_all(&[(op, write.clone())]).map_err(|(_, error)| error)
    }

    fn apply_all(&mut self, writes: &[(OpId, DbWrite)]) -> Result<(), (OpId, StoreError)> {
        let mut tries = 1;
        loop {
            match self.apply_once(writes) {
                Err((_, error)) if error.kind == StoreErrorKind::Busy && tries < BUSY_TRIES => tries += 1,
                result => return result,
            }
        }
    }
}

impl SqliteStore {
    /// One try of a step's writes, in one transaction.
    fn apply_once(&mut self, writes: &[(OpId, DbWrite)]) -> Result<(), (OpId, StoreError)> {
        let first = writes.first().map_or(OpId(0), |&(op, _)| op);
        // Immediate: the write lock is taken up front, so the busy timeout applies (a
        // deferred transaction that reads first fails at once when it must upgrade).
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|error| (first, sql(error)))?;
        for (op, write) in writes {
            apply_in(&tx, *op, write).map_err(|error| (*op, error))?;
        }
        tx.commit().map_err(|error| (first, sql(error)))
    }
}

/// One write inside the step's transaction; a repeated op id changes nothing.
fn apply_in(tx: &rusqlite::Transaction<'_>, op: OpId, write: &DbWrite) -> Result<(), StoreError> {
    {
        let done: bool = tx
            .query_row("SELECT EXISTS (SELECT 1 FROM applied_ops WHERE op >= ?1)", params![int(op.0)], |row| row.get(0))
            .map_err(sql)?;
        if done {
            // Op ids only grow: an op at or below one already applied is a repeat.
            return Ok(());
        }
        match write {
            DbWrite::OpenBatch { batch_index, nonce, parent, first_frame_safe_block, drain_from, drain_to } => {
                tx.execute(
                    "INSERT OR REPLACE INTO batches (batch_index, nonce, parent, first_frame_safe_block, drain_from, drain_to, wire_hash, valid)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, 1)",
                    params![
                        int(batch_index.0),
                        int(nonce.0),
                        parent.map(|p| int(p.0)),
                        int(first_frame_safe_block.0),
                        int(*drain_from),
                        int(*drain_to)
                    ],
                )
            }
            DbWrite::CloseBatch { batch_index, wire_hash, seal_id } => {
                if let Some(id) = seal_id {
                    tx.execute(
                        "UPDATE seal_queue SET taken = 1, batch_index = ?2 WHERE id = ?1",
                        params![int(*id), int(batch_index.0)],
                    )
                    .map_err(sql)?;
                }
                tx.execute(
                    "UPDATE batches SET wire_hash = ?2 WHERE batch_index = ?1",
                    params![int(batch_index.0), wire_hash.to_string()],
                )
            }
            DbWrite::RejectSeal { seal_id, wire_bytes, max_batch_bytes } => tx.execute(
                "UPDATE seal_queue SET taken = 2, reason = ?2 WHERE id = ?1",
                params![int(*seal_id), format!("batch of {wire_bytes} bytes > max_batch_bytes {max_batch_bytes}")],
            ),
            DbWrite::AckSeal { seal_id } => {
                tx.execute("UPDATE seal_queue SET taken = 1 WHERE id = ?1 AND taken = 0", params![int(*seal_id)])
            }
            // Valid batches from the pivot on are exactly those with an index at or above it:
            // the valid path is created in index order.
            DbWrite::InvalidateFrom { batch_index } => {
                tx.execute("UPDATE batches SET valid = 0 WHERE valid = 1 AND batch_index >= ?1", params![int(batch_index.0)])
            }
            DbWrite::RecordSubmission { w_nonce, batch_index, tx_hash } => tx.execute(
                "INSERT OR IGNORE INTO submissions (w_nonce, batch_index, tx_hash) VALUES (?1, ?2, ?3)",
                params![int(w_nonce.0), batch_index.map(|b| int(b.0)), tx_hash.to_string()],
            ),
            DbWrite::RaiseWatermark { to } => tx.execute(
                "UPDATE meta SET value = MAX(COALESCE(value, -1), ?1) WHERE key = 'watermark'",
                params![int(to.0)],
            ),
            DbWrite::BumpGeneration { to } => {
                tx.execute("UPDATE meta SET value = MAX(value, ?1) WHERE key = 'generation'", params![int(*to)])
            }
            DbWrite::MarkDivergence { nonce } => tx.execute(
                "UPDATE meta SET value = COALESCE(value, ?1) WHERE key = 'divergence_nonce'",
                params![int(nonce.0)],
            ),
        }
        .map_err(sql)?;
        tx.execute("DELETE FROM applied_ops", []).map_err(sql)?;
        tx.execute("INSERT INTO applied_ops (op) VALUES (?1)", params![int(op.0)]).map_err(sql)?;
        Ok(())
    }
}
