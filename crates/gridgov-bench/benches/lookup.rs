//! Point-to-grid lookups per second on the demo county: gridgov's in-memory
//! `CountyIndex::grid_at`, and PostGIS `ST_Contains` one query per point. Run side by side
//! with shapely by `bash benches/lookup.sh`, which pins this binary to one core.
//!
//! ```text
//! lookup gridgov --dir DIR [--points N] [--rounds R] [--seed S] [--csv-points K] [--wrk-points W]
//!     times grid_at over N seeded points (best of R rounds, one thread) and writes the
//!     exchange files (see gridgov_bench::exchange) into DIR for shapely and the server
//!     benchmarks: the grids, the points, gridgov's answers, K points as CSV, W in a wrk script.
//! lookup load --url URL
//!     writes the demo county (seed 42) into the PostGIS database at URL through the validated
//!     write path (the database is migrated first when empty).
//! lookup postgis --url URL [--points M] [--rounds R] [--seed S]
//!     times one prepared query per point on one connection, sequentially, for the first M
//!     of the same points, against a database holding the demo county; checks every answer
//!     against grid_at.
//! ```
//!
//! Each figure is printed for people and once more as a `result name=value` line for the
//! script. `cargo bench -p gridgov-bench` alone runs the in-process part into a temporary
//! folder.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use geo::Coord;
use gridgov_bench::{
    county_bbox, demo_layers, effective_grids, exchange, random_points, sql, write_county,
    DEMO_SEED,
};
use gridgov_index::CountyIndex;
use gridgov_store::postgis::PgStore;
use sqlx::{Connection, PgConnection};

/// The options of both modes.
#[derive(Debug)]
struct Options {
    mode: String,
    dir: Option<PathBuf>,
    url: Option<String>,
    points: Option<usize>,
    rounds: usize,
    seed: u64,
    csv_points: usize,
    wrk_points: usize,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options> {
    let mut o = Options {
        mode: String::new(),
        dir: None,
        url: None,
        points: None,
        rounds: 7,
        seed: DEMO_SEED,
        csv_points: 100_000,
        wrk_points: 10_000,
    };
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().with_context(|| format!("{name} needs a value"));
        match a.as_str() {
            // `cargo bench` passes it to every bench binary.
            "--bench" => {}
            "--dir" => o.dir = Some(value("--dir")?.into()),
            "--url" => o.url = Some(value("--url")?),
            "--points" => o.points = Some(value("--points")?.parse().context("--points")?),
            "--rounds" => o.rounds = value("--rounds")?.parse().context("--rounds")?,
            "--seed" => o.seed = value("--seed")?.parse().context("--seed")?,
            "--csv-points" => {
                o.csv_points = value("--csv-points")?.parse().context("--csv-points")?;
            }
            "--wrk-points" => {
                o.wrk_points = value("--wrk-points")?.parse().context("--wrk-points")?;
            }
            m if !m.starts_with('-') && o.mode.is_empty() => m.clone_into(&mut o.mode),
            other => bail!("unknown argument {other}; see the top of benches/lookup.rs"),
        }
    }
    if o.rounds == 0 {
        bail!("--rounds must be at least 1");
    }
    Ok(o)
}

/// The best and the median of a few timings.
fn best_and_median(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    (times[0], times[times.len() / 2])
}

fn per_second(n: usize, t: Duration) -> f64 {
    n as f64 / t.as_secs_f64()
}

