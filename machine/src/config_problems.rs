//! Every rule of a configuration that fails, not only the first: what `seqrec run`
//! prints before it touches a file, so an operator fixes a config in one go. The core
//! still decides with [`RawConfig::validate`] (the first failing rule, in docs/protocol.md §3
//! order); a test checks that both agree on which rule comes first.

use crate::config::{ConfigError, DEFAULT_MAX_BATCH_BYTES, DEFAULT_MIN_TIP_WEI, MAX_MAX_BATCH_BYTES, RawConfig};

impl RawConfig {
    /// Every rule that fails, in the order [`RawConfig::validate`] checks them; a rule
    /// derived from others (the danger threshold, the stale window) is judged only when
    /// the values it derives from are valid, so one mistake is reported once.
    #[must_use]
    pub fn problems(&self) -> Vec<ConfigError> {
        let mut found = Vec::new();
        let max_wait_blocks = self.max_wait_blocks.unwrap_or(1200);
        if max_wait_blocks == 0 {
            found.push(ConfigError::MaxWaitZero);
        }
        let margin_blocks = self.preemptive_margin_blocks.unwrap_or(300);
        if margin_blocks == 0 {
            found.push(ConfigError::MarginZero);
        }
        let threshold = (max_wait_blocks > 0 && margin_blocks > 0).then(|| max_wait_blocks.checked_sub(margin_blocks));
        if threshold == Some(None) || threshold == Some(Some(0)) {
            found.push(ConfigError::MarginNotBelowMaxWait { margin_blocks, max_wait_blocks });
        }
        let threshold = threshold.flatten().filter(|&blocks| blocks > 0);
        let stale_after_blocks =
            self.l1_read_stale_after_blocks.or_else(|| threshold.map(|blocks| 600.min(blocks.saturating_sub(1))));
        match (stale_after_blocks, threshold) {
            (Some(0), _) => found.push(ConfigError::StaleAfterZero),
            (Some(stale), Some(blocks)) if stale >= blocks => found.push(ConfigError::StaleAfterNotBelowThreshold {
                stale_after_blocks: stale,
                danger_threshold_blocks: blocks,
            }),
            _ => {}
        }
        let seconds_per_block = self.seconds_per_block.unwrap_or(12);
        if seconds_per_block == 0 {
            found.push(ConfigError::SecondsPerBlockZero);
        } else if let Some(stale) = stale_after_blocks.filter(|&stale| stale.checked_mul(seconds_per_block).is_none()) {
            found.push(ConfigError::StaleWindowOverflows { stale_after_blocks: stale, seconds_per_block });
        }
        for (value, field) in
            [(self.chain_id.is_none(), "chain_id"), (self.batch_submitter.is_none(), "batch_submitter")]
                .into_iter()
                .chain([(self.inbox.is_none(), "inbox")])
        {
            if value {
                found.push(ConfigError::Missing { field });
            }
        }
        if let Some(anchor) = self.anchor_nonce.filter(|&anchor| anchor == u64::MAX) {
            found.push(ConfigError::AnchorNoRoom { anchor });
        }
        if self.detector_interval_ms == Some(0) {
            found.push(ConfigError::DetectorIntervalZero);
        }
        if self.submit_interval_ms == Some(0) {
            found.push(ConfigError::SubmitIntervalZero);
        }
        let max_batch_bytes = self.max_batch_bytes.unwrap_or(DEFAULT_MAX_BATCH_BYTES);
        let header = crate::wire::HEADER_LEN as u64;
        if max_batch_bytes <= header || max_batch_bytes > MAX_MAX_BATCH_BYTES {
            found.push(ConfigError::MaxBatchBytesTooSmall { found: max_batch_bytes, header });
        }
        if self.flush_cap_multiplier == Some(0) {
            found.push(ConfigError::FlushCapMultiplierZero);
        }
        if self.resubmit_after_blocks == Some(0) {
            found.push(ConfigError::ResubmitAfterZero);
        }
        let min_tip = self.min_tip_wei.unwrap_or(DEFAULT_MIN_TIP_WEI);
        if let Some(cap) = self.max_fee_cap_wei.filter(|&cap| cap < min_tip) {
            found.push(ConfigError::FeeCapBelowMinTip { cap, min_tip });
        }
        found
    }
}

impl ConfigError {
    /// The configuration key to change (a `RawConfig` field; `seqrec run` maps it to its
    /// flag, environment variable and config file key).
    #[must_use]
    pub fn key(&self) -> &'static str {
        match self {
            ConfigError::Missing { field } => field,
            ConfigError::MaxWaitZero => "max_wait_blocks",
            ConfigError::MarginZero | ConfigError::MarginNotBelowMaxWait { .. } => "preemptive_margin_blocks",
            ConfigError::StaleAfterZero
            | ConfigError::StaleAfterNotBelowThreshold { .. }
            | ConfigError::StaleWindowOverflows { .. } => "l1_read_stale_after_blocks",
            ConfigError::SecondsPerBlockZero => "seconds_per_block",
            ConfigError::AnchorNoRoom { .. } => "anchor_nonce",
            ConfigError::DetectorIntervalZero => "detector_interval_ms",
            ConfigError::SubmitIntervalZero => "submit_interval_ms",
            ConfigError::MaxBatchBytesTooSmall { .. } => "max_batch_bytes",
            ConfigError::FlushCapMultiplierZero => "flush_cap_multiplier",
            ConfigError::ResubmitAfterZero => "resubmit_after_blocks",
            ConfigError::FeeCapBelowMinTip { .. } => "max_fee_cap_wei",
        }
    }
}
