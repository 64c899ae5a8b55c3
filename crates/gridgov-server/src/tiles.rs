//! Vector tiles: `/tiles/{layer}/{z}/{x}/{y}.mvt`, `/tiles/all/{z}/{x}/{y}.mvt` and TileJSON at
//! `/tiles/{layer}.json`, with a size-bounded in-memory cache that writes invalidate.
//!
//! A tile comes from the store when it makes tiles (PostGIS: `ST_AsMVT`), else it is encoded
//! from the live index by `gridgov-tiles`. Responses carry a strong `ETag` (a hash of the
//! uncompressed tile; the gzip representation has its own tag) and
//! `Cache-Control: no-cache`: clients keep tiles but ask again every time, and a `304` for an
//! unchanged tile costs a header. Governance data is edited during the day and a map must show
//! an edit on the next look; a `max-age` would show stale tiles for that long, and the
//! revalidation is as cheap as a cache hit.
//!
//! Gzip: tiles are gzipped here when the client accepts it (`Content-Encoding: gzip`, which
//! the router's `CompressionLayer` leaves alone), and sent plain otherwise.
//!
//! The cache holds encoded tiles, plain and gzipped, as `Bytes` (a hit copies nothing), keyed
//! by layer (or `all`) and tile, bounded by bytes, evicting by CLOCK (a hit only sets a flag,
//! under a read lock). A change drops exactly the cached tiles of its layer and of `all` whose
//! area (the tile plus its buffer) meets the changed features' old or new bounding boxes.
//!
//! A cache hit is answered in front of the router (`CachedTiles`): when the session cache
//! vouches for the user and the answer is one the router's stack would pass through unchanged,
//! the tile goes out without the router, its middleware or the handler; anything else takes
//! the full path to the handler, which gives the same answer.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::HttpBody as _;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use geo::{BoundingRect, Intersects, Rect};
use gridgov_model::{DivisionCode, GeometryKind, GridCode, Layer, Role, Scope};
use gridgov_tiles::{schema, search_area, tiled_layers, TileBuilder, TileId, MAX_ZOOM};
use serde_json::json;
use tower::util::Oneshot;
use tower::{Service, ServiceExt as _};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::Access;
use crate::auth::Principal;
use crate::live::Touched;
use crate::openapi::Problem;
use crate::{ApiError, AppState};

/// The media type of Mapbox Vector Tiles.
pub const MVT_CONTENT_TYPE: &str = "application/vnd.mapbox-vector-tile";

/// The `Cache-Control` of tiles (see the module's documentation).
pub const CACHE_CONTROL: &str = "no-cache";

/// The gzip level of tiles: 6, zlib's default (what Martin and most tile servers use).
const GZIP_LEVEL: u32 = 6;

/// What a tile address names: one layer, or every tiled layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileLayers {
    /// One layer.
    One(Layer),
    /// Every tiled layer, one MVT layer each (`/tiles/all/…`).
    All,
}

impl TileLayers {
    /// Parses a layer name or `all`; unknown layers and layers without geometry are 404s.
    pub fn parse(name: &str) -> Result<Self, ApiError> {
        if name == "all" {
            return Ok(Self::All);
        }
        let layer = crate::parse_layer(name)?;
        if layer.geometry() == GeometryKind::None {
            return Err(ApiError::NotFound(format!(
                "{layer} has no geometry and so no tiles"
            )));
        }
        Ok(Self::One(layer))
    }

    /// The name in URLs.
    pub fn name(self) -> &'static str {
        match self {
            Self::One(l) => l.name(),
            Self::All => "all",
        }
    }

    /// The layers a tile at zoom `z` draws for a role (the layers it reads).
    pub fn drawn_at(self, z: u8, role: Role) -> Vec<Layer> {
        self.drawn(z, role).collect()
    }

    /// [`TileLayers::drawn_at`], one by one.
    fn drawn(self, z: u8, role: Role) -> impl Iterator<Item = Layer> {
        let (one, all) = match self {
            Self::One(l) => (Some(l), None),
            Self::All => (None, Some(tiled_layers())),
        };
        one.into_iter()
            .chain(all.into_iter().flatten())
            .filter(move |l| schema(*l).is_some_and(|s| s.drawn_at(z)) && role.reads(*l))
    }

    fn touched_by(self, layer: Layer) -> bool {
        match self {
            Self::One(l) => l == layer,
            Self::All => schema(layer).is_some(),
        }
    }
}

