//! docs/protocol.md §3: the configuration, validated once, before anything is derived
//! from it or logged. `RawConfig` is the script's shape; `Config` is only built by
//! [`RawConfig::validate`], so holding one proves every rule held.

use serde::{Deserialize, Serialize};

use crate::bytes::Address;
use crate::fees::Wei;
use crate::units::BatchNonce;

/// The configuration as written in a `boot` event: fields with defaults may be omitted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Deployment chain id (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<u64>,
    /// The batch submitter address (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_submitter: Option<Address>,
    /// The inbox address (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbox: Option<Address>,
    /// Scheduler staleness bound, default 1200.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_wait_blocks: Option<u64>,
    /// Runway before max wait, default 300.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preemptive_margin_blocks: Option<u64>,
    /// L1 view too old after this many block-times, default `min(600, danger_threshold - 1)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1_read_stale_after_blocks: Option<u64>,
    /// Assumed L1 block time, default 12.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds_per_block: Option<u64>,
    /// Blocks a submission is watched for, default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation_depth: Option<u64>,
    /// Detector cadence, default 2000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detector_interval_ms: Option<u64>,
    /// Submitter cadence, default 1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submit_interval_ms: Option<u64>,
    /// The scheduler's starting `expected_nonce`, default 0 (docs/protocol.md §1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor_nonce: Option<u64>,
    /// The largest encoded batch a seal may produce, default 122,880 (docs/protocol.md §11.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_batch_bytes: Option<u64>,
    /// The block a first sync starts at: the inbox's deployment block, default 0 (docs/protocol.md §11.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_block: Option<u64>,
    /// The lowest priority fee a send bids, in wei, default 1 gwei (docs/protocol.md §11.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_tip_wei: Option<Wei>,
    /// A bid whose max fee would exceed this is held, not sent; default none (docs/protocol.md §11.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fee_cap_wei: Option<Wei>,
    /// How far a flush's no-op may exceed `max_fee_cap_wei`, default 3 (docs/protocol.md §11.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flush_cap_multiplier: Option<u64>,
    /// Block-times a pending send waits before it is re-priced, default 5 (docs/protocol.md §11.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resubmit_after_blocks: Option<u64>,
    /// Rebuild the Gold prefix from our own landings until the first seal (docs/protocol.md §11.7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopt_l1_history: Option<bool>,
    /// Blocks below the safe head an accepted batch stays in the state before it is
    /// pruned, default `2 × max_wait_blocks` (docs/protocol.md §11.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prune_after_blocks: Option<u64>,
}

/// The default `min_tip_wei`: 1 gwei, so a quiet chain's 1-wei suggestion never makes a
/// batch the last in line.
pub const DEFAULT_MIN_TIP_WEI: Wei = Wei(1_000_000_000);

/// The default `max_batch_bytes`: under geth's 128 KiB transaction size limit with room
/// for the transaction envelope (docs/protocol.md §11.4).
pub const DEFAULT_MAX_BATCH_BYTES: u64 = 122_880;

/// The largest `max_batch_bytes` accepted: a seal's record (payload plus the effects
/// that echo its wire bytes) must stay well inside the log's 64 MiB record limit.
pub const MAX_MAX_BATCH_BYTES: u64 = 32 * 1024 * 1024;

