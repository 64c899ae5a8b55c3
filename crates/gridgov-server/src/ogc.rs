//! OGC API – Features under `/ogc`: Part 1 (Core, GeoJSON) and Part 2 (CRS by reference).
//!
//! Every layer is a collection named after it. Items come from the store in id order, with
//! ID-card numbers masked as in the REST API, and every field of the layer in `properties`
//! (`null` when empty), so that clients reading one page learn the whole schema; each
//! collection also links a JSON Schema of its features (`rel=describedBy`), which GDAL's OAPIF
//! driver reads for the field types.
//!
//! - Paging: `limit` (default [`DEFAULT_LIMIT`]; larger values are clamped to
//!   [`crate::MAX_LIMIT`], as the standard lets a server limit a page) and `offset`; pages link
//!   `next` and `prev`.
//! - `bbox`: 4 numbers (or 6, the heights being ignored), in CRS84 unless `bbox-crs` says
//!   otherwise; a collection without geometry has nothing in any box.
//! - `datetime`: an RFC 3339 instant or date, or an interval `a/b`, `../b`, `a/..` (an empty
//!   side is open too); bounds are included. It filters the layer's time field
//!   ([`time_field`]); a collection without one answers 400. On a date field an instant counts
//!   by its calendar date as written (in its own offset); on a date-time field a date covers
//!   its whole day (UTC).
//! - `crs` / `bbox-crs` (Part 2): CRS84 (default and storage), EPSG:4490 (CGCS2000) and
//!   EPSG:4326, the last two latitude first. gridgov treats WGS84 and CGCS2000 as one datum
//!   (they differ by centimetres), so only the axis order changes. Responses with features
//!   carry `Content-Crs`.
//! - Unknown query parameters on items are refused (400), as Part 1 allows; `f=json` (and
//!   `f=geojson` on items) is accepted.
//!
//! `/ogc/api` is the OpenAPI 3.0 description of these routes (`service-desc`): GDAL reads it
//! before counting filtered features, and prints errors when it is missing.

use std::fmt::Write as _;

use axum::extract::{Path, Query as QueryParams, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use geo::{BoundingRect, Coord, MapCoordsInPlace};
use gridgov_model::{Feature, FeatureId, FieldDef, FieldType, GeometryKind, Layer, Value};
use gridgov_store::{Query, TimeFilter, TimeRange};
use serde_json::{json, Value as J};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::Access;
use crate::auth::Principal;
use crate::openapi::{FeatureCollection, GeoJsonFeature, Problem};
use crate::{parse_layer, ApiError, AppState, MAX_LIMIT};

/// Page size when a request gives no `limit` (the standard's example of 10 is too small to
/// read a layer quickly).
pub const DEFAULT_LIMIT: u64 = 100;

const JSON: &str = "application/json";
const GEOJSON: &str = "application/geo+json";
const SCHEMA_JSON: &str = "application/schema+json";

/// The conformance classes claimed.
pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
];

const OPENAPI_JSON: &str = "application/vnd.oai.openapi+json;version=3.0";

/// The OGC API routes, to be nested under `/ogc`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(landing))
        .routes(routes!(api))
        .routes(routes!(conformance))
        .routes(routes!(collections))
        .routes(routes!(collection))
        .routes(routes!(schema))
        .routes(routes!(items))
        .routes(routes!(item))
}

// ---------------------------------------------------------------------------------------------
// Coordinate reference systems (Part 2)

/// A coordinate reference system the API can answer in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OgcCrs {
    /// WGS84 longitude, latitude: the default and the storage CRS.
    Crs84,
    /// CGCS2000 geographic, latitude first.
    Epsg4490,
    /// WGS84 geographic, latitude first.
    Epsg4326,
}

impl OgcCrs {
    /// Every CRS offered, the default first.
    pub const ALL: [OgcCrs; 3] = [OgcCrs::Crs84, OgcCrs::Epsg4490, OgcCrs::Epsg4326];

    /// Its URI.
    pub fn uri(self) -> &'static str {
        match self {
            OgcCrs::Crs84 => "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
            OgcCrs::Epsg4490 => "http://www.opengis.net/def/crs/EPSG/0/4490",
            OgcCrs::Epsg4326 => "http://www.opengis.net/def/crs/EPSG/0/4326",
        }
    }

    /// Whether coordinates are written latitude first.
    pub fn lat_first(self) -> bool {
        self != OgcCrs::Crs84
    }

    /// Parses a CRS URI (or a safe CURIE such as `[EPSG:4490]`) of parameter `name`.
    fn parse(name: &str, text: &str) -> Result<Self, ApiError> {
        let t = text.trim();
        let t = t
            .strip_prefix("https://")
            .map_or_else(|| t.to_owned(), |rest| format!("http://{rest}"));
        let curie = t.trim_start_matches('[').trim_end_matches(']');
        Self::ALL
            .into_iter()
            .find(|c| {
                c.uri() == t
                    || match c {
                        OgcCrs::Crs84 => curie.eq_ignore_ascii_case("OGC:CRS84"),
                        OgcCrs::Epsg4490 => curie.eq_ignore_ascii_case("EPSG:4490"),
                        OgcCrs::Epsg4326 => curie.eq_ignore_ascii_case("EPSG:4326"),
                    }
            })
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "parameter '{name}': '{text}' is not a supported CRS; supported: {}",
                    Self::ALL.map(OgcCrs::uri).join(", ")
                ))
            })
    }
}

