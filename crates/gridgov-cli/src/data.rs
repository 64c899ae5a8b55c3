//! `gridgov import`, `import-osm` and `export`.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use gridgov_import::{ExportFormat, ImportedFeature, ReadOptions, Rejected};
use gridgov_model::validate::owner_levels;
use gridgov_model::{DivisionCode, Feature, Layer};
use gridgov_store::assign::DivisionIndex;
use gridgov_store::{AuditAction, Op, Query, Store};

use crate::{open_store, progress, DEFAULT_STORE};

/// Arguments of `gridgov import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file to read.
    file: PathBuf,
    /// The target layer, such as villages or households.
    #[arg(long)]
    layer: String,
    /// Take a target field from a differently named source field: `--field name=MC`.
    #[arg(long = "field", value_name = "TARGET=SOURCE")]
    fields: Vec<String>,
    /// Text encoding of a Shapefile without .cpg (GBK, GB18030) or of a CSV file.
    #[arg(long)]
    encoding: Option<String>,
    /// The layer of a multi-layer source (GeoPackage, KML).
    #[arg(long)]
    source_layer: Option<String>,
    /// The CRS to assume for a file that has none, such as EPSG:4544.
    #[arg(long)]
    assume_crs: Option<String>,
    /// Put every feature in this division instead of locating it.
    #[arg(long)]
    division: Option<String>,
    /// Import the valid features and write the rejected ones to this CSV file.
    #[arg(long, value_name = "REJECTS.csv")]
    skip_invalid: Option<PathBuf>,
    /// The store.
    #[arg(long, default_value = DEFAULT_STORE)]
    store: String,
}

/// Arguments of `gridgov import-osm`.
#[derive(Debug, Args)]
pub struct ImportOsmArgs {
    /// The .osm.pbf file.
    file: PathBuf,
    /// Put every feature in this division instead of locating it.
    #[arg(long)]
    division: Option<String>,
    /// Do not import buildings as households.
    #[arg(long)]
    no_buildings: bool,
    /// Do not import rivers, streams, canals and water areas as water.
    #[arg(long)]
    no_water: bool,
    /// Do not import land use areas.
    #[arg(long)]
    no_land_use: bool,
    /// Import the valid features and write the rejected ones to this CSV file.
    #[arg(long, value_name = "REJECTS.csv")]
    skip_invalid: Option<PathBuf>,
    /// The store.
    #[arg(long, default_value = DEFAULT_STORE)]
    store: String,
}

/// Arguments of `gridgov export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The layer to export.
    #[arg(long)]
    layer: String,
    /// gpkg, geojson or csv (default: from the file name).
    #[arg(long)]
    format: Option<String>,
    /// The file to write.
    #[arg(long)]
    out: PathBuf,
    /// Only features of this division and below.
    #[arg(long)]
    division: Option<String>,
    /// The store.
    #[arg(long, default_value = DEFAULT_STORE)]
    store: String,
}

fn parse_division(s: Option<&str>) -> Result<Option<DivisionCode>> {
    s.map(|d| {
        d.parse::<DivisionCode>()
            .with_context(|| format!("--division {d}"))
    })
    .transpose()
}

