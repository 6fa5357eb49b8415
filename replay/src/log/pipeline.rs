//! Verifying a log over threads (issue 10, item 6). Reading a log has three stages:
//! **framing** (the length words, the record's presence, its sequence number: cheap and
//! sequential), **verifying** (each record's chain hash over its body and the stored hash
//! of the record before it, then decoding the event: independent per record) and
//! **stepping** (the caller's, in record order). Records travel in [`Batch`]es of about
//! [`BATCH_RECORDS`] records or [`BATCH_BYTES`] bytes, one channel message each, and the
//! consumed batches go back to the framer to be filled again, so neither the channels nor
//! the allocator cost anything per record.
//!
//! `jobs` threads share the work: 1, every stage on the calling thread, batch after batch;
//! 2, framing and verifying on a reader thread while the caller steps (a batch framed
//! while the caller has none queued is verified by the caller, so the hashing splits
//! between the two threads as their speeds require); N ≥ 3, framing on
//! a reader thread, verifying on N − 2 threads (batch k on verifier k mod (N − 2), taken
//! back in the same order), stepping on the caller's. Each batch's `end` is the error
//! that ends the log after its records, exactly as [`LogReader`]/[`LogSource`] report it
//! (the first damage by record order; a chain that breaks where zeros run to the end of
//! the file is read again sequentially to tell a torn tail from a broken chain), so the
//! caller's failures, found in record order too, keep their precedence. A thread that
//! stops without handing over its last batch (a panic) is [`LogError::WorkerStopped`],
//! never a hang.

use std::fs::File;
use std::io::{BufReader, Seek as _, SeekFrom};
use std::ops::{ControlFlow, Range};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};

use machine::Event;

use super::error::LogError;
use super::header::Header;
use super::reader::{Decoded, Frame, LogReader, verify_frame};
use super::record::Checkpoint;
use super::segments::LogSource;

/// A batch is handed over once it holds this many records…
pub const BATCH_RECORDS: usize = 2048;
/// …or this many bytes (a larger record makes a batch of its own).
pub const BATCH_BYTES: usize = 1 << 20;
/// Batches queued between two threads.
const DEPTH: usize = 4;

/// The threads `seqrec replay` uses unless told (`--jobs`): the two-stage pipeline.
pub const DEFAULT_JOBS: u16 = 2;

/// The file a frame was read from, to read it again for the exact error.
#[derive(Debug)]
struct FileOf {
    path: PathBuf,
    segment: bool,
    header: Header,
}

impl FileOf {
    /// The error the sequential reader gives at `frame`, whose verification found `found`.
    fn exact(&self, frame: &Frame, found: LogError) -> LogError {
        let error = match found {
            LogError::ChainBroken { .. } => self.read_again(frame).unwrap_or(found),
            other => other,
        };
        if self.segment { LogError::InSegment { path: self.path.clone(), source: Box::new(error) } } else { error }
    }

    fn read_again(&self, frame: &Frame) -> Option<LogError> {
        let mut file = File::open(&self.path).ok()?;
        file.seek(SeekFrom::Start(frame.offset)).ok()?;
        LogReader::resume(BufReader::new(file), self.header.clone(), frame.position()).next_entry()?.err()
    }
}

/// One event record, verified and decoded; its effects JSON stays in the batch's bytes.
#[derive(Debug)]
pub struct EventItem {
    /// Sequence number.
    pub seq: u64,
    /// Byte offset of the record's first byte (in its segment's file).
    pub offset: u64,
    /// Total bytes of the record.
    pub len: u64,
    /// The event.
    pub event: Event,
    effects: Range<usize>,
}

impl EventItem {
    /// The recorded effects JSON, from the bytes of the batch it came in.
    #[must_use]
    pub fn effects<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        bytes.get(self.effects.clone()).unwrap_or_default()
    }
}

/// A verified record of either kind.
// Items are moved one at a time out of a reused vector; the rare checkpoint's size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Item {
    /// An event record.
    Event(EventItem),
    /// A checkpoint record.
    Checkpoint(Checkpoint),
}

/// Consecutive records of a log, framed, then verified.
#[derive(Debug, Default)]
pub struct Batch {
    bytes: Vec<u8>,
    frames: Vec<Frame>,
    /// From which frame on each file's frames start (a batch may cross a segment boundary).
    files: Vec<(usize, Arc<FileOf>)>,
    items: Vec<Item>,
    end: Option<LogError>,
    last: bool,
    verified: bool,
}

impl Batch {
    /// The verified records in order, and the bytes their effects lie in.
    #[must_use]
    pub fn items(&self) -> (&[Item], &[u8]) {
        (&self.items, &self.bytes)
    }

    /// The error that ends the log after this batch's records, if it ends in one.
    pub fn take_end(&mut self) -> Option<LogError> {
        self.end.take()
    }

    fn clear(&mut self) {
        self.bytes.clear();
        // A huge record (a seal of many MiB) does not keep its buffer for ever.
        self.bytes.shrink_to(4 * BATCH_BYTES);
        self.frames.clear();
        self.files.clear();
        self.items.clear();
        self.end = None;
        self.last = false;
        self.verified = false;
    }

