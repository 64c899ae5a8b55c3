//! `gridgov`: the command-line program (server, demo data, import, export, database tools).

mod audit;
mod basemap;
mod data;
mod hotspots;
mod lookup;
mod partition;
mod progress;
mod route;
mod route_day;
mod users;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use gridgov_server::limits::{Limits, Rate};
use gridgov_store::postgis::PgStore;
use gridgov_store::{Store, StoreUrl};

/// The allocator: mimalloc. Loading and serving hand many small allocations from one thread to
/// another (rows read on one, checked on a second, written on a third); the system allocator
/// was a fifth of `gridgov load`'s CPU samples.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// gridgov: grassroots social governance on a map.
#[derive(Debug, Parser)]
#[command(name = "gridgov", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The default store: a GeoPackage in the working directory.
const DEFAULT_STORE: &str = "./gridgov.gpkg";

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (API and web pages).
    Serve {
        /// A GeoPackage path or postgres:// URL. Without it, ./gridgov.gpkg is used and the
        /// demo county is created there on first run.
        #[arg(long)]
        store: Option<String>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// Folder of the web front end (`dist/`, built by `npm run build`, and `node_modules/`).
        #[arg(long, default_value = "web")]
        web_dir: PathBuf,
        /// Folder of the map styles (`styles/light.json`, `styles/dark.json`).
        #[arg(long, default_value = "tiles")]
        tiles_dir: PathBuf,
        /// The offline basemap package (`gridgov basemap build`). On the demo county's first
        /// run (no --store) it is built when missing.
        #[arg(long, default_value = "tiles/demo.pmtiles")]
        basemap: PathBuf,
        /// Size bound of the in-memory vector tile cache in MiB; 0 turns it off.
        #[arg(long, default_value_t = 256)]
        tile_cache_mb: usize,
        /// Requests a second one client (a session, or an address without one) may make,
        /// with bursts of four times as many; beyond, 429. Logins: 1 a second per address
        /// (bursts of 10). 0 turns both off.
        #[arg(long, default_value_t = 100)]
        rate_limit: u32,
        /// Seconds a request may take before it is answered 408.
        #[arg(long, default_value_t = 30)]
        request_timeout_secs: u64,
        /// A JSON file of the days each level has to settle a dispute, per category where
        /// they differ (see README); without it 15, 30 and 60 days.
        #[arg(long)]
        dispute_deadlines: Option<PathBuf>,
        /// Minutes between runs of the deadline sweep that escalates overdue disputes to the
        /// next level; 0 turns it off.
        #[arg(long, default_value_t = 10)]
        escalation_minutes: u64,
    },
    /// Generate the synthetic demo county into a new GeoPackage.
    Demo {
        /// The GeoPackage to create (must not exist).
        #[arg(long)]
        out: PathBuf,
        /// Random seed: the same seed gives the same county.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Import a GIS file (Shapefile, GeoPackage, GeoJSON, KML, CSV) into a layer.
    Import(data::ImportArgs),
    /// Import roads and buildings (as households) from an OpenStreetMap .osm.pbf file.
    ImportOsm(data::ImportOsmArgs),
    /// Export a layer to GeoPackage, GeoJSON or CSV.
    Export(data::ExportArgs),
    /// Which township, village, group and grid hold a point; the nearest stations.
    Lookup(lookup::LookupArgs),
    /// A dispute hotspot map (Gi*, local Moran's I or emerging hot spots) as GeoJSON.
    Hotspots(hotspots::HotspotArgs),
    /// Draw the grids of a village or township (balanced, compact, contiguous) as GeoJSON.
    Partition(partition::PartitionArgs),
    /// Plan a township's garbage collection routes for a day (GeoJSON), or solve a CVRPLIB
    /// instance (`--vrplib FILE`, last line `cost N`).
    Route(route::RouteArgs),
    /// Create or upgrade the PostGIS schema.
    Migrate {
        /// The postgres:// URL.
        #[arg(long)]
        store: String,
    },
    /// Manage user accounts: add, list, disable, enable, reset.
    User(users::UserArgs),
    /// The audit log: verify its hash chain, list records.
    Audit(audit::AuditArgs),
    /// Offline basemaps: `basemap build` makes a PMTiles package of roads, water, land use and
    /// divisions (from the demo county, a store, or an OpenStreetMap extract).
    Basemap(basemap::BasemapArgs),
    /// Copy a whole store into another (GeoPackage to PostGIS and back).
    Load {
        /// The source store.
        #[arg(long)]
        from: String,
        /// The target store (a PostGIS store must be migrated; it is migrated if empty).
        #[arg(long)]
        to: String,
    },
}

