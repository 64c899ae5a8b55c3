//! The offline basemap: `/basemap.json` (TileJSON), `/basemap/{z}/{x}/{y}.mvt` (tiles read
//! from a PMTiles package, `gridgov basemap build`), `/fonts/{fontstack}/{range}.pbf` (glyph
//! ranges made from the installed fonts, kept once made) and `/styles/{name}.json` (the map
//! styles of `tiles/styles`, their URLs made absolute for this server). Nothing here leaves the
//! machine: a county intranet has no internet.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use gridgov_basemap::glyphs::{self, GlyphError};
use gridgov_basemap::pmtiles::PmtilesError;
use gridgov_basemap::styles::{self, StyleError};
use gridgov_basemap::{Archive, Fonts};
use serde_json::Value;

use crate::openapi::Problem;
use crate::{ApiError, AppState};

/// How long browsers may keep basemap tiles, glyphs and styles (they change only when the
/// package is rebuilt and the server restarted): a day.
const CACHE_CONTROL: &str = "public, max-age=86400";

/// What the basemap routes serve from.
pub struct Basemap {
    /// The PMTiles package, when there is one.
    pub archive: Option<Archive>,
    /// Where the package was looked for (named in the 404 when it is missing).
    pub archive_path: PathBuf,
    /// The fonts glyphs are made from (`None` when the font files are not installed, with why).
    pub fonts: Result<Fonts, String>,
    /// The folder of the map styles (`tiles/styles`).
    pub styles_dir: PathBuf,
    /// Glyph ranges made so far, by fontstack and first code point.
    glyph_cache: Mutex<HashMap<(String, u32), Bytes>>,
}

impl std::fmt::Debug for Basemap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Basemap")
            .field("archive_path", &self.archive_path)
            .field("styles_dir", &self.styles_dir)
            .finish_non_exhaustive()
    }
}

impl Basemap {
    /// The basemap of the package at `archive_path` (opened when it exists) and the styles in
    /// `styles_dir`, with the fonts of Debian's `fonts-dejavu-core`.
    ///
    /// # Errors
    /// A package that exists but cannot be read (not PMTiles, cut short …).
    pub fn open(archive_path: PathBuf, styles_dir: PathBuf) -> Result<Self, PmtilesError> {
        let archive = if archive_path.exists() {
            Some(Archive::open(&archive_path)?)
        } else {
            None
        };
        Ok(Self {
            archive,
            archive_path,
            fonts: Fonts::debian().map_err(|e| e.to_string()),
            styles_dir,
            glyph_cache: Mutex::new(HashMap::new()),
        })
    }

    /// No package, no fonts: every basemap route answers 404 naming what is missing.
    pub fn none() -> Self {
        Self {
            archive: None,
            archive_path: PathBuf::from("tiles/demo.pmtiles"),
            fonts: Err("no fonts configured".into()),
            styles_dir: PathBuf::from("tiles/styles"),
            glyph_cache: Mutex::new(HashMap::new()),
        }
    }

    fn archive(&self) -> Result<&Archive, ApiError> {
        self.archive.as_ref().ok_or_else(|| {
            ApiError::NotFound(format!(
                "no basemap package at {}: build one with `gridgov basemap build --from demo --out {}`",
                self.archive_path.display(),
                self.archive_path.display()
            ))
        })
    }
}

/// This server's origin as the client reached it (`Host`, and `X-Forwarded-Proto` behind a
/// proxy), for the absolute URLs MapLibre needs: it fetches tiles in a web worker, where a
/// relative URL does not resolve.
fn origin(headers: &HeaderMap) -> Result<String, ApiError> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .ok_or_else(|| ApiError::BadRequest("the request has no valid Host header".into()))?;
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    Ok(format!("{scheme}://{host}"))
}

fn cached(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    response
}

