//! A directory of snapshots of one log (FORMAT.md "Snapshot directory"): `seqrec run`
//! writes one there at a checkpoint every N records or M minutes, atomically, keeping the
//! newest K; a restart and `seqrec replay --snapshot DIR` take the newest one the log
//! vouches for, skipping (and naming) every other. Snapshots are caches, the log is truth.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::log::{Checkpoint, LogError, list_segments, segment_after, segment_holding};

/// A checkpoint record's length (FORMAT.md).
const CHECKPOINT_RECORD_LEN: u64 = 92;
use crate::snapshot::{Snapshot, SnapshotError};

/// The extension of a snapshot file.
const EXTENSION: &str = "snap";

/// A snapshot with the checkpoint of the log that vouches for it.
pub type Vouched = (Snapshot, Checkpoint);

/// The default snapshot directory of a log: `<log>.snapshots` next to it.
#[must_use]
pub fn default_dir(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".snapshots");
    PathBuf::from(name)
}

/// The file name `run` gives the snapshot covering `records` records: zero-padded, so
/// names sort as the snapshots do.
#[must_use]
pub fn file_name(records: u64) -> String {
    format!("{records:020}.{EXTENSION}")
}

/// Whether `name` is one [`file_name`] gives.
fn is_run_name(name: &str) -> bool {
    name.strip_suffix(".snap").is_some_and(|digits| digits.len() >= 20 && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// Checks a snapshot against the log (`Snapshot::check_against`); returns it with the
/// checkpoint it resumes from.
///
/// # Errors
/// `WrongLog`, `NotAtCheckpoint`, `StateMismatch` or I/O errors.
pub fn belongs(log: &Path, snap: Snapshot) -> Result<Vouched, SnapshotError> {
    if log.is_dir() {
        return belongs_to_segments(log, snap);
    }
    let checkpoint = snap.check_against(&mut File::open(log)?)?;
    Ok((snap, checkpoint))
}

/// [`belongs`] for a segment directory: at a segment boundary the next segment's header
/// vouches (its previous chain hash and start state are the snapshot's), so the segment
/// holding the checkpoint may be archived; elsewhere the segment holding it does.
fn belongs_to_segments(dir: &Path, snap: Snapshot) -> Result<Vouched, SnapshotError> {
    let seq = snap.records.saturating_sub(1);
    let as_io = |error: LogError| SnapshotError::Io(std::io::Error::other(error.to_string()));
    if let Some(next) = segment_after(dir, seq).map_err(as_io)?.filter(|_| snap.records > 0) {
        let start = next.start;
        if start.prev_chain != snap.chain {
            return Err(SnapshotError::WrongLog { seq, snapshot: snap.chain, log: start.prev_chain });
        }
        let hash = snap.state.state_hash();
        if hash != start.state_hash {
            return Err(SnapshotError::StateMismatch { seq, snapshot: hash, log: start.state_hash });
        }
        let offset = snap.end_offset.saturating_sub(CHECKPOINT_RECORD_LEN);
        let checkpoint = Checkpoint { seq, offset, state_hash: hash, events: start.events, chain: start.prev_chain };
        return Ok((snap, checkpoint));
    }
    let holding = segment_holding(dir, seq).map_err(as_io)?;
    let Some(segment) = holding else {
        return Err(SnapshotError::NotAtCheckpoint { seq, offset: snap.end_offset });
    };
    let checkpoint = snap.check_against(&mut File::open(segment)?)?;
    Ok((snap, checkpoint))
}

/// The snapshot in `dir` that covers the most records of `log` and that the log vouches
/// for; newer ones that do not (damaged, of another log or build, not at a checkpoint,
/// a state the checkpoint disagrees with) are named in `notes` and skipped, falling back
/// to the next newest and at last to `None`, a full replay. Only the fixed header of each
/// file is read before the choice, so older snapshots cost nothing when a newer one holds.
///
/// # Errors
/// The directory cannot be listed.
pub fn newest_valid_snapshot(
    log: &Path,
    dir: &Path,
    notes: &mut Vec<String>,
) -> std::io::Result<Option<(PathBuf, Vouched)>> {
    let mut candidates = Vec::new();
    for path in snapshot_files(dir)? {
        match Snapshot::read_records(&path) {
            Ok(records) => candidates.push((records, path)),
            Err(error) => notes.push(format!("skipped {}: {error}", path.display())),
        }
    }
    // Newest first, names breaking ties so the order does not depend on the directory's.
    candidates.sort_by(|(a, a_path), (b, b_path)| b.cmp(a).then_with(|| a_path.cmp(b_path)));
    for (_, candidate) in candidates {
        match Snapshot::read(&candidate).and_then(|snap| belongs(log, snap)) {
            Ok(chosen) => return Ok(Some((candidate, chosen))),
            Err(error) => notes.push(format!("skipped {}: {error}", candidate.display())),
        }
    }
    notes.push(format!("no valid snapshot in {}: full replay", dir.display()));
    Ok(None)
}

/// Every `*.snap` file in `dir`, sorted by name.
fn snapshot_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == EXTENSION))
        .collect();
    found.sort();
    Ok(found)
}

