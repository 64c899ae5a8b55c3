//! Helpers of the vector tile bench (`benches/tiles.sh`): the seeded tile address list, the
//! Martin configuration that serves the same layers as gridgov's tile schema, fetching every
//! tile of a list (to warm a cache and measure response sizes), and the comparison of two
//! servers' tiles, address by address, so that neither wins by dropping data.
//!
//! ```text
//! tile_bench addresses --bounds W,S,E,N --dir DIR [--count N] [--seed S]
//!     N tile addresses (default 2,000): a zoom drawn uniformly from 8 to 16 and a point
//!     drawn uniformly from the bounds (ChaCha8, seed S, default 42), the tile holding it.
//!     Writes into DIR: addresses.txt (`z/x/y`), layer_addresses.txt (`layer z/x/y`: each
//!     address with one layer drawn at that zoom, mostly the dense ones) and the request
//!     paths of both servers, one a line: gridgov_all.paths (`/tiles/all/z/x/y.mvt`),
//!     martin_all.paths (`/counties,townships,…/z/x/y`: every tiled layer, in the same order),
//!     gridgov_layers.paths (`/tiles/{layer}/z/x/y.mvt`), martin_layers.paths (`/{layer}/z/x/y`).
//! tile_bench martin-config --url URL --out FILE [--listen ADDR] [--pool-size N] [--workers N]
//!     a Martin 1.x YAML configuration publishing exactly gridgov's tiled layers from the
//!     PostGIS database at URL: per layer the table, its geometry type, gridgov's tile
//!     attributes (with `division_code`) as properties, the id column as MVT feature id,
//!     gridgov's minimum zoom, extent 4096, buffer 64, clipping on; Martin's tile cache off.
//! tile_bench fetch --base URL --paths FILE [--token T] [--encoding gzip|identity]
//!                  [--concurrency C]
//!     requests every path once; prints the count, statuses and mean body size on the wire.
//! tile_bench compare --a NAME=URL --a-paths FILE --b NAME=URL --b-paths FILE
//!                    [--a-token T] [--b-token T] [--label L] [--encoding gzip|identity]
//!                    [--report FILE] [--concurrency C]
//!     requests line i of both path files from both servers (the same tile), decodes both
//!     (gunzipped when sent gzipped) and compares: bytes on the wire and uncompressed, features
//!     and vertices per layer, feature ids found on one side only, attribute names, attribute
//!     values of the features both hold. Every tile whose feature counts differ in a layer is
//!     listed in the report.
//! ```
//!
//! A token (`--token`, `--a-token`, `--b-token`: a gridgov session, from
//! `POST /api/v1/auth/login`) is sent as `Authorization: Bearer T` to that server only; Martin
//! takes none. A 401 stops the run: a bench of refusals would measure nothing.
//!
//! Figures go to stdout as `result name=value` lines for the script, explanations to stderr.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use futures::stream::{self, StreamExt as _, TryStreamExt as _};
use geo::{coord, Rect};
use gridgov_model::{FieldType, Layer};
use gridgov_tiles::schema::{LayerSchema, DIVISION_ATTRIBUTE, SCHEMAS};
use gridgov_tiles::{
    decode, tiles_covering, AttrValue, DecodedKind, DecodedTile, TileId, BUFFER, EXTENT, MAX_ZOOM,
};
use rand::seq::SliceRandom as _;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The zooms of the address list.
const ZOOMS: std::ops::RangeInclusive<u8> = 8..=16;

/// The layers a per-layer request mostly asks for: the dense ones (the most features and
/// vertices a tile). At a zoom where none is drawn, any layer drawn there is taken.
const DENSE: &[Layer] = &[
    Layer::Households,
    Layer::Roads,
    Layer::Grids,
    Layer::Villages,
    Layer::CollectionPoints,
    Layer::LandUse,
];

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    let flags = Flags::parse(args)?;
    match mode.as_str() {
        "addresses" => addresses(&flags),
        "martin-config" => martin_config(&flags),
        "fetch" => runtime()?.block_on(fetch_all(&flags)),
        "compare" => runtime()?.block_on(compare(&flags)),
        other => bail!(
            "unknown mode '{other}': addresses, martin-config, fetch or compare (see the top of src/bin/tile_bench.rs)"
        ),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")
}

