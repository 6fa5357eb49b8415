//! Streaming, verifying reader: every record's length check, sequence number and chain
//! hash are checked before its event is decoded; the first damage ends the stream with
//! a typed error naming the record and byte offset.

use std::io::Read;

use machine::Hash32;

use super::codec;
use super::error::LogError;
use super::header::Header;
use super::record::{MAX_BODY_LEN, MIN_BODY_LEN, PREFIX_LEN, Record, chain_hash, effects_digest};

/// Reads a log record by record.
#[derive(Debug)]
pub struct LogReader<R> {
    input: R,
    header: Header,
    offset: u64,
    next_seq: u64,
    chain: Hash32,
    done: bool,
    body: Vec<u8>,
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
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
        if got < 12 {
            Header::decode(&fixed[..got])?;
        }
        let build_len = usize::from(u16::from_le_bytes([fixed[10], fixed[11]]));
        let mut bytes = fixed.to_vec();
        bytes.resize(12 + build_len + 64, 0);
        let got_rest = read_full(&mut input, &mut bytes[12..])?;
        bytes.truncate(12 + got_rest);
        let (header, len, seed) = Header::decode(&bytes)?;
        Ok(LogReader { input, header, offset: len as u64, next_seq: 0, chain: seed, done: false, body: Vec::new() })
    }

    /// Continues reading `input`, positioned at `offset` just past record
    /// `next_seq - 1` whose chain hash is `chain` (a snapshot's resume point).
    #[must_use]
    pub fn resume(input: R, header: Header, offset: u64, next_seq: u64, chain: Hash32) -> Self {
        LogReader { input, header, offset, next_seq, chain, done: false, body: Vec::new() }
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

    /// Records read so far.
    #[must_use]
    pub fn records_read(&self) -> u64 {
        self.next_seq
    }

    fn torn(&self, dropped_bytes: usize) -> LogError {
        LogError::TornTail {
            last_whole_seq: self.next_seq.checked_sub(1),
            offset: self.offset,
            dropped_bytes: dropped_bytes as u64,
        }
    }

    fn read_record(&mut self) -> Result<Option<Record>, LogError> {
        let (seq, offset) = (self.next_seq, self.offset);
        let mut prefix = [0_u8; PREFIX_LEN];
        match read_full(&mut self.input, &mut prefix)? {
            0 => return Ok(None),
            PREFIX_LEN => {}
            partial => return Err(self.torn(partial)),
        }
        let len = u32::from_le_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
        let check = u32::from_le_bytes([prefix[4], prefix[5], prefix[6], prefix[7]]);
        if check != !len {
            return Err(LogError::LengthCorrupt { seq, offset, len, check });
        }
        if !(MIN_BODY_LEN..=MAX_BODY_LEN).contains(&len) {
            return Err(LogError::LengthOutOfRange { seq, offset, len, min: MIN_BODY_LEN, max: MAX_BODY_LEN });
        }
        let body_len = len as usize;
        self.body.resize(body_len + 32, 0);
        let got = read_full(&mut self.input, &mut self.body)?;
        if got < body_len + 32 {
            return Err(self.torn(PREFIX_LEN + got));
        }
        let (body, stored) = self.body.split_at(body_len);
        let mut seq_bytes = [0_u8; 8];
        seq_bytes.copy_from_slice(&body[..8]);
        let found = u64::from_le_bytes(seq_bytes);
        if found != seq {
            return Err(LogError::SeqMismatch { offset, expected: seq, found });
        }
        let expected = chain_hash(&self.chain, body);
        let mut found_chain = [0_u8; 32];
        found_chain.copy_from_slice(stored);
        if expected.0 != found_chain {
            return Err(LogError::ChainBroken { seq, offset, expected, found: Hash32(found_chain) });
        }
        // The chain held, so what follows was written this way; a failure now means the
        // writer's build encoded something this build cannot decode.
        let undecodable = |reason: String| LogError::EventUndecodable { seq, offset, reason };
        let event_len = u32::from_le_bytes([body[8], body[9], body[10], body[11]]) as usize;
        let effects_start = 12_usize.saturating_add(event_len);
        if effects_start > body_len - 32 {
            return Err(undecodable(format!("event length {event_len} overruns the record")));
        }
        let event = codec::decode_event(&body[12..effects_start]).map_err(undecodable)?;
        let effects_json = body[effects_start..body_len - 32].to_vec();
        let mut digest = [0_u8; 32];
        digest.copy_from_slice(&body[body_len - 32..]);
        // The chain hash covers the effects and their digest, so a digest that disagrees
        // with its effects here could only have been written that way; it is checked in
        // debug builds and by the damage tests, not on the replay hot path.
        debug_assert_eq!(effects_digest(&effects_json).0, digest, "record {seq}: effects digest");
        let total = (PREFIX_LEN + body_len + 32) as u64;
        self.chain = expected;
        self.offset += total;
        self.next_seq += 1;
        Ok(Some(Record {
            seq,
            offset,
            len: total,
            event,
            effects_json,
            effects_digest: Hash32(digest),
            chain: expected,
        }))
    }
}

impl<R: Read> Iterator for LogReader<R> {
    type Item = Result<Record, LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.read_record() {
            Ok(Some(record)) => Some(Ok(record)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(error) => {
                self.done = true;
                Some(Err(error))
            }
        }
    }
}
