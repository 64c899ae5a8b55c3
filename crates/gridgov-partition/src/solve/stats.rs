//! A solution's figures, computed afresh from the assignment and the graph.

use std::f64::consts::PI;

use super::problem::Problem;
use super::search::Effort;
use super::{GridStats, Solution};

/// What a solution reports beside its assignment.
#[derive(Debug, Clone, Default)]
pub(super) struct Report {
    /// Per grid, its index in the plan in force.
    pub previous: Vec<Option<usize>>,
    /// Households whose grid changed.
    pub moved: u64,
    /// Grids of the plan in force that are gone.
    pub retired: Vec<usize>,
    /// The search's effort.
    pub effort: Effort,
}

/// The solution for `assign` (grids `0..k`, none empty).
#[expect(
    clippy::many_single_char_names,
    reason = "graph notation: p the problem, u and v units, g and h grids, k grids, n units"
)]
pub(super) fn solution(
    p: &Problem<'_>,
    assign: Vec<usize>,
    k: usize,
    tolerance: f64,
    report: Report,
) -> Solution {
    let g = p.graph;
    let mean = g.workload() / k as f64;
    let mut grids: Vec<GridStats> = (0..k)
        .map(|i| GridStats {
            units: Vec::new(),
            households: 0,
            workload: 0.0,
            deviation: 0.0,
            area: 0.0,
            perimeter: 0.0,
            compactness: 0.0,
            on_feature: 0.0,
            previous: report.previous.get(i).copied().flatten(),
        })
        .collect();
    let mut along = vec![0.0; k];
    for (u, &i) in assign.iter().enumerate() {
        let unit = &g.units[u];
        let grid = &mut grids[i];
        grid.units.push(u);
        grid.households += u64::from(unit.households);
        grid.workload += unit.workload;
        grid.area += unit.area;
        grid.perimeter += unit.perimeter;
        along[i] += g.outer.get(u).copied().unwrap_or(0.0);
    }
    for e in &g.edges {
        let (x, y) = (assign[e.a], assign[e.b]);
        if x == y {
            grids[x].perimeter -= 2.0 * e.length;
        } else {
            along[x] += e.on_feature;
            along[y] += e.on_feature;
        }
    }
    for (grid, along) in grids.iter_mut().zip(along) {
        grid.deviation = if mean > 0.0 {
            (grid.workload - mean) / mean
        } else {
            0.0
        };
        if grid.perimeter > 0.0 {
            grid.compactness = 4.0 * PI * grid.area / (grid.perimeter * grid.perimeter);
            grid.on_feature = (along / grid.perimeter).clamp(0.0, 1.0);
        }
    }
    let balanced = grids
        .iter()
        .all(|grid| grid.deviation.abs() <= tolerance + 1e-9);
    Solution {
        assignment: assign,
        grids,
        mean,
        tolerance,
        balanced,
        moved_households: report.moved,
        retired: report.retired,
        iterations: report.effort.iterations,
        time_limited: report.effort.time_limited,
    }
}
