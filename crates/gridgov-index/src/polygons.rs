//! Which polygon feature covers a point.

use geo::{BoundingRect, Coord, Geometry, Intersects, MultiPolygon, Point};
use gridgov_model::Feature;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

/// An R-tree over the bounding boxes of polygon features; the tree only narrows the
/// candidates, each of which is then tested exactly against its polygon.
///
/// A point on a boundary shared by several polygons (two grids side by side) belongs to the
/// one with the smallest feature id: the answer never depends on the order of insertion.
#[derive(Debug)]
pub struct PolygonIndex {
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
    features: Vec<(Feature, MultiPolygon<f64>)>,
}

fn polygons(g: &Geometry<f64>) -> Option<MultiPolygon<f64>> {
    match g {
        Geometry::Polygon(p) => Some(MultiPolygon(vec![p.clone()])),
        Geometry::MultiPolygon(mp) => Some(mp.clone()),
        _ => None,
    }
}

impl PolygonIndex {
    /// Indexes the polygon features among `features` (others are skipped).
    pub fn new(features: impl IntoIterator<Item = Feature>) -> Self {
        let mut kept = Vec::new();
        let mut boxes = Vec::new();
        for f in features {
            let Some(mp) = f.geometry.as_ref().and_then(polygons) else {
                continue;
            };
            let Some(r) = mp.bounding_rect() else {
                continue;
            };
            let rect = Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
            boxes.push(GeomWithData::new(rect, kept.len()));
            kept.push((f, mp));
        }
        Self {
            tree: RTree::bulk_load(boxes),
            features: kept,
        }
    }

    /// How many polygons are indexed.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// Every feature whose polygon covers the point (interior or boundary), by id.
    pub fn covering(&self, c: Coord<f64>) -> Vec<&Feature> {
        let p = Point(c);
        let mut out: Vec<&Feature> = self
            .tree
            .locate_in_envelope_intersecting(&AABB::from_point([c.x, c.y]))
            .map(|hit| &self.features[hit.data])
            .filter(|(_, mp)| mp.intersects(&p))
            .map(|(f, _)| f)
            .collect();
        out.sort_by_key(|f| f.id.map(|id| id.0));
        out
    }

    /// The feature that holds the point: the covering one with the smallest id.
    pub fn containing(&self, c: Coord<f64>) -> Option<&Feature> {
        let p = Point(c);
        self.tree
            .locate_in_envelope_intersecting(&AABB::from_point([c.x, c.y]))
            .map(|hit| &self.features[hit.data])
            .filter(|(_, mp)| mp.intersects(&p))
            .map(|(f, _)| f)
            .min_by_key(|f| f.id.map(|id| id.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;
    use gridgov_model::{DivisionCode, FeatureId};

    fn square(id: i64, x0: f64) -> Feature {
        let code: DivisionCode = "520526101201".parse().unwrap_or_else(|e| panic!("{e}"));
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

    #[test]
    fn a_shared_boundary_goes_to_the_smallest_id_whatever_the_order() {
        let on_edge = Coord { x: 105.0, y: 26.5 };
        // Square 3 lies west of the edge x = 105, square 7 east of it.
        let west = || square(3, 104.0);
        let east = || square(7, 105.0);
        for index in [
            PolygonIndex::new([west(), east()]),
            PolygonIndex::new([east(), west()]),
        ] {
            assert_eq!(index.covering(on_edge).len(), 2);
            assert_eq!(
                index.containing(on_edge).and_then(|f| f.id),
                Some(FeatureId(3))
            );
        }
        let index = PolygonIndex::new([square(1, 104.0)]);
        assert!(index.containing(Coord { x: 104.5, y: 26.5 }).is_some());
        assert!(index.containing(Coord { x: 106.5, y: 26.5 }).is_none());
    }
}
