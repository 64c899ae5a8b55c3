//! `/api/v1/layers/{layer}/items`: listing (keyset or offset paging, bbox and "near a point"
//! from the index) and the write API (create, replace, merge-patch, delete) with optimistic
//! concurrency: every feature carries an `ETag`, every change of a stored feature must send
//! it back in `If-Match`, and a stale tag gets 412 with nothing changed.

use std::collections::HashSet;
use std::fmt::Write as _;

use axum::body::Bytes;
use axum::extract::{Path, Query as QueryParams, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use geo::{Coord, MapCoords};
use gridgov_model::{Crs, Feature, FeatureId, GeometryKind, Layer, ValidationError};
use gridgov_store::{
    write, write_guarded, AuditAction, AuditResult, Change, Guard, Op, Query, WriteError,
};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::openapi::{FeatureCollection, GeoJsonFeature, Problem};

use crate::access::{Access, Narrowed};
use crate::audit;
use crate::auth::Principal;
use crate::{
    live, lookup, parse_bbox, parse_count, parse_layer, ApiError, AppState, DEFAULT_LIMIT,
    MAX_LIMIT,
};

/// Query parameters of item listings.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemParams {
    /// `min_lon,min_lat,max_lon,max_lat`.
    pub bbox: Option<String>,
    /// A division code: the features it owns and everything under it.
    pub division: Option<String>,
    /// Page size (default 1000, at most 10000).
    pub limit: Option<String>,
    /// Keyset paging: features with an id above this one (what the `next` link carries).
    pub after: Option<String>,
    /// Features to skip (offset paging; `after` is faster for deep pages).
    pub offset: Option<String>,
    /// `lon,lat`: features nearest this point first (the `limit` nearest, or all within
    /// `within` metres), each with its `distance_m`.
    pub near: Option<String>,
    /// With `near`: only features within this many metres.
    pub within: Option<String>,
    /// With `near`: the coordinate system of the point (`wgs84`, the default, `gcj02`,
    /// `bd09`).
    pub crs: Option<String>,
}

