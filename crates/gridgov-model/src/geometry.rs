//! Geometry checks and GeoJSON geometry encoding.
//!
//! GeoJSON is parsed here rather than through a converter because a converter silently closes
//! open rings and drops NaN; a county's data officer needs to be told instead.

use geo::{
    Coord, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon,
    Point, Polygon, Validation,
};
use serde_json::{json, Value as J};

use crate::layer::GeometryKind;

/// Why a geometry was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeometryError {
    /// A coordinate is NaN or infinite.
    #[error("coordinate {index} is not a finite number")]
    NotFinite {
        /// Position of the coordinate in the geometry.
        index: usize,
    },
    /// Longitude or latitude out of range.
    #[error("coordinate ({x}, {y}) is out of range: longitude must lie in [-180, 180] and latitude in [-90, 90]")]
    OutOfRange {
        /// Longitude.
        x: f64,
        /// Latitude.
        y: f64,
    },
    /// A polygon ring whose last point is not its first.
    #[error("ring {ring} of the polygon is not closed: its last position must equal its first")]
    UnclosedRing {
        /// Ring number (0 = exterior).
        ring: usize,
    },
    /// Invalid polygon or line by the OGC simple-features rules (self-intersection etc.).
    #[error("invalid geometry: {0}")]
    Invalid(String),
    /// The geometry type does not fit the layer.
    #[error("expected a {expected} geometry, got {got}")]
    WrongType {
        /// What the layer takes.
        expected: &'static str,
        /// What was given.
        got: &'static str,
    },
    /// The layer has no geometry but one was given, or vice versa.
    #[error("{0}")]
    Presence(&'static str),
    /// Malformed GeoJSON.
    #[error("malformed GeoJSON geometry: {0}")]
    GeoJson(String),
    /// A geometry larger or deeper than gridgov takes ([`MAX_VERTICES`], [`MAX_PARTS`],
    /// `GeometryCollection`s not nested).
    #[error("geometry too large: {0}")]
    TooLarge(String),
}

/// The most positions one geometry may have (a detailed village boundary has a few
/// thousand); checked before anything else is done with it.
pub const MAX_VERTICES: usize = 200_000;

/// The most parts (polygons, lines, points, rings, members of a collection) one geometry
/// may have.
pub const MAX_PARTS: usize = 10_000;

/// Checks a GeoJSON geometry's size and shape before it is parsed: at most
/// [`MAX_VERTICES`] positions and [`MAX_PARTS`] parts, coordinate arrays no deeper than a
/// MultiPolygon's, and no `GeometryCollection` inside another (RFC 7946 §3.1.8 advises
/// against nesting them). Costs one walk over the JSON, without allocating.
fn check_size(v: &J) -> Result<(), GeometryError> {
    let mut vertices = 0usize;
    let mut parts = 0usize;
    if v.get("type").and_then(J::as_str) == Some("GeometryCollection") {
        let members = v.get("geometries").and_then(J::as_array);
        for m in members.into_iter().flatten() {
            if m.get("type").and_then(J::as_str) == Some("GeometryCollection") {
                return Err(GeometryError::TooLarge(
                    "a GeometryCollection inside a GeometryCollection".into(),
                ));
            }
            parts += 1;
            if let Some(c) = m.get("coordinates") {
                count(c, 0, &mut vertices, &mut parts)?;
            }
        }
    } else if let Some(c) = v.get("coordinates") {
        count(c, 0, &mut vertices, &mut parts)?;
    }
    Ok(())
}

/// Counts the positions and arrays of positions under `v` (a coordinates member), refusing
/// more than the limits or nesting deeper than 4 arrays (a MultiPolygon's).
fn count(
    v: &J,
    depth: usize,
    vertices: &mut usize,
    parts: &mut usize,
) -> Result<(), GeometryError> {
    let Some(a) = v.as_array() else {
        return Ok(());
    };
    if a.first().is_some_and(J::is_number) {
        *vertices += 1;
        if *vertices > MAX_VERTICES {
            return Err(GeometryError::TooLarge(format!(
                "more than {MAX_VERTICES} positions"
            )));
        }
        return Ok(());
    }
    if depth >= 3 {
        return Err(GeometryError::TooLarge(
            "coordinates nested deeper than a MultiPolygon's".into(),
        ));
    }
    *parts += 1;
    if *parts > MAX_PARTS {
        return Err(GeometryError::TooLarge(format!(
            "more than {MAX_PARTS} parts"
        )));
    }
    a.iter()
        .try_for_each(|m| count(m, depth + 1, vertices, parts))
}

