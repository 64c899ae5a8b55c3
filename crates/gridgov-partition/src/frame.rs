//! The local plane units are cut in: metres east and north of the area's centre, rounded to
//! millimetres for the exact integer geometry of `i_overlay`.
//!
//! An equirectangular projection around the centre: over a township (tens of kilometres) its
//! lengths and areas are off by far less than a percent, which is plenty for balance and
//! compactness, and it inverts exactly (up to floating point), so grid polygons come back to
//! WGS84 on the very coordinates they were cut on.

use geo::Coord;
use i_overlay::i_float::int::point::IntPoint;

/// Mean Earth radius in metres (the sphere H3 also uses).
const EARTH_RADIUS: f64 = 6_371_007.180_918_475;

/// Integer units per metre: one millimetre.
pub const SCALE: f64 = 1000.0;

/// The largest distance from the centre the integer plane holds, in metres (`i32` millimetres,
/// with room for the overlay's intersection arithmetic).
pub const MAX_EXTENT: f64 = 500_000.0;

/// A local plane around a centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    lon0: f64,
    lat0: f64,
    /// Metres per degree of longitude at the centre.
    kx: f64,
    /// Metres per degree of latitude.
    ky: f64,
}

impl Frame {
    /// The plane centred on a WGS84 point.
    pub fn around(centre: Coord<f64>) -> Self {
        let ky = EARTH_RADIUS * std::f64::consts::PI / 180.0;
        Self {
            lon0: centre.x,
            lat0: centre.y,
            kx: ky * centre.y.to_radians().cos(),
            ky,
        }
    }

    /// A WGS84 point in the plane (metres).
    pub fn to_plane(&self, c: Coord<f64>) -> [f64; 2] {
        [(c.x - self.lon0) * self.kx, (c.y - self.lat0) * self.ky]
    }

    /// A plane point (metres) back in WGS84.
    pub fn to_lonlat(&self, p: [f64; 2]) -> Coord<f64> {
        Coord {
            x: self.lon0 + p[0] / self.kx,
            y: self.lat0 + p[1] / self.ky,
        }
    }

    /// A WGS84 point on the millimetre grid; `None` beyond [`MAX_EXTENT`] or not finite.
    pub fn to_int(&self, c: Coord<f64>) -> Option<IntPoint> {
        let [x, y] = self.to_plane(c);
        let limit = MAX_EXTENT;
        if !(x.abs() <= limit && y.abs() <= limit) {
            return None;
        }
        Some(IntPoint::new(
            (x * SCALE).round() as i32,
            (y * SCALE).round() as i32,
        ))
    }

    /// A millimetre-grid point back in WGS84.
    pub fn from_int(&self, p: IntPoint) -> Coord<f64> {
        self.to_lonlat(plane(p))
    }
}

/// A millimetre-grid point in metres.
pub fn plane(p: IntPoint) -> [f64; 2] {
    [f64::from(p.x) / SCALE, f64::from(p.y) / SCALE]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_measures_metres() {
        let f = Frame::around(Coord { x: 106.7, y: 26.6 });
        let c = Coord {
            x: 106.71,
            y: 26.61,
        };
        let back = f.to_lonlat(f.to_plane(c));
        assert!((back.x - c.x).abs() < 1e-12 && (back.y - c.y).abs() < 1e-12);
        // 0.01° of latitude is about 1,112 m everywhere.
        let [_, y] = f.to_plane(c);
        assert!((y - 1_111.95).abs() < 1.0, "{y}");
        assert!(f.to_int(Coord { x: 120.0, y: 26.6 }).is_none());
    }
}
