//! Tests on hand-made graphs with known answers: square lattices of 100 m cells.

use std::collections::VecDeque;
use std::time::Instant;

use super::{partition, repartition, Options, Solution, Targets};
use crate::graph::{Edge, Graph, Unit, Village};

/// Side of a lattice cell in metres.
const CELL: f64 = 100.0;

/// A `w` × `h` lattice of 100 m cells, unit `y * w + x`, one village that is not whole, with
/// `hh(x, y)` households per cell and no boundary along a feature except the outer one.
fn lattice(w: usize, h: usize, hh: &dyn Fn(usize, usize) -> u32) -> Graph {
    let mut units = Vec::new();
    let mut outer = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let households = hh(x, y);
            units.push(Unit {
                households,
                settled: households,
                workload: f64::from(households),
                area: CELL * CELL,
                perimeter: 4.0 * CELL,
                centroid: [(x as f64 + 0.5) * CELL, (y as f64 + 0.5) * CELL],
                village: 0,
            });
            let sides = [x == 0, x + 1 == w, y == 0, y + 1 == h];
            outer.push(sides.iter().filter(|&&s| s).count() as f64 * CELL);
        }
    }
    let mut edges = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let u = y * w + x;
            if x + 1 < w {
                edges.push(Edge {
                    a: u,
                    b: u + 1,
                    length: CELL,
                    on_feature: 0.0,
                    barrier: false,
                });
            }
            if y + 1 < h {
                edges.push(Edge {
                    a: u,
                    b: u + w,
                    length: CELL,
                    on_feature: 0.0,
                    barrier: false,
                });
            }
        }
    }
    edges.sort_by_key(|e| (e.a, e.b));
    let villages = vec![Village {
        code: "110101001001".to_owned(),
        whole: false,
    }];
    Graph {
        units,
        edges,
        villages,
        outer,
    }
}

fn fixed(k: usize) -> Targets {
    Targets {
        grids: Some(k),
        ..Targets::default()
    }
}

fn run(graph: &Graph, targets: &Targets) -> Solution {
    let solution = partition(graph, targets, &Options::default(), &mut |_| {});
    match solution {
        Ok(s) => s,
        Err(e) => panic!("no partition: {e}"),
    }
}

/// Checks every hard rule independently of the solver: each unit in one grid, no empty grid,
/// each grid connected over non-barrier edges, no barrier inside a grid, at most one village
/// that is not whole per grid; and that the figures add up.
fn check_rules(graph: &Graph, s: &Solution) {
    let n = graph.units.len();
    let k = s.grids.len();
    assert_eq!(s.assignment.len(), n);
    assert!(s.assignment.iter().all(|&g| g < k));
    let mut seen = vec![false; n];
    for (g, grid) in s.grids.iter().enumerate() {
        assert!(!grid.units.is_empty(), "grid {g} is empty");
        assert!(
            grid.units.windows(2).all(|w| w[0] < w[1]),
            "grid {g} units unsorted"
        );
        for &u in &grid.units {
            assert_eq!(s.assignment[u], g);
            assert!(!seen[u]);
            seen[u] = true;
        }
        let villages: Vec<usize> = grid
            .units
            .iter()
            .map(|&u| graph.units[u].village)
            .filter(|&v| !graph.villages[v].whole)
            .collect();
        assert!(
            villages.windows(2).all(|w| w[0] == w[1]),
            "grid {g} mixes villages"
        );
        let hh: u64 = grid
            .units
            .iter()
            .map(|&u| u64::from(graph.units[u].households))
            .sum();
        assert_eq!(hh, grid.households);
    }
    assert!(seen.iter().all(|&x| x));
    let mut nbs = vec![Vec::new(); n];
    for e in &graph.edges {
        if e.barrier {
            assert_ne!(
                s.assignment[e.a], s.assignment[e.b],
                "barrier {}-{} inside a grid",
                e.a, e.b
            );
        } else {
            nbs[e.a].push(e.b);
            nbs[e.b].push(e.a);
        }
    }
    for (g, grid) in s.grids.iter().enumerate() {
        let mut reached = vec![false; n];
        let mut queue = VecDeque::from([grid.units[0]]);
        reached[grid.units[0]] = true;
        let mut count = 0;
        while let Some(u) = queue.pop_front() {
            count += 1;
            for &v in &nbs[u] {
                if !reached[v] && s.assignment[v] == g {
                    reached[v] = true;
                    queue.push_back(v);
                }
            }
        }
        assert_eq!(count, grid.units.len(), "grid {g} is not contiguous");
    }
}