/// The OGC name of a geometry's type.
pub fn type_name(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) | Geometry::LineString(_) => "LineString",
        Geometry::Polygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => "Polygon",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
    }
}

/// Brings a geometry into the form its layer stores (a Polygon into a one-part MultiPolygon for
/// division layers) or says why it does not fit.
pub fn conform(kind: GeometryKind, g: Geometry<f64>) -> Result<Geometry<f64>, GeometryError> {
    let wrong = |g: &Geometry<f64>, expected| GeometryError::WrongType {
        expected,
        got: type_name(g),
    };
    match (kind, g) {
        (GeometryKind::None, _) => Err(GeometryError::Presence("this layer has no geometry")),
        (GeometryKind::Point, g @ Geometry::Point(_))
        | (GeometryKind::LineString, g @ Geometry::LineString(_))
        | (GeometryKind::Polygon, g @ Geometry::Polygon(_))
        | (GeometryKind::MultiPolygon, g @ Geometry::MultiPolygon(_))
        | (
            GeometryKind::LineOrPolygon,
            g @ (Geometry::LineString(_)
            | Geometry::MultiLineString(_)
            | Geometry::Polygon(_)
            | Geometry::MultiPolygon(_)),
        ) => Ok(g),
        (GeometryKind::MultiPolygon, Geometry::Polygon(p)) => {
            Ok(Geometry::MultiPolygon(MultiPolygon(vec![p])))
        }
        (GeometryKind::Polygon, Geometry::MultiPolygon(mp)) if mp.0.len() == 1 => {
            Ok(Geometry::Polygon(mp.0.into_iter().next().ok_or({
                GeometryError::Presence("empty multi-polygon")
            })?))
        }
        (GeometryKind::LineString, Geometry::MultiLineString(ml)) if ml.0.len() == 1 => {
            Ok(Geometry::LineString(
                ml.0.into_iter()
                    .next()
                    .ok_or(GeometryError::Presence("empty multi-line"))?,
            ))
        }
        (k, g) => Err(wrong(&g, k.ogc_name())),
    }
}

/// Checks coordinates (finite, in range) and OGC validity (rings closed and not
/// self-intersecting, holes inside shells, lines with two distinct points).
pub fn check(g: &Geometry<f64>) -> Result<(), GeometryError> {
    use geo::CoordsIter;
    for (index, c) in g.coords_iter().enumerate() {
        if !c.x.is_finite() || !c.y.is_finite() {
            return Err(GeometryError::NotFinite { index });
        }
        if !(-180.0..=180.0).contains(&c.x) || !(-90.0..=90.0).contains(&c.y) {
            return Err(GeometryError::OutOfRange { x: c.x, y: c.y });
        }
    }
    if let Err(e) = g.check_validation() {
        return Err(GeometryError::Invalid(e.to_string()));
    }
    Ok(())
}

