//! Background computations whose state lives in a plan's row (partition plans in
//! `grid_plans`, route plans in `route_plans`): the row says the computation is running, its
//! progress (0-100) and heartbeat; any server answers for any plan, and a running computation
//! whose heartbeat is older than [`STALE_AFTER`] is read as failed (its server went away).
//!
//! A computation runs on a blocking thread (`drive`) while the async side writes its progress
//! and heartbeat into the row, at most once a second (`TICK`) and at least every [`HEARTBEAT`]. Every
//! write reads the row first and is guarded by its tag (`change_row`), so a concurrent
//! change of the row (an edit of its name) is not lost: the write is made again on the new row.
//! A row that is gone, or whose computation no longer runs, ends the work without a write.

use std::time::{Duration, Instant};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use gridgov_model::vocab::PlanJob;
use gridgov_model::{Feature, FeatureId, Layer, Value};
use gridgov_store::{write_guarded, AuditAction, AuditResult, Guard, Op, StoreError, WriteError};
use serde_json::Value as Json;

use crate::audit::{self, Source};
use crate::AppState;

/// A running computation whose heartbeat is older than this has stopped: the server computing
/// it went away.
pub const STALE_AFTER: TimeDelta = TimeDelta::minutes(2);

/// The longest a running computation goes without writing its heartbeat (well inside
/// [`STALE_AFTER`]).
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// How often progress is looked at (and written when it changed).
const TICK: Duration = Duration::from_secs(1);

/// How often a write is tried again when another writer changed the row meanwhile.
const ATTEMPTS: usize = 5;

/// Who asked for the computation, for the audit log.
#[derive(Debug, Clone)]
pub struct Requester {
    /// The user's name.
    pub name: String,
    /// Where the request came from.
    pub source: Source,
}

/// How a computation ended before its result could be stored.
pub(crate) enum Stop {
    /// It failed, for this reason (shown to the user).
    Failed(String),
    /// The row is gone or no longer running: leave it.
    Abandoned,
}

/// The last heartbeat of a plan's computation.
pub fn heartbeat(plan: &Feature) -> Option<DateTime<Utc>> {
    match plan.get("heartbeat") {
        Some(Value::DateTime(t)) => Some(*t),
        _ => None,
    }
}

/// The state of a plan's computation as of `now`, and why it failed: a running computation
/// without a heartbeat for [`STALE_AFTER`] failed (its server stopped). `None` for a plan that
/// was not computed (an imported plan).
pub fn job(plan: &Feature, now: DateTime<Utc>) -> (Option<PlanJob>, Option<String>) {
    let job: Option<PlanJob> = plan.text("job").and_then(|s| s.parse().ok());
    let error = plan.text("job_error").map(str::to_owned);
    match job {
        Some(PlanJob::Running) => match heartbeat(plan) {
            Some(t) if now - t <= STALE_AFTER => (job, None),
            last => (
                Some(PlanJob::Failed),
                Some(format!(
                    "the server computing it stopped: no heartbeat since {}",
                    last.map_or_else(|| "it started".to_owned(), |t| t.to_rfc3339())
                )),
            ),
        },
        _ => (job, error),
    }
}

/// A stored JSON text field, parsed (`null` when absent or not JSON).
pub fn json_field(plan: &Feature, field: &str) -> Json {
    plan.text(field)
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Json::Null)
}

/// The server's clock, to the millisecond the stores keep.
pub(crate) fn now(s: &AppState) -> DateTime<Utc> {
    let t = s.disputes.now();
    t.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(t)
}

/// Marks a row's computation failed, for `reason`, at `at`.
pub(crate) fn set_failed(f: &mut Feature, reason: &str, at: DateTime<Utc>) {
    f.properties
        .insert("job".into(), PlanJob::Failed.token().into());
    f.properties.insert("job_error".into(), reason.into());
    f.properties.insert("heartbeat".into(), at.into());
}

/// Marks a row's computation done, with its summary, at `at`.
pub(crate) fn set_done(f: &mut Feature, summary: &str, at: DateTime<Utc>) {
    f.properties
        .insert("job".into(), PlanJob::Done.token().into());
    f.properties.insert("progress".into(), Value::Integer(100));
    f.properties
        .insert("summary".into(), Value::Text(summary.to_owned()));
    f.properties.insert("heartbeat".into(), at.into());
    f.properties.remove("job_error");
}