/// Opens a store URL, migrating a PostGIS database first when `migrate` is set.
async fn open_store(url: &str, migrate: bool) -> Result<(Box<dyn Store>, StoreUrl)> {
    let parsed: StoreUrl = url.parse()?;
    if let (true, StoreUrl::Postgres(u)) = (migrate, &parsed) {
        gridgov_store::postgis::migrate(u)
            .await
            .with_context(|| format!("migrating {parsed}"))?;
    }
    let store = gridgov_store::open(&parsed)
        .await
        .with_context(|| format!("opening {parsed}"))?;
    Ok((store, parsed))
}

/// Opens a store that must exist already (`--store`, default ./gridgov.gpkg).
async fn open_existing(store: Option<String>) -> Result<Box<dyn Store>> {
    let url = store.unwrap_or_else(|| DEFAULT_STORE.to_owned());
    if !url.starts_with("postgres") && !std::path::Path::new(&url).exists() {
        bail!("{url} does not exist: give --store (a GeoPackage or postgres:// URL)");
    }
    Ok(open_store(&url, false).await?.0)
}

/// Writes `bytes` to a temporary file beside `out` and renames it into place, so a refused or
/// failed write leaves no half-written `out` behind.
fn write_replacing(out: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("writing {}", out.display()))?;
    tmp.persist(out)
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}

async fn demo(out: &std::path::Path, seed: u64) -> Result<()> {
    if out.exists() {
        bail!(
            "{} already exists; remove it or choose another --out",
            out.display()
        );
    }
    let bar = progress::spinner("generating the demo county");
    let demo = tokio::task::spawn_blocking(move || gridgov_demo::generate(seed)).await?;
    bar.set_message("writing the GeoPackage");
    let written = async {
        let store = gridgov_store::gpkg::GpkgStore::open(out).await?;
        let mut ops = Vec::new();
        for (layer, features) in demo.dataset.layers {
            ops.extend(
                features
                    .into_iter()
                    .map(|f| gridgov_store::Op::Insert(layer, f)),
            );
        }
        let n = ops.len();
        gridgov_store::write(&store, ops).await?;
        anyhow::Ok(n)
    }
    .await;
    bar.finish_and_clear();
    let n = match written {
        Ok(n) => n,
        Err(e) => {
            // Leave no half-made file behind.
            let _ = std::fs::remove_file(out);
            return Err(e.context("writing the demo county"));
        }
    };
    let clusters = out.with_extension("clusters.json");
    std::fs::write(&clusters, serde_json::to_string_pretty(&demo.clusters)?)
        .with_context(|| format!("writing {}", clusters.display()))?;
    eprintln!(
        "gridgov: wrote the demo county (seed {seed}, {n} features) to {}; planted dispute clusters in {}",
        out.display(),
        clusters.display()
    );
    Ok(())
}

/// The dispute workflow's options of `serve`.
struct DisputeOptions {
    deadlines: Option<PathBuf>,
    escalation_minutes: u64,
}

/// Where `serve` finds the web pages, the map styles and the basemap package.
struct Files {
    web_dir: PathBuf,
    tiles_dir: PathBuf,
    basemap: PathBuf,
}

