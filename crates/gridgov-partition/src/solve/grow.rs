//! Seeded region growing: regions start from their seeds and take one unit at a time, the
//! lightest region taking the free unit nearest its seed among those it may take (a usable
//! edge away, its village allowed, no barrier to the region). Units left over when every
//! region is walled in are then attached to the lightest neighbouring region that may take
//! them. Regions grow over usable edges only, so each is contiguous.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::problem::Problem;

/// No region (yet).
pub(super) const FREE: usize = usize::MAX;

/// A region to grow.
#[derive(Debug, Clone, Copy)]
pub(super) struct Seed {
    /// The unit it starts from.
    pub unit: usize,
    /// Whether it may take whole villages only (a grid of small villages).
    pub whole_only: bool,
}

/// Grows regions from `seeds` over the units `open` allows (all when `None`) and attaches the
/// rest. Returns per unit its region (`FREE` for units not open, or units no region could
/// take).
#[expect(
    clippy::many_single_char_names,
    reason = "graph notation: p the problem, u and v units, g and h grids, k grids, n units"
)]
pub(super) fn grow(p: &Problem<'_>, seeds: &[Seed], open: Option<&[bool]>) -> Vec<usize> {
    let n = p.len();
    let is_open = |u: usize| open.is_none_or(|o| o[u]);
    let mut assign = vec![FREE; n];
    let k = seeds.len();
    let mut load = vec![0.0; k];
    let mut group: Vec<Option<usize>> = vec![None; k];
    let mut heaps: Vec<BinaryHeap<Reverse<(u64, usize)>>> = vec![BinaryHeap::new(); k];
    let mut active = vec![true; k];
    let takes = |assign: &[usize], group: &[Option<usize>], r: usize, u: usize| {
        if assign[u] != FREE || !is_open(u) {
            return false;
        }
        match p.group[u] {
            Some(v) if seeds[r].whole_only || group[r].is_some_and(|g| g != v) => return false,
            _ => {}
        }
        p.barriers[u].iter().all(|&b| assign[b] != r)
    };
    for (r, s) in seeds.iter().enumerate() {
        if assign[s.unit] != FREE {
            active[r] = false;
            continue;
        }
        assign[s.unit] = r;
        load[r] += p.load(s.unit);
        group[r] = p.group[s.unit];
    }
    for (r, s) in seeds.iter().enumerate() {
        if active[r] {
            push_neighbours(p, &mut heaps[r], s.unit, s.unit, &assign);
        }
    }
    loop {
        // The lightest region still able to grow.
        let mut best = None;
        for r in 0..k {
            if active[r] && best.is_none_or(|b: usize| load[r] < load[b]) {
                best = Some(r);
            }
        }
        let Some(r) = best else { break };
        let mut taken = None;
        while let Some(Reverse((_, u))) = heaps[r].pop() {
            if takes(&assign, &group, r, u) {
                taken = Some(u);
                break;
            }
        }
        let Some(u) = taken else {
            active[r] = false;
            continue;
        };
        assign[u] = r;
        load[r] += p.load(u);
        if group[r].is_none() {
            group[r] = p.group[u];
        }
        push_neighbours(p, &mut heaps[r], seeds[r].unit, u, &assign);
    }
    attach(p, &mut assign, &mut load, &mut group, &is_open);
    assign
}

/// Queues the free neighbours of `u` for the region grown from `seed`, nearest first.
fn push_neighbours(
    p: &Problem<'_>,
    heap: &mut BinaryHeap<Reverse<(u64, usize)>>,
    seed: usize,
    u: usize,
    assign: &[usize],
) {
    for nb in &p.adj[u] {
        if assign[nb.unit] == FREE {
            // Non-negative floats order as their bits.
            heap.push(Reverse((p.dist2(seed, nb.unit).to_bits(), nb.unit)));
        }
    }
}

/// Attaches free open units to the lightest neighbouring region that may take them, until
/// none can be attached.
pub(super) fn attach(
    p: &Problem<'_>,
    assign: &mut [usize],
    load: &mut [f64],
    group: &mut [Option<usize>],
    is_open: &dyn Fn(usize) -> bool,
) {
    loop {
        let mut changed = false;
        for u in 0..p.len() {
            if assign[u] != FREE || !is_open(u) {
                continue;
            }
            let mut best: Option<usize> = None;
            for nb in &p.adj[u] {
                let r = assign[nb.unit];
                if r == FREE || best.is_some_and(|b| load[b] <= load[r]) {
                    continue;
                }
                let village_ok = match (p.group[u], group[r]) {
                    (Some(v), Some(g)) => v == g,
                    _ => true,
                };
                if village_ok && p.barriers[u].iter().all(|&b| assign[b] != r) {
                    best = Some(r);
                }
            }
            if let Some(r) = best {
                assign[u] = r;
                load[r] += p.load(u);
                if group[r].is_none() {
                    group[r] = p.group[u];
                }
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}
