//! The graph as the solver sees it: per unit, the neighbours it may share a grid with, the
//! units a barrier keeps it apart from, its village group, and the parts of the area that can
//! never share a grid.

use super::Infeasible;
use crate::graph::Graph;

/// A neighbour a unit may share a grid with (the edge is no barrier and does not join two
/// villages that are not whole).
#[derive(Debug, Clone, Copy)]
pub(super) struct Nb {
    /// The neighbouring unit.
    pub unit: usize,
    /// Shared boundary length (m).
    pub len: f64,
    /// The part of it that runs along no road, river or division line (m).
    pub off: f64,
    /// Index of the edge in [`Problem::usable`].
    pub edge: usize,
}

/// The solver's view of a [`Graph`].
#[derive(Debug)]
pub(super) struct Problem<'g> {
    /// The graph.
    pub graph: &'g Graph,
    /// Per unit, the neighbours it may share a grid with, in increasing unit order.
    pub adj: Vec<Vec<Nb>>,
    /// Per unit, the units a barrier separates it from.
    pub barriers: Vec<Vec<usize>>,
    /// Per unit, its village when that village is not whole (`None` for whole villages).
    pub group: Vec<Option<usize>>,
    /// The usable edges as unit pairs.
    pub usable: Vec<(usize, usize)>,
    /// Per unit, its part of the area (connected over usable edges), numbered by first unit.
    pub part: Vec<usize>,
    /// Number of parts.
    pub parts: usize,
    /// Whether every unit's workload equals its households (then messages speak of
    /// households).
    pub households_only: bool,
    /// Whether some edge is a barrier, and whether some edge joins two villages that are not
    /// whole: what can cut the area into parts.
    pub cut_by: (bool, bool),
}

impl<'g> Problem<'g> {
    /// Checks the graph and builds the view.
    pub fn new(graph: &'g Graph) -> Result<Self, Infeasible> {
        let n = graph.units.len();
        if n == 0 {
            return Err(Infeasible(
                "the area has no units to draw grids from".to_owned(),
            ));
        }
        let malformed = |what: String| Infeasible(format!("the unit graph is malformed: {what}"));
        for (i, u) in graph.units.iter().enumerate() {
            if u.village >= graph.villages.len() {
                return Err(malformed(format!(
                    "unit {i} names village {} of {}",
                    u.village,
                    graph.villages.len()
                )));
            }
            let finite = [
                u.workload,
                u.area,
                u.perimeter,
                u.centroid[0],
                u.centroid[1],
            ];
            if finite.iter().any(|x| !x.is_finite())
                || u.workload < 0.0
                || u.area < 0.0
                || u.perimeter <= 0.0
            {
                return Err(malformed(format!(
                    "unit {i} has a negative, zero or undefined measure"
                )));
            }
        }
        let group: Vec<Option<usize>> = graph
            .units
            .iter()
            .map(|u| (!graph.villages[u.village].whole).then_some(u.village))
            .collect();
        let mut adj = vec![Vec::new(); n];
        let mut barriers = vec![Vec::new(); n];
        let mut usable = Vec::new();
        let mut cut_by = (false, false);
        for (i, e) in graph.edges.iter().enumerate() {
            if e.a >= n || e.b >= n || e.a == e.b {
                return Err(malformed(format!(
                    "edge {i} joins units {} and {}",
                    e.a, e.b
                )));
            }
            if !(e.length.is_finite() && e.on_feature.is_finite()) {
                return Err(malformed(format!("edge {i} has an undefined length")));
            }
            if e.barrier {
                cut_by.0 = true;
                barriers[e.a].push(e.b);
                barriers[e.b].push(e.a);
                continue;
            }
            if let (Some(x), Some(y)) = (group[e.a], group[e.b]) {
                if x != y {
                    cut_by.1 = true;
                    continue;
                }
            }
            let off = (e.length - e.on_feature).clamp(0.0, e.length.max(0.0));
            let edge = usable.len();
            usable.push((e.a, e.b));
            adj[e.a].push(Nb {
                unit: e.b,
                len: e.length,
                off,
                edge,
            });
            adj[e.b].push(Nb {
                unit: e.a,
                len: e.length,
                off,
                edge,
            });
        }
        for list in &mut adj {
            list.sort_unstable_by_key(|nb| (nb.unit, nb.edge));
        }
        for list in &mut barriers {
            list.sort_unstable();
            list.dedup();
        }
        let (part, parts) = parts(&adj);
        let households_only = graph
            .units
            .iter()
            .all(|u| (u.workload - f64::from(u.households)).abs() < 1e-9);
        Ok(Self {
            graph,
            adj,
            barriers,
            group,
            usable,
            part,
            parts,
            households_only,
            cut_by,
        })
    }

    /// Number of units.
    pub fn len(&self) -> usize {
        self.graph.units.len()
    }

    /// Workload of unit `u`.
    pub fn load(&self, u: usize) -> f64 {
        self.graph.units[u].workload
    }

    /// Households of unit `u`.
    pub fn households(&self, u: usize) -> u64 {
        u64::from(self.graph.units[u].households)
    }

    /// Households of unit `u` that already belong to a grid: what moving it costs.
    pub fn settled(&self, u: usize) -> u64 {
        u64::from(self.graph.units[u].settled)
    }

    /// Squared distance between the centroids of two units.
    pub fn dist2(&self, a: usize, b: usize) -> f64 {
        dist2(self.graph.units[a].centroid, self.graph.units[b].centroid)
    }

    /// An amount of workload in words: "520 households" or "a workload of 520".
    pub fn amount(&self, x: f64) -> String {
        if self.households_only {
            format!("{} households", number(x))
        } else {
            format!("a workload of {}", number(x))
        }
    }

    /// What cuts the area into parts, for a message: "barriers", "the boundaries between
    /// villages" or both.
    pub fn separators(&self) -> &'static str {
        match self.cut_by {
            (true, false) => "barriers",
            (false, true) => "the boundaries between villages",
            _ => "barriers or by the boundaries between villages",
        }
    }

    /// The measure's name for a phrase like "at most 440 households".
    pub fn unit_name(&self) -> &'static str {
        if self.households_only {
            "households"
        } else {
            "workload"
        }
    }
}

/// Squared distance between two points.
pub(super) fn dist2(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)
}

/// A number for a message: whole numbers without decimals, others with one.
pub(super) fn number(x: f64) -> String {
    if (x - x.round()).abs() < 0.05 {
        format!("{:.0}", x.round())
    } else {
        format!("{x:.1}")
    }
}

/// Connected parts over the usable edges, numbered in order of their first unit.
fn parts(adj: &[Vec<Nb>]) -> (Vec<usize>, usize) {
    let mut part = vec![usize::MAX; adj.len()];
    let mut count = 0;
    let mut stack = Vec::new();
    for start in 0..adj.len() {
        if part[start] != usize::MAX {
            continue;
        }
        part[start] = count;
        stack.push(start);
        while let Some(u) = stack.pop() {
            for nb in &adj[u] {
                if part[nb.unit] == usize::MAX {
                    part[nb.unit] = count;
                    stack.push(nb.unit);
                }
            }
        }
        count += 1;
    }
    (part, count)
}
