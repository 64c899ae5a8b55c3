//! gridgov-bench: gridgov's point lookups held against references (PostGIS, shapely) and
//! measured beside them. Nothing here is part of the product; the crate exists for its
//! test and its bench.
//!
//! # Layout
//! - this file: the demo county as a test and a bench take it (its layers, its bounding box,
//!   the grids of the plan in force), seeded random points over it, and writing it into a
//!   store through the validated write path.
//! - [`exchange`]: the files the bench hands to `benches/lookup_shapely.py` and to the
//!   server benchmarks of `benches/lookup.sh` (polygons as hex WKB, points, answers).
//! - [`sql`]: the PostGIS queries the test and the bench ask.
//! - `tests/postgis_agreement.rs`: gridgov's grid and nearest-station answers against
//!   PostGIS for 10,000 seeded points.
//! - `benches/lookup.rs`: point-to-grid lookups per second, in-process and through PostGIS
//!   (run all of it side by side with `bash benches/lookup.sh`).

pub mod exchange;
pub mod sql;

use std::collections::BTreeMap;

use geo::{BoundingRect, Coord, Rect};
use gridgov_model::{Feature, FeatureId, Layer};
use gridgov_store::{Op, Store, WriteError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The seed of the demo county the project measures on (`gridgov demo` defaults to it).
pub const DEMO_SEED: u64 = 42;

/// A county's features by layer, as `gridgov_demo` and the stores hand them over.
pub type Layers = BTreeMap<Layer, Vec<Feature>>;

/// The demo county's layers for `seed`.
pub fn demo_layers(seed: u64) -> Layers {
    gridgov_demo::generate(seed).dataset.layers
}

/// The bounding box of the county's polygon (the first county feature with a geometry).
pub fn county_bbox(layers: &Layers) -> Option<Rect<f64>> {
    layers
        .get(&Layer::Counties)?
        .iter()
        .find_map(|c| c.geometry.as_ref()?.bounding_rect())
}

/// `n` points drawn uniformly from `rect` by a `ChaCha8` generator seeded with `seed`: the
/// same arguments give the same points, and a shorter run is a prefix of a longer one.
pub fn random_points(rect: Rect<f64>, n: usize, seed: u64) -> Vec<Coord<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (min, max) = (rect.min(), rect.max());
    (0..n)
        .map(|_| Coord {
            x: rng.gen_range(min.x..max.x),
            y: rng.gen_range(min.y..max.y),
        })
        .collect()
}

/// The ids of the grid plans whose status is `effective`.
fn effective_plans(layers: &Layers) -> Vec<i64> {
    layers
        .get(&Layer::GridPlans)
        .map(|plans| {
            plans
                .iter()
                .filter(|p| p.text("status") == Some("effective"))
                .filter_map(|p| p.id.map(|id| id.0))
                .collect()
        })
        .unwrap_or_default()
}

/// The grids of the plans in force, in id order: the polygons a point lookup answers with.
pub fn effective_grids(layers: &Layers) -> Vec<&Feature> {
    let plans = effective_plans(layers);
    let mut grids: Vec<&Feature> = layers
        .get(&Layer::Grids)
        .map(|grids| {
            grids
                .iter()
                .filter(|g| {
                    g.get("plan_id")
                        .and_then(gridgov_model::Value::as_i64)
                        .is_some_and(|p| plans.contains(&p))
                })
                .collect()
        })
        .unwrap_or_default();
    grids.sort_by_key(|g| g.id);
    grids
}

/// Writes every layer of a county into `store` through the validated write path, parents
/// first, as one batch (the features keep their ids). Returns the ids written.
pub async fn write_county(
    store: &dyn Store,
    layers: &Layers,
) -> Result<Vec<FeatureId>, WriteError> {
    let ops = layers
        .iter()
        .flat_map(|(layer, features)| features.iter().map(|f| Op::Insert(*layer, f.clone())))
        .collect();
    gridgov_store::write(store, ops).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::coord;

    #[test]
    fn points_are_seeded_inside_the_box_and_prefixes_of_longer_runs() {
        let rect = Rect::new(coord! { x: 104.0, y: 26.0 }, coord! { x: 105.0, y: 27.0 });
        let a = random_points(rect, 100, 7);
        let b = random_points(rect, 1000, 7);
        assert_eq!(a[..], b[..100]);
        assert_ne!(a, random_points(rect, 100, 8));
        assert!(b
            .iter()
            .all(|p| (104.0..105.0).contains(&p.x) && (26.0..27.0).contains(&p.y)));
    }

    #[test]
    fn the_demo_has_effective_grids_inside_its_box() {
        let layers = demo_layers(DEMO_SEED);
        let bbox = county_bbox(&layers).unwrap();
        let grids = effective_grids(&layers);
        assert!(grids.len() >= 60, "{}", grids.len());
        assert!(grids.windows(2).all(|w| w[0].id < w[1].id));
        for g in grids {
            let r = g.geometry.as_ref().unwrap().bounding_rect().unwrap();
            assert!(r.min().x >= bbox.min().x - 1e-9 && r.max().y <= bbox.max().y + 1e-9);
        }
    }
}
