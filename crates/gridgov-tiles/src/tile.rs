//! Tile maths: the XYZ tile scheme over Web Mercator (EPSG:3857), as slippy maps, MapLibre,
//! PostGIS `ST_TileEnvelope` and Martin number tiles (`y` grows southwards).

use std::fmt;
use std::str::FromStr;

use geo::{coord, Rect};

/// The highest zoom level served.
pub const MAX_ZOOM: u8 = 22;

/// Half the width of the Web Mercator world in metres (π × 6 378 137).
pub const MERCATOR_HALF: f64 = 20_037_508.342_789_244;

/// The latitude where the square Web Mercator world ends (degrees).
pub const MAX_LATITUDE: f64 = 85.051_128_779_806_59;

const EARTH_RADIUS: f64 = 6_378_137.0;

/// Why a tile address is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    /// The zoom level is above [`MAX_ZOOM`].
    #[error("zoom {0} is out of range: zoom levels go from 0 to {MAX_ZOOM}")]
    Zoom(u32),
    /// `x` or `y` is not below `2^z`.
    #[error("tile {z}/{x}/{y} is out of range: at zoom {z}, x and y go from 0 to {max}", max = (1_u64 << z) - 1)]
    OutOfRange {
        /// The zoom.
        z: u8,
        /// The column.
        x: u64,
        /// The row.
        y: u64,
    },
    /// Text that is not `z/x/y` with three whole numbers.
    #[error("'{0}' is not a tile address z/x/y of whole numbers")]
    Malformed(String),
}

/// A tile address `z/x/y` that exists: `z ≤` [`MAX_ZOOM`] and `x, y < 2^z`.
///
/// ```
/// use gridgov_tiles::TileId;
/// let t: TileId = "8/206/107".parse().unwrap();
/// assert_eq!((t.z(), t.x(), t.y()), (8, 206, 107));
/// assert!(TileId::try_from((1, 2, 0)).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    z: u8,
    x: u32,
    y: u32,
}

impl TileId {
    /// The tile `z/x/y`, if it exists.
    pub fn new(z: u8, x: u32, y: u32) -> Result<Self, TileError> {
        if z > MAX_ZOOM {
            return Err(TileError::Zoom(u32::from(z)));
        }
        let n = 1_u64 << z;
        if u64::from(x) >= n || u64::from(y) >= n {
            return Err(TileError::OutOfRange {
                z,
                x: u64::from(x),
                y: u64::from(y),
            });
        }
        Ok(Self { z, x, y })
    }

    /// The zoom level.
    pub fn z(self) -> u8 {
        self.z
    }

    /// The column, from the antimeridian eastwards.
    pub fn x(self) -> u32 {
        self.x
    }

    /// The row, from the north edge southwards.
    pub fn y(self) -> u32 {
        self.y
    }

    /// The width (and height) of a tile at this zoom in Web Mercator metres.
    pub fn size_m(self) -> f64 {
        2.0 * MERCATOR_HALF / f64::from(1_u32 << self.z)
    }

    /// The tile's bounds in Web Mercator metres.
    pub fn mercator_bounds(self) -> Rect<f64> {
        let size = self.size_m();
        let min_x = -MERCATOR_HALF + f64::from(self.x) * size;
        let max_y = MERCATOR_HALF - f64::from(self.y) * size;
        Rect::new(
            coord! { x: min_x, y: max_y - size },
            coord! { x: min_x + size, y: max_y },
        )
    }

    /// The tile's bounds in WGS84 longitude and latitude degrees.
    pub fn lonlat_bounds(self) -> Rect<f64> {
        self.lonlat_bounds_buffered(0.0)
    }

    /// The tile's bounds grown on every side by `units` of a tile of `extent` units (the
    /// area a tile with that buffer draws from), in WGS84 degrees, latitudes clamped to the
    /// Mercator world.
    pub fn lonlat_bounds_buffered_units(self, units: u32, extent: u32) -> Rect<f64> {
        self.lonlat_bounds_buffered(f64::from(units) / f64::from(extent))
    }

