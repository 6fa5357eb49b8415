//! Streaming, verifying reader: every record's length check, sequence number and chain
//! hash are checked before its event is decoded; the first damage ends the stream with
//! a typed error naming the record and byte offset. Iterating yields the event records
//! (checkpoints are verified and skipped); [`LogReader::entries`] yields both kinds.

use std::io::Read;
use std::ops::Range;

use machine::{Event, Hash32};

use super::error::LogError;
use super::header::Header;
use super::record::{
    CHECKPOINT_MARK, Checkpoint, Entry, MAX_BODY_LEN, MIN_BODY_LEN, PREFIX_LEN, Position, Record, body_seq, chain_hash,
    decode_checkpoint, effects_digest, framed_len,
};
use super::{codec, header_damage};

/// A log header's length without its build identity.
const LOG_FIXED_LEN: u64 = 12 + 32 + 32;

/// A zero run this long reaching the end of the file ends a record's bytes only when a
/// crash cut its write short (it covers at least the chain hash).
const ZERO_TAIL_MIN: u64 = 32;

/// Reads a log record by record.
#[derive(Debug)]
pub struct LogReader<R> {
    input: R,
    header: Header,
    offset: u64,
    next_seq: u64,
    chain: Hash32,
    events: u64,
    done: bool,
    body: Vec<u8>,
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
pub(crate) fn read_full(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

impl<R: Read> LogReader<R> {
    /// Reads and checks the header.
    ///
    /// # Errors
    /// A header [`LogError`].
    pub fn new(mut input: R) -> Result<Self, LogError> {
        let mut fixed = [0_u8; 12];
        let got = read_full(&mut input, &mut fixed)?;
        if got > 0 && fixed[..got.min(8)].iter().all(|byte| *byte == 0) {
            // Told apart from a bad magic: a zero-filled file is an unfinished new log.
            return Err(match zeros_to_end(&mut input)? {
                Some(rest) => LogError::ZeroFilled { len: got as u64 + rest },
                None => LogError::NotALog { found: fixed[..got.min(8)].to_vec() },
            });
        }
        if got < 12 {
            Header::decode(&fixed[..got])?;
        }
        let build_len = usize::from(u16::from_le_bytes([fixed[10], fixed[11]]));
        let mut bytes = fixed.to_vec();
        bytes.resize(12 + build_len + 64, 0);
        let got_rest = read_full(&mut input, &mut bytes[12..])?;
        bytes.truncate(12 + got_rest);
        let (header, len, seed) = match Header::decode(&bytes) {
            Ok(decoded) => decoded,
            // A crash while the log was created leaves no record; whole records after
            // the header mean it was damaged later (a flipped length word): never
            // reported as an unfinished new log, which `repair` would remove.
            Err(damage @ (LogError::HeaderTruncated { .. } | LogError::HeaderCorrupt { .. })) => {
                return Err(header_damage::unless_records_follow(bytes, input, LOG_FIXED_LEN, damage)?);
            }
            Err(other) => return Err(other),
        };
        Ok(LogReader {
            input,
            header,
            offset: len as u64,
            next_seq: 0,
            chain: seed,
            events: 0,
            done: false,
            body: Vec::new(),
        })
    }

    /// Continues reading `input`, already positioned at `position.offset`: a snapshot's
    /// checkpoint (`Checkpoint::position`), or where a follower tailing a live log
    /// stopped ([`Self::position`]) at the end of what its writer had finished.
    #[must_use]
    pub fn resume(input: R, header: Header, position: Position) -> Self {
        let Position { offset, next_seq, events, chain } = position;
        LogReader { input, header, offset, next_seq, chain, events, done: false, body: Vec::new() }
    }

    /// Just past the last whole record read (the header before any).
    #[must_use]
    pub fn position(&self) -> Position {
        Position { offset: self.offset, next_seq: self.next_seq, events: self.events, chain: self.chain }
    }

    /// The header.
    #[must_use]
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The chain hash after the last record read (the header hash before any).
    #[must_use]
    pub fn chain_hash(&self) -> Hash32 {
        self.chain
    }

    /// Byte offset just past the last whole record read.
    #[must_use]
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Records read so far, checkpoints included (the next record's sequence number).
    #[must_use]
    pub fn records_read(&self) -> u64 {
        self.next_seq
    }

    /// Event records read so far.
    #[must_use]
    pub fn events_read(&self) -> u64 {
        self.events
    }

    /// Every record, events and checkpoints, in order; ends after the first error.
    pub fn entries(&mut self) -> impl Iterator<Item = Result<Entry, LogError>> + '_ {
        std::iter::from_fn(move || self.next_entry())
    }

    /// The next record of either kind.
    pub fn next_entry(&mut self) -> Option<Result<Entry, LogError>> {
        if self.done {
            return None;
        }
        let entry = self.read_entry().transpose();
        self.done = !matches!(entry, Some(Ok(_)));
        entry
    }

    fn torn(&self, dropped_bytes: u64) -> LogError {
        LogError::TornTail { last_whole_seq: self.next_seq.checked_sub(1), offset: self.offset, dropped_bytes }
    }

    /// `damage` found in the current record, whose bytes read are `before` bytes and then
    /// `bytes`, unless those end in zeros that run to the end of the file and either
    /// start the record or cover its chain hash: then it is a write cut short by a crash
    /// on a file system that zero-fills (ext4, xfs), a torn tail.
    fn unless_zero_tail(&mut self, before: u64, bytes: &[u8], damage: LogError) -> LogError {
        let zeros = bytes.iter().rev().take_while(|byte| **byte == 0).count() as u64;
        let read = before + bytes.len() as u64;
        match zeros_to_end(&mut self.input) {
            Ok(Some(rest)) if zeros == read || zeros + rest >= ZERO_TAIL_MIN => self.torn(read + rest),
            Ok(_) => damage,
            Err(error) => error.into(),
        }
    }

    /// Reads the next record's length words; the body length, or `None` at the end.
    fn read_prefix(&mut self) -> Result<Option<usize>, LogError> {
        let (seq, offset) = (self.next_seq, self.offset);
        let mut prefix = [0_u8; PREFIX_LEN];
        match read_full(&mut self.input, &mut prefix)? {
            0 => return Ok(None),
            PREFIX_LEN => {}
            partial => return Err(self.torn(partial as u64)),
        }
        let len = u32::from_le_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
        let check = u32::from_le_bytes([prefix[4], prefix[5], prefix[6], prefix[7]]);
        if check != !len {
            return Err(self.unless_zero_tail(0, &prefix, LogError::LengthCorrupt { seq, offset, len, check }));
        }
        if framed_len(&prefix).is_none() {
            let damage = LogError::LengthOutOfRange { seq, offset, len, min: MIN_BODY_LEN, max: MAX_BODY_LEN };
            return Err(self.unless_zero_tail(0, &prefix, damage));
        }
        Ok(Some(len as usize))
    }

    fn read_entry(&mut self) -> Result<Option<Entry>, LogError> {
        let (seq, offset) = (self.next_seq, self.offset);
        let Some(body_len) = self.read_prefix()? else { return Ok(None) };
        let mut record = std::mem::take(&mut self.body);
        record.resize(body_len + 32, 0);
        let got = read_full(&mut self.input, &mut record)?;
        if got < body_len + 32 {
            return Err(self.torn((PREFIX_LEN + got) as u64));
        }
        let checked = self.check_frame(seq, offset, &record);
        let entry = match checked {
            Ok(chain) => self.decode(seq, offset, &record, chain),
            Err(damage) => Err(self.unless_zero_tail(PREFIX_LEN as u64, &record, damage)),
        };
        self.body = record;
        entry.map(Some)
    }

    /// The next record's bytes (`body ‖ chain hash`) appended to `out`, framed but not
    /// verified: the length words, the whole record's presence and its sequence number
    /// are checked here (with the errors [`Self::next_entry`] gives for them), the chain
    /// hash and the decoding are left to [`verify_frame`], which may run on another
    /// thread. The reader moves past the record trusting its stored chain hash, so a
    /// caller must verify every frame, in order, before it trusts anything after it.
    pub(crate) fn next_frame(&mut self, out: &mut Vec<u8>) -> Option<Result<Frame, LogError>> {
        if self.done {
            return None;
        }
        let start = out.len();
        let framed = self.read_frame(out).transpose();
        if !matches!(framed, Some(Ok(_))) {
            out.truncate(start);
            self.done = true;
        }
        framed
    }

    fn read_frame(&mut self, out: &mut Vec<u8>) -> Result<Option<Frame>, LogError> {
        let (seq, offset) = (self.next_seq, self.offset);
        let Some(body_len) = self.read_prefix()? else { return Ok(None) };
        let start = out.len();
        out.resize(start + body_len + 32, 0);
        let record = &mut out[start..];
        let got = read_full(&mut self.input, record)?;
        if got < body_len + 32 {
            return Err(self.torn((PREFIX_LEN + got) as u64));
        }
        let found = body_seq(record);
        if found != seq {
            return Err(self.unless_zero_tail(
                PREFIX_LEN as u64,
                record,
                LogError::SeqMismatch { offset, expected: seq, found },
            ));
        }
        let event_len = u32::from_le_bytes([record[8], record[9], record[10], record[11]]);
        let checkpoint = event_len == CHECKPOINT_MARK && self.header.has_checkpoints();
        let mut stored = [0_u8; 32];
        stored.copy_from_slice(&record[body_len..]);
        let checkpoint_state =
            if checkpoint { decode_checkpoint(&record[..body_len]).map(|(state_hash, _)| state_hash) } else { None };
        let frame = Frame { seq, offset, start, body_len, prev: self.chain, events: self.events, checkpoint_state };
        self.chain = Hash32(stored);
        self.offset += (PREFIX_LEN + body_len + 32) as u64;
        self.next_seq += 1;
        if !checkpoint {
            self.events += 1;
        }
        Ok(Some(frame))
    }

    /// The sequence number and chain hash of a whole record (`body ‖ chain`); returns the
    /// chain hash.
    fn check_frame(&self, seq: u64, offset: u64, record: &[u8]) -> Result<Hash32, LogError> {
        let (body, stored) = record.split_at(record.len() - 32);
        let found = body_seq(body);
        if found != seq {
            return Err(LogError::SeqMismatch { offset, expected: seq, found });
        }
        let expected = chain_hash(&self.chain, body);
        let mut found_chain = [0_u8; 32];
        found_chain.copy_from_slice(stored);
        if expected.0 != found_chain {
            return Err(LogError::ChainBroken { seq, offset, expected, found: Hash32(found_chain) });
        }
        Ok(expected)
    }

    /// Decodes a record whose chain holds, and moves past it.
    fn decode(&mut self, seq: u64, offset: u64, record: &[u8], chain: Hash32) -> Result<Entry, LogError> {
        let body = &record[..record.len() - 32];
        let total = (PREFIX_LEN + record.len()) as u64;
        let checkpoints = self.header.has_checkpoints();
        let entry = match decode_body(checkpoints, seq, offset, body, self.events)? {
            Decoded::Checkpoint { state_hash, events } => {
                Entry::Checkpoint(Checkpoint { seq, offset, state_hash, events, chain })
            }
            Decoded::Event { event, effects, digest } => {
                self.events += 1;
                let effects_json = body[effects].to_vec();
                Entry::Event(Record { seq, offset, len: total, event, effects_json, effects_digest: digest, chain })
            }
        };
        self.chain = chain;
        self.offset += total;
        self.next_seq += 1;
        Ok(entry)
    }
}

/// A record framed by [`LogReader::next_frame`]: where its bytes are, and what verifying
/// it needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frame {
    /// Its sequence number.
    pub(crate) seq: u64,
    /// Byte offset of its first byte in its file.
    pub(crate) offset: u64,
    /// Where its body starts in the caller's buffer (the chain hash follows the body).
    pub(crate) start: usize,
    /// Its body's length.
    pub(crate) body_len: usize,
    /// The chain hash of the record before it (the chain seed before the first).
    pub(crate) prev: Hash32,
    /// Event records before it.
    pub(crate) events: u64,
    /// The state hash a checkpoint records (read from its bytes, not yet verified); `None`
    /// for an event record.
    pub(crate) checkpoint_state: Option<Hash32>,
}

impl Frame {
    /// Total bytes of the record.
    pub(crate) fn len(&self) -> u64 {
        (PREFIX_LEN + self.body_len + 32) as u64
    }

