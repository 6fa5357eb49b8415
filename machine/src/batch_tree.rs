//! recovery.md §2: the batch tree. Batches are stored by index (creation order, never
//! reused); the valid path lists the indices from the root to the Tip, so the batch
//! with nonce `anchor + i` on the valid path is `valid_path[i]`.

use crate::bytes::{Bytes, Hash32};
use crate::units::{BatchIndex, BatchNonce, BlockNumber};

/// One batch.
#[derive(Clone, Debug, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Batch {
    /// Creation index.
    pub index: BatchIndex,
    /// The parent on the path it was opened on; absent for a root.
    pub parent: Option<BatchIndex>,
    /// Scheduler nonce (`parent.nonce + 1`, root = anchor).
    pub nonce: BatchNonce,
    /// The safe head when the batch was opened (`S`).
    pub first_frame_safe_block: BlockNumber,
    /// First direct-input position drained.
    pub drain_from: u64,
    /// One past the last direct-input position drained.
    pub drain_to: u64,
    /// Wire bytes and their hash once closed; `None` while it is the open Tip.
    pub sealed: Option<Sealed>,
    /// False once invalidated ("lead"); never true again.
    pub valid: bool,
    /// The scheduler accepted these exact bytes (Gold).
    pub accepted: bool,
    /// Landed in a safe block but was skipped (Silver until a cascade).
    pub landed_safe: bool,
}

/// A closed batch's wire bytes.
#[derive(Clone, Debug, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Sealed {
    /// The bytes submitted, from [`crate::wire::encode`].
    pub wire: Bytes,
    /// blake3 of `wire`.
    pub wire_hash: Hash32,
    /// The seal queue row it came from, when the seal carried one (live.md §5).
    pub seal_id: Option<u64>,
}

/// The colors of recovery.md §2, in the only order they may appear along the valid path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Color {
    /// Accepted.
    Gold,
    /// Landed safe, not accepted.
    Silver,
    /// Seen in an unsafe block.
    Bronze,
    /// Closed, not seen on L1.
    Pending,
    /// Open.
    Tip,
}

impl Color {
    /// One letter for compact traces.
    #[must_use]
    pub fn letter(self) -> char {
        match self {
            Color::Gold => 'G',
            Color::Silver => 'S',
            Color::Bronze => 'B',
            Color::Pending => 'P',
            Color::Tip => 'T',
        }
    }
}

/// The batch tree.
#[derive(Clone, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct BatchTree {
    batches: Vec<Batch>,
    valid_path: Vec<BatchIndex>,
    anchor: BatchNonce,
}

impl BatchTree {
    /// An empty tree whose root will carry `anchor`.
    #[must_use]
    pub fn new(anchor: BatchNonce) -> Self {
        BatchTree { batches: Vec::new(), valid_path: Vec::new(), anchor }
    }

    /// The root nonce.
    #[must_use]
    pub fn anchor(&self) -> BatchNonce {
        self.anchor
    }

    /// Every batch ever created, by index.
    #[must_use]
    pub fn batches(&self) -> &[Batch] {
        &self.batches
    }

    /// The batch with this index.
    #[must_use]
    pub fn get(&self, index: BatchIndex) -> Option<&Batch> {
        usize::try_from(index.0).ok().and_then(|i| self.batches.get(i))
    }

    fn get_mut(&mut self, index: BatchIndex) -> Option<&mut Batch> {
        usize::try_from(index.0).ok().and_then(|i| self.batches.get_mut(i))
    }

    /// The valid path, root first.
    pub fn valid_path(&self) -> impl DoubleEndedIterator<Item = &Batch> {
        // Indices on the valid path always name existing batches: they are pushed by `open` only.
        self.valid_path.iter().filter_map(|&index| self.get(index))
    }

    /// The valid path from the batch carrying `nonce` (or from the root if `nonce` is
    /// below the anchor) to the end.
    pub fn valid_from(&self, nonce: BatchNonce) -> impl Iterator<Item = &Batch> {
        let offset = usize::try_from(nonce.0.saturating_sub(self.anchor.0)).unwrap_or(usize::MAX);
        self.valid_path.get(offset..).unwrap_or_default().iter().filter_map(|&index| self.get(index))
    }

    /// The valid batch carrying `nonce`, if any.
    #[must_use]
    pub fn valid_at_nonce(&self, nonce: BatchNonce) -> Option<&Batch> {
        let offset = usize::try_from(nonce.0.checked_sub(self.anchor.0)?).ok()?;
        self.valid_path.get(offset).and_then(|&index| self.get(index))
    }

