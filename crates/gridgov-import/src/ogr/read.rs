//! Reading a GDAL vector source into imported features.

use std::path::Path;

use gdal::vector::{Feature, FieldValue, LayerAccess, OGRFieldType};
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};
use geo::{CoordsIter, Geometry};

use super::crs::{self, Reprojection};
use super::csv::{self, Transcoded};
use super::diagnostics;
use crate::fields::{FieldPlan, SourceValue};
use crate::{ImportError, ImportedFeature, ReadOptions, ReadResult, Rejected};

/// How often (in features) progress is reported.
const PROGRESS_EVERY: usize = 256;

/// Reads the features of a Shapefile, GeoPackage, GeoJSON, KML or CSV file into `opts.layer`'s
/// fields, with geometries reprojected to EPSG:4326 longitude/latitude.
///
/// Features that cannot be read (a value that does not convert, a damaged record, a geometry
/// GDAL cannot decode) are listed in [`ReadResult::rejected`] with their number and the reason;
/// the rest are read. The file as a whole fails with an [`ImportError`] naming it when it cannot
/// be opened, has no layer to read, its field map does not fit, or it has no CRS and its
/// coordinates are not longitude/latitude.
///
/// `progress(done, total)` is called now and then with the number of features read so far.
///
/// The first call installs a GDAL error handler for the whole process that keeps GDAL's
/// messages for the reader instead of printing them.
pub fn read_file(
    path: &Path,
    opts: &ReadOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ReadResult, ImportError> {
    diagnostics::install();
    diagnostics::clear();
    check_source(path)?;
    let is_csv = csv::is_csv(path);
    let encoding = opts
        .encoding
        .as_deref()
        .map(|e| csv::encoding(path, e))
        .transpose()?;

    // A CSV file in another encoding is decoded into memory; a Shapefile's .dbf is decoded by
    // GDAL (other drivers ignore the option: their formats are UTF-8 by definition).
    let transcoded = match encoding {
        Some(enc) if is_csv && enc != encoding_rs::UTF_8 => Some(Transcoded::new(path, enc)?),
        _ => None,
    };
    let open_path = transcoded.as_ref().map_or(path, |t| t.path.as_path());
    let encoding_option = encoding.map(|e| format!("ENCODING={}", e.name()));
    let open_options: Vec<&str> = match &encoding_option {
        Some(o) if !is_csv => vec![o.as_str()],
        _ => Vec::new(),
    };
    let dataset = Dataset::open_ex(
        open_path,
        DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_READONLY,
            open_options: Some(&open_options),
            allowed_drivers: Some(&ALLOWED_DRIVERS),
            ..DatasetOptions::default()
        },
    )
    .map_err(|e| ImportError::Open {
        path: path.to_owned(),
        reason: open_reason(path, &e),
    })?;
    let is_csv = dataset.driver().short_name() == "CSV";

    let mut layer = pick_layer(path, &dataset, opts)?;
    let columns: Vec<String> = layer.defn().fields().map(|f| f.name()).collect();
    let types: Vec<OGRFieldType::Type> = layer.defn().fields().map(|f| f.field_type()).collect();
    let plan = FieldPlan::new(opts.layer, &opts.field_map, &columns).map_err(|reason| {
        ImportError::FieldMap {
            path: path.to_owned(),
            reason,
        }
    })?;
    let xy = if is_csv {
        let xy = csv::coordinate_columns(
            path,
            &columns,
            opts.x_field.as_deref(),
            opts.y_field.as_deref(),
        )?;
        let has_wkt = layer.defn().geom_fields().next().is_some();
        if xy.is_none() && !has_wkt && opts.layer.geometry() != gridgov_model::GeometryKind::None {
            return Err(csv::no_coordinates(path, &columns));
        }
        xy
    } else {
        None
    };

    // The CRS: the file's, else the one the caller assumes, else longitude/latitude if the
    // coordinates fit (checked at the end).
    let (reprojection, mut source_crs, check_range) = match layer.spatial_ref() {
        Some(mut srs) => {
            let r = Reprojection::new(path, &mut srs)?;
            (r, crs::describe(&srs), false)
        }
        None => match &opts.assume_crs {
            Some(text) => {
                let mut srs = crs::parse(path, text)?;
                let r = Reprojection::new(path, &mut srs)?;
                (r, crs::describe(&srs), false)
            }
            None => (Reprojection::identity(), "EPSG:4326".to_owned(), true),
        },
    };
    if source_crs.is_empty() {
        source_crs = "unnamed CRS".into();
    }

    let ctx = Reader {
        plan,
        types,
        columns,
        xy,
        reprojection,
    };
    let total = layer.feature_count();
    progress(0, total);
    let mut result = ReadResult {
        features: Vec::new(),
        rejected: Vec::new(),
        source_crs,
    };
    let mut number = 0usize;
    let mut next_report = PROGRESS_EVERY;
    let mut features = layer.features();
    loop {
        diagnostics::clear();
        let Some(f) = features.next() else {
            break;
        };
        number += 1;
        let row = match diagnostics::take_failures() {
            Some(damage) => Err(format!("the record is damaged: {damage}")),
            None => ctx.read(&f),
        };
        match row {
            Ok((division, geometry, properties)) => result.features.push(ImportedFeature {
                number,
                division,
                geometry,
                properties,
            }),
            Err(reason) => result.rejected.push(Rejected { number, reason }),
        }
        if number >= next_report {
            progress(number as u64, total.max(number as u64));
            next_report += PROGRESS_EVERY;
        }
    }
    if let Some(reason) = diagnostics::take_failures() {
        return Err(ImportError::Read {
            path: path.to_owned(),
            reason: format!("after feature {number}: {reason}"),
        });
    }
    drop(features);
    progress(number as u64, total.max(number as u64));

    if check_range {
        let outside = result
            .features
            .iter()
            .filter_map(|f| f.geometry.as_ref())
            .flat_map(Geometry::coords_iter)
            .find(|c| !(-180.0..=180.0).contains(&c.x) || !(-90.0..=90.0).contains(&c.y));
        if let Some(c) = outside {
            return Err(ImportError::MissingCrs {
                path: path.to_owned(),
                x: c.x,
                y: c.y,
            });
        }
    }
    Ok(result)
}

