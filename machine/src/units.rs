//! Newtypes for the quantities of docs/protocol.md, so that a wallet nonce can never be
//! passed where a batch nonce is expected.

use core::fmt;

use serde::{Deserialize, Serialize};

macro_rules! unit {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash,
            Serialize, Deserialize, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
        )]
        #[serde(transparent)]
        #[rkyv(derive(PartialEq, Eq, PartialOrd, Ord))]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

unit!(
    /// An L1 block number.
    BlockNumber
);
unit!(
    /// A batch's creation index: unique, never reused (docs/protocol.md §2).
    BatchIndex
);
unit!(
    /// A batch's scheduler nonce: its depth in the batch tree (docs/protocol.md §2).
    BatchNonce
);
unit!(
    /// The submitter account's Ethereum transaction nonce (docs/protocol.md §1).
    WalletNonce
);
unit!(
    /// Milliseconds since the Unix epoch, as read by the executor's clock.
    UnixMillis
);
unit!(
    /// The id of one local write, unique across process lifetimes.
    OpId
);

impl BlockNumber {
    /// Blocks from `earlier` to `self`, saturating at zero (docs/protocol.md §1).
    #[must_use]
    pub fn blocks_since(self, earlier: BlockNumber) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl BatchNonce {
    /// The next nonce, saturating. Only used where a successor exists: the tree never
    /// closes a batch at `u64::MAX` (a seal of that Tip is refused, such a landing is not
    /// adopted: ARCHITECTURE.md choice 70), so a batch opened after a closed one never
    /// saturates; the scheduler's fold saturates only when it accepts a landing at
    /// `u64::MAX`, which can only be foreign bytes (divergence, terminal). Whoever must
    /// tell a saturated nonce apart uses [`BatchNonce::checked_next`].
    #[must_use]
    pub fn next(self) -> BatchNonce {
        BatchNonce(self.0.saturating_add(1))
    }

    /// The next nonce, or `None` past `u64::MAX`: the batch at this nonce can have no
    /// successor.
    #[must_use]
    pub fn checked_next(self) -> Option<BatchNonce> {
        self.0.checked_add(1).map(BatchNonce)
    }
}

impl WalletNonce {
    /// The next wallet nonce, saturating for the same reason as [`BatchNonce::next`].
    #[must_use]
    pub fn next(self) -> WalletNonce {
        WalletNonce(self.0.saturating_add(1))
    }
}
