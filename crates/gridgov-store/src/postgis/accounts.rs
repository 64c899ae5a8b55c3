//! Accounts and sessions ([`crate::Accounts`]) in PostGIS: tables `gridgov_users` and
//! `gridgov_sessions` (`migrations/0002_accounts.sql`). Account writes send no change
//! notification: they change no layer.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gridgov_model::{Role, UserName};
use sqlx::postgres::PgRow;
use sqlx::Row;

use super::PgStore;
use crate::accounts::{
    add_error, failures_from_row, session_error, stored_failures, stored_instant,
    token_hash_from_row, user_from_row,
};
use crate::{Accounts, Credentials, NewUser, Session, StoreError, User, UserChange, UserId};

/// Decodes the columns `id, name, role, scope, disabled, created_at` of `gridgov_users`.
fn read_user(row: &PgRow) -> Result<User, StoreError> {
    user_from_row(
        row.try_get("id")?,
        row.try_get("name")?,
        row.try_get("role")?,
        row.try_get("scope")?,
        row.try_get("disabled")?,
        row.try_get("created_at")?,
    )
}

#[async_trait]
impl Accounts for PgStore {
    async fn add_user(&self, user: NewUser) -> Result<User, StoreError> {
        let created_at = stored_instant(Utc::now());
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO gridgov_users (name, role, scope, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user.name.as_str())
        .bind(user.role.token())
        .bind(user.scope.to_string())
        .bind(&user.password_hash)
        .bind(created_at)
        .fetch_one(&self.pool)
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
        // Code point order, as `UserName`'s `Ord` (and the GeoPackage) has it, whatever the
        // database's collation.
        let rows = sqlx::query(
            "SELECT id, name, role, scope, disabled, created_at FROM gridgov_users \
             ORDER BY name COLLATE \"C\"",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read_user).collect()
    }

    async fn credentials(&self, name: &UserName) -> Result<Option<Credentials>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, role, scope, disabled, created_at, password_hash, \
             failed_logins, locked_until FROM gridgov_users WHERE name = $1",
        )
        .bind(name.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let user = read_user(&row)?;
        let failed: i32 = row.try_get("failed_logins")?;
        Ok(Some(Credentials {
            password_hash: row.try_get("password_hash")?,
            failed_logins: failures_from_row(user.name.as_str(), i64::from(failed))?,
            locked_until: row.try_get("locked_until")?,
            user,
        }))
    }

    async fn change_user(&self, name: &UserName, change: UserChange) -> Result<User, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "UPDATE gridgov_users SET role = coalesce($1, role), scope = coalesce($2, scope), \
             password_hash = coalesce($3, password_hash), \
             failed_logins = CASE WHEN $4 THEN 0 ELSE failed_logins END, \
             locked_until = CASE WHEN $4 THEN NULL ELSE locked_until END, \
             disabled = coalesce($5, disabled) \
             WHERE name = $6 RETURNING id, name, role, scope, disabled, created_at",
        )
        .bind(change.role.map(Role::token))
        .bind(change.scope.as_ref().map(ToString::to_string))
        .bind(change.password_hash.as_deref())
        .bind(change.password_hash.is_some())
        .bind(change.disabled)
        .bind(name.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::NoUser(name.to_string()));
        };
        let user = read_user(&row)?;
        if change.ends_sessions() {
            sqlx::query("DELETE FROM gridgov_sessions WHERE user_id = $1")
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
            "UPDATE gridgov_users SET failed_logins = $1, locked_until = $2 WHERE id = $3",
        )
        .bind(stored_failures(failed_logins))
        .bind(locked_until.map(stored_instant))
        .bind(id.0)
        .execute(&self.pool)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NoUser(id.to_string()));
        }
        Ok(())
    }

    async fn create_session(&self, session: &Session) -> Result<(), StoreError> {
        let r = sqlx::query(
            "INSERT INTO gridgov_sessions (token_hash, user_id, created_at, last_seen_at) \
             SELECT $1, id, $2, $3 FROM gridgov_users WHERE id = $4",
        )
        .bind(session.token_hash.as_slice())
        .bind(stored_instant(session.created_at))
        .bind(stored_instant(session.last_seen_at))
        .bind(session.user_id.0)
        .execute(&self.pool)
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
             WHERE s.token_hash = $1",
        )
        .bind(token_hash.as_slice())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let user = read_user(&row)?;
        let session = Session {
            token_hash: token_hash_from_row(user.name.as_str(), row.try_get("token_hash")?)?,
            user_id: user.id,
            created_at: row.try_get("session_created_at")?,
            last_seen_at: row.try_get("last_seen_at")?,
        };
        Ok(Some((session, user)))
    }

    async fn touch_session(
        &self,
        token_hash: &[u8; 32],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE gridgov_sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(stored_instant(at))
            .bind(token_hash.as_slice())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn revoke_session(&self, token_hash: &[u8; 32]) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM gridgov_sessions WHERE token_hash = $1")
            .bind(token_hash.as_slice())
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    async fn purge_sessions(
        &self,
        created_before: DateTime<Utc>,
        seen_before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let r =
            sqlx::query("DELETE FROM gridgov_sessions WHERE created_at < $1 OR last_seen_at < $2")
                .bind(stored_instant(created_before))
                .bind(stored_instant(seen_before))
                .execute(&self.pool)
                .await?;
        Ok(r.rows_affected())
    }
}
