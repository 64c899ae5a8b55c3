//! Exact integer geometry on the millimetre plane: slicing an area by lines, unions, and the
//! conversions to `geo` polygons in metres or in WGS84.
//!
//! Everything that must tile exactly goes through `i_overlay`'s integer API on one fixed grid
//! (see [`crate::frame`]), so the pieces of one slice share their vertices bit for bit and
//! their unions dissolve without slivers.

use geo::{Coord, LineString, MultiPolygon, Polygon};
use i_overlay::core::fill_rule::FillRule;
use i_overlay::core::overlay::{IntOverlayOptions, Overlay};
use i_overlay::core::overlay_rule::OverlayRule;
use i_overlay::i_float::int::point::IntPoint;
use i_overlay::i_shape::int::path::IntPath;
use i_overlay::i_shape::int::shape::{IntShape, IntShapes};
use i_overlay::string::overlay::StringOverlay;
use i_overlay::string::rule::StringRule;

use crate::frame::{plane, Frame};

/// Output options: OGC-valid shapes, and every vertex kept, so that neighbours cut from one
/// slice keep the same vertices along the boundary they share.
fn options() -> IntOverlayOptions {
    IntOverlayOptions {
        preserve_output_collinear: true,
        ogc: true,
        ..IntOverlayOptions::default()
    }
}

/// Lines that cut an area: open paths (roads, streams) and closed rings (water bodies, villager
/// groups, villages, H3 cells).
#[derive(Debug, Clone, Default)]
pub(crate) struct Cuts {
    pub(crate) paths: Vec<IntPath>,
    pub(crate) rings: Vec<IntPath>,
}

impl Cuts {
    /// Whether there is nothing to cut with.
    pub(crate) fn is_empty(&self) -> bool {
        self.paths.is_empty() && self.rings.is_empty()
    }
}

/// The faces an area falls into when cut along `cuts` (lines that end inside a face, dangles,
/// cut nothing).
pub(crate) fn slice(area: &IntShapes, cuts: &Cuts) -> IntShapes {
    if cuts.is_empty() {
        return area.clone();
    }
    let mut overlay = StringOverlay::with_shapes(area);
    for p in &cuts.paths {
        overlay.add_string_path(p);
    }
    for r in &cuts.rings {
        overlay.add_string_contour(r);
    }
    overlay
        .build_graph_view(FillRule::NonZero)
        .map(|graph| graph.extract_shapes_custom(StringRule::Slice, options()))
        .unwrap_or_default()
}

/// The union of shapes (which may share boundaries exactly).
pub(crate) fn union(shapes: &[IntShape]) -> IntShapes {
    if let [one] = shapes {
        return vec![one.clone()];
    }
    let mut overlay = Overlay::new_custom(
        shapes
            .iter()
            .map(|s| s.iter().map(Vec::len).sum::<usize>())
            .sum(),
        options(),
        i_overlay::core::solver::Solver::default(),
    );
    overlay.add_shapes(shapes, i_overlay::core::overlay::ShapeType::Subject);
    overlay.overlay(OverlayRule::Subject, FillRule::NonZero)
}

/// Twice the signed area of a ring in square millimetres (positive counter-clockwise).
fn ring_area2(ring: &[IntPoint]) -> i128 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let a = ring[i];
            let b = ring[(i + 1) % n];
            i128::from(a.x) * i128::from(b.y) - i128::from(b.x) * i128::from(a.y)
        })
        .sum()
}

/// Area of a shape (outer ring less holes) in square metres.
pub(crate) fn area(shape: &IntShape) -> f64 {
    let twice: i128 = shape
        .iter()
        .map(|r| ring_area2(r).abs())
        .enumerate()
        .fold(0, |acc, (i, a)| if i == 0 { acc + a } else { acc - a });
    twice as f64 / 2.0 / (crate::frame::SCALE * crate::frame::SCALE)
}

/// Length of every ring of a shape in metres.
pub(crate) fn perimeter(shape: &IntShape) -> f64 {
    shape
        .iter()
        .map(|r| {
            let n = r.len();
            (0..n).map(|i| seg_len(r[i], r[(i + 1) % n])).sum::<f64>()
        })
        .sum()
}

