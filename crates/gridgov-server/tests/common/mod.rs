//! The small GeoPackage county the in-process router tests share, and request helpers.
#![allow(dead_code, reason = "each test file uses a part of the helpers")]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode};
use geo::{point, polygon, Geometry, MultiPolygon};
use gridgov_model::{Feature, Layer, Role};
use gridgov_server::{router, AppState, LiveIndex};
use gridgov_store::gpkg::GpkgStore;
use gridgov_store::{write, NewUser, Op, Store};
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
    let store = county(dir).await;
    (as_admin(store.clone(), web).await, store)
}

/// The router over `store` (its live index started, a 1 MiB tile cache), pages from `web`.
pub async fn router_over(store: Arc<dyn Store>, web: &std::path::Path) -> axum::Router {
    let index = LiveIndex::start(store.clone()).await.unwrap();
    router(AppState::new(
        store,
        "test",
        web.to_path_buf(),
        index,
        1 << 20,
    ))
}

/// [`router_over`] `store`, every request sent as the county admin `admin` (made in `store`).
pub async fn as_admin(store: Arc<dyn Store>, web: &std::path::Path) -> axum::Router {
    let app = router_over(store.clone(), web).await;
    let token = sign_in(
        &app,
        store.as_ref(),
        "admin",
        Role::CountyAdmin,
        "520526000000",
    )
    .await;
    as_user(app, &token)
}

/// A PostGIS test database opened twice: as its owner (to write fixtures and read the truth)
/// and as the server role that row-level security holds (to serve).
pub async fn postgis_stores(
    db: &gridgov_store::testing::TempDatabase,
) -> (Arc<dyn Store>, Arc<dyn Store>) {
    use gridgov_store::postgis::PgStore;
    let owner = PgStore::connect(&db.url).await.unwrap();
    let server = PgStore::connect_server(&db.app_url()).await.unwrap();
    (Arc::new(owner), Arc::new(server))
}

/// The small county (one township, one village, 30 households) in `dir/t.gpkg`.
pub async fn county(dir: &std::path::Path) -> Arc<dyn Store> {
    let store = GpkgStore::open(&dir.join("t.gpkg")).await.unwrap();
    write(&store, county_ops()).await.unwrap();
    Arc::new(store)
}

/// The small county's features: one county, township and village, 30 households.
pub fn county_ops() -> Vec<Op> {
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
    ops
}

/// The password of every account the tests make.
pub const PASSWORD: &str = "correct horse battery staple";

/// Makes an account in the store and signs it in through the login route; returns the token.
pub async fn sign_in(
    app: &axum::Router,
    store: &dyn Store,
    name: &str,
    role: Role,
    scope: &str,
) -> String {
    store
        .add_user(NewUser {
            name: name.parse().unwrap(),
            role,
            scope: scope.parse().unwrap(),
            password_hash: gridgov_server::auth::password::hash(PASSWORD).unwrap(),
        })
        .await
        .unwrap();
    login(app, name, PASSWORD).await.1["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `POST /api/v1/auth/login`: the status and the JSON answer.
pub async fn login(
    app: &axum::Router,
    name: &str,
    password: &str,
) -> (StatusCode, serde_json::Value) {
    let body = serde_json::json!({"username": name, "password": password}).to_string();
    let (status, _, bytes) = send(app, "/api/v1/auth/login", "application/json", body.into()).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

/// The router with `Authorization: Bearer TOKEN` added to every request that has none.
pub fn as_user(app: axum::Router, token: &str) -> axum::Router {
    let value = HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
    app.layer(axum::middleware::map_request(
        move |mut req: Request<Body>| {
            let value = value.clone();
            async move {
                req.headers_mut()
                    .entry(axum::http::header::AUTHORIZATION)
                    .or_insert(value);
                req
            }
        },
    ))
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

/// Sends any request and returns status, headers and the body's bytes.
pub async fn raw(
    app: &axum::Router,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let r = app.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let bytes = r.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, headers, bytes)
}

/// Sends any request and returns status, headers and the body parsed as JSON (Null if it is
/// not JSON).
pub async fn request(
    app: &axum::Router,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
    let (status, headers, bytes) = raw(app, req).await;
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
