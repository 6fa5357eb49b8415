//! The run loop: the next event (an outcome of an earlier effect, or a timer, seal or
//! signal) is stepped, its record is made durable, and only then are its effects run,
//! in order; each outcome becomes the next event. Nothing here knows whether the ports
//! are a simulation or a real node.
//!
//! `step` is pure, so stepping before the append changes nothing outside the process:
//! a crash between the two loses the event and its (unexecuted) effects together, which
//! is what "append before stepping" guarantees, while the record can carry the effects.

use std::collections::{BTreeSet, VecDeque};

use machine::drive::Driver;
use machine::event::{self as ev, RpcCall};
use machine::{Bytes, Effect, Event, ExitCode, State, UnixMillis};

use crate::error::SendError;
use crate::ports::{CrashPoint, Environment, Signed, Wake};

/// Why the loop stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The core asked to exit with this status.
    Exited(ExitCode),
    /// Crash injection killed the process here.
    Crashed(CrashPoint),
    /// No timer is set and no input will come.
    Idle,
    /// The log could not be written; nothing of the step ran.
    LogFailed(String),
}

/// One process lifetime of the executor.
#[derive(Debug, Default)]
pub struct Executor {
    driver: Driver,
    queue: VecDeque<Event>,
    timers: BTreeSet<UnixMillis>,
}

impl Executor {
    /// A process whose state was rebuilt from the log (the empty state for a new log).
    #[must_use]
    pub fn resume(state: State) -> Self {
        Executor { driver: Driver::new(state), queue: VecDeque::new(), timers: BTreeSet::new() }
    }

    /// The state after the last durable step.
    #[must_use]
    pub fn state(&self) -> &State {
        self.driver.state()
    }

    /// Runs from `boot` until the core exits, the process crashes, or nothing is left to do.
    pub fn run<E: Environment>(&mut self, env: &mut E, boot: Event) -> Stop {
        self.queue.push_back(boot);
        loop {
            let event = match self.queue.pop_front() {
                Some(event) => event,
                None => match self.next_input(env) {
                    Some(event) => event,
                    None => return Stop::Idle,
                },
            };
            let stepped = self.driver.step(&event).step;
            if env.crash_at(CrashPoint::BeforeAppend) {
                // The process dies with its memory: nothing of the step was durable.
                self.driver = Driver::default();
                return Stop::Crashed(CrashPoint::BeforeAppend);
            }
            if let Err(message) = env.append(&event, &stepped.effects) {
                return Stop::LogFailed(message);
            }
            env.stepped(self.driver.state(), &event, &stepped);
            if env.crash_at(CrashPoint::AfterAppend) {
                return Stop::Crashed(CrashPoint::AfterAppend);
            }
            let mut effects = stepped.effects.into_iter().peekable();
            while let Some(effect) = effects.next() {
                let outcome = match effect {
                    // A step's consecutive writes commit together (a cascade is atomic).
                    Effect::Db { op, write } => {
                        let mut writes = vec![(op, write)];
                        while let Some(Effect::Db { .. }) = effects.peek() {
                            if let Some(Effect::Db { op, write }) = effects.next() {
                                writes.push((op, write));
                            }
                        }
                        self.write(env, &writes)
                    }
                    effect => self.execute(env, effect),
                };
                match outcome {
                    Outcome::Continue => {}
                    Outcome::SkipRest => break,
                    Outcome::Stop(stop) => return stop,
                }
                if env.crash_at(CrashPoint::AfterEffect) {
                    return Stop::Crashed(CrashPoint::AfterEffect);
                }
            }
        }
    }

    /// Waits for the earliest timer or an input.
    fn next_input<E: Environment>(&mut self, env: &mut E) -> Option<Event> {
        match env.wait(self.timers.first().copied()) {
            Wake::Deadline => {
                let now_ms = env.now_ms();
                // Every timer due by now is served by one tick.
                self.timers.retain(|&at| at > now_ms);
                Some(Event::Tick(ev::Tick { now_ms }))
            }
            Wake::Seal { id, payload } => Some(Event::Seal(ev::Seal { id, payload: Bytes(payload) })),
            Wake::Shutdown => Some(Event::Shutdown),
            Wake::Pause(Some(reason)) => Some(Event::Pause(ev::Pause { reason })),
            Wake::Pause(None) => Some(Event::Resume),
            Wake::Idle => None,
        }
    }

