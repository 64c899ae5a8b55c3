//! The unit graph the partitioner works on: units with their weights and shapes, and the
//! boundary each pair of neighbouring units shares.
//!
//! Lengths and areas are in metres and square metres of a local plane (see the `frame` module),
//! so compactness (Polsby-Popper) can be computed from sums alone: a grid's area is the sum of
//! its units' areas, and its perimeter the sum of its units' perimeters less twice the
//! boundary they share.

/// One unit: a block cut by roads, rivers and division lines, or a piece of a block too
/// populous to be one unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// Households in the unit.
    pub households: u32,
    /// Of them, those that already belong to a grid (the rest registered since, 人来登记, and
    /// cost nothing to place when a plan is rebalanced).
    pub settled: u32,
    /// What balance is measured in: households times their weight plus the other workload
    /// counts times theirs (see `Workload`). Equal to `households` by default.
    pub workload: f64,
    /// Area in square metres.
    pub area: f64,
    /// Perimeter in metres (all of its boundary, shared or not).
    pub perimeter: f64,
    /// Centre of the unit in the local plane (metres).
    pub centroid: [f64; 2],
    /// Index of the unit's village in [`Graph::villages`].
    pub village: usize,
}

/// The boundary two units share.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// One unit (index into [`Graph::units`]); `a < b`.
    pub a: usize,
    /// The other unit.
    pub b: usize,
    /// Length of the shared boundary in metres (always > 0: units that touch at a point only
    /// are not neighbours).
    pub length: f64,
    /// The part of `length` that runs along a road, a river or a division line: where a grid
    /// boundary is easy to tell on the ground.
    pub on_feature: f64,
    /// Whether a barrier (a major road, a river, a railway the request names) runs along the
    /// shared boundary: then the two units never belong to one grid, and the edge does not
    /// count for contiguity.
    pub barrier: bool,
}

/// A village taking part in a partition.
#[derive(Debug, Clone, PartialEq)]
pub struct Village {
    /// Its 12-digit division code.
    pub code: String,
    /// Whether the village is taken whole (township mode, a village too small for a grid of
    /// its own): it is then a single unit, and a grid may hold several whole villages, or one
    /// whole village beside part of one other village. A village that is not whole may be
    /// split into several grids, and never shares a grid with another village that is not
    /// whole.
    pub whole: bool,
}

/// Units, their villages and the edges between them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Graph {
    /// The units.
    pub units: Vec<Unit>,
    /// The shared boundaries, each pair once (`a < b`), sorted by `(a, b)`.
    pub edges: Vec<Edge>,
    /// The villages the units belong to.
    pub villages: Vec<Village>,
    /// Per unit, the length of its boundary on the outer edge of the whole area (it counts as
    /// a division line).
    pub outer: Vec<f64>,
}

impl Graph {
    /// Total workload of all units.
    pub fn workload(&self) -> f64 {
        self.units.iter().map(|u| u.workload).sum()
    }

    /// Total households of all units.
    pub fn households(&self) -> u64 {
        self.units.iter().map(|u| u64::from(u.households)).sum()
    }

    /// Per unit, its neighbours as `(unit, edge index)`, in increasing unit order.
    pub fn neighbours(&self) -> Vec<Vec<(usize, usize)>> {
        let mut out = vec![Vec::new(); self.units.len()];
        for (i, e) in self.edges.iter().enumerate() {
            out[e.a].push((e.b, i));
            out[e.b].push((e.a, i));
        }
        for list in &mut out {
            list.sort_unstable();
        }
        out
    }
}