    fn lonlat_bounds_buffered(self, fraction: f64) -> Rect<f64> {
        let m = self.mercator_bounds();
        let pad = self.size_m() * fraction;
        let lo = mercator_to_lonlat(m.min().x - pad, m.min().y - pad);
        let hi = mercator_to_lonlat(m.max().x + pad, m.max().y + pad);
        Rect::new(
            coord! { x: lo.0, y: lo.1.max(-MAX_LATITUDE) },
            coord! { x: hi.0, y: hi.1.min(MAX_LATITUDE) },
        )
    }
}

impl TryFrom<(u8, u32, u32)> for TileId {
    type Error = TileError;
    fn try_from((z, x, y): (u8, u32, u32)) -> Result<Self, Self::Error> {
        Self::new(z, x, y)
    }
}

impl FromStr for TileId {
    type Err = TileError;
    /// Parses `z/x/y`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || TileError::Malformed(s.chars().take(64).collect());
        let mut parts = s.split('/');
        let (Some(z), Some(x), Some(y), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let num = |t: &str| -> Result<u64, TileError> {
            if t.is_empty() || t.len() > 12 || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            t.parse::<u64>().map_err(|_| bad())
        };
        let (z, x, y) = (num(z)?, num(x)?, num(y)?);
        let z = u8::try_from(z)
            .ok()
            .filter(|z| *z <= MAX_ZOOM)
            .ok_or(TileError::Zoom(u32::try_from(z).unwrap_or(u32::MAX)))?;
        match (u32::try_from(x), u32::try_from(y)) {
            (Ok(x), Ok(y)) => Self::new(z, x, y),
            _ => Err(TileError::OutOfRange { z, x, y }),
        }
    }
}

impl fmt::Display for TileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

