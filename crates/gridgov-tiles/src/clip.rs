//! Geometry into tile coordinates: WGS84 to the tile's grid (`EXTENT` units, y down),
//! Douglas–Peucker simplification, clipping to the tile plus its buffer, snapping to whole
//! units, and MVT ring orientation; in the order `ST_AsMVTGeom` works (simplify, clip, snap).

use geo::{
    BooleanOps, Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point,
    Polygon, Rect,
};

use crate::schema::{simplify_tolerance, BUFFER, EXTENT};
use crate::tile::{lonlat_to_mercator, TileId};

/// Projects WGS84 coordinates onto one tile's grid and cuts geometries to it.
#[derive(Debug, Clone, Copy)]
pub struct TileFrame {
    min_x: f64,
    max_y: f64,
    scale: f64,
    lo: f64,
    hi: f64,
    tolerance: f64,
}

impl TileFrame {
    /// The frame of `tile` with [`EXTENT`], [`BUFFER`] and the zoom's
    /// [`simplify_tolerance`].
    pub fn new(tile: TileId) -> Self {
        let b = tile.mercator_bounds();
        let extent = f64::from(EXTENT);
        Self {
            min_x: b.min().x,
            max_y: b.max().y,
            scale: extent / tile.size_m(),
            lo: -f64::from(BUFFER),
            hi: extent + f64::from(BUFFER),
            tolerance: simplify_tolerance(tile.z()),
        }
    }

    /// A WGS84 coordinate on the tile's grid (not rounded).
    pub fn project(&self, c: Coord<f64>) -> Coord<f64> {
        let (x, y) = lonlat_to_mercator(c.x, c.y);
        Coord {
            x: (x - self.min_x) * self.scale,
            y: (self.max_y - y) * self.scale,
        }
    }

    fn inside(&self, c: Coord<f64>) -> bool {
        c.x >= self.lo && c.x <= self.hi && c.y >= self.lo && c.y <= self.hi
    }

    /// A WGS84 geometry as the tile draws it: on the tile's grid in whole units, simplified,
    /// clipped to the tile and its buffer, polygon rings oriented as MVT 2.1 wants (exterior
    /// rings positive by the surveyor's formula in tile coordinates, holes negative).
    /// `None` when nothing of it is left in the tile.
    pub fn clip(&self, g: &Geometry<f64>) -> Option<Geometry<f64>> {
        match g {
            Geometry::Point(p) => self.points(std::slice::from_ref(p)),
            Geometry::MultiPoint(m) => self.points(&m.0),
            Geometry::LineString(l) => self.lines(std::slice::from_ref(l)),
            Geometry::MultiLineString(m) => self.lines(&m.0),
            Geometry::Polygon(p) => self.polygons(std::slice::from_ref(p)),
            Geometry::MultiPolygon(m) => self.polygons(&m.0),
            Geometry::Line(l) => self.lines(&[LineString(vec![l.start, l.end])]),
            Geometry::Rect(r) => self.polygons(&[r.to_polygon()]),
            Geometry::Triangle(t) => self.polygons(&[t.to_polygon()]),
            Geometry::GeometryCollection(_) => None,
        }
    }

    fn points(&self, points: &[Point<f64>]) -> Option<Geometry<f64>> {
        let mut kept: Vec<Point<f64>> = Vec::with_capacity(points.len());
        for p in points {
            let c = snap(self.project(p.0));
            if self.inside(c) && !kept.iter().any(|k| k.0 == c) {
                kept.push(Point(c));
            }
        }
        match kept.len() {
            0 => None,
            1 => kept.pop().map(Geometry::Point),
            _ => Some(Geometry::MultiPoint(MultiPoint(kept))),
        }
    }

    fn lines(&self, lines: &[LineString<f64>]) -> Option<Geometry<f64>> {
        let mut parts = Vec::new();
        for line in lines {
            let projected: Vec<Coord<f64>> = line.0.iter().map(|c| self.project(*c)).collect();
            let snapped = drop_collinear(snap_all(&simplify(&projected, self.tolerance, 2)));
            if snapped.len() < 2 {
                continue;
            }
            for piece in clip_line(&snapped, self.lo, self.hi) {
                let piece = snap_all(&piece);
                if piece.len() >= 2 {
                    parts.push(LineString(piece));
                }
            }
        }
        match parts.len() {
            0 => None,
            1 => parts.pop().map(Geometry::LineString),
            _ => Some(Geometry::MultiLineString(MultiLineString(parts))),
        }
    }

