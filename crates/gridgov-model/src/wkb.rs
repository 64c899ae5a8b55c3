//! A small, bounded reader of Well-Known Binary into `geo` geometries: what the import reads
//! from GDAL and what both stores read back (PostGIS EWKB, GeoPackage binary).
//!
//! GDAL hands geometries over as WKB; gdal's own `to_geo` refuses 3D types (KML coordinates
//! carry an altitude) and panics on curved rings, so this reader drops Z and M, accepts the
//! ISO (`1000`/`2000`/`3000` offsets) and the extended (high-bit flags, SRID) forms, and
//! reports what it cannot read instead. It trusts no count: none may promise more elements
//! than the bytes left can hold, and collections nest at most [`MAX_DEPTH`] deep, so a
//! damaged or hostile blob of a few bytes can neither make it allocate gigabytes (geozero's
//! reader preallocates whatever a count says; found by `fuzz/` `wkb_geometry`) nor overflow
//! the stack.

use geo::{
    Coord, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon,
    Point, Polygon,
};

/// How deep geometry collections may nest.
pub const MAX_DEPTH: usize = 16;

/// Reads one WKB geometry. An empty geometry (`POINT EMPTY`, a collection without parts) is
/// `None`.
///
/// # Errors
/// Why the bytes are not one readable geometry (cut short, an unknown or curved type, a
/// count larger than the bytes, bytes left over).
pub fn read(bytes: &[u8]) -> Result<Option<Geometry<f64>>, String> {
    let mut r = Reader {
        bytes,
        pos: 0,
        depth: 0,
    };
    let g = r.geometry()?;
    if r.pos != bytes.len() {
        return Err(format!(
            "{} bytes left over after the geometry",
            bytes.len() - r.pos
        ));
    }
    Ok(g)
}

/// Reads a GeoPackage geometry blob (the `GP` header, then WKB). An empty one is `None`.
///
/// # Errors
/// Why the blob is not a GeoPackage geometry, or its WKB not readable ([`read`]).
pub fn read_geopackage(blob: &[u8]) -> Result<Option<Geometry<f64>>, String> {
    let [b'G', b'P', _version, flags, ..] = blob else {
        return Err("not a GeoPackage geometry (no GP header)".into());
    };
    if flags & 0b0010_0000 != 0 {
        return Err("extended GeoPackage geometries are not supported".into());
    }
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        n => return Err(format!("envelope code {n} is not one GeoPackage defines")),
    };
    let start = 8 + envelope;
    let wkb = blob
        .get(start..)
        .ok_or_else(|| "the GeoPackage header is cut short".to_owned())?;
    if flags & 0b0001_0000 != 0 && wkb.is_empty() {
        return Ok(None);
    }
    read(wkb)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
}

