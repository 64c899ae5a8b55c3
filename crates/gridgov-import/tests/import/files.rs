//! Reading files through GDAL: encodings, reprojection, damage, CSV and KML.

use std::fs;

use crate::common::{square, write_with_gdal};
use gdal::vector::OGRwkbGeometryType;
use geo::{Coord, CoordsIter, Geometry};
use gridgov_import::{read_file, ImportError, ReadOptions};
use gridgov_model::{Layer, Value};

fn no_progress() -> impl FnMut(u64, u64) {
    |_, _| {}
}

/// (1) A GBK shapefile without `.cpg`, as Chinese government departments hand them over.
#[test]
fn gbk_shapefile_without_cpg_reads_back_with_the_encoding_option() {
    let dir = tempfile::tempdir().unwrap();
    let shp = dir.path().join("villages.shp");
    let names = ["新华村", "龙场镇石板社区", "者坪村"];
    let rows: Vec<(String, Vec<&str>)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let code = ["520526101201", "520526102203", "520526103204"][i];
            (
                square(105.0 + i as f64 * 0.1, 26.5, 0.05),
                vec![code, *n, "村"],
            )
        })
        .collect();
    let rows: Vec<(&str, Vec<&str>)> = rows.iter().map(|(w, v)| (w.as_str(), v.clone())).collect();
    write_with_gdal(
        &shp,
        "ESRI Shapefile",
        Some(4490),
        OGRwkbGeometryType::wkbPolygon,
        &["ENCODING=GBK"],
        &["code", "name", "kind_zh"],
        &rows,
    );
    let cpg = dir.path().join("villages.cpg");
    fs::remove_file(&cpg).unwrap();
    // The .dbf really holds GBK bytes, not UTF-8.
    let dbf = fs::read(dir.path().join("villages.dbf")).unwrap();
    let (gbk, _, _) = encoding_rs::GBK.encode(names[1]);
    assert!(dbf.windows(gbk.len()).any(|w| w == &gbk[..]));
    assert!(!dbf
        .windows(names[1].len())
        .any(|w| w == names[1].as_bytes()));

    let mut opts = ReadOptions::new(Layer::Villages);
    opts.encoding = Some("GBK".into());
    let read = read_file(&shp, &opts, &mut no_progress()).unwrap();
    assert!(read.rejected.is_empty(), "{:?}", read.rejected);
    assert_eq!(read.source_crs, "EPSG:4490");
    let got: Vec<&str> = read
        .features
        .iter()
        .map(|f| f.properties["name"].as_str().unwrap())
        .collect();
    assert_eq!(got, names);
    assert_eq!(read.features[1].division.unwrap().as_str(), "520526102203");
    assert_eq!(read.features[2].number, 3);
    // "kind_zh" is no field of villages: not read.
    assert!(!read.features[0].properties.contains_key("kind_zh"));

    // Without the option GDAL 3.6 does not recode at all (the .dbf's language byte is 0 and
    // there is no .cpg), so the GBK bytes reach Rust as they are and are not valid UTF-8:
    // gdal's binding turns them into U+FFFD replacement characters. The names are lost.
    let read = read_file(&shp, &ReadOptions::new(Layer::Villages), &mut no_progress()).unwrap();
    let lost = read.features[0].properties["name"].as_str().unwrap();
    assert_ne!(lost, names[0]);
    assert!(lost.contains('\u{FFFD}'), "{lost}");

    // GB18030 is a superset of GBK and reads the same file; an unknown name is refused.
    opts.encoding = Some("GB18030".into());
    let read = read_file(&shp, &opts, &mut no_progress()).unwrap();
    assert_eq!(read.features[0].properties["name"], Value::from(names[0]));
    opts.encoding = Some("KLINGON".into());
    let e = read_file(&shp, &opts, &mut no_progress()).unwrap_err();
    assert!(e.to_string().contains("KLINGON"), "{e}");
}

/// Reference values from `gdaltransform -s_srs EPSG:4490 -t_srs EPSG:4544` (PROJ).
const GK_POINTS: [((f64, f64), (f64, f64)); 3] = [
    ((619_425.546_864_579, 2_954_951.926_546_3), (106.2, 26.7)),
    ((449_898.440_678_628, 2_865_851.340_330_03), (104.5, 25.9)),
    ((500_000.0, 2_876_834.572_518_37), (105.0, 26.0)),
];

