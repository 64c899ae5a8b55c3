//! gridgov's HTTP server: the JSON API over a [`Store`], and the web pages.
//!
//! # Layout
//! - [`router`] builds the axum `Router` from an [`AppState`]; handlers are thin and call the
//!   store or the index.
//! - [`live`]: [`LiveIndex`], the county index built at start-up and kept current by the
//!   store's change feed; bbox and "near a point" listings, H3 counts and lookups read it.
//! - [`lookup`]: `/api/v1/lookup`, one point or a batch.
//! - [`partition`]: `/api/v1/partition-plans`, grid plans drawn in the background, compared,
//!   approved and exported.
//! - [`auth`]: login, sessions and the deny-by-default gate before every route; handlers take
//!   the signed-in [`auth::Principal`].
//! - [`error::ApiError`] is the one error type; every failure is a problem+json body.
//! - [`basemap`]: the offline basemap (`/basemap.json`, `/basemap/…`), glyphs (`/fonts/…`) and
//!   map styles (`/styles/…`).
//! - Pages: `/`, `/m`, `/login`, `/planner` and `/sanitation` are `web/dist/*.html` (built from
//!   `web/src` by `npm run build`; MapLibre GL JS is bundled into them), `/assets/*` is
//!   `web/dist/assets/`, and `/vendor/swagger-ui/*` serves the API docs page's scripts.

pub mod access;
pub mod audit;
pub mod auth;
pub mod basemap;
pub mod dashboard;
pub mod disputes;
pub mod error;
pub mod events;
pub mod hotspots;
pub mod items;
pub mod jobs;
pub mod limits;
pub mod live;
pub mod lookup;
pub mod ogc;
pub mod openapi;
pub mod partition;
pub mod route_plans;
pub mod tiles;
pub mod way;

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, Query as QueryParams, State};
use axum::routing::get;
use axum::{Json, Router};
use gridgov_model::Layer;
use gridgov_store::{Query, Store};
use serde::Deserialize;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::http::{header, HeaderValue};
use openapi::Problem;
use serde_json::json;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

pub use error::ApiError;
pub use live::LiveIndex;

/// Default and largest page sizes of item listings.
pub const DEFAULT_LIMIT: u64 = 1000;
/// The largest `limit` a client may ask for.
pub const MAX_LIMIT: u64 = 10_000;
/// The largest request body accepted (the API has no upload yet).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What every handler shares, behind one `Arc` ([`Shared`]): a handler's `State` costs one
/// reference count, not one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of [`AppState`].
#[derive(Clone)]
pub struct Shared {
    /// The store.
    pub store: Arc<dyn Store>,
    /// `postgis` or `geopackage`, for the health check.
    pub store_kind: &'static str,
    /// The folder with `dist/` (the built pages) and `node_modules/`.
    pub web_dir: Arc<FsPath>,
    /// The in-memory index over the store, kept current on every write.
    pub index: Arc<LiveIndex>,
    /// Encoded vector tiles, invalidated by the index's changes.
    pub tiles: Arc<tiles::TileCache>,
    /// Session timeouts and login lockout.
    pub auth: auth::AuthPolicy,
    /// Sessions recently read from the store, trusted for `auth.cache_ttl`.
    pub sessions: Arc<auth::cache::SessionCache>,
    /// When each session's tiles of personal layers were last recorded in the audit log.
    pub tile_reads: Arc<audit::TileReads>,
    /// Rate and time limits (none but the time limit unless [`AppState::with_limits`]).
    pub limiter: Arc<limits::RateLimiter>,
    /// The dispute workflow's deadlines and clock ([`AppState::with_disputes`]).
    pub disputes: disputes::Settings,
    /// Disputes' changes for `/api/v1/events`, told by the index.
    pub events: Arc<events::EventHub>,
    /// The offline basemap, its glyphs and styles ([`AppState::with_basemap`]).
    pub basemap: basemap::SharedBasemap,
    /// The road network for `/api/v1/way`, rebuilt after the roads change.
    pub roads: Arc<way::RoadCache>,
}

