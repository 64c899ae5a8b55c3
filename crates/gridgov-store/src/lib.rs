//! gridgov's storage: one [`Store`] trait and two backends.
//!
//! # Layout
//! - [`gpkg`]: the embedded default, a real OGC GeoPackage (SQLite through sqlx, geometries
//!   encoded by geozero), readable by GDAL and QGIS as it is.
//! - [`postgis`]: PostgreSQL/PostGIS through sqlx, schema in the repository's `migrations/`.
//! - [`mod@check`]: the one validated write path ([`write()`]) that both backends share: model
//!   validation, owning divisions, containment and references, before a single transaction.
//! - [`accounts`]: user accounts and login sessions ([`Accounts`], a supertrait of [`Store`]).
//! - [`audit`]: the hash-chained, append-only audit log ([`Audit`], a supertrait of [`Store`]).
//! - [`copy`]: copying a whole store into another (`gridgov load`).
//! - [`changes`]: change feeds ([`Store::changes`]): what every committed write changed, for
//!   in-memory indexes to stay current whichever process writes.
//!
//! Every write is a batch applied in one transaction: it lands whole or not at all.

pub mod accounts;
pub mod assign;
pub mod audit;
pub mod changes;
pub mod check;
pub mod copy;
pub mod gpkg;
pub mod postgis;
pub mod scope;
mod sql;
pub mod testing;

use std::collections::{BTreeMap, HashSet};

use async_trait::async_trait;
use gridgov_model::{DivisionCode, Feature, FeatureId, Layer, ValidationError};

pub use accounts::{Accounts, Credentials, NewUser, Session, User, UserChange, UserId};
pub use audit::{Audit, AuditAction, AuditEvent, AuditRecord, AuditResult};
pub use changes::{Change, ChangeFeed};
pub use check::{check, write, write_guarded, Checker};

/// A store URL: a GeoPackage path or a `postgres://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// A GeoPackage file.
    GeoPackage(std::path::PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl std::str::FromStr for StoreUrl {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Ok(StoreUrl::Postgres(s.to_owned()))
        } else if std::path::Path::new(s)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gpkg"))
        {
            Ok(StoreUrl::GeoPackage(s.into()))
        } else {
            Err(StoreError::Url(s.to_owned()))
        }
    }
}

impl std::fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreUrl::GeoPackage(p) => write!(f, "{}", p.display()),
            // Never print a password.
            StoreUrl::Postgres(u) => match (u.find("://"), u.rfind('@')) {
                (Some(s), Some(at)) if at > s => write!(f, "{}://…{}", &u[..s], &u[at..]),
                _ => f.write_str(u),
            },
        }
    }
}

/// Errors of the stores.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A URL that is neither a `.gpkg` path nor a `postgres://` URL.
    #[error("'{0}' is not a store: give a GeoPackage path ending in .gpkg or a postgres:// URL")]
    Url(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The PostGIS schema could not be migrated.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored geometry could not be encoded or decoded.
    #[error("geometry encoding error: {0}")]
    Geometry(String),
    /// A stored row breaks the model (edited outside gridgov).
    #[error("stored {layer} feature {id} is malformed: {reason}")]
    Corrupt {
        /// Its layer.
        layer: Layer,
        /// Its id.
        id: i64,
        /// What is wrong.
        reason: String,
    },
    /// A write that clashes with what is stored (duplicate id or code).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A streamed batch whose sender stopped before committing; nothing was written.
    #[error("the batch was abandoned before it was complete; nothing was written")]
    Abandoned,
    /// A file that is not a gridgov GeoPackage.
    #[error("{0}")]
    NotGridgov(String),
    /// A PostGIS connection a server must not run on (a superuser, a role that bypasses or
    /// owns the tables that row-level security guards, or tables left unguarded).
    #[error("refusing to serve: {0}")]
    Unsafe(String),
    /// An update or delete of a feature that does not exist.
    #[error("{layer} has no feature {id}")]
    NotFound {
        /// Its layer.
        layer: Layer,
        /// The id.
        id: FeatureId,
    },
    /// A guarded write whose feature changed (or went) since the client read it; nothing
    /// was written.
    #[error(
        "{layer} feature {id} has changed since it was read (its tag is no longer {expected})"
    )]
    Stale {
        /// Its layer.
        layer: Layer,
        /// Its id.
        id: FeatureId,
        /// The tag the writer expected.
        expected: String,
    },
    /// A change to an account that does not exist.
    #[error("there is no user '{0}'")]
    NoUser(String),
    /// A stored account row that gridgov cannot read (edited outside gridgov).
    #[error("stored user '{name}' is malformed: {reason}")]
    CorruptUser {
        /// Its name as stored.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A stored audit record that gridgov cannot read back (edited outside gridgov).
    #[error("stored audit record {seq} is malformed: {reason}")]
    CorruptAudit {
        /// Its sequence number.
        seq: i64,
        /// What is wrong.
        reason: String,
    },
    /// A background task of a store operation panicked or was cancelled.
    #[error("a background task failed: {0}")]
    Task(String),
}

