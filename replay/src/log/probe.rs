//! Records found by their offset, without reading the log from its start: a snapshot's
//! checkpoint, and `repair`'s search for whole records after what reads as a torn tail.
//! A record found this way verifies by its chain hash over the 32 bytes before it.

use std::io::{Read, Seek, SeekFrom};

use machine::Hash32;

use super::reader::read_full;
use super::record::{
    CHECKPOINT_RECORD_LEN, Checkpoint, PREFIX_LEN, body_seq, chain_hash, decode_checkpoint, framed_len,
};

/// The body and chain hash of the record at `offset`, if its length words hold and its
/// chain hash is blake3 of the 32 bytes before it (its predecessor's chain hash) and its
/// body: a record that verifies without the log being read from its start.
///
/// # Errors
/// I/O errors.
pub(crate) fn verified_record_at(
    log: &mut (impl Read + Seek),
    offset: u64,
) -> std::io::Result<Option<(Vec<u8>, Hash32)>> {
    let Some(start) = offset.checked_sub(32) else { return Ok(None) };
    log.seek(SeekFrom::Start(start))?;
    let mut head = [0_u8; 32 + PREFIX_LEN];
    if read_full(log, &mut head)? < head.len() {
        return Ok(None);
    }
    let Some(body_len) = framed_len(&head[32..]) else { return Ok(None) };
    let body_len = body_len as usize;
    let mut record = vec![0_u8; body_len + 32];
    if read_full(log, &mut record)? < record.len() {
        return Ok(None);
    }
    let mut previous = [0_u8; 32];
    previous.copy_from_slice(&head[..32]);
    let chain = chain_hash(&Hash32(previous), &record[..body_len]);
    if chain.0.as_slice() != &record[body_len..] {
        return Ok(None);
    }
    record.truncate(body_len);
    Ok(Some((record, chain)))
}

/// The checkpoint record that ends exactly at byte `end` of a log, if one does and it
/// verifies ([`verified_record_at`]). A snapshot is trusted only at such a record.
///
/// # Errors
/// I/O errors.
pub fn checkpoint_ending_at(log: &mut (impl Read + Seek), end: u64) -> std::io::Result<Option<Checkpoint>> {
    let Some(offset) = end.checked_sub(CHECKPOINT_RECORD_LEN as u64) else { return Ok(None) };
    let Some((body, chain)) = verified_record_at(log, offset)? else { return Ok(None) };
    let Some((state_hash, events)) = decode_checkpoint(&body) else { return Ok(None) };
    Ok(Some(Checkpoint { seq: body_seq(&body), offset, state_hash, events, chain }))
}
