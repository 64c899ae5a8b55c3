//! Solutions and the independent checker that recomputes everything from the problem.

use thiserror::Error;

use super::problem::Problem;

/// A set of routes, each a list of node indices (the depot, index 0, is implied at both ends):
/// clients, and the reload stations visited between them, and their total cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Solution {
    /// The routes; no route lists the depot.
    pub routes: Vec<Vec<usize>>,
    /// The sum of the distance-matrix entries along all routes, depot to depot.
    pub cost: i64,
    /// Whether the solver believes every constraint holds (confirm with [`Solution::check`]).
    pub feasible: bool,
    /// How many offspring the search produced.
    pub iterations: u64,
}

/// What one route does, recomputed from the matrices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteSummary {
    /// Distance, depot to depot.
    pub distance: i64,
    /// Total demand served.
    pub load: i64,
    /// The largest load carried at once (between the depot and stations).
    pub peak_load: i64,
    /// What the vehicle carries back to the depot (after its last station).
    pub final_load: i64,
    /// Shortest possible duration, depot to depot, including service and unavoidable waiting,
    /// when the route respects its time windows (departure is delayed as far as that allows).
    pub duration: i64,
    /// The first client (or 0 for the return to the depot) reached after its window closed,
    /// with the arrival time and the window end, when leaving the depot as early as possible.
    pub late: Option<(usize, i64, i64)>,
}

/// Why a solution is not valid for a problem.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Violation {
    /// A route lists the depot or an index beyond the last node.
    #[error("route {route} lists node {node}, which is not a client")]
    NotAClient {
        /// Route number (from 0).
        route: usize,
        /// The offending index.
        node: usize,
    },
    /// A client appears twice.
    #[error("client {client} is visited more than once")]
    Duplicate {
        /// The client.
        client: usize,
    },
    /// A client is never visited.
    #[error("client {client} is not visited")]
    Missing {
        /// The client.
        client: usize,
    },
    /// A route carries more than a vehicle holds (at once, between stations).
    #[error("route {route} carries {load}, more than the capacity {capacity}")]
    Capacity {
        /// Route number.
        route: usize,
        /// Its load.
        load: i64,
        /// The capacity.
        capacity: i64,
    },
    /// A route takes longer than allowed.
    #[error("route {route} takes {duration}, more than the limit {limit}")]
    Duration {
        /// Route number.
        route: usize,
        /// Its duration.
        duration: i64,
        /// The limit.
        limit: i64,
    },
    /// A route reaches a client (or the depot, 0) after its time window closed.
    #[error("route {route} reaches node {node} at {arrival}, after its window closes at {due}")]
    TimeWindow {
        /// Route number.
        route: usize,
        /// The node reached late.
        node: usize,
        /// Arrival time.
        arrival: i64,
        /// Window end.
        due: i64,
    },
    /// More non-empty routes than vehicles.
    #[error("{routes} routes, but only {vehicles} vehicles")]
    TooManyRoutes {
        /// Non-empty routes.
        routes: usize,
        /// Vehicles available.
        vehicles: usize,
    },
    /// The stated cost differs from the recomputed one.
    #[error("the solution states cost {stated}, but its routes cost {actual}")]
    Cost {
        /// The cost the solution claims.
        stated: i64,
        /// The cost recomputed from the distance matrix.
        actual: i64,
    },
}

/// Recomputes distance, loads, duration and lateness of one route from the matrices.
///
/// Indices must be valid node indices (use [`Solution::check`] for untrusted routes).
pub fn route_summary(problem: &Problem, route: &[usize]) -> RouteSummary {
    let depot = &problem.nodes[0];
    let mut distance = 0;
    let mut load = 0;
    let mut carried = 0;
    let mut peak_load = 0;
    let mut prev = 0;
    let mut prev_start = depot.ready;
    let mut late = None;
    // Savelsbergh's forward slack: how far departure can move without making anything late.
    let mut waited = 0;
    let mut slack = i64::MAX;
    for &c in route.iter().chain(std::iter::once(&0)) {
        let node = &problem.nodes[c];
        distance += problem.distance.get(prev, c);
        if node.station {
            carried = 0;
        } else if c != 0 {
            load += node.demand;
            carried += node.demand;
            peak_load = peak_load.max(carried);
        }
        let arrival = prev_start + problem.nodes[prev].service + problem.duration.get(prev, c);
        if arrival > node.due && late.is_none() {
            late = Some((c, arrival, node.due));
        }
        let start = arrival.max(node.ready);
        waited += start - arrival;
        slack = slack.min(waited + (node.due - start));
        prev = c;
        prev_start = start;
    }
    let shift = slack.min(waited).max(0);
    RouteSummary {
        distance,
        load,
        peak_load,
        final_load: carried,
        duration: prev_start - depot.ready - shift,
        late,
    }
}

impl Solution {
    /// Checks every constraint and the stated cost against `problem`, recomputing everything
    /// from its matrices. Empty routes are allowed and ignored.
    pub fn check(&self, problem: &Problem) -> Result<(), Violation> {
        let n = problem.dimension();
        let mut seen = vec![false; n];
        let mut total = 0;
        let mut used = 0;
        for (r, route) in self.routes.iter().enumerate() {
            for &c in route {
                if c == 0 || c >= n {
                    return Err(Violation::NotAClient { route: r, node: c });
                }
                if !problem.nodes[c].station && std::mem::replace(&mut seen[c], true) {
                    return Err(Violation::Duplicate { client: c });
                }
            }
            if route.is_empty() {
                continue;
            }
            used += 1;
            let s = route_summary(problem, route);
            total += s.distance;
            if s.peak_load > problem.fleet.capacity {
                return Err(Violation::Capacity {
                    route: r,
                    load: s.peak_load,
                    capacity: problem.fleet.capacity,
                });
            }
            if let Some((node, arrival, due)) = s.late {
                return Err(Violation::TimeWindow {
                    route: r,
                    node,
                    arrival,
                    due,
                });
            }
            if let Some(limit) = problem.fleet.max_duration {
                if s.duration > limit {
                    return Err(Violation::Duration {
                        route: r,
                        duration: s.duration,
                        limit,
                    });
                }
            }
        }
        if let Some(client) = (1..n).find(|&c| !seen[c] && !problem.nodes[c].station) {
            return Err(Violation::Missing { client });
        }
        if let Some(vehicles) = problem.fleet.vehicles {
            if used > vehicles {
                return Err(Violation::TooManyRoutes {
                    routes: used,
                    vehicles,
                });
            }
        }
        if total != self.cost {
            return Err(Violation::Cost {
                stated: self.cost,
                actual: total,
            });
        }
        Ok(())
    }
}