fn mean_compactness(s: &Solution) -> f64 {
    s.grids.iter().map(|g| g.compactness).sum::<f64>() / s.grids.len() as f64
}

#[test]
fn strip_splits_into_halves() {
    let graph = lattice(10, 2, &|_, _| 20);
    let s = run(&graph, &fixed(2));
    check_rules(&graph, &s);
    assert!(s.balanced);
    let left: Vec<usize> = (0..20).filter(|u| u % 10 < 5).collect();
    let right: Vec<usize> = (0..20).filter(|u| u % 10 >= 5).collect();
    let mut grids: Vec<Vec<usize>> = s.grids.iter().map(|g| g.units.clone()).collect();
    grids.sort();
    assert_eq!(grids, vec![left, right]);
    for g in &s.grids {
        assert_eq!(g.households, 200);
        assert!((g.perimeter - 1400.0).abs() < 1e-6);
        assert!((g.area - 1e5).abs() < 1e-6);
        assert!(g.deviation.abs() < 1e-12);
        // Outer boundary: 5 + 5 + 2 cells of 100 m; the cut is on no feature.
        assert!((g.on_feature - 1200.0 / 1400.0).abs() < 1e-9);
    }
    assert_eq!(s.moved_households, 0);
    assert!(s.retired.is_empty());
    assert!(!s.time_limited);
}

#[test]
fn four_compact_balanced_grids() {
    let graph = lattice(20, 20, &|_, _| 4);
    let s = run(&graph, &fixed(4));
    check_rules(&graph, &s);
    assert!(s.balanced);
    assert!((s.mean - 400.0).abs() < 1e-9);
    assert!(s.grids.iter().all(|g| g.deviation.abs() <= 0.1));
    let pp = mean_compactness(&s);
    assert!(pp >= 0.7, "mean compactness {pp}");
}

#[test]
fn uneven_households_balance() {
    // Households vary from 1 to 12 per cell; 36 × 30 cells, mean about 230 per grid of 12.
    let graph = lattice(36, 30, &|x, y| ((x * 7 + y * 13 + x * y) % 12) as u32 + 1);
    let s = run(&graph, &fixed(23));
    check_rules(&graph, &s);
    assert!(
        s.balanced,
        "deviations {:?}",
        s.grids.iter().map(|g| g.deviation).collect::<Vec<_>>()
    );
    let pp = mean_compactness(&s);
    assert!(pp >= 0.6, "mean compactness {pp}");
}

#[test]
fn range_chooses_the_number_of_grids() {
    // 1600 households in 300–500 with 10%: 4 grids of 400 (360–440 inside the range).
    let graph = lattice(20, 20, &|_, _| 4);
    let s = run(&graph, &Targets::default());
    assert_eq!(s.grids.len(), 4);
    // 1000 households: 2 grids of 500 would reach 550 within the tolerance, outside the
    // range; 3 grids of 333 keep 300–367 inside it.
    let graph = lattice(10, 10, &|_, _| 10);
    let s = run(&graph, &Targets::default());
    assert_eq!(s.grids.len(), 3);
}

#[test]
fn barriers_are_never_crossed() {
    let mut graph = lattice(20, 20, &|_, _| 4);
    for e in &mut graph.edges {
        if e.b == e.a + 1 && e.a % 20 == 9 {
            e.barrier = true;
        }
    }
    let s = run(&graph, &fixed(4));
    check_rules(&graph, &s);
    assert!(s.balanced);
    for g in &s.grids {
        let left = g.units.iter().filter(|&&u| u % 20 < 10).count();
        assert!(
            left == 0 || left == g.units.len(),
            "a grid crosses the barrier"
        );
    }
}