/// Encodes a geometry as a GeoJSON geometry object.
pub fn to_geojson(g: &Geometry<f64>) -> J {
    fn pos(c: Coord<f64>) -> J {
        json!([c.x, c.y])
    }
    fn line(l: &LineString<f64>) -> J {
        J::Array(l.0.iter().copied().map(pos).collect())
    }
    fn poly(p: &Polygon<f64>) -> J {
        let mut rings = vec![line(p.exterior())];
        rings.extend(p.interiors().iter().map(line));
        J::Array(rings)
    }
    match g {
        Geometry::Point(p) => json!({"type": "Point", "coordinates": pos(p.0)}),
        Geometry::Line(l) => {
            json!({"type": "LineString", "coordinates": [pos(l.start), pos(l.end)]})
        }
        Geometry::LineString(l) => json!({"type": "LineString", "coordinates": line(l)}),
        Geometry::Polygon(p) => json!({"type": "Polygon", "coordinates": poly(p)}),
        Geometry::MultiPoint(mp) => {
            json!({"type": "MultiPoint", "coordinates": mp.0.iter().map(|p| pos(p.0)).collect::<Vec<_>>()})
        }
        Geometry::MultiLineString(ml) => {
            json!({"type": "MultiLineString", "coordinates": ml.0.iter().map(line).collect::<Vec<_>>()})
        }
        Geometry::MultiPolygon(mp) => {
            json!({"type": "MultiPolygon", "coordinates": mp.0.iter().map(poly).collect::<Vec<_>>()})
        }
        Geometry::Rect(r) => to_geojson(&Geometry::Polygon(r.to_polygon())),
        Geometry::Triangle(t) => to_geojson(&Geometry::Polygon(t.to_polygon())),
        Geometry::GeometryCollection(gc) => {
            json!({"type": "GeometryCollection", "geometries": gc.0.iter().map(to_geojson).collect::<Vec<_>>()})
        }
    }
}

fn err(msg: impl Into<String>) -> GeometryError {
    GeometryError::GeoJson(msg.into())
}

fn parse_pos(v: &J) -> Result<Coord<f64>, GeometryError> {
    let a = v
        .as_array()
        .filter(|a| a.len() >= 2)
        .ok_or_else(|| err("a position must be an array of at least two numbers"))?;
    let n = |v: &J| {
        v.as_f64()
            .ok_or_else(|| err(format!("position value {v} is not a number")))
    };
    Ok(Coord {
        x: n(&a[0])?,
        y: n(&a[1])?,
    })
}

fn parse_line(v: &J) -> Result<LineString<f64>, GeometryError> {
    let a = v
        .as_array()
        .ok_or_else(|| err("a line must be an array of positions"))?;
    a.iter()
        .map(parse_pos)
        .collect::<Result<Vec<_>, _>>()
        .map(LineString)
}

fn parse_polygon(v: &J) -> Result<Polygon<f64>, GeometryError> {
    let rings = v
        .as_array()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| err("a polygon must be a non-empty array of rings"))?;
    let mut parsed = Vec::with_capacity(rings.len());
    for (ring, r) in rings.iter().enumerate() {
        let l = parse_line(r)?;
        if l.0.len() < 4 {
            return Err(err(format!(
                "ring {ring} has {} positions; a closed ring needs at least 4",
                l.0.len()
            )));
        }
        if l.0.first() != l.0.last() {
            return Err(GeometryError::UnclosedRing { ring });
        }
        parsed.push(l);
    }
    let mut it = parsed.into_iter();
    let exterior = it.next().ok_or_else(|| err("polygon without rings"))?;
    Ok(Polygon::new(exterior, it.collect()))
}

fn array<'a>(v: &'a J, what: &str) -> Result<&'a Vec<J>, GeometryError> {
    v.as_array()
        .ok_or_else(|| err(format!("{what} coordinates must be an array")))
}

/// Parses a GeoJSON geometry object, refusing open rings, non-numbers and geometries over
/// the size limits ([`MAX_VERTICES`], [`MAX_PARTS`], no nested `GeometryCollection`).
pub fn from_geojson(v: &J) -> Result<Geometry<f64>, GeometryError> {
    check_size(v)?;
    parse(v)
}

