//! Rate and time limits: a client past its bucket gets 429 problem+json with `Retry-After`
//! while another client is still served; login attempts have their own, smaller bucket per
//! address; a request over the time limit gets 408 problem+json.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use gridgov_server::limits::{Limits, Rate};
use gridgov_server::{router, AppState, LiveIndex};

async fn limited(dir: &std::path::Path, limits: Limits) -> axum::Router {
    let store = common::county(dir).await;
    let index = LiveIndex::start(store.clone()).await.unwrap();
    router(AppState::new(store, "geopackage", dir.to_path_buf(), index, 0).with_limits(limits))
}

fn from(app: &axum::Router, ip: &str) -> axum::Router {
    let addr: SocketAddr = format!("{ip}:40000").parse().unwrap();
    app.clone().layer(axum::Extension(ConnectInfo(addr)))
}

fn health() -> Request<Body> {
    Request::get("/api/v1/health").body(Body::empty()).unwrap()
}

fn assert_429(status: StatusCode, headers: &axum::http::HeaderMap, body: &serde_json::Value) {
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
    let wait: u64 = headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1, "{wait}");
    assert!(
        body["detail"].as_str().unwrap().contains("too many"),
        "{body}"
    );
}

#[tokio::test]
async fn a_client_past_its_bucket_waits_and_others_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        requests: Some(Rate {
            per_second: 0.5,
            burst: 3.0,
        }),
        logins: None,
        request_timeout: Duration::from_secs(30),
    };
    let app = limited(dir.path(), limits).await;
    let one = from(&app, "10.0.0.1");
    for _ in 0..3 {
        assert_eq!(common::request(&one, health()).await.0, StatusCode::OK);
    }
    let (status, headers, body) = common::request(&one, health()).await;
    assert_429(status, &headers, &body);
    // Another address has its own bucket.
    let two = from(&app, "10.0.0.2");
    assert_eq!(common::request(&two, health()).await.0, StatusCode::OK);
}

#[tokio::test]
async fn logins_have_a_small_bucket_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        requests: None,
        logins: Some(Rate {
            per_second: 0.01,
            burst: 2.0,
        }),
        request_timeout: Duration::from_secs(30),
    };
    let app = limited(dir.path(), limits).await;
    let one = from(&app, "10.0.0.1");
    for _ in 0..2 {
        assert_eq!(
            common::login(&one, "nobody", "wrong password").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let (status, body) = common::login(&one, "nobody", "wrong password").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // Other routes from the same address are not held back by the login bucket.
    assert_eq!(common::request(&one, health()).await.0, StatusCode::OK);
    let two = from(&app, "10.0.0.2");
    assert_eq!(
        common::login(&two, "nobody", "wrong password").await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_request_over_the_time_limit_is_answered_408() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        request_timeout: Duration::ZERO,
        ..Limits::unlimited()
    };
    let app = limited(dir.path(), limits).await;
    // A login waits for the store and an Argon2id verification: never done at once.
    let body = serde_json::json!({"username": "nobody", "password": "whatever it is"});
    let req = Request::post("/api/v1/auth/login")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, headers, body) = common::request(&app, req).await;
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT, "{body}");
    assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
}

/// Cached tiles are answered in front of the router's middleware (`tiles::CachedTiles`), but
/// still one token each from the client's bucket, and the refusal is the middleware's 429.
#[tokio::test]
async fn cached_tiles_take_tokens_too() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::county(dir.path()).await;
    let index = LiveIndex::start(store.clone()).await.unwrap();
    let limits = Limits {
        requests: Some(Rate {
            per_second: 0.01,
            burst: 4.0,
        }),
        logins: None,
        request_timeout: Duration::from_secs(30),
    };
    let state = AppState::new(
        store.clone(),
        "geopackage",
        dir.path().to_path_buf(),
        index,
        1 << 20,
    )
    .with_limits(limits);
    let app = from(&router(state), "10.0.0.1");
    // The login takes the address's token; the tiles take the session's.
    let token = common::sign_in(
        &app,
        store.as_ref(),
        "limited",
        gridgov_model::Role::CountyAdmin,
        "520526000000",
    )
    .await;
    let app = common::as_user(app, &token);
    let tile = || {
        Request::get("/tiles/all/8/0/0.mvt")
            .body(Body::empty())
            .unwrap()
    };
    // An empty tile far from the county (answered plain): a miss, then three hits, the
    // bucket's four tokens.
    for _ in 0..4 {
        assert_eq!(common::request(&app, tile()).await.0, StatusCode::OK);
    }
    let (status, headers, body) = common::request(&app, tile()).await;
    assert_429(status, &headers, &body);
}
