//! The solver and the VRPLIB reader against the CVRPLIB instances in `shared/geodata/cvrp`.
//!
//! Budgets are iteration counts (never time), so the results are the same on every machine,
//! and small, so the file runs in a few seconds in the dev profile.
#![expect(
    clippy::unwrap_used,
    reason = "tests stop at the first unexpected error"
)]

use std::path::{Path, PathBuf};

use gridgov_routing::cvrp::{solve, Options, Problem, Solution};
use gridgov_routing::vrplib::{
    parse_instance, read_instance, read_solution, Instance, Rounding, VrplibError,
};

/// The instance folder; a missing folder fails the tests rather than skipping them.
fn folder() -> PathBuf {
    let shared = std::env::var_os("GRIDGOV_SHARED").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    );
    let dir = shared.join("geodata/cvrp");
    assert!(
        dir.is_dir(),
        "CVRPLIB instances not found at {} (set GRIDGOV_SHARED)",
        dir.display()
    );
    dir
}

fn instances() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "vrp" || e == "txt"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 29,
        "expected the 29 instances, found {}",
        files.len()
    );
    files
}

/// CMT instances' best-known costs are for unrounded distances (555.43 for CMT6): keep four
/// decimals for them; every other instance uses its community's default.
fn rounding(instance: &Instance) -> Rounding {
    if instance.name.starts_with("CMT") {
        Rounding::Round { decimals: 4 }
    } else {
        instance.default_rounding()
    }
}

fn load(path: &Path) -> (Instance, Problem) {
    let instance = read_instance(path).unwrap();
    let problem = instance.to_problem(rounding(&instance));
    (instance, problem)
}

fn budget(iterations: u64, seed: u64) -> Options {
    Options {
        seed,
        max_iterations: Some(iterations),
        ..Options::default()
    }
}

#[test]
fn best_known_solutions_pass_the_checker_at_their_stated_cost() {
    for path in instances() {
        let (instance, problem) = load(&path);
        let sol = read_solution(&path.with_extension("sol")).unwrap();
        let stated = sol.cost.unwrap();
        let cost = (stated * f64::from(problem.scale)).round() as i64;
        let solution = Solution {
            routes: sol.routes,
            cost,
            feasible: true,
            iterations: 0,
        };
        solution
            .check(&problem)
            .unwrap_or_else(|e| panic!("{}: {e}", instance.name));
    }
}

#[test]
fn every_instance_solves_to_a_checked_solution() {
    for path in instances() {
        let (instance, problem) = load(&path);
        assert_eq!(problem.dimension(), instance.dimension);
        // A handful of offspring: enough for a valid solution, cheap in the dev profile.
        let iterations = if instance.dimension > 150 { 2 } else { 6 };
        let solution = solve(&problem, &budget(iterations, 7), &mut |_| {}).unwrap();
        assert!(solution.feasible, "{}: no feasible solution", instance.name);
        solution
            .check(&problem)
            .unwrap_or_else(|e| panic!("{}: {e}", instance.name));
        let visited: usize = solution.routes.iter().map(Vec::len).sum();
        assert_eq!(visited, instance.dimension - 1, "{}", instance.name);
    }
}

#[test]
fn small_instances_reach_their_optimum() {
    for (name, optimum, iterations) in [
        ("E-n13-k4", 247, 100),
        ("P-n16-k8", 450, 100),
        ("B-n31-k5", 672, 150),
        ("A-n32-k5", 784, 150),
    ] {
        let (_, problem) = load(&folder().join(format!("{name}.vrp")));
        let solution = solve(&problem, &budget(iterations, 1), &mut |_| {}).unwrap();
        solution.check(&problem).unwrap();
        assert_eq!(solution.cost, optimum, "{name}");
    }
}

#[test]
fn time_windows_of_c101_are_respected() {
    let (_, problem) = load(&folder().join("C101.txt"));
    assert_eq!(problem.scale, 10);
    assert_eq!(problem.fleet.vehicles, Some(25));
    let solution = solve(&problem, &budget(40, 3), &mut |_| {}).unwrap();
    solution.check(&problem).unwrap();
    assert!(solution.routes.len() <= 25);
}

#[test]
fn same_seed_same_solution() {
    let (_, problem) = load(&folder().join("A-n32-k5.vrp"));
    let a = solve(&problem, &budget(120, 42), &mut |_| {}).unwrap();
    let b = solve(&problem, &budget(120, 42), &mut |_| {}).unwrap();
    assert_eq!(a, b);
}

#[test]
fn progress_is_reported() {
    let (_, problem) = load(&folder().join("P-n16-k8.vrp"));
    let mut last = None;
    let solution = solve(&problem, &budget(50, 1), &mut |p| last = Some(*p)).unwrap();
    let last = last.unwrap();
    assert_eq!(last.iterations, 50);
    assert_eq!(last.best_cost, Some(solution.cost));
}

