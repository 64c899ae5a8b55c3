//! A county's divisions, grids and stations, and the lookup of one point.

use std::collections::{BTreeMap, HashMap};

use geo::{BoundingRect, Coord};
use gridgov_model::{crs, Crs, Feature, FeatureId, GeometryKind, Layer};
use h3o::Resolution;

use crate::cells;
use crate::layer::{Frame, LayerIndex};

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
fn nearest(index: Option<&LayerIndex>, point: Coord<f64>) -> Option<Nearest<'_>> {
    index?.nearest(point, 1).first().map(|n| Nearest {
        feature: n.feature,
        metres: n.metres,
    })
}

/// What a lookup may answer with: the server's scope of the asking user. A point the filter
/// refuses is answered as outside; features it refuses are left out (the nearest station is
/// the nearest one it admits).
pub trait LookupFilter {
    /// Whether the point (looked up without a filter) is one to answer.
    fn point(&self, found: &Lookup<'_>) -> bool;
    /// Whether a feature may be part of an answer.
    fn feature(&self, f: &Feature) -> bool;
}

/// The filter that admits everything (the command line, tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct Everything;

impl LookupFilter for Everything {
    fn point(&self, _: &Lookup<'_>) -> bool {
        true
    }
    fn feature(&self, _: &Feature) -> bool {
        true
    }
}

/// How many nearest candidates are tried for the nearest admitted one.
const NEAREST_CANDIDATES: usize = 64;

fn nearest_where<'a>(
    index: Option<&'a LayerIndex>,
    point: Coord<f64>,
    filter: &dyn LookupFilter,
) -> Option<Nearest<'a>> {
    let first = nearest(index, point)?;
    if filter.feature(first.feature) {
        return Some(first);
    }
    index?
        .nearest(point, NEAREST_CANDIDATES)
        .into_iter()
        .find(|n| filter.feature(n.feature))
        .map(|n| Nearest {
            feature: n.feature,
            metres: n.metres,
        })
}

/// The layers a lookup reads.
pub const LOOKUP_LAYERS: [Layer; 8] = [
    Layer::Counties,
    Layer::Townships,
    Layer::Villages,
    Layer::VillagerGroups,
    Layer::GridPlans,
    Layer::Grids,
    Layer::TransferStations,
    Layer::CollectionPoints,
];

/// Every spatial layer of a county in a [`LayerIndex`], and which grid plans are in force.
#[derive(Debug)]
pub struct CountyIndex {
    frame: Frame,
    resolution: Resolution,
    layers: BTreeMap<Layer, LayerIndex>,
    /// Grid plans by id: whether each is the effective one.
    plans: HashMap<i64, bool>,
}

/// The latitude to centre the index's plane on: the county's, else any feature's.
fn reference_latitude(layers: &BTreeMap<Layer, Vec<Feature>>) -> f64 {
    let of = |f: &Feature| {
        f.geometry
            .as_ref()
            .and_then(BoundingRect::bounding_rect)
            .map(|r| r.center().y)
    };
    layers
        .get(&Layer::Counties)
        .and_then(|c| c.iter().find_map(of))
        .or_else(|| layers.values().flatten().find_map(of))
        .unwrap_or(0.0)
}

fn is_effective(plan: &Feature) -> bool {
    plan.text("status") == Some("effective")
}

impl CountyIndex {
    /// Indexes a county's layers (as a store or the demo hands them over), with H3 cells at
    /// the default resolution. Attribute tables are not indexed, except grid plans, whose
    /// status decides which grids lookups answer with.
    pub fn new(layers: BTreeMap<Layer, Vec<Feature>>) -> Self {
        Self::with_resolution(layers, cells::DEFAULT_RESOLUTION)
    }

    /// Like [`CountyIndex::new`], with H3 cells at `resolution`.
    pub fn with_resolution(layers: BTreeMap<Layer, Vec<Feature>>, resolution: Resolution) -> Self {
        let frame = Frame::at_latitude(reference_latitude(&layers));
        let mut index = Self {
            frame,
            resolution,
            layers: BTreeMap::new(),
            plans: HashMap::new(),
        };
        for (layer, features) in layers {
            index.replace_layer(layer, features);
        }
        index
    }

    /// The index of a spatial layer (`None` for attribute tables and layers never given).
    pub fn layer(&self, layer: Layer) -> Option<&LayerIndex> {
        self.layers.get(&layer)
    }

    /// The H3 resolution features are indexed at.
    pub fn resolution(&self) -> Resolution {
        self.resolution
    }

    /// Replaces everything indexed of a layer.
    pub fn replace_layer(&mut self, layer: Layer, features: Vec<Feature>) {
        if layer == Layer::GridPlans {
            self.plans = features
                .iter()
                .filter_map(|p| p.id.map(|id| (id.0, is_effective(p))))
                .collect();
        } else if layer.geometry() != GeometryKind::None {
            self.layers.insert(
                layer,
                LayerIndex::new(layer, self.frame, self.resolution, features),
            );
        }
    }

