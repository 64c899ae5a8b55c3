//! `gridgov basemap build`: an offline basemap package (PMTiles of MVT tiles: roads, water,
//! land use, division outlines and labels) from the demo county, from a store's layers, or from
//! an OpenStreetMap extract (its roads).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use gridgov_basemap::{Basemap, BuildOptions};
use gridgov_model::{Dataset, Layer};
use gridgov_store::Query;

use crate::open_existing;

/// Arguments of `gridgov basemap`.
#[derive(Debug, Args)]
pub struct BasemapArgs {
    #[command(subcommand)]
    command: BasemapCommand,
}

#[derive(Debug, Subcommand)]
enum BasemapCommand {
    /// Build a basemap package (.pmtiles).
    Build(BuildArgs),
}

/// Where the basemap's features come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum From {
    /// The synthetic demo county (`--seed`).
    Demo,
    /// The roads, water, land use and divisions of a store (`--store`).
    Roads,
    /// The roads of an OpenStreetMap extract (`--pbf`).
    Osm,
}

/// Arguments of `gridgov basemap build`.
#[derive(Debug, Args)]
struct BuildArgs {
    /// Where the features come from.
    #[arg(long, value_enum)]
    from: From,
    /// The OpenStreetMap .osm.pbf file (with --from osm).
    #[arg(long, required_if_eq("from", "osm"))]
    pbf: Option<PathBuf>,
    /// A GeoPackage path or postgres:// URL (with --from roads; default ./gridgov.gpkg).
    #[arg(long)]
    store: Option<String>,
    /// The demo county's seed (with --from demo).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Lowest zoom.
    #[arg(long, default_value_t = 0)]
    min_zoom: u8,
    /// Highest zoom (at most 22).
    #[arg(long, default_value_t = 14)]
    max_zoom: u8,
    /// The package to write (.pmtiles); replaced if it exists.
    #[arg(long)]
    out: PathBuf,
}

/// `gridgov basemap …`.
pub async fn run(args: BasemapArgs) -> Result<()> {
    match args.command {
        BasemapCommand::Build(a) => build(a).await,
    }
}

/// Builds the default basemap (zooms 0 to 14) of a store's layers into `out`: what
/// `gridgov serve` does on the first run of the demo county, when there is no package yet.
pub async fn build_from_store(store: &str, out: &std::path::Path) -> Result<()> {
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    build(BuildArgs {
        from: From::Roads,
        pbf: None,
        store: Some(store.to_owned()),
        seed: 42,
        min_zoom: 0,
        max_zoom: 14,
        out: out.to_path_buf(),
    })
    .await
}

/// The layers a basemap draws from a store.
const LAYERS: [Layer; 6] = [
    Layer::Roads,
    Layer::Water,
    Layer::LandUse,
    Layer::Counties,
    Layer::Townships,
    Layer::Villages,
];

async fn build(a: BuildArgs) -> Result<()> {
    if a.pbf.is_some() && a.from != From::Osm {
        bail!("--pbf is read only with --from osm");
    }
    if a.store.is_some() && a.from != From::Roads {
        bail!("--store is read only with --from roads");
    }
    if a.min_zoom > a.max_zoom || a.max_zoom > 22 {
        bail!(
            "--min-zoom {} and --max-zoom {} are not a range within 0..=22",
            a.min_zoom,
            a.max_zoom
        );
    }
    let started = Instant::now();
    let basemap = match a.from {
        From::Demo => {
            let seed = a.seed;
            tokio::task::spawn_blocking(move || {
                Basemap::from_dataset(&gridgov_demo::generate(seed).dataset)
            })
            .await?
        }
        From::Roads => {
            let store = open_existing(a.store.clone()).await?;
            let mut dataset = Dataset::default();
            for layer in LAYERS {
                let features = store
                    .query(layer, &Query::default())
                    .await
                    .with_context(|| format!("reading {layer}"))?;
                dataset.layers.insert(layer, features);
            }
            Basemap::from_dataset(&dataset)
        }
        From::Osm => {
            let Some(file) = a.pbf.clone() else {
                bail!("--from osm needs --pbf FILE.osm.pbf");
            };
            let osm = tokio::task::spawn_blocking(move || {
                gridgov_import::read_osm(&file, &mut |_, _| {})
            })
            .await?
            .context("reading the OpenStreetMap extract")?;
            let mut basemap = Basemap::new();
            let text = |f: &gridgov_import::ImportedFeature, k: &str| {
                f.properties.get(k).map(gridgov_model::Value::to_text)
            };
            for road in osm.roads {
                let class = text(&road, "class").unwrap_or_else(|| "village".to_owned());
                let name = text(&road, "name");
                if let Some(g) = road.geometry {
                    basemap.add_road(g, &class, name.as_deref());
                }
            }
            for water in osm.water {
                let (kind, name) = (text(&water, "kind"), text(&water, "name"));
                if let (Some(g), Some(kind)) = (water.geometry, kind) {
                    basemap.add_water(g, &kind, name.as_deref());
                }
            }
            for area in osm.land_use {
                if let (Some(kind), Some(g)) = (text(&area, "kind"), area.geometry) {
                    basemap.add_landuse(g, &kind);
                }
            }
            basemap
        }
    };
    if basemap.is_empty() {
        bail!("nothing to draw: no roads, water, land use or divisions with geometry were found");
    }
    let read = started.elapsed();
    let options = BuildOptions {
        min_zoom: a.min_zoom,
        max_zoom: a.max_zoom,
        ..BuildOptions::default()
    };
    let bar = crate::progress::bar(0, "drawing tiles");
    let (writer, stats) = tokio::task::spawn_blocking(move || {
        gridgov_basemap::build(&basemap, &options, &mut |z, done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_message(format!("drawing zoom {z}"));
        })
    })
    .await?
    .context("building the basemap")?;
    let tiles: usize = stats.tiles_per_zoom.iter().map(|t| t.1).sum();
    let distinct = writer.distinct();
    let bytes = writer
        .write_to(&a.out)
        .with_context(|| format!("writing {}", a.out.display()))?;
    eprintln!(
        "gridgov: wrote {} ({bytes} bytes, {tiles} tiles, {distinct} distinct, zooms {}..={}) in {:.1} s (reading {:.1} s)",
        a.out.display(),
        a.min_zoom,
        a.max_zoom,
        started.elapsed().as_secs_f64(),
        read.as_secs_f64(),
    );
    for (z, n) in stats.tiles_per_zoom {
        eprintln!("  z{z:<2} {n} tiles");
    }
    Ok(())
}
