//! Cleaner routing on a store, and route plans (清运计划) over HTTP.
//!
//! [`load`] reads what a township's collection day needs (roads around it, its collection
//! points, households, transfer stations, incinerators and vehicles); the command line
//! (`gridgov route`) and the plans share it, and [`route_feature`] and [`summary`] turn a
//! planned day into the `routes` features (one per vehicle, its road geometry and ordered
//! stops) and the plan's summary. [`routes`] serves `/api/v1/route-plans` ([`job`] computes a plan in the background,
//! as partition plans are computed: [`crate::jobs`]).
//!
//! # Rows the work touches
//!
//! Everything is read in the township's rows, except the roads: they are read by bounding box
//! in the county's rows (a trunk road belongs to the county), as partitioning reads them.

pub mod job;
pub mod routes;

pub(crate) use routes::generic_write;
pub(crate) use routes::routes;

use geo::Geometry;
use gridgov_model::{Dataset, DivisionCode, Feature, Layer};
use gridgov_routing::sanitation::{DayPlan, VehicleRoute};
use gridgov_store::scope::{within, RowScope};
use gridgov_store::{Query, Store, StoreError};
use serde_json::{json, Value as J};

/// How far around the township roads are read, in degrees (about 3 km): a route may leave the
/// township on a road and come back.
const ROAD_MARGIN_DEG: f64 = 0.03;

fn under(code: DivisionCode) -> Query {
    Query {
        division: Some(code),
        ..Query::default()
    }
}

/// The data of `township`'s collection day.
pub async fn load(store: &dyn Store, township: DivisionCode) -> Result<Dataset, StoreError> {
    let mut data = Dataset::default();
    let townships = store.query(Layer::Townships, &under(township)).await?;
    let villages = store.query(Layer::Villages, &under(township)).await?;
    let bbox = crate::partition::bounds(townships.iter().chain(&villages));
    data.layers.insert(Layer::Villages, villages);
    for layer in [
        Layer::CollectionPoints,
        Layer::Households,
        Layer::TransferStations,
        Layer::Incinerators,
        Layer::Vehicles,
    ] {
        data.layers
            .insert(layer, store.query(layer, &under(township)).await?);
    }
    if let Some(b) = bbox {
        let q = Query {
            bbox: Some([
                b[0] - ROAD_MARGIN_DEG,
                b[1] - ROAD_MARGIN_DEG,
                b[2] + ROAD_MARGIN_DEG,
                b[3] + ROAD_MARGIN_DEG,
            ]),
            ..Query::default()
        };
        let county = RowScope::Prefix(township.county().prefix().to_owned());
        let roads = within(county, store.query(Layer::Roads, &q)).await?;
        data.layers.insert(Layer::Roads, roads);
    }
    Ok(data)
}

/// A vehicle's route as a `routes` feature of plan `plan_id` (owned by the vehicle's area).
pub fn route_feature(plan_id: i64, r: &VehicleRoute) -> Feature {
    Feature::new(
        r.vehicle.area,
        Some(Geometry::LineString(r.geometry.clone())),
    )
    .with("plan_id", plan_id)
    .with("vehicle_id", r.vehicle.id)
    .with("plate", r.vehicle.plate.as_str())
    .with("vehicle_kind", r.vehicle.kind.token())
    .with("stops", r.points as i64)
    .with("trips", r.trips as i64)
    .with("collected_kg", r.collected_kg)
    .with("distance_m", r.distance_m as f64)
    .with("duration_s", i64::from(r.duration_s))
    .with(
        "schedule",
        serde_json::to_string(&r.stops).unwrap_or_else(|_| "[]".into()),
    )
}

/// The summary of a planned day: totals, each place's unloads, and the points left off with
/// their reasons.
pub fn summary(plan: &DayPlan) -> J {
    let due_kg: f64 = plan.due.iter().map(|p| p.expected_kg).sum();
    let collected_kg: f64 = plan.routes.iter().map(|r| r.collected_kg).sum();
    let places: Vec<J> = plan
        .places
        .iter()
        .zip(&plan.unloaded_kg)
        .filter(|(_, kg)| **kg > 0.0)
        .map(|(p, kg)| {
            json!({
                "layer": p.layer.name(), "id": p.id, "name": p.name,
                "unloaded_kg": (kg * 10.0).round() / 10.0,
                "capacity_kg": p.capacity_kg.is_finite().then_some(p.capacity_kg),
            })
        })
        .collect();
    json!({
        "township": plan.township.as_str(),
        "date": plan.date.format("%Y-%m-%d").to_string(),
        "due_points": plan.due.len(),
        "due_kg": (due_kg * 10.0).round() / 10.0,
        "visited_points": plan.routes.iter().map(|r| r.points).sum::<usize>(),
        "collected_kg": (collected_kg * 10.0).round() / 10.0,
        "vehicles": plan.routes.len(),
        "trips": plan.routes.iter().map(|r| r.trips).sum::<usize>(),
        "distance_m": plan.routes.iter().map(|r| r.distance_m).sum::<u64>(),
        "duration_s": plan.routes.iter().map(|r| u64::from(r.duration_s)).sum::<u64>(),
        "unloads": places,
        "unassigned": plan.unassigned.iter().map(|u| {
            let mut v = serde_json::to_value(u).unwrap_or(J::Null);
            if let Some(o) = v.as_object_mut() {
                o.insert("why".into(), u.reason.describe().into());
            }
            v
        }).collect::<Vec<_>>(),
    })
}
