//! What the web pages need beyond the layers: the glossary (`/api/v1/glossary`), so that the
//! pages use the model's words, and per-grid counts (`/api/v1/grids/summary`) for the
//! command-center screen, which shows how many households, rental houses, supervised persons
//! and open disputes each grid holds, never who.

use std::collections::BTreeMap;

use axum::extract::{Query as QueryParams, State};
use axum::Json;
use geo::{Coord, Geometry, InteriorPoint};
use gridgov_model::vocab::DisputeStatus;
use gridgov_model::{Feature, Layer, Role};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::access::Access;
use crate::auth::Principal;
use crate::openapi::Problem;
use crate::{parse_division, ApiError, AppState};

/// `GET /api/v1/glossary`: every controlled vocabulary with its tokens, Chinese terms and
/// English labels, and every layer's Chinese title (`crates/gridgov-model/src/vocab.rs`).
#[utoipa::path(get, path = "/api/v1/glossary", tag = "status",
    responses(
        (status = 200, description = "`{vocabularies: {name: [{token, zh, en}]}, layers: [{name, zh, en}]}`", body = Object)))]
pub async fn glossary(_who: Principal) -> Json<Value> {
    let mut vocabularies = serde_json::Map::new();
    for (name, entries) in gridgov_model::vocab::glossary() {
        let list: Vec<Value> = entries
            .iter()
            .map(|(token, zh)| json!({"token": token, "zh": zh, "en": english(token)}))
            .collect();
        vocabularies.insert(name.replace(' ', "_"), Value::Array(list));
    }
    let layers: Vec<Value> = Layer::ALL
        .iter()
        .map(|l| json!({"name": l.name(), "zh": l.zh(), "en": english(l.name())}))
        .collect();
    Json(json!({"vocabularies": vocabularies, "layers": layers}))
}

/// An English label from a token: `land_contracting` → `Land contracting`.
fn english(token: &str) -> String {
    let text = token.replace('_', " ");
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().chain(chars).collect::<String>()
    })
}

/// Query parameters of `GET /api/v1/grids/summary`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryParams {
    /// The division whose grids to count (default: the whole scope).
    pub division: Option<String>,
}

/// Where a feature counts: its point, or a point inside its polygon.
fn place(f: &Feature) -> Option<Coord<f64>> {
    match f.geometry.as_ref()? {
        Geometry::Point(p) => Some(p.0),
        g => g.interior_point().map(|p| p.0),
    }
}

/// Whether a role may see how many supervised persons a grid holds (a count, never who):
/// the county, the judicial office and the command-center screen; not the township, village
/// and grid staff, who see nothing of supervision.
fn sees_supervision_counts(role: Role) -> bool {
    matches!(
        role,
        Role::CountyAdmin | Role::JudicialOfficer | Role::CommandScreen
    )
}

/// `GET /api/v1/grids/summary?division=`: every grid in force in the division (and the
/// scope), with how many households, rental houses, supervised persons and open disputes lie
/// in it (by where they are on the map). `supervised_persons` is `null` for roles that see
/// nothing of supervision.
#[utoipa::path(get, path = "/api/v1/grids/summary", tag = "features",
    params(SummaryParams),
    responses(
        (status = 200, description = "`{division, grids: [{code, name, village_code, households, rental_houses, supervised_persons, open_disputes}], totals: {…}}`", body = Object),
        (status = 400, description = "A malformed division code", content_type = "application/problem+json", body = Problem),
        (status = 403, description = "The division lies outside the scope", content_type = "application/problem+json", body = Problem)))]
pub async fn grid_summary(
    State(s): State<AppState>,
    who: Principal,
    QueryParams(p): QueryParams<SummaryParams>,
) -> Result<Json<Value>, ApiError> {
    let access = Access::of(&who, &s)?;
    access.read(Layer::Grids)?;
    let requested = parse_division(p.division.as_deref())?;
    let division = access.division_to_list(requested)?;
    let supervision = sees_supervision_counts(who.role());
    let index = s.index.read();
    // The grids in force in the division that the scope admits, by id.
    let mut grids: BTreeMap<i64, (&Feature, [u64; 4])> = BTreeMap::new();
    if let Some(l) = index.layer(Layer::Grids) {
        for g in l.features() {
            if division.contains(&g.division) && index.is_effective_grid(g) && access.admits(g) {
                if let Some(id) = g.id {
                    grids.insert(id.0, (g, [0; 4]));
                }
            }
        }
    }
    let counted = [
        Layer::Households,
        Layer::RentalHouses,
        Layer::SupervisedPersons,
        Layer::Disputes,
    ];
    for (k, layer) in counted.iter().enumerate() {
        if *layer == Layer::SupervisedPersons && !supervision {
            continue;
        }
        let Some(l) = index.layer(*layer) else {
            continue;
        };
        for f in l.features().filter(|f| division.contains(&f.division)) {
            if *layer == Layer::Disputes
                && f.text("status")
                    .and_then(|t| t.parse::<DisputeStatus>().ok())
                    .is_some_and(DisputeStatus::is_finished)
            {
                continue;
            }
            let grid = place(f)
                .and_then(|c| index.grid_at(c))
                .and_then(|g| g.id)
                .and_then(|id| grids.get_mut(&id.0));
            if let Some((_, counts)) = grid {
                counts[k] += 1;
            }
        }
    }
    let mut totals = [0u64; 4];
    let list: Vec<Value> = grids
        .values()
        .map(|(g, c)| {
            for (t, n) in totals.iter_mut().zip(c) {
                *t += n;
            }
            json!({
                "code": g.text("code"),
                "name": g.text("name"),
                "village_code": g.division.to_string(),
                "households": c[0],
                "rental_houses": c[1],
                "supervised_persons": supervision.then_some(c[2]),
                "open_disputes": c[3],
            })
        })
        .collect();
    Ok(Json(json!({
        "division": division.to_string(),
        "grids": list,
        "totals": {
            "grids": list.len(),
            "households": totals[0],
            "rental_houses": totals[1],
            "supervised_persons": supervision.then_some(totals[2]),
            "open_disputes": totals[3],
        },
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_labels_read_as_words() {
        assert_eq!(english("land_contracting"), "Land contracting");
        assert_eq!(english("open"), "Open");
        assert_eq!(english(""), "");
    }

    #[test]
    fn only_county_judicial_and_screen_roles_see_supervision_counts() {
        assert!(sees_supervision_counts(Role::CommandScreen));
        assert!(sees_supervision_counts(Role::JudicialOfficer));
        assert!(!sees_supervision_counts(Role::GridWorker));
        assert!(!sees_supervision_counts(Role::VillageOfficer));
    }
}