#[derive(Clone, Copy)]
struct Header {
    little: bool,
    kind: u32,
    dims: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let end = self.pos + N;
        let s = self
            .bytes
            .get(self.pos..end)
            .ok_or_else(|| format!("geometry ends early, at byte {}", self.pos))?;
        self.pos = end;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn u32(&mut self, little: bool) -> Result<u32, String> {
        let b = self.take::<4>()?;
        Ok(if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    fn f64(&mut self, little: bool) -> Result<f64, String> {
        let b = self.take::<8>()?;
        Ok(if little {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        })
    }

    fn count(&mut self, little: bool) -> Result<usize, String> {
        let n = self.u32(little)? as usize;
        // Every element takes at least 8 bytes; a larger count is a damaged geometry.
        if n > (self.bytes.len() - self.pos) / 8 + 1 {
            return Err(format!("count {n} exceeds the geometry's size"));
        }
        Ok(n)
    }

    fn header(&mut self) -> Result<Header, String> {
        let [order] = self.take::<1>()?;
        let little = match order {
            0 => false,
            1 => true,
            b => return Err(format!("byte order marker {b} is neither 0 nor 1")),
        };
        let raw = self.u32(little)?;
        let (mut z, mut m) = (raw & 0x8000_0000 != 0, raw & 0x4000_0000 != 0);
        if raw & 0x2000_0000 != 0 {
            // Extended WKB with an SRID: skip it.
            self.u32(little)?;
        }
        let code = raw & 0x0FFF_FFFF;
        let kind = code % 1000;
        match code / 1000 {
            0 => {}
            1 => z = true,
            2 => m = true,
            3 => (z, m) = (true, true),
            _ => return Err(format!("unknown geometry type code {code}")),
        }
        Ok(Header {
            little,
            kind,
            dims: 2 + usize::from(z) + usize::from(m),
        })
    }

    fn coord(&mut self, h: Header) -> Result<Coord<f64>, String> {
        let x = self.f64(h.little)?;
        let y = self.f64(h.little)?;
        for _ in 2..h.dims {
            self.f64(h.little)?;
        }
        Ok(Coord { x, y })
    }

    fn line(&mut self, h: Header) -> Result<LineString<f64>, String> {
        let n = self.count(h.little)?;
        (0..n).map(|_| self.coord(h)).collect::<Result<_, _>>()
    }

    fn polygon(&mut self, h: Header) -> Result<Option<Polygon<f64>>, String> {
        let n = self.count(h.little)?;
        let mut rings = (0..n)
            .map(|_| self.line(h))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter();
        Ok(rings
            .next()
            .map(|exterior| Polygon::new(exterior, rings.collect())))
    }

    /// Reads the parts of a multi-geometry, each with its own header of type `part`.
    fn parts<T>(
        &mut self,
        h: Header,
        part: u32,
        mut get: impl FnMut(Geometry<f64>) -> Option<T>,
    ) -> Result<Vec<T>, String> {
        let n = self.count(h.little)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let ph = self.header()?;
            if ph.kind != part {
                return Err(format!(
                    "a part of type {} inside a {}",
                    name(ph.kind),
                    name(h.kind)
                ));
            }
            if let Some(t) = self.body(ph)?.and_then(&mut get) {
                out.push(t);
            }
        }
        Ok(out)
    }

    fn geometry(&mut self) -> Result<Option<Geometry<f64>>, String> {
        let h = self.header()?;
        self.body(h)
    }

    /// A collection's members, one level deeper.
    fn members(&mut self, h: Header) -> Result<Vec<Geometry<f64>>, String> {
        if self.depth >= MAX_DEPTH {
            return Err(format!("collections nested more than {MAX_DEPTH} deep"));
        }
        self.depth += 1;
        let n = self.count(h.little)?;
        let mut parts = Vec::with_capacity(n);
        for _ in 0..n {
            if let Some(g) = self.geometry()? {
                parts.push(g);
            }
        }
        self.depth -= 1;
        Ok(parts)
    }

    fn body(&mut self, h: Header) -> Result<Option<Geometry<f64>>, String> {
        let g = match h.kind {
            1 => {
                let c = self.coord(h)?;
                if c.x.is_nan() && c.y.is_nan() {
                    return Ok(None);
                }
                Geometry::Point(Point(c))
            }
            2 => {
                let l = self.line(h)?;
                if l.0.is_empty() {
                    return Ok(None);
                }
                Geometry::LineString(l)
            }
            3 => match self.polygon(h)? {
                Some(p) => Geometry::Polygon(p),
                None => return Ok(None),
            },
            4 => Geometry::MultiPoint(MultiPoint(self.parts(h, 1, |g| match g {
                Geometry::Point(p) => Some(p),
                _ => None,
            })?)),
            5 => Geometry::MultiLineString(MultiLineString(self.parts(h, 2, |g| match g {
                Geometry::LineString(l) => Some(l),
                _ => None,
            })?)),
            6 => Geometry::MultiPolygon(MultiPolygon(self.parts(h, 3, |g| match g {
                Geometry::Polygon(p) => Some(p),
                _ => None,
            })?)),
            7 => Geometry::GeometryCollection(GeometryCollection(self.members(h)?)),
            other => {
                return Err(format!(
                    "{} geometries are not supported; convert curves to lines first",
                    name(other)
                ))
            }
        };
        let empty = match &g {
            Geometry::MultiPoint(m) => m.0.is_empty(),
            Geometry::MultiLineString(m) => m.0.is_empty(),
            Geometry::MultiPolygon(m) => m.0.is_empty(),
            Geometry::GeometryCollection(c) => c.0.is_empty(),
            _ => false,
        };
        Ok((!empty).then_some(g))
    }
}

fn name(kind: u32) -> String {
    match kind {
        1 => "Point".into(),
        2 => "LineString".into(),
        3 => "Polygon".into(),
        4 => "MultiPoint".into(),
        5 => "MultiLineString".into(),
        6 => "MultiPolygon".into(),
        7 => "GeometryCollection".into(),
        8 => "CircularString".into(),
        9 => "CompoundCurve".into(),
        10 => "CurvePolygon".into(),
        11 => "MultiCurve".into(),
        12 => "MultiSurface".into(),
        15 => "PolyhedralSurface".into(),
        16 => "TIN".into(),
        17 => "Triangle".into(),
        k => format!("type-{k}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le_point(code: u32, coords: &[f64]) -> Vec<u8> {
        let mut v = vec![1u8];
        v.extend(code.to_le_bytes());
        for c in coords {
            v.extend(c.to_le_bytes());
        }
        v
    }

    #[test]
    fn points_in_every_dimension_lose_z_and_m() {
        let want = Some(Geometry::Point(Point::new(105.5, 26.5)));
        assert_eq!(read(&le_point(1, &[105.5, 26.5])).unwrap(), want);
        assert_eq!(read(&le_point(1001, &[105.5, 26.5, 9.0])).unwrap(), want);
        assert_eq!(
            read(&le_point(3001, &[105.5, 26.5, 9.0, 1.0])).unwrap(),
            want
        );
        assert_eq!(
            read(&le_point(0x8000_0001, &[105.5, 26.5, 9.0])).unwrap(),
            want
        );
        assert_eq!(read(&le_point(1, &[f64::NAN, f64::NAN])).unwrap(), None);
    }

    #[test]
    fn big_endian_multipolygon() {
        let mut v = vec![0u8];
        v.extend(6u32.to_be_bytes());
        v.extend(1u32.to_be_bytes());
        v.push(0);
        v.extend(3u32.to_be_bytes());
        v.extend(1u32.to_be_bytes());
        v.extend(4u32.to_be_bytes());
        for (x, y) in [(0.0f64, 0.0f64), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)] {
            v.extend(x.to_be_bytes());
            v.extend(y.to_be_bytes());
        }
        let Some(Geometry::MultiPolygon(mp)) = read(&v).unwrap() else {
            panic!("not a multipolygon")
        };
        assert_eq!(mp.0[0].exterior().0.len(), 4);
    }

    #[test]
    fn damage_is_reported_not_panicked_on() {
        let p = le_point(1, &[1.0, 2.0]);
        assert!(read(&p[..12]).unwrap_err().contains("ends early"));
        assert!(read(&le_point(8, &[]))
            .unwrap_err()
            .contains("CircularString"));
        let mut huge = vec![1u8];
        huge.extend(2u32.to_le_bytes());
        huge.extend(u32::MAX.to_le_bytes());
        assert!(read(&huge).is_err());
        // A collection of a collection of … 10,000 deep: refused, not a stack overflow.
        let mut deep = Vec::new();
        for _ in 0..10_000 {
            deep.push(1u8);
            deep.extend(7u32.to_le_bytes());
            deep.extend(1u32.to_le_bytes());
        }
        assert!(read(&deep).unwrap_err().contains("nested"));
    }

    #[test]
    fn geopackage_blobs_with_and_without_envelopes() {
        let point = le_point(1, &[105.5, 26.5]);
        let want = Some(Geometry::Point(Point::new(105.5, 26.5)));
        // No envelope.
        let mut blob = vec![b'G', b'P', 0, 0b0000_0001];
        blob.extend(4326i32.to_le_bytes());
        blob.extend(&point);
        assert_eq!(read_geopackage(&blob).unwrap(), want);
        // An xy envelope (32 bytes).
        let mut blob = vec![b'G', b'P', 0, 0b0000_0011];
        blob.extend(4326i32.to_le_bytes());
        for v in [105.5f64, 105.5, 26.5, 26.5] {
            blob.extend(v.to_le_bytes());
        }
        blob.extend(&point);
        assert_eq!(read_geopackage(&blob).unwrap(), want);
        assert!(read_geopackage(&blob[..20]).is_err());
        assert!(read_geopackage(b"XX").is_err());
        assert!(read_geopackage(&[b'G', b'P', 0, 0b0000_1111]).is_err());
    }
}
