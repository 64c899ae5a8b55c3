//! `/api/v1/disputes`: the mediation workflow (report, accept, mediate, resolve or fail,
//! escalate, a leader for backlog cases), each case with its history; deadline escalation;
//! the ledger (台账) and statistics. The rules are `gridgov-disputes`'; this module reads the
//! cases from the store, runs them, and writes the case and its new step in one guarded batch.

use std::sync::Arc;

use axum::body::Bytes;
use std::collections::HashMap;

use axum::extract::{Path, Query as QueryParams, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Datelike, Utc};
use gridgov_disputes::case::{split_parties, Case, Step};
use gridgov_disputes::deadline::Deadlines;
use gridgov_disputes::export;
use gridgov_disputes::ledger::Ledger;
use gridgov_disputes::stats::{Grouping, Window};
use gridgov_disputes::workflow::{self, Command, Report, WorkflowError};
use gridgov_model::vocab::{DisputeAction, DisputeCategory, DisputeChannel};
use gridgov_model::{DivisionCode, Feature, FeatureId, GridCode, Layer, ValidationError, Value};
use gridgov_store::scope::{within, RowScope};
use gridgov_store::{write, write_guarded, AuditAction, AuditResult, Guard, Op, Query, Store};
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::{Access, Narrowed};
use crate::auth::Principal;
use crate::items::{changed, follow, json_body, parse_id, precondition, written};
use crate::openapi::Problem;
use crate::{audit, hotspots, lookup, ApiError, AppState};

/// The time the workflow stamps steps with and compares deadlines to.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The dispute workflow's settings.
#[derive(Clone)]
pub struct Settings {
    /// Days per level and category.
    pub deadlines: Arc<Deadlines>,
    /// Now (the system clock; tests set their own).
    pub clock: Clock,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            deadlines: Arc::new(Deadlines::default()),
            clock: Arc::new(Utc::now),
        }
    }
}

impl Settings {
    /// The current instant by this clock.
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }
}

/// The dispute workflow routes.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(report_dispute))
        .routes(routes!(get_case))
        .routes(routes!(take_step))
        .routes(routes!(escalations))
        .routes(routes!(deadlines))
        .routes(routes!(ledger))
        .routes(routes!(statistics))
}

const JSON_TYPES: &[&str] = &["application/json"];

/// What a grid worker reports (`POST /api/v1/disputes`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    /// Longitude of the place.
    pub lon: f64,
    /// Latitude of the place.
    pub lat: f64,
    /// The coordinate system of `lon`/`lat`, required as in the lookup API (a GCJ-02 point
    /// taken as WGS84 lands hundreds of metres off): `wgs84`, `gcj02` or `bd09`.
    pub crs: Option<String>,
    /// A dispute category token or Chinese term (see the glossary).
    pub category: String,
    /// A mediation channel (default `people`, 人民调解).
    pub channel: Option<String>,
    /// The parties' names: a list, or one text separated by `；`, `、` or commas.
    #[schema(value_type = Object)]
    pub parties: Option<serde_json::Value>,
    /// What happened.
    pub description: Option<String>,
    /// A note for the case history.
    pub note: Option<String>,
}

/// A step on a case (`POST /api/v1/disputes/{id}/steps`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    /// `accept`, `mediate`, `resolve`, `fail`, `escalate` or `assign_leader`.
    pub action: String,
    /// A note for the history (`fail` needs one: why mediation failed).
    pub note: Option<String>,
    /// With `assign_leader`: the responsible leader (包案领导).
    pub leader: Option<String>,
    /// With `assign_leader`: the plan (一案一策).
    pub plan: Option<String>,
}

fn unprocessable(field: &str, reason: impl Into<String>) -> ApiError {
    ApiError::Unprocessable(vec![ValidationError::new(field, reason.into())])
}

fn token<T: std::str::FromStr<Err = gridgov_model::vocab::UnknownToken>>(
    field: &str,
    text: &str,
) -> Result<T, ApiError> {
    text.trim()
        .parse()
        .map_err(|e: gridgov_model::vocab::UnknownToken| unprocessable(field, e.to_string()))
}

