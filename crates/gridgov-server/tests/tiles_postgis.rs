//! The same tiles from both stores: the demo county in a GeoPackage (tiles encoded from the
//! index by `gridgov-tiles`) and in PostGIS (`ST_AsMVT`), compared feature by feature over
//! tile addresses at zooms 8–16. Needs PostGIS (`GRIDGOV_TEST_DATABASE_URL`): fails without.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

mod tiles_support;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::StatusCode;
use gridgov_store::postgis::PgStore;
use gridgov_store::testing::TempDatabase;
use gridgov_store::{write, Store};
use gridgov_tiles::{decode, tiles_covering, DecodedFeature, DecodedKind, TileId, BUFFER, EXTENT};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use tiles_support::{app_over, county_rect, demo_ops, get, gpkg_app, uri};

/// Tile addresses per zoom beyond the lowest zooms, drawn with a seeded generator.
const SAMPLE: usize = 40;

/// How far two tiles' features may differ: points by a unit (rounding), the bounding boxes
/// of lines and polygons by a couple (clipping and simplification are not the same code).
const POINT_UNITS: i64 = 1;
const BBOX_UNITS: i64 = 2;

/// A feature may be in one tile only when it is a sliver along the edge of the buffer
/// (within this many units of it): wagyu and `i_overlay` disagree on what survives of a
/// polygon a unit wide there.
const EDGE_UNITS: i64 = 2;

/// Whether a feature lies within [`EDGE_UNITS`] of the buffer's edge.
fn at_the_edge(bbox: Option<[i64; 4]>) -> bool {
    let (lo, hi) = (-i64::from(BUFFER), i64::from(EXTENT + BUFFER));
    bbox.is_some_and(|[x0, y0, x1, y1]| {
        x1 <= lo + EDGE_UNITS
            || y1 <= lo + EDGE_UNITS
            || x0 >= hi - EDGE_UNITS
            || y0 >= hi - EDGE_UNITS
    })
}

#[tokio::test]
async fn postgis_and_geopackage_make_the_same_tiles() {
    let db = TempDatabase::create("tiles").await.unwrap();
    let pg = PgStore::connect(&db.url).await.unwrap();
    write(&pg, demo_ops()).await.unwrap();
    let pg: Arc<dyn Store> = Arc::new(pg);
    let postgis = app_over(pg, "postgis", 0).await;
    let gpkg = gpkg_app(0).await;

    let county = county_rect(&gpkg);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(tiles_support::SEED);
    let mut addresses: Vec<TileId> = Vec::new();
    for z in 8..=16 {
        let mut tiles: Vec<TileId> = tiles_covering(county, z).collect();
        tiles.shuffle(&mut rng);
        tiles.truncate(SAMPLE);
        addresses.extend(tiles);
    }

    let mut problems = Vec::new();
    let (mut compared, mut features, mut edge) = (0, 0, 0);
    for t in &addresses {
        for layers in ["all"] {
            let a = get(&gpkg, &uri(layers, *t), &[]).await;
            let b = get(&postgis, &uri(layers, *t), &[]).await;
            assert_eq!(
                (a.status, b.status),
                (StatusCode::OK, StatusCode::OK),
                "{t}"
            );
            let (a, b) = (decode(&a.body).unwrap(), decode(&b.body).unwrap());
            compared += 1;
            let names = |d: &gridgov_tiles::DecodedTile| {
                d.layers.iter().map(|l| l.name.clone()).collect::<Vec<_>>()
            };
            if names(&a) != names(&b) {
                problems.push(format!("{t}: layers {:?} vs {:?}", names(&a), names(&b)));
                continue;
            }
            for (la, lb) in a.layers.iter().zip(&b.layers) {
                let by_id = |l: &gridgov_tiles::DecodedLayer| {
                    l.features
                        .iter()
                        .map(|f| (f.id.unwrap(), f.clone()))
                        .collect::<BTreeMap<u64, DecodedFeature>>()
                };
                let (fa, fb) = (by_id(la), by_id(lb));
                features += fa.len();
                edge += fa.keys().filter(|k| !fb.contains_key(k)).count()
                    + fb.keys().filter(|k| !fa.contains_key(k)).count();
                let only = |x: &BTreeMap<u64, DecodedFeature>,
                            y: &BTreeMap<u64, DecodedFeature>| {
                    x.iter()
                        .filter(|(k, f)| !y.contains_key(k) && !at_the_edge(f.bbox()))
                        .map(|(k, f)| (*k, f.kind, f.bbox()))
                        .collect::<Vec<_>>()
                };
                let (only_a, only_b) = (only(&fa, &fb), only(&fb, &fa));
                if !only_a.is_empty() || !only_b.is_empty() {
                    problems.push(format!(
                        "{t} {}: only in GeoPackage {only_a:?}, only in PostGIS {only_b:?}",
                        la.name
                    ));
                }
                for (id, f) in &fa {
                    let Some(g) = fb.get(id) else { continue };
                    if let Some(why) = differ(f, g) {
                        problems.push(format!("{t} {} #{id}: {why}", la.name));
                    }
                }
            }
        }
    }
    db.drop_now().await.unwrap();
    eprintln!(
        "compared {compared} tiles ({} addresses), {features} features; {edge} in one tile \
         only (edge slivers and points allowed, others reported)",
        addresses.len()
    );
    assert!(features > 1000, "too few features compared: {features}");
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// How two features of the same id differ, if they do beyond the tolerances.
fn differ(a: &DecodedFeature, b: &DecodedFeature) -> Option<String> {
    if a.kind != b.kind {
        return Some(format!("kind {:?} vs {:?}", a.kind, b.kind));
    }
    if a.attributes != b.attributes {
        return Some(format!(
            "attributes {:?} vs {:?}",
            a.attributes, b.attributes
        ));
    }
    let (Some(ba), Some(bb)) = (a.bbox(), b.bbox()) else {
        return Some("empty geometry".into());
    };
    let within = if a.kind == DecodedKind::Point {
        POINT_UNITS
    } else {
        BBOX_UNITS
    };
    if ba.iter().zip(bb).any(|(p, q)| (p - q).abs() > within) {
        return Some(format!("bbox {ba:?} vs {bb:?}"));
    }
    if a.kind == DecodedKind::Point && a.parts.len() != b.parts.len() {
        return Some(format!("{} vs {} points", a.parts.len(), b.parts.len()));
    }
    None
}
