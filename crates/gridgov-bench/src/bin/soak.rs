//! The soak of `benches/soak.sh`: a bounded mixed load on a running gridgov server, from
//! several signed-in users at once, for a fixed time, with the server's memory sampled.
//!
//! ```text
//! soak --base URL --users NAME:PASSWORD[,NAME:PASSWORD…] --writer NAME --seconds S
//!      --bounds W,S,E,N --point LON,LAT --division CODE [--pid PID] [--workers N] [--seed S]
//! ```
//!
//! `--workers` tasks (default 8) share the users round robin and loop until the time is up,
//! each drawing (`ChaCha8`, `--seed`) one operation at a time: a composite vector tile at a zoom
//! from 8 to 16 over the bounds (50 %), a lookup of a point in the bounds (20 %), a page of
//! villages in a small box (20 %), or, for tasks of the `--writer` user, a write cycle at
//! `--point` in `--division`: create a household, patch it with its `ETag`, delete it
//! (10 %; readers draw a read instead). Every answer is checked: tiles and pages 200, lookups
//! 200 or 404 (a point of the box outside the county), writes 201/200/204; anything else, or
//! no answer, is an error. Memory: `VmRSS` of `--pid` after a 10 s warm-up, every minute, and
//! at the end.
//!
//! Figures go to stdout as `result name=value` lines, a table to stderr.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What one operation was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Tile,
    Lookup,
    Page,
    Create,
    Patch,
    Delete,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Tile => "tile /tiles/all",
            Op::Lookup => "lookup",
            Op::Page => "items page",
            Op::Create => "create",
            Op::Patch => "patch",
            Op::Delete => "delete",
        }
    }

    /// The name in `result` lines.
    fn key(self) -> &'static str {
        match self {
            Op::Tile => "tile",
            Op::Lookup => "lookup",
            Op::Page => "page",
            Op::Create => "create",
            Op::Patch => "patch",
            Op::Delete => "delete",
        }
    }
}

/// Latencies (microseconds) and errors per operation.
#[derive(Debug, Default)]
struct Tally {
    micros: BTreeMap<Op, Vec<u32>>,
    errors: BTreeMap<Op, u64>,
    first_errors: Vec<String>,
}

impl Tally {
    fn add(&mut self, op: Op, took: Duration, error: Option<String>) {
        self.micros
            .entry(op)
            .or_default()
            .push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
        if let Some(e) = error {
            *self.errors.entry(op).or_default() += 1;
            if self.first_errors.len() < 10 {
                self.first_errors.push(format!("{}: {e}", op.name()));
            }
        }
    }
}

struct Setup {
    base: String,
    bounds: [f64; 4],
    point: (f64, f64),
    division: String,
    until: Instant,
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut flags = BTreeMap::new();
    for pair in args.chunks(2) {
        let [name, value] = pair else {
            bail!("arguments come in pairs: --name value");
        };
        let name = name
            .strip_prefix("--")
            .with_context(|| format!("unexpected argument '{name}'"))?;
        flags.insert(name.to_owned(), value.clone());
    }
    let get = |n: &str| {
        flags
            .get(n)
            .cloned()
            .with_context(|| format!("--{n} is required"))
    };
    let numbers = |text: &str, what: &str| -> Result<Vec<f64>> {
        text.split(',')
            .map(|t| t.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .with_context(|| format!("--{what} '{text}'"))
    };
    let bounds: [f64; 4] = numbers(&get("bounds")?, "bounds")?
        .try_into()
        .map_err(|_| anyhow::anyhow!("--bounds takes W,S,E,N"))?;
    let [lon, lat] = numbers(&get("point")?, "point")?[..] else {
        bail!("--point takes LON,LAT");
    };
    let seconds: u64 = get("seconds")?.parse().context("--seconds")?;
    let workers: usize = flags.get("workers").map_or(Ok(8), |w| w.parse())?;
    let seed: u64 = flags.get("seed").map_or(Ok(42), |s| s.parse())?;
    let pid: Option<u32> = flags.get("pid").map(|p| p.parse()).transpose()?;
    let users: Vec<(String, String)> = get("users")?
        .split(',')
        .map(|u| {
            u.split_once(':')
                .map(|(n, p)| (n.to_owned(), p.to_owned()))
                .with_context(|| format!("--users: '{u}' is not NAME:PASSWORD"))
        })
        .collect::<Result<_>>()?;
    let writer = get("writer")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let base = get("base")?.trim_end_matches('/').to_owned();
        let mut clients = Vec::new();
        for (name, password) in &users {
            clients.push((name.clone(), sign_in(&base, name, password).await?));
        }
        let setup = Arc::new(Setup {
            base,
            bounds,
            point: (lon, lat),
            division: get("division")?,
            until: Instant::now() + Duration::from_secs(seconds),
        });
        let tally = Arc::new(Mutex::new(Tally::default()));
        let started = Instant::now();
        let memory = tokio::spawn(sample_memory(pid, setup.until));
        let mut tasks = Vec::new();
        for w in 0..workers.max(1) {
            let (name, client) = clients[w % clients.len()].clone();
            let writes = name == writer;
            let (setup, tally) = (setup.clone(), tally.clone());
            let rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(w as u64));
            tasks.push(tokio::spawn(work(client, writes, rng, setup, tally)));
        }
        for t in tasks {
            t.await?;
        }
        let elapsed = started.elapsed();
        let samples = memory.await?;
        let tally = tally
            .lock()
            .map_err(|_| anyhow::anyhow!("a worker panicked"))?;
        report(&tally, elapsed, &samples);
        Ok(())
    })
}

