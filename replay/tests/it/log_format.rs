//! Golden bytes: the log layout of FORMAT.md, pinned so that no dependency default or
//! refactor can change what is on disk without this test failing.

use machine::event::{self, BatchLanding, Input};
use machine::{BatchNonce, BlockNumber, Bytes, Event, Hash32, UnixMillis, WalletNonce};
use replay::log::{Checkpoint, Entry, FsyncPolicy, Header, LogError, LogWriter};

use super::support::{entries, scratch};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Version 1: still written on request (appending to an old log) and read.
#[test]
fn header_and_records_match_the_documented_layout() {
    let path = scratch("golden-v1").join("golden.seqlog");
    let header = Header { version: 1, build: "golden".to_owned(), config_digest: Hash32([0xcd; 32]) };
    let mut writer = LogWriter::create(&path, &header, FsyncPolicy::EveryRecord).unwrap();
    writer.append(&Event::Tick(event::Tick { now_ms: UnixMillis(300) }), &[]).unwrap();
    let landing = Input::Batch(BatchLanding {
        block: BlockNumber(7),
        w_nonce: WalletNonce(1),
        nonce: BatchNonce(250),
        first_frame_safe_block: None,
        wire_hash: None,
        decodes: true,
        wire: None,
    });
    let direct = Input::Direct { block: BlockNumber(6), data: Bytes(vec![0xab]) };
    let sync = Event::L1(event::L1 {
        now_ms: UnixMillis(65_536),
        safe_block: BlockNumber(7),
        safe_timestamp: 1,
        inputs: vec![direct, landing],
        from_block: None,
        safe_hash: None,
        parent_hash: None,
        partial: false,
    });
    writer.append(&sync, &[machine::Effect::ReadWallet]).unwrap();
    drop(writer);
    let bytes = std::fs::read(&path).unwrap();

    // Header: magic, version 1, build length 6, "golden", config digest, header hash.
    let header_len = 8 + 2 + 2 + 6 + 32 + 32;
    assert_eq!(hex(&bytes[..18]), "534551524c4f470a01000600676f6c64656e");
    assert_eq!(&bytes[18..50], &[0xcd; 32]);
    assert_eq!(&bytes[50..82], blake3::hash(&bytes[..50]).as_bytes());

    // Record 0: tick 300 → event = variant 5, varint 300 = 251 then u16 LE 0x012c.
    let r0 = &bytes[header_len..];
    let event0 = [0x05, 0xfb, 0x2c, 0x01];
    let body0_len = 8 + 4 + event0.len() + 2 + 32;
    assert_eq!(hex(&r0[..4]), hex(&(body0_len as u32).to_le_bytes()));
    assert_eq!(hex(&r0[4..8]), hex(&(!(body0_len as u32)).to_le_bytes()));
    assert_eq!(hex(&r0[8..16]), "0000000000000000");
    assert_eq!(hex(&r0[16..20]), "04000000");
    assert_eq!(hex(&r0[20..24]), hex(&event0));
    assert_eq!(&r0[24..26], b"[]");
    assert_eq!(&r0[26..58], blake3::hash(b"[]").as_bytes());
    let mut chained = bytes[50..82].to_vec();
    chained.extend_from_slice(&r0[8..58]);
    assert_eq!(&r0[58..90], blake3::hash(&chained).as_bytes(), "chain = blake3(previous ‖ body)");

    // Record 1: l1 → variant 2; now_ms 65536 = 252 then u32 LE; inputs: direct(6, [ab]), batch(7, 1, 250, None, None, true).
    let r1 = &r0[90..];
    let event1 = [
        0x02, 0xfc, 0x00, 0x00, 0x01, 0x00, // now_ms 65536
        0x07, 0x01, 0x02, // safe_block 7, safe_timestamp 1, two inputs
        0x00, 0x06, 0x01, 0xab, // direct: block 6, data [ab]
        0x01, 0x07, 0x01, 0xfa, 0x00, 0x00,
        0x01, // batch: block 7, w_nonce 1, nonce 250, no frames, no hash, decodes
    ];
    assert_eq!(hex(&r1[8..16]), "0100000000000000");
    assert_eq!(hex(&r1[16..20]), hex(&(event1.len() as u32).to_le_bytes()));
    assert_eq!(hex(&r1[20..20 + event1.len()]), hex(&event1));
    assert_eq!(&r1[20 + event1.len()..20 + event1.len() + 20], br#"[{"fx":"read_wallet"}]"#.get(..20).unwrap());
    assert_eq!(bytes.len(), header_len + 90 + 8 + 8 + 4 + event1.len() + 22 + 32 + 32);

    // It reads back, and a version-1 log takes no checkpoint.
    let (read, error) = entries(&bytes);
    assert!(error.is_none() && read.len() == 2 && read.iter().all(|e| matches!(e, Entry::Event(_))), "{error:?}");
    let mut writer = LogWriter::open_append(&path, FsyncPolicy::EveryRecord).unwrap();
    assert!(!writer.checkpoint_due());
    let refused = writer.append_checkpoint(Hash32([1; 32])).unwrap_err();
    assert!(matches!(refused, LogError::CheckpointsUnsupported { version: 1 }), "{refused:?}");
    drop(writer);
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "a refused checkpoint writes nothing");
}

/// Version 2: the same event records, and a checkpoint record.
#[test]
fn a_checkpoint_record_matches_the_documented_layout() {
    let path = scratch("golden-v2").join("golden.seqlog");
    let header = Header { version: 2, build: "golden".to_owned(), config_digest: Hash32([0xcd; 32]) };
    let mut writer = LogWriter::create(&path, &header, FsyncPolicy::EveryRecord).unwrap();
    writer.append(&Event::Tick(event::Tick { now_ms: UnixMillis(300) }), &[]).unwrap();
    assert_eq!(writer.append_checkpoint(Hash32([0xab; 32])).unwrap(), 1);
    drop(writer);
    let bytes = std::fs::read(&path).unwrap();
    let header_len = 8 + 2 + 2 + 6 + 32 + 32;
    assert_eq!(hex(&bytes[..18]), "534551524c4f470a02000600676f6c64656e");
    assert_eq!(&bytes[50..82], blake3::hash(&bytes[..50]).as_bytes());
    // Record 0, a tick, is laid out as in version 1 (its chain starts from another header).
    let r0 = &bytes[header_len..];
    assert_eq!(hex(&r0[..24]), "32000000cdffffff00000000000000000400000005fb2c01");
    // Record 1: L = 52, !L, seq 1, the mark, the state hash, 1 event before it, chain.
    let r1 = &r0[90..];
    assert_eq!(r1.len(), 92);
    assert_eq!(hex(&r1[..20]), "34000000cbffffff0100000000000000ffffffff");
    assert_eq!(&r1[20..52], &[0xab; 32]);
    assert_eq!(hex(&r1[52..60]), "0100000000000000");
    let mut chained = r0[58..90].to_vec();
    chained.extend_from_slice(&r1[8..60]);
    assert_eq!(&r1[60..92], blake3::hash(&chained).as_bytes(), "chain = blake3(previous ‖ body)");
    let (read, error) = entries(&bytes);
    assert!(error.is_none(), "{error:?}");
    let offset = (header_len + 90) as u64;
    let chain = Hash32(r1[60..92].try_into().unwrap());
    let expected = Checkpoint { seq: 1, offset, state_hash: Hash32([0xab; 32]), events: 1, chain };
    assert_eq!(read.last(), Some(&Entry::Checkpoint(expected)));
}
