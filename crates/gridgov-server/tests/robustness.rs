//! Hostile and malformed requests on every route: each a 4xx with a problem+json body, never
//! a 500, and the server answers normally afterwards.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use axum::body::Body;
use axum::http::{Request, StatusCode};

mod common;
use common::{app, request};

fn req(method: &str, uri: &str, ct: Option<&str>, body: Vec<u8>) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(ct) = ct {
        b = b.header("content-type", ct);
    }
    b.body(Body::from(body)).unwrap()
}

#[tokio::test]
async fn every_bad_request_is_a_problem_and_nothing_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let items = "/api/v1/layers/households/items";
    let feature = br#"{"type":"Feature","geometry":{"type":"Point","coordinates":[104.5,26.5]},"properties":{"division_code":"520526101201","address":"x"}}"#.to_vec();
    let cases: Vec<(Request<Body>, StatusCode)> = vec![
        (
            req("GET", &format!("{items}?limit=1000000000"), None, vec![]),
            StatusCode::BAD_REQUEST,
        ),
        (
            req("GET", &format!("{items}?limit=1&limit=2"), None, vec![]),
            StatusCode::BAD_REQUEST,
        ),
        (
            req("GET", &format!("{items}?bbox=1,2,3"), None, vec![]),
            StatusCode::BAD_REQUEST,
        ),
        (
            req("GET", &format!("{items}?bbox=a,b,c,d"), None, vec![]),
            StatusCode::BAD_REQUEST,
        ),
        (
            req("GET", &format!("{items}?bbox=10,10,0,0"), None, vec![]),
            StatusCode::BAD_REQUEST,
        ),
        (
            req("GET", &format!("{items}?bbox=NaN,0,1,1"), None, vec![]),
            StatusCode::BAD_REQUEST,
        ),
        (
            req("GET", &format!("{items}?near=1e400,0"), None, vec![]),
            StatusCode::BAD_REQUEST,
        ),
        (
            req("GET", &format!("{items}?division=52%00"), None, vec![]),
            StatusCode::BAD_REQUEST,
        ),
        (
            req(
                "GET",
                "/api/v1/layers/persons/items?bbox=0,0,1,1",
                None,
                vec![],
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            req("GET", "/api/v1/layers/unicorns/items", None, vec![]),
            StatusCode::NOT_FOUND,
        ),
        (
            req(
                "GET",
                "/api/v1/layers/%27%3B%20DROP%20TABLE%20households%3B--/items",
                None,
                vec![],
            ),
            StatusCode::NOT_FOUND,
        ),
        (
            req("GET", &format!("{items}/abc"), None, vec![]),
            StatusCode::BAD_REQUEST,
        ),
        (
            req(
                "GET",
                &format!("{items}/99999999999999999999"),
                None,
                vec![],
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            req("GET", &format!("{items}/999999"), None, vec![]),
            StatusCode::NOT_FOUND,
        ),
        (
            req("DELETE", items, None, vec![]),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            req("POST", items, Some("text/plain"), feature.clone()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            req("POST", items, None, feature.clone()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            req("POST", items, Some("application/json"), b"[1,2,3]".to_vec()),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            req(
                "POST",
                items,
                Some("application/json"),
                b"\xff\xfe".to_vec(),
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            req(
                "POST",
                items,
                Some("application/json"),
                vec![b' '; 2 * 1024 * 1024],
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            req(
                "GET",
                "/api/v1/layers/households/h3?resolution=99",
                None,
                vec![],
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            req("GET", "/api/v1/lookup?lon=x&lat=y&crs=wgs84", None, vec![]),
            StatusCode::BAD_REQUEST,
        ),
        (
            req(
                "POST",
                "/api/v1/lookup?crs=wgs84",
                Some("image/png"),
                vec![0; 10],
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            req("GET", "/ogc/collections/unicorns/items", None, vec![]),
            StatusCode::NOT_FOUND,
        ),
        (
            req(
                "GET",
                "/ogc/collections/households/items?limit=-5",
                None,
                vec![],
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            req(
                "GET",
                "/ogc/collections/households/items?bbox=1,2",
                None,
                vec![],
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            req(
                "GET",
                "/ogc/collections/households/items?datetime=yesterday",
                None,
                vec![],
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            req("GET", "/tiles/households/3/8/1.mvt", None, vec![]),
            StatusCode::BAD_REQUEST,
        ),
        (
            req("GET", "/tiles/households/99/0/0.mvt", None, vec![]),
            StatusCode::BAD_REQUEST,
        ),
        (
            req("GET", "/tiles/households/-1/0/0.mvt", None, vec![]),
            StatusCode::BAD_REQUEST,
        ),
        (
            req("GET", "/tiles/households/10/x/y.mvt", None, vec![]),
            StatusCode::BAD_REQUEST,
        ),
        (
            req("GET", "/tiles/unicorns/10/5/5.mvt", None, vec![]),
            StatusCode::NOT_FOUND,
        ),
        (
            req("GET", "/tiles/persons/10/5/5.mvt", None, vec![]),
            StatusCode::NOT_FOUND,
        ),
        (
            req("GET", "/tiles/unicorns.json", None, vec![]),
            StatusCode::NOT_FOUND,
        ),
        (
            req("GET", "/no/such/route", None, vec![]),
            StatusCode::NOT_FOUND,
        ),
        (
            req("GET", "/assets/../../etc/passwd", None, vec![]),
            StatusCode::NOT_FOUND,
        ),
    ];
    for (r, expected) in cases {
        let what = format!("{} {}", r.method(), r.uri());
        let (status, headers, body) = request(&app, r).await;
        assert_eq!(status, expected, "{what}: {body}");
        assert_eq!(
            headers.get("content-type").map(|v| v.to_str().unwrap()),
            Some("application/problem+json"),
            "{what}"
        );
        assert_eq!(body["status"], status.as_u16(), "{what}: {body}");
        let detail = body["detail"].as_str().unwrap();
        assert!(!detail.is_empty(), "{what}");
        for leak in ["SELECT", "sqlx", "/work/", "panicked", ".rs:"] {
            assert!(!detail.contains(leak), "{what} leaks {leak}: {detail}");
        }
    }
    // Still serving, and nothing was written by any of it.
    let (status, _, health) = request(&app, req("GET", "/api/v1/health", None, vec![])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], "ok");
    let (_, _, page) = request(&app, req("GET", items, None, vec![])).await;
    assert_eq!(page["numberMatched"], 30);
}