// ---------------------------------------------------------------------------------------------
// Layers as collections

/// The field the `datetime` parameter filters, and a collection's temporal extent: the date
/// or date-time at which a record starts (a plan's creation, a tenancy's check-in, the start
/// of supervision, a position report's time, the day a dispute was opened). `None` for
/// layers without time.
pub fn time_field(layer: Layer) -> Option<&'static FieldDef> {
    let name = match layer {
        Layer::GridPlans => "created_on",
        Layer::Tenancies => "check_in",
        Layer::SupervisedPersons => "start_date",
        Layer::PositionReports => "reported_at",
        Layer::Disputes => "opened_on",
        Layer::DisputeSteps => "at",
        Layer::RoutePlans => "service_date",
        _ => return None,
    };
    layer
        .field(name)
        .filter(|f| matches!(f.ty, FieldType::Date | FieldType::DateTime))
}

fn english(layer: Layer) -> String {
    layer.name().replace('_', " ")
}

fn has_geometry(layer: Layer) -> bool {
    layer.geometry() != GeometryKind::None
}

/// Where a request's links point: `http(s)://host/ogc`, from the `Host` header (or the
/// request's authority) and `X-Forwarded-Proto`.
fn base_url(headers: &HeaderMap, uri: &Uri) -> Result<String, ApiError> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(axum::http::uri::Authority::as_str))
        .unwrap_or("localhost");
    let fine = |c: char| c.is_ascii_alphanumeric() || ".-:[]_".contains(c);
    if host.is_empty() || !host.chars().all(fine) {
        return Err(ApiError::BadRequest(
            "the Host header is not a host name".into(),
        ));
    }
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .and_then(|p| p.split(',').next())
        .map(|p| p.trim().to_ascii_lowercase())
        .filter(|p| p == "http" || p == "https")
        .unwrap_or_else(|| "http".to_owned());
    Ok(format!("{proto}://{host}/ogc"))
}

fn link(rel: &str, ty: &str, title: &str, href: &str) -> J {
    json!({"rel": rel, "type": ty, "title": title, "href": href})
}

fn respond(content_type: &'static str, body: &J) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, content_type)],
        body.to_string(),
    )
        .into_response()
}

fn respond_features(body: &J, crs: OgcCrs) -> Response {
    let mut r = respond(GEOJSON, body);
    if let Ok(v) = HeaderValue::from_str(&format!("<{}>", crs.uri())) {
        r.headers_mut().insert("content-crs", v);
    }
    r
}

/// Checks the `f` parameter of a request for JSON (`geojson` too where features are sent).
fn check_format(params: &[(String, String)], geojson_ok: bool) -> Result<(), ApiError> {
    for (k, v) in params {
        if k == "f" && !(v == "json" || (geojson_ok && v == "geojson")) {
            return Err(ApiError::BadRequest(format!(
                "parameter 'f': '{v}' is not offered; use f=json{}",
                if geojson_ok { " or f=geojson" } else { "" }
            )));
        }
    }
    Ok(())
}

/// The one value of a query parameter; a repeated parameter is refused.
fn single<'a>(params: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, ApiError> {
    let mut found = params.iter().filter(|(k, _)| k == name);
    let first = found.next().map(|(_, v)| v.as_str());
    if found.next().is_some() {
        return Err(ApiError::BadRequest(format!(
            "parameter '{name}' is given more than once"
        )));
    }
    Ok(first)
}

