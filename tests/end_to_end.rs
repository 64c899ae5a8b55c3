//! End-to-end tests of the `gridgov` binary: real files, a real PostGIS, GDAL's own tools as
//! the judge of what we write, a real listening server.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use gridgov_model::Layer;
use gridgov_store::testing::TempDatabase;

fn gridgov(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gridgov"))
        .args(args)
        .env("CI", "true")
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = gridgov(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "gridgov {args:?} failed:\n{stderr}");
    stderr
}

/// What a successful `gridgov` run printed on standard output.
fn ok_stdout(args: &[&str]) -> String {
    let out = gridgov(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "gridgov {args:?} failed:\n{stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn fails(args: &[&str]) -> String {
    let out = gridgov(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "gridgov {args:?} should have failed:\n{stderr}"
    );
    stderr
}

fn shared() -> PathBuf {
    let p = std::env::var("GRIDGOV_SHARED").map_or_else(
        |_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    );
    assert!(
        p.join("geodata").is_dir(),
        "the shared reference data is missing at {}",
        p.display()
    );
    p
}

/// The demo GeoPackage (seed 42), made once per test run and only read afterwards.
fn demo() -> &'static Path {
    static DEMO: OnceLock<PathBuf> = OnceLock::new();
    DEMO.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let path = dir.join("demo.gpkg");
        ok(&["demo", "--out", path.to_str().unwrap(), "--seed", "42"]);
        path
    })
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Layer name → feature count as `ogrinfo -so` reports it, with the SRS of each layer.
fn ogrinfo_layers(path: &Path) -> BTreeMap<String, (u64, bool)> {
    let out = Command::new("ogrinfo")
        .args(["-so", "-al", s(path)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ogrinfo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut layers = BTreeMap::new();
    for block in text.split("\nLayer name: ").skip(1) {
        let name = block.lines().next().unwrap().trim().to_owned();
        let count = block
            .lines()
            .find_map(|l| l.strip_prefix("Feature Count: "))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let epsg4326 = block.contains("ID[\"EPSG\",4326]");
        layers.insert(name, (count, epsg4326));
    }
    layers
}

async fn store_counts(url: &str) -> BTreeMap<String, u64> {
    let store = gridgov_store::open(&url.parse().unwrap()).await.unwrap();
    store
        .counts()
        .await
        .unwrap()
        .into_iter()
        .map(|(l, n)| (l.name().to_owned(), n))
        .collect()
}

#[tokio::test]
async fn demo_opens_in_gdal_and_loads_into_postgis_and_back() {
    let layers = ogrinfo_layers(demo());
    let spatial: Vec<_> = layers
        .iter()
        .filter(|(_, (n, srs))| *n > 0 && *srs)
        .collect();
    assert!(spatial.len() >= 12, "{layers:?}");
    for l in Layer::ALL {
        let (n, srs) = layers[l.name()];
        // Route plans are made from the data (`gridgov route`, the API), not generated.
        let computed = matches!(l, Layer::RoutePlans | Layer::Routes);
        assert!(n > 0 || computed, "{l} is empty");
        assert_eq!(
            srs,
            l.geometry() != gridgov_model::GeometryKind::None,
            "{l} SRS"
        );
    }
    assert!(layers["households"].0 >= 25_000);
    assert!(layers["villages"].0 >= 60);
    assert!(layers["townships"].0 >= 6);

    let db = TempDatabase::create("load").await.unwrap();
    ok(&["load", "--from", s(demo()), "--to", &db.url]);
    let pg = store_counts(&db.url).await;
    let gdal: BTreeMap<String, u64> = layers.iter().map(|(k, v)| (k.clone(), v.0)).collect();
    assert_eq!(pg, gdal);

    // Loading again into the same database clashes on ids and changes nothing.
    let e = fails(&["load", "--from", s(demo()), "--to", &db.url]);
    assert!(e.contains("nothing was written"), "{e}");
    assert_eq!(store_counts(&db.url).await, pg);

    // And back into a new GeoPackage, which GDAL reads with the same counts.
    let dir = tempfile::tempdir().unwrap();
    let back = dir.path().join("back.gpkg");
    ok(&["load", "--from", &db.url, "--to", s(&back)]);
    let again: BTreeMap<String, u64> = ogrinfo_layers(&back)
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect();
    assert_eq!(again, gdal);
    db.drop_now().await.unwrap();
}

#[test]
fn demo_is_deterministic_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let a = gridgov_demo::generate(7);
    let b = gridgov_demo::generate(7);
    assert_eq!(a.clusters, b.clusters);
    assert_eq!(
        format!("{:?}", a.dataset.layers),
        format!("{:?}", b.dataset.layers)
    );
    let c = gridgov_demo::generate(8);
    assert_ne!(a.clusters, c.clusters);
    let path = dir.path().join("x.gpkg");
    std::fs::write(&path, b"precious").unwrap();
    let e = fails(&["demo", "--out", s(&path)]);
    assert!(e.contains("already exists"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");
}

/// A store holding only the demo's county, townships and villages.
async fn divisions_only(dir: &Path) -> PathBuf {
    let path = dir.join("divisions.gpkg");
    let source = gridgov_store::open(&s(demo()).parse().unwrap())
        .await
        .unwrap();
    let target = gridgov_store::gpkg::GpkgStore::open(&path).await.unwrap();
    let mut ops = Vec::new();
    for layer in [Layer::Counties, Layer::Townships, Layer::Villages] {
        for f in source
            .query(layer, &gridgov_store::Query::default())
            .await
            .unwrap()
        {
            ops.push(gridgov_store::Op::Insert(layer, f));
        }
    }
    gridgov_store::write(&target, ops).await.unwrap();
    path
}

fn write_geojson(path: &Path, features: &serde_json::Value) {
    let fc = serde_json::json!({"type": "FeatureCollection", "features": features});
    std::fs::write(path, fc.to_string()).unwrap();
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_leaves_the_store_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let store = divisions_only(dir.path()).await;
    let before = store_counts(s(&store)).await;
    let village: serde_json::Value = {
        let st = gridgov_store::open(&s(&store).parse().unwrap())
            .await
            .unwrap();
        let v = st
            .query(
                Layer::Villages,
                &gridgov_store::Query {
                    limit: Some(1),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        v[0].to_geojson()
    };
    let code = village["properties"]["code"].as_str().unwrap().to_owned();
    // A point well inside the first village: its interior point.
    let geom = gridgov_model::geometry::from_geojson(&village["geometry"]).unwrap();
    let inside: geo::Point<f64> = geo::InteriorPoint::interior_point(&geom).unwrap();

    // 1. Swapped coordinates (lat, lon) far outside any division.
    let file = dir.path().join("swapped.geojson");
    write_geojson(
        &file,
        &serde_json::json!([
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [inside.x(), inside.y()]},
             "properties": {"address": "正常户"}},
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [inside.y(), inside.x()]},
             "properties": {"address": "颠倒户"}}
        ]),
    );
    let e = fails(&[
        "import",
        s(&file),
        "--layer",
        "households",
        "--store",
        s(&store),
    ]);
    assert!(e.contains("feature 2") && e.contains("swapped"), "{e}");
    assert!(e.contains("nothing was imported"), "{e}");
    assert_eq!(store_counts(s(&store)).await, before);

    // With --skip-invalid the good one lands and the bad one is listed.
    let rejects = dir.path().join("rejects.csv");
    ok(&[
        "import",
        s(&file),
        "--layer",
        "households",
        "--store",
        s(&store),
        "--skip-invalid",
        s(&rejects),
    ]);
    let listed = std::fs::read_to_string(&rejects).unwrap();
    assert!(listed.starts_with("number,reason\n2,"), "{listed}");
    assert_eq!(
        store_counts(s(&store)).await["households"],
        before["households"] + 1
    );
    // The import is in the audit log; the refused one is not (nothing changed).
    let log = ok_stdout(&["audit", "list", "--store", s(&store)]);
    let imports: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("\tcreate\thouseholds\tlocal\tok\t"))
        .collect();
    assert_eq!(imports.len(), 1, "{log}");
    assert!(
        imports[0].contains("\"imported\":1") && imports[0].contains(s(&file)),
        "{log}"
    );
    let before = store_counts(s(&store)).await;

    // 2. A self-intersecting polygon.
    let file = dir.path().join("bowtie.geojson");
    let (x, y) = (inside.x(), inside.y());
    write_geojson(
        &file,
        &serde_json::json!([{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[
            [x, y], [x + 0.001, y + 0.001], [x + 0.001, y], [x, y + 0.001], [x, y]]]},
            "properties": {"kind": "forest", "division_code": code}}]),
    );
    let e = fails(&[
        "import",
        s(&file),
        "--layer",
        "land_use",
        "--store",
        s(&store),
    ]);
    assert!(
        e.contains("feature 1") && e.contains("invalid geometry"),
        "{e}"
    );
    assert_eq!(store_counts(s(&store)).await, before);

    // 3. A village whose code does not extend its township's.
    let township = &code[..9];
    let other_township = if township.ends_with('1') {
        "520526199"
    } else {
        "520526191"
    };
    let wrong = format!("{other_township}299");
    let mut bad_village = village.clone();
    bad_village["properties"] = serde_json::json!({"code": wrong, "name": "错编码村"});
    let file = dir.path().join("village.geojson");
    write_geojson(&file, &serde_json::json!([bad_village]));
    let e = fails(&[
        "import",
        s(&file),
        "--layer",
        "villages",
        "--store",
        s(&store),
    ]);
    assert!(e.contains("does not exist"), "{e}");
    assert_eq!(store_counts(s(&store)).await, before);

    // 4. A truncated Shapefile.
    let shp_dir = dir.path().join("shp");
    std::fs::create_dir(&shp_dir).unwrap();
    let good = dir.path().join("good.geojson");
    write_geojson(
        &good,
        &serde_json::Value::Array(
            (0..50)
                .map(|i| {
                    serde_json::json!({"type": "Feature", "geometry": {"type": "Point",
                        "coordinates": [x + f64::from(i) * 1e-5, y]},
                        "properties": {"address": format!("{i}号")}})
                })
                .collect(),
        ),
    );
    let shp = shp_dir.join("h.shp");
    let st = Command::new("ogr2ogr")
        .args(["-f", "ESRI Shapefile", s(&shp), s(&good)])
        .status()
        .unwrap();
    assert!(st.success());
    let bytes = std::fs::read(&shp).unwrap();
    std::fs::write(&shp, &bytes[..bytes.len() / 2]).unwrap();
    let e = fails(&[
        "import",
        s(&shp),
        "--layer",
        "households",
        "--store",
        s(&store),
    ]);
    assert!(e.contains("h.shp") || e.contains("damaged"), "{e}");
    assert!(
        e.contains("nothing was imported") || e.contains("error"),
        "{e}"
    );
    assert_eq!(store_counts(s(&store)).await, before);

    // 5. An unknown layer and a file that is not there.
    let e = fails(&[
        "import",
        s(&good),
        "--layer",
        "houses",
        "--store",
        s(&store),
    ]);
    assert!(e.contains("unknown layer 'houses'"), "{e}");
    let e = fails(&[
        "import",
        "/nonexistent/x.geojson",
        "--layer",
        "households",
        "--store",
        s(&store),
    ]);
    assert!(e.contains("/nonexistent/x.geojson"), "{e}");
    assert_eq!(store_counts(s(&store)).await, before);
}

