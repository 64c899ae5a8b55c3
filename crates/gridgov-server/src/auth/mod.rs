//! Who is asking: login, sessions and the deny-by-default gate in front of every route.
//!
//! - [`password`]: Argon2id hashes, random passwords and session tokens.
//! - [`authenticate`]: the middleware. Every request but the health check, the login route and
//!   the front end's static files must carry a live session, as `Authorization: Bearer TOKEN`
//!   or the `gridgov_session` cookie (`HttpOnly`, `SameSite=Strict`) set by the login; it puts the
//!   [`Principal`] into the request for the handlers.
//! - `POST /api/v1/auth/login`, `POST /api/v1/auth/logout`, `GET /api/v1/auth/me`.
//!
//! Sessions live in the store (shared by every server on one database), keyed by the token's
//! SHA-256; each has an idle and an absolute timeout ([`AuthPolicy`]). Failed logins lock the
//! account for a time that doubles with each failure from the third on; unknown names, wrong
//! passwords, locked and disabled accounts get the same answer after the same work (one
//! Argon2id verification).
//!
//! Each server keeps the sessions it has recently read from the store in a bounded
//! [`cache::SessionCache`] (`AppState::sessions`), so that a request with a known session costs
//! no database query. An entry is trusted for at most [`AuthPolicy::cache_ttl`] (5 s by
//! default) after the store gave it; then the store is asked again. So a session revoked or an
//! account disabled by **another** server on the same database (or by `gridgov user` on it)
//! still works here for at most `cache_ttl`. On this server a logout, a timeout or a disabled
//! account found by a store read drops the entry at once. The cache does not extend a
//! session's life: both timeouts are checked on every request, a hit included, against the
//! session's `created_at` and `last_seen_at` (a hit that fails them is re-read from the store
//! before the session is ended), and `last_seen_at` is still written every minute (and kept in
//! the entry).

pub mod cache;
pub mod password;

use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use gridgov_model::{Role, Scope, UserName};
use gridgov_store::scope::RowScope;
use gridgov_store::{Credentials, Session, User};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Source};
use crate::openapi::Problem;
use crate::{ApiError, AppState};
use gridgov_store::{AuditAction, AuditResult};

/// The cookie that carries the session token for the web pages.
pub const COOKIE: &str = "gridgov_session";

/// Timeouts and lockout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthPolicy {
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session ends this long after login, used or not.
    pub absolute: Duration,
    /// Failed logins before the account locks (the lock then doubles with each failure).
    pub free_failures: u32,
    /// The first lock.
    pub first_lock: Duration,
    /// The longest lock.
    pub max_lock: Duration,
    /// How long a session read from the store is trusted without asking the store again:
    /// the longest a revocation or a disabled account made by another server on the same
    /// database takes to be seen here (this server's own logouts take effect at once). Zero
    /// asks the store on every request.
    pub cache_ttl: Duration,
}

impl Default for AuthPolicy {
    /// 30 minutes idle, 12 hours in all; two failures free, then locks of 2 s, 4 s, … up to
    /// 15 minutes; sessions trusted for 5 s between store reads.
    fn default() -> Self {
        Self {
            idle: Duration::from_mins(30),
            absolute: Duration::from_hours(12),
            free_failures: 2,
            first_lock: Duration::from_secs(2),
            max_lock: Duration::from_mins(15),
            cache_ttl: Duration::from_secs(5),
        }
    }
}

impl AuthPolicy {
    /// How long an account is locked after its `failures`-th failure in a row.
    pub fn lock_after(&self, failures: u32) -> Option<Duration> {
        let over = failures.checked_sub(self.free_failures)?.checked_sub(1)?;
        let lock = self
            .first_lock
            .checked_mul(1u32.checked_shl(over.min(31)).unwrap_or(u32::MAX))
            .unwrap_or(self.max_lock);
        Some(lock.min(self.max_lock))
    }

    /// Whether a session of this account may still be used at `now`: the account is enabled
    /// and neither timeout has passed.
    fn allows(&self, session: &Session, user: &User, now: DateTime<Utc>) -> bool {
        !user.disabled
            && !older_than(session.created_at, now, self.absolute)
            && !older_than(session.last_seen_at, now, self.idle)
    }
}

/// The signed-in user of a request, put there by [`authenticate`]. A handler that takes it
/// cannot run without a session.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The account.
    pub user: User,
    /// Where the request came from (the peer's address), for the audit log.
    pub source: Source,
    token_hash: [u8; 32],
}

