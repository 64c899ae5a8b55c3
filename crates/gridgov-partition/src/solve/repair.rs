//! Minimal change: from the plan in force to a balanced plan moving as few households as
//! possible. Grids that broke (in two pieces, across a barrier, over two villages) are mended
//! keeping their larger part; grids are dissolved or split until each part of the area has
//! its share (a split grows two halves from the grid's farthest units; a dissolved grid's
//! units join their lightest neighbours); then the steepest descent on balance, households
//! moved and compactness takes one unit at a time, the move that helps most first. When that
//! falls short of the tolerance: ejection chains and evening out; then the grids around those
//! still beyond it are regrown from their own centres, a widening ring at a time; then
//! annealing; and last, a fresh partition matched to the plan in force by overlap, if it
//! reaches the tolerance (balance comes before households moved).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::grow::{attach, grow, Seed, FREE};
use super::problem::Problem;
use super::search::{self, Clock, Effort};
use super::state::{State, Weights};
use super::stats::{self, Report};
use super::{balance, count, feasible, Infeasible, Options, Solution, Targets};

/// Weight of moving a grid's worth of households (balance outweighs it, compactness does
/// not).
const MOVED: f64 = 10.0;
/// Widest ring of grids regrown around those beyond the tolerance.
const REGROW: usize = 4;
/// Descent moves tried per unit.
const TRIES_PER_UNIT: u64 = 2000;

/// Re-partitions `current` (see [`super::repartition`]).
pub(super) fn repartition(
    p: &Problem<'_>,
    current: &[usize],
    targets: &Targets,
    options: &Options,
    progress: &mut dyn FnMut(f64),
) -> Result<Solution, Infeasible> {
    let n = p.len();
    if current.len() != n {
        return Err(Infeasible(format!(
            "the current plan gives a grid for {} units, but the area has {n}",
            current.len()
        )));
    }
    let old = current.iter().max().map_or(0, |m| m + 1);
    let tol = targets.tolerance;
    let k = count::grid_count(p, targets)?;
    let grids = feasible::allocate(p, k, tol)?;
    let mean = p.graph.workload() / k as f64;

    let (mut assign, mended) = mend(p, current, old);
    if !mended && k == old && unchanged_fits(p, current, old, mean, tol) {
        let report = Report {
            previous: (0..old).map(Some).collect(),
            ..Report::default()
        };
        return Ok(stats::solution(p, current.to_vec(), old, tol, report));
    }
    let clock = Clock::new(options.time_limit);
    let Some(slots) = adjust(p, &mut assign, old, &grids) else {
        return fresh_fallback(p, current, old, &grids, tol, options, progress);
    };
    progress(0.1);

    let area: f64 = p.graph.units.iter().map(|u| u.area).sum();
    let mut weights = Weights::new(mean, tol, area, k);
    weights.moved = MOVED * k as f64 / (p.graph.households().max(1) as f64);
    let mut state = State::new(p, weights, assign, slots, current.to_vec());
    let max = TRIES_PER_UNIT * n as u64;
    let mut effort = search::steepest(&mut state, &clock, max);
    progress(0.5);
    // Stuck short of the tolerance: ejection chains, then evening out and chains again, each
    // followed by the descent (which takes back what moved for nothing); last, annealing
    // (households moved still count).
    if state.excess > 0.0 {
        effort.add(balance::chains(&mut state, &clock));
        effort.add(search::steepest(&mut state, &clock, max));
    }
    if state.excess > 0.0 {
        effort.add(balance::even_out(&mut state, &clock));
        effort.add(balance::chains(&mut state, &clock));
        effort.add(search::steepest(&mut state, &clock, max));
    }
    progress(0.6);
    // Still short: regrow the grids around those beyond the tolerance from their own centres,
    // ever more of them.
    for radius in 1..=REGROW {
        if state.excess <= 0.0 || clock.over() {
            break;
        }
        let saved = state.assign.clone();
        let (cost, excess) = (state.cost, state.excess);
        if regrow(&mut state, radius) {
            effort.add(balance::chains(&mut state, &clock));
            effort.add(search::steepest(&mut state, &clock, max));
        }
        let worse =
            state.excess > excess + 1e-12 || (state.excess >= excess - 1e-12 && state.cost >= cost);
        if worse {
            state.reset(&saved);
        }
    }
    if state.excess > 0.0 && !effort.time_limited {
        let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
        effort.add(search::anneal(
            &mut state,
            &mut rng,
            &clock,
            progress,
            (0.6, 0.9),
        ));
        effort.add(search::steepest(&mut state, &clock, max));
    }
    progress(0.95);
    let solution = finish(p, current, old, &state.assign, slots, tol, effort);
    if solution.balanced || effort.time_limited {
        return Ok(solution);
    }
    // Balance comes first: when small changes fall short, a fresh partition that reaches the
    // tolerance wins, whatever it moves.
    let fresh = fresh_fallback(p, current, old, &grids, tol, options, &mut |_| {})?;
    Ok(if fresh.balanced { fresh } else { solution })
}