#[tokio::test]
async fn gbk_shapefile_keeps_its_chinese_text() {
    let dir = tempfile::tempdir().unwrap();
    let store = divisions_only(dir.path()).await;
    let st = gridgov_store::open(&s(&store).parse().unwrap())
        .await
        .unwrap();
    let v = st
        .query(
            Layer::Villages,
            &gridgov_store::Query {
                limit: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .remove(0);
    let p: geo::Point<f64> =
        geo::InteriorPoint::interior_point(v.geometry.as_ref().unwrap()).unwrap();
    let good = dir.path().join("h.geojson");
    let addresses = ["威宁县草海镇石门村3组12号", "彝族回族苗族自治县·炉山镇"];
    write_geojson(
        &good,
        &serde_json::Value::Array(
            addresses
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    serde_json::json!({"type": "Feature", "geometry": {"type": "Point",
                        "coordinates": [p.x() + i as f64 * 1e-5, p.y()]}, "properties": {"DZ": a}})
                })
                .collect(),
        ),
    );
    let shp = dir.path().join("gbk.shp");
    let st_ok = Command::new("ogr2ogr")
        .args([
            "-f",
            "ESRI Shapefile",
            "-lco",
            "ENCODING=GBK",
            s(&shp),
            s(&good),
        ])
        .status()
        .unwrap();
    assert!(st_ok.success());
    // Government shapefiles come without .cpg: the encoding must come from --encoding.
    let _ = std::fs::remove_file(shp.with_extension("cpg"));
    let dbf = std::fs::read(shp.with_extension("dbf")).unwrap();
    let (gbk, _, _) = encoding_rs::GBK.encode(addresses[0]);
    assert!(
        dbf.windows(gbk.len()).any(|w| w == &gbk[..]),
        "the .dbf is not GBK"
    );
    ok(&[
        "import",
        s(&shp),
        "--layer",
        "households",
        "--field",
        "address=DZ",
        "--encoding",
        "GBK",
        "--store",
        s(&store),
    ]);
    let got: Vec<String> = st
        .query(Layer::Households, &gridgov_store::Query::default())
        .await
        .unwrap()
        .iter()
        .map(|f| f.text("address").unwrap().to_owned())
        .collect();
    assert_eq!(got, addresses);
}

