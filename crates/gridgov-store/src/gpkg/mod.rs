//! The embedded GeoPackage store: one SQLite file that GDAL and QGIS open as it is.
//!
//! Each layer is a table named after it with an integer `fid` primary key, a `geom` column
//! registered in `gpkg_geometry_columns` (EPSG:4326, GeoPackage binary geometry written by
//! geozero), `division_code`, and one column per field. Attribute tables (persons, tenancies…)
//! are registered as `attributes` in `gpkg_contents`. User accounts and sessions live in two
//! more tables that are not layers and not registered (`accounts.rs`).
//!
//! Reads share a small pool of connections; every write goes through one connection of its
//! own, which also tells the change feeds when another connection (another process, or
//! another store opened on the same file) committed: its `PRAGMA data_version` changes only
//! then, never for the store's own writes.

use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use geo::{BoundingRect, Geometry, Intersects, Rect};
use geozero::{CoordDimensions, ToWkb};
use gridgov_model::{
    DivisionCode, Feature, FeatureId, FieldType, GeometryKind, Layer, Properties, Value,
};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow};
use sqlx::{Connection, Row, Sqlite, Transaction};
use tokio::sync::broadcast;

use crate::changes::{of_batch, of_layers, FeedSender, Signal};
use crate::sql::{columns, quoted};
use crate::{Change, ChangeFeed, Guard, Op, Part, Query, Store, StoreError};

/// Accounts and sessions in the GeoPackage (tables that are not layers).
mod accounts;
mod audit;

/// The GeoPackage `application_id` ("GPKG").
const APPLICATION_ID: i64 = 0x4750_4B47;
/// GeoPackage 1.3.
const USER_VERSION: i64 = 10300;

/// How often a change feed asks whether another connection wrote the file.
const POLL: Duration = Duration::from_millis(500);

/// Changes of this many writes wait for a feed's task before it lags and resyncs.
const BROADCAST: usize = 1024;

/// A GeoPackage file opened as a store.
///
/// Its change feeds ([`Store::changes`]) report the store's own writes (this handle and its
/// clones) with their ids, as they commit (a bulk [`Store::apply_stream`], or more than
/// [`crate::changes::MAX_IDS`] ids in a layer, report the layer without ids). Writes by
/// anything else on the same file (a `gridgov import` while `gridgov serve` runs, another
/// store opened on it, GDAL, QGIS) are noticed within half a second through SQLite's
/// `PRAGMA data_version` and reported as a resync: every layer, ids unknown. A feed ends
/// when every handle on the store is dropped.
#[derive(Debug, Clone)]
pub struct GpkgStore {
    /// Reads.
    pool: SqlitePool,
    /// Every write, on its one connection, whose `data_version` the change feeds poll.
    writer: SqlitePool,
    /// The changes of the store's own writes, sent after they commit.
    changes: broadcast::Sender<Change>,
    /// The secret key of entity tags.
    tag_key: Vec<u8>,
}

fn sql_type(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Text => "TEXT",
        FieldType::Integer => "INTEGER",
        FieldType::Real => "DOUBLE",
        FieldType::Date => "DATE",
        FieldType::DateTime => "DATETIME",
        FieldType::Bool => "BOOLEAN",
    }
}

/// Unique keys beyond the id: a division's code; a grid's code within its plan.
fn unique_key(layer: Layer) -> Option<&'static str> {
    match layer {
        Layer::Counties | Layer::Townships | Layer::Villages | Layer::VillagerGroups => {
            Some("code")
        }
        Layer::Grids => Some("plan_id, code"),
        _ => None,
    }
}

fn create_table_sql(layer: Layer) -> String {
    let mut cols = vec!["\"fid\" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL".to_owned()];
    if layer.geometry() != GeometryKind::None {
        cols.push(format!("\"geom\" {}", layer.geometry().ogc_name()));
    }
    cols.push("\"division_code\" TEXT NOT NULL CHECK (length(division_code) = 12)".to_owned());
    for f in layer.fields() {
        let null = if f.required { " NOT NULL" } else { "" };
        cols.push(format!("\"{}\" {}{null}", f.name, sql_type(f.ty)));
    }
    if let Some(key) = unique_key(layer) {
        cols.push(format!("UNIQUE ({key})"));
    }
    format!("CREATE TABLE \"{}\" ({})", layer.name(), cols.join(", "))
}

