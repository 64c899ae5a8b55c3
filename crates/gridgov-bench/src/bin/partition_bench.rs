//! Grid partitioning, gridgov's side of the partition bench (`benches/partition.sh`, which runs
//! `benches/partition_spopt.py` on the same units).
//!
//! ```text
//! partition_bench --dir DIR [--seed S] [--rounds R] [--tolerance T]
//! ```
//!
//! Generates the demo county (seed 42), and for every village the demo gives two grids or more
//! (as many grids as the demo's plan), and for township 520526107000 as a whole (grids from the
//! default 300–500 range, small villages merged whole, ±25 %), cuts the units, writes them as
//! `DIR/units/NAME.geojson` (the file `gridgov partition --units-out` writes, with gridgov's
//! grid of each unit), and times `gridgov_partition::partition` on them `R` times (default 5,
//! after one untimed run; one thread). Writes `DIR/instances.json` (the list the spopt runner
//! reads: name, units file, grids, tolerance) and `DIR/gridgov.json` (per instance: units,
//! grids, median seconds, the share of grids within the tolerance, mean compactness).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use gridgov_model::{DivisionCode, Layer};
use gridgov_partition::request::unit_options;
use gridgov_partition::{build_units, plan, Options, Request, Scope, Targets, Workload};
use serde_json::json;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    dir: PathBuf,
    seed: u64,
    rounds: usize,
    tolerance: f64,
}

fn args() -> Result<Args> {
    let mut a = Args {
        dir: PathBuf::new(),
        seed: 1,
        rounds: 5,
        tolerance: 0.1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--dir" => a.dir = PathBuf::from(value),
            "--seed" => a.seed = value.parse()?,
            "--rounds" => a.rounds = value.parse()?,
            "--tolerance" => a.tolerance = value.parse()?,
            _ => bail!("unknown flag {flag}"),
        }
    }
    if a.dir.as_os_str().is_empty() {
        bail!("--dir DIR is required");
    }
    Ok(a)
}

fn main() -> Result<()> {
    let a = args()?;
    std::fs::create_dir_all(a.dir.join("units"))?;
    let data = gridgov_demo::generate(42).dataset;
    // (name, area, grids, tolerance)
    let mut scopes: Vec<(String, Scope, Option<usize>, f64)> = Vec::new();
    let villages = data.layers.get(&Layer::Villages).context("no villages")?;
    let grids = data.layers.get(&Layer::Grids).context("no grids")?;
    for v in villages {
        let code: DivisionCode = v.text("code").context("village code")?.parse()?;
        let k = grids.iter().filter(|g| g.division == code).count();
        if k >= 2 {
            scopes.push((
                format!("village-{code}"),
                Scope::Village(code),
                Some(k),
                a.tolerance,
            ));
        }
    }
    // The township whose villages can be balanced: in the others a village of 300-350
    // households can neither make a grid within ±10 % of the township's mean nor take a whole
    // neighbour (gridgov refuses them, naming the village); this one takes ±25 %.
    let t: DivisionCode = "520526107000".parse()?;
    scopes.push((format!("township-{t}"), Scope::Township(t), None, 0.25));

    let mut instances = Vec::new();
    let mut results = Vec::new();
    for (name, scope, k, tolerance) in scopes {
        let request = Request {
            scope,
            targets: Targets {
                grids: k,
                tolerance,
                ..Targets::default()
            },
            options: Options {
                seed: a.seed,
                ..Options::default()
            },
            workload: Workload::default(),
            barriers: gridgov_partition::Barriers::default(),
        };
        let started = Instant::now();
        let units = build_units(&data, scope, &unit_options(&data, &request))?;
        let unit_seconds = started.elapsed().as_secs_f64();
        let solve = || {
            gridgov_partition::partition(
                &units.graph,
                &request.targets,
                &request.options,
                &mut |_| {},
            )
        };
        let solution = solve().map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        let mut times = Vec::new();
        for _ in 0..a.rounds {
            let started = Instant::now();
            let again = solve().map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            times.push(started.elapsed().as_secs_f64());
            if again != solution {
                bail!("{name}: the same seed gave another solution");
            }
        }
        times.sort_by(f64::total_cmp);
        let median = times.get(times.len() / 2).copied().unwrap_or(f64::NAN);
        let plan_grids = plan::grids(&units, &solution, &[]);
        let path = a.dir.join("units").join(format!("{name}.geojson"));
        std::fs::write(
            &path,
            serde_json::to_vec(&plan::units_geojson(&units, &plan_grids))?,
        )?;
        let n = solution.grids.len();
        let within = solution.within_tolerance();
        let compactness = solution.mean_compactness();
        eprintln!(
            "{name}: {} units, {n} grids, {within} within ±{:.0} %, compactness {compactness:.3}, {:.2} ms (units {:.0} ms)",
            units.graph.units.len(),
            tolerance * 100.0,
            median * 1e3,
            unit_seconds * 1e3
        );
        instances.push(json!({
            "name": name,
            "units": path.display().to_string(),
            "grids": n,
            "tolerance": tolerance,
        }));
        results.push(json!({
            "name": name,
            "units": units.graph.units.len(),
            "grids": n,
            "seconds": median,
            "unit_seconds": unit_seconds,
            "within": within as f64 / n as f64,
            "compactness": compactness,
            "balanced": solution.balanced,
        }));
    }
    std::fs::write(
        a.dir.join("instances.json"),
        serde_json::to_vec_pretty(&instances)?,
    )?;
    std::fs::write(
        a.dir.join("gridgov.json"),
        serde_json::to_vec_pretty(&results)?,
    )?;
    Ok(())
}