#[tokio::test]
async fn openstreetmap_extracts_import() {
    for (file, min_roads, with_water) in [
        ("liechtenstein-2013-08-03.osm.pbf", 2000, true),
        ("monaco.osm.pbf", 2000, false),
    ] {
        let pbf = shared().join("geodata/osm").join(file);
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("osm.gpkg");
        // A county boundary around the extract, so that every road, river and land use area has
        // a division to live in.
        let osm = gridgov_import::read_osm(&pbf, &mut |_, _| {}).unwrap();
        let around = |features: &[&gridgov_import::ImportedFeature], margin: f64| {
            let (mut x0, mut y0, mut x1, mut y1) = (180.0_f64, 90.0_f64, -180.0_f64, -90.0_f64);
            for r in features {
                let b = geo::BoundingRect::bounding_rect(r.geometry.as_ref().unwrap()).unwrap();
                x0 = x0.min(b.min().x);
                y0 = y0.min(b.min().y);
                x1 = x1.max(b.max().x);
                y1 = y1.max(b.max().y);
            }
            geo::Rect::new((x0 - margin, y0 - margin), (x1 + margin, y1 + margin))
        };
        let import_county = |store: &Path, bbox: geo::Rect<f64>| {
            let county = store.with_extension("county.geojson");
            write_geojson(
                &county,
                &serde_json::json!([{"type": "Feature",
                    "geometry": gridgov_model::geometry::to_geojson(&geo::Geometry::Polygon(bbox.to_polygon())),
                    "properties": {"code": "520526000000", "name": "测试县"}}]),
            );
            ok(&[
                "import",
                s(&county),
                "--layer",
                "counties",
                "--store",
                s(store),
            ]);
        };
        let roads: Vec<_> = osm.roads.iter().collect();
        if with_water {
            // A county around the roads only leaves some water or land use outside: the import
            // is refused, and the roads already validated are not written either.
            let small = around(&roads, 1e-4);
            let outside = osm.water.iter().chain(&osm.land_use).any(|f| {
                let p = geo::InteriorPoint::interior_point(f.geometry.as_ref().unwrap()).unwrap();
                !geo::Intersects::intersects(&small, &p)
            });
            assert!(
                outside,
                "{file}: no water or land use lies beyond the roads"
            );
            let partial = dir.path().join("partial.gpkg");
            import_county(&partial, small);
            let e = fails(&[
                "import-osm",
                s(&pbf),
                "--store",
                s(&partial),
                "--no-buildings",
            ]);
            assert!(e.contains("nothing was imported"), "{e}");
            let counts = store_counts(s(&partial)).await;
            assert_eq!(
                (counts["roads"], counts["water"], counts["land_use"]),
                (0, 0, 0),
                "{file}: {e}"
            );
        }
        let all: Vec<_> = osm
            .roads
            .iter()
            .chain(&osm.water)
            .chain(&osm.land_use)
            .collect();
        import_county(&store, around(&all, 0.01));
        let mut args = vec![
            "import-osm",
            s(&pbf),
            "--store",
            s(&store),
            "--no-buildings",
        ];
        if !with_water {
            args.extend(["--no-water", "--no-land-use"]);
        }
        let e = ok(&args);
        let counts = store_counts(s(&store)).await;
        assert!(counts["roads"] >= min_roads, "{file}: {counts:?}\n{e}");
        assert_eq!(counts["roads"] as usize, osm.roads.len(), "{file}");
        let (water, land_use) = if with_water {
            (osm.water.len(), osm.land_use.len())
        } else {
            (0, 0)
        };
        assert_eq!(counts["water"] as usize, water, "{file}: {e}");
        assert_eq!(counts["land_use"] as usize, land_use, "{file}: {e}");
        // Every road is stored as a real line with a valid class.
        let st = gridgov_store::open(&s(&store).parse().unwrap())
            .await
            .unwrap();
        let roads = st
            .query(Layer::Roads, &gridgov_store::Query::default())
            .await
            .unwrap();
        assert!(roads
            .iter()
            .all(|r| matches!(&r.geometry, Some(geo::Geometry::LineString(l)) if l.0.len() >= 2)));
        assert!(roads.iter().any(|r| r.text("class") == Some("village")));
        assert!(roads
            .iter()
            .any(|r| r.get("oneway") == Some(&gridgov_model::Value::Bool(true))));
        if with_water {
            // The Rhine is stored as river lines, usable as a partition barrier.
            let water = st
                .query(Layer::Water, &gridgov_store::Query::default())
                .await
                .unwrap();
            assert!(water.iter().any(|w| w.text("kind") == Some("river")
                && matches!(w.geometry, Some(geo::Geometry::LineString(_)))
                && w.text("name").is_some_and(|n| n.contains("Rhein"))));
        }
    }
}