/// Refuses query parameters other than `known`.
fn only(params: &[(String, String)], known: &[&str]) -> Result<(), ApiError> {
    if let Some((k, _)) = params.iter().find(|(k, _)| !known.contains(&k.as_str())) {
        return Err(ApiError::BadRequest(format!(
            "unknown parameter '{k}'; this resource takes {}",
            known.join(", ")
        )));
    }
    Ok(())
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved characters).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The spatial extent (CRS84) and temporal extent of a layer, from the live index where the
/// layer is indexed and from the store otherwise.
async fn extents(
    s: &AppState,
    access: &Access,
    layer: Layer,
) -> Result<(Option<[f64; 4]>, Option<[String; 2]>), ApiError> {
    let time = time_field(layer);
    if !has_geometry(layer) && time.is_none() {
        return Ok((None, None));
    }
    let fold = |features: &mut dyn Iterator<Item = &Feature>| {
        let mut bbox: Option<[f64; 4]> = None;
        let mut span: Option<(Value, Value)> = None;
        for f in features.filter(|f| access.admits(f)) {
            if let Some(r) = f.geometry.as_ref().and_then(BoundingRect::bounding_rect) {
                let b = bbox.get_or_insert([r.min().x, r.min().y, r.max().x, r.max().y]);
                b[0] = b[0].min(r.min().x);
                b[1] = b[1].min(r.min().y);
                b[2] = b[2].max(r.max().x);
                b[3] = b[3].max(r.max().y);
            }
            if let Some(v) = time.and_then(|t| f.get(t.name)) {
                span = Some(match span {
                    None => (v.clone(), v.clone()),
                    Some((lo, hi)) => (
                        if earlier(v, &lo) { v.clone() } else { lo },
                        if earlier(&hi, v) { v.clone() } else { hi },
                    ),
                });
            }
        }
        (bbox, span)
    };
    let indexed = {
        let index = s.index.read();
        index
            .layer(layer)
            .filter(|_| crate::live::indexed(layer))
            .map(|l| fold(&mut l.features()))
    };
    let (bbox, span) = match indexed {
        Some(found) => found,
        None if time.is_some() => {
            let all = s.store.query(layer, &Query::default()).await?;
            fold(&mut all.iter())
        }
        None => (None, None),
    };
    let interval = span.map(|(lo, hi)| [interval_start(&lo), interval_end(&hi)]);
    Ok((bbox, interval))
}

fn earlier(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Date(x), Value::Date(y)) => x < y,
        (Value::DateTime(x), Value::DateTime(y)) => x < y,
        _ => false,
    }
}

fn interval_start(v: &Value) -> String {
    match v {
        Value::Date(d) => format!("{}T00:00:00Z", d.format("%Y-%m-%d")),
        other => other.to_text(),
    }
}

fn interval_end(v: &Value) -> String {
    match v {
        Value::Date(d) => format!("{}T23:59:59Z", d.format("%Y-%m-%d")),
        other => other.to_text(),
    }
}

async fn collection_json(
    s: &AppState,
    access: &Access,
    base: &str,
    layer: Layer,
) -> Result<J, ApiError> {
    let name = layer.name();
    let en = english(layer);
    let url = format!("{base}/collections/{name}");
    let (bbox, interval) = extents(s, access, layer).await?;
    let mut extent = serde_json::Map::new();
    if let Some(b) = bbox {
        extent.insert(
            "spatial".into(),
            json!({"bbox": [b], "crs": OgcCrs::Crs84.uri()}),
        );
    }
    if let Some(i) = interval {
        extent.insert(
            "temporal".into(),
            json!({"interval": [i], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}),
        );
    }
    let geometry = if has_geometry(layer) {
        format!("{} features", layer.geometry().ogc_name().to_lowercase())
    } else {
        "records without geometry".to_owned()
    };
    let time = time_field(layer).map_or_else(String::new, |f| {
        format!("; `datetime` filters `{}`", f.name)
    });
    let mut c = json!({
        "id": name,
        "title": format!("{} {en}", layer.zh()),
        "description": format!(
            "{} ({en}): {geometry} with the fields {}{time}.",
            layer.zh(),
            layer.fields().iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
        ),
        "itemType": "feature",
        "links": [
            link("self", JSON, "this collection", &url),
            link("items", GEOJSON, "its features", &format!("{url}/items")),
            link("describedBy", SCHEMA_JSON, "the schema of its features", &format!("{url}/schema")),
        ],
    });
    if let Some(obj) = c.as_object_mut() {
        if !extent.is_empty() {
            obj.insert("extent".into(), J::Object(extent));
        }
        if has_geometry(layer) {
            obj.insert("crs".into(), json!(OgcCrs::ALL.map(OgcCrs::uri)));
            obj.insert("storageCrs".into(), json!(OgcCrs::Crs84.uri()));
        }
    }
    Ok(c)
}

// ---------------------------------------------------------------------------------------------
// Handlers

#[utoipa::path(get, path = "", tag = "ogc",
    responses((status = 200, description = "The landing page: links to conformance, collections and the API description", body = Object),
        (status = 400, description = "An unsupported format", content_type = "application/problem+json", body = Problem)))]
/// `GET /ogc`: the landing page.
async fn landing(
    headers: HeaderMap,
    uri: Uri,
    QueryParams(params): QueryParams<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    check_format(&params, false)?;
    let base = base_url(&headers, &uri)?;
    Ok(respond(
        JSON,
        &json!({
            "title": "gridgov OGC API – Features",
            "description": "The county's layers (grassroots governance: divisions, grids, \
                households, sanitation, roads, social management) as OGC API – Features \
                collections, in GeoJSON.",
            "links": [
                link("self", JSON, "this document", &base),
                link("conformance", JSON, "the conformance classes implemented", &format!("{base}/conformance")),
                link("data", JSON, "the collections (one per layer)", &format!("{base}/collections")),
                link("service-desc", OPENAPI_JSON, "the API's OpenAPI 3.0 description", &format!("{base}/api")),
            ],
        }),
    ))
}

