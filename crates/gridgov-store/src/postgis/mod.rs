//! The PostGIS store: PostgreSQL with PostGIS through sqlx, for real deployments.
//!
//! The schema lives in the repository's `migrations/` and is applied by [`migrate`]. Every
//! layer's table carries `shard_key` (the 9-digit township part of `division_code`) in its
//! primary key `(id, shard_key)`, so that the schema can be distributed by Citus on it; the
//! two small accounts tables are Citus reference tables.
//! Inserts are streamed with `COPY … FROM STDIN` inside the batch's transaction.
//! Every write also notifies the store's change feeds from inside its transaction
//! (`changes.rs`).
//!
//! Row-level security (`migrations/0005_row_security.sql`) guards every layer table. Each
//! write transaction begins with `SET LOCAL gridgov.scope` to the running task's
//! [`crate::scope::RowScope`] (or the store's default), and each single-statement read sets
//! it for its own transaction with a gate (`gate`), so the database itself keeps a request inside
//! its user's region. A server connects with [`PgStore::connect_server`],
//! which refuses roles that would get past the policies.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use geo::Geometry;
use geozero::{CoordDimensions, ToWkb};
use gridgov_model::{
    DivisionCode, Feature, FeatureId, FieldType, GeometryKind, Layer, Properties, Value,
};
use sqlx::postgres::{PgArguments, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row, Transaction};

use crate::scope::RowScope;

/// Accounts and sessions (`gridgov_users`, `gridgov_sessions`).
mod accounts;
mod audit;
pub mod changes;
mod stream;
mod tiles;

use crate::sql::{columns, quoted};
use crate::{ChangeFeed, Guard, Op, Query, Store, StoreError};

/// The migrations in the repository's `migrations/` folder, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// Connects and applies every pending migration (creating the PostGIS extension if needed).
pub async fn migrate(url: &str) -> Result<(), StoreError> {
    let pool = PgPoolOptions::new().max_connections(1).connect(url).await?;
    MIGRATOR.run(&pool).await?;
    pool.close().await;
    Ok(())
}

/// Insert runs of at least this many rows into a table holding fewer rebuild its indexes
/// once instead of updating them row by row.
pub const BULK_ROWS: usize = 5_000;

/// A PostGIS database opened as a store.
///
/// Its change feeds ([`Store::changes`]) report every write committed through gridgov by any
/// process or server instance connected to the same database: each write notifies channel
/// [`changes::CHANNEL`] from inside its transaction, listing the ids of each layer it
/// touched (a bulk [`Store::apply_stream`], or more than [`crate::changes::MAX_IDS`] ids in
/// a layer, notify the layer without ids). Writes made around gridgov (plain `psql`, other
/// applications) send no notification and are not seen. A feed holds a connection of its own
/// and, when that connection is lost, connects again and reports a resync (every layer,
/// ids unknown). It ends when the store's pool is closed or every handle on the store is
/// dropped.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Dropped with the last handle on the store, which ends its change feeds.
    alive: std::sync::Arc<tokio::sync::watch::Sender<()>>,
    /// The secret key of entity tags (`gridgov_settings`).
    tag_key: Vec<u8>,
    /// The rows a transaction may touch when the task sets no [`crate::scope::within`].
    default_scope: RowScope,
    /// Whether COPY may write straight into the layer tables: only when row-level security
    /// does not apply to the connection's role (a superuser's); PostgreSQL refuses COPY FROM
    /// into a table whose policies apply, so the rows then go through a staging table.
    copy_direct: bool,
}

/// The scope gate of a single-statement read (parameter `$param`: the `gridgov.scope`
/// setting): sets it for the statement's own transaction (`set_config(…, true)` is
/// `SET LOCAL`) in the same round trip as the read, where `BEGIN; SET LOCAL …; …; COMMIT` takes three (which cost about a
/// quarter of PostgreSQL's tile throughput, measured with pgbench). The uncorrelated
/// subquery is an init plan and the condition a one-time filter, which PostgreSQL evaluates
/// before the scan below it starts, so the policies' `current_setting` sees the value on
/// every row. Were it ever evaluated late, the setting would still be unset and the policies
/// would show nothing: the gate fails closed.
pub(crate) fn gate(param: u8) -> String {
    format!("(SELECT set_config('gridgov.scope', ${param}, true)) IS NOT NULL")
}

