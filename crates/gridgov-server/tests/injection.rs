//! The injection corpus (issue 5): SQL tautologies, UNION reads, stacked and time-based
//! statements, expression-language payloads (`${…}`, `exec(…)`, templates) and full-width or
//! curly quotes, put into every query parameter and every path segment of every route the
//! OpenAPI document lists, on both stores. Each answer must be a 4xx, or the same result as
//! without the payload; none may take a second (the time-based payloads sleep for five); and
//! afterwards every layer holds what it held before.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use gridgov_model::Layer;
use gridgov_store::gpkg::GpkgStore;
use gridgov_store::testing::TempDatabase;
use gridgov_store::{write, Query, Store};
use http_body_util::BodyExt;
use serde_json::Value as J;
use tower::ServiceExt;

mod common;

/// The payloads, each meant to break out of a value wherever it might be spliced into SQL
/// (PostgreSQL or SQLite), an expression language or a template.
const PAYLOADS: &[&str] = &[
    "' OR '1'='1",
    "' OR 1=1--",
    "1 OR 1=1",
    "1) OR (1=1",
    "\" OR \"\"=\"",
    "' OR ''='",
    "1' AND '1'='1",
    "520526101201' OR division_code LIKE '%",
    "%' OR '%'='",
    "' UNION SELECT id_card, phone, name FROM persons--",
    "1 UNION ALL SELECT NULL, NULL, NULL--",
    "' UNION SELECT sqlite_version(), NULL--",
    "1; DROP TABLE households;--",
    "'; DROP TABLE households; --",
    "1; DELETE FROM households",
    "'; UPDATE gridgov_users SET role = 'county_admin'; --",
    "1; SELECT pg_sleep(5)",
    "'; SELECT pg_sleep(5); --",
    "1 AND (SELECT 1 FROM pg_sleep(5)) = 1",
    "' || (SELECT pg_sleep(5)) || '",
    "1 AND 1=(SELECT count(*) FROM generate_series(1, 100000000))",
    "1 AND randomblob(500000000)",
    "' AND 1=like('ABCDEFG', upper(hex(randomblob(500000000)))) --",
    "${jndi:ldap://127.0.0.1:1389/a}",
    "${7*7}",
    "#{7*7}",
    "{{7*7}}",
    "<%= 7*7 %>",
    "exec('id')",
    "exec(java.lang.Runtime.getRuntime().exec('id'))",
    "__import__('os').system('id')",
    "＇ OR ＇1＇=＇1",
    "＂; DROP TABLE households; --",
    "’ OR ’1’=’1",
    "ʼ OR 1=1--",
    "\\' OR 1=1 --",
    "%27 OR 1=1 --",
    "*/ OR /*",
    "1e309",
    "-1",
    "0x7fffffffffffffff",
    "../../../../etc/passwd",
    "\u{0} OR 1=1",
];

/// Every byte but the unreserved ones percent-encoded.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A well-formed value per parameter name, so that a payload can also ride behind one.
fn valid(name: &str, household: i64) -> Option<String> {
    Some(match name {
        "layer" | "collection" => "households".into(),
        "id" | "fid" => household.to_string(),
        "z" | "x" | "offset" | "after" => "0".into(),
        "y" => "0.mvt".into(),
        "name" => "households.json".into(),
        "limit" => "5".into(),
        "bbox" => "104,26,105,27".into(),
        "division" => "520526101201".into(),
        "lon" => "104.5".into(),
        "lat" => "26.5".into(),
        "resolution" => "7".into(),
        "near" => "104.5,26.5".into(),
        "within" => "1000".into(),
        _ => return None,
    })
}

/// What an answer says, without what it echoes of the request (links, time stamps).
fn result(bytes: &[u8]) -> Vec<u8> {
    fn strip(v: &mut J) {
        match v {
            J::Object(m) => {
                m.remove("links");
                m.remove("timeStamp");
                m.remove("next");
                m.values_mut().for_each(strip);
            }
            J::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    match serde_json::from_slice::<J>(bytes) {
        Ok(mut v) => {
            strip(&mut v);
            v.to_string().into_bytes()
        }
        Err(_) => bytes.to_vec(),
    }
}

struct Answer {
    status: StatusCode,
    result: Vec<u8>,
    took: Duration,
}

async fn send(app: &axum::Router, method: &str, uri: &str, body: Option<&str>) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
        .unwrap();
    let start = Instant::now();
    let r = app.clone().oneshot(req).await.unwrap();
    let status = r.status();
    // An event stream never ends: its head is the answer.
    if r.headers()
        .get("content-type")
        .is_some_and(|t| t == "text/event-stream")
    {
        return Answer {
            status,
            result: result(b""),
            took: start.elapsed(),
        };
    }
    let bytes = r.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        result: result(&bytes),
        took: start.elapsed(),
    }
}

