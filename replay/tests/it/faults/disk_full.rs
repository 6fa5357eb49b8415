//! Case 3: the log's file system fills up while payloads are sealed. `run` must stop
//! with an error (not a panic, not SIGBUS) and lose nothing; once space is freed, a
//! restart converges with every payload in exactly one batch. Needs `mount` (root); the
//! case is skipped with a message where mounting is refused.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use effects::sqlite::{SealStatus, SqliteStore};

use super::{Case, assert_sealed_exactly_once, count_admissions, repair, sealed_payloads, state_of, wait_all_gold};
use crate::live::{INBOX, Miner, anvil, assert_replays, poll};

/// A small tmpfs mounted for the case; unmounted when dropped (its files copied out
/// first if the case failed, so the log can be looked at).
struct Tmpfs {
    dir: PathBuf,
    keep: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, size: &str, keep: &Path) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"]).arg(dir).output();
        match out {
            Ok(out) if out.status.success() => Some(Tmpfs { dir: dir.to_owned(), keep: keep.to_owned() }),
            Ok(out) => {
                let why = format!("mount refused: {}", String::from_utf8_lossy(&out.stderr).trim_end());
                crate::gate::skip(&why, crate::gate::Needs::Root);
                None
            }
            Err(error) => {
                crate::gate::skip(&format!("cannot run mount: {error}"), crate::gate::Needs::Root);
                None
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = std::fs::create_dir_all(&self.keep);
            for entry in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
                let _ = std::fs::copy(entry.path(), self.keep.join(entry.file_name()));
            }
        }
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

#[test]
fn a_full_disk_stops_run_with_an_error_and_loses_no_payload() {
    let Some((_anvil, url)) = anvil() else { return };
    let _miner = Miner::start(&url, false);
    let case = Case::new("disk-full");
    let Some(tmpfs) = Tmpfs::mount(&case.path("logfs"), "2m", &case.path("logfs-copy")) else { return };
    let (log, db) = (tmpfs.dir.join("run.seqlog"), case.db());
    // The filler leaves the log about 256 KiB; deleting it frees the space later.
    let filler = tmpfs.dir.join("filler");
    std::fs::write(&filler, vec![0_u8; 1792 * 1024]).unwrap();
    let flags = ["--inbox", INBOX, "--max-wait-blocks", "600"];
    let mut run = case.run_on(&url, &log, &db, &flags);
    poll(Duration::from_secs(60), Duration::from_millis(100), &|| run.stderr(), || count_admissions(&log) >= 1);

    // Seal 512-byte payloads every 50 ms until the log cannot take another record. (Not
    // larger: the adapter's gas limit is under EIP-7623's calldata floor from about 830
    // non-zero bytes, and such a batch never lands on a Prague chain — reported apart.)
    let mut store = SqliteStore::open(&db).unwrap();
    let mut queued = Vec::new();
    let exit = loop {
        if let Some(exit) = run.exited_within(Duration::from_millis(50)) {
            break exit;
        }
        assert!(queued.len() < 2_000, "the disk never filled:\n{}", run.stderr());
        let mut payload = (queued.len() as u64).to_be_bytes().to_vec();
        payload.resize(512, 0xd1);
        queued.push((store.enqueue_seal(&payload).unwrap(), payload));
    };
    let stderr = run.stderr();
    // A full disk is an error the operator can fix, reported as such: exit 20 (retry).
    assert_eq!(exit, Some(20), "{stderr}");
    assert!(stderr.contains("the log could not be written") && stderr.contains("No space left on device"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // systemd restarts on 20, the disk still full: the failed write was undone (the log
    // ends at its last whole record, no torn tail), so the boot fails the same way.
    let mut again = case.run_on(&url, &log, &db, &flags);
    let (exited, stderr) = (again.exited_within(Duration::from_secs(60)), again.stderr());
    let full_again = exited == Some(Some(20)) && stderr.contains("No space left on device");
    assert!(full_again, "{exited:?}:\n{stderr}");

    // Nothing the log lost is marked taken: every row the database calls sealed is in a
    // batch of what the log holds (after cutting a torn tail, if the last write tore).
    std::fs::remove_file(&filler).unwrap();
    let torn = repair(&log);
    assert!(!torn, "a failed append leaves no torn tail:\n{stderr}");
    let in_log = sealed_payloads(&state_of(&log));
    let rows = store.seal_rows().unwrap();
    for row in rows.iter().filter(|row| row.status == SealStatus::Sealed) {
        let payload = &queued.iter().find(|(id, _)| *id == row.id).unwrap().1;
        assert!(in_log.iter().any(|(bytes, ..)| bytes == payload), "row {} marked sealed, not in the log", row.id);
    }
    let waiting = rows.iter().filter(|row| row.status == SealStatus::Queued).count();
    eprintln!("faults::disk_full: {} queued, {waiting} still waiting at the failure, torn tail {torn}", queued.len());

    // Space freed: the restart takes the rest of the queue and every batch is accepted.
    let run = case.run_on(&url, &log, &db, &flags);
    wait_all_gold(&log, queued.last().map(|(id, _)| *id), &run);
    run.stop_cleanly();
    assert_replays(&log);
    let rows = store.seal_rows().unwrap();
    assert!(rows.iter().all(|row| row.status == SealStatus::Sealed), "every payload sealed: {rows:?}");
    assert_sealed_exactly_once(&state_of(&log), &queued, &rows, machine::DEFAULT_MAX_BATCH_BYTES);
}