fn parties_of(v: Option<&serde_json::Value>) -> Result<Vec<String>, ApiError> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(serde_json::Value::String(s)) => Ok(split_parties(s)),
        Some(serde_json::Value::Array(list)) => list
            .iter()
            .map(|p| {
                p.as_str()
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .ok_or_else(|| unprocessable("parties", "each party is a non-empty name"))
            })
            .collect(),
        Some(_) => Err(unprocessable(
            "parties",
            "a list of names, or one text of names separated by '；'",
        )),
    }
}

/// The case of a stored dispute with its history, if the user's scope holds it.
async fn load(s: &AppState, access: &Access, id: FeatureId) -> Result<(Feature, Case), ApiError> {
    let feature = s
        .store
        .get(Layer::Disputes, id)
        .await?
        .filter(|f| access.admits(f))
        .ok_or_else(|| ApiError::NotFound(format!("there is no dispute {id} in your scope")))?;
    let case = Case::from_feature(&feature)
        .map_err(|e| ApiError::Internal(format!("stored dispute is malformed: {e}")))?;
    let steps = history(&*s.store, &feature).await?;
    let case = case
        .with_steps(&steps)
        .map_err(|e| ApiError::Internal(format!("stored dispute step is malformed: {e}")))?;
    Ok((feature, case))
}

/// The `dispute_steps` of a dispute (read by its village, then picked by id).
async fn history(store: &dyn Store, dispute: &Feature) -> Result<Vec<Feature>, ApiError> {
    let q = Query {
        division: Some(dispute.division),
        ..Query::default()
    };
    let me = dispute.id.map(|i| i.0);
    Ok(store
        .query(Layer::DisputeSteps, &q)
        .await?
        .into_iter()
        .filter(|f| f.get("dispute_id").and_then(Value::as_i64) == me)
        .collect())
}

/// The actions the user may take on the case now (what a UI offers).
fn allowed(access: &Access, case: &Case) -> Vec<&'static str> {
    if !workflow::may_act(access.role(), case.level) {
        return Vec::new();
    }
    let candidates = [
        Command::Accept,
        Command::Mediate,
        Command::Resolve,
        Command::Fail,
        Command::Escalate,
        Command::AssignLeader {
            leader: "-".into(),
            plan: "-".into(),
        },
    ];
    let now = case
        .steps
        .last()
        .map_or_else(Utc::now, |s| s.at + chrono::Duration::seconds(1));
    candidates
        .into_iter()
        .filter(|c| {
            let mut probe = case.clone();
            workflow::apply(
                &mut probe,
                c.clone(),
                Some("-"),
                "-",
                now,
                &Deadlines::default(),
            )
            .is_ok()
        })
        .map(|c| c.action().token())
        .collect()
}

/// The case as JSON: the GeoJSON feature (masked for the role) with its history and the
/// actions the user may take; `ETag` of the dispute.
fn case_response(
    status: StatusCode,
    s: &AppState,
    access: &Access,
    feature: Feature,
    case: &Case,
) -> Response {
    let etag = s.store.etag(&feature);
    let id = feature.id.unwrap_or(FeatureId(0));
    let mut body = access.mask(Layer::Disputes, feature).to_geojson();
    let steps: Vec<serde_json::Value> = case
        .steps
        .iter()
        .map(|step| {
            let f = access.mask(Layer::DisputeSteps, step.to_feature(id, case.village));
            json!({
                "at": step.at.to_rfc3339(),
                "actor": step.actor,
                "action": step.action.token(),
                "action_zh": step.action.zh(),
                "status": step.status.token(),
                "level": step.level.token(),
                "note": f.text("note"),
            })
        })
        .collect();
    let today = s.disputes.now().date_naive();
    if let Some(obj) = body.as_object_mut() {
        obj.insert("history".into(), steps.into());
        obj.insert("allowed_actions".into(), allowed(access, case).into());
        obj.insert("overdue".into(), case.is_overdue(today).into());
        obj.insert(
            "backlog".into(),
            gridgov_disputes::ledger::is_backlog(case, today).into(),
        );
    }
    let mut r = (
        status,
        [(header::CONTENT_TYPE, "application/geo+json")],
        body.to_string(),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

/// `POST /api/v1/disputes`: a grid worker reports a dispute at a point; it is assigned to the
/// village and the grid (of the plan in force) that contain it, opens at the village with the
/// village's deadline, and its history starts with the report. `201` with `Location`.
#[utoipa::path(post, path = "/api/v1/disputes", tag = "disputes",
    request_body(content = ReportBody, content_type = "application/json"),
    responses(
        (status = 201, description = "Reported: the case with its history; its address in `Location`, its tag in `ETag`", content_type = "application/geo+json", body = Object,
            headers(("ETag" = String), ("Location" = String))),
        (status = 400, description = "The body is not JSON", content_type = "application/problem+json", body = Problem),
        (status = 403, description = "The role does not report disputes", content_type = "application/problem+json", body = Problem),
        (status = 415, description = "The body is not JSON", content_type = "application/problem+json", body = Problem),
        (status = 422, description = "A field at fault (unknown category, a point outside the county or the scope)", content_type = "application/problem+json", body = Problem)))]
