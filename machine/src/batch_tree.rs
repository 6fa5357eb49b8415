//! docs/protocol.md §2: the batch tree. Batches are stored by index (creation order, never
//! reused); the valid path lists the indices from the root to the Tip, so the batch
//! with nonce `first_nonce + i` on the valid path is `valid_path[i]`. Old Gold batches
//! and dead branches leave the tree (docs/protocol.md §11.6, `prune.rs`): `base` is the index of the
//! first batch still stored, and `pruned` summarizes what left.

use crate::bytes::{Bytes, Hash32};
use crate::units::{BatchIndex, BatchNonce, BlockNumber, WalletNonce};

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
    /// The safe block and wallet nonce of the landing the scheduler accepted, once Gold:
    /// what pruning waits on (docs/protocol.md §11.6).
    pub accepted_at: Option<(BlockNumber, WalletNonce)>,
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
    /// The seal queue row it came from, when the seal carried one (docs/protocol.md §11.5).
    pub seal_id: Option<u64>,
}

/// The colors of docs/protocol.md §2, in the only order they may appear along the valid path.
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
    /// The stored batches: index `base + i` is `batches[i]`.
    batches: Vec<Batch>,
    valid_path: Vec<BatchIndex>,
    anchor: BatchNonce,
    /// The index of `batches[0]`: how many batches were pruned.
    base: u64,
    /// The nonce of `valid_path[0]`: the anchor plus the Gold batches pruned.
    first_nonce: BatchNonce,
    /// What left the tree.
    pruned: Pruned,
    /// How many batches were ever invalidated.
    invalidated: u64,
}

/// The running summary of the batches pruned (docs/protocol.md §11.6), so the state hash still
/// commits to the whole history.
#[derive(Clone, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Pruned {
    /// Batches removed, valid and invalidated.
    pub count: u64,
    /// The last valid-path batch removed: the parent of the first one kept.
    pub last_index: Option<BatchIndex>,
    /// Its nonce.
    pub last_nonce: Option<BatchNonce>,
    /// Where its drain ended: where the first kept batch's drain starts.
    pub drain_to: u64,
    /// blake3 chained over each removed batch's index, nonce, validity and wire hash.
    pub hash: Hash32,
}

impl Pruned {
    fn absorb(&mut self, batch: &Batch) {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&self.hash.0);
        hasher.update(&batch.index.0.to_be_bytes());
        hasher.update(&batch.nonce.0.to_be_bytes());
        hasher.update(&[u8::from(batch.valid)]);
        hasher.update(&batch.sealed.as_ref().map_or([0; 32], |sealed| sealed.wire_hash.0));
        self.hash = Hash32(*hasher.finalize().as_bytes());
        self.count += 1;
        if batch.valid {
            (self.last_index, self.last_nonce, self.drain_to) = (Some(batch.index), Some(batch.nonce), batch.drain_to);
        }
    }
}

impl BatchTree {
    /// An empty tree whose root will carry `anchor`.
    #[must_use]
    pub fn new(anchor: BatchNonce) -> Self {
        BatchTree { anchor, first_nonce: anchor, ..BatchTree::default() }
    }

    /// The root nonce.
    #[must_use]
    pub fn anchor(&self) -> BatchNonce {
        self.anchor
    }

    /// The nonce of the first batch on the stored valid path (the anchor until pruned).
    #[must_use]
    pub fn first_nonce(&self) -> BatchNonce {
        self.first_nonce
    }

    /// What was pruned.
    #[must_use]
    pub fn pruned(&self) -> &Pruned {
        &self.pruned
    }

    /// How many batches were ever invalidated, pruned ones included.
    #[must_use]
    pub fn invalidated(&self) -> u64 {
        self.invalidated
    }

    /// The index the next batch opened gets: how many batches were ever created.
    #[must_use]
    pub fn next_index(&self) -> BatchIndex {
        BatchIndex(self.base.saturating_add(self.batches.len() as u64))
    }

    /// How many batches the stored valid path holds.
    #[must_use]
    pub fn path_len(&self) -> usize {
        self.valid_path.len()
    }

    /// Every batch still stored (all batches ever created but the pruned ones), by index.
    #[must_use]
    pub fn batches(&self) -> &[Batch] {
        &self.batches
    }

    /// The batch with this index, unless pruned.
    #[must_use]
    pub fn get(&self, index: BatchIndex) -> Option<&Batch> {
        let offset = index.0.checked_sub(self.base)?;
        usize::try_from(offset).ok().and_then(|i| self.batches.get(i))
    }

    fn get_mut(&mut self, index: BatchIndex) -> Option<&mut Batch> {
        let offset = index.0.checked_sub(self.base)?;
        usize::try_from(offset).ok().and_then(|i| self.batches.get_mut(i))
    }

