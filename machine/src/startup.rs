//! docs/protocol.md §6: startup, one decision at a time. [`inspect`] is the decision table:
//! it classifies, picks at most one phase and runs it. Phases that need L1 answers
//! (`InitialSync`, `Flush`, `PostFlushSync`) continue when their answers arrive; the
//! local repairs run at once and inspect again.

use crate::cascade;
use crate::config::Config;
use crate::danger::classify;
use crate::effect::{DbWrite, Effect, ExitCode};
use crate::flush;
use crate::state::{Mode, Runtime};
use crate::step::Ctx;
use crate::units::{BlockNumber, UnixMillis};
use crate::verdict::{Danger, Decision, Why};

/// What this boot has done so far (boot-local; lost on a crash).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Progress {
    /// The initial sync ran (or failed and left the stored view).
    Synced,
    /// The flush finished with witness `c`.
    Flushed { witness: BlockNumber, why: FlushWhy },
    /// The post-flush sync answered.
    PostFlushSynced { witness: BlockNumber },
    /// A repair ran (`EnsureOpenTip`, `RecoverTip` or `Cascade`).
    Repaired,
}

/// The numbers that ended a flush, kept for its decision's reason.
pub(crate) type FlushWhy = (crate::units::WalletNonce, crate::units::WalletNonce);

/// The decision table. Divergence outranks every row.
pub(crate) fn inspect(ctx: &mut Ctx<'_>, config: &Config, progress: Progress) {
    let (danger, why) = classify(ctx.state, config, ctx.state.now_ms);
    let has_tip = ctx.state.tree.tip().is_some();
    match (progress, danger) {
        // `classify` never returns a rewrite (the reader finds it); refusing is the safe reading.
        (_, Danger::CanonicalDivergence(_) | Danger::L1HistoryRewritten) => {
            decide_exit(ctx, danger, Decision::Refuse, ExitCode::Refuse, why);
        }
        (Progress::Synced, Danger::Safe) if has_tip => admit(ctx, config, danger, why),
        (Progress::Synced, Danger::Safe) => {
            ctx.verdict(Some(danger), Some(Decision::EnsureOpenTip), why);
            let opened = ctx.open_tip().why();
            ctx.note(opened);
            inspect(ctx, config, Progress::Repaired);
        }
        (Progress::Synced, Danger::L1ViewStale | Danger::EstimatedBatchInDanger(_)) => {
            // An estimate alone never mutates (docs/protocol.md §4, arm 6).
            decide_exit(ctx, danger, Decision::Retry, ExitCode::Retry, why);
        }
        (Progress::Synced, Danger::TipInDanger(_)) => {
            ctx.verdict(Some(danger), Some(Decision::RecoverTip), why);
            let recovered = recover_tip(ctx);
            ctx.note(recovered);
            inspect(ctx, config, Progress::Repaired);
        }
        (Progress::Synced, Danger::ClosedBatchInDanger(_)) => {
            ctx.verdict(Some(danger), Some(Decision::Flush), why);
            flush::start(ctx, config);
        }
        (Progress::Flushed { witness, why: (safe, pending) }, _) => {
            let watermark = ctx.state.wallet.watermark;
            ctx.verdict(
                Some(danger),
                Some(Decision::PostFlushSync),
                Why::FlushWitness { witness, safe, pending, watermark },
            );
            ctx.set_mode(Mode::PostFlushSync { witness });
            let from_block = ctx.sync_from();
            ctx.ask(Effect::SyncL1 { from_block, with_wire: ctx.adopting() }, config);
        }
        (Progress::PostFlushSynced { witness }, _) => {
            let stored = ctx.state.view.safe_block;
            if stored.is_none_or(|stored| stored < witness) {
                let why = Why::LaggingReplica { stored, witness };
                return decide_exit(ctx, danger, Decision::Retry, ExitCode::Retry, why);
            }
            // Danger is not consulted again: the cascade is unconditional past gold.
            let cascaded = cascade::run(ctx, config, witness);
            ctx.verdict(Some(danger), Some(Decision::Cascade), cascaded);
            inspect(ctx, config, Progress::Repaired);
        }
        (Progress::Repaired, Danger::Safe) if has_tip => admit(ctx, config, danger, why),
        (Progress::Repaired, Danger::Safe) => {
            decide_exit(ctx, danger, Decision::Retry, ExitCode::Retry, Why::NoTipAfterRepair);
        }
        (
            Progress::Repaired,
            Danger::L1ViewStale
            | Danger::ClosedBatchInDanger(_)
            | Danger::TipInDanger(_)
            | Danger::EstimatedBatchInDanger(_),
        ) => {
            decide_exit(ctx, danger, Decision::Retry, ExitCode::Retry, Why::AtMostOneRepair(Box::new(why)));
        }
    }
}

fn decide_exit(ctx: &mut Ctx<'_>, danger: Danger, decision: Decision, code: ExitCode, why: Why) {
    ctx.verdict(Some(danger), Some(decision), why.clone());
    ctx.exit(code, why);
}

/// Starts the detector, submitter and reader cadences and opens intake.
fn admit(ctx: &mut Ctx<'_>, config: &Config, danger: Danger, why: Why) {
    ctx.verdict(Some(danger), Some(Decision::Admit), why);
    let now = ctx.state.now_ms.0;
    let first_ms = now.saturating_add(config.detector_interval_ms().min(config.submit_interval_ms()));
    let admitted_ms = UnixMillis(now);
    ctx.set_mode(Mode::Admitted(Runtime { last_detector_ms: admitted_ms, last_submit_ms: admitted_ms, round: None }));
    ctx.emit(Effect::Intake { open: true });
    ctx.emit(Effect::Timer { at_ms: UnixMillis(first_ms) });
}

/// `RecoverTip`: the Tip has no L1 footprint, so it is replaced without a flush.
fn recover_tip(ctx: &mut Ctx<'_>) -> Why {
    let Some(tip) = ctx.state.tree.tip().map(|tip| tip.index) else {
        return Why::NoTipAfterRepair;
    };
    let invalidated = ctx.state.tree.invalidate_from(tip);
    ctx.db(DbWrite::InvalidateFrom { batch_index: tip });
    if invalidated > 0 {
        ctx.state.generation = ctx.state.generation.saturating_add(1);
        ctx.db(DbWrite::BumpGeneration { to: ctx.state.generation });
    }
    let opened = ctx.open_tip();
    Why::TipRecovered {
        invalidated: tip,
        generation: ctx.state.generation,
        tip: opened.batch,
        first_frame_safe_block: opened.first_frame_safe_block,
    }
}
