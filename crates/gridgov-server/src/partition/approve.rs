//! Approving a plan and putting it in force.
//!
//! A draft whose grids are drawn is approved with the day it takes effect. When that day has
//! come, the plan becomes effective in one transaction ([`activation`]):
//! - the plan: `effective`, with its effective and approval dates;
//! - the plans in force in its area become history: one whose area lies within the plan's
//!   (the same village or township, or a village of the plan's township) is `superseded`
//!   whole; one that covers more (the township's plan, when a village is re-planned) keeps its
//!   other villages in force, and its grids in the plan's area move to a new `superseded` plan
//!   row of the area, named after it, so that they stay as history;
//! - every household of the area gets the code of the plan's grid that holds it (by point in
//!   polygon, as lookups decide), or none when no grid holds it.
//!
//! Every row the transaction changes was read first and is guarded by its tag: two approvals
//! in one area cannot both take effect (the second finds the grids in force changed, 409).
//! Plans approved for a later day are put in force by [`activate_due`], which the server's
//! periodic sweep runs.

use chrono::NaiveDate;
use gridgov_model::vocab::PlanStatus;
use gridgov_model::{DivisionCode, Feature, FeatureId, Layer, Value};
use gridgov_store::scope::{within, RowScope};
use gridgov_store::{
    write_guarded, AuditAction, AuditResult, Guard, Op, Query, StoreError, WriteError,
};
use serde_json::{json, Value as Json};

use super::compare::Holder;
use super::{plan_of, plans_in_force, record, under};
use crate::items::follow;
use crate::{audit, ApiError, AppState};

/// Why a plan cannot be approved now (`None`: it can): only a draft whose grids are drawn.
pub fn refusal(plan: &Feature, now: chrono::DateTime<chrono::Utc>) -> Option<String> {
    record::not_a_drawn_draft(plan, now, "approved")
}

/// What is in force where a plan takes effect, as read before the transaction.
#[derive(Debug, Clone)]
pub struct InForce {
    /// The plan to put in force.
    pub plan: Feature,
    /// The name of its area (a village or township).
    pub area_name: String,
    /// The plan's grids.
    pub grids: Vec<Feature>,
    /// The other plans in force in the area, each with its grids in the area.
    pub plans: Vec<(Feature, Vec<Feature>)>,
    /// The households of the area.
    pub households: Vec<Feature>,
}

impl InForce {
    /// How many history rows the activation makes (ids to reserve).
    pub fn history_rows(&self) -> usize {
        let area = self.plan.division;
        self.plans
            .iter()
            .filter(|(q, grids)| !area.contains(&q.division) && !grids.is_empty())
            .count()
    }
}

/// The batch that puts a plan in force, and the rows it must find unchanged.
#[derive(Debug, Clone)]
pub struct Activation {
    /// The changes, for one transaction.
    pub ops: Vec<Op>,
    /// The stored rows the changes replace (their tags guard the transaction).
    pub guarded: Vec<(Layer, Feature)>,
    /// What it did: `{households_regridded, superseded: [ids], history: [{plan, from, grids}]}`.
    pub report: Json,
}

fn set(f: &mut Feature, field: &str, value: impl Into<Value>) {
    f.properties.insert(field.to_owned(), value.into());
}