pub async fn report_dispute(
    State(s): State<AppState>,
    who: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let access = Access::of(&who, &s)?;
    access.write(Layer::Disputes)?;
    if !workflow::reports(access.role()) {
        return Err(ApiError::Forbidden(format!(
            "a {} ({}) does not report disputes",
            access.role(),
            access.role().zh()
        )));
    }
    let json = json_body(&headers, &body, JSON_TYPES)?;
    let b: ReportBody = serde_json::from_value(json)
        .map_err(|e| ApiError::Unprocessable(vec![ValidationError::new("body", e.to_string())]))?;
    let crs = lookup::parse_crs(b.crs.as_deref())?;
    gridgov_model::crs::lon_lat(b.lon, b.lat)
        .map_err(|e| unprocessable("lon/lat", e.to_string()))?;
    let category: DisputeCategory = token("category", &b.category)?;
    let channel: DisputeChannel = match &b.channel {
        Some(c) => token("channel", c)?,
        None => DisputeChannel::People,
    };
    let parties = parties_of(b.parties.as_ref())?;
    let (village, grid, point) = {
        let index = s.index.read();
        let found = index
            .lookup_where(crs, b.lon, b.lat, &access)
            .ok_or_else(|| {
                unprocessable(
                    "lon/lat",
                    format!(
                        "({}, {}) in {} lies in no village of the county within your scope ({})",
                        b.lon,
                        b.lat,
                        crs.token(),
                        access.scope()
                    ),
                )
            })?;
        let village = found
            .village
            .map(|v| v.division)
            .ok_or_else(|| unprocessable("lon/lat", "the point lies in no village"))?;
        let grid: Option<GridCode> = found
            .grid
            .and_then(|g| g.text("code"))
            .and_then(|c| c.parse().ok());
        (village, grid, found.point)
    };
    let report = Report {
        village,
        grid,
        location: geo::Point(point),
        category,
        channel,
        parties,
        description: b.description,
        note: b.note,
    };
    let actor = who.user.name.as_str().to_owned();
    let case = workflow::report(report, &actor, s.disputes.now(), &s.disputes.deadlines);
    let id = *s
        .store
        .reserve_ids(Layer::Disputes, 1)
        .await?
        .first()
        .ok_or_else(|| ApiError::Internal("no id reserved".into()))?;
    let mut f = Feature::new(case.village, case.location.map(geo::Geometry::Point));
    f.id = Some(id);
    case.write_to(&mut f);
    if !access.admits(&f) {
        return Err(unprocessable(
            "lon/lat",
            format!("the point lies outside your scope ({})", access.scope()),
        ));
    }
    let mut ops = vec![Op::Insert(Layer::Disputes, f)];
    ops.extend(
        case.steps
            .iter()
            .map(|st| Op::Insert(Layer::DisputeSteps, st.to_feature(id, case.village))),
    );
    let done = write(&*s.store, ops).await;
    changed(
        &s,
        &who,
        AuditAction::Create,
        Layer::Disputes,
        Some(id),
        &done,
    )
    .await;
    done?;
    follow(&s, Layer::Disputes, vec![id]).await;
    let (feature, case) = load(&s, &access, id).await?;
    let mut r = case_response(StatusCode::CREATED, &s, &access, feature, &case);
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/disputes/{id}")) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

/// `GET /api/v1/disputes/{id}`: the case with its history, whether it is overdue or a backlog
/// case, and the actions the user may take now.
#[utoipa::path(get, path = "/api/v1/disputes/{id}", tag = "disputes",
    params(("id" = i64, Path, description = "The dispute's id")),
    responses(
        (status = 200, description = "The case: a GeoJSON Feature with `history`, `allowed_actions`, `overdue`, `backlog`", content_type = "application/geo+json", body = Object,
            headers(("ETag" = String))),
        (status = 404, description = "No such dispute in the user's scope", content_type = "application/problem+json", body = Problem)))]
