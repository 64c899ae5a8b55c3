//! The OpenAPI document: 3.1, generated from the routes, every documented operation served,
//! and the interactive page served from local files.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

mod common;
use common::{app, get, request, text};

/// Every API operation the server has. A route added without an OpenAPI description fails
/// here, and so does a description without a route.
const OPERATIONS: &[(&str, &str)] = &[
    ("get", "/api/v1/health"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/auth/me"),
    ("get", "/api/v1/layers"),
    ("get", "/api/v1/layers/{layer}/items"),
    ("post", "/api/v1/layers/{layer}/items"),
    ("get", "/api/v1/layers/{layer}/items/{id}"),
    ("put", "/api/v1/layers/{layer}/items/{id}"),
    ("patch", "/api/v1/layers/{layer}/items/{id}"),
    ("delete", "/api/v1/layers/{layer}/items/{id}"),
    ("post", "/api/v1/layers/{layer}/items/{id}/reveal"),
    ("get", "/api/v1/layers/{layer}/h3"),
    ("get", "/api/v1/glossary"),
    ("get", "/api/v1/grids/summary"),
    ("get", "/api/v1/events"),
    ("get", "/api/v1/way"),
    ("get", "/basemap.json"),
    ("get", "/basemap/{z}/{x}/{y}"),
    ("get", "/fonts/{fontstack}/{range}"),
    ("get", "/styles/{name}"),
    ("get", "/api/v1/lookup"),
    ("post", "/api/v1/lookup"),
    ("get", "/ogc"),
    ("get", "/ogc/api"),
    ("get", "/ogc/conformance"),
    ("get", "/ogc/collections"),
    ("get", "/ogc/collections/{collection}"),
    ("get", "/ogc/collections/{collection}/schema"),
    ("get", "/ogc/collections/{collection}/items"),
    ("get", "/ogc/collections/{collection}/items/{fid}"),
    ("get", "/tiles/{name}"),
    ("get", "/tiles/{layer}/{z}/{x}/{y}"),
    ("get", "/api/v1/hotspots"),
    ("get", "/api/v1/hotspots/tiles/{z}/{x}/{y}"),
    ("get", "/api/v1/hotspots/regions"),
    ("post", "/api/v1/disputes"),
    ("get", "/api/v1/disputes/{id}"),
    ("post", "/api/v1/disputes/{id}/steps"),
    ("post", "/api/v1/disputes/escalations"),
    ("get", "/api/v1/disputes/deadlines"),
    ("get", "/api/v1/disputes/ledger"),
    ("get", "/api/v1/disputes/statistics"),
    ("get", "/api/v1/partition-plans"),
    ("post", "/api/v1/partition-plans"),
    ("get", "/api/v1/partition-plans/{id}"),
    ("get", "/api/v1/partition-plans/{id}/compare"),
    ("post", "/api/v1/partition-plans/{id}/approve"),
    ("get", "/api/v1/partition-plans/{id}/units"),
    ("post", "/api/v1/partition-plans/{id}/moves"),
    ("get", "/api/v1/partition-plans/{id}/export"),
    ("get", "/api/v1/route-plans"),
    ("post", "/api/v1/route-plans"),
    ("get", "/api/v1/route-plans/{id}"),
    ("delete", "/api/v1/route-plans/{id}"),
];

#[tokio::test]
async fn the_document_is_openapi_3_1_and_lists_every_operation() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let (status, ct, doc) = get(&app, "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("application/vnd.oai.openapi+json"), "{ct}");
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "put", "post", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            documented.push((method.clone(), path.clone()));
            // Every operation says what it answers, errors included.
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path}");
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{method} {path}"
            );
            // Its path parameters are declared.
            for name in ["layer", "id", "collection", "fid"] {
                if path.contains(&format!("{{{name}}}")) {
                    let declared = op["parameters"].as_array().is_some_and(|ps| {
                        ps.iter().any(|p| p["name"] == name && p["in"] == "path")
                    });
                    assert!(declared, "{method} {path} must declare {name}");
                }
            }
        }
    }
    documented.sort();
    let mut expected: Vec<(String, String)> = OPERATIONS
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    expected.sort();
    assert_eq!(documented, expected);

    // Every documented operation is served: the router answers it, not the fallback.
    for (method, path) in &documented {
        let uri = path
            .replace("{layer}", "households")
            .replace("{collection}", "households")
            .replace("{id}", "1")
            .replace("{fid}", "1")
            .replace("{name}", "households.json")
            .replace("{z}/{x}/{y}", "10/5/5.mvt")
            .replace("{fontstack}", "DejaVu%20Sans%20Book")
            .replace("{range}", "0-255.pbf");
        if uri == "/api/v1/events" {
            // An event stream never ends: its answer's head is what tells.
            let r = app
                .clone()
                .oneshot(Request::get(&uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{uri}");
            continue;
        }
        let (status, _, body) = request(
            &app,
            Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&uri)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
        assert_ne!(
            body["detail"], "no such page or API route",
            "{method} {uri} is documented but not routed"
        );
        assert!(status.as_u16() < 500, "{method} {uri}: {status} {body}");
    }
    // The schemas the operations refer to exist.
    let text = doc.to_string();
    for schema in ["Problem", "GeoJsonFeature", "FeatureCollection"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
        assert!(
            text.contains(&format!("#/components/schemas/{schema}")),
            "{schema} unused"
        );
    }
}

#[tokio::test]
async fn the_docs_page_is_served_from_local_files() {
    let dir = tempfile::tempdir().unwrap();
    let web = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web");
    let (app, _) = common::app_and_store_with_web(dir.path(), &web).await;
    let r = text(&app, "/api/docs").await;
    assert_eq!(r.0, StatusCode::OK);
    assert!(r.1.contains("/api/v1/openapi.json"));
    // Every script and style the page loads is served by gridgov itself.
    for src in [
        "/vendor/swagger-ui/swagger-ui-bundle.js",
        "/vendor/swagger-ui/swagger-ui.css",
    ] {
        assert!(r.1.contains(src), "{src}");
        let (status, body) = text(&app, src).await;
        assert_eq!(status, StatusCode::OK, "{src}");
        assert!(body.len() > 10_000, "{src}");
    }
    assert!(
        !r.1.contains("http://") && !r.1.contains("https://"),
        "no outside address"
    );
}
