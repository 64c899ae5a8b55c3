//! `/api/v1/hotspots`: the GeoJSON map (shape and values), the vector-tile layer, the region
//! sums, parameter errors, and scope (each user's map is made of the disputes they may read),
//! on the GeoPackage and on PostGIS.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::NaiveDate;
use geo::{point, polygon, Geometry, MultiPolygon};
use gridgov_model::{Feature, FeatureId, Layer, Role};
use gridgov_store::gpkg::GpkgStore;
use gridgov_store::testing::TempDatabase;
use gridgov_store::{write, Op, Store};
use gridgov_tiles::{decode, AttrValue, TileId};
use h3o::{CellIndex, LatLng, Resolution};
use http_body_util::BodyExt;
use serde_json::Value as J;
use tower::ServiceExt;

const COUNTY: &str = "520526000000";
const TOWNSHIP: &str = "520526101000";
const A: &str = "520526101201";
const B: &str = "520526101202";

fn multi(x0: f64, y0: f64, x1: f64, y1: f64) -> Geometry<f64> {
    Geometry::MultiPolygon(MultiPolygon(vec![polygon![
        (x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)
    ]]))
}

fn with_id(mut f: Feature, id: i64) -> Feature {
    f.id = Some(FeatureId(id));
    f
}

/// A placed dispute.
#[derive(Debug, Clone)]
struct Dispute {
    village: &'static str,
    lon: f64,
    lat: f64,
    opened: NaiveDate,
    category: &'static str,
    level: &'static str,
}

impl Dispute {
    fn cell(&self) -> CellIndex {
        LatLng::new(self.lat, self.lon)
            .unwrap()
            .to_cell(Resolution::Eight)
    }

    fn grid(&self) -> String {
        let g = if self.village == A {
            if self.lon < 104.25 {
                1
            } else {
                2
            }
        } else if self.lon < 104.75 {
            1
        } else {
            2
        };
        format!("{}-G0{g}", self.village)
    }
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The disputes: a cluster of 20 in village A (March 2025, land acquisition, about 1 km
/// across at (104.125, 26.5)); 40 single disputes along latitude 26.2 over both villages,
/// one a month through 2025; and two disputes 100 m apart on either side of the villages'
/// border, in one cell.
fn disputes() -> Vec<Dispute> {
    let mut out = Vec::new();
    for i in 0..20 {
        out.push(Dispute {
            village: A,
            lon: 104.12 + f64::from(i % 4) * 0.003,
            lat: 26.495 + f64::from(i / 4) * 0.003,
            opened: day(2025, 3, 1 + i as u32),
            category: "land_acquisition",
            level: if i % 2 == 0 { "village" } else { "township" },
        });
    }
    for i in 0..40 {
        let lon = 104.01 + f64::from(i) * 0.0245;
        out.push(Dispute {
            village: if lon < 104.5 { A } else { B },
            lon,
            lat: 26.2,
            opened: day(2025, 1 + (i % 12) as u32, 10),
            category: if i % 2 == 0 { "labour" } else { "other" },
            level: "village",
        });
    }
    for (village, lon) in [(A, 104.4995), (B, 104.5005)] {
        out.push(Dispute {
            village,
            lon,
            lat: 26.8,
            opened: day(2025, 6, 1),
            category: "other",
            level: "county",
        });
    }
    out
}

/// The county, township, villages A (west) and B (east), two grids each, and the disputes.
fn county() -> Vec<Vec<Op>> {
    let d = |s: &str| s.parse().unwrap();
    let plan_day = day(2024, 1, 1);
    let mut divisions = vec![
        Op::Insert(
            Layer::Counties,
            with_id(
                Feature::new(d(COUNTY), Some(multi(104.0, 26.0, 105.0, 27.0)))
                    .with("code", COUNTY)
                    .with("name", "威宁县"),
                1,
            ),
        ),
        Op::Insert(
            Layer::Townships,
            with_id(
                Feature::new(d(TOWNSHIP), Some(multi(104.0, 26.0, 105.0, 27.0)))
                    .with("code", TOWNSHIP)
                    .with("name", "草海镇"),
                1,
            ),
        ),
        Op::Insert(
            Layer::GridPlans,
            with_id(
                Feature::new(d(TOWNSHIP), None)
                    .with("name", "方案")
                    .with("status", "effective")
                    .with("created_on", plan_day)
                    .with("effective_from", plan_day),
                1,
            ),
        ),
    ];
    let mut grid_id = 0;
    for (vi, (village, name)) in [(A, "石门村"), (B, "龙街村")].into_iter().enumerate() {
        let x0 = 104.0 + 0.5 * vi as f64;
        divisions.push(Op::Insert(
            Layer::Villages,
            with_id(
                Feature::new(d(village), Some(multi(x0, 26.0, x0 + 0.5, 27.0)))
                    .with("code", village)
                    .with("name", name),
                vi as i64 + 1,
            ),
        ));
        for gi in 0..2 {
            grid_id += 1;
            let gx = x0 + 0.25 * f64::from(gi);
            let code = format!("{village}-G0{}", gi + 1);
            divisions.push(Op::Insert(
                Layer::Grids,
                with_id(
                    Feature::new(d(village), Some(multi(gx, 26.0, gx + 0.25, 27.0)))
                        .with("code", code.as_str())
                        .with("name", format!("网格{}", gi + 1))
                        .with("plan_id", 1_i64)
                        .with("worker_name", "李四")
                        .with("worker_phone", "13900000000"),
                    grid_id,
                ),
            ));
        }
    }
    let disputes = disputes()
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            Op::Insert(
                Layer::Disputes,
                with_id(
                    Feature::new(d(p.village), Some(point!(x: p.lon, y: p.lat).into()))
                        .with("category", p.category)
                        .with("channel", "people")
                        .with("level", p.level)
                        .with("status", "mediating")
                        .with("opened_on", p.opened),
                    i as i64 + 1,
                ),
            )
        })
        .collect();
    vec![divisions, disputes]
}

