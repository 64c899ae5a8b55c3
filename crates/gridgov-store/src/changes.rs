//! Change feeds: committed writes as the stores report them ([`crate::Store::changes`]), so
//! that in-memory indexes stay current whichever gridgov process writes.
//!
//! Each backend runs one task per open feed that watches its source (PostgreSQL
//! notifications; the GeoPackage store's own writes and the file's `data_version`) and hands
//! [`Change`]s to the feed through a bounded channel. The task never waits for the reader: when
//! the channel is full it drops the change and marks the feed as lagged, and the reader then
//! gets a resync (every layer, ids unknown) instead. Dropping the feed ends its task.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use gridgov_model::{FeatureId, Layer};
use tokio::sync::mpsc;

use crate::Op;

/// A committed change to a layer, as a change feed reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The layer written.
    pub layer: Layer,
    /// The ids inserted, updated or deleted; `None` when the feed cannot list them
    /// (a bulk load, too many ids for one notification, or events lost on a reconnect):
    /// then the whole layer may have changed and a reader should reload it.
    pub ids: Option<Vec<FeatureId>>,
}

/// A batch that changes more ids than this in one layer reports the layer without ids
/// (a PostgreSQL notification carries at most 8000 bytes).
pub const MAX_IDS: usize = 500;

/// Changes of at most this many writes wait for the reader; more make the feed lag.
const CAPACITY: usize = 1024;

/// What a feed's task sends.
#[derive(Debug)]
pub(crate) enum Signal {
    /// One committed change.
    Change(Change),
    /// Changes may have been missed: every layer may have changed.
    Resync,
}

/// Committed changes, in commit order, from the moment the feed was opened.
///
/// Opened by [`crate::Store::changes`]; what it sees depends on the backend (see
/// [`crate::postgis::PgStore`] and [`crate::gpkg::GpkgStore`]). Whenever it may have missed
/// changes (the reader fell more than a thousand writes behind, the database connection was
/// lost) it reports every layer in [`Layer::ALL`] with `ids: None` (a resync) rather than
/// dropping them silently. Dropping the feed stops its background task.
#[derive(Debug)]
pub struct ChangeFeed {
    /// Changes of a resync not yet handed out.
    pending: VecDeque<Change>,
    receiver: mpsc::Receiver<Signal>,
    /// Set by the task when it dropped a change because the channel was full.
    lagged: Arc<AtomicBool>,
    task: tokio::task::AbortHandle,
}

impl ChangeFeed {
    /// Spawns the task that feeds a new feed: `run` gets the sending end and returns when the
    /// store is gone for good (or when [`FeedSender::send`] says the feed was dropped).
    pub(crate) fn spawn<F>(run: impl FnOnce(FeedSender) -> F) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        Self::with_capacity(CAPACITY, run)
    }

    fn with_capacity<F>(capacity: usize, run: impl FnOnce(FeedSender) -> F) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (sender, receiver) = mpsc::channel(capacity);
        let lagged = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(run(FeedSender {
            sender,
            lagged: Arc::clone(&lagged),
        }))
        .abort_handle();
        Self {
            pending: VecDeque::new(),
            receiver,
            lagged,
            task,
        }
    }

    /// The next change; `None` only when the store is gone for good.
    pub async fn next(&mut self) -> Option<Change> {
        loop {
            if let Some(change) = self.pending.pop_front() {
                return Some(change);
            }
            // The flag is only ever set while the channel is full, so a reader waiting below
            // always wakes up to come back here.
            if self.lagged.swap(false, Ordering::AcqRel) {
                self.resync();
                continue;
            }
            match self.receiver.recv().await {
                Some(Signal::Change(change)) => return Some(change),
                Some(Signal::Resync) => self.resync(),
                None if self.lagged.swap(false, Ordering::AcqRel) => self.resync(),
                None => return None,
            }
        }
    }

    /// Queues a change without ids for every layer, in place of every change still waiting:
    /// the reader reloads after they were committed, so the resync covers them.
    fn resync(&mut self) {
        while self.receiver.try_recv().is_ok() {}
        self.pending.clear();
        self.pending
            .extend(Layer::ALL.iter().map(|&layer| Change { layer, ids: None }));
    }
}

impl Drop for ChangeFeed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The sending end of a feed, held by its task.
#[derive(Debug)]
pub(crate) struct FeedSender {
    sender: mpsc::Sender<Signal>,
    lagged: Arc<AtomicBool>,
}