fn assert_near(c: Coord<f64>, want: (f64, f64)) {
    assert!(
        (c.x - want.0).abs() < 1e-6 && (c.y - want.1).abs() < 1e-6,
        "got ({}, {}), want {want:?}",
        c.x,
        c.y
    );
}

/// (2) CGCS2000 / 3-degree Gauss-Krüger CM 105E to longitude/latitude.
#[test]
fn gauss_kruger_reprojects_to_lon_lat() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("households.gpkg");
    let wkts: Vec<String> = GK_POINTS
        .iter()
        .map(|((x, y), _)| format!("POINT ({x} {y})"))
        .collect();
    let rows: Vec<(&str, Vec<&str>)> = wkts.iter().map(|w| (w.as_str(), vec!["某村1号"])).collect();
    write_with_gdal(
        &path,
        "GPKG",
        Some(4544),
        OGRwkbGeometryType::wkbPoint,
        &[],
        &["address"],
        &rows,
    );
    let mut progress = Vec::new();
    let read = read_file(&path, &ReadOptions::new(Layer::Households), &mut |d, t| {
        progress.push((d, t));
    })
    .unwrap();
    assert_eq!(read.source_crs, "EPSG:4544");
    assert_eq!(progress.last(), Some(&(3, 3)));
    for (f, (_, want)) in read.features.iter().zip(GK_POINTS) {
        let Some(Geometry::Point(p)) = &f.geometry else {
            panic!("{:?}", f.geometry)
        };
        assert_near(p.0, want);
    }

    // The same coordinates in a CSV file, which has no CRS: refused unless one is assumed.
    let csv = dir.path().join("gk.csv");
    let text: String = std::iter::once("address,x,y\n".to_owned())
        .chain(
            GK_POINTS
                .iter()
                .map(|((x, y), _)| format!("某村,{x},{y}\n")),
        )
        .collect();
    fs::write(&csv, text).unwrap();
    let mut opts = ReadOptions::new(Layer::Households);
    let e = read_file(&csv, &opts, &mut no_progress()).unwrap_err();
    assert!(matches!(e, ImportError::MissingCrs { .. }), "{e}");
    assert!(
        e.to_string().contains("gk.csv")
            && e.to_string().contains("no coordinate reference system")
    );
    opts.assume_crs = Some("EPSG:4544".into());
    let read = read_file(&csv, &opts, &mut no_progress()).unwrap();
    assert_eq!(read.source_crs, "EPSG:4544");
    for (f, (_, want)) in read.features.iter().zip(GK_POINTS) {
        assert_near(
            f.geometry.as_ref().unwrap().coords_iter().next().unwrap(),
            want,
        );
    }
}

