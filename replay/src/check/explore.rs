//! Breadth-first exploration of every interleaving of the [`World`]'s moves, stepping the
//! real `machine::step` through the one driver with the invariant checks on.
//!
//! Memory: each distinct (core state, world) pair is a 16-byte key in the visited set and
//! an id; an id keeps only its parent's id and the index of the move that led to it. The
//! current and the next frontier are kept as compact bytes (`frontier.rs`: about 170
//! bytes a pair instead of about 1.5 KB live), decoded one pair at a time when expanded.
//! A counterexample is rebuilt by walking the parents back to the root and re-running
//! those moves, which also yields the shortest one: BFS reaches every state first at its
//! smallest depth.

use std::ops::ControlFlow;
use std::time::Instant;

use machine::drive::{Driver, Failure};
use machine::{Event, State};

use super::frontier::{self, Codec, Frontier, Key, Seen};
use super::world::{Bounds, Move, World};

/// A property of the core's state judged after every step, besides docs/protocol.md §9:
/// `Some(what)` when it fails. Tests use it to plant a violation without touching the core.
pub type ExtraProperty = fn(&State) -> Option<String>;

/// What to explore.
#[derive(Clone, Debug)]
pub struct Scope {
    /// Moves from the empty world.
    pub depth: u32,
    /// Seals, crashes and faults.
    pub bounds: Bounds,
    /// The `boot` event (its clock is set by the world).
    pub boot: Event,
    /// Stop after this many distinct states (a memory guard).
    pub max_states: u64,
    /// An extra property (tests).
    pub extra: Option<ExtraProperty>,
    /// From every new state, the fault-free completion ([`World::calm_move`]) must settle
    /// ([`World::settled`]) within this many moves; 0 turns the check off.
    pub settle_within: u32,
}

/// A violation and the shortest event script that reaches it.
#[derive(Clone, Debug)]
pub struct Counterexample {
    /// A violation, or the situation a witness property asked for.
    pub finding: Finding,
    /// What broke.
    pub what: String,
    /// The events stepped from the empty state, the last one breaking it.
    pub events: Vec<Event>,
    /// The world's moves, for the reader (lost answers, blocks, the safe head).
    pub moves: Vec<Move>,
}

/// What kind of thing a [`Counterexample`] shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finding {
    /// An invariant, a world property or the completion failed.
    Violation,
    /// The extra property ([`Scope::extra`]: a test's plant, or `--witness`) failed.
    Witness,
}

/// What one exploration found.
#[derive(Clone, Debug)]
pub struct Report {
    /// Distinct (core state, world) pairs reached, the empty one included.
    pub states: u64,
    /// Moves taken (each stepped event or world change).
    pub transitions: u64,
    /// The deepest level with a new state.
    pub depth_reached: u32,
    /// Whether the frontier emptied before the depth bound (the scope is exhausted).
    pub exhausted: bool,
    /// Whether `max_states` stopped the search.
    pub truncated: bool,
    /// Wall time, in milliseconds.
    pub elapsed_ms: u128,
    /// The most moves a fault-free completion took to settle.
    pub settle_max: u32,
    /// The first violation found, shortest first.
    pub violation: Option<Counterexample>,
}

/// One move from (`state`, `world`): the event stepped, the successor pair and what broke.
struct Successor {
    event: Option<Event>,
    state: State,
    world: World,
    broke: Option<(Finding, String)>,
}

fn successor(state: &State, world: &World, chosen: &Move, scope: &Scope) -> Successor {
    let mut world = world.clone();
    let Some(event) = world.event(chosen, &scope.boot, &scope.bounds) else {
        let broke = world.judge(state).map(|what| (Finding::Violation, what));
        return Successor { event: None, state: state.clone(), world, broke };
    };
    let mut driver = Driver::new(state.clone()).checking_invariants(true);
    let stepped = driver.step(&event);
    let mut broke = match stepped.failure {
        Some(Failure::Invariant(violation)) => Some(format!("invariant: {violation:?}")),
        Some(Failure::Effects) => Some("effects differ".to_owned()),
        None => None,
    };
    world.absorb(&stepped.step.effects, &scope.bounds);
    let state = driver.into_state();
    if broke.is_none() {
        broke = world.judge(&state);
    }
    let mut broke = broke.map(|what| (Finding::Violation, what));
    if broke.is_none() {
        broke = scope.extra.and_then(|property| property(&state)).map(|what| (Finding::Witness, what));
    }
    Successor { event: Some(event), state, world, broke }
}

