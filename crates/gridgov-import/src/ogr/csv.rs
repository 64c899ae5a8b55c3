//! CSV specifics: coordinate columns and text in encodings other than UTF-8.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use encoding_rs::Encoding;

use super::diagnostics;
use crate::ImportError;

/// Column names taken for the x (longitude, easting), in order of preference.
const X_NAMES: &[&str] = &["lon", "lng", "longitude", "long", "x", "经度"];
/// Column names taken for the y (latitude, northing), in order of preference.
const Y_NAMES: &[&str] = &["lat", "latitude", "y", "纬度"];

/// Whether a path names a CSV file.
pub(crate) fn is_csv(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

/// The encoding a name denotes (WHATWG labels, plus Windows' `CP936`/`936` for GBK).
pub(crate) fn encoding(path: &Path, name: &str) -> Result<&'static Encoding, ImportError> {
    let n = name.trim();
    if n.eq_ignore_ascii_case("cp936") || n == "936" {
        return Ok(encoding_rs::GBK);
    }
    Encoding::for_label(n.as_bytes()).ok_or_else(|| ImportError::Encoding {
        path: path.to_owned(),
        encoding: name.to_owned(),
    })
}

/// A UTF-8 copy of a CSV file in GDAL's memory file system, removed when dropped.
pub(crate) struct Transcoded {
    /// The copy's path, under `/vsimem/`.
    pub(crate) path: PathBuf,
}

impl Transcoded {
    /// Decodes `path` from `enc` into a memory file.
    pub(crate) fn new(path: &Path, enc: &'static Encoding) -> Result<Self, ImportError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let bytes = std::fs::read(path).map_err(|e| ImportError::io(path, e))?;
        let (text, _, malformed) = enc.decode(&bytes);
        if malformed {
            return Err(ImportError::Read {
                path: path.to_owned(),
                reason: format!("the text is not valid {}", enc.name()),
            });
        }
        let name = path
            .file_name()
            .map_or_else(|| "input.csv".into(), |n| n.to_string_lossy().into_owned());
        let copy = PathBuf::from(format!(
            "/vsimem/gridgov-import/{}-{}/{name}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        gdal::vsi::create_mem_file(&copy, text.into_owned().into_bytes()).map_err(|e| {
            ImportError::Read {
                path: path.to_owned(),
                reason: diagnostics::reason(&e),
            }
        })?;
        Ok(Self { path: copy })
    }
}

impl Drop for Transcoded {
    fn drop(&mut self) {
        // Nothing to do if it is gone already.
        let _ = gdal::vsi::unlink_mem_file(&self.path);
        diagnostics::clear();
    }
}

/// The x and y columns of a CSV file: those named, else the first columns with a usual name.
/// `Ok(None)` when no pair is found and none was asked for.
pub(crate) fn coordinate_columns(
    path: &Path,
    columns: &[String],
    x_field: Option<&str>,
    y_field: Option<&str>,
) -> Result<Option<(usize, usize)>, ImportError> {
    let find = |name: &str| {
        columns
            .iter()
            .position(|c| c == name)
            .or_else(|| columns.iter().position(|c| c.eq_ignore_ascii_case(name)))
    };
    let detect = |names: &[&str]| names.iter().find_map(|n| find(n));
    let missing = |what: &str, name: &str| ImportError::CoordinateColumns {
        path: path.to_owned(),
        reason: format!(
            "no {what} column '{name}'; the columns are: {}",
            columns.join(", ")
        ),
    };
    let x = match x_field {
        Some(n) => Some(find(n).ok_or_else(|| missing("x", n))?),
        None => detect(X_NAMES),
    };
    let y = match y_field {
        Some(n) => Some(find(n).ok_or_else(|| missing("y", n))?),
        None => detect(Y_NAMES),
    };
    match (x, y) {
        (Some(x), Some(y)) => Ok(Some((x, y))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(missing("y", &Y_NAMES.join("/"))),
        (None, Some(_)) => Err(missing("x", &X_NAMES.join("/"))),
    }
}

/// Says that a CSV file for a layer with geometry has no coordinates.
pub(crate) fn no_coordinates(path: &Path, columns: &[String]) -> ImportError {
    ImportError::CoordinateColumns {
        path: path.to_owned(),
        reason: format!(
            "found no coordinate columns: looked for x in {} and y in {} (or a WKT column); \
             name them with the x and y field options. The columns are: {}",
            X_NAMES.join("/"),
            Y_NAMES.join("/"),
            columns.join(", ")
        ),
    }
}
