//! Resends: a batch's content (its wire hash) broadcast at a second wallet nonce while
//! its first send may still land (issue 18, item 1). The audit shows each as a warning
//! and `run --metrics` counts them (`seqrec_resends_total`); a re-priced replacement at
//! the same wallet nonce is not a resend.
//!
//! A send is what the node took: a `submit` (or `noop`) effect answered by `sent` at the
//! same wallet nonce. Answers arrive in the order the sends were made, so each `sent`
//! is paired with the oldest unanswered send at its wallet nonce; a `boot` forgets the
//! unanswered ones (a crashed process's answers never arrive). For a log the sends are
//! read from the effects recorded with each record, so a log keeps its resends after a
//! core change that would no longer make them.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt::Write as _;

use machine::{BatchIndex, BatchNonce, Effect, Event, Hash32, State, WalletNonce};
use serde_json::{Value, json};

use crate::cli::Loaded;
use crate::run::Traced;

/// Wallet nonces this far below the account's `safe` count are forgotten, so a
/// long-running process keeps a bounded history (`run --metrics`).
pub const FORGET_BELOW_SAFE: u64 = 4096;

/// A send asked for at a wallet nonce: the bytes of a batch, or our no-op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asked {
    /// A batch.
    Batch {
        /// The batch.
        batch: BatchIndex,
        /// Its scheduler nonce.
        nonce: BatchNonce,
        /// blake3 of its wire bytes: the content.
        wire_hash: Hash32,
    },
    /// Our no-op (a flush).
    Noop,
}

/// A send the node took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Send {
    /// The step of its `sent` answer.
    pub seq: u64,
    /// The wallet nonce.
    pub w_nonce: WalletNonce,
    /// Its transaction hash.
    pub tx_hash: Hash32,
}

/// Why the first slot was known lost when the content went out again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lost {
    /// Our no-op was sent there since (a flush): the first send is replaced.
    Noop {
        /// The no-op's `sent` step.
        seq: u64,
    },
    /// Another batch of ours was sent there since (a recovery batch).
    Replaced {
        /// The `sent` step of that batch.
        seq: u64,
        /// That batch.
        batch: BatchIndex,
    },
}

/// Content already sent at one wallet nonce, sent again at another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resend {
    /// The batch.
    pub batch: BatchIndex,
    /// Its scheduler nonce.
    pub nonce: BatchNonce,
    /// blake3 of its wire bytes.
    pub wire_hash: Hash32,
    /// This send.
    pub again: Send,
    /// The first send of the same content.
    pub first: Send,
    /// Whether the first send's slot was known lost at the time; `None`: it may still
    /// land, and then the batch is posted twice.
    pub lost: Option<Lost>,
}

impl Resend {
    /// The audit's "what" column.
    #[must_use]
    pub fn label(&self) -> &'static str {
        "resend"
    }

    /// The audit's sentence.
    #[must_use]
    pub fn details(&self) -> String {
        let (again, first) = (&self.again, &self.first);
        let mut out = format!(
            "WARNING batch {} (nonce {}) sent again at wallet nonce {}; first sent at wallet nonce {} (step #{})",
            self.batch, self.nonce, again.w_nonce, first.w_nonce, first.seq
        );
        match self.lost {
            None => out.push_str(", a slot not known lost: both sends may land (the batch posted twice)"),
            Some(Lost::Noop { seq }) => {
                let _ = write!(out, ", since flushed by our no-op (step #{seq}): the first send is replaced");
            }
            Some(Lost::Replaced { seq, batch }) => {
                let _ = write!(out, ", since taken by our batch {batch} (step #{seq}): the first send is replaced");
            }
        }
        out
    }

    /// The fields of the audit's JSON row.
    #[must_use]
    pub fn fields(&self) -> Value {
        let lost = self.lost.map(|lost| match lost {
            Lost::Noop { seq } => json!({ "by": "noop", "seq": seq }),
            Lost::Replaced { seq, batch } => json!({ "by": "batch", "seq": seq, "batch": batch }),
        });
        json!({
            "warning": "resend",
            "batch": self.batch,
            "nonce": self.nonce,
            "wire_hash": self.wire_hash.to_string(),
            "w_nonce": self.again.w_nonce,
            "tx_hash": self.again.tx_hash.to_string(),
            "first_w_nonce": self.first.w_nonce,
            "first_seq": self.first.seq,
            "first_tx_hash": self.first.tx_hash.to_string(),
            "first_lost": lost,
        })
    }
}