/// `GET /api/v1/layers/{layer}/items`: a page of features as GeoJSON, in id order (by
/// distance with `near`), with a `next` link while more remain.
#[utoipa::path(get, path = "/api/v1/layers/{layer}/items", tag = "features",
    params(("layer" = String, Path, description = "A layer name, e.g. `households` (see `/api/v1/layers`)"), ItemParams),
    responses(
        (status = 200, description = "A page of features in id order (by distance with `near`)", content_type = "application/geo+json", body = FeatureCollection),
        (status = 400, description = "A malformed parameter (named)", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "Unknown layer", content_type = "application/problem+json", body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    who: Principal,
    Path(layer): Path<String>,
    QueryParams(p): QueryParams<ItemParams>,
) -> Result<Response, ApiError> {
    let layer = parse_layer(&layer)?;
    let access = Access::of(&who, &s)?;
    access.read(layer)?;
    let limit = parse_count("limit", p.limit.as_deref())?.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::BadRequest(format!(
            "parameter 'limit': from 1 to {MAX_LIMIT} features per page; follow the 'next' link for more"
        )));
    }
    let offset = parse_count("offset", p.offset.as_deref())?;
    let after = parse_count("after", p.after.as_deref())?.map(|a| a as i64);
    let bbox = p.bbox.as_deref().map(parse_bbox).transpose()?;
    let division = crate::parse_division(p.division.as_deref())?;
    let near = p
        .near
        .as_deref()
        .map(|t| parse_near(t, p.crs.as_deref()))
        .transpose()?;
    let within = p
        .within
        .as_deref()
        .map(|w| {
            w.trim()
                .parse::<f64>()
                .ok()
                .filter(|m| m.is_finite() && *m >= 0.0)
                .ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "parameter 'within': '{w}' is not a distance in metres"
                    ))
                })
        })
        .transpose()?;
    if within.is_some() && near.is_none() {
        return Err(ApiError::BadRequest(
            "parameter 'within' needs 'near=lon,lat'".into(),
        ));
    }
    if after.is_some() && (near.is_some() || offset.is_some()) {
        return Err(ApiError::BadRequest(
            "parameter 'after' pages in id order: it cannot be combined with 'near' (distance order) or 'offset'".into(),
        ));
    }
    let skip = offset.unwrap_or(0);
    // Only what lies in the user's scope: a requested division is narrowed to it.
    let division = match access.narrow(division) {
        Narrowed::Within(d) => d,
        Narrowed::Outside => return Ok(collection(layer, &p, Some(0), &[], None)),
    };
    let (matched, page): (Option<u64>, Vec<serde_json::Value>) = if bbox.is_some() || near.is_some()
    {
        // Spatial filters are answered by the index, never by scanning.
        if !live::indexed(layer) || layer.geometry() == GeometryKind::None {
            let which = if bbox.is_some() { "bbox" } else { "near" };
            return Err(ApiError::BadRequest(format!(
                "parameter '{which}': {layer} has no geometry"
            )));
        }
        let index = s.index.read();
        let Some(layer_index) = index.layer(layer) else {
            return Ok(collection(layer, &p, Some(0), &[], None));
        };
        let under = |f: &Feature| division.contains(&f.division) && access.admits(f);
        let boxed: Option<HashSet<FeatureId>> =
            bbox.map(|b| layer_index.in_bbox(b).iter().filter_map(|f| f.id).collect());
        let in_box = |f: &Feature| {
            boxed
                .as_ref()
                .is_none_or(|ids| f.id.is_some_and(|id| ids.contains(&id)))
        };
        let found: Vec<(&Feature, Option<f64>)> = match (near, bbox) {
            (Some(c), _) => {
                let hits = match within {
                    Some(m) => layer_index.within(c, m),
                    None => layer_index.nearest(c, (skip + limit) as usize),
                };
                hits.into_iter()
                    .filter(|n| under(n.feature) && in_box(n.feature))
                    .map(|n| (n.feature, Some(n.metres)))
                    .collect()
            }
            (None, Some(b)) => layer_index
                .in_bbox(b)
                .into_iter()
                .filter(|f| under(f) && f.id.is_some_and(|id| after.is_none_or(|a| id.0 > a)))
                .map(|f| (f, None))
                .collect(),
            (None, None) => Vec::new(),
        };
        let matched = if after.is_some() {
            None
        } else {
            Some(found.len() as u64)
        };
        let page = found
            .into_iter()
            .skip(skip as usize)
            .take(limit as usize)
            .map(|(f, metres)| {
                let mut json = access.mask(layer, f.clone()).to_geojson();
                if let (Some(m), Some(obj)) = (metres, json.as_object_mut()) {
                    obj.insert("distance_m".into(), json!((m * 10.0).round() / 10.0));
                }
                json
            })
            .collect();
        (matched, page)
    } else {
        let q = Query {
            division: Some(division),
            limit: Some(limit),
            offset,
            after_id: after,
            ..Query::default()
        };
        let (matched, features) = access.page(&*s.store, layer, q, after.is_none()).await?;
        let page = features
            .into_iter()
            .map(|f| access.mask(layer, f).to_geojson())
            .collect();
        (matched, page)
    };
    // A full page may have a successor; near-lists are ranked, not keyed, so they page by
    // offset.
    let next = (page.len() as u64 == limit).then(|| {
        if near.is_some() {
            Next::Offset(skip + limit)
        } else {
            Next::After(
                page.last()
                    .and_then(|f| f.get("id"))
                    .and_then(serde_json::Value::as_i64)
                    .unwrap_or(0),
            )
        }
    });
    audit::personal_read(&s, &who, layer, &json_ids(&page), "items").await?;
    Ok(collection(layer, &p, matched, &page, next))
}

/// The ids of GeoJSON features (for the audit log).
pub(crate) fn json_ids(features: &[serde_json::Value]) -> Vec<FeatureId> {
    features
        .iter()
        .filter_map(|f| f.get("id").and_then(serde_json::Value::as_i64))
        .map(FeatureId)
        .collect()
}