/// The demo county indexed in memory, and `n` seeded points over its bounding box.
fn county(seed: u64, n: usize) -> Result<(gridgov_bench::Layers, CountyIndex, Vec<Coord<f64>>)> {
    let layers = demo_layers(DEMO_SEED);
    let bbox = county_bbox(&layers).context("the demo has no county polygon")?;
    let points = random_points(bbox, n, seed);
    let started = Instant::now();
    let index = CountyIndex::new(layers.clone());
    eprintln!(
        "indexed the demo county (seed {DEMO_SEED}) in {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    Ok((layers, index, points))
}

fn answers(index: &CountyIndex, points: &[Coord<f64>]) -> Vec<Option<i64>> {
    points
        .iter()
        .map(|p| index.grid_at(*p).and_then(|g| g.id).map(|id| id.0))
        .collect()
}

/// `gridgov` mode: time `grid_at` and write the exchange files.
fn in_process(o: &Options, dir: &Path) -> Result<()> {
    let n = o.points.unwrap_or(1_000_000);
    let (layers, index, points) = county(o.seed, n.max(o.csv_points).max(o.wrk_points))?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let grids = effective_grids(&layers);
    let written = exchange::write_hex_wkb(&dir.join("grids.hexwkb"), &grids)?;
    let vertices: usize = grids
        .iter()
        .filter_map(|g| g.geometry.as_ref())
        .map(geo::CoordsIter::coords_count)
        .sum();
    eprintln!(
        "{written} grids of the plan in force ({vertices} vertices, {:.0} a grid)",
        vertices as f64 / written.max(1) as f64
    );
    exchange::write_csv(&dir.join("points.csv"), &points[..o.csv_points])?;
    exchange::write_wrk_script(
        &dir.join("points.lua"),
        "/api/v1/lookup",
        &points[..o.wrk_points],
    )?;
    let points = &points[..n];
    exchange::write_points(&dir.join("points.f64"), points)?;

    // The first pass warms the caches and gives the answers shapely is checked against.
    let found = answers(&index, points);
    exchange::write_ids(&dir.join("gridgov.i64"), &found)?;
    let hits = found.iter().flatten().count();
    let csv_hits = found.iter().take(o.csv_points).flatten().count();
    let mut times = Vec::with_capacity(o.rounds);
    for _ in 0..o.rounds {
        let started = Instant::now();
        let mut sum = 0_i64;
        for p in points {
            if let Some(g) = index.grid_at(black_box(*p)) {
                sum = sum.wrapping_add(g.id.map_or(0, |id| id.0));
            }
        }
        times.push(started.elapsed());
        black_box(sum);
    }
    let (best, median) = best_and_median(times);
    eprintln!(
        "gridgov grid_at: {n} points ({hits} in a grid), best of {} rounds {:.1} ms: \
         {:.0} points/s (median {:.0}), {:.0} ns a point",
        o.rounds,
        best.as_secs_f64() * 1e3,
        per_second(n, best),
        per_second(n, median),
        best.as_secs_f64() * 1e9 / n as f64
    );
    println!("result gridgov_points={n}");
    println!("result gridgov_hits={hits}");
    println!("result csv_hits={csv_hits}");
    println!("result gridgov_grids={written}");
    println!("result gridgov_vertices={vertices}");
    // A point inside a grid, for the script to ask the server whether it answers yet.
    if let Some(i) = found.iter().position(Option::is_some) {
        println!("result probe_lon={}", points[i].x);
        println!("result probe_lat={}", points[i].y);
    }
    println!("result gridgov_points_per_s={:.0}", per_second(n, best));
    println!(
        "result gridgov_median_points_per_s={:.0}",
        per_second(n, median)
    );
    Ok(())
}

/// `postgis` mode: one prepared `ST_Contains` query per point, sequentially on one
/// connection.
async fn postgis(o: &Options, url: &str) -> Result<()> {
    let n = o.points.unwrap_or(20_000);
    let (layers, index, points) = county(o.seed, n)?;
    let mut conn = PgConnection::connect(url)
        .await
        .context("connecting to PostGIS")?;
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM grids")
        .fetch_one(&mut conn)
        .await
        .context("counting the stored grids (is the demo county loaded?)")?;
    let grids = layers.get(&gridgov_model::Layer::Grids).map_or(0, Vec::len);
    if usize::try_from(stored).ok() != Some(grids) {
        bail!("the database holds {stored} grids, the demo county {grids}: load the demo (seed {DEMO_SEED}) first");
    }

    let want = answers(&index, &points);
    let mut got = vec![None; n];
    // A warm-up pass (plans the statement, reads the pages), then the timed rounds.
    let mut times = Vec::with_capacity(o.rounds);
    for round in 0..=o.rounds {
        let started = Instant::now();
        for (p, out) in points.iter().zip(got.iter_mut()) {
            *out = sqlx::query_scalar::<_, i64>(sql::GRID_AT)
                .bind(p.x)
                .bind(p.y)
                .fetch_optional(&mut conn)
                .await?;
        }
        if round > 0 {
            times.push(started.elapsed());
        }
    }
    conn.close().await?;
    let mismatches: Vec<usize> = (0..n).filter(|&i| got[i] != want[i]).collect();
    for &i in mismatches.iter().take(10) {
        eprintln!(
            "mismatch at point #{i} {:?}: PostGIS {:?}, gridgov {:?}",
            points[i], got[i], want[i]
        );
    }
    let (best, median) = best_and_median(times);
    eprintln!(
        "PostGIS ST_Contains, one query a point: {n} points, best of {} rounds {:.0} ms: \
         {:.0} points/s (median {:.0}); {} answers differ from gridgov's",
        o.rounds,
        best.as_secs_f64() * 1e3,
        per_second(n, best),
        per_second(n, median),
        mismatches.len()
    );
    println!("result postgis_points={n}");
    println!("result postgis_points_per_s={:.0}", per_second(n, best));
    println!(
        "result postgis_median_points_per_s={:.0}",
        per_second(n, median)
    );
    println!("result postgis_mismatches={}", mismatches.len());
    Ok(())
}

/// `load` mode: the demo county into a PostGIS database (migrated first when empty), through
/// the validated write path.
async fn load(url: &str) -> Result<()> {
    let started = Instant::now();
    let store = PgStore::connect_migrated(url)
        .await
        .context("connecting to PostGIS")?;
    let layers = demo_layers(DEMO_SEED);
    let written = write_county(&store, &layers)
        .await
        .context("writing the demo county")?;
    eprintln!(
        "wrote the demo county (seed {DEMO_SEED}, {} features) in {:.1} s",
        written.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn run() -> Result<()> {
    let o = parse(std::env::args().skip(1))?;
    match o.mode.as_str() {
        "gridgov" => match &o.dir {
            Some(dir) => in_process(&o, dir),
            None => bail!("gridgov mode needs --dir"),
        },
        // `cargo bench` with no arguments: the in-process figure alone.
        "" => {
            let dir = tempfile::tempdir()?;
            in_process(&o, dir.path())
        }
        "postgis" | "load" => {
            let url = o.url.clone().context("postgis and load need --url")?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            if o.mode == "load" {
                runtime.block_on(load(&url))
            } else {
                runtime.block_on(postgis(&o, &url))
            }
        }
        other => bail!("unknown mode {other}: gridgov, load or postgis"),
    }
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lookup bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