/// One variant per rule of docs/protocol.md §3, so tests match on the rule, not on prose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required identity field is absent.
    #[error("config field `{field}` is required; set it in the boot config")]
    Missing {
        /// The absent field.
        field: &'static str,
    },
    /// `max_wait_blocks` must be positive.
    #[error("max_wait_blocks must be > 0 (found 0)")]
    MaxWaitZero,
    /// `preemptive_margin_blocks` must be positive.
    #[error("preemptive_margin_blocks must be > 0 (found 0)")]
    MarginZero,
    /// The margin must leave a danger zone below max wait.
    #[error(
        "preemptive_margin_blocks ({margin_blocks}) must be < max_wait_blocks ({max_wait_blocks}); lower the margin or raise max wait"
    )]
    MarginNotBelowMaxWait {
        /// The configured margin.
        margin_blocks: u64,
        /// The configured max wait.
        max_wait_blocks: u64,
    },
    /// `l1_read_stale_after_blocks` must be positive.
    #[error("l1_read_stale_after_blocks must be > 0 (found 0)")]
    StaleAfterZero,
    /// The stale window must end before the danger threshold.
    #[error(
        "l1_read_stale_after_blocks ({stale_after_blocks}) must be < danger threshold ({danger_threshold_blocks} = max_wait_blocks - preemptive_margin_blocks)"
    )]
    StaleAfterNotBelowThreshold {
        /// The configured stale window.
        stale_after_blocks: u64,
        /// The derived danger threshold.
        danger_threshold_blocks: u64,
    },
    /// `seconds_per_block` must be positive.
    #[error("seconds_per_block must be > 0 (found 0)")]
    SecondsPerBlockZero,
    /// The stale window in seconds must fit in `u64`.
    #[error(
        "l1_read_stale_after_blocks ({stale_after_blocks}) * seconds_per_block ({seconds_per_block}) overflows u64; lower one of them"
    )]
    StaleWindowOverflows {
        /// The configured stale window.
        stale_after_blocks: u64,
        /// The configured block time.
        seconds_per_block: u64,
    },
    /// The anchor must leave a nonce for the batch after it (ARCHITECTURE.md choice 70).
    #[error(
        "anchor_nonce ({anchor}) leaves no room: the batch after the anchor batch would need a nonce past u64::MAX; the largest anchor is {}",
        u64::MAX - 1
    )]
    AnchorNoRoom {
        /// The configured anchor (`u64::MAX`).
        anchor: u64,
    },
    /// `detector_interval_ms` must be positive.
    #[error("detector_interval_ms must be > 0 (found 0)")]
    DetectorIntervalZero,
    /// `submit_interval_ms` must be positive.
    #[error("submit_interval_ms must be > 0 (found 0)")]
    SubmitIntervalZero,
    /// `max_batch_bytes` must leave room for a payload and keep a seal's log record small.
    #[error(
        "max_batch_bytes ({found}) must be > {header} (the wire header) and <= 33554432 (a seal's log record must stay far below the log's 64 MiB record limit); the default is 122880"
    )]
    MaxBatchBytesTooSmall {
        /// The configured limit.
        found: u64,
        /// The wire header size.
        header: u64,
    },
    /// `flush_cap_multiplier` must be at least 1: a flush may exceed the cap, never undercut it.
    #[error("flush_cap_multiplier must be >= 1 (found 0); the default is 3")]
    FlushCapMultiplierZero,
    /// `resubmit_after_blocks` must be positive.
    #[error("resubmit_after_blocks must be > 0 (found 0); the default is 5")]
    ResubmitAfterZero,
    /// A fee cap below the minimum tip could never send anything.
    #[error(
        "max_fee_cap_wei ({cap}) must be >= min_tip_wei ({min_tip}): no bid could ever be sent; raise the cap or lower the minimum tip"
    )]
    FeeCapBelowMinTip {
        /// The configured cap.
        cap: Wei,
        /// The configured minimum tip.
        min_tip: Wei,
    },
}

/// A configuration that passed every rule of docs/protocol.md §3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Config {
    chain_id: u64,
    batch_submitter: Address,
    inbox: Address,
    max_wait_blocks: u64,
    preemptive_margin_blocks: u64,
    l1_read_stale_after_blocks: u64,
    seconds_per_block: u64,
    confirmation_depth: u64,
    detector_interval_ms: u64,
    submit_interval_ms: u64,
    anchor_nonce: u64,
    max_batch_bytes: u64,
    start_block: u64,
    min_tip_wei: Wei,
    max_fee_cap_wei: Option<Wei>,
    flush_cap_multiplier: u64,
    resubmit_after_blocks: u64,
    adopt_l1_history: bool,
    prune_after_blocks: u64,
}

