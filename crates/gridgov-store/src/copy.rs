//! Copying a whole store into another (`gridgov load`).
//!
//! The copy runs as a pipeline of three tasks so that the machine's cores work at once: a
//! reader pages through the source layer by layer, a checker validates each chunk (schema,
//! codes, containment, references across the whole batch), and the target store writes the
//! checked chunks inside one transaction. The reader starts before the target is open, so the
//! target's schema migration overlaps the first reads.

use std::future::Future;
use std::sync::Arc;

use gridgov_model::{Feature, Layer};
use tokio::sync::mpsc;

use crate::check::store_error;
use crate::{Checker, Op, Part, Query, Store, StoreError, WriteError};

/// Features read, checked and handed to the writer at a time.
const CHUNK: usize = crate::postgis::BULK_ROWS;

/// Messages (chunks and layer ends) the reader may run ahead of the checker: enough to keep
/// reading while a PostGIS target is being migrated, few enough to bound the memory held.
const READ_AHEAD: usize = 32;

/// What the reader hands to the checker.
enum Read {
    /// The next chunk of a layer.
    Chunk(Layer, Vec<Feature>),
    /// A layer was read completely.
    Done(Layer, usize),
}

/// Reads every layer of `from` in id order, in chunks, parents before children.
async fn read_all(from: Arc<dyn Store>, out: mpsc::Sender<Read>) -> Result<(), StoreError> {
    for layer in Layer::ALL {
        let mut count = 0;
        let mut after_id = None;
        loop {
            let q = Query {
                after_id,
                limit: Some(CHUNK as u64),
                ..Query::default()
            };
            let features = from.query(*layer, &q).await?;
            let full = features.len() == CHUNK;
            after_id = features.last().and_then(|f| f.id).map(|id| id.0);
            count += features.len();
            if !features.is_empty() && out.send(Read::Chunk(*layer, features)).await.is_err() {
                // The checker stopped; its error is the one to report.
                return Ok(());
            }
            if !full {
                break;
            }
        }
        if out.send(Read::Done(*layer, count)).await.is_err() {
            return Ok(());
        }
    }
    Ok(())
}

/// Copies every layer of `from` into the store `to` resolves to, parents before children,
/// keeping feature ids, as one validated batch in one transaction: the target gets
/// everything or nothing. `to` is awaited while the first chunks are already being read (a
/// PostGIS target is migrated meanwhile). `progress` is told each layer's count once it is
/// checked. Returns the counts per layer.
pub async fn copy_all<T>(
    from: Arc<dyn Store>,
    to: T,
    progress: &mut (dyn FnMut(Layer, usize) + Send),
) -> Result<Vec<(Layer, usize)>, WriteError>
where
    T: Future<Output = Result<Arc<dyn Store>, StoreError>>,
{
    let (read_tx, mut read_rx) = mpsc::channel(READ_AHEAD);
    let reader = tokio::spawn(read_all(from, read_tx));
    let to = match to.await {
        Ok(to) => to,
        Err(e) => {
            reader.abort();
            return Err(WriteError::Store(e));
        }
    };
    let (write_tx, write_rx) = mpsc::channel(2);
    let target = Arc::clone(&to);
    let writer = tokio::spawn(async move { target.apply_stream(write_rx).await });

    let checked = async {
        let mut checker = Checker::default();
        let mut counts = Vec::new();
        let mut offset = 0;
        while let Some(read) = read_rx.recv().await {
            match read {
                Read::Chunk(layer, features) => {
                    let mut ops: Vec<Op> =
                        features.into_iter().map(|f| Op::Insert(layer, f)).collect();
                    let rejected = checker.check(to.as_ref(), &mut ops, offset).await?;
                    if !rejected.is_empty() {
                        // Dropping the sender abandons the transaction.
                        return Err(WriteError::Invalid(rejected));
                    }
                    offset += ops.len();
                    if write_tx.send(Part::Ops(ops)).await.is_err() {
                        // The writer failed; its error is the one to report.
                        return Ok(None);
                    }
                }
                Read::Done(layer, count) => {
                    progress(layer, count);
                    counts.push((layer, count));
                }
            }
        }
        Ok(Some(counts))
    }
    .await;
    // The reader is done (or stopped early because the checker stopped): a read error
    // explains a short read.
    drop(read_rx);
    let read = reader
        .await
        .map_err(|e| WriteError::Store(StoreError::Task(e.to_string())))?;
    let counts = match (checked, read) {
        (Err(e), _) => {
            drop(write_tx);
            let _ = writer.await;
            return Err(e);
        }
        (Ok(_), Err(e)) => {
            drop(write_tx);
            let _ = writer.await;
            return Err(store_error(e));
        }
        (Ok(counts), Ok(())) => {
            if counts.is_some() {
                // A failed send means the writer already failed and says why.
                let _ = write_tx.send(Part::Commit).await;
            }
            drop(write_tx);
            counts
        }
    };
    let written = writer
        .await
        .map_err(|e| WriteError::Store(StoreError::Task(e.to_string())))?;
    match (written, counts) {
        (Ok(_), Some(counts)) => Ok(counts),
        (Ok(_), None) | (Err(StoreError::Abandoned), _) => {
            Err(WriteError::Store(StoreError::Abandoned))
        }
        (Err(e), _) => Err(store_error(e)),
    }
}