pub async fn get_case(
    State(s): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let access = Access::of(&who, &s)?;
    access.read(Layer::Disputes)?;
    access.read(Layer::DisputeSteps)?;
    let id = parse_id(&id)?;
    let (feature, case) = load(&s, &access, id).await?;
    Ok(case_response(StatusCode::OK, &s, &access, feature, &case))
}

fn command(b: StepBody) -> Result<(Command, Option<String>), ApiError> {
    let action: DisputeAction = token("action", &b.action)?;
    let cmd = match action {
        DisputeAction::Accept => Command::Accept,
        DisputeAction::Mediate => Command::Mediate,
        DisputeAction::Resolve => Command::Resolve,
        DisputeAction::Fail => Command::Fail,
        DisputeAction::Escalate => Command::Escalate,
        DisputeAction::AssignLeader => Command::AssignLeader {
            leader: b.leader.unwrap_or_default(),
            plan: b.plan.unwrap_or_default(),
        },
        DisputeAction::Report | DisputeAction::EscalateOverdue => {
            return Err(unprocessable(
                "action",
                format!(
                    "'{}' is not taken on a case by hand; actions: accept, mediate, resolve, fail, escalate, assign_leader",
                    action.token()
                ),
            ))
        }
    };
    Ok((cmd, b.note))
}

/// `POST /api/v1/disputes/{id}/steps`: takes one step on a case; needs `If-Match` with the
/// case's `ETag`. The case and its new history step are written in one transaction.
#[utoipa::path(post, path = "/api/v1/disputes/{id}/steps", tag = "disputes",
    params(("id" = i64, Path, description = "The dispute's id"), ("If-Match" = String, Header, description = "The `ETag` the case was read with")),
    request_body(content = StepBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The case after the step", content_type = "application/geo+json", body = Object, headers(("ETag" = String))),
        (status = 403, description = "The user's level does not act on cases held at the case's level", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "No such dispute in the user's scope", content_type = "application/problem+json", body = Problem),
        (status = 409, description = "The action does not apply to the case as it stands (the current state is named)", content_type = "application/problem+json", body = Problem),
        (status = 412, description = "The case changed since it was read", content_type = "application/problem+json", body = Problem),
        (status = 422, description = "An unknown action, or a missing note, leader or plan", content_type = "application/problem+json", body = Problem),
        (status = 428, description = "`If-Match` is missing", content_type = "application/problem+json", body = Problem)))]
