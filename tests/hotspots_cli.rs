//! End-to-end: `gridgov hotspots` on the demo county, its files read back by GDAL's
//! `ogrinfo`, and the clusters the demo generator planted found in them.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

mod cli;

use std::process::Command;

use cli::{demo, fails, ogrinfo, ok, read, s};

/// Metres between two WGS84 points (equirectangular: fine over a few kilometres).
fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    let lat = (a.1 + b.1).to_radians() / 2.0;
    let dx = (a.0 - b.0).to_radians() * lat.cos();
    let dy = (a.1 - b.1).to_radians();
    6_371_000.0 * dx.hypot(dy)
}

/// A GeoJSON polygon's centre, as the mean of its ring's corners.
fn centre(feature: &serde_json::Value) -> (f64, f64) {
    let ring = feature["geometry"]["coordinates"][0].as_array().unwrap();
    let corners = &ring[..ring.len() - 1];
    let n = corners.len() as f64;
    let sum = corners.iter().fold((0.0, 0.0), |(x, y), c| {
        (x + c[0].as_f64().unwrap(), y + c[1].as_f64().unwrap())
    });
    (sum.0 / n, sum.1 / n)
}

#[test]
fn hotspot_maps_open_in_gdal() {
    let (store, _) = demo();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("hot.geojson");
    let said = ok(&[
        "hotspots",
        "--store",
        s(store),
        "--res",
        "8",
        "--from",
        "2025-01",
        "--to",
        "2026-12",
        "--out",
        s(&out),
    ]);
    assert!(said.contains("wrote"), "{said}");
    let map = read(&out);
    let cells = map["features"].as_array().unwrap().len() as u64;
    assert!(cells > 1000);
    assert_eq!(map["analysis"]["cells"], cells);
    let (geometry, count, text) = ogrinfo(&out, None);
    assert_eq!(geometry, "Polygon");
    assert_eq!(count, cells);
    assert!(text.contains("ID[\"EPSG\",4326]"), "{text}");
    for field in [
        "cell: String",
        "count: Integer",
        "z: Real",
        "p: Real",
        "p_exact: Real",
        "p_sim: Real",
        "gi_bin: Integer",
        "class: String",
    ] {
        assert!(text.contains(field), "{field} in\n{text}");
    }
    // GDAL reads the values: its filter finds the file's hot spots.
    let (_, hot, _) = ogrinfo(&out, Some("gi_bin >= 2"));
    assert_eq!(hot, map["analysis"]["hot_cells"].as_u64().unwrap());
    assert!(hot > 0);
    let (_, busy, _) = ogrinfo(&out, Some("count > 0"));
    let with_events = map["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["count"].as_u64().unwrap() > 0)
        .count() as u64;
    assert_eq!(busy, with_events);

    // The other methods' files too.
    for (method, fields) in [
        (
            "moran",
            &["moran_i: Real", "quadrant: String", "cluster: String"][..],
        ),
        (
            "emerging",
            &["pattern: String", "trend_z: Real", "states: String"][..],
        ),
    ] {
        let out = dir.path().join(format!("{method}.geojson"));
        ok(&[
            "hotspots",
            "--store",
            s(store),
            "--method",
            method,
            "--from",
            "2025-01",
            "--to",
            "2026-10",
            "--permutations",
            "99",
            "--out",
            s(&out),
        ]);
        let (geometry, count, text) = ogrinfo(&out, None);
        assert_eq!(geometry, "Polygon", "{method}");
        assert!(count > 1000, "{method}");
        for field in fields {
            assert!(text.contains(field), "{method}: {field} in\n{text}");
        }
    }

    // The map is in the audit log, as an export of disputes.
    let log = Command::new(env!("CARGO_BIN_EXE_gridgov"))
        .args(["audit", "list", "--store", s(store)])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&log.stdout);
    assert!(
        log.lines()
            .any(|l| l.contains("\texport\tdisputes\tlocal\tok\t") && l.contains(s(&out))),
        "no audit record of the map in\n{log}"
    );
}

#[test]
fn every_planted_cluster_is_hot_in_its_own_months() {
    let (store, clusters) = demo();
    let dir = tempfile::tempdir().unwrap();
    for (i, c) in clusters.as_array().unwrap().iter().enumerate() {
        let out = dir.path().join(format!("cluster{i}.geojson"));
        ok(&[
            "hotspots",
            "--store",
            s(store),
            "--res",
            "8",
            "--from",
            c["from"].as_str().unwrap(),
            "--to",
            c["to"].as_str().unwrap(),
            "--out",
            s(&out),
        ]);
        let at = (
            c["center_lon"].as_f64().unwrap(),
            c["center_lat"].as_f64().unwrap(),
        );
        let radius = c["radius_m"].as_f64().unwrap();
        let map = read(&out);
        let hot_near = map["features"].as_array().unwrap().iter().any(|f| {
            f["properties"]["gi_bin"].as_i64().unwrap() >= 2 && metres(centre(f), at) <= radius
        });
        assert!(hot_near, "cluster {c}: no hot cell within {radius} m");
    }
}

#[test]
fn bad_arguments_name_the_flag_and_write_nothing() {
    let (store, _) = demo();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.geojson");
    for (args, flag) in [
        (&["--res", "12"][..], "--res"),
        (&["--from", "2025-13"][..], "--from"),
        (&["--method", "kriging"][..], "--method"),
        (&["--permutations", "10000"][..], "--permutations"),
        (&["--category", "weather"][..], "--category"),
        (
            &[
                "--method", "emerging", "--from", "2025-03", "--to", "2025-03",
            ][..],
            "--from",
        ),
    ] {
        let mut all = vec!["hotspots", "--store", s(store), "--out", s(&out)];
        all.extend_from_slice(args);
        let said = fails(&all);
        assert!(
            said.contains(&format!("error: {flag}:")),
            "{args:?}: {said}"
        );
        assert!(!out.exists());
    }
    let said = fails(&[
        "hotspots",
        "--store",
        s(&dir.path().join("missing.gpkg")),
        "--out",
        s(&out),
    ]);
    assert!(said.contains("does not exist"), "{said}");
}
