//! Writing features to GeoPackage, GeoJSON and CSV through GDAL.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use gdal::vector::{
    Feature as OgrFeature, FieldDefn, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType,
    ToGdal,
};
use gdal::DriverManager;
use gridgov_model::{Feature, FieldType, GeometryKind, Layer, Value};

use super::{crs, diagnostics};
use crate::ImportError;

/// A file format [`write_file`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportFormat {
    /// OGC GeoPackage: one table named after the layer, EPSG:4326, typed columns.
    Gpkg,
    /// GeoJSON (RFC 7946: longitude/latitude, 7 decimals).
    GeoJson,
    /// CSV in UTF-8: `X`/`Y` columns for point layers, a `WKT` column for other geometries.
    Csv,
}

impl ExportFormat {
    /// Every format.
    pub const ALL: &'static [ExportFormat] =
        &[ExportFormat::Gpkg, ExportFormat::GeoJson, ExportFormat::Csv];

    /// The usual file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Gpkg => "gpkg",
            ExportFormat::GeoJson => "geojson",
            ExportFormat::Csv => "csv",
        }
    }

    /// The format a file name's extension denotes (`.gpkg`, `.geojson`/`.json`, `.csv`).
    pub fn from_path(path: &Path) -> Option<Self> {
        path.extension()?.to_str()?.parse().ok()
    }

    fn driver(self) -> &'static str {
        match self {
            ExportFormat::Gpkg => "GPKG",
            ExportFormat::GeoJson => "GeoJSON",
            ExportFormat::Csv => "CSV",
        }
    }
}

impl fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// A format name that [`ExportFormat`] does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown export format '{0}'; formats are: gpkg, geojson, csv")]
pub struct UnknownFormat(pub String);

impl FromStr for ExportFormat {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "gpkg" | "geopackage" => Ok(ExportFormat::Gpkg),
            "geojson" | "json" => Ok(ExportFormat::GeoJson),
            "csv" => Ok(ExportFormat::Csv),
            _ => Err(UnknownFormat(s.to_owned())),
        }
    }
}

/// Writes a layer's features to `path` in `format`, replacing any file there.
///
/// Every feature gets an `id` (empty for features not yet stored) and its `division_code`,
/// then the layer's fields in schema order; booleans are written as integers 0/1 (GDAL's
/// Rust binding cannot mark a column boolean). Properties outside the layer's schema are not
/// written. The file is written under a temporary name in the same directory and renamed into
/// place, so a failure leaves the old file (or none) and no half-written one.
pub fn write_file(
    path: &Path,
    format: ExportFormat,
    layer: Layer,
    features: &[Feature],
) -> Result<(), ImportError> {
    diagnostics::install();
    diagnostics::clear();
    let fail = |reason: String| ImportError::Write {
        path: path.to_owned(),
        reason,
    };
    let name = path
        .file_name()
        .ok_or_else(|| fail("the path does not name a file".into()))?
        .to_string_lossy();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    // The CSV driver makes a directory unless the name ends in .csv, and the GeoPackage
    // driver warns unless it ends in .gpkg: keep the extension on the temporary name.
    let mut temp = Partial {
        path: dir.join(format!(
            ".{name}.partial-{}.{}",
            std::process::id(),
            format.extension()
        )),
        renamed: false,
    };
    temp.remove();
    write_to(&temp.path, format, layer, features).map_err(fail)?;
    std::fs::rename(&temp.path, path).map_err(|e| ImportError::io(path, e))?;
    temp.renamed = true;
    Ok(())
}

/// A file being written, removed (with SQLite's side files) unless it was renamed into place.
struct Partial {
    path: PathBuf,
    renamed: bool,
}

impl Partial {
    fn remove(&self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = self.path.clone().into_os_string();
            p.push(suffix);
            // Absent files are fine.
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.renamed {
            self.remove();
        }
    }
}

fn gdal_reason(e: &gdal::errors::GdalError) -> String {
    diagnostics::reason(e)
}