    /// Verifies and decodes the frames in order, up to the first failure, which becomes
    /// the batch's end (in place of a framing error after it).
    fn verify(&mut self) {
        if std::mem::replace(&mut self.verified, true) {
            return;
        }
        self.items.clear();
        let mut files = self.files.iter().peekable();
        let mut file = files.next().map(|(_, file)| file);
        for (index, frame) in self.frames.iter().enumerate() {
            if let Some((_, next)) = files.next_if(|(from, _)| *from <= index) {
                file = Some(next);
            }
            let Some(file) = file else { break };
            let item = match verify_frame(frame, &self.bytes, file.header.has_checkpoints()) {
                Ok((Decoded::Checkpoint { state_hash, events }, chain)) => {
                    Item::Checkpoint(Checkpoint { seq: frame.seq, offset: frame.offset, state_hash, events, chain })
                }
                Ok((Decoded::Event { event, effects, .. }, _)) => Item::Event(EventItem {
                    seq: frame.seq,
                    offset: frame.offset,
                    len: frame.len(),
                    event,
                    effects: frame.start + effects.start..frame.start + effects.end,
                }),
                Err(found) => {
                    self.end = Some(file.exact(frame, found));
                    self.last = true;
                    break;
                }
            };
            self.items.push(item);
        }
    }
}

/// The framing stage: owns the source.
struct Framer {
    source: LogSource,
    path: PathBuf,
    switches: u64,
    file: Option<Arc<FileOf>>,
}

impl Framer {
    /// Frames the next records into `batch` (emptied first).
    fn fill(&mut self, batch: &mut Batch) {
        batch.clear();
        while batch.frames.len() < BATCH_RECORDS && batch.bytes.len() < BATCH_BYTES {
            match self.source.next_frame(&mut batch.bytes) {
                None => {
                    batch.last = true;
                    return;
                }
                Some(Err(error)) => {
                    batch.end = Some(error);
                    batch.last = true;
                    return;
                }
                Some(Ok(frame)) => {
                    let (segment, switches) = self.source.file();
                    if self.file.is_none() || switches != self.switches {
                        self.switches = switches;
                        let path = segment.map_or_else(|| self.path.clone(), Path::to_owned);
                        let header = self.source.header().clone();
                        self.file = Some(Arc::new(FileOf { path, segment: segment.is_some(), header }));
                    }
                    let Some(file) = &self.file else { continue };
                    if batch.files.last().is_none_or(|(_, last)| !Arc::ptr_eq(last, file)) {
                        batch.files.push((batch.frames.len(), Arc::clone(file)));
                    }
                    batch.frames.push(frame);
                }
            }
        }
    }
}

/// Reads `source` (opened from `path`) with `jobs` threads (module docs), handing each
/// verified batch, in order, to `consume` on the calling thread until it breaks or the
/// log ends. The batch ending the log carries its error, if any ([`Batch::take_end`]).
///
/// # Errors
/// [`LogError::WorkerStopped`] when a thread stopped before the log's end (a panic).
pub fn verify_batches<B>(
    source: LogSource,
    path: &Path,
    jobs: usize,
    mut consume: impl FnMut(&mut Batch) -> ControlFlow<B>,
) -> Result<Option<B>, LogError> {
    let mut framer = Framer { source, path: path.to_owned(), switches: 0, file: None };
    if jobs <= 1 {
        let mut batch = Batch::default();
        loop {
            framer.fill(&mut batch);
            batch.verify();
            if let ControlFlow::Break(value) = consume(&mut batch) {
                return Ok(Some(value));
            }
            if batch.last {
                return Ok(None);
            }
        }
    }
    let verifiers = jobs - 2;
    let queued = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let (recycle, recycled) = channel::<Batch>();
        let mut outputs: Vec<Receiver<Batch>> = Vec::new();
        let mut handles = Vec::new();
        let mut inputs: Vec<SyncSender<Batch>> = Vec::new();
        for _ in 0..verifiers {
            let (input, todo) = sync_channel::<Batch>(DEPTH);
            let (output, done) = sync_channel::<Batch>(DEPTH);
            handles.push(scope.spawn(move || {
                while let Ok(mut batch) = todo.recv() {
                    batch.verify();
                    if output.send(batch).is_err() {
                        break;
                    }
                }
            }));
            inputs.push(input);
            outputs.push(done);
        }
        if verifiers == 0 {
            let (output, done) = sync_channel::<Batch>(DEPTH);
            inputs.push(output);
            outputs.push(done);
        }
        // With two threads the reader verifies what it framed unless the stepper has
        // nothing queued: then the stepper verifies that batch itself rather than wait,
        // so the hashing splits between the two as their speeds require.
        let queued = &queued;
        handles.push(scope.spawn(move || {
            for turn in 0.. {
                let mut batch = recycled.try_recv().unwrap_or_default();
                framer.fill(&mut batch);
                if verifiers == 0 && queued.load(Ordering::Acquire) > 0 {
                    batch.verify();
                }
                let last = batch.last;
                let Some(next) = inputs.get(turn % inputs.len()) else { break };
                queued.fetch_add(1, Ordering::AcqRel);
                if next.send(batch).is_err() || last {
                    break;
                }
            }
        }));
        let mut result = Ok(None);
        for turn in 0.. {
            let Some(Ok(mut batch)) = outputs.get(turn % outputs.len()).map(Receiver::recv) else {
                result = Err(LogError::WorkerStopped);
                break;
            };
            queued.fetch_sub(1, Ordering::AcqRel);
            batch.verify();
            if let ControlFlow::Break(value) = consume(&mut batch) {
                result = Ok(Some(value));
                break;
            }
            if batch.last {
                break;
            }
            // The framer may have finished (its receiver gone): the batch is then dropped.
            let _ = recycle.send(batch);
        }
        // Unblocks every thread still sending: their receivers are gone.
        drop(outputs);
        for handle in handles {
            if handle.join().is_err() {
                result = Err(LogError::WorkerStopped);
            }
        }
        result
    })
}
