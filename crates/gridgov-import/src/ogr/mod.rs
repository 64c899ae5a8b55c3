//! Files read and written through GDAL/OGR: Shapefile, GeoPackage, GeoJSON, KML and CSV.

mod crs;
mod csv;
mod diagnostics;
mod read;
mod write;

pub use read::read_file;
pub use write::{write_file, ExportFormat, UnknownFormat};
