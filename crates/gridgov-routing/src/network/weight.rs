//! Lengths on the sphere and the integer costs every search adds up.

use geo::Coord;

/// The mean Earth radius (IUGG), in metres, that every length uses.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// The great-circle (haversine) distance between two longitude/latitude points, in metres.
pub fn haversine_m(a: Coord<f64>, b: Coord<f64>) -> f64 {
    let (la, lb) = (a.y.to_radians(), b.y.to_radians());
    let dlat = lb - la;
    let dlon = (b.x - a.x).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la.cos() * lb.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// The exact cost of a stretch of road: its length in centimetres and its travel time in
/// milliseconds, both integers so that sums are exact and every search agrees to the unit.
///
/// A road segment's weight is fixed once (see [`crate::network::Profile::segment_weight`]);
/// a path's weight is the sum of its segments' weights (and of the parts of the segments
/// the end points were snapped onto). Reported metres and seconds are these sums rounded
/// half up ([`Weight::distance_m`], [`Weight::time_s`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Weight {
    /// Length in centimetres.
    pub distance_cm: u64,
    /// Travel time in milliseconds.
    pub time_ms: u64,
}

impl Weight {
    /// No length, no time.
    pub const ZERO: Weight = Weight {
        distance_cm: 0,
        time_ms: 0,
    };

    /// The length in whole metres, rounded half up (saturating below [`u32::MAX`], which
    /// matrices keep for "unreachable").
    pub fn distance_m(self) -> u32 {
        round_div(self.distance_cm, 100)
    }

    /// The time in whole seconds, rounded half up (saturating below [`u32::MAX`]).
    pub fn time_s(self) -> u32 {
        round_div(self.time_ms, 1000)
    }

    /// The sum of two weights.
    #[must_use]
    pub fn plus(self, other: Weight) -> Weight {
        Weight {
            distance_cm: self.distance_cm + other.distance_cm,
            time_ms: self.time_ms + other.time_ms,
        }
    }

    /// The difference of two weights (saturating at zero).
    #[must_use]
    pub fn minus(self, other: Weight) -> Weight {
        Weight {
            distance_cm: self.distance_cm.saturating_sub(other.distance_cm),
            time_ms: self.time_ms.saturating_sub(other.time_ms),
        }
    }

    /// The weight packed into one search key: time in the high 32 bits, distance in the low.
    /// Keys add up like weights as long as a path stays under 2³² cm (42 950 km) and 2³² ms
    /// (49 days); comparing keys compares time first, then distance.
    pub(crate) fn key(self) -> u64 {
        (self.time_ms << 32) + self.distance_cm
    }

    /// The weight of a search key.
    pub(crate) fn from_key(key: u64) -> Weight {
        Weight {
            distance_cm: key & 0xFFFF_FFFF,
            time_ms: key >> 32,
        }
    }
}

fn round_div(v: u64, by: u64) -> u32 {
    let r = (v + by / 2) / by;
    r.min(u64::from(u32::MAX - 1)) as u32
}

/// A local plane in metres: equirectangular at a reference latitude. Over a county (half a
/// degree of latitude either side) its scale error stays under 0.5 %; it is used only to pick
/// the nearest road and the foot of the perpendicular, never for reported lengths.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Plane {
    kx: f64,
    ky: f64,
}

impl Plane {
    pub(crate) fn at_latitude(lat: f64) -> Plane {
        let ky = EARTH_RADIUS_M.to_radians();
        Plane {
            kx: ky * lat.to_radians().cos(),
            ky,
        }
    }

    pub(crate) fn project(self, c: Coord<f64>) -> [f64; 2] {
        [c.x * self.kx, c.y * self.ky]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_degree_of_latitude_is_about_111_km() {
        let d = haversine_m(Coord { x: 0.0, y: 0.0 }, Coord { x: 0.0, y: 1.0 });
        assert!((d - 111_195.08).abs() < 0.1, "{d}");
    }

    #[test]
    fn keys_add_like_weights() {
        let a = Weight {
            distance_cm: 12_345,
            time_ms: 678,
        };
        let b = Weight {
            distance_cm: 1,
            time_ms: 2,
        };
        assert_eq!(Weight::from_key(a.key() + b.key()), a.plus(b));
        assert_eq!(a.distance_m(), 123);
        assert_eq!(a.time_s(), 1);
        assert!(b.key() < a.key());
    }
}
