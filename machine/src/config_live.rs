//! The rules a live node keeps on top of docs/protocol.md §3 (issue 18, item 12): a config
//! the core accepts may still switch the safety net off on a real chain — a detector that
//! never runs within the margin, a submitter that never re-sends within it, a hung node
//! call outlasting the stale window, a tip floor no bid can pay. They are not part of
//! [`RawConfig::validate`](crate::RawConfig::validate), so every recorded log and the
//! model checker's coarse worlds (one tick per block, a margin of one block) keep
//! replaying as they did: `seqrec run` applies them before it touches a file
//! (ARCHITECTURE.md choice 76).

use crate::config::Config;
use crate::fees::Wei;

/// The highest `min_tip_wei` a live node accepts without a fee cap: 10,000 gwei. A floor
/// above it bids more than any chain has asked for a priority fee (a 21,000-gas no-op
/// would tip 0.21 ETH); with `max_fee_cap_wei` set, the tip must also stay within the cap.
pub const MAX_MIN_TIP_WEI: Wei = Wei(10_000_000_000_000);

/// One live rule that fails, with the values that break it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LiveConfigError {
    /// The detector must run at least once within the margin.
    #[error(
        "detector_interval_ms ({interval_ms}) must be < the margin's duration ({margin_ms} ms = preemptive_margin_blocks × seconds_per_block): a batch could enter the danger zone and pass max wait between two detector runs"
    )]
    DetectorIntervalNotBelowMargin {
        /// The configured detector interval.
        interval_ms: u64,
        /// `preemptive_margin_blocks × seconds_per_block`, in ms.
        margin_ms: u64,
    },
    /// The submitter must run at least once within the margin.
    #[error(
        "submit_interval_ms ({interval_ms}) must be < the margin's duration ({margin_ms} ms = preemptive_margin_blocks × seconds_per_block): no submit round could send or re-send a batch within the margin"
    )]
    SubmitIntervalNotBelowMargin {
        /// The configured submit interval.
        interval_ms: u64,
        /// `preemptive_margin_blocks × seconds_per_block`, in ms.
        margin_ms: u64,
    },
    /// A pending send must be re-priced within the margin.
    #[error(
        "resubmit_after_blocks ({resubmit_after_blocks}) must be <= preemptive_margin_blocks ({margin_blocks}): a send stuck at a stale price would not be re-priced within the margin"
    )]
    ResubmitAfterAboveMargin {
        /// The configured re-pricing delay.
        resubmit_after_blocks: u64,
        /// The configured margin.
        margin_blocks: u64,
    },
    /// A node call must time out before the L1 view goes stale.
    #[error(
        "rpc_timeout_ms ({timeout_ms}) must be < the stale window ({stale_window_ms} ms = l1_read_stale_after_blocks × seconds_per_block): a hung node would not count as a failed read before the view is stale"
    )]
    RpcTimeoutNotBelowStaleWindow {
        /// The configured timeout.
        timeout_ms: u64,
        /// The stale window, in ms.
        stale_window_ms: u64,
    },
    /// A tip floor above any payable tip.
    #[error(
        "min_tip_wei ({min_tip}) must be <= {max} (10,000 gwei): a higher floor makes every bid unpayable; set --max-fee-cap-wei as well to bound what is paid"
    )]
    MinTipTooHigh {
        /// The configured floor.
        min_tip: Wei,
        /// [`MAX_MIN_TIP_WEI`].
        max: Wei,
    },
}

impl LiveConfigError {
    /// The setting to change (a `RawConfig` field, or `rpc_timeout_ms`, the node's own).
    #[must_use]
    pub fn key(&self) -> &'static str {
        match self {
            LiveConfigError::DetectorIntervalNotBelowMargin { .. } => "detector_interval_ms",
            LiveConfigError::SubmitIntervalNotBelowMargin { .. } => "submit_interval_ms",
            LiveConfigError::ResubmitAfterAboveMargin { .. } => "resubmit_after_blocks",
            LiveConfigError::RpcTimeoutNotBelowStaleWindow { .. } => "rpc_timeout_ms",
            LiveConfigError::MinTipTooHigh { .. } => "min_tip_wei",
        }
    }
}

impl Config {
    /// The margin's duration: `preemptive_margin_blocks × seconds_per_block`, in ms
    /// (saturating).
    #[must_use]
    pub fn margin_ms(&self) -> u64 {
        self.preemptive_margin_blocks().saturating_mul(self.block_time_ms())
    }

    /// Every live rule that fails for a node whose RPC calls time out after
    /// `rpc_timeout_ms`, in the order of the config's fields.
    #[must_use]
    pub fn live_problems(&self, rpc_timeout_ms: u64) -> Vec<LiveConfigError> {
        let mut found = Vec::new();
        let margin_ms = self.margin_ms();
        if self.detector_interval_ms() >= margin_ms {
            found.push(LiveConfigError::DetectorIntervalNotBelowMargin {
                interval_ms: self.detector_interval_ms(),
                margin_ms,
            });
        }
        if self.submit_interval_ms() >= margin_ms {
            found.push(LiveConfigError::SubmitIntervalNotBelowMargin {
                interval_ms: self.submit_interval_ms(),
                margin_ms,
            });
        }
        if self.min_tip_wei() > MAX_MIN_TIP_WEI {
            found.push(LiveConfigError::MinTipTooHigh { min_tip: self.min_tip_wei(), max: MAX_MIN_TIP_WEI });
        }
        if self.resubmit_after_blocks() > self.preemptive_margin_blocks() {
            found.push(LiveConfigError::ResubmitAfterAboveMargin {
                resubmit_after_blocks: self.resubmit_after_blocks(),
                margin_blocks: self.preemptive_margin_blocks(),
            });
        }
        let stale_window_ms = self.stale_after_s().saturating_mul(1000);
        if rpc_timeout_ms >= stale_window_ms {
            found.push(LiveConfigError::RpcTimeoutNotBelowStaleWindow { timeout_ms: rpc_timeout_ms, stale_window_ms });
        }
        found
    }
}