/// WGS84 longitude and latitude (degrees) to Web Mercator metres.
pub fn lonlat_to_mercator(lon: f64, lat: f64) -> (f64, f64) {
    let x = EARTH_RADIUS * lon.to_radians();
    let y = EARTH_RADIUS
        * (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
            .tan()
            .ln();
    (x, y)
}

/// Web Mercator metres to WGS84 longitude and latitude (degrees).
pub fn mercator_to_lonlat(x: f64, y: f64) -> (f64, f64) {
    let lon = (x / EARTH_RADIUS).to_degrees();
    let lat = (2.0 * (y / EARTH_RADIUS).exp().atan() - std::f64::consts::FRAC_PI_2).to_degrees();
    (lon, lat)
}

/// The tiles at zoom `z` that a WGS84 rectangle overlaps (edges included), row by row.
/// Latitudes beyond the Mercator world are clamped to it.
pub fn tiles_covering(rect: Rect<f64>, z: u8) -> impl Iterator<Item = TileId> {
    let z = z.min(MAX_ZOOM);
    let n = f64::from(1_u32 << z);
    let last = (1_u32 << z) - 1;
    let column = move |lon: f64| (((lon + 180.0) / 360.0 * n).floor().max(0.0) as u32).min(last);
    let row = move |lat: f64| {
        let (_, y) = lonlat_to_mercator(0.0, lat.clamp(-MAX_LATITUDE, MAX_LATITUDE));
        (((MERCATOR_HALF - y) / (2.0 * MERCATOR_HALF) * n)
            .floor()
            .max(0.0) as u32)
            .min(last)
    };
    let (x0, x1) = (column(rect.min().x), column(rect.max().x));
    let (y0, y1) = (row(rect.max().y), row(rect.min().y));
    (y0..=y1).flat_map(move |y| (x0..=x1).map(move |x| TileId { z, x, y }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Intersects;

    #[test]
    fn addresses_are_validated() {
        assert!(TileId::new(0, 0, 0).is_ok());
        assert_eq!(
            TileId::new(0, 1, 0),
            Err(TileError::OutOfRange { z: 0, x: 1, y: 0 })
        );
        assert_eq!(TileId::new(23, 0, 0), Err(TileError::Zoom(23)));
        assert!(TileId::new(22, (1 << 22) - 1, (1 << 22) - 1).is_ok());
        assert_eq!("3/7/7".parse::<TileId>(), TileId::new(3, 7, 7));
        assert_eq!(
            "3/8/0".parse::<TileId>(),
            Err(TileError::OutOfRange { z: 3, x: 8, y: 0 })
        );
        assert_eq!("99/0/0".parse::<TileId>(), Err(TileError::Zoom(99)));
        for bad in [
            "", "1/2", "1/2/3/4", "a/0/0", "1/-1/0", "1/0/0.5", "1//0", "+1/0/0", "1/0/ 0",
        ] {
            assert!(
                matches!(bad.parse::<TileId>(), Err(TileError::Malformed(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            "1/99999999999/0".parse::<TileId>(),
            Err(TileError::OutOfRange { .. })
        ));
    }

    #[test]
    fn bounds_match_known_tiles() {
        let world = TileId::new(0, 0, 0).unwrap().mercator_bounds();
        assert!((world.min().x + MERCATOR_HALF).abs() < 1e-9);
        assert!((world.max().y - MERCATOR_HALF).abs() < 1e-9);
        // ST_TileEnvelope(1, 1, 0): the north-east quarter.
        let ne = TileId::new(1, 1, 0).unwrap().mercator_bounds();
        assert!(ne.min().x.abs() < 1e-9 && ne.min().y.abs() < 1e-9);
        assert!((ne.max().x - MERCATOR_HALF).abs() < 1e-9);
        assert!((ne.max().y - MERCATOR_HALF).abs() < 1e-9);
        let ll = TileId::new(0, 0, 0).unwrap().lonlat_bounds();
        assert!((ll.max().y - MAX_LATITUDE).abs() < 1e-9);
        assert!((ll.min().x + 180.0).abs() < 1e-9);
        // Zoom 10 tile 843/388 holds Beijing (116.5° E, 39.8° N).
        let t = TileId::new(10, 843, 388).unwrap().lonlat_bounds();
        assert!((t.min().x - 116.367_187_5).abs() < 1e-9, "{t:?}");
        assert!((t.max().x - 116.718_75).abs() < 1e-9);
        assert!((t.max().y - 39.909_736_234_537_18).abs() < 1e-9, "{t:?}");
    }

    #[test]
    fn mercator_round_trips() {
        for (lon, lat) in [(0.0, 0.0), (104.3, 26.9), (-70.5, -33.4), (179.9, 85.0)] {
            let (x, y) = lonlat_to_mercator(lon, lat);
            let (lon2, lat2) = mercator_to_lonlat(x, y);
            assert!((lon - lon2).abs() < 1e-9 && (lat - lat2).abs() < 1e-9);
        }
        let (x, y) = lonlat_to_mercator(180.0, MAX_LATITUDE);
        assert!((x - MERCATOR_HALF).abs() < 1e-6 && (y - MERCATOR_HALF).abs() < 1e-3);
    }

    #[test]
    fn covering_finds_every_tile_a_rect_touches() {
        let point =
            |lon: f64, lat: f64| Rect::new(coord! {x: lon, y: lat}, coord! {x: lon, y: lat});
        let all: Vec<_> = tiles_covering(point(0.0, 0.0), 0).collect();
        assert_eq!(all, vec![TileId::new(0, 0, 0).unwrap()]);
        let t: Vec<_> = tiles_covering(point(116.5, 39.8), 10).collect();
        assert_eq!(t, vec![TileId::new(10, 843, 388).unwrap()]);
        let rect = Rect::new(coord! {x: -10.0, y: -10.0}, coord! {x: 10.0, y: 10.0});
        let tiles: Vec<_> = tiles_covering(rect, 2).collect();
        assert_eq!(tiles.len(), 4);
        assert!(tiles.iter().all(|t| t.lonlat_bounds().intersects(&rect)));
        let everything = Rect::new(coord! {x: -180.0, y: -90.0}, coord! {x: 180.0, y: 90.0});
        assert_eq!(tiles_covering(everything, 3).count(), 64);
    }
}
