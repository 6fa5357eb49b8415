//! `repair` truncates only a tail that is truly torn: a forged or damaged length word in
//! the middle never makes it drop whole records, and a zero-filled tail (a crash on ext4
//! or xfs) is torn, not corrupt (FORMAT.md "Torn tails and unfinished new logs").

use std::path::PathBuf;

use replay::log::{LogError, MAX_BODY_LEN, repair};

use super::support::{entries, offsets, scratch, script_events, write_log};

/// A log of 300 records (the nonce-poisoning script ten times over), its bytes, and
/// where each record starts.
fn long_log(name: &str) -> (PathBuf, Vec<u8>, Vec<u64>) {
    let path = scratch(name).join("long.seqlog");
    let events: Vec<_> = std::iter::repeat_n(script_events("nonce-poisoning"), 10).flatten().collect();
    let bytes = write_log(&path, &events, 0);
    let starts = offsets(&bytes);
    assert_eq!(starts.len(), 300);
    (path, bytes, starts)
}

fn at(offset: u64) -> usize {
    usize::try_from(offset).unwrap()
}

#[test]
fn a_forged_length_in_the_middle_is_refused_not_truncated() {
    let (path, bytes, starts) = long_log("forged");
    for seq in [0, 10, 150, 298] {
        let offset = starts[seq];
        // A consistent length pair that runs past the end: to the reader, a torn tail.
        let claimed = u32::try_from(bytes.len()).unwrap().min(MAX_BODY_LEN);
        let mut forged = bytes.clone();
        forged[at(offset)..at(offset) + 4].copy_from_slice(&claimed.to_le_bytes());
        forged[at(offset) + 4..at(offset) + 8].copy_from_slice(&(!claimed).to_le_bytes());
        let (whole, error) = entries(&forged);
        assert_eq!(whole.len(), seq);
        assert!(matches!(error, Some(LogError::TornTail { offset: torn, .. }) if torn == offset), "{error:?}");
        std::fs::write(&path, &forged).unwrap();
        let error = repair(&path).unwrap_err();
        let expected = (seq as u64, offset, seq as u64 + 1, starts[seq + 1]);
        assert!(
            matches!(error, LogError::CorruptionInMiddle { seq, offset, later_seq, later_offset }
                if (seq, offset, later_seq, later_offset) == expected),
            "record {seq}: {error:?}"
        );
        let message = error.to_string();
        assert!(message.contains(&format!("record {seq} at byte {offset}")), "{message}");
        assert!(message.contains("corruption is in the middle"), "{message}");
        assert_eq!(std::fs::read(&path).unwrap(), forged, "record {seq}: a refused repair drops nothing");
    }
}

#[test]
fn a_damaged_length_in_the_middle_is_never_repaired() {
    let (path, bytes, starts) = long_log("damaged-length");
    let offset = at(starts[40]);
    // A smaller consistent length (the chain breaks) and a length failing its check word.
    let mut shorter = bytes.clone();
    shorter[offset..offset + 4].copy_from_slice(&60_u32.to_le_bytes());
    shorter[offset + 4..offset + 8].copy_from_slice(&(!60_u32).to_le_bytes());
    let mut unchecked = bytes.clone();
    unchecked[offset + 1] ^= 0x40;
    for damaged in [shorter, unchecked] {
        std::fs::write(&path, &damaged).unwrap();
        assert!(matches!(repair(&path), Err(LogError::NotRepairable(_))));
        assert_eq!(std::fs::read(&path).unwrap(), damaged);
    }
}

#[test]
fn a_zero_filled_tail_is_torn_and_repair_truncates_it() {
    let (path, bytes, starts) = long_log("zeros");
    let last = at(starts[299]);
    let mut after = bytes.clone();
    after.extend_from_slice(&[0; 4096]);
    let mut eight = bytes.clone();
    eight.extend_from_slice(&[0; 8]);
    // The last record's write cut short: its second half, and a block beyond, zeros.
    let mut cut = bytes.clone();
    let middle = last + (bytes.len() - last) / 2;
    cut[middle..].fill(0);
    cut.extend_from_slice(&[0; 512]);
    for (name, damaged, keep) in [("after", after, bytes.len()), ("eight", eight, bytes.len()), ("cut", cut, last)] {
        let (_, error) = entries(&damaged);
        assert!(
            matches!(error, Some(LogError::TornTail { offset, dropped_bytes, .. })
                if at(offset) == keep && at(dropped_bytes) == damaged.len() - keep),
            "{name}: {error:?}"
        );
        std::fs::write(&path, &damaged).unwrap();
        let repaired = repair(&path).unwrap();
        assert_eq!(at(repaired.dropped_bytes), damaged.len() - keep, "{name}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes[..keep], "{name}: every whole record kept");
    }
}

#[test]
fn zeros_in_the_middle_are_corruption_not_a_torn_tail() {
    let (path, mut bytes, starts) = long_log("zeros-middle");
    bytes[at(starts[100])..at(starts[102])].fill(0);
    let (whole, error) = entries(&bytes);
    assert_eq!(whole.len(), 100);
    assert!(matches!(error, Some(LogError::LengthCorrupt { seq: 100, .. })), "{error:?}");
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(repair(&path), Err(LogError::NotRepairable(_))));
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}
