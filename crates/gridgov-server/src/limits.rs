//! Request rate limits: a token bucket per client, answered with 429 and `Retry-After` when
//! empty.
//!
//! A client is its session (the bearer token or session cookie, kept as a keyed hash) when the
//! request carries one, else its address; so the people of one office behind one NAT address
//! do not share a bucket once signed in. Logins have their own, much smaller bucket per
//! address: each costs an Argon2id verification, and a flood of them would be a cheap way to
//! burn the server's CPU (the per-account lockout of `auth` stops guessing, not that).
//!
//! Body size limits (413) are `DefaultBodyLimit` on the router, and the time limit (408) is a
//! `tower_http` timeout around every handler (`lib.rs`, [`Limits::request_timeout`]).

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use crate::{ApiError, AppState};

/// A token bucket's size: `per_second` sustained, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests a second, sustained.
    pub per_second: f64,
    /// Requests at once after a quiet time.
    pub burst: f64,
}

/// The limits a server applies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Requests of one client (session or address); `None`: unlimited.
    pub requests: Option<Rate>,
    /// Login attempts from one address; `None`: unlimited.
    pub logins: Option<Rate>,
    /// The longest a request may take before it is answered 408.
    pub request_timeout: Duration,
}

impl Limits {
    /// No rate limits (a 30 s time limit still): what tests and benchmarks that measure the
    /// server itself use.
    pub fn unlimited() -> Self {
        Self {
            requests: None,
            logins: None,
            request_timeout: Duration::from_secs(30),
        }
    }

    /// What `gridgov serve` uses unless told otherwise: 100 requests a second per client with
    /// bursts of 400 (a map view on a wall screen fetches a few dozen tiles at once), 1 login
    /// a second per address with bursts of 10, 30 s per request.
    pub fn standard() -> Self {
        Self {
            requests: Some(Rate {
                per_second: 100.0,
                burst: 400.0,
            }),
            logins: Some(Rate {
                per_second: 1.0,
                burst: 10.0,
            }),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// Who a bucket belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Client {
    /// A session, by a keyed hash of its token.
    Session(u64),
    /// An address without a session.
    Peer(Option<IpAddr>),
    /// Login attempts from an address.
    Login(Option<IpAddr>),
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of every client.
#[derive(Debug)]
pub struct RateLimiter {
    limits: Limits,
    hasher: RandomState,
    buckets: Mutex<HashMap<Client, Bucket>>,
}

/// Buckets kept before the full ones (idle long enough to have refilled) are dropped.
const MAX_BUCKETS: usize = 100_000;

impl RateLimiter {
    /// A limiter with these limits.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            hasher: RandomState::new(),
            buckets: Mutex::default(),
        }
    }

    /// The limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Takes one token from the client's bucket; `Err` with the wait until one is there.
    fn take(&self, client: Client, rate: Rate, now: Instant) -> Result<(), Duration> {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= MAX_BUCKETS {
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.at).as_secs_f64() * rate.per_second < rate.burst
            });
        }
        let b = buckets.entry(client).or_insert(Bucket {
            tokens: rate.burst,
            at: now,
        });
        let refill = now.duration_since(b.at).as_secs_f64() * rate.per_second;
        b.tokens = (b.tokens + refill).min(rate.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / rate.per_second))
        }
    }
}

/// A request whose token of the request bucket was taken ahead of [`limit`] (by the cached
/// tiles' short path, [`crate::tiles::CachedTiles`]) and refused: [`limit`] answers it with
/// this wait and takes nothing more.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Refused(Duration);

/// Takes the request's token from its client's bucket ahead of [`limit`], for a request
/// answered without the middleware; whether it may be answered. When the bucket is empty
/// the request must go through the middleware, which it now tells of the refusal, so that it
/// is answered as any other 429.
pub(crate) fn take_ahead(limiter: &RateLimiter, req: &mut Request) -> bool {
    let Some(rate) = limiter.limits.requests else {
        return true;
    };
    match limiter.take(client_of(limiter, req), rate, Instant::now()) {
        Ok(()) => true,
        Err(wait) => {
            req.extensions_mut().insert(Refused(wait));
            false
        }
    }
}

/// The request bucket of a request: its session's, else its peer address's.
fn client_of(limiter: &RateLimiter, req: &Request) -> Client {
    match crate::auth::token(req.headers()) {
        Some(t) => Client::Session(limiter.hasher.hash_one(t)),
        None => Client::Peer(peer_of(req)),
    }
}

fn peer_of(req: &Request) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The middleware: one token per request from the client's bucket, and one from the login
/// bucket for a login; 429 problem+json with `Retry-After` when a bucket is empty.
///
/// # Errors
/// [`ApiError::TooManyRequests`].
pub async fn limit(
    State(s): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let limiter = &s.limiter;
    let limits = limiter.limits();
    let now = Instant::now();
    let peer = peer_of(&req);
    let refuse = |wait: Duration, what: &str| ApiError::TooManyRequests {
        detail: format!("too many {what}; wait a moment and try again"),
        retry_after: wait.as_secs().max(1),
    };
    if let Some(Refused(wait)) = req.extensions().get::<Refused>() {
        return Err(refuse(*wait, "requests"));
    }
    if let Some(rate) = limits.requests {
        limiter
            .take(client_of(limiter, &req), rate, now)
            .map_err(|w| refuse(w, "requests"))?;
    }
    if let Some(rate) = limits.logins {
        if req.method() == Method::POST && req.uri().path() == "/api/v1/auth/login" {
            limiter
                .take(Client::Login(peer), rate, now)
                .map_err(|w| refuse(w, "login attempts from this address"))?;
        }
    }
    Ok(next.run(req).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let l = RateLimiter::new(Limits::unlimited());
        let rate = Rate {
            per_second: 10.0,
            burst: 5.0,
        };
        let t = Instant::now();
        let c = Client::Peer(None);
        for _ in 0..5 {
            assert_eq!(l.take(c, rate, t), Ok(()));
        }
        let wait = l.take(c, rate, t).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(100),
            "{wait:?}"
        );
        // Another client has its own bucket.
        assert_eq!(l.take(Client::Session(1), rate, t), Ok(()));
        // A tenth of a second later one more request may pass, not two.
        let later = t + Duration::from_millis(100);
        assert_eq!(l.take(c, rate, later), Ok(()));
        assert!(l.take(c, rate, later).is_err());
        // A long quiet time refills no more than the burst.
        let much_later = t + Duration::from_mins(1);
        for _ in 0..5 {
            assert_eq!(l.take(c, rate, much_later), Ok(()));
        }
        assert!(l.take(c, rate, much_later).is_err());
    }
}
