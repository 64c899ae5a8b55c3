//! Row-level security on a real PostGIS (`migrations/0005_row_security.sql`): the database
//! itself keeps a server's work inside the scope it runs in, whatever filters the caller
//! forgets, and a server refuses to start as a role the policies would not hold.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use geo::{point, polygon, Geometry, MultiPolygon};
use gridgov_model::{DivisionCode, Feature, FeatureId, Layer};
use gridgov_store::postgis::PgStore;
use gridgov_store::scope::{within, RowScope};
use gridgov_store::testing::TempDatabase;
use gridgov_store::{Op, Query, Store, StoreError};
use sqlx::{Connection, Executor, PgConnection};

fn code(s: &str) -> DivisionCode {
    s.parse().unwrap()
}

fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Geometry<f64> {
    Geometry::MultiPolygon(MultiPolygon(vec![
        polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)],
    ]))
}

fn village(c: &str, x0: f64) -> Op {
    Op::Insert(
        Layer::Villages,
        Feature::new(code(c), Some(square(x0, 26.0, x0 + 0.5, 26.5)))
            .with("code", c)
            .with("name", "村"),
    )
}

fn household(village: &str, x: f64, n: i64) -> Op {
    Op::Insert(
        Layer::Households,
        Feature::new(code(village), Some(point!(x: x, y: 26.2).into()))
            .with("address", format!("威宁县{n}号"))
            .with("size", 3),
    )
}

const A: &str = "520526101201";
const B: &str = "520526102201";
const TOWNSHIP_A: &str = "520526101";

fn prefix(p: &str) -> RowScope {
    RowScope::Prefix(p.to_owned())
}

async fn households(store: &PgStore, query: &Query) -> Vec<Feature> {
    store.query(Layer::Households, query).await.unwrap()
}

#[tokio::test]
async fn the_database_holds_a_server_to_its_scope() {
    let db = TempDatabase::create("rls").await.unwrap();
    let owner = PgStore::connect(&db.url).await.unwrap();
    let mut ops = vec![village(A, 104.0), village(B, 104.5)];
    for n in 0..10 {
        ops.push(household(A, 104.1, n));
        ops.push(household(B, 104.6, n + 100));
    }
    owner.apply_guarded(Vec::new(), ops).await.unwrap();

    let server = PgStore::connect_server(&db.app_url()).await.unwrap();
    // Outside any scope a server sees nothing and writes nothing.
    assert!(households(&server, &Query::default()).await.is_empty());
    assert_eq!(
        server
            .count(Layer::Villages, &Query::default())
            .await
            .unwrap(),
        0
    );
    let outside = server
        .apply_guarded(Vec::new(), vec![household(A, 104.1, 50)])
        .await;
    assert!(outside.is_err(), "{outside:?}");

    // In township A's scope, a query with no filter at all sees only A's rows, on every
    // read path.
    within(prefix(TOWNSHIP_A), async {
        let seen = households(&server, &Query::default()).await;
        assert_eq!(seen.len(), 10);
        assert!(seen.iter().all(|f| f.division.as_str() == A));
        assert_eq!(
            server
                .count(Layer::Households, &Query::default())
                .await
                .unwrap(),
            10
        );
        let b_ids: Vec<i64> = owner
            .query(
                Layer::Households,
                &Query {
                    division: Some(code(B)),
                    ..Query::default()
                },
            )
            .await
            .unwrap()
            .iter()
            .map(|f| f.id.unwrap().0)
            .collect();
        assert_eq!(b_ids.len(), 10);
        assert!(server
            .existing_ids(Layer::Households, &b_ids)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            server
                .get(Layer::Households, FeatureId(b_ids[0]))
                .await
                .unwrap(),
            None
        );
        // Tiles of the whole county, asked for with no owner: only A's households.
        let tile = server
            .mvt(&[Layer::Households], 0, 0, 0, None)
            .await
            .unwrap()
            .unwrap();
        let all = owner
            .mvt(&[Layer::Households], 0, 0, 0, None)
            .await
            .unwrap()
            .unwrap();
        assert!(!tile.is_empty() && tile.len() < all.len());

        // B's rows cannot be changed or removed, nor can rows be written into B.
        let mut b = owner
            .get(Layer::Households, FeatureId(b_ids[0]))
            .await
            .unwrap()
            .unwrap();
        b.properties
            .insert("size".into(), gridgov_model::Value::Integer(9));
        assert!(matches!(
            server
                .apply_guarded(Vec::new(), vec![Op::Update(Layer::Households, b)])
                .await,
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            server
                .apply_guarded(
                    Vec::new(),
                    vec![Op::Delete(Layer::Households, FeatureId(b_ids[1]))]
                )
                .await,
            Err(StoreError::NotFound { .. })
        ));
        let into_b = server
            .apply_guarded(Vec::new(), vec![household(B, 104.6, 200)])
            .await;
        assert!(into_b.is_err(), "{into_b:?}");
        // Its own township it writes (through COPY's staging table: COPY cannot write
        // into a table whose policies apply).
        let ids = server
            .apply_guarded(Vec::new(), vec![household(A, 104.1, 201)])
            .await
            .unwrap();
        assert_eq!(ids.len(), 1);
    })
    .await;
    // The rows outside were untouched, and A's new one is there.
    let all = households(&owner, &Query::default()).await;
    assert_eq!(all.len(), 21);
    assert_eq!(all.iter().filter(|f| f.division.as_str() == B).count(), 10);
    assert!(all
        .iter()
        .all(|f| f.properties.get("size") != Some(&gridgov_model::Value::Integer(9))));

    // Everything, when asked for explicitly (the server's start-up load).
    within(RowScope::All, async {
        assert_eq!(households(&server, &Query::default()).await.len(), 21);
    })
    .await;
    // The scope lived only as long as each statement's transaction: on every pooled
    // connection, a statement that sets none sees nothing.
    let mut conns = Vec::new();
    for _ in 0..8 {
        conns.push(server.pool().acquire().await.unwrap());
    }
    for conn in &mut conns {
        let (setting, seen): (Option<String>, i64) = sqlx::query_as(
            "SELECT current_setting('gridgov.scope', true), (SELECT count(*) FROM households)",
        )
        .fetch_one(&mut **conn)
        .await
        .unwrap();
        assert!(setting.unwrap_or_default().is_empty());
        assert_eq!(seen, 0);
    }
    drop(conns);
    drop(server);
    db.drop_now().await.unwrap();
}

