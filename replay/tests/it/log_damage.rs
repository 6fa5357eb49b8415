//! Damage to a log is always a typed error at the right record and byte offset, and
//! every whole record before the damage is still returned.

use std::io::Cursor;
use std::path::PathBuf;

use proptest::prelude::*;
use replay::log::{FsyncPolicy, Header, LogError, LogReader, LogWriter, Record, repair};

/// A log of the nonce-poisoning scenario, written to a fresh file; returns its bytes.
fn sample_log(name: &str) -> (PathBuf, Vec<u8>) {
    let dir = std::env::temp_dir().join(format!("seqrec-damage-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sample.seqlog");
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/scripts/nonce-poisoning.jsonl"))
            .unwrap();
    let script = replay::script::parse(&text).unwrap();
    let mut writer =
        LogWriter::create(&path, &Header::new(machine::Hash32::default()), FsyncPolicy::EveryRecord).unwrap();
    let mut state = machine::State::new();
    for (_, event) in &script.events {
        let (next, step) = machine::step(state, event);
        state = next;
        writer.append(event, &step.effects).unwrap();
    }
    drop(writer);
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

/// Reads `bytes`; returns the whole records and the error that ended the stream.
fn read(bytes: &[u8]) -> (Vec<Record>, Option<LogError>) {
    let reader = match LogReader::new(Cursor::new(bytes)) {
        Ok(reader) => reader,
        Err(error) => return (Vec::new(), Some(error)),
    };
    let mut records = Vec::new();
    for item in reader {
        match item {
            Ok(record) => records.push(record),
            Err(error) => return (records, Some(error)),
        }
    }
    (records, None)
}

#[test]
fn a_whole_log_reads_back() {
    let (_, bytes) = sample_log("whole");
    let (records, error) = read(&bytes);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(records.len(), 30);
    assert!(records.iter().enumerate().all(|(i, r)| r.seq == i as u64));
}

#[test]
fn flipping_any_byte_of_a_record_names_that_record() {
    let (_, bytes) = sample_log("flip");
    let (records, _) = read(&bytes);
    let target = &records[7];
    let (start, len) = (usize::try_from(target.offset).unwrap(), usize::try_from(target.len).unwrap());
    for at in start..start + len {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x01;
        let (whole, error) = read(&damaged);
        assert_eq!(whole.len(), 7, "byte {at}: the 7 records before the damage are kept");
        assert_eq!(whole, records[..7], "byte {at}");
        let field = at - start;
        let error = error.unwrap_or_else(|| panic!("byte {at}: damage not detected"));
        match (field, &error) {
            (0..=7, LogError::LengthCorrupt { seq: 7, offset, .. }) if *offset == target.offset => {}
            (8..=15, LogError::SeqMismatch { offset, expected: 7, found })
                if *offset == target.offset && *found == 7 ^ (1_u64 << (8 * (field - 8))) => {}
            (16.., LogError::ChainBroken { seq: 7, offset, .. }) if *offset == target.offset => {}
            _ => panic!("byte {at} (field offset {field}): unexpected {error:?}"),
        }
        assert!(error.to_string().contains(&format!("byte {}", target.offset)), "{error}");
    }
}

#[test]
fn a_cut_anywhere_in_the_last_record_is_a_torn_tail_that_repair_truncates() {
    let (path, bytes) = sample_log("cut");
    let (records, _) = read(&bytes);
    let last = records.last().unwrap();
    let start = usize::try_from(last.offset).unwrap();
    for cut in start + 1..bytes.len() {
        let (whole, error) = read(&bytes[..cut]);
        assert_eq!(whole, records[..records.len() - 1], "cut at {cut}");
        match error {
            Some(LogError::TornTail { last_whole_seq: Some(28), offset, dropped_bytes })
                if offset == last.offset && dropped_bytes == (cut - start) as u64 => {}
            other => panic!("cut at {cut}: unexpected {other:?}"),
        }
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let repaired = repair(&path).unwrap();
        assert_eq!((repaired.records, repaired.dropped_bytes), (29, (cut - start) as u64));
        assert_eq!(std::fs::read(&path).unwrap(), bytes[..start], "cut at {cut}: repair keeps every whole record");
    }
    // A cut exactly at a record boundary is a whole, shorter log.
    assert!(read(&bytes[..start]).1.is_none());
}

#[test]
fn swapped_records_are_a_sequence_mismatch() {
    let (_, bytes) = sample_log("swap");
    let (records, _) = read(&bytes);
    let (a, b) = (&records[3], &records[4]);
    let (a_start, b_start) = (usize::try_from(a.offset).unwrap(), usize::try_from(b.offset).unwrap());
    let b_end = b_start + usize::try_from(b.len).unwrap();
    let mut swapped = bytes[..a_start].to_vec();
    swapped.extend_from_slice(&bytes[b_start..b_end]);
    swapped.extend_from_slice(&bytes[a_start..b_start]);
    swapped.extend_from_slice(&bytes[b_end..]);
    let (whole, error) = read(&swapped);
    assert_eq!(whole, records[..3]);
    assert!(
        matches!(error, Some(LogError::SeqMismatch { offset, expected: 3, found: 4 }) if offset == a.offset),
        "{error:?}"
    );
}

#[test]
fn header_damage_is_named() {
    let (_, bytes) = sample_log("header");
    let mut newer = bytes.clone();
    newer[8] = 3;
    assert!(matches!(read(&newer).1, Some(LogError::UnsupportedVersion { found: 3, supported: 2 })));
    let mut foreign = bytes.clone();
    foreign[0] = b'X';
    assert!(matches!(read(&foreign).1, Some(LogError::NotALog { .. })));
    let mut altered = bytes.clone();
    altered[14] ^= 0x20; // a byte of the build identity
    // Whole records follow the header: damage, not an unfinished log (issue 18, item 7).
    let damaged = read(&altered).1;
    assert!(matches!(damaged, Some(LogError::HeaderDamaged { first_offset: 88, records: 30, .. })), "{damaged:?}");
    assert!(matches!(read(&altered[..88]).1, Some(LogError::HeaderCorrupt { len: 88 })));
    assert!(matches!(read(&bytes[..20]).1, Some(LogError::HeaderTruncated { found: 20, .. })));
    assert!(matches!(read(&bytes[..5]).1, Some(LogError::HeaderTruncated { found: 5, .. })));
    assert!(matches!(read(b"{\"ev\":\"boot\"}").1, Some(LogError::NotALog { .. })));
}

#[test]
fn appending_continues_the_chain_and_refuses_a_torn_tail() {
    let (path, bytes) = sample_log("append");
    let mut writer = LogWriter::open_append(&path, FsyncPolicy::EveryRecord).unwrap();
    assert_eq!(writer.next_seq(), 30);
    writer.append(&machine::Event::Shutdown, &[]).unwrap();
    drop(writer);
    let (records, error) = read(&std::fs::read(&path).unwrap());
    assert!(error.is_none() && records.len() == 31, "{error:?}");
    std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
    assert!(matches!(LogWriter::open_append(&path, FsyncPolicy::EveryRecord), Err(LogError::TornTail { .. })));
    assert!(
        LogWriter::create(&path, &Header::new(machine::Hash32::default()), FsyncPolicy::EveryRecord).is_err(),
        "create never overwrites"
    );
}

#[test]
fn repair_refuses_damage_that_is_not_a_torn_tail() {
    let (path, mut bytes) = sample_log("refuse");
    let (records, _) = read(&bytes);
    let at = usize::try_from(records[10].offset).unwrap() + 30;
    bytes[at] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(repair(&path), Err(LogError::NotRepairable(_))));
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "a refused repair changes nothing");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Random damage anywhere never panics the reader, and every record it returns is
    /// one of the original records, in order.
    #[test]
    fn random_damage_never_panics(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4), cut in any::<prop::sample::Index>()) {
        let (_, bytes) = SAMPLE.with(Clone::clone);
        let mut damaged = bytes.clone();
        for (index, mask) in flips {
            let at = index.index(damaged.len());
            damaged[at] ^= mask | 1;
        }
        damaged.truncate(cut.index(damaged.len() + 1));
        let (original, _) = read(&bytes);
        let (whole, _) = read(&damaged);
        prop_assert!(whole.len() <= original.len());
        prop_assert_eq!(&whole[..], &original[..whole.len()]);
    }
}