pub async fn take_step(
    State(s): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let access = Access::of(&who, &s)?;
    access.write(Layer::Disputes)?;
    let id = parse_id(&id)?;
    let json = json_body(&headers, &body, JSON_TYPES)?;
    let b: StepBody = serde_json::from_value(json)
        .map_err(|e| ApiError::Unprocessable(vec![ValidationError::new("body", e.to_string())]))?;
    let (cmd, note) = command(b)?;
    let (current, guard) = precondition(&s, &access, Layer::Disputes, id, &headers).await?;
    let (_, mut case) = load(&s, &access, id).await?;
    if !workflow::may_act(access.role(), case.level) {
        return Err(ApiError::Forbidden(format!(
            "the case is held at the {} level; a {} ({}) does not act on it",
            case.level,
            access.role(),
            access.role().zh()
        )));
    }
    let actor = who.user.name.as_str().to_owned();
    let before = case.steps.len();
    workflow::apply(
        &mut case,
        cmd,
        note.as_deref(),
        &actor,
        s.disputes.now(),
        &s.disputes.deadlines,
    )
    .map_err(|e| match e {
        WorkflowError::State { .. } => ApiError::Conflict(e.to_string()),
        WorkflowError::Missing { field, reason } => unprocessable(field, reason),
    })?;
    let mut f = current;
    case.write_to(&mut f);
    let mut ops = vec![Op::Update(Layer::Disputes, f)];
    ops.extend(
        case.steps[before..]
            .iter()
            .map(|st| Op::Insert(Layer::DisputeSteps, st.to_feature(id, case.village))),
    );
    let done = write_guarded(&*s.store, vec![guard], ops).await;
    changed(
        &s,
        &who,
        AuditAction::Update,
        Layer::Disputes,
        Some(id),
        &done,
    )
    .await;
    done?;
    follow(&s, Layer::Disputes, vec![id]).await;
    let feature = written(&s, Layer::Disputes, id).await?;
    Ok(case_response(StatusCode::OK, &s, &access, feature, &case))
}

/// Escalates every case (in the current row scope, further cut by `access` when given) whose
/// level's deadline passed, as the system. A case another writer changed meanwhile is left for
/// the next sweep. Returns the escalated ids.
///
/// # Errors
/// The store's.
pub async fn sweep(s: &AppState, access: Option<&Access>) -> Result<Vec<FeatureId>, ApiError> {
    let now = s.disputes.now();
    let q = Query::default();
    let features = match access {
        Some(a) => a.page(&*s.store, Layer::Disputes, q, false).await?.1,
        None => s.store.query(Layer::Disputes, &q).await?,
    };
    let mut escalated = Vec::new();
    for f in features {
        let Some(id) = f.id else { continue };
        let Ok(mut case) = Case::from_feature(&f) else {
            tracing::warn!(%id, "a stored dispute is malformed; the deadline sweep skips it");
            continue;
        };
        if !workflow::escalate_overdue(&mut case, now, &s.disputes.deadlines) {
            continue;
        }
        let guard = Guard {
            layer: Layer::Disputes,
            id,
            etag: s.store.etag(&f),
        };
        let mut g = f.clone();
        case.write_to(&mut g);
        let mut ops = vec![Op::Update(Layer::Disputes, g)];
        ops.extend(
            case.steps
                .iter()
                .map(|st: &Step| Op::Insert(Layer::DisputeSteps, st.to_feature(id, case.village))),
        );
        match write_guarded(&*s.store, vec![guard], ops).await {
            Ok(_) => escalated.push(id),
            Err(gridgov_store::WriteError::Store(gridgov_store::StoreError::Stale { .. })) => {}
            Err(e) => tracing::warn!(%id, error = %e, "deadline escalation failed"),
        }
    }
    if !escalated.is_empty() {
        follow(s, Layer::Disputes, escalated.clone()).await;
        let detail = json!({ "ids": escalated.iter().map(|i| i.0).collect::<Vec<_>>() });
        if audit::record(
            s,
            workflow::SYSTEM,
            audit::Source(None),
            AuditAction::Update,
            "disputes/escalate_overdue".into(),
            AuditResult::Ok,
            &detail,
        )
        .await
        .is_err()
        {
            tracing::error!("deadline escalations are missing from the audit log");
        }
    }
    Ok(escalated)
}

/// Runs the deadline sweep over every case of the store now and then every `every` (first
/// run at once), as the system, until the runtime stops. Several servers on one database may
/// all run it: an escalation is a guarded write, and a server that finds the case already
/// changed leaves it. Each run then puts in force the grid plans approved for a day that has
/// come ([`crate::partition::approve::activate_due`], guarded writes too).
pub fn spawn_sweeper(state: AppState, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match within(RowScope::All, sweep(&state, None)).await {
                Ok(ids) if !ids.is_empty() => {
                    tracing::info!(count = ids.len(), "escalated disputes past their deadline");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "the deadline sweep failed; retrying later"),
            }
            match crate::partition::approve::activate_due(&state).await {
                Ok(ids) if !ids.is_empty() => {
                    tracing::info!(count = ids.len(), "put approved grid plans in force");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "plans not put in force; retrying later"),
            }
        }
    })
}