#[tokio::test]
async fn export_writes_files_gdal_reads() {
    let dir = tempfile::tempdir().unwrap();
    for (fmt, ext) in [("gpkg", "gpkg"), ("geojson", "geojson"), ("csv", "csv")] {
        let out = dir.path().join(format!("villages.{ext}"));
        ok(&[
            "export",
            "--layer",
            "villages",
            "--format",
            fmt,
            "--out",
            s(&out),
            "--store",
            s(demo()),
        ]);
        let layers = ogrinfo_layers(&out);
        let (count, _) = layers.values().next().copied().unwrap();
        let expected = store_counts(s(demo())).await["villages"];
        assert_eq!(count, expected, "{fmt}");
        // Each export is in the audit log: who, which layer, how many, where to.
        let log = ok_stdout(&["audit", "list", "--store", s(demo())]);
        assert!(
            log.lines()
                .any(|l| l.contains("\texport\tvillages\tlocal\tok\t")
                    && l.contains(&format!("\"features\":{expected}"))
                    && l.contains(s(&out))),
            "{fmt}: no audit record of the export in\n{log}"
        );
    }
}

#[tokio::test]
async fn server_answers_over_http() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{port}");
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gridgov"))
        .args([
            "serve",
            "--store",
            s(demo()),
            "--addr",
            &addr,
            "--web-dir",
            s(&web),
        ])
        .spawn()
        .unwrap();
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..200 {
        if client
            .get(format!("{base}/api/v1/health"))
            .send()
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let result = async {
        assert!(up, "the server did not come up");
        // Nothing but the health check answers without a session.
        let refused = client.get(format!("{base}/api/v1/layers")).send().await?;
        assert_eq!(refused.status(), 401);
        let client = signed_in(s(demo()), &base).await;
        let h: serde_json::Value = client
            .get(format!("{base}/api/v1/health"))
            .send()
            .await?
            .json()
            .await?;
        assert_eq!(h["status"], "ok");
        assert_eq!(h["store"], "geopackage");
        let layers: serde_json::Value = client
            .get(format!("{base}/api/v1/layers"))
            .send()
            .await?
            .json()
            .await?;
        assert_eq!(layers["layers"].as_array().unwrap().len(), Layer::ALL.len());
        let r = client
            .get(format!("{base}/api/v1/layers/villages/items?limit=1000"))
            .send()
            .await?;
        assert_eq!(r.headers()["content-type"], "application/geo+json");
        let fc: serde_json::Value = r.json().await?;
        assert_eq!(fc["type"], "FeatureCollection");
        let villages = fc["features"].as_array().unwrap();
        assert!(villages.len() >= 60);
        // A township's households, a page at a time.
        let township = &villages[0]["properties"]["code"].as_str().unwrap()[..9];
        let url = format!(
            "{base}/api/v1/layers/households/items?division={township}000&limit=10&offset=5"
        );
        let fc: serde_json::Value = client.get(url).send().await?.json().await?;
        assert_eq!(fc["numberReturned"], 10);
        assert!(fc["numberMatched"].as_u64().unwrap() > 100);
        assert!(fc["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["properties"]["division_code"]
                .as_str()
                .unwrap()
                .starts_with(township)));
        // ID-card numbers never leave in full.
        let fc: serde_json::Value = client
            .get(format!("{base}/api/v1/layers/persons/items?limit=5"))
            .send()
            .await?
            .json()
            .await?;
        let id = fc["features"][0]["properties"]["id_card"].as_str().unwrap();
        assert!(id.contains("********"), "{id}");
        // The read is in the audit log, with where it came from, and the chain checks out.
        let me: serde_json::Value = client
            .get(format!("{base}/api/v1/auth/me"))
            .send()
            .await?
            .json()
            .await?;
        let name = me["username"].as_str().unwrap().to_owned();
        let log = ok_stdout(&["audit", "list", "--store", s(demo())]);
        let mine: Vec<&str> = log
            .lines()
            .filter(|l| l.split('\t').nth(2) == Some(name.as_str()))
            .collect();
        assert!(
            mine.iter()
                .any(|l| l.contains("\tlogin\tuser/") && l.contains("\t127.0.0.1\tok\t")),
            "{mine:?}"
        );
        assert!(
            mine.iter()
                .any(|l| l.contains("\tread\tpersons\t127.0.0.1\tok\t")),
            "{mine:?}"
        );
        assert!(
            log.lines()
                .any(|l| l.contains(&format!("\tuser_add\tuser/{name}\tlocal\tok"))),
            "the account's creation is missing: {log}"
        );
        let verified = ok_stdout(&["audit", "verify", "--store", s(demo())]);
        assert!(verified.contains("records\t"), "{verified}");
        // Bad requests name the problem.
        let r = client
            .get(format!("{base}/api/v1/layers/houses/items"))
            .send()
            .await?;
        assert_eq!(r.status(), 404);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let r = client
            .get(format!("{base}/api/v1/layers/villages/items?bbox=1,2,3"))
            .send()
            .await?;
        assert_eq!(r.status(), 400);
        let body: serde_json::Value = r.json().await?;
        assert!(body["detail"].as_str().unwrap().contains("bbox"));
        let r = client
            .get(format!(
                "{base}/api/v1/layers/villages/items?limit=1000000000"
            ))
            .send()
            .await?;
        assert_eq!(r.status(), 400);
        let r = client
            .get(format!(
                "{base}/api/v1/layers/villages/items?division=52052610120"
            ))
            .send()
            .await?;
        assert_eq!(r.status(), 400);
        // The page and its script (MapLibre bundled in) are served from the machine itself.
        let page = client.get(format!("{base}/")).send().await?;
        assert_eq!(page.status(), 200);
        let html = page.text().await?;
        let start = html
            .find("assets/index.js")
            .expect("the page loads its script");
        let src: String = html[start..].chars().take_while(|c| *c != '"').collect();
        let script = client.get(format!("{base}/{src}")).send().await?;
        assert_eq!(script.status(), 200);
        assert!(script.text().await?.contains("maplibre"));
        Ok::<(), reqwest::Error>(())
    }
    .await;
    child.kill().unwrap();
    let _ = child.wait();
    result.unwrap();
}

