//! `/api/v1/lookup`: which township, village, group and grid hold a point, who is
//! responsible, the nearest stations; one point (GET) or up to 100,000 (POST).

use crate::access::Access;
use crate::auth::Principal;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query as QueryParams, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gridgov_index::batch::{self, BatchError, MAX_POINTS};
use gridgov_index::{Lookup, Nearest};
use gridgov_model::{Crs, Feature};
use serde::Deserialize;

use crate::openapi::Problem;
use serde_json::{json, Value};

use crate::{ApiError, AppState};

/// The largest lookup body: 100,000 GeoJSON points with a few properties each.
pub const LOOKUP_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// Query parameters of `GET /api/v1/lookup`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupParams {
    /// Longitude.
    pub lon: Option<String>,
    /// Latitude.
    pub lat: Option<String>,
    /// `wgs84`, `gcj02` or `bd09`.
    pub crs: Option<String>,
}

impl LookupParams {
    /// The point the parameters name ([`parse_point`]).
    pub(crate) fn point(&self) -> Result<(Crs, f64, f64), ApiError> {
        parse_point(
            self.lon.as_deref(),
            self.lat.as_deref(),
            self.crs.as_deref(),
        )
    }
}

/// Parses the `crs` parameter, which lookups require: a GCJ-02 point read as WGS84 would
/// land hundreds of metres off, in the wrong grid, without anyone noticing.
pub fn parse_crs(text: Option<&str>) -> Result<Crs, ApiError> {
    let choices = "wgs84 (GPS, CGCS2000), gcj02 (Amap, Tencent) or bd09 (Baidu)";
    let Some(text) = text else {
        return Err(ApiError::BadRequest(format!(
            "parameter 'crs' is missing: say which coordinate system the point is in: {choices}"
        )));
    };
    text.trim().parse::<Crs>().map_err(|_| {
        ApiError::BadRequest(format!("parameter 'crs': '{text}' is not one of {choices}"))
    })
}

/// Parses one of a point's two numbers (`lon` or `lat`); the range is checked for the pair.
fn parse_degrees(name: &str, text: Option<&str>) -> Result<f64, ApiError> {
    let what = if name == "lon" {
        "a longitude (a number from -180 to 180)"
    } else {
        "a latitude (a number from -90 to 90)"
    };
    let Some(text) = text else {
        return Err(ApiError::BadRequest(format!(
            "parameter '{name}' is missing: expected {what}"
        )));
    };
    text.trim()
        .parse::<f64>()
        .map_err(|_| ApiError::BadRequest(format!("parameter '{name}': '{text}' is not {what}")))
}

/// The `lon`, `lat` and `crs` parameters of one point, each checked (a 400 naming the one at
/// fault).
pub(crate) fn parse_point(
    lon: Option<&str>,
    lat: Option<&str>,
    crs: Option<&str>,
) -> Result<(Crs, f64, f64), ApiError> {
    let lon = parse_degrees("lon", lon)?;
    let lat = parse_degrees("lat", lat)?;
    gridgov_model::crs::lon_lat(lon, lat).map_err(|e| {
        let name = match e {
            gridgov_model::crs::RangeError::Longitude(_) => "lon",
            gridgov_model::crs::RangeError::Latitude(_) => "lat",
        };
        ApiError::BadRequest(format!("parameter '{name}': {e}"))
    })?;
    Ok((parse_crs(crs)?, lon, lat))
}

fn division(f: Option<&Feature>) -> Value {
    f.map_or(Value::Null, |f| {
        json!({
            "id": f.id.map(|i| i.0),
            "code": f.text("code").unwrap_or(f.division.as_str()),
            "name": f.text("name"),
        })
    })
}

fn nearest(n: Option<Nearest<'_>>) -> Value {
    n.map_or(Value::Null, |n| {
        let at = match &n.feature.geometry {
            Some(geo::Geometry::Point(p)) => json!([p.x(), p.y()]),
            _ => Value::Null,
        };
        json!({
            "id": n.feature.id.map(|i| i.0),
            "name": n.feature.text("name"),
            "distance_m": (n.metres * 10.0).round() / 10.0,
            "coordinates": at,
        })
    })
}

/// The JSON answer for one point.
fn answer(crs: Crs, lon: f64, lat: f64, l: &Lookup<'_>) -> Value {
    let grid = l.grid.map_or(Value::Null, |g| {
        json!({
            "id": g.id.map(|i| i.0),
            "code": g.text("code"),
            "name": g.text("name"),
            "worker_name": g.text("worker_name"),
            "worker_phone": g.text("worker_phone"),
        })
    });
    json!({
        "point": {"lon": lon, "lat": lat, "crs": crs.token()},
        "wgs84": [l.point.x, l.point.y],
        "township": division(l.township),
        "village": division(l.village),
        "villager_group": division(l.group),
        "grid": grid,
        "transfer_station": nearest(l.transfer_station),
        "collection_point": nearest(l.collection_point),
    })
}

