//! A stored feature: id, owning division, geometry and typed field values.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use geo::Geometry;

use crate::code::DivisionCode;
use crate::layer::{FieldType, Layer};
use crate::validate::ValidationError;

/// A feature's id, unique within its layer and assigned by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FeatureId(pub i64);

impl fmt::Display for FeatureId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A typed field value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// UTF-8 text.
    Text(String),
    /// 64-bit integer.
    Integer(i64),
    /// 64-bit float.
    Real(f64),
    /// Calendar date.
    Date(NaiveDate),
    /// Instant in UTC.
    DateTime(DateTime<Utc>),
    /// Boolean.
    Bool(bool),
}

impl Value {
    /// The value as text, as GeoPackage stores it and CSV writes it.
    pub fn to_text(&self) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::Integer(i) => i.to_string(),
            Value::Real(r) => r.to_string(),
            Value::Date(d) => d.format("%Y-%m-%d").to_string(),
            Value::DateTime(t) => t.to_rfc3339_opts(SecondsFormat::Millis, true),
            Value::Bool(b) => b.to_string(),
        }
    }

    /// The value as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Integer(i) => (*i).into(),
            Value::Real(r) => {
                serde_json::Number::from_f64(*r).map_or(serde_json::Value::Null, Into::into)
            }
            Value::Bool(b) => (*b).into(),
            other => other.to_text().into(),
        }
    }

    /// The integer, if this is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The number, if this is a real or an integer.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Real(r) => Some(*r),
            Value::Integer(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The truth value, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The text, if this is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The date, if this is one.
    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            Value::Date(d) => Some(*d),
            _ => None,
        }
    }

    /// Parses text into a value of the given type (as read from CSV, shapefiles or the API).
    pub fn parse(ty: FieldType, text: &str) -> Result<Value, String> {
        let t = text.trim();
        match ty {
            FieldType::Text => Ok(Value::Text(text.to_owned())),
            FieldType::Integer => t
                .parse::<i64>()
                .or_else(|e| {
                    // Shapefiles and spreadsheets write whole numbers as "12.0".
                    t.parse::<f64>()
                        .ok()
                        .filter(|r| r.fract() == 0.0 && r.abs() < 9.0e15)
                        .map(|r| r as i64)
                        .ok_or(e)
                })
                .map(Value::Integer)
                .map_err(|_| format!("'{t}' is not a whole number")),
            FieldType::Real => t
                .parse::<f64>()
                .ok()
                .filter(|r| r.is_finite())
                .map(Value::Real)
                .ok_or_else(|| format!("'{t}' is not a number")),
            FieldType::Date => parse_date(t)
                .map(Value::Date)
                .ok_or_else(|| format!("'{t}' is not a date (YYYY-MM-DD)")),
            FieldType::DateTime => DateTime::parse_from_rfc3339(t)
                .map(|d| d.with_timezone(&Utc))
                .or_else(|_| {
                    chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
                        .map(|n| n.and_utc())
                })
                .or_else(|_| {
                    chrono::NaiveDateTime::parse_from_str(t, "%Y/%m/%d %H:%M:%S")
                        .map(|n| n.and_utc())
                })
                .map(Value::DateTime)
                .map_err(|_| format!("'{t}' is not a date and time (RFC 3339)")),
            FieldType::Bool => match t.to_ascii_lowercase().as_str() {
                "true" | "t" | "1" | "yes" | "y" | "是" => Ok(Value::Bool(true)),
                "false" | "f" | "0" | "no" | "n" | "否" => Ok(Value::Bool(false)),
                _ => Err(format!("'{t}' is not true or false")),
            },
        }
    }

    /// Converts a JSON value into a value of the given type.
    pub fn from_json(ty: FieldType, v: &serde_json::Value) -> Result<Option<Value>, String> {
        use serde_json::Value as J;
        match (ty, v) {
            (_, J::Null) => Ok(None),
            (FieldType::Text, J::String(s)) => Ok(Some(Value::Text(s.clone()))),
            (FieldType::Integer, J::Number(n)) => n
                .as_i64()
                .map(|i| Some(Value::Integer(i)))
                .ok_or_else(|| format!("{n} is not a whole number")),
            (FieldType::Real, J::Number(n)) => n
                .as_f64()
                .map(|r| Some(Value::Real(r)))
                .ok_or_else(|| format!("{n} is not a number")),
            (FieldType::Bool, J::Bool(b)) => Ok(Some(Value::Bool(*b))),
            (FieldType::Date | FieldType::DateTime, J::String(s)) => Value::parse(ty, s).map(Some),
            (FieldType::Text, J::Number(n)) => Ok(Some(Value::Text(n.to_string()))),
            (ty, other) => Err(format!("expected {}, got {other}", type_name(ty))),
        }
    }
}

