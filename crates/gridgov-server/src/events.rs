//! `/api/v1/events`: server-sent events for the command-center screen's feed. A dispute
//! reported, escalated, settled or otherwise changed anywhere (this server's writes and, on
//! PostGIS, every other server's, through the store's change feed that the [`LiveIndex`]
//! follows) reaches every signed-in client whose scope holds it, as an event named `dispute`.
//!
//! An event carries what the screen shows (category, level, status, division, place) and never
//! a description, parties or any other field that may name a person.
//!
//! [`LiveIndex`]: crate::LiveIndex

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::stream::Stream;
use gridgov_model::vocab::{DisputeLevel, DisputeStatus};
use gridgov_model::{Feature, Layer, Value};
use serde_json::json;
use tokio::sync::broadcast;

use crate::access::Access;
use crate::auth::Principal;
use crate::live::FeatureListener;
use crate::{ApiError, AppState};

/// How many events a slow client may fall behind before it misses some (it is then told with
/// a `lagged` event and should reload its counters).
const BACKLOG: usize = 1024;

/// What happened to a dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisputeChange {
    /// A new dispute was reported.
    Reported,
    /// It moved up a level (village → township → county).
    Escalated,
    /// It was settled or closed.
    Finished,
    /// Anything else: accepted, mediating, a field corrected.
    Updated,
    /// It was deleted.
    Removed,
}

impl DisputeChange {
    /// The token sent as `kind`.
    pub fn token(self) -> &'static str {
        match self {
            DisputeChange::Reported => "reported",
            DisputeChange::Escalated => "escalated",
            DisputeChange::Finished => "finished",
            DisputeChange::Updated => "updated",
            DisputeChange::Removed => "removed",
        }
    }

    /// What a change from `before` to `after` was, or `None` when nothing changed (the same
    /// change applied twice: once by the writing request, once from the feed).
    pub fn of(before: Option<&Feature>, after: Option<&Feature>) -> Option<Self> {
        let level = |f: &Feature| f.text("level").and_then(|t| t.parse::<DisputeLevel>().ok());
        let finished = |f: &Feature| {
            f.text("status")
                .and_then(|t| t.parse::<DisputeStatus>().ok())
                .is_some_and(DisputeStatus::is_finished)
        };
        match (before, after) {
            (None, None) => None,
            (None, Some(_)) => Some(DisputeChange::Reported),
            (Some(_), None) => Some(DisputeChange::Removed),
            (Some(b), Some(a)) if b == a => None,
            (Some(b), Some(a)) if level(a) > level(b) => Some(DisputeChange::Escalated),
            (Some(b), Some(a)) if finished(a) && !finished(b) => Some(DisputeChange::Finished),
            (Some(_), Some(_)) => Some(DisputeChange::Updated),
        }
    }
}

/// One dispute's change, as told to clients.
#[derive(Debug, Clone)]
pub struct DisputeEvent {
    /// What happened.
    pub change: DisputeChange,
    /// The dispute as it is now (as it was, when removed): clients' scopes are checked
    /// against it, and only its public fields are sent.
    pub feature: Feature,
    /// When the server learnt of it.
    pub at: chrono::DateTime<chrono::Utc>,
}

impl DisputeEvent {
    /// The event's JSON: `id`, `kind`, `category`, `level`, `status`, `division_code`, `lon`,
    /// `lat`, `at`.
    pub fn json(&self) -> serde_json::Value {
        let f = &self.feature;
        let text = |name: &str| f.get(name).map(Value::to_text);
        let (lon, lat) = match &f.geometry {
            Some(geo::Geometry::Point(p)) => (Some(p.x()), Some(p.y())),
            _ => (None, None),
        };
        json!({
            "id": f.id.map(|i| i.0),
            "kind": self.change.token(),
            "category": text("category"),
            "level": text("level"),
            "status": text("status"),
            "division_code": f.division.to_string(),
            "opened_on": text("opened_on"),
            "lon": lon,
            "lat": lat,
            "at": self.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        })
    }
}

/// The server's event hub: the index tells it of disputes' changes, every open stream
/// receives them.
#[derive(Debug)]
pub struct EventHub {
    sender: broadcast::Sender<Arc<DisputeEvent>>,
}

