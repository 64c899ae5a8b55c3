//! WKB as gridgov reads it: the bounded reader the import (GDAL's geometries) and both
//! stores (PostGIS EWKB, GeoPackage blobs) go through. Nothing may panic, allocate beyond
//! what the bytes can hold, or recurse without bound; what is read must pass or fail the
//! model's geometry check without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(g)) = gridgov_model::wkb::read(data) {
        let _ = gridgov_model::geometry::check(&g);
    }
    let _ = gridgov_model::wkb::read_geopackage(data);
});