async fn send(app: &axum::Router, token: &str, uri: &str) -> (StatusCode, String, Vec<u8>) {
    send_with(app, token, uri, &[]).await
}

async fn send_with(
    app: &axum::Router,
    token: &str,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, String, Vec<u8>) {
    let mut req = Request::get(uri).header("authorization", format!("Bearer {token}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = r.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, ct, bytes)
}

async fn json(app: &axum::Router, token: &str, uri: &str) -> J {
    let (status, ct, body) = send(app, token, uri).await;
    let text = String::from_utf8_lossy(&body);
    assert_eq!(status, StatusCode::OK, "{uri}: {text}");
    assert!(
        ct.starts_with("application/geo+json") || ct.starts_with("application/json"),
        "{uri}: {ct}"
    );
    serde_json::from_slice(&body).unwrap()
}

/// Cell → count of a map.
fn counts(fc: &J) -> BTreeMap<String, u64> {
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["properties"]["cell"].as_str().unwrap().to_owned(),
                f["properties"]["count"].as_u64().unwrap(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// Cell → count of the disputes `keep` selects.
fn expected(keep: impl Fn(&Dispute) -> bool) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for d in disputes().iter().filter(|d| keep(d)) {
        *out.entry(d.cell().to_string()).or_insert(0) += 1;
    }
    out
}

/// The county written through `store` and served from `served`; the checks of every test
/// below but the parameter errors, on one backend.
async fn scenario(store: Arc<dyn Store>, served: Arc<dyn Store>) {
    for ops in county() {
        write(store.as_ref(), ops).await.unwrap();
    }
    let app = common::router_over(served, &std::env::temp_dir()).await;
    let admin = common::sign_in(&app, store.as_ref(), "admin", Role::CountyAdmin, COUNTY).await;
    let a = common::sign_in(&app, store.as_ref(), "officer_a", Role::VillageOfficer, A).await;
    let b = common::sign_in(&app, store.as_ref(), "officer_b", Role::VillageOfficer, B).await;
    let grid = common::sign_in(
        &app,
        store.as_ref(),
        "worker_a2",
        Role::GridWorker,
        &format!("{A}-G02"),
    )
    .await;

    geojson_shape_and_values(&app, &admin).await;
    methods(&app, &admin).await;
    scope(&app, &admin, &a, &b, &grid).await;
    regions(&app, &admin, &a).await;
    tiles(&app, &admin, &b).await;
    follows_writes(&app, store.as_ref(), &admin).await;
}

async fn geojson_shape_and_values(app: &axum::Router, admin: &str) {
    let fc = json(app, admin, "/api/v1/hotspots?res=8&from=2025-01&to=2025-12").await;
    assert_eq!(fc["type"], "FeatureCollection");
    let features = fc["features"].as_array().unwrap();
    let all = disputes();
    assert_eq!(fc["analysis"]["events"], all.len());
    assert_eq!(fc["analysis"]["resolution"], 8);
    assert_eq!(fc["analysis"]["method"], "gistar");
    assert_eq!(fc["analysis"]["cells"], features.len());
    // Every cell of the study area: the cells of the disputes and their neighbours.
    let area: BTreeSet<String> = all
        .iter()
        .flat_map(|d| d.cell().grid_disk::<Vec<_>>(1))
        .map(|c| c.to_string())
        .collect();
    let ids: BTreeSet<String> = features
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, area);
    assert_eq!(counts(&fc), expected(|_| true));
    for f in features {
        assert_eq!(f["type"], "Feature");
        assert_eq!(f["geometry"]["type"], "Polygon");
        let ring = f["geometry"]["coordinates"][0].as_array().unwrap();
        assert!(ring.len() >= 7);
        assert_eq!(ring.first(), ring.last());
        let p = &f["properties"];
        assert_eq!(p["cell"], f["id"]);
        let cell: CellIndex = p["cell"].as_str().unwrap().parse().unwrap();
        let centre = LatLng::from(cell);
        let (lon, lat) = (ring[0][0].as_f64().unwrap(), ring[0][1].as_f64().unwrap());
        assert!((lon - centre.lng()).abs() < 0.01 && (lat - centre.lat()).abs() < 0.01);
        for key in ["p", "p_exact", "p_sim"] {
            let v = p[key].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{key} {v}");
        }
        assert!(p["z"].as_f64().unwrap().is_finite());
        let bin = p["gi_bin"].as_i64().unwrap();
        assert!((-3..=3).contains(&bin));
        let class = p["class"].as_str().unwrap();
        assert_eq!(class == "not_significant", bin == 0, "{class} {bin}");
        assert!(p.get("moran_i").is_none() && p.get("pattern").is_none());
    }
    // The cluster's cells are hot at 95 % (with FDR), the lone border disputes are not.
    let cluster: BTreeSet<String> = all[..20].iter().map(|d| d.cell().to_string()).collect();
    let hot: BTreeSet<String> = features
        .iter()
        .filter(|f| f["properties"]["gi_bin"].as_i64().unwrap() >= 2)
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        !hot.is_empty()
            && hot.iter().all(|c| {
                let c: CellIndex = c.parse().unwrap();
                cluster
                    .iter()
                    .any(|k| k.parse::<CellIndex>().unwrap().grid_distance(c).unwrap() <= 1)
            }),
        "hot {hot:?}"
    );
    assert!(cluster.iter().any(|c| hot.contains(c)));
    assert_eq!(fc["analysis"]["hot_cells"], hot.len());

    // Filters: a category, a window (`to` inclusive).
    let fc = json(app, admin, "/api/v1/hotspots?category=land_acquisition").await;
    assert_eq!(fc["analysis"]["events"], 20);
    assert_eq!(counts(&fc), expected(|d| d.category == "land_acquisition"));
    let fc = json(app, admin, "/api/v1/hotspots?from=2025-06-01&to=2025-07").await;
    let window = |d: &Dispute| d.opened >= day(2025, 6, 1) && d.opened < day(2025, 8, 1);
    assert_eq!(
        fc["analysis"]["events"],
        all.iter().filter(|d| window(d)).count()
    );
    assert_eq!(counts(&fc), expected(window));
    let fc = json(app, admin, "/api/v1/hotspots?from=2030-01").await;
    assert_eq!(fc["features"].as_array().unwrap().len(), 0);
    // The same seed, the same map; permutations off, no pseudo p-values.
    let uri = "/api/v1/hotspots?seed=7&permutations=99";
    assert_eq!(json(app, admin, uri).await, json(app, admin, uri).await);
    let fc = json(app, admin, "/api/v1/hotspots?permutations=0").await;
    assert!(fc["features"][0]["properties"].get("p_sim").is_none());
}

async fn methods(app: &axum::Router, admin: &str) {
    // Without FDR: BH over some 400 cells asks for pseudo p-values below 1/200.
    let fc = json(
        app,
        admin,
        "/api/v1/hotspots?method=moran&permutations=199&fdr=false",
    )
    .await;
    let props: Vec<&J> = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["properties"])
        .collect();
    for p in &props {
        let q = p["quadrant"].as_str().unwrap();
        assert!(["HH", "LL", "HL", "LH"].contains(&q));
        let cluster = p["cluster"].as_str().unwrap();
        assert!(cluster == q || cluster == "ns");
        assert_eq!(p["moran_significant"].as_bool().unwrap(), cluster != "ns");
        assert!(p["moran_i"].as_f64().is_some() && p["moran_p_sim"].as_f64().is_some());
    }
    // The cluster's busiest cell is a high-high cluster.
    let busiest = props
        .iter()
        .max_by_key(|p| p["count"].as_u64().unwrap())
        .unwrap();
    assert_eq!(busiest["cluster"], "HH", "{busiest}");

    let fc = json(
        app,
        admin,
        "/api/v1/hotspots?method=emerging&slice=quarter&from=2025-01&to=2025-12",
    )
    .await;
    assert_eq!(fc["analysis"]["slice"], "quarter");
    assert_eq!(fc["analysis"]["slices"].as_array().unwrap().len(), 4);
    for f in fc["features"].as_array().unwrap() {
        let p = &f["properties"];
        assert_eq!(p["states"].as_str().unwrap().len(), 4);
        assert!(p["pattern"].as_str().is_some() && p["pattern_label"].as_str().is_some());
    }
    // The cluster (March) is hot in the first quarter only, and is history by December.
    let busiest = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|f| f["properties"]["count"].as_u64().unwrap())
        .unwrap();
    assert_eq!(busiest["properties"]["states"], "H...", "{busiest}");
}