fn ewkb(g: &Geometry<f64>) -> Result<Vec<u8>, StoreError> {
    g.to_ewkb(CoordDimensions::xy(), Some(4326))
        .map_err(|e| StoreError::Geometry(e.to_string()))
}

/// Appends bytes as upper-case hexadecimal (how COPY's text format takes EWKB).
fn push_hex(bytes: &[u8], out: &mut String) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
}

/// The table COPY loads for a layer: the layer's own, or (when row-level security applies to
/// the role, which rules COPY FROM out) a temporary table of the same columns that
/// [`finish_copy`] empties into the layer's.
fn copy_table(layer: Layer, direct: bool) -> String {
    if direct {
        layer.name().to_owned()
    } else {
        format!("gridgov_stage_{}", layer.name())
    }
}

/// The COPY statement that loads a layer (see [`copy_table`]).
fn copy_statement(layer: Layer, direct: bool) -> String {
    format!(
        "COPY \"{}\" (\"id\", \"shard_key\", {}) FROM STDIN",
        copy_table(layer, direct),
        quoted(&columns(layer))
    )
}

/// Before a COPY through a staging table: makes the table (dropped at the commit).
async fn start_copy(
    tx: &mut Transaction<'_, Postgres>,
    layer: Layer,
    direct: bool,
) -> Result<(), StoreError> {
    if !direct {
        sqlx::query(&format!(
            "CREATE TEMP TABLE IF NOT EXISTS \"{}\" (LIKE public.\"{}\") ON COMMIT DROP",
            copy_table(layer, direct),
            layer.name()
        ))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// After a COPY through a staging table: moves its rows into the layer's table, where the
/// policies check each one (a row outside the transaction's scope fails the batch).
async fn finish_copy(
    tx: &mut Transaction<'_, Postgres>,
    layer: Layer,
    direct: bool,
) -> Result<(), StoreError> {
    if !direct {
        let cols = format!("\"id\", \"shard_key\", {}", quoted(&columns(layer)));
        sqlx::query(&format!(
            "WITH moved AS (DELETE FROM \"{}\" RETURNING {cols}) \
             INSERT INTO public.\"{}\" ({cols}) SELECT {cols} FROM moved",
            copy_table(layer, direct),
            layer.name()
        ))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Encodes features with their ids as rows of COPY's text format.
fn copy_rows<'a>(
    layer: Layer,
    rows: impl Iterator<Item = (&'a Feature, &'a FeatureId)>,
) -> Result<String, StoreError> {
    let mut buf = String::new();
    let has_geom = layer.geometry() != GeometryKind::None;
    for (f, id) in rows {
        let _ = write!(buf, "{}\t{}", id.0, f.division.shard_key());
        if has_geom {
            buf.push('\t');
            match &f.geometry {
                Some(g) => push_hex(&ewkb(g)?, &mut buf),
                None => buf.push_str("\\N"),
            }
        }
        buf.push('\t');
        buf.push_str(f.division.as_str());
        for def in layer.fields() {
            buf.push('\t');
            match f.properties.get(def.name) {
                None => buf.push_str("\\N"),
                Some(Value::Bool(b)) => buf.push(if *b { 't' } else { 'f' }),
                Some(Value::Text(t)) => copy_escape(t, &mut buf),
                Some(Value::Integer(i)) => {
                    let _ = write!(buf, "{i}");
                }
                Some(v) => copy_escape(&v.to_text(), &mut buf),
            }
        }
        buf.push('\n');
    }
    Ok(buf)
}

/// Escapes text for PostgreSQL's COPY text format.
fn copy_escape(s: &str, out: &mut String) {
    if !s.contains(['\\', '\t', '\n', '\r']) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

fn bind_value<'q>(
    q: sqlx::query::Query<'q, Postgres, PgArguments>,
    ty: FieldType,
    v: Option<&Value>,
) -> sqlx::query::Query<'q, Postgres, PgArguments> {
    match (ty, v) {
        (_, Some(Value::Integer(i))) => q.bind(*i),
        (_, Some(Value::Real(r))) => q.bind(*r),
        (_, Some(Value::Bool(b))) => q.bind(*b),
        (_, Some(Value::Date(d))) => q.bind(*d),
        (_, Some(Value::DateTime(t))) => q.bind(*t),
        (_, Some(Value::Text(s))) => q.bind(s.clone()),
        (FieldType::Integer, None) => q.bind(Option::<i64>::None),
        (FieldType::Real, None) => q.bind(Option::<f64>::None),
        (FieldType::Bool, None) => q.bind(Option::<bool>::None),
        (FieldType::Date, None) => q.bind(Option::<NaiveDate>::None),
        (FieldType::DateTime, None) => q.bind(Option::<DateTime<Utc>>::None),
        (FieldType::Text, None) => q.bind(Option::<String>::None),
    }
}

fn select_list(layer: Layer) -> String {
    let mut cols = vec!["id".to_owned()];
    if layer.geometry() != GeometryKind::None {
        cols.push("ST_AsEWKB(geom) AS geom".to_owned());
    }
    cols.push("division_code".to_owned());
    cols.extend(layer.fields().iter().map(|f| format!("\"{}\"", f.name)));
    cols.join(", ")
}

fn read_row(layer: Layer, row: &PgRow) -> Result<Feature, StoreError> {
    let id: i64 = row.try_get("id")?;
    let corrupt = |reason: String| StoreError::Corrupt { layer, id, reason };
    let division: String = row.try_get("division_code")?;
    let division = DivisionCode::from_str(&division).map_err(|e| corrupt(e.to_string()))?;
    let geometry = if layer.geometry() == GeometryKind::None {
        None
    } else {
        let blob: Option<Vec<u8>> = row.try_get("geom")?;
        blob.map(|b| {
            gridgov_model::wkb::read(&b)
                .map_err(StoreError::Geometry)?
                .ok_or_else(|| StoreError::Geometry("an empty geometry".into()))
        })
        .transpose()?
    };
    let mut properties = Properties::new();
    for f in layer.fields() {
        let v = match f.ty {
            FieldType::Integer => row.try_get::<Option<i64>, _>(f.name)?.map(Value::Integer),
            FieldType::Real => row.try_get::<Option<f64>, _>(f.name)?.map(Value::Real),
            FieldType::Bool => row.try_get::<Option<bool>, _>(f.name)?.map(Value::Bool),
            FieldType::Text => row.try_get::<Option<String>, _>(f.name)?.map(Value::Text),
            FieldType::Date => row
                .try_get::<Option<NaiveDate>, _>(f.name)?
                .map(Value::Date),
            FieldType::DateTime => row
                .try_get::<Option<DateTime<Utc>>, _>(f.name)?
                .map(Value::DateTime),
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

impl PgStore {
    /// Connects to a migrated PostGIS database.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new().max_connections(8).connect(url).await?;
        let migrated: bool =
            sqlx::query_scalar("SELECT to_regclass('public.counties') IS NOT NULL")
                .fetch_one(&pool)
                .await?;
        if !migrated {
            return Err(StoreError::NotGridgov(
                "the database has no gridgov schema yet: run `gridgov migrate --store URL` first"
                    .into(),
            ));
        }
        Self::with_pool(pool).await
    }

    async fn with_pool(pool: PgPool) -> Result<Self, StoreError> {
        let applied: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM _sqlx_migrations WHERE success AND version = ANY($1)",
        )
        .bind(MIGRATOR.iter().map(|m| m.version).collect::<Vec<i64>>())
        .fetch_one(&pool)
        .await
        .unwrap_or(0);
        if usize::try_from(applied).ok() != Some(MIGRATOR.iter().count()) {
            return Err(StoreError::NotGridgov(
                "the database's gridgov schema is out of date: run `gridgov migrate --store URL`"
                    .into(),
            ));
        }
        let key: Option<String> =
            sqlx::query_scalar("SELECT value FROM gridgov_settings WHERE name = 'tag_key'")
                .fetch_optional(&pool)
                .await
                .map_err(|_| {
                    StoreError::NotGridgov(
                "the database's gridgov schema is out of date: run `gridgov migrate --store URL`"
                    .into(),
            )
                })?;
        let Some(key) = key else {
            return Err(StoreError::NotGridgov(
                "the database has no entity tag key (gridgov_settings): run `gridgov migrate --store URL`"
                    .into(),
            ));
        };
        let copy_direct: bool =
            sqlx::query_scalar("SELECT NOT row_security_active('public.counties')")
                .fetch_one(&pool)
                .await?;
        Ok(Self {
            pool,
            alive: std::sync::Arc::new(tokio::sync::watch::channel(()).0),
            tag_key: key.into_bytes(),
            default_scope: RowScope::All,
            copy_direct,
        })
    }

    /// Connects to a migrated PostGIS database for a server: refuses a role that row-level
    /// security would not hold ([`Self::check_least_privilege`]), and sees no row outside a
    /// [`crate::scope::within`] (a request's user's scope, or [`RowScope::All`] for the
    /// server's own start-up and change following).
    pub async fn connect_server(url: &str) -> Result<Self, StoreError> {
        let mut store = Self::connect(url).await?;
        store.check_least_privilege().await?;
        store.default_scope = RowScope::Nothing;
        Ok(store)
    }

    /// Checks that row-level security holds this connection: the role is neither a superuser
    /// nor `BYPASSRLS`, owns (or is a member of a role that owns) no table in the schema, and
    /// every layer table has its policy with row-level security enabled and forced.
    ///
    /// # Errors
    /// [`StoreError::Unsafe`] naming every failure and what to do.
    pub async fn check_least_privilege(&self) -> Result<(), StoreError> {
        let mut problems = Vec::new();
        let (user, superuser, bypass): (String, bool, bool) = sqlx::query_as(
            "SELECT rolname::text, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
        )
        .fetch_one(&self.pool)
        .await?;
        if superuser {
            problems.push(format!("role {user} is a superuser"));
        }
        if bypass {
            problems.push(format!("role {user} has BYPASSRLS"));
        }
        let owned: Vec<String> = sqlx::query_scalar(
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
               AND pg_has_role(current_user, c.relowner, 'MEMBER') ORDER BY 1",
        )
        .fetch_all(&self.pool)
        .await?;
        if !owned.is_empty() && !superuser {
            problems.push(format!(
                "role {user} owns (or is a member of the owner of) tables {}",
                owned.join(", ")
            ));
        }
        let names: Vec<&str> = Layer::ALL.iter().map(|l| l.name()).collect();
        let unguarded: Vec<String> = sqlx::query_scalar(
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relname = ANY($1) \
               AND NOT (c.relrowsecurity AND c.relforcerowsecurity \
                        AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid \
                                    AND p.polname = 'gridgov_scope')) ORDER BY 1",
        )
        .bind(&names)
        .fetch_all(&self.pool)
        .await?;
        if !unguarded.is_empty() {
            problems.push(format!(
                "tables {} lack their enabled and forced row-level security policy \
                 (gridgov_scope); run `gridgov migrate` as the tables' owner",
                unguarded.join(", ")
            ));
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(StoreError::Unsafe(format!(
            "{}. A server must connect as a role that row-level security holds: a login \
             member of gridgov_app that owns nothing, e.g. \
             CREATE ROLE gridgov_server LOGIN PASSWORD '…' IN ROLE gridgov_app",
            problems.join("; ")
        )))
    }

    /// Whether a spatial index serves `&&` under row-level security (PostGIS's
    /// `geometry_overlaps` marked LEAKPROOF, which the migration does when run by a
    /// superuser); without it every tile and bbox query scans its whole table.
    pub async fn spatial_index_usable(&self) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT bool_and(proleakproof) FROM pg_proc WHERE proname = 'geometry_overlaps'",
        )
        .fetch_one(&self.pool)
        .await
        .map(|b: Option<bool>| b.unwrap_or(false))?)
    }

    /// The `gridgov.scope` setting of the running task's scope (or the store's default).
    fn scope(&self) -> String {
        crate::scope::current()
            .unwrap_or_else(|| self.default_scope.clone())
            .setting()
            .to_owned()
    }

    /// Opens a transaction whose rows are those of the running task's scope (or the store's
    /// default), in one round trip: `BEGIN; SET LOCAL gridgov.scope = …`.
    async fn begin(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        // `setting` is '*', digits or empty: nothing to quote.
        let sql = format!("BEGIN; SET LOCAL gridgov.scope = '{}'", self.scope());
        Ok(self.pool.begin_with(sql).await?)
    }

    /// Connects, applies every pending migration and opens the store, on one connection pool:
    /// the connection that migrated (its catalog caches warm) goes on to serve the store.
    pub async fn connect_migrated(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new().max_connections(8).connect(url).await?;
        MIGRATOR.run(&pool).await?;
        Self::with_pool(pool).await
    }

    /// The connection pool (for tests and tools that need plain SQL).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Inserts a run of features of one layer with one COPY, reserving ids from the layer's
    /// sequence for features that have none.
    async fn copy_insert(
        tx: &mut Transaction<'_, Postgres>,
        layer: Layer,
        features: &[&Feature],
        direct: bool,
    ) -> Result<Vec<FeatureId>, StoreError> {
        let missing = features.iter().filter(|f| f.id.is_none()).count();
        let mut fresh: Vec<i64> = if missing > 0 {
            sqlx::query_scalar(
                "SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)",
            )
            .bind(layer.name())
            .bind(missing as i64)
            .fetch_all(&mut **tx)
            .await?
        } else {
            Vec::new()
        };
        fresh.reverse();
        let mut ids = Vec::with_capacity(features.len());
        for f in features {
            ids.push(match f.id {
                Some(id) => id,
                None => FeatureId(fresh.pop().ok_or_else(|| {
                    StoreError::Geometry("id sequence returned too few values".into())
                })?),
            });
        }
        let buf = copy_rows(layer, features.iter().copied().zip(&ids))?;
        start_copy(tx, layer, direct).await?;
        let mut copy = tx.copy_in_raw(&copy_statement(layer, direct)).await?;
        copy.send(buf.into_bytes()).await?;
        copy.finish().await?;
        finish_copy(tx, layer, direct).await?;
        if features.iter().any(|f| f.id.is_some()) {
            Self::follow_ids(tx, [layer]).await?;
        }
        Ok(ids)
    }

    /// Moves the layers' id sequences past their largest stored ids (after inserts with
    /// given ids), in one statement. Never backwards: under row-level security `max(id)`
    /// sees only the scope's rows.
    async fn follow_ids(
        tx: &mut Transaction<'_, Postgres>,
        layers: impl IntoIterator<Item = Layer>,
    ) -> Result<(), StoreError> {
        let calls: Vec<String> = layers
            .into_iter()
            .map(|l| {
                format!(
                    "setval(pg_get_serial_sequence('{0}', 'id'), \
                     GREATEST((SELECT max(id) FROM public.\"{0}\"), \
                              pg_sequence_last_value(pg_get_serial_sequence('{0}', 'id')::regclass), \
                              1))",
                    l.name()
                )
            })
            .collect();
        if !calls.is_empty() {
            sqlx::query(&format!("SELECT {}", calls.join(", ")))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// For a bulk insert (at least [`BULK_ROWS`] rows, more than the table holds), drops the
    /// table's primary key and secondary indexes inside the transaction and returns the
    /// statements that bring them back, to be
    /// rebuilt once before the commit: building an index once over sorted data is much faster than
    /// updating it row by row. The table is locked for the rest of the transaction.
    async fn bulk_indexes(
        tx: &mut Transaction<'_, Postgres>,
        layer: Layer,
        rows: usize,
    ) -> Result<Vec<String>, StoreError> {
        if rows < BULK_ROWS {
            return Ok(Vec::new());
        }
        let (estimate, defs): (f32, Vec<(String, String)>) = {
            let estimate: f32 = sqlx::query_scalar(include_str!("table_rows.sql"))
                .bind(layer.name())
                .fetch_one(&mut **tx)
                .await?;
            let defs = sqlx::query_as(include_str!("secondary_indexes.sql"))
                .bind(layer.name())
                .fetch_all(&mut **tx)
                .await?;
            (estimate, defs)
        };
        if f64::from(estimate) >= rows as f64 {
            return Ok(Vec::new());
        }
        let mut rebuild = Vec::with_capacity(defs.len() + 1);
        // The primary key goes too, and comes back first: a duplicate id fails the batch
        // when it is added back, before any other index is built.
        let key: Option<(String, String)> = sqlx::query_as(include_str!("primary_key.sql"))
            .bind(layer.name())
            .fetch_optional(&mut **tx)
            .await?;
        if let Some((name, def)) = key {
            let table = layer.name();
            sqlx::query(&format!(
                "ALTER TABLE \"{table}\" DROP CONSTRAINT \"{name}\""
            ))
            .execute(&mut **tx)
            .await?;
            rebuild.push(format!(
                "ALTER TABLE \"{table}\" ADD CONSTRAINT \"{name}\" {def}"
            ));
        }
        for (name, def) in defs {
            sqlx::query(&format!("DROP INDEX \"{name}\""))
                .execute(&mut **tx)
                .await?;
            rebuild.push(def);
        }
        Ok(rebuild)
    }

    /// Before the first insert of `rows` features into `layer` in this transaction: takes the
    /// bulk path if it pays ([`Self::bulk_indexes`]), remembering what to rebuild.
    async fn prepare_bulk(
        tx: &mut Transaction<'_, Postgres>,
        dropped: &mut BTreeMap<Layer, Vec<String>>,
        layer: Layer,
        rows: usize,
    ) -> Result<(), StoreError> {
        if let std::collections::btree_map::Entry::Vacant(e) = dropped.entry(layer) {
            let defs = Self::bulk_indexes(tx, layer, rows).await?;
            if !defs.is_empty() {
                e.insert(defs);
            }
        }
        Ok(())
    }

    /// Recreates the indexes that bulk inserts dropped, before the transaction commits.
    async fn rebuild(
        tx: &mut Transaction<'_, Postgres>,
        dropped: BTreeMap<Layer, Vec<String>>,
    ) -> Result<(), StoreError> {
        for def in dropped.into_values().flatten() {
            sqlx::query(&def).execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Applies ops inside an open transaction, appending the ids they give.
    async fn apply_in(
        tx: &mut Transaction<'_, Postgres>,
        ops: &[Op],
        ids: &mut Vec<FeatureId>,
        dropped: &mut BTreeMap<Layer, Vec<String>>,
        direct: bool,
    ) -> Result<(), StoreError> {
        let mut i = 0;
        while i < ops.len() {
            match &ops[i] {
                Op::Insert(layer, _) => {
                    let mut run = Vec::new();
                    while let Some(Op::Insert(l, f)) = ops.get(i) {
                        if l != layer {
                            break;
                        }
                        run.push(f);
                        i += 1;
                    }
                    Self::prepare_bulk(&mut *tx, dropped, *layer, run.len()).await?;
                    ids.extend(Self::copy_insert(&mut *tx, *layer, &run, direct).await?);
                    continue;
                }
                Op::Update(layer, f) => {
                    let id = crate::update_id(*layer, f)?;
                    let cols = columns(*layer);
                    let mut set = Vec::new();
                    for (k, c) in cols.iter().enumerate() {
                        if *c == "geom" {
                            set.push(format!("geom = ST_GeomFromEWKB(${})", k + 1));
                        } else {
                            set.push(format!("\"{c}\" = ${}", k + 1));
                        }
                    }
                    let n = cols.len();
                    let sql = format!(
                        "UPDATE \"{}\" SET {}, shard_key = ${} WHERE id = ${}",
                        layer.name(),
                        set.join(", "),
                        n + 1,
                        n + 2
                    );
                    let mut q = sqlx::query(&sql);
                    if layer.geometry() != GeometryKind::None {
                        q = q.bind(f.geometry.as_ref().map(ewkb).transpose()?);
                    }
                    q = q.bind(f.division.as_str().to_owned());
                    for def in layer.fields() {
                        q = bind_value(q, def.ty, f.properties.get(def.name));
                    }
                    q = q.bind(f.division.shard_key().to_owned()).bind(id.0);
                    if q.execute(&mut **tx).await?.rows_affected() == 0 {
                        return Err(StoreError::NotFound { layer: *layer, id });
                    }
                    ids.push(id);
                }
                Op::Delete(layer, id) => {
                    let sql = format!("DELETE FROM \"{}\" WHERE id = $1", layer.name());
                    let r = sqlx::query(&sql).bind(id.0).execute(&mut **tx).await?;
                    if r.rows_affected() == 0 {
                        return Err(StoreError::NotFound {
                            layer: *layer,
                            id: *id,
                        });
                    }
                    ids.push(*id);
                }
            }
            i += 1;
        }
        Ok(())
    }

    /// The conditions of a query, its scope gate first ([`gate`], `$1`, bound to `scope`).
    fn where_clause<'q>(
        query: &Query,
        scope: &str,
        q: sqlx::query::Query<'q, Postgres, PgArguments>,
    ) -> (String, sqlx::query::Query<'q, Postgres, PgArguments>) {
        let mut conds = vec![gate(1)];
        let mut q = q.bind(scope.to_owned());
        let mut n = 1;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if let Some(b) = query.bbox {
            conds.push(format!(
                "geom && ST_MakeEnvelope({}, {}, {}, {}, 4326)",
                next(),
                next(),
                next(),
                next()
            ));
            q = q.bind(b[0]).bind(b[1]).bind(b[2]).bind(b[3]);
        }
        if let Some(d) = &query.division {
            conds.push(format!("division_code LIKE {}", next()));
            q = q.bind(format!("{}%", d.prefix()));
        }
        if let Some(a) = query.after_id {
            conds.push(format!("id > {}", next()));
            q = q.bind(a);
        }
        if let Some(t) = &query.time {
            // The column name comes from the model; the bounds are bound, typed as the column.
            match t.range {
                crate::TimeRange::Dates { start, end } => {
                    if let Some(s) = start {
                        conds.push(format!("\"{}\" >= {}", t.field, next()));
                        q = q.bind(s);
                    }
                    if let Some(e) = end {
                        conds.push(format!("\"{}\" <= {}", t.field, next()));
                        q = q.bind(e);
                    }
                }
                crate::TimeRange::Instants { start, end } => {
                    if let Some(s) = start {
                        conds.push(format!("\"{}\" >= {}", t.field, next()));
                        q = q.bind(s);
                    }
                    if let Some(e) = end {
                        conds.push(format!("\"{}\" <= {}", t.field, next()));
                        q = q.bind(e);
                    }
                }
            }
        }
        (conds.join(" AND "), q)
    }
}

#[async_trait]
impl Store for PgStore {
    fn tag_key(&self) -> &[u8] {
        &self.tag_key
    }

    async fn get(&self, layer: Layer, id: FeatureId) -> Result<Option<Feature>, StoreError> {
        let sql = format!(
            "SELECT {} FROM \"{}\" WHERE {} AND id = $1",
            select_list(layer),
            layer.name(),
            gate(2)
        );
        let row = sqlx::query(&sql)
            .bind(id.0)
            .bind(self.scope())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| read_row(layer, &r)).transpose()
    }

    async fn query(&self, layer: Layer, query: &Query) -> Result<Vec<Feature>, StoreError> {
        // The SQL text depends only on which filters are present; values are bound.
        let mut sql = format!(
            "SELECT {} FROM \"{}\" WHERE ",
            select_list(layer),
            layer.name()
        );
        let scope = self.scope();
        let (cond, _) = Self::where_clause(query, &scope, sqlx::query(""));
        sql.push_str(&cond);
        sql.push_str(" ORDER BY id");
        if let Some(l) = query.limit {
            let _ = write!(sql, " LIMIT {l}");
        }
        if let Some(o) = query.offset {
            let _ = write!(sql, " OFFSET {o}");
        }
        let (_, q) = Self::where_clause(query, &scope, sqlx::query(&sql));
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(|r| read_row(layer, r)).collect()
    }

    async fn count(&self, layer: Layer, query: &Query) -> Result<u64, StoreError> {
        let scope = self.scope();
        let (cond, _) = Self::where_clause(query, &scope, sqlx::query(""));
        let sql = format!("SELECT count(*) FROM \"{}\" WHERE {cond}", layer.name());
        let (_, q) = Self::where_clause(query, &scope, sqlx::query(&sql));
        let n: i64 = q.fetch_one(&self.pool).await?.try_get(0)?;
        Ok(n as u64)
    }

    async fn reserve_ids(&self, layer: Layer, n: u32) -> Result<Vec<FeatureId>, StoreError> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)",
        )
        .bind(layer.name())
        .bind(i64::from(n))
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().map(FeatureId).collect())
    }

    async fn existing_ids(&self, layer: Layer, ids: &[i64]) -> Result<HashSet<i64>, StoreError> {
        let sql = format!(
            "SELECT id FROM \"{}\" WHERE {} AND id = ANY($1)",
            layer.name(),
            gate(2)
        );
        let found: Vec<i64> = sqlx::query_scalar(&sql)
            .bind(ids)
            .bind(self.scope())
            .fetch_all(&self.pool)
            .await?;
        Ok(found.into_iter().collect())
    }

    async fn apply_guarded(
        &self,
        guards: Vec<Guard>,
        ops: Vec<Op>,
    ) -> Result<Vec<FeatureId>, StoreError> {
        let mut tx = self.begin().await?;
        for guard in &guards {
            let sql = format!(
                "SELECT {} FROM \"{}\" WHERE id = $1 FOR UPDATE",
                select_list(guard.layer),
                guard.layer.name()
            );
            let row = sqlx::query(&sql)
                .bind(guard.id.0)
                .fetch_optional(&mut *tx)
                .await?;
            let current = row.map(|r| read_row(guard.layer, &r)).transpose()?;
            guard.holds(&self.tag_key, current.as_ref())?;
        }
        let mut ids = Vec::with_capacity(ops.len());
        let mut dropped = BTreeMap::new();
        Self::apply_in(&mut tx, &ops, &mut ids, &mut dropped, self.copy_direct).await?;
        Self::rebuild(&mut tx, dropped).await?;
        changes::notify(&mut tx, &crate::changes::of_batch(&ops, &ids)).await?;
        tx.commit().await?;
        Ok(ids)
    }

    async fn apply_stream(
        &self,
        parts: tokio::sync::mpsc::Receiver<crate::Part>,
    ) -> Result<Vec<FeatureId>, StoreError> {
        let tx = self.begin().await?;
        stream::apply_stream(tx, self.copy_direct, parts).await
    }

    async fn changes(&self) -> Result<ChangeFeed, StoreError> {
        changes::feed(&self.pool, self.alive.subscribe()).await
    }

    async fn mvt(
        &self,
        layers: &[Layer],
        z: u8,
        x: u32,
        y: u32,
        owner: Option<DivisionCode>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        tiles::mvt(&self.pool, &self.scope(), layers, z, x, y, owner)
            .await
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_only_what_copy_reads_specially() {
        let mut out = String::new();
        copy_escape("威宁县 草海镇 1号", &mut out);
        assert_eq!(out, "威宁县 草海镇 1号");
        out.clear();
        copy_escape("a\tb\\c\nd\re", &mut out);
        assert_eq!(out, "a\\tb\\\\c\\nd\\re");
    }

    #[test]
    fn hex_is_upper_case_and_two_digits_a_byte() {
        let mut out = String::new();
        push_hex(&[0x00, 0x0f, 0xa5, 0xff], &mut out);
        assert_eq!(out, "000FA5FF");
    }
}
