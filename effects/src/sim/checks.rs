//! World checks, after every step and at the end, beyond the core's own invariants:
//! the scheduler accepts only batches on the core's valid path (no zombie), no accepted
//! batch is ever invalidated, every direct input is drained by exactly one accepted
//! batch (the core's drain ranges equal the scheduler's), and after the faults the
//! system converges, and no batch is broadcast at a second wallet nonce while its first
//! send still counts (`resends.rs`). The judge is the independent scheduler of `oracle.rs`.

use std::collections::BTreeSet;

use machine::drive;
use machine::{DbWrite, Decision, Effect, Event, State, Step};

use super::chain::{Chain, Origin};
use super::oracle::Oracle;
use super::resends::Resends;

/// A moment worth telling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Moment {
    /// Virtual milliseconds after genesis.
    pub elapsed_ms: u64,
    /// The L1 head then.
    pub head: u64,
    /// What happened.
    pub text: String,
}

/// What the checks have seen.
#[derive(Debug, Default)]
pub struct Checks {
    /// Broken world rules, in order (the first few).
    pub failures: Vec<String>,
    /// Verdict tokens seen: `danger:…`, `decision:…`, `exit:…`, `effect:…`.
    pub tokens: BTreeSet<String>,
    /// The incident's moments.
    pub timeline: Vec<Moment>,
    /// Steps checked.
    pub steps: u64,
    /// When the system converged after the faults, if it did.
    pub converged_at_ms: Option<u64>,
    /// Hashes of bytes a second sequencer landed.
    pub rogue_bytes: Vec<[u8; 32]>,
    /// A second sequencer's batch was accepted.
    pub rogue_accepted: bool,
    /// Sends at a second wallet nonce in a scenario answered as before ARCHITECTURE.md
    /// choice 68 (`Scenario::answers_before_one_view`): counted, not failed.
    pub resends_before_one_view: Vec<String>,
    /// Whether the scenario's answers are those of before choice 68.
    pub(crate) answers_before_one_view: bool,
    seen_accepted: usize,
    accepted_ours: Vec<[u8; 32]>,
    recovery_batches: Vec<machine::BatchIndex>,
    admitted: bool,
    admitted_since_boot: bool,
    resends: Resends,
    /// The invariant checks captured before the next step (`None` before the first).
    before: Option<drive::Checks>,
}

const MAX_FAILURES: usize = 20;

impl Checks {
    /// The checks of a run; `answers_before_one_view` as the scenario's.
    pub(crate) fn new(answers_before_one_view: bool) -> Self {
        Checks { answers_before_one_view, ..Checks::default() }
    }

    fn fail(&mut self, failure: String) {
        if self.failures.len() < MAX_FAILURES {
            self.failures.push(failure);
        }
    }

    fn moment(&mut self, elapsed_ms: u64, head: u64, text: String) {
        self.timeline.push(Moment { elapsed_ms, head, text });
    }

    /// Checks one step; returns whether the system has converged (only once `settled`:
    /// faults over, sealing stopped).
    #[expect(clippy::too_many_arguments, reason = "the checks need the step, the judge and the clock together")]
    pub(crate) fn after_step(
        &mut self,
        state: &State,
        _event: &Event,
        step: &Step,
        oracle: &Oracle,
        elapsed_ms: u64,
        head: u64,
        settled: bool,
    ) -> bool {
        self.steps += 1;
        // The first step starts from the empty state, as the simulated node's log does.
        let before = self.before.take().unwrap_or_else(|| drive::Checks::before(&State::new()));
        if let Err(violation) = before.after_step(state, step) {
            self.fail(format!("step {}: core invariant: {violation}", self.steps));
        }
        self.before = Some(drive::Checks::before(state));
        self.record_verdicts(step, state, elapsed_ms, head);
        self.judge_acceptances(state, oracle, elapsed_ms, head);
        let invalidated =
            step.effects.iter().any(|e| matches!(e, Effect::Db { write: DbWrite::InvalidateFrom { .. }, .. }));
        if invalidated {
            for hash in self.accepted_ours.clone() {
                let batch = find(state, &hash);
                if batch.is_some_and(|b| !b.valid) {
                    self.fail(format!(
                        "step {}: an accepted batch was invalidated (wire hash {})",
                        self.steps,
                        hex(&hash)
                    ));
                }
            }
        }
        if settled && self.converged_at_ms.is_none() && converged(state) {
            self.converged_at_ms = Some(elapsed_ms);
            return true;
        }
        false
    }

    /// Judges the step's sends against the chain as it is before they run (`resends.rs`).
    pub(crate) fn judge_resends(&mut self, step: &Step, chain: &Chain, oracle: &Oracle) {
        for broke in self.resends.judge(step, chain, oracle) {
            let failure = format!("step {}: {broke}", self.steps);
            if self.answers_before_one_view {
                self.resends_before_one_view.push(failure);
            } else {
                self.fail(failure);
            }
        }
    }

