//! Benchmark of the CVRP solver on VRPLIB instances against their best-known solutions.
//!
//! ```text
//! cargo run --release --example cvrp_bench -- [--seconds S | --per-node F] [--iterations N] [--seed N] FILE.vrp...
//! ```
//!
//! Without `--seconds` the time limit is `DIMENSION × F` seconds (`F` = 0.25 by default, the
//! `n/4` rule; `DIMENSION` includes the depot). `--multi-trip V` solves instead the
//! multi-trip variant: a reload station at the depot and only `V` vehicles. The best-known cost is read from the `.sol`
//! file next to each instance. Prints one line per instance and the mean gap.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use gridgov_routing::cvrp::{solve, Matrix, Node, Options, Problem};
use gridgov_routing::vrplib::{read_instance, read_solution};

struct Args {
    seconds: Option<f64>,
    per_node: f64,
    iterations: Option<u64>,
    seed: u64,
    multi_trip: Option<usize>,
    files: Vec<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        seconds: None,
        per_node: 0.25,
        iterations: None,
        seed: 1,
        multi_trip: None,
        files: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        if !a.starts_with("--") {
            args.files.push(PathBuf::from(a));
            continue;
        }
        let value = it.next().ok_or_else(|| format!("{a} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{a}: {e}");
        match a.as_str() {
            "--seconds" => args.seconds = Some(value.parse().map_err(|e| bad(&e))?),
            "--per-node" => args.per_node = value.parse().map_err(|e| bad(&e))?,
            "--iterations" => args.iterations = Some(value.parse().map_err(|e| bad(&e))?),
            "--seed" => args.seed = value.parse().map_err(|e| bad(&e))?,
            "--multi-trip" => args.multi_trip = Some(value.parse().map_err(|e| bad(&e))?),
            _ => return Err(format!("unknown option {a}")),
        }
    }
    if args.files.is_empty() {
        return Err(
            "usage: cvrp_bench [--seconds S | --per-node F] [--iterations N] [--seed N] FILE..."
                .into(),
        );
    }
    Ok(args)
}

fn run_one(path: &Path, args: &Args) -> Result<(f64, String), String> {
    let instance = read_instance(path).map_err(|e| e.to_string())?;
    let mut problem = instance.problem();
    if let Some(vehicles) = args.multi_trip {
        problem = multi_trip(&problem, vehicles);
    }
    let scale = f64::from(problem.scale);
    let bks = read_solution(&path.with_extension("sol"))
        .ok()
        .and_then(|s| s.cost);
    let seconds = args
        .seconds
        .unwrap_or(args.per_node * instance.dimension as f64);
    let options = Options {
        seed: args.seed,
        time_limit: if args.iterations.is_some() && args.seconds.is_none() {
            None
        } else {
            Some(Duration::from_secs_f64(seconds))
        },
        max_iterations: args.iterations,
        ..Options::default()
    };
    let start = Instant::now();
    let solution = solve(&problem, &options, &mut |_| {}).map_err(|e| e.to_string())?;
    let elapsed = start.elapsed().as_secs_f64();
    let valid = match solution.check(&problem) {
        Ok(()) => "ok".to_owned(),
        Err(e) if solution.feasible => format!("INVALID: {e}"),
        Err(e) => format!("no feasible solution found: {e}"),
    };
    let cost = solution.cost as f64 / scale;
    let gap = bks.map_or(f64::NAN, |b| 100.0 * (cost - b) / b);
    let line = format!(
        "{:<16} {:>4} {:>10} {:>10} {:>7.3} {:>7.1} {:>8} {}",
        instance.name,
        instance.dimension,
        bks.map_or("?".into(), |b| format!("{b}")),
        cost,
        gap,
        elapsed,
        solution.iterations,
        valid
    );
    Ok((gap, line))
}

/// The multi-trip variant of a CVRP: a reload station where the depot is and only `vehicles`
/// vehicles, so each vehicle runs several of the CVRP's routes as trips (same optimal cost
/// when the fleet is large enough).
fn multi_trip(problem: &Problem, vehicles: usize) -> Problem {
    let n = problem.dimension();
    let at = |i: usize| if i == n { 0 } else { i };
    let distance = Matrix::from_fn(n + 1, |a, b| problem.distance.get(at(a), at(b)));
    let duration = Matrix::from_fn(n + 1, |a, b| problem.duration.get(at(a), at(b)));
    let mut nodes = problem.nodes.clone();
    nodes.push(Node {
        position: nodes[0].position,
        ..Node::station(0)
    });
    let mut fleet = problem.fleet;
    fleet.vehicles = Some(vehicles);
    Problem {
        distance,
        duration,
        nodes,
        fleet,
        ..problem.clone()
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "{:<16} {:>4} {:>10} {:>10} {:>7} {:>7} {:>8} check",
        "instance", "n", "bks", "cost", "gap%", "time_s", "iters"
    );
    let mut gaps = Vec::new();
    for f in &args.files {
        match run_one(f, &args) {
            Ok((gap, line)) => {
                println!("{line}");
                if gap.is_finite() {
                    gaps.push(gap);
                }
            }
            Err(e) => println!("{}: error: {e}", f.display()),
        }
    }
    if !gaps.is_empty() {
        println!(
            "mean gap {:.3} % over {} instances",
            gaps.iter().sum::<f64>() / gaps.len() as f64,
            gaps.len()
        );
    }
    ExitCode::SUCCESS
}
