//! `/api/v1/partition-plans`: draw a plan (a background computation), read it and its grids,
//! compare it with the grids in force, approve it, export it. Handlers parse, check rights and
//! call the functions of the sibling modules.

use axum::body::Bytes;
use axum::extract::{Path, Query as QueryParams, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use gridgov_model::vocab::PlanJob;
use gridgov_model::{
    DivisionCode, DivisionLevel, Feature, FeatureId, Layer, ValidationError, Value,
};
use gridgov_partition::Scope as Area;
use gridgov_store::{write, AuditAction, AuditResult, Op};
use serde::Deserialize;
use serde_json::{json, Value as JsonValue};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::adjust::{self, Adjustable};
use super::body::{self, PlanBody};
use super::export::{self, Format};
use super::job::{self, Requester};
use super::{approve, compare, effective_grids, plan_of, record, township_of, under};
use crate::access::Access;
use crate::auth::Principal;
use crate::items::{changed, follow, json_body, parse_id, written};
use crate::openapi::Problem;
use crate::{audit, ApiError, AppState};

/// The partition plan routes.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plans, create_plan))
        .routes(routes!(get_plan))
        .routes(routes!(compare_plan))
        .routes(routes!(approve_plan))
        .routes(routes!(plan_units))
        .routes(routes!(move_unit))
        .routes(routes!(export_plan))
}

const JSON_TYPES: &[&str] = &["application/json"];

fn unprocessable(field: &str, reason: impl Into<String>) -> ApiError {
    ApiError::Unprocessable(vec![ValidationError::new(field, reason.into())])
}

/// The area a plan of `code` partitions.
pub(crate) fn area_of(code: DivisionCode) -> Area {
    if code.level() == DivisionLevel::Village {
        Area::Village(code)
    } else {
        Area::Township(code)
    }
}

/// A stored plan the user's scope holds.
async fn plan_in_scope(s: &AppState, access: &Access, id: FeatureId) -> Result<Feature, ApiError> {
    s.store
        .get(Layer::GridPlans, id)
        .await?
        .filter(|f| access.admits(f))
        .ok_or_else(|| ApiError::NotFound(format!("there is no partition plan {id} in your scope")))
}

/// The grids of a plan the user's scope holds.
async fn grids_of(s: &AppState, access: &Access, plan: &Feature) -> Result<Vec<Feature>, ApiError> {
    let me = record::id(plan).0;
    Ok(s.store
        .query(Layer::Grids, &under(plan.division))
        .await?
        .into_iter()
        .filter(|g| plan_of(g) == Some(me) && access.admits(g))
        .map(|g| access.mask(Layer::Grids, g))
        .collect())
}

/// The grids of a plan as stored (unmasked, for writing), those the user's scope holds.
async fn stored_grids(
    s: &AppState,
    access: &Access,
    plan: &Feature,
) -> Result<Vec<Feature>, ApiError> {
    let me = record::id(plan).0;
    Ok(s.store
        .query(Layer::Grids, &under(plan.division))
        .await?
        .into_iter()
        .filter(|g| plan_of(g) == Some(me) && access.admits(g))
        .collect())
}

/// What every change to a plan checks first: the rights to write plans, grids and `also`, the
/// body (a JSON `B`), the plan in the user's scope, and the user's right to draw its area.
async fn change_of<B: serde::de::DeserializeOwned>(
    s: &AppState,
    who: &Principal,
    id: &str,
    headers: &HeaderMap,
    raw: &Bytes,
    also: &[Layer],
) -> Result<(Access, FeatureId, B, Feature), ApiError> {
    let access = Access::of(who, s)?;
    for layer in [Layer::GridPlans, Layer::Grids].iter().chain(also) {
        access.write(*layer)?;
    }
    let id = parse_id(id)?;
    let json = json_body(headers, raw, JSON_TYPES)?;
    let b: B = serde_json::from_value(json).map_err(|e| unprocessable("body", e.to_string()))?;
    let plan = plan_in_scope(s, &access, id).await?;
    body::may_draw(access.role(), access.scope(), area_of(plan.division))
        .map_err(ApiError::Forbidden)?;
    Ok((access, id, b, plan))
}