#[utoipa::path(get, path = "/api", tag = "ogc",
    responses((status = 200, description = "An OpenAPI 3.0 description of the `/ogc` routes, for OGC clients (GDAL 3.6 reads 3.0 only)", content_type = "application/vnd.oai.openapi+json;version=3.0", body = Object)))]
/// `GET /ogc/api`: the OpenAPI 3.0 description of these routes. GDAL's OAPIF driver reads it
/// (and prints errors when there is none) before counting filtered features.
async fn api(
    headers: HeaderMap,
    uri: Uri,
    QueryParams(params): QueryParams<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    check_format(&params, false)?;
    let base = base_url(&headers, &uri)?;
    Ok(respond(OPENAPI_JSON, &openapi(&base)))
}

/// The OpenAPI 3.0 document of the `/ogc` routes, with `base` as the server.
fn openapi(base: &str) -> J {
    let problem = json!({"description": "a problem (RFC 9457)", "content": {"application/problem+json": {"schema": {"type": "object"}}}});
    let ok = |description: &str, ty: &str| json!({"description": description, "content": {ty: {"schema": {"type": "object"}}}});
    let param = |name: &str| json!({"$ref": format!("#/components/parameters/{name}")});
    let op = |id: &str, summary: &str, params: Vec<J>, ty: &str, not_found: bool| {
        let mut responses = json!({"200": ok(summary, ty), "400": problem.clone()});
        if not_found {
            responses["404"] = problem.clone();
        }
        json!({"get": {"operationId": id, "summary": summary, "parameters": params, "responses": responses}})
    };
    let crs_list: Vec<&str> = OgcCrs::ALL.map(OgcCrs::uri).to_vec();
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "gridgov OGC API – Features",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every layer of the county map as a collection of GeoJSON features.",
        },
        "servers": [{"url": base}],
        "paths": {
            "/": op("getLandingPage", "the landing page", vec![param("f")], JSON, false),
            "/api": op("getApi", "this document", vec![param("f")], OPENAPI_JSON, false),
            "/conformance": op("getConformance", "the conformance classes", vec![param("f")], JSON, false),
            "/collections": op("getCollections", "every collection", vec![param("f")], JSON, false),
            "/collections/{collectionId}": op("getCollection", "one collection", vec![param("collectionId"), param("f")], JSON, true),
            "/collections/{collectionId}/schema": op("getSchema", "the JSON Schema of a collection's features", vec![param("collectionId"), param("f")], SCHEMA_JSON, true),
            "/collections/{collectionId}/items": op(
                "getFeatures",
                "a page of a collection's features, in id order",
                ["collectionId", "limit", "offset", "bbox", "bbox-crs", "datetime", "crs", "f"].map(param).to_vec(),
                GEOJSON,
                true,
            ),
            "/collections/{collectionId}/items/{featureId}": op(
                "getFeature",
                "one feature",
                ["collectionId", "featureId", "crs", "f"].map(param).to_vec(),
                GEOJSON,
                true,
            ),
        },
        "components": {"parameters": {
            "collectionId": {"name": "collectionId", "in": "path", "required": true, "schema": {"type": "string", "enum": Layer::ALL.iter().map(|l| l.name()).collect::<Vec<_>>()}},
            "featureId": {"name": "featureId", "in": "path", "required": true, "schema": {"type": "string"}},
            "limit": {"name": "limit", "in": "query", "required": false, "description": format!("page size; larger values are served as {MAX_LIMIT}"), "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
            "offset": {"name": "offset", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0, "default": 0}},
            "bbox": {"name": "bbox", "in": "query", "required": false, "style": "form", "explode": false, "schema": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}},
            "bbox-crs": {"name": "bbox-crs", "in": "query", "required": false, "schema": {"type": "string", "format": "uri", "enum": crs_list, "default": OgcCrs::Crs84.uri()}},
            "datetime": {"name": "datetime", "in": "query", "required": false, "description": "an RFC 3339 instant or date, or an interval (a/b, ../b, a/..) on the collection's time field", "schema": {"type": "string"}},
            "crs": {"name": "crs", "in": "query", "required": false, "schema": {"type": "string", "format": "uri", "enum": crs_list, "default": OgcCrs::Crs84.uri()}},
            "f": {"name": "f", "in": "query", "required": false, "schema": {"type": "string", "enum": ["json", "geojson"]}},
        }},
    })
}

#[utoipa::path(get, path = "/conformance", tag = "ogc",
    responses((status = 200, description = "The conformance classes: Core, GeoJSON, OpenAPI 3.0, CRS (Part 2)", body = Object)))]