impl Default for EventHub {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(BACKLOG).0,
        }
    }
}

impl EventHub {
    /// The listener to register with [`crate::LiveIndex::on_feature_change`] for disputes.
    pub fn listener(self: &Arc<Self>) -> FeatureListener {
        let hub = Arc::downgrade(self);
        Box::new(move |before, after| {
            let Some(hub) = hub.upgrade() else { return };
            let Some(change) = DisputeChange::of(before, after) else {
                return;
            };
            let Some(feature) = after.or(before) else {
                return;
            };
            // No receiver is not an error: nobody is watching.
            let _ = hub.sender.send(Arc::new(DisputeEvent {
                change,
                feature: feature.clone(),
                at: chrono::Utc::now(),
            }));
        })
    }

    /// A new receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<DisputeEvent>> {
        self.sender.subscribe()
    }
}

/// `GET /api/v1/events`: a stream of server-sent events (`text/event-stream`) for the signed-in
/// user: `dispute` events for the disputes in the user's scope, `lagged` when the client fell
/// so far behind that events were lost, and a comment every 15 seconds to keep the
/// connection open.
#[utoipa::path(get, path = "/api/v1/events", tag = "disputes",
    responses(
        (status = 200, description = "Server-sent events: `event: dispute` with `{id, kind (reported, escalated, finished, updated, removed), category, level, status, division_code, opened_on, lon, lat, at}`; `event: lagged` with the number of events missed", content_type = "text/event-stream", body = String),
        (status = 403, description = "The role does not read disputes", content_type = "application/problem+json", body = crate::openapi::Problem)))]
pub async fn events(
    State(s): State<AppState>,
    who: Principal,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let access = Access::of(&who, &s)?;
    access.read(Layer::Disputes)?;
    let receiver = s.events.subscribe();
    let stream = futures::stream::unfold((receiver, access), |(mut receiver, access)| async move {
        loop {
            match receiver.recv().await {
                Ok(event) if access.admits(&event.feature) => {
                    let e = Event::default()
                        .event("dispute")
                        .data(event.json().to_string());
                    return Some((Ok(e), (receiver, access)));
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    let e = Event::default().event("lagged").data(n.to_string());
                    return Some((Ok(e), (receiver, access)));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridgov_model::DivisionCode;

    fn dispute(level: &str, status: &str) -> Feature {
        let village: DivisionCode = "520526101201".parse().expect("a village code");
        let mut f = Feature::new(village, Some(geo::point!(x: 104.3, y: 26.9).into()))
            .with("category", "land_contracting")
            .with("level", level)
            .with("status", status)
            .with("description", "张三与李四因宅基地边界争执");
        f.id = Some(gridgov_model::FeatureId(7));
        f
    }

    #[test]
    fn changes_are_named_and_the_description_is_never_sent() {
        let open = dispute("village", "open");
        let up = dispute("township", "open");
        let settled = dispute("township", "settled");
        let accepted = dispute("township", "accepted");
        assert_eq!(
            DisputeChange::of(None, Some(&open)),
            Some(DisputeChange::Reported)
        );
        assert_eq!(
            DisputeChange::of(Some(&open), Some(&up)),
            Some(DisputeChange::Escalated)
        );
        assert_eq!(
            DisputeChange::of(Some(&up), Some(&accepted)),
            Some(DisputeChange::Updated)
        );
        assert_eq!(
            DisputeChange::of(Some(&accepted), Some(&settled)),
            Some(DisputeChange::Finished)
        );
        assert_eq!(DisputeChange::of(Some(&up), Some(&up)), None);
        assert_eq!(
            DisputeChange::of(Some(&up), None),
            Some(DisputeChange::Removed)
        );
        let event = DisputeEvent {
            change: DisputeChange::Escalated,
            feature: up,
            at: chrono::Utc::now(),
        };
        let text = event.json().to_string();
        assert!(text.contains("\"kind\":\"escalated\""), "{text}");
        assert!(text.contains("\"level\":\"township\""), "{text}");
        assert!(!text.contains("张三"), "{text}");
    }
}