/// Gives every feature a division and validates the batch against the store: the inserts of
/// them all, or (with `skip_invalid`) of the valid ones, the rejects written to a CSV file.
/// Nothing is written to the store ([`commit`] does).
async fn prepare(
    store: &dyn Store,
    layer: Layer,
    features: Vec<ImportedFeature>,
    mut rejected: Vec<Rejected>,
    division: Option<DivisionCode>,
    skip_invalid: Option<&std::path::Path>,
) -> Result<Vec<Op>> {
    let index = DivisionIndex::load(store).await?;
    let mut numbers = Vec::with_capacity(features.len());
    let mut ops = Vec::with_capacity(features.len());
    for f in features {
        let located = f.division.or(division).or_else(|| {
            f.geometry
                .as_ref()
                .and_then(|g| index.locate(g, owner_levels(layer)))
        });
        let Some(code) = located else {
            let mut reason = if index.is_empty() {
                "no division is stored yet to place it in; import the county, townships and villages first, or pass --division".to_owned()
            } else {
                "lies outside every stored division it could belong to".to_owned()
            };
            if f.geometry.as_ref().is_some_and(|g| index.swapped_fits(g)) {
                reason.push_str("; the coordinates look swapped (latitude, longitude)");
            }
            rejected.push(Rejected {
                number: f.number,
                reason,
            });
            continue;
        };
        numbers.push(f.number);
        ops.push(Op::Insert(
            layer,
            Feature {
                id: None,
                division: code,
                geometry: f.geometry,
                properties: f.properties,
            },
        ));
    }
    let bar = progress::spinner("validating");
    let checked = gridgov_store::check(store, &mut ops).await?;
    bar.finish_and_clear();
    let mut bad = vec![false; ops.len()];
    for r in checked {
        bad[r.index] = true;
        rejected.push(Rejected {
            number: numbers[r.index],
            reason: r.error.to_string(),
        });
    }
    rejected.sort_by_key(|r| r.number);
    if !rejected.is_empty() {
        for r in rejected.iter().take(20) {
            eprintln!("  feature {}: {}", r.number, r.reason);
        }
        if rejected.len() > 20 {
            eprintln!("  … and {} more", rejected.len() - 20);
        }
        let Some(path) = skip_invalid else {
            bail!(
                "{} feature(s) rejected; nothing was imported (fix them, or pass --skip-invalid REJECTS.csv to import the rest)",
                rejected.len()
            );
        };
        let mut csv = String::from("number,reason\n");
        for r in &rejected {
            let _ = writeln!(csv, "{},\"{}\"", r.number, r.reason.replace('"', "\"\""));
        }
        std::fs::write(path, csv).with_context(|| format!("writing {}", path.display()))?;
        eprintln!(
            "gridgov: {} rejected feature(s) written to {}",
            rejected.len(),
            path.display()
        );
    }
    Ok(ops
        .into_iter()
        .zip(bad)
        .filter_map(|(op, b)| (!b).then_some(op))
        .collect())
}

/// Writes the prepared inserts of several layers in one transaction and records each layer's
/// import in the audit log; the number written per layer, in order.
async fn commit(
    store: &dyn Store,
    batches: Vec<(Layer, Vec<Op>)>,
    source: &std::path::Path,
) -> Result<Vec<(Layer, usize)>> {
    let counts: Vec<(Layer, usize)> = batches.iter().map(|(l, ops)| (*l, ops.len())).collect();
    gridgov_store::write(
        store,
        batches.into_iter().flat_map(|(_, ops)| ops).collect(),
    )
    .await?;
    for (layer, n) in &counts {
        crate::audit::record(
            store,
            AuditAction::Create,
            layer.name().to_owned(),
            serde_json::json!({ "imported": n, "file": source.display().to_string() }),
        )
        .await?;
    }
    Ok(counts)
}

fn parse_layer(s: &str) -> Result<Layer> {
    Ok(s.parse::<Layer>()?)
}

