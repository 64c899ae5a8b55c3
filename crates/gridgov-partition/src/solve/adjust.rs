//! Adjusting a drawn partition by hand: a planner moves one unit from its grid to a
//! neighbouring grid. A move keeps the hard constraints the partitioner keeps (every grid
//! contiguous, no barrier inside a grid, village nesting, no grid left empty); balance and
//! compactness are the planner's call, and [`evaluate`] gives the figures afresh.

use std::collections::BTreeSet;

use super::problem::Problem;
use super::stats::{self, Report};
use super::{Infeasible, Solution};
use crate::graph::Graph;

/// Why a unit cannot move to a grid, in words a planner can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No unit has this number.
    #[error("there is no unit {unit}: the area has {units} units")]
    UnknownUnit {
        /// The unit asked for.
        unit: usize,
        /// How many units there are.
        units: usize,
    },
    /// No grid has this index.
    #[error("there is no grid {grid}: the plan has {grids} grids")]
    UnknownGrid {
        /// The grid asked for.
        grid: usize,
        /// How many grids there are.
        grids: usize,
    },
    /// The unit already lies in the grid.
    #[error("the unit already lies in that grid")]
    SameGrid,
    /// The unit is all its grid holds.
    #[error("the unit is the last of its grid, which would be left empty")]
    LastUnit,
    /// A barrier (a major road, a river, a railway) parts the unit from a unit of the grid.
    #[error(
        "a barrier the plan keeps (major road, river or railway) parts the unit from that grid"
    )]
    Barrier,
    /// The grid already holds part of another village that is not taken whole.
    #[error(
        "the grid holds part of another village, and a grid never holds parts of two villages"
    )]
    Village,
    /// The unit shares no boundary with the grid (over which it may join it).
    #[error("the unit shares no boundary with that grid: a grid must stay in one piece")]
    NotNeighbour,
    /// Without the unit, its grid would fall in pieces.
    #[error("without the unit its grid would fall in two or more pieces")]
    Splits,
}

/// The hard constraints over a graph, for checking moves.
#[derive(Debug)]
pub struct Mover<'g> {
    p: Problem<'g>,
}

impl<'g> Mover<'g> {
    /// The moves over `graph` (an [`Infeasible`] for an empty or malformed graph).
    pub fn new(graph: &'g Graph) -> Result<Self, Infeasible> {
        Ok(Self {
            p: Problem::new(graph)?,
        })
    }

    /// Checks moving unit `unit` to grid `to` under `assign` (each unit's grid, `0..grids`).
    pub fn check(&self, assign: &[usize], unit: usize, to: usize) -> Result<(), Refusal> {
        let p = &self.p;
        let n = p.len();
        if unit >= n || assign.len() != n {
            return Err(Refusal::UnknownUnit { unit, units: n });
        }
        let grids = assign.iter().max().map_or(0, |m| m + 1);
        if to >= grids {
            return Err(Refusal::UnknownGrid { grid: to, grids });
        }
        let from = assign[unit];
        if from == to {
            return Err(Refusal::SameGrid);
        }
        if assign.iter().filter(|&&g| g == from).nth(1).is_none() {
            return Err(Refusal::LastUnit);
        }
        if p.barriers[unit].iter().any(|&b| assign[b] == to) {
            return Err(Refusal::Barrier);
        }
        if let Some(v) = p.group[unit] {
            let other_village = assign
                .iter()
                .zip(&p.group)
                .any(|(&g, group)| g == to && group.is_some_and(|w| w != v));
            if other_village {
                return Err(Refusal::Village);
            }
        }
        if !p.adj[unit].iter().any(|nb| assign[nb.unit] == to) {
            return Err(Refusal::NotNeighbour);
        }
        if !self.connected_without(assign, unit) {
            return Err(Refusal::Splits);
        }
        Ok(())
    }

