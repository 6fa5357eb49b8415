//! The explorer's compact form of a (core state, world) pair, and the frontier of such
//! pairs kept as bytes.
//!
//! A live pair costs about 1.5 KB (`State` is 784 bytes inline plus its `Vec`s and map,
//! `World` 128 plus its `Vec`s, and a `Vec` of them doubles), so a frontier of live pairs
//! was most of `seqrec check`'s memory. Its rkyv archive (what `State::state_hash`
//! hashes) is no smaller, about 1.1 KB, but 86% of it is zero bytes, and its root object
//! (the config, the counters, the relative pointers) sits at the end, where it differs
//! little from one state to the next. So a state is stored as its archive XORed, aligned
//! at the end, with the archive of a reference state, then with its zero runs
//! run-length coded: about 120 bytes. The world is stored as its bincode encoding (a few
//! dozen bytes). The same bytes are hashed into the visited key, so one archive per
//! successor serves both the key and the frontier, and blake3 hashes ~170 bytes instead
//! of the whole archive.
//!
//! Every step of the encoding is injective (the archive determines the state, the XOR
//! with a fixed reference and the run-length code are invertible, the state part is
//! length-prefixed), so two pairs have the same bytes exactly when they are equal, as
//! with the earlier key (core `state_hash` plus the world's derived `Hash`).

use std::ops::ControlFlow;

use machine::State;
use rkyv::util::AlignedVec;

use super::world::World;

/// The visited key of a pair: the first 16 bytes of blake3 of its encoding.
pub(super) type Key = [u8; 16];

/// bincode 2's standard configuration (little-endian, variable-length integers).
const BINCODE: bincode::config::Configuration = bincode::config::standard();

/// Encodes and decodes pairs against a fixed reference archive.
pub(super) struct Codec {
    /// The archive of the reference state; it must not change during an exploration, or
    /// equal pairs would encode differently.
    reference: Vec<u8>,
    /// Scratch: the last archive written.
    archive: AlignedVec,
    /// Scratch: the last archive XORed with the reference.
    xored: Vec<u8>,
    /// Scratch: the last state part, run-length coded.
    coded: Vec<u8>,
}

impl Codec {
    /// A codec whose reference is `reference`'s archive.
    pub(super) fn new(reference: &State) -> Self {
        let mut codec =
            Codec { reference: Vec::new(), archive: AlignedVec::new(), xored: Vec::new(), coded: Vec::new() };
        codec.archive(reference);
        codec.reference = codec.archive.to_vec();
        codec
    }

    /// Writes `state`'s rkyv archive into the scratch buffer, reusing its allocation.
    fn archive(&mut self, state: &State) {
        let mut buffer = std::mem::take(&mut self.archive);
        buffer.clear();
        // Archiving plain owned data into a growable buffer cannot fail (as in
        // `State::state_hash`); an empty archive would only make decoding fail loudly.
        self.archive = rkyv::api::high::to_bytes_in::<_, rkyv::rancor::Error>(state, buffer).unwrap_or_default();
    }

    /// Appends the state part of a pair: the length of the coded archive, then the archive
    /// XORed with the reference (aligned at the end) and run-length coded.
    pub(super) fn encode_state(&mut self, state: &State, out: &mut Vec<u8>) {
        self.archive(state);
        self.xored.clear();
        self.xored.extend_from_slice(&self.archive);
        xor_at_end(&mut self.xored, &self.reference);
        self.coded.clear();
        zero_runs(&self.xored, &mut self.coded);
        varint(out, self.coded.len() as u64);
        out.extend_from_slice(&self.coded);
    }

    /// Appends the world part of a pair.
    pub(super) fn encode_world(world: &World, out: &mut Vec<u8>) {
        // Encoding plain owned data into a `Vec` cannot fail.
        let _ = bincode::encode_into_std_write(world, out, BINCODE);
    }

    /// Appends the whole encoding of a pair.
    pub(super) fn encode(&mut self, state: &State, world: &World, out: &mut Vec<u8>) {
        self.encode_state(state, out);
        Codec::encode_world(world, out);
    }