/// `gridgov import`.
pub async fn import(a: ImportArgs) -> Result<()> {
    let layer = parse_layer(&a.layer)?;
    let mut opts = ReadOptions::new(layer);
    for f in &a.fields {
        let (t, s) = f
            .split_once('=')
            .with_context(|| format!("--field {f}: expected TARGET=SOURCE"))?;
        opts.field_map
            .push((t.trim().to_owned(), s.trim().to_owned()));
    }
    opts.encoding.clone_from(&a.encoding);
    opts.source_layer.clone_from(&a.source_layer);
    opts.assume_crs.clone_from(&a.assume_crs);
    let division = parse_division(a.division.as_deref())?;
    let (store, url) = open_store(&a.store, false).await?;
    let bar = progress::bar(0, "reading");
    let file = a.file.clone();
    let read = tokio::task::spawn_blocking(move || {
        gridgov_import::read_file(&file, &opts, &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
    })
    .await??;
    eprintln!(
        "gridgov: read {} feature(s) from {} ({}), {} unreadable",
        read.features.len(),
        a.file.display(),
        read.source_crs,
        read.rejected.len()
    );
    let ops = prepare(
        store.as_ref(),
        layer,
        read.features,
        read.rejected,
        division,
        a.skip_invalid.as_deref(),
    )
    .await?;
    let n = ops.len();
    commit(store.as_ref(), vec![(layer, ops)], &a.file).await?;
    eprintln!("gridgov: imported {n} feature(s) into {layer} of {url}");
    Ok(())
}

/// `gridgov import-osm`.
pub async fn import_osm(a: ImportOsmArgs) -> Result<()> {
    let division = parse_division(a.division.as_deref())?;
    let (store, url) = open_store(&a.store, false).await?;
    let file = a.file.clone();
    let bar = progress::bar(0, "reading OpenStreetMap");
    let osm = tokio::task::spawn_blocking(move || {
        gridgov_import::read_osm(&file, &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
    })
    .await??;
    eprintln!(
        "gridgov: read {} road(s), {} building(s), {} water and {} land use feature(s) from {}",
        osm.roads.len(),
        osm.buildings.len(),
        osm.water.len(),
        osm.land_use.len(),
        a.file.display()
    );
    // Ways cut by the extract's boundary are an artefact of extracts, not bad data: say so and
    // go on with the ways that are whole.
    for r in &osm.rejected {
        eprintln!("gridgov: skipped way #{}: {}", r.number, r.reason);
    }
    // Every layer is validated first, then all are written in one transaction: a layer refused
    // leaves nothing behind.
    let mut batches = vec![(
        Layer::Roads,
        prepare(
            store.as_ref(),
            Layer::Roads,
            osm.roads,
            Vec::new(),
            division,
            a.skip_invalid.as_deref(),
        )
        .await?,
    )];
    // Each layer's rejects beside the roads' file: REJECTS.buildings.csv, .water.csv, ….
    let rejects = |what: &str| {
        a.skip_invalid
            .as_ref()
            .map(|p| p.with_extension(format!("{what}.csv")))
    };
    if !a.no_buildings && !osm.buildings.is_empty() {
        let ops = prepare(
            store.as_ref(),
            Layer::Households,
            osm.buildings,
            Vec::new(),
            division.filter(|d| d.level() == gridgov_model::DivisionLevel::Village),
            rejects("buildings").as_deref(),
        )
        .await?;
        batches.push((Layer::Households, ops));
    }
    // Water and land use: the model keeps no OSM id for them.
    for (layer, skip, features) in [
        (Layer::Water, a.no_water, osm.water),
        (Layer::LandUse, a.no_land_use, osm.land_use),
    ] {
        if skip || features.is_empty() {
            continue;
        }
        let features = features
            .into_iter()
            .map(|mut f| {
                f.properties.remove("osm_id");
                f
            })
            .collect();
        let ops = prepare(
            store.as_ref(),
            layer,
            features,
            Vec::new(),
            division,
            rejects(layer.name()).as_deref(),
        )
        .await?;
        batches.push((layer, ops));
    }
    for (layer, n) in commit(store.as_ref(), batches, &a.file).await? {
        eprintln!("gridgov: imported {n} feature(s) into {layer} of {url}");
    }
    Ok(())
}

/// `gridgov export`.
pub async fn export(a: ExportArgs) -> Result<()> {
    let layer = parse_layer(&a.layer)?;
    let format = match &a.format {
        Some(f) => f.parse::<ExportFormat>()?,
        None => ExportFormat::from_path(&a.out).with_context(|| {
            format!(
                "cannot tell the format from {}; pass --format gpkg|geojson|csv",
                a.out.display()
            )
        })?,
    };
    let (store, _) = open_store(&a.store, false).await?;
    let q = Query {
        division: parse_division(a.division.as_deref())?,
        ..Query::default()
    };
    let features = store.query(layer, &q).await?;
    let out = a.out.clone();
    let n = features.len();
    // Recorded before the file is written: an export that cannot be audited is not made.
    crate::audit::record(
        store.as_ref(),
        AuditAction::Export,
        layer.name().to_owned(),
        serde_json::json!({
            "features": n,
            "format": format!("{format:?}").to_lowercase(),
            "out": a.out.display().to_string(),
            "division": a.division,
        }),
    )
    .await
    .context("nothing was exported")?;
    tokio::task::spawn_blocking(move || gridgov_import::write_file(&out, format, layer, &features))
        .await??;
    eprintln!("gridgov: wrote {n} {layer} to {}", a.out.display());
    Ok(())
}
