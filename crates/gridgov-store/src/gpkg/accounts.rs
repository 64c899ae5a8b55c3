//! Accounts and sessions ([`crate::Accounts`]) in the GeoPackage: plain SQLite tables,
//! `gridgov_users` and `gridgov_sessions` (and `gridgov_settings`, and the audit log's
//! `gridgov_audit`, see `gpkg/audit.rs`). They are not layers, so they are not registered in
//! `gpkg_contents`, and GDAL does not list them (a GeoPackage whose contents register
//! `attributes` tables lists only registered tables).
//!
//! Instants are INTEGER unix milliseconds (they sort as time does). Writes go through the
//! store's one writer connection, like feature writes, so they never make the store's own
//! change feeds resync. The store's connections run with SQLite's foreign keys off, so the
//! store does what they would: a session is stored only for an existing account.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gridgov_model::{Role, UserName};
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{Row, Sqlite, Transaction};

use super::GpkgStore;
use crate::accounts::{
    add_error, corrupt, failures_from_row, session_error, stored_failures, stored_instant,
    token_hash_from_row, user_from_row,
};
use crate::{Accounts, Credentials, NewUser, Session, StoreError, User, UserChange, UserId};

/// The accounts tables, created in a new GeoPackage and added to one that lacks them.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS gridgov_users (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  scope TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  failed_logins INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
  locked_until INTEGER,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS gridgov_sessions (
  token_hash BLOB PRIMARY KEY NOT NULL CHECK (length(token_hash) = 32),
  user_id INTEGER NOT NULL REFERENCES gridgov_users (id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS gridgov_sessions_user_id_idx ON gridgov_sessions (user_id);
CREATE TABLE IF NOT EXISTS gridgov_settings (
  name TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
);
INSERT OR IGNORE INTO gridgov_settings (name, value) VALUES ('tag_key', lower(hex(randomblob(32))));
CREATE TABLE IF NOT EXISTS gridgov_audit (
  seq INTEGER PRIMARY KEY NOT NULL CHECK (seq > 0),
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  object TEXT NOT NULL,
  source TEXT NOT NULL,
  result TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),
  hash BLOB NOT NULL CHECK (length(hash) = 32)
);
CREATE TRIGGER IF NOT EXISTS gridgov_audit_no_update BEFORE UPDATE ON gridgov_audit
BEGIN SELECT RAISE(ABORT, 'gridgov_audit is append-only: records cannot be changed'); END;
CREATE TRIGGER IF NOT EXISTS gridgov_audit_no_delete BEFORE DELETE ON gridgov_audit
BEGIN SELECT RAISE(ABORT, 'gridgov_audit is append-only: records cannot be deleted'); END;
";

/// What [`SCHEMA`] creates.
const OBJECTS: [&str; 7] = [
    "gridgov_users",
    "gridgov_sessions",
    "gridgov_sessions_user_id_idx",
    "gridgov_settings",
    "gridgov_audit",
    "gridgov_audit_no_update",
    "gridgov_audit_no_delete",
];

/// Whether the file holds the accounts tables (reads only).
pub(super) async fn present(pool: &SqlitePool) -> Result<bool, StoreError> {
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master")
        .fetch_all(pool)
        .await?;
    let found = OBJECTS
        .iter()
        .filter(|o| names.iter().any(|n| n == *o))
        .count();
    Ok(found == OBJECTS.len())
}

/// The secret key of entity tags (`gridgov_settings.tag_key`, random, made with the tables).
pub(super) async fn tag_key(pool: &SqlitePool) -> Result<Vec<u8>, StoreError> {
    let key: String =
        sqlx::query_scalar("SELECT value FROM gridgov_settings WHERE name = 'tag_key'")
            .fetch_one(pool)
            .await?;
    Ok(key.into_bytes())
}

/// Creates the accounts tables that are missing.
pub(super) async fn create(tx: &mut Transaction<'_, Sqlite>) -> Result<(), StoreError> {
    sqlx::raw_sql(SCHEMA).execute(&mut **tx).await?;
    Ok(())
}

/// An instant as stored: unix milliseconds.
fn millis(t: DateTime<Utc>) -> i64 {
    stored_instant(t).timestamp_millis()
}

/// A stored instant of the account `name`.
fn instant(name: &str, ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| corrupt(name, format!("{ms} is not an instant in milliseconds")))
}

/// Decodes the columns `id, name, role, scope, disabled, created_at` of `gridgov_users`.
fn read_user(row: &SqliteRow) -> Result<User, StoreError> {
    let name: &str = row.try_get("name")?;
    user_from_row(
        row.try_get("id")?,
        name,
        row.try_get("role")?,
        row.try_get("scope")?,
        row.try_get("disabled")?,
        instant(name, row.try_get("created_at")?)?,
    )
}