    fn record_verdicts(&mut self, step: &Step, state: &State, elapsed_ms: u64, head: u64) {
        let exits_now = step.effects.iter().find_map(|effect| match effect {
            Effect::Exit { code, .. } => Some(*code),
            _ => None,
        });
        for note in &step.notes {
            if let Some(danger) = note.danger {
                self.tokens.insert(format!("danger:{}", danger.name()));
                if danger != machine::Danger::Safe && note.decision.is_none() && exits_now.is_some() {
                    self.moment(elapsed_ms, head, format!("danger detected: {} ({:#})", danger.name(), note.why));
                }
            }
            if let Some(decision) = note.decision {
                self.tokens.insert(format!("decision:{}", decision.name()));
                match decision {
                    Decision::Flush | Decision::RecoverTip | Decision::Refuse => {
                        self.moment(elapsed_ms, head, format!("{}: {:#}", decision.name(), note.why));
                    }
                    Decision::Cascade => {
                        let text = format!("cascade: {:#} (generation {})", note.why, state.generation());
                        self.moment(elapsed_ms, head, text);
                    }
                    Decision::Admit if !self.admitted => {
                        self.moment(elapsed_ms, head, format!("admit: {:#}", note.why));
                    }
                    _ => {}
                }
                if decision == Decision::Admit {
                    self.admitted = true;
                    self.admitted_since_boot = true;
                }
                if decision == Decision::InitialSync {
                    self.admitted_since_boot = false;
                }
            }
        }
        let cascaded = step.notes.iter().any(|note| note.decision == Some(Decision::Cascade));
        let danger_told = step.notes.iter().any(|note| note.danger.is_some_and(|d| d != machine::Danger::Safe));
        for effect in &step.effects {
            match effect {
                Effect::Exit { code, reason } => {
                    self.tokens.insert(format!("exit:{}", code.name()));
                    self.admitted = false;
                    // Every exit says why (a danger exit's reason is told as the danger).
                    // A warning of the same step (a flush's no-ops held over the cap) is why.
                    if !(danger_told && *code == machine::ExitCode::RecoveryRequired) {
                        let mut text = format!("exit {}: {reason:#}", code.name());
                        if let Some(note) = step.notes.iter().find(|note| note.why.warning().is_some()) {
                            text.push_str(&format!(", after {:#}", note.why));
                        }
                        self.moment(elapsed_ms, head, text);
                    }
                }
                Effect::Submit { .. } => {
                    self.tokens.insert("effect:submit".to_owned());
                }
                Effect::Noop { .. } => {
                    self.tokens.insert("effect:noop".to_owned());
                }
                Effect::SyncL1 { .. } => {
                    self.tokens.insert("effect:sync_l1".to_owned());
                }
                Effect::ReadWallet => {
                    self.tokens.insert("effect:read_wallet".to_owned());
                }
                Effect::Db { write: DbWrite::OpenBatch { batch_index, .. }, .. } if cascaded => {
                    self.recovery_batches.push(*batch_index);
                }
                _ => {}
            }
        }
    }

    fn judge_acceptances(&mut self, state: &State, oracle: &Oracle, elapsed_ms: u64, head: u64) {
        let fresh: Vec<_> = oracle.accepted()[self.seen_accepted..].to_vec();
        self.seen_accepted = oracle.accepted().len();
        for accepted in fresh {
            if accepted.origin == Origin::Rogue || self.rogue_bytes.contains(&accepted.wire_hash) {
                self.rogue_accepted = true;
                continue;
            }
            match find(state, &accepted.wire_hash) {
                None => self.fail(format!(
                    "block {}: the scheduler accepted nonce {} with bytes the core never made",
                    accepted.block, accepted.nonce
                )),
                Some(batch) if !batch.valid => self.fail(format!(
                    "block {}: zombie accepted: batch {} (nonce {}) was invalidated but the scheduler accepted it",
                    accepted.block, batch.index, accepted.nonce
                )),
                Some(batch) => {
                    if self.recovery_batches.contains(&batch.index) {
                        let text = format!(
                            "recovery batch {} (nonce {}) accepted at block {}",
                            batch.index, accepted.nonce, accepted.block
                        );
                        self.moment(elapsed_ms, head, text);
                    }
                    self.accepted_ours.push(accepted.wire_hash);
                }
            }
        }
    }

    /// Whether the current (or last) process lifetime reached admission.
    #[must_use]
    pub fn admitted_since_boot(&self) -> bool {
        self.admitted_since_boot
    }

    /// End-of-run checks: drains, and divergence after a second sequencer's acceptance.
    pub(crate) fn finish(&mut self, state: &State, oracle: &Oracle) {
        for accepted in oracle.accepted().iter().filter(|a| a.origin == Origin::Ours) {
            let Some(batch) = find(state, &accepted.wire_hash) else { continue };
            if (batch.drain_from, batch.drain_to) != accepted.drain && state.scheduler().divergence.is_none() {
                self.fail(format!(
                    "batch {} drains direct inputs {}..{} but the scheduler drained {}..{} with it",
                    batch.index, batch.drain_from, batch.drain_to, accepted.drain.0, accepted.drain.1
                ));
            }
        }
        if self.rogue_accepted && state.scheduler().divergence.is_none() && state.config().is_some() {
            self.fail("a second sequencer's batch was accepted but the core never recorded divergence".to_owned());
        }
    }
}

/// All closed batches Gold, intake open, no divergence.
fn converged(state: &State) -> bool {
    state.intake_open()
        && state.scheduler().divergence.is_none()
        && state.tree().valid_path().all(|batch| batch.sealed.is_none() || batch.accepted)
}

fn find<'a>(state: &'a State, hash: &[u8; 32]) -> Option<&'a machine::Batch> {
    state.tree().batches().iter().find(|batch| batch.sealed.as_ref().is_some_and(|sealed| sealed.wire_hash.0 == *hash))
}

fn hex(bytes: &[u8]) -> String {
    machine::encode_hex(bytes)
}
