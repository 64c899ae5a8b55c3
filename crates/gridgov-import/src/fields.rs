//! From source columns to a layer's typed fields: which column feeds which field, the
//! conversion of each value, and the owning division a feature names.

use gridgov_model::{
    DivisionCode, FieldDef, FieldType, GridCode, GroupCode, Layer, Properties, Value,
};

/// The name of the pseudo-field that gives a feature's owning division.
pub(crate) const DIVISION_CODE: &str = "division_code";

/// Shapefile (dBase) field names are cut to this many characters.
const DBF_NAME_LEN: usize = 10;

/// A value as a reader found it in the source.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SourceValue {
    /// Text (dates and times come as text too, in ISO 8601 form).
    Text(String),
    /// An integer column.
    Integer(i64),
    /// A floating-point column.
    Real(f64),
}

impl SourceValue {
    fn text(&self) -> String {
        match self {
            SourceValue::Text(s) => s.trim().to_owned(),
            SourceValue::Integer(i) => i.to_string(),
            SourceValue::Real(r) => r.to_string(),
        }
    }
}

/// Converts a source value into a value of `ty`; blank text is no value.
fn convert(ty: FieldType, v: &SourceValue) -> Result<Option<Value>, String> {
    Ok(Some(match (ty, v) {
        (_, SourceValue::Text(s)) if s.trim().is_empty() => return Ok(None),
        (FieldType::Text, SourceValue::Text(s)) => Value::Text(s.trim().to_owned()),
        (FieldType::Integer, SourceValue::Integer(i)) => Value::Integer(*i),
        (FieldType::Real, SourceValue::Integer(i)) => Value::Real(*i as f64),
        (FieldType::Real, SourceValue::Real(r)) if r.is_finite() => Value::Real(*r),
        (FieldType::Integer, SourceValue::Real(r)) => {
            if r.fract() == 0.0 && r.abs() < 9.0e15 {
                Value::Integer(*r as i64)
            } else {
                return Err(format!("'{r}' is not a whole number"));
            }
        }
        (ty, v) => Value::parse(ty, &v.text())?,
    }))
}

/// Which source column feeds a target field.
#[derive(Debug, Clone)]
struct Source {
    index: usize,
    name: String,
}

/// The resolved mapping of a source's columns onto a layer's fields.
#[derive(Debug, Clone)]
pub(crate) struct FieldPlan {
    layer: Layer,
    targets: Vec<(&'static FieldDef, Source)>,
    division: Option<Source>,
}

/// Finds a column by name: exactly, then ignoring case, then (for names longer than a dBase
/// field name) a 10-character column that is the name cut short, as Shapefiles store
/// `division_code` as `division_c`.
fn find(columns: &[String], name: &str) -> Option<Source> {
    let found = |i: usize| Source {
        index: i,
        name: columns[i].clone(),
    };
    if let Some(i) = columns.iter().position(|c| c == name) {
        return Some(found(i));
    }
    if let Some(i) = columns.iter().position(|c| c.eq_ignore_ascii_case(name)) {
        return Some(found(i));
    }
    if name.len() > DBF_NAME_LEN && name.is_ascii() {
        let short = &name[..DBF_NAME_LEN];
        let hits: Vec<usize> = (0..columns.len())
            .filter(|&i| columns[i].eq_ignore_ascii_case(short))
            .collect();
        if let [i] = hits[..] {
            return Some(found(i));
        }
    }
    None
}

impl FieldPlan {
    /// Resolves `field_map` and name matching against the source's `columns`.
    pub(crate) fn new(
        layer: Layer,
        field_map: &[(String, String)],
        columns: &[String],
    ) -> Result<Self, String> {
        let list = |v: &[String]| {
            if v.is_empty() {
                "(none)".to_owned()
            } else {
                v.join(", ")
            }
        };
        let mut mapped = Vec::new();
        for (target, source) in field_map {
            if target != DIVISION_CODE && layer.field(target).is_none() {
                let known: Vec<String> = layer.fields().iter().map(|f| f.name.into()).collect();
                return Err(format!(
                    "field map: {layer} has no field '{target}'; its fields are: {}, {DIVISION_CODE}",
                    known.join(", ")
                ));
            }
            let found = find(columns, source).ok_or_else(|| {
                format!(
                    "field map: the source has no field '{source}' (for '{target}'); its fields are: {}",
                    list(columns)
                )
            })?;
            mapped.push((target.as_str(), found));
        }
        let pick = |name: &str| {
            mapped
                .iter()
                .find(|(t, _)| *t == name)
                .map(|(_, s)| s.clone())
                .or_else(|| find(columns, name))
        };
        Ok(Self {
            layer,
            targets: layer
                .fields()
                .iter()
                .filter_map(|def| pick(def.name).map(|s| (def, s)))
                .collect(),
            division: pick(DIVISION_CODE),
        })
    }

    /// The number of target fields that found a source column.
    #[cfg(test)]
    fn matched(&self) -> usize {
        self.targets.len()
    }