/// GDAL's reason for not opening a file, made plain when the file is simply not there.
fn open_reason(path: &Path, e: &gdal::errors::GdalError) -> String {
    let reason = diagnostics::reason(e);
    match std::fs::metadata(path) {
        Err(io) => format!("{io}"),
        Ok(_) if reason.is_empty() => {
            "it is none of the formats gridgov imports (Shapefile, GeoPackage, GeoJSON, KML, CSV; a CSV file needs at least two columns)".into()
        }
        Ok(_) => reason,
    }
}

/// The GDAL drivers an import may use: the formats gridgov supports, and none that reads
/// other files or URLs on a file's say (VRT, WFS, OAPIF, LIBKML with its network links…).
pub const ALLOWED_DRIVERS: [&str; 5] = ["ESRI Shapefile", "GPKG", "GeoJSON", "KML", "CSV"];

/// The largest file an import reads (4 GiB).
pub const MAX_FILE_BYTES: u64 = 4 << 30;

/// Refuses what is not a plain, local, regular file of a sane size: GDAL's virtual file
/// systems (`/vsicurl/`, `/vsizip/`, …), URLs, devices, FIFOs and directories.
fn check_source(path: &Path) -> Result<(), ImportError> {
    let refuse = |reason: String| ImportError::Open {
        path: path.to_owned(),
        reason,
    };
    let text = path.to_string_lossy();
    if text.starts_with("/vsi") || text.contains("://") {
        return Err(refuse(
            "GDAL virtual file systems and URLs (/vsicurl/, /vsizip/, http://…) are not accepted: give a local file".into(),
        ));
    }
    let meta = std::fs::metadata(path).map_err(|e| refuse(e.to_string()))?;
    if !meta.is_file() {
        return Err(refuse("not a regular file".into()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(refuse(format!(
            "{} bytes is more than the {MAX_FILE_BYTES} an import reads",
            meta.len()
        )));
    }
    Ok(())
}

/// The layer to read: the one named, the only one, or the one named like the target layer.
fn pick_layer<'a>(
    path: &Path,
    dataset: &'a Dataset,
    opts: &ReadOptions,
) -> Result<gdal::vector::Layer<'a>, ImportError> {
    let names: Vec<String> = dataset.layers().map(|l| l.name()).collect();
    let fail = |reason: String| ImportError::SourceLayer {
        path: path.to_owned(),
        reason,
    };
    let wanted = match (&opts.source_layer, names.as_slice()) {
        (Some(name), _) => names
            .iter()
            .position(|n| n == name)
            .or_else(|| names.iter().position(|n| n.eq_ignore_ascii_case(name)))
            .ok_or_else(|| {
                fail(format!(
                    "no layer '{name}'; its layers are: {}",
                    names.join(", ")
                ))
            })?,
        (None, []) => return Err(fail("the file has no layers".into())),
        (None, [_]) => 0,
        (None, _) => names
            .iter()
            .position(|n| n == opts.layer.name())
            .ok_or_else(|| {
                fail(format!(
                    "the file has several layers ({}); say which one to read",
                    names.join(", ")
                ))
            })?,
    };
    dataset.layer(wanted).map_err(|e| ImportError::Read {
        path: path.to_owned(),
        reason: diagnostics::reason(&e),
    })
}

type Row = (
    Option<gridgov_model::DivisionCode>,
    Option<Geometry<f64>>,
    gridgov_model::Properties,
);

/// What a reader needs to convert one feature.
struct Reader {
    plan: FieldPlan,
    types: Vec<OGRFieldType::Type>,
    columns: Vec<String>,
    /// The coordinate columns of a CSV file.
    xy: Option<(usize, usize)>,
    reprojection: Reprojection,
}

