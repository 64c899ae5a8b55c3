//! Vector tiles made by PostGIS (`ST_AsMVT`), one MVT layer per feature layer.
//!
//! One statement per tile: each layer's features meeting the tile and its buffer (found by
//! the table's `GiST` index), in Web Mercator, simplified as `gridgov-tiles` simplifies at that
//! zoom, cut and snapped by `ST_AsMVTGeom`, encoded by `ST_AsMVT` with the feature id as MVT
//! id and the layer's tile attributes ([`gridgov_tiles::schema`]); the layers' tiles are
//! concatenated (an MVT tile is a sequence of layers). Each layer reads its own table only,
//! so the query needs no join and runs on a Citus coordinator as one pushed-down scan per
//! table. The statement text depends only on the layers (built once from the model's
//! schema, never from input) and is prepared once per connection; z, x, y and the tolerance
//! are parameters.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock, RwLock};

use gridgov_model::{DivisionCode, FieldType, Layer};
use gridgov_tiles::schema::{simplify_tolerance, DIVISION_ATTRIBUTE};
use gridgov_tiles::{schema, search_area, TileId, EXTENT};
use sqlx::PgPool;

use crate::StoreError;

/// One layer's part of the tile statement (`$1`–`$3` z, x, y; `$4` the simplification
/// tolerance in metres, 0 for none beyond `ST_AsMVTGeom`'s own; `$5`–`$8` the tile's
/// [`search_area`] in WGS84; `$9` the prefix of the owning divisions' codes, `''` for all;
/// `$10` the row-level security scope, set by the statement's gate: `super::gate`).
const LAYER_SQL: &str = include_str!("tile_layer.sql");

/// Tile `z/x/y` of the given layers, as PostGIS encodes it (empty: no feature).
pub(crate) async fn mvt(
    pool: &PgPool,
    scope: &str,
    layers: &[Layer],
    z: u8,
    x: u32,
    y: u32,
    owner: Option<DivisionCode>,
) -> Result<Vec<u8>, StoreError> {
    let tile = TileId::new(z, x, y).map_err(|e| StoreError::Geometry(e.to_string()))?;
    let Some(sql) = statement(layers) else {
        return Ok(Vec::new());
    };
    let area = search_area(tile);
    // Zero from zoom 12 on: no ST_Simplify, only ST_AsMVTGeom's snapping.
    let tolerance = simplify_tolerance(z) * tile.size_m() / f64::from(EXTENT);
    let bytes: Vec<u8> = sqlx::query_scalar(&sql)
        .bind(i32::from(z))
        .bind(x as i32)
        .bind(y as i32)
        .bind(tolerance)
        .bind(area.min().x)
        .bind(area.min().y)
        .bind(area.max().x)
        .bind(area.max().y)
        .bind(owner.as_ref().map_or("", DivisionCode::prefix))
        .bind(scope)
        .fetch_one(pool)
        .await?;
    Ok(bytes)
}

/// Statements by list of layers.
type Statements = RwLock<HashMap<Vec<Layer>, Option<Arc<str>>>>;

/// The statement for a list of layers (`None` when none of them has geometry), built once.
fn statement(layers: &[Layer]) -> Option<Arc<str>> {
    static CACHE: OnceLock<Statements> = OnceLock::new();
    let cache = CACHE.get_or_init(RwLock::default);
    if let Some(sql) = cache
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(layers)
    {
        return sql.clone();
    }
    let sql = build(layers).map(Arc::<str>::from);
    cache
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(layers.to_vec(), sql.clone());
    sql
}

/// A layer's further condition in tiles: grids are drawn from the plan in force only (its
/// row shares the grid's shard, so the join stays on one Citus node; migration 0009 lets
/// everyone in a township read its plans' rows).
fn filter(layer: Layer) -> &'static str {
    match layer {
        Layer::Grids => {
            "\n    AND EXISTS (SELECT 1 FROM \"grid_plans\" p WHERE p.\"id\" = \"grids\".\"plan_id\" \
             AND p.\"shard_key\" = \"grids\".\"shard_key\" AND p.\"status\" = 'effective')"
        }
        _ => "",
    }
}

/// `SELECT part || part || …` over the layers with geometry.
fn build(layers: &[Layer]) -> Option<String> {
    let parts: Vec<String> = layers
        .iter()
        .filter_map(|l| schema(*l))
        .map(|s| {
            let mut columns = format!("\"{DIVISION_ATTRIBUTE}\"");
            for def in s.field_defs() {
                let name = def.name;
                let _ = match def.ty {
                    FieldType::Date => write!(columns, ", to_char(\"{name}\", 'YYYY-MM-DD') AS \"{name}\""),
                    FieldType::DateTime => write!(
                        columns,
                        ", to_char(\"{name}\" AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS \"{name}\""
                    ),
                    _ => write!(columns, ", \"{name}\""),
                };
            }
            format!(
                "coalesce(({}), '')",
                LAYER_SQL
                    .lines()
                    .filter(|l| !l.starts_with("--"))
                    .collect::<Vec<_>>()
                    .join("\n")
                    .replace("{columns}", &columns)
                    .replace("{gate}", &super::gate(10))
                    .replace("{filter}", filter(s.layer))
                    .replace("{table}", s.layer.name())
            )
        })
        .collect();
    (!parts.is_empty()).then(|| format!("SELECT {}", parts.join("\n  || ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridgov_tiles::BUFFER;

    #[test]
    fn statements_name_only_model_columns_and_bind_every_value() {
        let sql = build(&[Layer::Grids, Layer::Persons, Layer::Disputes]).unwrap();
        assert!(sql.starts_with("SELECT coalesce(("));
        assert_eq!(sql.matches("ST_AsMVT(").count(), 2);
        assert!(sql.contains("'grids'") && sql.contains("FROM \"disputes\""));
        assert!(!sql.contains("worker_phone") && !sql.contains("description"));
        assert!(sql.contains("to_char(\"opened_on\", 'YYYY-MM-DD') AS \"opened_on\""));
        assert!(!sql.contains('{'), "{sql}");
        assert!(build(&[Layer::Persons]).is_none());
        assert!(LAYER_SQL.contains(&format!("{EXTENT}, {BUFFER}, true")));
        assert!(LAYER_SQL.contains(&format!("'{{table}}', {EXTENT}, 'geom', 'id'")));
        assert!(Arc::ptr_eq(
            &statement(&[Layer::Roads]).unwrap(),
            &statement(&[Layer::Roads]).unwrap()
        ));
    }
}