/// Follows the sends of a run step by step and reports each resend.
#[derive(Debug, Default)]
pub struct Tracker {
    /// Sends asked for and not yet answered, oldest first, per wallet nonce.
    asked: BTreeMap<WalletNonce, VecDeque<Asked>>,
    /// The first send of each content.
    first: HashMap<Hash32, Send>,
    /// The last send the node took at each wallet nonce, with what it carried.
    last: BTreeMap<WalletNonce, (Send, Asked)>,
    /// Content already reported at a wallet nonce: its replacements there are not resends.
    reported: HashSet<(Hash32, WalletNonce)>,
}

impl Tracker {
    /// A tracker for a process that resumes at `state` (`run --metrics`): what the state
    /// holds of each wallet slot taken by the node counts as sent there (at step 0, the
    /// steps before are not at hand).
    #[must_use]
    pub fn resumed(state: &State) -> Tracker {
        let mut tracker = Tracker::default();
        for (w_nonce, slot) in &state.wallet().slots {
            let Some(tx_hash) = slot.tx_hash else { continue };
            let send = Send { seq: 0, w_nonce: *w_nonce, tx_hash };
            let mut last = Asked::Noop;
            for &(batch, nonce, wire_hash) in &slot.batches {
                tracker.first.entry(wire_hash).or_insert(send);
                if slot.last == Some(batch) {
                    last = Asked::Batch { batch, nonce, wire_hash };
                }
            }
            tracker.last.insert(*w_nonce, (send, last));
        }
        tracker
    }

    /// Takes one step: its event (an answer to an earlier send, a boot) and the sends
    /// its effects ask for; the resend its event completes, if any.
    pub fn observe(
        &mut self,
        seq: u64,
        event: &Event,
        sends: impl IntoIterator<Item = (WalletNonce, Asked)>,
    ) -> Option<Resend> {
        let resend = match event {
            Event::Sent(sent) => self.took(Send { seq, w_nonce: sent.w_nonce, tx_hash: sent.tx_hash }),
            Event::SendFailed(failed) => {
                self.answered(failed.w_nonce);
                None
            }
            Event::Boot(_) => {
                self.asked.clear();
                None
            }
            Event::Wallet(wallet) => {
                self.forget_below(WalletNonce(wallet.safe.0.saturating_sub(FORGET_BELOW_SAFE)));
                None
            }
            _ => None,
        };
        for (w_nonce, asked) in sends {
            self.asked.entry(w_nonce).or_default().push_back(asked);
        }
        resend
    }

    /// The oldest unanswered send at `w_nonce`, now answered.
    fn answered(&mut self, w_nonce: WalletNonce) -> Option<Asked> {
        let queue = self.asked.get_mut(&w_nonce)?;
        let asked = queue.pop_front();
        if queue.is_empty() {
            self.asked.remove(&w_nonce);
        }
        asked
    }

    fn took(&mut self, send: Send) -> Option<Resend> {
        let asked = self.answered(send.w_nonce)?;
        self.last.insert(send.w_nonce, (send, asked));
        let Asked::Batch { batch, nonce, wire_hash } = asked else { return None };
        let first = *self.first.entry(wire_hash).or_insert(send);
        if first.w_nonce == send.w_nonce || !self.reported.insert((wire_hash, send.w_nonce)) {
            return None;
        }
        let lost = self.last.get(&first.w_nonce).and_then(|(last, carried)| match *carried {
            Asked::Noop => Some(Lost::Noop { seq: last.seq }),
            Asked::Batch { batch, wire_hash: other, .. } if other != wire_hash => {
                Some(Lost::Replaced { seq: last.seq, batch })
            }
            Asked::Batch { .. } => None,
        });
        Some(Resend { batch, nonce, wire_hash, again: send, first, lost })
    }

