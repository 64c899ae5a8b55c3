//! One conformance suite, run against both backends: the embedded GeoPackage and a real
//! PostGIS (`GRIDGOV_TEST_DATABASE_URL`, started by scripts/test.sh; missing means failure).
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use chrono::{NaiveDate, TimeZone, Utc};
use geo::{line_string, point, polygon, Geometry, MultiPolygon};
use gridgov_model::{DivisionCode, Feature, FeatureId, Layer, Value};
use gridgov_store::gpkg::GpkgStore;
use gridgov_store::postgis::PgStore;
use gridgov_store::testing::TempDatabase;
use std::sync::Arc;
use std::time::Duration;

use gridgov_store::copy::copy_all;
use gridgov_store::{
    write, write_guarded, Change, ChangeFeed, Guard, Op, Part, Query, Store, StoreError,
    TimeFilter, TimeRange, WriteError,
};

fn code(s: &str) -> DivisionCode {
    s.parse().unwrap()
}

fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Geometry<f64> {
    Geometry::MultiPolygon(MultiPolygon(vec![
        polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)],
    ]))
}

/// A county of two townships with one village each, all squares.
fn tree() -> Vec<Op> {
    vec![
        Op::Insert(
            Layer::Counties,
            Feature::new(code("520526000000"), Some(square(104.0, 26.0, 105.0, 27.0)))
                .with("code", "520526000000")
                .with("name", "威宁县"),
        ),
        Op::Insert(
            Layer::Townships,
            Feature::new(code("520526101000"), Some(square(104.0, 26.0, 104.5, 27.0)))
                .with("code", "520526101000")
                .with("name", "草海镇")
                .with("kind", "town"),
        ),
        Op::Insert(
            Layer::Townships,
            Feature::new(code("520526102000"), Some(square(104.5, 26.0, 105.0, 27.0)))
                .with("code", "520526102000")
                .with("name", "双龙乡"),
        ),
        Op::Insert(
            Layer::Villages,
            Feature::new(code("520526101201"), Some(square(104.0, 26.0, 104.5, 26.5)))
                .with("code", "520526101201")
                .with("name", "石门村"),
        ),
        Op::Insert(
            Layer::Villages,
            Feature::new(code("520526102201"), Some(square(104.5, 26.0, 105.0, 26.5)))
                .with("code", "520526102201")
                .with("name", "双龙村"),
        ),
    ]
}

fn household(village: &str, x: f64, y: f64, n: i64) -> Op {
    Op::Insert(
        Layer::Households,
        Feature::new(code(village), Some(point!(x: x, y: y).into()))
            .with("address", format!("威宁县{n}号"))
            .with("size", n % 6 + 1),
    )
}

async fn total(store: &dyn Store) -> u64 {
    store.counts().await.unwrap().values().sum()
}

