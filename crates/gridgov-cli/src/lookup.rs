//! `gridgov lookup`: which township, village, group and grid hold a point, who is
//! responsible, and where the nearest transfer station and collection point are.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use clap::Args;
use gridgov_index::{CountyIndex, Nearest, LOOKUP_LAYERS};
use gridgov_model::{Crs, Feature};
use gridgov_store::{Query, Store};

use crate::{open_store, DEFAULT_STORE};

/// Arguments of `gridgov lookup`.
#[derive(Debug, Args)]
pub struct LookupArgs {
    /// Longitude of the point.
    #[arg(long, allow_hyphen_values = true)]
    lon: f64,
    /// Latitude of the point.
    #[arg(long, allow_hyphen_values = true)]
    lat: f64,
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
    if !a.lon.is_finite() || !(-180.0..=180.0).contains(&a.lon) {
        bail!("--lon {} is not a longitude (-180 to 180)", a.lon);
    }
    if !a.lat.is_finite() || !(-90.0..=90.0).contains(&a.lat) {
        bail!("--lat {} is not a latitude (-90 to 90)", a.lat);
    }
    let (store, url) = open_store(&a.store, false).await?;
    let index = county_index(store.as_ref()).await?;
    let Some(found) = index.lookup(crs, a.lon, a.lat) else {
        bail!(
            "the point ({}, {}) in {} lies outside the county stored in {url}",
            a.lon,
            a.lat,
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