#[test]
fn cut_off_part_that_cannot_balance_is_named() {
    // A barrier cuts 6 columns (120 units) from 14: 5 grids of 80 units cannot fit.
    let mut graph = lattice(20, 20, &|_, _| 1);
    for e in &mut graph.edges {
        if e.b == e.a + 1 && e.a % 20 == 5 {
            e.barrier = true;
        }
    }
    let err = partition(&graph, &fixed(5), &Options::default(), &mut |_| {});
    let Err(err) = err else {
        panic!("expected infeasible")
    };
    let text = err.to_string();
    assert!(text.contains("120 units"), "{text}");
    assert!(text.contains("120 households"), "{text}");
    assert!(text.contains("72–88"), "{text}");
}

#[test]
fn villages_that_are_not_whole_never_share_a_grid() {
    let mut graph = lattice(20, 10, &|_, _| 4);
    graph.villages.push(Village {
        code: "110101001002".to_owned(),
        whole: false,
    });
    for (u, unit) in graph.units.iter_mut().enumerate() {
        // An uneven line between the villages (99 and 101 cells), so that a grid would like
        // to cross it.
        let y = u / 20;
        if u % 20 >= 9 + y % 3 {
            unit.village = 1;
        }
    }
    let s = run(&graph, &fixed(4));
    check_rules(&graph, &s);
}

#[test]
fn whole_villages_join_grids() {
    // A village of 24 cells (10 households each) beside 12 whole villages of one cell (20).
    let mut graph = lattice(6, 6, &|x, _| if x < 4 { 10 } else { 20 });
    for (u, unit) in graph.units.iter_mut().enumerate() {
        if u % 6 >= 4 {
            graph.villages.push(Village {
                code: format!("1101010010{u:02}"),
                whole: true,
            });
            unit.village = graph.villages.len() - 1;
        }
    }
    let s = run(&graph, &fixed(2));
    check_rules(&graph, &s);
    assert!(s.balanced);
    let whole_together = s.grids.iter().any(|g| {
        g.units
            .iter()
            .filter(|&&u| graph.villages[graph.units[u].village].whole)
            .count()
            >= 2
    });
    assert!(whole_together);
}

#[test]
fn infeasible_range_names_the_numbers() {
    let graph = lattice(13, 4, &|_, _| 10);
    let err = partition(
        &graph,
        &Targets::default(),
        &Options::default(),
        &mut |_| {},
    );
    let Err(err) = err else {
        panic!("expected infeasible")
    };
    assert_eq!(
        err.to_string(),
        "520 households cannot be split into grids of 300–500: 1 grid would hold 520 (above \
         500), 2 grids about 260 each (below 300)"
    );
    let graph = lattice(4, 3, &|_, _| 10);
    let Err(err) = partition(
        &graph,
        &Targets::default(),
        &Options::default(),
        &mut |_| {},
    ) else {
        panic!("expected infeasible")
    };
    assert!(err.to_string().contains("120 households"), "{err}");
}

#[test]
fn a_unit_heavier_than_a_grid_is_named() {
    let graph = lattice(10, 10, &|x, y| if (x, y) == (7, 3) { 200 } else { 4 });
    let Err(err) = partition(&graph, &fixed(4), &Options::default(), &mut |_| {}) else {
        panic!("expected infeasible")
    };
    let text = err.to_string();
    assert!(text.contains("unit 37"), "{text}");
    assert!(text.contains("200 households"), "{text}");
}

#[test]
fn more_grids_than_units_is_infeasible() {
    let graph = lattice(3, 2, &|_, _| 100);
    let Err(err) = partition(&graph, &fixed(7), &Options::default(), &mut |_| {}) else {
        panic!("expected infeasible")
    };
    assert!(err.to_string().contains("only 6 units"), "{err}");
}

#[test]
fn same_seed_same_solution() {
    let graph = lattice(24, 18, &|x, y| ((x * 5 + y * 3) % 7) as u32 + 2);
    let options = Options {
        seed: 42,
        ..Options::default()
    };
    let mut shares = Vec::new();
    let a = partition(&graph, &fixed(6), &options, &mut |x| shares.push(x));
    let b = partition(&graph, &fixed(6), &options, &mut |_| {});
    assert_eq!(a, b);
    assert!(
        shares.windows(2).all(|w| w[0] <= w[1]),
        "progress not monotone"
    );
    assert_eq!(shares.last().copied(), Some(1.0));
}