thread_local! {
    static SAMPLE: (PathBuf, Vec<u8>) = sample_log("prop");
}

/// Writes `bytes` to `path`, then asserts every way in is refused with `HeaderDamaged`
/// naming the first record's byte and how many whole records follow, and that nothing
/// (`repair`, `open`, `open_append`) removes, truncates or re-initialises the file.
fn assert_header_damage_refused(path: &std::path::Path, bytes: &[u8], at: &str, first: (u64, u64), records: u64) {
    std::fs::write(path, bytes).unwrap();
    let error = read(bytes).1.unwrap_or_else(|| panic!("{at}: damage not detected"));
    match &error {
        LogError::HeaderDamaged { first_offset, first_seq, records: found, .. }
            if (*first_offset, *first_seq, *found) == (first.0, first.1, records) => {}
        other => panic!("{at}: unexpected {other:?}"),
    }
    let message = error.to_string();
    let follow = format!("{records} whole records follow from byte {}", first.0);
    assert!(message.contains(&follow) && message.contains("nothing was removed"), "{at}: {message}");
    assert!(!message.contains("removes it") && !message.contains("unfinished new log:"), "{at}: {message}");
    let refused = repair(path).unwrap_err();
    assert!(matches!(refused, LogError::HeaderDamaged { .. }), "{at}: repair gave {refused:?}");
    assert_eq!(std::fs::read(path).unwrap(), bytes, "{at}: a refused repair changes nothing");
    let header = Header::new(machine::Hash32::default());
    let lock = replay::log::LogLock::acquire(path).unwrap();
    assert!(matches!(LogWriter::open(lock, &header, FsyncPolicy::EveryRecord), Err(LogError::HeaderDamaged { .. })));
    assert!(matches!(LogWriter::open_append(path, FsyncPolicy::EveryRecord), Err(LogError::HeaderDamaged { .. })));
    assert_eq!(std::fs::read(path).unwrap(), bytes, "{at}: opening for append changes nothing");
}