/// A filter on a layer's features.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Features whose geometry's bounding box intersects `[min_lon, min_lat, max_lon, max_lat]`.
    pub bbox: Option<[f64; 4]>,
    /// Features owned by this division or any division under it.
    pub division: Option<DivisionCode>,
    /// Features with an id greater than this (keyset paging).
    pub after_id: Option<i64>,
    /// At most this many features.
    pub limit: Option<u64>,
    /// Skip this many features (after the other filters, in id order).
    pub offset: Option<u64>,
    /// Features whose date or date-time field lies in an interval.
    pub time: Option<TimeFilter>,
}

/// Features whose date or date-time field lies in a closed interval (bounds included); a
/// feature without a value never matches a bounded side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeFilter {
    /// The field: one of the layer's `Date` or `DateTime` fields, always a name taken from the
    /// model (`Layer::fields`), never from a client, as it names a column.
    pub field: &'static str,
    /// The bounds, typed as the field is.
    pub range: TimeRange,
}

/// The bounds of a [`TimeFilter`], both included; `None` leaves that side open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeRange {
    /// For a `Date` field: calendar dates.
    Dates {
        /// The first date.
        start: Option<chrono::NaiveDate>,
        /// The last date.
        end: Option<chrono::NaiveDate>,
    },
    /// For a `DateTime` field: instants (stores keep milliseconds).
    Instants {
        /// The first instant.
        start: Option<chrono::DateTime<chrono::Utc>>,
        /// The last instant.
        end: Option<chrono::DateTime<chrono::Utc>>,
    },
}

/// A message of [`Store::apply_stream`].
#[derive(Debug)]
pub enum Part {
    /// The next checked changes.
    Ops(Vec<Op>),
    /// A run of parts ended (a layer was sent whole): what was sent may be stored now
    /// rather than held open for more of the same kind.
    Flush,
    /// Every part has been sent and checked: commit.
    Commit,
}

/// One change in a batch.
#[derive(Debug, Clone)]
pub enum Op {
    /// Insert a feature; its id is kept when given, assigned otherwise.
    Insert(Layer, Feature),
    /// Replace the feature with the same id.
    Update(Layer, Feature),
    /// Delete a feature.
    Delete(Layer, FeatureId),
}

impl Op {
    /// The layer the change touches.
    pub fn layer(&self) -> Layer {
        match self {
            Op::Insert(l, _) | Op::Update(l, _) | Op::Delete(l, _) => *l,
        }
    }

    /// The feature an insert or update writes (`None` for a delete).
    pub fn feature(&self) -> Option<&Feature> {
        match self {
            Op::Insert(_, f) | Op::Update(_, f) => Some(f),
            Op::Delete(..) => None,
        }
    }
}

/// A precondition of a guarded write: the feature must still carry this tag
/// ([`Store::etag`]) when the write's transaction reads it, locked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    /// The feature's layer.
    pub layer: Layer,
    /// The feature.
    pub id: FeatureId,
    /// The tag the writer read.
    pub etag: String,
}

impl Guard {
    /// Checks the guard against the feature as the transaction sees it.
    pub(crate) fn holds(&self, key: &[u8], current: Option<&Feature>) -> Result<(), StoreError> {
        match current {
            Some(f) if f.etag(key) == self.etag => Ok(()),
            Some(_) => Err(StoreError::Stale {
                layer: self.layer,
                id: self.id,
                expected: self.etag.clone(),
            }),
            None => Err(StoreError::NotFound {
                layer: self.layer,
                id: self.id,
            }),
        }
    }
}

/// Every op of a streamed batch, once its sender commits; [`StoreError::Abandoned`] when the
/// channel closes before [`Part::Commit`].
pub(crate) async fn gather(
    mut parts: tokio::sync::mpsc::Receiver<Part>,
) -> Result<Vec<Op>, StoreError> {
    let mut ops = Vec::new();
    while let Some(part) = parts.recv().await {
        match part {
            Part::Ops(mut more) => ops.append(&mut more),
            Part::Flush => {}
            Part::Commit => return Ok(ops),
        }
    }
    Err(StoreError::Abandoned)
}

/// The id an update names: both backends refuse an update without one.
pub(crate) fn update_id(layer: Layer, f: &Feature) -> Result<FeatureId, StoreError> {
    f.id.ok_or(StoreError::Corrupt {
        layer,
        id: 0,
        reason: "an update needs the feature's id".into(),
    })
}

/// One rejected feature of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Its layer.
    pub layer: Layer,
    /// Its position in the batch (0-based).
    pub index: usize,
    /// What is wrong.
    pub error: ValidationError,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} feature #{} rejected: {}",
            self.layer,
            self.index + 1,
            self.error
        )
    }
}

/// Why a validated write was refused. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Features broke rules: every rejected feature, in batch order (never empty).
    #[error("{}{}", .0.first().map(ToString::to_string).unwrap_or_default(),
        if .0.len() > 1 { format!(" (and {} more rejected features)", .0.len() - 1) } else { String::new() })]
    Invalid(Vec<Rejection>),
    /// The store failed; the transaction was rolled back.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The storage interface both backends implement.
