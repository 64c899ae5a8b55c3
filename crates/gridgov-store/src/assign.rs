//! Finding the division a feature lies in, for data that arrives without a division code
//! (shapefiles, OpenStreetMap).

use geo::{BoundingRect, Contains, Geometry, InteriorPoint, Intersects, MultiPolygon, Point, Rect};
use gridgov_model::validate::area_within;
use gridgov_model::{DivisionCode, DivisionLevel, Layer};

use crate::{Query, Store, StoreError};

/// The stored counties, townships and villages with their polygons.
#[derive(Debug, Default)]
pub struct DivisionIndex {
    /// Deepest level first, so that the first hit is the most specific division.
    entries: Vec<(DivisionLevel, DivisionCode, MultiPolygon<f64>, Rect<f64>)>,
}

impl DivisionIndex {
    /// Loads every stored county, township and village.
    pub async fn load(store: &dyn Store) -> Result<Self, StoreError> {
        let mut entries = Vec::new();
        for layer in [Layer::Villages, Layer::Townships, Layer::Counties] {
            for f in store.query(layer, &Query::default()).await? {
                let mp = match f.geometry {
                    Some(Geometry::MultiPolygon(mp)) => mp,
                    Some(Geometry::Polygon(p)) => MultiPolygon(vec![p]),
                    _ => continue,
                };
                if let Some(r) = mp.bounding_rect() {
                    entries.push((f.division.level(), f.division, mp, r));
                }
            }
        }
        Ok(Self { entries })
    }

    /// Whether any division is stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The deepest division of one of the `levels` that holds the geometry: that contains its
    /// interior point and, for an area, the area itself (but for a sliver: farmland across a
    /// village line belongs to the township). An area no division holds goes to the deepest
    /// holding its interior point, where validation names what is wrong.
    pub fn locate(&self, g: &Geometry<f64>, levels: &[DivisionLevel]) -> Option<DivisionCode> {
        let p: Point<f64> = g.interior_point()?;
        let mut holding = self
            .entries
            .iter()
            .filter(|(level, ..)| levels.contains(level))
            .filter(|(_, _, mp, r)| r.intersects(&p) && (mp.contains(&p) || mp.intersects(&p)));
        let first = holding.next()?;
        if !matches!(g, Geometry::Polygon(_) | Geometry::MultiPolygon(_)) {
            return Some(first.1);
        }
        std::iter::once(first)
            .chain(holding)
            .find(|(_, _, mp, _)| area_within(g, mp))
            .map_or(Some(first.1), |(_, code, ..)| Some(*code))
    }

    /// Whether swapping longitude and latitude would put the geometry in a stored division.
    pub fn swapped_fits(&self, g: &Geometry<f64>) -> bool {
        use geo::MapCoords;
        let s = g.map_coords(|c| geo::Coord { x: c.y, y: c.x });
        let all = [
            DivisionLevel::County,
            DivisionLevel::Township,
            DivisionLevel::Village,
        ];
        self.locate(&s, &all).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, Polygon};

    fn square(x0: f64, x1: f64) -> Polygon<f64> {
        polygon![(x: x0, y: 0.0), (x: x1, y: 0.0), (x: x1, y: 1.0), (x: x0, y: 1.0), (x: x0, y: 0.0)]
    }

    #[test]
    fn an_area_across_a_village_line_belongs_to_the_township() {
        let entry = |code: &str, p: Polygon<f64>| {
            let code: DivisionCode = code.parse().unwrap();
            let mp = MultiPolygon(vec![p]);
            let r = mp.bounding_rect().unwrap();
            (code.level(), code, mp, r)
        };
        let index = DivisionIndex {
            entries: vec![
                entry("520526101201", square(0.0, 5.0)),
                entry("520526101202", square(5.0, 10.0)),
                entry("520526101000", square(0.0, 10.0)),
                entry("520526000000", square(-10.0, 20.0)),
            ],
        };
        let all = [
            DivisionLevel::Village,
            DivisionLevel::Township,
            DivisionLevel::County,
        ];
        let locate = |p: Polygon<f64>| index.locate(&Geometry::Polygon(p), &all).unwrap();
        assert_eq!(locate(square(1.0, 2.0)).as_str(), "520526101201");
        // Mostly in village 202 but across the line: the township.
        assert_eq!(locate(square(4.0, 8.0)).as_str(), "520526101000");
        // A sliver (under 1 %) across the line still belongs to the village.
        assert_eq!(locate(square(4.99, 8.0)).as_str(), "520526101202");
        // Beyond the township: the county.
        assert_eq!(locate(square(9.0, 12.0)).as_str(), "520526000000");
        // A line takes the deepest division holding its interior point.
        let line = Geometry::LineString(geo::LineString::from(vec![
            (4.0, 0.5),
            (6.5, 0.5),
            (8.0, 0.5),
        ]));
        assert_eq!(index.locate(&line, &all).unwrap().as_str(), "520526101202");
    }
}