/// Length of a segment in metres.
pub(crate) fn seg_len(a: IntPoint, b: IntPoint) -> f64 {
    let dx = f64::from(b.x) - f64::from(a.x);
    let dy = f64::from(b.y) - f64::from(a.y);
    dx.hypot(dy) / crate::frame::SCALE
}

/// A shape as a `geo` polygon in plane metres.
pub(crate) fn to_plane_polygon(shape: &IntShape) -> Polygon<f64> {
    let ring = |r: &IntPath| {
        let mut c: Vec<Coord<f64>> = r
            .iter()
            .map(|p| {
                let [x, y] = plane(*p);
                Coord { x, y }
            })
            .collect();
        if let Some(&first) = c.first() {
            c.push(first);
        }
        LineString(c)
    };
    let mut rings = shape.iter().map(ring);
    let exterior = rings.next().unwrap_or_else(|| LineString(Vec::new()));
    Polygon::new(exterior, rings.collect())
}

/// Shapes as a WGS84 multipolygon.
pub(crate) fn to_lonlat(frame: &Frame, shapes: &[IntShape]) -> MultiPolygon<f64> {
    to_lonlat_with(shapes, &|p| frame.from_int(p))
}

/// Shapes as a WGS84 multipolygon, each grid point placed by `place`.
pub(crate) fn to_lonlat_with(
    shapes: &[IntShape],
    place: &dyn Fn(IntPoint) -> Coord<f64>,
) -> MultiPolygon<f64> {
    let ring = |r: &IntPath| {
        let mut c: Vec<Coord<f64>> = r.iter().map(|p| place(*p)).collect();
        if let Some(&first) = c.first() {
            c.push(first);
        }
        LineString(c)
    };
    MultiPolygon(
        shapes
            .iter()
            .map(|s| {
                let mut rings = s.iter().map(ring);
                let exterior = rings.next().unwrap_or_else(|| LineString(Vec::new()));
                Polygon::new(exterior, rings.collect())
            })
            .collect(),
    )
}

/// A WGS84 ring or line on the millimetre grid, without repeated points (and without the
/// closing point of a ring); `None` when a point lies beyond the plane.
pub(crate) fn to_int_path(frame: &Frame, line: &LineString<f64>, closed: bool) -> Option<IntPath> {
    let mut out: IntPath = Vec::with_capacity(line.0.len());
    for c in &line.0 {
        let p = frame.to_int(*c)?;
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
    if closed && out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    Some(out)
}

/// A WGS84 polygon as an integer shape (outer ring counter-clockwise, holes clockwise, as the
/// overlay wants them after its own normalisation).
pub(crate) fn polygon_to_int(frame: &Frame, p: &Polygon<f64>) -> Option<IntShape> {
    let mut shape = vec![to_int_path(frame, p.exterior(), true)?];
    for hole in p.interiors() {
        shape.push(to_int_path(frame, hole, true)?);
    }
    // Normalise through the overlay: it fixes orientation and drops degenerate rings.
    Some(shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x0: i32, y0: i32, s: i32) -> IntShape {
        vec![vec![
            IntPoint::new(x0, y0),
            IntPoint::new(x0 + s, y0),
            IntPoint::new(x0 + s, y0 + s),
            IntPoint::new(x0, y0 + s),
        ]]
    }

    #[test]
    fn a_line_across_cuts_and_a_dangle_does_not() {
        let area = vec![square(0, 0, 1000)];
        let across = Cuts {
            paths: vec![vec![IntPoint::new(500, -10), IntPoint::new(500, 1010)]],
            rings: Vec::new(),
        };
        let pieces = slice(&area, &across);
        assert_eq!(pieces.len(), 2);
        let total: f64 = pieces.iter().map(area_of).sum();
        assert!((total - 1.0).abs() < 1e-12, "{total}");
        let dangle = Cuts {
            paths: vec![vec![IntPoint::new(500, -10), IntPoint::new(500, 600)]],
            rings: Vec::new(),
        };
        assert_eq!(slice(&area, &dangle).len(), 1);
        let merged = union(&pieces);
        assert_eq!(merged.len(), 1);
        assert!((area_of(&merged[0]) - 1.0).abs() < 1e-12);
    }

    fn area_of(s: &IntShape) -> f64 {
        area(s)
    }
}
