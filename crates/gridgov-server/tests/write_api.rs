//! The write API in-process: create, replace, patch and delete with `ETag`/`If-Match`,
//! validation as 422 problems, keyset paging, and the index following every write.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use serde_json::{json, Value};

mod common;
use common::{app, get, request};

const ITEMS: &str = "/api/v1/layers/households/items";

fn household(lon: f64, lat: f64, address: &str) -> Value {
    json!({
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"division_code": "520526101201", "address": address, "size": 3},
    })
}

fn with_body(method: &str, uri: &str, etag: Option<&str>, ct: &str, body: &Value) -> Request<Body> {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", ct);
    if let Some(t) = etag {
        b = b.header("if-match", t);
    }
    b.body(Body::from(body.to_string())).unwrap()
}

fn etag(h: &HeaderMap) -> String {
    h.get("etag").unwrap().to_str().unwrap().to_owned()
}

async fn create(app: &axum::Router, body: &Value) -> (String, String) {
    let (s, h, f) = request(
        app,
        with_body("POST", ITEMS, None, "application/geo+json", body),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{f}");
    let location = h.get("location").unwrap().to_str().unwrap().to_owned();
    assert_eq!(location, format!("{ITEMS}/{}", f["id"]));
    (location, etag(&h))
}

#[tokio::test]
async fn create_read_replace_patch_delete() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let (url, tag) = create(&app, &household(104.5, 26.5, "新建1号")).await;

    // Read back: the same tag, the stored values.
    let r = request(&app, Request::get(&url).body(Body::empty()).unwrap()).await;
    assert_eq!(r.0, StatusCode::OK);
    assert_eq!(etag(&r.1), tag);
    assert_eq!(r.2["properties"]["address"], "新建1号");
    assert_eq!(r.2["properties"]["size"], 3);
    // A conditional read of an unchanged feature.
    let r = request(
        &app,
        Request::get(&url)
            .header("if-none-match", &tag)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.0, StatusCode::NOT_MODIFIED);

    // Replace without If-Match: refused, 428, nothing changed.
    let replaced = household(104.51, 26.51, "改后1号");
    let r = request(
        &app,
        with_body("PUT", &url, None, "application/geo+json", &replaced),
    )
    .await;
    assert_eq!(r.0, StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(r.1["content-type"], "application/problem+json");
    // With a tag that is not the feature's: 412.
    let r = request(
        &app,
        with_body(
            "PUT",
            &url,
            Some("\"0000\""),
            "application/geo+json",
            &replaced,
        ),
    )
    .await;
    assert_eq!(r.0, StatusCode::PRECONDITION_FAILED);
    assert_eq!(get(&app, &url).await.2["properties"]["address"], "新建1号");
    // With the right tag: replaced, new tag.
    let r = request(
        &app,
        with_body("PUT", &url, Some(&tag), "application/geo+json", &replaced),
    )
    .await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.2);
    let tag2 = etag(&r.1);
    assert_ne!(tag2, tag);
    assert_eq!(r.2["properties"]["address"], "改后1号");
    assert_eq!(r.2["geometry"]["coordinates"], json!([104.51, 26.51]));
    // The old tag is stale now.
    let r = request(
        &app,
        with_body("PUT", &url, Some(&tag), "application/geo+json", &replaced),
    )
    .await;
    assert_eq!(r.0, StatusCode::PRECONDITION_FAILED);

    // Merge patch: one field changed, one removed, the rest kept.
    let patch = json!({"properties": {"address": "补丁1号", "size": null}});
    let r = request(
        &app,
        with_body(
            "PATCH",
            &url,
            Some(&tag2),
            "application/merge-patch+json",
            &patch,
        ),
    )
    .await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.2);
    let tag3 = etag(&r.1);
    assert_eq!(r.2["properties"]["address"], "补丁1号");
    assert!(r.2["properties"].get("size").is_none());
    assert_eq!(r.2["geometry"]["coordinates"], json!([104.51, 26.51]));

    // Delete: needs the current tag; then the feature is gone.
    let del = |t: Option<&str>| {
        let mut b = Request::delete(&url);
        if let Some(t) = t {
            b = b.header("if-match", t);
        }
        b.body(Body::empty()).unwrap()
    };
    assert_eq!(
        request(&app, del(None)).await.0,
        StatusCode::PRECONDITION_REQUIRED
    );
    assert_eq!(
        request(&app, del(Some(&tag2))).await.0,
        StatusCode::PRECONDITION_FAILED
    );
    assert_eq!(
        request(&app, del(Some(&tag3))).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(get(&app, &url).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        request(&app, del(Some(&tag3))).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn of_two_concurrent_edits_one_wins_and_the_other_gets_412() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let (url, tag) = create(&app, &household(104.5, 26.5, "争用1号")).await;
    for round in 0..5 {
        let tag = if round == 0 {
            tag.clone()
        } else {
            etag(
                &request(&app, Request::get(&url).body(Body::empty()).unwrap())
                    .await
                    .1,
            )
        };
        let a = json!({"properties": {"address": format!("甲改{round}")}});
        let b = json!({"properties": {"address": format!("乙改{round}")}});
        let ra = request(
            &app,
            with_body("PATCH", &url, Some(&tag), "application/json", &a),
        );
        let rb = request(
            &app,
            with_body("PATCH", &url, Some(&tag), "application/json", &b),
        );
        let (ra, rb) = tokio::join!(ra, rb);
        let mut statuses = [ra.0, rb.0];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::PRECONDITION_FAILED],
            "round {round}: exactly one edit must win"
        );
        let winner = if ra.0 == StatusCode::OK { &ra.2 } else { &rb.2 };
        let stored = get(&app, &url).await.2;
        assert_eq!(
            stored["properties"]["address"],
            winner["properties"]["address"]
        );
    }
}

