//! Where the adapter's safe head comes from: the node's `safe` tag, or `latest − N` when
//! the operator set a safe depth because the node's tag means nothing (dev nodes such as
//! hardhat's EDR report `safe` = `latest`). ARCHITECTURE.md choice 46.

use alloy::eips::BlockNumberOrTag;
use alloy::providers::Provider as _;

use super::{BlockFacts, EthL1};
use crate::error::L1Error;

/// The safe head's number and what a sync needs of its block.
pub(super) struct SafeHead {
    pub(super) number: u64,
    pub(super) facts: BlockFacts,
}

impl EthL1 {
    /// The same adapter with the safe head computed as `latest − depth` instead of read
    /// from the node's `safe` tag.
    #[must_use]
    pub fn with_safe_depth(mut self, depth: Option<u64>) -> Self {
        self.safe_depth = depth;
        self
    }

    /// The safe head's number: the `safe` tag's block, or `latest − safe_depth`.
    pub(super) fn safe_number(&self) -> Result<u64, L1Error> {
        match self.safe_depth {
            Some(depth) => Ok(self.block_on(self.provider.get_block_number())?.saturating_sub(depth)),
            None => self.tag_number(BlockNumberOrTag::Safe),
        }
    }

    /// The safe head with its block's timestamp and hashes (one block read for the tag).
    pub(super) fn safe_head(&self) -> Result<SafeHead, L1Error> {
        let tag = match self.safe_depth {
            Some(_) => BlockNumberOrTag::Number(self.safe_number()?),
            None => BlockNumberOrTag::Safe,
        };
        let block = self
            .block_on(self.provider.get_block_by_number(tag))?
            .ok_or_else(|| L1Error::Malformed(format!("no {tag} block")))?;
        let facts = BlockFacts {
            timestamp: block.header.timestamp,
            hash: machine::Hash32(block.header.hash.0),
            parent_hash: machine::Hash32(block.header.parent_hash.0),
        };
        Ok(SafeHead { number: block.header.number, facts })
    }

    /// Whether the node's `safe` tag can be trusted as a safe head (checked at boot when
    /// no safe depth is set). `Err` is a failed read (the node is unreachable, answers an
    /// error, an empty or malformed answer: nothing can be judged); `Ok(Err(why))` is a
    /// well-formed answer that shows the tag unusable (safe = latest), with what to do.
    ///
    /// # Errors
    /// A failed read.
    pub fn check_safe_tag(&self) -> Result<Result<(), String>, L1Error> {
        const HINT: &str = "start `seqrec run` with `--safe-depth N` (or SEQREC_SAFE_DEPTH), which takes latest − N \
                            as the safe head: N = 64 is about mainnet's finality, and N must be at least the \
                            deepest reorg you expect";
        if self.safe_depth.is_some() {
            return Ok(Ok(()));
        }
        // `safe` first, then `latest`: on a sound node a block mined between the two reads
        // only widens the gap, so equality is never a race. An error or an empty answer
        // is a failed read, not a verdict on the tag: a flaky node or proxy answers so at
        // one contact and not the next, and exiting 78 for it would stop the service for
        // good (issue 18, item 9). A node that never serves the tag fails every contact,
        // each time saying so and what to do.
        let safe = match self.block_on(self.provider.get_block_by_number(BlockNumberOrTag::Safe)) {
            Ok(Some(block)) => block.header.number,
            Ok(None) => {
                return Err(L1Error::Malformed(format!(
                    "the node has no `safe` block (an empty answer); if this lasts, {HINT}"
                )));
            }
            Err(L1Error::Rpc { code, message }) => {
                return Err(L1Error::Rpc {
                    code,
                    message: format!("the node refuses the `safe` block tag ({message}); if this lasts, {HINT}"),
                });
            }
            Err(error) => return Err(error),
        };
        let latest = self.block_on(self.provider.get_block_number())?;
        // At genesis nothing tells a dev node from a fresh chain; later, a safe head at the
        // very tip is a node that does not follow consensus (hardhat, a dev-mode node).
        if safe == latest && latest > 0 {
            return Ok(Err(format!(
                "the node reports its `safe` block at the head (safe = latest = {latest}), as dev nodes do: \
                 a batch would count as safe the moment it lands; {HINT}"
            )));
        }
        Ok(Ok(()))
    }
}