/// One encoded tile, ready to send.
#[derive(Debug)]
pub struct EncodedTile {
    /// The MVT bytes (empty: no feature in the tile).
    pub plain: Bytes,
    /// The same, gzipped (`None` when not made: empty tiles, or not asked for).
    pub gzip: Option<Bytes>,
    /// `ETag` of the plain bytes.
    pub etag: HeaderValue,
    /// `ETag` of the gzipped bytes.
    pub etag_gzip: HeaderValue,
}

impl EncodedTile {
    /// Hashes `plain` and gzips it when `gzip` is asked for (and it is not empty).
    pub fn new(plain: Bytes, gzip: bool) -> Result<Self, ApiError> {
        let hash = xxhash_rust::xxh3::xxh3_64(&plain);
        let tag = |suffix: &str| {
            HeaderValue::from_str(&format!("\"{hash:016x}{suffix}\""))
                .map_err(|e| ApiError::Internal(e.to_string()))
        };
        let gzip = if gzip && !plain.is_empty() {
            Some(gzip_bytes(&plain)?)
        } else {
            None
        };
        Ok(Self {
            etag: tag("")?,
            etag_gzip: tag("-gz")?,
            plain,
            gzip,
        })
    }

    fn size(&self) -> usize {
        // The bytes and a rough allowance for the entry, key and tags.
        self.plain.len() + self.gzip.as_ref().map_or(0, Bytes::len) + 160
    }
}

fn gzip_bytes(plain: &[u8]) -> Result<Bytes, ApiError> {
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(plain.len() / 3 + 64),
        flate2::Compression::new(GZIP_LEVEL),
    );
    enc.write_all(plain)
        .and_then(|()| enc.finish())
        .map(Bytes::from)
        .map_err(|e| ApiError::Internal(format!("gzip: {e}")))
}

/// Whose tile it is: tiles differ by the layers a role reads and the features of a scope, so
/// the cache keeps them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Viewer {
    role: Role,
    division: DivisionCode,
    grid: Option<u16>,
}

impl Viewer {
    /// The viewer of a request.
    pub fn of(access: &Access) -> Self {
        Self {
            role: access.role(),
            division: access.scope().division(),
            grid: access.scope().grid().map(GridCode::number),
        }
    }
}

/// The key of a cached tile.
type Key = (TileLayers, Viewer, TileId);

struct Slot {
    key: Key,
    /// The tile plus its buffer in WGS84: the area whose changes change the tile.
    area: Rect<f64>,
    tile: Arc<EncodedTile>,
    size: usize,
    referenced: AtomicBool,
}

#[derive(Default)]
struct Inner {
    map: HashMap<Key, usize>,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    hand: usize,
    bytes: usize,
}

impl Inner {
    fn remove(&mut self, i: usize) {
        if let Some(slot) = self.slots[i].take() {
            self.map.remove(&slot.key);
            self.bytes -= slot.size;
            self.free.push(i);
        }
    }

    /// CLOCK: sweeps from the hand, giving referenced tiles a second chance, and evicts the
    /// first tile not used since the last sweep.
    fn evict_one(&mut self) {
        let n = self.slots.len();
        for _ in 0..=2 * n {
            let i = self.hand % n;
            self.hand = (i + 1) % n;
            if let Some(slot) = &self.slots[i] {
                if !slot.referenced.swap(false, Ordering::Relaxed) {
                    self.remove(i);
                    return;
                }
            }
        }
    }
}

/// The in-memory tile cache: encoded tiles by address, at most `max_bytes` in all.
pub struct TileCache {
    max_bytes: usize,
    inner: RwLock<Inner>,
    /// Bumped by every invalidation: a tile made before one is not cached after it.
    generation: AtomicU64,
}

impl std::fmt::Debug for TileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TileCache")
            .field("max_bytes", &self.max_bytes)
            .field("bytes", &self.bytes())
            .finish_non_exhaustive()
    }
}

