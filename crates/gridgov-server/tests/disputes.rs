//! The dispute workflow over HTTP: report → accept → mediate → resolve, failure and deadline
//! escalation village → township → county with a clock the test controls, 409 naming the
//! state, `If-Match`, who may act at which level, scope, and the items API not bypassing it;
//! on both stores (PostGIS as the row-security role).
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use chrono::{DateTime, TimeZone, Utc};
use geo::{polygon, Geometry, MultiPolygon, Polygon};
use gridgov_model::{Feature, FeatureId, Layer, Role};
use gridgov_server::disputes::Settings;
use gridgov_server::{router, AppState, LiveIndex};
use gridgov_store::gpkg::GpkgStore;
use gridgov_store::{write, Op, Store};
use serde_json::{json, Value};

mod common;
use common::{as_user, postgis_stores, request, sign_in};

const VILLAGE_A: &str = "520526101201";
const VILLAGE_B: &str = "520526102201";

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
    polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)]
}

fn multi(x0: f64, y0: f64, x1: f64, y1: f64) -> Geometry<f64> {
    Geometry::MultiPolygon(MultiPolygon(vec![rect(x0, y0, x1, y1)]))
}

/// A county of two townships, each with one village; village A has an effective grid plan of
/// two grids (west G01, east G02).
fn county() -> Vec<Op> {
    let d = |s: &str| s.parse().unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let mut plan = Feature::new(d("520526101000"), None)
        .with("name", "方案")
        .with("status", "effective")
        .with("created_on", day)
        .with("effective_from", day);
    plan.id = Some(FeatureId(1));
    let mut ops = vec![
        Op::Insert(
            Layer::Counties,
            Feature::new(d("520526000000"), Some(multi(104.0, 26.0, 105.0, 27.0)))
                .with("code", "520526000000")
                .with("name", "威宁县"),
        ),
        Op::Insert(Layer::GridPlans, plan),
    ];
    for (t, v, x0, name) in [
        ("520526101000", VILLAGE_A, 104.0, "石门"),
        ("520526102000", VILLAGE_B, 104.5, "草海"),
    ] {
        ops.push(Op::Insert(
            Layer::Townships,
            Feature::new(d(t), Some(multi(x0, 26.0, x0 + 0.5, 27.0)))
                .with("code", t)
                .with("name", format!("{name}镇")),
        ));
        ops.push(Op::Insert(
            Layer::Villages,
            Feature::new(d(v), Some(multi(x0, 26.0, x0 + 0.5, 27.0)))
                .with("code", v)
                .with("name", format!("{name}村")),
        ));
    }
    for (g, x0) in [("G01", 104.0), ("G02", 104.25)] {
        ops.push(Op::Insert(
            Layer::Grids,
            Feature::new(d(VILLAGE_A), Some(rect(x0, 26.0, x0 + 0.25, 27.0).into()))
                .with("code", format!("{VILLAGE_A}-{g}"))
                .with("name", format!("网格{g}"))
                .with("plan_id", 1_i64)
                .with("worker_name", "李四")
                .with("worker_phone", "13900000000"),
        ));
    }
    ops
}

/// A clock the test moves.
#[derive(Clone)]
struct TestClock(Arc<AtomicI64>);

impl TestClock {
    fn at(t: DateTime<Utc>) -> Self {
        TestClock(Arc::new(AtomicI64::new(t.timestamp())))
    }
    fn advance_days(&self, days: i64) {
        self.0.fetch_add(days * 86_400, Ordering::SeqCst);
    }
    fn settings(&self) -> Settings {
        let t = self.0.clone();
        Settings {
            clock: Arc::new(move || Utc.timestamp_opt(t.load(Ordering::SeqCst), 0).unwrap()),
            ..Settings::default()
        }
    }
}

/// The users of the tests, each a router that sends as them.
struct Users {
    worker: axum::Router,
    village: axum::Router,
    village_b: axum::Router,
    township: axum::Router,
    admin: axum::Router,
    screen: axum::Router,
}

async fn users(serve: Arc<dyn Store>, accounts: &dyn Store, clock: &TestClock) -> Users {
    let web = tempfile::tempdir().unwrap();
    let index = LiveIndex::start(serve.clone()).await.unwrap();
    let app = router(
        AppState::new(serve, "test", web.path().to_path_buf(), index, 1 << 20)
            .with_disputes(clock.settings()),
    );
    let user = |name: &'static str, role: Role, scope: &'static str| {
        let app = app.clone();
        async move {
            as_user(
                app.clone(),
                &sign_in(&app, accounts, name, role, scope).await,
            )
        }
    };
    Users {
        worker: user("gw", Role::GridWorker, "520526101201-G01").await,
        village: user("vo", Role::VillageOfficer, VILLAGE_A).await,
        village_b: user("vb", Role::VillageOfficer, VILLAGE_B).await,
        township: user("to", Role::TownshipOfficer, "520526101000").await,
        admin: user("admin", Role::CountyAdmin, "520526000000").await,
        screen: user("screen", Role::CommandScreen, "520526000000").await,
    }
}

