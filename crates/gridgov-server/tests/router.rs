//! The router in-process (`oneshot`), on a small GeoPackage store.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use axum::http::StatusCode;
use geo::point;
use gridgov_model::{Feature, Layer};
use gridgov_store::{write, Op};

mod common;
use common::{app, app_and_store, get, send};

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

#[tokio::test]
async fn near_and_h3_queries_come_from_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    // Households every 0.03° of longitude along 26.5° N: about 2,989 m apart.
    let (s, _, fc) = get(
        &app,
        "/api/v1/layers/households/items?near=104.0,26.5&limit=3",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(fc["numberReturned"], 3);
    let d: Vec<f64> = (0..3)
        .map(|i| fc["features"][i]["distance_m"].as_f64().unwrap())
        .collect();
    assert!(
        d[0] < 0.1 && (d[1] - 2989.0).abs() < 5.0 && (d[2] - 2.0 * d[1]).abs() < 1.0,
        "{d:?}"
    );
    assert_eq!(fc["features"][1]["properties"]["address"], "1号");
    let (_, _, fc) = get(
        &app,
        "/api/v1/layers/households/items?near=104.0,26.5&within=3500",
    )
    .await;
    assert_eq!(fc["numberMatched"], 2);
    let (s, _, b) = get(&app, "/api/v1/layers/households/items?within=10").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    let (s, _, h) = get(&app, "/api/v1/layers/households/h3?resolution=9").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["total"], 30);
    assert_eq!(h["cells"].as_array().unwrap().len(), 30);
    let (s, _, h) = get(&app, "/api/v1/layers/households/h3?resolution=6").await;
    assert_eq!(s, StatusCode::OK);
    assert!(h["cells"].as_array().unwrap().len() < 30);
    let (s, _, b) = get(&app, "/api/v1/layers/households/h3?resolution=12").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b["detail"].as_str().unwrap().contains("resolution"));
}

#[tokio::test]
async fn lookup_answers_and_follows_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (app, store) = app_and_store(dir.path()).await;
    let (s, _, l) = get(&app, "/api/v1/lookup?lon=104.5&lat=26.5&crs=wgs84").await;
    assert_eq!(s, StatusCode::OK, "{l}");
    assert_eq!(l["township"]["name"], "草海镇");
    assert_eq!(l["village"]["code"], "520526101201");
    assert!(l["transfer_station"].is_null());
    for (uri, status, needle) in [
        (
            "/api/v1/lookup?lon=116.4&lat=39.9&crs=wgs84",
            StatusCode::NOT_FOUND,
            "outside the county",
        ),
        (
            "/api/v1/lookup?lon=104.5&lat=26.5",
            StatusCode::BAD_REQUEST,
            "'crs' is missing",
        ),
        (
            "/api/v1/lookup?lon=104.5&lat=26.5&crs=wgs-84",
            StatusCode::BAD_REQUEST,
            "parameter 'crs'",
        ),
        (
            "/api/v1/lookup?lon=east&lat=26.5&crs=wgs84",
            StatusCode::BAD_REQUEST,
            "parameter 'lon'",
        ),
        (
            "/api/v1/lookup?lon=104.5&lat=95&crs=wgs84",
            StatusCode::BAD_REQUEST,
            "parameter 'lat'",
        ),
        (
            "/api/v1/lookup?lat=26.5&crs=wgs84",
            StatusCode::BAD_REQUEST,
            "'lon' is missing",
        ),
    ] {
        let (s, ct, body) = get(&app, uri).await;
        assert_eq!(
            (s, ct.as_str()),
            (status, "application/problem+json"),
            "{uri}"
        );
        assert!(
            body["detail"].as_str().unwrap().contains(needle),
            "{uri}: {body}"
        );
    }
    // A station written to the store reaches the lookup through the change feed.
    write(
        store.as_ref(),
        vec![Op::Insert(
            Layer::TransferStations,
            Feature::new(
                "520526101201".parse().unwrap(),
                Some(point!(x: 104.51, y: 26.5).into()),
            )
            .with("name", "石门村转运站")
            .with("capacity_t", 5.0),
        )],
    )
    .await
    .unwrap();
    let mut seen = serde_json::Value::Null;
    for _ in 0..50 {
        let (_, _, l) = get(&app, "/api/v1/lookup?lon=104.5&lat=26.5&crs=wgs84").await;
        seen = l["transfer_station"].clone();
        if !seen.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(seen["name"], "石门村转运站", "{seen}");
    let m = seen["distance_m"].as_f64().unwrap();
    assert!((m - 996.0).abs() < 3.0, "{m}");
}

#[tokio::test]
async fn batch_lookups_keep_order_and_refuse_bad_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let csv = "name,lon,lat\na,104.5,26.5\nb,116.4,39.9\nc,104.2,26.7\n";
    let (s, ct, out) = send(&app, "/api/v1/lookup?crs=wgs84", "text/csv", csv.into()).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&out));
    assert!(ct.starts_with("text/csv"));
    let text = String::from_utf8(out).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 4);
    assert!(
        rows[1].starts_with("a,104.5,26.5,ok,520526101000,草海镇,"),
        "{}",
        rows[1]
    );
    assert!(
        rows[2].starts_with("b,116.4,39.9,outside_county"),
        "{}",
        rows[2]
    );
    assert!(rows[3].starts_with("c,"));
    let fc = serde_json::json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"n": 1}, "geometry": {"type": "Point", "coordinates": [104.5, 26.5]}}]});
    let (s, _, out) = send(
        &app,
        "/api/v1/lookup?crs=gcj02",
        "application/geo+json",
        fc.to_string().into(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["features"][0]["properties"]["village_name"], "石门村");
    let problem = |out: &[u8]| -> String {
        let v: serde_json::Value = serde_json::from_slice(out).unwrap();
        v["detail"].as_str().unwrap().to_owned()
    };
    let (s, _, out) = send(&app, "/api/v1/lookup?crs=wgs84", "text/plain", csv.into()).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(problem(&out).contains("text/csv"));
    let (s, _, out) = send(
        &app,
        "/api/v1/lookup?crs=wgs84",
        "text/csv",
        "lon,lat\n104.5,north\n".into(),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        problem(&out).contains("CSV row 2: latitude 'north'"),
        "{}",
        problem(&out)
    );
    let (s, _, out) = send(&app, "/api/v1/lookup", "text/csv", csv.into()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(problem(&out).contains("'crs'"));
    // A 100 MB body is refused with a problem, not read.
    let mut huge = b"lon,lat\n".to_vec();
    huge.resize(100 * 1024 * 1024, b'1');
    let (s, _, out) = send(&app, "/api/v1/lookup?crs=wgs84", "text/csv", huge).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(problem(&out).contains("100000 points"), "{}", problem(&out));
}
