//! OGC API – Features, Part 1 (Core, GeoJSON) under `/ogc`.

use axum::Router;

use crate::AppState;

/// The OGC API routes, to be nested under `/ogc`.
pub fn routes() -> Router<AppState> {
    Router::new()
}