/// Records a change `what` (`approve`, `moves`) to plan `id` in the audit log, done with its
/// report or failed with its error, and hands the outcome on. A change the log misses is
/// logged as an error; the answer still tells the user what happened.
async fn audited(
    s: &AppState,
    who: &Principal,
    id: FeatureId,
    what: &str,
    outcome: Result<JsonValue, ApiError>,
) -> Result<JsonValue, ApiError> {
    let (result, detail) = match &outcome {
        Ok(report) => (AuditResult::Ok, report.clone()),
        Err(e) => (AuditResult::Failed, json!({"error": e.to_string()})),
    };
    let object = format!("{}/{id}/{what}", Layer::GridPlans.name());
    if audit::record_by(s, who, AuditAction::Update, object, result, &detail)
        .await
        .is_err()
    {
        tracing::error!(%id, what, "a change to a plan is missing from the audit log");
    }
    outcome
}

/// Whether the user may see the units' workloads: not when the plan weighs supervised persons
/// and the role does not read them (a block's workload would tell how many live there).
fn shows_workload(access: &Access, a: &Adjustable) -> bool {
    !a.weighs_supervised() || access.role().reads(Layer::SupervisedPersons)
}

/// Why the user may not move units of the plan now (`None`: they may).
fn adjust_refusal(access: &Access, plan: &Feature, s: &AppState) -> Option<String> {
    if access.write(Layer::GridPlans).is_err()
        || access.write(Layer::Grids).is_err()
        || body::may_draw(access.role(), access.scope(), area_of(plan.division)).is_err()
    {
        return Some("your role does not draw plans of this area".into());
    }
    adjust::refusal(plan, s.disputes.now())
}

/// Whether a plan's grids are there to show (drawn, or a plan that was not computed).
fn is_drawn(plan: &Feature, s: &AppState) -> bool {
    matches!(
        record::job(plan, s.disputes.now()).0,
        None | Some(PlanJob::Done)
    )
}

fn not_drawn(plan: &Feature, s: &AppState) -> ApiError {
    let (job, why) = record::job(plan, s.disputes.now());
    ApiError::Conflict(format!(
        "plan {}'s grids are not drawn: its job is {}{}",
        record::id(plan),
        job.map_or("missing", PlanJob::token),
        why.map(|w| format!(" ({w})")).unwrap_or_default()
    ))
}

/// `POST /api/v1/partition-plans`: draws the grids of a village or township as a draft plan.
/// The plan is stored at once (draft, job running) and answered `202` with its address; a
/// server computes the grids in the background and stores them with the plan. Poll
/// `GET /api/v1/partition-plans/{id}` for its progress.
#[utoipa::path(post, path = "/api/v1/partition-plans", tag = "plans",
    request_body(content = PlanBody, content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted: the draft plan `{id, status, job, progress, …}`, its address in `Location`", body = Object,
            headers(("Location" = String))),
        (status = 400, description = "The body is not JSON", content_type = "application/problem+json", body = Problem),
        (status = 403, description = "The role does not draw plans, or the area lies outside the scope", content_type = "application/problem+json", body = Problem),
        (status = 415, description = "The body is not JSON", content_type = "application/problem+json", body = Problem),
        (status = 422, description = "Parameters at fault, each named", content_type = "application/problem+json", body = Problem)))]
