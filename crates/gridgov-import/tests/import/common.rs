//! Helpers shared by the integration tests: files made with GDAL itself, and the real
//! `ogrinfo`.

use std::path::{Path, PathBuf};
use std::process::Command;

use gdal::spatial_ref::{AxisMappingStrategy, SpatialRef};
use gdal::vector::{
    Feature, FieldDefn, Geometry, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType,
};
use gdal::DriverManager;

/// A file of the shared reference data.
pub fn geodata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/geodata")
        .join(rel)
}

/// Writes a one-layer vector file with GDAL: text fields `fields`, rows of `(WKT, values)`.
pub fn write_with_gdal(
    path: &Path,
    driver: &str,
    epsg: Option<u32>,
    ty: OGRwkbGeometryType::Type,
    layer_options: &[&str],
    fields: &[&str],
    rows: &[(&str, Vec<&str>)],
) {
    let driver = DriverManager::get_driver_by_name(driver).expect("test setup");
    let mut ds = driver.create_vector_only(path).expect("test setup");
    let srs = epsg.map(|c| {
        let mut s = SpatialRef::from_epsg(c).expect("test setup");
        s.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
        s
    });
    let name = path
        .file_stem()
        .expect("test setup")
        .to_str()
        .expect("test setup");
    let layer = ds
        .create_layer(LayerOptions {
            name,
            srs: srs.as_ref(),
            ty,
            options: Some(layer_options),
        })
        .expect("test setup");
    for f in fields {
        FieldDefn::new(f, OGRFieldType::OFTString)
            .expect("test setup")
            .add_to_layer(&layer)
            .expect("test setup");
    }
    for (wkt, values) in rows {
        let mut feature = Feature::new(layer.defn()).expect("test setup");
        for (i, v) in values.iter().enumerate() {
            feature.set_field_string(i, v).expect("test setup");
        }
        feature
            .set_geometry(Geometry::from_wkt(wkt).expect("test setup"))
            .expect("test setup");
        feature.create(&layer).expect("test setup");
    }
    ds.close().expect("test setup");
}

/// Runs `ogrinfo -so -al` on a file and returns the feature count it prints.
pub fn ogrinfo_count(path: &Path) -> u64 {
    let out = Command::new("ogrinfo")
        .args(["-ro", "-so", "-al"])
        .arg(path)
        .output()
        .expect("ogrinfo (gdal-bin) must be installed");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "ogrinfo failed on {}: {text}",
        path.display()
    );
    text.lines()
        .find_map(|l| l.strip_prefix("Feature Count: "))
        .unwrap_or_else(|| panic!("no feature count in ogrinfo's output:\n{text}"))
        .trim()
        .parse()
        .expect("test setup")
}

/// A square polygon's WKT with its lower-left corner at (x, y).
pub fn square(x: f64, y: f64, side: f64) -> String {
    let (x2, y2) = (x + side, y + side);
    format!("POLYGON (({x} {y},{x2} {y},{x2} {y2},{x} {y2},{x} {y}))")
}
