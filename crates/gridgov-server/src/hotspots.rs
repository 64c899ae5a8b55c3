//! placeholder
use utoipa_axum::router::OpenApiRouter;
use crate::AppState;
/// The hotspot routes.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
