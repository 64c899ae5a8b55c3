//! What the server records in the store's audit log ([`gridgov_store::audit`]): login
//! attempts, logouts, reads of personal data, reveals, and every change of a feature.
//!
//! A read of personal data (a layer for which [`Layer::is_personal`] holds) is recorded
//! **before** it is answered, and refused with 503 when the record cannot be written: nobody
//! reads people's data unrecorded. Item listings and single items record the layer and the ids
//! answered (the first [`MAX_IDS`] and the count); vector tiles record, per session and layer,
//! the first tile of each [`TILE_WINDOW`] (a map view fetches dozens of tiles a second: one
//! record a minute says who looked at which layer where, without a write per tile). Changes
//! are recorded after the store committed them, with their result.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use gridgov_model::{FeatureId, Layer};
use gridgov_store::{AuditAction, AuditEvent, AuditResult};
use serde_json::Value;

use crate::auth::Principal;
use crate::{ApiError, AppState};

/// The most ids one record lists (the count is always there).
pub const MAX_IDS: usize = 200;

/// How long one record stands for a session's tiles of one layer.
pub const TILE_WINDOW: Duration = Duration::from_mins(1);

/// Where a request came from: the peer's address, or none when the server was not started
/// with connection info (as in tests that call the router directly). Written as the address,
/// or `unknown`; only when a record is made (not on every request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source(pub Option<IpAddr>);

impl Source {
    /// The source of a request, from its extensions.
    pub fn of(extensions: &axum::http::Extensions) -> Self {
        Source(
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        )
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(ip) => ip.fmt(f),
            None => f.write_str("unknown"),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Source::of(&parts.extensions))
    }
}

/// Appends one record. An error is [`ApiError::AuditUnavailable`]: the caller must not do
/// (or answer) what it wanted to record.
pub async fn record(
    s: &AppState,
    actor: &str,
    source: Source,
    action: AuditAction,
    object: String,
    result: AuditResult,
    detail: &Value,
) -> Result<(), ApiError> {
    let event = AuditEvent {
        actor: actor.to_owned(),
        action,
        object,
        source: source.to_string(),
        result,
        detail: detail.to_string(),
    };
    match s.store.append_audit(&event).await {
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::error!(error = %e, action = action.token(), "audit record not written");
            Err(ApiError::AuditUnavailable(
                "the audit log cannot be written just now, so this was not done; try again later"
                    .into(),
            ))
        }
    }
}

/// Records what a signed-in user did.
pub async fn record_by(
    s: &AppState,
    who: &Principal,
    action: AuditAction,
    object: String,
    result: AuditResult,
    detail: &Value,
) -> Result<(), ApiError> {
    record(
        s,
        who.user.name.as_str(),
        who.source,
        action,
        object,
        result,
        detail,
    )
    .await
}

/// Records a read of `ids` of a personal layer, before answering; other layers are not
/// recorded. `what` says which route read (`items`, `ogc`, `lookup`).
///
/// # Errors
/// [`ApiError::AuditUnavailable`]: do not answer.
pub async fn personal_read(
    s: &AppState,
    who: &Principal,
    layer: Layer,
    ids: &[FeatureId],
    what: &str,
) -> Result<(), ApiError> {
    if !layer.is_personal() {
        return Ok(());
    }
    let object = match ids {
        [one] => format!("{}/{}", layer.name(), one.0),
        _ => layer.name().to_owned(),
    };
    let listed: Vec<i64> = ids.iter().take(MAX_IDS).map(|id| id.0).collect();
    let detail = serde_json::json!({"via": what, "count": ids.len(), "ids": listed});
    record_by(s, who, AuditAction::Read, object, AuditResult::Ok, &detail).await
}

/// The sessions' recent tile records: (session, layer) → when the last was written.
#[derive(Debug, Default)]
pub struct TileReads {
    seen: Mutex<HashMap<([u8; 32], Layer), Instant>>,
}

impl TileReads {
    /// Whether a tile of `layer` for this session needs a record now (none in the window),
    /// marking it recorded. Old entries are dropped as the map grows.
    fn due(&self, session: [u8; 32], layer: Layer, now: Instant) -> bool {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen
            .get(&(session, layer))
            .is_some_and(|t| now.duration_since(*t) < TILE_WINDOW)
        {
            return false;
        }
        if seen.len() >= 10_000 {
            seen.retain(|_, t| now.duration_since(*t) < TILE_WINDOW);
        }
        seen.insert((session, layer), now);
        true
    }

    /// Whether a tile of `layer` for this session was recorded within the window before `now`
    /// (so [`TileReads::due`] would say no), without marking anything.
    pub(crate) fn recent(&self, session: [u8; 32], layer: Layer, now: Instant) -> bool {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&(session, layer))
            .is_some_and(|t| now.duration_since(*t) < TILE_WINDOW)
    }

    /// Forgets a mark (its record could not be written), so the next tile tries again.
    fn forget(&self, session: [u8; 32], layer: Layer) {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&(session, layer));
    }
}

/// Records, at most once per [`TILE_WINDOW`] per session and layer, that the user fetched
/// tiles of the personal ones among `layers`.
///
/// # Errors
/// [`ApiError::AuditUnavailable`]: do not answer the tile.
pub async fn personal_tiles(
    s: &AppState,
    who: &Principal,
    layers: impl IntoIterator<Item = Layer>,
    tile: (u8, u32, u32),
) -> Result<(), ApiError> {
    let now = Instant::now();
    for layer in layers.into_iter().filter(|l| l.is_personal()) {
        if !s.tile_reads.due(who.session_key(), layer, now) {
            continue;
        }
        let (z, x, y) = tile;
        let detail = serde_json::json!({
            "via": "tiles",
            "first_tile": format!("{z}/{x}/{y}"),
            "window_seconds": TILE_WINDOW.as_secs(),
        });
        let recorded = record_by(
            s,
            who,
            AuditAction::Read,
            format!("{}/tiles", layer.name()),
            AuditResult::Ok,
            &detail,
        )
        .await;
        if let Err(e) = recorded {
            s.tile_reads.forget(who.session_key(), layer);
            return Err(e);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_tile_record_per_window_per_session_and_layer() {
        let reads = TileReads::default();
        let t = Instant::now();
        assert!(reads.due([1; 32], Layer::Persons, t));
        assert!(!reads.due([1; 32], Layer::Persons, t + Duration::from_secs(59)));
        assert!(reads.due([2; 32], Layer::Persons, t));
        assert!(reads.due([1; 32], Layer::Tenancies, t));
        assert!(reads.due([1; 32], Layer::Persons, t + Duration::from_secs(61)));
        reads.forget([2; 32], Layer::Persons);
        assert!(reads.due([2; 32], Layer::Persons, t + Duration::from_secs(1)));
    }
}