/// The current plan: 30 × 30 cells of 2 households in four 15 × 15 quadrants.
fn quadrants(x: usize, y: usize) -> usize {
    usize::from(x >= 15) + 2 * usize::from(y >= 15)
}

#[test]
fn balanced_plan_is_kept() {
    let graph = lattice(30, 30, &|_, _| 2);
    let current: Vec<usize> = (0..900).map(|u| quadrants(u % 30, u / 30)).collect();
    let s = repartition(
        &graph,
        &current,
        &fixed(4),
        &Options::default(),
        &mut |_| {},
    );
    let Ok(s) = s else { panic!("no repartition") };
    assert_eq!(s.assignment, current);
    assert_eq!(s.moved_households, 0);
    assert!(s
        .grids
        .iter()
        .enumerate()
        .all(|(i, g)| g.previous == Some(i)));
}

/// Repartitions `current` after 200 more households came to the 5 × 5 corner at the origin,
/// checks the rules and that the grids keep their indices, and returns the households moved
/// and those a fresh partition would move.
fn corner_grows(current: &[usize]) -> (Solution, u64) {
    let graph = lattice(30, 30, &|x, y| if x < 5 && y < 5 { 10 } else { 2 });
    let s = repartition(&graph, current, &fixed(4), &Options::default(), &mut |_| {});
    let Ok(s) = s else { panic!("no repartition") };
    check_rules(&graph, &s);
    assert!(s.balanced);
    assert!(s
        .grids
        .iter()
        .enumerate()
        .all(|(i, g)| g.previous == Some(i)));
    assert!(s.retired.is_empty());
    let moved: u64 = (0..900)
        .filter(|&u| s.assignment[u] != current[u])
        .map(|u| u64::from(graph.units[u].households))
        .sum();
    assert_eq!(moved, s.moved_households);
    let fresh = run(&graph, &fixed(4));
    let fresh_moved = moved_by_best_overlap(&graph, current, &fresh.assignment, 4);
    (s, fresh_moved)
}

#[test]
fn repartition_moves_few_households() {
    // Quadrants: grid 0 holds 650, the others 450; the mean is 500, so grid 0 must shed 100
    // households and the others may take them.
    let current: Vec<usize> = (0..900).map(|u| quadrants(u % 30, u / 30)).collect();
    let (s, fresh) = corner_grows(&current);
    assert!(s.moved_households >= 100);
    assert!(s.moved_households <= 120, "moved {}", s.moved_households);
    assert!(
        s.moved_households <= fresh,
        "moved {}, fresh {fresh}",
        s.moved_households
    );
    // The grids not overloaded keep their units.
    for (u, (&now, &before)) in s.assignment.iter().zip(&current).enumerate() {
        if before != 0 {
            assert_eq!(now, before, "unit {u} left grid {before}");
        }
    }
    // Strips of 8, 7, 8 and 7 columns (480, 420, 480, 420 households): now 680, 420, 480,
    // 420 against a band of 450–550. The fewest moved: 130 out of the first strip, 30 from
    // the third strip into the fourth.
    let current: Vec<usize> = (0..900)
        .map(|u| match u % 30 {
            0..8 => 0,
            8..15 => 1,
            15..23 => 2,
            _ => 3,
        })
        .collect();
    let (s, fresh) = corner_grows(&current);
    assert!(s.moved_households >= 160);
    assert!(s.moved_households <= 220, "moved {}", s.moved_households);
    assert!(
        s.moved_households * 3 < fresh,
        "moved {}, fresh {fresh}",
        s.moved_households
    );
}