#[async_trait]
impl Accounts for GpkgStore {
    async fn add_user(&self, user: NewUser) -> Result<User, StoreError> {
        let created_at = stored_instant(Utc::now());
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO gridgov_users (name, role, scope, password_hash, created_at) \
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(user.name.as_str())
        .bind(user.role.token())
        .bind(user.scope.to_string())
        .bind(&user.password_hash)
        .bind(millis(created_at))
        .fetch_one(&self.writer)
        .await
        .map_err(|e| add_error(e, &user.name))?;
        Ok(User {
            id: UserId(id),
            name: user.name,
            role: user.role,
            scope: user.scope,
            disabled: false,
            created_at,
        })
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        // SQLite's BINARY collation orders UTF-8 by code point, as `UserName`'s `Ord` does.
        let rows = sqlx::query(
            "SELECT id, name, role, scope, disabled, created_at FROM gridgov_users \
             ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read_user).collect()
    }

    async fn credentials(&self, name: &UserName) -> Result<Option<Credentials>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, role, scope, disabled, created_at, password_hash, \
             failed_logins, locked_until FROM gridgov_users WHERE name = ?",
        )
        .bind(name.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let user = read_user(&row)?;
        let n = user.name.as_str();
        Ok(Some(Credentials {
            password_hash: row.try_get("password_hash")?,
            failed_logins: failures_from_row(n, row.try_get("failed_logins")?)?,
            locked_until: row
                .try_get::<Option<i64>, _>("locked_until")?
                .map(|ms| instant(n, ms))
                .transpose()?,
            user,
        }))
    }

    async fn change_user(&self, name: &UserName, change: UserChange) -> Result<User, StoreError> {
        let reset = change.password_hash.is_some();
        let mut tx = self.writer.begin().await?;
        // The update comes first: the transaction takes the write lock at once.
        let row = sqlx::query(
            "UPDATE gridgov_users SET role = coalesce(?, role), scope = coalesce(?, scope), \
             password_hash = coalesce(?, password_hash), \
             failed_logins = CASE WHEN ? THEN 0 ELSE failed_logins END, \
             locked_until = CASE WHEN ? THEN NULL ELSE locked_until END, \
             disabled = coalesce(?, disabled) \
             WHERE name = ? RETURNING id, name, role, scope, disabled, created_at",
        )
        .bind(change.role.map(Role::token))
        .bind(change.scope.as_ref().map(ToString::to_string))
        .bind(change.password_hash.as_deref())
        .bind(reset)
        .bind(reset)
        .bind(change.disabled)
        .bind(name.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::NoUser(name.to_string()));
        };
        let user = read_user(&row)?;
        if change.ends_sessions() {
            sqlx::query("DELETE FROM gridgov_sessions WHERE user_id = ?")
                .bind(user.id.0)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(user)
    }

    async fn set_login_failures(
        &self,
        id: UserId,
        failed_logins: u32,
        locked_until: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let r = sqlx::query(
            "UPDATE gridgov_users SET failed_logins = ?, locked_until = ? WHERE id = ?",
        )
        .bind(stored_failures(failed_logins))
        .bind(locked_until.map(millis))
        .bind(id.0)
        .execute(&self.writer)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NoUser(id.to_string()));
        }
        Ok(())
    }

    async fn create_session(&self, session: &Session) -> Result<(), StoreError> {
        let r = sqlx::query(
            "INSERT INTO gridgov_sessions (token_hash, user_id, created_at, last_seen_at) \
             SELECT ?, id, ?, ? FROM gridgov_users WHERE id = ?",
        )
        .bind(session.token_hash.as_slice())
        .bind(millis(session.created_at))
        .bind(millis(session.last_seen_at))
        .bind(session.user_id.0)
        .execute(&self.writer)
        .await
        .map_err(session_error)?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NoUser(session.user_id.to_string()));
        }
        Ok(())
    }

    async fn session(&self, token_hash: &[u8; 32]) -> Result<Option<(Session, User)>, StoreError> {
        let row = sqlx::query(
            "SELECT s.token_hash, s.created_at AS session_created_at, s.last_seen_at, \
             u.id, u.name, u.role, u.scope, u.disabled, u.created_at \
             FROM gridgov_sessions s JOIN gridgov_users u ON u.id = s.user_id \
             WHERE s.token_hash = ?",
        )
        .bind(token_hash.as_slice())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let user = read_user(&row)?;
        let n = user.name.as_str();
        let session = Session {
            token_hash: token_hash_from_row(n, row.try_get("token_hash")?)?,
            user_id: user.id,
            created_at: instant(n, row.try_get("session_created_at")?)?,
            last_seen_at: instant(n, row.try_get("last_seen_at")?)?,
        };
        Ok(Some((session, user)))
    }

    async fn touch_session(
        &self,
        token_hash: &[u8; 32],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE gridgov_sessions SET last_seen_at = ? WHERE token_hash = ?")
            .bind(millis(at))
            .bind(token_hash.as_slice())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn revoke_session(&self, token_hash: &[u8; 32]) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM gridgov_sessions WHERE token_hash = ?")
            .bind(token_hash.as_slice())
            .execute(&self.writer)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    async fn purge_sessions(
        &self,
        created_before: DateTime<Utc>,
        seen_before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let r =
            sqlx::query("DELETE FROM gridgov_sessions WHERE created_at < ? OR last_seen_at < ?")
                .bind(millis(created_before))
                .bind(millis(seen_before))
                .execute(&self.writer)
                .await?;
        Ok(r.rows_affected())
    }
}
