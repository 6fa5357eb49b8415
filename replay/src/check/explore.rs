//! Breadth-first exploration of every interleaving of the [`World`]'s moves, stepping the
//! real `machine::step` through the one driver with the invariant checks on.
//!
//! Memory: each distinct (core state, world) pair is a 16-byte key mapped to its id; an id
//! keeps only its parent's id and the index of the move that led to it. Full states are
//! kept for the current frontier only. A counterexample is rebuilt by walking the parents
//! back to the root and re-running those moves, which also yields the shortest one: BFS
//! reaches every state first at its smallest depth.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::time::Instant;

use machine::drive::{Driver, Failure};
use machine::{Event, State};

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
    /// What broke.
    pub what: String,
    /// The events stepped from the empty state, the last one breaking it.
    pub events: Vec<Event>,
    /// The world's moves, for the reader (lost answers, blocks, the safe head).
    pub moves: Vec<Move>,
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

type Key = [u8; 16];

/// A `Hasher` over blake3, so the world's derived `Hash` gives a stable 128-bit key.
struct Blake3(blake3::Hasher);

impl Hasher for Blake3 {
    fn finish(&self) -> u64 {
        let bytes = self.0.finalize();
        let mut first = [0_u8; 8];
        first.copy_from_slice(&bytes.as_bytes()[..8]);
        u64::from_le_bytes(first)
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

fn key(state: &State, world: &World) -> Key {
    let mut hasher = Blake3(blake3::Hasher::new());
    hasher.write(&state.state_hash().0);
    world.hash(&mut hasher);
    let mut key = [0_u8; 16];
    key.copy_from_slice(&hasher.0.finalize().as_bytes()[..16]);
    key
}

/// One move from (`state`, `world`): the event stepped, the successor pair and what broke.
struct Successor {
    event: Option<Event>,
    state: State,
    world: World,
    broke: Option<String>,
}

fn successor(state: &State, world: &World, chosen: &Move, scope: &Scope) -> Successor {
    let mut world = world.clone();
    let Some(event) = world.event(chosen, &scope.boot, &scope.bounds) else {
        let broke = world.judge(state);
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
    if broke.is_none() {
        broke = scope.extra.and_then(|property| property(&state));
    }
    Successor { event: Some(event), state, world, broke }
}

/// Explores `scope` breadth first; stops at the first violation.
#[must_use]
pub fn explore(scope: &Scope) -> Report {
    let started = Instant::now();
    let root = (State::new(), World::new());
    // id -> (parent id, move index); the root is its own parent.
    let mut parents: Vec<(u32, u16)> = vec![(0, 0)];
    let mut seen: HashMap<Key, u32> = HashMap::new();
    seen.insert(key(&root.0, &root.1), 0);
    let mut frontier: Vec<(u32, State, World)> = vec![(0, root.0, root.1)];
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
    // States whose fault-free completion is known to settle.
    let mut calm: HashSet<Key> = HashSet::new();
    for depth in 0..scope.depth {
        let mut next = Vec::new();
        for (id, state, world) in &frontier {
            let moves = world.moves(scope.depth - depth - 1, &scope.bounds);
            for (index, chosen) in moves.iter().enumerate() {
                report.transitions += 1;
                let successor = successor(state, world, chosen, scope);
                let Ok(index) = u16::try_from(index) else { continue };
                if let Some(what) = successor.broke {
                    let mut path = path_to(&parents, *id);
                    path.push(index);
                    report.violation = Some(rebuild(scope, &path, 0, what));
                    report.depth_reached = depth + 1;
                    report.elapsed_ms = started.elapsed().as_millis();
                    return report;
                }
                let key = key(&successor.state, &successor.world);
                if seen.contains_key(&key) {
                    continue;
                }
                if scope.settle_within > 0 {
                    match settles(&successor.state, &successor.world, key, scope, &mut calm) {
                        Ok(moves) => report.settle_max = report.settle_max.max(moves),
                        Err((moves, what)) => {
                            let mut path = path_to(&parents, *id);
                            path.push(index);
                            report.violation = Some(rebuild(scope, &path, moves, what));
                            report.depth_reached = depth + 1;
                            report.elapsed_ms = started.elapsed().as_millis();
                            return report;
                        }
                    }
                }
                let Ok(new_id) = u32::try_from(parents.len()) else {
                    report.truncated = true;
                    break;
                };
                seen.insert(key, new_id);
                parents.push((*id, index));
                next.push((new_id, successor.state, successor.world));
            }
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

/// Follows the fault-free completion from a new state until it settles: `Ok(moves)`, or
/// `Err((moves, what))` when it breaks a property on the way or has not settled within
/// `scope.settle_within` moves (a stuck state or a livelock). Every state on a completion
/// that settles is remembered in `calm`, so later completions stop when they meet one.
fn settles(
    state: &State,
    world: &World,
    key: Key,
    scope: &Scope,
    calm: &mut HashSet<Key>,
) -> Result<u32, (u32, String)> {
    let mut on_the_way = vec![key];
    let (mut state, mut world) = (state.clone(), world.clone());
    let mut moves = 0;
    while !world.settled(&state) {
        if moves > 0 {
            let key = self::key(&state, &world);
            if calm.contains(&key) {
                break;
            }
            on_the_way.push(key);
        }
        if moves == scope.settle_within {
            let what = format!(
                "stuck: {moves} fault-free moves (every answer delivered, every send mined, timers fired) \
                 and the core is still not admitted with its tree consistent with L1"
            );
            return Err((moves, what));
        }
        let next = successor(&state, &world, &world.calm_move(), scope);
        moves += 1;
        if let Some(what) = next.broke {
            return Err((moves, format!("{what} (on the fault-free completion)")));
        }
        state = next.state;
        world = next.world;
    }
    calm.extend(on_the_way);
    Ok(moves)
}

/// Re-runs `path` from the root, then `calm` moves of the fault-free completion: the
/// events stepped and the moves made.
fn rebuild(scope: &Scope, path: &[u16], calm: u32, what: String) -> Counterexample {
    let mut state = State::new();
    let mut world = World::new();
    let mut events = Vec::new();
    let mut moves = Vec::new();
    for (depth, &index) in path.iter().enumerate() {
        let depth_left = scope.depth.saturating_sub(u32::try_from(depth).unwrap_or(u32::MAX)).saturating_sub(1);
        let Some(chosen) = world.moves(depth_left, &scope.bounds).get(usize::from(index)).cloned() else { break };
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
    Counterexample { what, events, moves }
}
