//! Nearest point features, by geodesic distance.

use geo::{Coord, Distance, Geodesic, Geometry, Point};
use gridgov_model::Feature;
use rstar::primitives::GeomWithData;
use rstar::RTree;

/// Candidates always taken from the tree before the search may stop.
const CANDIDATES: usize = 8;

/// Metres per planar degree, as a lower bound: a degree of latitude is at least 110.5 km,
/// and the x scale (the cosine of the mean latitude) errs by a few per cent at most over a
/// county, so 100 km never overestimates.
const LOWER_METRES_PER_DEGREE: f64 = 100_000.0;

/// An R-tree over point features in a plane whose x axis is scaled by the cosine of the
/// mean latitude (so that a degree east and a degree north weigh alike); distances reported
/// are geodesic metres on WGS84.
#[derive(Debug)]
pub struct PointIndex {
    tree: RTree<GeomWithData<[f64; 2], usize>>,
    features: Vec<(Feature, Coord<f64>)>,
    scale: f64,
}

impl PointIndex {
    /// Indexes the point features among `features` (others are skipped).
    pub fn new(features: impl IntoIterator<Item = Feature>) -> Self {
        let kept: Vec<(Feature, Coord<f64>)> = features
            .into_iter()
            .filter_map(|f| match f.geometry {
                Some(Geometry::Point(p)) => Some((f, p.0)),
                _ => None,
            })
            .collect();
        let mean_lat = if kept.is_empty() {
            0.0
        } else {
            kept.iter().map(|(_, c)| c.y).sum::<f64>() / kept.len() as f64
        };
        let scale = mean_lat.to_radians().cos();
        let points = kept
            .iter()
            .enumerate()
            .map(|(i, (_, c))| GeomWithData::new([c.x * scale, c.y], i))
            .collect();
        Self {
            tree: RTree::bulk_load(points),
            features: kept,
            scale,
        }
    }

    /// How many points are indexed.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// The `k` nearest features and their geodesic distances in metres, nearest first (ties
    /// broken by id). Candidates come from the tree in planar order and are ranked by
    /// geodesic distance; the search stops once the planar distance, turned into a safe lower
    /// bound in metres, exceeds the k-th best geodesic distance found.
    pub fn nearest(&self, c: Coord<f64>, k: usize) -> Vec<(&Feature, f64)> {
        if k == 0 {
            return Vec::new();
        }
        let here = Point(c);
        let mut found: Vec<(&Feature, f64)> = Vec::new();
        for (hit, d2) in self
            .tree
            .nearest_neighbor_iter_with_distance_2(&[c.x * self.scale, c.y])
        {
            if found.len() >= k.max(CANDIDATES) {
                let kth = found[k - 1].1;
                if d2.sqrt() * LOWER_METRES_PER_DEGREE > kth {
                    break;
                }
            }
            let (f, at) = &self.features[hit.data];
            found.push((f, Geodesic.distance(here, Point(*at))));
            found.sort_by(|a, b| {
                a.1.total_cmp(&b.1)
                    .then_with(|| a.0.id.map(|i| i.0).cmp(&b.0.id.map(|i| i.0)))
            });
        }
        found.truncate(k);
        found
    }
}
