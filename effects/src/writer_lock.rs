//! The single-writer lock shared by the log and the SQLite projection: an exclusive
//! advisory lock on the file itself, held for the writer's life.

use std::fs::{File, TryLockError};
use std::time::{Duration, Instant};

/// How long a held lock is tried again before it counts as another writer's: a child
/// that another thread of the holder is spawning shares the open file until its `exec`.
pub const LOCK_GRACE: Duration = Duration::from_secs(1);

/// Takes `file`'s exclusive lock; `Ok(false)` if another writer still holds it after
/// [`LOCK_GRACE`].
///
/// # Errors
/// The I/O error of the lock call itself.
pub fn try_lock_exclusive(file: &File) -> std::io::Result<bool> {
    let deadline = Instant::now() + LOCK_GRACE;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(true),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Err(TryLockError::WouldBlock) => return Ok(false),
            Err(TryLockError::Error(error)) => return Err(error),
        }
    }
}