pub async fn create_plan(
    State(s): State<AppState>,
    who: Principal,
    headers: HeaderMap,
    raw: Bytes,
) -> Result<Response, ApiError> {
    let access = Access::of(&who, &s)?;
    access.write(Layer::GridPlans)?;
    access.write(Layer::Grids)?;
    let json = json_body(&headers, &raw, JSON_TYPES)?;
    let draft = body::read(&json).map_err(ApiError::Unprocessable)?;
    let area = draft.request.scope;
    body::may_draw(access.role(), access.scope(), area).map_err(ApiError::Forbidden)?;
    body::may_weigh(access.role(), &draft).map_err(|e| ApiError::Unprocessable(vec![e]))?;
    let field = match area {
        Area::Village(_) => "village",
        Area::Township(_) => "township",
    };
    let code = area.code();
    if s.store.count(Layer::Villages, &under(code)).await? == 0 {
        return Err(unprocessable(
            field,
            format!("there is no village of {code} in the store"),
        ));
    }
    if draft.rebalance && effective_grids(&*s.store, area).await?.is_empty() {
        return Err(unprocessable(
            "rebalance",
            format!("{code} has no grids in force to rebalance: draw a plan afresh"),
        ));
    }
    let now = s.disputes.now();
    let name = match &draft.name {
        Some(n) => n.clone(),
        None => format!(
            "{}网格划分方案（{}）",
            super::area_name(&*s.store, code).await?,
            now.date_naive()
        ),
    };
    let plan = record::draft(code, &name, now, &draft.parameters);
    let done = write(&*s.store, vec![Op::Insert(Layer::GridPlans, plan)]).await;
    let id = done.as_ref().ok().and_then(|ids| ids.first().copied());
    changed(&s, &who, AuditAction::Create, Layer::GridPlans, id, &done).await;
    done?;
    let id = id.ok_or_else(|| ApiError::Internal("the plan got no id".into()))?;
    follow(&s, Layer::GridPlans, vec![id]).await;
    job::spawn(
        s.clone(),
        id,
        draft,
        Requester {
            name: who.user.name.as_str().to_owned(),
            source: who.source,
        },
    );
    let row = written(&s, Layer::GridPlans, id).await?;
    let mut r = (
        StatusCode::ACCEPTED,
        Json(record::plan_json(&row, s.disputes.now())),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/partition-plans/{id}")) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

/// Query parameters of the plan list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// A county, township or village code (default: the user's scope): the plans of it and
    /// under it, and the plans above it that cover it.
    pub division: Option<String>,
}

/// `GET /api/v1/partition-plans?division=`: the plans of a division in the user's scope (those
/// of the division and under it, and those of the township above a village), without grids.
#[utoipa::path(get, path = "/api/v1/partition-plans", tag = "plans",
    params(ListParams),
    responses(
        (status = 200, description = "`{plans: [plan]}` in id order", body = Object),
        (status = 400, description = "A malformed division", content_type = "application/problem+json", body = Problem),
        (status = 403, description = "The division lies outside the user's scope", content_type = "application/problem+json", body = Problem)))]
pub async fn list_plans(
    State(s): State<AppState>,
    who: Principal,
    QueryParams(p): QueryParams<ListParams>,
) -> Result<Json<JsonValue>, ApiError> {
    let access = Access::of(&who, &s)?;
    access.read(Layer::GridPlans)?;
    let requested = crate::parse_division(p.division.as_deref())?;
    let d = access.division_to_list(requested)?;
    let wide = if d.level() == DivisionLevel::Village {
        township_of(d)
    } else {
        d
    };
    let now = s.disputes.now();
    let plans: Vec<JsonValue> = s
        .store
        .query(Layer::GridPlans, &under(wide))
        .await?
        .iter()
        .filter(|p| p.division.contains(&d) || d.contains(&p.division))
        .filter(|p| access.admits(p))
        .map(|p| record::plan_json(p, now))
        .collect();
    Ok(Json(json!({ "division": d.as_str(), "plans": plans })))
}

/// `GET /api/v1/partition-plans/{id}`: the plan (fields, job and progress, totals) and, once
/// drawn, its grids as a GeoJSON `FeatureCollection` with each grid's statistics. A running job
/// whose server stopped (no heartbeat for two minutes) is answered as failed.
#[utoipa::path(get, path = "/api/v1/partition-plans/{id}", tag = "plans",
    params(("id" = i64, Path, description = "The plan's id")),
    responses(
        (status = 200, description = "The plan; `grids` is a FeatureCollection once drawn, else null", body = Object),
        (status = 404, description = "No such plan in the user's scope", content_type = "application/problem+json", body = Problem)))]