    /// The grids unit `unit` may move to under `assign`, in increasing order, or why it may
    /// move nowhere (the refusal of its first neighbouring grid; [`Refusal::NotNeighbour`]
    /// when it borders no other grid).
    pub fn destinations(&self, assign: &[usize], unit: usize) -> Result<Vec<usize>, Refusal> {
        let p = &self.p;
        if unit >= p.len() || assign.len() != p.len() {
            return Err(Refusal::UnknownUnit {
                unit,
                units: p.len(),
            });
        }
        // Grids across any shared boundary, barriers and village lines included, so that the
        // refusal names what keeps the unit where it is.
        let bordering: BTreeSet<usize> = p.adj[unit]
            .iter()
            .map(|nb| nb.unit)
            .chain(p.barriers[unit].iter().copied())
            .chain(self.p.graph.edges.iter().filter_map(|e| {
                if e.a == unit {
                    Some(e.b)
                } else if e.b == unit {
                    Some(e.a)
                } else {
                    None
                }
            }))
            .map(|v| assign[v])
            .filter(|&g| g != assign[unit])
            .collect();
        let mut fine = Vec::new();
        let mut first = None;
        for g in bordering {
            match self.check(assign, unit, g) {
                Ok(()) => fine.push(g),
                Err(why) => {
                    first.get_or_insert(why);
                }
            }
        }
        match (fine.is_empty(), first) {
            (false, _) => Ok(fine),
            (true, Some(why)) => Err(why),
            (true, None) => Err(Refusal::NotNeighbour),
        }
    }

    /// Whether the grid of `unit` stays in one piece without it.
    fn connected_without(&self, assign: &[usize], unit: usize) -> bool {
        let p = &self.p;
        let g = assign[unit];
        let members: Vec<usize> = (0..p.len())
            .filter(|&v| v != unit && assign[v] == g)
            .collect();
        let Some(&start) = members.first() else {
            return true;
        };
        let mut seen = vec![false; p.len()];
        seen[unit] = true;
        seen[start] = true;
        let mut queue = vec![start];
        let mut reached = 1;
        while let Some(x) = queue.pop() {
            for nb in &p.adj[x] {
                if assign[nb.unit] == g && !seen[nb.unit] {
                    seen[nb.unit] = true;
                    reached += 1;
                    queue.push(nb.unit);
                }
            }
        }
        reached == members.len()
    }