impl AppState {
    /// The state over a store and its live index, with a tile cache of at most
    /// `tile_cache_bytes` (0: no cache) that follows the index's changes.
    pub fn new(
        store: Arc<dyn Store>,
        store_kind: &'static str,
        web_dir: PathBuf,
        index: Arc<LiveIndex>,
        tile_cache_bytes: usize,
    ) -> Self {
        let tiles = Arc::new(tiles::TileCache::new(tile_cache_bytes));
        let cache = Arc::downgrade(&tiles);
        index.on_change(Box::new(move |touched| {
            if let Some(cache) = cache.upgrade() {
                cache.invalidate(touched);
            }
        }));
        let events = Arc::new(events::EventHub::default());
        index.on_feature_change(Layer::Disputes, events.listener());
        let roads = Arc::new(way::RoadCache::default());
        index.on_change(roads.listener());
        Self(Arc::new(Shared {
            store,
            store_kind,
            web_dir: web_dir.into(),
            index,
            tiles,
            auth: auth::AuthPolicy::default(),
            sessions: Arc::default(),
            tile_reads: Arc::default(),
            limiter: Arc::new(limits::RateLimiter::new(limits::Limits::unlimited())),
            disputes: disputes::Settings::default(),
            events,
            basemap: Arc::new(basemap::Basemap::none()),
            roads,
        }))
    }

    /// The state with these dispute deadlines and clock (tests set the clock).
    #[must_use]
    pub fn with_disputes(self, settings: disputes::Settings) -> Self {
        let mut shared = Arc::unwrap_or_clone(self.0);
        shared.disputes = settings;
        Self(Arc::new(shared))
    }

    /// The state with these rate and time limits.
    #[must_use]
    pub fn with_limits(self, limits: limits::Limits) -> Self {
        let mut shared = Arc::unwrap_or_clone(self.0);
        shared.limiter = Arc::new(limits::RateLimiter::new(limits));
        Self(Arc::new(shared))
    }

    /// The state with this basemap (package, fonts, styles).
    #[must_use]
    pub fn with_basemap(self, basemap: basemap::Basemap) -> Self {
        let mut shared = Arc::unwrap_or_clone(self.0);
        shared.basemap = Arc::new(basemap);
        Self(Arc::new(shared))
    }

    /// The state with these session timeouts and lockout.
    #[must_use]
    pub fn with_auth(self, policy: auth::AuthPolicy) -> Self {
        let mut shared = Arc::unwrap_or_clone(self.0);
        shared.auth = policy;
        Self(Arc::new(shared))
    }
}

/// The router with every route.
pub fn router(state: AppState) -> Router {
    let web = state.web_dir.clone();
    let (api, doc) = api_routes().split_for_parts();
    let doc = Arc::new(openapi::document(&doc));
    let limits = state.limiter.limits();
    let routes = api
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { openapi::json_response(&doc) }
            }),
        )
        .route("/api/docs", get(openapi::docs_page))
        // Assets are addressed with a hash of their content (`?v=`): kept for a year; pages
        // are asked again each time, so a new build is seen at once.
        .nest_service(
            "/assets",
            ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ))
                .service(ServeDir::new(web.join("dist/assets"))),
        )
        .nest_service(
            "/vendor/swagger-ui",
            ServeDir::new(web.join("node_modules/swagger-ui-dist")),
        )
        .route_service("/", page(&web, "index"))
        .route_service("/m", page(&web, "m"))
        .route_service("/login", page(&web, "login"))
        .route_service("/planner", page(&web, "planner"))
        .route_service("/sanitation", page(&web, "sanitation"))
        .fallback(not_found)
        .with_state(state.clone());
    // The cross-cutting middleware wraps the whole router once rather than each route
    // (`Router::layer`): a request then clones one boxed service and the router (an `Arc`),
    // instead of every layer's boxed route, which showed in the cached tiles' profile.
    let guarded = ServiceBuilder::new()
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .service(routes);
    let outer = ServiceBuilder::new()
        .layer(CompressionLayer::new())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::map_response(error::problems_everywhere));
    // Cached tiles are answered in front of all of it when they can be (`tiles::CachedTiles`:
    // the same answer, without the stack's cost); every other request passes through.
    // Without rate limits the middleware would only pass requests on: leave it out.
    if limits.requests.is_some() || limits.logins.is_some() {
        let stack = outer
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                limits::limit,
            ))
            .service(guarded);
        Router::new().fallback_service(tiles::CachedTiles::new(state, stack))
    } else {
        Router::new().fallback_service(tiles::CachedTiles::new(state, outer.service(guarded)))
    }
}

/// A page of `web/dist`, asked again on every visit (`Cache-Control: no-cache`).
fn page(
    web: &FsPath,
    name: &str,
) -> tower_http::set_header::SetResponseHeader<ServeFile, HeaderValue> {
    ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        .service(ServeFile::new(web.join(format!("dist/{name}.html"))))
}

