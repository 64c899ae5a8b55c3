//! The audit log as the server writes it: login attempts (with why they failed and from
//! where), reads of personal data (items, single features, tiles once a minute), reveals with
//! their reason, changes and logouts; the chain stays sound; and when the log cannot be
//! written, personal data is not answered and nobody signs in.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use gridgov_model::{Feature, Layer, Role};
use gridgov_server::{router, AppState, LiveIndex};
use gridgov_store::audit::verify;
use gridgov_store::{write, AuditAction, AuditRecord, AuditResult, Op, Store};
use serde_json::{json, Value};
use sqlx::{Connection, SqliteConnection};

/// An ID-card number with its check character (GB 11643).
fn id_card(first17: &str) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{first17}{check}")
}

/// The XYZ tile at zoom `z` holding a point.
fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let lat = lat.to_radians();
    let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    (x as u32, y as u32)
}

async fn records(store: &dyn Store) -> Vec<AuditRecord> {
    store.audit_records(0, 10_000).await.unwrap()
}

/// The records after the first `skip`.
async fn since(store: &dyn Store, skip: usize) -> Vec<AuditRecord> {
    records(store).await.into_iter().skip(skip).collect()
}

fn detail(r: &AuditRecord) -> Value {
    serde_json::from_str(&r.event.detail).unwrap()
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn post_json(uri: &str, body: &Value) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

struct World {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    store: Arc<dyn Store>,
    /// The router as reached from 10.1.2.3, signed in as nobody.
    app: axum::Router,
    person: i64,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = common::county(dir.path()).await;
    let person = Feature::new("520526101201".parse().unwrap(), None)
        .with("name", "张三丰")
        .with("id_card", id_card("52052619800101123"))
        .with("phone", "13812345678");
    let ids = write(&*store, vec![Op::Insert(Layer::Persons, person)])
        .await
        .unwrap();
    let index = LiveIndex::start(store.clone()).await.unwrap();
    let state = AppState::new(
        store.clone(),
        "geopackage",
        dir.path().to_path_buf(),
        index,
        1 << 20,
    );
    let from: SocketAddr = "10.1.2.3:50000".parse().unwrap();
    let app = router(state).layer(axum::Extension(ConnectInfo(from)));
    World {
        path: dir.path().join("t.gpkg"),
        _dir: dir,
        store,
        app,
        person: ids[0].0,
    }
}

#[tokio::test]
async fn logins_reads_reveals_changes_and_logouts_are_recorded_in_one_sound_chain() {
    let w = world().await;
    let store = &*w.store;
    // The accounts, made before anything is recorded.
    let admin = common::sign_in(&w.app, store, "ada", Role::CountyAdmin, "520526000000").await;
    let screen =
        common::sign_in(&w.app, store, "screen", Role::CommandScreen, "520526000000").await;
    let start = records(store).await.len();
    assert_eq!(start, 2, "two successful logins so far");

    // Failed logins, each with its reason and source.
    assert_eq!(
        common::login(&w.app, "ada", "wrong password here").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        common::login(&w.app, "nobody", "whatever it is").await.0,
        StatusCode::UNAUTHORIZED
    );
    let logins = since(store, start).await;
    assert_eq!(logins.len(), 2);
    for (r, (actor, why)) in logins
        .iter()
        .zip([("ada", "wrong password"), ("nobody", "unknown user")])
    {
        assert_eq!(r.event.action, AuditAction::Login);
        assert_eq!(r.event.result, AuditResult::Denied);
        assert_eq!(r.event.actor, actor);
        assert_eq!(r.event.source, "10.1.2.3");
        assert_eq!(detail(r)["reason"], why);
    }
    let first = records(store).await;
    assert_eq!(first[0].event.actor, "ada");
    assert_eq!(
        (first[0].event.action, first[0].event.result),
        (AuditAction::Login, AuditResult::Ok)
    );

    let app = common::as_user(w.app.clone(), &admin);
    let n = records(store).await.len();

    // A listing of persons: masked, and recorded with the ids answered.
    let (status, _, body) = common::request(&app, get("/api/v1/layers/persons/items")).await;
    assert_eq!(status, StatusCode::OK);
    let full = id_card("52052619800101123");
    let shown = &body["features"][0]["properties"];
    assert_eq!(shown["id_card"], format!("520526********{}", &full[14..]));
    assert_eq!(shown["phone"], "138****5678");
    let read = since(store, n).await;
    assert_eq!(read.len(), 1, "{read:?}");
    assert_eq!(
        (read[0].event.action, read[0].event.actor.as_str()),
        (AuditAction::Read, "ada")
    );
    assert_eq!(detail(&read[0])["ids"], json!([w.person]));
    assert_eq!(read[0].event.source, "10.1.2.3");

    // Non-personal layers are not recorded; a personal single feature is.
    let n = records(store).await.len();
    assert_eq!(
        common::request(&app, get("/api/v1/layers/counties/items"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(records(store).await.len(), n);
    let (status, _, house) =
        common::request(&app, get("/api/v1/layers/households/items?limit=1")).await;
    assert_eq!(status, StatusCode::OK);
    let house_id = house["features"][0]["id"].as_i64().unwrap();
    let uri = format!("/api/v1/layers/households/items/{house_id}");
    let (status, headers, _) = common::request(&app, get(&uri)).await;
    assert_eq!(status, StatusCode::OK);
    let last = since(store, n).await;
    assert_eq!(last.len(), 2);
    assert_eq!(last[1].event.object, format!("households/{house_id}"));

    // Tiles of a personal layer: one record per minute, however many tiles.
    let n = records(store).await.len();
    for lon in [104.0, 104.3, 104.6] {
        let (x, y) = tile_of(lon, 26.5, 14);
        let (status, _, _) =
            common::request(&app, get(&format!("/tiles/households/14/{x}/{y}.mvt"))).await;
        assert_eq!(status, StatusCode::OK);
    }
    let tiles = since(store, n).await;
    assert_eq!(tiles.len(), 1, "{tiles:?}");
    assert_eq!(tiles[0].event.object, "households/tiles");

    // A change is recorded with its result.
    let tag = headers[header::ETAG].to_str().unwrap().to_owned();
    let n = records(store).await.len();
    let patch = Request::patch(&uri)
        .header("content-type", "application/merge-patch+json")
        .header(header::IF_MATCH, &tag)
        .body(Body::from(r#"{"properties": {"size": 4}}"#))
        .unwrap();
    assert_eq!(common::request(&app, patch).await.0, StatusCode::OK);
    let stale = Request::delete(&uri)
        .header(header::IF_MATCH, &tag)
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        common::request(&app, stale).await.0,
        StatusCode::PRECONDITION_FAILED
    );
    let changes = since(store, n).await;
    assert_eq!(
        changes.len(),
        1,
        "a refused precondition changes nothing: {changes:?}"
    );
    assert_eq!(
        (changes[0].event.action, changes[0].event.result),
        (AuditAction::Update, AuditResult::Ok)
    );

    // A reveal needs a reason, shows the clear values and records the reason.
    let reveal = format!("/api/v1/layers/persons/items/{}/reveal", w.person);
    let n = records(store).await.len();
    let (status, _, _) = common::request(&app, post_json(&reveal, &json!({}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, _) = common::request(&app, post_json(&reveal, &json!({"reason": "x"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        records(store).await.len(),
        n,
        "nothing revealed, nothing recorded"
    );
    let why = "核实低保申请人身份";
    let (status, headers, body) =
        common::request(&app, post_json(&reveal, &json!({"reason": why}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["fields"]["id_card"], id_card("52052619800101123"));
    assert_eq!(body["fields"]["phone"], "13812345678");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    let rec = since(store, n).await;
    assert_eq!(rec.len(), 1);
    assert_eq!(rec[0].event.action, AuditAction::Reveal);
    assert_eq!(rec[0].event.object, format!("persons/{}", w.person));
    assert_eq!(detail(&rec[0])["reason"], why);

    // The command screen may not reveal (nor read) persons at all.
    let screen_app = common::as_user(w.app.clone(), &screen);
    let (status, _, _) =
        common::request(&screen_app, post_json(&reveal, &json!({"reason": why}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A logout is recorded; then the chain checks out from the first record to the last.
    let n = records(store).await.len();
    let out = Request::post("/api/v1/auth/logout")
        .body(Body::empty())
        .unwrap();
    assert_eq!(common::request(&app, out).await.0, StatusCode::NO_CONTENT);
    let rec = since(store, n).await;
    assert_eq!(rec[0].event.action, AuditAction::Logout);
    let check = verify(store).await.unwrap();
    assert_eq!(check.broken, None);
    assert_eq!(check.records as usize, records(store).await.len());
}

#[tokio::test]
async fn without_an_audit_log_no_personal_data_is_answered_and_nobody_signs_in() {
    let w = world().await;
    let store = &*w.store;
    let admin = common::sign_in(&w.app, store, "ada", Role::CountyAdmin, "520526000000").await;
    let app = common::as_user(w.app.clone(), &admin);
    // The log breaks: every insert into it fails from now on.
    let mut raw = SqliteConnection::connect(&format!("sqlite://{}", w.path.display()))
        .await
        .unwrap();
    sqlx::raw_sql(
        "CREATE TRIGGER audit_down BEFORE INSERT ON gridgov_audit \
         BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;",
    )
    .execute(&mut raw)
    .await
    .unwrap();
    raw.close().await.unwrap();

    for uri in [
        "/api/v1/layers/persons/items".to_owned(),
        format!("/api/v1/layers/persons/items/{}", w.person),
        "/ogc/collections/persons/items".to_owned(),
    ] {
        let (status, _, body) = common::request(&app, get(&uri)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{uri}: {body}");
        assert!(
            !body.to_string().contains("张"),
            "{uri} answered personal data: {body}"
        );
    }
    let reveal = format!("/api/v1/layers/persons/items/{}/reveal", w.person);
    let (status, _, body) =
        common::request(&app, post_json(&reveal, &json!({"reason": "核实身份信息"}))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!body.to_string().contains("13812345678"));
    // Non-personal data is still served.
    assert_eq!(
        common::request(&app, get("/api/v1/layers/counties/items"))
            .await
            .0,
        StatusCode::OK
    );
    // A login cannot be recorded, so it does not happen.
    let (status, body) = common::login(&w.app, "ada", common::PASSWORD).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.get("token").is_none());
}
