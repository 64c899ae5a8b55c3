//! The OpenAPI 3.1 description of the API, generated from the handlers' `#[utoipa::path]`
//! annotations as the router registers them (so a route cannot be served undocumented), at
//! `/api/v1/openapi.json`, and the interactive page at `/api/docs` (Swagger UI from
//! `web/node_modules/swagger-ui-dist`, served by gridgov: no request leaves the machine).

use std::collections::BTreeMap;

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

/// The document's fixed parts; paths are added by the router.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "gridgov",
        description = "Grassroots social governance on a map: administrative divisions, grids, \
            households, sanitation, rental houses, supervised persons and disputes as spatial \
            features; lookups, vector tiles and OGC API – Features. Coordinates are WGS84 / \
            CGCS2000 longitude-latitude unless a `crs` parameter says otherwise. Errors are \
            RFC 9457 problem+json bodies.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    components(schemas(Problem, FieldProblem, GeoJsonFeature, FeatureCollection, Link)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "auth", description = "Sign in and out; every other route needs the session"),
        (name = "status", description = "Health of the server and its store"),
        (name = "features", description = "Layers and their features: read, write, page"),
        (name = "lookup", description = "Which township, village and grid a point is in"),
        (name = "tiles", description = "Mapbox Vector Tiles and TileJSON"),
        (name = "ogc", description = "OGC API – Features, Part 1 (Core, GeoJSON)"),
        (name = "plans", description = "Grid partition plans (网格划分方案): drawn in the background, compared with the grids in force, approved, exported"),
        (name = "routing", description = "Route plans (清运计划): a township's garbage collection routes for a day, computed in the background over the road network")
    )
)]
pub struct ApiDoc;

/// The `bearer` security scheme: the token of `POST /api/v1/auth/login`.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The token of POST /api/v1/auth/login (the web pages send the HttpOnly session cookie instead)",
                    ))
                    .build(),
            ),
        );
    }
}

/// An RFC 9457 problem: every error the API answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's name, e.g. `Bad request`.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What is wrong, naming the parameter or field.
    pub detail: String,
    /// With 422: every field at fault.
    pub errors: Option<Vec<FieldProblem>>,
}

/// One field of a rejected feature.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field: a field name, `geometry`, `division_code` or `id`.
    pub field: String,
    /// Why it was rejected.
    pub reason: String,
}

/// A GeoJSON Feature (RFC 7946) of a layer: `id` is the store's id (absent when creating),
/// `properties` hold `division_code` (the owning division's 12-digit code) and the layer's
/// fields by name (see `/api/v1/layers`). ID-card numbers are always masked in answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct GeoJsonFeature {
    /// `Feature`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The feature id (assigned by the server).
    pub id: Option<i64>,
    /// A GeoJSON geometry in longitude-latitude degrees, or null for layers without one.
    #[schema(value_type = Option<Object>)]
    pub geometry: Option<serde_json::Value>,
    /// `division_code` and the layer's fields.
    #[schema(value_type = Object)]
    pub properties: BTreeMap<String, serde_json::Value>,
    /// With `near`: the distance from the point, in metres.
    pub distance_m: Option<f64>,
}

/// A page of features.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeatureCollection {
    /// `FeatureCollection`.
    #[serde(rename = "type")]
    pub kind: String,
    /// How many features match (absent with keyset paging, `after`).
    #[serde(rename = "numberMatched")]
    pub number_matched: Option<u64>,
    /// How many features this page holds.
    #[serde(rename = "numberReturned")]
    pub number_returned: u64,
    /// The features.
    pub features: Vec<GeoJsonFeature>,
    /// `next` while more features remain.
    pub links: Vec<Link>,
}

/// A link to a related resource.
#[derive(Debug, Serialize, ToSchema)]
pub struct Link {
    /// The relation, e.g. `next`.
    pub rel: String,
    /// The media type.
    #[serde(rename = "type")]
    pub media_type: Option<String>,
    /// The address.
    pub href: String,
}

/// `GET /api/v1/openapi.json`: the document (built once at start-up).
pub fn document(api: &utoipa::openapi::OpenApi) -> String {
    api.to_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"the OpenAPI document failed: {e}\"}}"))
}

/// The JSON document as a response.
pub fn json_response(doc: &str) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/vnd.oai.openapi+json;version=3.1",
        )],
        doc.to_owned(),
    )
        .into_response()
}

/// `GET /api/docs`: Swagger UI over the document, from files gridgov serves itself.
pub async fn docs_page() -> Html<&'static str> {
    Html(DOCS_PAGE)
}

const DOCS_PAGE: &str = r##"<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>gridgov API</title>
<link rel="stylesheet" href="/vendor/swagger-ui/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
  tryItOutEnabled: true
});
</script>
</body>
</html>
"##;
