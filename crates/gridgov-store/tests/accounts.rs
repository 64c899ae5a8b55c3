//! One accounts suite ([`Accounts`]), run against both backends: the embedded GeoPackage and a
//! real PostGIS (`GRIDGOV_TEST_DATABASE_URL`, started by scripts/test.sh; missing means
//! failure). Then what only the GeoPackage has to keep: GDAL does not see the accounts
//! tables, and files made before them get them when opened.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use gridgov_model::{Layer, Role, Scope, UserName};
use gridgov_store::gpkg::GpkgStore;
use gridgov_store::postgis::PgStore;
use gridgov_store::testing::TempDatabase;
use gridgov_store::{Accounts, NewUser, Session, Store, StoreError, User, UserChange, UserId};
use sqlx::{Connection, SqliteConnection};

fn name(s: &str) -> UserName {
    s.parse().unwrap()
}

fn scope(s: &str) -> Scope {
    s.parse().unwrap()
}

/// An instant `ms` milliseconds after a fixed one.
fn at(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(1_750_000_000_000 + ms).unwrap()
}

fn new_user(n: &str, role: Role, s: &str, hash: &str) -> NewUser {
    NewUser {
        name: name(n),
        role,
        scope: scope(s),
        password_hash: hash.to_owned(),
    }
}

/// A token hash that differs for each `n`.
fn token(n: u8) -> [u8; 32] {
    let mut t = [0u8; 32];
    for (i, b) in t.iter_mut().enumerate() {
        *b = n.wrapping_mul(31).wrapping_add(i as u8);
    }
    t
}

fn session(n: u8, user: UserId, created: i64, seen: i64) -> Session {
    Session {
        token_hash: token(n),
        user_id: user,
        created_at: at(created),
        last_seen_at: at(seen),
    }
}

async fn user(store: &dyn Store, n: &str) -> User {
    store.credentials(&name(n)).await.unwrap().unwrap().user
}

async fn alive(store: &dyn Store, n: u8) -> bool {
    store.session(&token(n)).await.unwrap().is_some()
}

/// An account of each role, in an order that is not the order of their names.
fn accounts() -> Vec<NewUser> {
    [
        ("wang.li", Role::VillageOfficer, "520526101201"),
        ("王丽", Role::GridWorker, "520526101201-G01"),
        ("admin", Role::CountyAdmin, "520526000000"),
        ("Zhao_1", Role::TownshipOfficer, "520526101000"),
        ("screen-1", Role::CommandScreen, "520526000000"),
        ("judge", Role::JudicialOfficer, "520526101000"),
    ]
    .into_iter()
    .map(|(n, role, s)| new_user(n, role, s, &format!("$argon2id$v=19${n}")))
    .collect()
}