/// Runs `work` on a blocking thread, writing the progress it reports (a share, 0-1) and a
/// heartbeat into row `plan` of `layer` meanwhile. `Stop::Abandoned` when the row went away
/// or stopped running; `Stop::Failed` when the work panicked.
pub(crate) async fn drive<T: Send + 'static>(
    s: &AppState,
    layer: Layer,
    plan: FeatureId,
    work: impl FnOnce(&mut dyn FnMut(f64)) -> T + Send + 'static,
) -> Result<T, Stop> {
    let (tx, rx) = tokio::sync::watch::channel(0_i64);
    let mut task = tokio::task::spawn_blocking(move || {
        let mut progress = |p: f64| {
            // 100 is written with the result.
            let pct = ((p * 100.0).floor() as i64).clamp(0, 99);
            tx.send_if_modified(|v| {
                let changed = *v != pct;
                *v = pct;
                changed
            });
        };
        work(&mut progress)
    });
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut written = (0_i64, Instant::now());
    let ended = loop {
        tokio::select! {
            ended = &mut task => break ended,
            _ = tick.tick() => {
                let p = *rx.borrow();
                if p != written.0 || written.1.elapsed() >= HEARTBEAT {
                    match report_progress(s, layer, plan, p).await {
                        Ok(true) => written = (p, Instant::now()),
                        Ok(false) => return Err(Stop::Abandoned),
                        // Tried again on the next tick; the heartbeat has minutes to spare.
                        Err(e) => {
                            tracing::warn!(%plan, %layer, error = %e, "a computation's progress was not written");
                        }
                    }
                }
            }
        }
    };
    ended.map_err(|e| {
        tracing::error!(%plan, %layer, error = %e, "a computation panicked");
        Stop::Failed("the computation stopped unexpectedly".into())
    })
}

/// Writes the progress (percent) of a running computation and its heartbeat (now, by the
/// server's clock) into row `plan` of `layer`, in the rows of the current scope. `Ok(false)`:
/// the row is gone or its computation no longer runs, and is left alone; an error says why
/// nothing was written.
pub async fn report_progress(
    s: &AppState,
    layer: Layer,
    plan: FeatureId,
    percent: i64,
) -> Result<bool, String> {
    let at = now(s);
    let percent = percent.clamp(0, 100);
    match finish(s, layer, plan, |f| {
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
/// writer changed meanwhile), with `more` ops in the same transaction. The ids the ops got
/// (the row's first).
pub(crate) async fn change_row(
    s: &AppState,
    layer: Layer,
    plan: FeatureId,
    change: impl Fn(&mut Feature),
    more: &[Op],
) -> Result<Vec<FeatureId>, Stop> {
    let mut last = String::new();
    for _ in 0..ATTEMPTS {
        let current = s
            .store
            .get(layer, plan)
            .await
            .map_err(|e| Stop::Failed(format!("the plan could not be read: {e}")))?;
        let Some(mut row) = current else {
            return Err(Stop::Abandoned);
        };
        if row.text("job") != Some(PlanJob::Running.token()) {
            return Err(Stop::Abandoned);
        }
        let guard = Guard {
            layer,
            id: plan,
            etag: s.store.etag(&row),
        };
        change(&mut row);
        let mut ops = vec![Op::Update(layer, row)];
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
                tracing::error!(%plan, %layer, error = %e, "a plan's row could not be written");
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
pub(crate) async fn finish(
    s: &AppState,
    layer: Layer,
    plan: FeatureId,
    change: impl Fn(&mut Feature),
) -> Result<(), Stop> {
    change_row(s, layer, plan, change, &[]).await.map(|_| ())
}

/// Ends a computation: a failure is written into its row, and the end is audited with
/// `detail` (success) or the reason (failure). Nothing is written for an abandoned one.
pub(crate) async fn conclude(
    s: &AppState,
    layer: Layer,
    plan: FeatureId,
    who: &Requester,
    outcome: Result<Json, Stop>,
) {
    let detail = match outcome {
        Ok(detail) => detail,
        Err(Stop::Abandoned) => {
            tracing::info!(%plan, %layer, "a computation was abandoned: its row changed");
            return;
        }
        Err(Stop::Failed(reason)) => {
            match finish(s, layer, plan, |f| set_failed(f, &reason, now(s))).await {
                Ok(()) | Err(Stop::Abandoned) => {}
                Err(Stop::Failed(e)) => {
                    tracing::error!(%plan, %layer, error = %e, "a computation's failure could not be stored");
                }
            }
            serde_json::json!({"job": PlanJob::Failed.token(), "error": reason})
        }
    };
    if audit::record(
        s,
        &who.name,
        who.source,
        AuditAction::Update,
        format!("{}/{plan}", layer.name()),
        AuditResult::Ok,
        &detail,
    )
    .await
    .is_err()
    {
        tracing::error!(%plan, %layer, "a computation's end is missing from the audit log");
    }
}
