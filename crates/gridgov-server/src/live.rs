//! The county index a server answers from, built at start-up and kept current by the
//! store's change feed (this instance's writes and, on PostGIS, every other instance's).

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, RwLock, RwLockReadGuard, Weak};
use std::time::Duration;

use geo::{BoundingRect, Rect};
use gridgov_index::CountyIndex;
use gridgov_model::{FeatureId, GeometryKind, Layer};
use gridgov_store::scope::{within, RowScope};
use gridgov_store::{Change, ChangeFeed, Query, Store, StoreError};

/// Whether a layer is held in the index: every spatial layer, and grid plans (whose status
/// decides which grids are answers).
pub fn indexed(layer: Layer) -> bool {
    layer == Layer::GridPlans || layer.geometry() != GeometryKind::None
}

/// Where a change touched a layer: the bounding rectangles (WGS84 degrees) of the features it
/// changed, before and after, or `None` when the whole layer was reloaded.
#[derive(Debug, Clone, PartialEq)]
pub struct Touched {
    /// The layer.
    pub layer: Layer,
    /// Old and new bounding rectangles of every changed feature; `None`: anywhere.
    pub areas: Option<Vec<Rect<f64>>>,
}

/// A function told of every change the index applies (tile caches listen).
pub type Listener = Box<dyn Fn(&Touched) + Send + Sync>;

/// A function told of each feature a change of one layer replaced: the feature before (`None`
/// when it is new) and after (`None` when it is gone). It is called while the index is being
/// written, so it must not read the index; it should only pass the news on (the event feed
/// sends it to a channel).
pub type FeatureListener =
    Box<dyn Fn(Option<&gridgov_model::Feature>, Option<&gridgov_model::Feature>) + Send + Sync>;

/// A [`CountyIndex`] that follows the store.
pub struct LiveIndex {
    store: Arc<dyn Store>,
    index: RwLock<CountyIndex>,
    listeners: RwLock<Vec<Listener>>,
    feature_listeners: RwLock<Vec<(Layer, FeatureListener)>>,
}

impl std::fmt::Debug for LiveIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveIndex").finish_non_exhaustive()
    }
}

impl LiveIndex {
    /// Reads every indexed layer and starts following the store's changes. The feed is opened
    /// before the layers are read, so nothing committed in between is missed.
    /// It reads every row of the county ([`RowScope::All`]), whoever's request started it.
    pub async fn start(store: Arc<dyn Store>) -> Result<Arc<Self>, StoreError> {
        within(RowScope::All, Self::load(store)).await
    }

    async fn load(store: Arc<dyn Store>) -> Result<Arc<Self>, StoreError> {
        let feed = store.changes().await?;
        let mut layers = BTreeMap::new();
        for layer in Layer::ALL.iter().copied().filter(|l| indexed(*l)) {
            layers.insert(layer, store.query(layer, &Query::default()).await?);
        }
        let live = Arc::new(Self {
            store,
            index: RwLock::new(CountyIndex::new(layers)),
            listeners: RwLock::new(Vec::new()),
            feature_listeners: RwLock::new(Vec::new()),
        });
        tokio::spawn(follow(Arc::downgrade(&live), feed));
        Ok(live)
    }

    /// The index as it stands. Hold the guard only for synchronous work (never across an
    /// `.await`): changes wait while it is held.
    pub fn read(&self) -> RwLockReadGuard<'_, CountyIndex> {
        self.index
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Calls `listener` after every change the index applies, with where it touched.
    pub fn on_change(&self, listener: Listener) {
        self.listeners
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(listener);
    }

    /// Calls `listener` with each feature of `layer` that a change replaces, before and after.
    /// Changes that reload a whole layer (a bulk load) are not told feature by feature.
    pub fn on_feature_change(&self, layer: Layer, listener: FeatureListener) {
        self.feature_listeners
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((layer, listener));
    }

    fn tell(&self, touched: &Touched) {
        let listeners = self
            .listeners
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for l in listeners.iter() {
            l(touched);
        }
    }

    /// Brings the index up to date with one committed change: the listed features are read
    /// again (and removed when gone), or the whole layer when the change lists no ids. The
    /// index holds the whole county: it reads them whatever the calling request's scope.
    pub async fn apply(&self, change: &Change) -> Result<(), StoreError> {
        within(RowScope::All, self.reread(change)).await
    }

    async fn reread(&self, change: &Change) -> Result<(), StoreError> {
        let layer = change.layer;
        if !indexed(layer) {
            return Ok(());
        }
        let touched = match &change.ids {
            None => {
                let features = self.store.query(layer, &Query::default()).await?;
                self.write().replace_layer(layer, features);
                Touched { layer, areas: None }
            }
            Some(ids) => {
                let mut now = Vec::with_capacity(ids.len());
                for id in ids {
                    now.push((*id, self.store.get(layer, *id).await?));
                }
                let feature_listeners = self
                    .feature_listeners
                    .read()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let mut index = self.write();
                let mut areas = Vec::new();
                let rect = |f: &gridgov_model::Feature| f.geometry.as_ref()?.bounding_rect();
                for (id, feature) in now {
                    let id = FeatureId(id.0);
                    let old = index.layer(layer).and_then(|l| l.get(id));
                    for (_, listen) in feature_listeners.iter().filter(|(l, _)| *l == layer) {
                        listen(old, feature.as_ref());
                    }
                    if let Some(old) = old {
                        areas.extend(rect(old));
                    }
                    match feature {
                        Some(f) => {
                            areas.extend(rect(&f));
                            index.upsert(layer, f);
                        }
                        None => index.remove(layer, id),
                    }
                }
                Touched {
                    layer,
                    areas: Some(areas),
                }
            }
        };
        self.tell(&touched);
        // A plan's status decides whether its grids are drawn: where they lie is touched too.
        if layer == Layer::GridPlans {
            let grids = match &change.ids {
                None => None,
                Some(ids) => {
                    let plans: HashSet<i64> = ids.iter().map(|i| i.0).collect();
                    let index = self.read();
                    Some(index.layer(Layer::Grids).map_or_else(Vec::new, |l| {
                        l.features()
                            .filter(|g| {
                                g.get("plan_id")
                                    .and_then(gridgov_model::Value::as_i64)
                                    .is_some_and(|p| plans.contains(&p))
                            })
                            .filter_map(|g| g.geometry.as_ref()?.bounding_rect())
                            .collect()
                    }))
                }
            };
            self.tell(&Touched {
                layer: Layer::Grids,
                areas: grids,
            });
        }
        Ok(())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, CountyIndex> {
        self.index
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Applies the feed's changes for as long as the index is in use. A change that cannot be
/// applied (the database is unreachable) is retried, with a pause, until it is.
async fn follow(live: Weak<LiveIndex>, mut feed: ChangeFeed) {
    while let Some(change) = feed.next().await {
        loop {
            let Some(live) = live.upgrade() else { return };
            match live.apply(&change).await {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(error = %e, layer = %change.layer, "index update failed; retrying");
                    drop(live);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }
    tracing::warn!("the store's change feed ended; the index no longer follows writes");
}