/// (3) A Shapefile whose .shp was cut in half (an interrupted copy).
#[test]
fn truncated_shapefile_rejects_the_lost_features_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let shp = dir.path().join("grids.shp");
    let wkts: Vec<String> = (0..10)
        .map(|i| square(105.0 + f64::from(i) * 0.01, 26.0, 0.005))
        .collect();
    let codes: Vec<String> = (1..=10).map(|i| format!("520526101201-G{i:02}")).collect();
    let rows: Vec<(&str, Vec<&str>)> = wkts
        .iter()
        .zip(&codes)
        .map(|(w, c)| (w.as_str(), vec![c.as_str(), "网格"]))
        .collect();
    write_with_gdal(
        &shp,
        "ESRI Shapefile",
        Some(4326),
        OGRwkbGeometryType::wkbPolygon,
        &[],
        &["code", "name"],
        &rows,
    );
    let len = fs::metadata(&shp).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&shp)
        .unwrap()
        .set_len(len / 2)
        .unwrap();

    // GDAL opens the file (the header and the .shx are whole) and fails on each record past
    // the cut: those features are rejected with GDAL's reason, the others are read.
    let read = read_file(&shp, &ReadOptions::new(Layer::Grids), &mut no_progress()).unwrap();
    assert!(!read.features.is_empty());
    assert!(!read.rejected.is_empty());
    assert_eq!(read.features.len() + read.rejected.len(), 10);
    for r in &read.rejected {
        assert!(
            r.reason.contains("damaged") && r.reason.contains(".shp"),
            "{}",
            r.reason
        );
    }
    assert_eq!(read.features[0].division.unwrap().as_str(), "520526101201");

    // A .shp cut inside its 100-byte header does not open at all.
    fs::OpenOptions::new()
        .write(true)
        .open(&shp)
        .unwrap()
        .set_len(50)
        .unwrap();
    let e = read_file(&shp, &ReadOptions::new(Layer::Grids), &mut no_progress()).unwrap_err();
    assert!(e.to_string().contains("grids.shp"), "{e}");

    // Neither does a file that is not there, nor one that is no GIS file.
    let e = read_file(
        &dir.path().join("nope.shp"),
        &ReadOptions::new(Layer::Grids),
        &mut no_progress(),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("nope.shp") && e.to_string().contains("No such file"),
        "{e}"
    );
    let one_column = dir.path().join("one.csv");
    fs::write(&one_column, "address\nsomewhere\n").unwrap();
    let e = read_file(
        &one_column,
        &ReadOptions::new(Layer::Persons),
        &mut no_progress(),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("one.csv")
            && e.to_string()
                .contains("none of the formats gridgov imports"),
        "{e}"
    );
    let junk = dir.path().join("junk.geojson");
    fs::write(&junk, "{\"type\": \"FeatureCollection\", \"features\": [").unwrap();
    let e = read_file(&junk, &ReadOptions::new(Layer::Grids), &mut no_progress()).unwrap_err();
    assert!(
        matches!(e, ImportError::Open { .. }) && e.to_string().contains("junk.geojson"),
        "{e}"
    );
}

