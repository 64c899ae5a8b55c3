//! An assignment with everything the objective needs kept up to date: per grid workload,
//! area, perimeter and village; the boundary between grids that runs along no feature; the
//! households away from their grid in the plan in force. A move of one unit updates it in
//! O(degree); whether the grid it leaves stays contiguous is a breadth-first search over that
//! grid that stops as soon as the unit's neighbours are found joined.

use std::f64::consts::PI;

use super::problem::Problem;

/// Weight of the squared share of the mean by which a grid lies beyond the tolerance.
const BALANCE: f64 = 1e4;
/// Weight of that share itself (so that the last few households still count).
const LINEAR: f64 = 100.0;
/// Weight of the squared deviation from the mean inside the tolerance (a little extra balance
/// is nice, compactness matters more).
pub(super) const SPREAD: f64 = 0.5;

/// How much each aim weighs.
#[derive(Debug, Clone)]
pub(super) struct Weights {
    /// Mean workload per grid.
    pub mean: f64,
    /// The tolerance, as a share of the mean.
    pub tol: f64,
    /// Weight per metre of boundary between grids that runs along no feature.
    pub feature: f64,
    /// Weight per household away from its grid in the plan in force.
    pub moved: f64,
    /// Weight of the squared deviation from the mean (see [`SPREAD`]).
    pub spread: f64,
}

impl Weights {
    /// Weights for a partition with mean `mean` of a graph with total area `area` in `k`
    /// grids.
    pub fn new(mean: f64, tol: f64, area: f64, k: usize) -> Self {
        // A typical grid's side: the boundary of a grid is about four of them, shared by two.
        let side = (area / k.max(1) as f64).sqrt().max(1.0);
        Self {
            mean,
            tol,
            feature: 0.1 / side,
            moved: 0.0,
            spread: SPREAD,
        }
    }

    /// Share of the mean by which `load` lies beyond the tolerance.
    pub fn excess(&self, load: f64) -> f64 {
        let x = (load - self.mean).abs() / self.mean - self.tol;
        if x > 1e-12 {
            x
        } else {
            0.0
        }
    }

    /// One grid's share of the objective (balance, spread, compactness), and its excess.
    fn grid(&self, load: f64, area: f64, perim: f64, size: usize) -> (f64, f64) {
        if size == 0 {
            return (0.0, 0.0);
        }
        let x = self.excess(load);
        let d = (load - self.mean) / self.mean;
        let pp = if perim > 0.0 {
            4.0 * PI * area / (perim * perim)
        } else {
            0.0
        };
        (BALANCE * x * x + LINEAR * x + self.spread * d * d - pp, x)
    }
}

/// The change a move makes: to the objective and to the summed excess.
#[derive(Debug, Clone, Copy)]
pub(super) struct Delta {
    /// Change of the objective.
    pub cost: f64,
    /// Change of the summed excess beyond the tolerance.
    pub excess: f64,
}

impl Delta {
    /// Whether the move takes grids further beyond the tolerance (balance comes first: such
    /// a move is never taken, whatever it does for compactness).
    pub fn unbalances(&self) -> bool {
        self.excess > 1e-12
    }

    /// Whether the move brings grids nearer the tolerance.
    pub fn balances(&self) -> bool {
        self.excess < -1e-12
    }

    /// Whether the move improves: nearer the tolerance, or as near and a lower objective.
    pub fn improves(&self) -> bool {
        self.balances() || (!self.unbalances() && self.cost < -1e-12)
    }
}

/// An assignment and its running sums.
#[derive(Debug, Clone)]
pub(super) struct State<'p, 'g> {
    /// The problem.
    pub p: &'p Problem<'g>,
    /// The weights.
    pub w: Weights,
    /// Per unit, its grid.
    pub assign: Vec<usize>,
    /// Per grid, its workload.
    pub load: Vec<f64>,
    /// Per grid, its area.
    pub area: Vec<f64>,
    /// Per grid, its perimeter.
    pub perim: Vec<f64>,
    /// Per grid, its number of units (0 for a grid retired during re-partitioning).
    pub size: Vec<usize>,
    /// Per grid, its units of villages that are not whole.
    nonwhole: Vec<usize>,
    /// Per grid, the village of those units (meaningful when there are any).
    village: Vec<usize>,
    /// Boundary between grids along no feature (usable edges only; the rest never changes).
    off_cut: f64,
    /// Per unit, its grid in the plan in force (`usize::MAX`: a grid that is gone); empty for
    /// a fresh partition.
    pub home: Vec<usize>,
    /// Households away from their grid in the plan in force.
    pub moved: u64,
    /// Usable edges between two grids.
    cut: Vec<usize>,
    /// Per usable edge, its place in `cut` (`usize::MAX` when inside a grid).
    cut_pos: Vec<usize>,
    /// The objective.
    pub cost: f64,
    /// Summed excess beyond the tolerance (0 when balanced).
    pub excess: f64,
    /// Search marks.
    seen: Vec<u32>,
    /// Marks of the neighbours a search looks for.
    wanted: Vec<u32>,
    /// The current mark.
    epoch: u32,
    /// Search queue.
    queue: Vec<usize>,
}

