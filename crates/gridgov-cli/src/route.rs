//! `gridgov route`: collection routes for a township's day, or, for benchmarking, a CVRPLIB
//! instance solved by the same solver.
//!
//! With `--vrplib FILE`, the instance is read (VRPLIB, or Solomon's VRPTW table), solved for
//! `--seconds` with `--seed`, and the routes are printed as a `.sol` file prints them (`Route
//! #1: 3 7 12`, clients numbered as in the instance, the depot left out), with the cost on the
//! last line: `cost N`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use gridgov_routing::cvrp::{self, Options, Progress};
use gridgov_routing::vrplib;

/// Arguments of `gridgov route`.
#[derive(Debug, Args)]
pub struct RouteArgs {
    /// Solve a CVRPLIB instance (VRPLIB format, or Solomon's VRPTW table) instead of a
    /// township's day; prints the routes and, last, `cost N`.
    #[arg(long, conflicts_with_all = ["township", "date", "out"])]
    vrplib: Option<PathBuf>,
    /// Upper bound on the search time in seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Seed of the search: the same data, seed and search length give the same routes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Stop after this many offspring of the genetic search (with the seed, a result that
    /// repeats on any machine); the time limit still applies.
    #[arg(long)]
    iterations: Option<u64>,
    /// A GeoPackage path or postgres:// URL (default ./gridgov.gpkg).
    #[arg(long)]
    store: Option<String>,
    /// The township whose collection day is planned (12-digit code).
    #[arg(long, required_unless_present = "vrplib")]
    township: Option<String>,
    /// The day to plan, YYYY-MM-DD.
    #[arg(long, required_unless_present = "vrplib")]
    date: Option<String>,
    /// The GeoJSON file of routes to write.
    #[arg(long, required_unless_present = "vrplib")]
    out: Option<PathBuf>,
}

/// The `--seconds` value as a duration.
fn seconds(s: f64) -> Result<Duration> {
    if !(s.is_finite() && s > 0.0 && s <= 86_400.0) {
        bail!("--seconds {s}: give a time between 0 and 86400 seconds");
    }
    Ok(Duration::from_secs_f64(s))
}

/// Runs `gridgov route`.
pub async fn route(a: RouteArgs) -> Result<()> {
    let limit = seconds(a.seconds)?;
    match &a.vrplib {
        Some(path) => {
            let path = path.clone();
            let (seed, iterations) = (a.seed, a.iterations);
            tokio::task::spawn_blocking(move || solve_vrplib(&path, limit, seed, iterations))
                .await?
        }
        None => crate::route_day::route_day(&a, limit).await,
    }
}

impl RouteArgs {
    /// The store argument.
    pub(crate) fn store(&self) -> Option<String> {
        self.store.clone()
    }
    /// The township argument.
    pub(crate) fn township(&self) -> Option<&str> {
        self.township.as_deref()
    }
    /// The date argument.
    pub(crate) fn date(&self) -> Option<&str> {
        self.date.as_deref()
    }
    /// The output file.
    pub(crate) fn out(&self) -> Option<&PathBuf> {
        self.out.as_ref()
    }
    /// The seed.
    pub(crate) fn seed(&self) -> u64 {
        self.seed
    }
    /// The iteration budget.
    pub(crate) fn iterations(&self) -> Option<u64> {
        self.iterations
    }
}

/// Reads, solves and prints a VRPLIB instance.
fn solve_vrplib(
    path: &std::path::Path,
    limit: Duration,
    seed: u64,
    iterations: Option<u64>,
) -> Result<()> {
    let instance = vrplib::read_instance(path)?;
    let problem = instance.problem();
    let options = Options {
        seed,
        time_limit: Some(limit),
        max_iterations: iterations,
        ..Options::default()
    };
    let started = Instant::now();
    let mut last_report = Instant::now();
    let mut progress = |p: &Progress| {
        if last_report.elapsed() >= Duration::from_secs(1) {
            last_report = Instant::now();
            let best = p
                .best_cost
                .map_or_else(|| "none feasible yet".to_owned(), |c| c.to_string());
            eprintln!(
                "gridgov: {:.1} s, {} offspring, best {best}",
                p.elapsed.as_secs_f64(),
                p.iterations
            );
        }
    };
    let solution = cvrp::solve(&problem, &options, &mut progress)
        .with_context(|| format!("solving {}", path.display()))?;
    if !solution.feasible {
        bail!(
            "no feasible solution of {} found in {:.1} s",
            instance.name,
            started.elapsed().as_secs_f64()
        );
    }
    solution
        .check(&problem)
        .map_err(|v| anyhow::anyhow!("the solver returned an invalid solution: {v}"))?;
    eprintln!(
        "gridgov: {} solved in {:.1} s ({} offspring), {} routes",
        instance.name,
        started.elapsed().as_secs_f64(),
        solution.iterations,
        solution.routes.len()
    );
    for (k, r) in solution.routes.iter().enumerate() {
        let stops: Vec<String> = r.iter().map(ToString::to_string).collect();
        println!("Route #{}: {}", k + 1, stops.join(" "));
    }
    println!("cost {}", problem.display_cost(solution.cost));
    Ok(())
}