/// [`from_geojson`] after the size check.
fn parse(v: &J) -> Result<Geometry<f64>, GeometryError> {
    let ty = v
        .get("type")
        .and_then(J::as_str)
        .ok_or_else(|| err("geometry has no \"type\""))?;
    if ty == "GeometryCollection" {
        let gs = v
            .get("geometries")
            .and_then(J::as_array)
            .ok_or_else(|| err("GeometryCollection needs \"geometries\""))?;
        return gs
            .iter()
            .map(parse)
            .collect::<Result<Vec<_>, _>>()
            .map(|g| Geometry::GeometryCollection(GeometryCollection(g)));
    }
    let c = v
        .get("coordinates")
        .ok_or_else(|| err(format!("{ty} has no \"coordinates\"")))?;
    Ok(match ty {
        "Point" => Geometry::Point(Point(parse_pos(c)?)),
        "LineString" => Geometry::LineString(parse_line(c)?),
        "Polygon" => Geometry::Polygon(parse_polygon(c)?),
        "MultiPoint" => Geometry::MultiPoint(MultiPoint(
            array(c, ty)?
                .iter()
                .map(|p| parse_pos(p).map(Point))
                .collect::<Result<_, _>>()?,
        )),
        "MultiLineString" => Geometry::MultiLineString(MultiLineString(
            array(c, ty)?
                .iter()
                .map(parse_line)
                .collect::<Result<_, _>>()?,
        )),
        "MultiPolygon" => Geometry::MultiPolygon(MultiPolygon(
            array(c, ty)?
                .iter()
                .map(parse_polygon)
                .collect::<Result<_, _>>()?,
        )),
        other => return Err(err(format!("unknown geometry type '{other}'"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_and_nested_geometries_are_refused_before_parsing() {
        let many: Vec<J> = (0..=MAX_VERTICES)
            .map(|i| json!([i as f64 * 1e-6, 0.0]))
            .collect();
        let e = from_geojson(&json!({"type": "LineString", "coordinates": many})).unwrap_err();
        assert!(matches!(e, GeometryError::TooLarge(_)), "{e}");
        let ok: Vec<J> = (0..1000)
            .map(|i| json!([f64::from(i) * 1e-6, 0.0]))
            .collect();
        assert!(from_geojson(&json!({"type": "LineString", "coordinates": ok})).is_ok());
        let nested = json!({"type": "GeometryCollection", "geometries": [
            {"type": "GeometryCollection", "geometries": []}]});
        assert!(matches!(
            from_geojson(&nested),
            Err(GeometryError::TooLarge(_))
        ));
        let deep = json!({"type": "MultiPolygon", "coordinates": [[[[[0, 0]]]]]});
        assert!(matches!(
            from_geojson(&deep),
            Err(GeometryError::TooLarge(_))
        ));
        let points: Vec<J> = (0..=MAX_PARTS).map(|_| json!([[0, 0], [1, 1]])).collect();
        let e = from_geojson(&json!({"type": "MultiLineString", "coordinates": points}));
        assert!(matches!(e, Err(GeometryError::TooLarge(_))));
    }

    #[test]
    fn open_rings_are_refused_not_closed() {
        let v = json!({"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1]]]});
        assert!(matches!(from_geojson(&v), Err(GeometryError::GeoJson(_))));
        let v = json!({"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1],[0,0.5]]]});
        assert_eq!(
            from_geojson(&v),
            Err(GeometryError::UnclosedRing { ring: 0 })
        );
    }

    #[test]
    fn self_intersection_and_range_are_caught() {
        let bowtie = json!({"type": "Polygon", "coordinates": [[[0,0],[1,1],[1,0],[0,1],[0,0]]]});
        let g = from_geojson(&bowtie).unwrap();
        let e = check(&g).unwrap_err().to_string();
        assert!(e.contains("invalid geometry"), "{e}");
        let far = from_geojson(&json!({"type": "Point", "coordinates": [26.9, 204.3]})).unwrap();
        assert!(matches!(check(&far), Err(GeometryError::OutOfRange { .. })));
        let nan = Geometry::Point(Point::new(f64::NAN, 1.0));
        assert_eq!(check(&nan), Err(GeometryError::NotFinite { index: 0 }));
    }

    #[test]
    fn geojson_round_trips() {
        let v = json!({"type": "MultiPolygon", "coordinates": [[[[0.0,0.0],[1.0,0.0],[1.0,1.0],[0.0,0.0]]]]});
        let g = from_geojson(&v).unwrap();
        assert_eq!(to_geojson(&g), v);
        let p = conform(
            GeometryKind::MultiPolygon,
            from_geojson(&json!({"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]}))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(type_name(&p), "MultiPolygon");
        assert!(conform(GeometryKind::Point, p).is_err());
    }
}