async fn suite(store: &dyn Store) {
    // Create.
    write(store, tree()).await.unwrap();
    let ids = write(
        store,
        vec![
            household("520526101201", 104.1, 26.1, 1),
            household("520526101201", 104.4, 26.4, 2),
            household("520526102201", 104.6, 26.2, 3),
        ],
    )
    .await
    .unwrap();
    assert_eq!(ids.len(), 3);

    // Read back exactly what was written, typed values included.
    let h = store.get(Layer::Households, ids[0]).await.unwrap().unwrap();
    assert_eq!(h.id, Some(ids[0]));
    assert_eq!(h.division, code("520526101201"));
    assert_eq!(h.geometry, Some(point!(x: 104.1, y: 26.1).into()));
    assert_eq!(h.text("address"), Some("威宁县1号"));
    assert_eq!(h.get("size"), Some(&Value::Integer(2)));

    let person = write(
        store,
        vec![Op::Insert(
            Layer::Persons,
            Feature::new(code("520526101201"), None)
                .with("name", "张三")
                .with("id_card", "11010519491231002X"),
        )],
    )
    .await
    .unwrap()[0];
    let sp = write(
        store,
        vec![Op::Insert(
            Layer::SupervisedPersons,
            Feature::new(code("520526101201"), Some(square(104.0, 26.0, 104.2, 26.2)))
                .with("person_id", person.0)
                .with("category", "community_correction")
                .with("officer", "李四")
                .with("start_date", NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()),
        )],
    )
    .await
    .unwrap()[0];
    let when = Utc.with_ymd_and_hms(2026, 3, 1, 8, 30, 15).unwrap();
    let pr = write(
        store,
        vec![Op::Insert(
            Layer::PositionReports,
            Feature::new(code("520526101201"), Some(point!(x: 104.1, y: 26.1).into()))
                .with("supervised_person_id", sp.0)
                .with("reported_at", when),
        )],
    )
    .await
    .unwrap()[0];
    let got = store
        .get(Layer::PositionReports, pr)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.get("reported_at"), Some(&Value::DateTime(when)));
    let got = store
        .get(Layer::SupervisedPersons, sp)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        got.get("start_date"),
        Some(&Value::Date(NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()))
    );

    // Time filters: bounds included, typed as the field, open sides.
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 1, d);
    let dates = |start, end| Query {
        time: Some(TimeFilter {
            field: "start_date",
            range: TimeRange::Dates { start, end },
        }),
        ..Query::default()
    };
    for (start, end, n) in [
        (day(5), day(5), 1),
        (day(1), day(31), 1),
        (day(6), None, 0),
        (None, day(4), 0),
        (None, day(5), 1),
        (day(5), None, 1),
    ] {
        let q = dates(start, end);
        assert_eq!(
            store.count(Layer::SupervisedPersons, &q).await.unwrap(),
            n,
            "{start:?}..{end:?}"
        );
        assert_eq!(
            store
                .query(Layer::SupervisedPersons, &q)
                .await
                .unwrap()
                .len() as u64,
            n
        );
    }
    let ms = chrono::TimeDelta::milliseconds(1);
    let instants = |start, end| Query {
        time: Some(TimeFilter {
            field: "reported_at",
            range: TimeRange::Instants { start, end },
        }),
        ..Query::default()
    };
    for (start, end, n) in [
        (Some(when), Some(when), 1),
        (Some(when + ms), None, 0),
        (None, Some(when - ms), 0),
        (Some(when - ms), Some(when + ms), 1),
        (None, Some(when), 1),
    ] {
        let q = instants(start, end);
        assert_eq!(
            store.count(Layer::PositionReports, &q).await.unwrap(),
            n,
            "{start:?}..{end:?}"
        );
        assert_eq!(
            store.query(Layer::PositionReports, &q).await.unwrap().len() as u64,
            n
        );
    }
    // With other filters and paging.
    let q = Query {
        division: Some(code("520526102000")),
        ..instants(Some(when), Some(when))
    };
    assert_eq!(store.count(Layer::PositionReports, &q).await.unwrap(), 0);
    let q = Query {
        bbox: Some([104.0, 26.0, 104.2, 26.2]),
        limit: Some(1),
        ..instants(None, Some(when))
    };
    assert_eq!(
        store.query(Layer::PositionReports, &q).await.unwrap().len(),
        1
    );
    let road = write(
        store,
        vec![Op::Insert(
            Layer::Roads,
            Feature::new(
                code("520526000000"),
                Some(line_string![(x: 104.1, y: 26.1), (x: 104.7, y: 26.3)].into()),
            )
            .with("class", "trunk")
            .with("oneway", true)
            .with("name", "G326"),
        )],
    )
    .await
    .unwrap()[0];
    let got = store.get(Layer::Roads, road).await.unwrap().unwrap();
    assert_eq!(got.get("oneway"), Some(&Value::Bool(true)));

    // Update.
    let mut h2 = h.clone();
    h2.properties.insert("size".into(), Value::Integer(7));
    h2.geometry = Some(point!(x: 104.2, y: 26.2).into());
    write(store, vec![Op::Update(Layer::Households, h2.clone())])
        .await
        .unwrap();
    assert_eq!(
        store.get(Layer::Households, ids[0]).await.unwrap(),
        Some(h2)
    );

    // Bounding-box query.
    let q = Query {
        bbox: Some([104.0, 26.0, 104.3, 26.3]),
        ..Query::default()
    };
    let found = store.query(Layer::Households, &q).await.unwrap();
    assert_eq!(
        found.iter().map(|f| f.id).collect::<Vec<_>>(),
        vec![Some(ids[0])]
    );
    assert_eq!(store.count(Layer::Households, &q).await.unwrap(), 1);

    // Query by division code: a township sees its villages' features, not the other's.
    let q = Query {
        division: Some(code("520526101000")),
        ..Query::default()
    };
    assert_eq!(store.count(Layer::Households, &q).await.unwrap(), 2);
    assert_eq!(store.count(Layer::Villages, &q).await.unwrap(), 1);
    let q = Query {
        division: Some(code("520526000000")),
        limit: Some(2),
        ..Query::default()
    };
    assert_eq!(store.query(Layer::Households, &q).await.unwrap().len(), 2);
    assert_eq!(store.count(Layer::Households, &q).await.unwrap(), 3);
    let q = Query {
        division: Some(code("520526000000")),
        offset: Some(2),
        ..Query::default()
    };
    assert_eq!(store.query(Layer::Households, &q).await.unwrap().len(), 1);

    // Delete.
    write(store, vec![Op::Delete(Layer::Households, ids[2])])
        .await
        .unwrap();
    assert_eq!(store.get(Layer::Households, ids[2]).await.unwrap(), None);
    let again = write(store, vec![Op::Delete(Layer::Households, ids[2])]).await;
    assert!(matches!(
        again,
        Err(WriteError::Store(StoreError::NotFound { .. }))
    ));

    // A batch that fails half-way leaves nothing behind: validation failures…
    let before = total(store).await;
    let bad = write(
        store,
        vec![
            household("520526101201", 104.1, 26.2, 10),
            household("520526101201", 104.2, 26.2, 11),
            household("520526101201", 104.8, 26.2, 12), // in the other village
            household("520526101201", 104.3, 26.2, 13),
        ],
    )
    .await;
    let e = bad.unwrap_err().to_string();
    assert!(
        e.contains("#3") && e.contains("outside its division"),
        "{e}"
    );
    assert_eq!(total(store).await, before);

    // …and failures inside the database's transaction (a duplicate id on the third insert).
    let mut dup = Feature::new(code("520526101201"), Some(point!(x: 104.3, y: 26.3).into()))
        .with("address", "重复");
    dup.id = Some(ids[0]);
    let bad = write(
        store,
        vec![
            household("520526101201", 104.1, 26.2, 20),
            household("520526101201", 104.2, 26.2, 21),
            Op::Insert(Layer::Households, dup),
        ],
    )
    .await;
    assert!(bad.is_err());
    assert_eq!(total(store).await, before);

    // A village whose code does not extend its township's is refused.
    let bad = write(
        store,
        vec![Op::Insert(
            Layer::Villages,
            Feature::new(code("520526102202"), Some(square(104.0, 26.5, 104.5, 27.0)))
                .with("code", "520526102202")
                .with("name", "错村"),
        )],
    )
    .await;
    assert!(bad
        .unwrap_err()
        .to_string()
        .contains("outside its division"));
    let mut wrong = Feature::new(code("520526101000"), Some(square(104.0, 26.5, 104.5, 27.0)))
        .with("code", "520526102203")
        .with("name", "错村");
    wrong.id = None;
    let e = write(store, vec![Op::Insert(Layer::Villages, wrong)])
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("division_code"), "{e}");
    // A village under a township that does not exist.
    let e = write(
        store,
        vec![Op::Insert(
            Layer::Villages,
            Feature::new(code("520526109201"), Some(square(104.0, 26.5, 104.5, 27.0)))
                .with("code", "520526109201")
                .with("name", "无乡村"),
        )],
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains("does not exist"), "{e}");
    // A reference to a person who does not exist.
    let e = write(
        store,
        vec![Op::Insert(
            Layer::RentalHouses,
            Feature::new(code("520526101201"), Some(point!(x: 104.1, y: 26.1).into()))
                .with("address", "出租屋")
                .with("landlord_id", 999_999_i64),
        )],
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("landlord_id") && e.contains("persons has no feature 999999"),
        "{e}"
    );
    assert_eq!(total(store).await, before);

    // Updating a feature that does not exist.
    let mut ghost = store.get(Layer::Households, ids[0]).await.unwrap().unwrap();
    ghost.id = Some(FeatureId(987_654));
    assert!(write(store, vec![Op::Update(Layer::Households, ghost)])
        .await
        .is_err());

    // Guarded writes: the tag read is the tag checked, under the transaction's lock.
    let read = store.get(Layer::Households, ids[1]).await.unwrap().unwrap();
    let tag = store.etag(&read);
    let guard = |etag: &str| Guard {
        layer: Layer::Households,
        id: ids[1],
        etag: etag.to_owned(),
    };
    let first = read.clone().with("address", "先到的修改");
    let second = read.clone().with("address", "后到的修改");
    write_guarded(
        store,
        vec![guard(&tag)],
        vec![Op::Update(Layer::Households, first)],
    )
    .await
    .unwrap();
    let e = write_guarded(
        store,
        vec![guard(&tag)],
        vec![Op::Update(Layer::Households, second)],
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, WriteError::Store(StoreError::Stale { .. })),
        "a stale tag must be refused: {e}"
    );
    let now = store.get(Layer::Households, ids[1]).await.unwrap().unwrap();
    assert_eq!(now.text("address"), Some("先到的修改"));
    assert_ne!(store.etag(&now), tag, "a change must change the tag");
    let e = write_guarded(
        store,
        vec![guard(&tag)],
        vec![Op::Delete(Layer::Households, ids[1])],
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, WriteError::Store(StoreError::Stale { .. })),
        "{e}"
    );
    assert!(store
        .get(Layer::Households, ids[1])
        .await
        .unwrap()
        .is_some());
    write_guarded(
        store,
        vec![guard(&store.etag(&now))],
        vec![Op::Delete(Layer::Households, ids[1])],
    )
    .await
    .unwrap();
    assert!(store
        .get(Layer::Households, ids[1])
        .await
        .unwrap()
        .is_none());
    let e = write_guarded(
        store,
        vec![guard(&store.etag(&now))],
        vec![Op::Delete(Layer::Households, ids[1])],
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, WriteError::Store(StoreError::NotFound { .. })),
        "{e}"
    );
    reserved_ids(store).await;
    sanitation_fields(store).await;
}

