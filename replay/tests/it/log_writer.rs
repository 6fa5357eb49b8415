//! The writer: one at a time (the lock, taken before anything is touched), never a record
//! longer than the reader accepts, and what a crash while creating a log leaves is
//! recoverable (FORMAT.md "Locking", "Torn tails and unfinished new logs").

use machine::event::Seal;
use machine::{Bytes, Event, Hash32};
use replay::log::{FsyncPolicy, Header, LogError, LogLock, LogReader, LogWriter, MAX_BODY_LEN, repair};

use super::support::{entries, scratch, script_events, write_log};

#[test]
fn a_second_writer_is_refused_before_it_touches_the_log() {
    let path = scratch("lock").join("a.seqlog");
    let bytes = write_log(&path, &script_events("happy-path"), 0);
    let first = LogWriter::open_append(&path, FsyncPolicy::EveryRecord).unwrap();
    let error = LogWriter::open_append(&path, FsyncPolicy::EveryRecord).unwrap_err();
    let LogError::Locked { path: locked, pid } = &error else { panic!("{error:?}") };
    assert_eq!(locked, &path);
    if cfg!(target_os = "linux") {
        assert_eq!(*pid, Some(std::process::id()), "the holder's pid, from /proc/locks");
    }
    let message = error.to_string();
    assert!(message.starts_with(&format!("log {} is locked by another process", path.display())), "{message}");
    assert!(message.contains("another `seqrec run` is using it; stop it first"), "{message}");
    assert!(matches!(LogLock::acquire(&path), Err(LogError::Locked { .. })));
    assert!(matches!(repair(&path), Err(LogError::Locked { .. })), "repair writes, so it locks too");
    // Readers never lock: a follower reads the log while its writer holds it.
    let (read, error) = entries(&std::fs::read(&path).unwrap());
    assert!(error.is_none() && read.len() == 15, "{error:?}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "the refused writers changed nothing");
    drop(first);
    let mut again = LogWriter::open_append(&path, FsyncPolicy::EveryRecord).unwrap();
    assert_eq!(again.append(&Event::Shutdown, &[]).unwrap(), 15, "the lock is released with its writer");
}

/// A follower (a future hot standby) tails the log while its writer holds the lock: it
/// reads what is whole, stops at what is not finished yet, and resumes from there.
#[test]
fn a_follower_tails_a_log_while_its_writer_holds_the_lock() {
    use std::io::{BufReader, Seek as _, SeekFrom};
    let path = scratch("follower").join("live.seqlog");
    let events = script_events("nonce-poisoning");
    let mut writer = LogWriter::create(&path, &Header::new(Hash32::default()), FsyncPolicy::EveryRecord).unwrap();
    let mut state = machine::State::new();
    let mut append = |writer: &mut LogWriter, events: &[Event]| {
        for event in events {
            let (next, step) = machine::step(std::mem::take(&mut state), event);
            state = next;
            writer.append(event, &step.effects).unwrap();
        }
        writer.append_checkpoint(state.state_hash()).unwrap();
    };
    append(&mut writer, &events[..10]);
    let mut follower = LogReader::new(BufReader::new(std::fs::File::open(&path).unwrap())).unwrap();
    let header = follower.header().clone();
    assert_eq!(follower.entries().map(Result::unwrap).count(), 11);
    let stopped = follower.position();
    append(&mut writer, &events[10..]);
    let mut file = std::fs::File::open(&path).unwrap();
    file.seek(SeekFrom::Start(stopped.offset)).unwrap();
    let mut resumed = LogReader::resume(BufReader::new(file), header, stopped);
    let seqs: Vec<u64> = resumed.by_ref().map(|record| record.unwrap().seq).collect();
    assert_eq!(seqs, (11..31).collect::<Vec<_>>());
    assert_eq!((resumed.records_read(), resumed.events_read()), (32, 30));
}

#[test]
fn the_lock_is_held_before_the_log_is_created() {
    let path = scratch("lock-first").join("new.seqlog");
    let header = Header::new(Hash32::default());
    let lock = LogLock::acquire(&path).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "taking the lock writes nothing");
    assert!(matches!(LogLock::acquire(&path), Err(LogError::Locked { .. })));
    let mut writer = LogWriter::open(lock, &header, FsyncPolicy::EveryRecord).unwrap();
    writer.append(&Event::Shutdown, &[]).unwrap();
    assert!(matches!(LogWriter::open_append(&path, FsyncPolicy::EveryRecord), Err(LogError::Locked { .. })));
    drop(writer);
    // A log with records is appended to, never re-initialised.
    let mut reopened = LogWriter::open(LogLock::acquire(&path).unwrap(), &header, FsyncPolicy::EveryRecord).unwrap();
    assert_eq!(reopened.append(&Event::Shutdown, &[]).unwrap(), 1);
    drop(reopened);
    assert_eq!(entries(&std::fs::read(&path).unwrap()).0.len(), 2);
}

