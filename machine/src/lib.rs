//! The pure stale-batch recovery core of seqrec.
//!
//! Contract: [`step`]`(state, &event) -> (state, Step)` is a pure function. Time, L1
//! observations and I/O outcomes arrive only inside [`Event`]s; everything the core
//! wants done leaves as [`Effect`]s, in execution order, with durable writes before the
//! sends that depend on them. Every step also returns its verdicts ([`Note`]: the
//! [`Danger`] it classified, the [`Decision`] it took and a structured [`Why`]), so
//! traces and audits render decisions without re-implementing them.
//!
//! The core never reads a clock, a file, a socket or a random number, never spawns a
//! thread and never panics on any event: a fact it cannot use is a [`FactError`] in the
//! step's notes and leaves the state as it was. The behaviour is specified in
//! `docs/protocol.md`; each module's doc names the section it implements.
#![warn(missing_docs)]

mod batch_tree;
mod bytes;
mod cascade;
mod config;
mod config_live;
mod config_problems;
mod danger;
pub mod drive;
mod effect;
pub mod event;
mod fees;
mod flush;
pub mod invariants;
mod prune;
mod reader;
mod scheduler;
mod startup;
mod state;
mod step;
mod submitter;
mod units;
mod verdict;
mod watch;
pub mod wire;

/// Test-only switches that break the core on purpose, so tests can show that the
/// simulator's world checks, `seqrec shrink` and `seqrec check` catch a wrong core.
/// Compiled only with `--cfg seqrec_sabotage`, which `build.rs` sets when
/// `SEQREC_SABOTAGE_BUILD=1` in a build of this workspace (`cargo xtask ci`): no Cargo
/// feature can turn it on, and the published package ships no build script.
#[cfg(seqrec_sabotage)]
pub mod sabotage {
    use core::sync::atomic::AtomicBool;

    /// When set, the cascade pivots one batch too late (docs/protocol.md §8 step 1 broken).
    pub static CASCADE_PIVOT_ONE_LATE: AtomicBool = AtomicBool::new(false);

    /// When set, the submitter raises the watermark after its broadcasts instead of before
    /// (docs/protocol.md §5 and §9 invariant 5 broken).
    pub static WATERMARK_AFTER_BROADCAST: AtomicBool = AtomicBool::new(false);

    /// When set, the flush's no-ops stop at the node's `pending` instead of
    /// `max(pending, W + 1)`: a slot up to `W` above `pending` is left unfilled
    /// (docs/protocol.md §7 step 3 broken).
    pub static FLUSH_STOPS_AT_PENDING: AtomicBool = AtomicBool::new(false);

    /// When set, the submitter's start nonce ignores the wallet slots below `latest`
    /// (ARCHITECTURE.md choice 68 undone): a landing that became safe between the detector's
    /// sync and the round's reads sends its batch again at a second wallet nonce.
    pub static RESEND_LANDED: AtomicBool = AtomicBool::new(false);
}

pub use batch_tree::{Batch, BatchTree, Color, Pruned, Sealed};
pub use bytes::{Address, Bytes, Hash32, HexError, decode_hex, encode_hex};
pub use config::{
    Config, ConfigError, DEFAULT_MAX_BATCH_BYTES, DEFAULT_MIN_TIP_WEI, IdentityChange, MAX_MAX_BATCH_BYTES, RawConfig,
};
pub use config_live::{LiveConfigError, MAX_MIN_TIP_WEI};
pub use danger::classify;
pub use effect::{DbWrite, Effect, ExitCode};
pub use event::{BatchLanding, Event, Input, RpcCall, SendClass};
pub use fees::{Bid, BidReason, FeeView, Wei, grouped, gwei_text, min_gas};
pub use flush::{Fees, noop_fees};
pub use scheduler::{Scheduler, stale_by_inclusion};
pub use state::{L1View, STATE_LAYOUT, Slot, State, WalletBook};
pub use step::{Step, step};
pub use units::{BatchIndex, BatchNonce, BlockNumber, OpId, UnixMillis, WalletNonce};
pub use verdict::{Danger, Decision, FactError, Note, Why};
pub use watch::{Unresolved, Watch, watch};

#[cfg(test)]
mod tests;