impl RawConfig {
    /// Applies defaults and checks every rule, in the order of docs/protocol.md §3.
    /// Nothing is derived before the rule that makes the derivation safe has passed.
    ///
    /// # Errors
    /// The first [`ConfigError`] rule that fails.
    pub fn validate(&self) -> Result<Config, ConfigError> {
        let max_wait_blocks = self.max_wait_blocks.unwrap_or(1200);
        if max_wait_blocks == 0 {
            return Err(ConfigError::MaxWaitZero);
        }
        let preemptive_margin_blocks = self.preemptive_margin_blocks.unwrap_or(300);
        if preemptive_margin_blocks == 0 {
            return Err(ConfigError::MarginZero);
        }
        if preemptive_margin_blocks >= max_wait_blocks {
            return Err(ConfigError::MarginNotBelowMaxWait {
                margin_blocks: preemptive_margin_blocks,
                max_wait_blocks,
            });
        }
        // Safe: margin < max wait was checked just above.
        let danger_threshold_blocks = max_wait_blocks - preemptive_margin_blocks;
        let l1_read_stale_after_blocks =
            self.l1_read_stale_after_blocks.unwrap_or_else(|| 600.min(danger_threshold_blocks.saturating_sub(1)));
        if l1_read_stale_after_blocks == 0 {
            return Err(ConfigError::StaleAfterZero);
        }
        if l1_read_stale_after_blocks >= danger_threshold_blocks {
            return Err(ConfigError::StaleAfterNotBelowThreshold {
                stale_after_blocks: l1_read_stale_after_blocks,
                danger_threshold_blocks,
            });
        }
        let seconds_per_block = self.seconds_per_block.unwrap_or(12);
        if seconds_per_block == 0 {
            return Err(ConfigError::SecondsPerBlockZero);
        }
        if l1_read_stale_after_blocks.checked_mul(seconds_per_block).is_none() {
            return Err(ConfigError::StaleWindowOverflows {
                stale_after_blocks: l1_read_stale_after_blocks,
                seconds_per_block,
            });
        }
        let chain_id = self.chain_id.ok_or(ConfigError::Missing { field: "chain_id" })?;
        let batch_submitter = self.batch_submitter.ok_or(ConfigError::Missing { field: "batch_submitter" })?;
        let inbox = self.inbox.ok_or(ConfigError::Missing { field: "inbox" })?;
        let anchor_nonce = self.anchor_nonce.unwrap_or(0);
        if anchor_nonce == u64::MAX {
            return Err(ConfigError::AnchorNoRoom { anchor: anchor_nonce });
        }
        let detector_interval_ms = self.detector_interval_ms.unwrap_or(2000);
        if detector_interval_ms == 0 {
            return Err(ConfigError::DetectorIntervalZero);
        }
        let submit_interval_ms = self.submit_interval_ms.unwrap_or(1000);
        if submit_interval_ms == 0 {
            return Err(ConfigError::SubmitIntervalZero);
        }
        let max_batch_bytes = self.max_batch_bytes.unwrap_or(DEFAULT_MAX_BATCH_BYTES);
        if max_batch_bytes <= crate::wire::HEADER_LEN as u64 || max_batch_bytes > MAX_MAX_BATCH_BYTES {
            return Err(ConfigError::MaxBatchBytesTooSmall {
                found: max_batch_bytes,
                header: crate::wire::HEADER_LEN as u64,
            });
        }
        let flush_cap_multiplier = self.flush_cap_multiplier.unwrap_or(3);
        if flush_cap_multiplier == 0 {
            return Err(ConfigError::FlushCapMultiplierZero);
        }
        let resubmit_after_blocks = self.resubmit_after_blocks.unwrap_or(5);
        if resubmit_after_blocks == 0 {
            return Err(ConfigError::ResubmitAfterZero);
        }
        let min_tip_wei = self.min_tip_wei.unwrap_or(DEFAULT_MIN_TIP_WEI);
        if let Some(cap) = self.max_fee_cap_wei
            && cap < min_tip_wei
        {
            return Err(ConfigError::FeeCapBelowMinTip { cap, min_tip: min_tip_wei });
        }
        Ok(Config {
            chain_id,
            batch_submitter,
            inbox,
            max_wait_blocks,
            preemptive_margin_blocks,
            l1_read_stale_after_blocks,
            seconds_per_block,
            confirmation_depth: self.confirmation_depth.unwrap_or(1),
            detector_interval_ms,
            submit_interval_ms,
            anchor_nonce,
            max_batch_bytes,
            start_block: self.start_block.unwrap_or(0),
            min_tip_wei,
            max_fee_cap_wei: self.max_fee_cap_wei,
            flush_cap_multiplier,
            resubmit_after_blocks,
            adopt_l1_history: self.adopt_l1_history.unwrap_or(false),
            prune_after_blocks: self.prune_after_blocks.unwrap_or(max_wait_blocks.saturating_mul(2)),
        })
    }
}