#[test]
fn a_record_over_the_readers_limit_is_refused_before_any_byte_is_written() {
    let path = scratch("oversize").join("big.seqlog");
    for policy in [FsyncPolicy::EveryRecord, FsyncPolicy::Group(8)] {
        let _ = std::fs::remove_file(&path);
        let mut writer = LogWriter::create(&path, &Header::new(Hash32::default()), policy).unwrap();
        writer.append(&Event::Shutdown, &[]).unwrap();
        writer.sync().unwrap();
        let before = std::fs::read(&path).unwrap();
        let seal = Event::Seal(Seal { id: None, payload: Bytes(vec![0x5a; 70_000_000]) });
        let error = writer.append(&seal, &[]).unwrap_err();
        assert!(
            matches!(error, LogError::RecordTooLarge { seq: 1, len, max: MAX_BODY_LEN } if len > u64::from(MAX_BODY_LEN)),
            "{error:?}"
        );
        assert!(error.to_string().contains("exceeds the log's limit of 67108864 bytes; nothing was written"));
        writer.sync().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), before, "{policy:?}: no byte written");
        assert_eq!(writer.append(&Event::Shutdown, &[]).unwrap(), 1, "{policy:?}: the sequence number is not used");
        drop(writer);
        let (read, error) = entries(&std::fs::read(&path).unwrap());
        assert!(error.is_none() && read.len() == 2, "{policy:?}: {error:?}");
    }
}

#[test]
fn an_unfinished_new_log_is_reported_removed_by_repair_and_reinitialised_by_open() {
    let dir = scratch("unfinished");
    let header = Header::new(Hash32::default());
    let full = header.encode();
    let cases =
        [("empty", Vec::new()), ("zeros", vec![0; 4096]), ("cut-header", full[..20].to_vec()), ("header-only", full)];
    for (name, bytes) in cases {
        let path = dir.join(format!("{name}.seqlog"));
        let error = LogReader::new(std::io::Cursor::new(&bytes)).err();
        match (name, &error) {
            ("empty", Some(LogError::Empty))
            | ("zeros", Some(LogError::ZeroFilled { len: 4096 }))
            | ("cut-header", Some(LogError::HeaderTruncated { found: 20, .. }))
            | ("header-only", None) => {}
            _ => panic!("{name}: {error:?}"),
        }
        if let Some(error) = error {
            assert!(error.to_string().contains("`seqrec repair` removes it"), "{name}: {error}");
        }
        std::fs::write(&path, &bytes).unwrap();
        let mut writer = LogWriter::open(LogLock::acquire(&path).unwrap(), &header, FsyncPolicy::EveryRecord).unwrap();
        assert_eq!(writer.append(&Event::Shutdown, &[]).unwrap(), 0, "{name}");
        drop(writer);
        let (read, error) = entries(&std::fs::read(&path).unwrap());
        assert!(error.is_none() && read.len() == 1, "{name}: {error:?}");
        std::fs::write(&path, &bytes).unwrap();
        let repaired = repair(&path).unwrap();
        let whole = name == "header-only";
        assert_eq!((repaired.removed, path.exists()), (!whole, whole), "{name}: {repaired:?}");
    }
}

/// A full disk fails an append mid-record: the writer undoes the partial write, so the
/// log ends at its last whole record and a restart needs no `seqrec repair`.
#[test]
fn a_full_disk_leaves_no_torn_tail() {
    let dir = scratch("writer-full-disk").join("fs");
    std::fs::create_dir_all(&dir).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&dir)
        .status()
        .is_ok_and(|status| status.success());
    if !mounted {
        crate::gate::skip("mount refused (needs root)", crate::gate::Needs::Root);
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(dir.clone());
    let path = dir.join("full.seqlog");
    let mut writer = LogWriter::create(&path, &Header::new(Hash32::default()), FsyncPolicy::EveryRecord).unwrap();
    let seal = Event::Seal(Seal { id: None, payload: Bytes(vec![0xab; 3_000]) });
    let mut appended = 0;
    let error = loop {
        match writer.append(&seal, &[]) {
            Ok(_) => appended += 1,
            Err(error) => break error,
        }
        assert!(appended < 1_000, "a 64 KiB file system never filled");
    };
    assert!(error.to_string().contains("No space left on device"), "{error}");
    drop(writer);
    let records = entries(&std::fs::read(&path).unwrap());
    assert!(records.1.is_none(), "the log ends in a whole record: {:?}", records.1);
    assert_eq!(records.0.len(), appended, "every acknowledged record is there");
}

/// Issue 18, item 10: the largest `l1` answer the adapter passes on (one block's inbox
/// inputs at `effects::eth::MAX_BLOCK_INPUT_BYTES`, as many small inputs or one big one)
/// is a record the log holds with room for the step's effects; the adapter refuses a
/// larger block as an `oversized` failed read instead of handing the writer a record it
/// must refuse (which stopped every boot with `LogFailed`).
#[test]
fn the_largest_l1_answer_the_adapter_passes_on_fits_one_record() {
    use machine::event::{Input, L1};
    use machine::{BlockNumber, UnixMillis};
    let path = scratch("largest-l1").join("l1.seqlog");
    let limit = effects::eth::MAX_BLOCK_INPUT_BYTES;
    // As the adapter counts them: each input's data plus 64 bytes.
    let one = vec![Input::Direct { block: BlockNumber(7), data: Bytes(vec![0xab; limit - 64]) }];
    let many = (0..limit / 4096).map(|_| Input::Direct { block: BlockNumber(7), data: Bytes(vec![0xcd; 4096 - 64]) });
    for inputs in [one, many.collect()] {
        let _ = std::fs::remove_file(&path);
        let mut writer = LogWriter::create(&path, &Header::new(Hash32::default()), FsyncPolicy::EveryRecord).unwrap();
        let event = Event::L1(L1 {
            now_ms: UnixMillis(1),
            safe_block: BlockNumber(7),
            safe_timestamp: 1,
            inputs,
            from_block: None,
            safe_hash: None,
            parent_hash: None,
            partial: false,
        });
        writer.append(&event, &[]).unwrap();
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(size < u64::from(MAX_BODY_LEN) * 3 / 4, "{size} bytes: little room left for the effects");
    }
}
