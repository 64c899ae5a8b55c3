//! (6) Writing GeoPackage, GeoJSON and CSV, checked with the real `ogrinfo` and read back.

use std::fs;
use std::path::Path;

use chrono::{NaiveDate, TimeZone, Utc};
use geo::{Geometry, LineString, MultiPolygon, Point};
use gridgov_import::{read_file, write_file, ExportFormat, ImportedFeature, ReadOptions};
use gridgov_model::{validate, DivisionCode, Feature, FeatureId, Layer};

fn code(s: &str) -> DivisionCode {
    s.parse().expect("test setup")
}

fn square(x: f64, y: f64) -> Geometry<f64> {
    let ring = vec![
        (x, y),
        (x + 0.01, y),
        (x + 0.01, y + 0.01),
        (x, y + 0.01),
        (x, y),
    ];
    let p = geo::Polygon::new(LineString::from(ring), vec![]);
    Geometry::MultiPolygon(MultiPolygon(vec![p]))
}

/// Features of several layers, with every field type, validated like the store would.
fn samples() -> Vec<(Layer, Vec<Feature>)> {
    let v = code("520526101201");
    let mut sets = vec![
        (
            Layer::Households,
            (0..5)
                .map(|i| {
                    let mut f = Feature::new(
                        v,
                        Some(Geometry::Point(Point::new(
                            105.123_456_789 + f64::from(i) * 0.001,
                            26.5,
                        ))),
                    )
                    .with("address", format!("解放路{i}号"))
                    .with("grid_code", "520526101201-G02");
                    if i % 2 == 0 {
                        f = f.with("size", i64::from(i) + 1);
                    }
                    f.id = Some(FeatureId(i64::from(i) + 100));
                    f
                })
                .collect(),
        ),
        (
            Layer::Roads,
            vec![
                Feature::new(
                    code("520526000000"),
                    Some(Geometry::LineString(LineString::from(vec![
                        (105.0, 26.0),
                        (105.01, 26.02),
                        (105.03, 26.02),
                    ]))),
                )
                .with("name", "县道X101")
                .with("class", "primary")
                .with("oneway", true)
                .with("osm_id", 4_000_000_123_i64),
                Feature::new(
                    v,
                    Some(Geometry::LineString(LineString::from(vec![
                        (105.1, 26.1),
                        (105.2, 26.2),
                    ]))),
                )
                .with("class", "village")
                .with("oneway", false),
            ],
        ),
        (
            Layer::Villages,
            vec![
                Feature::new(v, Some(square(105.0, 26.0)))
                    .with("code", "520526101201")
                    .with("name", "新华村")
                    .with("kind", "village"),
                Feature::new(code("520526101202"), Some(square(105.02, 26.0)))
                    .with("code", "520526101202")
                    .with("name", "石板社区")
                    .with("kind", "community"),
            ],
        ),
        (
            Layer::Disputes,
            vec![
                Feature::new(v, Some(Geometry::Point(Point::new(105.0, 26.0))))
                    .with("category", "land_contracting")
                    .with("channel", "people")
                    .with("level", "village")
                    .with("status", "open")
                    .with(
                        "opened_on",
                        NaiveDate::from_ymd_opt(2024, 3, 5).expect("test setup"),
                    )
                    .with("description", "地界争议, \"东边\"\n第二行"),
            ],
        ),
        (
            Layer::PositionReports,
            vec![
                Feature::new(v, Some(Geometry::Point(Point::new(105.0, 26.0))))
                    .with("supervised_person_id", 7_i64)
                    .with(
                        "reported_at",
                        Utc.with_ymd_and_hms(2024, 3, 5, 9, 30, 15)
                            .single()
                            .expect("test setup")
                            + chrono::Duration::milliseconds(250),
                    ),
            ],
        ),
        (
            Layer::Persons,
            vec![Feature::new(v, None)
                .with("name", "张三")
                .with("id_card", "11010519491231002X")
                .with("phone", "13800138000")],
        ),
    ];
    for (layer, features) in &mut sets {
        for f in features {
            validate(*layer, f).unwrap_or_else(|e| panic!("{layer}: {e}"));
        }
    }
    sets
}

/// Compares what was written with what was read back; GeoJSON keeps 7 decimals.
fn same(layer: Layer, format: ExportFormat, written: &[Feature], read: &[ImportedFeature]) {
    assert_eq!(written.len(), read.len(), "{layer} as {format}");
    let tolerance = if format == ExportFormat::GeoJson {
        1e-7
    } else {
        1e-12
    };
    for (w, r) in written.iter().zip(read) {
        assert_eq!(Some(w.division), r.division, "{layer} as {format}");
        assert_eq!(w.properties, r.properties, "{layer} as {format}");
        match (&w.geometry, &r.geometry) {
            (None, None) => {}
            (Some(a), Some(b)) => {
                use geo::CoordsIter;
                assert_eq!(a.coords_count(), b.coords_count(), "{layer} as {format}");
                for (p, q) in a.coords_iter().zip(b.coords_iter()) {
                    assert!(
                        (p.x - q.x).abs() <= tolerance && (p.y - q.y).abs() <= tolerance,
                        "{layer} as {format}: {p:?} vs {q:?}"
                    );
                }
            }
            other => panic!("{layer} as {format}: {other:?}"),
        }
    }
}

