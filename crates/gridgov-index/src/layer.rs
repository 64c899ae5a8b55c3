//! One layer's features in an R-tree: which polygon holds a point, what is nearest, what lies
//! within a distance or a bounding box; kept current feature by feature.

use std::collections::HashMap;

use geo::coordinate_position::{CoordPos, CoordinatePosition};
use geo::{
    BoundingRect, Closest, ClosestPoint, Coord, Distance, Geodesic, Geometry, InteriorPoint,
    Intersects, MapCoords, Point,
};
use gridgov_model::{Feature, FeatureId, Layer};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use crate::cells::Cells;

/// Metres per degree of latitude, rounded down (the meridian degree is 110.57 km at the
/// equator and longer elsewhere).
const METRES_PER_DEGREE_FLOOR: f64 = 110_000.0;

/// The plane the tree works in: longitude scaled by the cosine of a reference latitude, so
/// that a degree east and a degree north weigh about the same (a local equirectangular
/// projection). Fixed when the index is made, so features can come and go.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    scale: f64,
}

impl Frame {
    /// The frame for data around latitude `lat` (degrees).
    pub fn at_latitude(lat: f64) -> Self {
        let lat = if lat.is_finite() {
            lat.clamp(-80.0, 80.0)
        } else {
            0.0
        };
        Self {
            scale: lat.to_radians().cos(),
        }
    }

    fn to_plane(self, c: Coord<f64>) -> [f64; 2] {
        [c.x * self.scale, c.y]
    }

    /// A safe lower bound of the metres that one planar unit spans between points no further
    /// from the equator than `max_abs_lat`.
    fn metres_per_unit_floor(self, max_abs_lat: f64) -> f64 {
        let east = max_abs_lat.min(89.0).to_radians().cos() / self.scale;
        METRES_PER_DEGREE_FLOOR * east.min(1.0) * 0.99
    }
}

/// A feature's geometry as the index tests it.
#[derive(Debug)]
enum Shape {
    Point(Coord<f64>),
    Other(Geometry<f64>),
}

#[derive(Debug)]
struct Entry {
    feature: Feature,
    shape: Shape,
    rect: [[f64; 2]; 2],
}

type Node = GeomWithData<Rectangle<[f64; 2]>, i64>;

fn node(rect: [[f64; 2]; 2], id: i64) -> Node {
    GeomWithData::new(Rectangle::from_corners(rect[0], rect[1]), id)
}

/// The features of one layer, by id, in an R-tree of their bounding boxes (in the [`Frame`]'s
/// plane) and an H3 cell set. The tree only narrows candidates: polygons are tested exactly
/// on their own coordinates, distances are geodesic metres on WGS84.
///
/// A point on a boundary shared by several polygons (two grids side by side) belongs to the
/// one with the smallest feature id, whatever the order the features arrived in.
#[derive(Debug)]
pub struct LayerIndex {
    layer: Layer,
    frame: Frame,
    tree: RTree<Node>,
    entries: HashMap<i64, Entry>,
    cells: Cells,
    max_abs_lat: f64,
}

/// A feature found near a point, with its geodesic distance in metres.
#[derive(Debug, Clone, Copy)]
pub struct Near<'a> {
    /// The feature.
    pub feature: &'a Feature,
    /// Geodesic distance on WGS84 from the query point to the nearest point of the feature's
    /// geometry (0 inside a polygon).
    pub metres: f64,
}

impl LayerIndex {
    /// An empty index of `layer` in `frame`, with H3 cells at `resolution`.
    pub fn empty(layer: Layer, frame: Frame, resolution: h3o::Resolution) -> Self {
        Self {
            layer,
            frame,
            tree: RTree::new(),
            entries: HashMap::new(),
            cells: Cells::new(resolution),
            max_abs_lat: 0.0,
        }
    }

    /// Indexes `features` of `layer` at once (features without an id or a geometry are
    /// skipped: the index answers with stored features only).
    pub fn new(
        layer: Layer,
        frame: Frame,
        resolution: h3o::Resolution,
        features: impl IntoIterator<Item = Feature>,
    ) -> Self {
        let mut index = Self::empty(layer, frame, resolution);
        let mut nodes = Vec::new();
        for f in features {
            if let Some((id, entry)) = index.entry(f) {
                nodes.push(node(entry.rect, id));
                index.note(id, &entry);
                index.entries.insert(id, entry);
            }
        }
        index.tree = RTree::bulk_load(nodes);
        index
    }

    fn entry(&self, feature: Feature) -> Option<(i64, Entry)> {
        let id = feature.id?.0;
        let geometry = feature.geometry.as_ref()?;
        let shape = match geometry {
            Geometry::Point(p) => Shape::Point(p.0),
            other => Shape::Other(other.clone()),
        };
        let r = geometry.bounding_rect()?;
        let rect = [self.frame.to_plane(r.min()), self.frame.to_plane(r.max())];
        Some((
            id,
            Entry {
                feature,
                shape,
                rect,
            },
        ))
    }

