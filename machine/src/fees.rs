//! docs/protocol.md §11.1: fees and gas are decided here, so every bid is in the log with its reason.
//! The adapter reports the node's fee observations in `wallet` and signs exactly the bid
//! a `submit` or `noop` effect carries.

use core::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::Config;
use crate::flush::{Fees, noop_fees};
use crate::state::Slot;

/// An amount of wei (here always per gas). Written as a decimal string in events, effects
/// and config: wei amounts exceed 2^53, where JSON numbers stop being exact.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
#[rkyv(derive(PartialEq, Eq, PartialOrd, Ord))]
pub struct Wei(pub u128);

/// `{}` writes the exact wei amount (`105031607638`), as traces and `# check:` lines
/// compare it; `{:#}` writes it for a person, in gwei with digit grouping and a few
/// decimals (`105.03 gwei`), as the audit and `run`'s logs show it (ARCHITECTURE.md
/// choice 79).
impl fmt::Display for Wei {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() { f.write_str(&gwei_text(self.0)) } else { fmt::Display::fmt(&self.0, f) }
    }
}

const WEI_PER_GWEI: u128 = 1_000_000_000;

/// `wei` in gwei for a person: two decimals from 1 gwei up (`105.03 gwei`, `1.1 gwei`,
/// `12,345 gwei`), three significant digits below (`0.00105 gwei`), trailing zeros
/// dropped; exact in integers, rounded half up.
#[must_use]
pub fn gwei_text(wei: u128) -> String {
    if wei == 0 {
        return "0 gwei".to_owned();
    }
    // The decimals kept: 2 from 1 gwei up, else enough for three significant digits.
    let decimals: u32 = if wei >= WEI_PER_GWEI { 2 } else { 9 - wei.ilog10().min(8) + 2 };
    let decimals = decimals.min(9);
    let unit = 10_u128.pow(9 - decimals);
    let rounded = wei / unit + u128::from(wei % unit >= unit.div_ceil(2) && unit > 1);
    let scale = 10_u128.pow(decimals);
    let (whole, fraction) = (rounded / scale, rounded % scale);
    let mut text = grouped(whole);
    if fraction > 0 {
        let digits = format!("{fraction:0width$}", width = decimals as usize);
        text.push('.');
        text.push_str(digits.trim_end_matches('0'));
    }
    text.push_str(" gwei");
    text
}

/// `n` with its digits grouped by thousands (`11,252`), for a person to read.
#[must_use]
pub fn grouped(n: impl Into<u128>) -> String {
    let digits = n.into().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

impl Serialize for Wei {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Wei {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        // Plain decimal digits only: no sign, no exponent, no hex, so one amount has one spelling.
        if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(serde::de::Error::custom(format!(
                "a wei amount is a decimal string of digits, such as \"1000000000\"; found {text:?}"
            )));
        }
        text.parse::<u128>()
            .map(Wei)
            .map_err(|_| serde::de::Error::custom(format!("wei amount {text} does not fit in 128 bits")))
    }
}

impl Wei {
    /// `self * factor`, saturating.
    #[must_use]
    pub fn times(self, factor: u128) -> Wei {
        Wei(self.0.saturating_mul(factor))
    }

    /// At least 10% more, rounded up, and at least one wei more: the replacement rule of
    /// geth and every major client, strictly rising so a bump never re-signs the same fee.
    #[must_use]
    pub fn bumped(self) -> Wei {
        Wei(self.0.saturating_add(self.0.div_ceil(10).max(1)))
    }
}

/// An EIP-1559 bid.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
pub struct Bid {
    /// `maxFeePerGas`.
    pub max_fee_per_gas: Wei,
    /// `maxPriorityFeePerGas`, never above the max fee.
    pub max_priority_fee_per_gas: Wei,
}

/// `{}`: `max fee 21000000000 / tip 1000000000 wei`; `{:#}`: `max fee 21 / tip 1 gwei`.
impl fmt::Display for Bid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (max_fee, tip) = (self.max_fee_per_gas, self.max_priority_fee_per_gas);
        if f.alternate() {
            let max_fee = format!("{max_fee:#}");
            write!(f, "max fee {} / tip {tip:#}", max_fee.trim_end_matches(" gwei"))
        } else {
            write!(f, "max fee {max_fee} / tip {tip} wei")
        }
    }
}

impl Bid {
    /// Both fields bumped (docs/protocol.md §11.1: a replacement raises both by at least 10%).
    #[must_use]
    pub fn bumped(self) -> Bid {
        Bid::new(self.max_fee_per_gas.bumped(), self.max_priority_fee_per_gas.bumped())
    }

