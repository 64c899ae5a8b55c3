//! The partitioner: from a unit graph and targets to grids (an assignment of units), and
//! minimal-change re-partitioning of a current plan.
//!
//! Hard constraints first: every grid contiguous over non-barrier edges, no barrier edge inside
//! a grid, village nesting (see [`crate::graph::Village`]). Then, in this order: balance
//! (every grid's workload within the tolerance of the mean), compactness (Polsby-Popper), and
//! boundaries along roads, rivers and division lines.
//!
//! # How
//!
//! The number of grids comes from the targets (`count`); what can be shown impossible is
//! refused with the reason before any search (`feasible`): a unit heavier than a grid may be,
//! parts of the area cut off by barriers or village boundaries that cannot make balanced
//! grids, villages that fit no whole number of grids (`share` shares each part's grids among
//! its villages). Regions then grow from seeds spread farthest-point, moved to their regions'
//! centres for a few rounds (`initial`, `grow`); ejection chains and evening out bring them
//! within the tolerance (`balance`); simulated annealing over boundary units then makes them
//! compact while never taking a grid further out of the tolerance, and a descent polishes
//! (`search`, on the running sums of `state`). Re-partitioning mends, dissolves or splits
//! grids of the plan in force and takes the moves that help most per household moved
//! (`repair`). Figures are computed afresh at the end (`stats`). Every choice is seeded and
//! every budget counted in moves, so a seed gives the same grids on any machine.

mod adjust;
mod balance;
mod count;
mod feasible;
mod grow;
mod initial;
mod problem;
mod repair;
mod search;
mod share;
mod state;
mod stats;
#[cfg(test)]
mod tests;

use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::graph::Graph;
pub use adjust::{Mover, Refusal};
use problem::Problem;
use search::{Clock, Effort};
use state::Weights;

/// What the partition aims for.
#[derive(Debug, Clone, PartialEq)]
pub struct Targets {
    /// A fixed number of grids; when `None`, the number comes from `range`.
    pub grids: Option<usize>,
    /// Workload per grid (households by default) the number of grids is chosen for:
    /// the fewest grids whose mean lies in the range (with the tolerance inside it where
    /// possible). Default 300–500.
    pub range: (f64, f64),
    /// How far a grid's workload may lie from the mean, as a share of the mean (default 0.1).
    pub tolerance: f64,
}

impl Default for Targets {
    fn default() -> Self {
        Self {
            grids: None,
            range: (300.0, 500.0),
            tolerance: 0.1,
        }
    }
}

/// How the search runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Seed of every random choice: the same graph, targets and seed give the same grids
    /// (unless the time limit cuts the search short).
    pub seed: u64,
    /// Upper bound on the search time; the search normally stops earlier, when it no longer
    /// improves.
    pub time_limit: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            seed: 1,
            time_limit: Duration::from_secs(10),
        }
    }
}

/// One grid of a solution.
#[derive(Debug, Clone, PartialEq)]
pub struct GridStats {
    /// Its units, in increasing order.
    pub units: Vec<usize>,
    /// Households.
    pub households: u64,
    /// Workload.
    pub workload: f64,
    /// `(workload - mean) / mean`.
    pub deviation: f64,
    /// Area in square metres.
    pub area: f64,
    /// Perimeter in metres.
    pub perimeter: f64,
    /// Polsby-Popper compactness `4πA/P²` (1 for a circle).
    pub compactness: f64,
    /// Share of the perimeter that runs along roads, rivers or division lines (the area's
    /// outer boundary included).
    pub on_feature: f64,
    /// Index of the grid in the current plan it continues (re-partitioning), `None` for a
    /// new grid.
    pub previous: Option<usize>,
}

/// A partition.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// Per unit, the index of its grid in `grids`.
    pub assignment: Vec<usize>,
    /// The grids.
    pub grids: Vec<GridStats>,
    /// Mean workload per grid.
    pub mean: f64,
    /// The tolerance the grids were balanced to.
    pub tolerance: f64,
    /// Whether every grid lies within the tolerance.
    pub balanced: bool,
    /// Households whose grid changed against the current plan (re-partitioning; 0 for a
    /// fresh partition).
    pub moved_households: u64,
    /// Grids of the current plan that no longer exist (re-partitioning).
    pub retired: Vec<usize>,
    /// Local-search moves tried.
    pub iterations: u64,
    /// Whether the time limit stopped the search before it converged.
    pub time_limited: bool,
}

impl Solution {
    /// How many grids lie within the tolerance of the mean.
    pub fn within_tolerance(&self) -> usize {
        self.grids
            .iter()
            .filter(|g| g.deviation.abs() <= self.tolerance + 1e-9)
            .count()
    }

    /// The grids' mean Polsby-Popper compactness (0 without grids).
    pub fn mean_compactness(&self) -> f64 {
        if self.grids.is_empty() {
            0.0
        } else {
            self.grids.iter().map(|g| g.compactness).sum::<f64>() / self.grids.len() as f64
        }
    }
}

