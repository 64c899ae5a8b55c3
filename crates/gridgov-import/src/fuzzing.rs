//! Entry points for the fuzz targets in `fuzz/` (`cargo fuzz`): the import's field mapping,
//! reached without GDAL. Not an API for anything else.

use gridgov_model::{DivisionCode, Layer, Properties};

use crate::fields::{FieldPlan, SourceValue};

/// A source value as the readers hand them over.
#[derive(Debug, Clone)]
pub enum Cell {
    /// Text (also dates and times).
    Text(String),
    /// An integer column.
    Integer(i64),
    /// A floating-point column.
    Real(f64),
    /// NULL.
    Null,
}

/// Maps one row of a source with `columns` (and the `field_map` of `--field TARGET=SOURCE`)
/// onto `layer`'s fields, as an import does.
///
/// # Errors
/// Why the map does not fit the columns, or why the row is rejected.
pub fn map_row(
    layer: Layer,
    field_map: &[(String, String)],
    columns: &[String],
    row: &[Cell],
) -> Result<(Option<DivisionCode>, Properties), String> {
    let plan = FieldPlan::new(layer, field_map, columns)?;
    plan.apply(|i| {
        Ok(match row.get(i) {
            Some(Cell::Text(t)) => Some(SourceValue::Text(t.clone())),
            Some(Cell::Integer(n)) => Some(SourceValue::Integer(*n)),
            Some(Cell::Real(r)) => Some(SourceValue::Real(*r)),
            Some(Cell::Null) | None => None,
        })
    })
}
