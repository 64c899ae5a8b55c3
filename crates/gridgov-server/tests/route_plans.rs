//! Route plans over HTTP on one township of the demo county (its villages, households,
//! collection points, stations, incinerator, vehicles and the roads around it): a day planned
//! in the background and polled until done, its routes as GeoJSON with their schedules, every
//! due point on a route or listed with its reason, the routes in the vector tiles, bad bodies
//! named, scope, the items API kept out, and a plan deleted with its routes. On both stores
//! (PostGIS as the row-security role).
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use geo::{BoundingRect, Intersects};
use gridgov_model::{Dataset, DivisionCode, Feature, Layer, Role};
use gridgov_server::{router, AppState, LiveIndex};
use gridgov_store::gpkg::GpkgStore;
use gridgov_store::{write, Op, Store};
use http_body_util::BodyExt;
use serde_json::{json, Value as J};
use tower::ServiceExt;

mod common;
use common::{as_user, postgis_stores, request, sign_in};

const COUNTY: &str = "520526000000";
const TOWNSHIP: &str = "520526103000";

fn code(s: &str) -> DivisionCode {
    s.parse().unwrap()
}

fn demo() -> &'static Dataset {
    static DEMO: OnceLock<Dataset> = OnceLock::new();
    DEMO.get_or_init(|| gridgov_demo::generate(42).dataset)
}

/// The demo county cut to one township, with its sanitation and the roads around it.
fn township() -> Vec<Op> {
    let d = demo();
    let t = code(TOWNSHIP);
    let county = code(COUNTY);
    let layer = |l: Layer| d.layers[&l].iter();
    let bbox = layer(Layer::Townships)
        .find(|f| f.division == t)
        .unwrap()
        .geometry
        .as_ref()
        .unwrap()
        .bounding_rect()
        .unwrap();
    let mut ops: Vec<Op> = layer(Layer::Counties)
        .map(|f| Op::Insert(Layer::Counties, f.clone()))
        .collect();
    for l in [
        Layer::Townships,
        Layer::Villages,
        Layer::Households,
        Layer::TransferStations,
        Layer::Incinerators,
        Layer::CollectionPoints,
        Layer::Vehicles,
    ] {
        ops.extend(
            layer(l)
                .filter(|f| t.contains(&f.division))
                .map(|f| Op::Insert(l, f.clone())),
        );
    }
    for f in layer(Layer::Roads) {
        let near = f
            .geometry
            .as_ref()
            .and_then(BoundingRect::bounding_rect)
            .is_some_and(|r| r.intersects(&bbox));
        if near {
            let mut f = f.clone();
            f.id = None;
            if !(f.division == county || t.contains(&f.division)) {
                f.division = county;
            }
            ops.push(Op::Insert(Layer::Roads, f));
        }
    }
    ops
}

fn post(uri: &str, body: &J) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, J) {
    let (s, _, b) = request(app, Request::get(uri).body(Body::empty()).unwrap()).await;
    (s, b)
}