/// `GET /ogc/conformance`.
async fn conformance(
    QueryParams(params): QueryParams<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    check_format(&params, false)?;
    Ok(respond(JSON, &json!({ "conformsTo": CONFORMANCE })))
}

#[utoipa::path(get, path = "/collections", tag = "ogc",
    responses((status = 200, description = "Every layer as a collection, with its extents", body = Object)))]
/// `GET /ogc/collections`: every layer.
async fn collections(
    State(s): State<AppState>,
    who: Principal,
    headers: HeaderMap,
    uri: Uri,
    QueryParams(params): QueryParams<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    check_format(&params, false)?;
    let base = base_url(&headers, &uri)?;
    let access = Access::of(&who, &s)?;
    let mut list = Vec::with_capacity(Layer::ALL.len());
    // The layers the role reads.
    for layer in Layer::ALL.iter().filter(|l| access.role().reads(**l)) {
        list.push(collection_json(&s, &access, &base, *layer).await?);
    }
    Ok(respond(
        JSON,
        &json!({
            "links": [link("self", JSON, "the collections", &format!("{base}/collections"))],
            "collections": list,
        }),
    ))
}

#[utoipa::path(get, path = "/collections/{collection}", tag = "ogc",
    params(("collection" = String, Path, description = "A collection id: a layer name, e.g. `households`")),
    responses((status = 200, description = "One collection", body = Object),
        (status = 404, description = "Unknown collection", content_type = "application/problem+json", body = Problem)))]
/// `GET /ogc/collections/{collection}`.
async fn collection(
    State(s): State<AppState>,
    who: Principal,
    Path(name): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    QueryParams(params): QueryParams<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let layer = parse_layer(&name)?;
    let access = Access::of(&who, &s)?;
    access.read(layer)?;
    check_format(&params, false)?;
    let base = base_url(&headers, &uri)?;
    Ok(respond(
        JSON,
        &collection_json(&s, &access, &base, layer).await?,
    ))
}

#[utoipa::path(get, path = "/collections/{collection}/schema", tag = "ogc",
    params(("collection" = String, Path, description = "A collection id: a layer name, e.g. `households`")),
    responses((status = 200, description = "A JSON Schema of the collection's features", content_type = "application/schema+json", body = Object),
        (status = 404, description = "Unknown collection", content_type = "application/problem+json", body = Problem)))]
/// `GET /ogc/collections/{collection}/schema`: a JSON Schema of the collection's features.
async fn schema(
    Path(name): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    QueryParams(params): QueryParams<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let layer = parse_layer(&name)?;
    check_format(&params, false)?;
    let base = base_url(&headers, &uri)?;
    let mut props = serde_json::Map::new();
    props.insert(
        "division_code".into(),
        json!({"type": "string", "description": "the owning division's 12-digit code"}),
    );
    for f in layer.fields() {
        let t = match f.ty {
            FieldType::Text => json!({"type": "string"}),
            FieldType::Integer => json!({"type": "integer"}),
            FieldType::Real => json!({"type": "number"}),
            FieldType::Date => json!({"type": "string", "format": "date"}),
            FieldType::DateTime => json!({"type": "string", "format": "date-time"}),
            FieldType::Bool => json!({"type": "boolean"}),
        };
        props.insert(f.name.to_owned(), t);
    }
    let required: Vec<&str> = std::iter::once("division_code")
        .chain(layer.fields().iter().filter(|f| f.required).map(|f| f.name))
        .collect();
    let geometry = if has_geometry(layer) {
        json!({"type": "object", "description": layer.geometry().ogc_name()})
    } else {
        json!({"type": "null"})
    };
    let body = json!({
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": format!("{base}/collections/{}/schema", layer.name()),
        "title": format!("{} {}", layer.zh(), english(layer)),
        "type": "object",
        "required": ["type", "id", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "integer"},
            "geometry": geometry,
            "properties": {"type": "object", "required": required, "properties": props},
        },
    });
    Ok(respond(SCHEMA_JSON, &body))
}

/// The parameters of an items request, checked.
#[derive(Debug)]
struct ItemsRequest {
    limit: u64,
    offset: u64,
    /// As given (kept for links) and parsed into CRS84 order.
    bbox: Option<(String, [f64; 4])>,
    bbox_crs: Option<OgcCrs>,
    datetime: Option<(String, TimeFilter)>,
    crs: Option<OgcCrs>,
}