    fn note(&mut self, id: i64, entry: &Entry) {
        let lat = entry.rect[0][1].abs().max(entry.rect[1][1].abs());
        self.max_abs_lat = self.max_abs_lat.max(lat);
        if let Some(at) = entry.shape_point() {
            self.cells.insert(id, at);
        }
    }

    /// The layer indexed.
    pub fn layer(&self) -> Layer {
        self.layer
    }

    /// How many features are indexed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The feature with this id.
    pub fn get(&self, id: FeatureId) -> Option<&Feature> {
        self.entries.get(&id.0).map(|e| &e.feature)
    }

    /// Every feature, in no particular order.
    pub fn features(&self) -> impl Iterator<Item = &Feature> {
        self.entries.values().map(|e| &e.feature)
    }

    /// The H3 cells of the features.
    pub fn cells(&self) -> &Cells {
        &self.cells
    }

    /// Adds a feature or replaces the one with its id; a feature without an id or geometry
    /// only removes what was there.
    pub fn upsert(&mut self, feature: Feature) {
        let Some(id) = feature.id else { return };
        self.remove(id);
        if let Some((id, entry)) = self.entry(feature) {
            self.tree.insert(node(entry.rect, id));
            self.note(id, &entry);
            self.entries.insert(id, entry);
        }
    }

    /// Removes a feature; `false` when it was not indexed.
    pub fn remove(&mut self, id: FeatureId) -> bool {
        let Some(entry) = self.entries.remove(&id.0) else {
            return false;
        };
        self.tree.remove(&node(entry.rect, id.0));
        self.cells.remove(id.0);
        true
    }

    /// Candidates whose bounding box holds the point.
    fn candidates(&self, c: Coord<f64>) -> impl Iterator<Item = &Entry> {
        self.tree
            .locate_in_envelope_intersecting(&AABB::from_point(self.frame.to_plane(c)))
            .filter_map(|n| self.entries.get(&n.data))
    }

    /// Every feature whose geometry covers the point (interior or boundary), by id.
    pub fn covering(&self, c: Coord<f64>) -> Vec<&Feature> {
        let mut out: Vec<&Feature> = self
            .candidates(c)
            .filter(|e| e.covers(c))
            .map(|e| &e.feature)
            .collect();
        out.sort_by_key(|f| f.id);
        out
    }

    /// The feature that holds the point: the covering one with the smallest id.
    pub fn containing(&self, c: Coord<f64>) -> Option<&Feature> {
        self.containing_where(c, |_| true)
    }

    /// The feature that holds the point among those `keep` accepts (smallest id wins).
    pub fn containing_where(
        &self,
        c: Coord<f64>,
        keep: impl Fn(&Feature) -> bool,
    ) -> Option<&Feature> {
        self.candidates(c)
            .filter(|e| keep(&e.feature) && e.covers(c))
            .map(|e| &e.feature)
            .min_by_key(|f| f.id)
    }

    /// Features whose bounding box intersects `[min_lon, min_lat, max_lon, max_lat]` (the
    /// stores' bbox filter), by id.
    pub fn in_bbox(&self, bbox: [f64; 4]) -> Vec<&Feature> {
        let lower = self.frame.to_plane(Coord {
            x: bbox[0],
            y: bbox[1],
        });
        let upper = self.frame.to_plane(Coord {
            x: bbox[2],
            y: bbox[3],
        });
        let mut out: Vec<&Feature> = self
            .tree
            .locate_in_envelope_intersecting(&AABB::from_corners(lower, upper))
            .filter_map(|n| self.entries.get(&n.data))
            .map(|e| &e.feature)
            .collect();
        out.sort_by_key(|f| f.id);
        out
    }