/// Regrows the grids within `radius` steps (over grid neighbours) of those beyond the
/// tolerance: each from the unit nearest its centre, the lightest taking the next unit, so
/// that the grids keep their places and share the load anew. Whether it could.
fn regrow(state: &mut State<'_, '_>, radius: usize) -> bool {
    let p = state.p;
    let k = state.k();
    let near = state.grid_neighbours();
    let mut depth = vec![usize::MAX; k];
    let mut queue: Vec<usize> = (0..k)
        .filter(|&g| state.size[g] > 0 && state.w.excess(state.load[g]) > 0.0)
        .collect();
    for &g in &queue {
        depth[g] = 0;
    }
    let mut head = 0;
    while head < queue.len() {
        let g = queue[head];
        head += 1;
        if depth[g] >= radius {
            continue;
        }
        for &h in &near[g] {
            if depth[h] == usize::MAX {
                depth[h] = depth[g] + 1;
                queue.push(h);
            }
        }
    }
    queue.sort_unstable();
    let open: Vec<bool> = state
        .assign
        .iter()
        .map(|&g| depth[g] != usize::MAX)
        .collect();
    // Each grid's seed: its unit nearest its centre (of its village when it has one).
    let mut sum = vec![[0.0f64; 3]; k];
    let mut village: Vec<Option<usize>> = vec![None; k];
    for (u, &g) in state.assign.iter().enumerate() {
        let unit = &p.graph.units[u];
        let a = unit.area.max(1e-9);
        sum[g][0] += a * unit.centroid[0];
        sum[g][1] += a * unit.centroid[1];
        sum[g][2] += a;
        village[g] = village[g].or(p.group[u]);
    }
    let mut seeds: Vec<(f64, usize)> = vec![(f64::INFINITY, usize::MAX); queue.len()];
    for (u, &g) in state.assign.iter().enumerate() {
        let Ok(i) = queue.binary_search(&g) else {
            continue;
        };
        if village[g].is_some() && p.group[u] != village[g] {
            continue;
        }
        let centre = [sum[g][0] / sum[g][2], sum[g][1] / sum[g][2]];
        let d = super::problem::dist2(p.graph.units[u].centroid, centre);
        if d < seeds[i].0 {
            seeds[i] = (d, u);
        }
    }
    let seeds: Vec<Seed> = seeds
        .iter()
        .map(|&(_, u)| Seed {
            unit: u,
            whole_only: false,
        })
        .collect();
    if seeds.iter().any(|s| s.unit == usize::MAX) {
        return false;
    }
    let grown = grow(p, &seeds, Some(&open));
    let mut assign = state.assign.clone();
    for (u, &r) in grown.iter().enumerate() {
        if open[u] {
            if r == FREE {
                return false;
            }
            assign[u] = queue[r];
        }
    }
    state.reset(&assign);
    true
}

/// Whether the plan in force, valid as it is, already lies within the tolerance.
fn unchanged_fits(p: &Problem<'_>, current: &[usize], old: usize, mean: f64, tol: f64) -> bool {
    let mut load = vec![0.0; old];
    let mut used = vec![false; old];
    for (u, &g) in current.iter().enumerate() {
        load[g] += p.load(u);
        used[g] = true;
    }
    used.iter().all(|&x| x)
        && load
            .iter()
            .all(|&w| ((w - mean) / mean).abs() <= tol + 1e-9)
}

