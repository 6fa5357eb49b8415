//! Reading a segmented log (FORMAT.md "Segmented logs") as one stream of records: each
//! segment after the first must start exactly where the one before it ended (the next
//! record number and event count, the chain hash and state hash of its last record, a
//! checkpoint), so a lost or replaced segment is found, never skipped. [`LogSource`] reads
//! a single-file log or a segment directory alike.

use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use machine::Hash32;

use super::error::LogError;
use super::header::Header;
use super::header_damage::unless_records_follow;
use super::reader::{Frame, LogReader};
use super::record::{Checkpoint, Entry, Position};
use super::segment::{SEGMENT_FIXED_LEN, SegmentHeader, list_segments, unfinished_segment};

/// Where reading resumes after `checkpoint` in the segment directory `dir`: the start of
/// the segment that follows it when there is one (the checkpoint's own segment may be
/// archived), else just past it in the segment holding it.
///
/// # Errors
/// [`LogError::NoSegments`], header errors; I/O errors.
pub fn resume_point(dir: &Path, checkpoint: &Checkpoint) -> Result<(PathBuf, Position), LogError> {
    let segments = list_segments(dir)?;
    if let Some((_, next)) = segments.iter().find(|(first, _)| *first == checkpoint.seq + 1) {
        let (_, reader) = open_segment(next)?;
        return Ok((next.clone(), reader.position()));
    }
    let holding = segments.iter().rev().find(|(first, _)| *first <= checkpoint.seq);
    let (_, path) = holding.ok_or_else(|| LogError::NoSegments { dir: dir.to_owned() })?;
    Ok((path.clone(), checkpoint.position()))
}

/// The segment in `dir` that starts right after record `seq`, with its header.
///
/// # Errors
/// Header errors; I/O errors.
pub fn segment_after(dir: &Path, seq: u64) -> Result<Option<SegmentHeader>, LogError> {
    let segments = list_segments(dir)?;
    match segments.iter().find(|(first, _)| *first == seq + 1) {
        Some((_, path)) => Ok(Some(open_segment(path)?.0)),
        None => Ok(None),
    }
}

/// The segment in `dir` holding record `seq`, if present.
///
/// # Errors
/// I/O errors listing `dir`.
pub fn segment_holding(dir: &Path, seq: u64) -> Result<Option<PathBuf>, LogError> {
    Ok(list_segments(dir)?.into_iter().rev().find(|(first, _)| *first <= seq).map(|(_, path)| path))
}

type FileReader = LogReader<BufReader<File>>;

/// Reads the segments of a directory in order, from the first or from a snapshot's point.
#[derive(Debug)]
pub struct SegmentReader {
    /// The segments after the current one.
    rest: std::vec::IntoIter<(u64, PathBuf)>,
    path: PathBuf,
    current: FileReader,
    /// The state hash of the last record read, when it was a checkpoint.
    last_checkpoint: Option<Hash32>,
    /// Segments moved to since opening.
    switches: u64,
}

/// Opens the segment at `path`: its header, and a reader positioned after it.
fn open_segment(path: &Path) -> Result<(SegmentHeader, FileReader), LogError> {
    let in_segment = |source| LogError::InSegment { path: path.to_owned(), source: Box::new(source) };
    let mut file = BufReader::new(File::open(path).map_err(|error| in_segment(error.into()))?);
    let (header, position) = match SegmentHeader::read(&mut file) {
        Ok(read) => read,
        // A crash during rotation, told apart from damage: `seqrec repair` may remove it.
        Err(error @ LogError::SegmentHeader { .. }) => match unfinished_segment(path) {
            Ok(Some(len)) => return Err(in_segment(LogError::UnfinishedSegment { len })),
            // Whole records after it: damage, named with where they are.
            _ => {
                let file = BufReader::new(File::open(path).map_err(|error| in_segment(error.into()))?);
                let damage = unless_records_follow(Vec::new(), file, SEGMENT_FIXED_LEN, error);
                return Err(in_segment(damage.unwrap_or_else(|error| error)));
            }
        },
        Err(error) => return Err(in_segment(error)),
    };
    let reader = LogReader::resume(file, header.log_header(), position);
    Ok((header, reader))
}

impl SegmentReader {
    /// Reads `dir` from its first record. The oldest segment present must start the log.
    ///
    /// # Errors
    /// [`LogError::SegmentStartsLater`] naming the snapshot needed when earlier segments
    /// are gone; header errors of the first segment.
    pub fn open(dir: &Path) -> Result<Self, LogError> {
        let mut segments = list_segments(dir)?.into_iter();
        let Some((_, path)) = segments.next() else { return Err(LogError::NoSegments { dir: dir.to_owned() }) };
        let (header, current) = open_segment(&path)?;
        let start = header.start;
        if start.first_seq > 0 {
            return Err(LogError::SegmentStartsLater {
                first_seq: start.first_seq,
                events: start.events,
                prev_chain: start.prev_chain,
                state_hash: start.state_hash,
            });
        }
        Ok(SegmentReader { rest: segments, path, current, last_checkpoint: None, switches: 0 })
    }