fn write_to(
    temp: &Path,
    format: ExportFormat,
    layer: Layer,
    features: &[Feature],
) -> Result<(), String> {
    let r = |e: gdal::errors::GdalError| gdal_reason(&e);
    let driver = DriverManager::get_driver_by_name(format.driver()).map_err(r)?;
    let mut ds = driver.create_vector_only(temp).map_err(r)?;
    let srs = crs::wgs84(temp).map_err(|e| e.to_string())?;
    let kind = layer.geometry();
    let ty = match kind {
        GeometryKind::Point => OGRwkbGeometryType::wkbPoint,
        GeometryKind::LineString => OGRwkbGeometryType::wkbLineString,
        GeometryKind::Polygon => OGRwkbGeometryType::wkbPolygon,
        GeometryKind::MultiPolygon => OGRwkbGeometryType::wkbMultiPolygon,
        GeometryKind::LineOrPolygon => OGRwkbGeometryType::wkbUnknown,
        GeometryKind::None => OGRwkbGeometryType::wkbNone,
    };
    let creation: &[&str] = match (format, kind) {
        (ExportFormat::GeoJson, _) => &["RFC7946=YES"],
        (ExportFormat::Csv, GeometryKind::Point) => &["GEOMETRY=AS_XY"],
        (ExportFormat::Csv, GeometryKind::None) | (ExportFormat::Gpkg, _) => &[],
        (ExportFormat::Csv, _) => &["GEOMETRY=AS_WKT"],
    };
    let options = LayerOptions {
        name: layer.name(),
        srs: (kind != GeometryKind::None).then_some(&srs),
        ty,
        options: Some(creation),
    };
    if format == ExportFormat::Gpkg {
        // One transaction: a GeoPackage commits every feature otherwise.
        let mut txn = ds.start_transaction().map_err(r)?;
        {
            let mut out = txn.create_layer(options).map_err(r)?;
            fill(&mut out, format, layer, features)?;
        }
        txn.commit().map_err(r)?;
    } else {
        let mut out = ds.create_layer(options).map_err(r)?;
        fill(&mut out, format, layer, features)?;
    }
    ds.close().map_err(r)?;
    match diagnostics::take_failures() {
        Some(reason) => Err(reason),
        None => Ok(()),
    }
}

/// The OGR type of a field (CSV keeps dates as ISO text: its driver writes `2024/03/05`).
fn ogr_type(format: ExportFormat, ty: FieldType) -> OGRFieldType::Type {
    match (format, ty) {
        (_, FieldType::Text) | (ExportFormat::Csv, FieldType::Date | FieldType::DateTime) => {
            OGRFieldType::OFTString
        }
        (_, FieldType::Integer) => OGRFieldType::OFTInteger64,
        (_, FieldType::Real) => OGRFieldType::OFTReal,
        (_, FieldType::Date) => OGRFieldType::OFTDate,
        (_, FieldType::DateTime) => OGRFieldType::OFTDateTime,
        (_, FieldType::Bool) => OGRFieldType::OFTInteger,
    }
}

fn fill<L: LayerAccess>(
    out: &mut L,
    format: ExportFormat,
    layer: Layer,
    features: &[Feature],
) -> Result<(), String> {
    let r = |e: gdal::errors::GdalError| gdal_reason(&e);
    let mut columns = vec![
        ("id", OGRFieldType::OFTInteger64),
        ("division_code", OGRFieldType::OFTString),
    ];
    columns.extend(
        layer
            .fields()
            .iter()
            .map(|d| (d.name, ogr_type(format, d.ty))),
    );
    for (name, ty) in &columns {
        FieldDefn::new(name, *ty)
            .and_then(|d| d.add_to_layer(out))
            .map_err(r)?;
    }
    let index: Vec<usize> = columns
        .iter()
        .map(|(name, _)| out.defn().field_index(name).map_err(r))
        .collect::<Result<_, _>>()?;
    for (n, feature) in features.iter().enumerate() {
        let at = |e: String| format!("feature {} (id {:?}): {e}", n + 1, feature.id.map(|i| i.0));
        let mut f = OgrFeature::new(out.defn()).map_err(r)?;
        if let Some(id) = feature.id {
            f.set_field_integer64(index[0], id.0).map_err(r)?;
        }
        f.set_field_string(index[1], feature.division.as_str())
            .map_err(r)?;
        for (def, &i) in layer.fields().iter().zip(&index[2..]) {
            let Some(v) = feature.properties.get(def.name) else {
                continue;
            };
            match (v, def.ty) {
                (Value::Integer(n), FieldType::Integer) => f.set_field_integer64(i, *n),
                (Value::Real(x), FieldType::Real) => f.set_field_double(i, *x),
                (Value::Bool(b), FieldType::Bool) => f.set_field_integer(i, i32::from(*b)),
                // Dates and everything else go as text, which OGR parses into the column's
                // type (a DateTime keeps its milliseconds and its UTC zone that way).
                (v, _) => f.set_field_string(i, &v.to_text()),
            }
            .map_err(|e| at(gdal_reason(&e)))?;
        }
        if let Some(g) = &feature.geometry {
            let g = g.to_gdal().map_err(|e| at(gdal_reason(&e)))?;
            f.set_geometry(g).map_err(|e| at(gdal_reason(&e)))?;
        }
        f.create(out).map_err(|e| at(gdal_reason(&e)))?;
    }
    Ok(())
}