/// The API's routes, each registered together with its OpenAPI description.
fn api_routes() -> OpenApiRouter<AppState> {
    let (schemas, paths, lookup) = routes!(lookup::get_lookup, lookup::post_lookup);
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(layers))
        .routes(routes!(items::list, items::create))
        .routes(routes!(
            items::get,
            items::replace,
            items::patch,
            items::delete
        ))
        .routes(routes!(items::reveal))
        .routes(routes!(h3_counts))
        .routes(routes!(dashboard::glossary))
        .routes(routes!(dashboard::grid_summary))
        .routes(routes!(events::events))
        .routes(routes!(way::get_way))
        .routes(routes!(basemap::tilejson))
        .routes(routes!(basemap::tile))
        .routes(routes!(basemap::glyph_range))
        .routes(routes!(basemap::style))
        .nest("/ogc", ogc::routes())
        .merge(tiles::routes())
        .merge(hotspots::routes())
        .merge(disputes::routes())
        .merge(partition::routes())
        .merge(route_plans::routes())
        .routes((
            schemas,
            paths,
            lookup.layer(DefaultBodyLimit::max(lookup::LOOKUP_BODY_LIMIT)),
        ))
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such page or API route".into())
}

#[utoipa::path(get, path = "/api/v1/health", tag = "status",
    responses(
        (status = 200, description = "`{status, store, counties, version}`: the server answers and its store is readable", body = Object),
        (status = 500, description = "The store cannot be read", content_type = "application/problem+json", body = Problem)))]
async fn health(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let counties = s.store.count(Layer::Counties, &Query::default()).await?;
    Ok(Json(json!({
        "status": "ok",
        "store": s.store_kind,
        "counties": counties,
        "version": env!("CARGO_PKG_VERSION"),
    })))
}

pub(crate) fn parse_layer(name: &str) -> Result<Layer, ApiError> {
    name.parse::<Layer>()
        .map_err(|e| ApiError::NotFound(e.to_string()))
}

#[utoipa::path(get, path = "/api/v1/layers", tag = "features",
    responses(
        (status = 200, description = "Every layer: name, Chinese title, geometry type, feature count and fields", body = Object)))]
async fn layers(
    State(s): State<AppState>,
    who: auth::Principal,
) -> Result<Json<serde_json::Value>, ApiError> {
    let access = access::Access::of(&who, &s)?;
    // The layers the role reads, each counted inside the user's scope.
    let mut counts = std::collections::BTreeMap::new();
    for layer in Layer::ALL.iter().filter(|l| who.role().reads(**l)) {
        let n = if access.is_grid() {
            let q = Query {
                division: Some(access.scope().division()),
                bbox: access
                    .grid_bbox()
                    .filter(|_| layer.geometry() != gridgov_model::GeometryKind::None),
                ..Query::default()
            };
            s.store
                .query(*layer, &q)
                .await?
                .iter()
                .filter(|f| access.admits(f))
                .count() as u64
        } else {
            let q = Query {
                division: Some(access.scope().division()),
                ..Query::default()
            };
            s.store.count(*layer, &q).await?
        };
        counts.insert(*layer, n);
    }
    let list: Vec<_> = Layer::ALL
        .iter()
        .filter(|l| counts.contains_key(l))
        .map(|l| {
            json!({
                "name": l.name(),
                "title_zh": l.zh(),
                "geometry": l.geometry().ogc_name(),
                "spatial": l.geometry() != gridgov_model::GeometryKind::None,
                "count": counts.get(l).copied().unwrap_or(0),
                "fields": l.fields().iter().map(|f| json!({
                    "name": f.name,
                    "type": format!("{:?}", f.ty).to_lowercase(),
                    "required": f.required,
                })).collect::<Vec<_>>(),
                "items": format!("/api/v1/layers/{}/items", l.name()),
            })
        })
        .collect();
    Ok(Json(json!({ "layers": list })))
}

/// Parses `bbox=min_lon,min_lat,max_lon,max_lat`.
pub fn parse_bbox(text: &str) -> Result<[f64; 4], ApiError> {
    let bad = |why: &str| ApiError::BadRequest(format!("parameter 'bbox': {why}"));
    let parts: Vec<f64> = text
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad("expected four numbers min_lon,min_lat,max_lon,max_lat"))?;
    let [min_lon, min_lat, max_lon, max_lat] = parts[..] else {
        return Err(bad("expected four numbers min_lon,min_lat,max_lon,max_lat"));
    };
    if !parts.iter().all(|v| v.is_finite()) {
        return Err(bad("values must be finite numbers"));
    }
    if min_lon > max_lon || min_lat > max_lat {
        return Err(bad("the minimum must not exceed the maximum"));
    }
    let lon_ok = |v: f64| (-180.0..=180.0).contains(&v);
    let lat_ok = |v: f64| (-90.0..=90.0).contains(&v);
    if !(lon_ok(min_lon) && lon_ok(max_lon) && lat_ok(min_lat) && lat_ok(max_lat)) {
        return Err(bad(
            "longitudes lie in [-180, 180] and latitudes in [-90, 90]",
        ));
    }
    Ok([min_lon, min_lat, max_lon, max_lat])
}

