//! Crash-safe append (FORMAT.md "Durability"): a record is written whole and synced
//! before the effects of its step run. The default policy syncs every record; a group
//! policy syncs every N records and the executor must call [`LogWriter::sync`] before it
//! runs the effects of any record not yet synced.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Seek, SeekFrom, Write};
use std::path::Path;

use machine::{Effect, Event, Hash32};

use super::error::LogError;
use super::header::Header;
use super::reader::LogReader;
use super::record::{self, effects_json};

/// When appended records are made durable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// `fdatasync` after every record (the default).
    #[default]
    EveryRecord,
    /// `fdatasync` after every `n` records, and on [`LogWriter::sync`].
    Group(u32),
}

/// Appends records to a log.
#[derive(Debug)]
pub struct LogWriter {
    file: File,
    chain: Hash32,
    next_seq: u64,
    policy: FsyncPolicy,
    unsynced: u32,
    buffer: Vec<u8>,
}

impl LogWriter {
    /// Creates a new log (fails if the file exists) and makes its header durable.
    ///
    /// # Errors
    /// I/O errors.
    pub fn create(path: &Path, header: &Header, policy: FsyncPolicy) -> Result<Self, LogError> {
        let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
        let bytes = header.encode();
        file.write_all(&bytes)?;
        file.sync_all()?;
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            // The new directory entry must survive a crash too.
            File::open(dir)?.sync_all()?;
        }
        let (_, _, seed) = Header::decode(&bytes)?;
        Ok(LogWriter { file, chain: seed, next_seq: 0, policy, unsynced: 0, buffer: Vec::new() })
    }

    /// Opens an existing log for appending after verifying every record; a torn tail or
    /// any damage is refused (run `seqrec repair` for a torn tail).
    ///
    /// # Errors
    /// Any [`LogError`] of the existing content.
    pub fn open_append(path: &Path, policy: FsyncPolicy) -> Result<Self, LogError> {
        let mut reader = LogReader::new(BufReader::new(File::open(path)?))?;
        for record in reader.by_ref() {
            record?;
        }
        let mut file = OpenOptions::new().write(true).open(path)?;
        file.seek(SeekFrom::Start(reader.offset()))?;
        Ok(LogWriter {
            file,
            chain: reader.chain_hash(),
            next_seq: reader.records_read(),
            policy,
            unsynced: 0,
            buffer: Vec::new(),
        })
    }

    /// Appends the record of one step; returns its sequence number. Under
    /// [`FsyncPolicy::EveryRecord`] it is durable when this returns.
    ///
    /// # Errors
    /// I/O errors; the log is then unusable until reopened.
    pub fn append(&mut self, event: &Event, effects: &[Effect]) -> Result<u64, LogError> {
        let seq = self.next_seq;
        let (bytes, chain) = record::encode(seq, event, &effects_json(effects), &self.chain);
        self.buffer.extend_from_slice(&bytes);
        self.chain = chain;
        self.next_seq += 1;
        self.unsynced += 1;
        let due = match self.policy {
            FsyncPolicy::EveryRecord => true,
            FsyncPolicy::Group(n) => self.unsynced >= n.max(1),
        };
        if due {
            self.sync()?;
        }
        Ok(seq)
    }

    /// Writes and syncs everything appended so far.
    ///
    /// # Errors
    /// I/O errors.
    pub fn sync(&mut self) -> Result<(), LogError> {
        if !self.buffer.is_empty() {
            self.file.write_all(&self.buffer)?;
            self.buffer.clear();
        }
        if self.unsynced > 0 {
            self.file.sync_data()?;
            self.unsynced = 0;
        }
        Ok(())
    }

    /// The chain hash after the last record.
    #[must_use]
    pub fn chain(&self) -> Hash32 {
        self.chain
    }

    /// The next sequence number.
    #[must_use]
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        // Best effort: a record still buffered under a group policy is written; its
        // effects were not run (the executor syncs before running them).
        let _ = self.sync();
    }
}