    fn forget_below(&mut self, below: WalletNonce) {
        self.first.retain(|_, send| send.w_nonce >= below);
        self.last.retain(|w_nonce, _| *w_nonce >= below);
        self.reported.retain(|(_, w_nonce)| *w_nonce >= below);
    }
}

/// The sends a step's effects ask for.
pub fn sends_of(effects: &[Effect]) -> impl Iterator<Item = (WalletNonce, Asked)> + '_ {
    effects.iter().filter_map(|effect| match effect {
        Effect::Submit { batch_index, nonce, w_nonce, wire_hash, .. } => {
            Some((*w_nonce, Asked::Batch { batch: *batch_index, nonce: *nonce, wire_hash: *wire_hash }))
        }
        Effect::Noop { w_nonce, .. } => Some((*w_nonce, Asked::Noop)),
        _ => None,
    })
}

/// The sends in a record's effects as they were written (`effects_json`); an effect
/// that does not read as a send is skipped.
#[must_use]
pub fn recorded_sends(effects_json: &[u8]) -> Vec<(WalletNonce, Asked)> {
    fn field<T: serde::de::DeserializeOwned>(effect: &Value, name: &str) -> Option<T> {
        T::deserialize(effect.get(name)?).ok()
    }
    let effects: Vec<Value> = serde_json::from_slice(effects_json).unwrap_or_default();
    effects
        .iter()
        .filter_map(|effect| {
            let w_nonce = field(effect, "w_nonce")?;
            match effect.get("fx")?.as_str()? {
                "submit" => Some((
                    w_nonce,
                    Asked::Batch {
                        batch: field(effect, "batch_index")?,
                        nonce: field(effect, "nonce")?,
                        wire_hash: field(effect, "wire_hash")?,
                    },
                )),
                "noop" => Some((w_nonce, Asked::Noop)),
                _ => None,
            }
        })
        .collect()
}

/// The resends of executed steps (a script's, or a log's re-executed).
#[must_use]
pub fn in_steps(steps: &[Traced]) -> Vec<Resend> {
    let mut tracker = Tracker::default();
    steps
        .iter()
        .filter_map(|traced| tracker.observe(traced.seq, &traced.event, sends_of(&traced.step.effects)))
        .collect()
}