    fn polygons(&self, polygons: &[Polygon<f64>]) -> Option<Geometry<f64>> {
        let mut snapped = Vec::with_capacity(polygons.len());
        for polygon in polygons {
            let Some(exterior) = self.snapped_ring(polygon.exterior()) else {
                continue;
            };
            let holes = polygon
                .interiors()
                .iter()
                .filter_map(|r| self.snapped_ring(r))
                .collect();
            snapped.push(Polygon::new(exterior, holes));
        }
        if snapped.is_empty() {
            return None;
        }
        // Clipped by a true intersection on the grid, as `ST_AsMVTGeom` clips with wagyu:
        // the result is valid (zero-width spikes left by snapping are gone) and a concave
        // polygon going around a corner of the tile does not cover the corner.
        let clipped = MultiPolygon(snapped).intersection(&self.clip_square());
        let mut out: Vec<Polygon<f64>> = clipped
            .into_iter()
            .filter_map(|p| {
                let exterior = orient_ring(p.exterior(), true)?;
                let holes = p
                    .interiors()
                    .iter()
                    .filter_map(|r| orient_ring(r, false))
                    .collect();
                Some(Polygon::new(exterior, holes))
            })
            .collect();
        match out.len() {
            0 => None,
            1 => out.pop().map(Geometry::Polygon),
            _ => Some(Geometry::MultiPolygon(MultiPolygon(out))),
        }
    }

    fn clip_square(&self) -> Polygon<f64> {
        Rect::new(
            Coord {
                x: self.lo,
                y: self.lo,
            },
            Coord {
                x: self.hi,
                y: self.hi,
            },
        )
        .to_polygon()
    }

    /// One ring projected, simplified (kept at 4 points at least, as `ST_Simplify` with
    /// `preserveCollapsed` does, so that small features stay visible) and snapped to whole
    /// units; `None` when it is not a ring any more.
    fn snapped_ring(&self, ring: &LineString<f64>) -> Option<LineString<f64>> {
        if ring.0.len() < 4 {
            return None;
        }
        let projected: Vec<Coord<f64>> = ring.0.iter().map(|c| self.project(*c)).collect();
        let mut snapped = snap_all(&simplify(&projected, self.tolerance, 4));
        if snapped.first() != snapped.last() {
            snapped.push(snapped[0]);
        }
        (snapped.len() >= 4).then_some(LineString(snapped))
    }
}

/// A ring snapped (clipping makes fractions), without repeated or collinear points,
/// closed and oriented (exterior positive by the surveyor's formula in tile coordinates,
/// holes negative); `None` when it collapses.
fn orient_ring(ring: &LineString<f64>, exterior: bool) -> Option<LineString<f64>> {
    let mut snapped = snap_all(&ring.0);
    if snapped.len() > 1 && snapped.first() == snapped.last() {
        snapped.pop();
    }
    let n = snapped.len();
    if n < 3 {
        return None;
    }
    // Collinear points, the first one included.
    let mut ring: Vec<Coord<f64>> = (0..n)
        .filter(|&i| !collinear(snapped[(i + n - 1) % n], snapped[i], snapped[(i + 1) % n]))
        .map(|i| snapped[i])
        .collect();
    if ring.len() < 3 {
        return None;
    }
    ring.push(ring[0]);
    let area = twice_area(&ring);
    if area == 0.0 {
        return None;
    }
    if (area > 0.0) != exterior {
        ring.reverse();
    }
    Some(LineString(ring))
}