/// Explores `scope` breadth first; stops at the first violation.
#[must_use]
pub fn explore(scope: &Scope) -> Report {
    let started = Instant::now();
    // The reference of the compact encoding: the state after the first boot, whose
    // archive's root object (config, counters) is close to every later state's.
    let reference = successor(&State::new(), &World::new(), &Move::Boot, scope).state;
    let mut codec = Codec::new(&reference);
    // id -> (parent id, move index); the root is its own parent.
    let mut parents: Vec<(u32, u16)> = vec![(0, 0)];
    let mut seen = Seen::default();
    let mut encoded = Vec::new();
    codec.encode(&State::new(), &World::new(), &mut encoded);
    seen.insert(frontier::key(&encoded));
    let mut frontier = Frontier::default();
    frontier.push(0, &encoded);
    let mut report = Report {
        states: 1,
        transitions: 0,
        depth_reached: 0,
        exhausted: false,
        truncated: false,
        elapsed_ms: 0,
        settle_max: 0,
        violation: None,
    };
    // States whose fault-free completion is known to settle, with its length.
    let mut calm = Calm::default();
    for depth in 0..scope.depth {
        let mut next = Frontier::default();
        let stopped = frontier.drain(|id, bytes| {
            let Some((state, world)) = codec.decode(bytes) else {
                // The encoding is ours and lossless: this is a bug of the checker, shown as a
                // violation (with the path to the pair) rather than skipped.
                let path = path_to(&parents, id);
                return ControlFlow::Break(rebuild(
                    scope,
                    &path,
                    0,
                    (Finding::Violation, "checker: a frontier pair did not decode".to_owned()),
                ));
            };
            // `decode` just read the same length prefix.
            let state_part = frontier::state_part(bytes).unwrap_or_default();
            let moves = world.moves(&scope.bounds);
            if u16::try_from(moves.len()).is_err() {
                let path = path_to(&parents, id);
                let what = format!("checker: {} moves from one state, more than a move index holds", moves.len());
                return ControlFlow::Break(rebuild(scope, &path, 0, (Finding::Violation, what)));
            }
            for (index, chosen) in (0_u16..).zip(&moves) {
                report.transitions += 1;
                let successor = successor(&state, &world, chosen, scope);
                if let Some(broke) = successor.broke {
                    let mut path = path_to(&parents, id);
                    path.push(index);
                    return ControlFlow::Break(rebuild(scope, &path, 0, broke));
                }
                encoded.clear();
                if successor.event.is_some() {
                    codec.encode_state(&successor.state, &mut encoded);
                } else {
                    // No event stepped: the core's state is the frontier's, already encoded.
                    encoded.extend_from_slice(state_part);
                }
                Codec::encode_world(&successor.world, &mut encoded);
                let key = frontier::key(&encoded);
                if !seen.insert(key) {
                    continue;
                }
                if scope.settle_within > 0 {
                    match settles(&successor.state, &successor.world, key, scope, &mut codec, &mut calm) {
                        Ok(moves) => report.settle_max = report.settle_max.max(moves),
                        Err((moves, broke)) => {
                            let mut path = path_to(&parents, id);
                            path.push(index);
                            return ControlFlow::Break(rebuild(scope, &path, moves, broke));
                        }
                    }
                }
                let Ok(new_id) = u32::try_from(parents.len()) else {
                    report.truncated = true;
                    break;
                };
                parents.push((id, index));
                next.push(new_id, &encoded);
            }
            ControlFlow::Continue(())
        });
        if let ControlFlow::Break(found) = stopped {
            // The states of the level cut short count too.
            report.states = parents.len() as u64;
            report.violation = Some(found);
            report.depth_reached = depth + 1;
            report.elapsed_ms = started.elapsed().as_millis();
            return report;
        }
        report.states = parents.len() as u64;
        if next.is_empty() {
            report.exhausted = true;
            break;
        }
        report.depth_reached = depth + 1;
        if report.states >= scope.max_states {
            report.truncated = true;
            break;
        }
        frontier = next;
    }
    report.elapsed_ms = started.elapsed().as_millis();
    report
}