    /// The `k` nearest features, nearest first (ties by id). Candidates come from the tree in
    /// planar order; the search stops once the planar distance, turned into a safe lower
    /// bound in metres, exceeds the k-th best geodesic distance found.
    pub fn nearest(&self, c: Coord<f64>, k: usize) -> Vec<Near<'_>> {
        self.search(c, k, f64::INFINITY)
    }

    /// Every feature within `metres` of the point, nearest first (ties by id).
    pub fn within(&self, c: Coord<f64>, metres: f64) -> Vec<Near<'_>> {
        self.search(c, usize::MAX, metres)
    }

    fn search(&self, c: Coord<f64>, k: usize, limit: f64) -> Vec<Near<'_>> {
        if k == 0 || limit.is_nan() || limit < 0.0 {
            return Vec::new();
        }
        let floor = self
            .frame
            .metres_per_unit_floor(self.max_abs_lat.max(c.y.abs()));
        let mut found: Vec<Near<'_>> = Vec::new();
        let mut kth = limit;
        for (hit, d2) in self
            .tree
            .nearest_neighbor_iter_with_distance_2(&self.frame.to_plane(c))
        {
            let bound = d2.sqrt() * floor;
            if bound > limit || (found.len() >= k && bound > kth) {
                break;
            }
            let Some(e) = self.entries.get(&hit.data) else {
                continue;
            };
            let metres = e.metres_from(c, self.frame);
            if metres > limit {
                continue;
            }
            let at = found.partition_point(|n| {
                n.metres
                    .total_cmp(&metres)
                    .then(n.feature.id.cmp(&e.feature.id))
                    .is_lt()
            });
            if at < k {
                found.insert(
                    at,
                    Near {
                        feature: &e.feature,
                        metres,
                    },
                );
                if found.len() > k {
                    found.pop();
                }
                if found.len() >= k {
                    kth = found[k - 1].metres;
                }
            }
        }
        found
    }
}

impl Entry {
    /// Whether the geometry covers the point (interior or boundary). Polygons are tested
    /// ring by ring: the tree has already checked the bounding box, which geo's `intersects`
    /// would compute again from every vertex.
    fn covers(&self, c: Coord<f64>) -> bool {
        let on = |p: &geo::Polygon<f64>| p.coordinate_position(&c) != CoordPos::Outside;
        match &self.shape {
            Shape::Point(p) => *p == c,
            Shape::Other(Geometry::Polygon(p)) => on(p),
            Shape::Other(Geometry::MultiPolygon(mp)) => mp.0.iter().any(on),
            Shape::Other(g) => g.intersects(&c),
        }
    }

    /// A representative point: the point itself, else geo's interior point (inside a
    /// polygon, on a line).
    fn shape_point(&self) -> Option<Coord<f64>> {
        match &self.shape {
            Shape::Point(p) => Some(*p),
            Shape::Other(g) => g.interior_point().map(|p| p.0),
        }
    }

