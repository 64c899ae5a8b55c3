//! Grid partitioning on a store, and partition plans (网格划分方案) over HTTP.
//!
//! [`load`] reads the data of a village or township that `gridgov_partition` cuts and
//! partitions (divisions, villager groups, roads and water around it, households, rental
//! houses, supervised persons and disputes in it) and [`effective_grids`] the grids of the
//! plan in force; the command line (`gridgov partition`) and the plans below share them.
//!
//! A plan drawn through the API is a row of `grid_plans` that says everything about it, so any
//! server answers for any plan: it is made at once as a draft whose computation is running; a
//! background task draws the grids, reporting progress and a heartbeat in the row, and stores
//! the grids with the finished row in one transaction. Approval makes it effective (at once or
//! on its day): households get their new grid and the grids it replaces become history, again
//! in one transaction.
//!
//! # Layout
//!
//! | module | what |
//! | --- | --- |
//! | [`body`] | the body of `POST /api/v1/partition-plans`: parameters checked one by one, who may draw which area |
//! | [`record`] | a plan row as the API shows it: the computation's state (a silent one counts as failed), totals, grids with their statistics |
//! | [`drawn`] | from the partitioner's outcome to grid features and the plan's summary |
//! | [`job`] | the background computation: progress and heartbeat, then grids and plan in one transaction |
//! | [`compare`] | a plan against the grids in force: grids added, removed and changed, households moved |
//! | [`adjust`] | a planner's move of one unit to a neighbouring grid: units cut again with the plan's parameters, the move checked, grids and statistics written in one transaction |
//! | [`approve`] | approval and activation: plan, history and households in one transaction; the daily sweep |
//! | [`export`] | the plan's grids as GeoJSON or GeoPackage |
//! | [`routes`] | the HTTP handlers |
//! | `guard` | what the items API may not do to plans and grids (only rename a plan or change its note) |
//!
//! # Rows the work touches
//!
//! Requests run in the user's row scope (on PostGIS, row-level security holds them to it). A
//! plan's area lies inside the scope of whoever may draw it ([`body::may_draw`]); the
//! background computation runs in the area's own scope. Two reads reach beyond the area, for
//! context that is not personal: roads and water around it (by bounding box, whichever
//! division owns them: a trunk road belongs to the county, and a partition must not depend on
//! who asked for it), read in the area's county; and the plans above the area (a township's
//! plan holds a village's grids in force), read in the area's township. Nothing is written
//! outside the area.

pub mod adjust;
pub mod approve;
pub mod body;
pub mod compare;
pub mod drawn;
pub mod export;
mod guard;
pub mod job;
pub mod record;
pub mod routes;

pub(crate) use guard::generic_write;

use geo::BoundingRect;
use gridgov_model::vocab::PlanStatus;
use gridgov_model::{Dataset, DivisionCode, Feature, Layer, Value};
use gridgov_partition::Scope;
use gridgov_store::scope::{within, RowScope};
use gridgov_store::{Query, Store, StoreError};

pub(crate) use routes::routes;

fn under(code: DivisionCode) -> Query {
    Query {
        division: Some(code),
        ..Query::default()
    }
}

/// The rows of a division and everything under it.
pub(crate) fn rows_of(code: DivisionCode) -> RowScope {
    RowScope::Prefix(code.prefix().to_owned())
}

/// The township of an area (the area itself for a township).
pub(crate) fn township_of(code: DivisionCode) -> DivisionCode {
    code.township().unwrap_or(code)
}

/// The bounding box `[min lon, min lat, max lon, max lat]` of the features' geometries (`None`
/// when none has one).
pub(crate) fn bounds<'a>(features: impl IntoIterator<Item = &'a Feature>) -> Option<[f64; 4]> {
    features
        .into_iter()
        .filter_map(|f| f.geometry.as_ref().and_then(BoundingRect::bounding_rect))
        .fold(None::<[f64; 4]>, |acc, r| {
            let b = [r.min().x, r.min().y, r.max().x, r.max().y];
            Some(acc.map_or(b, |a| {
                [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ]
            }))
        })
}

/// The data a partition of `scope` reads. Roads and water are taken by the bounding box of the
/// area, whichever division owns them (they may belong to the county or a neighbouring
/// township: they are read in the area's county), everything else by division.
pub async fn load(store: &dyn Store, scope: Scope) -> Result<Dataset, StoreError> {
    let code = scope.code();
    let mut data = Dataset::default();
    let villages = store.query(Layer::Villages, &under(code)).await?;
    let bbox = bounds(&villages);
    data.layers.insert(Layer::Villages, villages);
    for layer in [
        Layer::VillagerGroups,
        Layer::Households,
        Layer::RentalHouses,
        Layer::SupervisedPersons,
        Layer::Disputes,
    ] {
        data.layers
            .insert(layer, store.query(layer, &under(code)).await?);
    }
    if let Some(bbox) = bbox {
        for layer in [Layer::Roads, Layer::Water] {
            let q = Query {
                bbox: Some(bbox),
                ..Query::default()
            };
            let found = within(rows_of(code.county()), store.query(layer, &q)).await?;
            data.layers.insert(layer, found);
        }
    }
    Ok(data)
}

/// The ids of the effective plans that may hold grids of `code`: plans of its township and of
/// the divisions under it (read in the township's rows, as a village's grids may belong to its
/// township's plan).
pub(crate) async fn plans_in_force(
    store: &dyn Store,
    code: DivisionCode,
) -> Result<Vec<Feature>, StoreError> {
    let township = township_of(code);
    let plans = within(
        rows_of(township),
        store.query(Layer::GridPlans, &under(township)),
    )
    .await?;
    Ok(plans
        .into_iter()
        .filter(|p| p.text("status") == Some(PlanStatus::Effective.token()))
        .filter(|p| p.division.contains(&code) || code.contains(&p.division))
        .collect())
}

/// The plan a grid belongs to.
pub(crate) fn plan_of(grid: &Feature) -> Option<i64> {
    grid.get("plan_id").and_then(Value::as_i64)
}

/// The grids of the plans in force in `scope` (those whose plan is effective).
pub async fn effective_grids(store: &dyn Store, scope: Scope) -> Result<Vec<Feature>, StoreError> {
    let code = scope.code();
    let effective: Vec<i64> = plans_in_force(store, code)
        .await?
        .iter()
        .filter_map(|p| p.id.map(|i| i.0))
        .collect();
    let grids = store.query(Layer::Grids, &under(code)).await?;
    Ok(grids
        .into_iter()
        .filter(|g| plan_of(g).is_some_and(|p| effective.contains(&p)))
        .collect())
}

/// The name of a village or township (its code when the store has none).
pub(crate) async fn area_name(store: &dyn Store, area: DivisionCode) -> Result<String, StoreError> {
    let layer = if area.level() == gridgov_model::DivisionLevel::Township {
        Layer::Townships
    } else {
        Layer::Villages
    };
    let found = store.query(layer, &under(area)).await?;
    Ok(found
        .iter()
        .find(|f| f.division == area)
        .and_then(|f| f.text("name"))
        .map_or_else(|| area.to_string(), str::to_owned))
}