/// Where `run` keeps its snapshots, and how many.
#[derive(Clone, Debug)]
pub struct SnapshotDir {
    dir: PathBuf,
    keep: usize,
    /// A segmented log's directory: the snapshot at each present segment's start is kept.
    segments: Option<PathBuf>,
}

impl SnapshotDir {
    /// The directory `dir`, keeping the newest `keep` snapshots (at least one).
    #[must_use]
    pub fn new(dir: PathBuf, keep: usize) -> Self {
        SnapshotDir { dir, keep: keep.max(1), segments: None }
    }

    /// Also keeps, besides the newest K, the snapshot at the start of every segment
    /// present in the segmented log `log_dir`: once the operator archives the segments
    /// before one, a reader needs the snapshot at its start (FORMAT.md "Archiving"). One
    /// per segment, against a segment's hundreds of MiB; it goes when its segment does.
    #[must_use]
    pub fn keeping_segment_starts(mut self, log_dir: PathBuf) -> Self {
        self.segments = Some(log_dir);
        self
    }

    /// The directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes `snap` as `file_name(snap.records)` atomically (temporary file, fsync,
    /// rename, fsync of the directory), creating the directory if needed, then removes
    /// all but the newest `keep` snapshots. Returns the new file's path and the removed ones.
    ///
    /// # Errors
    /// I/O errors; a failed removal is not one (an extra cache file harms nothing).
    pub fn write(&self, snap: &Snapshot) -> Result<(PathBuf, Vec<PathBuf>), SnapshotError> {
        if !self.dir.is_dir() {
            std::fs::create_dir_all(&self.dir)?;
            if let Some(parent) = self.dir.parent().filter(|parent| !parent.as_os_str().is_empty()) {
                // The new directory's entry must survive a crash too.
                File::open(parent)?.sync_all()?;
            }
        }
        let path = self.dir.join(file_name(snap.records));
        snap.write(&path)?;
        Ok((path, self.prune(snap.records)))
    }

    /// Removes all but the newest `keep` snapshots at or below `records` (and those at a
    /// present segment's start, [`Self::keeping_segment_starts`]), and every one
    /// above it: this log has only `records` records, so those belong to another log that
    /// was at this path before (a restored or recreated log) and can never be used.
    fn prune(&self, records: u64) -> Vec<PathBuf> {
        let Ok(files) = snapshot_files(&self.dir) else { return Vec::new() };
        let mut ours = Vec::new();
        let mut removed = Vec::new();
        for path in files {
            match Snapshot::read_records(&path) {
                Ok(covered) if covered <= records => ours.push((covered, path)),
                Ok(_) => removed.push(path),
                // Damaged under a name `run` gives: skipped at every start, so it goes.
                Err(_) if path.file_name().is_some_and(|name| is_run_name(&name.to_string_lossy())) => {
                    removed.push(path);
                }
                // Not ours to judge: a file someone else put there is left alone.
                Err(_) => {}
            }
        }
        ours.sort_by(|(a, a_path), (b, b_path)| b.cmp(a).then_with(|| b_path.cmp(a_path)));
        // Listing failures keep nothing extra: the newest K are kept either way.
        let starts: Vec<u64> = match &self.segments {
            Some(log) => list_segments(log).map(|found| found.into_iter().map(|(first, _)| first).collect()),
            None => Ok(Vec::new()),
        }
        .unwrap_or_default();
        let old = ours.into_iter().skip(self.keep).filter(|(covered, _)| !starts.contains(covered));
        removed.extend(old.map(|(_, path)| path));
        removed.retain(|path| std::fs::remove_file(path).is_ok());
        removed
    }
}
