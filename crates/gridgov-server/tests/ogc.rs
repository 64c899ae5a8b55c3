//! OGC API – Features (`/ogc`) on the demo county: in-process (`oneshot`) and through a real
//! client, GDAL's OAPIF driver (`ogrinfo`, `ogr2ogr`), against a listening server.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, NaiveDate, Utc};
use geo::BoundingRect;
use gridgov_model::{Feature, FieldType, GeometryKind, Layer, Value};
use gridgov_server::{router, AppState, LiveIndex};
use gridgov_store::gpkg::GpkgStore;
use gridgov_store::{Op, Query, Store};
use http_body_util::BodyExt;
use serde_json::Value as J;
use tower::ServiceExt;

mod common;

/// The demo county (seed 42) in a GeoPackage, written once per test run and only read after.
fn demo_gpkg() -> &'static Path {
    static PATH: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &PATH
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("demo.gpkg");
            let out = path.clone();
            // Its own runtime on its own thread: the store must not outlive the runtime that
            // made its pool, and the calling test's runtime may be single-threaded.
            std::thread::spawn(move || {
                let rt = tokio::runtime::Runtime::new().unwrap();
                rt.block_on(async {
                    let demo = gridgov_demo::generate(42);
                    let store = GpkgStore::open(&out).await.unwrap();
                    let ops: Vec<Op> = demo
                        .dataset
                        .layers
                        .into_iter()
                        .flat_map(|(l, fs)| fs.into_iter().map(move |f| Op::Insert(l, f)))
                        .collect();
                    gridgov_store::write(&store, ops).await.unwrap();
                });
            })
            .join()
            .unwrap();
            (dir, path)
        })
        .1
}

/// The router over the demo store, signed in as a county admin, and the store.
async fn app() -> (axum::Router, Arc<dyn Store>) {
    let (raw, store, token) = raw_app().await;
    (common::as_user(raw, &token), store)
}

/// The router over the demo store as it is served (every request needs a session), the store,
/// and the token of a county admin.
async fn raw_app() -> (axum::Router, Arc<dyn Store>, String) {
    static ACCOUNTS: AtomicUsize = AtomicUsize::new(0);
    let store: Arc<dyn Store> = Arc::new(GpkgStore::open(demo_gpkg()).await.unwrap());
    let index = LiveIndex::start(store.clone()).await.unwrap();
    let state = AppState::new(store.clone(), "geopackage", std::env::temp_dir(), index, 0);
    let app = router(state);
    // The tests share one demo file: each signs in with an account of its own.
    let name = format!("admin{}", ACCOUNTS.fetch_add(1, Ordering::Relaxed));
    let token = common::sign_in(
        &app,
        store.as_ref(),
        &name,
        gridgov_model::Role::CountyAdmin,
        "520526000000",
    )
    .await;
    (app, store, token)
}

struct Reply {
    status: StatusCode,
    content_type: String,
    content_crs: Option<String>,
    body: J,
}

async fn get(app: &axum::Router, uri: &str) -> Reply {
    let r = app
        .clone()
        .oneshot(
            Request::get(uri)
                .header("host", "gridgov.test:8080")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let header = |name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let content_type = header("content-type").unwrap_or_default();
    let content_crs = header("content-crs");
    let status = r.status();
    let bytes = r.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        content_type,
        content_crs,
        body: serde_json::from_slice(&bytes).unwrap_or(J::Null),
    }
}

/// The path and query of an absolute link, to send it in-process.
fn local(href: &str) -> String {
    href.strip_prefix("http://gridgov.test:8080")
        .unwrap_or_else(|| panic!("link {href} is not on the request's host"))
        .to_owned()
}

fn link<'a>(doc: &'a J, rel: &str) -> Option<&'a str> {
    doc["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == rel)
        .map(|l| l["href"].as_str().unwrap())
}

async fn all(store: &dyn Store, layer: Layer) -> Vec<Feature> {
    store.query(layer, &Query::default()).await.unwrap()
}