async fn scope(app: &axum::Router, admin: &str, a: &str, b: &str, grid: &str) {
    let uri = "/api/v1/hotspots";
    let everyone = counts(&json(app, admin, uri).await);
    let of_a = counts(&json(app, a, uri).await);
    let of_b = counts(&json(app, b, uri).await);
    let of_grid = counts(&json(app, grid, uri).await);
    // Each map counts exactly the user's own disputes, cell by cell.
    assert_eq!(everyone, expected(|_| true));
    assert_eq!(of_a, expected(|d| d.village == A));
    assert_eq!(of_b, expected(|d| d.village == B));
    assert_eq!(of_grid, expected(|d| d.grid() == format!("{A}-G02")));
    assert_ne!(of_a, of_b);
    // The border cell holds one dispute of each village: each officer sees only theirs.
    let border = disputes()[60].cell().to_string();
    assert_eq!(disputes()[61].cell().to_string(), border);
    assert_eq!(everyone[&border], 2);
    assert_eq!((of_a[&border], of_b[&border]), (1, 1));
    // No cell of B's map lies beyond the ring around B's own disputes.
    let fc = json(app, b, uri).await;
    let ring: BTreeSet<String> = disputes()
        .iter()
        .filter(|d| d.village == B)
        .flat_map(|d| d.cell().grid_disk::<Vec<_>>(1))
        .map(|c| c.to_string())
        .collect();
    for f in fc["features"].as_array().unwrap() {
        assert!(ring.contains(f["id"].as_str().unwrap()));
    }
    assert_eq!(fc["analysis"]["hot_cells"], 0, "B has no cluster");
}