/// `gridgov lookup`'s answer lines, by label.
fn lookup_lines(args: &[&str]) -> BTreeMap<String, String> {
    let out = gridgov(args);
    assert!(
        out.status.success(),
        "gridgov {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once("  "))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

#[tokio::test]
async fn lookup_names_the_grid_that_holds_a_household() {
    use geo::{Contains, Geometry};
    use gridgov_model::crs;
    use gridgov_store::{gpkg::GpkgStore, Query, Store};

    let store = GpkgStore::open(demo()).await.unwrap();
    let q = Query {
        limit: Some(3),
        ..Query::default()
    };
    let households = store.query(Layer::Households, &q).await.unwrap();
    let grids = store.query(Layer::Grids, &Query::default()).await.unwrap();
    for h in &households {
        let Some(Geometry::Point(p)) = &h.geometry else {
            panic!("a household without a point")
        };
        // The grid whose polygon holds the household, found here by brute force.
        let holder = grids
            .iter()
            .find(|g| g.geometry.as_ref().is_some_and(|geom| geom.contains(p)))
            .unwrap();
        let code = holder.text("code").unwrap();
        let (lon, lat) = (p.x().to_string(), p.y().to_string());
        let found = lookup_lines(&["lookup", "--store", s(demo()), "--lon", &lon, "--lat", &lat]);
        assert!(found["grid"].contains(code), "{found:?} should name {code}");
        assert!(found["village"].contains(&code[..12]), "{found:?}");
        assert!(found["transfer station"].ends_with(" m"), "{found:?}");
        // The same place as a phone map app gives it (GCJ-02): the same grid.
        let g = crs::wgs84_to_gcj02(p.0);
        let (glon, glat) = (g.x.to_string(), g.y.to_string());
        let args = [
            "lookup",
            "--store",
            s(demo()),
            "--crs",
            "gcj02",
            "--lon",
            &glon,
            "--lat",
            &glat,
        ];
        assert_eq!(lookup_lines(&args)["grid"], found["grid"]);
    }
    let e = fails(&[
        "lookup",
        "--store",
        s(demo()),
        "--lon",
        "116.4",
        "--lat",
        "39.9",
    ]);
    assert!(e.contains("outside the county"), "{e}");
    let e = fails(&[
        "lookup",
        "--store",
        s(demo()),
        "--lon",
        "104.3",
        "--lat",
        "26.9",
        "--crs",
        "gcj-02",
    ]);
    assert!(e.contains("--crs") && e.contains("gcj02"), "{e}");
    let e = fails(&[
        "lookup",
        "--store",
        s(demo()),
        "--lon",
        "26.9",
        "--lat",
        "104.3",
    ]);
    assert!(e.contains("--lat 104.3"), "{e}");
}

/// A `gridgov serve` child process on a free loopback port, killed when dropped.
struct Server {
    child: std::process::Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_server(store: &str) -> Server {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{port}");
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web");
    let child = Command::new(env!("CARGO_BIN_EXE_gridgov"))
        .args([
            "serve",
            "--store",
            store,
            "--addr",
            &addr,
            "--web-dir",
            s(&web),
        ])
        .spawn()
        .unwrap();
    let server = Server {
        child,
        base: format!("http://{addr}"),
    };
    for _ in 0..600 {
        if reqwest::get(format!("{}/api/v1/health", server.base))
            .await
            .is_ok()
        {
            return server;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the server on {store} did not come up");
}

/// Makes a county admin in `store` with `gridgov user add` (password on standard input), signs
/// it in at `base` and returns a client that sends its token with every request.
async fn signed_in(store: &str, base: &str) -> reqwest::Client {
    use std::io::Write as _;
    static ACCOUNTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let name = format!(
        "e2e{}-{}",
        std::process::id(),
        ACCOUNTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let password = "a long enough test password";
    let mut child = Command::new(env!("CARGO_BIN_EXE_gridgov"))
        .args([
            "user",
            "add",
            &name,
            "--role",
            "county_admin",
            "--scope",
            "520526000000",
            "--password-stdin",
            "--store",
            store,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "gridgov user add failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    client_of(base, &name, password).await
}

#[tokio::test]
async fn lookup_file_annotates_every_point_in_order() {
    use geo::{Contains, Geometry};
    use gridgov_store::{gpkg::GpkgStore, Query, Store};
    use std::fmt::Write as _;

    let store = GpkgStore::open(demo()).await.unwrap();
    let q = Query {
        limit: Some(500),
        ..Query::default()
    };
    let households = store.query(Layer::Households, &q).await.unwrap();
    let grids = store.query(Layer::Grids, &Query::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("points.csv");
    let mut text = String::from("户号,经度,纬度\n");
    let mut want = Vec::new();
    for (i, h) in households.iter().enumerate() {
        let Some(Geometry::Point(p)) = &h.geometry else {
            panic!("a household without a point")
        };
        writeln!(text, "{i},{},{}", p.x(), p.y()).unwrap();
        let holders: Vec<&str> = grids
            .iter()
            .filter(|g| g.geometry.as_ref().is_some_and(|geom| geom.contains(p)))
            .map(|g| g.text("code").unwrap())
            .collect();
        want.push(holders);
    }
    text.push_str("outside,116.4,39.9\n");
    std::fs::write(&input, &text).unwrap();
    let out = dir.path().join("annotated.csv");
    ok(&[
        "lookup",
        "--store",
        s(demo()),
        "--file",
        s(&input),
        "--out",
        s(&out),
    ]);
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let headers = reader.headers().unwrap().clone();
    let grid_at = headers.iter().position(|h| h == "grid_code").unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), households.len() + 1);
    for (i, row) in rows.iter().take(households.len()).enumerate() {
        assert_eq!(row[0].parse::<usize>().unwrap(), i);
        // Every demo plan's grid holding the point is a candidate; the answer is one of them,
        // and it is the effective plan's.
        assert!(
            want[i].contains(&&row[grid_at]),
            "row {i}: {} not in {:?}",
            &row[grid_at],
            want[i]
        );
    }
    assert_eq!(&rows[households.len()][3], "outside_county");
    // A bad row refuses the whole file and leaves no output behind.
    std::fs::write(&input, "lon,lat\n106.1,26.5\n106.2,\n").unwrap();
    let bad_out = dir.path().join("bad.csv");
    let e = fails(&[
        "lookup",
        "--store",
        s(demo()),
        "--file",
        s(&input),
        "--out",
        s(&bad_out),
    ]);
    assert!(e.contains("CSV row 3: latitude ''"), "{e}");
    assert!(!bad_out.exists());
}

#[tokio::test]
async fn servers_on_one_postgis_follow_each_others_writes() {
    let db = TempDatabase::create("live").await.unwrap();
    ok(&["load", "--from", s(demo()), "--to", &db.url]);
    // Servers connect as the server role, under row-level security.
    let first = start_server(&db.app_url()).await;
    let second = start_server(&db.app_url()).await;
    let client = signed_in(&db.url, &first.base).await;
    // A point in the county, and the station nearest it now.
    let county: serde_json::Value = client
        .get(format!(
            "{}/api/v1/layers/villages/items?limit=1",
            first.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ring = &county["features"][0]["geometry"]["coordinates"][0][0];
    let ring = ring.as_array().unwrap();
    let mean =
        |k: usize| ring.iter().map(|c| c[k].as_f64().unwrap()).sum::<f64>() / ring.len() as f64;
    let (lon, lat) = (mean(0), mean(1));
    let url = |base: &str| format!("{base}/api/v1/lookup?lon={lon}&lat={lat}&crs=wgs84");
    let before: serde_json::Value = client
        .get(url(&first.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        before["transfer_station"]["distance_m"].as_f64().unwrap() > 1.0,
        "{before}"
    );
    // A new station right at the point, imported by a third process.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("station.geojson");
    write_geojson(
        &file,
        &serde_json::json!([
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
             "properties": {"name": "新建转运站", "capacity_t": 8.0}}
        ]),
    );
    let written = std::time::Instant::now();
    ok(&[
        "import",
        s(&file),
        "--layer",
        "transfer_stations",
        "--store",
        &db.url,
    ]);
    for server in [&first, &second] {
        let mut seen = serde_json::Value::Null;
        for _ in 0..100 {
            let l: serde_json::Value = client
                .get(url(&server.base))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            seen = l["transfer_station"].clone();
            if seen["name"] == "新建转运站" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(seen["name"], "新建转运站", "{}: {seen}", server.base);
        assert!(seen["distance_m"].as_f64().unwrap() < 1.0);
        eprintln!(
            "{} saw the write {:?} after the import returned",
            server.base,
            written.elapsed()
        );
    }
    drop((first, second));
    db.drop_now().await.unwrap();
}

/// Signs `name` in at `base` and returns a client sending its token.
async fn client_of(base: &str, name: &str, password: &str) -> reqwest::Client {
    let login: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": name, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {login}"));
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

/// The addresses of the households `store` holds in `village`.
async fn addresses(store: &str, village: &str) -> BTreeMap<i64, String> {
    let st = gridgov_store::open(&store.parse().unwrap()).await.unwrap();
    let q = gridgov_store::Query {
        division: Some(village.parse().unwrap()),
        ..gridgov_store::Query::default()
    };
    st.query(Layer::Households, &q)
        .await
        .unwrap()
        .into_iter()
        .map(|f| {
            (
                f.id.unwrap().0,
                f.text("address").unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Crash safety on one store: 20 times, a server takes acknowledged writes and an import
/// runs beside it, and both are killed (`SIGKILL`) at a random moment (seeded). Afterwards
/// every acknowledged write is there as acknowledged, and each import is there whole or not
/// at all.
/// The crash rounds on `store`, served from `served` (the same store, or on PostGIS the
/// server role's URL).
async fn crash_rounds(store: &str, served: &str, dir: &Path) {
    use rand_chacha::rand_core::{RngCore, SeedableRng};
    use std::io::Write as _;
    const IMPORTED: usize = 1500;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20);
    let (name, password) = ("crash-admin", "a long enough crash test password");
    let mut add = Command::new(env!("CARGO_BIN_EXE_gridgov"))
        .args(["user", "add", name, "--role", "county_admin"])
        .args([
            "--scope",
            "520526000000",
            "--password-stdin",
            "--store",
            store,
        ])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    assert!(add.wait().unwrap().success());
    // A village and a point inside it.
    let st = gridgov_store::open(&store.parse().unwrap()).await.unwrap();
    let village = st
        .query(Layer::Villages, &gridgov_store::Query::default())
        .await
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    drop(st);
    let code = village.text("code").unwrap().to_owned();
    let inside = {
        use geo::InteriorPoint;
        village.geometry.as_ref().unwrap().interior_point().unwrap()
    };
    let write_import = |name: &str| {
        let file = dir.join(format!("{name}.geojson"));
        let features: Vec<serde_json::Value> = (0..IMPORTED)
            .map(|i| {
                serde_json::json!({"type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [inside.x(), inside.y()]},
                    "properties": {"division_code": code, "address": format!("{name}-{i}")}})
            })
            .collect();
        write_geojson(&file, &serde_json::Value::Array(features));
        file
    };
    // How long a whole import takes on this machine now: the kills below fall anywhere from
    // the start of an import to a while after its end, so some rounds catch it running and
    // some do not, however fast or loaded the machine is.
    let calibration = write_import("calibration");
    let started = std::time::Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_gridgov"))
        .args([
            "import",
            s(&calibration),
            "--layer",
            "households",
            "--store",
            store,
        ])
        .env("CI", "true")
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let import_ms = u64::try_from(started.elapsed().as_millis())
        .unwrap()
        .max(20);
    let mut acked: BTreeMap<i64, String> = BTreeMap::new();
    let mut whole = 0;
    for round in 0..20 {
        // An import of IMPORTED households, started now and killed at a random moment.
        let file = write_import(&format!("import-{round}"));
        let server = start_server(served).await;
        let import_started = std::time::Instant::now();
        let mut import = Command::new(env!("CARGO_BIN_EXE_gridgov"))
            .args([
                "import",
                s(&file),
                "--layer",
                "households",
                "--store",
                store,
            ])
            .env("CI", "true")
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let client = client_of(&server.base, name, password).await;
        let url = format!("{}/api/v1/layers/households/items", server.base);
        let code_w = code.clone();
        let writer = tokio::spawn(async move {
            let code = code_w;
            let mut done = Vec::new();
            for n in 0.. {
                let address = format!("write-{round}-{n}");
                let body = serde_json::json!({"type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [inside.x(), inside.y()]},
                    "properties": {"division_code": code, "address": address}});
                let Ok(r) = client
                    .post(&url)
                    .header("content-type", "application/geo+json")
                    .body(body.to_string())
                    .send()
                    .await
                else {
                    break;
                };
                if r.status() != 201 {
                    break;
                }
                let Ok(f) = r.json::<serde_json::Value>().await else {
                    break;
                };
                done.push((f["id"].as_i64().unwrap(), address));
            }
            done
        });
        // The server is killed 20-420 ms after the import starts and, independently, the import
        // between its start and three times what a whole one takes alone (with the server writing
        // beside it, it takes longer); whichever comes first first.
        let server_at = std::time::Duration::from_millis(20 + u64::from(rng.next_u32() % 400));
        let import_at = std::time::Duration::from_millis(rng.next_u64() % (import_ms * 3));
        let mut server = Some(server);
        let mut running = Some(&mut import);
        let mut kills = [(server_at, true), (import_at, false)];
        kills.sort_by_key(|k| k.0);
        for (at, is_server) in kills {
            if let Some(left) = at.checked_sub(import_started.elapsed()) {
                tokio::time::sleep(left).await;
            }
            if is_server {
                if let Some(mut server) = server.take() {
                    server.child.kill().unwrap();
                    server.child.wait().unwrap();
                }
            } else if let Some(import) = running.take() {
                let _ = import.kill();
                import.wait().unwrap();
            }
        }
        acked.extend(writer.await.unwrap());
        let stored = addresses(store, &code).await;
        let imported = stored
            .values()
            .filter(|a| a.starts_with(&format!("import-{round}-")))
            .count();
        assert!(
            imported == 0 || imported == IMPORTED,
            "round {round}: {imported} of {IMPORTED} imported households are stored"
        );
        whole += usize::from(imported == IMPORTED);
        for (id, address) in &acked {
            assert_eq!(
                stored.get(id),
                Some(address),
                "round {round}: acknowledged write {id} ({address}) is lost"
            );
        }
    }
    eprintln!(
        "crash test on {store}: {} writes acknowledged, {whole} of 20 imports complete, the others absent (a whole import takes {import_ms} ms)",
        acked.len()
    );
    assert!(
        acked.len() >= 20,
        "too few writes were acknowledged ({}) for the test to mean anything",
        acked.len()
    );
    // Kills that always came before an import began, or always after it ended, would test
    // nothing about imports.
    assert!(
        (1..20).contains(&whole),
        "{whole} of 20 imports complete: the kills missed the imports"
    );
}

#[tokio::test]
async fn killing_the_server_and_imports_loses_nothing_acknowledged_on_geopackage() {
    use sqlx::Connection as _;
    let dir = tempfile::tempdir().unwrap();
    let store = divisions_only(dir.path()).await;
    crash_rounds(s(&store), s(&store), dir.path()).await;
    let mut db = sqlx::SqliteConnection::connect(&format!("sqlite://{}", store.display()))
        .await
        .unwrap();
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    let ogr = Command::new("ogrinfo")
        .args(["-ro", "-so", "-q", s(&store)])
        .output()
        .unwrap();
    assert!(ogr.status.success());
}

#[tokio::test]
async fn killing_the_server_and_imports_loses_nothing_acknowledged_on_postgis() {
    let dir = tempfile::tempdir().unwrap();
    let divisions = divisions_only(dir.path()).await;
    let db = TempDatabase::create("crash").await.unwrap();
    ok(&["load", "--from", s(&divisions), "--to", &db.url]);
    crash_rounds(&db.url, &db.app_url(), dir.path()).await;
    db.drop_now().await.unwrap();
}