/// `POST /api/v1/disputes/escalations`: runs the deadline sweep now over the user's scope
/// (the server also runs it by itself, see `gridgov serve --escalation-minutes`); answers the
/// escalated ids.
#[utoipa::path(post, path = "/api/v1/disputes/escalations", tag = "disputes",
    responses(
        (status = 200, description = "`{escalated: [ids]}`", body = Object),
        (status = 403, description = "Only officers who act on cases run the sweep", content_type = "application/problem+json", body = Problem)))]
pub async fn escalations(
    State(s): State<AppState>,
    who: Principal,
) -> Result<Json<serde_json::Value>, ApiError> {
    let access = Access::of(&who, &s)?;
    access.write(Layer::Disputes)?;
    if workflow::acts_at(access.role()).is_none() {
        return Err(ApiError::Forbidden(format!(
            "a {} ({}) does not act on cases",
            access.role(),
            access.role().zh()
        )));
    }
    let ids = sweep(&s, Some(&access)).await?;
    Ok(Json(
        json!({ "escalated": ids.iter().map(|i| i.0).collect::<Vec<_>>() }),
    ))
}

/// `GET /api/v1/disputes/deadlines`: the days each level has, per category.
#[utoipa::path(get, path = "/api/v1/disputes/deadlines", tag = "disputes",
    responses((status = 200, description = "`{default: {village, township, county}, categories: {token: {…}}}` in days", body = Object)))]
pub async fn deadlines(
    State(s): State<AppState>,
    _who: Principal,
) -> Result<Json<serde_json::Value>, ApiError> {
    serde_json::to_value(&*s.disputes.deadlines)
        .map(Json)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// The cases of `division` (narrowed to the user's scope) with their histories, personal
/// fields masked as the role sees them.
async fn cases_in(
    s: &AppState,
    access: &Access,
    division: Option<DivisionCode>,
) -> Result<Vec<Case>, ApiError> {
    let q = Query {
        division,
        ..Query::default()
    };
    let (_, disputes) = access
        .page(&*s.store, Layer::Disputes, q.clone(), false)
        .await?;
    let (_, steps) = access
        .page(&*s.store, Layer::DisputeSteps, q, false)
        .await?;
    let mut by_case: HashMap<i64, Vec<Feature>> = HashMap::new();
    for st in steps {
        if let Some(id) = st.get("dispute_id").and_then(Value::as_i64) {
            by_case
                .entry(id)
                .or_default()
                .push(access.mask(Layer::DisputeSteps, st));
        }
    }
    let mut out = Vec::with_capacity(disputes.len());
    for f in disputes {
        let f = access.mask(Layer::Disputes, f);
        let steps =
            f.id.and_then(|id| by_case.remove(&id.0))
                .unwrap_or_default();
        match Case::from_feature(&f).and_then(|c| c.with_steps(&steps)) {
            Ok(c) => out.push(c),
            Err(e) => tracing::warn!(error = %e, "a stored dispute is malformed; left out"),
        }
    }
    Ok(out)
}

/// The Chinese names of the county's townships and villages, from the live index.
fn division_names(s: &AppState) -> HashMap<DivisionCode, String> {
    let index = s.index.read();
    let mut names = HashMap::new();
    for layer in [Layer::Counties, Layer::Townships, Layer::Villages] {
        if let Some(l) = index.layer(layer) {
            for f in l.features() {
                if let Some(n) = f.text("name") {
                    names.insert(f.division, n.to_owned());
                }
            }
        }
    }
    names
}

/// `YYYY-MM` as (year, month).
fn parse_month(name: &str, text: &str) -> Result<(i32, u32), ApiError> {
    let bad = || {
        ApiError::BadRequest(format!(
            "parameter '{name}': '{text}' is not a month like 2026-11"
        ))
    };
    let (y, m) = text.trim().split_once('-').ok_or_else(bad)?;
    let year: i32 = y.parse().map_err(|_| bad())?;
    let month: u32 = m.parse().map_err(|_| bad())?;
    if !(1..=12).contains(&month) || !(1900..=9999).contains(&year) {
        return Err(bad());
    }
    Ok((year, month))
}

/// Query parameters of the ledger.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerParams {
    /// The county, township or village (default: the user's scope).
    pub division: Option<String>,
    /// The month, `YYYY-MM` (default: this month).
    pub month: Option<String>,
    /// `json` (default), `csv` or `xlsx`.
    pub format: Option<String>,
}