fn type_name(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Text => "text",
        FieldType::Integer => "a whole number",
        FieldType::Real => "a number",
        FieldType::Date => "a date string",
        FieldType::DateTime => "a date-time string",
        FieldType::Bool => "true or false",
    }
}

fn parse_date(t: &str) -> Option<NaiveDate> {
    ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(t, f).ok())
        .or_else(|| {
            t.get(..10)
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        })
}

/// Field values by field name. A missing key means NULL.
pub type Properties = BTreeMap<String, Value>;

/// One feature of a layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    /// Assigned by the store; `None` before the feature is first stored.
    pub id: Option<FeatureId>,
    /// The division that owns the feature: the division itself for counties, townships and
    /// villages; the village for villager groups, grids and everything beneath a village; the
    /// township or county for features that belong to one (incinerators, trunk roads).
    pub division: DivisionCode,
    /// The geometry, in WGS84 / CGCS2000 longitude-latitude degrees. `None` for attribute tables.
    pub geometry: Option<Geometry<f64>>,
    /// Field values.
    pub properties: Properties,
}

impl Feature {
    /// A new, not yet stored feature.
    pub fn new(division: DivisionCode, geometry: Option<Geometry<f64>>) -> Self {
        Self {
            id: None,
            division,
            geometry,
            properties: Properties::new(),
        }
    }

    /// Sets a field (builder style).
    #[must_use]
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.properties.insert(name.to_owned(), value.into());
        self
    }

    /// The value of a field.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.properties.get(name)
    }

    /// The text of a field.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    /// The feature as a GeoJSON Feature (`id`, `geometry`, and `division_code` plus every field
    /// in `properties`).
    pub fn to_geojson(&self) -> serde_json::Value {
        let mut props = serde_json::Map::new();
        props.insert("division_code".into(), self.division.as_str().into());
        for (k, v) in &self.properties {
            props.insert(k.clone(), v.to_json());
        }
        serde_json::json!({
            "type": "Feature",
            "id": self.id.map(|i| i.0),
            "geometry": self.geometry.as_ref().map(crate::geometry::to_geojson),
            "properties": props,
        })
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Integer(i)
    }
}
impl From<f64> for Value {
    fn from(r: f64) -> Self {
        Value::Real(r)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<NaiveDate> for Value {
    fn from(d: NaiveDate) -> Self {
        Value::Date(d)
    }
}
impl From<DateTime<Utc>> for Value {
    fn from(t: DateTime<Utc>) -> Self {
        Value::DateTime(t)
    }
}

/// A layer's features, as read from a file or generated, before they are stored.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// Features by layer, in [`Layer::ALL`] order when iterated.
    pub layers: BTreeMap<Layer, Vec<Feature>>,
}

impl Dataset {
    /// Adds a feature to a layer and returns its index in that layer.
    pub fn push(&mut self, layer: Layer, feature: Feature) -> usize {
        let v = self.layers.entry(layer).or_default();
        v.push(feature);
        v.len() - 1
    }

    /// The number of features in a layer.
    pub fn count(&self, layer: Layer) -> usize {
        self.layers.get(&layer).map_or(0, Vec::len)
    }
}

impl Feature {
    /// An opaque tag of the feature's whole content (id, division, geometry, every field),
    /// for HTTP `ETag`/`If-Match`: equal features have equal tags under one key, and any
    /// change to a stored feature changes its tag. Keyed with the store's secret `key`, so
    /// that a tag tells nothing about masked fields (without the key, a guess of a masked
    /// ID-card number could be checked against it). A quoted strong entity tag, as HTTP sends
    /// it.
    pub fn etag(&self, key: &[u8]) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(key);
        h.update([0]);
        h.update(self.to_geojson().to_string().as_bytes());
        let digest = h.finalize();
        let mut out = String::with_capacity(34);
        out.push('"');
        for b in &digest[..16] {
            let _ = write!(out, "{b:02x}");
        }
        out.push('"');
        out
    }

