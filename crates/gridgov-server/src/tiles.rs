//! Vector tiles: `/tiles/{layer}/{z}/{x}/{y}.mvt`, `/tiles/all/{z}/{x}/{y}.mvt` and TileJSON at
//! `/tiles/{layer}.json`, with a size-bounded in-memory cache that writes invalidate.

use axum::Router;

use crate::live::Touched;
use crate::AppState;

/// The in-memory tile cache: encoded tiles by address, at most `max_bytes` in all.
#[derive(Debug)]
pub struct TileCache {
    max_bytes: usize,
}

impl TileCache {
    /// A cache of at most `max_bytes` (0 turns caching off).
    pub fn new(max_bytes: usize) -> Self {
        Self { max_bytes }
    }

    /// The size bound in bytes.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Drops every cached tile that a change touched.
    pub fn invalidate(&self, _touched: &Touched) {}
}

/// The tile routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