    /// The reading position just before it.
    pub(crate) fn position(&self) -> Position {
        Position { offset: self.offset, next_seq: self.seq, events: self.events, chain: self.prev }
    }
}

/// A verified record body, decoded.
// Returned at once and taken apart by the caller: the rare checkpoint's size does not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Decoded {
    /// A checkpoint's state hash and event count.
    Checkpoint { state_hash: Hash32, events: u64 },
    /// An event, where its effects JSON lies in the body, and their digest.
    Event { event: Event, effects: Range<usize>, digest: Hash32 },
}

/// Checks `frame`'s chain hash over its bytes in `bytes` and decodes it, with the errors
/// [`LogReader::next_entry`] gives, except that a chain hash that does not hold is always
/// [`LogError::ChainBroken`] here (the reader calls it a torn tail when zeros run from the
/// record to the end of the file): a caller that needs the exact error reads the record
/// again with a [`LogReader`] resumed at [`Frame::position`]. Returns the chain hash.
pub(crate) fn verify_frame(frame: &Frame, bytes: &[u8], checkpoints: bool) -> Result<(Decoded, Hash32), LogError> {
    let (seq, offset) = (frame.seq, frame.offset);
    let body = &bytes[frame.start..frame.start + frame.body_len];
    let mut stored = [0_u8; 32];
    stored.copy_from_slice(&bytes[frame.start + frame.body_len..frame.start + frame.body_len + 32]);
    let expected = chain_hash(&frame.prev, body);
    if expected.0 != stored {
        return Err(LogError::ChainBroken { seq, offset, expected, found: Hash32(stored) });
    }
    Ok((decode_body(checkpoints, seq, offset, body, frame.events)?, expected))
}

