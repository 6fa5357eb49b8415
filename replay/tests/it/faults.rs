//! Issue #8's fault suite: `seqrec run` against anvil while its surroundings fail — a
//! second writer, SIGKILL at random points, a full disk, a locked, read-only or deleted
//! database, the L1 node killed or replaced, a changed inbox. One file per case under
//! `faults/`; gated on `SEQREC_ANVIL` like `anvil.rs`. Each case works in a directory
//! of its own, printed at the start (shown when the case fails) and kept on failure.

mod database;
mod disk_full;
mod inbox;
mod l1_node;
mod lock;
mod sigkill;
mod sizes;

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use effects::sqlite::{SealRow, SqliteStore};
use machine::{Event, State};

use crate::live::{DEV_KEY, INBOX, Process, poll, seqrec};

/// One case's directory: its log, database and each run's standard error.
pub(crate) struct Case {
    name: &'static str,
    dir: PathBuf,
    runs: Cell<u32>,
}

impl Case {
    pub(crate) fn new(name: &'static str) -> Case {
        let dir = std::env::temp_dir().join(format!("seqrec-faults-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        eprintln!("faults::{name}: log, database and run output in {}", dir.display());
        Case { name, dir, runs: Cell::new(0) }
    }

    pub(crate) fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    pub(crate) fn log(&self) -> PathBuf {
        self.path("run.seqlog")
    }

    pub(crate) fn db(&self) -> PathBuf {
        self.path("p.db")
    }

    /// `seqrec run` on this case's log and database with the test deployment (the
    /// inbox [`INBOX`], max wait 20, margin 5, 1 s blocks).
    pub(crate) fn run(&self, url: &str) -> Run {
        self.run_on(url, &self.log(), &self.db(), &["--inbox", INBOX, "--max-wait-blocks", "20"])
    }

    /// `seqrec run` on the given files; `flags` must give `--inbox` and `--max-wait-blocks`.
    pub(crate) fn run_on(&self, url: &str, log: &Path, db: &Path, flags: &[&str]) -> Run {
        let number = self.runs.get() + 1;
        self.runs.set(number);
        let stderr = self.path(&format!("run-{number}.stderr"));
        let child = Command::new(env!("CARGO_BIN_EXE_seqrec"))
            .args(["run", "--rpc", url, "--chain-id", "31337", "--preemptive-margin-blocks", "5"])
            .args(["--seconds-per-block", "1", "--detector-interval-ms", "300", "--submit-interval-ms", "300"])
            .arg("--log")
            .arg(log)
            .arg("--db")
            .arg(db)
            .args(flags)
            .env("SEQREC_KEY", DEV_KEY)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        Run { process: Process(child), stderr }
    }

    /// Queues one payload as the inclusion lane would.
    pub(crate) fn seal(&self, payload: &[u8]) -> u64 {
        SqliteStore::open(&self.db()).unwrap().enqueue_seal(payload).unwrap()
    }

    /// Waits until the log holds `boots` admissions.
    pub(crate) fn wait_admitted(&self, admissions: usize) {
        let log = self.log();
        poll(
            Duration::from_secs(60),
            Duration::from_millis(100),
            &|| format!("{}: fewer than {admissions} admissions", log.display()),
            || count_admissions(&log) >= admissions,
        );
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("faults::{}: kept {} for a look", self.name, self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A running `seqrec run`, its standard error going to a file.
pub(crate) struct Run {
    process: Process,
    stderr: PathBuf,
}

impl Run {
    pub(crate) fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The exit status if the process exited within `within` (`Some(None)`: a signal).
    pub(crate) fn exited_within(&mut self, within: Duration) -> Option<Option<i32>> {
        self.process.wait_for(within).map(|status| status.code())
    }

    /// Asserts the process exits with `code` within `within`; returns its standard error.
    pub(crate) fn expect_exit(mut self, within: Duration, code: i32) -> String {
        let exited = self.exited_within(within);
        let stderr = self.stderr();
        assert_eq!(exited, Some(Some(code)), "expected exit {code} within {within:?}:\n{stderr}");
        stderr
    }

    /// SIGKILL, reaped.
    pub(crate) fn kill(mut self) {
        self.process.0.kill().unwrap();
        self.process.0.wait().unwrap();
    }

    /// SIGTERM: a clean shutdown exits 0.
    pub(crate) fn stop_cleanly(mut self) -> String {
        self.process.terminate();
        let exited = self.exited_within(Duration::from_secs(30));
        let stderr = self.stderr();
        assert_eq!(exited, Some(Some(0)), "a clean shutdown exits 0:\n{stderr}");
        stderr
    }
}

/// Admissions in a log (0 while it cannot be read whole, e.g. mid-append).
pub(crate) fn count_admissions(log: &Path) -> usize {
    let text = String::from_utf8_lossy(&seqrec(&["trace", log.to_str().unwrap()]).stdout).into_owned();
    text.matches("decision admit").count()
}

/// The events of a log, verified; `None` while it cannot be read whole (mid-append).
pub(crate) fn try_events(log: &Path) -> Option<Vec<Event>> {
    match replay::cli::load(log).ok()? {
        replay::cli::Loaded::Log { records, .. } => Some(records.into_iter().map(|record| record.event).collect()),
        replay::cli::Loaded::Script(_) => None,
    }
}

/// The core's state after every record of a log (what a replay reaches); `None` while
/// the log cannot be read whole.
pub(crate) fn try_state_of(log: &Path) -> Option<State> {
    Some(replay::cli::load(log).ok()?.run().state)
}

/// The state of a log that is not being written.
pub(crate) fn state_of(log: &Path) -> State {
    replay::cli::load(log).unwrap_or_else(|error| panic!("{error}")).run().state
}

/// Waits until every closed batch on the valid path is Gold (accepted on L1) and the
/// core has taken the queue row `last_seal`.
pub(crate) fn wait_all_gold(log: &Path, last_seal: Option<u64>, run: &Run) {
    let converged = || {
        try_state_of(log).is_some_and(|state| {
            let landed =
                state.colors().iter().all(|(_, color)| matches!(color, machine::Color::Gold | machine::Color::Tip));
            landed && state.last_seal_id() >= last_seal
        })
    };
    let what =
        || format!("{}: not converged: {:?}\n{}", log.display(), try_state_of(log).map(|s| s.colors()), run.stderr());
    poll(Duration::from_secs(120), Duration::from_millis(300), &what, converged);
}

/// Every payload sealed into a batch: `(payload, batch index, on the valid path, seal id)`.
pub(crate) fn sealed_payloads(state: &State) -> Vec<(Vec<u8>, u64, bool, Option<u64>)> {
    state
        .tree()
        .batches()
        .iter()
        .filter_map(|batch| {
            let sealed = batch.sealed.as_ref()?;
            let wire = machine::wire::decode(&sealed.wire.0).unwrap();
            Some((wire.payload, batch.index.0, batch.valid, sealed.seal_id))
        })
        .collect()
}

/// docs/protocol.md §11.5 at the end of a run: every queued payload is in exactly one batch on the
/// valid path (and its queue row says so), or still queued, or rejected for its size;
/// no payload is in two batches and no batch holds a payload nobody queued.
pub(crate) fn assert_sealed_exactly_once(state: &State, queued: &[(u64, Vec<u8>)], rows: &[SealRow], max_wire: u64) {
    use effects::sqlite::SealStatus;
    let sealed = sealed_payloads(state);
    for (id, payload) in queued {
        let places: Vec<_> = sealed.iter().filter(|(bytes, ..)| bytes == payload).collect();
        let row = rows.iter().find(|row| row.id == *id).unwrap_or_else(|| panic!("queue row {id} is gone"));
        let oversize = (machine::wire::HEADER_LEN + payload.len()) as u64 > max_wire;
        match places.as_slice() {
            [(_, index, true, seal_id)] => {
                assert!(!oversize, "row {id}: an oversize payload was sealed into batch {index}");
                assert_eq!(*seal_id, Some(*id), "row {id}: batch {index} names another row");
                assert_eq!((row.status, row.batch_index), (SealStatus::Sealed, Some(*index)), "row {id}: {row:?}");
            }
            [] if row.status == SealStatus::Rejected => {
                assert!(oversize, "row {id}: a payload within max_batch_bytes was rejected: {row:?}");
            }
            [] => assert_eq!(row.status, SealStatus::Queued, "row {id} is in no batch: {row:?}"),
            places => {
                panic!("row {id}: payload sealed {} times or only into an invalid batch: {places:?}", places.len())
            }
        }
    }
    for (payload, index, ..) in &sealed {
        assert!(queued.iter().any(|(_, bytes)| bytes == payload), "batch {index} holds a payload nobody queued");
    }
}

/// `seqrec repair LOG` after a crash; whether it dropped a torn tail.
pub(crate) fn repair(log: &Path) -> bool {
    let out = seqrec(&["repair", log.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}: repair refused:\n{text}{}", log.display(), String::from_utf8_lossy(&out.stderr));
    text.contains("torn tail")
}