/// A collection point's opening hours and a vehicle's own shift, end station and permission
/// to serve its whole township are stored and read back as written.
async fn sanitation_fields(store: &dyn Store) {
    let village = "520526101201";
    let station = write(
        store,
        vec![Op::Insert(
            Layer::TransferStations,
            Feature::new(code(village), Some(point!(x: 104.2, y: 26.2).into()))
                .with("name", "石门村垃圾中转站")
                .with("capacity_t", 5.0),
        )],
    )
    .await
    .unwrap()[0];
    let ids = write(
        store,
        vec![
            Op::Insert(
                Layer::CollectionPoints,
                Feature::new(code(village), Some(point!(x: 104.21, y: 26.21).into()))
                    .with("kind", "garbage_pool")
                    .with("waste_kinds", "burnable")
                    .with("open_from", "09:00")
                    .with("open_until", "17:30"),
            ),
            Op::Insert(
                Layer::Vehicles,
                Feature::new(code(village), None)
                    .with("plate", "贵F12345")
                    .with("kind", "tricycle")
                    .with("capacity_kg", 300.0)
                    .with("depot_station_id", station.0)
                    .with("end_station_id", station.0)
                    .with("shift_start", "07:00")
                    .with("shift_hours", 6.5)
                    .with("serves_township", true),
            ),
        ],
    )
    .await
    .unwrap();
    let p = store
        .get(Layer::CollectionPoints, ids[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.text("open_from"), Some("09:00"));
    assert_eq!(p.text("open_until"), Some("17:30"));
    let v = store.get(Layer::Vehicles, ids[1]).await.unwrap().unwrap();
    assert_eq!(v.get("end_station_id"), Some(&Value::Integer(station.0)));
    assert_eq!(v.text("shift_start"), Some("07:00"));
    assert_eq!(v.get("shift_hours"), Some(&Value::Real(6.5)));
    assert_eq!(v.get("serves_township"), Some(&Value::Bool(true)));
    // A window that closes before it opens is refused, and nothing is written.
    let before = total(store).await;
    let e = write(
        store,
        vec![Op::Insert(
            Layer::CollectionPoints,
            Feature::new(code(village), Some(point!(x: 104.22, y: 26.22).into()))
                .with("kind", "bin_group")
                .with("waste_kinds", "burnable")
                .with("open_from", "18:00")
                .with("open_until", "08:00"),
        )],
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("open_until"), "{e}");
    assert_eq!(total(store).await, before);
}

/// Reserved ids are never handed out again: a batch can insert a feature under one together
/// with features that reference it, and later inserts without ids get larger ones.
async fn reserved_ids(store: &dyn Store) {
    let ids = store.reserve_ids(Layer::Households, 3).await.unwrap();
    assert_eq!(ids.len(), 3);
    assert!(ids.windows(2).all(|w| w[1].0 == w[0].0 + 1), "{ids:?}");
    let again = store.reserve_ids(Layer::Households, 1).await.unwrap();
    assert!(again[0] > ids[2], "{again:?} after {ids:?}");
    let Op::Insert(layer, mut f) = household("520526101201", 104.2, 26.2, 901) else {
        unreachable!()
    };
    f.id = Some(ids[1]);
    let placed = write(store, vec![Op::Insert(layer, f.clone())])
        .await
        .unwrap();
    assert_eq!(placed, [ids[1]]);
    f.id = None;
    let fresh = write(store, vec![Op::Insert(layer, f)]).await.unwrap();
    assert!(fresh[0] > again[0], "{fresh:?} after {again:?}");
}

/// Households beyond the bulk threshold, so that PostGIS takes its bulk path (keys and
/// indexes dropped and rebuilt inside the transaction).
const MANY: i64 = 6_000;

/// A GeoPackage source holding the tree and [`MANY`] households.
async fn source(dir: &std::path::Path) -> Arc<dyn Store> {
    let store = GpkgStore::open(&dir.join("source.gpkg")).await.unwrap();
    write(&store, tree()).await.unwrap();
    let ops = (0..MANY)
        .map(|n| {
            let x = 104.01 + (n % 100) as f64 * 0.004;
            let y = 26.01 + (n / 100) as f64 * 0.004;
            household("520526101201", x, y, n)
        })
        .collect();
    write(&store, ops).await.unwrap();
    Arc::new(store)
}

/// Whole stores streamed into the store under test: `copy_all` in one transaction, a repeat
/// that clashes on ids and changes nothing, and a stream abandoned half-way.
async fn streamed(target: Arc<dyn Store>, empty: Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let from = source(dir.path()).await;
    let to = Arc::clone(&target);
    let counts = copy_all(Arc::clone(&from), async move { Ok(to) }, &mut |_, _| {})
        .await
        .unwrap();
    let households = counts.iter().find(|c| c.0 == Layer::Households).unwrap();
    assert_eq!(households.1, MANY as usize);
    assert_eq!(target.counts().await.unwrap(), from.counts().await.unwrap());
    let q = Query {
        bbox: Some([104.0, 26.0, 104.02, 26.02]),
        ..Query::default()
    };
    assert_eq!(
        target.count(Layer::Households, &q).await.unwrap(),
        from.count(Layer::Households, &q).await.unwrap()
    );
    // New features get ids after the copied ones.
    let fresh = write(&*target, vec![household("520526101201", 104.3, 26.3, 7)])
        .await
        .unwrap();
    assert!(fresh[0].0 > MANY, "{fresh:?}");

    // The same copy again clashes on ids: nothing changes.
    let before = target.counts().await.unwrap();
    let to = Arc::clone(&target);
    let e = copy_all(from, async move { Ok(to) }, &mut |_, _| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    assert_eq!(target.counts().await.unwrap(), before);

    // A stream whose sender stops before committing writes nothing.
    let (sender, receiver) = tokio::sync::mpsc::channel(2);
    let ops: Vec<Op> = (0..MANY)
        .map(|n| household("520526102201", 104.6, 26.2, n))
        .collect();
    let send = async move {
        sender.send(Part::Ops(ops)).await.unwrap();
        drop(sender);
    };
    let ((), written) = tokio::join!(send, target.apply_stream(receiver));
    assert!(matches!(written, Err(StoreError::Abandoned)), "{written:?}");
    assert_eq!(target.counts().await.unwrap(), before);

    // A source holding features that break the rules (stored past the checks): the copy
    // into an empty store names each of them and writes nothing.
    let dir = tempfile::tempdir().unwrap();
    let bad = source(dir.path()).await;
    let Op::Insert(_, mut negative) = household("520526101201", 104.2, 26.2, 1) else {
        unreachable!()
    };
    negative
        .properties
        .insert("size".into(), Value::Integer(-3));
    let outside = household("520526101201", 104.7, 26.2, 2);
    bad.apply_unchecked(vec![Op::Insert(Layer::Households, negative), outside])
        .await
        .unwrap();
    let to = Arc::clone(&empty);
    let e = copy_all(bad, async move { Ok(to) }, &mut |_, _| {})
        .await
        .unwrap_err();
    let WriteError::Invalid(rejected) = &e else {
        panic!("{e}")
    };
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert!(rejected[0].to_string().contains("size"), "{}", rejected[0]);
    assert!(
        rejected[1].to_string().contains("outside"),
        "{}",
        rejected[1]
    );
    assert_eq!(total(empty.as_ref()).await, 0);
}

/// How long a feed may take to report a committed change: a liveness bound, not a speed
/// requirement (a GeoPackage notices other writers within half a second).
const FEED_WAIT: Duration = Duration::from_secs(5);

/// The feed's next change, failing the test if none comes within [`FEED_WAIT`].
async fn next_change(feed: &mut ChangeFeed) -> Change {
    tokio::time::timeout(FEED_WAIT, feed.next())
        .await
        .expect("no change reported within the wait")
        .expect("the feed ended")
}

/// Changes until one covers `ids` of `layer`: listing them all, or none (a resync).
async fn covering(feed: &mut ChangeFeed, layer: Layer, ids: &[FeatureId]) -> Change {
    loop {
        let change = next_change(feed).await;
        if change.layer == layer
            && change
                .ids
                .as_ref()
                .is_none_or(|listed| ids.iter().all(|id| listed.contains(id)))
        {
            return change;
        }
    }
}

/// How far a feed on a second handle sees the first handle's writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Across {
    /// Exactly as on the writing handle, ids listed (PostGIS: NOTIFY).
    Exact,
    /// As a resync of every layer (GeoPackage: another connection's `data_version`).
    Resync,
}

/// Change feeds: `a` and `b` are two handles on one store (two connections, two processes'
/// worth). Writes through `a` reach a feed on `a` exactly, and a feed on `b` as `across` says;
/// rejected and rolled-back writes report nothing; bulk writes and long lists report the layer
/// without ids; a feed ends when its store is dropped.
async fn feeds(a: Box<dyn Store>, b: Box<dyn Store>, across: Across) {
    write(&*a, tree()).await.unwrap();
    let before = write(
        &*a,
        vec![
            household("520526101201", 104.1, 26.1, 1),
            household("520526101201", 104.2, 26.1, 2),
        ],
    )
    .await
    .unwrap();
    let mut same = a.changes().await.unwrap();
    let mut other = b.changes().await.unwrap();

    // An insert, an update and a delete in one validated batch.
    let mut moved = a.get(Layer::Households, before[0]).await.unwrap().unwrap();
    moved.properties.insert("size".into(), Value::Integer(5));
    let ids = write(
        &*a,
        vec![
            household("520526101201", 104.3, 26.3, 3),
            Op::Update(Layer::Households, moved),
            Op::Delete(Layer::Households, before[1]),
        ],
    )
    .await
    .unwrap();
    assert_eq!(ids[1..], before[..]);
    let expected = Change {
        layer: Layer::Households,
        ids: Some(ids.clone()),
    };
    assert_eq!(next_change(&mut same).await, expected);
    match across {
        Across::Exact => assert_eq!(next_change(&mut other).await, expected),
        Across::Resync => {
            let seen = covering(&mut other, Layer::Households, &ids).await;
            assert_eq!(seen.ids, None, "{seen:?}");
        }
    }

    // A batch the checks reject and one the database rolls back report nothing: the next
    // change is the write after them. (The pause lets a GeoPackage feed poll a few times: its
    // own store's writes must not read as another writer's.)
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let outside = write(&*a, vec![household("520526101201", 104.8, 26.2, 4)]).await;
    assert!(
        matches!(outside, Err(WriteError::Invalid(_))),
        "{outside:?}"
    );
    let mut ghost = a.get(Layer::Households, ids[0]).await.unwrap().unwrap();
    ghost.id = Some(FeatureId(987_654));
    let rolled_back = a
        .apply_unchecked(vec![
            household("520526101201", 104.3, 26.2, 5),
            Op::Update(Layer::Households, ghost),
        ])
        .await;
    assert!(
        matches!(rolled_back, Err(StoreError::NotFound { .. })),
        "{rolled_back:?}"
    );
    let road = write(
        &*a,
        vec![Op::Insert(
            Layer::Roads,
            Feature::new(
                code("520526000000"),
                Some(line_string![(x: 104.1, y: 26.1), (x: 104.7, y: 26.3)].into()),
            )
            .with("class", "trunk"),
        )],
    )
    .await
    .unwrap();
    let marker = Change {
        layer: Layer::Roads,
        ids: Some(road.clone()),
    };
    assert_eq!(next_change(&mut same).await, marker);
    if across == Across::Exact {
        assert_eq!(next_change(&mut other).await, marker);
    }

    // More ids than a notification lists, and a bulk write: the layer, without ids.
    let many = (0..=gridgov_store::changes::MAX_IDS as i64)
        .map(|n| {
            let x = 104.01 + (n % 20) as f64 * 0.02;
            let y = 26.01 + (n / 20) as f64 * 0.01;
            household("520526101201", x, y, n)
        })
        .collect();
    write(&*a, many).await.unwrap();
    let whole = Change {
        layer: Layer::Households,
        ids: None,
    };
    assert_eq!(next_change(&mut same).await, whole);
    let (sender, receiver) = tokio::sync::mpsc::channel(2);
    let send = async move {
        let ops = vec![household("520526101201", 104.1, 26.4, 6)];
        sender.send(Part::Ops(ops)).await.unwrap();
        sender.send(Part::Commit).await.unwrap();
    };
    let ((), streamed) = tokio::join!(send, a.apply_stream(receiver));
    assert_eq!(streamed.unwrap().len(), 1);
    assert_eq!(next_change(&mut same).await, whole);
    if across == Across::Exact {
        assert_eq!(next_change(&mut other).await, whole);
        assert_eq!(next_change(&mut other).await, whole);
    }

    // A feed ends with its store.
    drop(a);
    let end = tokio::time::timeout(FEED_WAIT, same.next()).await.unwrap();
    assert_eq!(end, None);
    drop(b);
}

#[tokio::test]
async fn geopackage_change_feeds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feeds.gpkg");
    let a = GpkgStore::open(&path).await.unwrap();
    let b = GpkgStore::open(&path).await.unwrap();
    feeds(Box::new(a), Box::new(b), Across::Resync).await;
}