    /// Reads a GeoJSON Feature of a layer as a client sends it: `geometry` (null for layers
    /// without one), `properties` with `division_code` and the layer's fields by name, and an
    /// optional numeric `id`. Every problem is reported, one per field, naming the field;
    /// the feature is not yet validated against the layer's rules ([`crate::validate()`]).
    pub fn from_geojson(
        layer: Layer,
        v: &serde_json::Value,
    ) -> Result<Feature, Vec<ValidationError>> {
        use serde_json::Value as J;
        let mut errors = Vec::new();
        let Some(obj) = v.as_object() else {
            return Err(vec![ValidationError::new(
                "type",
                "expected a GeoJSON Feature object",
            )]);
        };
        if obj.get("type").and_then(J::as_str) != Some("Feature") {
            errors.push(ValidationError::new("type", "must be \"Feature\""));
        }
        for key in obj.keys() {
            if !matches!(
                key.as_str(),
                "type" | "id" | "geometry" | "properties" | "bbox"
            ) {
                errors.push(ValidationError::new(
                    key.as_str(),
                    "is not a member of a GeoJSON Feature (fields go in \"properties\")",
                ));
            }
        }
        let id = match obj.get("id") {
            None | Some(J::Null) => None,
            Some(J::Number(n)) if n.as_i64().is_some_and(|i| i > 0) => n.as_i64().map(FeatureId),
            Some(other) => {
                errors.push(ValidationError::new(
                    "id",
                    format!("{other} is not a feature id (a whole number above 0)"),
                ));
                None
            }
        };
        let geometry = match obj.get("geometry") {
            None | Some(J::Null) => None,
            Some(g) => match crate::geometry::from_geojson(g) {
                Ok(g) => Some(g),
                Err(e) => {
                    errors.push(ValidationError::new("geometry", e.to_string()));
                    None
                }
            },
        };
        let empty = serde_json::Map::new();
        let props = match obj.get("properties") {
            None | Some(J::Null) => &empty,
            Some(J::Object(p)) => p,
            Some(_) => {
                errors.push(ValidationError::new("properties", "must be an object"));
                &empty
            }
        };
        let division = match props.get("division_code") {
            Some(J::String(s)) => match s.parse::<DivisionCode>() {
                Ok(d) => Some(d),
                Err(e) => {
                    errors.push(ValidationError::new("division_code", e.to_string()));
                    None
                }
            },
            None | Some(J::Null) => {
                errors.push(ValidationError::new(
                    "division_code",
                    "is required: the 12-digit code of the division that owns the feature",
                ));
                None
            }
            Some(other) => {
                errors.push(ValidationError::new(
                    "division_code",
                    format!("expected a 12-digit code as text, got {other}"),
                ));
                None
            }
        };
        let mut properties = Properties::new();
        for (name, value) in props {
            if name == "division_code" {
                continue;
            }
            let Some(def) = layer.field(name) else {
                let known: Vec<&str> = layer.fields().iter().map(|f| f.name).collect();
                errors.push(ValidationError::new(
                    name.as_str(),
                    format!(
                        "{layer} has no such field; its fields are: {}",
                        known.join(", ")
                    ),
                ));
                continue;
            };
            match Value::from_json(def.ty, value) {
                Ok(Some(v)) => {
                    properties.insert(name.clone(), v);
                }
                Ok(None) => {}
                Err(e) => errors.push(ValidationError::new(name.as_str(), e)),
            }
        }
        match division {
            Some(division) if errors.is_empty() => Ok(Feature {
                id,
                division,
                geometry,
                properties,
            }),
            _ => Err(errors),
        }
    }

    /// This feature changed by a JSON Merge Patch (RFC 7396) of its GeoJSON form: members
    /// set to `null` are removed, objects are merged, anything else replaces. The id stays.
    pub fn merge_patch(
        &self,
        layer: Layer,
        patch: &serde_json::Value,
    ) -> Result<Feature, Vec<ValidationError>> {
        let mut doc = self.to_geojson();
        merge(&mut doc, patch);
        if let Some(obj) = doc.as_object_mut() {
            obj.insert("id".into(), self.id.map(|i| i.0).into());
        }
        Feature::from_geojson(layer, &doc)
    }
}

/// RFC 7396 merge of `patch` into `doc`.
fn merge(doc: &mut serde_json::Value, patch: &serde_json::Value) {
    use serde_json::Value as J;
    let J::Object(p) = patch else {
        *doc = patch.clone();
        return;
    };
    if !doc.is_object() {
        *doc = J::Object(serde_json::Map::new());
    }
    if let J::Object(d) = doc {
        for (k, v) in p {
            if v.is_null() {
                d.remove(k);
            } else {
                merge(d.entry(k.clone()).or_insert(J::Null), v);
            }
        }
    }
}