/// One route of the OpenAPI document: method, path template, its path and query parameters.
struct Route {
    method: String,
    path: String,
    in_path: Vec<String>,
    in_query: Vec<String>,
}

fn routes(doc: &J) -> Vec<Route> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let mut in_path = Vec::new();
            let mut in_query = Vec::new();
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap().to_owned();
                match p["in"].as_str().unwrap() {
                    "path" => in_path.push(name),
                    "query" => in_query.push(name),
                    _ => {}
                }
            }
            out.push(Route {
                method: method.to_uppercase(),
                path: path.clone(),
                in_path,
                in_query,
            });
        }
    }
    out
}

/// The route's path with each parameter filled: `with` for `target`, a valid value for the
/// others.
fn fill(route: &Route, household: i64, target: Option<(&str, &str)>) -> String {
    let mut path = route.path.clone();
    for name in &route.in_path {
        let value = match target {
            Some((t, v)) if t == name => v.to_owned(),
            _ => valid(name, household).unwrap_or_else(|| panic!("no value for {name}")),
        };
        path = path.replace(&format!("{{{name}}}"), &value);
    }
    path
}

/// The query a route needs to answer at all.
fn base_query(route: &Route) -> &'static str {
    if route.path == "/api/v1/lookup" && route.method == "GET" {
        "lon=104.5&lat=26.5&crs=wgs84"
    } else {
        ""
    }
}

fn with_query(path: &str, base: &str, extra: &str) -> String {
    match (base.is_empty(), extra.is_empty()) {
        (true, true) => path.to_owned(),
        (false, true) => format!("{path}?{base}"),
        (true, false) => format!("{path}?{extra}"),
        (false, false) => format!("{path}?{base}&{extra}"),
    }
}

async fn everything(store: &dyn Store) -> BTreeMap<&'static str, usize> {
    let mut out = BTreeMap::new();
    for layer in Layer::ALL {
        let n = store.query(*layer, &Query::default()).await.unwrap().len();
        out.insert(layer.name(), n);
    }
    out
}