async fn sign_in(base: &str, name: &str, password: &str) -> Result<reqwest::Client> {
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": name, "password": password}))
        .send()
        .await?
        .json()
        .await?;
    let token = answer["token"]
        .as_str()
        .with_context(|| format!("{name} could not sign in: {answer}"))?;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse()?,
    );
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .build()?)
}

/// One worker's loop until the time is up.
async fn work(
    client: reqwest::Client,
    writes: bool,
    mut rng: ChaCha8Rng,
    setup: Arc<Setup>,
    tally: Arc<Mutex<Tally>>,
) {
    let [west, south, east, north] = setup.bounds;
    while Instant::now() < setup.until {
        let pick: u32 = rng.gen_range(0..100);
        let (lon, lat) = (rng.gen_range(west..east), rng.gen_range(south..north));
        let results: Vec<(Op, Duration, Option<String>)> = if pick < 50 {
            let z: u8 = rng.gen_range(8..=16);
            let (x, y) = tile_of(lon, lat, z);
            let url = format!("{}/tiles/all/{z}/{x}/{y}.mvt", setup.base);
            // Tiles gzipped, as browsers ask for them (the bytes are not decoded here).
            let request = client.get(url).header("accept-encoding", "gzip");
            vec![timed(Op::Tile, request, &[200]).await.0]
        } else if pick < 70 {
            let url = format!("{}/api/v1/lookup?lon={lon}&lat={lat}&crs=wgs84", setup.base);
            vec![timed(Op::Lookup, client.get(url), &[200, 404]).await.0]
        } else if pick < 90 || !writes {
            let half = 0.01;
            let url = format!(
                "{}/api/v1/layers/villages/items?bbox={},{},{},{}&limit=20",
                setup.base,
                lon - half,
                lat - half,
                lon + half,
                lat + half
            );
            vec![timed(Op::Page, client.get(url), &[200]).await.0]
        } else {
            write_cycle(&client, &setup, rng.gen()).await
        };
        let mut counts = tally
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (op, took, error) in results {
            counts.add(op, took, error);
        }
    }
}