impl FeedSender {
    /// Hands a signal to the feed without waiting: when the feed is full the signal is dropped
    /// and the feed will resync. Returns `false` once the feed has been dropped.
    pub(crate) fn send(&self, signal: Signal) -> bool {
        match self.sender.try_send(signal) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.lagged.store(true, Ordering::Release);
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Resolves when the feed has been dropped.
    pub(crate) async fn closed(&self) {
        self.sender.closed().await;
    }
}

/// The changes a committed batch made: one per layer, in the order the batch first touched
/// them, listing the ids it inserted (as assigned), updated or deleted (each once), or
/// without ids when there are more than [`MAX_IDS`]. `ids` are the batch's results, one per op.
pub(crate) fn of_batch(ops: &[Op], ids: &[FeatureId]) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::new();
    for (op, id) in ops.iter().zip(ids) {
        let layer = op.layer();
        let k = if let Some(k) = out.iter().position(|c| c.layer == layer) {
            k
        } else {
            out.push(Change {
                layer,
                ids: Some(Vec::new()),
            });
            out.len() - 1
        };
        if let Some(list) = &mut out[k].ids {
            if !list.contains(id) {
                list.push(*id);
            }
            if list.len() > MAX_IDS {
                out[k].ids = None;
            }
        }
    }
    out
}

/// The changes of a bulk write ([`crate::Store::apply_stream`]): each layer written, without ids.
pub(crate) fn of_layers(layers: impl IntoIterator<Item = Layer>) -> Vec<Change> {
    layers
        .into_iter()
        .map(|layer| Change { layer, ids: None })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridgov_model::{DivisionCode, Feature};

    fn change(layer: Layer, ids: &[i64]) -> Change {
        Change {
            layer,
            ids: Some(ids.iter().copied().map(FeatureId).collect()),
        }
    }

    async fn resync(feed: &mut ChangeFeed) {
        for &layer in Layer::ALL {
            assert_eq!(feed.next().await, Some(Change { layer, ids: None }));
        }
    }

    #[tokio::test]
    async fn a_full_feed_resyncs_instead_of_dropping_changes() {
        let (ready, wait) = tokio::sync::oneshot::channel();
        let mut feed = ChangeFeed::with_capacity(2, |sender| async move {
            for n in 1..=5 {
                assert!(sender.send(Signal::Change(change(Layer::Roads, &[n]))));
            }
            ready.send(()).unwrap();
        });
        wait.await.unwrap();
        // The channel held two and dropped three: one resync covers them all.
        resync(&mut feed).await;
        assert_eq!(feed.next().await, None);
    }

    #[tokio::test]
    async fn a_feed_ends_when_its_task_does() {
        let mut feed = ChangeFeed::spawn(|sender| async move {
            sender.send(Signal::Change(change(Layer::Water, &[7])));
            sender.send(Signal::Resync);
        });
        assert_eq!(feed.next().await, Some(change(Layer::Water, &[7])));
        resync(&mut feed).await;
        assert_eq!(feed.next().await, None);
    }

    #[test]
    fn a_batch_lists_each_layers_ids_once_up_to_the_limit() {
        let division: DivisionCode = "520526101201".parse().unwrap();
        let f = Feature::new(division, None);
        let ops = vec![
            Op::Insert(Layer::Persons, f.clone()),
            Op::Delete(Layer::Roads, FeatureId(4)),
            Op::Update(Layer::Persons, f.clone()),
            Op::Update(Layer::Persons, f.clone()),
        ];
        let ids = [5, 4, 2, 5].map(FeatureId);
        assert_eq!(
            of_batch(&ops, &ids),
            vec![change(Layer::Persons, &[5, 2]), change(Layer::Roads, &[4])]
        );
        let many: Vec<Op> = (0..=MAX_IDS)
            .map(|_| Op::Insert(Layer::Persons, f.clone()))
            .collect();
        let ids: Vec<FeatureId> = (0..=MAX_IDS as i64).map(FeatureId).collect();
        assert_eq!(
            of_batch(&many, &ids),
            vec![Change {
                layer: Layer::Persons,
                ids: None
            }]
        );
        assert_eq!(
            of_batch(&many[..MAX_IDS], &ids[..MAX_IDS])[0]
                .ids
                .as_ref()
                .map(Vec::len),
            Some(MAX_IDS)
        );
    }
}