    /// The higher of each field.
    #[must_use]
    pub fn max(self, other: Bid) -> Bid {
        Bid::new(
            self.max_fee_per_gas.max(other.max_fee_per_gas),
            self.max_priority_fee_per_gas.max(other.max_priority_fee_per_gas),
        )
    }

    /// A bid with the tip clamped to the max fee, as a node requires.
    #[must_use]
    pub fn new(max_fee_per_gas: Wei, max_priority_fee_per_gas: Wei) -> Bid {
        Bid { max_fee_per_gas, max_priority_fee_per_gas: max_priority_fee_per_gas.min(max_fee_per_gas) }
    }
}

/// The node's fee suggestion, read in the same round as the wallet counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct FeeView {
    /// The pending block's base fee.
    pub base_fee: Wei,
    /// The node's priority-fee suggestion.
    pub tip: Wei,
}

impl FeeView {
    /// A new send's bid: `tip = max(tip_wei, min_tip_wei)`, `max_fee = 2 * base_fee + tip`.
    #[must_use]
    pub fn fresh(self, config: &Config) -> Bid {
        let tip = self.tip.max(config.min_tip_wei());
        Bid::new(Wei(self.base_fee.times(2).0.saturating_add(tip.0)), tip)
    }
}

/// Why a bid is what it is (shown by `audit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BidReason {
    /// Nothing of ours is pending at this nonce: the fresh bid.
    Fresh,
    /// Other content replaces what we sent here: at least 10% over our previous bid.
    Replacement {
        /// Our previous bid here.
        previous: Bid,
    },
    /// The same content again: the base fee rose above its max fee.
    BaseFeeAbove {
        /// The observed base fee.
        base_fee: Wei,
        /// Our previous bid here.
        previous: Bid,
    },
    /// The same content again: it waited `resubmit_after_blocks` without landing.
    Waited {
        /// The block-times waited.
        blocks: u64,
        /// Our previous bid here.
        previous: Bid,
    },
    /// The same content again after the node refused the previous attempt.
    AfterFailure {
        /// The floor: our previous bid here, or the refused one if it was underpriced.
        previous: Bid,
    },
}

impl fmt::Display for BidReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `{:#}` (for a person) reaches the amounts inside.
        let person = f.alternate();
        let bid = |bid: &Bid| if person { format!("{bid:#}") } else { bid.to_string() };
        let wei = |wei: Wei| if person { format!("{wei:#}") } else { wei.to_string() };
        match self {
            BidReason::Fresh => write!(f, "fresh"),
            BidReason::Replacement { previous } => write!(f, "replacement bump over {}", bid(previous)),
            BidReason::BaseFeeAbove { base_fee, previous } => {
                write!(f, "re-price: base fee {} above our max fee {}", wei(*base_fee), wei(previous.max_fee_per_gas))
            }
            BidReason::Waited { blocks, previous } => {
                write!(f, "re-price: waited {blocks} block-times without landing at {}", bid(previous))
            }
            BidReason::AfterFailure { previous } => write!(f, "retry after a refused send, over {}", bid(previous)),
        }
    }
}

/// What makes a send due at a slot (docs/protocol.md §11.1), before the bid is priced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resend {
    /// Nothing of this content was asked for here yet.
    New,
    /// The last attempt here was refused.
    Failed,
    /// The base fee rose above the pending send's max fee.
    BaseFeeAbove(Wei),
    /// The pending send waited this many block-times.
    Waited(u64),
}

/// Whether the batch `batch` is due at `slot` now, and why; `None` while it is pending
/// and neither re-pricing rule fires, so the same content at the same fee is never
/// re-signed in a loop.
pub(crate) fn resend(
    slot: Option<&Slot>,
    batch: crate::units::BatchIndex,
    fees: FeeView,
    now_ms: crate::units::UnixMillis,
    config: &Config,
) -> Option<Resend> {
    let Some(slot) = slot.filter(|slot| slot.last == Some(batch)) else { return Some(Resend::New) };
    if slot.failed {
        return Some(Resend::Failed);
    }
    if let Some(asked) = slot.asked
        && fees.base_fee > asked.max_fee_per_gas
    {
        return Some(Resend::BaseFeeAbove(fees.base_fee));
    }
    let blocks = now_ms.0.saturating_sub(slot.last_sent_ms.0) / config.block_time_ms().max(1);
    (blocks >= config.resubmit_after_blocks()).then_some(Resend::Waited(blocks))
}