async fn serve(
    store: Option<String>,
    addr: SocketAddr,
    files: Files,
    tile_cache_mb: usize,
    limits: Limits,
    disputes: DisputeOptions,
) -> Result<()> {
    let deadlines = match &disputes.deadlines {
        None => gridgov_disputes::deadline::Deadlines::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            gridgov_disputes::deadline::Deadlines::from_json(&text)
                .with_context(|| format!("reading {}", path.display()))?
        }
    };
    let url = if let Some(u) = store {
        u
    } else {
        let path = std::path::Path::new(DEFAULT_STORE);
        if !path.exists() {
            eprintln!(
                "gridgov: {DEFAULT_STORE} does not exist; creating the demo county there (synthetic data, see README)"
            );
            demo(path, 42).await?;
        }
        if !files.basemap.exists() {
            eprintln!(
                "gridgov: {} does not exist; drawing the demo county's basemap there",
                files.basemap.display()
            );
            basemap::build_from_store(DEFAULT_STORE, &files.basemap).await?;
        }
        DEFAULT_STORE.to_owned()
    };
    let Files {
        web_dir,
        tiles_dir,
        basemap: basemap_path,
    } = files;
    let parsed: StoreUrl = url.parse()?;
    let store: Box<dyn Store> = match &parsed {
        StoreUrl::Postgres(u) => {
            let pg = PgStore::connect_server(u)
                .await
                .with_context(|| format!("opening {parsed}"))?;
            if !pg.spatial_index_usable().await? {
                eprintln!(
                    "gridgov: warning: PostGIS's && (geometry_overlaps) is not LEAKPROOF, so under row-level security no spatial index is used and tiles scan whole tables; a superuser fixes it with ALTER FUNCTION geometry_overlaps(geometry, geometry) LEAKPROOF"
                );
            }
            Box::new(pg)
        }
        StoreUrl::GeoPackage(_) => gridgov_store::open(&parsed)
            .await
            .with_context(|| format!("opening {parsed}"))?,
    };
    let kind = match parsed {
        StoreUrl::Postgres(_) => "postgis",
        StoreUrl::GeoPackage(_) => "geopackage",
    };
    if matches!(parsed, StoreUrl::GeoPackage(_)) {
        let made = users::first_admin(store.as_ref())
            .await
            .context("creating the first county admin")?;
        if let Some(password) = made {
            eprintln!(
                "gridgov: first start: created the county admin 'admin' with the password {password}\n\
                 gridgov: it is shown only this once; change it with `gridgov user reset admin`"
            );
        }
    } else if store.users().await?.is_empty() {
        eprintln!(
            "gridgov: warning: {parsed} has no user accounts; nobody can sign in until one is made with `gridgov user add NAME --role county_admin --scope CODE --store URL`"
        );
    }
    if !web_dir.join("dist/index.html").exists() {
        eprintln!(
            "gridgov: warning: {} has no dist/index.html; the API works, the pages do not (build them with `bash scripts/setup.sh --server`, run from the repository root, or pass --web-dir)",
            web_dir.display()
        );
    }
    let map =
        gridgov_server::basemap::Basemap::open(basemap_path.clone(), tiles_dir.join("styles"))
            .with_context(|| format!("opening the basemap {}", basemap_path.display()))?;
    if map.archive.is_none() {
        eprintln!(
            "gridgov: warning: no basemap at {}; maps draw gridgov's layers without one (build it with `gridgov basemap build`)",
            basemap_path.display()
        );
    }
    if let Err(why) = &map.fonts {
        eprintln!("gridgov: warning: map labels in Latin script will not draw: {why}");
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    eprintln!(
        "gridgov: serving {parsed} on http://{}",
        listener.local_addr()?
    );
    let store: Arc<dyn Store> = Arc::from(store);
    let index = gridgov_server::LiveIndex::start(store.clone())
        .await
        .with_context(|| format!("indexing {parsed}"))?;
    let state = gridgov_server::AppState::new(
        store,
        kind,
        web_dir,
        index,
        tile_cache_mb.saturating_mul(1 << 20),
    )
    .with_limits(limits)
    .with_basemap(map)
    .with_disputes(gridgov_server::disputes::Settings {
        deadlines: Arc::new(deadlines),
        ..gridgov_server::disputes::Settings::default()
    });
    if disputes.escalation_minutes > 0 {
        gridgov_server::disputes::spawn_sweeper(
            state.clone(),
            std::time::Duration::from_secs(disputes.escalation_minutes.saturating_mul(60)),
        );
    }
    gridgov_server::serve(listener, state).await?;
    Ok(())
}