/// The masked form of a stored feature's properties, as the API must send them.
/// The properties a county admin (the tests' account) is shown: ID-card and phone numbers
/// masked as the model's rules say.
fn expected_properties(layer: Layer, f: &Feature) -> BTreeMap<String, J> {
    let mut f = f.clone();
    gridgov_model::Role::CountyAdmin.mask(layer, &mut f);
    let mut out = BTreeMap::new();
    out.insert("division_code".to_owned(), J::from(f.division.as_str()));
    for def in layer.fields() {
        let v = match f.get(def.name) {
            None => J::Null,
            Some(v) => v.to_json(),
        };
        out.insert(def.name.to_owned(), v);
    }
    out
}

#[tokio::test]
async fn landing_page_and_conformance_link_where_clients_go() {
    let (app, _) = app().await;
    let r = get(&app, "/ogc").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "application/json");
    assert_eq!(link(&r.body, "self"), Some("http://gridgov.test:8080/ogc"));
    let conf = get(&app, &local(link(&r.body, "conformance").unwrap())).await;
    assert_eq!(conf.status, StatusCode::OK);
    let classes: Vec<&str> = conf.body["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for c in [
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    ] {
        assert!(classes.contains(&c), "{c} missing from {classes:?}");
    }
    // The OpenAPI description it claims is there, and lists the routes with their parameters.
    assert!(classes.iter().any(|c| c.ends_with("/conf/oas30")));
    let api = get(&app, &local(link(&r.body, "service-desc").unwrap())).await;
    assert_eq!(api.status, StatusCode::OK);
    assert_eq!(
        api.content_type,
        "application/vnd.oai.openapi+json;version=3.0"
    );
    assert_eq!(
        api.body["servers"][0]["url"],
        "http://gridgov.test:8080/ogc"
    );
    let items = &api.body["paths"]["/collections/{collectionId}/items"]["get"]["parameters"];
    for p in ["limit", "offset", "bbox", "datetime", "crs", "bbox-crs"] {
        let reference = format!("#/components/parameters/{p}");
        assert!(
            items
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["$ref"] == reference.as_str()),
            "{p}"
        );
        assert_eq!(api.body["components"]["parameters"][p]["name"], p);
    }
    let data = get(&app, &local(link(&r.body, "data").unwrap())).await;
    assert_eq!(data.status, StatusCode::OK);
    // Behind a TLS proxy, links say https.
    let r = app
        .clone()
        .oneshot(
            Request::get("/ogc")
                .header("host", "map.example.cn")
                .header("x-forwarded-proto", "https")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let body: J =
        serde_json::from_slice(&r.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(
        link(&body, "data"),
        Some("https://map.example.cn/ogc/collections")
    );
}

#[tokio::test]
async fn every_layer_is_a_collection_with_its_extents() {
    let (app, store) = app().await;
    let r = get(&app, "/ogc/collections").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "application/json");
    let list = r.body["collections"].as_array().unwrap();
    let ids: Vec<&str> = list.iter().map(|c| c["id"].as_str().unwrap()).collect();
    let names: Vec<&str> = Layer::ALL.iter().map(|l| l.name()).collect();
    assert_eq!(ids, names);
    for (c, layer) in list.iter().zip(Layer::ALL) {
        assert!(
            c["title"].as_str().unwrap().contains(layer.zh()),
            "{}",
            c["title"]
        );
        assert_eq!(c["itemType"], "feature");
        let items = link(c, "items").unwrap();
        assert_eq!(
            items,
            format!("http://gridgov.test:8080/ogc/collections/{layer}/items")
        );
        let features = all(store.as_ref(), *layer).await;
        if layer.geometry() == GeometryKind::None {
            assert!(c["extent"]["spatial"].is_null(), "{layer}");
        } else if features.is_empty() {
            // Nothing of the layer yet (routes are computed): no box to give.
            assert!(
                c["extent"]["spatial"]["bbox"].is_null() || c["extent"]["spatial"].is_null(),
                "{layer}: {}",
                c["extent"]
            );
        } else {
            // The extent is the union of the features' boxes.
            let mut b = [180.0_f64, 90.0, -180.0, -90.0];
            for f in &features {
                let r = f.geometry.as_ref().unwrap().bounding_rect().unwrap();
                b = [
                    b[0].min(r.min().x),
                    b[1].min(r.min().y),
                    b[2].max(r.max().x),
                    b[3].max(r.max().y),
                ];
            }
            let got: Vec<f64> = c["extent"]["spatial"]["bbox"][0]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            assert_eq!(got, b.to_vec(), "{layer}");
            assert_eq!(
                c["storageCrs"],
                "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
            );
            assert!(c["crs"]
                .as_array()
                .unwrap()
                .contains(&J::from("http://www.opengis.net/def/crs/EPSG/0/4490")));
        }
        let interval = &c["extent"]["temporal"]["interval"][0];
        match time_field(*layer) {
            None => assert!(interval.is_null(), "{layer}"),
            // A layer the county holds nothing of yet (route plans are computed) has no extent.
            Some(_) if features.is_empty() => {
                assert!(
                    interval.is_null() || interval[0].is_null(),
                    "{layer}: {interval}"
                );
            }
            Some((field, _)) => {
                let first = features
                    .iter()
                    .filter_map(|f| f.get(field))
                    .map(Value::to_text)
                    .min()
                    .unwrap();
                let last = features
                    .iter()
                    .filter_map(|f| f.get(field))
                    .map(Value::to_text)
                    .max()
                    .unwrap();
                assert!(
                    interval[0].as_str().unwrap().starts_with(&first),
                    "{layer}: {interval}"
                );
                assert!(
                    interval[1].as_str().unwrap().starts_with(&last),
                    "{layer}: {interval}"
                );
            }
        }
        let one = get(&app, &format!("/ogc/collections/{layer}")).await;
        assert_eq!(one.status, StatusCode::OK);
        assert_eq!(&one.body, c);
    }
}

