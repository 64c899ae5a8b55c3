//! Chinese web-map coordinate systems: WGS84 (= CGCS2000 here), GCJ-02 and BD-09, both ways.
//!
//! GCJ-02 (火星坐标) is WGS84 shifted by a published non-linear offset of up to a few hundred
//! metres, computed on the Krasovsky ellipsoid; it applies only inside a rectangle around
//! China, and points outside it pass through unchanged, as the definition says. BD-09
//! (百度坐标) is a further, rotational offset of GCJ-02. The forward transforms are closed
//! formulas; the inverses have none, so they are solved by fixed-point iteration until the
//! forward transform of the answer lands within 1e-9° (0.1 mm) of the input.

use geo::Coord;

use crate::vocab::Crs;

/// A longitude or latitude out of range (or not a finite number).
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum RangeError {
    /// The longitude is not in [-180, 180].
    #[error("longitude {0} is not in [-180, 180]")]
    Longitude(f64),
    /// The latitude is not in [-90, 90].
    #[error("latitude {0} is not in [-90, 90]")]
    Latitude(f64),
}

/// A longitude-latitude pair in degrees, checked to be finite and in range: the one check of
/// every point a user or a file gives.
pub fn lon_lat(lon: f64, lat: f64) -> Result<Coord<f64>, RangeError> {
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        return Err(RangeError::Longitude(lon));
    }
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        return Err(RangeError::Latitude(lat));
    }
    Ok(Coord { x: lon, y: lat })
}

/// Semi-major axis of the Krasovsky 1940 ellipsoid, on which GCJ-02's offset is defined.
const KRASOVSKY_A: f64 = 6_378_245.0;
/// Its first eccentricity squared.
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943;
/// BD-09's angular constant (π·3000/180).
const BD_X_PI: f64 = std::f64::consts::PI * 3000.0 / 180.0;
/// Convergence bound of the iterative inverses, in degrees.
const TOLERANCE: f64 = 1e-9;
/// Iterations after which an inverse gives up improving (it converges in 3 to 6).
const MAX_ITERATIONS: usize = 30;

/// Whether GCJ-02 applies at a point: the rectangle around China that the offset's
/// definition uses (longitude 72.004–137.8347°E, latitude 0.8293–55.8271°N).
pub fn in_china(c: Coord<f64>) -> bool {
    (72.004..=137.8347).contains(&c.x) && (0.8293..=55.8271).contains(&c.y)
}