/// `GET /basemap.json`: the package's TileJSON, its tile URL on this server.
#[utoipa::path(get, path = "/basemap.json", tag = "tiles",
    responses(
        (status = 200, description = "TileJSON 3.0 of the basemap package (`vector_layers`: landuse, water, roads, boundaries, places)", body = Object),
        (status = 404, description = "No basemap package: the answer says how to build one", content_type = "application/problem+json", body = Problem)))]
pub async fn tilejson(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let archive = s.basemap.archive()?;
    let url = format!("{}/basemap/{{z}}/{{x}}/{{y}}.mvt", origin(&headers)?);
    Ok(cached(Json(archive.tilejson(&url)).into_response()))
}

/// `GET /basemap/{z}/{x}/{y}.mvt`: one tile of the package, gzip-compressed as stored when the
/// client takes gzip, else decompressed; 204 where the package has no tile.
#[utoipa::path(get, path = "/basemap/{z}/{x}/{y}", tag = "tiles",
    params(
        ("z" = u8, Path, description = "Zoom"),
        ("x" = u32, Path, description = "Column"),
        ("y" = String, Path, description = "Row, with the `.mvt` suffix")),
    responses(
        (status = 200, description = "A Mapbox Vector Tile", content_type = "application/vnd.mapbox-vector-tile", body = Vec<u8>),
        (status = 204, description = "The package has no tile here (nothing to draw)"),
        (status = 400, description = "Coordinates outside the zoom's range", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "No basemap package", content_type = "application/problem+json", body = Problem)))]
pub async fn tile(
    State(s): State<AppState>,
    Path((z, x, y)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let archive = s.basemap.archive()?;
    let bad = |what: &str, text: &str| {
        ApiError::BadRequest(format!("tile {what} '{text}' is not a whole number"))
    };
    let zoom: u8 = z.parse().map_err(|_| bad("zoom", &z))?;
    let col: u32 = x.parse().map_err(|_| bad("column", &x))?;
    let row_text = y.strip_suffix(".mvt").unwrap_or(&y);
    let row: u32 = row_text.parse().map_err(|_| bad("row", row_text))?;
    let gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| h.split(',').any(|e| e.trim().starts_with("gzip")));
    let encoding = archive.header().tile_compression.content_encoding();
    let (bytes, encoded) = if gzip || encoding.is_none() {
        (archive.get(zoom, col, row), encoding)
    } else {
        (archive.get_decompressed(zoom, col, row), None)
    };
    let bytes = bytes.map_err(|err| match err {
        PmtilesError::Tile { .. } => ApiError::BadRequest(err.to_string()),
        other => ApiError::Internal(format!("the basemap package: {other}")),
    })?;
    let Some(bytes) = bytes else {
        return Ok(cached(StatusCode::NO_CONTENT.into_response()));
    };
    let mut response = Response::new(Body::from(bytes));
    let out = response.headers_mut();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.mapbox-vector-tile"),
    );
    if let Some(encoding) = encoded {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    out.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    Ok(cached(response))
}

/// `GET /fonts/{fontstack}/{range}.pbf`: 256 glyphs (signed distance fields) of the first
/// installed font of the stack, for the map's Latin labels; Chinese is drawn by the browser.
#[utoipa::path(get, path = "/fonts/{fontstack}/{range}", tag = "tiles",
    params(
        ("fontstack" = String, Path, description = "Font names, comma-separated, e.g. `DejaVu Sans Book`"),
        ("range" = String, Path, description = "`START-END.pbf`, 256 code points from a multiple of 256")),
    responses(
        (status = 200, description = "A MapLibre glyph range", content_type = "application/x-protobuf", body = Vec<u8>),
        (status = 400, description = "A malformed range", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "No installed font of the stack", content_type = "application/problem+json", body = Problem)))]
