//! `/api/v1/route-plans`: plan a township's collection day (a background computation), read a
//! plan with its routes as GeoJSON, list and delete plans.

use std::time::Duration;

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
use gridgov_routing::sanitation::Search;
use gridgov_store::{write, AuditAction, Op, Query};
use serde::Deserialize;
use serde_json::{json, Value as Json_};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::job::{self, DayRequest};
use crate::access::{Access, Narrowed};
use crate::auth::Principal;
use crate::items::{changed, follow, json_body, parse_id, written};
use crate::jobs::{self, Requester};
use crate::openapi::Problem;
use crate::{ApiError, AppState};

/// The route plan routes.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plans, create_plan))
        .routes(routes!(get_plan, delete_plan))
}

/// The longest search a request may ask for, in seconds.
const MAX_SECONDS: f64 = 600.0;

fn under(code: DivisionCode) -> Query {
    Query {
        division: Some(code),
        ..Query::default()
    }
}

/// The body of `POST /api/v1/route-plans`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutePlanBody {
    /// The township (12-digit code).
    pub township: String,
    /// The day, YYYY-MM-DD.
    pub date: String,
    /// Upper bound on the search, in seconds (default 30, at most 600).
    pub seconds: Option<f64>,
    /// Seed of the search (default 1).
    pub seed: Option<u64>,
    /// A name (default: the township's name and the day).
    pub name: Option<String>,
}

/// The body checked field by field: every fault named.
fn read_body(
    json: &Json_,
) -> Result<(RoutePlanBody, DivisionCode, NaiveDate, Search), Vec<ValidationError>> {
    let body: RoutePlanBody = serde_json::from_value(json.clone())
        .map_err(|e| vec![ValidationError::new("body", e.to_string())])?;
    let mut errors = Vec::new();
    let township = match body.township.trim().parse::<DivisionCode>() {
        Ok(c) if c.level() == DivisionLevel::Township => Some(c),
        Ok(_) => {
            errors.push(ValidationError::new("township", "not a township's code"));
            None
        }
        Err(e) => {
            errors.push(ValidationError::new("township", e.to_string()));
            None
        }
    };
    let date = NaiveDate::parse_from_str(body.date.trim(), "%Y-%m-%d")
        .map_err(|_| errors.push(ValidationError::new("date", "give a day as YYYY-MM-DD")))
        .ok();
    let seconds = body.seconds.unwrap_or(30.0);
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= MAX_SECONDS) {
        errors.push(ValidationError::new(
            "seconds",
            format!("give a time between 0 and {MAX_SECONDS} seconds"),
        ));
    }
    if body.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        errors.push(ValidationError::new("name", "must not be empty"));
    }
    match (township, date, errors.is_empty()) {
        (Some(t), Some(d), true) => {
            let search = Search {
                seed: body.seed.unwrap_or(1),
                time_limit: Some(Duration::from_secs_f64(seconds)),
                max_iterations: None,
            };
            Ok((body, t, d, search))
        }
        _ => Err(errors),
    }
}

/// A route plan as JSON (without its routes).
pub fn plan_json(plan: &Feature, now: chrono::DateTime<chrono::Utc>) -> Json_ {
    let id = plan.id.map_or(0, |i| i.0);
    let (job, job_error) = jobs::job(plan, now);
    let text = |f: &str| plan.get(f).map_or(Json_::Null, Value::to_json);
    json!({
        "id": id,
        "division_code": plan.division.as_str(),
        "name": text("name"),
        "service_date": text("service_date"),
        "created_on": text("created_on"),
        "job": job.map(PlanJob::token),
        "job_zh": job.map(PlanJob::zh),
        "progress": text("progress"),
        "job_error": job_error,
        "heartbeat": text("heartbeat"),
        "parameters": jobs::json_field(plan, "parameters"),
        "summary": jobs::json_field(plan, "summary"),
        "links": {
            "self": format!("/api/v1/route-plans/{id}"),
            "tiles": "/tiles/routes/{z}/{x}/{y}.mvt",
        },
    })
}

async fn plan_in_scope(s: &AppState, access: &Access, id: FeatureId) -> Result<Feature, ApiError> {
    s.store
        .get(Layer::RoutePlans, id)
        .await?
        .filter(|f| access.admits(f))
        .ok_or_else(|| ApiError::NotFound(format!("there is no route plan {id} in your scope")))
}

/// The routes of a plan the user's scope holds, in vehicle order.
async fn routes_of(
    s: &AppState,
    access: &Access,
    plan: &Feature,
) -> Result<Vec<Feature>, ApiError> {
    let me = plan.id.map_or(0, |i| i.0);
    let mut routes: Vec<Feature> = s
        .store
        .query(Layer::Routes, &under(plan.division))
        .await?
        .into_iter()
        .filter(|r| r.get("plan_id").and_then(Value::as_i64) == Some(me) && access.admits(r))
        .collect();
    routes.sort_by_key(|r| r.get("vehicle_id").and_then(Value::as_i64));
    Ok(routes)
}

