//! Readers of GIS files into gridgov's model, and writers out of it.
//!
//! # Layout
//! - [`read_file`] (in `ogr/`): Shapefile, GeoPackage, GeoJSON, KML and CSV through GDAL,
//!   with text encodings (GBK/GB18030 shapefiles without `.cpg`), reprojection from CGCS2000
//!   and Gauss-Krüger zones to EPSG:4326, and each file column matched to a field of the
//!   target layer.
//! - [`write_file`] (in `ogr/`): GeoPackage, GeoJSON and CSV through GDAL, written aside and
//!   renamed into place.
//! - [`read_osm`] (in `osm/`): roads, buildings, water and land use of an OpenStreetMap PBF
//!   extract, with `osmpbf`.
//! - `fields`: from source columns to typed field values and the owning division.
//! - `wkb`: Well-Known Binary to `geo` geometries.
//!
//! Readers hand back [`ImportedFeature`]s: not yet given a division where the file does not
//! name one, and not validated. Features that cannot be read at all are [`Rejected`] with their
//! number and the reason, and the rest of the file is still read; an [`ImportError`] is for the
//! file as a whole. The library prints nothing: progress goes to a callback, and GDAL's own
//! messages are caught (see [`read_file`]).
//!
//! ```no_run
//! use gridgov_import::{read_file, ReadOptions};
//! use gridgov_model::Layer;
//!
//! let mut opts = ReadOptions::new(Layer::Villages);
//! opts.encoding = Some("GBK".into());
//! opts.field_map.push(("code".into(), "CJQYDM".into()));
//! let read = read_file("villages.shp".as_ref(), &opts, &mut |_, _| {})?;
//! println!("{} read from {}, {} rejected", read.features.len(), read.source_crs, read.rejected.len());
//! # Ok::<(), gridgov_import::ImportError>(())
//! ```

mod error;
mod fields;
#[doc(hidden)]
pub mod fuzzing;
mod imported;
mod ogr;
mod osm;

pub use error::ImportError;
pub use imported::{ImportedFeature, ReadOptions, ReadResult, Rejected};
pub use ogr::{read_file, write_file, ExportFormat, UnknownFormat};
pub use osm::{read_osm, OsmResult};
