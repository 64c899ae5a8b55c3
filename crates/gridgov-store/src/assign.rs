//! Finding the division a feature lies in, for data that arrives without a division code
//! (shapefiles, OpenStreetMap).

use geo::{BoundingRect, Contains, Geometry, InteriorPoint, Intersects, MultiPolygon, Point, Rect};
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
    /// interior point and (for lines) intersects it.
    pub fn locate(&self, g: &Geometry<f64>, levels: &[DivisionLevel]) -> Option<DivisionCode> {
        let p: Point<f64> = g.interior_point()?;
        self.entries
            .iter()
            .filter(|(level, ..)| levels.contains(level))
            .find(|(_, _, mp, r)| r.intersects(&p) && (mp.contains(&p) || mp.intersects(&p)))
            .map(|(_, code, ..)| *code)
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
