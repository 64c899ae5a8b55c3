//! The solver on small hand-made problems with known answers, and the checker on hand-made bad
//! solutions.

use gridgov_routing::cvrp::{
    solve, Matrix, Node, Options, Problem, ProblemError, Solution, Violation,
};

fn options() -> Options {
    Options {
        seed: 5,
        max_iterations: Some(150),
        ..Options::default()
    }
}

/// Depot at 0 and clients at the given positions on a line, each with demand 1.
fn line(xs: &[i64], capacity: i64) -> Problem {
    let all: Vec<i64> = std::iter::once(0).chain(xs.iter().copied()).collect();
    let distance = Matrix::from_fn(all.len(), |a, b| (all[a] - all[b]).abs());
    let demands: Vec<i64> = all.iter().map(|_| 1).collect();
    Problem::cvrp(distance, &demands, capacity)
}

fn sorted_routes(solution: &Solution) -> Vec<Vec<usize>> {
    let mut routes: Vec<Vec<usize>> = solution
        .routes
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.sort_unstable();
            r
        })
        .collect();
    routes.sort();
    routes
}

#[test]
fn capacity_forces_pairs_on_a_line() {
    let problem = line(&[1, 2, 3, 4, 5, 6], 2);
    let solution = solve(&problem, &options(), &mut |_| {}).unwrap();
    solution.check(&problem).unwrap();
    assert_eq!(solution.cost, 2 * 2 + 2 * 4 + 2 * 6);
    assert_eq!(
        sorted_routes(&solution),
        vec![vec![1, 2], vec![3, 4], vec![5, 6]]
    );
}

#[test]
fn clients_on_both_sides_with_ample_capacity() {
    let problem = line(&[-3, -1, 2, 5], 10);
    let solution = solve(&problem, &options(), &mut |_| {}).unwrap();
    solution.check(&problem).unwrap();
    // One route out to 5 and back through -3, or two routes: both cost 16.
    assert_eq!(solution.cost, 16);
}

#[test]
fn time_windows_force_the_order() {
    // Clients at 1 and 2; the far one must be served first, the near one only later.
    let mut problem = line(&[1, 2], 10);
    problem.fleet.vehicles = Some(1);
    problem.nodes[2].due = 3;
    problem.nodes[1].ready = 10;
    problem.nodes[1].due = 20;
    let solution = solve(&problem, &options(), &mut |_| {}).unwrap();
    solution.check(&problem).unwrap();
    assert_eq!(solution.routes, vec![vec![2, 1]]);
    assert_eq!(solution.cost, 4);
}

#[test]
fn duration_limit_splits_the_route() {
    // Two clients 5 away from the depot and 1 from each other, with one unit of service each.
    let distance = Matrix::from_row_major(3, vec![0, 5, 5, 5, 0, 1, 5, 1, 0]).unwrap();
    let mut problem = Problem::cvrp(distance, &[0, 1, 1], 10);
    problem.nodes[1].service = 1;
    problem.nodes[2].service = 1;
    let together = solve(&problem, &options(), &mut |_| {}).unwrap();
    assert_eq!(together.cost, 11);
    problem.fleet.max_duration = Some(12); // one route would take 11 + 2 = 13
    let apart = solve(&problem, &options(), &mut |_| {}).unwrap();
    apart.check(&problem).unwrap();
    assert_eq!(apart.cost, 20);
    assert_eq!(apart.routes.len(), 2);
}

#[test]
fn waiting_counts_towards_the_duration() {
    // The client opens at 100; departing late avoids waiting, so a limit of 20 is enough.
    let mut problem = line(&[5], 10);
    problem.nodes[1].ready = 100;
    problem.nodes[1].due = 110;
    problem.fleet.max_duration = Some(10);
    let solution = solve(&problem, &options(), &mut |_| {}).unwrap();
    solution.check(&problem).unwrap();
    assert_eq!(solution.cost, 10);
}

#[test]
fn a_limited_fleet_is_respected() {
    // Demands 1; capacity 3; 6 clients; 2 vehicles: each must take three.
    let mut problem = line(&[1, 2, 3, -1, -2, -3], 3);
    problem.fleet.vehicles = Some(2);
    let solution = solve(&problem, &options(), &mut |_| {}).unwrap();
    solution.check(&problem).unwrap();
    assert_eq!(sorted_routes(&solution), vec![vec![1, 2, 3], vec![4, 5, 6]]);
    assert_eq!(solution.cost, 12);
}

