//! The audit log ([`Audit`]) on both backends: records chain in order without gaps, racing
//! writers never fork the chain, the database refuses to change or remove records, and
//! [`verify`] finds a record changed or removed behind gridgov's back.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use std::sync::Arc;

use gridgov_store::audit::{verify, AuditCheck};
use gridgov_store::gpkg::GpkgStore;
use gridgov_store::postgis::PgStore;
use gridgov_store::testing::TempDatabase;
use gridgov_store::{Audit, AuditAction, AuditEvent, AuditResult, Store};
use sqlx::{Connection, SqliteConnection};

fn event(actor: &str, n: usize) -> AuditEvent {
    AuditEvent {
        actor: actor.to_owned(),
        action: AuditAction::Read,
        object: format!("persons/{n}"),
        source: "127.0.0.1".into(),
        result: AuditResult::Ok,
        detail: format!(r#"{{"n":{n},"note":"读取 \u0000"}}"#),
    }
}

async fn sound(log: &dyn Audit, records: u64) -> AuditCheck {
    let check = verify(log).await.unwrap();
    assert_eq!(check.broken, None, "{check:?}");
    assert_eq!(check.records, records, "{check:?}");
    check
}

/// What both stores must do; leaves 3 + 2×25 = 53 records.
async fn suite(store: Arc<dyn Store>) {
    let empty = sound(&*store, 0).await;
    assert_eq!(empty.head, None);

    let mut appended = Vec::new();
    for n in 0..3 {
        appended.push(store.append_audit(&event("alice", n)).await.unwrap());
    }
    let read = store.audit_records(0, 100).await.unwrap();
    assert_eq!(read, appended, "records read back exactly as appended");
    assert_eq!(read.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(read[0].prev_hash, [0; 32]);
    assert_eq!(read[1].prev_hash, read[0].hash);
    assert!(read.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(store.audit_records(1, 1).await.unwrap(), [read[1].clone()]);
    let check = sound(&*store, 3).await;
    assert_eq!(check.head, Some((3, read[2].hash)));

    // Two writers at once, 25 appends each: one chain, no gaps, nothing lost.
    let mut tasks = Vec::new();
    for who in ["bob", "carol"] {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..25 {
                store.append_audit(&event(who, n)).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    sound(&*store, 53).await;
    let all = store.audit_records(0, 1000).await.unwrap();
    for who in ["bob", "carol"] {
        assert_eq!(all.iter().filter(|r| r.event.actor == who).count(), 25);
    }
}

#[tokio::test]
async fn geopackage_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.gpkg");
    let store: Arc<dyn Store> = Arc::new(GpkgStore::open(&path).await.unwrap());
    suite(store.clone()).await;

    // A second process on the same file appends at the same time as this one.
    let other: Arc<dyn Store> = Arc::new(GpkgStore::open(&path).await.unwrap());
    let (a, b) = tokio::join!(
        async {
            for n in 0..20 {
                store.append_audit(&event("here", n)).await.unwrap();
            }
        },
        async {
            for n in 0..20 {
                other.append_audit(&event("there", n)).await.unwrap();
            }
        }
    );
    let ((), ()) = (a, b);
    sound(&*store, 93).await;
    drop(other);

    let mut raw = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    for sql in [
        "UPDATE gridgov_audit SET result = 'denied' WHERE seq = 2",
        "DELETE FROM gridgov_audit WHERE seq = 2",
        "DELETE FROM gridgov_audit",
    ] {
        let err = sqlx::query(sql).execute(&mut raw).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    sound(&*store, 93).await;

    // Behind gridgov's back (the trigger dropped), a changed record breaks the chain there.
    sqlx::raw_sql(
        "DROP TRIGGER gridgov_audit_no_update; \
         UPDATE gridgov_audit SET detail = '{}' WHERE seq = 7",
    )
    .execute(&mut raw)
    .await
    .unwrap();
    let check = verify(&*store).await.unwrap();
    assert_eq!(check.records, 6);
    let (seq, reason) = check.broken.unwrap();
    assert_eq!(seq, 7);
    assert!(reason.contains("changed"), "{reason}");

    // A removed record is missing from the chain.
    sqlx::raw_sql(
        "DROP TRIGGER gridgov_audit_no_delete; \
         DELETE FROM gridgov_audit WHERE seq IN (5, 7)",
    )
    .execute(&mut raw)
    .await
    .unwrap();
    let check = verify(&*store).await.unwrap();
    assert_eq!((check.records, check.head.map(|h| h.0)), (4, Some(4)));
    let (seq, reason) = check.broken.unwrap();
    assert_eq!(seq, 6);
    assert!(reason.contains("record 5 is missing"), "{reason}");
    raw.close().await.unwrap();
}

#[tokio::test]
async fn postgis_audit_log() {
    let db = TempDatabase::create("audit").await.unwrap();
    let pg = Arc::new(PgStore::connect(&db.url).await.unwrap());
    let store: Arc<dyn Store> = pg.clone();
    suite(store.clone()).await;

    // A second server on the same database.
    let other = PgStore::connect(&db.url).await.unwrap();
    let (a, b) = tokio::join!(
        async {
            for n in 0..20 {
                store.append_audit(&event("here", n)).await.unwrap();
            }
        },
        async {
            for n in 0..20 {
                other.append_audit(&event("there", n)).await.unwrap();
            }
        }
    );
    let ((), ()) = (a, b);
    sound(&*store, 93).await;
    drop(other);

    // Refused even for the table's owner (these tests connect as a superuser).
    for sql in [
        "UPDATE gridgov_audit SET result = 'denied' WHERE seq = 2",
        "DELETE FROM gridgov_audit WHERE seq = 2",
        "TRUNCATE gridgov_audit",
    ] {
        let err = sqlx::query(sql).execute(pg.pool()).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    sound(&*store, 93).await;

    let mut raw = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::raw_sql(
        "ALTER TABLE gridgov_audit DISABLE TRIGGER gridgov_audit_no_change; \
         UPDATE gridgov_audit SET actor = 'mallory' WHERE seq = 7",
    )
    .execute(&mut raw)
    .await
    .unwrap();
    let check = verify(&*store).await.unwrap();
    assert_eq!(check.records, 6);
    let (seq, reason) = check.broken.unwrap();
    assert_eq!(seq, 7);
    assert!(reason.contains("changed"), "{reason}");
    raw.close().await.unwrap();
    drop(store);
    drop(pg);
    db.drop_now().await.unwrap();
}