/// Where the next page starts.
enum Next {
    After(i64),
    Offset(u64),
}

/// A page of features as a GeoJSON feature collection with its `next` link.
fn collection(
    layer: Layer,
    p: &ItemParams,
    matched: Option<u64>,
    features: &[serde_json::Value],
    next: Option<Next>,
) -> Response {
    let mut links = Vec::new();
    if let Some(next) = next {
        let mut query: Vec<(&str, String)> = [
            ("bbox", &p.bbox),
            ("division", &p.division),
            ("limit", &p.limit),
            ("near", &p.near),
            ("within", &p.within),
            ("crs", &p.crs),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
        .collect();
        match next {
            Next::After(id) => query.push(("after", id.to_string())),
            Next::Offset(o) => query.push(("offset", o.to_string())),
        }
        let qs: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        links.push(json!({
            "rel": "next",
            "type": "application/geo+json",
            "href": format!("/api/v1/layers/{}/items?{}", layer.name(), qs.join("&")),
        }));
    }
    let mut body = json!({
        "type": "FeatureCollection",
        "numberReturned": features.len(),
        "features": features,
        "links": links,
    });
    if let (Some(m), Some(obj)) = (matched, body.as_object_mut()) {
        obj.insert("numberMatched".into(), m.into());
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/geo+json")],
        body.to_string(),
    )
        .into_response()
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b',') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Parses `near=lon,lat` (in `crs`, WGS84 by default) into a WGS84 point.
fn parse_near(text: &str, crs: Option<&str>) -> Result<Coord<f64>, ApiError> {
    let bad = || {
        ApiError::BadRequest(format!(
            "parameter 'near': '{text}' is not lon,lat (longitude -180 to 180, latitude -90 to 90)"
        ))
    };
    let parts: Vec<f64> = text
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    let [lon, lat] = parts[..] else {
        return Err(bad());
    };
    gridgov_model::crs::lon_lat(lon, lat).map_err(|_| bad())?;
    let crs = match crs {
        None => Crs::Wgs84,
        Some(_) => lookup::parse_crs(crs)?,
    };
    Ok(gridgov_model::crs::to_wgs84(crs, Coord { x: lon, y: lat }))
}

pub(crate) fn parse_id(id: &str) -> Result<FeatureId, ApiError> {
    id.parse::<i64>()
        .ok()
        .filter(|i| *i > 0)
        .map(FeatureId)
        .ok_or_else(|| {
            ApiError::BadRequest(format!("feature id '{id}' is not a whole number above 0"))
        })
}

/// A feature as the API answers it: masked for the role, as GeoJSON, with its `ETag`.
fn feature_response(
    status: StatusCode,
    s: &AppState,
    access: &Access,
    layer: Layer,
    f: Feature,
) -> Response {
    let etag = s.store.etag(&f);
    let mut r = (
        status,
        [(header::CONTENT_TYPE, "application/geo+json")],
        access.mask(layer, f).to_geojson().to_string(),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

/// `GET /api/v1/layers/{layer}/items/{id}`: one feature with its `ETag`; `304` when
/// `If-None-Match` names it.
#[utoipa::path(get, path = "/api/v1/layers/{layer}/items/{id}", tag = "features",
    params(("layer" = String, Path, description = "A layer name, e.g. `households` (see `/api/v1/layers`)"), ("id" = i64, Path, description = "The feature id"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag`: 304 while the feature is unchanged")),
    responses(
        (status = 200, description = "The feature; its tag in `ETag`", content_type = "application/geo+json", body = GeoJsonFeature,
            headers(("ETag" = String, description = "The feature's entity tag"))),
        (status = 304, description = "Unchanged since the `If-None-Match` tag"),
        (status = 400, description = "A malformed id", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "Unknown layer or feature", content_type = "application/problem+json", body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    who: Principal,
    Path((layer, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let layer = parse_layer(&layer)?;
    let access = Access::of(&who, &s)?;
    access.read(layer)?;
    let id = parse_id(&id)?;
    let f = s
        .store
        .get(layer, id)
        .await?
        .filter(|f| access.admits(f))
        .ok_or_else(|| ApiError::NotFound(format!("{layer} has no feature {id}")))?;
    let etag = s.store.etag(&f);
    if tags(&headers, header::IF_NONE_MATCH).is_some_and(|t| t.matches(&etag)) {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(v) = HeaderValue::from_str(&etag) {
            r.headers_mut().insert(header::ETAG, v);
        }
        return Ok(r);
    }
    audit::personal_read(&s, &who, layer, &[id], "items").await?;
    Ok(feature_response(StatusCode::OK, &s, &access, layer, f))
}

/// Query parameters of writes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WriteParams {
    /// The coordinate system of the body's geometry: `wgs84` (the default; also GPS and
    /// CGCS2000), `gcj02` (Amap, Tencent) or `bd09` (Baidu). Stored as WGS84.
    pub crs: Option<String>,
}

/// The entity tags of `If-Match` or `If-None-Match`.
enum Tags {
    Any,
    List(Vec<String>),
}

impl Tags {
    fn matches(&self, etag: &str) -> bool {
        match self {
            Tags::Any => true,
            // Weak comparison is enough for If-None-Match; for If-Match only strong tags are
            // ever issued, so a weak one never matches a strong tag byte for byte.
            Tags::List(list) => list
                .iter()
                .any(|t| t == etag || t.strip_prefix("W/") == Some(etag)),
        }
    }
}

fn tags(headers: &HeaderMap, name: header::HeaderName) -> Option<Tags> {
    let mut list = Vec::new();
    let mut any = false;
    for v in headers.get_all(name) {
        let text = v.to_str().unwrap_or_default();
        for t in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if t == "*" {
                any = true;
            } else {
                list.push(t.to_owned());
            }
        }
    }
    if any {
        Some(Tags::Any)
    } else if list.is_empty() {
        None
    } else {
        Some(Tags::List(list))
    }
}

/// Reads the stored feature a write of `id` changes and checks `If-Match` against it: the
/// guard to write under (its tag is re-checked inside the write's transaction).
pub(crate) async fn precondition(
    s: &AppState,
    access: &Access,
    layer: Layer,
    id: FeatureId,
    headers: &HeaderMap,
) -> Result<(Feature, Guard), ApiError> {
    let Some(tags) = tags(headers, header::IF_MATCH) else {
        return Err(ApiError::PreconditionRequired(format!(
            "changing {layer} feature {id} needs an If-Match header with the ETag it was read with (GET it first)"
        )));
    };
    let current = s
        .store
        .get(layer, id)
        .await?
        .filter(|f| access.admits(f))
        .ok_or_else(|| ApiError::NotFound(format!("{layer} has no feature {id}")))?;
    let etag = s.store.etag(&current);
    if !tags.matches(&etag) {
        return Err(ApiError::PreconditionFailed(format!(
            "{layer} feature {id} has changed since it was read; read it again (GET) and retry with its new ETag"
        )));
    }
    Ok((current, Guard { layer, id, etag }))
}

/// Refuses to write a feature that would lie outside the user's scope.
fn in_scope(access: &Access, f: &Feature) -> Result<(), ApiError> {
    if access.admits(f) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "the feature would lie outside your scope ({}): owned by {}",
            access.scope(),
            f.division
        )))
    }
}

/// Reads a JSON body of one of the accepted media types.
pub(crate) fn json_body(
    headers: &HeaderMap,
    body: &Bytes,
    accepted: &[&str],
) -> Result<serde_json::Value, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !accepted.contains(&essence.as_str()) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "the body must be {} (Content-Type: {})",
            accepted.join(" or "),
            if ct.is_empty() { "missing" } else { ct }
        )));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))
}

const FEATURE_TYPES: &[&str] = &["application/geo+json", "application/json"];
const PATCH_TYPES: &[&str] = &[
    "application/merge-patch+json",
    "application/geo+json",
    "application/json",
];

/// A feature from a request body, its geometry brought to WGS84.
fn read_feature(
    layer: Layer,
    json: &serde_json::Value,
    crs: Option<&str>,
) -> Result<Feature, ApiError> {
    let mut f = Feature::from_geojson(layer, json).map_err(ApiError::Unprocessable)?;
    to_wgs84(&mut f, crs)?;
    Ok(f)
}

/// Brings a feature's geometry from the `crs` parameter's system to WGS84.
fn to_wgs84(f: &mut Feature, crs: Option<&str>) -> Result<(), ApiError> {
    let crs = match crs {
        None => Crs::Wgs84,
        Some(_) => lookup::parse_crs(crs)?,
    };
    if crs != Crs::Wgs84 {
        f.geometry = f
            .geometry
            .take()
            .map(|g| g.map_coords(|c| gridgov_model::crs::to_wgs84(crs, c)));
    }
    Ok(())
}

/// Brings this server's index (and so its tiles) up to date with a write before answering,
/// so that the writer reads what it wrote; the change feed repeats it harmlessly.
pub(crate) async fn follow(s: &AppState, layer: Layer, ids: Vec<FeatureId>) {
    if let Err(e) = s
        .index
        .apply(&Change {
            layer,
            ids: Some(ids),
        })
        .await
    {
        tracing::warn!(error = %e, %layer, "index update after a write failed; the change feed will retry");
    }
}

/// Records a write in the audit log once the store has answered: done, or failed and why.
/// The change (if any) is committed by now; a record that cannot be written is logged as an
/// error (see `audit::record`) and the answer still tells the client what happened.
pub(crate) async fn changed<T>(
    s: &AppState,
    who: &Principal,
    action: AuditAction,
    layer: Layer,
    id: Option<FeatureId>,
    outcome: &Result<T, WriteError>,
) {
    let object = match id {
        Some(id) => format!("{}/{id}", layer.name()),
        None => layer.name().to_owned(),
    };
    let (result, detail) = match outcome {
        Ok(_) => (AuditResult::Ok, json!({})),
        Err(e) => (AuditResult::Failed, json!({ "error": e.to_string() })),
    };
    if audit::record_by(s, who, action, object, result, &detail)
        .await
        .is_err()
    {
        tracing::error!(%layer, "a committed write is missing from the audit log");
    }
}

/// Reads back a written feature for the answer.
pub(crate) async fn written(
    s: &AppState,
    layer: Layer,
    id: FeatureId,
) -> Result<Feature, ApiError> {
    s.store
        .get(layer, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("{layer} feature {id} was deleted meanwhile")))
}

/// `POST /api/v1/layers/{layer}/items`: creates a feature from a GeoJSON Feature (no `id`:
/// the store assigns it); `201` with `Location` and `ETag`.
#[utoipa::path(post, path = "/api/v1/layers/{layer}/items", tag = "features",
    params(("layer" = String, Path, description = "A layer name, e.g. `households` (see `/api/v1/layers`)"), WriteParams),
    request_body(content = GeoJsonFeature, content_type = "application/geo+json", description = "A GeoJSON Feature without `id`"),
    responses(
        (status = 201, description = "Created; its address in `Location`, its tag in `ETag`", content_type = "application/geo+json", body = GeoJsonFeature,
            headers(("ETag" = String), ("Location" = String))),
        (status = 400, description = "The body is not JSON, or a malformed parameter", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "Unknown layer", content_type = "application/problem+json", body = Problem),
        (status = 409, description = "A feature with the same code exists", content_type = "application/problem+json", body = Problem),
        (status = 413, description = "The body is too large", content_type = "application/problem+json", body = Problem),
        (status = 415, description = "The body is not GeoJSON", content_type = "application/problem+json", body = Problem),
        (status = 422, description = "The feature breaks the model: every field at fault", content_type = "application/problem+json", body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    who: Principal,
    Path(layer): Path<String>,
    QueryParams(p): QueryParams<WriteParams>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let layer = parse_layer(&layer)?;
    let access = Access::of(&who, &s)?;
    access.write(layer)?;
    let json = json_body(&headers, &body, FEATURE_TYPES)?;
    let f = read_feature(layer, &json, p.crs.as_deref())?;
    in_scope(&access, &f)?;
    crate::disputes::generic_write(layer, None, Some(&f))?;
    crate::partition::generic_write(layer, None, Some(&f))?;
    crate::route_plans::generic_write(layer, None, Some(&f))?;
    if f.id.is_some() {
        return Err(ApiError::Unprocessable(vec![ValidationError::new(
            "id",
            "is assigned by the server: POST a feature without an id, or PUT to /items/{id} to replace one",
        )]));
    }
    let ids = write(&*s.store, vec![Op::Insert(layer, f)]).await;
    changed(
        &s,
        &who,
        AuditAction::Create,
        layer,
        ids.as_ref().ok().and_then(|i| i.first().copied()),
        &ids,
    )
    .await;
    let id = *ids?
        .first()
        .ok_or_else(|| ApiError::Internal("an insert returned no id".into()))?;
    follow(&s, layer, vec![id]).await;
    let mut r = feature_response(
        StatusCode::CREATED,
        &s,
        &access,
        layer,
        written(&s, layer, id).await?,
    );
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/layers/{}/items/{id}", layer.name())) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

/// `PUT /api/v1/layers/{layer}/items/{id}`: replaces a feature whole; needs `If-Match`.
#[utoipa::path(put, path = "/api/v1/layers/{layer}/items/{id}", tag = "features",
    params(("layer" = String, Path, description = "A layer name, e.g. `households` (see `/api/v1/layers`)"), ("id" = i64, Path, description = "The feature id"), ("If-Match" = String, Header, description = "The `ETag` the feature was read with"), WriteParams),
    request_body(content = GeoJsonFeature, content_type = "application/geo+json", description = "The whole new feature"),
    responses(
        (status = 200, description = "Replaced; the new tag in `ETag`", content_type = "application/geo+json", body = GeoJsonFeature,
            headers(("ETag" = String))),
        (status = 400, description = "The body is not JSON, or a malformed parameter", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "Unknown layer or feature", content_type = "application/problem+json", body = Problem),
        (status = 412, description = "The feature changed since it was read; nothing was written", content_type = "application/problem+json", body = Problem),
        (status = 415, description = "The body is not GeoJSON", content_type = "application/problem+json", body = Problem),
        (status = 422, description = "The feature breaks the model", content_type = "application/problem+json", body = Problem),
        (status = 428, description = "`If-Match` is missing", content_type = "application/problem+json", body = Problem)))]
pub async fn replace(
    State(s): State<AppState>,
    who: Principal,
    Path((layer, id)): Path<(String, String)>,
    QueryParams(p): QueryParams<WriteParams>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let layer = parse_layer(&layer)?;
    let access = Access::of(&who, &s)?;
    access.write(layer)?;
    let id = parse_id(&id)?;
    let json = json_body(&headers, &body, FEATURE_TYPES)?;
    let mut f = read_feature(layer, &json, p.crs.as_deref())?;
    if f.id.is_some_and(|given| given != id) {
        return Err(ApiError::Unprocessable(vec![ValidationError::new(
            "id",
            format!("the body's id differs from the address's id {id}"),
        )]));
    }
    f.id = Some(id);
    in_scope(&access, &f)?;
    let (current, guard) = precondition(&s, &access, layer, id, &headers).await?;
    crate::disputes::generic_write(layer, Some(&current), Some(&f))?;
    crate::partition::generic_write(layer, Some(&current), Some(&f))?;
    crate::route_plans::generic_write(layer, Some(&current), Some(&f))?;
    let done = write_guarded(&*s.store, vec![guard], vec![Op::Update(layer, f)]).await;
    changed(&s, &who, AuditAction::Update, layer, Some(id), &done).await;
    done?;
    follow(&s, layer, vec![id]).await;
    Ok(feature_response(
        StatusCode::OK,
        &s,
        &access,
        layer,
        written(&s, layer, id).await?,
    ))
}

/// `PATCH /api/v1/layers/{layer}/items/{id}`: changes the members a JSON Merge Patch
/// (RFC 7396) names (`{"properties": {"name": "…", "note": null}}`); needs `If-Match`.
#[utoipa::path(patch, path = "/api/v1/layers/{layer}/items/{id}", tag = "features",
    params(("layer" = String, Path, description = "A layer name, e.g. `households` (see `/api/v1/layers`)"), ("id" = i64, Path, description = "The feature id"), ("If-Match" = String, Header, description = "The `ETag` the feature was read with"), WriteParams),
    request_body(content = Object, content_type = "application/merge-patch+json", description = "A JSON Merge Patch (RFC 7396) of the feature's GeoJSON: `null` removes a field"),
    responses(
        (status = 200, description = "Changed; the new tag in `ETag`", content_type = "application/geo+json", body = GeoJsonFeature,
            headers(("ETag" = String))),
        (status = 400, description = "The body is not JSON, or a malformed parameter", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "Unknown layer or feature", content_type = "application/problem+json", body = Problem),
        (status = 412, description = "The feature changed since it was read; nothing was written", content_type = "application/problem+json", body = Problem),
        (status = 415, description = "Not a merge patch", content_type = "application/problem+json", body = Problem),
        (status = 422, description = "The patched feature breaks the model", content_type = "application/problem+json", body = Problem),
        (status = 428, description = "`If-Match` is missing", content_type = "application/problem+json", body = Problem)))]
pub async fn patch(
    State(s): State<AppState>,
    who: Principal,
    Path((layer, id)): Path<(String, String)>,
    QueryParams(p): QueryParams<WriteParams>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let layer = parse_layer(&layer)?;
    let access = Access::of(&who, &s)?;
    access.write(layer)?;
    let id = parse_id(&id)?;
    let patch = json_body(&headers, &body, PATCH_TYPES)?;
    if !patch.is_object() {
        return Err(ApiError::Unprocessable(vec![ValidationError::new(
            "body",
            "a merge patch of a feature is a JSON object",
        )]));
    }
    if patch.get("id").is_some_and(|v| v.as_i64() != Some(id.0)) {
        return Err(ApiError::Unprocessable(vec![ValidationError::new(
            "id",
            "a feature's id cannot be changed",
        )]));
    }
    let (current, guard) = precondition(&s, &access, layer, id, &headers).await?;
    let mut f = current
        .merge_patch(layer, &patch)
        .map_err(ApiError::Unprocessable)?;
    if patch.get("geometry").is_some_and(|g| !g.is_null()) {
        to_wgs84(&mut f, p.crs.as_deref())?;
    }
    in_scope(&access, &f)?;
    crate::disputes::generic_write(layer, Some(&current), Some(&f))?;
    crate::partition::generic_write(layer, Some(&current), Some(&f))?;
    crate::route_plans::generic_write(layer, Some(&current), Some(&f))?;
    let done = write_guarded(&*s.store, vec![guard], vec![Op::Update(layer, f)]).await;
    changed(&s, &who, AuditAction::Update, layer, Some(id), &done).await;
    done?;
    follow(&s, layer, vec![id]).await;
    Ok(feature_response(
        StatusCode::OK,
        &s,
        &access,
        layer,
        written(&s, layer, id).await?,
    ))
}

/// `DELETE /api/v1/layers/{layer}/items/{id}`: deletes a feature; needs `If-Match`; `204`.
#[utoipa::path(delete, path = "/api/v1/layers/{layer}/items/{id}", tag = "features",
    params(("layer" = String, Path, description = "A layer name, e.g. `households` (see `/api/v1/layers`)"), ("id" = i64, Path, description = "The feature id"), ("If-Match" = String, Header, description = "The `ETag` the feature was read with")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "Unknown layer or feature", content_type = "application/problem+json", body = Problem),
        (status = 412, description = "The feature changed since it was read; nothing was deleted", content_type = "application/problem+json", body = Problem),
        (status = 428, description = "`If-Match` is missing", content_type = "application/problem+json", body = Problem)))]
pub async fn delete(
    State(s): State<AppState>,
    who: Principal,
    Path((layer, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let layer = parse_layer(&layer)?;
    let access = Access::of(&who, &s)?;
    access.write(layer)?;
    let id = parse_id(&id)?;
    let (current, guard) = precondition(&s, &access, layer, id, &headers).await?;
    crate::disputes::generic_write(layer, Some(&current), None)?;
    crate::partition::generic_write(layer, Some(&current), None)?;
    crate::route_plans::generic_write(layer, Some(&current), None)?;
    let done = write_guarded(&*s.store, vec![guard], vec![Op::Delete(layer, id)]).await;
    changed(&s, &who, AuditAction::Delete, layer, Some(id), &done).await;
    done?;
    follow(&s, layer, vec![id]).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The body of a reveal.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RevealRequest {
    /// Why the values are needed (4 to 500 characters); kept in the audit log.
    pub reason: String,
}

/// The shortest and longest reason a reveal accepts, in characters.
const REASON_CHARS: std::ops::RangeInclusive<usize> = 4..=500;

/// `POST /api/v1/layers/{layer}/items/{id}/reveal`: a feature's masked personal fields in
/// clear, for a role allowed to ask, with a reason; recorded in the audit log before the
/// answer (no record, no answer).
#[utoipa::path(post, path = "/api/v1/layers/{layer}/items/{id}/reveal", tag = "features",
    params(("layer" = String, Path, description = "A layer with personal fields, e.g. `persons`"), ("id" = i64, Path, description = "The feature id")),
    request_body(content = RevealRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "`{layer, id, fields}`: the personal fields in clear", body = Object),
        (status = 403, description = "The role may not reveal this layer", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "Unknown layer or feature (or outside the scope)", content_type = "application/problem+json", body = Problem),
        (status = 422, description = "No reason, or one too short or too long", content_type = "application/problem+json", body = Problem),
        (status = 503, description = "The audit log cannot be written: nothing revealed", content_type = "application/problem+json", body = Problem)))]
pub async fn reveal(
    State(s): State<AppState>,
    who: Principal,
    Path((layer, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let layer = parse_layer(&layer)?;
    let access = Access::of(&who, &s)?;
    access.read(layer)?;
    let fields = gridgov_model::access::sensitive_fields(layer);
    let id = parse_id(&id)?;
    let object = format!("{}/{id}", layer.name());
    if fields.is_empty() || !who.role().may_reveal(layer) {
        let detail = json!({ "reason": "the role may not reveal this layer" });
        audit::record_by(
            &s,
            &who,
            AuditAction::Reveal,
            object,
            AuditResult::Denied,
            &detail,
        )
        .await?;
        return Err(ApiError::Forbidden(format!(
            "a {} may not reveal {layer}'s masked fields",
            who.role().token()
        )));
    }
    let json = json_body(&headers, &body, &["application/json"])?;
    let reason: serde_json::Value = json.get("reason").cloned().unwrap_or_default();
    let reason = reason.as_str().map(str::trim).unwrap_or_default();
    if !REASON_CHARS.contains(&reason.chars().count()) {
        return Err(ApiError::Unprocessable(vec![ValidationError::new(
            "reason",
            format!(
                "say why the values are needed, in {} to {} characters",
                REASON_CHARS.start(),
                REASON_CHARS.end()
            ),
        )]));
    }
    let f = s
        .store
        .get(layer, id)
        .await?
        .filter(|f| access.admits(f))
        .ok_or_else(|| ApiError::NotFound(format!("{layer} has no feature {id}")))?;
    let clear: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .filter_map(|(name, _)| {
            f.properties
                .get(*name)
                .map(|v| ((*name).to_owned(), v.to_json()))
        })
        .collect();
    let detail = json!({
        "reason": reason,
        "fields": clear.keys().collect::<Vec<_>>(),
    });
    audit::record_by(
        &s,
        &who,
        AuditAction::Reveal,
        object,
        AuditResult::Ok,
        &detail,
    )
    .await?;
    let mut r = Json(json!({"layer": layer.name(), "id": id.0, "fields": clear})).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}
