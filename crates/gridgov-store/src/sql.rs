//! Pieces of SQL text shared by both backends. Table and column names come only from the
//! model's fixed schema, never from user input; values are always bound parameters.

use gridgov_model::Layer;

/// The column list of a layer's table after the id: geometry (if any), owning division, fields.
pub fn columns(layer: Layer) -> Vec<&'static str> {
    let mut cols = Vec::new();
    if layer.geometry() != gridgov_model::GeometryKind::None {
        cols.push("geom");
    }
    cols.push("division_code");
    cols.extend(layer.fields().iter().map(|f| f.name));
    cols
}

/// Quotes a column list.
pub fn quoted(cols: &[&str]) -> String {
    cols.iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ")
}