/// Decodes the body of record `seq` (at byte `offset`) whose chain hash holds, `events`
/// event records after the start of the log.
fn decode_body(checkpoints: bool, seq: u64, offset: u64, body: &[u8], events: u64) -> Result<Decoded, LogError> {
    let body_len = body.len();
    let event_len = u32::from_le_bytes([body[8], body[9], body[10], body[11]]);
    if event_len == CHECKPOINT_MARK && checkpoints {
        let invalid = |reason: String| LogError::CheckpointInvalid { seq, offset, reason };
        let (state_hash, found) = decode_checkpoint(body)
            .ok_or_else(|| invalid(format!("a body of {body_len} bytes, a checkpoint's has 52")))?;
        if found != events {
            return Err(invalid(format!("it counts {found} event records before it, the log has {events}")));
        }
        return Ok(Decoded::Checkpoint { state_hash, events });
    }
    // The chain held, so what follows was written this way; a failure now means the
    // writer's build encoded something this build cannot decode.
    let undecodable = |reason: String| LogError::EventUndecodable { seq, offset, reason };
    let effects_start = 12_usize.saturating_add(event_len as usize);
    if effects_start > body_len - 32 {
        return Err(undecodable(format!("event length {event_len} overruns the record")));
    }
    let event = codec::decode_event(&body[12..effects_start]).map_err(undecodable)?;
    let effects = effects_start..body_len - 32;
    let mut digest = [0_u8; 32];
    digest.copy_from_slice(&body[body_len - 32..]);
    // The chain hash covers the effects and their digest, so a digest that disagrees
    // with its effects here could only have been written that way; it is checked in
    // debug builds and by the damage tests, not on the hot path.
    if cfg!(debug_assertions) && effects_digest(&body[effects.clone()]).0 != digest {
        return Err(undecodable("the effects digest does not match the effects".to_owned()));
    }
    Ok(Decoded::Event { event, effects, digest: Hash32(digest) })
}

impl<R: Read> Iterator for LogReader<R> {
    type Item = Result<Record, LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.next_entry()? {
                Ok(Entry::Checkpoint(_)) => {}
                Ok(Entry::Event(record)) => return Some(Ok(record)),
                Err(error) => return Some(Err(error)),
            }
        }
    }
}

/// Reads `input` to its end; the number of bytes if all are zero, else `None`.
fn zeros_to_end(input: &mut impl Read) -> std::io::Result<Option<u64>> {
    let mut buf = vec![0_u8; 64 << 10];
    let mut total = 0_u64;
    loop {
        match read_full(input, &mut buf)? {
            0 => return Ok(Some(total)),
            n if buf[..n].iter().all(|byte| *byte == 0) => total += n as u64,
            _ => return Ok(None),
        }
    }
}