impl ItemsRequest {
    fn parse(layer: Layer, params: &[(String, String)]) -> Result<Self, ApiError> {
        only(
            params,
            &[
                "limit", "offset", "bbox", "bbox-crs", "datetime", "crs", "f",
            ],
        )?;
        check_format(params, true)?;
        let limit = match single(params, "limit")? {
            None => DEFAULT_LIMIT,
            Some(t) => parse_limit(t)?,
        };
        let offset = single(params, "offset")?
            .map(|t| {
                t.trim().parse::<u64>().map_err(|_| {
                    ApiError::BadRequest(format!(
                        "parameter 'offset': '{t}' is not a whole number ≥ 0"
                    ))
                })
            })
            .transpose()?
            .unwrap_or(0);
        let crs = single(params, "crs")?
            .map(|t| OgcCrs::parse("crs", t))
            .transpose()?;
        let bbox_crs = single(params, "bbox-crs")?
            .map(|t| OgcCrs::parse("bbox-crs", t))
            .transpose()?;
        let bbox = match single(params, "bbox")? {
            Some(t) => Some((
                t.to_owned(),
                parse_bbox(t, bbox_crs.unwrap_or(OgcCrs::Crs84))?,
            )),
            None if bbox_crs.is_some() => {
                return Err(ApiError::BadRequest(
                    "parameter 'bbox-crs' needs 'bbox'".into(),
                ))
            }
            None => None,
        };
        let datetime = match single(params, "datetime")? {
            None => None,
            Some(t) => {
                let field = time_field(layer).ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "parameter 'datetime': collection '{layer}' has no time"
                    ))
                })?;
                Some((
                    t.to_owned(),
                    TimeFilter {
                        field: field.name,
                        range: parse_datetime(t, field.ty)?,
                    },
                ))
            }
        };
        Ok(Self {
            limit,
            offset,
            bbox,
            bbox_crs,
            datetime,
            crs,
        })
    }

    /// The query string of this request at another offset (parameters in a fixed order).
    fn query_string(&self, offset: u64) -> String {
        let mut q = vec![format!("limit={}", self.limit)];
        if offset > 0 {
            q.push(format!("offset={offset}"));
        }
        if let Some((t, _)) = &self.bbox {
            q.push(format!("bbox={}", encode(t)));
        }
        if let Some(c) = self.bbox_crs {
            q.push(format!("bbox-crs={}", encode(c.uri())));
        }
        if let Some((t, _)) = &self.datetime {
            q.push(format!("datetime={}", encode(t)));
        }
        if let Some(c) = self.crs {
            q.push(format!("crs={}", encode(c.uri())));
        }
        q.join("&")
    }
}

/// A page size: a whole number ≥ 1; larger than [`MAX_LIMIT`] is served as [`MAX_LIMIT`].
fn parse_limit(text: &str) -> Result<u64, ApiError> {
    let t = text.trim();
    let bad = || {
        ApiError::BadRequest(format!(
            "parameter 'limit': '{text}' is not a whole number from 1 (pages hold at most \
             {MAX_LIMIT})"
        ))
    };
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    // All digits: only too large to parse if it is far above the cap.
    let n = t.parse::<u64>().unwrap_or(u64::MAX);
    if n == 0 {
        return Err(bad());
    }
    Ok(n.min(MAX_LIMIT))
}

/// Parses `bbox` (4 or 6 numbers, in `crs` axis order) into CRS84 `[min_lon, min_lat,
/// max_lon, max_lat]`.
fn parse_bbox(text: &str, crs: OgcCrs) -> Result<[f64; 4], ApiError> {
    let parts: Vec<&str> = text.split(',').collect();
    let (lo, hi) = match parts.len() {
        4 => ((parts[0], parts[1]), (parts[2], parts[3])),
        6 => ((parts[0], parts[1]), (parts[3], parts[4])),
        _ => {
            return Err(ApiError::BadRequest(format!(
                "parameter 'bbox': '{text}' is not 4 numbers (or 6, with heights)"
            )))
        }
    };
    let (lo, hi) = if crs.lat_first() {
        ((lo.1, lo.0), (hi.1, hi.0))
    } else {
        (lo, hi)
    };
    crate::parse_bbox(&format!("{},{},{},{}", lo.0, lo.1, hi.0, hi.1))
}

/// One end of a `datetime` value.
#[derive(Debug, Clone, Copy)]
enum Moment {
    Date(NaiveDate),
    /// An instant, with the calendar date it was written with.
    Instant(DateTime<Utc>, NaiveDate),
}

fn parse_moment(text: &str) -> Option<Moment> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(Moment::Instant(d.with_timezone(&Utc), d.date_naive()));
    }
    // A date; GDAL writes dates as `YYYY-MM-DDT`.
    let date = t.strip_suffix(['T', 't']).unwrap_or(t);
    if let Ok(d) = NaiveDate::parse_from_str(date, "%Y-%m-%d") {
        if date.len() == 10 {
            return Some(Moment::Date(d));
        }
    }
    // GDAL also writes `YYYY-MM-DDTHHZ` and `YYYY-MM-DDTHH:MMZ`.
    let (day, time) = t.split_once(['T', 't'])?;
    let hm = time.strip_suffix(['Z', 'z'])?;
    let full = match hm.len() {
        2 => format!("{day}T{hm}:00:00Z"),
        5 => format!("{day}T{hm}:00Z"),
        _ => return None,
    };
    DateTime::parse_from_rfc3339(&full)
        .ok()
        .map(|d| Moment::Instant(d.with_timezone(&Utc), d.date_naive()))
}