    fn valid_at_nonce_mut(&mut self, nonce: BatchNonce) -> Option<&mut Batch> {
        let offset = usize::try_from(nonce.0.checked_sub(self.anchor.0)?).ok()?;
        let index = *self.valid_path.get(offset)?;
        self.get_mut(index)
    }

    /// The last valid batch.
    #[must_use]
    pub fn last_valid(&self) -> Option<&Batch> {
        self.valid_path.last().and_then(|&index| self.get(index))
    }

    /// The open Tip, if the valid path ends in one.
    #[must_use]
    pub fn tip(&self) -> Option<&Batch> {
        self.last_valid().filter(|batch| batch.sealed.is_none())
    }

    /// The oldest valid closed batch with nonce >= `frontier` (not yet accepted).
    #[must_use]
    pub fn oldest_closed_past(&self, frontier: BatchNonce) -> Option<&Batch> {
        self.valid_at_nonce(frontier).filter(|batch| batch.sealed.is_some())
    }

    /// The nonce the next batch opened on the valid path gets.
    #[must_use]
    pub fn next_nonce(&self) -> BatchNonce {
        self.last_valid().map_or(self.anchor, |batch| batch.nonce.next())
    }

    /// Where the next batch's drain starts: after the last valid batch's drain.
    #[must_use]
    pub fn next_drain_from(&self) -> u64 {
        self.last_valid().map_or(0, |batch| batch.drain_to)
    }

    /// Opens a Tip on the valid path. The caller ensures no Tip is open.
    pub fn open(&mut self, first_frame_safe_block: BlockNumber, drain_to: u64) -> &Batch {
        debug_assert!(self.tip().is_none(), "a second Tip would break invariant 1");
        let index = BatchIndex(self.batches.len() as u64);
        let drain_from = self.next_drain_from();
        let batch = Batch {
            index,
            parent: self.last_valid().map(|parent| parent.index),
            nonce: self.next_nonce(),
            first_frame_safe_block,
            drain_from,
            drain_to: drain_to.max(drain_from),
            sealed: None,
            valid: true,
            accepted: false,
            landed_safe: false,
        };
        self.batches.push(batch);
        self.valid_path.push(index);
        let last = self.batches.len() - 1;
        &self.batches[last]
    }

    /// Closes the Tip with its wire bytes; returns the closed batch, or `None` without a Tip.
    pub fn close_tip(&mut self, sealed: Sealed) -> Option<&Batch> {
        let index = self.tip()?.index;
        let batch = self.get_mut(index)?;
        batch.sealed = Some(sealed);
        Some(batch)
    }

    /// Invalidates every valid batch from `pivot` on; returns how many.
    pub fn invalidate_from(&mut self, pivot: BatchIndex) -> u64 {
        let Some(position) = self.valid_path.iter().position(|&index| index == pivot) else {
            return 0;
        };
        let doomed = self.valid_path.split_off(position);
        for &index in &doomed {
            if let Some(batch) = self.get_mut(index) {
                debug_assert!(!batch.accepted, "invariant 3: a Gold batch is never invalidated");
                batch.valid = false;
            }
        }
        doomed.len() as u64
    }

    /// Marks the valid batch at `nonce` accepted (Gold).
    pub(crate) fn mark_accepted(&mut self, nonce: BatchNonce) {
        if let Some(batch) = self.valid_at_nonce_mut(nonce) {
            batch.accepted = true;
        }
    }

    /// Marks the valid batch at `nonce` landed in a safe block but skipped (Silver).
    pub(crate) fn mark_landed_safe(&mut self, nonce: BatchNonce) {
        if let Some(batch) = self.valid_at_nonce_mut(nonce) {
            batch.landed_safe = true;
        }
    }

    /// Colors along the valid path. A batch never shows a color earlier in the order
    /// than its predecessor's, so a landing seen out of nonce order does not break the
    /// `Gold* Silver* Bronze* Pending* Tip` shape: it is not meaningful until its
    /// predecessors are.
    #[must_use]
    pub fn colors(&self, bronze_below: BatchNonce) -> Vec<(BatchIndex, Color)> {
        let mut colors = Vec::with_capacity(self.valid_path.len());
        colors.extend(self.color_iter(bronze_below));
        colors
    }

    /// [`BatchTree::colors`] without collecting them.
    pub fn color_iter(&self, bronze_below: BatchNonce) -> impl Iterator<Item = (BatchIndex, Color)> {
        let mut floor = Color::Gold;
        self.valid_path().map(move |batch| {
            let own = if batch.sealed.is_none() {
                Color::Tip
            } else if batch.accepted {
                Color::Gold
            } else if batch.landed_safe {
                Color::Silver
            } else if batch.nonce < bronze_below {
                Color::Bronze
            } else {
                Color::Pending
            };
            floor = floor.max(own);
            (batch.index, floor)
        })
    }
}