async fn bytes(app: &axum::Router, uri: &str) -> (StatusCode, Vec<u8>) {
    let r = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = r.status();
    (
        status,
        r.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

/// Polls a plan until its job ends; the answer.
async fn finished(app: &axum::Router, id: i64) -> J {
    let mut progress = Vec::new();
    for _ in 0..3000 {
        let (s, p) = get(app, &format!("/api/v1/route-plans/{id}")).await;
        assert_eq!(s, StatusCode::OK, "{p}");
        progress.push(p["plan"]["progress"].as_i64().unwrap_or(-1));
        if p["plan"]["job"] != "running" {
            assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
            return p;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("route plan {id} still running after 5 minutes");
}

async fn story(serve: Arc<dyn Store>, owner: Arc<dyn Store>) {
    let web = tempfile::tempdir().unwrap();
    let index = LiveIndex::start(serve.clone()).await.unwrap();
    let state = AppState::new(serve, "test", web.path().to_path_buf(), index, 1 << 20);
    let app = router(state);
    let township = as_user(
        app.clone(),
        &sign_in(&app, owner.as_ref(), "to", Role::TownshipOfficer, TOWNSHIP).await,
    );
    let village = as_user(
        app.clone(),
        &sign_in(
            &app,
            owner.as_ref(),
            "vo",
            Role::VillageOfficer,
            "520526103001",
        )
        .await,
    );
    let neighbour = as_user(
        app.clone(),
        &sign_in(
            &app,
            owner.as_ref(),
            "no",
            Role::TownshipOfficer,
            "520526101000",
        )
        .await,
    );

    // Bad bodies: each fault named.
    for (body, field) in [
        (
            json!({"township": "5205261030", "date": "2026-12-01"}),
            "township",
        ),
        (
            json!({"township": "520526103001", "date": "2026-12-01"}),
            "township",
        ),
        (json!({"township": TOWNSHIP, "date": "1 Dec"}), "date"),
        (
            json!({"township": TOWNSHIP, "date": "2026-12-01", "seconds": 0}),
            "seconds",
        ),
        (
            json!({"township": TOWNSHIP, "date": "2026-12-01", "speed": 3}),
            "body",
        ),
    ] {
        let (s, _, p) = request(&township, post("/api/v1/route-plans", &body)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {p}");
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
    }
    // A township the county does not have.
    let admin = as_user(
        app.clone(),
        &sign_in(&app, owner.as_ref(), "ca", Role::CountyAdmin, COUNTY).await,
    );
    let none = json!({"township": "520526109000", "date": "2026-12-01"});
    let (s, _, p) = request(&admin, post("/api/v1/route-plans", &none)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(
        p["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("no township"),
        "{p}"
    );
    let ok = json!({"township": TOWNSHIP, "date": "2026-12-01", "seconds": 3, "seed": 5});
    // Another township's officer and a village officer may not plan this township.
    for who in [&neighbour, &village] {
        let (s, _, p) = request(who, post("/api/v1/route-plans", &ok)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{p}");
    }

    let (s, h, p) = request(&township, post("/api/v1/route-plans", &ok)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{p}");
    let id = p["id"].as_i64().unwrap();
    assert_eq!(
        h["location"].to_str().unwrap(),
        format!("/api/v1/route-plans/{id}")
    );
    assert_eq!(p["job"], "running");
    let answer = finished(&township, id).await;
    let plan = &answer["plan"];
    assert_eq!(plan["job"], "done", "{plan}");
    assert_eq!(plan["progress"], 100);
    assert_eq!(plan["service_date"], "2026-12-01");
    let summary = &plan["summary"];
    let routes = answer["features"].as_array().unwrap();
    assert_eq!(routes.len() as u64, summary["vehicles"].as_u64().unwrap());
    assert!(!routes.is_empty(), "{summary}");
    // Every due point is collected on one route or listed with a reason.
    let mut visited = BTreeSet::new();
    for r in routes {
        assert_eq!(r["geometry"]["type"], "LineString");
        let p = &r["properties"];
        assert_eq!(p["plan_id"], id);
        let schedule = p["schedule"].as_array().unwrap();
        assert_eq!(schedule[0]["kind"], "start");
        assert_eq!(schedule.last().unwrap()["kind"], "end");
        for stop in schedule {
            if stop["kind"] == "collect" {
                visited.insert(stop["point_id"].as_i64().unwrap());
            }
        }
        let shift_end = 6 * 3600 + 8 * 3600;
        assert!(schedule.last().unwrap()["arrival_s"].as_i64().unwrap() <= shift_end);
    }
    let unassigned: Vec<&J> = summary["unassigned"].as_array().unwrap().iter().collect();
    for u in &unassigned {
        assert!(u["why"].as_str().is_some_and(|w| !w.is_empty()), "{u}");
        assert!(!visited.contains(&u["id"].as_i64().unwrap()));
    }
    assert_eq!(
        visited.len() + unassigned.len(),
        summary["due_points"].as_u64().unwrap() as usize,
        "{summary}"
    );

    // The routes are in the vector tiles, with their plan.
    let any = &routes[0];
    let c = &any["geometry"]["coordinates"][1];
    let (lon, lat) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    let tile = gridgov_tiles::tiles_covering(
        geo::Rect::new(geo::coord! {x: lon, y: lat}, geo::coord! {x: lon, y: lat}),
        14,
    )
    .next()
    .unwrap();
    let (s, body) = bytes(
        &township,
        &format!("/tiles/routes/14/{}/{}.mvt", tile.x(), tile.y()),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let decoded = gridgov_tiles::decode(&body).unwrap();
    let layer = decoded.layer("routes").unwrap();
    assert!(layer.features.iter().any(
        |f| f.attributes.get("plan_id") == Some(&gridgov_tiles::AttrValue::Int(i128::from(id)))
    ));

    // Listed; another township's officer does not see it.
    let (s, list) = get(&township, "/api/v1/route-plans").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["plans"][0]["id"], id);
    let (s, _) = get(&neighbour, &format!("/api/v1/route-plans/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The items API does not make, change or remove routes.
    let route_id = any["id"].as_i64().unwrap();
    let mut props = any["properties"].clone();
    props["schedule"] = J::String(props["schedule"].to_string());
    let feature = json!({"type": "Feature", "geometry": any["geometry"], "properties": props});
    let (s, _, p) = request(&township, post("/api/v1/layers/routes/items", &feature)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    let (s, _, p) = request(
        &township,
        Request::delete(format!("/api/v1/layers/routes/items/{route_id}"))
            .header("if-match", "*")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(
        s == StatusCode::CONFLICT || s == StatusCode::PRECONDITION_FAILED,
        "{s}: {p}"
    );

    // Deleted with its routes.
    let (s, _, p) = request(
        &township,
        Request::delete(format!("/api/v1/route-plans/{id}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{p}");
    let (s, _) = get(&township, &format!("/api/v1/route-plans/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let left: Vec<Feature> = owner
        .query(Layer::Routes, &gridgov_store::Query::default())
        .await
        .unwrap();
    assert!(left.is_empty(), "{} routes left", left.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_plans_on_geopackage() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(GpkgStore::open(&dir.path().join("r.gpkg")).await.unwrap());
    write(store.as_ref(), township()).await.unwrap();
    story(store.clone(), store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_plans_on_postgis_under_row_security() {
    let db = gridgov_store::testing::TempDatabase::create("routes")
        .await
        .unwrap();
    let (owner, server) = postgis_stores(&db).await;
    write(owner.as_ref(), township()).await.unwrap();
    story(server, owner).await;
    db.drop_now().await.unwrap();
}

#[tokio::test]
async fn the_way_to_the_nearest_station_follows_the_roads() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(GpkgStore::open(&dir.path().join("w.gpkg")).await.unwrap());
    write(store.as_ref(), township()).await.unwrap();
    let index = LiveIndex::start(store.clone()).await.unwrap();
    let app = router(AppState::new(
        store.clone(),
        "test",
        dir.path().to_path_buf(),
        index,
        1 << 20,
    ));
    let token = sign_in(&app, store.as_ref(), "admin", Role::CountyAdmin, COUNTY).await;
    let app = as_user(app, &token);
    // Every vertex of the demo's roads, to the network's 1e-7° precision.
    let key = |x: f64, y: f64| ((x * 1e7).round() as i64, (y * 1e7).round() as i64);
    let mut road_vertices = std::collections::HashSet::new();
    for f in &demo().layers[&Layer::Roads] {
        if let Some(geo::Geometry::LineString(l)) = &f.geometry {
            road_vertices.extend(l.0.iter().map(|c| key(c.x, c.y)));
        }
    }
    // From a household of the township to the station the lookup names.
    let household = demo().layers[&Layer::Households]
        .iter()
        .find(|h| code(TOWNSHIP).contains(&h.division))
        .unwrap();
    let Some(geo::Geometry::Point(at)) = household.geometry else {
        panic!("a household is a point")
    };
    let q = format!("lon={}&lat={}&crs=wgs84", at.x(), at.y());
    let (s, found) = get(&app, &format!("/api/v1/lookup?{q}")).await;
    assert_eq!(s, StatusCode::OK, "{found}");
    let station = found["transfer_station"]["id"].as_i64().unwrap();
    let straight = found["transfer_station"]["distance_m"].as_f64().unwrap();
    let (s, way) = get(&app, &format!("/api/v1/way?{q}&station={station}")).await;
    assert_eq!(s, StatusCode::OK, "{way}");
    assert_eq!(way["geometry"]["type"], "LineString");
    let coords: Vec<(f64, f64)> = way["geometry"]["coordinates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c[0].as_f64().unwrap(), c[1].as_f64().unwrap()))
        .collect();
    assert!(coords.len() > 4, "{coords:?}");
    assert_eq!(
        coords[0],
        (at.x(), at.y()),
        "it starts where the worker stands"
    );
    let end = found["transfer_station"]["coordinates"].as_array().unwrap();
    assert_eq!(
        *coords.last().unwrap(),
        (end[0].as_f64().unwrap(), end[1].as_f64().unwrap()),
        "it ends at the station"
    );
    // Between the walks to and from the roads (and the points where it joins them), every
    // vertex is a vertex of a road.
    let off: Vec<&(f64, f64)> = coords[2..coords.len() - 2]
        .iter()
        .filter(|(x, y)| !road_vertices.contains(&key(*x, *y)))
        .collect();
    assert!(
        off.is_empty(),
        "{} vertices off the roads: {off:?}",
        off.len()
    );
    let p = &way["properties"];
    let total = p["distance_m"].as_f64().unwrap();
    assert!(
        total >= straight - 1.0,
        "{total} m by road, {straight} m straight"
    );
    assert!(p["duration_s"].as_u64().unwrap() > 0);
    assert_eq!(p["station"]["id"], station);

    // Bad requests are named; a station that is not there is not found.
    let (s, b) = get(&app, &format!("/api/v1/way?{q}&station=abc")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("station"));
    let (s, b) = get(&app, &format!("/api/v1/way?{q}&station=987654")).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    let (s, b) = get(
        &app,
        &format!(
            "/api/v1/way?lon={}&lat={}&station={station}",
            at.x(),
            at.y()
        ),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("crs"));
    let (s, b) = get(
        &app,
        &format!("/api/v1/way?lon=100.0&lat=30.0&crs=wgs84&station={station}"),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
}