    /// The pair back from its encoding; `None` if the bytes are not one (a bug).
    pub(super) fn decode(&self, bytes: &[u8]) -> Option<(State, World)> {
        let state_part = state_part(bytes)?;
        let (coded_len, after) = read_varint(bytes)?;
        let coded = after.get(..usize::try_from(coded_len).ok()?)?;
        let world_bytes = &bytes[state_part.len()..];
        let mut archive = AlignedVec::<16>::new();
        unzero_runs(coded, &mut archive)?;
        xor_at_end(&mut archive, &self.reference);
        let state = rkyv::from_bytes::<State, rkyv::rancor::Error>(&archive).ok()?;
        let (world, used) = bincode::decode_from_slice::<World, _>(world_bytes, BINCODE).ok()?;
        (used == world_bytes.len()).then_some((state, world))
    }
}

/// The state part of an encoded pair (its length prefix included), to reuse when a move
/// changes only the world.
pub(super) fn state_part(bytes: &[u8]) -> Option<&[u8]> {
    let (coded_len, after) = read_varint(bytes)?;
    let end = bytes.len() - after.len() + usize::try_from(coded_len).ok()?;
    bytes.get(..end)
}

/// The visited key of an encoded pair.
pub(super) fn key(bytes: &[u8]) -> Key {
    let mut key = [0_u8; 16];
    key.copy_from_slice(&blake3::hash(bytes).as_bytes()[..16]);
    key
}

/// A `Hasher` for the visited set: the key is already a uniform hash, so folding its
/// bytes into a word is enough (no SipHash over it).
#[derive(Default)]
pub(super) struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }
}

/// The visited set: keys, hashed by [`KeyHasher`].
pub(super) type Seen = std::collections::HashSet<Key, std::hash::BuildHasherDefault<KeyHasher>>;

/// XORs `bytes` with `reference`, the two aligned at their ends (where rkyv puts the
/// root object).
fn xor_at_end(bytes: &mut [u8], reference: &[u8]) {
    let common = bytes.len().min(reference.len());
    let (from, reference_from) = (bytes.len() - common, reference.len() - common);
    for (byte, reference) in bytes[from..].iter_mut().zip(&reference[reference_from..]) {
        *byte ^= reference;
    }
}

/// Runs of literal bytes and of zero bytes: (literal count, the literals, zero count),
/// counts as LEB128. A lone zero stays a literal.
fn zero_runs(bytes: &[u8], out: &mut Vec<u8>) {
    let n = bytes.len();
    let mut i = 0;
    while i < n {
        let literals = i;
        // The literals end where two zeros start (or at the end).
        loop {
            let Some(at) = bytes[i..].iter().position(|&byte| byte == 0) else {
                i = n;
                break;
            };
            i += at;
            if bytes.get(i + 1) == Some(&0) {
                break;
            }
            i = (i + 1).min(n);
        }
        let zeros = i;
        // Most of an archive is zeros: skip them a word at a time.
        while let Some(word) = bytes.get(i..i + 8).and_then(|word| <[u8; 8]>::try_from(word).ok())
            && u64::from_ne_bytes(word) == 0
        {
            i += 8;
        }
        i += bytes[i..].iter().position(|&byte| byte != 0).unwrap_or(n - i);
        varint(out, (zeros - literals) as u64);
        out.extend_from_slice(&bytes[literals..zeros]);
        varint(out, (i - zeros) as u64);
    }
}

/// The inverse of [`zero_runs`]; `None` on malformed input.
fn unzero_runs(mut coded: &[u8], out: &mut AlignedVec<16>) -> Option<()> {
    while !coded.is_empty() {
        let (literals, rest) = read_varint(coded)?;
        let literals = usize::try_from(literals).ok()?;
        out.extend_from_slice(rest.get(..literals)?);
        let (zeros, rest) = read_varint(rest.get(literals..)?)?;
        out.resize(out.len() + usize::try_from(zeros).ok()?, 0);
        coded = rest;
    }
    Some(())
}

fn varint(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let low = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

fn read_varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0_u64;
    for (i, &byte) in bytes.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, &bytes[i + 1..]));
        }
    }
    None
}

/// The states of one depth, encoded, in the order they were found: records of (id, the
/// encoding's length, the encoding) in chunks of about [`CHUNK`] bytes, so the buffer
/// never doubles or moves.
#[derive(Default)]
pub(super) struct Frontier {
    chunks: Vec<Vec<u8>>,
    len: usize,
}

/// The size of one chunk of a [`Frontier`].
const CHUNK: usize = 1 << 20;