impl Principal {
    /// A key of the session (its token's SHA-256), never the token itself.
    pub fn session_key(&self) -> [u8; 32] {
        self.token_hash
    }

    /// The account's role.
    pub fn role(&self) -> Role {
        self.user.role
    }

    /// Where the role applies.
    pub fn scope(&self) -> &Scope {
        &self.user.scope
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| ApiError::Unauthorized("sign in first".into()))
    }
}

/// Whether a request may go without a session: the health check, the login and the front
/// end's static files (the login page must load before anyone is signed in).
fn is_public(method: &Method, path: &str) -> bool {
    match path {
        "/api/v1/health" => true,
        "/api/v1/auth/login" => method == Method::POST,
        // The pages themselves hold no data: each asks `/api/v1/auth/me` and sends the
        // visitor to /login without a session.
        "/" | "/login" | "/m" | "/planner" | "/sanitation" => {
            method == Method::GET || method == Method::HEAD
        }
        _ => {
            (method == Method::GET || method == Method::HEAD)
                && (path.starts_with("/assets/") || path.starts_with("/vendor/"))
        }
    }
}

/// The token of a request: `Authorization: Bearer …`, else the session cookie.
pub(crate) fn token(headers: &HeaderMap) -> Option<&str> {
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let v = v.to_str().ok()?;
        let (scheme, rest) = v.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| rest.trim())
            .filter(|t| !t.is_empty());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.trim())
        .filter(|t| !t.is_empty())
}

/// How often a session's `last_seen_at` is written (not on every request).
const TOUCH_EVERY: Duration = Duration::from_mins(1);

fn older_than(then: DateTime<Utc>, now: DateTime<Utc>, age: Duration) -> bool {
    chrono::Duration::from_std(age).is_ok_and(|age| now - then > age)
}

/// The account of a request that this server can authenticate from its session cache alone,
/// with no store access and nothing to write: its token's session was read from the store less
/// than [`AuthPolicy::cache_ttl`] ago, passes both timeouts now and was seen less than a minute
/// ago (its `last_seen_at` needs no write). `f` reads the account in place (no copy); its answer
/// comes back with the token's hash (the session key). `None` otherwise: the request then goes
/// through [`authenticate`], which decides and may read or write the store. For the cached
/// tiles' short path ([`crate::tiles::CachedTiles`]), which must not touch the store.
pub(crate) fn cached_session<R>(
    s: &AppState,
    headers: &HeaderMap,
    f: impl FnOnce(&User) -> R,
) -> Option<([u8; 32], R)> {
    let hash = password::token_hash(token(headers)?);
    let now = Utc::now();
    let policy = s.auth;
    s.sessions
        .peek(&hash, policy.cache_ttl, Instant::now(), |session, user| {
            (policy.allows(session, user, now)
                && !older_than(session.last_seen_at, now, TOUCH_EVERY))
            .then(|| f(user))
        })
        .flatten()
        .map(|r| (hash, r))
}

/// The middleware: lets public requests through, and every other one only with a live
/// session of an enabled account, which it hands on as a [`Principal`].
///
/// # Errors
/// 401 problem+json (with `WWW-Authenticate`) without one.
pub async fn authenticate(
    State(s): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if is_public(req.method(), req.uri().path()) {
        return Ok(next.run(req).await);
    }
    let Some(token) = token(req.headers()) else {
        return Err(ApiError::Unauthorized(
            "sign in first: POST /api/v1/auth/login, then send Authorization: Bearer TOKEN".into(),
        ));
    };
    let hash = password::token_hash(token);
    let ended = || ApiError::Unauthorized("the session has ended; sign in again".into());
    let now = Utc::now();
    let policy = s.auth;
    // A fresh cached session that passes the checks needs no query; one that fails them is
    // read again, so that only the store's word ends a session.
    let cached = s
        .sessions
        .get(&hash, policy.cache_ttl, Instant::now())
        .filter(|(session, user)| policy.allows(session, user, now));
    let (session, user) = if let Some(hit) = cached {
        hit
    } else {
        let ticket = s.sessions.ticket(&hash);
        let read_at = Instant::now();
        let Some((session, user)) = s.store.session(&hash).await? else {
            s.sessions.remove(&hash);
            return Err(ended());
        };
        if !policy.allows(&session, &user, now) {
            let revoked = s.store.revoke_session(&hash).await;
            s.sessions.remove(&hash);
            revoked?;
            return Err(ended());
        }
        if !policy.cache_ttl.is_zero() {
            s.sessions
                .insert(ticket, session.clone(), user.clone(), read_at);
        }
        (session, user)
    };
    if older_than(session.last_seen_at, now, TOUCH_EVERY) {
        // The entry first: the requests arriving while the store writes need not write too.
        s.sessions.touch(&hash, now);
        s.store.touch_session(&hash, now).await?;
    }
    let source = Source::of(req.extensions());
    // On PostGIS the database holds the request to the user's rows too (row-level security).
    let rows = RowScope::of(&user.scope);
    req.extensions_mut().insert(Principal {
        user,
        source,
        token_hash: hash,
    });
    Ok(gridgov_store::scope::within(rows, next.run(req)).await)
}