/// (4) A CSV with longitude/latitude columns, Chinese headers, a bad value and a bad
/// coordinate; and the same in GBK.
#[test]
fn csv_with_lon_lat_columns() {
    let dir = tempfile::tempdir().unwrap();
    let text = "地址,人口,经度,纬度,村代码\n\
                解放路1号,3,105.10,26.50,520526101201\n\
                解放路2号,three,105.11,26.51,520526101201\n\
                解放路3号,,east,26.52,520526101201\n\
                解放路4号,4.0,105.13,26.53,\n\
                解放路5号,2,105.14,26.54,5205261012\n";
    let mut opts = ReadOptions::new(Layer::Households);
    opts.field_map = vec![
        ("address".into(), "地址".into()),
        ("size".into(), "人口".into()),
        ("division_code".into(), "村代码".into()),
    ];
    for (name, bytes, encoding) in [
        ("utf8.csv", text.as_bytes().to_vec(), None),
        (
            "gbk.csv",
            encoding_rs::GBK.encode(text).0.into_owned(),
            Some("GBK"),
        ),
    ] {
        let path = dir.path().join(name);
        fs::write(&path, bytes).unwrap();
        opts.encoding = encoding.map(Into::into);
        let read = read_file(&path, &opts, &mut no_progress()).unwrap();
        assert_eq!(read.source_crs, "EPSG:4326");
        let numbers: Vec<usize> = read.features.iter().map(|f| f.number).collect();
        assert_eq!(numbers, [1, 4], "{name}: {:?}", read.rejected);
        let f = &read.features[0];
        assert_eq!(f.properties["address"], Value::from("解放路1号"));
        assert_eq!(f.properties["size"], Value::Integer(3));
        assert_eq!(f.division.unwrap().as_str(), "520526101201");
        assert_eq!(
            f.geometry,
            Some(Geometry::Point(geo::Point::new(105.10, 26.50)))
        );
        assert_eq!(read.features[1].division, None);
        assert_eq!(read.features[1].properties["size"], Value::Integer(4));
        let reasons: Vec<&str> = read.rejected.iter().map(|r| r.reason.as_str()).collect();
        assert!(
            reasons[0].contains("'size'") && reasons[0].contains("'three'"),
            "{reasons:?}"
        );
        assert!(
            reasons[1].contains("'经度'") && reasons[1].contains("'east'"),
            "{reasons:?}"
        );
        assert!(
            reasons[2].contains("division_code") && reasons[2].contains("5205261012"),
            "{reasons:?}"
        );
    }

    // Named columns that are not there, and a layer with geometry but no coordinates.
    let path = dir.path().join("utf8.csv");
    opts.encoding = None;
    opts.x_field = Some("lon".into());
    let e = read_file(&path, &opts, &mut no_progress()).unwrap_err();
    assert!(
        e.to_string().contains("no x column 'lon'") && e.to_string().contains("经度"),
        "{e}"
    );
    let flat = dir.path().join("flat.csv");
    fs::write(&flat, "address,note\nsomewhere,\n").unwrap();
    let e = read_file(
        &flat,
        &ReadOptions::new(Layer::Households),
        &mut no_progress(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("no coordinate columns"), "{e}");
    // An attribute table needs none.
    let persons = dir.path().join("persons.csv");
    fs::write(&persons, "name,id_card\n张三,11010519491231002X\n").unwrap();
    let read = read_file(
        &persons,
        &ReadOptions::new(Layer::Persons),
        &mut no_progress(),
    )
    .unwrap();
    assert_eq!(read.features[0].geometry, None);
    assert_eq!(
        read.features[0].properties["id_card"],
        Value::from("11010519491231002X")
    );
}

/// KML with altitudes (3D coordinates) and two folders (layers).
#[test]
fn kml_with_altitudes_and_folders() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roads.kml");
    fs::write(
        &path,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Folder><name>roads</name>
<Placemark><name>乡道X101</name><LineString><coordinates>105.1,26.5,1200 105.2,26.6,1210</coordinates></LineString></Placemark>
</Folder>
<Folder><name>other</name>
<Placemark><name>p</name><Point><coordinates>105.0,26.0,0</coordinates></Point></Placemark>
</Folder>
</Document></kml>"#,
    )
    .unwrap();
    let read = read_file(&path, &ReadOptions::new(Layer::Roads), &mut no_progress()).unwrap();
    assert_eq!(read.features.len(), 1);
    let f = &read.features[0];
    assert_eq!(f.properties["name"], Value::from("乡道X101"));
    assert_eq!(
        f.geometry,
        Some(Geometry::LineString(
            vec![(105.1, 26.5), (105.2, 26.6)].into()
        ))
    );
    let mut opts = ReadOptions::new(Layer::Households);
    let e = read_file(&path, &opts, &mut no_progress()).unwrap_err();
    assert!(
        e.to_string().contains("several layers (roads, other)"),
        "{e}"
    );
    opts.source_layer = Some("other".into());
    assert_eq!(
        read_file(&path, &opts, &mut no_progress())
            .unwrap()
            .features
            .len(),
        1
    );
}

/// Files that would make GDAL read something else: a VRT pointing at /etc/passwd, virtual
/// file systems and URLs, a directory. Each is refused with a reason, nothing read.
#[test]
fn indirection_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let vrt = dir.path().join("evil.vrt");
    fs::write(
        &vrt,
        r#"<OGRVRTDataSource><OGRVRTLayer name="passwd"><SrcDataSource>CSV:/etc/passwd</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>"#,
    )
    .unwrap();
    // The same text under a name GDAL would take for GeoJSON changes nothing.
    let disguised = dir.path().join("evil.geojson");
    fs::copy(&vrt, &disguised).unwrap();
    let opts = ReadOptions::new(Layer::Households);
    for path in [
        vrt.clone(),
        disguised,
        "/vsicurl/http://127.0.0.1:9/x.geojson".into(),
        "/vsizip//tmp/x.zip/x.shp".into(),
        "http://127.0.0.1:9/x.geojson".into(),
        dir.path().to_path_buf(),
    ] {
        let err = read_file(&path, &opts, &mut no_progress()).unwrap_err();
        assert!(matches!(err, ImportError::Open { .. }), "{path:?}: {err}");
        let text = err.to_string();
        assert!(
            !text.contains("root:"),
            "{path:?} leaked /etc/passwd: {text}"
        );
    }
    let err = read_file(&vrt, &opts, &mut no_progress())
        .unwrap_err()
        .to_string();
    assert!(err.contains("none of the formats gridgov imports"), "{err}");
}
