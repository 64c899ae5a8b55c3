//! `gridgov lookup`: which township, village, group and grid hold a point, who is
//! responsible, and where the nearest transfer station and collection point are.

use std::collections::BTreeMap;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use gridgov_index::{batch, CountyIndex, Nearest, LOOKUP_LAYERS};
use gridgov_model::crs::RangeError;
use gridgov_model::{Crs, Feature};
use gridgov_store::{Query, Store};

use crate::{open_store, DEFAULT_STORE};

/// Arguments of `gridgov lookup`.
#[derive(Debug, Args)]
pub struct LookupArgs {
    /// Longitude of the point.
    #[arg(
        long,
        allow_hyphen_values = true,
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    lon: Option<f64>,
    /// Latitude of the point.
    #[arg(
        long,
        allow_hyphen_values = true,
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    lat: Option<f64>,
    /// Look up every point of a CSV (longitude and latitude columns: lon/lat, lng, x/y or
    /// 经度/纬度) or a GeoJSON feature collection of points (.geojson/.json).
    #[arg(long, requires = "out")]
    file: Option<PathBuf>,
    /// Where the annotated file goes (same format as --file; every input row or feature, in
    /// order, with the lookup's columns added). Never the input file itself.
    #[arg(long, requires = "file")]
    out: Option<PathBuf>,
    /// The coordinate system of the point: wgs84 (GPS, also CGCS2000), gcj02 (Amap, Tencent,
    /// most Chinese apps) or bd09 (Baidu Maps).
    #[arg(long, default_value = "wgs84")]
    crs: String,
    /// A GeoPackage path or postgres:// URL.
    #[arg(long, default_value = DEFAULT_STORE)]
    store: String,
}

/// Reads the layers a lookup needs and indexes them.
pub async fn county_index(store: &dyn Store) -> Result<CountyIndex> {
    let mut layers = BTreeMap::new();
    for layer in LOOKUP_LAYERS {
        let features = store
            .query(layer, &Query::default())
            .await
            .with_context(|| format!("reading {layer}"))?;
        layers.insert(layer, features);
    }
    Ok(CountyIndex::new(layers))
}

fn named(f: Option<&Feature>) -> String {
    f.map_or_else(
        || "—".to_owned(),
        |f| {
            let name = f.text("name").unwrap_or_default();
            let code = f.text("code").unwrap_or(f.division.as_str());
            format!("{name} ({code})")
        },
    )
}

fn nearest(n: Option<Nearest<'_>>) -> String {
    n.map_or_else(
        || "—".to_owned(),
        |n| {
            let name = n.feature.text("name").unwrap_or_default();
            format!("{name}, {:.0} m", n.metres)
        },
    )
}

/// Runs `gridgov lookup`.
pub async fn lookup(a: LookupArgs) -> Result<()> {
    let crs: Crs = a.crs.parse().context("--crs")?;
    if let (Some(file), Some(out)) = (&a.file, &a.out) {
        return lookup_file(&a.store, crs, file, out).await;
    }
    let (Some(lon), Some(lat)) = (a.lon, a.lat) else {
        bail!("give --lon and --lat, or --file and --out");
    };
    match gridgov_model::crs::lon_lat(lon, lat) {
        Err(RangeError::Longitude(v)) => bail!("--lon {v} is not a longitude (-180 to 180)"),
        Err(RangeError::Latitude(v)) => bail!("--lat {v} is not a latitude (-90 to 90)"),
        Ok(_) => {}
    }
    let (store, url) = open_store(&a.store, false).await?;
    let index = county_index(store.as_ref()).await?;
    let Some(found) = index.lookup(crs, lon, lat) else {
        bail!(
            "the point ({lon}, {lat}) in {} lies outside the county stored in {url}",
            crs.token()
        );
    };
    println!(
        "point (WGS84)     {:.6}, {:.6}",
        found.point.x, found.point.y
    );
    println!("township          {}", named(found.township));
    println!("village           {}", named(found.village));
    println!("villager group    {}", named(found.group));
    println!("grid              {}", named(found.grid));
    if let Some(g) = found.grid {
        let worker = g.text("worker_name").unwrap_or("—");
        let phone = g.text("worker_phone").unwrap_or("—");
        println!("grid worker       {worker}, {phone}");
    }
    println!("transfer station  {}", nearest(found.transfer_station));
    println!("collection point  {}", nearest(found.collection_point));
    Ok(())
}

/// `gridgov lookup --file IN --out OUT`: annotates every point of a file. The answer is
/// written to a temporary file beside OUT and renamed into place, so a refused input leaves
/// no half-written OUT behind.
async fn lookup_file(store: &str, crs: Crs, file: &Path, out: &Path) -> Result<()> {
    if same_file(file, out) {
        bail!(
            "--out {} is the input file; choose another path",
            out.display()
        );
    }
    let input = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let geojson = matches!(
        file.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("geojson" | "json")
    );
    let (store, _) = open_store(store, false).await?;
    let index = county_index(store.as_ref()).await?;
    let mut answer = Vec::with_capacity(input.len() * 3);
    let n = if geojson {
        batch::annotate_geojson(
            &index,
            &gridgov_index::Everything,
            crs,
            &input,
            usize::MAX,
            &mut answer,
        )
    } else {
        batch::annotate_csv(
            &index,
            &gridgov_index::Everything,
            crs,
            &input,
            usize::MAX,
            &mut answer,
        )
    }
    .with_context(|| format!("{} was not written", out.display()))
    .with_context(|| format!("reading {}", file.display()))?;
    crate::write_replacing(out, &answer)?;
    eprintln!("gridgov: looked up {n} points; wrote {}", out.display());
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