async fn accounts_suite(store: &dyn Store) {
    assert!(store.users().await.unwrap().is_empty());
    assert!(store.credentials(&name("admin")).await.unwrap().is_none());

    // Add one account of every role (the PostGIS CHECK lists every role token).
    let before = Utc::now();
    let mut added = Vec::new();
    for u in accounts() {
        let hash = u.password_hash.clone();
        let made = store.add_user(u.clone()).await.unwrap();
        assert_eq!(
            (&made.name, made.role, &made.scope),
            (&u.name, u.role, &u.scope)
        );
        assert!(!made.disabled);
        // Kept to the millisecond, and taken now.
        assert_eq!(made.created_at.timestamp_subsec_nanos() % 1_000_000, 0);
        assert!(made.created_at >= before - Duration::milliseconds(1));
        assert!(made.created_at <= Utc::now());
        // Read back exactly as added.
        let c = store.credentials(&u.name).await.unwrap().unwrap();
        assert_eq!(c.user, made);
        assert_eq!(c.password_hash, hash);
        assert_eq!(c.failed_logins, 0);
        assert_eq!(c.locked_until, None);
        added.push(made);
    }
    let mut roles: Vec<Role> = added.iter().map(|u| u.role).collect();
    roles.sort_unstable();
    assert_eq!(roles, Role::ALL);
    let ids: std::collections::HashSet<UserId> = added.iter().map(|u| u.id).collect();
    assert_eq!(ids.len(), added.len());
    let worker = user(store, "王丽").await;
    assert_eq!(worker.scope, scope("520526101201-G01"));

    // A taken name is a conflict and changes nothing.
    let err = store
        .add_user(new_user("admin", Role::CommandScreen, "520526000000", "x"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m == "user 'admin' exists"),
        "{err:?}"
    );
    let admin = user(store, "admin").await;
    assert_eq!(admin.role, Role::CountyAdmin);
    // Names are compared exactly: another case is another name.
    store
        .add_user(new_user("Admin", Role::CommandScreen, "520526000000", "x"))
        .await
        .unwrap();

    // Every account, by name (code point order, as `UserName` sorts).
    let listed = store.users().await.unwrap();
    let mut expected: Vec<UserName> = listed.iter().map(|u| u.name.clone()).collect();
    expected.sort();
    let names: Vec<&str> = listed.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(
        names,
        ["Admin", "Zhao_1", "admin", "judge", "screen-1", "wang.li", "王丽"]
    );
    assert_eq!(
        listed.iter().map(|u| u.name.clone()).collect::<Vec<_>>(),
        expected
    );
    assert!(listed.contains(&admin) && listed.contains(&worker));

    // Login bookkeeping: failures and a lock, read back to the millisecond; sub-millisecond
    // digits are dropped.
    let lock = at(90_000) + Duration::microseconds(456);
    store
        .set_login_failures(worker.id, 3, Some(lock))
        .await
        .unwrap();
    let c = store.credentials(&worker.name).await.unwrap().unwrap();
    assert_eq!((c.failed_logins, c.locked_until), (3, Some(at(90_000))));
    store.set_login_failures(worker.id, 4, None).await.unwrap();
    let c = store.credentials(&worker.name).await.unwrap().unwrap();
    assert_eq!((c.failed_logins, c.locked_until), (4, None));
    store
        .set_login_failures(worker.id, 5, Some(at(1)))
        .await
        .unwrap();
    let err = store
        .set_login_failures(UserId(999_999), 1, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NoUser(_)), "{err:?}");

    // Sessions: create, read with their account, touch, revoke.
    let s1 = session(1, worker.id, 1_000, 1_000);
    store.create_session(&s1).await.unwrap();
    let (got, owner) = store.session(&token(1)).await.unwrap().unwrap();
    assert_eq!(got, s1);
    assert_eq!(owner, worker);
    assert!(store.session(&token(99)).await.unwrap().is_none());
    let err = store.create_session(&s1).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let err = store
        .create_session(&session(98, UserId(999_999), 0, 0))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NoUser(_)), "{err:?}");
    assert!(!alive(store, 98).await);
    store
        .touch_session(&token(1), at(5_000) + Duration::nanoseconds(999_999))
        .await
        .unwrap();
    let (got, _) = store.session(&token(1)).await.unwrap().unwrap();
    assert_eq!((got.created_at, got.last_seen_at), (at(1_000), at(5_000)));
    // Touching a session that is gone is no error (it may have just been revoked).
    store.touch_session(&token(99), at(5_000)).await.unwrap();
    assert!(store.revoke_session(&token(1)).await.unwrap());
    assert!(!store.revoke_session(&token(1)).await.unwrap());
    assert!(store.session(&token(1)).await.unwrap().is_none());

    // A change with nothing in it returns the account and ends nothing.
    store
        .create_session(&session(2, worker.id, 0, 0))
        .await
        .unwrap();
    let same = store
        .change_user(&worker.name, UserChange::default())
        .await
        .unwrap();
    assert_eq!(same, worker);
    assert!(alive(store, 2).await);

    // A new password: the hash, failures and lock cleared, every session of the account ended
    // and no other account's.
    store
        .create_session(&session(3, worker.id, 0, 0))
        .await
        .unwrap();
    store
        .create_session(&session(4, admin.id, 0, 0))
        .await
        .unwrap();
    let changed = store
        .change_user(
            &worker.name,
            UserChange {
                password_hash: Some("$argon2id$v=19$new".into()),
                ..UserChange::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(changed, worker);
    let c = store.credentials(&worker.name).await.unwrap().unwrap();
    assert_eq!(c.password_hash, "$argon2id$v=19$new");
    assert_eq!((c.failed_logins, c.locked_until), (0, None));
    assert!(!alive(store, 2).await && !alive(store, 3).await);
    assert!(alive(store, 4).await);

    // A new role ends the sessions.
    store
        .create_session(&session(5, worker.id, 0, 0))
        .await
        .unwrap();
    store
        .set_login_failures(worker.id, 2, Some(at(7)))
        .await
        .unwrap();
    let changed = store
        .change_user(
            &worker.name,
            UserChange {
                role: Some(Role::VillageOfficer),
                ..UserChange::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(changed.role, Role::VillageOfficer);
    assert_eq!(changed.scope, worker.scope);
    assert!(!alive(store, 5).await);
    // Only a new password clears the failures.
    let c = store.credentials(&worker.name).await.unwrap().unwrap();
    assert_eq!(c.user, changed);
    assert_eq!((c.failed_logins, c.locked_until), (2, Some(at(7))));
    assert_eq!(c.password_hash, "$argon2id$v=19$new");

    // A new scope ends the sessions.
    store
        .create_session(&session(6, worker.id, 0, 0))
        .await
        .unwrap();
    let changed = store
        .change_user(
            &worker.name,
            UserChange {
                scope: Some(scope("520526101201")),
                ..UserChange::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(changed.scope, scope("520526101201"));
    assert_eq!(changed.role, Role::VillageOfficer);
    assert!(!alive(store, 6).await);
    // Role and scope at once, back to a grid.
    let changed = store
        .change_user(
            &worker.name,
            UserChange {
                role: Some(Role::GridWorker),
                scope: Some(scope("520526101201-G02")),
                ..UserChange::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (changed.role, changed.scope.clone()),
        (Role::GridWorker, scope("520526101201-G02"))
    );
    assert_eq!(user(store, "王丽").await, changed);

    // Disabling ends the sessions; a session of a disabled account is still read (the caller
    // decides); enabling ends nothing.
    store
        .create_session(&session(7, worker.id, 0, 0))
        .await
        .unwrap();
    let disabled = store
        .change_user(
            &worker.name,
            UserChange {
                disabled: Some(true),
                ..UserChange::default()
            },
        )
        .await
        .unwrap();
    assert!(disabled.disabled);
    assert!(user(store, "王丽").await.disabled);
    assert!(!alive(store, 7).await);
    store
        .create_session(&session(8, worker.id, 0, 0))
        .await
        .unwrap();
    let (_, owner) = store.session(&token(8)).await.unwrap().unwrap();
    assert!(owner.disabled);
    let enabled = store
        .change_user(
            &worker.name,
            UserChange {
                disabled: Some(false),
                ..UserChange::default()
            },
        )
        .await
        .unwrap();
    assert!(!enabled.disabled);
    assert!(alive(store, 8).await);
    assert!(alive(store, 4).await);

    // No such account.
    let err = store
        .change_user(
            &name("nobody"),
            UserChange {
                disabled: Some(true),
                ..UserChange::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::NoUser(n) if n == "nobody"),
        "{err:?}"
    );
    assert!(store.credentials(&name("nobody")).await.unwrap().is_none());

    // Purge: opened before the first bound or last seen before the second, either suffices;
    // the bounds themselves are kept.
    assert!(store.revoke_session(&token(4)).await.unwrap());
    assert!(store.revoke_session(&token(8)).await.unwrap());
    for s in [
        session(10, worker.id, 100, 9_000), // opened too long ago
        session(11, admin.id, 5_000, 200),  // idle too long
        session(12, admin.id, 50, 150),     // both
        session(13, admin.id, 1_000, 500),  // just at both bounds
        session(14, worker.id, 4_000, 8_000),
    ] {
        store.create_session(&s).await.unwrap();
    }
    assert_eq!(store.purge_sessions(at(1_000), at(500)).await.unwrap(), 3);
    for (n, kept) in [
        (10, false),
        (11, false),
        (12, false),
        (13, true),
        (14, true),
    ] {
        assert_eq!(alive(store, n).await, kept, "session {n}");
    }
    assert_eq!(store.purge_sessions(at(1_000), at(500)).await.unwrap(), 0);
    assert_eq!(store.purge_sessions(at(1_001), at(0)).await.unwrap(), 1);
    assert!(alive(store, 14).await);
}

/// A stored account row that breaks the model is reported as such, by every read.
async fn corrupt_rows_are_reported(store: &dyn Store) {
    for result in [
        store.users().await.map(|_| ()),
        store.credentials(&name("broken")).await.map(|_| ()),
    ] {
        let err = result.unwrap_err();
        assert!(
            matches!(&err, StoreError::CorruptUser { name, reason }
                if name == "broken" && reason.contains("52052")),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn geopackage_accounts_conform() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.gpkg");
    let store = GpkgStore::open(&path).await.unwrap();
    accounts_suite(&store).await;

    let mut raw = sqlite(&path).await;
    sqlx::query(
        "INSERT INTO gridgov_users (name, role, scope, password_hash, created_at) \
         VALUES ('broken', 'grid_worker', '52052610120', 'x', 0)",
    )
    .execute(&mut raw)
    .await
    .unwrap();
    raw.close().await.unwrap();
    corrupt_rows_are_reported(&store).await;
}

#[tokio::test]
async fn postgis_accounts_conform() {
    let db = TempDatabase::create("accounts").await.unwrap();
    let store = PgStore::connect(&db.url).await.unwrap();
    accounts_suite(&store).await;

    // The database itself refuses a role that is none of the six.
    let err = sqlx::query(
        "INSERT INTO gridgov_users (name, role, scope, password_hash) \
         VALUES ('emperor', 'emperor', '520526000000', 'x')",
    )
    .execute(store.pool())
    .await
    .unwrap_err();
    assert!(err.to_string().contains("check constraint"), "{err}");
    sqlx::query(
        "INSERT INTO gridgov_users (name, role, scope, password_hash) \
         VALUES ('broken', 'grid_worker', '52052610120', 'x')",
    )
    .execute(store.pool())
    .await
    .unwrap();
    corrupt_rows_are_reported(&store).await;
    drop(store);
    db.drop_now().await.unwrap();
}

/// A plain connection to a GeoPackage, around the store.
async fn sqlite(path: &Path) -> SqliteConnection {
    SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap()
}

/// The layers GDAL lists in a GeoPackage (`ogrinfo -ro -so -q`), after checking that it
/// opened the file without a word on stderr.
fn ogr_layers(path: &Path) -> Vec<String> {
    let out = std::process::Command::new("ogrinfo")
        .args(["-ro", "-so", "-q"])
        .arg(path)
        .output()
        .expect("ogrinfo (gdal-bin) must be installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ogrinfo failed: {stdout}{stderr}");
    assert!(stderr.trim().is_empty(), "ogrinfo complained: {stderr}");
    // Lines like `1: counties (Multi Polygon)`.
    stdout
        .lines()
        .filter_map(|l| l.split_once(": ").map(|(_, rest)| rest))
        .map(|rest| rest.split(' ').next().unwrap_or_default().to_owned())
        .collect()
}

async fn tables(path: &Path) -> (Vec<String>, Vec<String>) {
    let mut raw = sqlite(path).await;
    let all: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE name LIKE 'gridgov%' ORDER BY name",
    )
    .fetch_all(&mut raw)
    .await
    .unwrap();
    let contents: Vec<String> =
        sqlx::query_scalar("SELECT table_name FROM gpkg_contents WHERE table_name LIKE 'gridgov%'")
            .fetch_all(&mut raw)
            .await
            .unwrap();
    raw.close().await.unwrap();
    (all, contents)
}

#[tokio::test]
async fn geopackage_accounts_are_hidden_from_gdal_and_kept_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.gpkg");
    let store = GpkgStore::open(&path).await.unwrap();
    let admin = store
        .add_user(new_user("admin", Role::CountyAdmin, "520526000000", "h"))
        .await
        .unwrap();
    store
        .create_session(&session(1, admin.id, 10, 20))
        .await
        .unwrap();
    drop(store);

    // GDAL opens the file and lists every layer, and no accounts table.
    let listed = ogr_layers(&path);
    let mut expected: Vec<String> = Layer::ALL.iter().map(|l| l.name().to_owned()).collect();
    expected.sort();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(sorted, expected, "{listed:?}");
    let (all, contents) = tables(&path).await;
    assert_eq!(
        all,
        [
            "gridgov_audit",
            "gridgov_audit_no_delete",
            "gridgov_audit_no_update",
            "gridgov_sessions",
            "gridgov_sessions_user_id_idx",
            "gridgov_settings",
            "gridgov_users"
        ]
    );
    assert!(contents.is_empty(), "{contents:?}");

    // Opening it again keeps the accounts and writes nothing.
    let bytes = std::fs::read(&path).unwrap();
    let store = GpkgStore::open(&path).await.unwrap();
    let c = store.credentials(&name("admin")).await.unwrap().unwrap();
    assert_eq!((c.user, c.password_hash.as_str()), (admin.clone(), "h"));
    let (s, owner) = store.session(&token(1)).await.unwrap().unwrap();
    assert_eq!((s, owner), (session(1, admin.id, 10, 20), admin.clone()));
    drop(store);
    assert!(
        std::fs::read(&path).unwrap() == bytes,
        "opening wrote to the file"
    );
}

#[tokio::test]
async fn geopackage_without_accounts_gets_them_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.gpkg");
    let store = GpkgStore::open(&path).await.unwrap();
    drop(store);
    // A gridgov GeoPackage made before accounts existed.
    let mut raw = sqlite(&path).await;
    sqlx::raw_sql(
        "DROP TABLE gridgov_sessions; DROP TABLE gridgov_users; DROP TABLE gridgov_settings; \
         DROP TABLE gridgov_audit;",
    )
    .execute(&mut raw)
    .await
    .unwrap();
    raw.close().await.unwrap();
    assert!(tables(&path).await.0.is_empty());

    let store = GpkgStore::open(&path).await.unwrap();
    let admin = store
        .add_user(new_user("admin", Role::CountyAdmin, "520526000000", "h"))
        .await
        .unwrap();
    assert_eq!(store.users().await.unwrap(), [admin]);
    drop(store);
    let (all, contents) = tables(&path).await;
    assert_eq!(
        all,
        [
            "gridgov_audit",
            "gridgov_audit_no_delete",
            "gridgov_audit_no_update",
            "gridgov_sessions",
            "gridgov_sessions_user_id_idx",
            "gridgov_settings",
            "gridgov_users"
        ]
    );
    assert!(contents.is_empty(), "{contents:?}");
    assert!(!ogr_layers(&path).iter().any(|l| l.starts_with("gridgov")));
}