/// The move indices from the root to `id`.
fn path_to(parents: &[(u32, u16)], mut id: u32) -> Vec<u16> {
    let mut path = Vec::new();
    while id != 0 {
        let Some(&(parent, index)) = parents.get(id as usize) else { break };
        path.push(index);
        id = parent;
    }
    path.reverse();
    path
}

/// States whose fault-free completion settles, with the moves it takes from them.
type Calm = std::collections::HashMap<Key, u32, std::hash::BuildHasherDefault<frontier::KeyHasher>>;

/// Follows the fault-free completion from a new state until it settles: `Ok(moves)`, or
/// `Err((moves, (finding, what)))` when it breaks a property on the way or has not settled within
/// `scope.settle_within` moves (a stuck state or a livelock). Every state on a completion
/// that settles is remembered in `calm` with its distance, so a later completion that
/// meets one adds that distance instead of walking on (and walks on if the sum would
/// pass the bound, so the bound holds exactly).
fn settles(
    state: &State,
    world: &World,
    key: Key,
    scope: &Scope,
    codec: &mut Codec,
    calm: &mut Calm,
) -> Result<u32, (u32, (Finding, String))> {
    let mut on_the_way = vec![key];
    let (mut state, mut world) = (state.clone(), world.clone());
    let mut moves = 0;
    let mut rest = 0;
    let mut encoded = Vec::new();
    while !world.settled(&state) {
        if moves > 0 {
            encoded.clear();
            codec.encode(&state, &world, &mut encoded);
            let key = frontier::key(&encoded);
            if let Some(&known) = calm.get(&key)
                && moves + known <= scope.settle_within
            {
                rest = known;
                break;
            }
            on_the_way.push(key);
        }
        if moves == scope.settle_within {
            let what = format!(
                "stuck: {moves} fault-free moves (every answer delivered, every send mined, timers fired) \
                 and the core is still not admitted with its tree consistent with L1"
            );
            return Err((moves, (Finding::Violation, what)));
        }
        let next = successor(&state, &world, &world.calm_move(), scope);
        moves += 1;
        if let Some(what) = next.broke {
            let (finding, what) = what;
            return Err((moves, (finding, format!("{what} (on the fault-free completion)"))));
        }
        state = next.state;
        world = next.world;
    }
    let total = moves + rest;
    // The i-th state on the way is `total - i` moves from settling.
    calm.extend((0_u32..).zip(on_the_way).map(|(i, key)| (key, total - i)));
    Ok(total)
}

/// Re-runs `path` from the root, then `calm` moves of the fault-free completion: the
/// events stepped and the moves made.
fn rebuild(scope: &Scope, path: &[u16], calm: u32, (finding, mut what): (Finding, String)) -> Counterexample {
    let mut state = State::new();
    let mut world = World::new();
    let mut events = Vec::new();
    let mut moves = Vec::new();
    for (depth, &index) in path.iter().enumerate() {
        let Some(chosen) = world.moves(&scope.bounds).get(usize::from(index)).cloned() else {
            // `moves` depends only on the world, so this is a bug of the checker: say so.
            what.push_str(&format!(" (checker: the script stops at move {depth}, which could not be rebuilt)"));
            break;
        };
        let successor = successor(&state, &world, &chosen, scope);
        events.extend(successor.event);
        moves.push(chosen);
        state = successor.state;
        world = successor.world;
    }
    for _ in 0..calm {
        let chosen = world.calm_move();
        let successor = successor(&state, &world, &chosen, scope);
        events.extend(successor.event);
        moves.push(chosen);
        state = successor.state;
        world = successor.world;
    }
    Counterexample { finding, what, events, moves }
}