pub async fn glyph_range(
    State(s): State<AppState>,
    Path((fontstack, range)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let basemap = s.basemap.clone();
    let range_text = range.strip_suffix(".pbf").unwrap_or(&range).to_owned();
    let start =
        glyphs::parse_range(&range_text).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let key = (fontstack.clone(), start);
    let hit = basemap
        .glyph_cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&key)
        .cloned();
    let bytes = if let Some(b) = hit {
        b
    } else {
        // A range takes a few hundred milliseconds of drawing: off the async workers.
        let made = {
            let basemap = basemap.clone();
            tokio::task::spawn_blocking(move || match &basemap.fonts {
                Ok(fonts) => fonts.range(&fontstack, start),
                Err(why) => Err(GlyphError::UnknownFont(fontstack, why.clone())),
            })
            .await
            .map_err(|e| ApiError::Internal(format!("drawing glyphs: {e}")))?
        };
        let bytes = Bytes::from(made.map_err(|e| match e {
            GlyphError::UnknownFont(..) => ApiError::NotFound(e.to_string()),
            GlyphError::Range(_) => ApiError::BadRequest(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        })?);
        basemap
            .glyph_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, bytes.clone());
        bytes
    };
    let mut response = Response::new(Body::from(bytes));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-protobuf"),
    );
    Ok(cached(response))
}

/// Makes a style's server-relative URLs (`/basemap.json`, `/fonts/…`) absolute for `origin`.
fn absolute(value: &mut Value, origin: &str) {
    match value {
        Value::String(s) if s.starts_with('/') && !s.starts_with("//") => {
            *s = format!("{origin}{s}");
        }
        Value::Array(items) => items.iter_mut().for_each(|v| absolute(v, origin)),
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if matches!(
                    k.as_str(),
                    "url" | "glyphs" | "sprite" | "tiles" | "sources"
                ) || v.is_object()
                {
                    absolute(v, origin);
                }
            }
        }
        _ => {}
    }
}

/// `GET /styles/{name}.json`: a MapLibre style of `tiles/styles` (`light` for desks, `dark`
/// for the command-center screen) with its URLs on this server.
#[utoipa::path(get, path = "/styles/{name}", tag = "tiles",
    params(("name" = String, Path, description = "`light.json` or `dark.json`")),
    responses(
        (status = 200, description = "A MapLibre style (spec v8)", body = Object),
        (status = 400, description = "A malformed style name", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "No such style", content_type = "application/problem+json", body = Problem)))]
pub async fn style(
    State(s): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let name = name.strip_suffix(".json").unwrap_or(&name);
    let mut style = styles::load(&s.basemap.styles_dir, name).map_err(|e| match e {
        StyleError::Name(_) => ApiError::BadRequest(e.to_string()),
        StyleError::Missing { .. } => ApiError::NotFound(e.to_string()),
        other => ApiError::Internal(other.to_string()),
    })?;
    absolute(&mut style, &origin(&headers)?);
    Ok(cached(Json(style).into_response()))
}

/// Shared by the state.
pub type SharedBasemap = Arc<Basemap>;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_style_points_at_this_server() {
        let mut style = json!({
            "version": 8,
            "glyphs": "/fonts/{fontstack}/{range}.pbf",
            "sources": {"basemap": {"type": "vector", "url": "/basemap.json"}},
            "layers": [{"id": "roads", "paint": {"line-color": "/not-a-url"}}],
        });
        absolute(&mut style, "http://10.0.0.5:8080");
        assert_eq!(
            style["glyphs"],
            "http://10.0.0.5:8080/fonts/{fontstack}/{range}.pbf"
        );
        assert_eq!(
            style["sources"]["basemap"]["url"],
            "http://10.0.0.5:8080/basemap.json"
        );
        assert_eq!(style["layers"][0]["paint"]["line-color"], "/not-a-url");
    }

    #[test]
    fn the_origin_is_the_host_asked_for_and_nothing_else() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("gridgov.local:8080"));
        assert_eq!(origin(&h).unwrap(), "http://gridgov.local:8080");
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(origin(&h).unwrap(), "https://gridgov.local:8080");
        h.insert(
            header::HOST,
            HeaderValue::from_static("evil.com/\"><script>"),
        );
        assert!(origin(&h).is_err());
    }
}