impl TileCache {
    /// A cache of at most `max_bytes` (0 turns caching off).
    pub fn new(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            inner: RwLock::new(Inner::default()),
            generation: AtomicU64::new(0),
        }
    }

    /// The size bound in bytes.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Whether the cache keeps tiles at all.
    pub fn enabled(&self) -> bool {
        self.max_bytes > 0
    }

    /// The bytes held now.
    pub fn bytes(&self) -> usize {
        self.read().bytes
    }

    /// The number of tiles held now.
    pub fn len(&self) -> usize {
        self.read().map.len()
    }

    /// Whether no tile is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the tile of `layers` at `tile` is cached for any viewer.
    pub fn contains(&self, layers: TileLayers, tile: TileId) -> bool {
        self.read()
            .map
            .keys()
            .any(|(l, _, t)| *l == layers && *t == tile)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cached tile, marked as used.
    pub fn get(
        &self,
        layers: TileLayers,
        viewer: Viewer,
        tile: TileId,
    ) -> Option<Arc<EncodedTile>> {
        if !self.enabled() {
            return None;
        }
        let inner = self.read();
        let slot = inner.slots[*inner.map.get(&(layers, viewer, tile))?].as_ref()?;
        // Written only when clear: hits on other cores then share the slot's cache line.
        if !slot.referenced.load(Ordering::Relaxed) {
            slot.referenced.store(true, Ordering::Relaxed);
        }
        Some(slot.tile.clone())
    }

    /// The generation to pass to [`TileCache::insert`], read before the tile is made.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Keeps a tile made from data read after [`TileCache::generation`] returned
    /// `generation`, unless a change came in since (it might be stale) or it alone is larger
    /// than the cache.
    pub fn insert(
        &self,
        layers: TileLayers,
        viewer: Viewer,
        tile: TileId,
        encoded: Arc<EncodedTile>,
        generation: u64,
    ) {
        let size = encoded.size();
        if !self.enabled() || size > self.max_bytes {
            return;
        }
        let mut inner = self.write();
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        let key = (layers, viewer, tile);
        if let Some(&i) = inner.map.get(&key) {
            inner.remove(i);
        }
        while inner.bytes + size > self.max_bytes && !inner.map.is_empty() {
            inner.evict_one();
        }
        let slot = Slot {
            key,
            area: search_area(tile),
            tile: encoded,
            size,
            referenced: AtomicBool::new(false),
        };
        let i = if let Some(i) = inner.free.pop() {
            inner.slots[i] = Some(slot);
            i
        } else {
            inner.slots.push(Some(slot));
            inner.slots.len() - 1
        };
        inner.map.insert(key, i);
        inner.bytes += size;
    }

    /// Drops every cached tile that a change touched: the tiles of its layer and of `all`
    /// whose area (tile plus buffer) meets a touched rectangle; all of them when the change
    /// does not say where.
    pub fn invalidate(&self, touched: &Touched) {
        let mut inner = self.write();
        self.generation.fetch_add(1, Ordering::AcqRel);
        let stale: Vec<usize> = inner
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i, s)))
            .filter(|(_, s)| s.key.0.touched_by(touched.layer))
            .filter(|(_, s)| {
                touched
                    .areas
                    .as_ref()
                    .is_none_or(|areas| areas.iter().any(|r| r.intersects(&s.area)))
            })
            .map(|(i, _)| i)
            .collect();
        for i in stale {
            inner.remove(i);
        }
    }
}

/// The tile routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(tilejson))
        .routes(routes!(tile))
}

/// Parses `z`, `x` and `y.mvt` into a tile address (400 when malformed or out of range).
fn parse_tile(z: &str, x: &str, y: &str) -> Result<TileId, ApiError> {
    let Some(y) = y.strip_suffix(".mvt").or_else(|| y.strip_suffix(".pbf")) else {
        return Err(ApiError::NotFound(format!(
            "tile '{z}/{x}/{y}': tiles end in .mvt"
        )));
    };
    let text = format!("{z}/{x}/{y}");
    text.parse::<TileId>()
        .map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// Whether `Accept-Encoding` takes gzip (q > 0, directly or by `*`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut gzip = None;
    let mut star = None;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(text) = value.to_str() else { continue };
        for item in text.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                gzip = Some(q > 0.0);
            } else if coding == "*" {
                star = Some(q > 0.0);
            }
        }
    }
    gzip.or(star).unwrap_or(false)
}

