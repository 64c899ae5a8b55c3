//! The local plane the generator works in, and its mapping to longitude and latitude.
//!
//! Everything is laid out in metres east (`x`) and north (`y`) of the county town, then mapped
//! to degrees by one affine map (an equirectangular projection at the town's latitude). An
//! affine map keeps straight lines straight and shared vertices shared, so tilings and noded
//! road networks built in the plane stay exact in degrees. Over 60 km the scale error is below
//! 0.5 %, far below what a demo needs.

use geo::Coord;

/// Longitude of the local origin, the county town (威宁县城).
pub(crate) const ORIGIN_LON: f64 = 104.285;
/// Latitude of the local origin.
pub(crate) const ORIGIN_LAT: f64 = 26.868;
/// Metres per degree of latitude near 27°N.
const M_PER_DEG_LAT: f64 = 110_766.0;
/// Metres per degree of longitude at the origin's latitude (111 320 m × cos 26.868°).
const M_PER_DEG_LON: f64 = 99_303.0;

/// Rounds degrees to 1e-7 (about 1 cm), so exported coordinates are short and stable.
fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

/// Maps a local point (metres) to longitude and latitude (degrees, rounded to 1e-7).
pub(crate) fn to_lonlat(c: Coord<f64>) -> Coord<f64> {
    Coord {
        x: round7(ORIGIN_LON + c.x / M_PER_DEG_LON),
        y: round7(ORIGIN_LAT + c.y / M_PER_DEG_LAT),
    }
}

/// Maps longitude and latitude back to the local plane (metres).
#[cfg(test)]
pub(crate) fn to_local(c: Coord<f64>) -> Coord<f64> {
    Coord {
        x: (c.x - ORIGIN_LON) * M_PER_DEG_LON,
        y: (c.y - ORIGIN_LAT) * M_PER_DEG_LAT,
    }
}

/// Euclidean distance in the plane.
pub(crate) fn dist(a: Coord<f64>, b: Coord<f64>) -> f64 {
    (a.x - b.x).hypot(a.y - b.y)
}

/// The z component of the cross product `(b - a) × (c - a)`: positive when `a, b, c` turn left.
pub(crate) fn orient(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> f64 {
    (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
}

/// Signed area of a ring given without its closing point (positive when counter-clockwise).
pub(crate) fn ring_area(ring: &[Coord<f64>]) -> f64 {
    let n = ring.len();
    let mut s = 0.0;
    for i in 0..n {
        let (a, b) = (ring[i], ring[(i + 1) % n]);
        s += a.x * b.y - b.x * a.y;
    }
    s / 2.0
}

/// Whether `p` lies inside a ring given without its closing point (even-odd rule).
pub(crate) fn in_ring(ring: &[Coord<f64>], p: Coord<f64>) -> bool {
    let len = ring.len();
    let mut inside = false;
    let mut j = len.wrapping_sub(1);
    for i in 0..len {
        let (a, b) = (ring[i], ring[j]);
        if (a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// Whether the closed segments `a-b` and `c-d` have any point in common.
pub(crate) fn segments_touch(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>, d: Coord<f64>) -> bool {
    let on = |p: Coord<f64>, q: Coord<f64>, r: Coord<f64>| {
        r.x >= p.x.min(q.x) && r.x <= p.x.max(q.x) && r.y >= p.y.min(q.y) && r.y <= p.y.max(q.y)
    };
    let (o1, o2) = (orient(a, b, c), orient(a, b, d));
    let (o3, o4) = (orient(c, d, a), orient(c, d, b));
    if ((o1 > 0.0 && o2 < 0.0) || (o1 < 0.0 && o2 > 0.0))
        && ((o3 > 0.0 && o4 < 0.0) || (o3 < 0.0 && o4 > 0.0))
    {
        return true;
    }
    (o1 == 0.0 && on(a, b, c))
        || (o2 == 0.0 && on(a, b, d))
        || (o3 == 0.0 && on(c, d, a))
        || (o4 == 0.0 && on(c, d, b))
}

/// Whether segment `a-b` meets segment `c-d` anywhere except at one shared end point (two
/// segments of a noded network may only meet there).
#[expect(
    clippy::many_single_char_names,
    reason = "the usual names of orientation predicates"
)]
pub(crate) fn segments_conflict(
    a: Coord<f64>,
    b: Coord<f64>,
    c: Coord<f64>,
    d: Coord<f64>,
) -> bool {
    let shared = if a == c || a == d {
        Some((a, b, if a == c { d } else { c }))
    } else if b == c || b == d {
        Some((b, a, if b == c { d } else { c }))
    } else {
        None
    };
    match shared {
        // Sharing an end: they conflict only if they overlap along a line.
        Some((s, p, q)) => {
            let (u, v) = ((p.x - s.x, p.y - s.y), (q.x - s.x, q.y - s.y));
            let cross = u.0 * v.1 - u.1 * v.0;
            let dot = u.0 * v.0 + u.1 * v.1;
            let scale = (u.0.hypot(u.1) * v.0.hypot(v.1)).max(f64::MIN_POSITIVE);
            dot > 0.0 && cross.abs() / scale < 1e-3
        }
        None => segments_touch(a, b, c, d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_round_trips_within_a_centimetre() {
        let p = Coord {
            x: 12_345.6,
            y: -7_890.1,
        };
        let back = to_local(to_lonlat(p));
        assert!(dist(p, back) < 0.02, "{back:?}");
    }

    #[test]
    fn segments_meeting_only_at_a_shared_end_do_not_conflict() {
        let c = |x, y| Coord { x, y };
        assert!(!segments_conflict(
            c(0., 0.),
            c(1., 0.),
            c(1., 0.),
            c(1., 1.)
        ));
        assert!(segments_conflict(
            c(0., 0.),
            c(2., 0.),
            c(1., -1.),
            c(1., 1.)
        ));
        assert!(segments_conflict(
            c(0., 0.),
            c(2., 0.),
            c(0., 0.),
            c(1., 0.)
        ));
        assert!(!segments_conflict(
            c(0., 0.),
            c(1., 0.),
            c(2., 1.),
            c(3., 1.)
        ));
    }
}