/// The plan in force with what breaks the rules taken out (`FREE`), and whether anything was:
/// per grid, units of villages other than its main one, then one unit of each barrier pair
/// (the one with fewer households), then all but its largest connected piece.
fn mend(p: &Problem<'_>, current: &[usize], old: usize) -> (Vec<usize>, bool) {
    let n = p.len();
    let mut assign = current.to_vec();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); old];
    for (u, &g) in current.iter().enumerate() {
        members[g].push(u);
    }
    let mut changed = false;
    let mut piece = vec![usize::MAX; n];
    for (g, units) in members.iter().enumerate() {
        // Villages: keep the one with most households.
        let mut villages: Vec<(usize, u64)> = Vec::new();
        for &u in units {
            if let Some(v) = p.group[u] {
                match villages.iter_mut().find(|e| e.0 == v) {
                    Some(e) => e.1 += p.households(u),
                    None => villages.push((v, p.households(u))),
                }
            }
        }
        if villages.len() > 1 {
            let keep = villages
                .iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
                .map(|e| e.0);
            for &u in units {
                if p.group[u].is_some() && p.group[u] != keep {
                    assign[u] = FREE;
                    changed = true;
                }
            }
        }
        // Barriers inside the grid.
        for &u in units {
            if assign[u] != g {
                continue;
            }
            for &b in &p.barriers[u] {
                if assign[b] == g && assign[u] == g {
                    let drop = if (p.households(b), u) < (p.households(u), b) {
                        b
                    } else {
                        u
                    };
                    assign[drop] = FREE;
                    changed = true;
                }
            }
        }
        // Contiguity: keep the piece with most households.
        let mut pieces: Vec<(u64, usize)> = Vec::new();
        for &s in units {
            if assign[s] != g || piece[s] != usize::MAX {
                continue;
            }
            let id = pieces.len();
            let mut hh = 0;
            let mut stack = vec![s];
            piece[s] = id;
            while let Some(x) = stack.pop() {
                hh += p.households(x);
                for nb in &p.adj[x] {
                    if assign[nb.unit] == g && piece[nb.unit] == usize::MAX {
                        piece[nb.unit] = id;
                        stack.push(nb.unit);
                    }
                }
            }
            pieces.push((hh, id));
        }
        if pieces.len() > 1 {
            let keep = pieces
                .iter()
                .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
                .map_or(0, |e| e.1);
            for &u in units {
                if assign[u] == g && piece[u] != keep {
                    assign[u] = FREE;
                    changed = true;
                }
            }
        }
    }
    (assign, changed)
}

/// Attaches released units, then dissolves or splits grids until every part of the area has
/// its share. Returns the number of grid slots (`old` and the new grids after them), or `None`
/// when that could not be done by small changes.
fn adjust(p: &Problem<'_>, assign: &mut [usize], old: usize, grids: &[usize]) -> Option<usize> {
    let mut slots = old;
    if !reattach(p, assign, slots) {
        return None;
    }
    for (c, &want) in grids.iter().enumerate() {
        loop {
            let (count, members) = part_grids(p, assign, slots, c);
            if count == want {
                break;
            }
            if count > want {
                // Dissolve the lightest grid whose units all find a neighbour.
                let mut order: Vec<(f64, usize)> =
                    members.iter().map(|&(g, w, _)| (w, g)).collect();
                order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let done = order.iter().any(|&(_, g)| {
                    let saved = assign.to_vec();
                    assign
                        .iter_mut()
                        .filter(|x| **x == g)
                        .for_each(|x| *x = FREE);
                    if reattach(p, assign, slots) {
                        true
                    } else {
                        assign.copy_from_slice(&saved);
                        false
                    }
                });
                if !done {
                    return None;
                }
            } else {
                // Split the heaviest grid that can be split.
                let mut order: Vec<(f64, usize, usize)> =
                    members.iter().map(|&(g, w, s)| (w, g, s)).collect();
                order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                let done = order
                    .iter()
                    .any(|&(_, g, size)| size >= 2 && split(p, assign, g, slots));
                if !done {
                    return None;
                }
                slots += 1;
            }
        }
    }
    Some(slots)
}

/// The grids of part `c` that have units: how many, and each as (grid, workload, units).
fn part_grids(
    p: &Problem<'_>,
    assign: &[usize],
    slots: usize,
    c: usize,
) -> (usize, Vec<(usize, f64, usize)>) {
    let mut load = vec![0.0; slots];
    let mut size = vec![0usize; slots];
    for (u, &g) in assign.iter().enumerate() {
        if p.part[u] == c && g != FREE {
            load[g] += p.load(u);
            size[g] += 1;
        }
    }
    let members: Vec<(usize, f64, usize)> = (0..slots)
        .filter(|&g| size[g] > 0)
        .map(|g| (g, load[g], size[g]))
        .collect();
    (members.len(), members)
}

/// Attaches every free unit to a neighbouring grid; whether all found one.
fn reattach(p: &Problem<'_>, assign: &mut [usize], slots: usize) -> bool {
    let mut load = vec![0.0; slots];
    let mut group: Vec<Option<usize>> = vec![None; slots];
    for (u, &g) in assign.iter().enumerate() {
        if g != FREE {
            load[g] += p.load(u);
            if p.group[u].is_some() {
                group[g] = p.group[u];
            }
        }
    }
    attach(p, assign, &mut load, &mut group, &|_| true);
    !assign.contains(&FREE)
}