/// Rounds to whole milliseconds (stores keep milliseconds): up for a start, down for an end.
fn to_millis(t: DateTime<Utc>, up: bool) -> DateTime<Utc> {
    let ms = t.timestamp_millis();
    let exact = t.timestamp_subsec_millis() * 1_000_000 == t.timestamp_subsec_nanos();
    let ms = if up && !exact {
        ms.saturating_add(1)
    } else {
        ms
    };
    DateTime::from_timestamp_millis(ms).unwrap_or(t)
}

/// Parses `datetime` into bounds for a field of type `ty` (`Date` or `DateTime`).
fn parse_datetime(text: &str, ty: FieldType) -> Result<TimeRange, ApiError> {
    let bad = |why: &str| ApiError::BadRequest(format!("parameter 'datetime': '{text}' {why}"));
    let side = |s: &str| -> Result<Option<Moment>, ApiError> {
        let s = s.trim();
        if s.is_empty() || s == ".." {
            return Ok(None);
        }
        parse_moment(s).map(Some).ok_or_else(|| {
            bad("is not an RFC 3339 date-time or date, or an interval start/end with '..' for an open end")
        })
    };
    let (start, end) = match text.split('/').collect::<Vec<_>>()[..] {
        [one] => {
            let m = side(one)?.ok_or_else(|| bad("is not an instant"))?;
            (Some(m), Some(m))
        }
        [a, b] => (side(a)?, side(b)?),
        _ => return Err(bad("has more than one '/'")),
    };
    if start.is_none() && end.is_none() {
        return Err(bad("is open at both ends"));
    }
    let range = if ty == FieldType::Date {
        let day = |m: Moment| match m {
            Moment::Date(d) | Moment::Instant(_, d) => d,
        };
        TimeRange::Dates {
            start: start.map(day),
            end: end.map(day),
        }
    } else {
        let first = |m: Moment| match m {
            Moment::Date(d) => d.and_hms_opt(0, 0, 0).map(|n| n.and_utc()),
            Moment::Instant(t, _) => Some(to_millis(t, true)),
        };
        let last = |m: Moment| match m {
            Moment::Date(d) => d.and_hms_milli_opt(23, 59, 59, 999).map(|n| n.and_utc()),
            Moment::Instant(t, _) => Some(to_millis(t, false)),
        };
        TimeRange::Instants {
            start: start.and_then(first),
            end: end.and_then(last),
        }
    };
    let reversed = match range {
        TimeRange::Dates {
            start: Some(a),
            end: Some(b),
        } => a > b,
        TimeRange::Instants {
            start: Some(a),
            end: Some(b),
        } => a > b,
        _ => false,
    };
    if reversed {
        return Err(bad("ends before it starts"));
    }
    Ok(range)
}

/// A feature as the API sends it: ID-card numbers masked, coordinates in `crs`, and every
/// field of the layer present (`null` when empty).
fn feature_json(access: &Access, layer: Layer, feature: Feature, crs: OgcCrs) -> J {
    let mut f = access.mask(layer, feature);
    if crs.lat_first() {
        if let Some(g) = f.geometry.as_mut() {
            g.map_coords_in_place(|c| Coord { x: c.y, y: c.x });
        }
    }
    let mut json = f.to_geojson();
    if let Some(props) = json.get_mut("properties").and_then(J::as_object_mut) {
        for def in layer.fields() {
            props.entry(def.name).or_insert(J::Null);
        }
    }
    json
}

#[utoipa::path(get, path = "/collections/{collection}/items", tag = "ogc",
    params(("collection" = String, Path, description = "A collection id: a layer name, e.g. `households`"),
        ("limit" = Option<u64>, Query, description = "Page size: default 100, at most 10,000 (larger values are clamped)"),
        ("offset" = Option<u64>, Query, description = "Features to skip; the `next` link carries it"),
        ("bbox" = Option<String>, Query, description = "`minx,miny,maxx,maxy` (or six numbers), in `bbox-crs`"),
        ("bbox-crs" = Option<String>, Query, description = "The CRS of `bbox` (Part 2)"),
        ("datetime" = Option<String>, Query, description = "An RFC 3339 instant or interval (`a/b`, `../b`, `a/..`) on the layer's time field"),
        ("crs" = Option<String>, Query, description = "Output CRS (Part 2): `http://www.opengis.net/def/crs/OGC/1.3/CRS84` (default), `…/EPSG/0/4490` (CGCS2000, latitude first) or `…/EPSG/0/4326`")),
    responses((status = 200, description = "A page of features with `next`/`prev` links", content_type = "application/geo+json", body = FeatureCollection),
        (status = 400, description = "A malformed or unknown parameter", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "Unknown collection", content_type = "application/problem+json", body = Problem)))]