#[test]
fn explicit_lower_row_matches_the_file() {
    let (_, problem) = load(&folder().join("E-n13-k4.vrp"));
    // First numbers of the LOWER_ROW section: d(2,1) = 9, d(3,1) = 14, d(3,2) = 21.
    assert_eq!(problem.distance.get(1, 0), 9);
    assert_eq!(problem.distance.get(0, 2), 14);
    assert_eq!(problem.distance.get(2, 1), 21);
}

/// Writes `text` to a fresh file in the temp dir and reads it back as an instance.
fn read_broken(tag: &str, text: &str) -> String {
    let path =
        std::env::temp_dir().join(format!("gridgov-cvrplib-{}-{tag}.vrp", std::process::id()));
    std::fs::write(&path, text).unwrap();
    let result = read_instance(&path);
    std::fs::remove_file(&path).unwrap();
    let err = result.expect_err("a broken file must be rejected");
    assert!(matches!(err, VrplibError::Invalid { .. }));
    let message = err.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "message names the file: {message}"
    );
    message
}

#[test]
fn broken_files_are_rejected_with_the_reason() {
    let good_tail =
        "NODE_COORD_SECTION\n1 0 0\n2 3 4\nDEMAND_SECTION\n1 0\n2 5\nDEPOT_SECTION\n1\n-1\nEOF\n";
    let m = read_broken(
        "nodim",
        &format!("NAME : x\nTYPE : CVRP\nEDGE_WEIGHT_TYPE : EUC_2D\nCAPACITY : 10\n{good_tail}"),
    );
    assert!(m.contains("before DIMENSION"), "{m}");
    let m = read_broken(
        "missingdim",
        "NAME : x\nCAPACITY : 10\nEDGE_WEIGHT_TYPE : EUC_2D\nEOF\n",
    );
    assert!(m.contains("missing DIMENSION"), "{m}");
    let m = read_broken(
        "node",
        "DIMENSION : 2\nCAPACITY : 10\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 3 4\nDEMAND_SECTION\n1 0\n3 5\nEOF\n",
    );
    assert!(m.contains(":9:") && m.contains("missing node 3"), "{m}");
    let m = read_broken(
        "geo",
        &format!("DIMENSION : 2\nCAPACITY : 10\nEDGE_WEIGHT_TYPE : GEO\n{good_tail}"),
    );
    assert!(m.contains("unsupported EDGE_WEIGHT_TYPE GEO"), "{m}");
    let m = read_broken(
        "count",
        "DIMENSION : 3\nCAPACITY : 10\nEDGE_WEIGHT_TYPE : EXPLICIT\nEDGE_WEIGHT_FORMAT : LOWER_ROW\nEDGE_WEIGHT_SECTION\n1 2\nDEMAND_SECTION\n1 0\n2 1\n3 1\nEOF\n",
    );
    assert!(m.contains("has 2 numbers") && m.contains("needs 3"), "{m}");
    let m = read_broken(
        "number",
        &format!("DIMENSION : 2\nCAPACITY : ten\nEDGE_WEIGHT_TYPE : EUC_2D\n{good_tail}"),
    );
    assert!(m.contains(":2:") && m.contains("CAPACITY"), "{m}");
    let m = read_broken("nodemand", "DIMENSION : 2\nCAPACITY : 10\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 3 4\nEOF\n");
    assert!(m.contains("missing DEMAND_SECTION"), "{m}");
}

#[test]
fn explicit_formats_agree() {
    // The same symmetric 3-node matrix in four layouts.
    let head = "DIMENSION : 3\nCAPACITY : 10\nEDGE_WEIGHT_TYPE : EXPLICIT\n";
    let tail = "DEMAND_SECTION\n1 0\n2 1\n3 1\nEOF\n";
    let layouts = [
        ("FULL_MATRIX", "0 1 2\n1 0 3\n2 3 0"),
        ("LOWER_ROW", "1\n2 3"),
        ("LOWER_DIAG_ROW", "0\n1 0\n2 3 0"),
        ("UPPER_ROW", "1 2\n3"),
        ("UPPER_DIAG_ROW", "0 1 2\n0 3\n0"),
    ];
    for (format, weights) in layouts {
        let text =
            format!("{head}EDGE_WEIGHT_FORMAT : {format}\nEDGE_WEIGHT_SECTION\n{weights}\n{tail}");
        let problem = parse_instance(&text, format).unwrap().problem();
        assert_eq!(
            problem.distance.as_slice(),
            &[0, 1, 2, 1, 0, 3, 2, 3, 0],
            "{format}"
        );
    }
}

#[test]
fn nint_rounding_of_float_coordinates() {
    let text = "DIMENSION : 2\nCAPACITY : 10\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n1 0.0 0.0\n2 1.5 2.0\nDEMAND_SECTION\n1 0\n2 1\nEOF\n";
    let instance = parse_instance(text, "float").unwrap();
    // The distance is 2.5: nint gives 3, tenths give 25.
    assert_eq!(instance.problem().distance.get(0, 1), 3);
    assert_eq!(
        instance.to_problem(Rounding::SOLOMON).distance.get(0, 1),
        25
    );
}