/// `POST /api/v1/route-plans`: plans a township's collection routes for a day. The plan is
/// stored at once (job running) and answered `202` with its address; a server computes the
/// routes in the background and stores them with the plan. Poll `GET /api/v1/route-plans/{id}`.
#[utoipa::path(post, path = "/api/v1/route-plans", tag = "routing",
    request_body(content = RoutePlanBody, content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted: the plan `{id, job, progress, …}`, its address in `Location`", body = Object,
            headers(("Location" = String))),
        (status = 400, description = "The body is not JSON", content_type = "application/problem+json", body = Problem),
        (status = 403, description = "The role does not plan routes, or the township lies outside the scope", content_type = "application/problem+json", body = Problem),
        (status = 415, description = "The body is not JSON", content_type = "application/problem+json", body = Problem),
        (status = 422, description = "Parameters at fault, each named", content_type = "application/problem+json", body = Problem)))]
pub async fn create_plan(
    State(s): State<AppState>,
    who: Principal,
    headers: HeaderMap,
    raw: Bytes,
) -> Result<Response, ApiError> {
    let access = Access::of(&who, &s)?;
    access.write(Layer::RoutePlans)?;
    access.write(Layer::Routes)?;
    let json = json_body(&headers, &raw, &["application/json"])?;
    let (body, township, date, search) = read_body(&json).map_err(ApiError::Unprocessable)?;
    if !matches!(access.narrow(Some(township)), Narrowed::Within(d) if d == township) {
        return Err(ApiError::Forbidden(format!(
            "township {township} lies outside your scope ({})",
            access.scope()
        )));
    }
    let townships = s.store.query(Layer::Townships, &under(township)).await?;
    let Some(t) = townships.first() else {
        return Err(ApiError::Unprocessable(vec![ValidationError::new(
            "township",
            format!("there is no township {township} in the store"),
        )]));
    };
    let now = jobs::now(&s);
    let name = body.name.clone().unwrap_or_else(|| {
        format!(
            "{}清运计划（{date}）",
            t.text("name").unwrap_or(township.as_str())
        )
    });
    let parameters = json!({
        "township": township.as_str(),
        "date": date.format("%Y-%m-%d").to_string(),
        "seconds": search.time_limit.map(|d| d.as_secs_f64()),
        "seed": search.seed,
    });
    let row = Feature::new(township, None)
        .with("name", name)
        .with("service_date", date)
        .with("created_on", now.date_naive())
        .with("job", PlanJob::Running.token())
        .with("progress", 0_i64)
        .with("parameters", parameters.to_string())
        .with("heartbeat", now);
    let done = write(&*s.store, vec![Op::Insert(Layer::RoutePlans, row)]).await;
    let id = done.as_ref().ok().and_then(|ids| ids.first().copied());
    changed(&s, &who, AuditAction::Create, Layer::RoutePlans, id, &done).await;
    done?;
    let id = id.ok_or_else(|| ApiError::Internal("the plan got no id".into()))?;
    follow(&s, Layer::RoutePlans, vec![id]).await;
    job::spawn(
        s.clone(),
        id,
        DayRequest {
            township,
            date,
            search,
        },
        Requester {
            name: who.user.name.as_str().to_owned(),
            source: who.source,
        },
    );
    let row = written(&s, Layer::RoutePlans, id).await?;
    let mut r = (
        StatusCode::ACCEPTED,
        Json(plan_json(&row, s.disputes.now())),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/route-plans/{id}")) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

/// Query parameters of the plan list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// A county or township code (default: the user's scope).
    pub division: Option<String>,
}

/// `GET /api/v1/route-plans?division=`: the route plans of a division in the user's scope,
/// without their routes, newest day first.
#[utoipa::path(get, path = "/api/v1/route-plans", tag = "routing",
    params(ListParams),
    responses(
        (status = 200, description = "`{division, plans: [plan]}`", body = Object),
        (status = 400, description = "A malformed division", content_type = "application/problem+json", body = Problem),
        (status = 403, description = "The division lies outside the user's scope", content_type = "application/problem+json", body = Problem)))]
pub async fn list_plans(
    State(s): State<AppState>,
    who: Principal,
    QueryParams(p): QueryParams<ListParams>,
) -> Result<Json<Json_>, ApiError> {
    let access = Access::of(&who, &s)?;
    access.read(Layer::RoutePlans)?;
    let requested = crate::parse_division(p.division.as_deref())?;
    let d = access.division_to_list(requested)?;
    let now = s.disputes.now();
    let mut plans: Vec<Feature> = s
        .store
        .query(Layer::RoutePlans, &under(d))
        .await?
        .into_iter()
        .filter(|p| access.admits(p))
        .collect();
    plans.sort_by(|a, b| {
        let key = |f: &Feature| (f.get("service_date").and_then(Value::as_date), f.id);
        key(b).cmp(&key(a))
    });
    let plans: Vec<Json_> = plans.iter().map(|p| plan_json(p, now)).collect();
    Ok(Json(json!({ "division": d.as_str(), "plans": plans })))
}