#[test]
fn invalid_problems_are_refused() {
    let problem = line(&[1, 2], 0);
    assert!(matches!(
        solve(&problem, &options(), &mut |_| {}),
        Err(ProblemError::DemandExceedsCapacity { client: 1, .. })
    ));
    let mut problem = line(&[1, 2], 5);
    problem.nodes[1].ready = 10;
    problem.nodes[1].due = 5;
    assert!(matches!(
        problem.validate(),
        Err(ProblemError::EmptyTimeWindow { node: 1, .. })
    ));
    let problem = Problem::cvrp(Matrix::zeros(1), &[0], 5);
    assert_eq!(problem.validate(), Err(ProblemError::NoClients));
    assert!(Matrix::from_row_major(2, vec![0, 1, 2]).is_err());
}

#[test]
fn zero_budget_still_returns_every_client() {
    let problem = line(&[1, 2, 3], 2);
    let options = Options {
        max_iterations: Some(0),
        ..Options::default()
    };
    let solution = solve(&problem, &options, &mut |_| {}).unwrap();
    solution.check(&problem).unwrap();
}

fn bad(routes: Vec<Vec<usize>>, cost: i64) -> Solution {
    Solution {
        routes,
        cost,
        feasible: true,
        iterations: 0,
    }
}

#[test]
fn the_checker_catches_bad_solutions() {
    let mut problem = line(&[1, 2, 3, 4], 2);
    assert_eq!(
        bad(vec![vec![1, 2], vec![3, 4]], 12).check(&problem),
        Ok(())
    );
    assert_eq!(
        bad(vec![vec![1, 2], vec![3]], 10).check(&problem),
        Err(Violation::Missing { client: 4 })
    );
    assert_eq!(
        bad(vec![vec![1, 2], vec![3, 4, 2]], 12).check(&problem),
        Err(Violation::Duplicate { client: 2 })
    );
    assert_eq!(
        bad(vec![vec![1, 2], vec![0, 3, 4]], 12).check(&problem),
        Err(Violation::NotAClient { route: 1, node: 0 })
    );
    assert_eq!(
        bad(vec![vec![1, 2, 9], vec![3, 4]], 12).check(&problem),
        Err(Violation::NotAClient { route: 0, node: 9 })
    );
    assert_eq!(
        bad(vec![vec![1, 2, 3], vec![4]], 14).check(&problem),
        Err(Violation::Capacity {
            route: 0,
            load: 3,
            capacity: 2
        })
    );
    assert_eq!(
        bad(vec![vec![1, 2], vec![3, 4]], 11).check(&problem),
        Err(Violation::Cost {
            stated: 11,
            actual: 12
        })
    );
    problem.fleet.vehicles = Some(1);
    assert_eq!(
        bad(vec![vec![1, 2], vec![3, 4]], 12).check(&problem),
        Err(Violation::TooManyRoutes {
            routes: 2,
            vehicles: 1
        })
    );
    problem.fleet.vehicles = None;
    problem.fleet.max_duration = Some(7);
    assert_eq!(
        bad(vec![vec![1, 2], vec![3, 4]], 12).check(&problem),
        Err(Violation::Duration {
            route: 1,
            duration: 8,
            limit: 7
        })
    );
    problem.fleet.max_duration = None;
    problem.nodes[3].due = 3;
    assert_eq!(
        bad(vec![vec![1, 2], vec![4, 3]], 12).check(&problem),
        Err(Violation::TimeWindow {
            route: 1,
            node: 3,
            arrival: 5,
            due: 3
        })
    );
    // The other way round, the route reaches 3 first, in time.
    assert_eq!(
        bad(vec![vec![1, 2], vec![3, 4]], 12).check(&problem),
        Ok(())
    );
}

/// Clients at 11..=14 on a line, each with demand 1, capacity 2, and a reload station at 10
/// (node 5).
fn with_station(vehicles: Option<usize>) -> Problem {
    let xs = [0i64, 11, 12, 13, 14, 10];
    let distance = Matrix::from_fn(xs.len(), |a, b| (xs[a] - xs[b]).abs());
    let mut problem = Problem::cvrp(distance, &[0, 1, 1, 1, 1, 0], 2);
    problem.nodes[5] = Node::station(0);
    problem.fleet.vehicles = vehicles;
    problem
}

