//! The small GeoPackage county the in-process router tests share, and request helpers.
#![allow(dead_code, reason = "each test file uses a part of the helpers")]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use geo::{point, polygon, Geometry, MultiPolygon};
use gridgov_model::{Feature, Layer};
use gridgov_server::{router, AppState, LiveIndex};
use gridgov_store::gpkg::GpkgStore;
use gridgov_store::{write, Op, Store};
use http_body_util::BodyExt;
use tower::ServiceExt;

pub fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Geometry<f64> {
    Geometry::MultiPolygon(MultiPolygon(vec![
        polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)],
    ]))
}

pub async fn app(dir: &std::path::Path) -> axum::Router {
    app_and_store(dir).await.0
}

pub async fn app_and_store(dir: &std::path::Path) -> (axum::Router, Arc<dyn Store>) {
    app_and_store_with_web(dir, dir).await
}

/// The county with the web pages served from `web`.
pub async fn app_and_store_with_web(
    dir: &std::path::Path,
    web: &std::path::Path,
) -> (axum::Router, Arc<dyn Store>) {
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
    let store: Arc<dyn Store> = Arc::new(store);
    let index = LiveIndex::start(store.clone()).await.unwrap();
    let app = router(AppState::new(
        store.clone(),
        "geopackage",
        web.to_path_buf(),
        index,
        1 << 20,
    ));
    (app, store)
}

pub async fn send(
    app: &axum::Router,
    uri: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, String, Vec<u8>) {
    let r = app
        .clone()
        .oneshot(
            Request::post(uri)
                .header("content-type", content_type)
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        status,
        ct,
        r.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

pub async fn get(app: &axum::Router, uri: &str) -> (StatusCode, String, serde_json::Value) {
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

/// Sends any request and returns status, headers and the body parsed as JSON (Null if it is
/// not JSON).
pub async fn request(
    app: &axum::Router,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
    let r = app.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let bytes = r.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

/// GETs a page as text.
pub async fn text(app: &axum::Router, uri: &str) -> (StatusCode, String) {
    let r = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = r.status();
    let bytes = r.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}
