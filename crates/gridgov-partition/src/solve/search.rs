//! Local search over boundary units: simulated annealing that moves one unit at a time to a
//! neighbouring grid (drawn as a random usable edge between two grids), keeping the grid it
//! leaves contiguous and barriers and villages respected; then a descent that takes only
//! improving moves. The best solution seen is kept (least excess beyond the tolerance, then
//! the lowest objective) and restored at the end. Budgets are counted in moves, so a seed
//! gives the same result on any machine; the time limit only caps.

use std::time::{Duration, Instant};

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::state::State;

/// Annealing moves per unit.
const MOVES_PER_UNIT: u64 = 300;
/// The fewest annealing moves.
const MIN_MOVES: u64 = 20_000;
/// First temperature as a share of the median rise of the objective over sampled moves.
const HEAT: f64 = 0.3;
/// Final temperature as a share of the first.
const COOLING: f64 = 1e-3;
/// Moves between looks at the clock and reports of progress.
const CHUNK: u64 = 1024;

/// The time limit.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clock {
    start: Instant,
    limit: Duration,
}

impl Clock {
    /// A clock started now.
    pub fn new(limit: Duration) -> Self {
        Self {
            start: Instant::now(),
            limit,
        }
    }

    /// Whether the limit has passed.
    pub fn over(&self) -> bool {
        self.start.elapsed() >= self.limit
    }
}

/// What a search did.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Effort {
    /// Moves tried.
    pub iterations: u64,
    /// Whether the clock stopped it.
    pub time_limited: bool,
}

impl Effort {
    /// Adds the effort of a later stage.
    pub fn add(&mut self, other: Effort) {
        self.iterations += other.iterations;
        self.time_limited |= other.time_limited;
    }
}

/// The best assignment seen, kept as a copy plus the moves made since.
struct Keeper {
    best: Vec<usize>,
    excess: f64,
    cost: f64,
    /// Moves (unit, grid) made since `best` was copied.
    log: Vec<(usize, usize)>,
    /// How many of them lead to the best state.
    at: usize,
}

impl Keeper {
    fn new(state: &State<'_, '_>) -> Self {
        Self {
            best: state.assign.clone(),
            excess: state.excess,
            cost: state.cost,
            log: Vec::new(),
            at: 0,
        }
    }

    fn record(&mut self, u: usize, h: usize, state: &State<'_, '_>) -> bool {
        self.log.push((u, h));
        let better = if (state.excess - self.excess).abs() > 1e-12 {
            state.excess < self.excess
        } else {
            state.cost < self.cost - 1e-12
        };
        if better {
            self.excess = state.excess;
            self.cost = state.cost;
            self.at = self.log.len();
        }
        if self.log.len() > 2 * self.best.len() + 64 {
            for &(u, h) in &self.log[..self.at] {
                self.best[u] = h;
            }
            self.log.clear();
            self.log.extend(
                state
                    .assign
                    .iter()
                    .enumerate()
                    .filter(|&(u, &h)| self.best[u] != h)
                    .map(|(u, &h)| (u, h)),
            );
            self.at = 0;
        }
        better
    }

    fn finish(mut self) -> Vec<usize> {
        for &(u, h) in &self.log[..self.at] {
            self.best[u] = h;
        }
        self.best
    }
}