#[tokio::test]
async fn postgis_change_feeds() {
    let db = TempDatabase::create("feeds").await.unwrap();
    let a = PgStore::connect(&db.url).await.unwrap();
    let b = PgStore::connect(&db.url).await.unwrap();
    feeds(Box::new(a), Box::new(b), Across::Exact).await;
    db.drop_now().await.unwrap();
}

/// A PostGIS feed whose connection is lost reports a resync, and listens again.
#[tokio::test]
async fn postgis_change_feeds_resync_after_a_lost_connection() {
    let db = TempDatabase::create("feeds_lost").await.unwrap();
    let store = PgStore::connect(&db.url).await.unwrap();
    write(&store, tree()).await.unwrap();
    let mut feed = store.changes().await.unwrap();
    let killed: i64 = sqlx::query_scalar(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN %'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(killed, 1);
    for &layer in Layer::ALL {
        assert_eq!(next_change(&mut feed).await, Change { layer, ids: None });
    }
    let ids = write(&store, vec![household("520526101201", 104.1, 26.1, 1)])
        .await
        .unwrap();
    assert_eq!(
        next_change(&mut feed).await,
        Change {
            layer: Layer::Households,
            ids: Some(ids)
        }
    );
    drop(feed);
    drop(store);
    db.drop_now().await.unwrap();
}

#[tokio::test]
async fn geopackage_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let store = GpkgStore::open(&dir.path().join("t.gpkg")).await.unwrap();
    suite(&store).await;
    let other = GpkgStore::open(&dir.path().join("s.gpkg")).await.unwrap();
    let empty = GpkgStore::open(&dir.path().join("e.gpkg")).await.unwrap();
    streamed(Arc::new(other), Arc::new(empty)).await;
}