    /// The figures of `assign` (grids `0..grids`, none empty) against `tolerance`, as the
    /// partitioner reports them: workload, deviation from the mean, compactness, boundary on
    /// roads, water and division lines.
    pub fn evaluate(&self, assign: Vec<usize>, tolerance: f64) -> Solution {
        let k = assign.iter().max().map_or(0, |m| m + 1);
        stats::solution(&self.p, assign, k, tolerance, Report::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Edge, Unit, Village};

    /// A row of `n` unit squares of 100 m, one village, `households[i]` in unit i.
    fn row(households: &[u32], barrier_after: Option<usize>) -> Graph {
        let units = households
            .iter()
            .enumerate()
            .map(|(i, &h)| Unit {
                households: h,
                settled: h,
                workload: f64::from(h),
                area: 10_000.0,
                perimeter: 400.0,
                centroid: [i as f64 * 100.0 + 50.0, 50.0],
                village: 0,
            })
            .collect::<Vec<_>>();
        let edges = (1..units.len())
            .map(|b| Edge {
                a: b - 1,
                b,
                length: 100.0,
                on_feature: 0.0,
                barrier: barrier_after == Some(b - 1),
            })
            .collect();
        let n = units.len();
        Graph {
            units,
            edges,
            villages: vec![Village {
                code: "520526101201".into(),
                whole: false,
            }],
            outer: vec![0.0; n],
        }
    }

    #[test]
    fn a_boundary_unit_moves_to_its_neighbour_and_the_figures_follow() {
        let g = row(&[10, 20, 30, 40], None);
        let m = Mover::new(&g).unwrap();
        let assign = vec![0, 0, 1, 1];
        assert_eq!(m.destinations(&assign, 1), Ok(vec![1]));
        m.check(&assign, 1, 1).unwrap();
        let before = m.evaluate(assign.clone(), 0.1);
        assert_eq!(
            (before.grids[0].households, before.grids[1].households),
            (30, 70)
        );
        let after = m.evaluate(vec![0, 1, 1, 1], 0.1);
        assert_eq!(
            (after.grids[0].households, after.grids[1].households),
            (10, 90)
        );
        assert!((after.mean - 50.0).abs() < 1e-9);
        assert!((after.grids[1].deviation - 0.8).abs() < 1e-9);
        // Three squares in a row: area 30000, perimeter 800.
        let pp = 4.0 * std::f64::consts::PI * 30_000.0 / (800.0 * 800.0);
        assert!((after.grids[1].compactness - pp).abs() < 1e-9);
    }

    #[test]
    fn moves_that_break_a_rule_are_refused_with_the_rule() {
        let g = row(&[10, 20, 30, 40, 50], None);
        let m = Mover::new(&g).unwrap();
        // 0 0 1 1 1: the middle unit of grid 1 would split it.
        let assign = vec![0, 0, 1, 1, 1];
        assert_eq!(m.check(&assign, 3, 0), Err(Refusal::NotNeighbour));
        assert_eq!(m.check(&assign, 1, 0), Err(Refusal::SameGrid));
        assert_eq!(
            m.check(&assign, 9, 0).unwrap_err().to_string(),
            "there is no unit 9: the area has 5 units"
        );
        assert!(matches!(
            m.check(&assign, 1, 4),
            Err(Refusal::UnknownGrid { .. })
        ));
        let lone = vec![0, 1, 1, 1, 1];
        assert_eq!(m.check(&lone, 0, 1), Err(Refusal::LastUnit));
        assert_eq!(m.destinations(&lone, 0), Err(Refusal::LastUnit));
        let three = vec![0, 0, 1, 2, 2];
        // Unit 3 borders grid 1 but taking it from grid 2 is fine; unit 2 is grid 1's last.
        assert_eq!(m.destinations(&three, 3), Ok(vec![1]));
        let split = vec![0, 1, 1, 1, 2];
        assert_eq!(m.check(&split, 2, 0), Err(Refusal::NotNeighbour));
        // A T: units 0-1-2 in a row (grid 0), unit 3 below unit 1 (grid 1), unit 4 below 3.
        let mut t = row(&[10, 20, 30, 40, 50], None);
        t.edges = [(0, 1), (1, 2), (1, 3), (3, 4)]
            .iter()
            .map(|&(a, b)| Edge {
                a,
                b,
                length: 100.0,
                on_feature: 0.0,
                barrier: false,
            })
            .collect();
        let m = Mover::new(&t).unwrap();
        let tee = vec![0, 0, 0, 1, 1];
        assert_eq!(m.check(&tee, 1, 1), Err(Refusal::Splits));
        assert_eq!(m.destinations(&tee, 1), Err(Refusal::Splits));
        assert_eq!(m.destinations(&tee, 3), Ok(vec![0]));
        let barred = row(&[10, 20, 30, 40], Some(1));
        let m = Mover::new(&barred).unwrap();
        assert_eq!(m.check(&[0, 0, 1, 1], 1, 1), Err(Refusal::Barrier));
        assert_eq!(m.destinations(&[0, 0, 1, 1], 1), Err(Refusal::Barrier));
    }

    #[test]
    fn parts_of_two_villages_never_share_a_grid() {
        let mut g = row(&[10, 20, 30, 40], None);
        g.villages.push(Village {
            code: "520526101202".into(),
            whole: false,
        });
        g.units[2].village = 1;
        g.units[3].village = 1;
        let m = Mover::new(&g).unwrap();
        assert_eq!(m.check(&[0, 0, 1, 1], 1, 1), Err(Refusal::Village));
        // A whole village may join a grid beside part of another.
        g.villages[1].whole = true;
        g.units[3].village = 0;
        let m = Mover::new(&g).unwrap();
        m.check(&[0, 0, 1, 1], 2, 0).unwrap();
    }
}
