//! A county's divisions, grids and stations, and the lookup of one point.

use std::collections::{BTreeMap, HashSet};

use geo::Coord;
use gridgov_model::{crs, Crs, Feature, Layer};

use crate::{PointIndex, PolygonIndex};

/// What a grid worker asks about a point: the divisions and grid that hold it and the
/// nearest stations.
#[derive(Debug, Clone, Copy)]
pub struct Lookup<'a> {
    /// The point, in WGS84.
    pub point: Coord<f64>,
    /// The township (乡镇) holding it.
    pub township: Option<&'a Feature>,
    /// The village or community (村/社区).
    pub village: Option<&'a Feature>,
    /// The villager group (村民小组).
    pub group: Option<&'a Feature>,
    /// The grid (网格) of the effective plan, with its grid worker.
    pub grid: Option<&'a Feature>,
    /// The nearest village transfer station (垃圾转运站).
    pub transfer_station: Option<Nearest<'a>>,
    /// The nearest collection point (垃圾收集点).
    pub collection_point: Option<Nearest<'a>>,
}

/// A nearest feature and its straight-line (geodesic) distance.
#[derive(Debug, Clone, Copy)]
pub struct Nearest<'a> {
    /// The feature.
    pub feature: &'a Feature,
    /// Geodesic distance in metres on WGS84.
    pub metres: f64,
}

/// The nearest feature of an index, if it has any.
fn nearest(index: &PointIndex, point: Coord<f64>) -> Option<Nearest<'_>> {
    index
        .nearest(point, 1)
        .first()
        .map(|&(feature, metres)| Nearest { feature, metres })
}

/// The indexes behind a county's lookups.
#[derive(Debug)]
pub struct CountyIndex {
    /// The county polygon(s): a point outside all of them is outside the county.
    pub counties: PolygonIndex,
    /// Townships.
    pub townships: PolygonIndex,
    /// Villages and communities.
    pub villages: PolygonIndex,
    /// Villager groups.
    pub groups: PolygonIndex,
    /// Grids of the effective plans only (drafts and superseded plans are not answers).
    pub grids: PolygonIndex,
    /// Village transfer stations.
    pub transfer_stations: PointIndex,
    /// Collection points.
    pub collection_points: PointIndex,
}

impl CountyIndex {
    /// Builds the indexes from a county's layers (as a store or the demo hands them over).
    pub fn new(mut layers: BTreeMap<Layer, Vec<Feature>>) -> Self {
        let mut take = |l: Layer| layers.remove(&l).unwrap_or_default();
        let effective: HashSet<i64> = take(Layer::GridPlans)
            .iter()
            .filter(|p| p.text("status") == Some("effective"))
            .filter_map(|p| p.id.map(|id| id.0))
            .collect();
        let grids = take(Layer::Grids).into_iter().filter(|g| {
            g.get("plan_id")
                .and_then(gridgov_model::Value::as_i64)
                .is_some_and(|p| effective.contains(&p))
        });
        Self {
            counties: PolygonIndex::new(take(Layer::Counties)),
            townships: PolygonIndex::new(take(Layer::Townships)),
            villages: PolygonIndex::new(take(Layer::Villages)),
            groups: PolygonIndex::new(take(Layer::VillagerGroups)),
            grids: PolygonIndex::new(grids),
            transfer_stations: PointIndex::new(take(Layer::TransferStations)),
            collection_points: PointIndex::new(take(Layer::CollectionPoints)),
        }
    }

    /// Looks up a point given in `crs`; `None` when it lies outside the county.
    pub fn lookup(&self, crs: Crs, lon: f64, lat: f64) -> Option<Lookup<'_>> {
        let point = crs::to_wgs84(crs, Coord { x: lon, y: lat });
        self.counties.containing(point)?;
        Some(Lookup {
            point,
            township: self.townships.containing(point),
            village: self.villages.containing(point),
            group: self.groups.containing(point),
            grid: self.grids.containing(point),
            transfer_station: nearest(&self.transfer_stations, point),
            collection_point: nearest(&self.collection_points, point),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Distance, Geodesic, Geometry, Point};

    fn demo() -> (CountyIndex, Vec<Feature>) {
        let mut layers = gridgov_demo::generate(42).dataset.layers;
        let households = layers.remove(&Layer::Households).unwrap();
        (CountyIndex::new(layers), households)
    }

    fn at(f: &Feature) -> Coord<f64> {
        match f.geometry {
            Some(Geometry::Point(p)) => p.0,
            _ => panic!("not a point"),
        }
    }

    #[test]
    fn every_household_is_in_exactly_its_grid_and_village() {
        let (index, households) = demo();
        assert!(index.grids.len() >= 60 && index.villages.len() >= 60);
        for h in &households {
            let c = at(h);
            let found = index.lookup(Crs::Wgs84, c.x, c.y).unwrap();
            let grid = found.grid.unwrap_or_else(|| panic!("no grid for {c:?}"));
            let village = found.village.unwrap();
            // The grid and village found are the ones whose polygons hold the point, and no
            // other polygon does (no demo household lies on a shared boundary; there the
            // lowest id would win, see `PolygonIndex`).
            let grids = index.grids.covering(c);
            assert_eq!(grids.len(), 1, "{c:?} in {} grids", grids.len());
            assert_eq!(grids[0].id, grid.id, "{c:?}");
            let villages = index.villages.covering(c);
            assert_eq!(villages.len(), 1, "{c:?} in {} villages", villages.len());
            assert_eq!(villages[0].id, village.id);
            // The household's own division is the village found (or a group inside it).
            assert!(
                h.division
                    .as_str()
                    .starts_with(&village.division.as_str()[..9]),
                "{} in {}",
                h.division,
                village.division
            );
            // The grid lies under the village found.
            let code = grid.text("code").unwrap();
            assert!(code.starts_with(village.division.as_str()), "{code}");
        }
    }

    #[test]
    fn offset_inputs_land_in_the_same_grid() {
        let (index, households) = demo();
        for h in households.iter().step_by(97) {
            let c = at(h);
            let want = index.lookup(Crs::Wgs84, c.x, c.y).unwrap().grid.unwrap().id;
            for crs in [Crs::Gcj02, Crs::Bd09] {
                let o = crs::from_wgs84(crs, c);
                let got = index.lookup(crs, o.x, o.y).unwrap();
                assert_eq!(got.grid.unwrap().id, want, "{crs:?} {c:?}");
            }
        }
    }

    #[test]
    fn nearest_station_is_the_nearest_by_brute_force() {
        let (index, households) = demo();
        let stations: Vec<Coord<f64>> = gridgov_demo::generate(42).dataset.layers
            [&Layer::TransferStations]
            .iter()
            .map(at)
            .collect();
        for h in households.iter().step_by(211) {
            let c = at(h);
            let found = index.lookup(Crs::Wgs84, c.x, c.y).unwrap();
            let best = stations
                .iter()
                .map(|s| Geodesic.distance(Point(c), Point(*s)))
                .fold(f64::INFINITY, f64::min);
            let got = found.transfer_station.unwrap().metres;
            assert!((got - best).abs() < 1e-6, "{got} vs {best}");
        }
    }

    #[test]
    fn a_point_outside_the_county_finds_nothing() {
        let (index, _) = demo();
        assert!(index.lookup(Crs::Wgs84, 116.4, 39.9).is_none());
    }
}