/// Households moved from `current` to `new`, new grids matched to old ones by largest overlap.
fn moved_by_best_overlap(graph: &Graph, current: &[usize], new: &[usize], k: usize) -> u64 {
    let mut overlap = vec![vec![0u64; k]; k];
    for u in 0..current.len() {
        overlap[new[u]][current[u]] += u64::from(graph.units[u].households);
    }
    let mut pairs: Vec<(u64, usize, usize)> = (0..k)
        .flat_map(|a| (0..k).map(move |b| (a, b)))
        .map(|(a, b)| (overlap[a][b], a, b))
        .collect();
    pairs.sort_by(|x, y| y.cmp(x));
    let mut map = vec![usize::MAX; k];
    let mut used = vec![false; k];
    for (_, a, b) in pairs {
        if map[a] == usize::MAX && !used[b] {
            map[a] = b;
            used[b] = true;
        }
    }
    (0..current.len())
        .filter(|&u| map[new[u]] != current[u])
        .map(|u| u64::from(graph.units[u].households))
        .sum()
}

#[test]
fn repartition_adds_and_retires_grids() {
    let graph = lattice(30, 30, &|_, _| 2);
    let current: Vec<usize> = (0..900).map(|u| quadrants(u % 30, u / 30)).collect();
    let Ok(more) = repartition(
        &graph,
        &current,
        &fixed(5),
        &Options::default(),
        &mut |_| {},
    ) else {
        panic!("no repartition")
    };
    check_rules(&graph, &more);
    assert!(more.balanced);
    assert_eq!(more.grids.len(), 5);
    let previous: Vec<Option<usize>> = more.grids.iter().map(|g| g.previous).collect();
    assert_eq!(previous, vec![Some(0), Some(1), Some(2), Some(3), None]);
    let Ok(fewer) = repartition(
        &graph,
        &current,
        &fixed(3),
        &Options::default(),
        &mut |_| {},
    ) else {
        panic!("no repartition")
    };
    check_rules(&graph, &fewer);
    assert!(fewer.balanced);
    assert_eq!(fewer.grids.len(), 3);
    assert_eq!(fewer.retired.len(), 1);
    let kept: Vec<usize> = fewer.grids.iter().filter_map(|g| g.previous).collect();
    assert_eq!(kept.len(), 3);
    assert!(!kept.contains(&fewer.retired[0]));
}

#[test]
fn broken_plan_is_mended() {
    // Grid 1 is in two pieces (a cell of it sits inside grid 0).
    let graph = lattice(30, 30, &|_, _| 2);
    let mut current: Vec<usize> = (0..900).map(|u| quadrants(u % 30, u / 30)).collect();
    current[5 * 30 + 5] = 1;
    let Ok(s) = repartition(
        &graph,
        &current,
        &fixed(4),
        &Options::default(),
        &mut |_| {},
    ) else {
        panic!("no repartition")
    };
    check_rules(&graph, &s);
    assert!(s.balanced);
    assert_eq!(s.assignment[5 * 30 + 5], 0);
    assert_eq!(s.moved_households, 2);
}

/// Timing on lattices, and of a re-partition after a corner grew (run with
/// `cargo test --release -- --ignored --nocapture timing`).
#[test]
#[ignore = "timing; run in release"]
fn timing() {
    let seeds = 4;
    for (w, h, k) in [
        (10, 10, 3),
        (20, 20, 8),
        (40, 40, 8),
        (45, 45, 60),
        (100, 100, 60),
    ] {
        let hh = |x: usize, y: usize| ((x * 7 + y * 13 + x * y) % 12) as u32 + 1;
        let graph = lattice(w, h, &hh);
        let targets = fixed(k);
        let (mut took, mut pp, mut worst, mut balanced, mut moves) = (0.0, 0.0, 0.0f64, 0, 0);
        let mut last = None;
        for seed in 1..=seeds {
            let started = Instant::now();
            let options = Options {
                seed,
                ..Options::default()
            };
            let s = partition(&graph, &targets, &options, &mut |_| {});
            took += started.elapsed().as_secs_f64();
            let Ok(s) = s else { panic!("no partition") };
            check_rules(&graph, &s);
            pp += mean_compactness(&s);
            worst = s
                .grids
                .iter()
                .map(|g| g.deviation.abs())
                .fold(worst, f64::max);
            balanced += usize::from(s.balanced);
            moves += s.iterations;
            last = Some(s);
        }
        let runs = seeds as f64;
        println!(
            "{w}x{h}, {k} grids: {:.1} ms, {:.0} moves, balanced {balanced}/{seeds}, mean \
             compactness {:.3}, worst deviation {worst:.3}",
            took * 1e3 / runs,
            moves as f64 / runs,
            pp / runs,
        );
        // A fifth more households in the corner cells: re-partition.
        let Some(plan) = last else { continue };
        let corner = (w / 5).max(1);
        let grown = lattice(w, h, &|x, y| {
            if x < corner && y < corner {
                hh(x, y) * 3
            } else {
                hh(x, y)
            }
        });
        let started = Instant::now();
        let Ok(again) = repartition(
            &grown,
            &plan.assignment,
            &targets,
            &Options::default(),
            &mut |_| {},
        ) else {
            panic!("no repartition")
        };
        check_rules(&grown, &again);
        println!(
            "  re-partition after the corner grew: {:.1} ms, balanced {}, {} of {} households moved",
            started.elapsed().as_secs_f64() * 1e3,
            again.balanced,
            again.moved_households,
            grown.households()
        );
    }
}