#[test]
fn a_reload_station_allows_several_trips() {
    for vehicles in [Some(1), None] {
        let problem = with_station(vehicles);
        let solution = solve(&problem, &options(), &mut |_| {}).unwrap();
        solution.check(&problem).unwrap();
        // Two trips of two clients with an unload at 10 in between: 12 + 2 + 4 + 14 = 32,
        // instead of 24 + 28 = 52 for two separate routes.
        assert_eq!(solution.cost, 32, "{vehicles:?}");
        assert_eq!(solution.routes.len(), 1);
        assert_eq!(solution.routes[0].iter().filter(|&&c| c == 5).count(), 1);
    }
}

#[test]
fn the_checker_counts_loads_between_stations() {
    let problem = with_station(None);
    let route_cost = |r: &[usize]| gridgov_routing::cvrp::route_summary(&problem, r).distance;
    let ok = vec![1, 2, 5, 3, 4];
    assert_eq!(
        bad(vec![ok.clone()], route_cost(&ok)).check(&problem),
        Ok(())
    );
    let over = vec![1, 2, 3, 5, 4];
    assert_eq!(
        bad(vec![over.clone()], route_cost(&over)).check(&problem),
        Err(Violation::Capacity {
            route: 0,
            load: 3,
            capacity: 2
        })
    );
    // Stations may be visited several times; clients only once.
    let twice = vec![5, 1, 2, 5, 3, 4, 5];
    assert_eq!(
        bad(vec![twice.clone()], route_cost(&twice)).check(&problem),
        Ok(())
    );
}

#[test]
fn reloads_with_a_small_fleet_and_a_shift_limit() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    // Depot in the middle, two stations, forty clients; three vehicles of capacity 30 for a
    // total demand near 220, so every route needs several trips.
    let mut points: Vec<[f64; 2]> = vec![[50.0, 50.0], [20.0, 80.0], [80.0, 20.0]];
    for _ in 0..40 {
        points.push([rng.gen_range(0.0..100.0), rng.gen_range(0.0..100.0)]);
    }
    let n = points.len();
    let distance = Matrix::from_fn(n, |a, b| {
        let (dx, dy) = (points[a][0] - points[b][0], points[a][1] - points[b][1]);
        (dx * dx + dy * dy).sqrt().round() as i64
    });
    let demands: Vec<i64> = (0..n)
        .map(|i| if i < 3 { 0 } else { rng.gen_range(1..=10) })
        .collect();
    let mut problem = Problem::cvrp(distance, &demands, 30);
    problem.nodes[1] = Node::station(5);
    problem.nodes[2] = Node::station(5);
    for (node, p) in problem.nodes.iter_mut().zip(&points) {
        node.position = Some(*p);
        if !node.station {
            node.service = 2;
        }
    }
    problem.fleet.vehicles = Some(3);
    problem.fleet.max_duration = Some(1_000);
    let options = Options {
        max_iterations: Some(40),
        ..options()
    };
    let solution = solve(&problem, &options, &mut |_| {}).unwrap();
    assert!(solution.feasible);
    solution.check(&problem).unwrap();
    assert!(solution.routes.len() <= 3);
    let unloads = solution
        .routes
        .iter()
        .flatten()
        .filter(|&&c| c == 1 || c == 2)
        .count();
    assert!(
        unloads >= 5,
        "{unloads} unloads for about 220 units in loads of 30"
    );
}

#[test]
fn asymmetric_distances() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
    // One-way streets: going "up" costs more than coming back.
    let n = 30;
    let pos: Vec<i64> = (0..n).map(|_| rng.gen_range(0..100)).collect();
    let distance = Matrix::from_fn(n, |a, b| {
        let d = (pos[a] - pos[b]).abs();
        if pos[b] > pos[a] {
            2 * d + 1
        } else {
            d
        }
    });
    let demands: Vec<i64> = (0..n)
        .map(|i| if i == 0 { 0 } else { rng.gen_range(1..=5) })
        .collect();
    let problem = Problem::cvrp(distance, &demands, 15);
    let solution = solve(&problem, &options(), &mut |_| {}).unwrap();
    assert!(solution.feasible);
    solution.check(&problem).unwrap();
}