pub async fn get_plan(
    State(s): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    let access = Access::of(&who, &s)?;
    access.read(Layer::GridPlans)?;
    access.read(Layer::Grids)?;
    let plan = plan_in_scope(&s, &access, parse_id(&id)?).await?;
    let mut body = record::plan_json(&plan, s.disputes.now());
    body["grids"] = if is_drawn(&plan, &s) {
        record::grids_json(&plan, &grids_of(&s, &access, &plan).await?)
    } else {
        JsonValue::Null
    };
    Ok(Json(body))
}

/// `GET /api/v1/partition-plans/{id}/compare`: the plan against the grids in force in its
/// area: per grid code the households each holds now and in the plan (points in polygons),
/// codes added, removed and changed, households whose grid code changes, totals.
#[utoipa::path(get, path = "/api/v1/partition-plans/{id}/compare", tag = "plans",
    params(("id" = i64, Path, description = "The plan's id")),
    responses(
        (status = 200, description = "`{plan, division_code, grids: [{code, change, current_households, plan_households, households_in, households_out}], flows: [{from, to, households}], totals}`", body = Object),
        (status = 404, description = "No such plan in the user's scope", content_type = "application/problem+json", body = Problem),
        (status = 409, description = "The plan's grids are not drawn", content_type = "application/problem+json", body = Problem)))]
pub async fn compare_plan(
    State(s): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    let access = Access::of(&who, &s)?;
    access.read(Layer::GridPlans)?;
    access.read(Layer::Grids)?;
    let plan = plan_in_scope(&s, &access, parse_id(&id)?).await?;
    if !is_drawn(&plan, &s) {
        return Err(not_drawn(&plan, &s));
    }
    let me = record::id(&plan).0;
    let area = plan.division;
    let current: Vec<Feature> = effective_grids(&*s.store, area_of(area))
        .await?
        .into_iter()
        .filter(|g| plan_of(g) != Some(me))
        .collect();
    let planned = grids_of(&s, &access, &plan).await?;
    let households = s.store.query(Layer::Households, &under(area)).await?;
    let c = tokio::task::spawn_blocking(move || compare::compare(&current, &planned, &households))
        .await
        .map_err(|e| ApiError::Internal(format!("comparison task: {e}")))?;
    let mut body = serde_json::to_value(&c).map_err(|e| ApiError::Internal(e.to_string()))?;
    body["plan"] = me.into();
    body["division_code"] = area.as_str().into();
    Ok(Json(body))
}

/// `GET /api/v1/partition-plans/{id}/units`: the units the plan's grids are made of (cut again
/// from the area's data with the plan's parameters), each with its grid, households and
/// workload; for a drawn draft the user may change, the grids each unit may move to now
/// (`movable_to`) or why it may not (`fixed_reason`); and the `fingerprint` of these units to
/// send back with a move.
#[utoipa::path(get, path = "/api/v1/partition-plans/{id}/units", tag = "plans",
    params(("id" = i64, Path, description = "The plan's id")),
    responses(
        (status = 200, description = "`{plan, editable, fingerprint, units: FeatureCollection}`; each unit's properties `{unit, grid, village_code, households, workload, movable_to, fixed_reason}`", body = Object),
        (status = 404, description = "No such plan in the user's scope", content_type = "application/problem+json", body = Problem),
        (status = 409, description = "The plan's grids are not drawn, or the area's data no longer matches them", content_type = "application/problem+json", body = Problem)))]
pub async fn plan_units(
    State(s): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    let access = Access::of(&who, &s)?;
    access.read(Layer::GridPlans)?;
    access.read(Layer::Grids)?;
    let id = parse_id(&id)?;
    let plan = plan_in_scope(&s, &access, id).await?;
    if !is_drawn(&plan, &s) {
        return Err(not_drawn(&plan, &s));
    }
    let fixed = adjust_refusal(&access, &plan, &s);
    let grids = stored_grids(&s, &access, &plan).await?;
    let a = Adjustable::read(&s, plan, grids).await?;
    let workload = shows_workload(&access, &a);
    let editable = fixed.is_none();
    // Every unit's moves are checked: work for a blocking thread on a large township.
    let (fingerprint, units) = tokio::task::spawn_blocking(move || {
        a.units_json(fixed.as_deref(), workload)
            .map(|u| (a.fingerprint(), u))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("unit task: {e}")))??;
    Ok(Json(json!({
        "plan": id.0,
        "editable": editable,
        "fingerprint": fingerprint,
        "units": units,
    })))
}