/// Whether `If-None-Match` lists the tile's tag (weak comparison, either representation).
fn not_modified(headers: &HeaderMap, tile: &EncodedTile) -> bool {
    let ours = [tile.etag.as_bytes(), tile.etag_gzip.as_bytes()];
    headers.get_all(header::IF_NONE_MATCH).iter().any(|v| {
        v.as_bytes().split(|b| *b == b',').any(|t| {
            let t = t.trim_ascii();
            let t = t.strip_prefix(b"W/").unwrap_or(t);
            t == b"*" || ours.contains(&t)
        })
    })
}

/// Makes the uncompressed tile: from the store when it makes tiles, else from the index.
/// Only the features in the user's scope: the store filters by owning division; a grid
/// scope is cut by the grid's polygon, which the index does.
async fn make_tile(
    state: &AppState,
    access: &Access,
    layers: &[Layer],
    tile: TileId,
) -> Result<Bytes, ApiError> {
    if layers.is_empty() {
        return Ok(Bytes::new());
    }
    if !access.is_grid() {
        let owner = Some(access.scope().division());
        if let Some(bytes) = state
            .store
            .mvt(layers, tile.z(), tile.x(), tile.y(), owner)
            .await?
        {
            return Ok(Bytes::from(bytes));
        }
    }
    let index = state.index.clone();
    let layers = layers.to_vec();
    let access = access.clone();
    tokio::task::spawn_blocking(move || {
        let area = search_area(tile);
        let bbox = [area.min().x, area.min().y, area.max().x, area.max().y];
        let county = index.read();
        let mut builder = TileBuilder::new(tile);
        for layer in layers {
            if let Some(l) = county.layer(layer) {
                let seen: Vec<&gridgov_model::Feature> = l
                    .in_bbox(bbox)
                    .into_iter()
                    .filter(|f| access.admits(f))
                    // Grids are drawn from the plan in force only: drafts are seen with
                    // their plan (GET /api/v1/partition-plans/{id}), superseded ones not.
                    .filter(|f| layer != Layer::Grids || county.is_effective_grid(f))
                    .collect();
                builder
                    .add_layer(layer, seen)
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
            }
        }
        Ok(Bytes::from(builder.finish()))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("tile task: {e}")))?
}

