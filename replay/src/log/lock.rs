//! The single-writer lock (FORMAT.md "Locking"): whatever appends to a log holds an
//! exclusive advisory lock on the log file itself for its whole life. Readers never take
//! it, so a follower can tail a log while its writer runs.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use super::error::LogError;

/// A log file opened for writing whose exclusive lock this process holds; the lock is
/// released when the file is closed (the lock, or the writer made from it, dropped).
#[derive(Debug)]
pub struct LogLock {
    file: File,
    path: PathBuf,
}

impl LogLock {
    /// Opens the log at `path` for reading and writing and takes its lock, before
    /// anything else: no byte is read, written or truncated. A missing log is created
    /// empty (an unfinished new log, which [`super::LogWriter::open`] initialises).
    ///
    /// # Errors
    /// [`LogError::Locked`] if another holder has it; I/O errors.
    pub fn acquire(path: &Path) -> Result<LogLock, LogError> {
        Self::take(OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?, path)
    }

    /// The same for a log that must already exist.
    pub(crate) fn acquire_existing(path: &Path) -> Result<LogLock, LogError> {
        Self::take(OpenOptions::new().read(true).write(true).open(path)?, path)
    }

    /// Creates a new, empty log file (failing if one exists) and takes its lock.
    pub(crate) fn create_new(path: &Path) -> Result<LogLock, LogError> {
        Self::take(OpenOptions::new().read(true).write(true).create_new(true).open(path)?, path)
    }

    fn take(file: File, path: &Path) -> Result<LogLock, LogError> {
        if effects::try_lock_exclusive(&file)? {
            Ok(LogLock { file, path: path.to_owned() })
        } else {
            Err(LogError::Locked { path: path.to_owned(), pid: holder_pid(&file) })
        }
    }

    /// The log's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The locked file; the lock lives as long as it.
    pub(crate) fn into_file(self) -> File {
        self.file
    }

    /// The locked file, borrowed.
    pub(crate) fn file(&self) -> &File {
        &self.file
    }
}

/// The process holding an exclusive `flock` on `file`, as Linux's `/proc/locks` says
/// (`id: FLOCK ADVISORY WRITE pid major:minor:inode start end`); `None` elsewhere or when
/// it cannot tell, since the pid only helps the operator find the other writer.
#[cfg(target_os = "linux")]
fn holder_pid(file: &File) -> Option<u32> {
    use std::os::unix::fs::MetadataExt as _;
    let metadata = file.metadata().ok()?;
    let dev = metadata.dev();
    // glibc's `major`/`minor` of a `dev_t`.
    let (major, minor) = (((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff), (dev & 0xff) | ((dev >> 12) & !0xff));
    let id = format!("{major:02x}:{minor:02x}:{}", metadata.ino());
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    locks.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // A waiter's line has an extra `->` field and is not the holder.
        match fields.as_slice() {
            [_, "FLOCK", _, "WRITE", pid, file_id, ..] if *file_id == id => pid.parse().ok(),
            _ => None,
        }
    })
}

#[cfg(not(target_os = "linux"))]
fn holder_pid(_file: &File) -> Option<u32> {
    None
}