impl Reader {
    /// Reads one feature's fields and geometry.
    fn read(&self, f: &Feature<'_>) -> Result<Row, String> {
        let (division, properties) = self.plan.apply(|i| source_value(f, i, self.types[i]))?;
        let geometry = match self.xy {
            Some((x, y)) => self.csv_point(f, x, y)?,
            None => f.geometry().filter(|g| !g.is_empty()).cloned(),
        };
        let geometry = match geometry {
            None => None,
            Some(g) => gridgov_model::wkb::read(&self.reprojection.to_wkb(&g)?)
                .map_err(|e| format!("geometry: {e}"))?,
        };
        Ok((division, geometry, properties))
    }

    /// A point from a CSV row's coordinate columns; `None` when both are blank.
    fn csv_point(
        &self,
        f: &Feature<'_>,
        x: usize,
        y: usize,
    ) -> Result<Option<gdal::vector::Geometry>, String> {
        let text = |i: usize| {
            f.field_as_string(i)
                .map(|s| s.unwrap_or_default().trim().to_owned())
                .map_err(|e| e.to_string())
        };
        let (tx, ty) = (text(x)?, text(y)?);
        if tx.is_empty() && ty.is_empty() {
            return Ok(None);
        }
        let num = |t: &str, i: usize| {
            t.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    format!(
                        "coordinate column '{}': '{t}' is not a number",
                        self.columns[i]
                    )
                })
        };
        let (vx, vy) = (num(&tx, x)?, num(&ty, y)?);
        let mut p = gdal::vector::Geometry::empty(gdal::vector::OGRwkbGeometryType::wkbPoint)
            .map_err(|e| e.to_string())?;
        p.set_point_2d(0, (vx, vy));
        Ok(Some(p))
    }
}

/// A field's value, as a [`SourceValue`]; `None` for NULL, unset and empty.
fn source_value(
    f: &Feature<'_>,
    i: usize,
    ty: OGRFieldType::Type,
) -> Result<Option<SourceValue>, String> {
    let gdal_err = |e: gdal::errors::GdalError| e.to_string();
    // gdal 0.19's `field` tests for NULL but not for "unset" (a GeoJSON feature without the
    // property), and then reads an unset number as 0. OGR's text of an unset field is empty,
    // so the text is asked first.
    let Some(text) = f.field_as_string(i).map_err(gdal_err)? else {
        return Ok(None);
    };
    if text.is_empty() {
        return Ok(None);
    }
    if ty == OGRFieldType::OFTDateTime || ty == OGRFieldType::OFTDate {
        return Ok(Some(SourceValue::Text(iso_datetime(&text))));
    }
    let join = |v: Vec<String>| SourceValue::Text(v.join(","));
    Ok(f.field(i).map_err(gdal_err)?.map(|v| match v {
        FieldValue::StringValue(s) => SourceValue::Text(s),
        FieldValue::IntegerValue(n) => SourceValue::Integer(n.into()),
        FieldValue::Integer64Value(n) => SourceValue::Integer(n),
        FieldValue::RealValue(r) => SourceValue::Real(r),
        FieldValue::DateValue(d) => SourceValue::Text(d.format("%Y-%m-%d").to_string()),
        FieldValue::DateTimeValue(t) => SourceValue::Text(t.to_rfc3339()),
        FieldValue::StringListValue(v) => join(v),
        FieldValue::IntegerListValue(v) => join(v.iter().map(ToString::to_string).collect()),
        FieldValue::Integer64ListValue(v) => join(v.iter().map(ToString::to_string).collect()),
        FieldValue::RealListValue(v) => join(v.iter().map(ToString::to_string).collect()),
    }))
}

/// Turns OGR's text of a date or date-time (`2024/03/05 9:30:00.250+08`) into ISO 8601
/// (`2024-03-05T09:30:00.250+08:00`). A time without a zone is taken as UTC, like
/// [`gridgov_model::Value::parse`] does.
fn iso_datetime(s: &str) -> String {
    let s = s.trim();
    let (date, time) = match s.split_once([' ', 'T']) {
        Some((d, t)) => (d, t.trim()),
        None => (s, ""),
    };
    let date = date.replace('/', "-");
    if time.is_empty() {
        return date;
    }
    let (clock, zone) = match time.find(['+', '-', 'Z']) {
        Some(at) => time.split_at(at),
        None => (time, ""),
    };
    let clock = if clock.find(':') == Some(1) {
        format!("0{clock}")
    } else {
        clock.to_owned()
    };
    let zone = match zone.len() {
        0 => "Z".to_owned(),
        3 => format!("{zone}:00"),
        5 => format!("{}:{}", &zone[..3], &zone[3..]),
        _ => zone.to_owned(),
    };
    format!("{date}T{clock}{zone}")
}

#[cfg(test)]
mod tests {
    use super::iso_datetime;

    #[test]
    fn ogr_datetimes_become_iso() {
        assert_eq!(
            iso_datetime("2024/03/05 9:30:00.250+08"),
            "2024-03-05T09:30:00.250+08:00"
        );
        assert_eq!(iso_datetime("2024/03/05 19:30:00"), "2024-03-05T19:30:00Z");
        assert_eq!(
            iso_datetime("2024/03/05 19:30:00+0530"),
            "2024-03-05T19:30:00+05:30"
        );
        assert_eq!(iso_datetime("2024/03/05"), "2024-03-05");
    }
}
