//! Streaming, verifying reader: every record's length check, sequence number and chain
//! hash are checked before its event is decoded; the first damage ends the stream with
//! a typed error naming the record and byte offset. Iterating yields the event records
//! (checkpoints are verified and skipped); [`LogReader::entries`] yields both kinds.

use std::io::Read;

use machine::Hash32;

use super::codec;
use super::error::LogError;
use super::header::Header;
use super::record::{
    CHECKPOINT_MARK, Checkpoint, Entry, MAX_BODY_LEN, MIN_BODY_LEN, PREFIX_LEN, Position, Record, body_seq, chain_hash,
    decode_checkpoint, effects_digest, framed_len,
};

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
        let (header, len, seed) = Header::decode(&bytes)?;
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

    fn read_entry(&mut self) -> Result<Option<Entry>, LogError> {
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
        let body_len = len as usize;
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
        let body_len = record.len() - 32;
        let body = &record[..body_len];
        let total = (PREFIX_LEN + record.len()) as u64;
        let event_len = u32::from_le_bytes([body[8], body[9], body[10], body[11]]);
        let entry = if event_len == CHECKPOINT_MARK && self.header.has_checkpoints() {
            let invalid = |reason: String| LogError::CheckpointInvalid { seq, offset, reason };
            let (state_hash, events) = decode_checkpoint(body)
                .ok_or_else(|| invalid(format!("a body of {body_len} bytes, a checkpoint's has 52")))?;
            if events != self.events {
                return Err(invalid(format!(
                    "it counts {events} event records before it, the log has {}",
                    self.events
                )));
            }
            Entry::Checkpoint(Checkpoint { seq, offset, state_hash, events, chain })
        } else {
            // The chain held, so what follows was written this way; a failure now means
            // the writer's build encoded something this build cannot decode.
            let undecodable = |reason: String| LogError::EventUndecodable { seq, offset, reason };
            let effects_start = 12_usize.saturating_add(event_len as usize);
            if effects_start > body_len - 32 {
                return Err(undecodable(format!("event length {event_len} overruns the record")));
            }
            let event = codec::decode_event(&body[12..effects_start]).map_err(undecodable)?;
            let effects_json = body[effects_start..body_len - 32].to_vec();
            let mut digest = [0_u8; 32];
            digest.copy_from_slice(&body[body_len - 32..]);
            // The chain hash covers the effects and their digest, so a digest that
            // disagrees with its effects here could only have been written that way; it
            // is checked in debug builds and by the damage tests, not on the hot path.
            if cfg!(debug_assertions) && effects_digest(&effects_json).0 != digest {
                return Err(undecodable("the effects digest does not match the effects".to_owned()));
            }
            self.events += 1;
            Entry::Event(Record { seq, offset, len: total, event, effects_json, effects_digest: Hash32(digest), chain })
        };
        self.chain = chain;
        self.offset += total;
        self.next_seq += 1;
        Ok(entry)
    }
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