/// The body of a login.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    /// The login name.
    pub username: String,
    /// The password.
    pub password: String,
}

/// A signed-in account as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    /// The login name.
    pub username: String,
    /// The role token (`county_admin`, …).
    pub role: String,
    /// The role in Chinese.
    pub role_zh: String,
    /// The scope: a division or grid code.
    pub scope: String,
    /// Layers the role reads.
    pub reads: Vec<String>,
    /// Layers the role writes.
    pub writes: Vec<String>,
}

impl Me {
    fn of(user: &User) -> Self {
        let layers = |f: fn(Role, gridgov_model::Layer) -> bool| {
            gridgov_model::Layer::ALL
                .iter()
                .filter(|l| f(user.role, **l))
                .map(|l| l.name().to_owned())
                .collect()
        };
        Self {
            username: user.name.to_string(),
            role: user.role.token().to_owned(),
            role_zh: user.role.zh().to_owned(),
            scope: user.scope.to_string(),
            reads: layers(Role::reads),
            writes: layers(Role::writes),
        }
    }
}

/// The answer to a login.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// The session token, for `Authorization: Bearer`.
    pub token: String,
    /// When the session ends at the latest (RFC 3339).
    pub expires_at: String,
    /// Who signed in.
    pub user: Me,
}

const LOGIN_FAILED: &str =
    "wrong user name or password, or too many failed attempts: wait a little and try again";

/// `POST /api/v1/auth/login`: a session for a user name and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", security(()),
    request_body(content = LoginRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Signed in: the token (also set as an HttpOnly cookie)", body = LoginResponse),
        (status = 401, description = "Wrong name or password, locked or disabled account (one answer for all)", content_type = "application/problem+json", body = Problem),
        (status = 503, description = "The attempt could not be written to the audit log, so nobody was signed in", content_type = "application/problem+json", body = Problem)))]
pub async fn login(
    State(s): State<AppState>,
    source: Source,
    Json(body): Json<LoginRequest>,
) -> Result<Response, ApiError> {
    let name = body.username.trim().parse::<UserName>().ok();
    // The name tried goes into the audit log as given, cut to a sane length.
    let tried: String = body.username.trim().chars().take(64).collect();
    let refuse = |why: &'static str| {
        let (s, tried, source) = (&s, &tried, &source);
        async move {
            audit::record(
                s,
                tried,
                *source,
                AuditAction::Login,
                format!("user/{tried}"),
                AuditResult::Denied,
                &serde_json::json!({ "reason": why }),
            )
            .await?;
            Err::<Response, _>(ApiError::Unauthorized(LOGIN_FAILED.into()))
        }
    };
    let creds = match &name {
        Some(n) => s.store.credentials(n).await?,
        None => None,
    };
    let stored = creds.as_ref().map(|c| c.password_hash.clone());
    let password = body.password;
    // One Argon2id verification whatever the name: unknown users cost what wrong passwords do.
    let matches =
        tokio::task::spawn_blocking(move || password::verify(stored.as_deref(), &password))
            .await
            .map_err(|e| ApiError::Internal(format!("password check: {e}")))?;
    let now = Utc::now();
    let Some(creds) = creds else {
        return refuse("unknown user").await;
    };
    let locked = creds.locked_until.is_some_and(|t| t > now);
    if !matches || locked || creds.user.disabled {
        if !matches && !locked {
            record_failure(&s, &creds, now).await?;
        }
        return refuse(if creds.user.disabled {
            "account disabled"
        } else if locked {
            "account locked"
        } else {
            "wrong password"
        })
        .await;
    }
    if creds.failed_logins > 0 || creds.locked_until.is_some() {
        s.store.set_login_failures(creds.user.id, 0, None).await?;
    }
    let (token, token_hash) = password::new_token();
    s.store
        .create_session(&Session {
            token_hash,
            user_id: creds.user.id,
            created_at: now,
            last_seen_at: now,
        })
        .await?;
    let recorded = audit::record(
        &s,
        creds.user.name.as_str(),
        source,
        AuditAction::Login,
        format!("user/{}", creds.user.name),
        AuditResult::Ok,
        &serde_json::json!({}),
    )
    .await;
    if let Err(e) = recorded {
        // Nobody signs in unrecorded.
        s.store.revoke_session(&token_hash).await?;
        return Err(e);
    }
    let expires = now + chrono::Duration::from_std(s.auth.absolute).unwrap_or_default();
    let cookie = format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        s.auth.absolute.as_secs()
    );
    let body = LoginResponse {
        token,
        expires_at: expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        user: Me::of(&creds.user),
    };
    let mut response = Json(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Counts a failed login and locks the account when the policy says so.
async fn record_failure(
    s: &AppState,
    creds: &Credentials,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let failures = creds.failed_logins.saturating_add(1);
    let until = s
        .auth
        .lock_after(failures)
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .map(|d| now + d);
    s.store
        .set_login_failures(creds.user.id, failures, until)
        .await?;
    Ok(())
}

/// `POST /api/v1/auth/logout`: ends this session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses(
        (status = 204, description = "The session has ended; the cookie is cleared"),
        (status = 401, description = "No session", content_type = "application/problem+json", body = Problem)))]