#[expect(
    clippy::many_single_char_names,
    reason = "graph notation: p the problem, u and v units, g and h grids, k grids, n units"
)]
impl<'p, 'g> State<'p, 'g> {
    /// The state of a complete assignment to grids `0..k`.
    pub fn new(
        p: &'p Problem<'g>,
        w: Weights,
        assign: Vec<usize>,
        k: usize,
        home: Vec<usize>,
    ) -> Self {
        let n = p.len();
        let mut s = Self {
            p,
            w,
            assign,
            load: vec![0.0; k],
            area: vec![0.0; k],
            perim: vec![0.0; k],
            size: vec![0; k],
            nonwhole: vec![0; k],
            village: vec![0; k],
            off_cut: 0.0,
            home,
            moved: 0,
            cut: Vec::new(),
            cut_pos: vec![usize::MAX; p.usable.len()],
            cost: 0.0,
            excess: 0.0,
            seen: vec![0; n],
            wanted: vec![0; n],
            epoch: 0,
            queue: Vec::new(),
        };
        s.rebuild();
        s
    }

    /// Number of grid slots.
    pub fn k(&self) -> usize {
        self.load.len()
    }

    /// Replaces the assignment (same grid slots) and recomputes every sum.
    pub fn reset(&mut self, assign: &[usize]) {
        self.assign.copy_from_slice(assign);
        self.rebuild();
    }

    /// Recomputes every sum from the assignment.
    pub fn rebuild(&mut self) {
        let p = self.p;
        let k = self.k();
        self.load.iter_mut().for_each(|x| *x = 0.0);
        self.area.iter_mut().for_each(|x| *x = 0.0);
        self.perim.iter_mut().for_each(|x| *x = 0.0);
        self.size.iter_mut().for_each(|x| *x = 0);
        self.nonwhole.iter_mut().for_each(|x| *x = 0);
        self.moved = 0;
        for (u, &g) in self.assign.iter().enumerate() {
            debug_assert!(g < k, "unit {u} in grid {g} of {k}");
            let unit = &p.graph.units[u];
            self.load[g] += unit.workload;
            self.area[g] += unit.area;
            self.perim[g] += unit.perimeter;
            self.size[g] += 1;
            if let Some(v) = p.group[u] {
                self.nonwhole[g] += 1;
                self.village[g] = v;
            }
            if !self.home.is_empty() && self.home[u] != g {
                self.moved += p.settled(u);
            }
        }
        self.off_cut = 0.0;
        self.cut.clear();
        self.cut_pos.iter_mut().for_each(|x| *x = usize::MAX);
        for u in 0..p.len() {
            for nb in &p.adj[u] {
                if nb.unit < u {
                    continue;
                }
                if self.assign[u] == self.assign[nb.unit] {
                    self.perim[self.assign[u]] -= 2.0 * nb.len;
                } else {
                    self.off_cut += nb.off;
                    self.cut_pos[nb.edge] = self.cut.len();
                    self.cut.push(nb.edge);
                }
            }
        }
        self.cost = self.w.feature * self.off_cut + self.w.moved * self.moved as f64;
        self.excess = 0.0;
        for g in 0..k {
            let (c, x) = self
                .w
                .grid(self.load[g], self.area[g], self.perim[g], self.size[g]);
            self.cost += c;
            self.excess += x;
        }
    }