/// Splits grid `g` in two by growing from its two farthest-apart units; the part with more
/// settled households (those that had a grid) keeps `g`, the other becomes grid `new`, so
/// newcomers rather than old residents fill a new grid. Whether it worked.
fn split(p: &Problem<'_>, assign: &mut [usize], g: usize, new: usize) -> bool {
    let units: Vec<usize> = (0..p.len()).filter(|&u| assign[u] == g).collect();
    let mut sum = [0.0f64; 3];
    for &u in &units {
        let unit = &p.graph.units[u];
        let a = unit.area.max(1e-9);
        sum[0] += a * unit.centroid[0];
        sum[1] += a * unit.centroid[1];
        sum[2] += a;
    }
    let centre = [sum[0] / sum[2], sum[1] / sum[2]];
    let farthest = |from: &dyn Fn(usize) -> f64| {
        units
            .iter()
            .copied()
            .max_by(|&a, &b| from(a).total_cmp(&from(b)).then(b.cmp(&a)))
    };
    let Some(s1) = farthest(&|u| super::problem::dist2(p.graph.units[u].centroid, centre)) else {
        return false;
    };
    let Some(s2) = farthest(&|u| p.dist2(s1, u)) else {
        return false;
    };
    if s1 == s2 {
        return false;
    }
    let mut open = vec![false; p.len()];
    for &u in &units {
        open[u] = true;
    }
    let seeds = [
        Seed {
            unit: s1,
            whole_only: false,
        },
        Seed {
            unit: s2,
            whole_only: false,
        },
    ];
    let grown = grow(p, &seeds, Some(&open));
    let mut hh = [0u64; 2];
    for &u in &units {
        match grown[u] {
            r @ (0 | 1) => hh[r] += p.settled(u),
            _ => return false,
        }
    }
    let keep = usize::from(hh[1] > hh[0]);
    for &u in &units {
        assign[u] = if grown[u] == keep { g } else { new };
    }
    true
}

/// The solution for working assignment `assign` over `slots` grid slots: empty slots of the
/// plan in force are retired, the rest numbered in order.
fn finish(
    p: &Problem<'_>,
    current: &[usize],
    old: usize,
    assign: &[usize],
    slots: usize,
    tol: f64,
    effort: Effort,
) -> Solution {
    let mut used = vec![false; slots];
    for &g in assign {
        used[g] = true;
    }
    let mut index = vec![usize::MAX; slots];
    let mut previous = Vec::new();
    let mut retired = Vec::new();
    for g in 0..slots {
        if used[g] {
            index[g] = previous.len();
            previous.push((g < old).then_some(g));
        } else if g < old {
            retired.push(g);
        }
    }
    let moved = (0..p.len())
        .filter(|&u| assign[u] != current[u])
        .map(|u| p.settled(u))
        .sum();
    let k = previous.len();
    let compact: Vec<usize> = assign.iter().map(|&g| index[g]).collect();
    stats::solution(
        p,
        compact,
        k,
        tol,
        Report {
            previous,
            moved,
            retired,
            effort,
        },
    )
}

/// When small changes cannot reach the number of grids: a fresh partition, its grids matched
/// to the plan in force by the households they share (largest overlaps first).
fn fresh_fallback(
    p: &Problem<'_>,
    current: &[usize],
    old: usize,
    grids: &[usize],
    tol: f64,
    options: &Options,
    progress: &mut dyn FnMut(f64),
) -> Result<Solution, Infeasible> {
    let (fresh, effort) = super::fresh(p, grids, tol, options, progress)?;
    let k: usize = grids.iter().sum();
    let mut overlap = vec![0u64; k * old];
    for u in 0..p.len() {
        overlap[fresh[u] * old + current[u]] += p.households(u);
    }
    let mut pairs: Vec<(u64, usize, usize)> = (0..k)
        .flat_map(|g| (0..old).map(move |o| (g, o)))
        .filter_map(|(g, o)| (overlap[g * old + o] > 0).then_some((overlap[g * old + o], g, o)))
        .collect();
    pairs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut slot_of = vec![usize::MAX; k];
    let mut taken = vec![false; old];
    for &(_, g, o) in &pairs {
        if slot_of[g] == usize::MAX && !taken[o] {
            slot_of[g] = o;
            taken[o] = true;
        }
    }
    let mut next = old;
    for s in &mut slot_of {
        if *s == usize::MAX {
            *s = next;
            next += 1;
        }
    }
    let assign: Vec<usize> = fresh.iter().map(|&g| slot_of[g]).collect();
    Ok(finish(p, current, old, &assign, next, tol, effort))
}
