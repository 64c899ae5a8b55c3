//! Partition plans over HTTP on one township of the demo county (its villages, households,
//! roads, water and its plan in force): a village's plan drawn in the background and polled
//! until done, its grids and statistics, the comparison with the grids in force, exports GDAL
//! opens, an infeasible request explained, bad bodies named, scope; approval that puts the plan
//! in force at once (households regridded, the township's plan still in force elsewhere, the
//! village's old grids kept as a superseded plan, lookups answering the new grids), and a plan
//! approved for a later day put in force by the sweep. On both stores (PostGIS as the
//! row-security role).
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use chrono::{DateTime, TimeZone, Utc};
use geo::{BoundingRect, Contains, Geometry, Intersects, Point};
use gridgov_model::{Dataset, DivisionCode, Feature, FeatureId, Layer, Role, Value};
use gridgov_server::disputes::Settings;
use gridgov_server::partition::job::report_progress;
use gridgov_server::{router, AppState, LiveIndex};
use gridgov_store::gpkg::GpkgStore;
use gridgov_store::scope::{within, RowScope};
use gridgov_store::{write, Op, Query, Store};
use serde_json::{json, Value as J};

mod common;
use common::{as_user, postgis_stores, raw, request, sign_in};

const COUNTY: &str = "520526000000";
const TOWNSHIP: &str = "520526101000";
/// The village re-planned: about 1,450 households in 3 grids of the township's plan.
const VILLAGE: &str = "520526101001";

fn code(s: &str) -> DivisionCode {
    s.parse().unwrap()
}

fn demo() -> &'static Dataset {
    static DEMO: OnceLock<Dataset> = OnceLock::new();
    DEMO.get_or_init(|| gridgov_demo::generate(42).dataset)
}