/// The batch putting `now.plan` in force from `effective_from`, approved on `today` (unless it
/// was approved before); `history` are reserved ids of `grid_plans` for the history rows
/// ([`InForce::history_rows`] of them).
pub fn activation(
    now: &InForce,
    effective_from: NaiveDate,
    today: NaiveDate,
    history: &[FeatureId],
) -> Activation {
    let area: DivisionCode = now.plan.division;
    let plan_id = record::id(&now.plan);
    let mut ops = Vec::new();
    let mut guarded = vec![(Layer::GridPlans, now.plan.clone())];
    let mut p = now.plan.clone();
    set(&mut p, "status", PlanStatus::Effective.token());
    set(&mut p, "effective_from", effective_from);
    if p.get("approved_on").is_none() {
        set(&mut p, "approved_on", today);
    }
    ops.push(Op::Update(Layer::GridPlans, p));
    let mut superseded = Vec::new();
    let mut rows = Vec::new();
    let mut ids = history.iter().copied();
    for (q, grids) in &now.plans {
        let qid = record::id(q);
        if area.contains(&q.division) {
            guarded.push((Layer::GridPlans, q.clone()));
            let mut q2 = q.clone();
            set(&mut q2, "status", PlanStatus::Superseded.token());
            ops.push(Op::Update(Layer::GridPlans, q2));
            superseded.push(qid.0);
            continue;
        }
        if grids.is_empty() {
            continue;
        }
        let Some(rid) = ids.next() else { continue };
        let mut r = Feature::new(area, None)
            .with(
                "name",
                format!(
                    "{}（{}部分，被方案{plan_id}取代）",
                    q.text("name").unwrap_or_default(),
                    now.area_name
                ),
            )
            .with("status", PlanStatus::Superseded.token())
            .with(
                "note",
                format!(
                    "方案{qid}在{}的网格，方案{plan_id}于{effective_from}生效时转为历史",
                    now.area_name
                ),
            );
        for field in ["created_on", "effective_from", "approved_on"] {
            if let Some(v) = q.get(field) {
                set(&mut r, field, v.clone());
            }
        }
        if r.get("created_on").is_none() {
            set(&mut r, "created_on", today);
        }
        r.id = Some(rid);
        ops.push(Op::Insert(Layer::GridPlans, r));
        for g in grids {
            guarded.push((Layer::Grids, g.clone()));
            let mut g2 = g.clone();
            set(&mut g2, "plan_id", rid.0);
            ops.push(Op::Update(Layer::Grids, g2));
        }
        rows.push(json!({"plan": rid.0, "from": qid.0, "grids": grids.len()}));
    }
    let holder = Holder::new(&now.grids);
    let mut regridded = 0_u64;
    for h in &now.households {
        let Some(geo::Geometry::Point(p)) = h.geometry else {
            continue;
        };
        let code = holder.code(p);
        if h.text("grid_code") == code {
            continue;
        }
        let mut h2 = h.clone();
        match code {
            Some(c) => set(&mut h2, "grid_code", c),
            None => {
                h2.properties.remove("grid_code");
            }
        }
        ops.push(Op::Update(Layer::Households, h2));
        regridded += 1;
    }
    Activation {
        ops,
        guarded,
        report: json!({
            "households_regridded": regridded,
            "superseded": superseded,
            "history": rows,
        }),
    }
}

/// Reads what is in force in the plan's area.
async fn in_force(s: &AppState, plan: Feature) -> Result<InForce, ApiError> {
    let area = plan.division;
    let me = record::id(&plan).0;
    let all = s.store.query(Layer::Grids, &under(area)).await?;
    let grids: Vec<Feature> = all
        .iter()
        .filter(|g| plan_of(g) == Some(me))
        .cloned()
        .collect();
    if grids.is_empty() {
        return Err(ApiError::Conflict(format!(
            "plan {me} has no grids to put in force"
        )));
    }
    let plans = plans_in_force(&*s.store, area)
        .await?
        .into_iter()
        .filter(|q| q.id.map(|i| i.0) != Some(me))
        .map(|q| {
            let qid = q.id.map(|i| i.0);
            let of_q = all.iter().filter(|g| plan_of(g) == qid).cloned().collect();
            (q, of_q)
        })
        .collect();
    Ok(InForce {
        area_name: super::area_name(&*s.store, area).await?,
        households: s.store.query(Layer::Households, &under(area)).await?,
        plan,
        grids,
        plans,
    })
}

fn conflict(e: WriteError) -> ApiError {
    match e {
        WriteError::Store(StoreError::Stale { .. } | StoreError::NotFound { .. }) => {
            ApiError::Conflict(
                "the plan or the grids in force in its area changed meanwhile; read the plan again and retry"
                    .into(),
            )
        }
        other => other.into(),
    }
}

