//! The importer's error: what went wrong, with the file it went wrong in.

use std::path::{Path, PathBuf};

/// Why a file could not be read or written.
///
/// Every variant names the file, so that a message shown to a data officer says which of the
/// files they handed over is at fault. Problems with single features are not errors: they are
/// reported as [`crate::Rejected`] and the rest of the file is still read.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// GDAL could not open the file (missing, unreadable, not a GIS format, truncated header).
    #[error("cannot open {path}: {reason}")]
    Open {
        /// The file.
        path: PathBuf,
        /// GDAL's reason.
        reason: String,
    },
    /// Reading the file failed part-way.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The reason (GDAL's message where there is one).
        reason: String,
    },
    /// The file has several layers, or none of the requested name.
    #[error("{path}: {reason}")]
    SourceLayer {
        /// The file.
        path: PathBuf,
        /// Which layer was wanted and which the file has.
        reason: String,
    },
    /// The field map names a field the target layer or the file does not have.
    #[error("{path}: {reason}")]
    FieldMap {
        /// The file.
        path: PathBuf,
        /// What is wrong with the map.
        reason: String,
    },
    /// The coordinate columns of a CSV file are not there.
    #[error("{path}: {reason}")]
    CoordinateColumns {
        /// The file.
        path: PathBuf,
        /// Which columns were looked for and which the file has.
        reason: String,
    },
    /// The file has no coordinate reference system and its coordinates are not longitude and
    /// latitude.
    #[error(
        "{path} has no coordinate reference system (no .prj or CRS entry) and its coordinates \
         are not longitude/latitude (for example {x}, {y}); say which CRS it uses, such as \
         EPSG:4544 for CGCS2000 / 3-degree Gauss-Krüger CM 105E"
    )]
    MissingCrs {
        /// The file.
        path: PathBuf,
        /// An x coordinate out of longitude range (or the y of one out of latitude range).
        x: f64,
        /// Its y.
        y: f64,
    },
    /// A coordinate reference system could not be understood or reprojected from.
    #[error("{path}: coordinate reference system {crs}: {reason}")]
    Crs {
        /// The file.
        path: PathBuf,
        /// The CRS as given or found.
        crs: String,
        /// GDAL's reason.
        reason: String,
    },
    /// An encoding name that is not known.
    #[error(
        "{path}: unknown text encoding '{encoding}'; use a name such as GBK, GB18030 or UTF-8"
    )]
    Encoding {
        /// The file.
        path: PathBuf,
        /// The encoding as given.
        encoding: String,
    },
    /// An operating-system error on the file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// An OpenStreetMap PBF file could not be decoded.
    #[error("cannot read OpenStreetMap file {path}: {source}")]
    Osm {
        /// The file.
        path: PathBuf,
        /// The decoder's error.
        #[source]
        source: osmpbf::Error,
    },
    /// Writing failed; no output file was left behind.
    #[error("cannot write {path}: {reason}")]
    Write {
        /// The output file.
        path: PathBuf,
        /// The reason.
        reason: String,
    },
}

impl ImportError {
    /// An I/O error on `path`.
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}