    /// Reads `dir` from the oldest segment present, whether or not it starts the log:
    /// `repair` checks the records and their chain, not the state at the start.
    ///
    /// # Errors
    /// [`LogError::NoSegments`]; header errors of that segment; I/O errors.
    pub fn from_oldest(dir: &Path) -> Result<Self, LogError> {
        let mut segments = list_segments(dir)?.into_iter();
        let Some((_, path)) = segments.next() else { return Err(LogError::NoSegments { dir: dir.to_owned() }) };
        let (_, current) = open_segment(&path)?;
        Ok(SegmentReader { rest: segments, path, current, last_checkpoint: None, switches: 0 })
    }

    /// Reads `dir` from `position` in the segment `segment` (a snapshot's checkpoint, or
    /// the start of the segment that follows it).
    ///
    /// # Errors
    /// Header errors of that segment; I/O errors.
    pub fn resume(dir: &Path, segment: &Path, position: Position) -> Result<Self, LogError> {
        let in_segment = |source| LogError::InSegment { path: segment.to_owned(), source: Box::new(source) };
        let segments = list_segments(dir)?;
        let (header, _) = open_segment(segment)?;
        let mut file = File::open(segment).map_err(|error| in_segment(error.into()))?;
        file.seek(SeekFrom::Start(position.offset)).map_err(|error| in_segment(error.into()))?;
        let current = LogReader::resume(BufReader::new(file), header.log_header(), position);
        let rest: Vec<(u64, PathBuf)> = segments.into_iter().filter(|(first, _)| *first > position.next_seq).collect();
        Ok(SegmentReader {
            rest: rest.into_iter(),
            path: segment.to_owned(),
            current,
            last_checkpoint: None,
            switches: 0,
        })
    }

    /// Stops before the segment starting at record `end` (and every later one): the
    /// reader then ends where that segment begins, so a part of the log can be verified
    /// on its own (`seqrec replay --jobs`, segments in parallel).
    #[must_use]
    pub fn until(mut self, end: u64) -> Self {
        let rest: Vec<(u64, PathBuf)> = self.rest.by_ref().filter(|(first, _)| *first < end).collect();
        self.rest = rest.into_iter();
        self
    }

    /// The current segment's log header.
    #[must_use]
    pub fn header(&self) -> &Header {
        self.current.header()
    }

    /// The current segment's file.
    #[must_use]
    pub fn segment(&self) -> &Path {
        &self.path
    }

    /// Just past the last whole record read, in the current segment.
    #[must_use]
    pub fn position(&self) -> Position {
        self.current.position()
    }

    /// The next record of either kind, across segments.
    pub fn next_entry(&mut self) -> Option<Result<Entry, LogError>> {
        self.next_across(LogReader::next_entry, |entry| match entry {
            Entry::Checkpoint(checkpoint) => Some(checkpoint.state_hash),
            Entry::Event(_) => None,
        })
    }

    /// The next record's bytes appended to `out`, framed but not verified, across
    /// segments (`LogReader::next_frame`): a caller verifies each frame in order with
    /// `verify_frame`, errors naming the segment as [`Self::next_entry`]'s do.
    pub(crate) fn next_frame(&mut self, out: &mut Vec<u8>) -> Option<Result<Frame, LogError>> {
        let read = |reader: &mut FileReader| reader.next_frame(out);
        // Taken from the frame's bytes, unverified: a checkpoint that fails verification
        // ends the log before the next segment's continuity is judged against it.
        self.next_across(read, |frame| frame.checkpoint_state)
    }

    /// The next item `read` gives from the current segment, moving to the next segment
    /// at each one's end; `checkpoint` is the state hash an item vouches for, if it is a
    /// checkpoint (the next segment must start at that state).
    fn next_across<T>(
        &mut self,
        mut read: impl FnMut(&mut FileReader) -> Option<Result<T, LogError>>,
        checkpoint: impl Fn(&T) -> Option<Hash32>,
    ) -> Option<Result<T, LogError>> {
        loop {
            match read(&mut self.current) {
                Some(Ok(item)) => {
                    self.last_checkpoint = checkpoint(&item);
                    return Some(Ok(item));
                }
                Some(Err(error)) => {
                    return Some(Err(LogError::InSegment { path: self.path.clone(), source: Box::new(error) }));
                }
                None => {
                    let (_, next) = self.rest.next()?;
                    if let Err(error) = self.switch_to(next) {
                        return Some(Err(error));
                    }
                }
            }
        }
    }