/// Anneals `state`, leaving it at the best solution seen. Progress is reported from `from` to
/// `to`.
#[expect(
    clippy::many_single_char_names,
    reason = "graph notation: p the problem, u and v units, g and h grids, k grids, n units"
)]
pub(super) fn anneal(
    state: &mut State<'_, '_>,
    rng: &mut ChaCha8Rng,
    clock: &Clock,
    progress: &mut dyn FnMut(f64),
    (from, to): (f64, f64),
) -> Effort {
    let n = state.p.len() as u64;
    let budget = (MOVES_PER_UNIT * n).max(MIN_MOVES);
    let patience = budget / 4;
    let mut effort = Effort::default();
    let t0 = temperature(state, rng) * HEAT;
    let mut t = t0;
    let mut keeper = Keeper::new(state);
    let mut last_better = 0u64;
    for i in 0..budget {
        if i % CHUNK == 0 {
            if clock.over() {
                effort.time_limited = true;
                break;
            }
            progress(from + (to - from) * i as f64 / budget as f64);
            t = t0 * COOLING.powf(i as f64 / budget as f64);
        }
        if i > budget / 2 && i - last_better > patience {
            break;
        }
        effort.iterations += 1;
        let cut = state.cut();
        if cut.is_empty() {
            break;
        }
        let (a, b) = state.p.usable[cut[rng.gen_range(0..cut.len())]];
        let (u, v) = if rng.gen::<bool>() { (a, b) } else { (b, a) };
        let h = state.assign[v];
        if !state.legal(u, h) {
            continue;
        }
        let d = state.delta(u, h);
        if d.unbalances()
            || (!d.balances() && d.cost > 0.0 && rng.gen::<f64>() >= (-d.cost / t).exp())
        {
            continue;
        }
        if !state.connected_without(u) {
            continue;
        }
        state.apply(u, h, d);
        if keeper.record(u, h, state) {
            last_better = i;
        }
    }
    let best = keeper.finish();
    state.reset(&best);
    effort
}

/// The median rise of the objective over a sample of moves that keep the balance (the first
/// temperature is [`HEAT`] times it: a few in a hundred such moves pass at first, the
/// initial solution being already good).
fn temperature(state: &State<'_, '_>, rng: &mut ChaCha8Rng) -> f64 {
    let mut rises = Vec::new();
    let cut = state.cut();
    if !cut.is_empty() {
        for _ in 0..400 {
            let (a, b) = state.p.usable[cut[rng.gen_range(0..cut.len())]];
            let h = state.assign[b];
            if !state.legal(a, h) {
                continue;
            }
            let d = state.delta(a, h);
            if d.excess <= 0.0 && d.cost > 0.0 {
                rises.push(d.cost);
            }
        }
    }
    if rises.is_empty() {
        return 1e-3;
    }
    rises.sort_unstable_by(f64::total_cmp);
    rises[rises.len() / 2]
}

/// Takes improving moves until none is left (or `max` moves were tried): in each round the
/// best improving move whose grid stays contiguous, so that the few moves made are the ones
/// that count most.
pub(super) fn steepest(state: &mut State<'_, '_>, clock: &Clock, max: u64) -> Effort {
    let mut effort = Effort::default();
    let mut moves: Vec<(f64, usize, usize)> = Vec::new();
    loop {
        if clock.over() {
            effort.time_limited = true;
            break;
        }
        if effort.iterations >= max {
            break;
        }
        moves.clear();
        for &e in state.cut() {
            let (a, b) = state.p.usable[e];
            for (u, v) in [(a, b), (b, a)] {
                let h = state.assign[v];
                if !state.legal(u, h) {
                    continue;
                }
                let d = state.delta(u, h);
                if d.improves() {
                    moves.push((d.cost, u, h));
                }
            }
        }
        effort.iterations += moves.len() as u64 + 1;
        moves.sort_unstable_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
        moves.dedup_by(|x, y| x.1 == y.1 && x.2 == y.2);
        let mut done = false;
        for &(_, u, h) in &moves {
            if state.connected_without(u) {
                let d = state.delta(u, h);
                state.apply(u, h, d);
                done = true;
                break;
            }
        }
        if !done {
            break;
        }
    }
    effort
}

/// Takes improving moves in sweeps over the boundary (first improvement) until a sweep finds
/// none.
pub(super) fn descend(state: &mut State<'_, '_>, clock: &Clock) -> Effort {
    let mut effort = Effort::default();
    let mut edges: Vec<usize> = Vec::new();
    for _ in 0..100 {
        if clock.over() {
            effort.time_limited = true;
            break;
        }
        edges.clear();
        edges.extend_from_slice(state.cut());
        edges.sort_unstable();
        let mut improved = false;
        for &e in &edges {
            let (a, b) = state.p.usable[e];
            for (u, v) in [(a, b), (b, a)] {
                let h = state.assign[v];
                if state.assign[u] == h || !state.legal(u, h) {
                    continue;
                }
                effort.iterations += 1;
                let d = state.delta(u, h);
                if d.improves() && state.connected_without(u) {
                    state.apply(u, h, d);
                    improved = true;
                }
            }
        }
        if !improved {
            break;
        }
    }
    effort
}