#[tokio::test]
async fn bad_writes_are_named_problems_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let before = get(&app, ITEMS).await.2["numberMatched"].clone();
    let post = |ct: &str, body: &Value| with_body("POST", ITEMS, None, ct, body);

    // Each problem names the field at fault.
    let cases = [
        (
            json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [104.5, 26.5]},
                   "properties": {"division_code": "520526101201", "address": "x", "colour": "red"}}),
            "colour",
        ),
        (
            json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [104.5, 26.5]},
                   "properties": {"division_code": "12345", "address": "x"}}),
            "division_code",
        ),
        (
            json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [104.5, 26.5]},
                   "properties": {"address": "x"}}),
            "division_code",
        ),
        (
            json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [104.5, 26.5]},
                   "properties": {"division_code": "520526101201", "address": "x", "size": "three"}}),
            "size",
        ),
        // Outside its village (the village is 104–105 E, 26–27 N).
        (household(110.0, 30.0, "远方1号"), "geometry"),
        // A line where a point belongs.
        (
            json!({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[104.5, 26.5], [104.6, 26.6]]},
                   "properties": {"division_code": "520526101201", "address": "x"}}),
            "geometry",
        ),
        (
            json!({"type": "Feature", "id": 5, "geometry": {"type": "Point", "coordinates": [104.5, 26.5]},
                   "properties": {"division_code": "520526101201", "address": "x"}}),
            "id",
        ),
    ];
    for (body, field) in cases {
        let (s, h, p) = request(&app, post("application/geo+json", &body)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {p}");
        assert_eq!(h["content-type"], "application/problem+json");
        assert!(
            p["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{body} must name {field}: {p}"
        );
    }
    // Not JSON, wrong media type, unknown layer, bad crs.
    let r = request(
        &app,
        Request::post(ITEMS)
            .header("content-type", "application/json")
            .body(Body::from("{\"type\": \"Feature\",,"))
            .unwrap(),
    )
    .await;
    assert_eq!(r.0, StatusCode::BAD_REQUEST);
    assert!(
        r.2["detail"].as_str().unwrap().contains("not valid JSON"),
        "{}",
        r.2
    );
    let r = request(&app, post("text/csv", &household(104.5, 26.5, "x"))).await;
    assert_eq!(r.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(r.1["content-type"], "application/problem+json");
    let r = request(
        &app,
        with_body(
            "POST",
            "/api/v1/layers/unicorns/items",
            None,
            "application/json",
            &household(104.5, 26.5, "x"),
        ),
    )
    .await;
    assert_eq!(r.0, StatusCode::NOT_FOUND);
    let r = request(
        &app,
        with_body(
            "POST",
            &format!("{ITEMS}?crs=mars"),
            None,
            "application/json",
            &household(104.5, 26.5, "x"),
        ),
    )
    .await;
    assert_eq!(r.0, StatusCode::BAD_REQUEST);
    // A patch that breaks a rule is refused whole.
    let (url, tag) = create(&app, &household(104.5, 26.5, "守规1号")).await;
    let r = request(
        &app,
        with_body(
            "PATCH",
            &url,
            Some(&tag),
            "application/merge-patch+json",
            &json!({"properties": {"address": "改了", "size": -2}}),
        ),
    )
    .await;
    assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.2);
    assert_eq!(get(&app, &url).await.2["properties"]["address"], "守规1号");
    let after = get(&app, ITEMS).await.2["numberMatched"].as_u64().unwrap();
    assert_eq!(
        after,
        before.as_u64().unwrap() + 1,
        "only the one valid feature was added"
    );
}

#[tokio::test]
async fn writes_reach_the_index_and_gcj02_is_converted() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    // The point as Amap shows it; stored as WGS84.
    let wgs = geo::Coord {
        x: 104.777,
        y: 26.888,
    };
    let gcj = gridgov_model::crs::wgs84_to_gcj02(wgs);
    let (s, _, f) = request(
        &app,
        with_body(
            "POST",
            &format!("{ITEMS}?crs=gcj02"),
            None,
            "application/geo+json",
            &household(gcj.x, gcj.y, "火星坐标1号"),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{f}");
    let c = &f["geometry"]["coordinates"];
    assert!((c[0].as_f64().unwrap() - wgs.x).abs() < 1e-5, "{c}");
    assert!((c[1].as_f64().unwrap() - wgs.y).abs() < 1e-5, "{c}");
    // The index answers with it at once.
    let near = get(&app, &format!("{ITEMS}?near={},{}&limit=1", wgs.x, wgs.y))
        .await
        .2;
    assert_eq!(near["features"][0]["id"], f["id"]);
    assert!(near["features"][0]["distance_m"].as_f64().unwrap() < 2.0);
}

#[tokio::test]
async fn keyset_pages_cover_every_feature_once() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    for query in ["limit=7", "limit=7&bbox=104.0,26.0,104.5,27.0"] {
        let (_, _, first) = get(&app, &format!("{ITEMS}?{query}")).await;
        let expected = first["numberMatched"].as_u64().unwrap();
        let mut seen = Vec::new();
        let mut page = first;
        loop {
            for f in page["features"].as_array().unwrap() {
                seen.push(f["id"].as_i64().unwrap());
            }
            let next = page["links"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["rel"] == "next")
                .map(|l| l["href"].as_str().unwrap().to_owned());
            let Some(next) = next else { break };
            assert!(next.contains("after="), "{next}");
            page = get(&app, &next).await.2;
        }
        let mut sorted = seen.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, seen, "{query}: in id order, each once");
        assert_eq!(seen.len() as u64, expected, "{query}");
    }
    // The cap on limit is a problem, not a crash.
    for bad in [
        "limit=1000000000",
        "limit=0",
        "limit=-1",
        "after=abc",
        "after=3&offset=2",
    ] {
        let (s, ct, _) = get(&app, &format!("{ITEMS}?{bad}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(ct, "application/problem+json", "{bad}");
    }
}