/// A GeoPackage made before a layer gained fields (and before `dispute_steps` existed) is
/// brought up to the model on open, its rows kept; GDAL then lists the new table.
#[tokio::test]
async fn an_older_geopackage_is_upgraded_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.gpkg");
    {
        let store = GpkgStore::open(&path).await.unwrap();
        write(&store, tree()).await.unwrap();
    }
    {
        let url = format!("sqlite://{}", path.display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        for sql in [
            "ALTER TABLE disputes DROP COLUMN plan",
            "ALTER TABLE disputes DROP COLUMN grid_code",
            "DROP TABLE dispute_steps",
            "DELETE FROM gpkg_contents WHERE table_name = 'dispute_steps'",
        ] {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }
    let store = GpkgStore::open(&path).await.unwrap();
    assert_eq!(
        store
            .count(Layer::Villages, &Query::default())
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .count(Layer::DisputeSteps, &Query::default())
            .await
            .unwrap(),
        0
    );
    let out = std::process::Command::new("ogrinfo")
        .args(["-ro", "-so"])
        .arg(&path)
        .arg("disputes")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("plan: String") && text.contains("grid_code: String"),
        "{text}"
    );
    let out = std::process::Command::new("ogrinfo")
        .args(["-ro", "-q"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("dispute_steps"));
}

#[tokio::test]
async fn postgis_conforms() {
    let db = TempDatabase::create("conformance").await.unwrap();
    let store = PgStore::connect(&db.url).await.unwrap();
    suite(&store).await;
    drop(store);
    db.drop_now().await.unwrap();

    let db = TempDatabase::create("streamed").await.unwrap();
    let store = PgStore::connect(&db.url).await.unwrap();
    let indexes = |store: PgStore| async move {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT indexname::text, indexdef::text FROM pg_indexes \
             WHERE tablename = 'households' ORDER BY indexname",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        rows
    };
    let migrated = indexes(store.clone()).await;
    assert!(
        migrated.iter().any(|i| i.0 == "households_pkey"),
        "{migrated:?}"
    );
    let other = TempDatabase::create("empty").await.unwrap();
    let empty = PgStore::connect(&other.url).await.unwrap();
    streamed(Arc::new(store.clone()), Arc::new(empty)).await;
    other.drop_now().await.unwrap();
    // The bulk path put back every key and index it dropped.
    assert_eq!(indexes(store.clone()).await, migrated);
    drop(store);
    db.drop_now().await.unwrap();
}

#[tokio::test]
async fn postgis_schema_mirrors_the_model() {
    let db = TempDatabase::create("schema").await.unwrap();
    let store = PgStore::connect(&db.url).await.unwrap();
    for layer in Layer::ALL {
        let cols: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text, is_nullable::text \
             FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position",
        )
        .bind(layer.name())
        .fetch_all(store.pool())
        .await
        .unwrap();
        let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
        let mut expected = vec!["id", "shard_key"];
        if layer.geometry() != gridgov_model::GeometryKind::None {
            expected.push("geom");
        }
        expected.push("division_code");
        expected.extend(layer.fields().iter().map(|f| f.name));
        assert_eq!(names, expected, "{layer}");
        for f in layer.fields() {
            let c = cols.iter().find(|c| c.0 == f.name).unwrap();
            let ty = match f.ty {
                gridgov_model::FieldType::Text => "text",
                gridgov_model::FieldType::Integer => "bigint",
                gridgov_model::FieldType::Real => "double precision",
                gridgov_model::FieldType::Date => "date",
                gridgov_model::FieldType::DateTime => "timestamp with time zone",
                gridgov_model::FieldType::Bool => "boolean",
            };
            assert_eq!(c.1, ty, "{layer}.{}", f.name);
            assert_eq!(c.2 == "NO", f.required, "{layer}.{} nullability", f.name);
        }
    }
    drop(store);
    db.drop_now().await.unwrap();
}

