//! The validated write path shared by every backend.

use std::collections::{BTreeMap, HashMap, HashSet};

use geo::{Geometry, MultiPolygon};
use gridgov_model::{
    check_containment, validate, DivisionCode, FeatureId, Layer, Rule, ValidationError,
};

use crate::{Guard, Op, Rejection, Store, StoreError, WriteError};

/// The division whose polygon must hold a feature: the parent for division layers, the owning
/// division for everything else (none for a county, the root of the tree).
fn container(layer: Layer, division: DivisionCode) -> Option<DivisionCode> {
    match layer {
        Layer::Counties | Layer::Townships | Layer::Villages => division.parent(),
        _ => Some(division),
    }
}

fn as_multipolygon(g: Option<&Geometry<f64>>) -> MultiPolygon<f64> {
    match g {
        Some(Geometry::MultiPolygon(mp)) => mp.clone(),
        Some(Geometry::Polygon(p)) => MultiPolygon(vec![p.clone()]),
        _ => MultiPolygon(vec![]),
    }
}

/// Validates a batch and applies it in one transaction: every feature against the model,
/// its owning division (which must exist, in the store or earlier in the batch), containment
/// in that division's polygon, and references to other features. The first problem rejects
/// the whole batch and nothing is written.
pub async fn write(store: &dyn Store, mut ops: Vec<Op>) -> Result<Vec<FeatureId>, WriteError> {
    let rejected = check(store, &mut ops).await?;
    if !rejected.is_empty() {
        return Err(WriteError::Invalid(rejected));
    }
    apply(store, ops).await
}

/// [`write()`] with preconditions: the batch is validated, then applied only if every guarded
/// feature still carries its guard's tag inside the writing transaction.
pub async fn write_guarded(
    store: &dyn Store,
    guards: Vec<Guard>,
    mut ops: Vec<Op>,
) -> Result<Vec<FeatureId>, WriteError> {
    let rejected = check(store, &mut ops).await?;
    if !rejected.is_empty() {
        return Err(WriteError::Invalid(rejected));
    }
    store.apply_guarded(guards, ops).await.map_err(store_error)
}

/// Applies an already checked batch in one transaction.
async fn apply(store: &dyn Store, ops: Vec<Op>) -> Result<Vec<FeatureId>, WriteError> {
    store.apply_unchecked(ops).await.map_err(store_error)
}

/// Names a duplicate key as the conflict it is.
pub(crate) fn store_error(e: StoreError) -> WriteError {
    match e {
        StoreError::Database(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            WriteError::Store(StoreError::Conflict(format!(
                "a feature with the same id or code already exists ({})",
                db.message()
            )))
        }
        other => WriteError::Store(other),
    }
}

/// Checks every feature of a batch (normalising geometries in place) and returns every
/// rejection, one per rejected feature, in batch order. Writes nothing.
pub async fn check(store: &dyn Store, ops: &mut [Op]) -> Result<Vec<Rejection>, StoreError> {
    Checker::default().check(store, ops, 0).await
}

/// A batch checked in parts (a whole store streamed layer by layer): it remembers the
/// divisions and ids of the parts already checked, so that later parts may lie in and refer to
/// them as if the batch were one.
#[derive(Debug, Default)]
pub struct Checker {
    /// Divisions met so far (and those looked up in the store; `None`: not there).
    divisions: HashMap<DivisionCode, Option<(MultiPolygon<f64>, String)>>,
    /// Explicit ids of the features met so far, per layer.
    batch_ids: BTreeMap<Layer, HashSet<i64>>,
}

impl Checker {
    /// Checks the next part of the batch; `offset` is the position of its first op in the
    /// whole batch (rejections carry whole-batch positions).
    pub async fn check(
        &mut self,
        store: &dyn Store,
        ops: &mut [Op],
        offset: usize,
    ) -> Result<Vec<Rejection>, StoreError> {
        self.check_part(store, ops, offset, None).await
    }

    /// Like [`Checker::check`], for a part whose features were already put through
    /// [`validate()`] (on another task, while the target was not yet open): `validated[i]` is
    /// the outcome for `ops[i]`.
    pub async fn check_validated(
        &mut self,
        store: &dyn Store,
        ops: &mut [Op],
        offset: usize,
        validated: Vec<Result<(), ValidationError>>,
    ) -> Result<Vec<Rejection>, StoreError> {
        self.check_part(store, ops, offset, Some(validated)).await
    }

