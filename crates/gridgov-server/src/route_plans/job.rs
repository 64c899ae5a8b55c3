//! The background computation of a route plan: reads the township, plans the day on a
//! blocking thread while progress and heartbeat go into the plan's row ([`crate::jobs`]), and
//! writes the routes with the finished row in one transaction, or the failure and why.

use chrono::NaiveDate;
use gridgov_model::vocab::PlanJob;
use gridgov_model::{DivisionCode, FeatureId, Layer};
use gridgov_routing::sanitation::{plan_day, DayOptions, Search};
use gridgov_store::scope::{within, RowScope};
use gridgov_store::Op;
use serde_json::json;

use crate::items::follow;
use crate::jobs::{self, Requester, Stop};
use crate::AppState;

/// What a route plan computes.
#[derive(Debug, Clone)]
pub struct DayRequest {
    /// The township.
    pub township: DivisionCode,
    /// The day.
    pub date: NaiveDate,
    /// The solver's seed and time.
    pub search: Search,
}

/// Starts the computation of route plan `plan` in the background, in the township's rows.
pub fn spawn(
    s: AppState,
    plan: FeatureId,
    request: DayRequest,
    who: Requester,
) -> tokio::task::JoinHandle<()> {
    let rows = RowScope::Prefix(request.township.prefix().to_owned());
    tokio::spawn(within(rows, run(s, plan, request, who)))
}

async fn run(s: AppState, plan: FeatureId, request: DayRequest, who: Requester) {
    let outcome = compute(&s, plan, request).await;
    jobs::conclude(&s, Layer::RoutePlans, plan, &who, outcome).await;
}

async fn compute(
    s: &AppState,
    plan: FeatureId,
    request: DayRequest,
) -> Result<serde_json::Value, Stop> {
    let data = super::load(&*s.store, request.township)
        .await
        .map_err(|e| {
            tracing::error!(%plan, error = %e, "the township of a route plan could not be read");
            Stop::Failed("the township's data could not be read from the store".into())
        })?;
    let day = jobs::drive(s, Layer::RoutePlans, plan, move |progress| {
        plan_day(
            &data,
            request.township,
            request.date,
            &DayOptions::default(),
            &request.search,
            progress,
        )
    })
    .await?
    .map_err(|e| Stop::Failed(e.to_string()))?;
    let summary = super::summary(&day).to_string();
    let inserts: Vec<Op> = day
        .routes
        .iter()
        .map(|r| Op::Insert(Layer::Routes, super::route_feature(plan.0, r)))
        .collect();
    let at = jobs::now(s);
    let ids = jobs::change_row(
        s,
        Layer::RoutePlans,
        plan,
        |f| jobs::set_done(f, &summary, at),
        &inserts,
    )
    .await?;
    follow(s, Layer::RoutePlans, vec![plan]).await;
    follow(s, Layer::Routes, ids.into_iter().skip(1).collect()).await;
    Ok(json!({
        "job": PlanJob::Done.token(),
        "routes": day.routes.len(),
        "unassigned": day.unassigned.len(),
    }))
}
