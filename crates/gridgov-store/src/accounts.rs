//! User accounts and login sessions, kept in the same store as the features (tables
//! `gridgov_users` and `gridgov_sessions`), so that every server on one database shares them
//! and a revoked session is revoked everywhere.
//!
//! The store keeps what it is given: password hashing, token generation, timeouts and lockout
//! policy belong to the server (`gridgov-server`'s `auth`). Sessions are kept by the SHA-256
//! of their token, never the token itself.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gridgov_model::{Role, Scope, UserName};

use crate::StoreError;

/// A user's id in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub i64);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An account as administrators see it (no password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// The login name (unique).
    pub name: UserName,
    /// The role.
    pub role: Role,
    /// Where the role applies.
    pub scope: Scope,
    /// A disabled account cannot log in and its sessions are gone.
    pub disabled: bool,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// What a login checks: the account, its stored password hash and its failures.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The account.
    pub user: User,
    /// The password hash as stored (a PHC string, such as `$argon2id$v=19$…`).
    pub password_hash: String,
    /// Failed logins since the last success (or password reset).
    pub failed_logins: u32,
    /// No login is accepted before this instant.
    pub locked_until: Option<DateTime<Utc>>,
}

/// An account to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The login name; taken names are a [`StoreError::Conflict`].
    pub name: UserName,
    /// The role.
    pub role: Role,
    /// Where the role applies (the caller has checked it fits the role).
    pub scope: Scope,
    /// The password hash (PHC string).
    pub password_hash: String,
}

/// A change to an account; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    /// A new role.
    pub role: Option<Role>,
    /// A new scope.
    pub scope: Option<Scope>,
    /// A new password hash: also clears the failures and the lock.
    pub password_hash: Option<String>,
    /// Disable (`true`) or enable (`false`).
    pub disabled: Option<bool>,
}

/// A login session. The token is the client's; the store keeps its SHA-256 only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 of the token.
    pub token_hash: [u8; 32],
    /// Whose session it is.
    pub user_id: UserId,
    /// When it was opened (the absolute timeout counts from here).
    pub created_at: DateTime<Utc>,
    /// When it was last used (the idle timeout counts from here).
    pub last_seen_at: DateTime<Utc>,
}

/// Accounts and sessions; every [`crate::Store`] is one.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// Creates an account; [`StoreError::Conflict`] when the name is taken.
    async fn add_user(&self, user: NewUser) -> Result<User, StoreError>;

    /// Every account, by name.
    async fn users(&self) -> Result<Vec<User>, StoreError>;

    /// The account of this name with its password hash and failures, if there is one.
    async fn credentials(&self, name: &UserName) -> Result<Option<Credentials>, StoreError>;

    /// Changes an account in one transaction and returns it as it now is. A new password hash
    /// clears the failures and the lock; a new password, role or scope and disabling all end
    /// every session of the account (in the same transaction). [`StoreError::NoUser`] when
    /// there is no such account.
    async fn change_user(&self, name: &UserName, change: UserChange) -> Result<User, StoreError>;

    /// Records the failures since the last success and the lock (a login's bookkeeping).
    async fn set_login_failures(
        &self,
        id: UserId,
        failed_logins: u32,
        locked_until: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;

    /// Stores a new session.
    async fn create_session(&self, session: &Session) -> Result<(), StoreError>;

    /// The session with this token hash and its account (disabled accounts included: the
    /// caller decides), or `None` when there is none (never opened, revoked or purged).
    async fn session(&self, token_hash: &[u8; 32]) -> Result<Option<(Session, User)>, StoreError>;

    /// Sets a session's `last_seen_at`.
    async fn touch_session(
        &self,
        token_hash: &[u8; 32],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Ends a session; `false` when there was none.
    async fn revoke_session(&self, token_hash: &[u8; 32]) -> Result<bool, StoreError>;

    /// Deletes the sessions opened before `created_before` or last seen before
    /// `seen_before` (both timed out) and returns how many went.
    async fn purge_sessions(
        &self,
        created_before: DateTime<Utc>,
        seen_before: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
}

// What both backends share when they write and read account rows, so that they keep and
// refuse the same things.

impl UserChange {
    /// Whether the change ends every session of the account: a new password, role or scope,
    /// or disabling it (even to the same value: the caller asked for a new one).
    pub(crate) fn ends_sessions(&self) -> bool {
        self.password_hash.is_some()
            || self.role.is_some()
            || self.scope.is_some()
            || self.disabled == Some(true)
    }
}

/// An instant as both stores keep it: whole milliseconds, finer digits dropped.
pub(crate) fn stored_instant(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound as _;
    t.trunc_subsecs(3)
}

/// A failure count as both stores keep it (a PostgreSQL `integer`): counts beyond
/// `i32::MAX` stay at `i32::MAX`.
pub(crate) fn stored_failures(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The error of a stored account row that breaks the model.
pub(crate) fn corrupt(name: &str, reason: impl std::fmt::Display) -> StoreError {
    StoreError::CorruptUser {
        name: name.to_owned(),
        reason: reason.to_string(),
    }
}

/// The error of an [`Accounts::add_user`] whose insert failed: a unique violation (the only
/// unique key an insert can break is the name) is the name taken.
pub(crate) fn add_error(e: sqlx::Error, name: &UserName) -> StoreError {
    match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(format!("user '{name}' exists"))
        }
        other => StoreError::Database(other),
    }
}

/// The error of an [`Accounts::create_session`] whose insert failed: a unique violation is a
/// token hash already stored.
pub(crate) fn session_error(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict("a session with this token hash exists".into())
        }
        other => StoreError::Database(other),
    }
}

/// A [`User`] from a stored row's columns; [`StoreError::CorruptUser`] when the name, role or
/// scope breaks the model.
pub(crate) fn user_from_row(
    id: i64,
    name: &str,
    role: &str,
    scope: &str,
    disabled: bool,
    created_at: DateTime<Utc>,
) -> Result<User, StoreError> {
    Ok(User {
        id: UserId(id),
        name: name.parse().map_err(|e| corrupt(name, e))?,
        role: role.parse().map_err(|e| corrupt(name, e))?,
        scope: scope.parse().map_err(|e| corrupt(name, e))?,
        disabled,
        created_at,
    })
}

/// A stored failure count; [`StoreError::CorruptUser`] when it is negative.
pub(crate) fn failures_from_row(name: &str, n: i64) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|_| corrupt(name, format!("{n} failed logins")))
}

/// A stored token hash; [`StoreError::CorruptUser`] (naming the session's account) when it
/// is not 32 bytes long.
pub(crate) fn token_hash_from_row(name: &str, bytes: &[u8]) -> Result<[u8; 32], StoreError> {
    bytes.try_into().map_err(|_| {
        corrupt(
            name,
            format!("a session's token hash has {} bytes, not 32", bytes.len()),
        )
    })
}