/// Whether `b` lies on the segment from `a` to `c`.
fn collinear(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> bool {
    let cross = (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
    cross == 0.0
        && b.x >= a.x.min(c.x)
        && b.x <= a.x.max(c.x)
        && b.y >= a.y.min(c.y)
        && b.y <= a.y.max(c.y)
}

/// A snapped line without the points that lie on the segment between their neighbours.
fn drop_collinear(line: Vec<Coord<f64>>) -> Vec<Coord<f64>> {
    if line.len() < 3 {
        return line;
    }
    let mut out: Vec<Coord<f64>> = Vec::with_capacity(line.len());
    out.push(line[0]);
    for i in 1..line.len() - 1 {
        if !collinear(out[out.len() - 1], line[i], line[i + 1]) {
            out.push(line[i]);
        }
    }
    out.push(line[line.len() - 1]);
    out
}

/// Rounds half to even, as `rint` in `ST_AsMVTGeom`.
fn snap(c: Coord<f64>) -> Coord<f64> {
    Coord {
        x: c.x.round_ties_even(),
        y: c.y.round_ties_even(),
    }
}

/// Snaps every coordinate and drops repeated ones.
fn snap_all(coords: &[Coord<f64>]) -> Vec<Coord<f64>> {
    let mut out: Vec<Coord<f64>> = Vec::with_capacity(coords.len());
    for c in coords {
        let s = snap(*c);
        if out.last() != Some(&s) {
            out.push(s);
        }
    }
    out
}

/// Twice the signed area by the surveyor's formula (positive: clockwise on screen, y down).
fn twice_area(ring: &[Coord<f64>]) -> f64 {
    ring.windows(2)
        .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
        .sum()
}

/// Douglas–Peucker: the points further than `tolerance` from the simplified line, keeping at
/// least `min_points` (when the line has them) by keeping the furthest ones.
pub(crate) fn simplify(
    coords: &[Coord<f64>],
    tolerance: f64,
    min_points: usize,
) -> Vec<Coord<f64>> {
    let n = coords.len();
    if n <= min_points.max(2) || tolerance <= 0.0 {
        return coords.to_vec();
    }
    let mut keep = vec![false; n];
    keep[0] = true;
    keep[n - 1] = true;
    let mut kept = 2;
    let mut stack = vec![(0, n - 1)];
    let tol2 = tolerance * tolerance;
    while let Some((a, b)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (mut far, mut far_d) = (a + 1, -1.0);
        for (i, c) in coords.iter().enumerate().take(b).skip(a + 1) {
            let d = segment_distance2(*c, coords[a], coords[b]);
            if d > far_d {
                far = i;
                far_d = d;
            }
        }
        if far_d > tol2 || kept < min_points {
            keep[far] = true;
            kept += 1;
            stack.push((far, b));
            stack.push((a, far));
        }
    }
    coords
        .iter()
        .zip(keep)
        .filter_map(|(c, k)| k.then_some(*c))
        .collect()
}

fn segment_distance2(p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> f64 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p.x - a.x) * dx + (p.y - a.y) * dy) / len2).clamp(0.0, 1.0)
    };
    let (ex, ey) = (a.x + t * dx - p.x, a.y + t * dy - p.y);
    ex * ex + ey * ey
}

/// Cuts a line to the square `[lo, hi]²`: the pieces inside, in order.
fn clip_line(coords: &[Coord<f64>], lo: f64, hi: f64) -> Vec<Vec<Coord<f64>>> {
    let mut pieces = Vec::new();
    let mut current: Vec<Coord<f64>> = Vec::new();
    for w in coords.windows(2) {
        let Some((a, b)) = clip_segment(w[0], w[1], lo, hi) else {
            if current.len() >= 2 {
                pieces.push(std::mem::take(&mut current));
            }
            current.clear();
            continue;
        };
        if current.last() != Some(&a) {
            if current.len() >= 2 {
                pieces.push(std::mem::take(&mut current));
            }
            current.clear();
            current.push(a);
        }
        current.push(b);
        if b != w[1] {
            // Left the square.
            pieces.push(std::mem::take(&mut current));
        }
    }
    if current.len() >= 2 {
        pieces.push(current);
    }
    pieces
}

