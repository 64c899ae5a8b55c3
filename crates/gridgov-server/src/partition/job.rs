//! The background computation of a plan: reads the area, runs the partitioner on a blocking
//! thread, and meanwhile writes its progress and a heartbeat into the plan's row (at most once
//! a second, and at least every [`HEARTBEAT`] while nothing changes); at the end writes the
//! grids and the finished row in one transaction, or the failure and why.
//!
//! Every write reads the row first and is guarded by its tag, so that a concurrent change of
//! the row (an edit of its name) is not lost: the write is made again on the new row. A row
//! that is gone, or whose computation is no longer running, ends the work without a write.

use std::time::{Duration, Instant};

use chrono::{DurationRound, TimeDelta};
use gridgov_model::vocab::PlanJob;
use gridgov_model::{Feature, FeatureId, Layer, Value};
use gridgov_store::scope::within;
use gridgov_store::{write_guarded, AuditAction, AuditResult, Guard, Op, StoreError, WriteError};
use serde_json::json;

use super::body::Draft;
use super::drawn::{drawn, Drawn};
use super::{effective_grids, load, rows_of};
use crate::audit::{self, Source};
use crate::items::follow;
use crate::AppState;

/// The longest a running computation goes without writing its heartbeat (well inside
/// [`super::record::STALE_AFTER`]).
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// How often progress is looked at (and written when it changed).
const TICK: Duration = Duration::from_secs(1);

/// How often a write is tried again when another writer changed the row meanwhile.
const ATTEMPTS: usize = 5;

/// Who asked for the plan, for the audit log.
#[derive(Debug, Clone)]
pub struct Requester {
    /// The user's name.
    pub name: String,
    /// Where the request came from.
    pub source: Source,
}

/// How a computation ended before its grids could be stored.
enum Stop {
    /// It failed, for this reason (shown to the user).
    Failed(String),
    /// The row is gone or no longer running: leave it.
    Abandoned,
}

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
    let detail = match outcome {
        Ok(grids) => json!({"job": PlanJob::Done.token(), "grids": grids}),
        Err(Stop::Abandoned) => {
            tracing::info!(%plan, "plan computation abandoned: its row changed");
            return;
        }
        Err(Stop::Failed(reason)) => {
            match finish(&s, plan, |f| {
                set_failed(f, &reason, now(&s));
            })
            .await
            {
                Ok(()) | Err(Stop::Abandoned) => {}
                Err(Stop::Failed(e)) => {
                    tracing::error!(%plan, error = %e, "the plan's failure could not be stored");
                }
            }
            json!({"job": PlanJob::Failed.token(), "error": reason})
        }
    };
    if audit::record(
        &s,
        &who.name,
        who.source,
        AuditAction::Update,
        format!("{}/{plan}", Layer::GridPlans.name()),
        AuditResult::Ok,
        &detail,
    )
    .await
    .is_err()
    {
        tracing::error!(%plan, "a plan computation's end is missing from the audit log");
    }
}

/// The server's clock, to the millisecond the stores keep.
fn now(s: &AppState) -> chrono::DateTime<chrono::Utc> {
    let t = s.disputes.now();
    t.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(t)
}

fn set_failed(f: &mut Feature, reason: &str, at: chrono::DateTime<chrono::Utc>) {
    f.properties
        .insert("job".into(), PlanJob::Failed.token().into());
    f.properties.insert("job_error".into(), reason.into());
    f.properties.insert("heartbeat".into(), at.into());
}

/// Reads the area, runs the partitioner, and reports progress until it ends.
async fn compute(s: &AppState, plan: FeatureId, draft: &Draft) -> Result<Drawn, Stop> {
    let area = draft.request.scope;
    let unreadable = |e: StoreError| {
        tracing::error!(%plan, error = %e, "the area of a plan could not be read");
        Stop::Failed("the area's data could not be read from the store".into())
    };
    let mut data = load(&*s.store, area).await.map_err(unreadable)?;
    // Layers that weigh nothing are not read by the partitioner at all.
    let w = &draft.request.workload;
    for (layer, weight) in [
        (Layer::RentalHouses, w.rental_houses),
        (Layer::SupervisedPersons, w.supervised),
        (Layer::Disputes, w.disputes),
    ] {
        if weight <= 0.0 {
            data.layers.remove(&layer);
        }
    }
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
    let (tx, rx) = tokio::sync::watch::channel(0_i64);
    let request = draft.request.clone();
    let mut work = tokio::task::spawn_blocking(move || {
        let mut progress = |p: f64| {
            // 100 is written with the grids.
            let pct = ((p * 100.0).floor() as i64).clamp(0, 99);
            tx.send_if_modified(|v| {
                let changed = *v != pct;
                *v = pct;
                changed
            });
        };
        let outcome = match &current {
            Some(grids) => gridgov_partition::rerun(&data, &request, grids, &mut progress),
            None => gridgov_partition::run(&data, &request, &mut progress),
        };
        (outcome, data, current)
    });
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut written = (0_i64, Instant::now());
    let ended = loop {
        tokio::select! {
            ended = &mut work => break ended,
            _ = tick.tick() => {
                let p = *rx.borrow();
                if p != written.0 || written.1.elapsed() >= HEARTBEAT {
                    match report_progress(s, plan, p).await {
                        Ok(true) => written = (p, Instant::now()),
                        Ok(false) => return Err(Stop::Abandoned),
                        // Tried again on the next tick; the heartbeat has minutes to spare.
                        Err(e) => {
                            tracing::warn!(%plan, error = %e, "a plan's progress was not written");
                        }
                    }
                }
            }
        }
    };
    let (outcome, data, current) = ended.map_err(|e| {
        tracing::error!(%plan, error = %e, "a plan computation panicked");
        Stop::Failed("the computation stopped unexpectedly".into())
    })?;
    let outcome = outcome.map_err(|e| Stop::Failed(e.to_string()))?;
    Ok(drawn(&outcome, &data, plan, current.as_deref()))
}

