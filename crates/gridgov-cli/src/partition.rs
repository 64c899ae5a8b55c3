//! `gridgov partition`: draws the grids of a village or township from a store and writes them
//! as GeoJSON (grid polygons with their statistics), and with `--units-out` the units they were
//! drawn on (households, grid, neighbours), so other tools can run on exactly the same input.
//!
//! With `--rebalance`, the grids of the plan in force are rebalanced with as few households
//! moved as possible, keeping their codes.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use gridgov_model::DivisionCode;
use gridgov_partition::request::{parse_barriers, parse_range, parse_seconds, parse_weights};
use gridgov_partition::{plan, Options, Request, Scope, Targets};

use crate::{open_existing, write_replacing};

/// Arguments of `gridgov partition`.
#[derive(Debug, Args)]
pub struct PartitionArgs {
    /// A GeoPackage path or postgres:// URL (default ./gridgov.gpkg).
    #[arg(long)]
    store: Option<String>,
    /// The village to partition (12-digit code).
    #[arg(
        long,
        conflicts_with = "township",
        required_unless_present = "township"
    )]
    village: Option<String>,
    /// The township to partition: its villages, the small ones merged whole.
    #[arg(long)]
    township: Option<String>,
    /// A fixed number of grids.
    #[arg(long, conflicts_with = "households")]
    grids: Option<usize>,
    /// Households (workload) per grid the number of grids is chosen for, LO-HI.
    #[arg(long, default_value = "300-500")]
    households: String,
    /// How far a grid may lie from the mean, as a share of it.
    #[arg(long, default_value_t = 0.1)]
    tolerance: f64,
    /// Lines no grid may cross: road classes and water kinds, comma-separated
    /// (e.g. `trunk,primary,river`).
    #[arg(long, default_value = "")]
    barriers: String,
    /// Workload weights, e.g. `households=1,rental_houses=0.5,supervised=2,disputes=1`.
    #[arg(long, default_value = "households=1")]
    weights: String,
    /// Seed of the search: the same data and seed give the same grids.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Upper bound on the search time in seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Rebalance the plan in force instead of drawing afresh (fewest households moved, codes
    /// kept).
    #[arg(long)]
    rebalance: bool,
    /// The GeoJSON file of grids to write.
    #[arg(long)]
    out: PathBuf,
    /// Also write the units (households, grid, neighbours) to this GeoJSON file.
    #[arg(long)]
    units_out: Option<PathBuf>,
}

impl PartitionArgs {
    fn request(&self) -> Result<Request> {
        let scope = match (&self.village, &self.township) {
            (Some(v), None) => Scope::Village(
                v.parse::<DivisionCode>()
                    .with_context(|| format!("--village {v}"))?,
            ),
            (None, Some(t)) => Scope::Township(
                t.parse::<DivisionCode>()
                    .with_context(|| format!("--township {t}"))?,
            ),
            _ => bail!("give --village CODE or --township CODE"),
        };
        if !(self.tolerance > 0.0 && self.tolerance < 1.0) {
            bail!(
                "--tolerance {}: give a share between 0 and 1, e.g. 0.1",
                self.tolerance
            );
        }
        if self.grids == Some(0) {
            bail!("--grids 0: at least one grid");
        }
        let range =
            parse_range(&self.households).map_err(|e| anyhow::anyhow!("--households: {e}"))?;
        Ok(Request {
            scope,
            targets: Targets {
                grids: self.grids,
                range,
                tolerance: self.tolerance,
            },
            options: Options {
                seed: self.seed,
                time_limit: parse_seconds(self.seconds)
                    .map_err(|e| anyhow::anyhow!("--seconds: {e}"))?,
            },
            workload: parse_weights(&self.weights)
                .map_err(|e| anyhow::anyhow!("--weights: {e}"))?,
            barriers: parse_barriers(&self.barriers)
                .map_err(|e| anyhow::anyhow!("--barriers: {e}"))?,
        })
    }
}

/// Runs `gridgov partition`.
pub async fn partition(a: PartitionArgs) -> Result<()> {
    let request = a.request()?;
    let store = open_existing(a.store.clone()).await?;
    let data = gridgov_server::partition::load(store.as_ref(), request.scope)
        .await
        .context("reading the area")?;
    let current = if a.rebalance {
        let grids = gridgov_server::partition::effective_grids(store.as_ref(), request.scope)
            .await
            .context("reading the plan in force")?;
        if grids.is_empty() {
            bail!(
                "{} has no grids in force to rebalance: run without --rebalance",
                request.scope.code()
            );
        }
        Some(grids)
    } else {
        None
    };
    let outcome = tokio::task::spawn_blocking(move || {
        let mut quiet = |_| {};
        match current {
            Some(grids) => gridgov_partition::rerun(&data, &request, &grids, &mut quiet),
            None => gridgov_partition::run(&data, &request, &mut quiet),
        }
    })
    .await?
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let plan_json = plan::plan_geojson(&outcome.grids);
    write_replacing(&a.out, serde_json::to_string(&plan_json)?.as_bytes())?;
    if let Some(path) = &a.units_out {
        let units_json = plan::units_geojson(&outcome.units, &outcome.grids);
        write_replacing(path, serde_json::to_string(&units_json)?.as_bytes())?;
    }
    let s = &outcome.solution;
    let within = s.within_tolerance();
    let compactness = s.mean_compactness();
    eprintln!(
        "gridgov: {} grids from {} units, {within} within ±{:.0} % of {:.0}, mean compactness {compactness:.3}, {} households moved; units {:.2} s, search {:.2} s{}",
        s.grids.len(),
        outcome.units.graph.units.len(),
        s.tolerance * 100.0,
        s.mean,
        s.moved_households,
        outcome.unit_seconds,
        outcome.solve_seconds,
        if s.time_limited { " (time limit reached)" } else { "" },
    );
    if outcome.units.outside > 0 {
        eprintln!(
            "gridgov: {} households of the area lie outside its village polygons and were not counted",
            outcome.units.outside
        );
    }
    if !s.balanced {
        eprintln!("gridgov: warning: not every grid is within the tolerance");
    }
    Ok(())
}
