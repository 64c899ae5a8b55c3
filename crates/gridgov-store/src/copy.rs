//! Copying a whole store into another (`gridgov load`).

use gridgov_model::Layer;

use crate::{write, Op, Query, Store, WriteError};

/// Copies every layer of `from` into `to`, parents before children, keeping feature ids, as
/// one validated batch: the target gets everything or nothing. Returns the counts per layer.
pub async fn copy_all(
    from: &dyn Store,
    to: &dyn Store,
    progress: &mut (dyn FnMut(Layer, usize) + Send),
) -> Result<Vec<(Layer, usize)>, WriteError> {
    let mut ops = Vec::new();
    let mut counts = Vec::new();
    for layer in Layer::ALL {
        let features = from.query(*layer, &Query::default()).await?;
        progress(*layer, features.len());
        counts.push((*layer, features.len()));
        ops.extend(features.into_iter().map(|f| Op::Insert(*layer, f)));
    }
    write(to, ops).await?;
    Ok(counts)
}