impl Frontier {
    /// Appends the record of `id`.
    pub(super) fn push(&mut self, id: u32, bytes: &[u8]) {
        let record = 8 + bytes.len();
        let room = self.chunks.last().is_some_and(|chunk| chunk.capacity() - chunk.len() >= record);
        if !room {
            self.chunks.push(Vec::with_capacity(CHUNK.max(record)));
        }
        if let Some(chunk) = self.chunks.last_mut() {
            chunk.extend_from_slice(&id.to_le_bytes());
            chunk.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_le_bytes());
            chunk.extend_from_slice(bytes);
        }
        self.len += 1;
    }

    /// Whether there is no record.
    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The records in order: (id, encoding).
    #[cfg(test)]
    fn iter(&self) -> impl Iterator<Item = (u32, &[u8])> {
        self.chunks.iter().flat_map(|chunk| Records(chunk.as_slice()))
    }

    /// Gives the records to `each` in order, freeing each chunk once read, so a depth's
    /// frontier shrinks while the next one grows.
    pub(super) fn drain<B>(self, mut each: impl FnMut(u32, &[u8]) -> ControlFlow<B>) -> ControlFlow<B> {
        for chunk in self.chunks {
            for (id, bytes) in Records(&chunk) {
                each(id, bytes)?;
            }
        }
        ControlFlow::Continue(())
    }
}

struct Records<'a>(&'a [u8]);

impl<'a> Iterator for Records<'a> {
    type Item = (u32, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let id = u32::from_le_bytes(self.0.get(..4)?.try_into().ok()?);
        let len = usize::try_from(u32::from_le_bytes(self.0.get(4..8)?.try_into().ok()?)).ok()?;
        let bytes = self.0.get(8..8 + len)?;
        self.0 = &self.0[8 + len..];
        Some((id, bytes))
    }
}

#[cfg(test)]
mod tests {
    use machine::drive::Driver;

    use super::*;
    use crate::check::{Bounds, Features, boot_event};

    /// Every pair of a small scope decodes to itself, and equal pairs have equal bytes.
    #[test]
    fn every_pair_of_a_small_scope_round_trips() {
        let bounds = Bounds { batches: 1, crashes: 1, faults: 1, unsafe_blocks: 1, features: Features::all() };
        let boot = boot_event().expect("the built-in boot config parses");
        let mut booted = Driver::new(State::new());
        let _ = booted.step(&boot);
        let mut codec = Codec::new(booted.state());
        let mut pairs = vec![(State::new(), World::new())];
        let mut checked = 0;
        for _level in 0..8 {
            let mut next = Vec::new();
            for (state, world) in &pairs {
                for chosen in world.moves(&bounds) {
                    let mut world = world.clone();
                    let mut driver = Driver::new(state.clone());
                    if let Some(event) = world.event(&chosen, &boot, &bounds) {
                        let stepped = driver.step(&event);
                        world.absorb(&stepped.step.effects, &bounds);
                    }
                    next.push((driver.into_state(), world));
                }
            }
            for (state, world) in &next {
                let mut bytes = Vec::new();
                codec.encode(state, world, &mut bytes);
                let (decoded_state, decoded_world) = codec.decode(&bytes).expect("decodes");
                assert_eq!(&decoded_state, state);
                assert_eq!(&decoded_world, world);
                let mut again = Vec::new();
                codec.encode(&decoded_state, &decoded_world, &mut again);
                assert_eq!(again, bytes);
                let mut state_only = Vec::new();
                codec.encode_state(state, &mut state_only);
                assert_eq!(state_part(&bytes), Some(state_only.as_slice()));
                checked += 1;
            }
            next.truncate(400);
            pairs = next;
        }
        assert!(checked > 1000, "{checked}");
    }

    #[test]
    fn a_frontier_gives_back_its_records_in_order() {
        let mut frontier = Frontier::default();
        let records: Vec<(u32, Vec<u8>)> = (0..5000_u32).map(|i| (i, vec![7; (i % 700) as usize])).collect();
        for (id, bytes) in &records {
            frontier.push(*id, bytes);
        }
        assert_eq!(frontier.len, records.len());
        let back: Vec<(u32, Vec<u8>)> = frontier.iter().map(|(id, bytes)| (id, bytes.to_vec())).collect();
        assert_eq!(back, records);
    }
}
