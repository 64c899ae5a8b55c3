//! Streaming a checked batch into PostGIS ([`crate::Store::apply_stream`]).
//!
//! Two stages run at once: an encoder turns each part into COPY text (EWKB in hex, escaped
//! fields) while the writer sends the previous one. Consecutive parts that insert one
//! layer's features with their ids share one COPY, so the server stores a chunk while the next
//! one is read, checked and encoded. Everything happens in one transaction, which notifies
//! the change feeds of each layer written, without ids.

use std::collections::{BTreeMap, BTreeSet};

use gridgov_model::{FeatureId, Layer};
use sqlx::{Postgres, Transaction};
use tokio::sync::mpsc;

use super::{copy_rows, copy_statement, PgStore};
use crate::{Op, Part, StoreError};

/// A part ready for the database.
enum Encoded {
    /// Features of one layer, all with their ids, as COPY text rows.
    Rows {
        /// Their layer.
        layer: Layer,
        /// Their ids, in row order.
        ids: Vec<FeatureId>,
        /// The rows.
        data: Vec<u8>,
    },
    /// Changes that take the general path (updates, deletes, inserts without ids).
    Ops(Vec<Op>),
    /// The end of a run: finish the open COPY.
    Flush,
    /// Commit.
    Commit,
}

/// Whether a part only inserts features of `layer` that carry their ids (so that it can be
/// streamed into an open COPY without asking the sequence for ids).
fn keeps_ids(layer: Layer, ops: &[Op]) -> bool {
    !ops.is_empty()
        && ops
            .iter()
            .all(|op| matches!(op, Op::Insert(l, f) if *l == layer && f.id.is_some()))
}

fn encode(part: Part) -> Result<Encoded, StoreError> {
    match part {
        Part::Ops(ops) => match ops.first() {
            Some(Op::Insert(layer, _)) if keeps_ids(*layer, &ops) => {
                let ids: Vec<FeatureId> = ops
                    .iter()
                    .filter_map(|op| op.feature().and_then(|f| f.id))
                    .collect();
                let rows = ops.iter().filter_map(Op::feature).zip(&ids);
                let data = copy_rows(*layer, rows)?.into_bytes();
                Ok(Encoded::Rows {
                    layer: *layer,
                    ids,
                    data,
                })
            }
            _ => Ok(Encoded::Ops(ops)),
        },
        Part::Flush => Ok(Encoded::Flush),
        Part::Commit => Ok(Encoded::Commit),
    }
}

/// Applies a stream of parts in one transaction, committing at [`Part::Commit`]; if the
/// sender stops first, nothing is written ([`StoreError::Abandoned`]).
pub(super) async fn apply_stream(
    tx: Transaction<'static, Postgres>,
    direct: bool,
    mut parts: mpsc::Receiver<Part>,
) -> Result<Vec<FeatureId>, StoreError> {
    let (sender, mut encoded) = mpsc::channel(8);
    let encoder = tokio::spawn(async move {
        while let Some(part) = parts.recv().await {
            let e = encode(part);
            let failed = e.is_err();
            if sender.send(e).await.is_err() || failed {
                break;
            }
        }
    });
    let written = write(tx, direct, &mut encoded).await;
    // On failure the encoder may still be waiting for parts: stop it.
    encoder.abort();
    written
}

/// The next encoded part (`None`: the sender stopped).
async fn next(
    encoded: &mut mpsc::Receiver<Result<Encoded, StoreError>>,
) -> Result<Option<Encoded>, StoreError> {
    encoded.recv().await.transpose()
}

/// Writes the parts in `tx` (opened with the scope's setting), COPY straight into the tables
/// when `direct`, else through staging tables (`super::copy_table`).
async fn write(
    mut tx: Transaction<'static, Postgres>,
    direct: bool,
    encoded: &mut mpsc::Receiver<Result<Encoded, StoreError>>,
) -> Result<Vec<FeatureId>, StoreError> {
    let mut ids = Vec::new();
    let mut dropped = BTreeMap::new();
    // Layers inserted with given ids: their sequences must move past them.
    let mut copied = BTreeSet::new();
    // Every layer written, for the change feeds.
    let mut written = BTreeSet::new();
    let mut part = next(encoded).await?;
    while let Some(p) = part.take() {
        match p {
            Encoded::Ops(ops) => {
                written.extend(ops.iter().map(Op::layer));
                PgStore::apply_in(&mut tx, &ops, &mut ids, &mut dropped, direct).await?;
                part = next(encoded).await?;
            }
            Encoded::Flush => part = next(encoded).await?,
            Encoded::Rows {
                layer,
                ids: first,
                data,
            } => {
                PgStore::prepare_bulk(&mut tx, &mut dropped, layer, first.len()).await?;
                super::start_copy(&mut tx, layer, direct).await?;
                let mut copy = tx.copy_in_raw(&copy_statement(layer, direct)).await?;
                ids.extend(first);
                copy.send(data).await?;
                part = loop {
                    match next(encoded).await {
                        Ok(Some(Encoded::Rows {
                            layer: l,
                            ids: more,
                            data,
                        })) if l == layer => {
                            ids.extend(more);
                            copy.send(data).await?;
                        }
                        Ok(Some(other)) => break Some(other),
                        Ok(None) => {
                            copy.abort("the batch was abandoned").await.ok();
                            return Err(StoreError::Abandoned);
                        }
                        Err(e) => {
                            copy.abort("the batch could not be encoded").await.ok();
                            return Err(e);
                        }
                    }
                };
                copy.finish().await?;
                super::finish_copy(&mut tx, layer, direct).await?;
                tracing::debug!(%layer, "copy: stored");
                copied.insert(layer);
                written.insert(layer);
                if matches!(part, Some(Encoded::Flush)) {
                    // The layer is whole: build what the bulk path dropped now, while the
                    // next layers are still being read and checked.
                    if let Some(defs) = dropped.remove(&layer) {
                        PgStore::rebuild(&mut tx, BTreeMap::from([(layer, defs)])).await?;
                        tracing::debug!(%layer, "copy: keys and indexes rebuilt");
                    }
                }
            }
            Encoded::Commit => {
                PgStore::rebuild(&mut tx, dropped).await?;
                tracing::debug!("copy: keys and indexes rebuilt");
                PgStore::follow_ids(&mut tx, copied).await?;
                super::changes::notify(&mut tx, &crate::changes::of_layers(written)).await?;
                tx.commit().await?;
                tracing::debug!("copy: committed");
                return Ok(ids);
            }
        }
    }
    // Dropping the transaction rolls it back.
    Err(StoreError::Abandoned)
}