    /// Converts one source row: `get(index)` gives the value of a column (`None` for NULL).
    /// Returns the owning division the row names, and its field values; or why the row is
    /// rejected, naming the field and the value.
    pub(crate) fn apply(
        &self,
        mut get: impl FnMut(usize) -> Result<Option<SourceValue>, String>,
    ) -> Result<(Option<DivisionCode>, Properties), String> {
        let mut props = Properties::new();
        for (def, src) in &self.targets {
            let why = |e: String| {
                if src.name == def.name {
                    format!("field '{}': {e}", def.name)
                } else {
                    format!("field '{}' (source field '{}'): {e}", def.name, src.name)
                }
            };
            if let Some(v) = get(src.index).map_err(why)? {
                if let Some(value) = convert(def.ty, &v).map_err(why)? {
                    props.insert(def.name.to_owned(), value);
                }
            }
        }
        let mut division = None;
        if let Some(src) = &self.division {
            if let Some(v) = get(src.index)? {
                let text = v.text();
                if !text.is_empty() {
                    division = Some(text.parse::<DivisionCode>().map_err(|e| {
                        format!("field '{DIVISION_CODE}' (source field '{}'): {e}", src.name)
                    })?);
                }
            }
        }
        if let Some(own) = self.own_division(&props)? {
            division = Some(own);
        }
        Ok((division, props))
    }

    /// The division a feature's own code gives: itself for division layers, the village of a
    /// villager group or grid.
    fn own_division(&self, props: &Properties) -> Result<Option<DivisionCode>, String> {
        let Some(code) = props.get("code").and_then(Value::as_str) else {
            return Ok(None);
        };
        let why = |e: gridgov_model::CodeError| format!("field 'code': {e}");
        Ok(match self.layer {
            Layer::Counties | Layer::Townships | Layer::Villages => {
                Some(code.parse::<DivisionCode>().map_err(why)?)
            }
            Layer::VillagerGroups => Some(code.parse::<GroupCode>().map_err(why)?.village()),
            Layer::Grids => Some(code.parse::<GridCode>().map_err(why)?.village()),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn names_match_by_map_then_case_then_dbf_truncation() {
        let c = cols(&["OBJECTID", "NAME", "bianma", "Worker_Pho", "division_c"]);
        let map = vec![("code".to_owned(), "BIANMA".to_owned())];
        let plan = FieldPlan::new(Layer::Grids, &map, &c).unwrap();
        // code, name, worker_phone.
        assert_eq!(plan.matched(), 3);
        let row = |i: usize| {
            Ok(Some(match i {
                1 => SourceValue::Text("一网格".into()),
                2 => SourceValue::Text("520526101201-G02".into()),
                3 => SourceValue::Real(13_800_138_000.0),
                4 => SourceValue::Text("520526101000".into()),
                _ => SourceValue::Integer(7),
            }))
        };
        let (division, props) = plan.apply(row).unwrap();
        // The grid's own code wins over division_code.
        assert_eq!(division.unwrap().as_str(), "520526101201");
        assert_eq!(props["worker_phone"], Value::Text("13800138000".into()));
        assert_eq!(props["name"], Value::Text("一网格".into()));
    }

    #[test]
    fn bad_values_name_the_field_and_the_value() {
        let c = cols(&["name", "size", "address"]);
        let plan = FieldPlan::new(Layer::Households, &[], &c).unwrap();
        let e = plan
            .apply(|i| Ok(Some(SourceValue::Text(["x", "three", "y"][i].to_owned()))))
            .unwrap_err();
        assert!(e.contains("'size'") && e.contains("'three'"), "{e}");
        let (_, p) = plan
            .apply(|i| {
                Ok([
                    None,
                    Some(SourceValue::Real(3.0)),
                    Some(SourceValue::Text("  ".into())),
                ][i]
                    .clone())
            })
            .unwrap();
        assert_eq!(p.get("size"), Some(&Value::Integer(3)));
        assert_eq!(p.get("address"), None);
        let e = plan
            .apply(|_| Ok(Some(SourceValue::Real(2.5))))
            .unwrap_err();
        assert!(e.contains("'2.5' is not a whole number"), "{e}");
    }

    #[test]
    fn bad_maps_and_codes_are_refused() {
        let c = cols(&["a"]);
        let e = FieldPlan::new(Layer::Roads, &[("colour".into(), "a".into())], &c).unwrap_err();
        assert!(e.contains("no field 'colour'"), "{e}");
        let e = FieldPlan::new(Layer::Roads, &[("name".into(), "b".into())], &c).unwrap_err();
        assert!(e.contains("no field 'b'") && e.contains(": a"), "{e}");
        let plan = FieldPlan::new(Layer::Roads, &[(DIVISION_CODE.into(), "a".into())], &c).unwrap();
        let e = plan
            .apply(|_| Ok(Some(SourceValue::Text("52052610120".into()))))
            .unwrap_err();
        assert!(
            e.contains("division_code") && e.contains("12 digits"),
            "{e}"
        );
    }
}