/// Create, patch and delete one household; each step timed.
async fn write_cycle(
    client: &reqwest::Client,
    setup: &Setup,
    tag: u32,
) -> Vec<(Op, Duration, Option<String>)> {
    let items = format!("{}/api/v1/layers/households/items", setup.base);
    let body = serde_json::json!({"type": "Feature",
        "geometry": {"type": "Point", "coordinates": [setup.point.0, setup.point.1]},
        "properties": {"division_code": setup.division, "address": format!("soak-{tag}")}});
    let (created, response) = timed(
        Op::Create,
        client
            .post(&items)
            .header("content-type", "application/geo+json")
            .body(body.to_string()),
        &[201],
    )
    .await;
    let mut out = vec![created];
    let Some(response) = response else {
        return out;
    };
    let etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let id = response
        .json::<serde_json::Value>()
        .await
        .ok()
        .and_then(|f| f["id"].as_i64());
    let Some(id) = id else {
        return out;
    };
    let url = format!("{items}/{id}");
    let (patched, response) = timed(
        Op::Patch,
        client
            .patch(&url)
            .header("content-type", "application/merge-patch+json")
            .header("if-match", &etag)
            .body(r#"{"properties": {"size": 3}}"#),
        &[200],
    )
    .await;
    out.push(patched);
    let etag = response
        .as_ref()
        .and_then(|r| r.headers().get("etag"))
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let (deleted, _) = timed(
        Op::Delete,
        client.delete(&url).header("if-match", &etag),
        &[204],
    )
    .await;
    out.push(deleted);
    out
}

/// Sends a request, reads the whole answer (for all but a successful write, whose body the
/// caller reads) and says whether its status was one of `expected`.
async fn timed(
    op: Op,
    request: reqwest::RequestBuilder,
    expected: &[u16],
) -> ((Op, Duration, Option<String>), Option<reqwest::Response>) {
    let t0 = Instant::now();
    match request.send().await {
        Ok(r) if expected.contains(&r.status().as_u16()) => {
            if matches!(op, Op::Create | Op::Patch) {
                ((op, t0.elapsed(), None), Some(r))
            } else {
                let read = r.bytes().await;
                let error = read.err().map(|e| format!("reading the body: {e}"));
                ((op, t0.elapsed(), error), None)
            }
        }
        Ok(r) => {
            let status = r.status();
            let text = r.text().await.unwrap_or_default();
            let text: String = text.chars().take(200).collect();
            ((op, t0.elapsed(), Some(format!("{status}: {text}"))), None)
        }
        Err(e) => ((op, t0.elapsed(), Some(e.to_string())), None),
    }
}

/// The XYZ tile at zoom `z` holding a point.
fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let lat = lat.to_radians();
    let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "both lie in 0..2^z for a point of the map"
    )]
    (x as u32, y as u32)
}

/// `VmRSS` of `pid` in KiB, from /proc.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// (seconds since the start, RSS in KiB): after a 10 s warm-up, every minute, at the end.
async fn sample_memory(pid: Option<u32>, until: Instant) -> Vec<(u64, u64)> {
    let Some(pid) = pid else {
        return Vec::new();
    };
    let start = Instant::now();
    let mut samples = Vec::new();
    let mut next = start + Duration::from_secs(10);
    loop {
        let now = Instant::now();
        if now >= until {
            break;
        }
        if now >= next {
            if let Some(kib) = rss_kib(pid) {
                samples.push((now.duration_since(start).as_secs(), kib));
            }
            next += Duration::from_mins(1);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    if let Some(kib) = rss_kib(pid) {
        samples.push((start.elapsed().as_secs(), kib));
    }
    samples
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index into a list of at most millions"
    )]
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

fn report(tally: &Tally, elapsed: Duration, samples: &[(u64, u64)]) {
    let mut total = 0usize;
    let mut errors = 0u64;
    eprintln!("| operation | requests | errors | p50 ms | p99 ms |");
    eprintln!("|---|---:|---:|---:|---:|");
    for (op, micros) in &tally.micros {
        let mut sorted = micros.clone();
        sorted.sort_unstable();
        let e = tally.errors.get(op).copied().unwrap_or(0);
        total += sorted.len();
        errors += e;
        eprintln!(
            "| {} | {} | {e} | {:.1} | {:.1} |",
            op.name(),
            sorted.len(),
            percentile(&sorted, 0.5),
            percentile(&sorted, 0.99)
        );
        println!("result {}_p50_ms={:.1}", op.key(), percentile(&sorted, 0.5));
        println!(
            "result {}_p99_ms={:.1}",
            op.key(),
            percentile(&sorted, 0.99)
        );
    }
    #[expect(
        clippy::cast_precision_loss,
        reason = "counts of requests, far below 2^52"
    )]
    let rate = total as f64 / elapsed.as_secs_f64();
    #[expect(
        clippy::cast_precision_loss,
        reason = "counts of requests, far below 2^52"
    )]
    let error_rate = errors as f64 / total.max(1) as f64;
    println!("result requests={total}");
    println!("result errors={errors}");
    println!("result error_rate={error_rate:.6}");
    println!("result requests_per_second={rate:.0}");
    eprintln!(
        "soak: {total} requests in {:.0} s ({rate:.0}/s), {errors} errors",
        elapsed.as_secs_f64()
    );
    for e in &tally.first_errors {
        eprintln!("soak: error: {e}");
    }
    for (at, kib) in samples {
        eprintln!(
            "soak: server RSS at {at:>4} s: {:.1} MiB",
            *kib as f64 / 1024.0
        );
        println!("result rss_kib_at_{at}s={kib}");
    }
}