/// `GET /api/v1/lookup?lon=&lat=&crs=`.
#[utoipa::path(get, path = "/api/v1/lookup", tag = "lookup",
    params(LookupParams),
    responses(
        (status = 200, description = "The township, village, grid (with its worker), villager group and nearest transfer station and collection point of the point", body = Object),
        (status = 400, description = "A missing or malformed parameter (named)", content_type = "application/problem+json", body = Problem)))]
pub async fn get_lookup(
    State(s): State<AppState>,
    who: Principal,
    QueryParams(p): QueryParams<LookupParams>,
) -> Result<Json<Value>, ApiError> {
    let access = Access::of(&who, &s)?;
    let (crs, lon, lat) = p.point()?;
    let index = s.index.read();
    let found = index
        .lookup_where(crs, lon, lat, &access)
        .ok_or_else(|| outside(crs, lon, lat, &access))?;
    Ok(Json(answer(crs, lon, lat, &found)))
}

/// The 404 of a point no lookup finds: outside the county, or outside the user's scope.
pub(crate) fn outside(crs: Crs, lon: f64, lat: f64, access: &Access) -> ApiError {
    ApiError::NotFound(format!(
        "the point ({lon}, {lat}) in {} lies outside the county or outside your scope ({})",
        crs.token(),
        access.scope()
    ))
}

/// Query parameters of `POST /api/v1/lookup`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BatchParams {
    /// `wgs84`, `gcj02` or `bd09`: the coordinate system of every point in the body.
    pub crs: Option<String>,
}

/// `POST /api/v1/lookup?crs=`: a CSV (`text/csv`, with longitude and latitude columns) or a
/// GeoJSON feature collection of points (`application/geo+json` or `application/json`), up
/// to 100,000 points; answered in the same format, every point in input order.
#[utoipa::path(post, path = "/api/v1/lookup", tag = "lookup",
    params(BatchParams),
    request_body(description = "Up to 100,000 points: CSV with longitude and latitude columns, or a GeoJSON FeatureCollection of points", content(
        (String = "text/csv"),
        (Object = "application/geo+json"))),
    responses(
        (status = 200, description = "The same rows or features in input order, each annotated (lookup_status, township_code, …)", content(
            (String = "text/csv"),
            (Object = "application/geo+json"))),
        (status = 400, description = "A malformed body or parameter", content_type = "application/problem+json", body = Problem),
        (status = 413, description = "More than 100,000 points or 64 MiB", content_type = "application/problem+json", body = Problem),
        (status = 415, description = "Neither CSV nor GeoJSON", content_type = "application/problem+json", body = Problem)))]
pub async fn post_lookup(
    State(s): State<AppState>,
    who: Principal,
    QueryParams(p): QueryParams<BatchParams>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let access = Access::of(&who, &s)?;
    let crs = parse_crs(p.crs.as_deref())?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(format!(
                "the body exceeds {} MiB; send at most {MAX_POINTS} points per request",
                LOOKUP_BODY_LIMIT / (1024 * 1024)
            ))
        } else {
            ApiError::BadRequest(format!("the body could not be read: {e}"))
        }
    })?;
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let csv = match media.as_str() {
        "text/csv" => true,
        "application/geo+json" | "application/json" => false,
        other => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "Content-Type '{other}': send text/csv (lon,lat columns) or application/geo+json (a feature collection of points)"
            )))
        }
    };
    let index = s.index.clone();
    let answered = tokio::task::spawn_blocking(move || {
        let index = index.read();
        let mut out = Vec::with_capacity(body.len() * 3);
        let result = if csv {
            batch::annotate_csv(&index, &access, crs, &body, MAX_POINTS, &mut out)
        } else {
            batch::annotate_geojson(&index, &access, crs, &body, MAX_POINTS, &mut out)
        };
        result.map(|_| out)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("lookup task: {e}")))?;
    let out = answered.map_err(|e| match e {
        BatchError::TooMany(_) => ApiError::TooLarge(e.to_string()),
        other => ApiError::BadRequest(other.to_string()),
    })?;
    let content_type = if csv {
        "text/csv; charset=utf-8"
    } else {
        "application/geo+json"
    };
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, content_type)], out).into_response())
}
