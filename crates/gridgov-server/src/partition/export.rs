//! A plan's grids as a file GDAL and QGIS open: GeoJSON (RFC 7946, the grids' fields and the
//! statistics of their drawing) or GeoPackage (a `grids` table with the layer's fields, written
//! by GDAL like `gridgov export`).

use gridgov_import::ExportFormat;
use gridgov_model::{Feature, FeatureId, Layer};

use super::record;
use crate::ApiError;

/// The formats a plan is exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// GeoJSON with every statistic.
    GeoJson,
    /// GeoPackage with the grids layer's fields.
    Gpkg,
}

impl Format {
    /// Reads `format=` (default GeoJSON).
    ///
    /// # Errors
    /// 400 naming the parameter.
    pub fn parse(text: Option<&str>) -> Result<Self, ApiError> {
        match text.map(|t| t.trim().to_ascii_lowercase()).as_deref() {
            None | Some("geojson" | "json") => Ok(Format::GeoJson),
            Some("gpkg" | "geopackage") => Ok(Format::Gpkg),
            Some(other) => Err(ApiError::BadRequest(format!(
                "parameter 'format': '{other}'; formats: geojson, gpkg"
            ))),
        }
    }

    /// The token (`geojson`, `gpkg`), also the file name's extension.
    pub fn token(self) -> &'static str {
        match self {
            Format::GeoJson => "geojson",
            Format::Gpkg => "gpkg",
        }
    }

    /// The media type of the file.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::GeoJson => "application/geo+json",
            Format::Gpkg => "application/geopackage+sqlite3",
        }
    }
}

/// The plan's grids as GeoJSON bytes, the plan's name and id as foreign members.
pub fn geojson(plan: &Feature, grids: &[Feature]) -> Vec<u8> {
    let mut fc = record::grids_json(plan, grids);
    fc["name"] = format!("plan-{}", record::id(plan)).into();
    fc["plan"] = serde_json::json!({
        "id": record::id(plan).0,
        "name": plan.text("name"),
        "status": plan.text("status"),
        "division_code": plan.division.as_str(),
    });
    fc.to_string().into_bytes()
}

/// The grids as a GeoPackage file's bytes, written by GDAL in a temporary folder.
///
/// # Errors
/// 500 when GDAL fails (logged).
pub async fn gpkg(plan: FeatureId, grids: Vec<Feature>) -> Result<Vec<u8>, ApiError> {
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().map_err(|e| failed(plan, &e))?;
        let path = dir.path().join(format!("plan-{plan}.gpkg"));
        gridgov_import::write_file(&path, ExportFormat::Gpkg, Layer::Grids, &grids)
            .map_err(|e| failed(plan, &e))?;
        std::fs::read(&path).map_err(|e| failed(plan, &e))
    })
    .await
    .map_err(|e| failed(plan, &e))?
}

fn failed(plan: FeatureId, e: &dyn std::fmt::Display) -> ApiError {
    tracing::error!(%plan, error = %e, "a plan's GeoPackage could not be written");
    ApiError::Internal("the GeoPackage could not be written".into())
}
