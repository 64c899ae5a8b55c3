//! Grid partitioning on a store: reading the data of a village or township that
//! `gridgov_partition` cuts and partitions (divisions, villager groups, roads and water around
//! it, households, rental houses, supervised persons and disputes in it) and the grids of the
//! plan in force.

use geo::BoundingRect;
use gridgov_model::vocab::PlanStatus;
use gridgov_model::{Dataset, DivisionCode, Feature, Layer};
use gridgov_partition::Scope;
use gridgov_store::{Query, Store, StoreError};

fn under(code: DivisionCode) -> Query {
    Query {
        division: Some(code),
        ..Query::default()
    }
}

/// The data a partition of `scope` reads. Roads and water are taken by the bounding box of the
/// area (they may belong to the county or a neighbouring township), everything else by
/// division.
pub async fn load(store: &dyn Store, scope: Scope) -> Result<Dataset, StoreError> {
    let code = scope.code();
    let mut data = Dataset::default();
    let villages = store.query(Layer::Villages, &under(code)).await?;
    let bbox = villages
        .iter()
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
        });
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
            data.layers.insert(layer, store.query(layer, &q).await?);
        }
    }
    Ok(data)
}

/// The grids of the plans in force in `scope` (those whose plan is effective).
pub async fn effective_grids(store: &dyn Store, scope: Scope) -> Result<Vec<Feature>, StoreError> {
    let code = scope.code();
    // Plans belong to a township or a village; those above the scope hold its grids too.
    let township = code.township().unwrap_or(code);
    let plans = store.query(Layer::GridPlans, &under(township)).await?;
    let effective: Vec<i64> = plans
        .iter()
        .filter(|p| p.text("status") == Some(PlanStatus::Effective.token()))
        .filter_map(|p| p.id.map(|i| i.0))
        .collect();
    let grids = store.query(Layer::Grids, &under(code)).await?;
    Ok(grids
        .into_iter()
        .filter(|g| {
            g.get("plan_id")
                .and_then(gridgov_model::Value::as_i64)
                .is_some_and(|p| effective.contains(&p))
        })
        .collect())
}