async fn regions(app: &axum::Router, admin: &str, a: &str) {
    let r = json(app, admin, "/api/v1/hotspots/regions?by=village").await;
    assert_eq!(r["by"], "village");
    let list = r["regions"].as_array().unwrap();
    let codes: Vec<&str> = list.iter().map(|x| x["code"].as_str().unwrap()).collect();
    assert_eq!(codes, [A, B]);
    let all = disputes();
    for x in list {
        let mine: Vec<&Dispute> = all.iter().filter(|d| d.village == x["code"]).collect();
        assert_eq!(x["cases"], mine.len());
        let cells: BTreeSet<CellIndex> = mine.iter().map(|d| d.cell()).collect();
        assert_eq!(x["cells"], cells.len());
        let e = &x["escalation"];
        let level = |l: &str| mine.iter().filter(|d| d.level == l).count();
        assert_eq!(e["village"], level("village"));
        assert_eq!(e["township"], level("township"));
        assert_eq!(e["county"], level("county"));
        assert_eq!(e["escalated"], level("township") + level("county"));
        assert_eq!(e["open"], mine.len());
    }
    assert_eq!(list[0]["name"], "石门村");
    assert!(list[0]["hot_cells"].as_u64().unwrap() >= 1);
    assert!(list[0]["cases_in_hot_cells"].as_u64().unwrap() >= 10);
    assert_eq!(list[1]["hot_cells"], 0);
    assert_eq!(r["unassigned"], 0);

    let r = json(app, admin, "/api/v1/hotspots/regions?by=grid").await;
    let by_grid: BTreeMap<String, u64> = r["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["code"].as_str().unwrap().to_owned(),
                x["cases"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut want = BTreeMap::new();
    for d in &all {
        *want.entry(d.grid()).or_insert(0) += 1;
    }
    assert_eq!(by_grid, want);
    assert_eq!(r["regions"][0]["name"], "网格1");

    // An officer's regions are their own.
    let r = json(app, a, "/api/v1/hotspots/regions").await;
    let codes: Vec<&str> = r["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, [A]);
}

async fn tiles(app: &axum::Router, admin: &str, officer_b: &str) {
    let cluster = disputes()[0].cell();
    let centre = LatLng::from(cluster);
    let zoom = 12;
    let n = f64::from(1u32 << zoom);
    let col = ((centre.lng() + 180.0) / 360.0 * n).floor() as u32;
    let lat = centre.lat().to_radians();
    let row = ((1.0 - lat.tan().asinh() / std::f64::consts::PI) / 2.0 * n).floor() as u32;
    let id = TileId::new(zoom, col, row).unwrap();
    let uri = format!("/api/v1/hotspots/tiles/{id}.mvt?from=2025-01&to=2025-12");
    let (status, ct, body) = send(app, admin, &uri).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct, "application/vnd.mapbox-vector-tile");
    let tile = decode(&body).unwrap();
    assert_eq!(tile.layers.len(), 1);
    let layer = tile.layer("hotspots").unwrap();
    let ids: BTreeSet<u64> = layer.features.iter().map(|f| f.id.unwrap()).collect();
    assert!(ids.contains(&u64::from(cluster)), "{id}");
    let f = layer
        .features
        .iter()
        .find(|f| f.id == Some(u64::from(cluster)))
        .unwrap();
    assert_eq!(
        f.attributes.get("cell"),
        Some(&AttrValue::Str(cluster.to_string()))
    );
    let want = expected(|_| true)[&cluster.to_string()];
    assert_eq!(
        f.attributes.get("count"),
        Some(&AttrValue::Int(i128::from(want)))
    );
    assert!(matches!(f.attributes.get("z"), Some(AttrValue::Double(z)) if *z > 0.0));
    assert!(f.ring_areas()[0] > 0);
    // The same attributes as the GeoJSON.
    let fc = json(app, admin, "/api/v1/hotspots?from=2025-01&to=2025-12").await;
    let same = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == cluster.to_string())
        .unwrap();
    assert_eq!(
        f.attributes.get("gi_bin"),
        Some(&AttrValue::Int(i128::from(
            same["properties"]["gi_bin"].as_i64().unwrap()
        )))
    );
    // ETag and 304.
    let r = app
        .clone()
        .oneshot(
            Request::get(&uri)
                .header("authorization", format!("Bearer {admin}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(r.headers()["cache-control"], "no-cache");
    let (status, _, body) = send_with(app, admin, &uri, &[("if-none-match", &etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    // B's officer: only cells of the ring around B's disputes, none of A's cluster.
    let ring: BTreeSet<u64> = disputes()
        .iter()
        .filter(|d| d.village == B)
        .flat_map(|d| d.cell().grid_disk::<Vec<_>>(1))
        .map(u64::from)
        .collect();
    let (status, _, body) = send(app, officer_b, &uri).await;
    assert_eq!(status, StatusCode::OK);
    let tile = decode(&body).unwrap();
    for f in tile.layers.iter().flat_map(|l| &l.features) {
        assert!(ring.contains(&f.id.unwrap()));
    }
    assert!(!tile
        .layers
        .iter()
        .flat_map(|l| &l.features)
        .any(|f| f.id == Some(u64::from(cluster))));
    // Far from any dispute: an empty tile.
    let (status, _, body) = send(app, admin, "/api/v1/hotspots/tiles/12/0/0.mvt").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.is_empty());
}

/// A new dispute shows on the next map (the cache never serves a map of older data).
async fn follows_writes(app: &axum::Router, store: &dyn Store, admin: &str) {
    let uri = "/api/v1/hotspots?category=medical";
    let before = json(app, admin, uri).await;
    assert_eq!(before["analysis"]["events"], 0);
    write(
        store,
        vec![Op::Insert(
            Layer::Disputes,
            Feature::new(A.parse().unwrap(), Some(point!(x: 104.3, y: 26.6).into()))
                .with("category", "medical")
                .with("channel", "people")
                .with("level", "village")
                .with("status", "mediating")
                .with("opened_on", day(2025, 9, 1)),
        )],
    )
    .await
    .unwrap();
    // The live index follows the store's change feed.
    for _ in 0..200 {
        let now = json(app, admin, uri).await;
        if now["analysis"]["events"] == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the new dispute never showed in the map");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hotspots_on_the_geopackage() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(GpkgStore::open(&dir.path().join("h.gpkg")).await.unwrap());
    scenario(store.clone(), store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hotspots_on_postgis() {
    let db = TempDatabase::create("hotspots").await.unwrap();
    let (store, served) = common::postgis_stores(&db).await;
    scenario(store, served).await;
    db.drop_now().await.unwrap();
}

#[tokio::test]
async fn bad_parameters_are_400_problems_that_name_them() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(GpkgStore::open(&dir.path().join("p.gpkg")).await.unwrap());
    for ops in county() {
        write(store.as_ref(), ops).await.unwrap();
    }
    let app = common::router_over(store.clone(), dir.path()).await;
    let admin = common::sign_in(&app, store.as_ref(), "admin", Role::CountyAdmin, COUNTY).await;
    for (query, name) in [
        ("res=5", "res"),
        ("res=11", "res"),
        ("res=eight", "res"),
        ("from=2025", "from"),
        ("from=2025-13", "from"),
        ("to=2025-02-30", "to"),
        ("from=2025-06&to=2025-05", "to"),
        ("category=weather", "category"),
        ("channel=email", "channel"),
        ("method=kriging", "method"),
        ("method=emerging&slice=week", "slice"),
        ("permutations=10000", "permutations"),
        ("permutations=many", "permutations"),
        ("method=moran&permutations=0", "permutations"),
        ("seed=-1", "seed"),
        ("k=0", "k"),
        ("k=9", "k"),
        ("fdr=maybe", "fdr"),
        ("inference=bayes", "inference"),
        // One month is one slice: the emerging analysis needs two.
        ("method=emerging&from=2025-03&to=2025-03", "from"),
    ] {
        for path in [
            "/api/v1/hotspots",
            "/api/v1/hotspots/tiles/10/826/435.mvt",
            "/api/v1/hotspots/regions",
        ] {
            let uri = format!("{path}?{query}");
            let (status, ct, body) = send(&app, &admin, &uri).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
            assert_eq!(ct, "application/problem+json", "{uri}");
            let problem: J = serde_json::from_slice(&body).unwrap();
            assert!(
                problem["detail"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("parameter '{name}'")),
                "{uri}: {problem}"
            );
        }
    }
    let (status, ct, _) = send(&app, &admin, "/api/v1/hotspots/regions?by=township").await;
    assert_eq!(
        (status, ct.as_str()),
        (StatusCode::BAD_REQUEST, "application/problem+json")
    );
    for (uri, want) in [
        (
            "/api/v1/hotspots/tiles/10/2000/1.mvt",
            StatusCode::BAD_REQUEST,
        ),
        ("/api/v1/hotspots/tiles/x/1/1.mvt", StatusCode::BAD_REQUEST),
        ("/api/v1/hotspots/tiles/10/1/1.png", StatusCode::NOT_FOUND),
    ] {
        let (status, ct, _) = send(&app, &admin, uri).await;
        assert_eq!(
            (status, ct.as_str()),
            (want, "application/problem+json"),
            "{uri}"
        );
    }
    // Without a session: 401, like every route.
    let r = app
        .clone()
        .oneshot(
            Request::get("/api/v1/hotspots")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A role that does not read disputes is refused (403), whatever it asks.
    for (i, role) in Role::ALL
        .iter()
        .filter(|r| !r.reads(Layer::Disputes))
        .enumerate()
    {
        let scope = match role {
            Role::TownshipOfficer => TOWNSHIP.to_owned(),
            Role::VillageOfficer => A.to_owned(),
            Role::GridWorker => format!("{A}-G01"),
            _ => COUNTY.to_owned(),
        };
        let token = common::sign_in(&app, store.as_ref(), &format!("r{i}"), *role, &scope).await;
        let (status, _, _) = send(&app, &token, "/api/v1/hotspots").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
    }
}