/// Writes the progress (percent) of a running computation and its heartbeat (now, by the
/// server's clock) into the plan's row, in the rows of the current scope. `Ok(false)`: the row
/// is gone or its computation no longer runs, and is left alone; an error says why nothing was
/// written.
pub async fn report_progress(s: &AppState, plan: FeatureId, percent: i64) -> Result<bool, String> {
    let at = now(s);
    let percent = percent.clamp(0, 100);
    match finish(s, plan, |f| {
        f.properties.insert("progress".into(), percent.into());
        f.properties.insert("heartbeat".into(), at.into());
    })
    .await
    {
        Ok(()) => Ok(true),
        Err(Stop::Abandoned) => Ok(false),
        Err(Stop::Failed(e)) => Err(e),
    }
}

/// Changes the row of a running computation by `change`, guarded (again on a row another
/// writer changed meanwhile), with `more` ops in the same transaction. The ids the ops got.
async fn change_row(
    s: &AppState,
    plan: FeatureId,
    change: impl Fn(&mut Feature),
    more: &[Op],
) -> Result<Vec<FeatureId>, Stop> {
    let mut last = String::new();
    for _ in 0..ATTEMPTS {
        let current = s
            .store
            .get(Layer::GridPlans, plan)
            .await
            .map_err(|e| Stop::Failed(format!("the plan could not be read: {e}")))?;
        let Some(mut row) = current else {
            return Err(Stop::Abandoned);
        };
        if row.text("job") != Some(PlanJob::Running.token()) {
            return Err(Stop::Abandoned);
        }
        let guard = Guard {
            layer: Layer::GridPlans,
            id: plan,
            etag: s.store.etag(&row),
        };
        change(&mut row);
        let mut ops = vec![Op::Update(Layer::GridPlans, row)];
        ops.extend(more.iter().cloned());
        match write_guarded(&*s.store, vec![guard], ops).await {
            Ok(ids) => return Ok(ids),
            Err(WriteError::Store(StoreError::Stale { .. })) => last = "changed meanwhile".into(),
            Err(WriteError::Invalid(rejected)) => {
                let why = rejected
                    .iter()
                    .take(3)
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                return Err(Stop::Failed(format!("the plan could not be stored: {why}")));
            }
            Err(e) => {
                tracing::error!(%plan, error = %e, "a plan's row could not be written");
                return Err(Stop::Failed(
                    "the plan could not be written to the store".into(),
                ));
            }
        }
    }
    Err(Stop::Failed(format!(
        "the plan's row kept changing while it was written ({last})"
    )))
}

/// [`change_row`] without further ops.
async fn finish(s: &AppState, plan: FeatureId, change: impl Fn(&mut Feature)) -> Result<(), Stop> {
    change_row(s, plan, change, &[]).await.map(|_| ())
}

/// Writes the grids and the finished row in one transaction; the number of grids.
async fn store_grids(s: &AppState, plan: FeatureId, d: Drawn) -> Result<usize, Stop> {
    let summary = d.summary.to_string();
    let at = now(s);
    let inserts: Vec<Op> = d
        .grids
        .into_iter()
        .map(|g| Op::Insert(Layer::Grids, g))
        .collect();
    let n = inserts.len();
    let ids = change_row(
        s,
        plan,
        |f| {
            f.properties
                .insert("job".into(), PlanJob::Done.token().into());
            f.properties.insert("progress".into(), Value::Integer(100));
            f.properties
                .insert("summary".into(), Value::Text(summary.clone()));
            f.properties.insert("heartbeat".into(), at.into());
            f.properties.remove("job_error");
        },
        &inserts,
    )
    .await?;
    follow(s, Layer::GridPlans, vec![plan]).await;
    follow(s, Layer::Grids, ids.into_iter().skip(1).collect()).await;
    Ok(n)
}
