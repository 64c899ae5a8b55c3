//! Model features into Mapbox Vector Tile 2.1 bytes, through geozero's MVT writer.

use geo::Geometry;
use geozero::mvt::tile::{Feature as MvtFeature, Layer as MvtLayer};
use geozero::mvt::{Message, TagsBuilder, Tile, TileValue};
use geozero::ToMvt;
use gridgov_model::{Feature, Layer, Value};

use crate::clip::TileFrame;
use crate::schema::{schema, DIVISION_ATTRIBUTE, EXTENT};
use crate::tile::TileId;

/// Why features could not be encoded (a geometry geozero refused).
#[derive(Debug, thiserror::Error)]
#[error("could not encode {layer} feature {id} into tile {tile}: {source}")]
pub struct EncodeError {
    /// The layer's name (a model layer's, or a computed layer's).
    pub layer: String,
    /// The feature's id (0 when it has none).
    pub id: i64,
    /// The tile.
    pub tile: TileId,
    /// What geozero said.
    #[source]
    pub source: geozero::error::GeozeroError,
}

/// A feature of a computed layer ([`TileBuilder::add_computed_layer`]).
#[derive(Debug, Clone)]
pub struct ComputedFeature<'a> {
    /// The MVT feature id.
    pub id: Option<u64>,
    /// Its WGS84 geometry.
    pub geometry: &'a Geometry<f64>,
    /// Its attributes, in order, all of them written.
    pub attributes: Vec<(&'static str, Value)>,
}

/// Builds one tile, layer by layer.
///
/// ```
/// use gridgov_tiles::{TileBuilder, TileId};
/// let tile = TileId::new(0, 0, 0).unwrap();
/// let bytes = TileBuilder::new(tile).finish();
/// assert!(bytes.is_empty()); // no layer with features: an empty tile, as ST_AsMVT makes
/// ```
#[derive(Debug)]
pub struct TileBuilder {
    tile: TileId,
    frame: TileFrame,
    layers: Vec<MvtLayer>,
}

impl TileBuilder {
    /// An empty tile `tile`.
    pub fn new(tile: TileId) -> Self {
        Self {
            tile,
            frame: TileFrame::new(tile),
            layers: Vec::new(),
        }
    }

    /// The tile being built.
    pub fn tile(&self) -> TileId {
        self.tile
    }

    /// Adds `layer` with those of `features` that reach into the tile (the caller passes
    /// the features whose bounding boxes meet the tile and its buffer), with the layer's tile
    /// attributes and each feature's id as MVT feature id. Adds nothing below the layer's
    /// minimum zoom, for layers without geometry, or when no feature reaches the tile.
    pub fn add_layer<'a>(
        &mut self,
        layer: Layer,
        features: impl IntoIterator<Item = &'a Feature>,
    ) -> Result<&mut Self, EncodeError> {
        let Some(schema) = schema(layer) else {
            return Ok(self);
        };
        if !schema.drawn_at(self.tile.z()) {
            return Ok(self);
        }
        let defs: Vec<_> = schema.field_defs().collect();
        let mut tags = TagsBuilder::new();
        let mut out = Vec::new();
        for f in features {
            let Some(g) = f.geometry.as_ref().and_then(|g| self.frame.clip(g)) else {
                continue;
            };
            let id = f.id.map_or(0, |i| i.0);
            let error = |source| EncodeError {
                layer: layer.name().to_owned(),
                id,
                tile: self.tile,
                source,
            };
            let mut mvt: MvtFeature = g.to_mvt_unscaled().map_err(error)?;
            mvt.id = f.id.and_then(|i| u64::try_from(i.0).ok());
            let mut push = |key: &str, value: TileValue| {
                let (k, v) = tags.insert_ref(key, value);
                mvt.tags.push(k);
                mvt.tags.push(v);
            };
            push(
                DIVISION_ATTRIBUTE,
                TileValue::Str(f.division.as_str().to_owned()),
            );
            for def in &defs {
                if let Some(v) = f.properties.get(def.name) {
                    push(def.name, tile_value(v));
                }
            }
            out.push(mvt);
        }
        if !out.is_empty() {
            let (keys, values) = tags.into_tags();
            self.layers.push(MvtLayer {
                version: 2,
                name: layer.name().to_owned(),
                features: out,
                keys,
                values: values.into_iter().map(Into::into).collect(),
                extent: Some(EXTENT),
            });
        }
        Ok(self)
    }

    /// Adds a computed layer `name` (not a model layer: hot spot cells, for instance) with
    /// those of `features` that reach into the tile, every attribute given, at any zoom.
    /// The caller decides what is public. Adds nothing when no feature reaches the tile.
    pub fn add_computed_layer<'a>(
        &mut self,
        name: &str,
        features: impl IntoIterator<Item = ComputedFeature<'a>>,
    ) -> Result<&mut Self, EncodeError> {
        let mut tags = TagsBuilder::new();
        let mut out = Vec::new();
        for f in features {
            let Some(g) = self.frame.clip(f.geometry) else {
                continue;
            };
            let mut mvt: MvtFeature = g.to_mvt_unscaled().map_err(|source| EncodeError {
                layer: name.to_owned(),
                id: f.id.and_then(|i| i64::try_from(i).ok()).unwrap_or(0),
                tile: self.tile,
                source,
            })?;
            mvt.id = f.id;
            for (key, value) in &f.attributes {
                let (k, v) = tags.insert_ref(key, tile_value(value));
                mvt.tags.push(k);
                mvt.tags.push(v);
            }
            out.push(mvt);
        }
        if !out.is_empty() {
            let (keys, values) = tags.into_tags();
            self.layers.push(MvtLayer {
                version: 2,
                name: name.to_owned(),
                features: out,
                keys,
                values: values.into_iter().map(Into::into).collect(),
                extent: Some(EXTENT),
            });
        }
        Ok(self)
    }

    /// The encoded tile (empty when no layer has a feature in it).
    pub fn finish(self) -> Vec<u8> {
        Tile {
            layers: self.layers,
        }
        .encode_to_vec()
    }
}