pub async fn logout(State(s): State<AppState>, who: Principal) -> Result<Response, ApiError> {
    let revoked = s.store.revoke_session(&who.token_hash).await;
    // After the store: a request that read the session before the revocation cannot put it
    // back (see `cache::SessionCache::insert`).
    s.sessions.remove(&who.token_hash);
    revoked?;
    audit::record_by(
        &s,
        &who,
        AuditAction::Logout,
        format!("user/{}", who.user.name),
        AuditResult::Ok,
        &serde_json::json!({}),
    )
    .await?;
    let clear = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&clear) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// `GET /api/v1/auth/me`: the signed-in account, its role, scope and layers.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses(
        (status = 200, description = "The signed-in account", body = Me),
        (status = 401, description = "No session", content_type = "application/problem+json", body = Problem)))]
pub async fn me(who: Principal) -> Json<Me> {
    Json(Me::of(&who.user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_double_from_the_third_failure_and_stop_growing() {
        let p = AuthPolicy::default();
        assert_eq!(p.lock_after(1), None);
        assert_eq!(p.lock_after(2), None);
        assert_eq!(p.lock_after(3), Some(Duration::from_secs(2)));
        assert_eq!(p.lock_after(4), Some(Duration::from_secs(4)));
        assert_eq!(p.lock_after(12), Some(Duration::from_mins(15)));
        assert_eq!(p.lock_after(u32::MAX), Some(Duration::from_mins(15)));
    }

    #[test]
    fn tokens_come_from_bearer_or_cookie() {
        let mut h = HeaderMap::new();
        assert_eq!(token(&h), None);
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; gridgov_session=abc"),
        );
        assert_eq!(token(&h), Some("abc"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer xyz"),
        );
        assert_eq!(token(&h), Some("xyz"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic eHl6"),
        );
        assert_eq!(token(&h), None);
    }

    #[test]
    fn only_health_login_pages_and_their_assets_are_public() {
        assert!(is_public(&Method::GET, "/api/v1/health"));
        assert!(is_public(&Method::POST, "/api/v1/auth/login"));
        for page in [
            "/",
            "/m",
            "/login",
            "/planner",
            "/sanitation",
            "/assets/m.js",
        ] {
            assert!(is_public(&Method::GET, page), "{page}");
            assert!(!is_public(&Method::POST, page), "{page}");
        }
        for path in [
            "/static/app.js",
            "/basemap.json",
            "/api/v1/events",
            "/api/v1/layers",
            "/api/v1/openapi.json",
            "/ogc",
            "/tiles/all/0/0/0.mvt",
            "/api/v1/lookup",
            "/nowhere",
            "/api/v1/auth/me",
        ] {
            assert!(!is_public(&Method::GET, path), "{path}");
        }
    }
}