#[tokio::test]
async fn a_server_refuses_roles_the_policies_would_not_hold() {
    let db = TempDatabase::create("rls_refuse").await.unwrap();
    // The test server's administrator is a superuser.
    let e = PgStore::connect_server(&db.url).await.unwrap_err();
    assert!(matches!(e, StoreError::Unsafe(_)), "{e}");
    assert!(e.to_string().contains("superuser"), "{e}");

    let mut admin = PgConnection::connect(&db.url).await.unwrap();
    let suffix = std::process::id();
    // A role that bypasses row-level security.
    let bypass = format!("gg_bypass_{suffix}");
    admin
        .execute(format!("CREATE ROLE {bypass} LOGIN BYPASSRLS IN ROLE gridgov_app").as_str())
        .await
        .unwrap();
    let url = |user: &str| db.app_url().replace(gridgov_store::testing::APP_ROLE, user);
    let e = PgStore::connect_server(&url(&bypass)).await.unwrap_err();
    assert!(e.to_string().contains("BYPASSRLS"), "{e}");

    // A role that owns a table.
    let owner = format!("gg_owner_{suffix}");
    admin
        .execute(format!("CREATE ROLE {owner} LOGIN IN ROLE gridgov_app").as_str())
        .await
        .unwrap();
    admin
        .execute(format!("ALTER TABLE disputes OWNER TO {owner}").as_str())
        .await
        .unwrap();
    let e = PgStore::connect_server(&url(&owner)).await.unwrap_err();
    assert!(e.to_string().contains("owns"), "{e}");
    assert!(e.to_string().contains("disputes"), "{e}");
    admin
        .execute("ALTER TABLE disputes OWNER TO CURRENT_USER")
        .await
        .unwrap();

    // A table whose security is not forced (its owner would get past it).
    PgStore::connect_server(&db.app_url()).await.unwrap();
    admin
        .execute("ALTER TABLE persons NO FORCE ROW LEVEL SECURITY")
        .await
        .unwrap();
    let e = PgStore::connect_server(&db.app_url()).await.unwrap_err();
    assert!(e.to_string().contains("persons"), "{e}");
    admin
        .execute("ALTER TABLE persons FORCE ROW LEVEL SECURITY")
        .await
        .unwrap();
    admin
        .execute("DROP POLICY gridgov_scope ON tenancies")
        .await
        .unwrap();
    let e = PgStore::connect_server(&db.app_url()).await.unwrap_err();
    assert!(e.to_string().contains("tenancies"), "{e}");

    // The server's role may append to the audit log but neither change nor remove it.
    let mut app = PgConnection::connect(&db.app_url()).await.unwrap();
    for sql in [
        "UPDATE gridgov_audit SET actor = 'x'",
        "DELETE FROM gridgov_audit",
        "TRUNCATE gridgov_audit",
        "ALTER TABLE households DISABLE ROW LEVEL SECURITY",
    ] {
        let e = app.execute(sql).await.unwrap_err();
        assert!(
            e.to_string().contains("permission denied") || e.to_string().contains("must be owner"),
            "{sql}: {e}"
        );
    }
    app.close().await.unwrap();
    for role in [&bypass, &owner] {
        admin
            .execute(format!("DROP ROLE {role}").as_str())
            .await
            .ok();
    }
    admin.close().await.unwrap();
    db.drop_now().await.unwrap();
}

#[tokio::test]
async fn spatial_indexes_serve_queries_under_the_policies() {
    let db = TempDatabase::create("rls_index").await.unwrap();
    let server = PgStore::connect_server(&db.app_url()).await.unwrap();
    assert!(server.spatial_index_usable().await.unwrap());
    let mut conn = server.pool().acquire().await.unwrap();
    conn.execute("SET enable_seqscan = off").await.unwrap();
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN SELECT id FROM households WHERE geom && ST_MakeEnvelope(104, 26, 104.1, 26.1, 4326)",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let plan = plan.join("\n");
    assert!(plan.contains("households_geom_idx"), "{plan}");
    conn.execute("RESET enable_seqscan").await.unwrap();
    drop(conn);
    db.drop_now().await.unwrap();
}