/// A field value as a tile attribute, typed as `ST_AsMVT` types it: text as strings,
/// whole numbers as unsigned (or signed when negative), reals as doubles, booleans, and dates
/// and instants as text (`YYYY-MM-DD`, RFC 3339 UTC with milliseconds).
pub fn tile_value(v: &Value) -> TileValue {
    match v {
        Value::Text(t) => TileValue::Str(t.clone()),
        Value::Integer(i) => match u64::try_from(*i) {
            Ok(u) => TileValue::Uint(u),
            Err(_) => TileValue::Sint(*i),
        },
        Value::Real(r) => TileValue::Double(*r),
        Value::Bool(b) => TileValue::Bool(*b),
        other => TileValue::Str(other.to_text()),
    }
}

/// Encodes one tile of `layers`, each with the features that may reach into it.
pub fn encode<'a, I>(
    tile: TileId,
    layers: impl IntoIterator<Item = (Layer, I)>,
) -> Result<Vec<u8>, EncodeError>
where
    I: IntoIterator<Item = &'a Feature>,
{
    let mut b = TileBuilder::new(tile);
    for (layer, features) in layers {
        b.add_layer(layer, features)?;
    }
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode, AttrValue, DecodedKind};
    use geo::{point, polygon, Geometry, LineString};
    use gridgov_model::FeatureId;

    fn feature(id: i64, g: Geometry<f64>) -> Feature {
        let mut f = Feature::new("520526101201".parse().unwrap(), Some(g));
        f.id = Some(FeatureId(id));
        f
    }

    #[test]
    fn features_keep_ids_and_public_attributes_only() {
        let t = TileId::new(14, 13_130, 7_012).unwrap();
        let c = t.lonlat_bounds().center();
        let mut grid = feature(
            7,
            Geometry::Polygon(polygon![
                (x: c.x - 0.001, y: c.y - 0.001),
                (x: c.x + 0.001, y: c.y - 0.001),
                (x: c.x + 0.001, y: c.y + 0.001),
                (x: c.x - 0.001, y: c.y + 0.001),
            ]),
        )
        .with("code", "520526101201-G01")
        .with("name", "一网格")
        .with("worker_name", "张三")
        .with("worker_phone", "13800000000");
        grid.properties
            .insert("households".into(), Value::Integer(42));
        let station = feature(9, Geometry::Point(point!(x: c.x, y: c.y)))
            .with("name", "站")
            .with("capacity_t", 12.5);
        let road = feature(
            3,
            Geometry::LineString(LineString::from(vec![(c.x - 1.0, c.y), (c.x + 1.0, c.y)])),
        )
        .with("class", "primary");
        let bytes = encode(
            t,
            [
                (Layer::Grids, vec![&grid]),
                (Layer::TransferStations, vec![&station]),
                (Layer::Roads, vec![&road]),
                (Layer::Persons, vec![&station]),
            ],
        )
        .unwrap();
        let tile = decode(&bytes).unwrap();
        let names: Vec<_> = tile.layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["grids", "transfer_stations", "roads"]);
        let decoded_grid = &tile.layer("grids").unwrap().features[0];
        assert_eq!(decoded_grid.id, Some(7));
        assert_eq!(decoded_grid.kind, DecodedKind::Polygon);
        assert!(decoded_grid.ring_areas()[0] > 0);
        let attrs = &decoded_grid.attributes;
        assert_eq!(
            attrs.get("division_code"),
            Some(&AttrValue::Str("520526101201".into()))
        );
        assert_eq!(attrs.get("households"), Some(&AttrValue::Int(42)));
        assert!(!attrs.contains_key("worker_name"));
        assert!(!attrs.contains_key("worker_phone"));
        let decoded_station = &tile.layer("transfer_stations").unwrap().features[0];
        assert_eq!(decoded_station.kind, DecodedKind::Point);
        assert_eq!(decoded_station.parts, vec![vec![[2048, 2048]]]);
        assert_eq!(
            decoded_station.attributes.get("capacity_t"),
            Some(&AttrValue::Double(12.5))
        );
        let decoded_road = &tile.layer("roads").unwrap().features[0];
        assert_eq!(decoded_road.kind, DecodedKind::LineString);
        assert_eq!(decoded_road.bbox(), Some([-64, 2048, 4160, 2048]));
    }

    #[test]
    fn computed_layers_keep_every_attribute() {
        let t = TileId::new(14, 13_130, 7_012).unwrap();
        let c = t.lonlat_bounds().center();
        let cell = Geometry::Polygon(polygon![
            (x: c.x - 0.001, y: c.y - 0.001),
            (x: c.x + 0.001, y: c.y - 0.001),
            (x: c.x + 0.001, y: c.y + 0.001),
            (x: c.x - 0.001, y: c.y + 0.001),
        ]);
        let far = Geometry::Point(point!(x: c.x + 10.0, y: c.y));
        let mut b = TileBuilder::new(t);
        b.add_computed_layer(
            "hotspots",
            [
                ComputedFeature {
                    id: Some(u64::MAX - 1),
                    geometry: &cell,
                    attributes: vec![
                        ("cell", Value::Text("88…".into())),
                        ("z", Value::Real(-2.5)),
                        ("gi_bin", Value::Integer(-2)),
                    ],
                },
                ComputedFeature {
                    id: Some(1),
                    geometry: &far,
                    attributes: Vec::new(),
                },
            ],
        )
        .unwrap();
        let tile = decode(&b.finish()).unwrap();
        let layer = tile.layer("hotspots").unwrap();
        assert_eq!(layer.features.len(), 1);
        let f = &layer.features[0];
        assert_eq!(f.id, Some(u64::MAX - 1));
        assert_eq!(f.kind, DecodedKind::Polygon);
        assert_eq!(f.attributes.get("z"), Some(&AttrValue::Double(-2.5)));
        assert_eq!(f.attributes.get("gi_bin"), Some(&AttrValue::Int(-2)));
        assert_eq!(
            f.attributes.get("cell"),
            Some(&AttrValue::Str("88…".into()))
        );
        // Nothing in the tile: no layer.
        let mut empty = TileBuilder::new(t);
        empty
            .add_computed_layer(
                "hotspots",
                [ComputedFeature {
                    id: None,
                    geometry: &far,
                    attributes: Vec::new(),
                }],
            )
            .unwrap();
        assert!(empty.finish().is_empty());
    }

    #[test]
    fn layers_below_their_minimum_zoom_are_left_out() {
        let t = TileId::new(5, 25, 13).unwrap();
        let c = t.lonlat_bounds().center();
        let h = feature(1, Geometry::Point(point!(x: c.x, y: c.y)));
        let bytes = encode(t, [(Layer::Households, vec![&h])]).unwrap();
        assert!(bytes.is_empty());
        let t = TileId::new(16, 0, 0).unwrap();
        assert!(encode(t, [(Layer::Households, vec![&h])])
            .unwrap()
            .is_empty());
    }
}
