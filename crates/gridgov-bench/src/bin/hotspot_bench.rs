//! Getis-Ord Gi* with 999 permutations, gridgov's side of the hotspot bench
//! (`benches/hotspot.sh`, which runs `benches/hotspot_esda.py` on the same files).
//!
//! ```text
//! hotspot_bench run --n N --dir DIR [--seed S] [--rounds R] [--permutations P]
//!                   [--resolution 9]
//! hotspot_bench compare --dir DIR
//! ```
//!
//! `run` builds seeded test data: the `N` H3 cells nearest to a point in Chengdu (a grid
//! disk trimmed to exactly `N` cells: contiguous, sorted by cell index as
//! `gridgov_hotspot::study_area` sorts them), dispute-like counts per cell (a Poisson
//! background plus a few clusters, all from `ChaCha8` seeded with `S`, default 42) and
//! binary k-ring (`k = 1`) weights. It writes into DIR
//!
//! - `cells.txt`: the H3 cells, one a line (index `i` of everything below is line `i`);
//! - `values.txt`: the counts, one a line;
//! - `weights.gal`: the binary weights as a GAL file with ids `0..N` (read back here and
//!   checked equal to the weights timed, so both sides use the same weights);
//! - `gridgov_z.txt`, `gridgov_p_norm.txt`, `gridgov_p_sim.txt`: gridgov's results, one a
//!   line, written with Rust's shortest round-trip form of each `f64`.
//!
//! and times `gridgov_hotspot::local_g` (row-standardised Gi*, `P` permutations, default
//! 999, seed `S`: the same call a caller makes, weights preparation included) `R` times
//! (default 7) after one untimed run. `local_g` runs on the calling thread.
//!
//! `compare` reads gridgov's results and esda's (`esda_z.txt`, `esda_p_norm.txt`,
//! `esda_p_sim.txt` and `esda_p_sim_ties.txt`, written by `hotspot_esda.py`) and prints
//! how far they differ.
//!
//! Both modes print figures for people on stderr and `result name=value` lines on stdout.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use gridgov_hotspot::getis_ord::{local_g, LocalGOptions};
use gridgov_hotspot::weights::{SpatialWeights, Transform};
use h3o::{CellIndex, LatLng, Resolution};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The allocator `gridgov` itself runs with (crates/gridgov-cli/src/main.rs), so the figures
/// are the product's: the statistics allocate a few vectors of `N` values a call, which the
/// system allocator hands back to the kernel and faults in again on every call.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The centre of the study area: Chengdu, Sichuan.
const CENTRE: (f64, f64) = (30.66, 104.06);

/// Mean count of a cell outside every cluster.
const BACKGROUND: f64 = 0.3;

/// Number of clusters of disputes.
const CLUSTERS: usize = 8;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    let flags = Flags::parse(args)?;
    match mode.as_str() {
        "run" => run(&flags),
        "compare" => compare(&flags),
        other => bail!(
            "unknown mode '{other}': run or compare (see the top of src/bin/hotspot_bench.rs)"
        ),
    }
}

/// `--name value` pairs.
struct Flags(HashMap<String, String>);

impl Flags {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self> {
        let mut map = HashMap::new();
        while let Some(a) = args.next() {
            let Some(name) = a.strip_prefix("--") else {
                bail!("unexpected argument '{a}'");
            };
            let value = args
                .next()
                .with_context(|| format!("--{name} needs a value"))?;
            map.insert(name.to_owned(), value);
        }
        Ok(Self(map))
    }

    fn dir(&self) -> Result<PathBuf> {
        self.0
            .get("dir")
            .map(PathBuf::from)
            .context("--dir is required")
    }