/// Entity tags are keyed with a secret made once per store: stable across reopening (a client
/// may send `If-Match` after a restart), different between stores, and not the plain hash of
/// the feature (which would let anyone test guesses of a masked field against the tag).
fn tags_are_keyed(a: &dyn Store, a_again: &dyn Store, b: &dyn Store) {
    use sha2::Digest as _;
    let f = Feature::new(code("520526101201"), None)
        .with("name", "张三")
        .with("id_card", "520526198001011234");
    assert!(a.tag_key().len() >= 32, "a 256-bit key");
    assert_eq!(a.etag(&f), a_again.etag(&f), "stable across opening");
    assert_ne!(a.etag(&f), b.etag(&f), "each store has its own key");
    let plain = sha2::Sha256::digest(f.to_geojson().to_string().as_bytes());
    let plain = plain[..16].iter().fold(String::new(), |mut s, b| {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
        s
    });
    assert_ne!(a.etag(&f), format!("\"{plain}\""));
}

#[tokio::test]
async fn geopackage_entity_tags_are_keyed_per_store() {
    let dir = tempfile::tempdir().unwrap();
    let a = GpkgStore::open(&dir.path().join("a.gpkg")).await.unwrap();
    let a_again = GpkgStore::open(&dir.path().join("a.gpkg")).await.unwrap();
    let b = GpkgStore::open(&dir.path().join("b.gpkg")).await.unwrap();
    tags_are_keyed(&a, &a_again, &b);
}

#[tokio::test]
async fn postgis_entity_tags_are_keyed_per_store() {
    let (da, db) = (
        TempDatabase::create("tags_a").await.unwrap(),
        TempDatabase::create("tags_b").await.unwrap(),
    );
    let a = PgStore::connect(&da.url).await.unwrap();
    let a_again = PgStore::connect(&da.url).await.unwrap();
    let b = PgStore::connect(&db.url).await.unwrap();
    tags_are_keyed(&a, &a_again, &b);
    drop((a, a_again, b));
    da.drop_now().await.unwrap();
    db.drop_now().await.unwrap();
}