/// The time field the API filters, found here independently of the server's choice.
fn time_field(layer: Layer) -> Option<(&'static str, FieldType)> {
    let expected = match layer {
        Layer::GridPlans => "created_on",
        Layer::Tenancies => "check_in",
        Layer::SupervisedPersons => "start_date",
        Layer::PositionReports => "reported_at",
        Layer::Disputes => "opened_on",
        Layer::DisputeSteps => "at",
        Layer::RoutePlans => "service_date",
        _ => {
            assert!(
                !layer
                    .fields()
                    .iter()
                    .any(|f| matches!(f.ty, FieldType::Date | FieldType::DateTime)),
                "{layer} has a time field the API ignores"
            );
            return None;
        }
    };
    layer.field(expected).map(|f| (f.name, f.ty))
}

/// Follows `next` links from `first` and returns every feature id, page by page.
async fn walk(app: &axum::Router, first: &str) -> (Vec<i64>, u64) {
    let mut ids = Vec::new();
    let mut uri = first.to_owned();
    let mut matched = None;
    let mut pages = 0;
    loop {
        let r = get(app, &uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
        assert_eq!(r.content_type, "application/geo+json");
        let n = r.body["numberMatched"].as_u64().unwrap();
        assert_eq!(
            *matched.get_or_insert(n),
            n,
            "numberMatched changed while paging"
        );
        let features = r.body["features"].as_array().unwrap();
        assert_eq!(
            r.body["numberReturned"].as_u64().unwrap(),
            features.len() as u64
        );
        ids.extend(features.iter().map(|f| f["id"].as_i64().unwrap()));
        pages += 1;
        assert!(pages < 10_000, "paging does not end");
        match link(&r.body, "next") {
            Some(next) => uri = local(next),
            None => break,
        }
    }
    (ids, matched.unwrap_or(0))
}

#[tokio::test]
async fn next_links_cover_every_feature_exactly_once() {
    let (app, store) = app().await;
    let expected: Vec<i64> = all(store.as_ref(), Layer::Disputes)
        .await
        .iter()
        .map(|f| f.id.unwrap().0)
        .collect();
    assert!(expected.len() > 1000);
    let (ids, matched) = walk(&app, "/ogc/collections/disputes/items?limit=333").await;
    assert_eq!(matched, expected.len() as u64);
    assert_eq!(ids, expected, "every feature once, in id order");

    // Default page size, and prev links.
    let r = get(&app, "/ogc/collections/disputes/items").await;
    assert_eq!(r.body["numberReturned"], 100);
    assert!(link(&r.body, "prev").is_none());
    let second = get(&app, &local(link(&r.body, "next").unwrap())).await;
    assert_eq!(second.body["features"][0]["id"], expected[100]);
    let back = get(&app, &local(link(&second.body, "prev").unwrap())).await;
    assert_eq!(back.body["features"], r.body["features"]);

    // A limit beyond the cap is served as the cap, and says so in its links.
    let r = get(&app, "/ogc/collections/households/items?limit=1000000000").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["numberReturned"], 10_000);
    assert!(link(&r.body, "next").unwrap().contains("limit=10000"));
    let huge = "99999999999999999999999999";
    let r = get(&app, &format!("/ogc/collections/grids/items?limit={huge}")).await;
    assert_eq!(r.status, StatusCode::OK);
    // An offset past the end is an empty page, not an error.
    let r = get(
        &app,
        &format!("/ogc/collections/grids/items?offset={}", u64::MAX),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["numberReturned"], 0);
    assert!(r.body["numberMatched"].as_u64().unwrap() > 0);
    assert!(r.body["timeStamp"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn bbox_selects_what_intersects_the_box() {
    let (app, store) = app().await;
    let features = all(store.as_ref(), Layer::Households).await;
    let county = all(store.as_ref(), Layer::Counties).await[0]
        .geometry
        .as_ref()
        .unwrap()
        .bounding_rect()
        .unwrap();
    // The south-west quarter of the county.
    let b = [
        county.min().x,
        county.min().y,
        county.center().x,
        county.center().y,
    ];
    let inside: Vec<i64> = features
        .iter()
        .filter(|f| {
            let r = f.geometry.as_ref().unwrap().bounding_rect().unwrap();
            r.min().x <= b[2] && r.max().x >= b[0] && r.min().y <= b[3] && r.max().y >= b[1]
        })
        .map(|f| f.id.unwrap().0)
        .collect();
    assert!(!inside.is_empty() && inside.len() < features.len());
    let text = format!("{},{},{},{}", b[0], b[1], b[2], b[3]);
    let (ids, matched) = walk(
        &app,
        &format!("/ogc/collections/households/items?limit=5000&bbox={text}"),
    )
    .await;
    assert_eq!(matched, inside.len() as u64);
    assert_eq!(ids, inside);
    // The same box with heights, and latitude first in EPSG:4490.
    let r = get(
        &app,
        &format!(
            "/ogc/collections/households/items?limit=1&bbox={},{},0,{},{},100",
            b[0], b[1], b[2], b[3]
        ),
    )
    .await;
    assert_eq!(r.body["numberMatched"], inside.len());
    let r = get(
        &app,
        &format!(
            "/ogc/collections/households/items?limit=1&bbox={},{},{},{}&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4490",
            b[1], b[0], b[3], b[2]
        ),
    )
    .await;
    assert_eq!(r.body["numberMatched"], inside.len());
    // A collection without geometry has nothing in any box.
    let r = get(&app, &format!("/ogc/collections/persons/items?bbox={text}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["numberMatched"], 0);
}

fn date_of(f: &Feature, field: &str) -> NaiveDate {
    f.get(field).and_then(Value::as_date).unwrap()
}

fn instant_of(f: &Feature, field: &str) -> DateTime<Utc> {
    match f.get(field) {
        Some(Value::DateTime(t)) => *t,
        other => panic!("{field} is {other:?}"),
    }
}

async fn matched(app: &axum::Router, uri: &str) -> u64 {
    let r = get(app, uri).await;
    assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
    r.body["numberMatched"].as_u64().unwrap()
}

#[tokio::test]
async fn datetime_filters_dates_and_instants() {
    let (app, store) = app().await;

    // Disputes: a date field.
    let disputes = all(store.as_ref(), Layer::Disputes).await;
    let mut days: Vec<NaiveDate> = disputes.iter().map(|f| date_of(f, "opened_on")).collect();
    days.sort();
    let (a, b) = (days[days.len() / 3], days[2 * days.len() / 3]);
    assert!(a < b);
    let count = |keep: &dyn Fn(NaiveDate) -> bool| {
        disputes
            .iter()
            .filter(|f| keep(date_of(f, "opened_on")))
            .count() as u64
    };
    let items = "/ogc/collections/disputes/items?limit=1&datetime=";
    assert_eq!(
        matched(&app, &format!("{items}{a}")).await,
        count(&|d| d == a)
    );
    assert_eq!(
        matched(&app, &format!("{items}{a}T10:00:00Z")).await,
        count(&|d| d == a)
    );
    assert_eq!(
        matched(&app, &format!("{items}{a}/{b}")).await,
        count(&|d| a <= d && d <= b)
    );
    assert_eq!(
        matched(&app, &format!("{items}{a}T00:00:00Z/{b}T23:00:00Z")).await,
        count(&|d| a <= d && d <= b)
    );
    assert_eq!(
        matched(&app, &format!("{items}../{b}")).await,
        count(&|d| d <= b)
    );
    assert_eq!(
        matched(&app, &format!("{items}{a}/..")).await,
        count(&|d| a <= d)
    );
    assert_eq!(
        matched(&app, &format!("{items}{a}/")).await,
        count(&|d| a <= d)
    );
    // As GDAL writes dates: `2024-01-02T`.
    assert_eq!(
        matched(&app, &format!("{items}{a}T%2F..")).await,
        count(&|d| a <= d)
    );
    // Paging through a filtered listing.
    let (ids, _) = walk(
        &app,
        &format!("/ogc/collections/disputes/items?limit=97&datetime={a}/{b}"),
    )
    .await;
    let expected: Vec<i64> = disputes
        .iter()
        .filter(|f| (a..=b).contains(&date_of(f, "opened_on")))
        .map(|f| f.id.unwrap().0)
        .collect();
    assert_eq!(ids, expected);

    // Position reports: a date-time field.
    let reports = all(store.as_ref(), Layer::PositionReports).await;
    let mut times: Vec<DateTime<Utc>> = reports
        .iter()
        .map(|f| instant_of(f, "reported_at"))
        .collect();
    times.sort();
    let (t0, t1) = (times[times.len() / 4], times[3 * times.len() / 4]);
    let count = |keep: &dyn Fn(DateTime<Utc>) -> bool| {
        reports
            .iter()
            .filter(|f| keep(instant_of(f, "reported_at")))
            .count() as u64
    };
    let rfc = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let items = "/ogc/collections/position_reports/items?limit=1&datetime=";
    assert_eq!(
        matched(&app, &format!("{items}{}", rfc(t0))).await,
        count(&|t| t == t0)
    );
    assert!(count(&|t| t == t0) >= 1);
    // The same instant written in Beijing time.
    let beijing = t0
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
        .replace('+', "%2B");
    assert_eq!(
        matched(&app, &format!("{items}{beijing}")).await,
        count(&|t| t == t0)
    );
    assert_eq!(
        matched(&app, &format!("{items}{}/{}", rfc(t0), rfc(t1))).await,
        count(&|t| t0 <= t && t <= t1)
    );
    assert_eq!(
        matched(&app, &format!("{items}../{}", rfc(t1))).await,
        count(&|t| t <= t1)
    );
    assert_eq!(
        matched(&app, &format!("{items}{}/..", rfc(t0))).await,
        count(&|t| t0 <= t)
    );
    // A date covers its whole day.
    let day = t0.date_naive();
    assert_eq!(
        matched(&app, &format!("{items}{day}")).await,
        count(&|t| t.date_naive() == day)
    );
}

#[tokio::test]
async fn features_come_masked_with_every_field() {
    let (app, store) = app().await;
    let persons = all(store.as_ref(), Layer::Persons).await;
    let p = &persons[persons.len() / 2];
    let id = p.id.unwrap().0;
    let r = get(&app, &format!("/ogc/collections/persons/items/{id}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "application/geo+json");
    assert_eq!(r.body["id"], id);
    let full = p.text("id_card").unwrap();
    let shown = r.body["properties"]["id_card"].as_str().unwrap();
    assert_eq!(shown.len(), full.len());
    assert_eq!(shown[..6], full[..6]);
    assert!(shown.contains("********"), "{shown}");
    assert!(!r.body.to_string().contains(full), "the full number leaked");
    let props: BTreeMap<String, J> = serde_json::from_value(r.body["properties"].clone()).unwrap();
    assert_eq!(props, expected_properties(Layer::Persons, p));
    assert_eq!(
        link(&r.body, "collection"),
        Some("http://gridgov.test:8080/ogc/collections/persons")
    );
    // In listings too.
    let r = get(&app, "/ogc/collections/persons/items?limit=10000").await;
    for f in r.body["features"].as_array().unwrap() {
        assert!(f["properties"]["id_card"]
            .as_str()
            .unwrap()
            .contains("********"));
    }
    // Every field of the layer is present, null when empty.
    let disputes = all(store.as_ref(), Layer::Disputes).await;
    let open = disputes
        .iter()
        .find(|f| f.get("closed_on").is_none())
        .unwrap();
    let r = get(
        &app,
        &format!("/ogc/collections/disputes/items/{}", open.id.unwrap().0),
    )
    .await;
    assert!(r.body["properties"]["closed_on"].is_null());
    assert!(r.body["properties"]
        .as_object()
        .unwrap()
        .contains_key("closed_on"));
}

#[tokio::test]
async fn epsg_4490_puts_latitude_first() {
    let (app, store) = app().await;
    let h = &all(store.as_ref(), Layer::Households).await[0];
    let id = h.id.unwrap().0;
    let p = match h.geometry.as_ref().unwrap() {
        geo::Geometry::Point(p) => *p,
        other => panic!("{other:?}"),
    };
    let plain = get(&app, &format!("/ogc/collections/households/items/{id}")).await;
    assert_eq!(
        plain.content_crs.as_deref(),
        Some("<http://www.opengis.net/def/crs/OGC/1.3/CRS84>")
    );
    assert_eq!(
        plain.body["geometry"]["coordinates"],
        serde_json::json!([p.x(), p.y()])
    );
    let r = get(
        &app,
        &format!(
            "/ogc/collections/households/items/{id}?crs=http://www.opengis.net/def/crs/EPSG/0/4490"
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.content_crs.as_deref(),
        Some("<http://www.opengis.net/def/crs/EPSG/0/4490>")
    );
    assert_eq!(
        r.body["geometry"]["coordinates"],
        serde_json::json!([p.y(), p.x()])
    );
    // Listings too, and their links keep the crs.
    let r = get(
        &app,
        "/ogc/collections/households/items?limit=2&crs=%5BEPSG%3A4490%5D",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body["features"][0]["geometry"]["coordinates"],
        serde_json::json!([p.y(), p.x()])
    );
    assert!(link(&r.body, "next")
        .unwrap()
        .contains("crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F4490"));
    let r = get(&app, "/ogc/collections/households/items?crs=EPSG:3857").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn bad_requests_are_problems_not_crashes() {
    let (app, _) = app().await;
    for (uri, status, needle) in [
        (
            "/ogc/collections/nope",
            StatusCode::NOT_FOUND,
            "unknown layer 'nope'",
        ),
        (
            "/ogc/collections/nope/items",
            StatusCode::NOT_FOUND,
            "unknown layer 'nope'",
        ),
        (
            "/ogc/collections/villages/items/999999",
            StatusCode::NOT_FOUND,
            "999999",
        ),
        (
            "/ogc/collections/villages/items/abc",
            StatusCode::NOT_FOUND,
            "abc",
        ),
        (
            "/ogc/collections/villages/items?bbox=a,b,c,d",
            StatusCode::BAD_REQUEST,
            "bbox",
        ),
        (
            "/ogc/collections/villages/items?bbox=1,2,3",
            StatusCode::BAD_REQUEST,
            "bbox",
        ),
        (
            "/ogc/collections/villages/items?bbox=105,26,104,27",
            StatusCode::BAD_REQUEST,
            "minimum",
        ),
        (
            "/ogc/collections/villages/items?bbox=104,26,105,95",
            StatusCode::BAD_REQUEST,
            "bbox",
        ),
        (
            "/ogc/collections/villages/items?limit=0",
            StatusCode::BAD_REQUEST,
            "limit",
        ),
        (
            "/ogc/collections/villages/items?limit=-1",
            StatusCode::BAD_REQUEST,
            "limit",
        ),
        (
            "/ogc/collections/villages/items?limit=ten",
            StatusCode::BAD_REQUEST,
            "limit",
        ),
        (
            "/ogc/collections/villages/items?offset=-5",
            StatusCode::BAD_REQUEST,
            "offset",
        ),
        (
            "/ogc/collections/villages/items?limit=1&limit=2",
            StatusCode::BAD_REQUEST,
            "more than once",
        ),
        (
            "/ogc/collections/villages/items?bbbox=1,2,3,4",
            StatusCode::BAD_REQUEST,
            "unknown parameter 'bbbox'",
        ),
        (
            "/ogc/collections/villages/items?f=html",
            StatusCode::BAD_REQUEST,
            "'f'",
        ),
        (
            "/ogc/collections/villages/items?datetime=2024-01-01",
            StatusCode::BAD_REQUEST,
            "has no time",
        ),
        (
            "/ogc/collections/disputes/items?datetime=yesterday",
            StatusCode::BAD_REQUEST,
            "datetime",
        ),
        (
            "/ogc/collections/disputes/items?datetime=2024-13-01",
            StatusCode::BAD_REQUEST,
            "datetime",
        ),
        (
            "/ogc/collections/disputes/items?datetime=../..",
            StatusCode::BAD_REQUEST,
            "open at both ends",
        ),
        (
            "/ogc/collections/disputes/items?datetime=2024-02-01/2024-01-01",
            StatusCode::BAD_REQUEST,
            "before it starts",
        ),
        (
            "/ogc/collections/disputes/items?datetime=2024-01-01/2024-02-01/2024-03-01",
            StatusCode::BAD_REQUEST,
            "datetime",
        ),
        (
            "/ogc/collections/position_reports/items?datetime=2024-01-01T25:00:00Z",
            StatusCode::BAD_REQUEST,
            "datetime",
        ),
        (
            "/ogc/collections/households/items?bbox-crs=EPSG:4490",
            StatusCode::BAD_REQUEST,
            "needs 'bbox'",
        ),
        (
            "/ogc/collections/households/items/1?crs=EPSG:2000",
            StatusCode::BAD_REQUEST,
            "crs",
        ),
        (
            "/ogc/collections/households/items/1?limit=3",
            StatusCode::BAD_REQUEST,
            "unknown parameter",
        ),
    ] {
        let r = get(&app, uri).await;
        assert_eq!(r.status, status, "{uri}: {}", r.body);
        assert_eq!(r.content_type, "application/problem+json", "{uri}");
        assert!(
            r.body["detail"].as_str().unwrap().contains(needle),
            "{uri}: {}",
            r.body
        );
    }
}

// ------------------------------------------------------------------------------------------
// GDAL's OAPIF driver against a listening server

/// Runs a GDAL program that signs in with the headers in `auth` (`GDAL_HTTP_HEADER_FILE`).
fn run(auth: &Path, program: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(program)
        .args(args)
        .env("CPL_DEBUG", "OFF")
        .env("GDAL_HTTP_HEADER_FILE", auth)
        .output()
        .unwrap_or_else(|e| panic!("{program} could not run (is GDAL installed?): {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{program} {args:?} failed: {stderr}");
    assert!(!stderr.contains("ERROR"), "{program} {args:?}: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

/// Compares a property as GDAL wrote it back with the value the API must send.
fn same(layer: Layer, field: &str, gdal: &J, expected: &J) -> bool {
    let ty = if field == "division_code" {
        FieldType::Text
    } else {
        layer.field(field).unwrap().ty
    };
    match (ty, gdal, expected) {
        (_, J::Null, J::Null) => true,
        (FieldType::Real, g, e) => (g.as_f64().unwrap() - e.as_f64().unwrap()).abs() < 1e-9,
        (FieldType::DateTime, J::String(g), J::String(e)) => {
            DateTime::parse_from_rfc3339(g).unwrap() == DateTime::parse_from_rfc3339(e).unwrap()
        }
        (_, g, e) => g == e,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_lists_every_collection_and_reads_every_feature() {
    let (app, store, token) = raw_app().await;
    // GDAL signs in as QGIS users do: with a bearer token in a header file.
    let header_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        header_file.path(),
        format!("Authorization: Bearer {token}\n"),
    )
    .unwrap();
    let auth = header_file.path().to_path_buf();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let url = format!("OAPIF:http://127.0.0.1:{port}/ogc");
    let dir = tempfile::tempdir().unwrap();

    let listing = {
        let url = url.clone();
        let auth = auth.clone();
        tokio::task::spawn_blocking(move || run(&auth, "ogrinfo", &["-ro", "-so", "-q", &url]))
            .await
            .unwrap()
    };
    for layer in Layer::ALL {
        assert!(
            listing
                .lines()
                .any(|l| l.contains(&format!(": {layer} (title: "))),
            "{layer} missing from:\n{listing}"
        );
    }
    assert_eq!(
        listing.lines().filter(|l| l.contains("(title: ")).count(),
        Layer::ALL.len()
    );

    for layer in Layer::ALL {
        let features = all(store.as_ref(), *layer).await;
        // GDAL asks 10 features a page unless told otherwise: the big layers are read in
        // pages of 1000 to keep the test short; every other layer with GDAL's default.
        let page = if features.len() > 3000 { "1000" } else { "10" };
        let out = dir.path().join(format!("{layer}.geojson"));
        let written = {
            let (url, out, auth) = (url.clone(), out.clone(), auth.clone());
            let name = layer.name();
            tokio::task::spawn_blocking(move || {
                run(
                    &auth,
                    "ogr2ogr",
                    &[
                        "-f",
                        "GeoJSON",
                        out.to_str().unwrap(),
                        &url,
                        name,
                        "-oo",
                        &format!("PAGE_SIZE={page}"),
                        "-preserve_fid",
                    ],
                );
                std::fs::read(&out).unwrap()
            })
            .await
            .unwrap()
        };
        let fc: J = serde_json::from_slice(&written).unwrap();
        let got = fc["features"].as_array().unwrap();
        assert_eq!(got.len(), features.len(), "{layer}: feature count");
        let by_id: BTreeMap<i64, &J> = got.iter().map(|f| (f["id"].as_i64().unwrap(), f)).collect();
        assert_eq!(by_id.len(), features.len(), "{layer}: ids unique");
        // Every feature's attributes (the ID-card numbers masked) and first coordinate.
        for f in &features {
            let id = f.id.unwrap().0;
            let g = by_id
                .get(&id)
                .unwrap_or_else(|| panic!("{layer}: feature {id} not read"));
            for (k, v) in expected_properties(*layer, f) {
                let read = &g["properties"][k.as_str()];
                assert!(
                    same(*layer, &k, read, &v),
                    "{layer} {id}.{k}: GDAL read {read}, the store has {v}"
                );
            }
            if let Some(geom) = &f.geometry {
                let first = geo::CoordsIter::coords_iter(geom).next().unwrap();
                let mut c = &g["geometry"]["coordinates"];
                while c[0].is_array() {
                    c = &c[0];
                }
                assert!(
                    (c[0].as_f64().unwrap() - first.x).abs() < 1e-9
                        && (c[1].as_f64().unwrap() - first.y).abs() < 1e-9,
                    "{layer} {id}: {c} vs {first:?}"
                );
            } else {
                assert!(g["geometry"].is_null(), "{layer} {id}");
            }
        }
    }

    // A feature by id, and a spatial filter, as GDAL sends them.
    let (persons, households) = (
        all(store.as_ref(), Layer::Persons).await,
        all(store.as_ref(), Layer::Households).await,
    );
    let p = &persons[7];
    let fid = p.id.unwrap().0.to_string();
    let county = all(store.as_ref(), Layer::Counties).await[0]
        .geometry
        .as_ref()
        .unwrap()
        .bounding_rect()
        .unwrap();
    let (x0, y0, x1, y1) = (
        county.min().x,
        county.min().y,
        county.center().x,
        county.center().y,
    );
    let in_box = households
        .iter()
        .filter(|h| {
            let r = h.geometry.as_ref().unwrap().bounding_rect().unwrap();
            r.min().x <= x1 && r.max().x >= x0 && r.min().y <= y1 && r.max().y >= y0
        })
        .count();
    let (one, spat) = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            let one = run(
                &auth,
                "ogrinfo",
                &["-ro", "-q", &url, "persons", "-fid", &fid],
            );
            let spat = run(
                &auth,
                "ogrinfo",
                &[
                    "-ro",
                    "-so",
                    &url,
                    "households",
                    "-oo",
                    "PAGE_SIZE=10000",
                    "-spat",
                    &x0.to_string(),
                    &y0.to_string(),
                    &x1.to_string(),
                    &y1.to_string(),
                ],
            );
            (one, spat)
        })
        .await
        .unwrap()
    };
    let masked = expected_properties(Layer::Persons, p)["id_card"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        one.contains(&format!("id_card (String) = {masked}")),
        "{one}"
    );
    assert!(!one.contains(p.text("id_card").unwrap()), "{one}");
    assert!(
        spat.contains(&format!("Feature Count: {in_box}")),
        "{in_box} expected:\n{spat}"
    );
}