/// The demo county cut to one township: the county and the township, its villages, villager
/// groups, plan in force and grids, households, and the roads and water around it (those of
/// other townships given to the county).
fn township() -> Vec<Op> {
    let d = demo();
    let t = code(TOWNSHIP);
    let county = code(COUNTY);
    let layer = |l: Layer| d.layers[&l].iter();
    let mine = |f: &&Feature| t.contains(&f.division);
    let bbox = layer(Layer::Townships)
        .find(|f| f.division == t)
        .unwrap()
        .geometry
        .as_ref()
        .unwrap()
        .bounding_rect()
        .unwrap();
    let mut ops = Vec::new();
    for f in layer(Layer::Counties) {
        ops.push(Op::Insert(Layer::Counties, f.clone()));
    }
    for l in [
        Layer::Townships,
        Layer::Villages,
        Layer::VillagerGroups,
        Layer::GridPlans,
        Layer::Grids,
        Layer::Households,
    ] {
        for f in layer(l).filter(mine) {
            ops.push(Op::Insert(l, f.clone()));
        }
    }
    for l in [Layer::Roads, Layer::Water] {
        for f in layer(l) {
            let near = f
                .geometry
                .as_ref()
                .and_then(BoundingRect::bounding_rect)
                .is_some_and(|r| r.intersects(&bbox));
            if near {
                let mut f = f.clone();
                f.id = None;
                if !(f.division == county || t.contains(&f.division)) {
                    f.division = county;
                }
                ops.push(Op::Insert(l, f));
            }
        }
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
        self.advance_secs(days * 86_400);
    }
    fn advance_secs(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
    fn settings(&self) -> Settings {
        let t = self.0.clone();
        Settings {
            clock: Arc::new(move || Utc.timestamp_opt(t.load(Ordering::SeqCst), 0).unwrap()),
            ..Settings::default()
        }
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 30, 0).unwrap()
}

struct Team {
    state: AppState,
    admin: axum::Router,
    township: axum::Router,
    village: axum::Router,
    neighbour: axum::Router,
    screen: axum::Router,
}

async fn team(serve: Arc<dyn Store>, accounts: &dyn Store, clock: &TestClock) -> Team {
    let web = tempfile::tempdir().unwrap();
    let index = LiveIndex::start(serve.clone()).await.unwrap();
    let state = AppState::new(serve, "test", web.path().to_path_buf(), index, 1 << 20)
        .with_disputes(clock.settings());
    let app = router(state.clone());
    let user = |name: &'static str, role: Role, scope: &'static str| {
        let app = app.clone();
        async move {
            as_user(
                app.clone(),
                &sign_in(&app, accounts, name, role, scope).await,
            )
        }
    };
    Team {
        state,
        admin: user("admin", Role::CountyAdmin, COUNTY).await,
        township: user("to", Role::TownshipOfficer, TOWNSHIP).await,
        village: user("vo", Role::VillageOfficer, VILLAGE).await,
        neighbour: user("vb", Role::VillageOfficer, "520526101002").await,
        screen: user("screen", Role::CommandScreen, COUNTY).await,
    }
}

fn post(uri: &str, body: &J) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, HeaderMap, J) {
    request(app, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn bytes(app: &axum::Router, uri: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    raw(app, Request::get(uri).body(Body::empty()).unwrap()).await
}

/// Posts a plan; its id.
async fn draw(app: &axum::Router, body: &J) -> i64 {
    let (s, h, p) = request(app, post("/api/v1/partition-plans", body)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{p}");
    let id = p["id"].as_i64().unwrap();
    assert_eq!(
        h["location"].to_str().unwrap(),
        format!("/api/v1/partition-plans/{id}")
    );
    assert_eq!(
        (&p["status"], &p["job"]),
        (&json!("draft"), &json!("running"))
    );
    id
}

/// Polls a plan until its job ends; the plan.
async fn finished(app: &axum::Router, id: i64) -> J {
    let mut progress = Vec::new();
    for _ in 0..6000 {
        let (s, _, p) = get(app, &format!("/api/v1/partition-plans/{id}")).await;
        assert_eq!(s, StatusCode::OK, "{p}");
        progress.push(p["progress"].as_i64().unwrap_or(-1));
        if p["job"] != "running" {
            // Progress only grows.
            assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
            return p;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("plan {id} still running after 10 minutes");
}

fn point(f: &Feature) -> Point<f64> {
    match f.geometry {
        Some(Geometry::Point(p)) => p,
        _ => panic!("not a point"),
    }
}

fn plan_id(g: &Feature) -> Option<i64> {
    g.get("plan_id").and_then(Value::as_i64)
}

/// The features of a layer under a division, as stored.
async fn truth(store: &dyn Store, layer: Layer, division: &str) -> Vec<Feature> {
    store
        .query(
            layer,
            &Query {
                division: Some(code(division)),
                ..Query::default()
            },
        )
        .await
        .unwrap()
}

/// The ids of the village's grids drawn in the `grids` vector tiles (zoom 13) over `area`,
/// as `app`'s user sees them.
async fn grids_drawn(app: &axum::Router, area: geo::Rect<f64>) -> BTreeSet<i64> {
    let mut ids = BTreeSet::new();
    for t in gridgov_tiles::tiles_covering(area, 13) {
        let uri = format!("/tiles/grids/{}/{}/{}.mvt", t.z(), t.x(), t.y());
        let (s, _, body) = bytes(app, &uri).await;
        assert_eq!(s, StatusCode::OK, "{uri}");
        let tile = gridgov_tiles::decode(&body).unwrap();
        if let Some(l) = tile.layer("grids") {
            ids.extend(
                l.features
                    .iter()
                    .filter(|f| {
                        f.attributes.get("division_code")
                            == Some(&gridgov_tiles::AttrValue::Str(VILLAGE.into()))
                    })
                    .map(|f| f.id.unwrap() as i64),
            );
        }
    }
    ids
}

/// Runs `ogrinfo` on a file; its output.
fn ogrinfo(path: &std::path::Path) -> String {
    let out = std::process::Command::new("ogrinfo")
        .args(["-ro", "-al", "-so"])
        .arg(path)
        .env("CPL_DEBUG", "OFF")
        .output()
        .unwrap_or_else(|e| panic!("ogrinfo could not run (is GDAL installed?): {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "ogrinfo {}: {stderr}", path.display());
    assert!(!stderr.contains("ERROR"), "{stderr}");
    String::from_utf8(out.stdout).unwrap()
}

/// Households of `households` inside each grid of a `grids` feature collection, by code.
fn households_inside(grids: &J, households: &[Feature]) -> BTreeMap<String, u64> {
    grids["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let shape: Geometry<f64> =
                gridgov_model::geometry::from_geojson(&g["geometry"]).unwrap();
            let n = households
                .iter()
                .filter(|h| shape.contains(&point(h)))
                .count() as u64;
            (g["properties"]["code"].as_str().unwrap().to_owned(), n)
        })
        .collect()
}

/// Moves in a township draft whose grids are stored in parts (small villages taken whole,
/// parts in pieces): after each, every stored grid is one polygon holding exactly the
/// households it says, codes are unique, and the summary lists exactly the stored grids.
async fn township_moves(app: &axum::Router, id: i64, households: &[Feature]) {
    let plan_uri = format!("/api/v1/partition-plans/{id}");
    let (_, _, plan) = get(app, &plan_uri).await;
    // Grids stored in parts first: their moves change how many parts there are.
    let jointed: BTreeSet<String> = plan["grids"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["properties"]["joint"].as_str().map(str::to_owned))
        .collect();
    for round in 0..4 {
        let (s, _, units) = get(app, &format!("{plan_uri}/units")).await;
        assert_eq!(s, StatusCode::OK, "{units}");
        let list = units["units"]["features"].as_array().unwrap();
        let movable = |u: &&J| !u["properties"]["movable_to"].as_array().unwrap().is_empty();
        let text = |u: &J, k: &str| u["properties"][k].as_str().unwrap().to_owned();
        // The last unit of the village a grid's code names, moved away, leaves the grid
        // without that village: it must be numbered anew. Such moves first, then grids stored
        // in parts.
        let mut of_code_village: BTreeMap<String, usize> = BTreeMap::new();
        for u in list {
            if text(u, "grid").starts_with(&text(u, "village_code")) {
                *of_code_village.entry(text(u, "grid")).or_default() += 1;
            }
        }
        let last = |u: &&J| {
            text(u, "grid").starts_with(&text(u, "village_code"))
                && of_code_village[&text(u, "grid")] == 1
        };
        let unit = list
            .iter()
            .filter(movable)
            .find(last)
            .or_else(|| {
                list.iter()
                    .filter(movable)
                    .find(|u| jointed.contains(&text(u, "grid")))
            })
            .or_else(|| list.iter().find(movable))
            .expect("some unit may move");
        eprintln!(
            "round {round}: unit {} of {} in {} (last of its code's village: {})",
            unit["properties"]["unit"],
            text(unit, "village_code"),
            text(unit, "grid"),
            last(&unit)
        );
        let body = json!({
            "unit": unit["properties"]["unit"],
            "to": unit["properties"]["movable_to"][0],
            "fingerprint": units["fingerprint"],
        });
        let (s, _, done) = request(app, post(&format!("{plan_uri}/moves"), &body)).await;
        assert_eq!(s, StatusCode::OK, "round {round}: {done}");
        eprintln!("round {round}: {}", done["move"]);
        let grids = done["grids"]["features"].as_array().unwrap();
        let codes: BTreeSet<&str> = grids
            .iter()
            .map(|g| g["properties"]["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes.len(), grids.len(), "round {round}: codes repeat");
        for g in grids {
            assert_eq!(g["geometry"]["type"], "Polygon", "{}", g["properties"]);
        }
        let inside = households_inside(&done["grids"], households);
        let mut sum = 0;
        for g in grids {
            let p = &g["properties"];
            let code = p["code"].as_str().unwrap();
            assert_eq!(
                p["households"].as_u64(),
                Some(inside[code]),
                "round {round}: {code}"
            );
            sum += inside[code];
        }
        assert_eq!(sum, households.len() as u64, "round {round}");
        let (_, _, plan) = get(app, &plan_uri).await;
        assert_eq!(plan["summary"]["grids"].as_u64(), Some(grids.len() as u64));
        assert_eq!(plan["summary"]["manual_moves"], round + 1);
    }
}

/// A plan weighing supervised persons: a block's workload would tell how many live there, so
/// only a role that reads them sees the units' workloads.
async fn weighed_units(team: &Team) {
    let weighed = draw(
        &team.admin,
        &json!({"village": VILLAGE, "weights": "households=1,supervised=3", "seconds": 1}),
    )
    .await;
    assert_eq!(finished(&team.admin, weighed).await["job"], "done");
    let uri = format!("/api/v1/partition-plans/{weighed}/units");
    let workloads = |units: &J| -> Vec<J> {
        units["units"]["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["properties"]["workload"].clone())
            .collect()
    };
    let (_, _, theirs) = get(&team.village, &uri).await;
    assert!(workloads(&theirs).iter().all(J::is_null), "{theirs}");
    let (_, _, mine) = get(&team.admin, &uri).await;
    assert!(workloads(&mine).iter().all(J::is_number), "{mine}");
}

/// A unit moved to a neighbouring grid in draft `id`: the units offered, the move's figures
/// against the households on the ground, the rules and rights, a stale fingerprint, the audit.
#[expect(clippy::too_many_lines, reason = "one story, told in order")]
async fn moves(team: &Team, owner: &dyn Store, id: i64, households: &[Feature]) {
    let units_uri = format!("/api/v1/partition-plans/{id}/units");
    let moves_uri = format!("/api/v1/partition-plans/{id}/moves");
    let (s, _, before) = get(&team.village, &format!("/api/v1/partition-plans/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, units) = get(&team.village, &units_uri).await;
    assert_eq!(s, StatusCode::OK, "{units}");
    assert_eq!(units["editable"], true);
    let fingerprint = units["fingerprint"].as_str().unwrap().to_owned();
    let list = units["units"]["features"].as_array().unwrap();
    assert_eq!(Some(list.len() as u64), before["summary"]["units"].as_u64());
    // The units hold the grids' households exactly.
    let mut per_grid: BTreeMap<String, u64> = BTreeMap::new();
    for u in list {
        *per_grid
            .entry(u["properties"]["grid"].as_str().unwrap().to_owned())
            .or_default() += u["properties"]["households"].as_u64().unwrap();
    }
    let stored: BTreeMap<String, u64> = before["grids"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["properties"]["code"].as_str().unwrap().to_owned(),
                g["properties"]["households"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(per_grid, stored);
    // Not another village's officer's; the command screen sees them but may not move them.
    let (s, _, _) = get(&team.neighbour, &units_uri).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, seen) = get(&team.admin, &units_uri).await;
    assert_eq!((s, &seen["editable"]), (StatusCode::OK, &json!(true)));

    // The most populous unit that may move, to the first grid offered.
    let unit = list
        .iter()
        .filter(|u| !u["properties"]["movable_to"].as_array().unwrap().is_empty())
        .max_by_key(|u| u["properties"]["households"].as_u64().unwrap())
        .expect("some unit may move");
    let n = unit["properties"]["unit"].as_u64().unwrap();
    let from = unit["properties"]["grid"].as_str().unwrap().to_owned();
    let to = unit["properties"]["movable_to"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let moved = unit["properties"]["households"].as_u64().unwrap();
    assert!(moved > 0, "{unit}");
    // A unit that may not move says why.
    if let Some(fixed) = list
        .iter()
        .find(|u| u["properties"]["movable_to"].as_array().unwrap().is_empty())
    {
        assert!(fixed["properties"]["fixed_reason"].is_string(), "{fixed}");
    }

    // Rules and rights first: nothing is written.
    let elsewhere = stored.keys().find(|c| {
        **c != from
            && **c != to
            && !unit["properties"]["movable_to"]
                .as_array()
                .unwrap()
                .contains(&json!(c))
    });
    let mut refused = vec![
        (json!({"unit": n, "to": "520526101001-G99"}), "to"),
        (json!({"unit": 99_999, "to": to}), "unit"),
        (json!({"unit": n, "to": from}), "to"),
        (json!({"unit": n}), "body"),
        (json!({"unit": n, "to": to, "colour": "red"}), "body"),
    ];
    if let Some(far) = elsewhere {
        refused.push((json!({"unit": n, "to": far}), "to"));
    }
    for (body, field) in refused {
        let (s, _, p) = request(&team.village, post(&moves_uri, &body)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {p}");
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
    }
    let body = json!({"unit": n, "to": to, "fingerprint": fingerprint});
    let (s, _, _) = request(&team.neighbour, post(&moves_uri, &body)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = request(&team.screen, post(&moves_uri, &body)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, p) = request(
        &team.village,
        post(
            &moves_uri,
            &json!({"unit": n, "to": to, "fingerprint": "0"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    let (_, _, unchanged) = get(&team.village, &format!("/api/v1/partition-plans/{id}")).await;
    assert_eq!(unchanged["grids"], before["grids"]);

    // The move.
    let (s, _, done) = request(&team.village, post(&moves_uri, &body)).await;
    assert_eq!(s, StatusCode::OK, "{done}");
    assert_eq!(
        (
            &done["move"]["from"],
            &done["move"]["to"],
            &done["move"]["households"]
        ),
        (&json!(from), &json!(to), &json!(moved))
    );
    let figures: BTreeMap<String, J> = done["grids"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["properties"]["code"].as_str().unwrap().to_owned(),
                g["properties"].clone(),
            )
        })
        .collect();
    let hh = |c: &str| figures[c]["households"].as_u64().unwrap();
    assert_eq!(hh(&from), stored[&from] - moved);
    assert_eq!(hh(&to), stored[&to] + moved);
    for (code, n) in &stored {
        if *code != from && *code != to {
            assert_eq!(hh(code), *n, "{code} is untouched");
        }
    }
    // What the grids hold on the ground is what they say they hold.
    let inside = households_inside(&done["grids"], households);
    assert_eq!(inside[&from], hh(&from));
    assert_eq!(inside[&to], hh(&to));
    // Deviation from the mean, afresh.
    let mean = figures
        .values()
        .map(|g| g["workload"].as_f64().unwrap())
        .sum::<f64>()
        / figures.len() as f64;
    for c in [&from, &to] {
        let expected = figures[c]["workload"].as_f64().unwrap() / mean - 1.0;
        assert!(
            (figures[c]["deviation"].as_f64().unwrap() - expected).abs() < 1e-3,
            "{c}"
        );
    }
    assert_eq!(done["plan"]["summary"]["manual_moves"], 1);
    assert_eq!(
        done["plan"]["summary"]["households"],
        before["summary"]["households"]
    );
    // The map follows: the unit's households now lie in the target grid.
    let (_, _, after) = get(&team.village, &units_uri).await;
    let again = &after["units"]["features"][n as usize]["properties"];
    assert_eq!(again["grid"], json!(to), "{again}");
    assert_ne!(after["fingerprint"], json!(fingerprint));
    // The same move chosen on the old units is refused.
    let (s, _, p) = request(&team.village, post(&moves_uri, &body)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("read the units again"),
        "{p}"
    );
    let audited: Vec<_> = owner
        .audit_records(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.event.object == format!("grid_plans/{id}/moves"))
        .collect();
    assert_eq!(audited.len(), 1);
    assert!(audited[0].event.detail.contains(&to), "{:?}", audited[0]);
}

/// The whole story on one store (served by `serve`; accounts and truth in `owner`).
#[expect(clippy::too_many_lines, reason = "one story, told in order")]
async fn plans_on(serve: Arc<dyn Store>, owner: Arc<dyn Store>) {
    let clock = TestClock::at(start());
    let team = team(serve, owner.as_ref(), &clock).await;
    let households = truth(owner.as_ref(), Layer::Households, VILLAGE).await;
    let village = truth(owner.as_ref(), Layer::Villages, VILLAGE).await;
    let area = village[0]
        .geometry
        .as_ref()
        .unwrap()
        .bounding_rect()
        .unwrap();
    let old_plan: i64 = plan_id(&truth(owner.as_ref(), Layer::Grids, VILLAGE).await[0]).unwrap();
    let old_grids: BTreeSet<i64> = truth(owner.as_ref(), Layer::Grids, VILLAGE)
        .await
        .iter()
        .map(|g| g.id.unwrap().0)
        .collect();
    // About 1,450 households: two grids of 600-700 are too big, three too small.
    assert!(
        (1401..1800).contains(&households.len()),
        "{}",
        households.len()
    );

    // Bad bodies are named; the wrong media type is refused.
    for (app, body, field) in [
        (&team.admin, json!({"village": "520526101099"}), "village"),
        (&team.admin, json!({"township": "520526109000"}), "township"),
    ] {
        let (s, _, p) = request(app, post("/api/v1/partition-plans", &body)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {p}");
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
    }
    for (body, field) in [
        (json!({}), "village"),
        (json!({"village": TOWNSHIP}), "village"),
        (
            json!({"village": VILLAGE, "households": "300"}),
            "households",
        ),
        (json!({"village": VILLAGE, "tolerance": 1.5}), "tolerance"),
        (
            json!({"village": VILLAGE, "barriers": "motorway"}),
            "barriers",
        ),
        (json!({"village": VILLAGE, "weights": "pets=1"}), "weights"),
        (json!({"village": VILLAGE, "seconds": 0}), "seconds"),
        (json!({"village": VILLAGE, "grids": -2}), "grids"),
        (json!({"village": VILLAGE, "colour": "red"}), "colour"),
    ] {
        let (s, _, p) = request(&team.village, post("/api/v1/partition-plans", &body)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {p}");
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
        assert_eq!(p["status"], 422);
    }
    let (s, _, _) = request(
        &team.village,
        Request::post("/api/v1/partition-plans")
            .header("content-type", "text/plain")
            .body(Body::from("village"))
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Who may draw: another village's officer, a village officer for the township, and the
    // command screen may not.
    for (app, body) in [
        (&team.neighbour, json!({"village": VILLAGE})),
        (&team.village, json!({"township": TOWNSHIP})),
        (&team.screen, json!({"village": VILLAGE})),
    ] {
        let (s, _, p) = request(app, post("/api/v1/partition-plans", &body)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{body}: {p}");
    }

    // The village officer draws the village afresh; polled until done.
    let id = draw(
        &team.village,
        &json!({"village": VILLAGE, "seed": 7, "seconds": 2}),
    )
    .await;
    let plan = finished(&team.village, id).await;
    assert_eq!(plan["job"], "done", "{plan}");
    assert_eq!(
        (&plan["status"], &plan["progress"]),
        (&json!("draft"), &json!(100))
    );
    assert_eq!(plan["division_code"], VILLAGE);
    assert_eq!(plan["parameters"]["seed"], 7);
    {
        // The items API cannot bypass the workflow: no plan made, approved or deleted there, no grid
        // moved to another plan; a plan may be renamed.
        let items = "/api/v1/layers/grid_plans/items";
        let (status, headers, _) = get(&team.admin, &format!("{items}/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        let tag = headers["etag"].to_str().unwrap().to_owned();
        let patch = |uri: String, body: J, tag: &str| {
            Request::patch(uri)
                .header("content-type", "application/merge-patch+json")
                .header("if-match", tag)
                .body(Body::from(body.to_string()))
                .unwrap()
        };
        let (status, _, body) = request(
            &team.admin,
            patch(
                format!("{items}/{id}"),
                json!({"properties": {"status": "effective", "effective_from": "2026-01-01"}}),
                &tag,
            ),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let fields: BTreeSet<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(
            fields,
            BTreeSet::from(["effective_from", "status"]),
            "{body}"
        );
        let (status, _, body) = request(
            &team.admin,
            Request::delete(format!("{items}/{id}"))
                .header("if-match", &tag)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        let (status, _, body) = request(
            &team.admin,
            Request::post(items)
                .header("content-type", "application/geo+json")
                .body(Body::from(
                    json!({"type": "Feature", "geometry": null, "properties": {
                    "division_code": VILLAGE, "name": "手工方案", "status": "effective",
                    "created_on": "2026-01-01", "effective_from": "2026-01-01"}})
                    .to_string(),
                ))
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("/api/v1/partition-plans"),
            "{body}"
        );
        let (status, _, body) = request(
            &team.admin,
            patch(
                format!("{items}/{id}"),
                json!({"properties": {"name": "东风村网格调整方案（草案）"}}),
                &tag,
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let grid_id = plan["grids"]["features"][0]["id"].as_i64().unwrap();
        let grid_url = format!("/api/v1/layers/grids/items/{grid_id}");
        let (status, headers, _) = get(&team.admin, &grid_url).await;
        assert_eq!(status, StatusCode::OK);
        let grid_tag = headers["etag"].to_str().unwrap().to_owned();
        let (status, _, body) = request(
            &team.admin,
            patch(
                grid_url,
                json!({"properties": {"plan_id": old_plan}}),
                &grid_tag,
            ),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], "plan_id", "{body}");
    }
    let plan = finished(&team.village, id).await;
    let grids = plan["grids"]["features"].as_array().unwrap();
    // The map draws the grids in force, not the draft's: for the village officer (whose scope
    // does not hold the township's plan row) as for the county.
    let drawn_now = grids_drawn(&team.village, area).await;
    assert_eq!(drawn_now, old_grids, "village officer's map");
    assert_eq!(
        grids_drawn(&team.admin, area).await,
        old_grids,
        "county's map"
    );
    assert_eq!(
        grids.len() as u64,
        plan["summary"]["grids"].as_u64().unwrap(),
        "{plan}"
    );
    assert!(grids.len() >= 3, "1,456 households at 300-500 a grid");
    let mut sum = 0;
    for g in grids {
        let p = &g["properties"];
        assert!(p["code"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{VILLAGE}-G")));
        assert_eq!(p["plan_id"], id);
        assert!(p["name"].as_str().unwrap().ends_with("网格"), "{p}");
        let n = p["households"].as_u64().unwrap();
        assert!((300..=500).contains(&n), "{p}");
        for stat in [
            "workload",
            "deviation",
            "compactness",
            "on_feature",
            "area_m2",
            "units",
        ] {
            assert!(p[stat].is_number(), "{stat} missing: {p}");
        }
        sum += n;
    }
    assert_eq!(sum, households.len() as u64, "every household in one grid");
    assert_eq!(plan["summary"]["households"], households.len() as u64);
    // The township officer and the admin read it; the neighbour does not see it.
    assert_eq!(
        get(&team.township, &format!("/api/v1/partition-plans/{id}"))
            .await
            .0,
        StatusCode::OK
    );
    let (s, _, _) = get(&team.neighbour, &format!("/api/v1/partition-plans/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, list) = get(&team.village, "/api/v1/partition-plans").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        list["plans"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == id),
        "{list}"
    );
    let (_, _, list) = get(
        &team.admin,
        &format!("/api/v1/partition-plans?division={VILLAGE}"),
    )
    .await;
    let ids: Vec<i64> = list["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert!(
        ids.contains(&id) && ids.contains(&old_plan),
        "the township's plan covers the village: {ids:?}"
    );

    // Compared with the grids in force: the households of the village, some moved.
    let (s, _, cmp) = get(
        &team.village,
        &format!("/api/v1/partition-plans/{id}/compare"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{cmp}");
    let totals = &cmp["totals"];
    eprintln!(
        "plan {id}: {}; against the grids in force: {totals}",
        plan["summary"]
    );
    assert_eq!(totals["households"], households.len() as u64);
    assert_eq!(totals["current_grids"], old_grids.len() as u64);
    assert_eq!(totals["plan_grids"], grids.len() as u64);
    let moved = totals["moved"].as_u64().unwrap();
    assert!(moved > 0, "{cmp}");
    let flows: u64 = cmp["flows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["households"].as_u64().unwrap())
        .sum();
    assert_eq!(flows, moved);
    // Per code, what the plan holds is what the grids say.
    for row in cmp["grids"].as_array().unwrap() {
        if let Some(n) = row["plan_households"].as_u64() {
            let g = grids
                .iter()
                .find(|g| g["properties"]["code"] == row["code"])
                .unwrap();
            assert_eq!(g["properties"]["households"].as_u64().unwrap(), n, "{row}");
        }
    }

    // Exports that GDAL opens, audited.
    let dir = tempfile::tempdir().unwrap();
    for format in ["geojson", "gpkg"] {
        let (s, h, file) = bytes(
            &team.village,
            &format!("/api/v1/partition-plans/{id}/export?format={format}"),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&file));
        assert!(h["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("plan-{id}.{format}")));
        let path = dir.path().join(format!("plan.{format}"));
        std::fs::write(&path, &file).unwrap();
        let info = ogrinfo(&path);
        assert!(
            info.contains(&format!("Feature Count: {}", grids.len())),
            "{format}: {info}"
        );
        assert!(info.contains("households"), "{info}");
    }
    let (s, _, _) = get(
        &team.village,
        &format!("/api/v1/partition-plans/{id}/export?format=shp"),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let exports = owner
        .audit_records(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.event.object == format!("grid_plans/{id}/export"))
        .count();
    assert_eq!(exports, 2);

    // An impossible range fails, saying why.
    let bad = draw(
        &team.village,
        &json!({"village": VILLAGE, "households": "600-700"}),
    )
    .await;
    let failed = finished(&team.village, bad).await;
    assert_eq!(failed["job"], "failed", "{failed}");
    let why = failed["job_error"].as_str().unwrap();
    assert!(why.contains("600") && why.contains("700"), "{why}");
    assert_eq!(failed["grids"], J::Null);
    let (s, _, p) = request(
        &team.village,
        post(
            &format!("/api/v1/partition-plans/{bad}/approve"),
            &json!({"effective_from": "2026-03-02"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");

    // A planner moves a unit from one grid to its neighbour before approving.
    moves(&team, owner.as_ref(), id, &households).await;

    // Approval: a bad day, a day before the plan, another village's officer.
    let approve = format!("/api/v1/partition-plans/{id}/approve");
    for (body, field) in [
        (json!({"effective_from": "March"}), "effective_from"),
        (json!({"effective_from": "2026-03-01"}), "effective_from"),
        (json!({"from": "2026-03-02"}), "body"),
    ] {
        let (s, _, p) = request(&team.village, post(&approve, &body)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert_eq!(p["errors"][0]["field"], field);
    }
    let (s, _, _) = request(
        &team.neighbour,
        post(&approve, &json!({"effective_from": "2026-03-02"})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A point of the village and one of another village, before.
    let probe = point(&households[0]);
    let elsewhere = truth(owner.as_ref(), Layer::Households, "520526101002").await;
    let other = point(&elsewhere[0]);
    let lookup = |p: Point<f64>| format!("/api/v1/lookup?lon={}&lat={}&crs=wgs84", p.x(), p.y());
    let (_, _, before) = get(&team.admin, &lookup(other)).await;
    let other_grid = before["grid"]["id"].clone();
    assert!(other_grid.is_i64(), "{before}");

    // Approved today: in force at once.
    let (s, _, ok) = request(
        &team.village,
        post(&approve, &json!({"effective_from": "2026-03-02"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{ok}");
    eprintln!("approval: {}", ok["approval"]);
    assert_eq!(ok["plan"]["status"], "effective");
    assert_eq!(ok["plan"]["approved_on"], "2026-03-02");
    assert_eq!(ok["approval"]["effective"], true);
    // An effective plan is not adjusted any more.
    let (s, _, p) = request(
        &team.village,
        post(
            &format!("/api/v1/partition-plans/{id}/moves"),
            &json!({"unit": 0, "to": "x"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("effective"), "{p}");
    let history = ok["approval"]["history"][0]["plan"].as_i64().unwrap();
    assert_eq!(ok["approval"]["history"][0]["from"], old_plan);
    // The township's plan stays in force for its other villages; the village's old grids are
    // history under a superseded plan of the village.
    let plans = |i: i64| {
        let owner = owner.clone();
        async move {
            owner
                .get(Layer::GridPlans, FeatureId(i))
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert_eq!(plans(old_plan).await.text("status"), Some("effective"));
    // The map now draws the new grids in the village; the old ones are history.
    let mut drawn = BTreeSet::new();
    for _ in 0..100 {
        drawn = grids_drawn(&team.village, area).await;
        if drawn.is_disjoint(&old_grids) {
            break;
        }
        // The index follows the store's feed (PostGIS: notifications) a moment later.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let expected: BTreeSet<i64> = truth(owner.as_ref(), Layer::Grids, VILLAGE)
        .await
        .iter()
        .filter(|g| plan_id(g) == Some(id))
        .map(|g| g.id.unwrap().0)
        .collect();
    assert_eq!(drawn, expected, "the approved plan's grids");
    assert_eq!(
        grids_drawn(&team.admin, area).await,
        expected,
        "county's map"
    );
    let hist = plans(history).await;
    assert_eq!(
        (hist.text("status"), hist.division),
        (Some("superseded"), code(VILLAGE))
    );
    assert!(hist.text("name").unwrap().contains("部分"), "{hist:?}");
    for g in truth(owner.as_ref(), Layer::Grids, TOWNSHIP).await {
        let gid = g.id.unwrap().0;
        if old_grids.contains(&gid) {
            assert_eq!(plan_id(&g), Some(history));
        } else if g.division != code(VILLAGE) {
            assert_eq!(
                plan_id(&g),
                Some(old_plan),
                "other villages keep their grids"
            );
        } else {
            assert_eq!(plan_id(&g), Some(id));
        }
    }
    // Every household has the code of the new grid that holds it.
    let new_grids: Vec<Feature> = truth(owner.as_ref(), Layer::Grids, VILLAGE)
        .await
        .into_iter()
        .filter(|g| plan_id(g) == Some(id))
        .collect();
    let mut per_code: BTreeMap<String, u64> = BTreeMap::new();
    for hh in truth(owner.as_ref(), Layer::Households, VILLAGE).await {
        let c = hh.text("grid_code").unwrap().to_owned();
        let g = new_grids
            .iter()
            .find(|g| g.text("code") == Some(c.as_str()))
            .unwrap();
        let geom = g.geometry.as_ref().unwrap();
        assert!(geom.contains(&point(&hh)) || geom.intersects(&point(&hh)));
        *per_code.entry(c).or_default() += 1;
    }
    for g in &new_grids {
        assert_eq!(
            per_code.get(g.text("code").unwrap()).copied(),
            g.get("households")
                .and_then(Value::as_i64)
                .map(|n| n as u64)
        );
    }
    // Lookups answer the new grids in the village and the old ones elsewhere.
    let (s, _, after) = get(&team.admin, &lookup(probe)).await;
    assert_eq!(s, StatusCode::OK, "{after}");
    let found = after["grid"]["id"].as_i64().unwrap();
    assert!(
        new_grids.iter().any(|g| g.id == Some(FeatureId(found))),
        "{after}"
    );
    let expected = truth(owner.as_ref(), Layer::Households, VILLAGE).await[0]
        .text("grid_code")
        .unwrap()
        .to_owned();
    assert_eq!(after["grid"]["code"], expected);
    assert_eq!(
        get(&team.admin, &lookup(other)).await.2["grid"]["id"],
        other_grid
    );
    // Approved once only.
    let (s, _, p) = request(
        &team.village,
        post(&approve, &json!({"effective_from": "2026-03-02"})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");

    // A rebalance of the plan now in force, approved for a later day: approved until the
    // sweep finds its day, then in force, the first plan superseded whole.
    // One grid more than the plan in force: the heaviest grid is split, the codes kept.
    let codes: BTreeSet<String> = new_grids
        .iter()
        .map(|g| g.text("code").unwrap().to_owned())
        .collect();
    let count = new_grids.len();
    let second = draw(
        &team.township,
        &json!({"village": VILLAGE, "rebalance": true, "grids": count + 1, "seconds": 1}),
    )
    .await;
    let p2 = finished(&team.township, second).await;
    assert_eq!(p2["job"], "done", "{p2}");
    assert_eq!(p2["summary"]["rebalanced"], true);
    eprintln!("rebalanced: {}", p2["summary"]);
    let kept: BTreeSet<String> = p2["grids"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["properties"]["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kept.len(), count + 1);
    assert!(kept.is_superset(&codes), "{kept:?} ⊉ {codes:?}");
    let (s, _, c2) = get(
        &team.township,
        &format!("/api/v1/partition-plans/{second}/compare"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        c2["totals"]["moved"].as_u64().unwrap() <= moved,
        "a rebalance moves few: {c2}"
    );
    let (s, _, a2) = request(
        &team.township,
        post(
            &format!("/api/v1/partition-plans/{second}/approve"),
            &json!({"effective_from": "2026-03-12"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{a2}");
    assert_eq!(
        (&a2["plan"]["status"], &a2["approval"]["effective"]),
        (&json!("approved"), &json!(false))
    );
    assert!(
        gridgov_server::partition::approve::activate_due(&team.state)
            .await
            .unwrap()
            .is_empty()
    );
    // The server's periodic sweep (the dispute deadlines' too) puts it in force on its day,
    // as the system.
    clock.advance_days(10);
    let sweeper =
        gridgov_server::disputes::spawn_sweeper(team.state.clone(), Duration::from_millis(20));
    let object = format!("grid_plans/{second}/activate");
    let mut records = Vec::new();
    for _ in 0..1500 {
        records = owner
            .audit_records(0, 100_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.event.object == object)
            .collect();
        if !records.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sweeper.abort();
    assert_eq!(records.len(), 1, "put in force once");
    assert_eq!(records[0].event.actor, "system");
    assert_eq!(plans(second).await.text("status"), Some("effective"));
    assert_eq!(plans(id).await.text("status"), Some("superseded"));
    assert_eq!(plans(old_plan).await.text("status"), Some("effective"));
    let (_, _, now) = get(&team.admin, &lookup(probe)).await;
    let g = owner
        .get(Layer::Grids, FeatureId(now["grid"]["id"].as_i64().unwrap()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(plan_id(&g), Some(second), "{now}");

    // The township drawn whole (small villages merged whole, stored village by village) and
    // put in force: the township's old plan and the village's plan superseded whole.
    let whole = draw(
        &team.township,
        &json!({"township": TOWNSHIP, "tolerance": 0.25, "seconds": 2}),
    )
    .await;
    let p3 = finished(&team.township, whole).await;
    assert_eq!(p3["job"], "done", "{p3}");
    eprintln!("township: {}", p3["summary"]);
    let all = truth(owner.as_ref(), Layer::Households, TOWNSHIP).await;
    let mut sum = 0;
    for g in p3["grids"]["features"].as_array().unwrap() {
        let p = &g["properties"];
        assert!(
            p["code"]
                .as_str()
                .unwrap()
                .starts_with(p["division_code"].as_str().unwrap()),
            "{p}"
        );
        sum += p["households"].as_u64().unwrap();
    }
    assert_eq!(sum, all.len() as u64);
    let joint = p3["grids"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["properties"]["joint"].is_string())
        .count();
    assert!(
        joint >= 2,
        "small villages merged into grids stored per village: {p3}"
    );
    assert!(p3["summary"]["grids"].as_u64() > p3["summary"]["drawn_grids"].as_u64());
    // With 400-600 households a grid takes a small village whole between two blocks of a
    // larger one: its part in the larger village lies in two pieces, stored as two polygons.
    let pieces = draw(
        &team.township,
        &json!({"township": TOWNSHIP, "households": "400-600", "seconds": 10}),
    )
    .await;
    let p4 = finished(&team.township, pieces).await;
    assert_eq!(p4["job"], "done", "{p4}");
    let mut sum = 0;
    for g in p4["grids"]["features"].as_array().unwrap() {
        assert_eq!(g["geometry"]["type"], "Polygon", "{}", g["properties"]);
        sum += g["properties"]["households"].as_u64().unwrap();
    }
    assert_eq!(sum, all.len() as u64);
    // Every piece is listed as a part of its grid.
    let joint = p4["grids"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["properties"]["joint"].is_string())
        .count();
    let listed: usize = p4["summary"]["grids"].as_u64().unwrap() as usize
        - p4["summary"]["drawn_grids"].as_u64().unwrap() as usize;
    assert!(joint > listed, "{joint} parts, {listed} more than drawn");
    township_moves(&team.township, pieces, &all).await;
    let day = clock_day(&clock).to_string();
    let (s, _, a3) = request(
        &team.township,
        post(
            &format!("/api/v1/partition-plans/{whole}/approve"),
            &json!({"effective_from": day}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{a3}");
    let superseded: BTreeSet<i64> = a3["approval"]["superseded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_i64().unwrap())
        .collect();
    assert_eq!(superseded, BTreeSet::from([old_plan, second]), "{a3}");
    assert_eq!(plans(old_plan).await.text("status"), Some("superseded"));
    let in_force: BTreeMap<String, Feature> = truth(owner.as_ref(), Layer::Grids, TOWNSHIP)
        .await
        .into_iter()
        .filter(|g| plan_id(g) == Some(whole))
        .map(|g| (g.text("code").unwrap().to_owned(), g))
        .collect();
    for hh in &all {
        let hh = owner
            .get(Layer::Households, hh.id.unwrap())
            .await
            .unwrap()
            .unwrap();
        let g = &in_force[hh.text("grid_code").unwrap()];
        assert_eq!(
            g.division, hh.division,
            "a household's grid is in its village"
        );
    }
    let (_, _, there) = get(&team.admin, &lookup(other)).await;
    let g = owner
        .get(
            Layer::Grids,
            FeatureId(there["grid"]["id"].as_i64().unwrap()),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(plan_id(&g), Some(whole), "{there}");

    // A computation whose server went away is reported failed by any server.
    let lost = Feature::new(code(VILLAGE), None)
        .with("name", "中断的方案")
        .with("status", "draft")
        .with("created_on", clock_day(&clock))
        .with("job", "running")
        .with("progress", 40_i64)
        .with(
            "heartbeat",
            Utc.timestamp_opt(clock.0.load(Ordering::SeqCst) - 600, 0)
                .unwrap(),
        );
    let lost = write(owner.as_ref(), vec![Op::Insert(Layer::GridPlans, lost)])
        .await
        .unwrap()[0];
    let uri = format!("/api/v1/partition-plans/{lost}");
    let (_, _, p) = get(&team.village, &uri).await;
    assert_eq!(p["job"], "failed", "{p}");
    assert!(p["job_error"].as_str().unwrap().contains("stopped"), "{p}");
    let (s, _, p) = request(
        &team.village,
        post(
            &format!("{uri}/approve"),
            &json!({"effective_from": clock_day(&clock).to_string()}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    // Progress with a heartbeat brings it back; two minutes of silence fail it again.
    let report = |percent| {
        within(
            RowScope::Prefix(VILLAGE.into()),
            report_progress(&team.state, lost, percent),
        )
    };
    assert_eq!(report(55).await, Ok(true));
    let (_, _, p) = get(&team.village, &uri).await;
    assert_eq!(
        (&p["job"], &p["progress"]),
        (&json!("running"), &json!(55)),
        "{p}"
    );
    clock.advance_secs(121);
    assert_eq!(get(&team.village, &uri).await.2["job"], "failed");
    // A computation that ended is left alone.
    let mut ended = owner.get(Layer::GridPlans, lost).await.unwrap().unwrap();
    ended.properties.insert("job".into(), "failed".into());
    ended
        .properties
        .insert("job_error".into(), "stopped by hand".into());
    write(owner.as_ref(), vec![Op::Update(Layer::GridPlans, ended)])
        .await
        .unwrap();
    assert_eq!(report(60).await, Ok(false));
    let (_, _, p) = get(&team.village, &uri).await;
    assert_eq!(
        (&p["job_error"], &p["progress"]),
        (&json!("stopped by hand"), &json!(55)),
        "{p}"
    );

    weighed_units(&team).await;
}

fn clock_day(clock: &TestClock) -> chrono::NaiveDate {
    Utc.timestamp_opt(clock.0.load(Ordering::SeqCst), 0)
        .unwrap()
        .date_naive()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_on_geopackage() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(GpkgStore::open(&dir.path().join("p.gpkg")).await.unwrap());
    write(store.as_ref(), township()).await.unwrap();
    plans_on(store.clone(), store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_on_postgis_under_row_security() {
    let db = gridgov_store::testing::TempDatabase::create("plans")
        .await
        .unwrap();
    let (owner, server) = postgis_stores(&db).await;
    write(owner.as_ref(), township()).await.unwrap();
    plans_on(server, owner).await;
    db.drop_now().await.unwrap();
}