/// `--name value` pairs.
struct Flags(BTreeMap<String, String>);

impl Flags {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self> {
        let mut map = BTreeMap::new();
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

    fn opt(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn req(&self, name: &str) -> Result<&str> {
        self.opt(name)
            .with_context(|| format!("--{name} is required"))
    }

    fn num<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T>
    where
        T::Err: std::error::Error + Send + Sync + 'static,
    {
        self.opt(name).map_or(Ok(default), |v| {
            v.parse().with_context(|| format!("--{name} {v}"))
        })
    }

    fn gzip(&self) -> Result<bool> {
        match self.opt("encoding").unwrap_or("gzip") {
            "gzip" => Ok(true),
            "identity" => Ok(false),
            other => bail!("--encoding {other}: gzip or identity"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// addresses

/// `W,S,E,N` in degrees.
fn parse_bounds(text: &str) -> Result<Rect<f64>> {
    let numbers: Vec<f64> = text
        .split(',')
        .map(|t| t.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("--bounds '{text}': four numbers W,S,E,N"))?;
    let [west, south, east, north] = numbers[..] else {
        bail!("--bounds '{text}': four numbers W,S,E,N");
    };
    let lon = -180.0..=180.0;
    if !(west < east && south < north && lon.contains(&west) && lon.contains(&east)) {
        bail!("--bounds '{text}' is not a rectangle in degrees");
    }
    Ok(Rect::new(
        coord! { x: west, y: south },
        coord! { x: east, y: north },
    ))
}

/// `count` seeded addresses over `bounds`, each with the layer a per-layer request asks for.
fn draw_addresses(bounds: Rect<f64>, count: usize, seed: u64) -> Result<Vec<(TileId, Layer)>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (min, max) = (bounds.min(), bounds.max());
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let z = rng.gen_range(ZOOMS);
        let p = coord! { x: rng.gen_range(min.x..max.x), y: rng.gen_range(min.y..max.y) };
        let tile = tiles_covering(Rect::new(p, p), z)
            .next()
            .context("no tile holds a point of the bounds")?;
        let dense: Vec<Layer> = DENSE
            .iter()
            .copied()
            .filter(|l| gridgov_tiles::schema(*l).is_some_and(|s| s.drawn_at(z)))
            .collect();
        let any: Vec<Layer> = SCHEMAS
            .iter()
            .filter(|s| s.drawn_at(z))
            .map(|s| s.layer)
            .collect();
        let layer = *dense
            .choose(&mut rng)
            .or_else(|| any.choose(&mut rng))
            .context("no layer is drawn at this zoom")?;
        out.push((tile, layer));
    }
    Ok(out)
}

/// Martin's source list for a composite tile: every tiled layer, in gridgov's order.
fn martin_all_sources() -> String {
    SCHEMAS
        .iter()
        .map(|s| s.layer.name())
        .collect::<Vec<_>>()
        .join(",")
}

fn write_lines(path: &Path, lines: impl Iterator<Item = String>) -> Result<()> {
    let mut text = String::new();
    for l in lines {
        text.push_str(&l);
        text.push('\n');
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn addresses(flags: &Flags) -> Result<()> {
    let bounds = parse_bounds(flags.req("bounds")?)?;
    let dir = PathBuf::from(flags.req("dir")?);
    let count: usize = flags.num("count", 2000)?;
    let seed: u64 = flags.num("seed", gridgov_bench::DEMO_SEED)?;
    let list = draw_addresses(bounds, count, seed)?;
    let all = martin_all_sources();
    write_lines(
        &dir.join("addresses.txt"),
        list.iter().map(|(t, _)| t.to_string()),
    )?;
    write_lines(
        &dir.join("layer_addresses.txt"),
        list.iter().map(|(t, l)| format!("{l} {t}")),
    )?;
    write_lines(
        &dir.join("gridgov_all.paths"),
        list.iter().map(|(t, _)| format!("/tiles/all/{t}.mvt")),
    )?;
    write_lines(
        &dir.join("martin_all.paths"),
        list.iter().map(|(t, _)| format!("/{all}/{t}")),
    )?;
    write_lines(
        &dir.join("gridgov_layers.paths"),
        list.iter().map(|(t, l)| format!("/tiles/{l}/{t}.mvt")),
    )?;
    write_lines(
        &dir.join("martin_layers.paths"),
        list.iter().map(|(t, l)| format!("/{l}/{t}")),
    )?;
    let distinct: BTreeSet<TileId> = list.iter().map(|(t, _)| *t).collect();
    let mut per_zoom = BTreeMap::<u8, usize>::new();
    let mut per_layer = BTreeMap::<&str, usize>::new();
    for (t, l) in &list {
        *per_zoom.entry(t.z()).or_default() += 1;
        *per_layer.entry(l.name()).or_default() += 1;
    }
    let fmt = |m: &mut dyn Iterator<Item = String>| m.collect::<Vec<_>>().join(",");
    println!("result addresses={}", list.len());
    println!("result addresses_distinct={}", distinct.len());
    println!(
        "result addresses_per_zoom={}",
        fmt(&mut per_zoom.iter().map(|(z, n)| format!("z{z}:{n}")))
    );
    println!(
        "result addresses_per_layer={}",
        fmt(&mut per_layer.iter().map(|(l, n)| format!("{l}:{n}")))
    );
    eprintln!(
        "tile_bench: {} addresses ({} distinct) over {:?} written to {}",
        list.len(),
        distinct.len(),
        bounds,
        dir.display()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// martin-config

/// The PostgreSQL type name of a field's column (Martin lists it in TileJSON only).
fn pg_type(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Text => "text",
        FieldType::Integer => "int8",
        FieldType::Real => "float8",
        FieldType::Date => "date",
        FieldType::DateTime => "timestamptz",
        FieldType::Bool => "bool",
    }
}

/// A YAML double-quoted string.
fn yaml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn martin_table(out: &mut String, s: &LayerSchema) {
    let name = s.layer.name();
    let _ = writeln!(out, "    {name}:");
    let _ = writeln!(out, "      schema: public");
    let _ = writeln!(out, "      table: {name}");
    let _ = writeln!(out, "      srid: 4326");
    let _ = writeln!(out, "      geometry_column: geom");
    let _ = writeln!(out, "      id_column: id");
    let _ = writeln!(
        out,
        "      geometry_type: {}",
        s.layer.geometry().ogc_name()
    );
    let _ = writeln!(out, "      minzoom: {}", s.min_zoom);
    let _ = writeln!(out, "      maxzoom: {MAX_ZOOM}");
    let _ = writeln!(out, "      extent: {EXTENT}");
    let _ = writeln!(out, "      buffer: {BUFFER}");
    let _ = writeln!(out, "      clip_geom: true");
    let _ = writeln!(out, "      properties:");
    let _ = writeln!(out, "        {DIVISION_ATTRIBUTE}: text");
    for def in s.field_defs() {
        let _ = writeln!(out, "        {}: {}", def.name, pg_type(def.ty));
    }
}

fn martin_config(flags: &Flags) -> Result<()> {
    let url = flags.req("url")?;
    let out_path = PathBuf::from(flags.req("out")?);
    let listen = flags.opt("listen").unwrap_or("127.0.0.1:18091");
    let mut out = String::new();
    out.push_str(
        "# Martin 1.x configuration for gridgov's tile bench, written by `tile_bench martin-config`\n\
         # from gridgov_tiles::schema::SCHEMAS: the same layers, attributes, minimum zooms,\n\
         # extent and buffer as gridgov's tiles, from the same PostGIS tables.\n",
    );
    let _ = writeln!(out, "listen_addresses: {}", yaml_str(listen));
    if let Some(w) = flags.opt("workers") {
        let w: usize = w.parse().context("--workers")?;
        let _ = writeln!(out, "worker_processes: {w}");
    }
    out.push_str(
        "# Caches off: every request makes its tile, as gridgov with --tile-cache-mb 0.\n",
    );
    out.push_str("cache: disable\n");
    out.push_str("postgres:\n");
    let _ = writeln!(out, "  connection_string: {}", yaml_str(url));
    if let Some(p) = flags.opt("pool-size") {
        let p: usize = p.parse().context("--pool-size")?;
        let _ = writeln!(out, "  pool_size: {p}");
    }
    out.push_str("  auto_publish: false\n");
    out.push_str("  tables:\n");
    for s in SCHEMAS {
        martin_table(&mut out, s);
    }
    std::fs::write(&out_path, out).with_context(|| format!("writing {}", out_path.display()))?;
    eprintln!(
        "tile_bench: Martin configuration for {} layers written to {}",
        SCHEMAS.len(),
        out_path.display()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// fetching

/// One response.
struct Fetched {
    status: u16,
    /// Body bytes as sent.
    wire: usize,
    /// The body, gunzipped when it was sent gzipped.
    plain: Vec<u8>,
}

fn read_paths(path: &str) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

fn client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .context("making the HTTP client")
}

/// `GET url`, with `Authorization: Bearer token` when there is a token.
async fn fetch(
    client: &reqwest::Client,
    url: String,
    gzip: bool,
    token: Option<&str>,
) -> Result<Fetched> {
    let mut request = client.get(&url).header(
        reqwest::header::ACCEPT_ENCODING,
        if gzip { "gzip" } else { "identity" },
    );
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.with_context(|| format!("GET {url}"))?;
    let status = response.status().as_u16();
    if status == 401 {
        bail!(
            "GET {url}: 401 ({}): gridgov needs a session token (--token, --a-token, --b-token)",
            if token.is_some() {
                "the token was refused"
            } else {
                "no token was sent"
            }
        );
    }
    let gzipped = response
        .headers()
        .get(reqwest::header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    let body = response
        .bytes()
        .await
        .with_context(|| format!("reading the body of {url}"))?;
    let plain = if gzipped {
        let mut out = Vec::with_capacity(body.len() * 3);
        flate2::read::MultiGzDecoder::new(&body[..])
            .read_to_end(&mut out)
            .with_context(|| format!("gunzipping {url}"))?;
        out
    } else {
        body.to_vec()
    };
    Ok(Fetched {
        status,
        wire: body.len(),
        plain,
    })
}

async fn fetch_all(flags: &Flags) -> Result<()> {
    let base = flags.req("base")?.trim_end_matches('/').to_owned();
    let paths = read_paths(flags.req("paths")?)?;
    let gzip = flags.gzip()?;
    let concurrency: usize = flags.num("concurrency", 8)?;
    let token = flags.opt("token");
    let client = client()?;
    let fetched: Vec<Fetched> = stream::iter(paths.iter())
        .map(|p| fetch(&client, format!("{base}{p}"), gzip, token))
        .buffered(concurrency.max(1))
        .try_collect()
        .await?;
    let mut statuses = BTreeMap::<u16, usize>::new();
    for f in &fetched {
        *statuses.entry(f.status).or_default() += 1;
    }
    let wire: usize = fetched.iter().map(|f| f.wire).sum();
    let plain: usize = fetched.iter().map(|f| f.plain.len()).sum();
    let n = fetched.len().max(1);
    let bad: usize = statuses
        .iter()
        .filter(|(s, _)| !(200..300).contains(*s))
        .map(|(_, n)| n)
        .sum();
    println!("result fetched={}", fetched.len());
    println!("result fetch_non_2xx={bad}");
    println!("result mean_wire_bytes={}", wire / n);
    println!("result mean_plain_bytes={}", plain / n);
    eprintln!(
        "tile_bench: fetched {} paths from {base}: statuses {statuses:?}, {wire} bytes on the wire, {plain} uncompressed",
        fetched.len()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// compare

/// One side of a comparison: what its tiles held, in all.
#[derive(Default)]
struct Totals {
    statuses: BTreeMap<u16, usize>,
    wire: u64,
    plain: u64,
    features: BTreeMap<String, u64>,
    vertices: BTreeMap<String, u64>,
    /// Attribute names seen per layer.
    keys: BTreeMap<String, BTreeSet<String>>,
}

impl Totals {
    fn add(&mut self, f: &Fetched, tile: &DecodedTile) {
        *self.statuses.entry(f.status).or_default() += 1;
        self.wire += f.wire as u64;
        self.plain += f.plain.len() as u64;
        for l in &tile.layers {
            *self.features.entry(l.name.clone()).or_default() += l.features.len() as u64;
            let v: usize = l.features.iter().flat_map(|f| &f.parts).map(Vec::len).sum();
            *self.vertices.entry(l.name.clone()).or_default() += v as u64;
            let keys = self.keys.entry(l.name.clone()).or_default();
            for f in &l.features {
                keys.extend(f.attributes.keys().cloned());
            }
        }
    }

    fn feature_total(&self) -> u64 {
        self.features.values().sum()
    }

    fn vertex_total(&self) -> u64 {
        self.vertices.values().sum()
    }
}

/// Differences found between the two sides.
#[derive(Default)]
struct Differences {
    /// Tiles where some layer's feature count differs: (address, layer, a, b).
    counts: Vec<(String, String, usize, usize)>,
    tiles_differing: usize,
    /// Feature ids (per tile and layer) found on one side only, per layer.
    only_a: BTreeMap<String, u64>,
    only_b: BTreeMap<String, u64>,
    /// Features both sides hold whose geometry kind differs, per layer.
    kind: BTreeMap<String, u64>,
    /// Attribute values differing on features both hold: per `layer.key`, the count and the
    /// first example.
    values: BTreeMap<String, (u64, String)>,
    /// Features both hold, compared attribute by attribute.
    common: u64,
}

/// A layer's features by MVT id (features without one are left out).
fn by_id(
    features: &[gridgov_tiles::DecodedFeature],
) -> BTreeMap<u64, &gridgov_tiles::DecodedFeature> {
    features.iter().filter_map(|f| Some((f.id?, f))).collect()
}

fn decoded(f: &Fetched, what: &str) -> Result<DecodedTile> {
    if f.plain.is_empty() {
        return Ok(DecodedTile { layers: Vec::new() });
    }
    decode(&f.plain).with_context(|| format!("{what}: not a vector tile"))
}

fn show(v: &AttrValue) -> String {
    match v {
        AttrValue::Str(s) => format!("{s:?}"),
        AttrValue::Int(i) => i.to_string(),
        AttrValue::Double(d) => d.to_string(),
        AttrValue::Bool(b) => b.to_string(),
    }
}

fn same_value(a: &AttrValue, b: &AttrValue) -> bool {
    match (a, b) {
        (AttrValue::Double(x), AttrValue::Double(y)) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
        (AttrValue::Int(i), AttrValue::Double(d)) | (AttrValue::Double(d), AttrValue::Int(i)) => {
            (*i as f64 - d).abs() < 1e-9
        }
        _ => a == b,
    }
}

impl Differences {
    fn add(&mut self, address: &str, left: &DecodedTile, right: &DecodedTile) {
        let names: BTreeSet<&str> = left
            .layers
            .iter()
            .chain(&right.layers)
            .map(|l| l.name.as_str())
            .collect();
        let mut differs = false;
        for name in names {
            let fa = left.layer(name).map_or(&[][..], |l| &l.features[..]);
            let fb = right.layer(name).map_or(&[][..], |l| &l.features[..]);
            if fa.len() != fb.len() {
                differs = true;
                self.counts
                    .push((address.to_owned(), name.to_owned(), fa.len(), fb.len()));
            }
            let (ia, ib) = (by_id(fa), by_id(fb));
            let only_a = ia.keys().filter(|k| !ib.contains_key(k)).count() as u64;
            let only_b = ib.keys().filter(|k| !ia.contains_key(k)).count() as u64;
            if only_a > 0 {
                *self.only_a.entry(name.to_owned()).or_default() += only_a;
            }
            if only_b > 0 {
                *self.only_b.entry(name.to_owned()).or_default() += only_b;
            }
            for (id, fl) in &ia {
                let Some(fr) = ib.get(id) else { continue };
                self.common += 1;
                if fl.kind != fr.kind && fl.kind != DecodedKind::Unknown {
                    *self.kind.entry(name.to_owned()).or_default() += 1;
                }
                let keys: BTreeSet<&String> =
                    fl.attributes.keys().chain(fr.attributes.keys()).collect();
                for k in keys {
                    let (va, vb) = (fl.attributes.get(k), fr.attributes.get(k));
                    let equal = match (va, vb) {
                        (Some(one), Some(other)) => same_value(one, other),
                        (None, None) => true,
                        _ => false,
                    };
                    if !equal {
                        let shown = |v: Option<&AttrValue>| v.map_or("(absent)".to_owned(), show);
                        let e = self.values.entry(format!("{name}.{k}")).or_insert_with(|| {
                            (
                                0,
                                format!("{address} id {id}: {} vs {}", shown(va), shown(vb)),
                            )
                        });
                        e.0 += 1;
                    }
                }
            }
        }
        if differs {
            self.tiles_differing += 1;
        }
    }
}

/// `NAME=URL`.
fn side(flag: &str) -> Result<(String, String)> {
    let (name, url) = flag
        .split_once('=')
        .with_context(|| format!("'{flag}': NAME=URL"))?;
    Ok((name.to_owned(), url.trim_end_matches('/').to_owned()))
}

async fn compare(flags: &Flags) -> Result<()> {
    let (a_name, a_url) = side(flags.req("a")?)?;
    let (b_name, b_url) = side(flags.req("b")?)?;
    let a_paths = read_paths(flags.req("a-paths")?)?;
    let b_paths = read_paths(flags.req("b-paths")?)?;
    if a_paths.len() != b_paths.len() {
        bail!(
            "the path lists differ in length ({} and {})",
            a_paths.len(),
            b_paths.len()
        );
    }
    let label = flags.opt("label").unwrap_or("tiles").to_owned();
    let gzip = flags.gzip()?;
    let concurrency: usize = flags.num("concurrency", 4)?;
    let (a_token, b_token) = (flags.opt("a-token"), flags.opt("b-token"));
    let client = client()?;

    let pairs = stream::iter(a_paths.iter().zip(&b_paths))
        .map(|(pa, pb)| {
            let client = &client;
            let (ua, ub) = (format!("{a_url}{pa}"), format!("{b_url}{pb}"));
            async move {
                let fa = fetch(client, ua, gzip, a_token).await?;
                let fb = fetch(client, ub, gzip, b_token).await?;
                anyhow::Ok((pa.clone(), fa, fb))
            }
        })
        .buffered(concurrency.max(1));
    futures::pin_mut!(pairs);

    let (mut ta, mut tb) = (Totals::default(), Totals::default());
    let mut diff = Differences::default();
    let mut failed = Vec::new();
    while let Some(pair) = pairs.next().await {
        let (path, fa, fb) = pair?;
        let ok = |f: &Fetched| (200..300).contains(&f.status);
        if !ok(&fa) || !ok(&fb) {
            failed.push(format!(
                "{path}: {a_name} {} / {b_name} {}",
                fa.status, fb.status
            ));
        }
        let da = if ok(&fa) {
            decoded(&fa, &format!("{a_name} {path}"))?
        } else {
            DecodedTile { layers: Vec::new() }
        };
        let db = if ok(&fb) {
            decoded(&fb, &format!("{b_name} {path}"))?
        } else {
            DecodedTile { layers: Vec::new() }
        };
        ta.add(&fa, &da);
        tb.add(&fb, &db);
        diff.add(&path, &da, &db);
    }

    let tiles = a_paths.len();
    let mut report = String::new();
    let _ = writeln!(
        report,
        "{label}: {tiles} tiles, {a_name} ({a_url}) against {b_name} ({b_url}), Accept-Encoding: {}",
        if gzip { "gzip" } else { "identity" }
    );
    for (name, t) in [(&a_name, &ta), (&b_name, &tb)] {
        let _ = writeln!(
            report,
            "  {name}: statuses {:?}; {} bytes on the wire, {} uncompressed; {} features, {} vertices",
            t.statuses,
            t.wire,
            t.plain,
            t.feature_total(),
            t.vertex_total()
        );
    }
    let _ = writeln!(
        report,
        "  per layer: features {a_name} / {b_name}, vertices {a_name} / {b_name}, ids on one side only"
    );
    let layers: BTreeSet<&String> = ta.features.keys().chain(tb.features.keys()).collect();
    for l in &layers {
        let g = |m: &BTreeMap<String, u64>| m.get(*l).copied().unwrap_or(0);
        let _ = writeln!(
            report,
            "    {l:<20} {:>9} / {:<9} {:>10} / {:<10} only {a_name} {}, only {b_name} {}",
            g(&ta.features),
            g(&tb.features),
            g(&ta.vertices),
            g(&tb.vertices),
            g(&diff.only_a),
            g(&diff.only_b)
        );
        let (ka, kb) = (ta.keys.get(*l), tb.keys.get(*l));
        if ka != kb {
            let _ = writeln!(
                report,
                "      attribute names differ: {a_name} {ka:?}, {b_name} {kb:?}"
            );
        }
    }
    let _ = writeln!(
        report,
        "  features held by both: {}; geometry kind differing: {:?}",
        diff.common, diff.kind
    );
    let _ = writeln!(
        report,
        "  attribute values differing (count, first example):"
    );
    for (k, (n, example)) in &diff.values {
        let _ = writeln!(report, "    {k}: {n} ({example})");
    }
    let _ = writeln!(
        report,
        "  tiles with a layer whose feature count differs: {} ({} layer tiles; the list is in the report file)",
        diff.tiles_differing,
        diff.counts.len()
    );
    if !failed.is_empty() {
        let _ = writeln!(report, "  responses other than 2xx: {}", failed.len());
    }
    // The summary for people; the report file has every differing tile and failure too.
    eprint!("{report}");
    for (i, (address, layer, na, nb)) in diff.counts.iter().enumerate() {
        let line = format!("    {address} {layer}: {a_name} {na}, {b_name} {nb}");
        if i < 20 {
            eprintln!("{line}");
        }
        report.push_str(&line);
        report.push('\n');
    }
    for (i, f) in failed.iter().enumerate() {
        if i < 20 {
            eprintln!("    {f}");
        }
        let _ = writeln!(report, "    {f}");
    }
    if let Some(path) = flags.opt("report") {
        std::fs::write(path, &report).with_context(|| format!("writing {path}"))?;
    }
    let only = |m: &BTreeMap<String, u64>| m.values().sum::<u64>();
    let values: u64 = diff.values.values().map(|v| v.0).sum();
    let r = |k: &str, v: String| println!("result {label}_{k}={v}");
    r("tiles", tiles.to_string());
    for (name, t) in [(&a_name, &ta), (&b_name, &tb)] {
        r(&format!("{name}_wire_bytes"), t.wire.to_string());
        r(&format!("{name}_plain_bytes"), t.plain.to_string());
        r(&format!("{name}_features"), t.feature_total().to_string());
        r(&format!("{name}_vertices"), t.vertex_total().to_string());
    }
    r("tiles_differing", diff.tiles_differing.to_string());
    r(&format!("only_{a_name}"), only(&diff.only_a).to_string());
    r(&format!("only_{b_name}"), only(&diff.only_b).to_string());
    r("common_features", diff.common.to_string());
    r("value_mismatches", values.to_string());
    r(
        "value_mismatch_keys",
        if diff.values.is_empty() {
            "none".to_owned()
        } else {
            diff.values.keys().cloned().collect::<Vec<_>>().join(",")
        },
    );
    r("failed", failed.len().to_string());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_seeded_in_range_and_drawn_layers() {
        let bounds = parse_bounds("104.0,26.0,104.5,26.4").unwrap();
        let a = draw_addresses(bounds, 500, 42).unwrap();
        assert_eq!(a, draw_addresses(bounds, 500, 42).unwrap());
        for (t, l) in &a {
            assert!(ZOOMS.contains(&t.z()));
            assert!(
                gridgov_tiles::schema(*l).unwrap().drawn_at(t.z()),
                "{l} {t}"
            );
            let c = t.lonlat_bounds();
            assert!(c.max().x >= 104.0 && c.min().x <= 104.5);
        }
        assert!(a.iter().any(|(_, l)| *l == Layer::Households));
        assert!(parse_bounds("1,2,3").is_err());
        assert!(parse_bounds("3,2,1,4").is_err());
    }

    #[test]
    fn the_martin_configuration_lists_every_tiled_layer_with_its_attributes() {
        let mut out = String::new();
        for s in SCHEMAS {
            martin_table(&mut out, s);
        }
        assert_eq!(out.matches("      minzoom: ").count(), SCHEMAS.len());
        assert!(out.contains("    households:\n"));
        assert!(out.contains("      minzoom: 14\n"));
        assert!(out.contains("        reported_at: timestamptz\n"));
        assert!(!out.contains("worker_phone") && !out.contains("address:"));
        assert_eq!(martin_all_sources().split(',').count(), SCHEMAS.len());
        assert_eq!(yaml_str("a\"b"), "\"a\\\"b\"");
    }

    #[test]
    fn differences_count_features_ids_and_values() {
        use gridgov_tiles::{DecodedFeature, DecodedLayer};
        let feature = |id, v: &str| DecodedFeature {
            id: Some(id),
            kind: DecodedKind::Point,
            parts: vec![vec![[1, 2]]],
            attributes: BTreeMap::from([("k".to_owned(), AttrValue::Str(v.to_owned()))]),
        };
        let tile = |fs| DecodedTile {
            layers: vec![DecodedLayer {
                name: "households".to_owned(),
                extent: 4096,
                features: fs,
            }],
        };
        let mut d = Differences::default();
        d.add(
            "14/1/1",
            &tile(vec![feature(1, "x"), feature(2, "y")]),
            &tile(vec![feature(1, "z")]),
        );
        assert_eq!(d.tiles_differing, 1);
        assert_eq!(d.only_a.get("households"), Some(&1));
        assert_eq!(d.common, 1);
        assert_eq!(d.values.get("households.k").map(|v| v.0), Some(1));
        assert!(same_value(&AttrValue::Int(3), &AttrValue::Double(3.0)));
    }
}
