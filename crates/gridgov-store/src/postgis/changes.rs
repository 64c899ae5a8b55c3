//! The PostGIS change feed: `NOTIFY` inside every write's transaction, `LISTEN` in every feed.
//!
//! A write sends one notification per layer it touched on [`CHANNEL`], from inside its
//! transaction, so PostgreSQL delivers it on commit only (never for a rollback), in commit
//! order, to every listening session of the database: other processes and server instances
//! included. The notifications are sent by gridgov rather than by triggers: that works on a
//! Citus coordinator, and bulk `COPY` loads stay fast. Writes made around gridgov (plain
//! `psql`) are therefore not seen.

use std::fmt::Write as _;
use std::time::Duration;

use gridgov_model::{FeatureId, Layer};
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use tokio::sync::watch;

use crate::changes::{FeedSender, Signal};
use crate::{Change, ChangeFeed, StoreError};

/// The notification channel.
pub const CHANNEL: &str = "gridgov_changes";

/// A notification payload must be shorter than this many bytes.
const MAX_PAYLOAD: usize = 8000;

/// The longest wait between attempts to reconnect a lost listener.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// A change as a notification payload: `{"layer":"households","ids":[1,2]}`, or `"ids":null`
/// when it lists none or the list would not fit in a notification.
fn payload(change: &Change) -> String {
    let mut out = format!("{{\"layer\":\"{}\",\"ids\":", change.layer.name());
    let start = out.len();
    match &change.ids {
        Some(ids) => {
            out.push('[');
            for (k, id) in ids.iter().enumerate() {
                let _ = write!(out, "{}{}", if k == 0 { "" } else { "," }, id.0);
            }
            out.push_str("]}");
            if out.len() >= MAX_PAYLOAD {
                out.truncate(start);
                out.push_str("null}");
            }
        }
        None => out.push_str("null}"),
    }
    out
}

/// Reads a notification payload.
fn parse(payload: &str) -> Result<Change, String> {
    let v: serde_json::Value = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    let layer: Layer = v
        .get("layer")
        .and_then(serde_json::Value::as_str)
        .ok_or("no layer")?
        .parse()
        .map_err(|e: gridgov_model::UnknownLayer| e.to_string())?;
    let ids = match v.get("ids") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Array(ids)) => Some(
            ids.iter()
                .map(|id| id.as_i64().map(FeatureId).ok_or("an id is not an integer"))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => return Err("ids is neither a list nor null".into()),
    };
    Ok(Change { layer, ids })
}

/// Sends the changes of a write from inside its transaction (delivered on commit only).
pub(super) async fn notify(
    tx: &mut Transaction<'_, Postgres>,
    changes: &[Change],
) -> Result<(), StoreError> {
    for change in changes {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload(change))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// A listener on [`CHANNEL`] on a connection of its own (`pool` holds just that one).
async fn listen(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.ignore_pool_close_event(true);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Opens a feed: `LISTEN` runs before this returns, so every write committed afterwards is
/// reported. The feed ends when the store is closed or every handle on it dropped (`alive`).
pub(super) async fn feed(
    store: &PgPool,
    mut alive: watch::Receiver<()>,
) -> Result<ChangeFeed, StoreError> {
    // A connection of its own, with the store's connect options, kept as long as the feed
    // lives (the listener takes it out of this pool for good). A second one lets a new
    // listener connect while a failed one is still being let go.
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .min_connections(0)
        .max_lifetime(None)
        .idle_timeout(Duration::from_secs(30))
        .connect_with((*store.connect_options()).clone())
        .await?;
    let listener = listen(&pool).await?;
    let closed = store.close_event();
    Ok(ChangeFeed::spawn(move |sender| async move {
        tokio::select! {
            () = forward(&pool, listener, &sender) => {}
            () = closed => {}
            _ = alive.changed() => {}
        }
    }))
}

/// Forwards notifications to the feed until the feed is dropped.
async fn forward(pool: &PgPool, mut listener: PgListener, sender: &FeedSender) {
    loop {
        let received = tokio::select! {
            () = sender.closed() => return,
            r = listener.try_recv() => r,
        };
        let signal = match received {
            Ok(Some(n)) => match parse(n.payload()) {
                Ok(change) => Signal::Change(change),
                Err(e) => {
                    tracing::warn!(payload = n.payload(), error = %e,
                        "change feed: unreadable notification; reloading every layer");
                    Signal::Resync
                }
            },
            // The connection was lost (and the listener connected again): whatever was
            // committed meanwhile is unknown.
            Ok(None) => {
                tracing::warn!(
                    "change feed: the listening connection was lost; reloading every layer"
                );
                Signal::Resync
            }
            Err(e) => {
                tracing::warn!(error = %e, "change feed: listening failed; connecting again");
                drop(listener);
                listener = match reconnect(pool, sender).await {
                    Some(l) => l,
                    None => return,
                };
                Signal::Resync
            }
        };
        if !sender.send(signal) {
            return;
        }
    }
}

/// A new listener, tried with growing pauses until one listens (`None`: the feed was dropped
/// meanwhile).
async fn reconnect(pool: &PgPool, sender: &FeedSender) -> Option<PgListener> {
    let mut pause = Duration::from_millis(100);
    loop {
        tokio::select! {
            () = sender.closed() => return None,
            () = tokio::time::sleep(pause) => {}
        }
        match listen(pool).await {
            Ok(listener) => return Some(listener),
            Err(e) => {
                tracing::warn!(error = %e, "change feed: could not listen again; retrying");
                pause = (pause * 2).min(MAX_BACKOFF);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_read_back() {
        let change = Change {
            layer: Layer::Households,
            ids: Some(vec![FeatureId(3), FeatureId(-1), FeatureId(i64::MAX)]),
        };
        let text = payload(&change);
        assert_eq!(
            text,
            format!(r#"{{"layer":"households","ids":[3,-1,{}]}}"#, i64::MAX)
        );
        assert_eq!(parse(&text), Ok(change));
        let bulk = Change {
            layer: Layer::Roads,
            ids: None,
        };
        assert_eq!(payload(&bulk), r#"{"layer":"roads","ids":null}"#);
        assert_eq!(parse(&payload(&bulk)), Ok(bulk));
    }

    #[test]
    fn lists_too_long_for_a_notification_become_null() {
        let change = Change {
            layer: Layer::Persons,
            ids: Some(vec![FeatureId(i64::MAX); crate::changes::MAX_IDS]),
        };
        assert_eq!(payload(&change), r#"{"layer":"persons","ids":null}"#);
    }

    #[test]
    fn bad_payloads_are_refused() {
        for bad in [
            "",
            "{}",
            r#"{"layer":"nowhere","ids":null}"#,
            r#"{"layer":"roads","ids":[1.5]}"#,
            r#"{"layer":"roads","ids":"1"}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