/// Brings a layer table of a GeoPackage made by an earlier gridgov up to the layer's fields:
/// optional fields added since are added as empty columns; a missing required field cannot be
/// filled in and is refused, naming it.
async fn add_missing_columns(
    tx: &mut Transaction<'_, Sqlite>,
    layer: Layer,
) -> Result<(), StoreError> {
    let present: HashSet<String> = sqlx::query_scalar(&format!(
        "SELECT name FROM pragma_table_info('{}')",
        layer.name()
    ))
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .collect();
    for f in layer.fields() {
        if present.contains(f.name) {
            continue;
        }
        if f.required {
            return Err(StoreError::NotGridgov(format!(
                "the GeoPackage's table '{}' lacks the required column '{}': it was not made \
                 by gridgov, or by a version this one cannot upgrade",
                layer.name(),
                f.name
            )));
        }
        sqlx::query(&format!(
            "ALTER TABLE \"{}\" ADD COLUMN \"{}\" {}",
            layer.name(),
            f.name,
            sql_type(f.ty)
        ))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Encodes a geometry as GeoPackage binary with SRS 4326 and its envelope.
pub fn encode_geometry(g: &Geometry<f64>) -> Result<Vec<u8>, StoreError> {
    let envelope = g
        .bounding_rect()
        .map(|r| vec![r.min().x, r.max().x, r.min().y, r.max().y])
        .unwrap_or_default();
    g.to_gpkg_wkb(CoordDimensions::xy(), Some(4326), envelope)
        .map_err(|e| StoreError::Geometry(e.to_string()))
}

/// Decodes GeoPackage binary (with gridgov's bounded WKB reader: a damaged blob is an error,
/// never a huge allocation).
pub fn decode_geometry(blob: &[u8]) -> Result<Geometry<f64>, StoreError> {
    gridgov_model::wkb::read_geopackage(blob)
        .map_err(StoreError::Geometry)?
        .ok_or_else(|| StoreError::Geometry("an empty geometry".into()))
}

fn bind_value<'q>(
    q: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    ty: FieldType,
    v: Option<&Value>,
) -> sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    match (ty, v) {
        (_, None) => q.bind(Option::<String>::None),
        (_, Some(Value::Integer(i))) => q.bind(*i),
        (_, Some(Value::Real(r))) => q.bind(*r),
        (_, Some(Value::Bool(b))) => q.bind(*b),
        (_, Some(other)) => q.bind(other.to_text()),
    }
}

/// Decodes a row selected as `"fid", columns(layer)` (columns by position: looking them up
/// by name costs more than the rest of the decoding).
fn read_row(layer: Layer, row: &SqliteRow) -> Result<Feature, StoreError> {
    let id: i64 = row.try_get(0)?;
    let corrupt = |reason: String| StoreError::Corrupt { layer, id, reason };
    let has_geom = layer.geometry() != GeometryKind::None;
    let first_field = if has_geom { 3 } else { 2 };
    let division: &str = row.try_get(first_field - 1)?;
    let division = DivisionCode::from_str(division).map_err(|e| corrupt(e.to_string()))?;
    let geometry = if has_geom {
        let blob: Option<&[u8]> = row.try_get(1)?;
        blob.map(decode_geometry).transpose()?
    } else {
        None
    };
    let mut properties = Properties::new();
    for (k, f) in layer.fields().iter().enumerate() {
        let i = first_field + k;
        let v = match f.ty {
            FieldType::Integer => row.try_get::<Option<i64>, _>(i)?.map(Value::Integer),
            FieldType::Real => row.try_get::<Option<f64>, _>(i)?.map(Value::Real),
            FieldType::Bool => row.try_get::<Option<bool>, _>(i)?.map(Value::Bool),
            FieldType::Text => row.try_get::<Option<String>, _>(i)?.map(Value::Text),
            FieldType::Date | FieldType::DateTime => row
                .try_get::<Option<&str>, _>(i)?
                .map(|s| Value::parse(f.ty, s).map_err(corrupt))
                .transpose()?,
        };
        if let Some(v) = v {
            properties.insert(f.name.to_owned(), v);
        }
    }
    Ok(Feature {
        id: Some(FeatureId(id)),
        division,
        geometry,
        properties,
    })
}