impl Config {
    /// The deployment's chain id.
    #[must_use]
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }
    /// The batch submitter address.
    #[must_use]
    pub fn batch_submitter(&self) -> Address {
        self.batch_submitter
    }
    /// The inbox address.
    #[must_use]
    pub fn inbox(&self) -> Address {
        self.inbox
    }
    /// Scheduler staleness bound.
    #[must_use]
    pub fn max_wait_blocks(&self) -> u64 {
        self.max_wait_blocks
    }
    /// Runway before max wait.
    #[must_use]
    pub fn preemptive_margin_blocks(&self) -> u64 {
        self.preemptive_margin_blocks
    }
    /// `max_wait_blocks - preemptive_margin_blocks`; positive by validation.
    #[must_use]
    pub fn danger_threshold_blocks(&self) -> u64 {
        self.max_wait_blocks - self.preemptive_margin_blocks
    }
    /// L1 view stale after this many block-times.
    #[must_use]
    pub fn l1_read_stale_after_blocks(&self) -> u64 {
        self.l1_read_stale_after_blocks
    }
    /// The stale window in seconds; cannot overflow by validation.
    #[must_use]
    pub fn stale_after_s(&self) -> u64 {
        self.l1_read_stale_after_blocks.saturating_mul(self.seconds_per_block)
    }
    /// Assumed L1 block time.
    #[must_use]
    pub fn seconds_per_block(&self) -> u64 {
        self.seconds_per_block
    }
    /// One block-time in milliseconds (saturating: a block time that large is absurd, not an error).
    #[must_use]
    pub fn block_time_ms(&self) -> u64 {
        self.seconds_per_block.saturating_mul(1000)
    }
    /// Blocks a submission is watched for.
    #[must_use]
    pub fn confirmation_depth(&self) -> u64 {
        self.confirmation_depth
    }
    /// Detector cadence.
    #[must_use]
    pub fn detector_interval_ms(&self) -> u64 {
        self.detector_interval_ms
    }
    /// Submitter cadence.
    #[must_use]
    pub fn submit_interval_ms(&self) -> u64 {
        self.submit_interval_ms
    }
    /// The scheduler's starting `expected_nonce`.
    #[must_use]
    pub fn anchor_nonce(&self) -> BatchNonce {
        BatchNonce(self.anchor_nonce)
    }
    /// The largest encoded batch a seal may produce.
    #[must_use]
    pub fn max_batch_bytes(&self) -> u64 {
        self.max_batch_bytes
    }
    /// The block a first sync starts at.
    #[must_use]
    pub fn start_block(&self) -> crate::units::BlockNumber {
        crate::units::BlockNumber(self.start_block)
    }
    /// The lowest priority fee a send bids.
    #[must_use]
    pub fn min_tip_wei(&self) -> Wei {
        self.min_tip_wei
    }
    /// The highest max fee a batch send may bid, if capped.
    #[must_use]
    pub fn max_fee_cap_wei(&self) -> Option<Wei> {
        self.max_fee_cap_wei
    }
    /// How far a no-op may exceed the cap.
    #[must_use]
    pub fn flush_cap_multiplier(&self) -> u64 {
        self.flush_cap_multiplier
    }
    /// Block-times a pending send waits before it is re-priced.
    #[must_use]
    pub fn resubmit_after_blocks(&self) -> u64 {
        self.resubmit_after_blocks
    }
    /// Whether our own landings rebuild the Gold prefix until the first seal (docs/protocol.md §11.7).
    #[must_use]
    pub fn adopt_l1_history(&self) -> bool {
        self.adopt_l1_history
    }
    /// Blocks below the safe head an accepted batch stays before it is pruned (docs/protocol.md §11.6).
    #[must_use]
    pub fn prune_after_blocks(&self) -> u64 {
        self.prune_after_blocks
    }
    /// The log's identity fields (docs/protocol.md §11.3) that differ between `self` (the stored
    /// config) and `next` (a later boot's), first difference first.
    #[must_use]
    pub fn identity_change(&self, next: &Config) -> Option<IdentityChange> {
        if self.chain_id != next.chain_id {
            return Some(IdentityChange::ChainId { old: self.chain_id, new: next.chain_id });
        }
        if self.batch_submitter != next.batch_submitter {
            return Some(IdentityChange::BatchSubmitter { old: self.batch_submitter, new: next.batch_submitter });
        }
        if self.inbox != next.inbox {
            return Some(IdentityChange::Inbox { old: self.inbox, new: next.inbox });
        }
        if self.anchor_nonce != next.anchor_nonce {
            return Some(IdentityChange::AnchorNonce { old: self.anchor_nonce, new: next.anchor_nonce });
        }
        None
    }
    /// Every other field that differs, as `(name, old, new)` (docs/protocol.md §11.3: noted, allowed).
    /// Values are `None` where a field is unset (no fee cap).
    #[must_use]
    pub fn tuning_changes(&self, next: &Config) -> Vec<(&'static str, Option<u128>, Option<u128>)> {
        let pair = |old: u64, new: u64| (Some(u128::from(old)), Some(u128::from(new)));
        [
            ("max_wait_blocks", pair(self.max_wait_blocks, next.max_wait_blocks)),
            ("preemptive_margin_blocks", pair(self.preemptive_margin_blocks, next.preemptive_margin_blocks)),
            ("l1_read_stale_after_blocks", pair(self.l1_read_stale_after_blocks, next.l1_read_stale_after_blocks)),
            ("seconds_per_block", pair(self.seconds_per_block, next.seconds_per_block)),
            ("confirmation_depth", pair(self.confirmation_depth, next.confirmation_depth)),
            ("detector_interval_ms", pair(self.detector_interval_ms, next.detector_interval_ms)),
            ("submit_interval_ms", pair(self.submit_interval_ms, next.submit_interval_ms)),
            ("max_batch_bytes", pair(self.max_batch_bytes, next.max_batch_bytes)),
            ("start_block", pair(self.start_block, next.start_block)),
            ("min_tip_wei", (Some(self.min_tip_wei.0), Some(next.min_tip_wei.0))),
            ("max_fee_cap_wei", (self.max_fee_cap_wei.map(|w| w.0), next.max_fee_cap_wei.map(|w| w.0))),
            ("flush_cap_multiplier", pair(self.flush_cap_multiplier, next.flush_cap_multiplier)),
            ("resubmit_after_blocks", pair(self.resubmit_after_blocks, next.resubmit_after_blocks)),
            ("adopt_l1_history", pair(u64::from(self.adopt_l1_history), u64::from(next.adopt_l1_history))),
            ("prune_after_blocks", pair(self.prune_after_blocks, next.prune_after_blocks)),
        ]
        .into_iter()
        .filter(|&(_, (old, new))| old != new)
        .map(|(name, (old, new))| (name, old, new))
        .collect()
    }
    /// How long a batch send is watched before it is retried: `confirmation_depth`
    /// block-times (at least one).
    #[must_use]
    pub fn submission_watch_ms(&self) -> u64 {
        self.block_time_ms().saturating_mul(self.confirmation_depth.max(1))
    }

    /// A flush watch times out after ten block-times (docs/protocol.md §7 step 5).
    #[must_use]
    pub fn flush_watch_ms(&self) -> u64 {
        self.block_time_ms().saturating_mul(10)
    }
}

/// A change of the log's identity between boots (docs/protocol.md §11.3): refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[expect(missing_docs, reason = "`old` is the stored value, `new` the later boot's")]
pub enum IdentityChange {
    /// `chain_id`: stored, new.
    ChainId { old: u64, new: u64 },
    /// `batch_submitter` (the key's address): stored, new.
    BatchSubmitter { old: Address, new: Address },
    /// `inbox`: stored, new.
    Inbox { old: Address, new: Address },
    /// `anchor_nonce`: stored, new.
    AnchorNonce { old: u64, new: u64 },
}

impl core::fmt::Display for IdentityChange {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (field, old, new) = match self {
            IdentityChange::ChainId { old, new } => ("chain_id", old.to_string(), new.to_string()),
            IdentityChange::BatchSubmitter { old, new } => ("batch_submitter", old.to_string(), new.to_string()),
            IdentityChange::Inbox { old, new } => ("inbox", old.to_string(), new.to_string()),
            IdentityChange::AnchorNonce { old, new } => ("anchor_nonce", old.to_string(), new.to_string()),
        };
        write!(
            f,
            "`{field}` is {new} but this log was started with {old}; a log belongs to one deployment: restore the old value or start a new log"
        )
    }
}