/// Why no acceptable partition exists, in words a planner can act on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct Infeasible(pub String);

/// Partitions the graph from scratch. `progress` is called with the share done (0 to 1) now
/// and then.
///
/// The number of grids comes from `targets` (see [`Targets`]); what cannot work (too few or
/// too many households for the range, a unit heavier than any grid may be, a part of the area
/// cut off by barriers or village boundaries that cannot make balanced grids) is an
/// [`Infeasible`] saying why. When the search ends short of the tolerance although a balanced
/// partition may exist, the solution comes back with `balanced == false`.
pub fn partition(
    graph: &Graph,
    targets: &Targets,
    options: &Options,
    progress: &mut dyn FnMut(f64),
) -> Result<Solution, Infeasible> {
    progress(0.0);
    let p = Problem::new(graph)?;
    let k = count::grid_count(&p, targets)?;
    let grids = feasible::allocate(&p, k, targets.tolerance)?;
    let (assign, effort) = fresh(&p, &grids, targets.tolerance, options, progress)?;
    let report = stats::Report {
        previous: vec![None; k],
        effort,
        ..stats::Report::default()
    };
    let solution = stats::solution(&p, assign, k, targets.tolerance, report);
    progress(1.0);
    Ok(solution)
}

/// Re-partitions with as few households moved as possible: `current` gives each unit's grid
/// (indices `0..k`) in the plan in force. Grids keep their index (and so their code) unless
/// they must go; new grids come after the current ones.
///
/// Aims, in order: every grid within the tolerance, as few households moved as possible,
/// compact grids. A plan already within the tolerance (and with the number of grids the
/// targets ask for) comes back unchanged. Fewer grids: the lightest grids are dissolved into
/// their neighbours and listed in [`Solution::retired`]. More grids: the heaviest grids are
/// split in two, the part with more households keeping the grid.
///
/// Indices: [`Solution::assignment`] refers to [`Solution::grids`], which lists the grids that
/// continue in their old order and then the new ones; [`GridStats::previous`] gives each
/// grid's index in `current` (`None` for a new grid). So when no grid retires, grid `i`
/// continues grid `i`; when one does, the grids after it move up one place. A grid of
/// `current` that cannot stay as it is (broken in two, across a barrier, holding two
/// villages) is mended first, keeping its larger part.
pub fn repartition(
    graph: &Graph,
    current: &[usize],
    targets: &Targets,
    options: &Options,
    progress: &mut dyn FnMut(f64),
) -> Result<Solution, Infeasible> {
    progress(0.0);
    let p = Problem::new(graph)?;
    let solution = repair::repartition(&p, current, targets, options, progress)?;
    progress(1.0);
    Ok(solution)
}

/// Fresh starts tried while the balance falls short.
const STARTS: u64 = 4;

/// A fresh assignment to `grids.iter().sum()` grids (per part of the area, its share): region
/// growing, then annealing and descent. Reports progress up to 0.99.
fn fresh(
    p: &Problem<'_>,
    grids: &[usize],
    tolerance: f64,
    options: &Options,
    progress: &mut dyn FnMut(f64),
) -> Result<(Vec<usize>, Effort), Infeasible> {
    let k: usize = grids.iter().sum();
    let clock = Clock::new(options.time_limit);
    let area: f64 = p.graph.units.iter().map(|u| u.area).sum();
    let weights = Weights::new(p.graph.workload() / k as f64, tolerance, area, k);
    let mut effort = Effort::default();
    // Balance first (annealing never takes a grid further beyond the tolerance): fresh starts
    // from other seeds while one falls short, keeping the nearest.
    let mut best: Option<(state::State<'_, '_>, ChaCha8Rng)> = None;
    for attempt in 0..STARTS {
        let mut rng =
            ChaCha8Rng::seed_from_u64(options.seed ^ attempt.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let Some(mut state) = initial::initial(p, grids, &weights, &mut rng) else {
            continue;
        };
        effort.add(balance::rebalance(&mut state, &clock));
        if best.as_ref().is_none_or(|b| initial::better(&state, &b.0)) {
            best = Some((state, rng));
        }
        if best.as_ref().is_some_and(|b| b.0.excess <= 0.0) || clock.over() {
            break;
        }
    }
    let Some((mut state, mut rng)) = best else {
        return Err(Infeasible(format!(
            "no way was found to give every unit one of the {k} grids: barriers or village \
             boundaries leave some units unable to join any grid beside them"
        )));
    };
    progress(0.05);
    // Then compactness.
    effort.add(search::anneal(
        &mut state,
        &mut rng,
        &clock,
        progress,
        (0.05, 0.9),
    ));
    if state.excess > 0.0 && !effort.time_limited {
        effort.add(balance::rebalance(&mut state, &clock));
        effort.add(search::anneal(
            &mut state,
            &mut rng,
            &clock,
            progress,
            (0.9, 0.95),
        ));
    }
    effort.add(search::descend(&mut state, &clock));
    progress(0.99);
    Ok((state.assign, effort))
}