/// Liang–Barsky: the part of segment `a`–`b` inside `[lo, hi]²`.
fn clip_segment(
    a: Coord<f64>,
    b: Coord<f64>,
    lo: f64,
    hi: f64,
) -> Option<(Coord<f64>, Coord<f64>)> {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let (mut t0, mut t1) = (0.0_f64, 1.0_f64);
    for (p, q) in [
        (-dx, a.x - lo),
        (dx, hi - a.x),
        (-dy, a.y - lo),
        (dy, hi - a.y),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
            if t0 > t1 {
                return None;
            }
        }
    }
    let at = |t: f64| {
        if t <= 0.0 {
            a
        } else if t >= 1.0 {
            b
        } else {
            Coord {
                x: a.x + t * dx,
                y: a.y + t * dy,
            }
        }
    };
    Some((at(t0), at(t1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{coord, polygon};

    fn frame() -> (TileId, TileFrame) {
        let t = TileId::new(14, 13_130, 7_012).unwrap();
        (t, TileFrame::new(t))
    }

    /// WGS84 coordinate of a tile-grid position.
    fn at(t: TileId, x: f64, y: f64) -> Coord<f64> {
        let bounds = t.mercator_bounds();
        let unit = t.size_m() / f64::from(EXTENT);
        let (lon, lat) =
            crate::tile::mercator_to_lonlat(bounds.min().x + x * unit, bounds.max().y - y * unit);
        coord! { x: lon, y: lat }
    }

    #[test]
    fn projection_puts_the_corners_on_the_grid() {
        let (t, f) = frame();
        let b = t.lonlat_bounds();
        let nw = f.project(coord! { x: b.min().x, y: b.max().y });
        let se = f.project(coord! { x: b.max().x, y: b.min().y });
        assert!(nw.x.abs() < 1e-6 && nw.y.abs() < 1e-6, "{nw:?}");
        assert!(
            (se.x - 4096.0).abs() < 1e-6 && (se.y - 4096.0).abs() < 1e-6,
            "{se:?}"
        );
    }

    #[test]
    fn points_outside_the_buffer_are_dropped() {
        let (t, f) = frame();
        let inside = Geometry::Point(Point(at(t, 10.4, 20.6)));
        assert_eq!(
            f.clip(&inside),
            Some(Geometry::Point(Point(coord! { x: 10.0, y: 21.0 })))
        );
        let in_buffer = Geometry::Point(Point(at(t, -60.0, 4150.0)));
        assert!(f.clip(&in_buffer).is_some());
        let beyond = Geometry::Point(Point(at(t, -70.0, 100.0)));
        assert_eq!(f.clip(&beyond), None);
    }

    #[test]
    fn lines_are_cut_at_the_buffer_into_pieces() {
        let (t, f) = frame();
        // In, out across the west edge, and back in.
        let line = Geometry::LineString(LineString(vec![
            at(t, 100.0, 100.0),
            at(t, -500.0, 100.0),
            at(t, -500.0, 300.0),
            at(t, 100.0, 300.0),
        ]));
        let Some(Geometry::MultiLineString(m)) = f.clip(&line) else {
            panic!("expected two pieces");
        };
        assert_eq!(m.0.len(), 2);
        assert_eq!(
            m.0[0].0,
            vec![coord! {x: 100.0, y: 100.0}, coord! {x: -64.0, y: 100.0}]
        );
        assert_eq!(
            m.0[1].0,
            vec![coord! {x: -64.0, y: 300.0}, coord! {x: 100.0, y: 300.0}]
        );
        let outside =
            Geometry::LineString(LineString(vec![at(t, -100.0, 0.0), at(t, -100.0, 50.0)]));
        assert_eq!(f.clip(&outside), None);
    }

    #[test]
    fn polygons_are_clipped_to_the_buffer_and_oriented() {
        let (t, f) = frame();
        // Counter-clockwise on screen, half outside the east edge.
        let p = Geometry::Polygon(Polygon::new(
            LineString(vec![
                at(t, 4000.0, 100.0),
                at(t, 4000.0, 200.0),
                at(t, 5000.0, 200.0),
                at(t, 5000.0, 100.0),
                at(t, 4000.0, 100.0),
            ]),
            vec![],
        ));
        let Some(Geometry::Polygon(c)) = f.clip(&p) else {
            panic!("expected a polygon");
        };
        let xs: Vec<f64> = c.exterior().0.iter().map(|c| c.x).collect();
        assert!(xs.iter().all(|x| *x >= 4000.0 && *x <= 4160.0), "{xs:?}");
        assert!(xs.contains(&4160.0));
        assert!(twice_area(&c.exterior().0) > 0.0);
        assert_eq!(c.exterior().0.first(), c.exterior().0.last());
    }

    #[test]
    fn holes_are_negative_and_a_polygon_around_the_tile_becomes_its_buffer() {
        let (t, f) = frame();
        let big = Geometry::Polygon(polygon![
            at(t, -9000.0, -9000.0),
            at(t, 9000.0, -9000.0),
            at(t, 9000.0, 9000.0),
            at(t, -9000.0, 9000.0),
        ]);
        let Some(Geometry::Polygon(c)) = f.clip(&big) else {
            panic!("expected a polygon");
        };
        let mut xs: Vec<f64> = c.exterior().0.iter().map(|c| c.x).collect();
        xs.sort_by(f64::total_cmp);
        assert_eq!((xs[0], xs[xs.len() - 1]), (-64.0, 4160.0));
        let with_hole = Geometry::Polygon(Polygon::new(
            LineString(vec![
                at(t, 0.0, 0.0),
                at(t, 1000.0, 0.0),
                at(t, 1000.0, 1000.0),
                at(t, 0.0, 1000.0),
                at(t, 0.0, 0.0),
            ]),
            vec![LineString(vec![
                at(t, 100.0, 100.0),
                at(t, 100.0, 200.0),
                at(t, 200.0, 200.0),
                at(t, 200.0, 100.0),
                at(t, 100.0, 100.0),
            ])],
        ));
        let Some(Geometry::Polygon(c)) = f.clip(&with_hole) else {
            panic!("expected a polygon");
        };
        assert!(twice_area(&c.exterior().0) > 0.0);
        assert!(twice_area(&c.interiors()[0].0) < 0.0);
    }

    #[test]
    fn simplification_drops_small_wiggles_but_keeps_small_features() {
        let line: Vec<Coord<f64>> = (0..=100)
            .map(|i| coord! { x: f64::from(i), y: if i % 2 == 0 { 0.0 } else { 0.3 } })
            .collect();
        let s = simplify(&line, 0.5, 2);
        assert_eq!(s, vec![line[0], line[100]]);
        // A building a fraction of a unit across at zoom 8 stays a ring.
        let t = TileId::new(8, 205, 109).unwrap();
        let f = TileFrame::new(t);
        let tiny = Geometry::Polygon(polygon![
            at(t, 100.0, 100.0),
            at(t, 103.0, 100.2),
            at(t, 103.1, 103.0),
            at(t, 100.2, 103.0),
        ]);
        let Some(Geometry::Polygon(c)) = f.clip(&tiny) else {
            panic!("a small polygon must stay visible");
        };
        assert!(c.exterior().0.len() >= 4);
    }

    #[test]
    fn clipping_is_a_true_intersection() {
        let (t, f) = frame();
        // A frame around the tile: only its east side, a bar, crosses the tile.
        let ring =
            |pts: &[(f64, f64)]| LineString(pts.iter().map(|(x, y)| at(t, *x, *y)).collect());
        let frame_polygon = Geometry::Polygon(Polygon::new(
            ring(&[
                (-1000.0, -1000.0),
                (3100.0, -1000.0),
                (3100.0, 5000.0),
                (-1000.0, 5000.0),
                (-1000.0, -1000.0),
            ]),
            vec![ring(&[
                (-900.0, -900.0),
                (3000.0, -900.0),
                (3000.0, 4900.0),
                (-900.0, 4900.0),
                (-900.0, -900.0),
            ])],
        ));
        let Some(Geometry::Polygon(c)) = f.clip(&frame_polygon) else {
            panic!("expected the bar");
        };
        assert!(c.interiors().is_empty());
        let xs: Vec<f64> = c.exterior().0.iter().map(|c| c.x).collect();
        let ys: Vec<f64> = c.exterior().0.iter().map(|c| c.y).collect();
        assert!(xs.iter().all(|x| (3000.0..=3100.0).contains(x)), "{xs:?}");
        assert!(ys.contains(&-64.0) && ys.contains(&4160.0));
    }
}