    /// Runs one effect and queues its outcome.
    fn execute<E: Environment>(&mut self, env: &mut E, effect: Effect) -> Outcome {
        let outcome = match effect {
            Effect::ReadChainId => match env.chain_id() {
                Ok(identity) => {
                    Event::ChainId(ev::ChainId { chain_id: identity.chain_id, genesis_hash: identity.genesis_hash })
                }
                Err(error) => rpc_failed(RpcCall::ChainId, &error),
            },
            Effect::SyncL1 { from_block, with_wire } => match env.sync_safe(from_block) {
                Ok(mut sync) => Event::L1(ev::L1 {
                    now_ms: env.now_ms(),
                    safe_block: sync.safe_block,
                    safe_timestamp: sync.safe_timestamp,
                    inputs: {
                        // Our landings' bytes go into the log only when the core adopts history.
                        if !with_wire {
                            strip_wire(&mut sync.inputs);
                        }
                        sync.inputs
                    },
                    // The range start matters only with the parent hash that checks it.
                    from_block: sync.parent_hash.map(|_| from_block),
                    safe_hash: sync.safe_hash,
                    parent_hash: sync.parent_hash,
                    partial: sync.partial,
                }),
                Err(error) => rpc_failed(RpcCall::L1, &error),
            },
            Effect::ReadWallet => match env.wallet() {
                Ok(counts) => Event::Wallet(ev::Wallet {
                    latest: counts.latest,
                    pending: counts.pending,
                    safe: counts.safe,
                    safe_block: counts.safe_block,
                    base_fee_wei: counts.fees.map(|fees| fees.base_fee),
                    tip_wei: counts.fees.map(|fees| fees.tip),
                    head_block: counts.head_block,
                }),
                Err(error) => rpc_failed(RpcCall::Wallet, &error),
            },
            Effect::ReadUnsafeLandings => match env.unsafe_landings() {
                Ok(landings) => Event::UnsafeLandings(ev::UnsafeLandings {
                    nonces: landings.nonces,
                    safe_block: landings.safe_block,
                }),
                Err(error) => rpc_failed(RpcCall::UnsafeLandings, &error),
            },
            Effect::Submit { w_nonce, wire, chain_id, bid, min_gas, .. } => {
                sent(w_nonce, env.send_batch(chain_id, w_nonce, &wire.0, bid, min_gas))
            }
            Effect::Noop { w_nonce, chain_id, bid } => sent(w_nonce, env.send_noop(chain_id, w_nonce, bid)),
            Effect::Db { op, write } => return self.write(env, &[(op, write)]),
            Effect::Intake { open } => {
                env.set_intake(open);
                return Outcome::Continue;
            }
            Effect::Timer { at_ms } => {
                self.timers.insert(at_ms);
                return Outcome::Continue;
            }
            Effect::Exit { code, .. } => return Outcome::Stop(Stop::Exited(code)),
        };
        self.queue.push_back(outcome);
        Outcome::Continue
    }
}

impl Executor {
    /// Applies one step's consecutive writes; a failure is reported as `db { ok: false }`
    /// for the write that failed, and the rest of the step, which may depend on it, is skipped.
    fn write<E: Environment>(&mut self, env: &mut E, writes: &[(machine::OpId, machine::DbWrite)]) -> Outcome {
        match env.apply_all(writes) {
            Ok(()) => Outcome::Continue,
            Err((op, error)) => {
                self.queue.push_back(Event::Db(ev::Db { op, ok: false, error: Some(error.to_string()) }));
                Outcome::SkipRest
            }
        }
    }
}

enum Outcome {
    Continue,
    SkipRest,
    Stop(Stop),
}

fn strip_wire(inputs: &mut [machine::event::Input]) {
    for input in inputs {
        if let machine::event::Input::Batch(landing) = input {
            landing.wire = None;
        }
    }
}

fn rpc_failed(call: RpcCall, error: &crate::error::L1Error) -> Event {
    Event::RpcFailed(ev::RpcFailed { call, error: error.to_string() })
}

/// A send's outcome; a wrong chain is reported as the chain id the node gave, which the
/// core refuses on (docs/protocol.md §6).
fn sent(w_nonce: machine::WalletNonce, result: Result<Signed, SendError>) -> Event {
    match result {
        Ok(Signed { tx_hash, bid, gas_limit }) => Event::Sent(ev::Sent {
            w_nonce,
            tx_hash,
            max_fee_per_gas: bid.map(|bid| bid.max_fee_per_gas),
            max_priority_fee_per_gas: bid.map(|bid| bid.max_priority_fee_per_gas),
            gas_limit,
        }),
        Err(SendError::WrongChain { found }) => Event::ChainId(ev::ChainId { chain_id: found, genesis_hash: None }),
        Err(error) => Event::SendFailed(ev::SendFailed { w_nonce, error: error.to_string(), class: error.class() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_send_reports_its_class_and_a_wrong_chain_its_chain_id() {
        let refused = SendError::Node {
            class: machine::SendClass::NonceTooLow,
            code: -32003,
            message: "nonce too low".to_owned(),
        };
        let Event::SendFailed(failed) = sent(machine::WalletNonce(3), Err(refused)) else { panic!("not send_failed") };
        assert_eq!(failed.class, Some(machine::SendClass::NonceTooLow));
        assert_eq!(failed.error, "nonce_too_low: nonce too low (code -32003)");
        let Event::SendFailed(failed) = sent(machine::WalletNonce(3), Err(SendError::Transport("down".to_owned())))
        else {
            panic!("not send_failed")
        };
        assert_eq!(failed.class, Some(machine::SendClass::Transport));
        let wrong = sent(machine::WalletNonce(3), Err(SendError::WrongChain { found: 1 }));
        assert!(matches!(wrong, Event::ChainId(ev::ChainId { chain_id: 1, .. })));
    }
}
