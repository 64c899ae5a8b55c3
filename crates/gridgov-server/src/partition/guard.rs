//! What the items API may not do to plans and grids: plans are drawn, approved and put in force
//! through `/api/v1/partition-plans` (which keep households, history and the plan in force
//! consistent), so the generic write path may only rename a plan or change its note, and may
//! not move a grid to another plan or recode it.

use gridgov_model::{Feature, Layer, ValidationError};

use crate::error::ApiError;

/// Fields of a plan the items API may change.
const EDITABLE_PLAN_FIELDS: [&str; 2] = ["name", "note"];

/// Fields of a grid only its plan sets.
const PLAN_SET_GRID_FIELDS: [&str; 2] = ["plan_id", "code"];

/// Refuses a generic write (`before` → `after`; `None` for a create or a delete) that would
/// bypass the plan workflow.
pub(crate) fn generic_write(
    layer: Layer,
    before: Option<&Feature>,
    after: Option<&Feature>,
) -> Result<(), ApiError> {
    match (layer, before, after) {
        (Layer::GridPlans, None, _) => Err(ApiError::Conflict(
            "plans are drawn through POST /api/v1/partition-plans".into(),
        )),
        (Layer::GridPlans, Some(_), None) => Err(ApiError::Conflict(
            "a plan is not deleted: it stays as history (a draft is simply never approved)".into(),
        )),
        (Layer::GridPlans, Some(b), Some(a)) => {
            let mut names: Vec<&String> = b.properties.keys().chain(a.properties.keys()).collect();
            names.sort_unstable();
            names.dedup();
            refuse_changes(
                b,
                a,
                names
                    .into_iter()
                    .filter(|n| !EDITABLE_PLAN_FIELDS.contains(&n.as_str()))
                    .map(String::as_str),
                "changes through the plan workflow (POST /api/v1/partition-plans/{id}/approve), not by editing",
            )
        }
        (Layer::Grids, Some(b), Some(a)) => refuse_changes(
            b,
            a,
            PLAN_SET_GRID_FIELDS.into_iter(),
            "comes from the grid's plan: draw a new plan to change it",
        ),
        _ => Ok(()),
    }
}

fn refuse_changes<'a>(
    before: &Feature,
    after: &Feature,
    names: impl Iterator<Item = &'a str>,
    reason: &str,
) -> Result<(), ApiError> {
    let mut errors: Vec<ValidationError> = names
        .filter(|n| before.get(n) != after.get(n))
        .map(|n| ValidationError::new(n, reason))
        .collect();
    if before.division != after.division {
        errors.push(ValidationError::new(
            "division_code",
            "a plan and its grids stay with the area they were drawn for",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Unprocessable(errors))
    }
}