    async fn check_part(
        &mut self,
        store: &dyn Store,
        ops: &mut [Op],
        offset: usize,
        validated: Option<Vec<Result<(), ValidationError>>>,
    ) -> Result<Vec<Rejection>, StoreError> {
        let mut rejected = check_part(
            store,
            ops,
            validated,
            &mut self.divisions,
            &mut self.batch_ids,
        )
        .await?;
        for r in &mut rejected {
            r.index += offset;
        }
        Ok(rejected)
    }
}

async fn check_part(
    store: &dyn Store,
    ops: &mut [Op],
    mut validated: Option<Vec<Result<(), ValidationError>>>,
    divisions: &mut HashMap<DivisionCode, Option<(MultiPolygon<f64>, String)>>,
    batch_ids: &mut BTreeMap<Layer, HashSet<i64>>,
) -> Result<Vec<Rejection>, StoreError> {
    let mut rejected: BTreeMap<usize, Rejection> = BTreeMap::new();

    for (index, op) in ops.iter_mut().enumerate() {
        let (layer, feature) = match op {
            Op::Insert(l, f) | Op::Update(l, f) => (*l, f),
            Op::Delete(..) => continue,
        };
        let outcome = match validated.as_mut().and_then(|v| v.get_mut(index)) {
            Some(done) => std::mem::replace(done, Ok(())),
            None => validate(layer, feature),
        };
        if let Err(error) = outcome {
            rejected.insert(
                index,
                Rejection {
                    layer,
                    index,
                    error,
                },
            );
            continue;
        }
        if layer.division_level().is_some() && layer != Layer::VillagerGroups {
            divisions.insert(
                feature.division,
                Some((
                    as_multipolygon(feature.geometry.as_ref()),
                    feature.text("name").unwrap_or_default().to_owned(),
                )),
            );
        }
        if let Some(id) = feature.id {
            batch_ids.entry(layer).or_default().insert(id.0);
        }
    }

    let mut references: BTreeMap<Layer, Vec<(usize, &'static str, i64)>> = BTreeMap::new();
    for (index, op) in ops.iter().enumerate() {
        let (layer, feature) = match op {
            Op::Insert(l, f) | Op::Update(l, f) => (*l, f),
            Op::Delete(..) => continue,
        };
        if rejected.contains_key(&index) {
            continue;
        }
        let mut reject = |error: ValidationError| {
            rejected.insert(
                index,
                Rejection {
                    layer,
                    index,
                    error,
                },
            );
        };
        if let Some(parent) = container(layer, feature.division) {
            if let std::collections::hash_map::Entry::Vacant(slot) = divisions.entry(parent) {
                let found = store.division(parent).await?.map(|f| {
                    let name = f.text("name").unwrap_or_default().to_owned();
                    (as_multipolygon(f.geometry.as_ref()), name)
                });
                slot.insert(found);
            }
            if let Some(Some((polygon, name))) = divisions.get(&parent) {
                if let Err(e) = check_containment(layer, feature, polygon, name) {
                    reject(e);
                    continue;
                }
            } else {
                reject(ValidationError::new(
                    "division_code",
                    format!(
                        "{} {parent} does not exist; store it before what lies in it",
                        parent.level()
                    ),
                ));
                continue;
            }
        }
        for def in layer.fields() {
            if let Rule::Reference(target) = def.rule {
                if let Some(id) = feature.get(def.name).and_then(gridgov_model::Value::as_i64) {
                    if !batch_ids.get(&target).is_some_and(|s| s.contains(&id)) {
                        references
                            .entry(target)
                            .or_default()
                            .push((index, def.name, id));
                    }
                }
            }
        }
    }

    for (target, refs) in &references {
        let ids: Vec<i64> = refs.iter().map(|r| r.2).collect();
        let present = store.existing_ids(*target, &ids).await?;
        for (index, field, id) in refs.iter().filter(|r| !present.contains(&r.2)) {
            rejected.entry(*index).or_insert_with(|| Rejection {
                layer: ops[*index].layer(),
                index: *index,
                error: ValidationError::new(*field, format!("{target} has no feature {id}")),
            });
        }
    }
    Ok(rejected.into_values().collect())
}