#[utoipa::path(get, path = "/tiles/{layer}/{z}/{x}/{y}", tag = "tiles",
    params(
        ("layer" = String, Path, description = "A layer with geometry, or `all` (one MVT layer per feature layer)"),
        ("z" = u8, Path, description = "Zoom, 0 to 22"),
        ("x" = u32, Path, description = "Column, 0 to 2^z - 1"),
        ("y" = String, Path, description = "Row (XYZ scheme) followed by `.mvt`, e.g. `1234.mvt`"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag`: 304 while the tile is unchanged"),
        ("Accept-Encoding" = Option<String>, Header, description = "`gzip` for a compressed tile")),
    responses(
        (status = 200, description = "A Mapbox Vector Tile 2.1 (empty body: no features); `ETag`, `Cache-Control: no-cache`", content_type = "application/vnd.mapbox-vector-tile", body = Vec<u8>),
        (status = 304, description = "Unchanged since the `If-None-Match` tag"),
        (status = 400, description = "Tile coordinates malformed or out of range", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "Unknown layer, a layer without geometry, or not `.mvt`", content_type = "application/problem+json", body = Problem)))]
/// `GET /tiles/{layer}/{z}/{x}/{y}.mvt` (and `/tiles/all/…`).
async fn tile(
    State(state): State<AppState>,
    who: Principal,
    Path((layer, z, x, y)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let layers = TileLayers::parse(&layer)?;
    let access = Access::of(&who, &state)?;
    if let TileLayers::One(l) = layers {
        access.read(l)?;
    }
    let id = parse_tile(&z, &x, &y)?;
    let personal = layers
        .drawn(id.z(), access.role())
        .filter(|l| l.is_personal());
    crate::audit::personal_tiles(&state, &who, personal, (id.z(), id.x(), id.y())).await?;
    let gzip = accepts_gzip(&headers);
    let cache = &state.tiles;
    let viewer = Viewer::of(&access);
    let encoded = if let Some(hit) = cache.get(layers, viewer, id) {
        hit
    } else {
        let generation = cache.generation();
        let drawn = layers.drawn_at(id.z(), access.role());
        let plain = make_tile(&state, &access, &drawn, id).await?;
        // A cached tile serves every client, so it is kept gzipped too.
        let encoded = Arc::new(EncodedTile::new(plain, gzip || cache.enabled())?);
        cache.insert(layers, viewer, id, encoded.clone(), generation);
        encoded
    };
    Ok(respond(&headers, &encoded, gzip))
}

/// The layers and tile of a tile path (`/tiles/{layer}/{z}/{x}/{y}.mvt`) as [`tile`] reads
/// them, for the short path; `None` for anything else (malformed, out of range, percent-encoded):
/// such requests take the full path, which answers them.
fn tile_address(path: &str) -> Option<(TileLayers, TileId)> {
    let mut parts = path.strip_prefix("/tiles/")?.split('/');
    let (Some(layer), Some(z), Some(x), Some(y), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let y = y.strip_suffix(".mvt").or_else(|| y.strip_suffix(".pbf"))?;
    let layers = if layer == "all" {
        TileLayers::All
    } else {
        let layer = layer.parse::<Layer>().ok()?;
        if layer.geometry() == GeometryKind::None {
            return None;
        }
        TileLayers::One(layer)
    };
    let id = TileId::new(number(z)?, number(x)?, number(y)?).ok()?;
    Some((layers, id))
}

/// A number of a tile path: digits only, as `TileId`'s parser takes them (`str::parse` alone
/// would also take a leading `+`).
fn number<T: std::str::FromStr>(text: &str) -> Option<T> {
    let digits = !text.is_empty() && text.len() <= 12 && text.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| text.parse().ok()).flatten()
}

/// The answer to a request for a cached tile when it needs nothing but the cache: a `GET` of a
/// tile path from a user of a division scope whose session the session cache vouches for
/// without the store (`auth::cached_session`), who reads the layer and whose personal layers
/// in the tile were recorded in the audit window already, for a tile in the cache, answered
/// gzipped, empty or `304` (what the router's compression passes through unchanged). The
/// answer is [`tile`]'s for the same request. `None` otherwise: the request takes the full
/// path.
fn cached_answer(state: &AppState, req: &Request) -> Option<Response> {
    if req.method() != Method::GET {
        return None;
    }
    let (layers, id) = tile_address(req.uri().path())?;
    let headers = req.headers();
    let (session, viewer) = crate::auth::cached_session(state, headers, |user| match user.scope {
        Scope::Division(division) => Some(Viewer {
            role: user.role,
            division,
            grid: None,
        }),
        // A grid scope is checked against the plan in force (`Access::of`).
        Scope::Grid(_) => None,
    })?;
    let viewer = viewer?;
    if let TileLayers::One(l) = layers {
        if !viewer.role.reads(l) {
            return None;
        }
    }
    let now = Instant::now();
    let unrecorded = layers
        .drawn(id.z(), viewer.role)
        .filter(|l| l.is_personal())
        .any(|l| !state.tile_reads.recent(session, l, now));
    if unrecorded {
        return None;
    }
    let tile = state.tiles.get(layers, viewer, id)?;
    let gzip = accepts_gzip(headers);
    let unchanged =
        (gzip && tile.gzip.is_some()) || tile.plain.is_empty() || not_modified(headers, &tile);
    unchanged.then(|| {
        let mut response = respond(headers, &tile, gzip);
        // What the router adds to a route's answer (and hyper would on the wire).
        if let Some(length) = response.body().size_hint().exact() {
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        }
        response
    })
}

/// The cached tiles' short path, in front of the router's whole stack (`crate::router`): it
/// answers what [`cached_answer`] can (taking the request's rate-limit token itself) and
/// hands every other request to `inner` untouched. A hit then costs the session cache and
/// tile cache lookups and the response, not the router, its middleware (timeout,
/// authentication, compression, problem mapping) and the handler's extractors.
pub(crate) struct CachedTiles<S>(Arc<(AppState, S)>);

impl<S> Clone for CachedTiles<S> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<S> CachedTiles<S> {
    /// The short path over the state's caches, in front of `inner`.
    pub(crate) fn new(state: AppState, inner: S) -> Self {
        Self(Arc::new((state, inner)))
    }
}

impl<S> Service<Request> for CachedTiles<S>
where
    S: Service<Request, Error = Infallible> + Clone,
    S::Response: IntoResponse,
{
    type Response = Response;
    type Error = Infallible;
    type Future = CachedTilesFuture<S>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // `inner` is made ready on its own clone (`oneshot`).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let (state, inner) = &*self.0;
        if let Some(answer) = cached_answer(state, &req) {
            if crate::limits::take_ahead(&state.limiter, &mut req) {
                return CachedTilesFuture::Answered(Some(answer));
            }
        }
        CachedTilesFuture::Passed(Box::pin(inner.clone().oneshot(req)))
    }
}

/// The future of [`CachedTiles`]: the answer, or the full path's.
pub(crate) enum CachedTilesFuture<S: Service<Request>> {
    /// Answered from the cache (taken when polled).
    Answered(Option<Response>),
    /// Passed on to the router's stack.
    Passed(Pin<Box<Oneshot<S, Request>>>),
}

impl<S> Future for CachedTilesFuture<S>
where
    S: Service<Request, Error = Infallible>,
    S::Response: IntoResponse,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Self::Answered(answer) => Poll::Ready(Ok(answer.take().unwrap_or_default())),
            Self::Passed(future) => future
                .as_mut()
                .poll(cx)
                .map(|r| r.map(IntoResponse::into_response)),
        }
    }
}

fn respond(headers: &HeaderMap, tile: &EncodedTile, gzip: bool) -> Response {
    let gzipped = tile.gzip.as_ref().filter(|_| gzip);
    let etag = if gzipped.is_some() {
        &tile.etag_gzip
    } else {
        &tile.etag
    };
    let common = [
        (header::ETAG, etag.clone()),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(CACHE_CONTROL),
        ),
        (header::VARY, HeaderValue::from_static("accept-encoding")),
    ];
    if not_modified(headers, tile) {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let content_type = (
        header::CONTENT_TYPE,
        HeaderValue::from_static(MVT_CONTENT_TYPE),
    );
    match gzipped {
        Some(body) => (
            common,
            [
                content_type,
                (header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
            ],
            body.clone(),
        )
            .into_response(),
        None => (common, [content_type], tile.plain.clone()).into_response(),
    }
}

#[utoipa::path(get, path = "/tiles/{name}", tag = "tiles",
    params(("name" = String, Path, description = "`{layer}.json` or `all.json`")),
    responses(
        (status = 200, description = "TileJSON 3.0: tile address template, zoom range, bounds and the vector layers with their fields", body = Object),
        (status = 404, description = "Unknown layer, or a layer without geometry", content_type = "application/problem+json", body = Problem)))]
/// `GET /tiles/{layer}.json` (and `/tiles/all.json`): TileJSON 3.0.
async fn tilejson(
    State(state): State<AppState>,
    who: Principal,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(layer) = name.strip_suffix(".json") else {
        return Err(ApiError::NotFound(format!(
            "no such page '/tiles/{name}': TileJSON is at /tiles/{{layer}}.json"
        )));
    };
    let layers = TileLayers::parse(layer)?;
    let listed: Vec<Layer> = match layers {
        TileLayers::One(l) => {
            Access::of(&who, &state)?.read(l)?;
            vec![l]
        }
        // The layers the role reads.
        TileLayers::All => tiled_layers().filter(|l| who.role().reads(*l)).collect(),
    };
    let vector_layers: Vec<_> = listed
        .iter()
        .filter_map(|l| schema(*l))
        .map(|s| {
            let mut fields = serde_json::Map::new();
            fields.insert(
                gridgov_tiles::schema::DIVISION_ATTRIBUTE.into(),
                json!("String"),
            );
            for def in s.field_defs() {
                let ty = match def.ty {
                    gridgov_model::FieldType::Integer | gridgov_model::FieldType::Real => "Number",
                    gridgov_model::FieldType::Bool => "Boolean",
                    _ => "String",
                };
                fields.insert(def.name.into(), json!(ty));
            }
            json!({
                "id": s.layer.name(),
                "description": s.layer.zh(),
                "minzoom": s.min_zoom,
                "maxzoom": MAX_ZOOM,
                "fields": fields,
            })
        })
        .collect();
    let min_zoom = listed
        .iter()
        .filter_map(|l| schema(*l))
        .map(|s| s.min_zoom)
        .min()
        .unwrap_or(0);
    let bounds = county_bounds(&state);
    let center = bounds.map(|b| {
        let c = b.center();
        json!([c.x, c.y, min_zoom.max(10)])
    });
    let body = json!({
        "tilejson": "3.0.0",
        "name": layers.name(),
        "description": match layers {
            TileLayers::One(l) => format!("gridgov {l} ({})", l.zh()),
            TileLayers::All => "gridgov: every layer".to_owned(),
        },
        "version": env!("CARGO_PKG_VERSION"),
        "scheme": "xyz",
        "tiles": [format!("{}/tiles/{}/{{z}}/{{x}}/{{y}}.mvt", base_url(&headers), layers.name())],
        "minzoom": min_zoom,
        "maxzoom": MAX_ZOOM,
        "bounds": bounds.map_or_else(
            || json!([-180.0, -85.051_128_779_806_59, 180.0, 85.051_128_779_806_59]),
            |b| json!([b.min().x, b.min().y, b.max().x, b.max().y]),
        ),
        "center": center,
        "vector_layers": vector_layers,
    });
    Ok((
        [
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static(CACHE_CONTROL),
            ),
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
        ],
        Json(body),
    )
        .into_response())
}

/// The counties' bounding box, from the index.
fn county_bounds(state: &AppState) -> Option<Rect<f64>> {
    let index = state.index.read();
    let counties = index.layer(Layer::Counties)?;
    counties
        .in_bbox([-180.0, -90.0, 180.0, 90.0])
        .into_iter()
        .filter_map(|f| f.geometry.as_ref()?.bounding_rect())
        .reduce(|a, b| {
            Rect::new(
                geo::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                geo::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
            )
        })
}

/// `scheme://host` of the request (TileJSON needs absolute tile URLs); the path alone when
/// the request names no host.
fn base_url(headers: &HeaderMap) -> String {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let host = text("x-forwarded-host").or_else(|| text("host"));
    let valid = |h: &&str| {
        !h.is_empty()
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b))
    };
    match host.filter(valid) {
        Some(h) => {
            let scheme = match text("x-forwarded-proto") {
                Some("https") => "https",
                _ => "http",
            };
            format!("{scheme}://{h}")
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn accept_encoding_is_read_with_q_values() {
        assert!(accepts_gzip(&headers(&[(
            "accept-encoding",
            "gzip, deflate, br"
        )])));
        assert!(accepts_gzip(&headers(&[(
            "accept-encoding",
            "br;q=1.0, gzip;q=0.5"
        )])));
        assert!(accepts_gzip(&headers(&[("accept-encoding", "*")])));
        assert!(!accepts_gzip(&headers(&[(
            "accept-encoding",
            "gzip;q=0, *"
        )])));
        assert!(!accepts_gzip(&headers(&[("accept-encoding", "identity")])));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn tile_paths_are_parsed_strictly() {
        assert!(parse_tile("3", "2", "1.mvt").is_ok());
        assert!(matches!(
            parse_tile("3", "8", "1.mvt"),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            parse_tile("3", "x", "1.mvt"),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            parse_tile("3", "2", "1.png"),
            Err(ApiError::NotFound(_))
        ));
    }

    #[test]
    fn the_short_path_reads_a_tile_path_as_the_handler_does_or_not_at_all() {
        // What the router and the handler make of a path (the router would percent-decode).
        let full = |path: &str| {
            let parts: Vec<&str> = path.strip_prefix("/tiles/")?.split('/').collect();
            let [layer, z, x, y] = parts[..] else {
                return None;
            };
            Some((TileLayers::parse(layer).ok()?, parse_tile(z, x, y).ok()?))
        };
        for path in [
            "/tiles/all/3/2/1.mvt",
            "/tiles/households/14/13200/6990.pbf",
            "/tiles/roads/03/2/1.mvt",
            "/tiles/all/+3/2/1.mvt",
            "/tiles/all/3/8/1.mvt",
            "/tiles/all/23/0/0.mvt",
            "/tiles/all/99999999999999999999/0/0.mvt",
            "/tiles/persons/3/2/1.mvt",
            "/tiles/nope/3/2/1.mvt",
            "/tiles/all/3/2/1.png",
            "/tiles/all/3/2/1.mvt/",
            "/tiles/all/3/2",
            "/tiles/all/3/2/%31.mvt",
            "/tiles//3/2/1.mvt",
            "/tiles/all.json",
            "/api/v1/tiles/all/3/2/1.mvt",
        ] {
            if let Some(short) = tile_address(path) {
                assert_eq!(Some(short), full(path), "{path}");
            }
        }
        assert_eq!(
            tile_address("/tiles/all/3/2/1.mvt"),
            Some((TileLayers::All, TileId::new(3, 2, 1).unwrap()))
        );
        assert_eq!(
            tile_address("/tiles/roads/03/2/1.pbf"),
            Some((TileLayers::One(Layer::Roads), TileId::new(3, 2, 1).unwrap()))
        );
        assert_eq!(tile_address("/tiles/all/+3/2/1.mvt"), None);
        assert_eq!(tile_address("/tiles/persons/3/2/1.mvt"), None);
    }

    /// A county admin's view.
    fn v() -> Viewer {
        Viewer {
            role: Role::CountyAdmin,
            division: "520526000000".parse().unwrap(),
            grid: None,
        }
    }

    fn tile(n: usize) -> Arc<EncodedTile> {
        Arc::new(EncodedTile::new(Bytes::from(vec![7_u8; n]), false).unwrap())
    }

    #[test]
    fn the_cache_stays_within_its_bound_and_keeps_used_tiles() {
        let cache = TileCache::new(4 * (1000 + 160));
        let id = |x| TileId::new(10, x, 0).unwrap();
        for x in 0..4 {
            cache.insert(TileLayers::All, v(), id(x), tile(1000), cache.generation());
        }
        assert_eq!(cache.len(), 4);
        assert!(cache.get(TileLayers::All, v(), id(0)).is_some());
        cache.insert(TileLayers::All, v(), id(4), tile(1000), cache.generation());
        assert_eq!(cache.len(), 4);
        assert!(cache.bytes() <= cache.max_bytes());
        assert!(
            cache.contains(TileLayers::All, id(0)),
            "a used tile gets a second chance"
        );
        assert!(cache.contains(TileLayers::All, id(4)));
        // Too big alone: never cached.
        cache.insert(
            TileLayers::All,
            v(),
            id(5),
            tile(10_000),
            cache.generation(),
        );
        assert!(!cache.contains(TileLayers::All, id(5)));
        // Off.
        let off = TileCache::new(0);
        off.insert(TileLayers::All, v(), id(0), tile(10), off.generation());
        assert!(off.get(TileLayers::All, v(), id(0)).is_none());
    }

    #[test]
    fn invalidation_drops_only_touched_tiles_of_the_layer_and_all() {
        let cache = TileCache::new(1 << 20);
        let a = TileId::new(12, 3_280, 1_750).unwrap();
        let b = TileId::new(12, 3_300, 1_750).unwrap();
        for (layers, t) in [
            (TileLayers::All, a),
            (TileLayers::All, b),
            (TileLayers::One(Layer::Households), a),
            (TileLayers::One(Layer::Roads), a),
        ] {
            cache.insert(layers, v(), t, tile(10), cache.generation());
        }
        let g = cache.generation();
        let c = a.lonlat_bounds().center();
        cache.invalidate(&Touched {
            layer: Layer::Households,
            areas: Some(vec![Rect::new(c, c)]),
        });
        assert!(!cache.contains(TileLayers::All, a));
        assert!(!cache.contains(TileLayers::One(Layer::Households), a));
        assert!(cache.contains(TileLayers::One(Layer::Roads), a));
        assert!(cache.contains(TileLayers::All, b));
        // A tile made before the change is not cached after it.
        cache.insert(TileLayers::All, v(), a, tile(10), g);
        assert!(!cache.contains(TileLayers::All, a));
        cache.invalidate(&Touched {
            layer: Layer::Roads,
            areas: None,
        });
        assert!(!cache.contains(TileLayers::One(Layer::Roads), a));
        assert!(!cache.contains(TileLayers::All, b));
        // Grid plans are not drawn themselves (the index tells their grids' areas as touched
        // grids: live.rs): a plan's own change keeps the tiles.
        cache.insert(TileLayers::All, v(), b, tile(10), cache.generation());
        cache.invalidate(&Touched {
            layer: Layer::GridPlans,
            areas: None,
        });
        assert!(cache.contains(TileLayers::All, b));
    }

    #[test]
    fn if_none_match_takes_either_tag_weak_or_strong() {
        let t = tile(10);
        let plain = t.etag.to_str().unwrap().to_owned();
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&format!("\"x\", W/{plain}")).unwrap(),
        );
        assert!(not_modified(&h, &t));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
        assert!(!not_modified(&h, &t));
    }
}