    /// The valid path, root first.
    pub fn valid_path(&self) -> impl DoubleEndedIterator<Item = &Batch> {
        // Indices on the valid path always name existing batches: they are pushed by `open` only.
        self.valid_path.iter().filter_map(|&index| self.get(index))
    }

    /// The valid path from the batch carrying `nonce` (or from the first stored one if
    /// `nonce` is below it) to the end.
    pub fn valid_from(&self, nonce: BatchNonce) -> impl Iterator<Item = &Batch> {
        let offset = usize::try_from(nonce.0.saturating_sub(self.first_nonce.0)).unwrap_or(usize::MAX);
        self.valid_path.get(offset..).unwrap_or_default().iter().filter_map(|&index| self.get(index))
    }

    /// The valid batch carrying `nonce`, if any.
    #[must_use]
    pub fn valid_at_nonce(&self, nonce: BatchNonce) -> Option<&Batch> {
        let offset = usize::try_from(nonce.0.checked_sub(self.first_nonce.0)?).ok()?;
        self.valid_path.get(offset).and_then(|&index| self.get(index))
    }

    fn valid_at_nonce_mut(&mut self, nonce: BatchNonce) -> Option<&mut Batch> {
        let offset = usize::try_from(nonce.0.checked_sub(self.first_nonce.0)?).ok()?;
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
        self.last_valid().map_or(self.first_nonce, |batch| batch.nonce.next())
    }

    /// Where the next batch's drain starts: after the last valid batch's drain.
    #[must_use]
    pub fn next_drain_from(&self) -> u64 {
        self.last_valid().map_or(self.pruned.drain_to, |batch| batch.drain_to)
    }

    /// Opens a Tip on the valid path. The caller ensures no Tip is open.
    pub fn open(&mut self, first_frame_safe_block: BlockNumber, drain_to: u64) -> &Batch {
        debug_assert!(self.tip().is_none(), "a second Tip would break invariant 1");
        let index = BatchIndex(self.base + self.batches.len() as u64);
        let drain_from = self.next_drain_from();
        let batch = Batch {
            index,
            parent: self.last_valid().map(|parent| parent.index).or(self.pruned.last_index),
            nonce: self.next_nonce(),
            first_frame_safe_block,
            drain_from,
            drain_to: drain_to.max(drain_from),
            sealed: None,
            valid: true,
            accepted: false,
            accepted_at: None,
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
        self.invalidated = self.invalidated.saturating_add(doomed.len() as u64);
        for &index in &doomed {
            if let Some(batch) = self.get_mut(index) {
                debug_assert!(!batch.accepted, "invariant 3: a Gold batch is never invalidated");
                batch.valid = false;
            }
        }
        doomed.len() as u64
    }

    /// Marks the valid batch at `nonce` accepted (Gold) by a landing in `block` at `w_nonce`.
    pub(crate) fn mark_accepted(&mut self, nonce: BatchNonce, block: BlockNumber, w_nonce: WalletNonce) {
        if let Some(batch) = self.valid_at_nonce_mut(nonce) {
            batch.accepted = true;
            batch.accepted_at = Some((block, w_nonce));
        }
    }

    /// Removes the longest prefix of stored batches that ends with a valid-path batch
    /// `done` lets go, where every batch may leave: a valid-path one when `done` says so
    /// (never the last of the path, which gives the next batch opened its parent, nonce
    /// and drain), an invalidated one always (it can never be valid again; it leaves
    /// with the settled batch after it, so a dead branch stays visible as long as the
    /// history around it). Only a prefix leaves, so indices stay dense; returns the
    /// batches that left.
    pub(crate) fn prune_prefix(&mut self, done: impl Fn(&Batch) -> bool) -> Vec<Batch> {
        let (mut leaving, mut on_path, mut scanned, mut scanned_on_path) = (0_usize, 0_usize, 0_usize, 0_usize);
        for batch in &self.batches {
            let path_next = self.valid_path.get(scanned_on_path) == Some(&batch.index);
            let may_leave =
                if path_next { scanned_on_path + 1 < self.valid_path.len() && done(batch) } else { !batch.valid };
            if !may_leave {
                break;
            }
            scanned += 1;
            if path_next {
                scanned_on_path += 1;
                (leaving, on_path) = (scanned, scanned_on_path);
            }
        }
        self.valid_path.drain(..on_path);
        // Never saturates: the last path batch stays, so this is at most its nonce.
        self.first_nonce = BatchNonce(self.first_nonce.0.saturating_add(on_path as u64));
        let left: Vec<Batch> = self.batches.drain(..leaving).collect();
        for batch in &left {
            self.pruned.absorb(batch);
        }
        self.base = self.base.saturating_add(leaving as u64);
        left
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