    fn num<T: std::str::FromStr>(&self, name: &str, default: Option<T>) -> Result<T>
    where
        T::Err: std::error::Error + Send + Sync + 'static,
    {
        match (self.0.get(name), default) {
            (Some(v), _) => v.parse().with_context(|| format!("--{name} {v}")),
            (None, Some(d)) => Ok(d),
            (None, None) => bail!("--{name} is required"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The data

/// The `n` cells of resolution `res` nearest (in grid distance) to [`CENTRE`], ties broken
/// by cell index, then sorted by cell index.
fn study_cells(n: usize, res: Resolution) -> Result<Vec<CellIndex>> {
    ensure!(n >= 3, "--n must be at least 3");
    let centre = LatLng::new(CENTRE.0, CENTRE.1)
        .context("the centre is not a valid latitude/longitude")?
        .to_cell(res);
    // A disk of radius k holds 3k(k+1)+1 cells.
    let mut k = 0_u32;
    while 3 * u64::from(k) * (u64::from(k) + 1) + 1 < n as u64 {
        k += 1;
    }
    let mut disk: Vec<(CellIndex, u32)> = centre.grid_disk_distances(k);
    ensure!(
        disk.len() >= n,
        "the disk of radius {k} has only {} cells (a pentagon nearby?)",
        disk.len()
    );
    disk.sort_unstable_by_key(|&(cell, d)| (d, cell));
    let mut cells: Vec<CellIndex> = disk[..n].iter().map(|&(cell, _)| cell).collect();
    cells.sort_unstable();
    Ok(cells)
}

/// A Poisson variate of mean `lambda` (Knuth's method; the means here are small).
fn poisson(rng: &mut ChaCha8Rng, lambda: f64) -> u32 {
    let limit = (-lambda).exp();
    let mut p: f64 = rng.gen();
    let mut k = 0;
    while p > limit {
        k += 1;
        p *= rng.gen::<f64>();
    }
    k
}

/// Dispute-like counts for `cells`: a Poisson background of mean [`BACKGROUND`], plus
/// [`CLUSTERS`] clusters whose mean falls off with grid distance from their centre cell.
fn dispute_counts(cells: &[CellIndex], seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Cluster radius in cells: a few percent of the study area's radius.
    let area_radius = ((cells.len() as f64) / 3.0).sqrt();
    let mut extra: HashMap<CellIndex, f64> = HashMap::new();
    for _ in 0..CLUSTERS {
        let centre = cells[rng.gen_range(0..cells.len())];
        let radius = area_radius * rng.gen_range(0.02..0.06) + 1.0;
        let peak = rng.gen_range(2.0..8.0);
        let reach = (3.0 * radius).ceil() as u32;
        let disk: Vec<(CellIndex, u32)> = centre.grid_disk_distances(reach);
        for (cell, d) in disk {
            let r = f64::from(d) / radius;
            *extra.entry(cell).or_default() += peak * (-r * r).exp();
        }
    }
    cells
        .iter()
        .map(|cell| {
            let mean = BACKGROUND + extra.get(cell).copied().unwrap_or(0.0);
            f64::from(poisson(&mut rng, mean))
        })
        .collect()
}

/// The text of a GAL file of `w` with ids `0..n`.
fn gal_text(w: &SpatialWeights) -> String {
    let mut out = String::with_capacity(w.len() * 48);
    let _ = writeln!(out, "{}", w.len());
    for i in 0..w.len() {
        let _ = writeln!(out, "{i} {}", w.cardinality(i));
        let line: Vec<String> = w.neighbours(i).iter().map(u32::to_string).collect();
        let _ = writeln!(out, "{}", line.join(" "));
    }
    out
}

fn write_lines<T: std::fmt::Display>(path: &Path, values: impl Iterator<Item = T>) -> Result<()> {
    let mut out = String::new();
    for v in values {
        let _ = writeln!(out, "{v}");
    }
    std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))
}

fn read_floats(path: &Path) -> Result<Vec<f64>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            // Python writes NaN as `nan`; Rust's parser takes `NaN` and `nan` alike.
            l.trim()
                .parse::<f64>()
                .with_context(|| format!("{} line {}: {l:?}", path.display(), i + 1))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// run

fn run(flags: &Flags) -> Result<()> {
    let n: usize = flags.num("n", None)?;
    let dir = flags.dir()?;
    let seed: u64 = flags.num("seed", Some(42))?;
    let rounds: usize = flags.num("rounds", Some(7))?;
    let permutations: usize = flags.num("permutations", Some(999))?;
    let res: u8 = flags.num("resolution", Some(9))?;
    let res = Resolution::try_from(res).context("--resolution: 0..=15")?;
    ensure!(rounds >= 1, "--rounds must be at least 1");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;

    let started = Instant::now();
    let cells = study_cells(n, res)?;
    let y = dispute_counts(&cells, seed);
    let w = SpatialWeights::from_h3_k_ring(&cells, 1).context("k-ring weights")?;
    let made = started.elapsed().as_secs_f64();

    write_lines(&dir.join("cells.txt"), cells.iter())?;
    write_lines(&dir.join("values.txt"), y.iter())?;
    let gal = gal_text(&w);
    std::fs::write(dir.join("weights.gal"), &gal).context("writing weights.gal")?;
    let back = SpatialWeights::from_gal(&gal).context("reading weights.gal back")?;
    ensure!(
        back.weights == w,
        "weights.gal does not read back as the weights timed"
    );

    let cards: Vec<usize> = (0..n).map(|i| w.cardinality(i)).collect();
    let edge = cards.iter().filter(|&&c| c < 6).count();
    let total: f64 = y.iter().sum();
    let zeros = y.iter().filter(|&&v| v == 0.0).count();
    let max = y.iter().copied().fold(0.0, f64::max);
    eprintln!(
        "hotspot_bench: {n} cells of resolution {res} around {CENTRE:?} ({edge} at the edge with fewer than 6 neighbours), \
         {total} disputes (max {max} a cell, {zeros} cells with none); made in {made:.2} s"
    );

    let options = LocalGOptions {
        transform: Transform::Row,
        star: true,
        permutations,
        seed,
    };
    // One untimed run (page faults, caches), then the rounds.
    let mut result = local_g(&y, &w, &options).context("local_g")?;
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        let again = local_g(&y, &w, &options).context("local_g")?;
        times.push(started.elapsed().as_secs_f64());
        ensure!(
            bits(&again.z) == bits(&result.z)
                && bits(again.p_sim.as_deref().unwrap_or_default())
                    == bits(result.p_sim.as_deref().unwrap_or_default()),
            "local_g gave different results for the same seed"
        );
        result = again;
    }
    times.sort_by(f64::total_cmp);
    let best = times[0];
    let median = times[times.len() / 2];
    let p_sim = result.p_sim.clone().unwrap_or_default();
    let hot = result.z.iter().filter(|&&z| z > 1.96).count();
    let significant = p_sim.iter().filter(|&&p| p < 0.05).count();
    eprintln!(
        "hotspot_bench: gridgov local_g (Gi*, row-standardised, {permutations} permutations, seed {seed}): \
         median {median:.4} s, best {best:.4} s of {rounds}; {hot} cells with z > 1.96, {significant} with p_sim < 0.05"
    );

    write_lines(&dir.join("gridgov_z.txt"), result.z.iter())?;
    write_lines(&dir.join("gridgov_p_norm.txt"), result.p_norm.iter())?;
    write_lines(&dir.join("gridgov_p_sim.txt"), p_sim.iter())?;

    println!("result n={n}");
    println!("result resolution={res}");
    println!("result disputes={total}");
    println!("result edge_cells={edge}");
    println!("result gridgov_median_s={median:.6}");
    println!("result gridgov_best_s={best:.6}");
    println!("result gridgov_hot={hot}");
    Ok(())
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

// ---------------------------------------------------------------------------------------
// compare

fn compare(flags: &Flags) -> Result<()> {
    let dir = flags.dir()?;
    let read = |name: &str| read_floats(&dir.join(name));
    let (gz, ez) = (read("gridgov_z.txt")?, read("esda_z.txt")?);
    let (gp, ep) = (read("gridgov_p_norm.txt")?, read("esda_p_norm.txt")?);
    let (gs, es) = (read("gridgov_p_sim.txt")?, read("esda_p_sim.txt")?);
    let n = gz.len();
    for (name, v) in [
        ("esda z", &ez),
        ("gridgov p_norm", &gp),
        ("esda p_norm", &ep),
    ] {
        ensure!(v.len() == n, "{name}: {} values for {n} cells", v.len());
    }
    ensure!(
        gs.len() == n && es.len() == n,
        "p_sim: {} and {} values for {n} cells",
        gs.len(),
        es.len()
    );
    let max_diff = |a: &[f64], b: &[f64]| -> Result<f64> {
        let mut worst = 0.0_f64;
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            ensure!(
                x.is_nan() == y.is_nan(),
                "cell {i}: {x} against {y} (NaN on one side only)"
            );
            if !x.is_nan() {
                worst = worst.max((x - y).abs());
            }
        }
        Ok(worst)
    };
    let dz = max_diff(&gz, &ez)?;
    let dp = max_diff(&gp, &ep)?;
    let max_z = gz.iter().copied().map(f64::abs).fold(0.0, f64::max);
    // The pseudo p-values come from different random draws (ChaCha8 against numba's
    // Mersenne Twister), so they agree only within Monte-Carlo error, and esda's rounding
    // decides some ties (see hotspot_esda.py): `esda_p_sim_ties.txt` is esda's draws with
    // the ties counted exactly, which separates the two.
    let et = read("esda_p_sim_ties.txt")?;
    ensure!(
        et.len() == n,
        "esda ties: {} values for {n} cells",
        et.len()
    );
    let mean_abs =
        |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / n as f64;
    let max_abs = |a: &[f64], b: &[f64]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    };
    let (mean_ds, max_ds) = (mean_abs(&gs, &es), max_abs(&gs, &es));
    let (mean_dt, max_dt) = (mean_abs(&gs, &et), max_abs(&gs, &et));
    // Two estimates of one p from 999 draws each: beyond 4 standard deviations of their
    // difference (plus a draw's worth) is not Monte-Carlo error.
    let beyond = gs
        .iter()
        .zip(&et)
        .filter(|(a, b)| {
            let p = (*a + *b) / 2.0;
            (*a - *b).abs() > 4.0 * (2.0 * p * (1.0 - p) / 999.0).sqrt() + 0.001
        })
        .count();
    let esda_rounded = es
        .iter()
        .zip(&et)
        .filter(|(a, b)| (*a - *b).abs() > 1e-6)
        .count();
    let esda_rounded_max = max_abs(&es, &et);
    let sig = |v: &[f64]| v.iter().map(|&p| p < 0.05).collect::<Vec<_>>();
    let (sg, se) = (sig(&gs), sig(&es));
    let both = sg.iter().zip(&se).filter(|(a, b)| **a && **b).count();
    let either = sg.iter().zip(&se).filter(|(a, b)| **a || **b).count();
    eprintln!(
        "hotspot_bench: {n} cells: max |z gridgov - z esda| = {dz:.3e} (largest |z| {max_z:.2}), \
         max |p_norm difference| = {dp:.3e}; p_sim: against esda mean |difference| {mean_ds:.4}, max {max_ds:.4}, \
         p_sim < 0.05 in both {both} of {either} cells significant in either; against esda's draws with exact ties \
         mean {mean_dt:.4}, max {max_dt:.4}, {beyond} cells beyond Monte-Carlo error; esda's own p_sim departs from \
         its draws with exact ties on {esda_rounded} cells (by up to {esda_rounded_max:.4})"
    );
    println!("result max_dz={dz:.3e}");
    println!("result max_dp_norm={dp:.3e}");
    println!("result max_abs_z={max_z:.2}");
    println!("result mean_dp_sim={mean_ds:.4}");
    println!("result max_dp_sim={max_ds:.4}");
    println!("result sig_both={both}");
    println!("result sig_either={either}");
    println!("result mean_dp_sim_ties={mean_dt:.4}");
    println!("result max_dp_sim_ties={max_dt:.4}");
    println!("result beyond_mc={beyond}");
    println!("result esda_rounded_ties={esda_rounded}");
    println!("result esda_rounded_ties_max={esda_rounded_max:.4}");
    Ok(())
}