    /// Moves to the next segment after checking that it starts where this one ended.
    fn switch_to(&mut self, next: PathBuf) -> Result<(), LogError> {
        let (header, reader) = open_segment(&next)?;
        let (end, start) = (self.current.position(), header.start);
        let reason = if start.first_seq != end.next_seq || start.events != end.events {
            Some(format!(
                "it starts at record {} after {} events, the segment before it ({}) ends before record {} after {} events",
                start.first_seq,
                start.events,
                self.path.display(),
                end.next_seq,
                end.events
            ))
        } else if start.prev_chain != end.chain {
            Some(format!("it continues chain hash {}, the segment before it ends with {}", start.prev_chain, end.chain))
        } else if self.last_checkpoint != Some(start.state_hash) {
            Some(format!(
                "it starts at state {}, the segment before it does not end with a checkpoint of that state",
                start.state_hash
            ))
        } else {
            None
        };
        if let Some(reason) = reason {
            let source = Box::new(LogError::SegmentDiscontinuous { reason });
            return Err(LogError::InSegment { path: next, source });
        }
        (self.path, self.current) = (next, reader);
        self.switches += 1;
        Ok(())
    }
}

/// A log read record by record: a single file or a directory of segments.
#[derive(Debug)]
pub enum LogSource {
    /// A single-file log.
    File(FileReader),
    /// A segmented log.
    Segments(SegmentReader),
}

impl LogSource {
    /// Opens `path`, a log file or a segment directory, from its first record.
    ///
    /// # Errors
    /// Any header [`LogError`]; I/O errors.
    pub fn open(path: &Path) -> Result<Self, LogError> {
        if path.is_dir() {
            return SegmentReader::open(path).map(LogSource::Segments);
        }
        Ok(LogSource::File(LogReader::new(BufReader::new(File::open(path)?))?))
    }

    /// Opens `path` to read the records after `checkpoint` (one a snapshot was vouched
    /// for): in a segment directory, from the segment that starts right after it, else
    /// from the one holding it.
    ///
    /// # Errors
    /// Any header [`LogError`]; I/O errors.
    pub fn resume(path: &Path, checkpoint: &Checkpoint) -> Result<Self, LogError> {
        if path.is_dir() {
            let (segment, position) = resume_point(path, checkpoint)?;
            return SegmentReader::resume(path, &segment, position).map(LogSource::Segments);
        }
        let mut file = File::open(path)?;
        let header = LogReader::new(BufReader::new(&file))?.header().clone();
        file.seek(SeekFrom::Start(checkpoint.end()))?;
        Ok(LogSource::File(LogReader::resume(BufReader::new(file), header, checkpoint.position())))
    }

    /// The next record of either kind.
    pub fn next_entry(&mut self) -> Option<Result<Entry, LogError>> {
        match self {
            LogSource::File(reader) => reader.next_entry(),
            LogSource::Segments(reader) => reader.next_entry(),
        }
    }

    /// Every record, events and checkpoints, in order; ends after the first error.
    pub fn entries(&mut self) -> impl Iterator<Item = Result<Entry, LogError>> + '_ {
        std::iter::from_fn(move || self.next_entry())
    }

    /// The next record's bytes appended to `out`, framed but not verified
    /// (`LogReader::next_frame`).
    pub(crate) fn next_frame(&mut self, out: &mut Vec<u8>) -> Option<Result<Frame, LogError>> {
        match self {
            LogSource::File(reader) => reader.next_frame(out),
            LogSource::Segments(reader) => reader.next_frame(out),
        }
    }

    /// The segment file being read (`None` for a single-file log) and how many times the
    /// reader moved to the next segment: a frame's file is the one named after it was read.
    pub(crate) fn file(&self) -> (Option<&Path>, u64) {
        match self {
            LogSource::File(_) => (None, 0),
            LogSource::Segments(reader) => (Some(reader.segment()), reader.switches),
        }
    }

    /// The (current segment's) log header.
    #[must_use]
    pub fn header(&self) -> &Header {
        match self {
            LogSource::File(reader) => reader.header(),
            LogSource::Segments(reader) => reader.header(),
        }
    }

    /// Records read so far, checkpoints included (the next record's sequence number).
    #[must_use]
    pub fn records_read(&self) -> u64 {
        self.position().next_seq
    }

    /// Just past the last whole record read (in the current segment's file).
    #[must_use]
    pub fn position(&self) -> Position {
        match self {
            LogSource::File(reader) => reader.position(),
            LogSource::Segments(reader) => reader.position(),
        }
    }
}