/// `GET /api/v1/disputes/ledger`: the monthly rolling screening ledger (矛盾纠纷排查化解台账)
/// of a division: every case open at the end of the month (or today), overdue, escalated or
/// closed during it, with the counts; as JSON, CSV (UTF-8 with BOM) or XLSX with Chinese
/// headers. Exports are audited.
#[utoipa::path(get, path = "/api/v1/disputes/ledger", tag = "disputes",
    params(LedgerParams),
    responses(
        (status = 200, description = "The ledger (JSON), or the file (`text/csv`, XLSX) as an attachment", body = Object),
        (status = 400, description = "A malformed parameter (named)", content_type = "application/problem+json", body = Problem),
        (status = 403, description = "The division lies outside the user's scope", content_type = "application/problem+json", body = Problem)))]
pub async fn ledger(
    State(s): State<AppState>,
    who: Principal,
    QueryParams(p): QueryParams<LedgerParams>,
) -> Result<Response, ApiError> {
    let access = Access::of(&who, &s)?;
    access.read(Layer::Disputes)?;
    let today = s.disputes.now().date_naive();
    let (year, month) = match p.month.as_deref() {
        Some(m) => parse_month("month", m)?,
        None => (today.year(), today.month()),
    };
    let requested = crate::parse_division(p.division.as_deref())?;
    let division = access.division_to_list(requested)?;
    let format = p.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "csv" | "xlsx") {
        return Err(ApiError::BadRequest(format!(
            "parameter 'format': '{format}'; formats: json, csv, xlsx"
        )));
    }
    let cases = cases_in(&s, &access, Some(division)).await?;
    let names = division_names(&s);
    let ledger = Ledger::build(&cases, division, year, month, today, &|c| {
        names.get(c).cloned()
    })
    .map_err(|e| ApiError::BadRequest(format!("parameter 'month': {e}")))?;
    let detail = json!({
        "division": division.as_str(), "month": format!("{year}-{month:02}"),
        "format": format, "rows": ledger.rows.len(),
    });
    audit::record_by(
        &s,
        &who,
        AuditAction::Export,
        "disputes/ledger".into(),
        AuditResult::Ok,
        &detail,
    )
    .await?;
    let file = format!("ledger-{}-{year}-{month:02}", division.as_str());
    let attachment = |bytes: Vec<u8>, ct: &'static str, ext: &str| {
        let mut r = ([(header::CONTENT_TYPE, ct)], bytes).into_response();
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}.{ext}\"")) {
            r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
        r
    };
    let internal = |e: gridgov_disputes::export::ExportError| ApiError::Internal(e.to_string());
    Ok(match format {
        "csv" => attachment(
            export::ledger_csv(&ledger).map_err(internal)?,
            "text/csv; charset=utf-8",
            "csv",
        ),
        "xlsx" => attachment(
            export::ledger_xlsx(&ledger).map_err(internal)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        _ => Json(ledger).into_response(),
    })
}

/// Query parameters of the statistics.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatisticsParams {
    /// `township`, `village` (default), `grid` or `month` (the month opened, `YYYY-MM`).
    pub by: Option<String>,
    /// The division counted (default: the user's scope).
    pub division: Option<String>,
    /// Only the cases of this grid (a grid code `<village>-Gnn`; its village must lie in the
    /// division).
    pub grid: Option<String>,
    /// Cases opened from this day or month (`YYYY-MM-DD` or `YYYY-MM`).
    pub from: Option<String>,
    /// Cases opened up to this day or month, inclusive.
    pub to: Option<String>,
}