    /// Geodesic metres from `c` to the nearest point of the geometry. For lines and polygons
    /// the nearest point is found in the local plane around `c` and the distance to it is
    /// then measured geodesically.
    fn metres_from(&self, c: Coord<f64>, frame: Frame) -> f64 {
        let to = match &self.shape {
            Shape::Point(p) => *p,
            Shape::Other(g) => {
                if g.intersects(&c) {
                    return 0.0;
                }
                let s = frame.scale;
                let plane = g.map_coords(|q| Coord { x: q.x * s, y: q.y });
                match plane.closest_point(&Point::new(c.x * s, c.y)) {
                    Closest::Intersection(p) | Closest::SinglePoint(p) => Coord {
                        x: p.x() / s,
                        y: p.y(),
                    },
                    Closest::Indeterminate => return f64::INFINITY,
                }
            }
        };
        Geodesic.distance(Point(c), Point(to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, Haversine, HaversineClosestPoint};
    use gridgov_model::DivisionCode;

    fn at_res() -> h3o::Resolution {
        crate::cells::DEFAULT_RESOLUTION
    }

    fn square(id: i64, x0: f64) -> Feature {
        let code: DivisionCode = "520526101201".parse().unwrap();
        let mut f = Feature::new(
            code,
            Some(Geometry::Polygon(polygon![
                (x: x0, y: 26.0), (x: x0 + 1.0, y: 26.0), (x: x0 + 1.0, y: 27.0),
                (x: x0, y: 27.0), (x: x0, y: 26.0)
            ])),
        );
        f.id = Some(FeatureId(id));
        f
    }

    fn demo_layer(layer: Layer) -> LayerIndex {
        let features = gridgov_demo::generate(42)
            .dataset
            .layers
            .remove(&layer)
            .unwrap();
        LayerIndex::new(layer, Frame::at_latitude(26.5), at_res(), features)
    }

    /// Seeded query points over the demo county's extent (and a little beyond).
    fn probes(n: usize) -> Vec<Coord<f64>> {
        let mut state: u64 = 42;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let index = demo_layer(Layer::Counties);
        let county = index.features().next().unwrap();
        let r = county.geometry.as_ref().unwrap().bounding_rect().unwrap();
        (0..n)
            .map(|_| Coord {
                x: r.min().x - 0.02 + next() * (r.width() + 0.04),
                y: r.min().y - 0.02 + next() * (r.height() + 0.04),
            })
            .collect()
    }

    #[test]
    fn a_shared_boundary_goes_to_the_smallest_id_whatever_the_order() {
        let on_edge = Coord { x: 105.0, y: 26.5 };
        let frame = Frame::at_latitude(26.5);
        // Square 3 lies west of the edge x = 105, square 7 east of it.
        for order in [
            [square(3, 104.0), square(7, 105.0)],
            [square(7, 105.0), square(3, 104.0)],
        ] {
            let index = LayerIndex::new(Layer::Grids, frame, at_res(), order);
            assert_eq!(index.covering(on_edge).len(), 2);
            assert_eq!(
                index.containing(on_edge).and_then(|f| f.id),
                Some(FeatureId(3))
            );
        }
        // Built one by one, the same.
        let mut index = LayerIndex::empty(Layer::Grids, frame, at_res());
        index.upsert(square(7, 105.0));
        index.upsert(square(3, 104.0));
        assert_eq!(
            index.containing(on_edge).and_then(|f| f.id),
            Some(FeatureId(3))
        );
        assert!(index.containing(Coord { x: 106.5, y: 26.5 }).is_none());
        // Removing square 3 hands the edge to square 7; moving 7 away empties it.
        assert!(index.remove(FeatureId(3)));
        assert!(!index.remove(FeatureId(3)));
        assert_eq!(
            index.containing(on_edge).and_then(|f| f.id),
            Some(FeatureId(7))
        );
        index.upsert(square(7, 110.0));
        assert_eq!(index.len(), 1);
        assert!(index.containing(on_edge).is_none());
        assert!(index.containing(Coord { x: 110.5, y: 26.5 }).is_some());
    }

    #[test]
    fn nearest_and_within_agree_with_brute_force_on_points() {
        let index = demo_layer(Layer::CollectionPoints);
        let all: Vec<(&Feature, Coord<f64>)> = index
            .features()
            .map(|f| match f.geometry {
                Some(Geometry::Point(p)) => (f, p.0),
                _ => panic!("not a point"),
            })
            .collect();
        for q in probes(60) {
            let mut brute: Vec<(f64, FeatureId)> = all
                .iter()
                .map(|(f, c)| (Geodesic.distance(Point(q), Point(*c)), f.id.unwrap()))
                .collect();
            brute.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let got = index.nearest(q, 5);
            let got: Vec<FeatureId> = got.iter().map(|n| n.feature.id.unwrap()).collect();
            let want: Vec<FeatureId> = brute.iter().take(5).map(|b| b.1).collect();
            assert_eq!(got, want, "{q:?}");
            let within = index.within(q, 800.0);
            let want = brute.iter().take_while(|b| b.0 <= 800.0).count();
            assert_eq!(within.len(), want, "{q:?}");
            assert!(within.windows(2).all(|w| w[0].metres <= w[1].metres));
        }
    }

    #[test]
    fn distances_to_roads_agree_with_haversine_within_half_a_percent() {
        let index = demo_layer(Layer::Roads);
        for q in probes(40) {
            let brute = index
                .features()
                .map(|f| {
                    let Some(Geometry::LineString(line)) = &f.geometry else {
                        panic!("not a line");
                    };
                    match line.haversine_closest_point(&Point(q)) {
                        Closest::Intersection(p) | Closest::SinglePoint(p) => {
                            Haversine.distance(Point(q), p)
                        }
                        Closest::Indeterminate => f64::INFINITY,
                    }
                })
                .fold(f64::INFINITY, f64::min);
            let got = index.nearest(q, 1)[0].metres;
            // Haversine on a sphere against geodesic on the ellipsoid: within 0.5 %.
            assert!(
                (got - brute).abs() <= 0.005 * brute + 0.5,
                "{q:?}: {got} vs {brute}"
            );
        }
    }

    #[test]
    fn bbox_finds_exactly_the_features_whose_box_meets_it() {
        let index = demo_layer(Layer::RentalHouses);
        let boxes: Vec<[f64; 4]> = probes(30)
            .chunks(2)
            .map(|p| {
                [
                    p[0].x.min(p[1].x),
                    p[0].y.min(p[1].y),
                    p[0].x.min(p[1].x) + (p[0].x - p[1].x).abs() * 0.2,
                    p[0].y.min(p[1].y) + (p[0].y - p[1].y).abs() * 0.2,
                ]
            })
            .collect();
        for b in boxes {
            let got: Vec<FeatureId> = index.in_bbox(b).iter().map(|f| f.id.unwrap()).collect();
            let mut want: Vec<FeatureId> = index
                .features()
                .filter(|f| {
                    let r = f.geometry.as_ref().unwrap().bounding_rect().unwrap();
                    r.min().x <= b[2] && r.max().x >= b[0] && r.min().y <= b[3] && r.max().y >= b[1]
                })
                .map(|f| f.id.unwrap())
                .collect();
            want.sort();
            assert_eq!(got, want, "{b:?}");
        }
    }
}
