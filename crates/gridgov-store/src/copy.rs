//! Copying a whole store into another (`gridgov load`).

use gridgov_model::Layer;

use crate::check::store_error;
use crate::{Checker, Op, Part, Query, Store, StoreError, WriteError};

/// Features read, checked and handed to the writer at a time.
const CHUNK: usize = crate::postgis::BULK_ROWS;

/// Copies every layer of `from` into `to`, parents before children, keeping feature ids, as
/// one validated batch in one transaction: the target gets everything or nothing. Chunks are
/// read and checked while the previous ones are being written. Returns the counts per layer.
pub async fn copy_all(
    from: &dyn Store,
    to: &dyn Store,
    progress: &mut (dyn FnMut(Layer, usize) + Send),
) -> Result<Vec<(Layer, usize)>, WriteError> {
    let (sender, receiver) = tokio::sync::mpsc::channel(2);
    let produce = async move {
        let mut checker = Checker::default();
        let mut counts = Vec::new();
        let mut offset = 0;
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
                let mut ops: Vec<Op> = features
                    .into_iter()
                    .map(|f| Op::Insert(*layer, f))
                    .collect();
                let rejected = checker.check(to, &mut ops, offset).await?;
                if !rejected.is_empty() {
                    // Dropping the sender abandons the transaction.
                    return Err(WriteError::Invalid(rejected));
                }
                offset += ops.len();
                if sender.send(Part::Ops(ops)).await.is_err() {
                    // The writer failed; its error is the one to report.
                    return Ok(counts);
                }
                if !full {
                    break;
                }
            }
            progress(*layer, count);
            counts.push((*layer, count));
        }
        // A failed send means the writer already failed and says why.
        let _ = sender.send(Part::Commit).await;
        Ok(counts)
    };
    let (counts, written) = tokio::join!(produce, to.apply_stream(receiver));
    let counts = counts?;
    match written {
        Ok(_) => Ok(counts),
        Err(StoreError::Abandoned) => Err(WriteError::Store(StoreError::Abandoned)),
        Err(e) => Err(store_error(e)),
    }
}
