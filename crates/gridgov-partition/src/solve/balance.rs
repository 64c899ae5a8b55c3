//! Bringing grids into the tolerance when single moves cannot: evening out (a descent in which
//! the deviation from the mean outweighs compactness, so loads flow towards grids with room)
//! and ejection chains (an overloaded grid gives a unit to a neighbour, which passes one on,
//! and so on until a grid absorbs it; an underloaded grid is fed the same way), kept when the
//! summed excess beyond the tolerance falls and undone otherwise.

use super::search::{descend, Clock, Effort};
use super::state::State;

/// Weight of the squared deviation from the mean while evening out.
const EVEN: f64 = 50.0;
/// Longest chain, in grids passed through.
const DEPTH: usize = 8;
/// Chains tried per grid beyond the tolerance and round.
const TRIES: usize = 40;
/// Units tried for the first link of each chain.
const FIRST: usize = 4;
/// Rounds over the grids beyond the tolerance.
const ROUNDS: usize = 50;

/// Brings grids into the tolerance: ejection chains, and if they are not enough, evening out
/// and chains again.
pub(super) fn rebalance(state: &mut State<'_, '_>, clock: &Clock) -> Effort {
    let mut effort = Effort::default();
    if state.excess > 0.0 {
        effort.add(chains(state, clock));
    }
    if state.excess > 0.0 {
        effort.add(even_out(state, clock));
        effort.add(chains(state, clock));
    }
    effort
}

/// Evens out workloads: a descent in which the deviation from the mean weighs far more than
/// compactness.
pub(super) fn even_out(state: &mut State<'_, '_>, clock: &Clock) -> Effort {
    let spread = state.w.spread;
    state.w.spread = EVEN;
    state.rebuild();
    let effort = descend(state, clock);
    state.w.spread = spread;
    state.rebuild();
    effort
}

/// Tries ejection chains from every grid beyond the tolerance until none helps.
pub(super) fn chains(state: &mut State<'_, '_>, clock: &Clock) -> Effort {
    let mut effort = Effort::default();
    for _ in 0..ROUNDS {
        if state.excess <= 0.0 {
            break;
        }
        if clock.over() {
            effort.time_limited = true;
            break;
        }
        let w = state.w.clone();
        let mut out: Vec<(f64, usize)> = (0..state.k())
            .filter(|&g| state.size[g] > 0)
            .map(|g| (w.excess(state.load[g]), g))
            .filter(|e| e.0 > 0.0)
            .collect();
        out.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut helped = false;
        for (_, g) in out {
            if w.excess(state.load[g]) <= 0.0 {
                continue;
            }
            helped |= from_grid(state, g, &mut effort);
        }
        if !helped {
            break;
        }
    }
    state.rebuild();
    effort
}

/// Chains from grid `a` along breadth-first paths to the grids around it; whether one helped.
fn from_grid(state: &mut State<'_, '_>, a: usize, effort: &mut Effort) -> bool {
    let over = state.load[a] > state.w.mean;
    let near = state.grid_neighbours();
    let mut parent = vec![usize::MAX; state.k()];
    let mut depth = vec![0usize; state.k()];
    parent[a] = a;
    let mut order = vec![a];
    let mut head = 0;
    while head < order.len() {
        let g = order[head];
        head += 1;
        if depth[g] >= DEPTH {
            continue;
        }
        for &h in &near[g] {
            if parent[h] == usize::MAX {
                parent[h] = g;
                depth[h] = depth[g] + 1;
                order.push(h);
            }
        }
    }
    // Swaps with each neighbour first (a → b → a), then paths to ever farther grids.
    let mut paths: Vec<Vec<usize>> = near[a].iter().map(|&b| vec![a, b, a]).collect();
    for &z in order.iter().skip(1) {
        let mut path = vec![z];
        let mut g = z;
        while g != a {
            g = parent[g];
            path.push(g);
        }
        path.reverse();
        paths.push(path);
    }
    for path in paths.iter().take(TRIES + near[a].len()) {
        for first in 0..FIRST {
            effort.iterations += 1;
            match walk(state, path, over, first) {
                Walk::Helped => return true,
                Walk::Failed => {}
                Walk::NoUnit => break,
            }
        }
    }
    false
}

/// How a chain went.
enum Walk {
    /// The summed excess fell: the chain stays.
    Helped,
    /// It did not: the chain was undone.
    Failed,
    /// The first link had no unit to move with that choice.
    NoUnit,
}

/// Walks a chain along `path` (from the grid beyond the tolerance): when `over`, each grid
/// gives the next the smallest unit that covers its surplus; otherwise each grid takes from
/// the next the smallest unit that covers its shortfall. The first link takes the `first`-th
/// choice of unit instead. Keeps the chain if the summed excess fell, else undoes it.
fn walk(state: &mut State<'_, '_>, path: &[usize], over: bool, first: usize) -> Walk {
    let before = state.excess;
    let mut done: Vec<(usize, usize)> = Vec::new();
    for (i, pair) in path.windows(2).enumerate() {
        let (here, next) = (pair[0], pair[1]);
        let w = &state.w;
        let need = if over {
            state.load[here] - w.mean * (1.0 + w.tol)
        } else {
            w.mean * (1.0 - w.tol) - state.load[here]
        };
        if need <= 0.0 {
            break;
        }
        let (donor, receiver) = if over { (here, next) } else { (next, here) };
        let Some(u) = pick(state, donor, receiver, need, if i == 0 { first } else { 0 }) else {
            if i == 0 {
                return Walk::NoUnit;
            }
            break;
        };
        done.push((u, donor));
        let d = state.delta(u, receiver);
        state.apply(u, receiver, d);
    }
    if state.excess < before - 1e-12 {
        return Walk::Helped;
    }
    for &(u, back) in done.iter().rev() {
        let d = state.delta(u, back);
        state.apply(u, back, d);
    }
    Walk::Failed
}

/// The unit of `donor` next to `receiver` that may move there (its grid staying contiguous)
/// with the smallest workload of at least `need`, or failing that the largest; `skip` passes
/// over that many such units first.
fn pick(
    state: &mut State<'_, '_>,
    donor: usize,
    receiver: usize,
    need: f64,
    skip: usize,
) -> Option<usize> {
    let mut candidates: Vec<(f64, usize)> = Vec::new();
    for &e in state.cut() {
        let (a, b) = state.p.usable[e];
        for (u, v) in [(a, b), (b, a)] {
            if state.assign[u] == donor && state.assign[v] == receiver {
                candidates.push((state.p.load(u), u));
            }
        }
    }
    candidates.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
    candidates.dedup_by_key(|c| c.1);
    let covering = candidates
        .iter()
        .position(|c| c.0 >= need)
        .unwrap_or(candidates.len());
    // The smallest covering units first, then the others from the largest down.
    let mut order: Vec<usize> = candidates[covering..].iter().map(|c| c.1).collect();
    order.extend(candidates[..covering].iter().rev().map(|c| c.1));
    order
        .into_iter()
        .filter(|&u| state.legal(u, receiver) && state.connected_without(u))
        .nth(skip)
}