#[test]
fn every_format_opens_in_ogrinfo_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    for (layer, features) in samples() {
        for &format in ExportFormat::ALL {
            let path = dir.path().join(format!("{layer}.{}", format.extension()));
            write_file(&path, format, layer, &features).unwrap();
            assert_eq!(
                crate::common::ogrinfo_count(&path),
                features.len() as u64,
                "{layer} as {format}"
            );
            let read = read_file(&path, &ReadOptions::new(layer), &mut |_, _| {}).unwrap();
            assert!(
                read.rejected.is_empty(),
                "{layer} as {format}: {:?}",
                read.rejected
            );
            assert_eq!(read.source_crs, "EPSG:4326", "{layer} as {format}");
            same(layer, format, &features, &read.features);
        }
    }
    // Nothing but the outputs is left in the directory.
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    assert_eq!(names.len(), samples().len() * 3);
}

#[test]
fn gpkg_has_typed_columns_and_geojson_is_rfc7946() {
    let dir = tempfile::tempdir().unwrap();
    let sets = samples();
    let (layer, features) = &sets[3];
    let gpkg = dir.path().join("d.gpkg");
    write_file(&gpkg, ExportFormat::Gpkg, *layer, features).unwrap();
    let out = std::process::Command::new("ogrinfo")
        .args(["-ro", "-so", "-al"])
        .arg(&gpkg)
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&out.stdout);
    for line in [
        "Layer name: disputes",
        "Geometry: Point",
        "id: Integer64",
        "division_code: String",
        "opened_on: Date",
        "deadline: Date",
        "ID[\"EPSG\",4326]",
    ] {
        assert!(info.contains(line), "no '{line}' in:\n{info}");
    }
    let (layer, features) = &sets[2];
    let json = dir.path().join("v.geojson");
    write_file(&json, ExportFormat::GeoJson, *layer, features).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
    assert!(doc.get("crs").is_none(), "RFC 7946 has no crs member");
    let first = &doc["features"][0];
    assert_eq!(first["properties"]["division_code"], "520526101201");
    assert_eq!(first["properties"]["name"], "新华村");
    // GDAL 3.6's GeoJSON writer in RFC 7946 mode writes a one-part MultiPolygon as a Polygon
    // (ogr2ogr -lco RFC7946=YES does the same); the model's `conform` turns it back.
    assert_eq!(first["geometry"]["type"], "Polygon");
    let ring = first["geometry"]["coordinates"][0].as_array().unwrap();
    assert_eq!(ring.len(), 5);
    let csv = dir.path().join("h.csv");
    write_file(&csv, ExportFormat::Csv, Layer::Households, &sets[0].1).unwrap();
    let text = fs::read_to_string(&csv).unwrap();
    assert!(
        text.starts_with("X,Y,id,division_code,address,size,grid_code,group_code"),
        "{text}"
    );
    // GDAL quotes values that look like numbers (STRING_QUOTING=IF_AMBIGUOUS, its default, which
    // also quotes Integer64 columns), so that codes stay text for readers that guess types.
    assert!(
        text.contains(
            "105.123456789,26.5,\"100\",\"520526101201\",解放路0号,\"1\",520526101201-G02,\n"
        ),
        "{text}"
    );
}

#[test]
fn overwrites_cleanly_and_leaves_nothing_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    let sets = samples();
    let (layer, features) = &sets[0];
    for &format in ExportFormat::ALL {
        let path = dir.path().join(format!("out.{}", format.extension()));
        write_file(&path, format, *layer, features).unwrap();
        write_file(&path, format, *layer, &features[..2]).unwrap();
        assert_eq!(crate::common::ogrinfo_count(&path), 2, "{format}");
    }
    // A directory that does not exist: an error naming the file, and no file.
    let missing = dir.path().join("no/such/dir/out.gpkg");
    let e = write_file(&missing, ExportFormat::Gpkg, *layer, features).unwrap_err();
    assert!(e.to_string().contains("out.gpkg"), "{e}");
    assert!(!Path::new(&missing).exists());
    // The old file survives a failed write over it: here, the path is a directory.
    let blocked = dir.path().join("blocked.gpkg");
    fs::create_dir(&blocked).unwrap();
    fs::write(blocked.join("keep"), "x").unwrap();
    assert!(write_file(&blocked, ExportFormat::Gpkg, *layer, features).is_err());
    assert!(blocked.join("keep").exists());
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");

    assert_eq!(
        "GeoJSON".parse::<ExportFormat>().unwrap(),
        ExportFormat::GeoJson
    );
    assert_eq!(
        ExportFormat::from_path(Path::new("a/b.GPKG")),
        Some(ExportFormat::Gpkg)
    );
    let e = "shp".parse::<ExportFormat>().unwrap_err().to_string();
    assert!(
        e.contains("'shp'") && e.contains("gpkg, geojson, csv"),
        "{e}"
    );
}