#[test]
fn a_flipped_or_forged_header_length_word_is_refused_and_nothing_is_removed() {
    let (path, bytes) = sample_log("header-length");
    let header_len = 88; // `seqrec 0.0.0`: 12 + 12 + 32 + 32
    assert_eq!(u16::from_le_bytes([bytes[10], bytes[11]]), 12);
    let flips = (0..16).map(|bit| 12_u16 ^ (1 << bit));
    for word in flips.chain([u16::MAX, 0, 13, 4_000]) {
        let mut damaged = bytes.clone();
        damaged[10..12].copy_from_slice(&word.to_le_bytes());
        let at = format!("length word {word}");
        assert_header_damage_refused(&path, &damaged, &at, (header_len, 0), 30);
        let message = read(&damaged).1.unwrap().to_string();
        assert!(
            message.contains(&format!(
                "the build-identity length at byte 10 reads {word}, where the records put 12 (with that value the header's hash holds: only that word is damaged)"
            )),
            "{at}: {message}"
        );
    }
}

#[test]
fn no_byte_of_a_damaged_header_makes_a_log_with_records_removable() {
    let (path, bytes) = sample_log("header-any-byte");
    for at in 0..88 {
        for mask in [0x01, 0x80, 0xff] {
            let mut damaged = bytes.clone();
            damaged[at] ^= mask;
            let label = format!("byte {at} ^ {mask:#04x}");
            match at {
                0..=7 => assert!(matches!(read(&damaged).1, Some(LogError::NotALog { .. })), "{label}"),
                8..=9 => assert!(matches!(read(&damaged).1, Some(LogError::UnsupportedVersion { .. })), "{label}"),
                // The header hash is record 0's chain seed: record 1 is the first that verifies.
                56.. => assert_header_damage_refused(&path, &damaged, &label, (bytes_of_record(&bytes, 1), 1), 29),
                _ => assert_header_damage_refused(&path, &damaged, &label, (88, 0), 30),
            }
            std::fs::write(&path, &damaged).unwrap();
            assert!(repair(&path).is_err(), "{label}");
            assert_eq!(std::fs::read(&path).unwrap(), damaged, "{label}: nothing removed");
        }
    }
}

/// The byte offset of record `seq` of the whole log `bytes`.
fn bytes_of_record(bytes: &[u8], seq: usize) -> u64 {
    read(bytes).0[seq].offset
}

#[test]
fn a_forged_header_length_on_a_log_longer_than_any_header_is_refused() {
    // A log longer than the longest header (65,611 bytes): the forged length reads as a
    // hash mismatch, not a cut header, and the first record is longer than the scan's
    // first read.
    let (path, _) = sample_log("header-long");
    let mut writer = LogWriter::open_append(&path, FsyncPolicy::EveryRecord).unwrap();
    for i in 0..3_u8 {
        let seal = machine::Event::Seal(machine::event::Seal { id: None, payload: machine::Bytes(vec![i; 40 << 10]) });
        writer.append(&seal, &[]).unwrap();
    }
    drop(writer);
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 100_000);
    for word in [12 ^ 0x8000, u16::MAX, 12 ^ 0x0100] {
        let mut damaged = bytes.clone();
        damaged[10..12].copy_from_slice(&word.to_le_bytes());
        assert_header_damage_refused(&path, &damaged, &format!("length word {word}"), (88, 0), 33);
    }
}

#[test]
fn a_truly_unfinished_new_log_is_still_removed_by_repair() {
    let (path, bytes) = sample_log("header-unfinished");
    let header = &bytes[..88];
    let mut forged = header[..40].to_vec();
    forged[10..12].copy_from_slice(&u16::MAX.to_le_bytes());
    let cuts = (1..88).map(|cut| header[..cut].to_vec());
    for unfinished in cuts.chain([forged, Vec::new(), vec![0; 500]]) {
        let error = read(&unfinished).1.unwrap();
        assert!(
            matches!(error, LogError::Empty | LogError::ZeroFilled { .. } | LogError::HeaderTruncated { .. }),
            "{} bytes: {error:?}",
            unfinished.len()
        );
        assert!(error.to_string().contains("`seqrec repair` removes it"), "{error}");
        std::fs::write(&path, &unfinished).unwrap();
        let repaired = repair(&path).unwrap();
        assert!(repaired.removed && !path.exists(), "{} bytes: {repaired:?}", unfinished.len());
    }
    // A cut inside record 0 with a forged length word holds no whole record either.
    let mut torn = bytes[..120].to_vec();
    torn[10..12].copy_from_slice(&u16::MAX.to_le_bytes());
    std::fs::write(&path, &torn).unwrap();
    assert!(repair(&path).unwrap().removed);
}
