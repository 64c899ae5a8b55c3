//! Vehicle routing: the problem as the solver sees it, the hybrid genetic search, and an
//! independent checker for solutions.
//!
//! The solver is a hybrid genetic search after Vidal's HGS-CVRP (2022): giant-tour
//! chromosomes cut into routes by Split, OX crossover, a granular local search with relocate,
//! swap, 2-opt, 2-opt* and SWAP* moves, penalised capacity, duration and time-window excess
//! with adaptive penalties, and two sub-populations ranked by cost and diversity.
//!
//! Beyond the plain CVRP (one depot, homogeneous fleet, capacity), a [`Problem`] may have
//! service times, a route duration limit ([`Fleet::max_duration`]), time windows (evaluated
//! with time-warp segments and penalised while searching), a limited fleet
//! ([`Fleet::vehicles`]), and reload stations ([`Node::station`]): a vehicle that is full
//! empties itself at the best station between two clients and goes on, each route being cut
//! into trips optimally by dynamic programming. Plain CVRPs pay for none of this: routes are
//! then evaluated in O(1) per move.
//!
//! It is seeded and deterministic: the same [`Options::seed`] and [`Options::max_iterations`]
//! give the same solution on any machine; [`Options::time_limit`] only caps the run.
//!
//! ```
//! use gridgov_routing::cvrp::{solve, Matrix, Options, Problem};
//!
//! // A depot at 0 and four clients on a line; each vehicle carries two.
//! let xs = [0i64, 1, 2, 3, 4];
//! let distance = Matrix::from_fn(5, |a, b| (xs[a] - xs[b]).abs());
//! let problem = Problem::cvrp(distance, &[0, 1, 1, 1, 1], 2);
//! let options = Options { seed: 1, max_iterations: Some(200), ..Options::default() };
//! let solution = solve(&problem, &options, &mut |_| {})?;
//! solution.check(&problem)?;
//! assert_eq!(solution.cost, 12); // 0-1-2-0 and 0-3-4-0
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod data;
mod hgs;
mod ls;
mod problem;
mod solution;
mod split;

pub use hgs::{Options, Params, Progress};
pub use problem::{Fleet, Matrix, Node, Problem, ProblemError, HORIZON};
pub use solution::{route_summary, RouteSummary, Solution, Violation};

/// Solves `problem`, calling `progress` a few times per second and once at the end.
///
/// Returns the best feasible solution found, or, if none was found within the budget, the
/// least infeasible one with [`Solution::feasible`] false.
pub fn solve(
    problem: &Problem,
    options: &Options,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Solution, ProblemError> {
    hgs::run(problem, options, progress)
}
