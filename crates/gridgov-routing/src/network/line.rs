//! Road lines: what a road network is built from.

use geo::{Coord, Geometry};
use gridgov_model::vocab::RoadClass;
use gridgov_model::{Feature, Properties, Value};

use super::error::NetworkError;

/// One road as drawn: a line in longitude/latitude (WGS84 or CGCS2000, which differ by
/// centimetres), its class and whether it is one-way. A one-way road is driven in the order of
/// its points only (the OpenStreetMap import already reverses `oneway=-1` ways).
#[derive(Debug, Clone, PartialEq)]
pub struct RoadLine {
    /// The road's id: its OpenStreetMap way id, or its feature id.
    pub id: i64,
    /// The points, longitude/latitude in degrees.
    pub coords: Vec<Coord<f64>>,
    /// The road class.
    pub class: RoadClass,
    /// One-way in the order of `coords`.
    pub oneway: bool,
}

impl RoadLine {
    /// The road lines of a `roads` feature's geometry and fields (`class`, required; `oneway`,
    /// false when missing). A multi-line gives one road line per part, all with `id`.
    ///
    /// This takes the parts of a feature rather than the feature so that both stored features
    /// and freshly imported ones (`gridgov_import::ImportedFeature`) can be turned into roads.
    pub fn from_parts(
        id: i64,
        geometry: Option<&Geometry<f64>>,
        properties: &Properties,
    ) -> Result<Vec<RoadLine>, NetworkError> {
        let bad = |reason: String| NetworkError::BadRoad { id, reason };
        let class = match properties.get("class") {
            Some(Value::Text(t)) => t.parse::<RoadClass>().map_err(|e| bad(e.to_string()))?,
            Some(v) => return Err(bad(format!("class {v:?} is not text"))),
            None => return Err(bad("no class".into())),
        };
        let oneway = match properties.get("oneway") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::Integer(i)) => *i != 0,
            Some(Value::Text(t)) => matches!(t.as_str(), "yes" | "true" | "1"),
            Some(v) => return Err(bad(format!("oneway {v:?} is not a boolean"))),
        };
        let parts: Vec<Vec<Coord<f64>>> = match geometry {
            Some(Geometry::LineString(l)) => vec![l.0.clone()],
            Some(Geometry::MultiLineString(m)) => m.0.iter().map(|l| l.0.clone()).collect(),
            Some(g) => return Err(bad(format!("geometry is not a line: {g:?}"))),
            None => return Err(bad("no geometry".into())),
        };
        Ok(parts
            .into_iter()
            .map(|coords| RoadLine {
                id,
                coords,
                class,
                oneway,
            })
            .collect())
    }

    /// The road lines of a stored `roads` feature. Its id is the `osm_id` field when there is
    /// one, else the feature id, else `fallback_id` (such as the feature's position in its layer).
    pub fn from_feature(
        feature: &Feature,
        fallback_id: i64,
    ) -> Result<Vec<RoadLine>, NetworkError> {
        let id = feature
            .get("osm_id")
            .and_then(Value::as_i64)
            .or(feature.id.map(|f| f.0))
            .unwrap_or(fallback_id);
        RoadLine::from_parts(id, feature.geometry.as_ref(), &feature.properties)
    }

    /// The road lines of a whole `roads` layer, ids as in [`RoadLine::from_feature`] with the
    /// feature's position in the slice as the fallback.
    pub fn from_features(features: &[Feature]) -> Result<Vec<RoadLine>, NetworkError> {
        let mut out = Vec::with_capacity(features.len());
        for (k, f) in features.iter().enumerate() {
            out.extend(RoadLine::from_feature(f, k as i64)?);
        }
        Ok(out)
    }
}