async fn load(from: &str, to: &str) -> Result<()> {
    let (src, src_url) = open_store(from, false).await?;
    let dst_url: StoreUrl = to.parse()?;
    // The target is migrated (if PostGIS) and opened while the source is already being read.
    let dst = async {
        let store: Arc<dyn Store> = match &dst_url {
            StoreUrl::Postgres(u) => Arc::new(PgStore::connect_migrated(u).await?),
            other @ StoreUrl::GeoPackage(_) => Arc::from(gridgov_store::open(other).await?),
        };
        Ok(store)
    };
    let bar = progress::spinner("reading");
    let counts = gridgov_store::copy::copy_all(Arc::from(src), dst, &mut |layer, n| {
        bar.set_message(format!("read {n} {layer}"));
    })
    .await;
    bar.finish_and_clear();
    let counts =
        counts.with_context(|| format!("copying {src_url} into {dst_url}; nothing was written"))?;
    let total: usize = counts.iter().map(|c| c.1).sum();
    eprintln!("gridgov: copied {total} features from {src_url} into {dst_url}");
    for (layer, n) in counts {
        eprintln!("  {:<20} {n}", layer.name());
    }
    Ok(())
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve {
            store,
            addr,
            web_dir,
            tiles_dir,
            basemap,
            tile_cache_mb,
            rate_limit,
            request_timeout_secs,
            dispute_deadlines,
            escalation_minutes,
        } => {
            let mut limits = if rate_limit == 0 {
                Limits::unlimited()
            } else {
                let mut l = Limits::standard();
                l.requests = Some(Rate {
                    per_second: f64::from(rate_limit),
                    burst: 4.0 * f64::from(rate_limit),
                });
                l
            };
            limits.request_timeout = std::time::Duration::from_secs(request_timeout_secs.max(1));
            let disputes = DisputeOptions {
                deadlines: dispute_deadlines,
                escalation_minutes,
            };
            let files = Files {
                web_dir,
                tiles_dir,
                basemap,
            };
            serve(store, addr, files, tile_cache_mb, limits, disputes).await
        }
        Command::Demo { out, seed } => demo(&out, seed).await,
        Command::Import(args) => data::import(args).await,
        Command::ImportOsm(args) => data::import_osm(args).await,
        Command::Export(args) => data::export(args).await,
        Command::Lookup(args) => lookup::lookup(args).await,
        Command::Hotspots(args) => hotspots::hotspots(args).await,
        Command::Partition(args) => partition::partition(args).await,
        Command::Route(args) => route::route(args).await,
        Command::Migrate { store } => {
            let StoreUrl::Postgres(u) = store.parse()? else {
                bail!("migrate takes a postgres:// URL; a GeoPackage is set up when it is opened");
            };
            gridgov_store::postgis::migrate(&u).await?;
            eprintln!("gridgov: schema is up to date");
            Ok(())
        }
        Command::Load { from, to } => load(&from, &to).await,
        Command::User(args) => users::run(args).await,
        Command::Audit(args) => audit::run(args).await,
        Command::Basemap(args) => basemap::run(args).await,
    }
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sqlx=error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gridgov: error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gridgov: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