/// A bound query argument.
enum Arg {
    Int(i64),
    Text(String),
}

fn bbox_rect(b: [f64; 4]) -> Rect<f64> {
    Rect::new((b[0], b[1]), (b[2], b[3]))
}

impl GpkgStore {
    /// Opens a GeoPackage, creating the file, every layer table and the accounts tables if
    /// needed. A file that exists but is not a GeoPackage is refused, never overwritten.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let exists = path.exists();
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .foreign_keys(false)
            .busy_timeout(std::time::Duration::from_secs(10))
            // Whole chunks of rows are read at once: let the worker thread run ahead instead
            // of waking the reader for every 50 rows.
            .row_buffer_size(1024)
            // Read pages through a memory map rather than one read() system call per page:
            // scanning a layer then costs a fraction of the kernel time.
            .pragma("mmap_size", "268435456");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts.clone())
            .await?;
        // One connection for good: `data_version` compares only within one connection.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_lazy_with(opts);
        let mut store = Self {
            pool,
            writer,
            changes: broadcast::channel(BROADCAST).0,
            tag_key: Vec::new(),
        };
        if exists {
            let app: i64 = sqlx::query_scalar("PRAGMA application_id")
                .fetch_one(&store.pool)
                .await
                .map_err(|_| {
                    StoreError::NotGridgov(format!("{} is not a GeoPackage", path.display()))
                })?;
            if app != APPLICATION_ID && app != 0 {
                return Err(StoreError::NotGridgov(format!(
                    "{} is an SQLite file but not a GeoPackage",
                    path.display()
                )));
            }
        }
        store.init().await?;
        store.tag_key = accounts::tag_key(&store.pool).await?;
        Ok(store)
    }

    /// Whether the file already is a gridgov GeoPackage with every layer and the accounts
    /// tables (then opening it writes nothing: a read-only file opens, and reading creates no
    /// journal file).
    async fn complete(&self) -> Result<bool, StoreError> {
        let app: i64 = sqlx::query_scalar("PRAGMA application_id")
            .fetch_one(&self.pool)
            .await?;
        let version: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&self.pool)
            .await?;
        if app != APPLICATION_ID || version != USER_VERSION {
            return Ok(false);
        }
        let has_contents: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' \
             AND name = 'gpkg_contents')",
        )
        .fetch_one(&self.pool)
        .await?;
        if !has_contents {
            return Ok(false);
        }
        let existing: HashSet<String> = sqlx::query_scalar("SELECT table_name FROM gpkg_contents")
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .collect();
        if !Layer::ALL.iter().all(|l| existing.contains(l.name())) {
            return Ok(false);
        }
        // Every field a column (a file made before a layer gained a field is upgraded).
        for layer in Layer::ALL {
            let present: HashSet<String> = sqlx::query_scalar(&format!(
                "SELECT name FROM pragma_table_info('{}')",
                layer.name()
            ))
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .collect();
            if layer.fields().iter().any(|f| !present.contains(f.name)) {
                return Ok(false);
            }
        }
        accounts::present(&self.pool).await
    }

    async fn init(&self) -> Result<(), StoreError> {
        if self.complete().await? {
            return Ok(());
        }
        let mut tx = self.writer.begin().await?;
        sqlx::raw_sql(&format!(
            "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {USER_VERSION};"
        ))
        .execute(&mut *tx)
        .await?;
        sqlx::raw_sql(include_str!("schema.sql"))
            .execute(&mut *tx)
            .await?;
        let existing: HashSet<String> = sqlx::query_scalar("SELECT table_name FROM gpkg_contents")
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
        for layer in Layer::ALL {
            if existing.contains(layer.name()) {
                add_missing_columns(&mut tx, *layer).await?;
                continue;
            }
            sqlx::query(&create_table_sql(*layer))
                .execute(&mut *tx)
                .await?;
            let spatial = layer.geometry() != GeometryKind::None;
            sqlx::query(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(layer.name())
            .bind(if spatial { "features" } else { "attributes" })
            .bind(layer.name())
            .bind(layer.zh())
            .bind(spatial.then_some(4326))
            .execute(&mut *tx)
            .await?;
            if spatial {
                sqlx::query("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, 4326, 0, 0)")
                    .bind(layer.name())
                    .bind(layer.geometry().ogc_name())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        accounts::create(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn insert(
        tx: &mut Transaction<'_, Sqlite>,
        layer: Layer,
        f: &Feature,
    ) -> Result<FeatureId, StoreError> {
        let cols = columns(layer);
        let marks = vec!["?"; cols.len() + 1].join(", ");
        let sql = format!(
            "INSERT INTO \"{}\" (\"fid\", {}) VALUES ({marks}) RETURNING fid",
            layer.name(),
            quoted(&cols)
        );
        let q = Self::bind_feature(sqlx::query(&sql).bind(f.id.map(|i| i.0)), layer, f)?;
        let id: i64 = q.fetch_one(&mut **tx).await?.try_get(0)?;
        Ok(FeatureId(id))
    }

    fn bind_feature<'q>(
        mut q: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
        layer: Layer,
        f: &Feature,
    ) -> Result<sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>, StoreError> {
        if layer.geometry() != GeometryKind::None {
            q = q.bind(f.geometry.as_ref().map(encode_geometry).transpose()?);
        }
        q = q.bind(f.division.as_str().to_owned());
        for def in layer.fields() {
            q = bind_value(q, def.ty, f.properties.get(def.name));
        }
        Ok(q)
    }

    async fn touch(tx: &mut Transaction<'_, Sqlite>, layer: Layer) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') \
             WHERE table_name = ?",
        )
        .bind(layer.name())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Applies a batch in one transaction on the writer and, once it committed, sends its
    /// changes (`changes` gets the ids) to the change feeds, before the next write can commit.
    async fn apply(
        &self,
        guards: &[Guard],
        ops: &[Op],
        changes: impl FnOnce(&[FeatureId]) -> Vec<Change> + Send,
    ) -> Result<Vec<FeatureId>, StoreError> {
        let mut writer = self.writer.acquire().await?;
        let mut tx = writer.begin().await?;
        // The one writer connection serialises this process's writes; another process
        // committing in between makes SQLite refuse this transaction's first write.
        for guard in guards {
            let row = sqlx::query(&select_one(guard.layer))
                .bind(guard.id.0)
                .fetch_optional(&mut *tx)
                .await?;
            let current = row.map(|r| read_row(guard.layer, &r)).transpose()?;
            guard.holds(&self.tag_key, current.as_ref())?;
        }
        let mut ids = Vec::with_capacity(ops.len());
        let mut touched = HashSet::new();
        for op in ops {
            touched.insert(op.layer());
            match op {
                Op::Insert(layer, f) => ids.push(Self::insert(&mut tx, *layer, f).await?),
                Op::Update(layer, f) => {
                    let id = crate::update_id(*layer, f)?;
                    let cols = columns(*layer);
                    let set = cols
                        .iter()
                        .map(|c| format!("\"{c}\" = ?"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let sql = format!("UPDATE \"{}\" SET {set} WHERE fid = ?", layer.name());
                    let q = Self::bind_feature(sqlx::query(&sql), *layer, f)?.bind(id.0);
                    if q.execute(&mut *tx).await?.rows_affected() == 0 {
                        return Err(StoreError::NotFound { layer: *layer, id });
                    }
                    ids.push(id);
                }
                Op::Delete(layer, id) => {
                    let sql = format!("DELETE FROM \"{}\" WHERE fid = ?", layer.name());
                    let r = sqlx::query(&sql).bind(id.0).execute(&mut *tx).await?;
                    if r.rows_affected() == 0 {
                        return Err(StoreError::NotFound {
                            layer: *layer,
                            id: *id,
                        });
                    }
                    ids.push(*id);
                }
            }
        }
        for layer in touched {
            Self::touch(&mut tx, layer).await?;
        }
        tx.commit().await?;
        for change in changes(&ids) {
            // An error only means that no feed is open.
            let _ = self.changes.send(change);
        }
        Ok(ids)
    }

    fn where_clause(query: &Query) -> (String, Vec<Arg>) {
        let mut conds = vec!["1 = 1".to_owned()];
        let mut args = Vec::new();
        if let Some(d) = &query.division {
            conds.push("substr(division_code, 1, ?) = ?".to_owned());
            args.push(Arg::Int(d.prefix().len() as i64));
            args.push(Arg::Text(d.prefix().to_owned()));
        }
        if let Some(a) = query.after_id {
            conds.push("fid > ?".to_owned());
            args.push(Arg::Int(a));
        }
        if let Some(t) = &query.time {
            // Dates are stored as YYYY-MM-DD and instants as RFC 3339 text; both sides are
            // brought to one fixed-width form (instants in UTC with milliseconds), so that text
            // order is time order. The column name comes from the model, the bounds are bound.
            let (column, start, end) = match t.range {
                crate::TimeRange::Dates { start, end } => (
                    format!("date(\"{}\")", t.field),
                    start.map(|d| d.format("%Y-%m-%d").to_string()),
                    end.map(|d| d.format("%Y-%m-%d").to_string()),
                ),
                crate::TimeRange::Instants { start, end } => {
                    let text =
                        |i: chrono::DateTime<chrono::Utc>| i.format("%Y-%m-%dT%H:%M:%S%.3fZ");
                    (
                        format!("strftime('%Y-%m-%dT%H:%M:%fZ', \"{}\")", t.field),
                        start.map(|i| text(i).to_string()),
                        end.map(|i| text(i).to_string()),
                    )
                }
            };
            if let Some(s) = start {
                conds.push(format!("{column} >= ?"));
                args.push(Arg::Text(s));
            }
            if let Some(e) = end {
                conds.push(format!("{column} <= ?"));
                args.push(Arg::Text(e));
            }
        }
        (conds.join(" AND "), args)
    }

    /// Reads matching rows in id order, applying bbox in Rust (GeoPackage has no spatial SQL
    /// functions without GDAL); limit and offset follow the bbox filter.
    async fn scan(
        &self,
        layer: Layer,
        query: &Query,
        paged: bool,
    ) -> Result<Vec<Feature>, StoreError> {
        let (cond, args) = Self::where_clause(query);
        let mut sql = format!(
            "SELECT \"fid\", {} FROM \"{}\" WHERE {cond} ORDER BY fid",
            quoted(&columns(layer)),
            layer.name()
        );
        let bbox_in_sql = query.bbox.is_none() && paged;
        if bbox_in_sql {
            sql.push_str(" LIMIT ? OFFSET ?");
        }
        let mut q = sqlx::query(&sql);
        for a in args {
            q = match a {
                Arg::Int(n) => q.bind(n),
                Arg::Text(t) => q.bind(t),
            };
        }
        if bbox_in_sql {
            q = q
                .bind(query.limit.map_or(-1, |l| l as i64))
                .bind(query.offset.unwrap_or(0) as i64);
        }
        let rows = q.fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(read_row(layer, row)?);
        }
        if let Some(b) = query.bbox {
            let r = bbox_rect(b);
            out.retain(|f| {
                f.geometry
                    .as_ref()
                    .and_then(BoundingRect::bounding_rect)
                    .is_some_and(|g| g.intersects(&r))
            });
            if paged {
                let off = query.offset.unwrap_or(0) as usize;
                out = out
                    .into_iter()
                    .skip(off)
                    .take(query.limit.map_or(usize::MAX, |l| l as usize))
                    .collect();
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl Store for GpkgStore {
    fn tag_key(&self) -> &[u8] {
        &self.tag_key
    }

    async fn get(&self, layer: Layer, id: FeatureId) -> Result<Option<Feature>, StoreError> {
        let row = sqlx::query(&select_one(layer))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| read_row(layer, &r)).transpose()
    }

    async fn query(&self, layer: Layer, query: &Query) -> Result<Vec<Feature>, StoreError> {
        self.scan(layer, query, true).await
    }

    async fn count(&self, layer: Layer, query: &Query) -> Result<u64, StoreError> {
        if query.bbox.is_some() {
            return Ok(self.scan(layer, query, false).await?.len() as u64);
        }
        let (cond, args) = Self::where_clause(query);
        let sql = format!("SELECT count(*) FROM \"{}\" WHERE {cond}", layer.name());
        let mut q = sqlx::query_scalar::<_, i64>(&sql);
        for a in args {
            q = match a {
                Arg::Int(n) => q.bind(n),
                Arg::Text(t) => q.bind(t),
            };
        }
        Ok(q.fetch_one(&self.pool).await? as u64)
    }

    async fn reserve_ids(&self, layer: Layer, n: u32) -> Result<Vec<FeatureId>, StoreError> {
        // AUTOINCREMENT keeps the largest id ever used in `sqlite_sequence` and never hands
        // out one at or below it: moving it on reserves the ids in between.
        let mut writer = self.writer.acquire().await?;
        let mut tx = writer.begin().await?;
        let name = layer.name();
        sqlx::query(&format!(
            "INSERT INTO sqlite_sequence (name, seq) \
             SELECT ?1, coalesce((SELECT max(fid) FROM \"{name}\"), 0) \
             WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?1)"
        ))
        .bind(name)
        .execute(&mut *tx)
        .await?;
        let last: i64 = sqlx::query_scalar(
            "UPDATE sqlite_sequence SET seq = seq + ?2 WHERE name = ?1 RETURNING seq",
        )
        .bind(name)
        .bind(i64::from(n))
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((last - i64::from(n) + 1..=last).map(FeatureId).collect())
    }

    async fn existing_ids(&self, layer: Layer, ids: &[i64]) -> Result<HashSet<i64>, StoreError> {
        let mut out = HashSet::new();
        for chunk in ids.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let sql = format!(
                "SELECT fid FROM \"{}\" WHERE fid IN ({marks})",
                layer.name()
            );
            let mut q = sqlx::query_scalar::<_, i64>(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            out.extend(q.fetch_all(&self.pool).await?);
        }
        Ok(out)
    }

    async fn apply_guarded(
        &self,
        guards: Vec<Guard>,
        ops: Vec<Op>,
    ) -> Result<Vec<FeatureId>, StoreError> {
        self.apply(&guards, &ops, |ids| of_batch(&ops, ids)).await
    }

    async fn apply_stream(
        &self,
        parts: tokio::sync::mpsc::Receiver<Part>,
    ) -> Result<Vec<FeatureId>, StoreError> {
        let ops = crate::gather(parts).await?;
        let mut layers: Vec<Layer> = ops.iter().map(Op::layer).collect();
        layers.sort_unstable();
        layers.dedup();
        self.apply(&[], &ops, |_| of_layers(layers)).await
    }

    async fn changes(&self) -> Result<ChangeFeed, StoreError> {
        // Subscribe first: a write committing in between is then reported twice at worst.
        let own = self.changes.subscribe();
        let version = data_version(&self.writer).await?;
        let writer = self.writer.clone();
        Ok(ChangeFeed::spawn(move |sender| {
            watch(writer, version, own, sender)
        }))
    }
}

/// The query of one feature by id.
fn select_one(layer: Layer) -> String {
    format!(
        "SELECT \"fid\", {} FROM \"{}\" WHERE fid = ?",
        quoted(&columns(layer)),
        layer.name()
    )
}

/// The writer's `PRAGMA data_version`: it changes when another connection commits.
async fn data_version(writer: &SqlitePool) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("PRAGMA data_version")
        .fetch_one(writer)
        .await?)
}

/// A feed's task: forwards the store's own changes and, every [`POLL`], resyncs if another
/// connection wrote the file since `version` was read. Ends with the feed or the store.
async fn watch(
    writer: SqlitePool,
    mut version: i64,
    mut own: broadcast::Receiver<Change>,
    sender: FeedSender,
) {
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is immediate and `version` is fresh.
    poll.tick().await;
    loop {
        let signal = tokio::select! {
            () = sender.closed() => return,
            change = own.recv() => match change {
                Ok(change) => Signal::Change(change),
                Err(broadcast::error::RecvError::Lagged(_)) => Signal::Resync,
                // Every handle on the store was dropped.
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = poll.tick() => match data_version(&writer).await {
                Ok(v) if v == version => continue,
                Ok(v) => {
                    version = v;
                    Signal::Resync
                }
                Err(e) => {
                    tracing::warn!(error = %e, "change feed: could not read the GeoPackage's data_version");
                    continue;
                }
            },
        };
        if !sender.send(signal) {
            return;
        }
    }
}