/// The body of a move.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    /// The unit's number (`unit` in `GET …/units`).
    pub unit: usize,
    /// The code of the grid it moves to.
    pub to: String,
    /// The `fingerprint` of the units the move was chosen on: when given and the units or
    /// their grids changed since, the move is refused (409).
    pub fingerprint: Option<String>,
}

/// `POST /api/v1/partition-plans/{id}/moves`: moves one unit of a drawn draft to a
/// neighbouring grid. The move must keep every grid in one piece and not empty, cross no
/// barrier the plan keeps, and put no parts of two villages in one grid. The two grids are
/// drawn again and every grid's statistics computed afresh; grids and plan are written in one
/// transaction, the move recorded in the plan's summary (`moves`) and the audit log.
#[utoipa::path(post, path = "/api/v1/partition-plans/{id}/moves", tag = "plans",
    params(("id" = i64, Path, description = "The plan's id")),
    request_body(content = MoveBody, content_type = "application/json"),
    responses(
        (status = 200, description = "`{plan, move: {unit, from, to, households, workload}, grids: FeatureCollection}`", body = Object),
        (status = 400, description = "The body is not JSON", content_type = "application/problem+json", body = Problem),
        (status = 403, description = "The user does not draw plans of the area", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "No such plan in the user's scope", content_type = "application/problem+json", body = Problem),
        (status = 409, description = "Not a drawn draft, the units changed since the fingerprint, or the plan changed meanwhile", content_type = "application/problem+json", body = Problem),
        (status = 415, description = "The body is not JSON", content_type = "application/problem+json", body = Problem),
        (status = 422, description = "An unknown unit or grid, or a move that breaks a rule, named", content_type = "application/problem+json", body = Problem)))]
pub async fn move_unit(
    State(s): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Bytes,
) -> Result<Json<JsonValue>, ApiError> {
    let (access, id, b, plan) = change_of::<MoveBody>(&s, &who, &id, &headers, &raw, &[]).await?;
    if let Some(why) = adjust::refusal(&plan, s.disputes.now()) {
        return Err(ApiError::Conflict(why));
    }
    let grids = stored_grids(&s, &access, &plan).await?;
    let a = Adjustable::read(&s, plan, grids).await?;
    if let Some(seen) = &b.fingerprint {
        if *seen != a.fingerprint() {
            return Err(ApiError::Conflict(format!(
                "the units of plan {id} or their grids changed since fingerprint {seen}: read the units again"
            )));
        }
    }
    let workload = shows_workload(&access, &a);
    let (by, state) = (who.user.name.as_str().to_owned(), s.clone());
    let planned = tokio::task::spawn_blocking(move || a.apply(&state, b.unit, &b.to, &by))
        .await
        .map_err(|e| ApiError::Internal(format!("move task: {e}")))??;
    let mut step = audited(&s, &who, id, "moves", planned.write(&s).await).await?;
    if !workload {
        if let Some(m) = step.as_object_mut() {
            m.remove("workload");
        }
    }
    let plan = written(&s, Layer::GridPlans, id).await?;
    let grids = grids_of(&s, &access, &plan).await?;
    Ok(Json(json!({
        "plan": record::plan_json(&plan, s.disputes.now()),
        "move": step,
        "grids": record::grids_json(&plan, &grids),
    })))
}

/// The body of an approval.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    /// The day the plan takes effect, `YYYY-MM-DD`: today or earlier puts it in force at once,
    /// a later day when that day comes.
    pub effective_from: String,
}

