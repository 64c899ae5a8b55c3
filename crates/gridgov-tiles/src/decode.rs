//! Mapbox Vector Tile bytes back into layers, features, attributes and geometry in tile
//! coordinates: for tests and comparisons (tiles from PostGIS against tiles from the index).

use std::collections::BTreeMap;

use geozero::mvt::tile::{GeomType, Value as MvtValue};
use geozero::mvt::{Message, Tile};

/// Why bytes are not a vector tile.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not a protobuf `Tile` (prost's message).
    #[error("not a vector tile: {0}")]
    Protobuf(String),
    /// A feature's geometry commands or tags do not follow MVT 2.1.
    #[error("layer {layer}: malformed feature: {why}")]
    Malformed {
        /// The layer's name.
        layer: String,
        /// What is wrong.
        why: &'static str,
    },
}

/// A decoded tile.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedTile {
    /// Its layers, in order.
    pub layers: Vec<DecodedLayer>,
}

impl DecodedTile {
    /// The layer of this name.
    pub fn layer(&self, name: &str) -> Option<&DecodedLayer> {
        self.layers.iter().find(|l| l.name == name)
    }

    /// The number of features in every layer.
    pub fn feature_count(&self) -> usize {
        self.layers.iter().map(|l| l.features.len()).sum()
    }
}

/// A decoded layer.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedLayer {
    /// The layer's name.
    pub name: String,
    /// Tile units across the tile.
    pub extent: u32,
    /// Its features, in order.
    pub features: Vec<DecodedFeature>,
}

/// The geometry type of a decoded feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodedKind {
    /// Points.
    Point,
    /// Lines.
    LineString,
    /// Polygons (rings).
    Polygon,
    /// Not given.
    Unknown,
}

/// An attribute value as a tile holds it (integers of any MVT encoding as `Int`, floats as
/// `Double`).
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// Text.
    Str(String),
    /// A whole number.
    Int(i128),
    /// A float or double.
    Double(f64),
    /// A boolean.
    Bool(bool),
}

/// A decoded feature.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedFeature {
    /// The MVT feature id.
    pub id: Option<u64>,
    /// Its geometry type.
    pub kind: DecodedKind,
    /// Points (one a part), lines, or rings (closed: the first point repeated at the end),
    /// in tile units.
    pub parts: Vec<Vec<[i64; 2]>>,
    /// Attributes by key.
    pub attributes: BTreeMap<String, AttrValue>,
}

impl DecodedFeature {
    /// `[min_x, min_y, max_x, max_y]` over every part, in tile units.
    pub fn bbox(&self) -> Option<[i64; 4]> {
        let mut it = self.parts.iter().flatten();
        let first = it.next()?;
        Some(it.fold([first[0], first[1], first[0], first[1]], |b, p| {
            [
                b[0].min(p[0]),
                b[1].min(p[1]),
                b[2].max(p[0]),
                b[3].max(p[1]),
            ]
        }))
    }

    /// Twice the signed area of each ring (surveyor's formula; MVT exterior rings are
    /// positive).
    pub fn ring_areas(&self) -> Vec<i64> {
        self.parts
            .iter()
            .map(|r| {
                r.windows(2)
                    .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
                    .sum()
            })
            .collect()
    }
}

/// Decodes tile bytes (uncompressed).
pub fn decode(bytes: &[u8]) -> Result<DecodedTile, DecodeError> {
    let tile = Tile::decode(bytes).map_err(|e| DecodeError::Protobuf(e.to_string()))?;
    let mut layers = Vec::with_capacity(tile.layers.len());
    for l in tile.layers {
        let malformed = |why| DecodeError::Malformed {
            layer: l.name.clone(),
            why,
        };
        let values: Vec<AttrValue> = l.values.iter().map(attr).collect();
        let mut features = Vec::with_capacity(l.features.len());
        for f in &l.features {
            let kind = match f.r#type() {
                GeomType::Point => DecodedKind::Point,
                GeomType::Linestring => DecodedKind::LineString,
                GeomType::Polygon => DecodedKind::Polygon,
                GeomType::Unknown => DecodedKind::Unknown,
            };
            let mut attributes = BTreeMap::new();
            if f.tags.len() % 2 != 0 {
                return Err(malformed("odd number of tags"));
            }
            for kv in f.tags.chunks(2) {
                let key = l
                    .keys
                    .get(kv[0] as usize)
                    .ok_or_else(|| malformed("tag key out of range"))?;
                let value = values
                    .get(kv[1] as usize)
                    .ok_or_else(|| malformed("tag value out of range"))?;
                attributes.insert(key.clone(), value.clone());
            }
            let parts = commands(&f.geometry).ok_or_else(|| malformed("bad geometry"))?;
            features.push(DecodedFeature {
                id: f.id,
                kind,
                parts,
                attributes,
            });
        }
        layers.push(DecodedLayer {
            name: l.name.clone(),
            extent: l.extent.unwrap_or(4096),
            features,
        });
    }
    Ok(DecodedTile { layers })
}

fn attr(v: &MvtValue) -> AttrValue {
    if let Some(s) = &v.string_value {
        AttrValue::Str(s.clone())
    } else if let Some(f) = v.float_value {
        AttrValue::Double(f64::from(f))
    } else if let Some(d) = v.double_value {
        AttrValue::Double(d)
    } else if let Some(i) = v.int_value {
        AttrValue::Int(i128::from(i))
    } else if let Some(u) = v.uint_value {
        AttrValue::Int(i128::from(u))
    } else if let Some(i) = v.sint_value {
        AttrValue::Int(i128::from(i))
    } else {
        AttrValue::Bool(v.bool_value.unwrap_or(false))
    }
}

/// Decodes geometry commands into parts (rings closed).
fn commands(geometry: &[u32]) -> Option<Vec<Vec<[i64; 2]>>> {
    let zigzag = |v: u32| i64::from((v >> 1) as i32 ^ -((v & 1) as i32));
    let mut parts: Vec<Vec<[i64; 2]>> = Vec::new();
    let (mut x, mut y) = (0_i64, 0_i64);
    let mut i = 0;
    while i < geometry.len() {
        let (id, count) = (geometry[i] & 7, geometry[i] >> 3);
        i += 1;
        match id {
            1 | 2 => {
                for _ in 0..count {
                    let (dx, dy) = (*geometry.get(i)?, *geometry.get(i + 1)?);
                    i += 2;
                    x += zigzag(dx);
                    y += zigzag(dy);
                    if id == 1 {
                        parts.push(vec![[x, y]]);
                    } else {
                        parts.last_mut()?.push([x, y]);
                    }
                }
            }
            7 => {
                let ring = parts.last_mut()?;
                let first = *ring.first()?;
                ring.push(first);
            }
            _ => return None,
        }
    }
    // A multi-point is one MoveTo of several points: one part each.
    Some(parts)
}