/// The resends of what was loaded: for a log, from the effects recorded with each record
/// (what the process did); for a script, from `steps`, its execution.
#[must_use]
pub fn of_loaded(loaded: &Loaded, steps: &[Traced]) -> Vec<Resend> {
    match loaded {
        Loaded::Script(_) => in_steps(steps),
        Loaded::Log { records, .. } => {
            // Numbered as the steps are (a record's own sequence number counts checkpoints too).
            let mut tracker = Tracker::default();
            (0_u64..)
                .zip(records)
                .filter_map(|(seq, record)| tracker.observe(seq, &record.event, recorded_sends(&record.effects_json)))
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use machine::event::{Boot, SendFailed, Sent};
    use machine::{RawConfig, UnixMillis};

    use super::*;

    fn batch(index: u8) -> Asked {
        let (batch, nonce) = (BatchIndex(u64::from(index)), BatchNonce(u64::from(index)));
        Asked::Batch { batch, nonce, wire_hash: Hash32([index + 1; 32]) }
    }

    fn sent(w_nonce: u8) -> Event {
        let tx_hash = Hash32([w_nonce + 100; 32]);
        Event::Sent(Sent {
            w_nonce: WalletNonce(u64::from(w_nonce)),
            tx_hash,
            max_fee_per_gas: None,
            max_priority_fee_per_gas: None,
            gas_limit: None,
        })
    }

    /// Steps `script` (an event and the sends its step asks for); the resends, by step.
    fn resends(script: &[(Event, Vec<(u64, Asked)>)]) -> Vec<(u64, Resend)> {
        let mut tracker = Tracker::default();
        (0_u64..)
            .zip(script)
            .filter_map(|(seq, (event, sends))| {
                let sends = sends.iter().map(|(w_nonce, asked)| (WalletNonce(*w_nonce), *asked));
                tracker.observe(seq, event, sends).map(|resend| (seq, resend))
            })
            .collect()
    }

    fn tick() -> Event {
        Event::Tick(machine::event::Tick { now_ms: UnixMillis(0) })
    }

    #[test]
    fn a_batch_taken_at_a_second_wallet_nonce_is_a_resend_with_its_first_slot_live() {
        let found = resends(&[
            (tick(), vec![(0, batch(0))]),
            (sent(0), vec![]),
            (tick(), vec![(3, batch(0)), (4, batch(1))]),
            (sent(3), vec![]),
            (sent(4), vec![]),
        ]);
        let [(3, resend)] = found.as_slice() else { panic!("{found:?}") };
        assert_eq!(
            (resend.batch, resend.again.w_nonce, resend.first.w_nonce),
            (BatchIndex(0), WalletNonce(3), WalletNonce(0))
        );
        assert_eq!((resend.first.seq, resend.lost), (1, None));
        assert!(resend.details().contains("a slot not known lost"), "{}", resend.details());
        assert_eq!(resend.fields()["first_w_nonce"], 0);
    }

    #[test]
    fn replacements_at_the_same_wallet_nonce_and_refused_sends_are_not_resends() {
        let found = resends(&[
            (tick(), vec![(0, batch(0))]),
            (sent(0), vec![]),
            // Re-priced twice at the same nonce.
            (tick(), vec![(0, batch(0))]),
            (sent(0), vec![]),
            (tick(), vec![(0, batch(0))]),
            (sent(0), vec![]),
            // A send the node refused went nowhere: batch 1's later send is its first.
            (tick(), vec![(1, batch(1))]),
            (
                Event::SendFailed(SendFailed {
                    w_nonce: WalletNonce(1),
                    error: "nonce too low".to_owned(),
                    class: None,
                }),
                vec![],
            ),
            (tick(), vec![(2, batch(1))]),
            (sent(2), vec![]),
        ]);
        assert_eq!(found, []);
    }

    #[test]
    fn a_first_slot_our_noop_or_another_batch_took_is_known_lost() {
        let found = resends(&[
            (tick(), vec![(0, batch(0)), (1, batch(1))]),
            (sent(0), vec![]),
            (sent(1), vec![]),
            // A restart: a flush's no-op at 0, a recovery batch at 1; the asked-for sends
            // of the dead process are forgotten.
            (tick(), vec![(2, batch(2))]),
            (Event::Boot(Boot { now_ms: UnixMillis(0), config: RawConfig::default() }), vec![(0, Asked::Noop)]),
            (sent(0), vec![(1, batch(5))]),
            (sent(1), vec![(4, batch(0)), (5, batch(1))]),
            (sent(4), vec![]),
            (sent(5), vec![]),
            // Batch 2's send was never answered before the boot: its later send is its first.
            (tick(), vec![(6, batch(2))]),
            (sent(6), vec![]),
        ]);
        let lost: Vec<_> = found.iter().map(|(seq, resend)| (*seq, resend.batch.0, resend.lost)).collect();
        assert_eq!(
            lost,
            [(7, 0, Some(Lost::Noop { seq: 5 })), (8, 1, Some(Lost::Replaced { seq: 6, batch: BatchIndex(5) }))]
        );
        assert!(found[0].1.details().contains("flushed by our no-op (step #5)"), "{}", found[0].1.details());
    }

    #[test]
    fn recorded_effects_are_read_back_as_the_sends_they_asked_for() {
        let effects = [
            Effect::Submit {
                batch_index: BatchIndex(7),
                nonce: BatchNonce(3),
                w_nonce: WalletNonce(9),
                wire_hash: Hash32([5; 32]),
                wire: machine::Bytes(vec![1, 2]),
                chain_id: 31337,
                bid: None,
                min_gas: None,
            },
            Effect::Noop { w_nonce: WalletNonce(10), chain_id: 31337, bid: None },
            Effect::ReadWallet,
        ];
        let json = crate::log::effects_json(&effects);
        let from_json = recorded_sends(&json);
        assert_eq!(from_json, sends_of(&effects).collect::<Vec<_>>());
        assert_eq!(from_json.len(), 2);
        assert_eq!(recorded_sends(b"not json"), []);
    }
}
