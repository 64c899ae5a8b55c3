//! Sign-in and the deny-by-default gate: nothing but the health check, the login and the
//! front end's files answers without a live session; one answer for every failed login;
//! lockout, logout, disabled accounts and both timeouts end access; sessions cached by a server
//! are trusted for `cache_ttl` at most.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use gridgov_model::Role;
use gridgov_server::auth::password::token_hash;
use gridgov_server::auth::AuthPolicy;
use gridgov_server::{router, AppState, LiveIndex};
use gridgov_store::{Store, UserChange};

use common::{login, request, sign_in, PASSWORD};

async fn served(dir: &std::path::Path, policy: AuthPolicy) -> (axum::Router, Arc<dyn Store>) {
    let store = common::county(dir).await;
    let index = LiveIndex::start(store.clone()).await.unwrap();
    let state =
        AppState::new(store.clone(), "geopackage", dir.to_path_buf(), index, 0).with_auth(policy);
    (router(state), store)
}

fn with_token(uri: &str, token: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

async fn status(app: &axum::Router, req: Request<Body>) -> StatusCode {
    request(app, req).await.0
}

const GUARDED: &[&str] = &[
    "/api/v1/layers",
    "/api/v1/layers/households/items",
    "/api/v1/layers/households/items/1",
    "/api/v1/layers/households/h3",
    "/api/v1/lookup?lon=104.5&lat=26.5",
    "/api/v1/openapi.json",
    "/api/docs",
    "/api/v1/auth/me",
    "/api/v1/events",
    "/api/v1/glossary",
    "/api/v1/grids/summary",
    "/api/v1/way?lon=104.5&lat=26.5&crs=wgs84&station=1",
    "/basemap.json",
    "/basemap/8/202/108.mvt",
    "/fonts/DejaVu%20Sans%20Book/0-255.pbf",
    "/styles/dark.json",
    "/ogc",
    "/ogc/collections/households/items",
    "/tiles/all/0/0/0.mvt",
    "/tiles/households.json",
    "/no/such/route",
];

#[tokio::test]
async fn nothing_answers_without_a_session_but_health_login_and_pages() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("dist/assets")).unwrap();
    for page in ["index", "m", "login", "planner", "sanitation"] {
        std::fs::write(
            dir.path().join(format!("dist/{page}.html")),
            "<!doctype html>",
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("dist/assets/app.js"), "// a page's script").unwrap();
    let (app, _) = served(dir.path(), AuthPolicy::default()).await;
    for uri in GUARDED {
        let (st, headers, body) =
            request(&app, Request::get(*uri).body(Body::empty()).unwrap()).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(
            headers[header::CONTENT_TYPE],
            "application/problem+json",
            "{uri}"
        );
        assert!(
            headers[header::WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .starts_with("Bearer"),
            "{uri}"
        );
        assert_eq!(body["status"], 401, "{uri}");
    }
    // A write is refused before its body is looked at.
    let post = Request::post("/api/v1/layers/households/items")
        .header(header::CONTENT_TYPE, "application/geo+json")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(status(&app, post).await, StatusCode::UNAUTHORIZED);
    // A made-up token and a malformed header are no better.
    assert_eq!(
        status(&app, with_token("/api/v1/layers", "not-a-session")).await,
        StatusCode::UNAUTHORIZED
    );
    let basic = Request::get("/api/v1/layers")
        .header(header::AUTHORIZATION, "Basic YWRtaW46YWRtaW4=")
        .body(Body::empty())
        .unwrap();
    assert_eq!(status(&app, basic).await, StatusCode::UNAUTHORIZED);

    let health = Request::get("/api/v1/health").body(Body::empty()).unwrap();
    assert_eq!(status(&app, health).await, StatusCode::OK);
    // The pages and their scripts hold no data: they load, then ask for a session.
    // Pages are asked again each visit; assets (addressed by a hash of their content) kept.
    for uri in [
        "/",
        "/m",
        "/login",
        "/planner",
        "/sanitation",
        "/assets/app.js",
    ] {
        let page = Request::get(uri).body(Body::empty()).unwrap();
        let (st, headers, _) = request(&app, page).await;
        assert_eq!(st, StatusCode::OK, "{uri}");
        let cache = headers[header::CACHE_CONTROL].to_str().unwrap();
        let expected = if uri.starts_with("/assets/") {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        assert_eq!(cache, expected, "{uri}");
    }
}

#[tokio::test]
async fn a_session_opens_every_route_until_logout() {
    let dir = tempfile::tempdir().unwrap();
    let (app, store) = served(dir.path(), AuthPolicy::default()).await;
    let token = sign_in(
        &app,
        store.as_ref(),
        "wang",
        Role::TownshipOfficer,
        "520526101000",
    )
    .await;
    assert_eq!(token.len(), 43);

    let (st, _, me) = request(&app, with_token("/api/v1/auth/me", &token)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(me["username"], "wang");
    assert_eq!(me["role"], "township_officer");
    assert_eq!(me["role_zh"], "乡镇干部");
    assert_eq!(me["scope"], "520526101000");
    assert!(!me["reads"]
        .as_array()
        .unwrap()
        .contains(&"supervised_persons".into()));
    for uri in ["/api/v1/layers", "/ogc", "/tiles/all/0/0/0.mvt"] {
        assert_eq!(
            status(&app, with_token(uri, &token)).await,
            StatusCode::OK,
            "{uri}"
        );
    }

    let logout = Request::post("/api/v1/auth/logout")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let (st, headers, _) = request(&app, logout).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert!(headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        status(&app, with_token("/api/v1/layers", &token)).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_web_session_is_an_http_only_same_site_cookie() {
    let dir = tempfile::tempdir().unwrap();
    let (app, store) = served(dir.path(), AuthPolicy::default()).await;
    sign_in(
        &app,
        store.as_ref(),
        "li",
        Role::VillageOfficer,
        "520526101201",
    )
    .await;
    let body = serde_json::json!({"username": "li", "password": PASSWORD}).to_string();
    let req = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    let (st, headers, json) = request(&app, req).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    let token = json["token"].as_str().unwrap();
    assert!(cookie.starts_with(&format!("gridgov_session={token};")));
    let by_cookie = Request::get("/api/v1/auth/me")
        .header(
            header::COOKIE,
            format!("theme=dark; gridgov_session={token}"),
        )
        .body(Body::empty())
        .unwrap();
    let (st, _, me) = request(&app, by_cookie).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(me["username"], "li");
}

#[tokio::test]
async fn failed_logins_all_look_alike_and_lock_the_account() {
    let dir = tempfile::tempdir().unwrap();
    let (app, store) = served(dir.path(), AuthPolicy::default()).await;
    sign_in(
        &app,
        store.as_ref(),
        "zhao",
        Role::GridWorker,
        "520526101201-G01",
    )
    .await;

    let (unknown_status, unknown) = login(&app, "nobody", PASSWORD).await;
    let (wrong_status, wrong) = login(&app, "zhao", "wrong password here").await;
    let (bad_name_status, bad_name) = login(&app, "x' OR '1'='1", PASSWORD).await;
    assert_eq!(unknown_status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_status, StatusCode::UNAUTHORIZED);
    assert_eq!(bad_name_status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        unknown, wrong,
        "an unknown name and a wrong password must look the same"
    );
    assert_eq!(unknown, bad_name);

    // Two more failures: the third locks the account, and then even the right password fails
    // with the same answer.
    login(&app, "zhao", "wrong password here").await;
    login(&app, "zhao", "wrong password here").await;
    let name = "zhao".parse().unwrap();
    let mut locked = None;
    for _ in 0..100 {
        let c = store.credentials(&name).await.unwrap().unwrap();
        if c.locked_until.is_some() {
            locked = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let c = locked.expect("three failures lock the account");
    assert_eq!(c.failed_logins, 3);
    let (st, body) = login(&app, "zhao", PASSWORD).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(body, wrong);

    // Once the lock is over, the right password works and clears the count.
    store.set_login_failures(c.user.id, 3, None).await.unwrap();
    let (st, _) = login(&app, "zhao", PASSWORD).await;
    assert_eq!(st, StatusCode::OK);
    let c = store.credentials(&name).await.unwrap().unwrap();
    assert_eq!(c.failed_logins, 0);
}

/// A policy whose cached sessions are trusted for 50 ms only.
fn short_cache() -> AuthPolicy {
    AuthPolicy {
        cache_ttl: Duration::from_millis(50),
        ..AuthPolicy::default()
    }
}

/// Longer than [`short_cache`]'s TTL.
const PAST_THE_TTL: Duration = Duration::from_millis(120);

#[tokio::test]
async fn disabling_an_account_ends_its_sessions() {
    // Disabled in the store (as `gridgov user disable` or another server does): seen here once
    // the cached session is no longer trusted.
    let dir = tempfile::tempdir().unwrap();
    let (app, store) = served(dir.path(), short_cache()).await;
    let token = sign_in(
        &app,
        store.as_ref(),
        "sun",
        Role::CommandScreen,
        "520526000000",
    )
    .await;
    assert_eq!(
        status(&app, with_token("/api/v1/layers", &token)).await,
        StatusCode::OK
    );
    store
        .change_user(
            &"sun".parse().unwrap(),
            UserChange {
                disabled: Some(true),
                ..UserChange::default()
            },
        )
        .await
        .unwrap();
    tokio::time::sleep(PAST_THE_TTL).await;
    assert_eq!(
        status(&app, with_token("/api/v1/layers", &token)).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&app, "sun", PASSWORD).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_session_revoked_by_another_server_ends_here_once_the_cache_ttl_has_passed() {
    let dir = tempfile::tempdir().unwrap();
    let (app, store) = served(dir.path(), short_cache()).await;
    let token = sign_in(
        &app,
        store.as_ref(),
        "zhou",
        Role::CountyAdmin,
        "520526000000",
    )
    .await;
    assert_eq!(
        status(&app, with_token("/api/v1/layers", &token)).await,
        StatusCode::OK
    );
    // Another server on the same database logs the session out.
    assert!(store.revoke_session(&token_hash(&token)).await.unwrap());
    tokio::time::sleep(PAST_THE_TTL).await;
    assert_eq!(
        status(&app, with_token("/api/v1/layers", &token)).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_cached_session_needs_no_store_and_a_logout_here_ends_it_at_once() {
    let policy = AuthPolicy {
        cache_ttl: Duration::from_hours(1),
        ..AuthPolicy::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let (app, store) = served(dir.path(), policy).await;
    let token = sign_in(
        &app,
        store.as_ref(),
        "wu",
        Role::CountyAdmin,
        "520526000000",
    )
    .await;
    let other = login(&app, "wu", PASSWORD).await.1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    for t in [&token, &other] {
        assert_eq!(
            status(&app, with_token("/api/v1/layers", t)).await,
            StatusCode::OK
        );
    }

    // Within the TTL the cache answers: a revocation only in the store is not seen yet
    // (the bound documented on `AuthPolicy::cache_ttl`).
    assert!(store.revoke_session(&token_hash(&other)).await.unwrap());
    assert_eq!(
        status(&app, with_token("/api/v1/layers", &other)).await,
        StatusCode::OK
    );

    // A logout on this server ends the session at once, cached or not.
    for t in [&token, &other] {
        let logout = Request::post("/api/v1/auth/logout")
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .body(Body::empty())
            .unwrap();
        assert_eq!(status(&app, logout).await, StatusCode::NO_CONTENT);
        for uri in ["/api/v1/layers", "/api/v1/auth/me"] {
            assert_eq!(
                status(&app, with_token(uri, t)).await,
                StatusCode::UNAUTHORIZED,
                "{uri}"
            );
        }
    }
}

#[tokio::test]
async fn sessions_time_out_when_idle_and_in_all() {
    // The default cache TTL (5 s) is far longer than these timeouts: the cache must not
    // extend a session's life. Half a second leaves a loaded machine time to sign in and
    // ask once before the session may end.
    for policy in [
        AuthPolicy {
            idle: Duration::from_millis(500),
            ..AuthPolicy::default()
        },
        AuthPolicy {
            absolute: Duration::from_millis(500),
            ..AuthPolicy::default()
        },
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (app, store) = served(dir.path(), policy).await;
        let token = sign_in(
            &app,
            store.as_ref(),
            "qian",
            Role::CountyAdmin,
            "520526000000",
        )
        .await;
        assert_eq!(
            status(&app, with_token("/api/v1/layers", &token)).await,
            StatusCode::OK
        );
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert_eq!(
            status(&app, with_token("/api/v1/layers", &token)).await,
            StatusCode::UNAUTHORIZED,
            "{policy:?}"
        );
    }
}
