//! The background computation of a partition plan: reads the area, runs the partitioner on a
//! blocking thread while its progress and heartbeat go into the plan's row
//! ([`crate::jobs`]), and at the end writes the grids and the finished row in one
//! transaction, or the failure and why.

use gridgov_model::vocab::PlanJob;
use gridgov_model::{FeatureId, Layer};
use gridgov_store::scope::within;
use gridgov_store::{Op, StoreError};
use serde_json::json;

use super::adjust::weighed;
use super::body::Draft;
use super::drawn::{drawn, Drawn};
use super::{effective_grids, load, rows_of};
use crate::items::follow;
use crate::jobs::{self, Stop};
pub use crate::jobs::{Requester, HEARTBEAT};
use crate::AppState;

/// Starts the computation of plan `plan` in the background, in the rows of the plan's area.
pub fn spawn(
    s: AppState,
    plan: FeatureId,
    draft: Draft,
    who: Requester,
) -> tokio::task::JoinHandle<()> {
    let rows = rows_of(draft.request.scope.code());
    tokio::spawn(within(rows, run(s, plan, draft, who)))
}

async fn run(s: AppState, plan: FeatureId, draft: Draft, who: Requester) {
    let outcome = match compute(&s, plan, &draft).await {
        Ok(d) => store_grids(&s, plan, d).await,
        Err(stop) => Err(stop),
    };
    let outcome = outcome.map(|grids| json!({"job": PlanJob::Done.token(), "grids": grids}));
    jobs::conclude(&s, Layer::GridPlans, plan, &who, outcome).await;
}

/// Writes the progress (percent) of a running computation and its heartbeat into the plan's
/// row ([`jobs::report_progress`] on `grid_plans`).
pub async fn report_progress(s: &AppState, plan: FeatureId, percent: i64) -> Result<bool, String> {
    jobs::report_progress(s, Layer::GridPlans, plan, percent).await
}

/// Reads the area, runs the partitioner, and reports progress until it ends.
async fn compute(s: &AppState, plan: FeatureId, draft: &Draft) -> Result<Drawn, Stop> {
    let area = draft.request.scope;
    let unreadable = |e: StoreError| {
        tracing::error!(%plan, error = %e, "the area of a plan could not be read");
        Stop::Failed("the area's data could not be read from the store".into())
    };
    let mut data = load(&*s.store, area).await.map_err(unreadable)?;
    weighed(&mut data, &draft.request);
    let current = if draft.rebalance {
        let grids = effective_grids(&*s.store, area).await.map_err(unreadable)?;
        if grids.is_empty() {
            return Err(Stop::Failed(format!(
                "{} has no grids in force to rebalance: draw a plan afresh",
                area.code()
            )));
        }
        Some(grids)
    } else {
        None
    };
    let request = draft.request.clone();
    let (outcome, data, current) = jobs::drive(s, Layer::GridPlans, plan, move |progress| {
        let mut progress = |p: f64| progress(p);
        let outcome = match &current {
            Some(grids) => gridgov_partition::rerun(&data, &request, grids, &mut progress),
            None => gridgov_partition::run(&data, &request, &mut progress),
        };
        (outcome, data, current)
    })
    .await?;
    let outcome = outcome.map_err(|e| Stop::Failed(e.to_string()))?;
    Ok(drawn(&outcome, &data, plan, current.as_deref()))
}

/// Writes the grids and the finished row in one transaction; the number of grids.
async fn store_grids(s: &AppState, plan: FeatureId, d: Drawn) -> Result<usize, Stop> {
    let summary = d.summary.to_string();
    let at = jobs::now(s);
    let inserts: Vec<Op> = d
        .grids
        .into_iter()
        .map(|g| Op::Insert(Layer::Grids, g))
        .collect();
    let n = inserts.len();
    let ids = jobs::change_row(
        s,
        Layer::GridPlans,
        plan,
        |f| jobs::set_done(f, &summary, at),
        &inserts,
    )
    .await?;
    follow(s, Layer::GridPlans, vec![plan]).await;
    follow(s, Layer::Grids, ids.into_iter().skip(1).collect()).await;
    Ok(n)
}