fn offset_lat(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn offset_lon(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// WGS84 to GCJ-02 (unchanged outside China).
pub fn wgs84_to_gcj02(c: Coord<f64>) -> Coord<f64> {
    if !in_china(c) {
        return c;
    }
    let (x, y) = (c.x - 105.0, c.y - 35.0);
    let rad = c.y.to_radians();
    let sin = rad.sin();
    let magic = 1.0 - KRASOVSKY_EE * sin * sin;
    let sqrt_magic = magic.sqrt();
    let d_lat = offset_lat(x, y) * 180.0
        / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * std::f64::consts::PI);
    let d_lon =
        offset_lon(x, y) * 180.0 / (KRASOVSKY_A / sqrt_magic * rad.cos() * std::f64::consts::PI);
    Coord {
        x: c.x + d_lon,
        y: c.y + d_lat,
    }
}

/// GCJ-02 to BD-09.
pub fn gcj02_to_bd09(c: Coord<f64>) -> Coord<f64> {
    let z = c.x.hypot(c.y) + 0.00002 * (c.y * BD_X_PI).sin();
    let theta = c.y.atan2(c.x) + 0.000_003 * (c.x * BD_X_PI).cos();
    Coord {
        x: z * theta.cos() + 0.0065,
        y: z * theta.sin() + 0.006,
    }
}

/// Solves `forward(answer) = target` by fixed-point iteration, starting from the target:
/// both offsets vary slowly enough across their own size for each step to shrink the error
/// by orders of magnitude.
fn invert(target: Coord<f64>, forward: impl Fn(Coord<f64>) -> Coord<f64>) -> Coord<f64> {
    let mut guess = target;
    for _ in 0..MAX_ITERATIONS {
        let image = forward(guess);
        let (dx, dy) = (target.x - image.x, target.y - image.y);
        guess.x += dx;
        guess.y += dy;
        if dx.abs() < TOLERANCE && dy.abs() < TOLERANCE {
            break;
        }
    }
    guess
}

/// GCJ-02 to WGS84, iterative (better than 0.1 mm; unchanged outside China).
pub fn gcj02_to_wgs84(c: Coord<f64>) -> Coord<f64> {
    if !in_china(c) {
        return c;
    }
    invert(c, wgs84_to_gcj02)
}

/// BD-09 to GCJ-02, iterative.
pub fn bd09_to_gcj02(c: Coord<f64>) -> Coord<f64> {
    invert(c, gcj02_to_bd09)
}

/// WGS84 to BD-09 (through GCJ-02).
pub fn wgs84_to_bd09(c: Coord<f64>) -> Coord<f64> {
    gcj02_to_bd09(wgs84_to_gcj02(c))
}

/// BD-09 to WGS84 (through GCJ-02).
pub fn bd09_to_wgs84(c: Coord<f64>) -> Coord<f64> {
    gcj02_to_wgs84(bd09_to_gcj02(c))
}

/// A point given in `crs`, in WGS84.
pub fn to_wgs84(crs: Crs, c: Coord<f64>) -> Coord<f64> {
    match crs {
        Crs::Wgs84 => c,
        Crs::Gcj02 => gcj02_to_wgs84(c),
        Crs::Bd09 => bd09_to_wgs84(c),
    }
}

/// A WGS84 point, in `crs`.
pub fn from_wgs84(crs: Crs, c: Coord<f64>) -> Coord<f64> {
    match crs {
        Crs::Wgs84 => c,
        Crs::Gcj02 => wgs84_to_gcj02(c),
        Crs::Bd09 => wgs84_to_bd09(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Distance, Haversine, Point};

    fn metres(a: Coord<f64>, b: Coord<f64>) -> f64 {
        Haversine.distance(Point(a), Point(b))
    }

    fn c(x: f64, y: f64) -> Coord<f64> {
        Coord { x, y }
    }

    /// Published WGS84 → GCJ-02 pairs (the eviltransform project's test cases, which other
    /// implementations reproduce): Shanghai, Shenzhen, Beijing.
    const WGS_GCJ: [(f64, f64, f64, f64); 3] = [
        (
            121.527_210_6,
            31.177_427_6,
            121.531_541_859_215,
            31.175_303_983_645_97,
        ),
        (
            113.912_316,
            22.543_847,
            113.917_176_480_836_3,
            22.540_796_131_694_766,
        ),
        (
            116.377_817,
            39.911_954,
            116.384_047_224_556_57,
            39.913_345_455_360_69,
        ),
    ];

    #[test]
    fn gcj02_matches_published_pairs_both_ways() {
        for (wx, wy, gx, gy) in WGS_GCJ {
            let g = wgs84_to_gcj02(c(wx, wy));
            assert!((g.x - gx).abs() < 1e-9 && (g.y - gy).abs() < 1e-9, "{g:?}");
            let w = gcj02_to_wgs84(c(gx, gy));
            assert!(metres(w, c(wx, wy)) < 0.01, "{w:?}");
        }
        // coordtransform's Beijing example (lon, lat order).
        let g = wgs84_to_gcj02(c(116.404, 39.915));
        assert!((g.x - 116.410_244_499_169_38).abs() < 1e-9, "{g:?}");
        assert!((g.y - 39.916_404_281_501_64).abs() < 1e-9, "{g:?}");
    }

    #[test]
    fn bd09_matches_published_pairs() {
        // coordtransform: GCJ-02 → BD-09 and BD-09 → GCJ-02 of (116.404, 39.915).
        let b = gcj02_to_bd09(c(116.404, 39.915));
        assert!((b.x - 116.410_369_493_710_29).abs() < 1e-9, "{b:?}");
        assert!((b.y - 39.921_336_993_510_21).abs() < 1e-9, "{b:?}");
        // Its inverse is a closed approximation; ours is exact, so they agree to a metre.
        let g = bd09_to_gcj02(c(116.404, 39.915));
        assert!(
            metres(g, c(116.397_627_291_193_15, 39.908_656_739_576_31)) < 1.0,
            "{g:?}"
        );
        assert!(metres(gcj02_to_bd09(g), c(116.404, 39.915)) < 0.001);
    }

    #[test]
    fn round_trips_across_china_are_better_than_half_a_metre() {
        let mut worst: f64 = 0.0;
        let mut lon = 73.0;
        while lon <= 135.0 {
            let mut lat = 18.0;
            while lat <= 53.5 {
                let p = c(lon, lat);
                for crs in Crs::ALL {
                    let back = to_wgs84(*crs, from_wgs84(*crs, p));
                    worst = worst.max(metres(back, p));
                }
                // The offsets are real: hundreds of metres at most, never nothing.
                let shift = metres(wgs84_to_gcj02(p), p);
                assert!(shift > 1.0 && shift < 1000.0, "{p:?}: {shift}");
                lat += 0.25;
            }
            lon += 0.25;
        }
        assert!(worst < 0.001, "worst round trip {worst} m");
    }

    #[test]
    fn points_outside_china_pass_through() {
        for p in [c(2.3522, 48.8566), c(-74.006, 40.7128), c(139.69, 35.69)] {
            assert_eq!(wgs84_to_gcj02(p), p);
            assert_eq!(gcj02_to_wgs84(p), p);
        }
    }

    #[test]
    fn the_county_shifts_as_a_phone_map_would() {
        // Weining, the demo county: GCJ-02 lies a few hundred metres off, as on Amap.
        let p = c(104.3, 26.9);
        let shift = metres(wgs84_to_gcj02(p), p);
        assert!((100.0..800.0).contains(&shift), "{shift}");
        assert!("gcj02".parse::<Crs>().is_ok() && "bd09".parse::<Crs>().is_ok());
        assert!("gcj-02".parse::<Crs>().is_err());
    }
}
