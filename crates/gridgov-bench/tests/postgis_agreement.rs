//! gridgov's point lookups against PostGIS as the reference: the demo county (seed 42) is
//! written into a fresh database on the test PostGIS (`GRIDGOV_TEST_DATABASE_URL`, started by
//! scripts/test.sh; missing means failure, never a skip) and indexed in memory from the same
//! features; then, for 10,000 seeded random points over the county's bounding box,
//!
//! - the grid `CountyIndex::grid_at` finds is the one `ST_Contains` finds among the grids of
//!   the plan in force (none where PostGIS finds none; where a point lies in several grids,
//!   gridgov's rule is the smallest id), and
//! - for every point inside the county, the distance to the nearest transfer station that
//!   `CountyIndex::locate` gives agrees within 0.5 % with
//!   `min(ST_Distance(geom::geography, point::geography))`.
//!
//! The demo's plans are all in force, so the test adds a superseded plan whose grids lie
//! exactly on the first township's grids with smaller ids: a side that forgot the plan's
//! status would answer with them.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use geo::Coord;
use gridgov_bench::{
    county_bbox, demo_layers, random_points, sql, write_county, Layers, DEMO_SEED,
};
use gridgov_index::CountyIndex;
use gridgov_model::{FeatureId, Layer, Value};
use gridgov_store::postgis::PgStore;
use gridgov_store::testing::TempDatabase;
use gridgov_store::{Query, Store};

/// How many points are checked.
const POINTS: usize = 10_000;

/// The largest relative difference allowed between the station distances.
const DISTANCE_TOLERANCE: f64 = 0.005;

/// What PostGIS answers for one point.
#[derive(Debug, sqlx::FromRow)]
struct Reference {
    i: i64,
    grids: Vec<i64>,
    station_m: Option<f64>,
}

/// How far the grids of the plan in force move up in ids, to make room for the copies.
const GRID_ID_SHIFT: i64 = 1_000_000;

/// Adds a superseded copy of the first grid plan, with a copy of each of its grids: the
/// copies take the original ids, the originals move up by [`GRID_ID_SHIFT`]. Returns how
/// many grids were copied.
fn add_a_superseded_plan(layers: &mut Layers) -> usize {
    let plans = layers.get_mut(&Layer::GridPlans).unwrap();
    let first = plans[0].clone();
    let first_id = first.id.unwrap().0;
    let superseded_id = plans.iter().filter_map(|p| p.id).max().unwrap().0 + 1;
    let mut superseded = first.with("status", "superseded");
    superseded.id = Some(FeatureId(superseded_id));
    plans.push(superseded);

    let grids = layers.get_mut(&Layer::Grids).unwrap();
    let mut copies = Vec::new();
    for g in grids.iter_mut() {
        if g.get("plan_id") == Some(&Value::Integer(first_id)) {
            copies.push(g.clone().with("plan_id", superseded_id));
        }
        g.id = g.id.map(|id| FeatureId(id.0 + GRID_ID_SHIFT));
    }
    let n = copies.len();
    grids.splice(0..0, copies);
    n
}

/// A point where the two disagree, for the failure message.
fn show(i: usize, p: Coord<f64>, what: &str) -> String {
    format!("point #{i} ({:.9}, {:.9}): {what}", p.x, p.y)
}

#[tokio::test]
async fn grids_and_station_distances_agree_with_postgis() {
    let db = TempDatabase::create("postgis_agreement").await.unwrap();
    let store = PgStore::connect(&db.url).await.unwrap();
    let mut layers = demo_layers(DEMO_SEED);
    let copied = add_a_superseded_plan(&mut layers);
    assert!(copied > 0);
    write_county(&store, &layers).await.unwrap();
    // Everything landed, ids kept.
    for layer in [Layer::Grids, Layer::GridPlans, Layer::TransferStations] {
        let stored = store.query(layer, &Query::default()).await.unwrap();
        let ids: Vec<_> = stored.iter().map(|f| f.id).collect();
        let want: Vec<_> = layers[&layer].iter().map(|f| f.id).collect();
        assert_eq!(ids, want, "{layer} ids in PostGIS");
    }

    let bbox = county_bbox(&layers).unwrap();
    let index = CountyIndex::new(layers);
    let points = random_points(bbox, POINTS, DEMO_SEED);
    let lons: Vec<f64> = points.iter().map(|p| p.x).collect();
    let lats: Vec<f64> = points.iter().map(|p| p.y).collect();
    let rows: Vec<Reference> = sqlx::query_as(sql::AGREEMENT)
        .bind(&lons)
        .bind(&lats)
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(rows.len(), POINTS, "PostGIS answered for every point");

    let mut wrong = Vec::new();
    let (mut in_grid, mut in_several, mut inside, mut worst) = (0, 0, 0, 0.0_f64);
    let mut in_superseded = 0;
    for (n, (p, row)) in points.iter().zip(&rows).enumerate() {
        assert_eq!(row.i, n as i64 + 1, "rows in point order");
        let got = index.grid_at(*p).and_then(|g| g.id).map(|id| id.0);
        // Several grids: the smallest id wins (PostGIS gives them ascending).
        let want = row.grids.first().copied();
        if row.grids.len() > 1 {
            in_several += 1;
        }
        if want.is_some_and(|id| id > GRID_ID_SHIFT)
            && index
                .layer(Layer::Grids)
                .unwrap()
                .containing(*p)
                .and_then(|g| g.id)
                < Some(FeatureId(GRID_ID_SHIFT))
        {
            in_superseded += 1;
        }
        if want.is_some() {
            in_grid += 1;
        }
        if got != want {
            wrong.push(show(
                n,
                *p,
                &format!("gridgov grid {got:?}, PostGIS grids {:?}", row.grids),
            ));
        }

        let Some(found) = index.locate(*p) else {
            continue;
        };
        inside += 1;
        let (Some(near), Some(reference)) = (found.transfer_station, row.station_m) else {
            wrong.push(show(n, *p, "no nearest transfer station on one side"));
            continue;
        };
        let off = (near.metres - reference).abs() / reference.max(1.0);
        worst = worst.max(off);
        if off > DISTANCE_TOLERANCE {
            wrong.push(show(
                n,
                *p,
                &format!(
                    "nearest station {:.3} m by gridgov, {reference:.3} m by PostGIS",
                    near.metres
                ),
            ));
        }
    }
    eprintln!(
        "{POINTS} points: {in_grid} in a grid of the plan in force ({in_several} in more than \
         one), {in_superseded} also in a superseded grid of smaller id, {inside} inside the \
         county; largest relative station distance difference {worst:.2e}"
    );
    assert!(
        wrong.is_empty(),
        "{} of {POINTS} points disagree with PostGIS, the first:\n{}",
        wrong.len(),
        wrong[..wrong.len().min(20)].join("\n")
    );
    // Not vacuous: most of the box is county, the county is covered by grids.
    assert!(
        inside > POINTS / 3,
        "only {inside} points inside the county"
    );
    assert!(in_grid > POINTS / 3, "only {in_grid} points in a grid");
    assert!(in_superseded > 0, "no point tested the plan in force");
    db.drop_now().await.unwrap();
}