/// Puts a plan in force now, from `effective_from` (its own when `None`); returns what it did.
pub async fn activate(
    s: &AppState,
    plan: Feature,
    effective_from: Option<NaiveDate>,
) -> Result<Json, ApiError> {
    let today = s.disputes.now().date_naive();
    let from = effective_from
        .or_else(|| plan.get("effective_from").and_then(Value::as_date))
        .unwrap_or(today);
    let id = record::id(&plan);
    let now = in_force(s, plan).await?;
    let history = match now.history_rows() {
        0 => Vec::new(),
        n => {
            s.store
                .reserve_ids(Layer::GridPlans, u32::try_from(n).unwrap_or(u32::MAX))
                .await?
        }
    };
    let act = activation(&now, from, today, &history);
    let guards = act
        .guarded
        .iter()
        .filter_map(|(layer, f)| {
            Some(Guard {
                layer: *layer,
                id: f.id?,
                etag: s.store.etag(f),
            })
        })
        .collect();
    let ids = write_guarded(&*s.store, guards, act.ops.clone())
        .await
        .map_err(conflict)?;
    let touched = |layer: Layer| -> Vec<FeatureId> {
        act.ops
            .iter()
            .zip(&ids)
            .filter(|(op, _)| op.layer() == layer)
            .map(|(_, id)| *id)
            .collect()
    };
    follow(s, Layer::GridPlans, touched(Layer::GridPlans)).await;
    follow(s, Layer::Grids, touched(Layer::Grids)).await;
    let mut report = act.report;
    report["plan"] = id.0.into();
    report["effective_from"] = from.to_string().into();
    Ok(report)
}

/// Approves a plan from `effective_from`: in force at once when the day has come
/// ([`activate`]), else `approved` until [`activate_due`] finds its day. Returns what it did.
pub async fn approve(
    s: &AppState,
    plan: Feature,
    effective_from: NaiveDate,
) -> Result<Json, ApiError> {
    let today = s.disputes.now().date_naive();
    if effective_from <= today {
        let mut report = activate(s, plan, Some(effective_from)).await?;
        report["effective"] = true.into();
        return Ok(report);
    }
    let guard = Guard {
        layer: Layer::GridPlans,
        id: record::id(&plan),
        etag: s.store.etag(&plan),
    };
    let mut p = plan;
    set(&mut p, "status", PlanStatus::Approved.token());
    set(&mut p, "effective_from", effective_from);
    set(&mut p, "approved_on", today);
    let id = record::id(&p);
    write_guarded(
        &*s.store,
        vec![guard],
        vec![Op::Update(Layer::GridPlans, p)],
    )
    .await
    .map_err(conflict)?;
    follow(s, Layer::GridPlans, vec![id]).await;
    Ok(json!({"plan": id.0, "effective": false, "effective_from": effective_from.to_string()}))
}

/// Puts in force every approved plan of the store whose day has come (as the system, over
/// every row), oldest day first; a plan that cannot be put in force now is logged and tried on
/// the next sweep. Returns the plans put in force.
pub async fn activate_due(s: &AppState) -> Result<Vec<FeatureId>, ApiError> {
    within(RowScope::All, async {
        let today = s.disputes.now().date_naive();
        let mut due: Vec<(NaiveDate, Feature)> = s
            .store
            .query(Layer::GridPlans, &Query::default())
            .await?
            .into_iter()
            .filter(|p| record::status(p) == Some(PlanStatus::Approved))
            .filter_map(|p| {
                let day = p.get("effective_from").and_then(Value::as_date)?;
                (day <= today).then_some((day, p))
            })
            .collect();
        due.sort_by_key(|(day, p)| (*day, p.id));
        let mut done = Vec::new();
        for (_, plan) in due {
            let id = record::id(&plan);
            match activate(s, plan, None).await {
                Ok(report) => {
                    done.push(id);
                    if audit::record(
                        s,
                        gridgov_disputes::workflow::SYSTEM,
                        audit::Source(None),
                        AuditAction::Update,
                        format!("{}/{id}/activate", Layer::GridPlans.name()),
                        AuditResult::Ok,
                        &report,
                    )
                    .await
                    .is_err()
                    {
                        tracing::error!(%id, "a plan put in force is missing from the audit log");
                    }
                }
                Err(e) => tracing::warn!(%id, error = %e, "an approved plan could not be put in force; retrying later"),
            }
        }
        Ok::<_, ApiError>(done)
    })
    .await
}
