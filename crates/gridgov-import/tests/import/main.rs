//! Integration tests of the importer against files made by GDAL itself, the real `ogrinfo`,
//! and real OpenStreetMap extracts. One test binary, so that GDAL is linked once.

mod common;
mod files;
mod osm;
mod write;
