//! Splitting a set of atoms into connected regions: growth from seeds (a Voronoi diagram that
//! stays connected), Lloyd relaxation of the seeds, and balanced peeling (grids of similar
//! household counts).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use geo::Coord;

use crate::frame::dist;
use crate::mesh::Mesh;
use crate::noise::{mix, Field};

/// A region's seed: the atom it grows from and its weight (a heavier seed reaches farther).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seed {
    /// The seed atom.
    pub(crate) atom: usize,
    /// Distances from this seed are divided by the weight.
    pub(crate) weight: f64,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    key: f64,
    atom: usize,
    seed: usize,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    // Reversed, so that the max-heap pops the smallest key first.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .key
            .total_cmp(&self.key)
            .then(other.atom.cmp(&self.atom))
            .then(other.seed.cmp(&self.seed))
    }
}

/// A smooth distortion of the plane: distances measured after it make region boundaries
/// wander like real ones (along ridges and streams) instead of running straight.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Warp {
    fx: Field,
    fy: Field,
    amplitude: f64,
}

impl Warp {
    /// A warp moving points by up to about `amplitude` metres, in features `scale` across.
    pub(crate) fn new(seed: u64, scale: f64, amplitude: f64) -> Self {
        Self {
            fx: Field::new(mix(seed ^ 0x7761_7278), scale),
            fy: Field::new(mix(seed ^ 0x7761_7279), scale),
            amplitude,
        }
    }

    fn apply(&self, p: Coord<f64>) -> Coord<f64> {
        Coord {
            x: p.x + self.amplitude * self.fx.at(p),
            y: p.y + self.amplitude * self.fy.at(p),
        }
    }
}

/// Grows regions from seeds; keeps its buffers between calls (the mesh is large, the regions
/// grown inside a village small).
#[derive(Debug)]
pub(crate) struct Grower {
    /// Warped atom centres.
    warped: Vec<Coord<f64>>,
    best: Vec<f64>,
    claimed: Vec<bool>,
    touched: Vec<usize>,
}

impl Grower {
    /// A grower over the atoms where `used` holds, measuring distances after `warp`.
    pub(crate) fn new(mesh: &Mesh, warp: &Warp, used: impl Fn(usize) -> bool) -> Self {
        let n = mesh.len();
        Self {
            warped: (0..n)
                .map(|a| {
                    if used(a) {
                        warp.apply(mesh.centre(a))
                    } else {
                        mesh.centre(a)
                    }
                })
                .collect(),
            best: vec![f64::INFINITY; n],
            claimed: vec![false; n],
            touched: Vec::new(),
        }
    }

    /// Grows one region per seed over the atoms where `inside` holds: each atom goes to the
    /// seed with the smallest weighted distance among the regions that can reach it, so every
    /// region is connected. Region `i` is written as `base + i` into `labels`.
    pub(crate) fn grow(
        &mut self,
        mesh: &Mesh,
        inside: impl Fn(usize) -> bool,
        seeds: &[Seed],
        labels: &mut [u32],
        base: u32,
    ) {
        let mut heap = BinaryHeap::new();
        for (i, s) in seeds.iter().enumerate() {
            heap.push(Entry {
                key: 0.0,
                atom: s.atom,
                seed: i,
            });
        }
        let centres: Vec<_> = seeds.iter().map(|s| self.warped[s.atom]).collect();
        while let Some(Entry { atom, seed, .. }) = heap.pop() {
            if self.claimed[atom] {
                continue;
            }
            self.claimed[atom] = true;
            self.touched.push(atom);
            labels[atom] = base + seed as u32;
            for dir in 0..6 {
                let Some(n) = mesh.neighbour(atom, dir) else {
                    continue;
                };
                if self.claimed[n] || !inside(n) {
                    continue;
                }
                // Only a nearer seed can take the atom: skip entries that cannot win.
                let key = dist(self.warped[n], centres[seed]) / seeds[seed].weight;
                if key < self.best[n] {
                    self.best[n] = key;
                    self.touched.push(n);
                    heap.push(Entry { key, atom: n, seed });
                }
            }
        }
        for a in self.touched.drain(..) {
            self.best[a] = f64::INFINITY;
            self.claimed[a] = false;
        }
    }
}

/// The atoms of each region `base..base + count`, in atom order, taken from `atoms`.
pub(crate) fn members(labels: &[u32], atoms: &[usize], base: u32, count: usize) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); count];
    for &a in atoms {
        let l = labels[a];
        if l >= base && ((l - base) as usize) < count {
            out[(l - base) as usize].push(a);
        }
    }
    out
}