/// `GET /api/v1/route-plans/{id}`: the plan's routes as a GeoJSON `FeatureCollection` (one
/// LineString per vehicle along the roads, its figures and its ordered `schedule`), with the
/// plan itself (job, progress, summary and the points left off with their reasons) as `plan`.
/// A running job whose server stopped (no heartbeat for two minutes) is answered as failed.
#[utoipa::path(get, path = "/api/v1/route-plans/{id}", tag = "routing",
    params(("id" = i64, Path, description = "The plan's id")),
    responses(
        (status = 200, description = "`{type: FeatureCollection, features: [route], plan}`", body = Object),
        (status = 404, description = "No such plan in the user's scope", content_type = "application/problem+json", body = Problem)))]
pub async fn get_plan(
    State(s): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<Json_>, ApiError> {
    let access = Access::of(&who, &s)?;
    access.read(Layer::RoutePlans)?;
    access.read(Layer::Routes)?;
    let plan = plan_in_scope(&s, &access, parse_id(&id)?).await?;
    let features: Vec<Json_> = routes_of(&s, &access, &plan)
        .await?
        .iter()
        .map(|r| {
            let mut f = r.to_geojson();
            if let Some(p) = f["properties"].as_object_mut() {
                let schedule = jobs::json_field(r, "schedule");
                p.insert("schedule".into(), schedule);
            }
            f
        })
        .collect();
    Ok(Json(json!({
        "type": "FeatureCollection",
        "features": features,
        "plan": plan_json(&plan, s.disputes.now()),
    })))
}

/// `DELETE /api/v1/route-plans/{id}`: removes a plan and its routes in one transaction (a
/// running computation stops without writing).
#[utoipa::path(delete, path = "/api/v1/route-plans/{id}", tag = "routing",
    params(("id" = i64, Path, description = "The plan's id")),
    responses(
        (status = 204, description = "Removed with its routes"),
        (status = 403, description = "The role does not plan routes", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "No such plan in the user's scope", content_type = "application/problem+json", body = Problem)))]
pub async fn delete_plan(
    State(s): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let access = Access::of(&who, &s)?;
    access.write(Layer::RoutePlans)?;
    access.write(Layer::Routes)?;
    let plan = plan_in_scope(&s, &access, parse_id(&id)?).await?;
    let plan_id = plan.id.unwrap_or(FeatureId(0));
    let routes = routes_of(&s, &access, &plan).await?;
    let route_ids: Vec<FeatureId> = routes.iter().filter_map(|r| r.id).collect();
    let mut ops: Vec<Op> = route_ids
        .iter()
        .map(|r| Op::Delete(Layer::Routes, *r))
        .collect();
    ops.push(Op::Delete(Layer::RoutePlans, plan_id));
    let done = write(&*s.store, ops).await;
    changed(
        &s,
        &who,
        AuditAction::Delete,
        Layer::RoutePlans,
        Some(plan_id),
        &done,
    )
    .await;
    done?;
    follow(&s, Layer::RoutePlans, vec![plan_id]).await;
    follow(&s, Layer::Routes, route_ids).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Refuses a generic write (items API; `before` → `after`, `None` for a create or a delete)
/// that would bypass the route plans: routes and plans are made, and removed, here; the items
/// API may only rename a plan.
pub(crate) fn generic_write(
    layer: Layer,
    before: Option<&Feature>,
    after: Option<&Feature>,
) -> Result<(), ApiError> {
    match (layer, before, after) {
        (Layer::RoutePlans | Layer::Routes, None, _) => Err(ApiError::Conflict(
            "route plans are made through POST /api/v1/route-plans".into(),
        )),
        (Layer::RoutePlans | Layer::Routes, Some(_), None) => Err(ApiError::Conflict(
            "a route plan is removed with its routes through DELETE /api/v1/route-plans/{id}"
                .into(),
        )),
        (Layer::Routes, Some(_), Some(_)) => Err(ApiError::Conflict(
            "a route is computed with its plan: plan the day again".into(),
        )),
        (Layer::RoutePlans, Some(b), Some(a)) => {
            let mut names: Vec<&String> = b.properties.keys().chain(a.properties.keys()).collect();
            names.sort_unstable();
            names.dedup();
            let errors: Vec<ValidationError> = names
                .into_iter()
                .filter(|n| n.as_str() != "name" && b.get(n) != a.get(n))
                .map(|n| ValidationError::new(n, "is set by the route plan's computation"))
                .chain((b.division != a.division).then(|| {
                    ValidationError::new("division_code", "a route plan stays with its township")
                }))
                .collect();
            if errors.is_empty() {
                Ok(())
            } else {
                Err(ApiError::Unprocessable(errors))
            }
        }
        _ => Ok(()),
    }
}