/// Runs the corpus against a server on `served`, reading the truth from `store`.
async fn corpus(store: Arc<dyn Store>, served: Arc<dyn Store>) {
    write(store.as_ref(), common::county_ops()).await.unwrap();
    let household = store
        .query(Layer::Households, &Query::default())
        .await
        .unwrap()[0]
        .id
        .unwrap()
        .0;
    // A dispute under the household's id, so that `/api/v1/disputes/{id}` has a case.
    let mut dispute = gridgov_model::Feature::new(
        "520526101201".parse().unwrap(),
        Some(geo::point!(x: 104.5, y: 26.5).into()),
    )
    .with("category", "other")
    .with("channel", "people")
    .with("level", "village")
    .with("status", "open")
    .with(
        "opened_on",
        chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
    );
    dispute.id = Some(gridgov_model::FeatureId(household));
    write(
        store.as_ref(),
        vec![gridgov_store::Op::Insert(Layer::Disputes, dispute)],
    )
    .await
    .unwrap();
    // And a grid plan, so that `/api/v1/partition-plans/{id}` and its compare, export, units
    // and moves have one.
    let mut plan = gridgov_model::Feature::new("520526101201".parse().unwrap(), None)
        .with("name", "方案")
        .with("status", "draft")
        .with("parameters", r#"{"village": "520526101201"}"#)
        .with(
            "created_on",
            chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
        );
    plan.id = Some(gridgov_model::FeatureId(household));
    // One grid, the whole village, so that the plan has units.
    let village = store
        .query(Layer::Villages, &Query::default())
        .await
        .unwrap()
        .into_iter()
        .find(|v| v.division.as_str() == "520526101201")
        .unwrap();
    let grid = gridgov_model::Feature::new(village.division, village.geometry.clone())
        .with("code", "520526101201-G09")
        .with("name", "第九网格")
        .with("plan_id", household);
    write(
        store.as_ref(),
        vec![
            gridgov_store::Op::Insert(Layer::GridPlans, plan),
            gridgov_store::Op::Insert(Layer::Grids, grid),
        ],
    )
    .await
    .unwrap();
    // And a route plan, for `/api/v1/route-plans/{id}`.
    let mut day = gridgov_model::Feature::new("520526101000".parse().unwrap(), None)
        .with("name", "清运计划")
        .with(
            "service_date",
            chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
        )
        .with(
            "created_on",
            chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
        );
    day.id = Some(gridgov_model::FeatureId(household));
    write(
        store.as_ref(),
        vec![gridgov_store::Op::Insert(Layer::RoutePlans, day)],
    )
    .await
    .unwrap();
    let before = everything(store.as_ref()).await;
    let app = common::as_admin(served, &std::env::temp_dir()).await;
    let doc = send(&app, "GET", "/api/v1/openapi.json", None).await;
    assert_eq!(doc.status, StatusCode::OK);
    let doc: J = serde_json::from_slice(&doc.result).unwrap();
    let routes = routes(&doc);
    assert!(routes.len() >= 20, "only {} routes", routes.len());

    let mut tried = 0usize;
    let mut same = 0usize;
    let mut slowest = Duration::ZERO;
    let mut failures = Vec::new();
    for route in &routes {
        // Logging out would end the session the corpus runs in.
        if route.path.ends_with("/logout") {
            continue;
        }
        // The basemap's routes read a package file and fonts, never the store; their
        // malformed inputs are answered in tests/basemap.rs. The way to a station reads the
        // index's roads (this county has none); its inputs are checked in route_plans.rs.
        if ["/basemap", "/fonts/", "/styles/", "/api/v1/way"]
            .iter()
            .any(|p| route.path.starts_with(p))
        {
            continue;
        }
        let base = base_query(route);
        let body = (route.method != "GET" && route.method != "DELETE").then_some("{}");
        let baseline = if route.method == "GET" {
            let b = send(
                &app,
                "GET",
                &with_query(&fill(route, household, None), base, ""),
                None,
            )
            .await;
            assert!(
                b.status.is_success(),
                "{} {} answers {} without a payload: {}",
                route.method,
                route.path,
                b.status,
                String::from_utf8_lossy(&b.result)
            );
            Some(b)
        } else {
            None
        };
        for payload in PAYLOADS {
            let mut uris = Vec::new();
            for name in &route.in_path {
                let mut values = vec![encode(payload)];
                if let Some(v) = valid(name, household) {
                    values.push(encode(&format!("{v}{payload}")));
                }
                for v in values {
                    uris.push(with_query(
                        &fill(route, household, Some((name, &v))),
                        base,
                        "",
                    ));
                }
            }
            for name in &route.in_query {
                let mut values = vec![encode(payload)];
                if let Some(v) = valid(name, household) {
                    values.push(encode(&format!("{v}{payload}")));
                }
                for v in values {
                    uris.push(with_query(
                        &fill(route, household, None),
                        base,
                        &format!("{name}={v}"),
                    ));
                }
            }
            // A filter on a name no route takes: a field name made of the payload.
            if route.method == "GET" {
                uris.push(with_query(
                    &fill(route, household, None),
                    base,
                    &format!("{}=1", encode(payload)),
                ));
            }
            for uri in uris {
                tried += 1;
                let a = send(&app, &route.method, &uri, body).await;
                slowest = slowest.max(a.took);
                if a.took >= Duration::from_secs(1) {
                    failures.push(format!("{} {uri}: took {:?}", route.method, a.took));
                }
                if a.status.is_client_error() {
                    continue;
                }
                match &baseline {
                    Some(b) if a.status == b.status && a.result == b.result => same += 1,
                    _ => failures.push(format!(
                        "{} {uri}: {} (without the payload {})",
                        route.method,
                        a.status,
                        baseline
                            .as_ref()
                            .map_or("-".into(), |b| b.status.to_string())
                    )),
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {tried} requests went wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(tried > 2000, "only {tried} requests");
    eprintln!(
        "{tried} injected requests: {} refused with a 4xx, {same} gave the same result as without the payload; slowest {slowest:?}",
        tried - same
    );
    // Nothing was dropped, deleted or changed.
    assert_eq!(everything(store.as_ref()).await, before);
    let me = send(&app, "GET", "/api/v1/auth/me", None).await;
    assert_eq!(me.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_payload_gets_through_on_the_geopackage() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(GpkgStore::open(&dir.path().join("i.gpkg")).await.unwrap());
    corpus(store.clone(), store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_payload_gets_through_on_postgis() {
    let db = TempDatabase::create("injection").await.unwrap();
    let (store, served) = common::postgis_stores(&db).await;
    corpus(store, served).await;
    db.drop_now().await.unwrap();
}