/// The bid for a send at a slot: fresh, or the higher of fresh and 10% over our floor
/// there (docs/protocol.md §11.1: `new = max(fresh, bump(previous))`).
pub(crate) fn bid_for(slot: Option<&Slot>, fees: FeeView, config: &Config, why: Resend) -> (Bid, BidReason) {
    let fresh = fees.fresh(config);
    let Some(previous) = slot.and_then(Slot::floor) else { return (fresh, BidReason::Fresh) };
    let reason = match why {
        Resend::New => BidReason::Replacement { previous },
        Resend::Failed => BidReason::AfterFailure { previous },
        Resend::BaseFeeAbove(base_fee) => BidReason::BaseFeeAbove { base_fee, previous },
        Resend::Waited(blocks) => BidReason::Waited { blocks, previous },
    };
    (fresh.max(previous.bumped()), reason)
}

/// docs/protocol.md §7 step 4 on the fresh bid: tripled, then bumped by 10% + 1, so the no-op
/// out-bids any batch we sent at that slot; and at least 10% over our floor there.
pub(crate) fn noop_bid(slot: Option<&Slot>, fees: FeeView, config: &Config) -> (Bid, BidReason) {
    let fresh = fees.fresh(config);
    let estimate =
        Fees { max_fee_per_gas: fresh.max_fee_per_gas.0, max_priority_fee_per_gas: fresh.max_priority_fee_per_gas.0 };
    let tripled = noop_fees(estimate);
    let tripled = Bid::new(Wei(tripled.max_fee_per_gas), Wei(tripled.max_priority_fee_per_gas));
    match slot.and_then(Slot::floor) {
        None => (tripled, BidReason::Fresh),
        Some(previous) => (tripled.max(previous.bumped()), BidReason::Replacement { previous }),
    }
}

/// The cap a bid must stay under, if any: `max_fee_cap_wei`, times `flush_cap_multiplier`
/// for a no-op (losing the nonce race costs more than the fee).
pub(crate) fn cap(config: &Config, noop: bool) -> Option<Wei> {
    config.max_fee_cap_wei().map(|cap| if noop { cap.times(u128::from(config.flush_cap_multiplier())) } else { cap })
}

/// The cap `bid` exceeds, if it does: such a bid is held, not sent (`hold_fee_cap`).
pub(crate) fn exceeded_cap(bid: Bid, config: &Config, noop: bool) -> Option<Wei> {
    cap(config, noop).filter(|&cap| bid.max_fee_per_gas > cap)
}

/// The intrinsic gas of `data` sent to an account without code: EIP-2028's cost
/// (`21000 + 4·zero + 16·nonzero`) or, if higher, EIP-7623's floor
/// (`21000 + 10·(zero + 4·nonzero)`). A limit below it is refused or never mined.
#[must_use]
pub fn min_gas(data: &[u8]) -> u64 {
    let zero = data.iter().filter(|&&byte| byte == 0).count() as u64;
    let nonzero = data.len() as u64 - zero;
    let standard = 21_000 + 4 * zero + 16 * nonzero;
    let floor = 21_000 + 10 * (zero + 4 * nonzero);
    standard.max(floor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bump_is_ten_percent_rounded_up_and_strictly_rising() {
        let table = [(0, 1), (1, 2), (9, 10), (10, 11), (11, 13), (100, 110), (101, 112), (u128::MAX, u128::MAX)];
        for (before, after) in table {
            assert_eq!(Wei(before).bumped(), Wei(after), "bump of {before}");
        }
    }

    #[test]
    fn min_gas_takes_the_higher_of_eip_2028_and_the_eip_7623_floor() {
        let table: [(&[u8], u64); 4] =
            [(&[], 21_000), (&[0], 21_010), (&[1], 21_040), (&[0, 0, 1, 2], 21_000 + 10 * (2 + 8))];
        for (data, gas) in table {
            assert_eq!(min_gas(data), gas, "{data:?}");
        }
        // 100 KiB of nonzero bytes: the floor (40 per byte) is above EIP-2028's 16.
        assert_eq!(min_gas(&vec![7; 102_400]), 21_000 + 40 * 102_400);
    }

    #[test]
    fn wei_is_a_decimal_string() {
        let wei: Wei = serde_json::from_str("\"340282366920938463463374607431768211455\"").unwrap();
        assert_eq!(wei, Wei(u128::MAX));
        assert_eq!(serde_json::to_string(&Wei(12)).unwrap(), "\"12\"");
        for bad in ["12", "\"-1\"", "\"0x10\"", "\"\"", "\"1e9\"", "\"340282366920938463463374607431768211456\""] {
            assert!(serde_json::from_str::<Wei>(bad).is_err(), "{bad} must be refused");
        }
    }
}