    /// Grids next to each grid (over usable edges between them), in increasing order.
    pub fn grid_neighbours(&self) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new(); self.k()];
        for &e in &self.cut {
            let (a, b) = self.p.usable[e];
            let (x, y) = (self.assign[a], self.assign[b]);
            out[x].push(y);
            out[y].push(x);
        }
        for list in &mut out {
            list.sort_unstable();
            list.dedup();
        }
        out
    }

    /// The usable edges between two grids.
    pub fn cut(&self) -> &[usize] {
        &self.cut
    }

    /// Whether moving unit `u` to grid `h` keeps its grid non-empty and respects barriers and
    /// villages (contiguity aside).
    pub fn legal(&self, u: usize, h: usize) -> bool {
        let g = self.assign[u];
        if g == h || self.size[g] <= 1 {
            return false;
        }
        if let Some(v) = self.p.group[u] {
            if self.nonwhole[h] > 0 && self.village[h] != v {
                return false;
            }
        }
        self.p.barriers[u].iter().all(|&b| self.assign[b] != h)
    }

    /// The change moving unit `u` to grid `h` makes.
    pub fn delta(&self, u: usize, h: usize) -> Delta {
        let g = self.assign[u];
        let (mut sg, mut sh, mut og, mut oh) = (0.0, 0.0, 0.0, 0.0);
        for nb in &self.p.adj[u] {
            let a = self.assign[nb.unit];
            if a == g {
                sg += nb.len;
                og += nb.off;
            } else if a == h {
                sh += nb.len;
                oh += nb.off;
            }
        }
        let unit = &self.p.graph.units[u];
        let w = &self.w;
        let (cg0, xg0) = w.grid(self.load[g], self.area[g], self.perim[g], self.size[g]);
        let (ch0, xh0) = w.grid(self.load[h], self.area[h], self.perim[h], self.size[h]);
        let (cg1, xg1) = w.grid(
            self.load[g] - unit.workload,
            self.area[g] - unit.area,
            self.perim[g] - unit.perimeter + 2.0 * sg,
            self.size[g] - 1,
        );
        let (ch1, xh1) = w.grid(
            self.load[h] + unit.workload,
            self.area[h] + unit.area,
            self.perim[h] + unit.perimeter - 2.0 * sh,
            self.size[h] + 1,
        );
        let mut cost = cg1 - cg0 + ch1 - ch0 + w.feature * (og - oh);
        if !self.home.is_empty() {
            let before = f64::from(u8::from(g != self.home[u]));
            let after = f64::from(u8::from(h != self.home[u]));
            cost += w.moved * self.p.settled(u) as f64 * (after - before);
        }
        Delta {
            cost,
            excess: xg1 - xg0 + xh1 - xh0,
        }
    }

    /// Moves unit `u` to grid `h`; `d` is [`State::delta`] of the move.
    pub fn apply(&mut self, u: usize, h: usize, d: Delta) {
        let g = self.assign[u];
        let p = self.p;
        let unit = &p.graph.units[u];
        for nb in &p.adj[u] {
            let a = self.assign[nb.unit];
            if a == g {
                self.perim[g] += 2.0 * nb.len;
                self.off_cut += nb.off;
                self.cut_insert(nb.edge);
            } else if a == h {
                self.perim[h] -= 2.0 * nb.len;
                self.off_cut -= nb.off;
                self.cut_remove(nb.edge);
            }
        }
        self.load[g] -= unit.workload;
        self.area[g] -= unit.area;
        self.perim[g] -= unit.perimeter;
        self.size[g] -= 1;
        self.load[h] += unit.workload;
        self.area[h] += unit.area;
        self.perim[h] += unit.perimeter;
        self.size[h] += 1;
        if let Some(v) = p.group[u] {
            self.nonwhole[g] -= 1;
            self.nonwhole[h] += 1;
            self.village[h] = v;
        }
        if !self.home.is_empty() {
            let hh = p.settled(u);
            if g == self.home[u] {
                self.moved += hh;
            } else if h == self.home[u] {
                self.moved -= hh;
            }
        }
        self.assign[u] = h;
        self.cost += d.cost;
        self.excess += d.excess;
    }

    fn cut_insert(&mut self, e: usize) {
        if self.cut_pos[e] == usize::MAX {
            self.cut_pos[e] = self.cut.len();
            self.cut.push(e);
        }
    }

    fn cut_remove(&mut self, e: usize) {
        let at = self.cut_pos[e];
        if at == usize::MAX {
            return;
        }
        self.cut.swap_remove(at);
        if let Some(&moved) = self.cut.get(at) {
            self.cut_pos[moved] = at;
        }
        self.cut_pos[e] = usize::MAX;
    }

    /// A fresh search mark.
    fn mark(&mut self) -> u32 {
        if self.epoch == u32::MAX {
            self.seen.iter_mut().for_each(|x| *x = 0);
            self.wanted.iter_mut().for_each(|x| *x = 0);
            self.epoch = 0;
        }
        self.epoch += 1;
        self.epoch
    }

    /// Whether unit `u`'s grid stays contiguous without it.
    pub fn connected_without(&mut self, u: usize) -> bool {
        let g = self.assign[u];
        let p = self.p;
        let epoch = self.mark();
        let mut wanted = 0usize;
        let mut start = usize::MAX;
        for nb in &p.adj[u] {
            if self.assign[nb.unit] == g && self.wanted[nb.unit] != epoch {
                self.wanted[nb.unit] = epoch;
                wanted += 1;
                start = start.min(nb.unit);
            }
        }
        if wanted <= 1 {
            return true;
        }
        self.seen[u] = epoch;
        self.seen[start] = epoch;
        self.queue.clear();
        self.queue.push(start);
        let mut found = 1;
        let mut head = 0;
        while head < self.queue.len() {
            let x = self.queue[head];
            head += 1;
            for nb in &p.adj[x] {
                let y = nb.unit;
                if self.assign[y] != g || self.seen[y] == epoch {
                    continue;
                }
                self.seen[y] = epoch;
                if self.wanted[y] == epoch {
                    found += 1;
                    if found == wanted {
                        return true;
                    }
                }
                self.queue.push(y);
            }
        }
        false
    }
}