/// `GET /ogc/collections/{collection}/items`.
async fn items(
    State(s): State<AppState>,
    who: Principal,
    Path(name): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    QueryParams(params): QueryParams<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let layer = parse_layer(&name)?;
    let access = Access::of(&who, &s)?;
    access.read(layer)?;
    let req = ItemsRequest::parse(layer, &params)?;
    let base = base_url(&headers, &uri)?;
    let crs = req.crs.unwrap_or(OgcCrs::Crs84);
    let query = Query {
        bbox: req.bbox.as_ref().map(|(_, b)| *b),
        time: req.datetime.as_ref().map(|(_, t)| *t),
        ..Query::default()
    };
    // Features without geometry are in no box.
    let spatial_miss = query.bbox.is_some() && !has_geometry(layer);
    let (matched, features): (u64, Vec<J>) = if spatial_miss {
        (0, Vec::new())
    } else {
        let page = Query {
            limit: Some(req.limit),
            offset: Some(req.offset),
            ..query
        };
        let (matched, found) = access.page(&*s.store, layer, page, true).await?;
        (
            matched.unwrap_or(0),
            found
                .into_iter()
                .map(|f| feature_json(&access, layer, f, crs))
                .collect(),
        )
    };
    let items_url = format!("{base}/collections/{}/items", layer.name());
    let mut links = vec![
        link(
            "self",
            GEOJSON,
            "this page",
            &format!("{items_url}?{}", req.query_string(req.offset)),
        ),
        link(
            "collection",
            JSON,
            "the collection",
            &format!("{base}/collections/{}", layer.name()),
        ),
    ];
    let returned = features.len() as u64;
    if req.offset.saturating_add(returned) < matched && returned > 0 {
        links.push(link(
            "next",
            GEOJSON,
            "the next page",
            &format!("{items_url}?{}", req.query_string(req.offset + returned)),
        ));
    }
    if req.offset > 0 {
        let prev = req
            .offset
            .saturating_sub(req.limit)
            .min(matched.saturating_sub(1));
        links.push(link(
            "prev",
            GEOJSON,
            "the previous page",
            &format!("{items_url}?{}", req.query_string(prev)),
        ));
    }
    crate::audit::personal_read(&s, &who, layer, &crate::items::json_ids(&features), "ogc").await?;
    let body = json!({
        "type": "FeatureCollection",
        "timeStamp": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        "numberMatched": matched,
        "numberReturned": returned,
        "links": links,
        "features": features,
    });
    Ok(respond_features(&body, crs))
}

#[utoipa::path(get, path = "/collections/{collection}/items/{fid}", tag = "ogc",
    params(("collection" = String, Path, description = "A collection id: a layer name, e.g. `households`"), ("fid" = i64, Path, description = "The feature id"), ("crs" = Option<String>, Query, description = "Output CRS (Part 2): `http://www.opengis.net/def/crs/OGC/1.3/CRS84` (default), `…/EPSG/0/4490` (CGCS2000, latitude first) or `…/EPSG/0/4326`")),
    responses((status = 200, description = "One feature", content_type = "application/geo+json", body = GeoJsonFeature),
        (status = 404, description = "Unknown collection or feature", content_type = "application/problem+json", body = Problem)))]
/// `GET /ogc/collections/{collection}/items/{fid}`.
async fn item(
    State(s): State<AppState>,
    who: Principal,
    Path((name, fid)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
    QueryParams(params): QueryParams<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let layer = parse_layer(&name)?;
    let access = Access::of(&who, &s)?;
    access.read(layer)?;
    only(&params, &["crs", "f"])?;
    check_format(&params, true)?;
    let crs = single(&params, "crs")?
        .map(|t| OgcCrs::parse("crs", t))
        .transpose()?
        .unwrap_or(OgcCrs::Crs84);
    let base = base_url(&headers, &uri)?;
    let missing = || ApiError::NotFound(format!("collection '{layer}' has no feature '{fid}'"));
    // Ids are whole numbers: any other id names no feature.
    let id: i64 = fid.parse().map_err(|_| missing())?;
    let f = s
        .store
        .get(layer, FeatureId(id))
        .await?
        .filter(|f| access.admits(f))
        .ok_or_else(missing)?;
    crate::audit::personal_read(&s, &who, layer, &[FeatureId(id)], "ogc").await?;
    let mut body = feature_json(&access, layer, f, crs);
    let url = format!("{base}/collections/{}", layer.name());
    let crs_query = if crs == OgcCrs::Crs84 {
        String::new()
    } else {
        format!("?crs={}", encode(crs.uri()))
    };
    if let Some(obj) = body.as_object_mut() {
        obj.insert(
            "links".into(),
            json!([
                link(
                    "self",
                    GEOJSON,
                    "this feature",
                    &format!("{url}/items/{id}{crs_query}")
                ),
                link("collection", JSON, "the collection", &url),
            ]),
        );
    }
    Ok(respond_features(&body, crs))
}