/// A sweep over random lattices (households 0 to 10, 25, 40 or 60 per cell; villages in
/// blocks of 12 × 12 cells, whole villages of one cell, a river with a ford) with the default
/// targets: every answer must keep the rules, and every feasible one should be balanced. Run
/// with `cargo test --release -- --ignored --nocapture sweep` (`GRIDGOV_SWEEP=600` for more).
#[test]
#[ignore = "robustness sweep; run in release"]
fn sweep() {
    use rand::{Rng, SeedableRng};
    let trials: u64 = std::env::var("GRIDGOV_SWEEP")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let (mut balanced, mut solved, mut infeasible) = (0, 0, 0);
    for trial in 0..trials {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(trial);
        let side = rng.gen_range(8..50);
        let most = [10, 25, 40, 60][trial as usize % 4];
        let hh: Vec<u32> = (0..side * side).map(|_| rng.gen_range(0..=most)).collect();
        let mut graph = lattice(side, side, &|x, y| hh[y * side + x]);
        if trial % 2 == 1 {
            let per = side.div_ceil(12);
            graph.villages = (0..per * per)
                .map(|i| Village {
                    code: format!("{i:012}"),
                    whole: false,
                })
                .collect();
            for (u, unit) in graph.units.iter_mut().enumerate() {
                unit.village = (u / side / 12) * per + (u % side) / 12;
            }
        }
        if trial % 5 == 2 {
            for u in 0..graph.units.len() {
                if rng.gen_range(0..20) == 0 {
                    graph.villages.push(Village {
                        code: format!("w{u:011}"),
                        whole: true,
                    });
                    graph.units[u].village = graph.villages.len() - 1;
                }
            }
        }
        if trial % 3 == 0 {
            let col = side / 3;
            for e in &mut graph.edges {
                if e.b == e.a + 1 && e.a % side == col && e.a / side > 2 {
                    e.barrier = true;
                }
            }
        }
        let started = Instant::now();
        let options = Options {
            seed: trial,
            ..Options::default()
        };
        let result = partition(&graph, &Targets::default(), &options, &mut |_| {});
        let took = started.elapsed().as_secs_f64() * 1e3;
        match result {
            Ok(s) => {
                check_rules(&graph, &s);
                solved += 1;
                balanced += usize::from(s.balanced);
                let worst = s
                    .grids
                    .iter()
                    .map(|g| g.deviation.abs())
                    .fold(0.0, f64::max);
                println!(
                    "{trial}: {side}x{side}, up to {most}: {} grids, balanced {}, worst {worst:.4}, \
                     compactness {:.3}, {took:.1} ms",
                    s.grids.len(),
                    s.balanced,
                    mean_compactness(&s)
                );
            }
            Err(e) => {
                infeasible += 1;
                println!("{trial}: {side}x{side}, up to {most}: {e}");
            }
        }
    }
    println!("{balanced}/{solved} balanced, {infeasible} infeasible");
}