/// `POST /api/v1/partition-plans/{id}/approve`: approves a drawn draft from a day. When the day
/// has come the plan is put in force at once, in one transaction: households get their new
/// grid, and the grids it replaces become history (the plans in force in its area superseded,
/// or, for a plan covering more, their grids in this area moved to a superseded plan of their
/// own). A later day leaves it approved until then.
#[utoipa::path(post, path = "/api/v1/partition-plans/{id}/approve", tag = "plans",
    params(("id" = i64, Path, description = "The plan's id")),
    request_body(content = ApproveBody, content_type = "application/json"),
    responses(
        (status = 200, description = "`{plan, approval: {effective, households_regridded, superseded, history}}`", body = Object),
        (status = 400, description = "The body is not JSON", content_type = "application/problem+json", body = Problem),
        (status = 403, description = "The user does not approve plans of the area", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "No such plan in the user's scope", content_type = "application/problem+json", body = Problem),
        (status = 409, description = "Not a drawn draft, or what is in force changed meanwhile", content_type = "application/problem+json", body = Problem),
        (status = 415, description = "The body is not JSON", content_type = "application/problem+json", body = Problem),
        (status = 422, description = "A malformed or too early `effective_from`", content_type = "application/problem+json", body = Problem)))]
pub async fn approve_plan(
    State(s): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Bytes,
) -> Result<Json<JsonValue>, ApiError> {
    let (_, id, b, plan) =
        change_of::<ApproveBody>(&s, &who, &id, &headers, &raw, &[Layer::Households]).await?;
    let day = NaiveDate::parse_from_str(b.effective_from.trim(), "%Y-%m-%d").map_err(|_| {
        unprocessable(
            "effective_from",
            format!("'{}' is not a day like 2026-05-01", b.effective_from),
        )
    })?;
    if let Some(made) = plan.get("created_on").and_then(Value::as_date) {
        if day < made {
            return Err(unprocessable(
                "effective_from",
                format!("{day} is before the plan was made ({made})"),
            ));
        }
    }
    if let Some(why) = approve::refusal(&plan, s.disputes.now()) {
        return Err(ApiError::Conflict(why));
    }
    let report = audited(
        &s,
        &who,
        id,
        "approve",
        approve::approve(&s, plan, day).await,
    )
    .await?;
    let plan = written(&s, Layer::GridPlans, id).await?;
    Ok(Json(json!({
        "plan": record::plan_json(&plan, s.disputes.now()),
        "approval": report,
    })))
}

/// Query parameters of an export.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `geojson` (default) or `gpkg`.
    pub format: Option<String>,
}

/// `GET /api/v1/partition-plans/{id}/export?format=geojson|gpkg`: the plan's grids as a file
/// (GeoJSON with every statistic, or a GeoPackage `grids` table), as an attachment. Audited as
/// an export.
#[utoipa::path(get, path = "/api/v1/partition-plans/{id}/export", tag = "plans",
    params(("id" = i64, Path, description = "The plan's id"), ExportParams),
    responses(
        (status = 200, description = "The file (`application/geo+json` or `application/geopackage+sqlite3`) as an attachment", content_type = "application/octet-stream", body = String),
        (status = 400, description = "An unknown format", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "No such plan in the user's scope", content_type = "application/problem+json", body = Problem),
        (status = 409, description = "The plan's grids are not drawn", content_type = "application/problem+json", body = Problem)))]
pub async fn export_plan(
    State(s): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    QueryParams(p): QueryParams<ExportParams>,
) -> Result<Response, ApiError> {
    let access = Access::of(&who, &s)?;
    access.read(Layer::GridPlans)?;
    access.read(Layer::Grids)?;
    let id = parse_id(&id)?;
    let format = Format::parse(p.format.as_deref())?;
    let plan = plan_in_scope(&s, &access, id).await?;
    if !is_drawn(&plan, &s) {
        return Err(not_drawn(&plan, &s));
    }
    let grids = grids_of(&s, &access, &plan).await?;
    // Recorded before the file is made: an export that cannot be audited is not made.
    audit::record_by(
        &s,
        &who,
        AuditAction::Export,
        format!("{}/{id}/export", Layer::GridPlans.name()),
        AuditResult::Ok,
        &json!({"format": format.token(), "grids": grids.len()}),
    )
    .await?;
    let bytes = match format {
        Format::GeoJson => export::geojson(&plan, &grids),
        Format::Gpkg => export::gpkg(id, grids).await?,
    };
    let mut r = ([(header::CONTENT_TYPE, format.media_type())], bytes).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"plan-{id}.{}\"",
        format.token()
    )) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}
