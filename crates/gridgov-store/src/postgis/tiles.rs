//! Vector tiles made by PostGIS (`ST_AsMVT`), one MVT layer per feature layer.

use gridgov_model::Layer;
use sqlx::PgPool;

use crate::StoreError;

/// Tile `z/x/y` of the given layers, as PostGIS encodes it.
pub(crate) async fn mvt(
    _pool: &PgPool,
    _layers: &[Layer],
    _z: u8,
    _x: u32,
    _y: u32,
) -> Result<Vec<u8>, StoreError> {
    Err(StoreError::Task("PostGIS tiles are not written yet".into()))
}