    /// Adds a feature, or replaces the one with its id.
    pub fn upsert(&mut self, layer: Layer, feature: Feature) {
        if layer == Layer::GridPlans {
            if let Some(id) = feature.id {
                self.plans.insert(id.0, is_effective(&feature));
            }
        } else if layer.geometry() != GeometryKind::None {
            let (frame, resolution) = (self.frame, self.resolution);
            self.layers
                .entry(layer)
                .or_insert_with(|| LayerIndex::empty(layer, frame, resolution))
                .upsert(feature);
        }
    }

    /// Removes a feature (nothing happens when it was not indexed).
    pub fn remove(&mut self, layer: Layer, id: FeatureId) {
        if layer == Layer::GridPlans {
            self.plans.remove(&id.0);
        } else if let Some(index) = self.layers.get_mut(&layer) {
            index.remove(id);
        }
    }

    /// Whether a grid belongs to the plan in force (drafts and superseded plans are not
    /// answers).
    pub fn is_effective_grid(&self, grid: &Feature) -> bool {
        grid.get("plan_id")
            .and_then(gridgov_model::Value::as_i64)
            .is_some_and(|p| self.plans.get(&p).copied().unwrap_or(false))
    }

    fn containing(&self, layer: Layer, point: Coord<f64>) -> Option<&Feature> {
        self.layers.get(&layer)?.containing(point)
    }

    /// The grid of the effective plan that holds a WGS84 point (smallest id on a shared
    /// boundary).
    pub fn grid_at(&self, point: Coord<f64>) -> Option<&Feature> {
        self.layers
            .get(&Layer::Grids)?
            .containing_where(point, |g| self.is_effective_grid(g))
    }

    /// Looks up a point given in `crs`; `None` when it lies outside the county.
    pub fn lookup(&self, crs: Crs, lon: f64, lat: f64) -> Option<Lookup<'_>> {
        self.locate(crs::to_wgs84(crs, Coord { x: lon, y: lat }))
    }

    /// [`CountyIndex::lookup`] as a filter allows: `None` also when the filter refuses the
    /// point; features it refuses are left out, and the nearest stations are the nearest it
    /// admits (among the 64 nearest).
    pub fn lookup_where(
        &self,
        crs: Crs,
        lon: f64,
        lat: f64,
        filter: &dyn LookupFilter,
    ) -> Option<Lookup<'_>> {
        let point = crs::to_wgs84(crs, Coord { x: lon, y: lat });
        let l = self.locate(point)?;
        if !filter.point(&l) {
            return None;
        }
        Some(Lookup {
            point,
            township: l.township.filter(|f| filter.feature(f)),
            village: l.village.filter(|f| filter.feature(f)),
            group: l.group.filter(|f| filter.feature(f)),
            grid: l.grid.filter(|f| filter.feature(f)),
            transfer_station: nearest_where(self.layer(Layer::TransferStations), point, filter),
            collection_point: nearest_where(self.layer(Layer::CollectionPoints), point, filter),
        })
    }

    /// Looks up a WGS84 point; `None` when it lies outside the county.
    pub fn locate(&self, point: Coord<f64>) -> Option<Lookup<'_>> {
        // Townships lie inside the county (the store checks containment on every write), so a
        // point in a township is in the county; only the rest is tested against the county's
        // own outline, the longest ring of all.
        let township = self.containing(Layer::Townships, point);
        if township.is_none() {
            self.containing(Layer::Counties, point)?;
        }
        Some(Lookup {
            point,
            township,
            village: self.containing(Layer::Villages, point),
            group: self.containing(Layer::VillagerGroups, point),
            grid: self.grid_at(point),
            transfer_station: nearest(self.layer(Layer::TransferStations), point),
            collection_point: nearest(self.layer(Layer::CollectionPoints), point),
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
        let grids_of = |c| -> Vec<&Feature> {
            index
                .layer(Layer::Grids)
                .unwrap()
                .covering(c)
                .into_iter()
                .filter(|g| index.is_effective_grid(g))
                .collect()
        };
        assert!(index.layer(Layer::Grids).unwrap().len() >= 60);
        assert!(index.layer(Layer::Villages).unwrap().len() >= 60);
        for h in &households {
            let c = at(h);
            let found = index.lookup(Crs::Wgs84, c.x, c.y).unwrap();
            let grid = found.grid.unwrap_or_else(|| panic!("no grid for {c:?}"));
            let village = found.village.unwrap();
            // The grid and village found are the ones whose polygons hold the point, and no
            // other polygon does (no demo household lies on a shared boundary; there the
            // lowest id would win, see `PolygonIndex`).
            let grids = grids_of(c);
            assert_eq!(grids.len(), 1, "{c:?} in {} grids", grids.len());
            assert_eq!(grids[0].id, grid.id, "{c:?}");
            let villages = index.layer(Layer::Villages).unwrap().covering(c);
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
