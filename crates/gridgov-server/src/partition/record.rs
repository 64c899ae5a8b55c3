//! A plan row as the API shows it: its fields, the state of the computation that draws its
//! grids (one whose heartbeat stopped counts as failed, whichever server asks), its totals, and
//! its grids with their statistics.

use chrono::{DateTime, DurationRound, Utc};
use gridgov_model::vocab::{PlanJob, PlanStatus};
use gridgov_model::{DivisionCode, Feature, FeatureId, Value};
use serde_json::{json, Map, Value as Json};

pub use crate::jobs::{heartbeat, job, json_field, STALE_AFTER};

/// The plan's status.
pub fn status(plan: &Feature) -> Option<PlanStatus> {
    plan.text("status").and_then(|s| s.parse().ok())
}

/// Why `plan` is not a draft whose grids are drawn, the only plan that is `done` (`approved`,
/// `adjusted`) now; `None` when it is one.
pub fn not_a_drawn_draft(plan: &Feature, now: DateTime<Utc>, done: &str) -> Option<String> {
    let id = id(plan);
    match status(plan) {
        Some(PlanStatus::Draft) => {}
        Some(s) => {
            return Some(format!(
                "plan {id} is {} ({}); only a draft is {done}",
                s.token(),
                s.zh()
            ))
        }
        None => return Some(format!("plan {id} has no status")),
    }
    match job(plan, now) {
        (None | Some(PlanJob::Done), _) => None,
        (Some(PlanJob::Running), _) => Some(format!(
            "plan {id}'s grids are still being drawn; it is {done} once they are"
        )),
        (Some(PlanJob::Failed), why) => Some(format!(
            "plan {id}'s grids could not be drawn ({}); draw a new plan",
            why.unwrap_or_default()
        )),
    }
}

/// The plan as JSON (without its grids): fields, computation, totals and links.
pub fn plan_json(plan: &Feature, now: DateTime<Utc>) -> Json {
    let id = plan.id.map_or(0, |i| i.0);
    let (job, job_error) = job(plan, now);
    let text = |f: &str| plan.get(f).map_or(Json::Null, Value::to_json);
    let status = status(plan);
    let summary = json_field(plan, "summary");
    json!({
        "id": id,
        "division_code": plan.division.as_str(),
        "name": text("name"),
        "status": status.map(PlanStatus::token),
        "status_zh": status.map(PlanStatus::zh),
        "created_on": text("created_on"),
        "effective_from": text("effective_from"),
        "approved_on": text("approved_on"),
        "note": text("note"),
        "job": job.map(PlanJob::token),
        "job_zh": job.map(PlanJob::zh),
        "progress": text("progress"),
        "job_error": job_error,
        "heartbeat": text("heartbeat"),
        "parameters": json_field(plan, "parameters"),
        "summary": summary.get("totals").cloned().unwrap_or(Json::Null),
        "links": {
            "self": format!("/api/v1/partition-plans/{id}"),
            "compare": format!("/api/v1/partition-plans/{id}/compare"),
            "approve": format!("/api/v1/partition-plans/{id}/approve"),
            "units": format!("/api/v1/partition-plans/{id}/units"),
            "moves": format!("/api/v1/partition-plans/{id}/moves"),
            "geojson": format!("/api/v1/partition-plans/{id}/export?format=geojson"),
            "gpkg": format!("/api/v1/partition-plans/{id}/export?format=gpkg"),
        },
    })
}

/// Per grid code, the statistics the plan's summary keeps.
pub fn statistics(plan: &Feature) -> Map<String, Json> {
    let summary = json_field(plan, "summary");
    summary
        .get("grids")
        .and_then(Json::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|g| Some((g.get("code")?.as_str()?.to_owned(), g.clone())))
                .collect()
        })
        .unwrap_or_default()
}

/// The plan's grids as a GeoJSON `FeatureCollection`: each grid's stored fields and the
/// statistics of its drawing (workload, deviation from the mean, compactness, share of the
/// boundary on roads, water and division lines, area, units).
pub fn grids_json(plan: &Feature, grids: &[Feature]) -> Json {
    let stats = statistics(plan);
    let features: Vec<Json> = grids
        .iter()
        .map(|g| {
            let mut f = g.to_geojson();
            let code = g.text("code").unwrap_or_default();
            if let (Some(props), Some(Json::Object(s))) =
                (f["properties"].as_object_mut(), stats.get(code))
            {
                for (k, v) in s {
                    if k != "code" && !props.contains_key(k) {
                        props.insert(k.clone(), v.clone());
                    }
                }
            }
            f
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}

/// The row of a new draft plan of `area` whose grids a computation is to draw, made `now`
/// (kept to the millisecond, as the stores keep it) with the request's `parameters`.
pub fn draft(area: DivisionCode, name: &str, now: DateTime<Utc>, parameters: &Json) -> Feature {
    let now = now
        .duration_trunc(chrono::TimeDelta::milliseconds(1))
        .unwrap_or(now);
    Feature::new(area, None)
        .with("name", name)
        .with("status", PlanStatus::Draft.token())
        .with("created_on", now.date_naive())
        .with("job", PlanJob::Running.token())
        .with("progress", 0_i64)
        .with("parameters", parameters.to_string())
        .with("heartbeat", now)
}

/// The id of a stored plan.
pub fn id(plan: &Feature) -> FeatureId {
    plan.id.unwrap_or(FeatureId(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_computation_without_a_heartbeat_for_two_minutes_failed() {
        let t0 = Utc::now();
        let plan = Feature::new("520526101201".parse().unwrap(), None)
            .with("status", "draft")
            .with("job", "running")
            .with("heartbeat", t0);
        assert_eq!(
            job(&plan, t0 + chrono::TimeDelta::seconds(90)).0,
            Some(PlanJob::Running)
        );
        let (j, e) = job(&plan, t0 + chrono::TimeDelta::seconds(150));
        assert_eq!(j, Some(PlanJob::Failed));
        assert!(e.unwrap().contains("stopped"));
        let done = plan.with("job", "done");
        assert_eq!(
            job(&done, t0 + chrono::TimeDelta::days(9)).0,
            Some(PlanJob::Done)
        );
    }
}