///
/// Writes go through [`write()`] (validated); [`Store::apply_unchecked`] is the raw transaction
/// beneath it.
#[async_trait]
pub trait Store: Accounts + Audit + Send + Sync {
    /// The store's secret key of entity tags (`gridgov_settings.tag_key`, made once with the
    /// store): every server on the store tags a feature alike.
    fn tag_key(&self) -> &[u8];

    /// A feature's entity tag ([`Feature::etag`] under [`Store::tag_key`]).
    fn etag(&self, f: &Feature) -> String {
        f.etag(self.tag_key())
    }

    /// One feature by id.
    async fn get(&self, layer: Layer, id: FeatureId) -> Result<Option<Feature>, StoreError>;
    /// Features matching a query, in id order.
    async fn query(&self, layer: Layer, query: &Query) -> Result<Vec<Feature>, StoreError>;
    /// The number of features matching a query (ignoring limit and offset).
    async fn count(&self, layer: Layer, query: &Query) -> Result<u64, StoreError>;
    /// Which of these ids exist in a layer.
    async fn existing_ids(&self, layer: Layer, ids: &[i64]) -> Result<HashSet<i64>, StoreError>;
    /// Takes `n` fresh ids of a layer, never handed out again, so that one batch can insert a
    /// feature together with features that reference it (a dispute and its first step).
    async fn reserve_ids(&self, layer: Layer, n: u32) -> Result<Vec<FeatureId>, StoreError>;
    /// Applies a batch in one transaction without validation and returns the ids of the
    /// inserted and updated features, in batch order (deletes give their own id).
    async fn apply_unchecked(&self, ops: Vec<Op>) -> Result<Vec<FeatureId>, StoreError> {
        self.apply_guarded(Vec::new(), ops).await
    }

    /// Like [`Store::apply_unchecked`], but first reads every guarded feature inside the
    /// transaction, locked against other writers until it ends, and writes nothing unless each
    /// still carries its guard's tag ([`StoreError::Stale`]) and exists
    /// ([`StoreError::NotFound`]).
    async fn apply_guarded(
        &self,
        guards: Vec<Guard>,
        ops: Vec<Op>,
    ) -> Result<Vec<FeatureId>, StoreError>;

    /// Applies checked parts of one batch as they arrive, in one transaction that commits
    /// only on [`Part::Commit`]; when the channel closes without it, nothing is written and the
    /// result is [`StoreError::Abandoned`]. Backends that can write while the next part is
    /// still being read and checked (PostGIS) override the default, which gathers every part
    /// and applies them at the end.
    async fn apply_stream(
        &self,
        parts: tokio::sync::mpsc::Receiver<Part>,
    ) -> Result<Vec<FeatureId>, StoreError> {
        let ops = gather(parts).await?;
        self.apply_unchecked(ops).await
    }

    /// Opens a feed of changes committed from now on by any writer the backend can see
    /// (other processes and server instances included, see each backend).
    async fn changes(&self) -> Result<ChangeFeed, StoreError>;

    /// One Mapbox Vector Tile (2.1, uncompressed) of tile `z/x/y` (XYZ scheme, Web Mercator)
    /// with one MVT layer per given layer, named by the layer's name, made by the database
    /// itself; `None` when the backend does not make tiles (the server then encodes them from
    /// its in-memory index). Geometry, simplification and attributes follow `gridgov-tiles`.
    /// With `owner`, only the features owned by that division or a division under it (a
    /// user's scope).
    async fn mvt(
        &self,
        _layers: &[Layer],
        _z: u8,
        _x: u32,
        _y: u32,
        _owner: Option<DivisionCode>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(None)
    }

    /// Feature counts of every layer.
    async fn counts(&self) -> Result<BTreeMap<Layer, u64>, StoreError> {
        let mut out = BTreeMap::new();
        for layer in Layer::ALL {
            out.insert(*layer, self.count(*layer, &Query::default()).await?);
        }
        Ok(out)
    }

    /// The division feature (county, township or village) with this code.
    async fn division(&self, code: DivisionCode) -> Result<Option<Feature>, StoreError> {
        let layer = match code.level() {
            gridgov_model::DivisionLevel::County => Layer::Counties,
            gridgov_model::DivisionLevel::Township => Layer::Townships,
            _ => Layer::Villages,
        };
        let q = Query {
            division: Some(code),
            ..Query::default()
        };
        Ok(self
            .query(layer, &q)
            .await?
            .into_iter()
            .find(|f| f.division == code))
    }
}

/// Opens (and, for a new GeoPackage, creates) the store at a URL. A PostGIS store must have
/// been migrated (`gridgov migrate`).
pub async fn open(url: &StoreUrl) -> Result<Box<dyn Store>, StoreError> {
    Ok(match url {
        StoreUrl::GeoPackage(p) => Box::new(gpkg::GpkgStore::open(p).await?),
        StoreUrl::Postgres(u) => Box::new(postgis::PgStore::connect(u).await?),
    })
}