/// Moves each seed to the atom of its region nearest the region's centroid (one Lloyd step),
/// among the atoms where `ok` holds. Seeds listed in `fixed` stay where they are.
pub(crate) fn relax(
    mesh: &Mesh,
    regions: &[Vec<usize>],
    seeds: &mut [Seed],
    fixed: &[usize],
    ok: impl Fn(usize) -> bool,
) {
    for (i, region) in regions.iter().enumerate() {
        if fixed.contains(&i) || region.is_empty() {
            continue;
        }
        let n = region.len() as f64;
        let (sx, sy) = region.iter().fold((0.0, 0.0), |(x, y), &a| {
            let c = mesh.centre(a);
            (x + c.x, y + c.y)
        });
        let centroid = Coord {
            x: sx / n,
            y: sy / n,
        };
        if let Some(best) = region.iter().copied().filter(|&a| ok(a)).min_by(|&a, &b| {
            dist(mesh.centre(a), centroid)
                .total_cmp(&dist(mesh.centre(b), centroid))
                .then(a.cmp(&b))
        }) {
            seeds[i].atom = best;
        }
    }
}

/// Breadth-first order of the atoms reachable from `start` among those marked in `member` and
/// not yet `seen` (which it marks).
fn bfs(mesh: &Mesh, start: usize, member: &[bool], seen: &mut [bool]) -> Vec<usize> {
    let mut order = vec![start];
    let mut queue = VecDeque::from([start]);
    seen[start] = true;
    while let Some(a) = queue.pop_front() {
        for n in mesh.neighbours(a) {
            if member[n] && !seen[n] {
                seen[n] = true;
                order.push(n);
                queue.push_back(n);
            }
        }
    }
    order
}

/// The connected components of the marked atoms among `atoms`, each in BFS order.
pub(crate) fn components(mesh: &Mesh, atoms: &[usize], member: &[bool]) -> Vec<Vec<usize>> {
    let mut done = vec![false; mesh.len()];
    let mut out = Vec::new();
    for &a in atoms {
        if member[a] && !done[a] {
            out.push(bfs(mesh, a, member, &mut done));
        }
    }
    out
}

/// Splits a connected region into `k` connected parts of about equal total `weight`, labelled
/// `base..base + k`. Each step peels a breadth-first ball off the region's far end (a prefix of
/// a BFS order is always connected); pieces the ball cuts off from the rest join the ball.
pub(crate) fn peel(
    mesh: &Mesh,
    region: &[usize],
    weight: &[u32],
    k: usize,
    labels: &mut [u32],
    base: u32,
) {
    let mut member = vec![false; mesh.len()];
    let mut remaining: Vec<usize> = region.to_vec();
    remaining.sort_unstable();
    for &a in &remaining {
        member[a] = true;
    }
    for part in 0..k.saturating_sub(1) {
        if remaining.is_empty() {
            break;
        }
        let total: u64 = remaining.iter().map(|&a| u64::from(weight[a])).sum();
        let target = total as f64 / (k - part) as f64;
        let far = *bfs(mesh, remaining[0], &member, &mut vec![false; mesh.len()])
            .last()
            .unwrap_or(&remaining[0]);
        let order = bfs(mesh, far, &member, &mut vec![false; mesh.len()]);
        let most = order.len().saturating_sub(k - part - 1).max(1);
        let mut acc = 0.0;
        let mut take = most;
        for (i, &a) in order.iter().enumerate().take(most) {
            let before = acc;
            acc += f64::from(weight[a]);
            if acc >= target {
                // Stop before this atom if that lands nearer the target.
                take = if target - before < acc - target && i > 0 {
                    i
                } else {
                    i + 1
                };
                break;
            }
        }
        for &a in &order[..take] {
            member[a] = false;
            labels[a] = base + part as u32;
        }
        let rest: Vec<usize> = remaining.iter().copied().filter(|&a| member[a]).collect();
        let mut comps = components(mesh, &rest, &member);
        comps.sort_by_key(|c| {
            let w: u64 = c.iter().map(|&a| u64::from(weight[a])).sum();
            (std::cmp::Reverse(w), std::cmp::Reverse(c.len()))
        });
        for comp in comps.iter().skip(1) {
            for &a in comp {
                member[a] = false;
                labels[a] = base + part as u32;
            }
        }
        remaining = comps.into_iter().next().unwrap_or_default();
        remaining.sort_unstable();
    }
    for &a in &remaining {
        labels[a] = base + k.saturating_sub(1) as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::NONE;

    #[test]
    fn peeling_gives_connected_parts_of_similar_weight() {
        let mesh = Mesh::new(3_000.0, 120.0, 9);
        let region: Vec<usize> = (0..mesh.len())
            .filter(|&a| {
                let c = mesh.centre(a);
                c.x.hypot(c.y) < 2_000.0
            })
            .collect();
        let weight: Vec<u32> = (0..mesh.len()).map(|a| (a % 7) as u32).collect();
        let mut labels = vec![NONE; mesh.len()];
        peel(&mesh, &region, &weight, 4, &mut labels, 0);
        let parts = members(&labels, &region, 0, 4);
        let total: u32 = region.iter().map(|&a| weight[a]).sum();
        for p in &parts {
            let mut member = vec![false; mesh.len()];
            for &a in p {
                member[a] = true;
            }
            assert_eq!(components(&mesh, p, &member).len(), 1);
            let w: u32 = p.iter().map(|&a| weight[a]).sum();
            assert!((f64::from(w) - f64::from(total) / 4.0).abs() < f64::from(total) * 0.1);
        }
        assert_eq!(parts.iter().map(Vec::len).sum::<usize>(), region.len());
    }
}