fn post(uri: &str, etag: Option<&str>, body: &Value) -> Request<Body> {
    let mut b = Request::post(uri).header("content-type", "application/json");
    if let Some(t) = etag {
        b = b.header("if-match", t);
    }
    b.body(Body::from(body.to_string())).unwrap()
}

fn etag(h: &HeaderMap) -> String {
    h.get("etag").unwrap().to_str().unwrap().to_owned()
}

async fn report(app: &axum::Router, lon: f64, lat: f64) -> (StatusCode, HeaderMap, Value) {
    let body = json!({
        "lon": lon, "lat": lat, "crs": "wgs84", "category": "land_contracting",
        "parties": ["张三", "李四"], "description": "承包地边界纠纷", "note": "现场登记",
    });
    request(app, post("/api/v1/disputes", None, &body)).await
}

async fn read(app: &axum::Router, id: i64) -> (StatusCode, HeaderMap, Value) {
    request(
        app,
        Request::get(format!("/api/v1/disputes/{id}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// Takes a step with the case's current tag; returns the answer.
async fn step(app: &axum::Router, id: i64, body: Value) -> (StatusCode, HeaderMap, Value) {
    let (_, h, _) = read(app, id).await;
    let uri = format!("/api/v1/disputes/{id}/steps");
    request(app, post(&uri, Some(&etag(&h)), &body)).await
}

fn actions(case: &Value) -> Vec<(String, String, String)> {
    case["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["action"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
                s["level"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 30, 0).unwrap()
}

/// The whole workflow, run against one store (served by `serve`, accounts and truth in
/// `owner`).
async fn workflow_on(serve: Arc<dyn Store>, owner: Arc<dyn Store>) {
    let clock = TestClock::at(start());
    let team = users(serve, owner.as_ref(), &clock).await;

    // A grid worker reports in grid G01: assigned to village A and the grid, open at the
    // village with the village's 15 days.
    let (status, headers, case) = report(&team.worker, 104.1, 26.5).await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    let id = case["id"].as_i64().unwrap();
    assert_eq!(
        headers.get("location").unwrap().to_str().unwrap(),
        format!("/api/v1/disputes/{id}")
    );
    let p = &case["properties"];
    assert_eq!(p["division_code"], VILLAGE_A);
    assert_eq!(p["grid_code"], "520526101201-G01");
    assert_eq!(
        (p["status"].as_str(), p["level"].as_str()),
        (Some("open"), Some("village"))
    );
    assert_eq!(p["opened_on"], "2026-03-02");
    assert_eq!(p["deadline"], "2026-03-17");
    assert_eq!(p["parties"], "张三；李四");
    assert_eq!(case["history"][0]["actor"], "gw");
    assert_eq!(case["history"][0]["note"], "现场登记");
    // The grid worker reports but does not handle; the village officer is offered accept.
    assert_eq!(case["allowed_actions"], json!([]));
    let (_, _, seen) = read(&team.village, id).await;
    assert_eq!(
        seen["allowed_actions"],
        json!(["accept", "escalate", "assign_leader"])
    );

    // Stale and missing tags.
    let uri = format!("/api/v1/disputes/{id}/steps");
    let r = request(
        &team.village,
        post(&uri, None, &json!({"action": "accept"})),
    )
    .await;
    assert_eq!(r.0, StatusCode::PRECONDITION_REQUIRED, "{}", r.2);
    let r = request(
        &team.village,
        post(&uri, Some("\"stale\""), &json!({"action": "accept"})),
    )
    .await;
    assert_eq!(r.0, StatusCode::PRECONDITION_FAILED, "{}", r.2);

    // Resolving an open case: 409 naming the state; nothing changes.
    let (_, before_h, before) = read(&team.village, id).await;
    let (s, _, problem) = step(&team.village, id, json!({"action": "resolve"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("open") && detail.contains("待受理"),
        "{detail}"
    );
    let (_, after_h, after) = read(&team.village, id).await;
    assert_eq!(etag(&before_h), etag(&after_h));
    assert_eq!(before["history"], after["history"]);
    // Unknown and system-only actions, and a failure without a reason: 422.
    for (body, field) in [
        (json!({"action": "settle"}), "action"),
        (json!({"action": "escalate_overdue"}), "action"),
    ] {
        let (s, _, p) = step(&team.village, id, body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }

    // Accept, mediate, fail (with its reason): the township holds it, open, 30 days from
    // the day it took it.
    clock.advance_days(1);
    assert_eq!(
        step(&team.village, id, json!({"action": "accept"})).await.0,
        StatusCode::OK
    );
    assert_eq!(
        step(
            &team.village,
            id,
            json!({"action": "mediate", "note": "约双方到村委会"})
        )
        .await
        .0,
        StatusCode::OK
    );
    let (s, _, p) = step(&team.village, id, json!({"action": "fail"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    clock.advance_days(2);
    let (s, _, case) = step(
        &team.village,
        id,
        json!({"action": "fail", "note": "双方分歧大"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{case}");
    assert_eq!(case["properties"]["level"], "township");
    assert_eq!(case["properties"]["status"], "open");
    assert_eq!(case["properties"]["deadline"], "2026-04-04");
    // The village no longer acts on it; the township does.
    assert_eq!(case["allowed_actions"], json!([]));
    let (s, _, p) = step(&team.village, id, json!({"action": "accept"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("township"), "{p}");
    assert_eq!(
        step(&team.township, id, json!({"action": "accept"}))
            .await
            .0,
        StatusCode::OK
    );

    // The township's deadline passes: the sweep (as the county admin) takes it to the county.
    clock.advance_days(31);
    let (s, _, none) = request(
        &team.township,
        post("/api/v1/disputes/escalations", None, &json!({})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{none}");
    assert_eq!(
        none["escalated"],
        json!([id]),
        "the township may sweep its own scope"
    );
    let (_, _, case) = read(&team.admin, id).await;
    assert_eq!(case["properties"]["level"], "county");
    assert_eq!(case["overdue"], false);
    let last = case["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["action"].as_str(), last["actor"].as_str()),
        (Some("escalate_overdue"), Some("system"))
    );
    // Sweeping again finds nothing more.
    let (_, _, again) = request(
        &team.admin,
        post("/api/v1/disputes/escalations", None, &json!({})),
    )
    .await;
    assert_eq!(again["escalated"], json!([]));

    // Backlog: a leader and a plan; then the county settles it.
    let (s, _, p) = step(
        &team.admin,
        id,
        json!({"action": "assign_leader", "leader": "王书记"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let (s, _, case) = step(
        &team.admin,
        id,
        json!({"action": "assign_leader", "leader": "王书记", "plan": "每周约谈，联合会商"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{case}");
    assert_eq!(case["properties"]["leader"], "王书记");
    for a in ["accept", "mediate", "resolve"] {
        let (s, _, p) = step(&team.admin, id, json!({"action": a})).await;
        assert_eq!(s, StatusCode::OK, "{a}: {p}");
    }
    let (_, _, case) = read(&team.admin, id).await;
    assert_eq!(case["properties"]["status"], "settled");
    assert_eq!(case["properties"]["closed_on"], "2026-04-05");
    let expect: Vec<(String, String, String)> = [
        ("report", "open", "village"),
        ("accept", "accepted", "village"),
        ("mediate", "mediating", "village"),
        ("fail", "open", "township"),
        ("accept", "accepted", "township"),
        ("escalate_overdue", "open", "county"),
        ("assign_leader", "open", "county"),
        ("accept", "accepted", "county"),
        ("mediate", "mediating", "county"),
        ("resolve", "settled", "county"),
    ]
    .iter()
    .map(|(a, s, l)| ((*a).to_owned(), (*s).to_owned(), (*l).to_owned()))
    .collect();
    assert_eq!(actions(&case), expect);
    // The history is stored as dispute_steps rows of the case's village.
    let q = gridgov_store::Query::default();
    let rows = owner.query(Layer::DisputeSteps, &q).await.unwrap();
    assert_eq!(rows.len(), expect.len());
    assert!(rows.iter().all(|r| r.division.as_str() == VILLAGE_A));

    // The command screen sees the case without the parties' names or the notes.
    let (s, _, seen) = read(&team.screen, id).await;
    assert_eq!(s, StatusCode::OK);
    assert_ne!(seen["properties"]["parties"], "张三；李四");
    assert!(seen["history"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["note"].is_null() || s["note"] != "双方分歧大"));
    // Another village's officer does not see it at all, nor reports into village A.
    assert_eq!(read(&team.village_b, id).await.0, StatusCode::NOT_FOUND);
    let (s, _, p) = report(&team.village_b, 104.1, 26.5).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    // The screen does not report; a point outside the county is named.
    assert_eq!(
        report(&team.screen, 104.6, 26.5).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, _, p) = report(&team.worker, 110.0, 26.5).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["field"], "lon/lat");
}

#[tokio::test]
async fn the_workflow_on_geopackage() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(GpkgStore::open(&dir.path().join("d.gpkg")).await.unwrap());
    write(store.as_ref(), county()).await.unwrap();
    workflow_on(store.clone(), store).await;
}

#[tokio::test]
async fn the_workflow_on_postgis_under_row_security() {
    let db = gridgov_store::testing::TempDatabase::create("disputes")
        .await
        .unwrap();
    let (owner, server) = postgis_stores(&db).await;
    write(owner.as_ref(), county()).await.unwrap();
    workflow_on(server, owner).await;
    db.drop_now().await.unwrap();
}

#[tokio::test]
async fn the_items_api_does_not_bypass_the_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(GpkgStore::open(&dir.path().join("d.gpkg")).await.unwrap());
    write(store.as_ref(), county()).await.unwrap();
    let clock = TestClock::at(start());
    let team = users(store.clone(), store.as_ref(), &clock).await;
    let (_, _, case) = report(&team.worker, 104.1, 26.5).await;
    let id = case["id"].as_i64().unwrap();
    let items = "/api/v1/layers/disputes/items";
    let feature = json!({"type": "Feature",
        "geometry": {"type": "Point", "coordinates": [104.1, 26.5]},
        "properties": {"division_code": VILLAGE_A, "category": "other", "channel": "people",
            "level": "village", "status": "open", "opened_on": "2026-03-01"}});
    let r = request(
        &team.admin,
        Request::post(items)
            .header("content-type", "application/geo+json")
            .body(Body::from(feature.to_string()))
            .unwrap(),
    )
    .await;
    assert_eq!(r.0, StatusCode::CONFLICT, "{}", r.2);
    assert!(
        r.2["detail"].as_str().unwrap().contains("/api/v1/disputes"),
        "{}",
        r.2
    );
    let url = format!("{items}/{id}");
    let tag = etag(
        &request(&team.admin, Request::get(&url).body(Body::empty()).unwrap())
            .await
            .1,
    );
    let patch = |body: Value, tag: &str| {
        Request::patch(&url)
            .header("content-type", "application/merge-patch+json")
            .header("if-match", tag)
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let r = request(
        &team.admin,
        patch(
            json!({"properties": {"status": "settled", "closed_on": "2026-03-05"}}),
            &tag,
        ),
    )
    .await;
    assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.2);
    let fields: Vec<&str> = r.2["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["status", "closed_on"]);
    // A correction of the description is an edit.
    let r = request(
        &team.admin,
        patch(
            json!({"properties": {"description": "宅基地边界纠纷"}}),
            &tag,
        ),
    )
    .await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.2);
    let tag = etag(&r.1);
    let r = request(
        &team.admin,
        Request::delete(&url)
            .header("if-match", tag)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.0, StatusCode::CONFLICT, "{}", r.2);
    // History rows are not written through the items API, not even by the county admin.
    let step = json!({"type": "Feature", "geometry": null, "properties": {"division_code": VILLAGE_A,
        "dispute_id": id, "at": "2026-03-02T01:00:00Z", "actor": "x", "action": "resolve",
        "status": "settled", "level": "village"}});
    let r = request(
        &team.admin,
        Request::post("/api/v1/layers/dispute_steps/items")
            .header("content-type", "application/geo+json")
            .body(Body::from(step.to_string()))
            .unwrap(),
    )
    .await;
    assert_eq!(r.0, StatusCode::FORBIDDEN, "{}", r.2);
    let (_, _, case) = read(&team.admin, id).await;
    assert_eq!(case["history"].as_array().unwrap().len(), 1);
    assert_eq!(case["properties"]["status"], "open");
}

#[tokio::test]
async fn deadlines_are_what_the_county_configured() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(GpkgStore::open(&dir.path().join("d.gpkg")).await.unwrap());
    write(store.as_ref(), county()).await.unwrap();
    let clock = TestClock::at(start());
    let web = tempfile::tempdir().unwrap();
    let index = LiveIndex::start(store.clone()).await.unwrap();
    let deadlines = gridgov_disputes::deadline::Deadlines::from_json(
        r#"{"village": 7, "categories": {"land_contracting": {"village": 10}}}"#,
    )
    .unwrap();
    let app = router(
        AppState::new(store.clone(), "test", web.path().to_path_buf(), index, 0).with_disputes(
            Settings {
                deadlines: Arc::new(deadlines),
                ..clock.settings()
            },
        ),
    );
    let worker = as_user(
        app.clone(),
        &sign_in(
            &app,
            store.as_ref(),
            "gw",
            Role::GridWorker,
            "520526101201-G01",
        )
        .await,
    );
    let (_, _, case) = report(&worker, 104.1, 26.5).await;
    assert_eq!(case["properties"]["deadline"], "2026-03-12");
    let body = json!({"lon": 104.1, "lat": 26.5, "crs": "wgs84", "category": "medical"});
    let (s, _, case) = request(&worker, post("/api/v1/disputes", None, &body)).await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    assert_eq!(case["properties"]["deadline"], "2026-03-09");
    let (_, _, d) = request(
        &worker,
        Request::get("/api/v1/disputes/deadlines")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(d["default"]["village"], 7);
    assert_eq!(d["categories"]["land_contracting"]["village"], 10);
}

/// Three cases played through the API with the test clock, then the ledger and the statistics
/// checked against what they must say:
/// - A: reported 2 March at (104.1, 26.5), settled in the village on 4 March (2 days);
/// - B: reported 2 March 150 m from A, fails in the village on 6 March, settled by the township
///   on 10 March (8 days); a repeat of A (same place within 200 m, within 6 months);
/// - C: reported 2 March in grid G02 with A's parties, never accepted: the village's deadline
///   (17 March) passes, the sweep of 18 March takes it to the township; a repeat of A (same
///   parties).
#[tokio::test]
async fn the_ledger_and_the_statistics_of_a_known_case_set() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(GpkgStore::open(&dir.path().join("d.gpkg")).await.unwrap());
    write(store.as_ref(), county()).await.unwrap();
    let clock = TestClock::at(start());
    let team = users(store.clone(), store.as_ref(), &clock).await;
    let id = |v: &Value| v["id"].as_i64().unwrap();
    let case_a = id(&report(&team.worker, 104.1, 26.5).await.2);
    let b_body = json!({"lon": 104.1015, "lat": 26.5, "crs": "wgs84", "category": "other",
        "parties": "王五、赵六"});
    let case_b = id(
        &request(&team.worker, post("/api/v1/disputes", None, &b_body))
            .await
            .2,
    );
    let c_body = json!({"lon": 104.4, "lat": 26.5, "crs": "wgs84", "category": "other",
        "parties": ["李四"]});
    let (s, _, c_case) = request(&team.admin, post("/api/v1/disputes", None, &c_body)).await;
    assert_eq!(s, StatusCode::CREATED, "{c_case}");
    assert_eq!(c_case["properties"]["grid_code"], "520526101201-G02");
    let case_c = id(&c_case);
    for (case, action, days) in [
        (case_a, "accept", 0),
        (case_a, "mediate", 0),
        (case_a, "resolve", 2),
        (case_b, "accept", 0),
        (case_b, "mediate", 0),
        (case_b, "fail", 2),
    ] {
        clock.advance_days(days);
        let (s, _, p) = step(&team.village, case, json!({"action": action, "note": "n"})).await;
        assert_eq!(s, StatusCode::OK, "{action}: {p}");
    }
    for action in ["accept", "mediate"] {
        assert_eq!(
            step(&team.township, case_b, json!({"action": action}))
                .await
                .0,
            StatusCode::OK
        );
    }
    clock.advance_days(4);
    assert_eq!(
        step(&team.township, case_b, json!({"action": "resolve"}))
            .await
            .0,
        StatusCode::OK
    );
    clock.advance_days(8); // 18 March
    let (_, _, swept) = request(
        &team.admin,
        post("/api/v1/disputes/escalations", None, &json!({})),
    )
    .await;
    assert_eq!(swept["escalated"], json!([case_c]));

    // Statistics per village and in total.
    let (s, _, st) = request(
        &team.admin,
        Request::get("/api/v1/disputes/statistics?by=village&from=2026-03&to=2026-03")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{st}");
    let t = &st["total"];
    assert_eq!(t["cases"], 3);
    assert_eq!(t["finished"], 2);
    assert_eq!(t["settled_in_village"], 1);
    assert_eq!(t["settled_in_township"], 1);
    assert_eq!(t["village_share"], 0.5);
    assert_eq!(t["township_share"], 0.5);
    assert_eq!(t["reached_county"], 0);
    assert_eq!(t["median_days_to_close"], 5.0);
    assert_eq!(
        t["overdue"], 0,
        "C is open at the township within its new deadline"
    );
    assert_eq!(t["repeats"], 2);
    assert_eq!(
        t["by_level"],
        json!({"village": 1, "township": 2, "county": 0})
    );
    assert_eq!(st["groups"].as_array().unwrap().len(), 1);
    assert_eq!(st["groups"][0]["key"], VILLAGE_A);
    let (_, _, by_grid) = request(
        &team.admin,
        Request::get("/api/v1/disputes/statistics?by=grid")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let keys: Vec<&Value> = by_grid["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| &g["key"])
        .collect();
    assert_eq!(
        keys,
        [&json!("520526101201-G01"), &json!("520526101201-G02")]
    );
    // By month opened, and one grid's cases only.
    let (s, _, by_month) = request(
        &team.admin,
        Request::get("/api/v1/disputes/statistics?by=month")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{by_month}");
    assert_eq!(by_month["groups"][0]["key"], "2026-03", "{by_month}");
    assert_eq!(by_month["groups"][0]["cases"], st["total"]["cases"]);
    let first = &by_grid["groups"][0];
    let (s, _, one) = request(
        &team.admin,
        Request::get("/api/v1/disputes/statistics?by=month&grid=520526101201-G01")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{one}");
    assert_eq!(one["total"]["cases"], first["cases"]);
    assert_eq!(one["total"]["repeats"], first["repeats"]);
    for bad in [
        "by=week",
        "grid=G01",
        "grid=520526101201-G01&division=520526102000",
    ] {
        let (s, _, p) = request(
            &team.admin,
            Request::get(format!("/api/v1/disputes/statistics?{bad}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {p}");
        let name = bad.split('=').next().unwrap();
        assert!(
            p["detail"].as_str().unwrap().contains(&format!("'{name}'")),
            "{p}"
        );
    }
    // Nothing opened in April.
    let (_, _, none) = request(
        &team.admin,
        Request::get("/api/v1/disputes/statistics?from=2026-04-01")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(none["total"]["cases"], 0);

    // The ledger of the township for March, drawn up on 18 March.
    let (s, _, l) = request(
        &team.township,
        Request::get("/api/v1/disputes/ledger?month=2026-03")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{l}");
    let sum = &l["summary"];
    assert_eq!(
        (sum["rows"].as_u64(), sum["open"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(
        (sum["closed"].as_u64(), sum["settled"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(sum["escalated"], 2, "B by failure, C by its deadline");
    assert_eq!(l["division"], "520526101000");
    assert_eq!(l["division_name"], "石门镇");
    assert_eq!(l["rows"][0]["village_name"], "石门村");
    // The other township's officer cannot draw up this township's ledger.
    let r = request(
        &team.village_b,
        Request::get("/api/v1/disputes/ledger?month=2026-03&division=520526101000")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.0, StatusCode::FORBIDDEN, "{}", r.2);
    for (q, status) in [
        ("month=2026-13", StatusCode::BAD_REQUEST),
        ("month=March", StatusCode::BAD_REQUEST),
        ("format=pdf", StatusCode::BAD_REQUEST),
        ("division=12", StatusCode::BAD_REQUEST),
    ] {
        let r = request(
            &team.township,
            Request::get(format!("/api/v1/disputes/ledger?{q}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.0, status, "{q}: {}", r.2);
    }
    // CSV and XLSX downloads.
    let csv = common::text(
        &team.township,
        "/api/v1/disputes/ledger?month=2026-03&format=csv",
    )
    .await;
    assert_eq!(csv.0, StatusCode::OK);
    assert!(csv.1.starts_with('\u{feff}'), "a BOM for Excel");
    assert!(
        csv.1.contains("序号") && csv.1.contains("石门村"),
        "{}",
        csv.1
    );
    let r = request(
        &team.township,
        Request::get("/api/v1/disputes/ledger?month=2026-03&format=xlsx")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.0, StatusCode::OK);
    assert!(r.1["content-disposition"]
        .to_str()
        .unwrap()
        .ends_with(".xlsx\""));
}

/// `gridgov serve` sweeps by itself: a case whose village deadline passed is at the township
/// without anyone asking.
#[tokio::test]
async fn the_server_sweeps_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(GpkgStore::open(&dir.path().join("d.gpkg")).await.unwrap());
    write(store.as_ref(), county()).await.unwrap();
    let clock = TestClock::at(start());
    let web = tempfile::tempdir().unwrap();
    let index = LiveIndex::start(store.clone()).await.unwrap();
    let state = AppState::new(store.clone(), "test", web.path().to_path_buf(), index, 0)
        .with_disputes(clock.settings());
    let app = router(state.clone());
    let admin = as_user(
        app.clone(),
        &sign_in(
            &app,
            store.as_ref(),
            "admin",
            Role::CountyAdmin,
            "520526000000",
        )
        .await,
    );
    let id = report(&admin, 104.1, 26.5).await.2["id"].as_i64().unwrap();
    let sweeper =
        gridgov_server::disputes::spawn_sweeper(state, std::time::Duration::from_millis(20));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(read(&admin, id).await.2["properties"]["level"], "village");
    clock.advance_days(16);
    let mut level = Value::Null;
    for _ in 0..1500 {
        level = read(&admin, id).await.2["properties"]["level"].clone();
        if level == "township" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(level, "township");
    // Recorded once, by the system, in the audit log too.
    let (_, _, case) = read(&admin, id).await;
    let overdue: Vec<&Value> = case["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] == "escalate_overdue")
        .collect();
    assert_eq!(overdue.len(), 1);
    // The audit record follows the write (the case is visible first).
    let mut records = Vec::new();
    let mut sweeps = Vec::new();
    for _ in 0..1500 {
        records = store.audit_records(0, 1000).await.unwrap();
        sweeps = records
            .iter()
            .filter(|r| r.event.object == "disputes/escalate_overdue")
            .cloned()
            .collect();
        if !sweeps.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(sweeps.len(), 1, "{records:?}");
    assert_eq!(sweeps[0].event.actor, "system");
    sweeper.abort();
}

/// Opens `/api/v1/events` as the router's user; the answer's body is the stream.
async fn events(app: &axum::Router) -> Body {
    use tower::ServiceExt;
    let r = app
        .clone()
        .oneshot(Request::get("/api/v1/events").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers().get("content-type").unwrap(),
        "text/event-stream"
    );
    r.into_body()
}

/// The next `dispute` event's data within `wait`, or `None` (keep-alive comments skipped).
async fn next_dispute(body: &mut Body, wait: std::time::Duration) -> Option<Value> {
    use http_body_util::BodyExt;
    let deadline = tokio::time::Instant::now() + wait;
    let mut text = String::new();
    loop {
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .ok()??;
        if let Ok(data) = frame.unwrap().into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            if block.lines().any(|l| l == "event: dispute") {
                let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
                return Some(serde_json::from_str(data).unwrap());
            }
        }
    }
}

#[tokio::test]
async fn reports_and_escalations_reach_the_event_feeds_that_hold_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = GpkgStore::open(&dir.path().join("e.gpkg")).await.unwrap();
    write(&store, county()).await.unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    let clock = TestClock::at(start());
    let team = users(store.clone(), store.as_ref(), &clock).await;
    let wait = std::time::Duration::from_secs(2);
    let mut screen = events(&team.screen).await;
    let mut other_township = events(&team.village_b).await;
    let mut worker = events(&team.worker).await;

    // Reported in grid G02 (east): the screen hears of it, without the description or parties.
    let (status, _, case) = report(&team.village, 104.3, 26.5).await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    let id = case["id"].as_i64().unwrap();
    let e = next_dispute(&mut screen, wait)
        .await
        .expect("a report event");
    assert_eq!(
        (e["id"].as_i64(), e["kind"].as_str()),
        (Some(id), Some("reported"))
    );
    assert_eq!(e["level"], "village");
    assert_eq!(e["division_code"], VILLAGE_A);
    let text = e.to_string();
    assert!(
        !text.contains("承包地边界纠纷") && !text.contains("张三"),
        "{text}"
    );

    // Escalated to the township: the screen hears it as an escalation.
    let (s, _, after) = step(
        &team.village,
        id,
        json!({"action": "escalate", "note": "涉及两村"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{after}");
    let e = next_dispute(&mut screen, wait)
        .await
        .expect("an escalation event");
    assert_eq!(
        (e["id"].as_i64(), e["kind"].as_str(), e["level"].as_str()),
        (Some(id), Some("escalated"), Some("township"))
    );

    // Village B's officer (another township) and grid G01's worker hear nothing of it.
    let quiet = std::time::Duration::from_millis(300);
    assert_eq!(next_dispute(&mut other_township, quiet).await, None);
    assert_eq!(next_dispute(&mut worker, quiet).await, None);

    // A report in G01 reaches its grid worker.
    let (status, _, case) = report(&team.village, 104.1, 26.5).await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    let e = next_dispute(&mut worker, wait).await.expect("G01's report");
    assert_eq!(e["id"], case["id"]);
}

#[tokio::test]
async fn grids_are_counted_without_naming_anyone() {
    let dir = tempfile::tempdir().unwrap();
    let store = GpkgStore::open(&dir.path().join("s.gpkg")).await.unwrap();
    let mut ops = county();
    let d = |s: &str| s.parse().unwrap();
    // Three households in G01, one in G02; a landlord with a rental house in G02; a supervised
    // person whose fence lies in G01.
    for (i, x) in [104.05, 104.1, 104.15, 104.3].iter().enumerate() {
        ops.push(Op::Insert(
            Layer::Households,
            Feature::new(d(VILLAGE_A), Some(geo::point!(x: *x, y: 26.4).into()))
                .with("address", format!("{i}号")),
        ));
    }
    let mut landlord = Feature::new(d(VILLAGE_A), None)
        .with("name", "王五")
        .with("id_card", "11010519491231002X");
    landlord.id = Some(FeatureId(900));
    ops.push(Op::Insert(Layer::Persons, landlord));
    // Three rental houses side by side in G02, one alone in G01.
    for (i, (x, y)) in [
        (104.35, 26.6),
        (104.3501, 26.6),
        (104.35, 26.6001),
        (104.1, 26.9),
    ]
    .into_iter()
    .enumerate()
    {
        ops.push(Op::Insert(
            Layer::RentalHouses,
            Feature::new(d(VILLAGE_A), Some(geo::point!(x: x, y: y).into()))
                .with("address", format!("出租屋{i}号"))
                .with("landlord_id", 900_i64),
        ));
    }
    ops.push(Op::Insert(
        Layer::SupervisedPersons,
        Feature::new(d(VILLAGE_A), Some(rect(104.05, 26.7, 104.1, 26.75).into()))
            .with("person_id", 900_i64)
            .with("category", "community_correction")
            .with("officer", "赵六")
            .with(
                "start_date",
                chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
            ),
    ));
    write(&store, ops).await.unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    let clock = TestClock::at(start());
    let team = users(store.clone(), store.as_ref(), &clock).await;
    let (status, _, case) = report(&team.village, 104.3, 26.5).await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    let summary = |app: &axum::Router, query: &str| {
        let uri = format!("/api/v1/grids/summary{query}");
        let app = app.clone();
        async move { request(&app, Request::get(uri).body(Body::empty()).unwrap()).await }
    };
    let (s, _, body) = summary(&team.screen, "").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let grids = body["grids"].as_array().unwrap();
    let by_code = |code: &str| {
        grids
            .iter()
            .find(|g| g["code"] == format!("{VILLAGE_A}-{code}"))
            .unwrap()
            .clone()
    };
    let (g1, g2) = (by_code("G01"), by_code("G02"));
    assert_eq!(
        (g1["households"].as_u64(), g1["rental_houses"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(
        (g2["households"].as_u64(), g2["rental_houses"].as_u64()),
        (Some(1), Some(3))
    );
    assert_eq!(g1["supervised_persons"], 1);
    assert_eq!(g2["supervised_persons"], 0);
    assert_eq!(
        (g1["open_disputes"].as_u64(), g2["open_disputes"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(body["totals"]["households"], 4);
    let text = body.to_string();
    for name in ["王五", "赵六", "李四", "13900000000"] {
        assert!(!text.contains(name), "{name} in {text}");
    }
    // A village officer sees the counts but nothing of supervision; the grid worker only
    // their grid; another township's officer is refused village A.
    let (_, _, body) = summary(&team.village, "").await;
    assert!(body["grids"][0]["supervised_persons"].is_null(), "{body}");
    assert!(body["totals"]["supervised_persons"].is_null());
    let (_, _, body) = summary(&team.worker, "").await;
    let codes: Vec<&str> = body["grids"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["code"].as_str())
        .collect();
    assert_eq!(codes, [format!("{VILLAGE_A}-G01")]);
    let (s, _, body) = summary(&team.village_b, &format!("?division={VILLAGE_A}")).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    let (s, _, body) = summary(&team.screen, "?division=52052610").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");

    // The screen's rental-house density: the cell of three, not the house alone; no
    // supervised person's place, no person at all.
    let h3 = |app: &axum::Router, layer: &str| {
        let uri = format!("/api/v1/layers/{layer}/h3?resolution=9");
        let app = app.clone();
        async move { request(&app, Request::get(uri).body(Body::empty()).unwrap()).await }
    };
    let (s, _, body) = h3(&team.screen, "rental_houses").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let counts: Vec<u64> = body["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [3], "{body}");
    assert_eq!(body["total"], 3);
    let (s, _, body) = h3(&team.admin, "rental_houses").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 4, "the county admin counts every house");
    for layer in ["supervised_persons", "persons"] {
        let (s, _, body) = h3(&team.screen, layer).await;
        assert!(s.is_client_error(), "{layer}: {s} {body}");
    }
}