/// `GET /api/v1/disputes/statistics`: per township, village, grid or month and in total: cases by
/// category and level, the shares settled in the village (小事不出村率) and the township and
/// escalated to the county, the median days to close, overdue cases and repeat disputes.
#[utoipa::path(get, path = "/api/v1/disputes/statistics", tag = "disputes",
    params(StatisticsParams),
    responses(
        (status = 200, description = "`{grouping, window, as_of, groups: [{key, stats}], total}`", body = Object),
        (status = 400, description = "A malformed parameter (named)", content_type = "application/problem+json", body = Problem)))]
pub async fn statistics(
    State(s): State<AppState>,
    who: Principal,
    QueryParams(p): QueryParams<StatisticsParams>,
) -> Result<Json<gridgov_disputes::stats::Statistics>, ApiError> {
    let access = Access::of(&who, &s)?;
    access.read(Layer::Disputes)?;
    let grouping = match p.by.as_deref().unwrap_or("village") {
        "township" => Grouping::Township,
        "village" => Grouping::Village,
        "grid" => Grouping::Grid,
        "month" => Grouping::Month,
        other => {
            return Err(ApiError::BadRequest(format!(
                "parameter 'by': '{other}'; group by township, village, grid or month"
            )))
        }
    };
    let grid = p
        .grid
        .as_deref()
        .map(|g| {
            g.trim().parse::<GridCode>().map_err(|_| {
                ApiError::BadRequest(format!(
                    "parameter 'grid': '{g}' is not a grid code like 520526101201-G01"
                ))
            })
        })
        .transpose()?;
    let window = Window {
        from: p.from.as_deref().map(hotspots::first_day).transpose()?,
        until: p.to.as_deref().map(hotspots::day_after).transpose()?,
    };
    let division = crate::parse_division(p.division.as_deref())?;
    let division = match (division, &grid) {
        (None, Some(g)) => Some(g.village()),
        (Some(d), Some(g)) if !d.contains(&g.village()) => {
            return Err(ApiError::BadRequest(format!(
                "parameter 'grid': {g} does not lie in division {d}"
            )))
        }
        (d, _) => d,
    };
    let cases = match access.narrow(division) {
        Narrowed::Within(d) => cases_in(&s, &access, Some(d)).await?,
        Narrowed::Outside => Vec::new(),
    };
    let today = s.disputes.now().date_naive();
    Ok(Json(gridgov_disputes::stats::statistics_of(
        &cases,
        grouping,
        window,
        today,
        &|c| grid.as_ref().is_none_or(|g| c.grid.as_ref() == Some(g)),
    )))
}

/// Refuses what the generic items API must not do to disputes: create one (it is reported
/// through `POST /api/v1/disputes`), delete one (its history stays), or change where it
/// stands in the workflow (status, level, deadline, dates, leader, plan). Corrections of the
/// place, category, channel, parties and description are allowed.
pub(crate) fn generic_write(
    layer: Layer,
    before: Option<&Feature>,
    after: Option<&Feature>,
) -> Result<(), ApiError> {
    if layer != Layer::Disputes {
        return Ok(());
    }
    match (before, after) {
        (None, _) => Err(ApiError::Conflict(
            "disputes are reported through POST /api/v1/disputes, which assigns the village and grid and starts the case history".into(),
        )),
        (Some(_), None) => Err(ApiError::Conflict(
            "a dispute is not deleted: its case history stays; settle or close it through POST /api/v1/disputes/{id}/steps".into(),
        )),
        (Some(b), Some(a)) => {
            let errors: Vec<ValidationError> = [
                "status",
                "level",
                "opened_on",
                "deadline",
                "closed_on",
                "leader",
                "plan",
                "grid_code",
            ]
            .into_iter()
            .filter(|name| b.get(name) != a.get(name))
            .map(|name| {
                ValidationError::new(
                    name,
                    "changes through the dispute workflow (POST /api/v1/disputes/{id}/steps), not by editing",
                )
            })
            .collect();
            if errors.is_empty() && a.division == b.division {
                Ok(())
            } else if errors.is_empty() {
                Err(unprocessable(
                    "division_code",
                    "a dispute stays with the village it was reported in",
                ))
            } else {
                Err(ApiError::Unprocessable(errors))
            }
        }
    }
}
