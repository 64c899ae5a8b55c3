//! The router in-process (`oneshot`), on a small GeoPackage store.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use geo::{point, polygon, Geometry, MultiPolygon};
use gridgov_model::{Feature, Layer};
use gridgov_server::{router, AppState};
use gridgov_store::gpkg::GpkgStore;
use gridgov_store::{write, Op};
use http_body_util::BodyExt;
use tower::ServiceExt;

fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Geometry<f64> {
    Geometry::MultiPolygon(MultiPolygon(vec![
        polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)],
    ]))
}

async fn app(dir: &std::path::Path) -> axum::Router {
    let store = GpkgStore::open(&dir.join("t.gpkg")).await.unwrap();
    let c = |s: &str| s.parse().unwrap();
    let mut ops = vec![
        Op::Insert(
            Layer::Counties,
            Feature::new(c("520526000000"), Some(square(104.0, 26.0, 105.0, 27.0)))
                .with("code", "520526000000")
                .with("name", "威宁县"),
        ),
        Op::Insert(
            Layer::Townships,
            Feature::new(c("520526101000"), Some(square(104.0, 26.0, 105.0, 27.0)))
                .with("code", "520526101000")
                .with("name", "草海镇"),
        ),
        Op::Insert(
            Layer::Villages,
            Feature::new(c("520526101201"), Some(square(104.0, 26.0, 105.0, 27.0)))
                .with("code", "520526101201")
                .with("name", "石门村"),
        ),
    ];
    for i in 0..30 {
        ops.push(Op::Insert(
            Layer::Households,
            Feature::new(
                c("520526101201"),
                Some(point!(x: 104.0 + f64::from(i) * 0.03, y: 26.5).into()),
            )
            .with("address", format!("{i}号")),
        ));
    }
    write(&store, ops).await.unwrap();
    router(AppState {
        store: Arc::new(store),
        store_kind: "geopackage",
        web_dir: dir.to_path_buf(),
    })
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, String, serde_json::Value) {
    let r = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = r.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        ct,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn items_filter_page_and_count() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let (s, ct, fc) = get(
        &app,
        "/api/v1/layers/households/items?bbox=104.0,26.0,104.31,27.0",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ct, "application/geo+json");
    // x = 104.00, 104.03, …, 104.30: eleven points.
    assert_eq!(fc["numberMatched"], 11);
    let (_, _, fc) = get(&app, "/api/v1/layers/households/items?limit=7&offset=28").await;
    assert_eq!(fc["numberMatched"], 30);
    assert_eq!(fc["numberReturned"], 2);
    assert_eq!(fc["features"][0]["properties"]["address"], "28号");
    let (_, _, fc) = get(
        &app,
        "/api/v1/layers/households/items?division=520526102000",
    )
    .await;
    assert_eq!(fc["numberMatched"], 0);
    let (s, _, f) = get(&app, "/api/v1/layers/villages/items/1").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(f["properties"]["name"], "石门村");
}

#[tokio::test]
async fn bad_requests_are_problems_not_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    for (uri, status, needle) in [
        (
            "/api/v1/layers/nope/items",
            StatusCode::NOT_FOUND,
            "unknown layer 'nope'",
        ),
        (
            "/api/v1/layers/villages/items?limit=1000000000",
            StatusCode::BAD_REQUEST,
            "limit",
        ),
        (
            "/api/v1/layers/villages/items?limit=-1",
            StatusCode::BAD_REQUEST,
            "limit",
        ),
        (
            "/api/v1/layers/villages/items?bbox=a,b,c,d",
            StatusCode::BAD_REQUEST,
            "bbox",
        ),
        (
            "/api/v1/layers/villages/items?bbox=105,26,104,27",
            StatusCode::BAD_REQUEST,
            "minimum",
        ),
        (
            "/api/v1/layers/villages/items?division=5205261012",
            StatusCode::BAD_REQUEST,
            "division",
        ),
        (
            "/api/v1/layers/villages/items/x",
            StatusCode::BAD_REQUEST,
            "not a whole number",
        ),
        (
            "/api/v1/layers/villages/items/999",
            StatusCode::NOT_FOUND,
            "no feature 999",
        ),
        ("/api/v1/nothing", StatusCode::NOT_FOUND, "no such page"),
    ] {
        let (s, ct, body) = get(&app, uri).await;
        assert_eq!(s, status, "{uri}");
        assert_eq!(ct, "application/problem+json", "{uri}");
        assert!(
            body["detail"].as_str().unwrap().contains(needle),
            "{uri}: {body}"
        );
    }
    let (s, _, h) = get(&app, "/api/v1/health").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["counties"], 1);
}