/// Parses the `division` parameter (a 12-digit code; 400 naming the parameter when malformed).
pub(crate) fn parse_division(
    text: Option<&str>,
) -> Result<Option<gridgov_model::DivisionCode>, ApiError> {
    text.map(|t| {
        t.trim()
            .parse()
            .map_err(|e| ApiError::BadRequest(format!("parameter 'division': {e}")))
    })
    .transpose()
}

pub(crate) fn parse_count(name: &str, v: Option<&str>) -> Result<Option<u64>, ApiError> {
    v.map(|s| {
        s.trim().parse::<u64>().map_err(|_| {
            ApiError::BadRequest(format!(
                "parameter '{name}': '{s}' is not a whole number ≥ 0"
            ))
        })
    })
    .transpose()
}

/// Query parameters of `/api/v1/layers/{layer}/h3`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct H3Params {
    /// H3 resolution, 6 to 11 (default 9).
    pub resolution: Option<String>,
}

/// The fewest households or rental houses a cell of the command screen's density may hold.
pub const MIN_CELL: usize = 3;

/// `GET /api/v1/layers/{layer}/h3?resolution=`: how many features lie in each H3 cell. The
/// command-center screen may count households and rental houses (cells of fewer than
/// [`MIN_CELL`] left out) though it reads neither.
#[utoipa::path(get, path = "/api/v1/layers/{layer}/h3", tag = "features",
    params(("layer" = String, Path, description = "A layer with geometry"), H3Params),
    responses(
        (status = 200, description = "`{layer, resolution, total, cells: [{cell, count}]}`: features per H3 cell", body = Object),
        (status = 400, description = "A bad resolution, or a layer without geometry", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "Unknown layer", content_type = "application/problem+json", body = Problem)))]
async fn h3_counts(
    State(s): State<AppState>,
    who: auth::Principal,
    Path(layer): Path<String>,
    QueryParams(p): QueryParams<H3Params>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let layer = parse_layer(&layer)?;
    let access = access::Access::of(&who, &s)?;
    // The command-center screen reads no personal layer, but shows where households and
    // rental houses are dense: it gets their counts per cell, never a cell of fewer than
    // `MIN_CELL` (which could point at one house).
    let density_only = !who.role().reads(layer)
        && who.role() == gridgov_model::Role::CommandScreen
        && matches!(layer, Layer::Households | Layer::RentalHouses);
    if !density_only {
        access.read(layer)?;
    }
    let text = p.resolution.as_deref().unwrap_or("9");
    let resolution = text
        .trim()
        .parse::<u8>()
        .ok()
        .filter(|r| (6..=11).contains(r))
        .and_then(|r| h3o::Resolution::try_from(r).ok())
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "parameter 'resolution': '{text}' is not an H3 resolution from 6 to 11"
            ))
        })?;
    if !live::indexed(layer) || layer.geometry() == gridgov_model::GeometryKind::None {
        return Err(ApiError::BadRequest(format!(
            "{layer} has no geometry to count by cell"
        )));
    }
    let index = s.index.read();
    if resolution > index.resolution() {
        return Err(ApiError::BadRequest(format!(
            "parameter 'resolution': at most {}",
            u8::from(index.resolution())
        )));
    }
    // Only the features in the user's scope are counted (a store may hold several counties).
    let mut counts = std::collections::BTreeMap::new();
    if let Some(l) = index.layer(layer) {
        for f in l.features().filter(|f| access.admits(f)) {
            let cell =
                f.id.and_then(|id| l.cells().cell_of(id))
                    .and_then(|c| c.parent(resolution));
            if let Some(cell) = cell {
                *counts.entry(cell).or_insert(0usize) += 1;
            }
        }
    }
    if density_only {
        counts.retain(|_, n| *n >= MIN_CELL);
    }
    let total: usize = counts.values().sum();
    let cells: Vec<_> = counts
        .iter()
        .map(|(cell, n)| json!({"cell": cell.to_string(), "count": n}))
        .collect();
    Ok(Json(json!({
        "layer": layer.name(),
        "resolution": u8::from(resolution),
        "total": total,
        "cells": cells,
    })))
}

/// Serves the router on a listener until Ctrl-C (SIGINT); SIGTERM ends the process as usual.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
