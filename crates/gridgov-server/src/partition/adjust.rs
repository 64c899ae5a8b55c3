//! A planner's adjustment of a drawn draft: moving one unit from its grid to a neighbouring
//! grid, with the plan's statistics updated.
//!
//! Units are not stored with a plan. They are cut again from the area's data with the plan's
//! own parameters, the cut its computation made (it is deterministic), and each unit belongs to
//! the plan's grid that holds its interior point (a grid stored in parts, one per village, is
//! one grid here, named by the part that keeps its code). A fingerprint of the units and their
//! grids lets a client say which units it saw: when the area's data or the plan changed since,
//! a move is refused rather than applied to another unit.
//!
//! A move keeps the partitioner's hard constraints ([`gridgov_partition::Mover`]); the two
//! grids it touches are drawn again as the union of their units and their figures computed
//! afresh, while every other grid stays exactly as stored. A grid stored in parts (one per
//! village, or per piece) has its parts replaced; a new part whose code another grid's part
//! holds takes the next free number of its village, and a grid left without the village its
//! code names is numbered anew in the village it now belongs to. The grids, the plan's summary
//! (with the move appended to its `moves`) and nothing else are written in one transaction
//! guarded by the tags read, so two planners' moves, or a move and an approval, never
//! interleave. Should the units no longer tile the two
//! grids as stored (the area's data changed since the plan was drawn), the move is refused and
//! nothing is written.

use std::collections::{BTreeMap, BTreeSet};

use geo::{BooleanOps, Geometry, MultiPolygon};
use gridgov_model::{Dataset, DivisionCode, Feature, GridCode, Layer, ValidationError, Value};
use gridgov_partition::plan::{self, single};
use gridgov_partition::{Mover, Outcome, Refusal, Request, Units};
use gridgov_store::{write_guarded, Guard, Op, StoreError, WriteError};
use serde_json::{json, Map, Value as Json};

use super::compare::multi;
use super::drawn::{drawn, grid_name, village_names};
use super::{body, load, record};
use crate::{ApiError, AppState};

/// A drawn plan with its units, ready to show or adjust.
pub struct Adjustable {
    /// The plan row as read.
    pub plan: Feature,
    /// The plan's grids as stored (parts included).
    pub stored: Vec<Feature>,
    request: Request,
    data: Dataset,
    units: Units,
    /// Per unit, the index of its grid in `codes`.
    assign: Vec<usize>,
    /// The plan's grids (a grid in parts counted once, by the code its home part keeps).
    codes: Vec<GridCode>,
    /// Per stored grid code, the plan grid it is (part of).
    grid_of_part: BTreeMap<String, String>,
}

fn drifted(what: &str) -> ApiError {
    ApiError::Conflict(format!(
        "the area's data changed since the plan was drawn ({what}): its grids can no longer be \
         adjusted unit by unit; draw the plan again"
    ))
}

/// Drops the layers that weigh nothing (the partitioner does not read them), as the
/// computation did.
pub(crate) fn weighed(data: &mut Dataset, request: &Request) {
    let w = &request.workload;
    for (layer, weight) in [
        (Layer::RentalHouses, w.rental_houses),
        (Layer::SupervisedPersons, w.supervised),
        (Layer::Disputes, w.disputes),
    ] {
        if weight <= 0.0 {
            data.layers.remove(&layer);
        }
    }
}

impl Adjustable {
    /// Reads the area of `plan` (whose grids, as stored, are `stored`), cuts its units with the
    /// plan's parameters and finds each unit's grid.
    pub async fn read(s: &AppState, plan: Feature, stored: Vec<Feature>) -> Result<Self, ApiError> {
        let parameters = record::json_field(&plan, "parameters");
        if parameters.is_null() {
            return Err(ApiError::Conflict(format!(
                "plan {} was not drawn by gridgov's partitioner (it keeps no parameters): it has \
                 no units to adjust",
                record::id(&plan)
            )));
        }
        let draft = body::read_stored(&parameters).map_err(|e| {
            ApiError::Internal(format!(
                "plan {} keeps parameters that no longer read: {}",
                record::id(&plan),
                e.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
        })?;
        let request = draft.request;
        let mut data = load(&*s.store, request.scope).await?;
        weighed(&mut data, &request);
        let grid_of_part = plan_grids(&record::json_field(&plan, "summary"));
        tokio::task::spawn_blocking(move || {
            let options = gridgov_partition::request::unit_options(&data, &request);
            let units = gridgov_partition::build_units(&data, request.scope, &options)
                .map_err(|e| drifted(&e.to_string()))?;
            let relabelled: Vec<Feature> = stored
                .iter()
                .map(|g| {
                    let code = g.text("code").unwrap_or_default();
                    let whole = grid_of_part.get(code).map_or(code, String::as_str);
                    g.clone().with("code", whole)
                })
                .collect();
            let (found, codes) = plan::current_assignment(&units, &relabelled);
            let assign = found
                .iter()
                .enumerate()
                .map(|(u, g)| g.ok_or_else(|| drifted(&format!("unit {u} lies in no grid"))))
                .collect::<Result<Vec<usize>, ApiError>>()?;
            if let Some(empty) = (0..codes.len()).find(|g| !assign.contains(g)) {
                return Err(drifted(&format!("grid {} holds no unit", codes[empty])));
            }
            Ok(Self {
                plan,
                stored,
                request,
                data,
                units,
                assign,
                codes,
                grid_of_part,
            })
        })
        .await
        .map_err(|e| ApiError::Internal(format!("unit task: {e}")))?
    }

    /// Identifies the units and their grids: the same area data and plan give the same text.
    pub fn fingerprint(&self) -> String {
        // FNV-1a, 64 bits: stable across machines and versions, unlike the std hasher.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |x: u64| {
            for b in x.to_le_bytes() {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        };
        eat(self.units.graph.units.len() as u64);
        for (u, g) in self.units.graph.units.iter().zip(&self.assign) {
            eat(u64::from(u.households));
            eat(u.workload.to_bits());
            eat(u.area.round().to_bits());
            eat(u.village as u64);
            eat(*g as u64);
        }
        for c in &self.codes {
            for b in c.to_string().bytes() {
                eat(u64::from(b));
            }
        }
        format!("{h:016x}")
    }

    fn mover(&self) -> Result<Mover<'_>, ApiError> {
        Mover::new(&self.units.graph).map_err(|e| drifted(&e.to_string()))
    }

    /// Whether the plan weighs supervised persons: then a unit's workload tells how many live
    /// in it, which only a role that reads them may see.
    pub fn weighs_supervised(&self) -> bool {
        self.request.workload.supervised > 0.0
    }

    /// The units as a GeoJSON `FeatureCollection`: each unit's number, grid, village,
    /// households and (with `workload`) workload, and, unless `fixed` says why none may move,
    /// the grids it may move to now (`movable_to`) or why it may not (`fixed_reason`).
    pub fn units_json(&self, fixed: Option<&str>, workload: bool) -> Result<Json, ApiError> {
        let mover = self.mover()?;
        let graph = &self.units.graph;
        let features: Vec<Json> = graph
            .units
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let (to, why) = match fixed {
                    Some(why) => (Vec::new(), Some(why.to_owned())),
                    None => match mover.destinations(&self.assign, i) {
                        Ok(gs) => (gs.iter().map(|&g| self.codes[g].to_string()).collect(), None),
                        Err(why) => (Vec::new(), Some(why.to_string())),
                    },
                };
                json!({
                    "type": "Feature",
                    "geometry": gridgov_model::geometry::to_geojson(&single(&self.units.polygon(i))),
                    "properties": {
                        "unit": i,
                        "grid": self.codes[self.assign[i]].to_string(),
                        "village_code": graph.villages[u.village].code,
                        "households": u.households,
                        "workload": workload.then(|| (u.workload * 1000.0).round() / 1000.0),
                        "movable_to": to,
                        "fixed_reason": why,
                    }
                })
            })
            .collect();
        Ok(json!({"type": "FeatureCollection", "features": features}))
    }

    /// Moves `unit` to the grid `to`: the writes (grids and plan row, guarded by the tags
    /// read) and what the move did. `by` and `at` are recorded with the move.
    pub fn apply(&self, s: &AppState, unit: usize, to: &str, by: &str) -> Result<Move, ApiError> {
        let invalid = |field: &str, reason: String| {
            ApiError::Unprocessable(vec![ValidationError::new(field, reason)])
        };
        let units = self.units.graph.units.len();
        if unit >= units {
            return Err(invalid(
                "unit",
                Refusal::UnknownUnit { unit, units }.to_string(),
            ));
        }
        let Some(target) = self.codes.iter().position(|c| c.to_string() == to) else {
            let codes: Vec<String> = self.codes.iter().map(ToString::to_string).collect();
            return Err(invalid(
                "to",
                format!(
                    "'{to}' is no grid of plan {}; its grids: {}",
                    record::id(&self.plan),
                    codes.join(", ")
                ),
            ));
        };
        let mover = self.mover()?;
        mover.check(&self.assign, unit, target).map_err(|why| {
            let field = match why {
                Refusal::UnknownUnit { .. } | Refusal::LastUnit | Refusal::Splits => "unit",
                _ => "to",
            };
            invalid(field, format!("unit {unit} cannot move to {to}: {why}"))
        })?;
        let source = self.assign[unit];
        let mut assign = self.assign.clone();
        assign[unit] = target;
        // The highest number in use per village, over every stored grid and part of the plan.
        let mut highest: BTreeMap<DivisionCode, u16> = BTreeMap::new();
        for code in self
            .stored
            .iter()
            .filter_map(|f| f.text("code")?.parse::<GridCode>().ok())
            .chain(self.codes.iter().cloned())
        {
            let n = highest.entry(code.village()).or_insert(0);
            *n = (*n).max(code.number());
        }
        let codes = recoded(
            &self.units.graph,
            &self.units.villages,
            &assign,
            &self.codes,
            [source, target],
            &mut highest,
        );
        let solution = mover.evaluate(assign, self.request.targets.tolerance);
        let keep: Vec<Option<GridCode>> = codes.iter().cloned().map(Some).collect();
        let grids = plan::grids(&self.units, &solution, &keep);
        let outcome = Outcome {
            units: self.units.clone(),
            solution,
            grids,
            unit_seconds: 0.0,
            solve_seconds: 0.0,
        };
        let id = record::id(&self.plan);
        let new = drawn(&outcome, &self.data, id, None);
        let (from_code, to_code) = (self.codes[source].to_string(), to.to_owned());
        let touched: BTreeSet<&str> = [from_code.as_str(), to_code.as_str()].into();
        let (from_now, to_now) = (codes[source].to_string(), codes[target].to_string());
        let touched_now: BTreeSet<&str> = [from_now.as_str(), to_now.as_str()].into();
        let new_of = plan_grids(&new.summary);
        let at = crate::jobs::now(s);
        let moved = &self.units.graph.units[unit];
        let step = json!({
            "unit": unit,
            "from": from_code,
            "to": to_code,
            "households": moved.households,
            "workload": (moved.workload * 1000.0).round() / 1000.0,
        });
        let mut step = step;
        if from_now != from_code {
            step["from_renamed"] = from_now.clone().into();
        }
        if to_now != to_code {
            step["to_renamed"] = to_now.clone().into();
        }
        let guard = |f: &Feature| {
            f.id.map(|id| Guard {
                layer: Layer::Grids,
                id,
                etag: s.store.etag(f),
            })
        };
        let code_of = |f: &Feature| f.text("code").unwrap_or_default().to_owned();
        // The other grids stay as stored. The two grids' old parts go, their new parts come;
        // a new part whose code another grid's part holds (parts are numbered after the grids
        // of their village) takes the next free number of its village.
        let (old, kept): (Vec<&Feature>, Vec<&Feature>) = self.stored.iter().partition(|f| {
            let code = code_of(f);
            touched.contains(
                self.grid_of_part
                    .get(&code)
                    .map_or(code.as_str(), String::as_str),
            )
        });
        let taken: BTreeSet<String> = kept.iter().map(|f| code_of(f)).collect();
        for code in new
            .grids
            .iter()
            .filter_map(|f| f.text("code")?.parse::<GridCode>().ok())
        {
            let n = highest.entry(code.village()).or_insert(0);
            *n = (*n).max(code.number());
        }
        let names = village_names(&self.data);
        let mut renamed: BTreeMap<String, String> = BTreeMap::new();
        let mut fresh: Vec<Feature> = Vec::new();
        for f in &new.grids {
            let code = code_of(f);
            if !touched_now.contains(new_of.get(&code).map_or(code.as_str(), String::as_str)) {
                continue;
            }
            let mut f = f.clone();
            if taken.contains(&code) {
                let village = f.division;
                let n = highest.entry(village).or_insert(0);
                *n += 1;
                let other = GridCode::new(village, *n);
                f = f
                    .with("code", other.to_string())
                    .with("name", grid_name(&names, &other));
                renamed.insert(code, other.to_string());
            }
            fresh.push(f);
        }
        let mut ops = Vec::new();
        let mut guards = Vec::new();
        for f in &fresh {
            match old.iter().find(|o| code_of(o) == code_of(f)) {
                Some(o) => {
                    let mut changed = (*o).clone();
                    changed.geometry.clone_from(&f.geometry);
                    if let Some(n) = f.get("households") {
                        changed.properties.insert("households".into(), n.clone());
                    }
                    guards.extend(guard(o));
                    ops.push(Op::Update(Layer::Grids, changed));
                }
                None => ops.push(Op::Insert(Layer::Grids, f.clone())),
            }
        }
        for o in &old {
            if !fresh.iter().any(|f| code_of(f) == code_of(o)) {
                guards.extend(guard(o));
                ops.extend(o.id.map(|id| Op::Delete(Layer::Grids, id)));
            }
        }
        let shapes = |fs: &mut dyn Iterator<Item = &Feature>| -> Vec<Geometry<f64>> {
            fs.filter_map(|f| f.geometry.clone()).collect()
        };
        if !same_ground(
            &shapes(&mut old.iter().copied()),
            &shapes(&mut fresh.iter()),
        ) {
            return Err(drifted("its units no longer tile the two grids"));
        }
        let mut plan = self.plan.clone();
        let mut logged = step.clone();
        logged["by"] = by.into();
        logged["at"] = at.to_rfc3339().into();
        let summary = merged_summary(
            &record::json_field(&plan, "summary"),
            &new.summary,
            &Touched {
                before: &touched,
                after: &touched_now,
                renamed: &renamed,
            },
            logged,
        );
        plan.properties
            .insert("summary".into(), Value::from(summary.to_string()));
        guards.push(Guard {
            layer: Layer::GridPlans,
            id,
            etag: s.store.etag(&self.plan),
        });
        ops.insert(0, Op::Update(Layer::GridPlans, plan));
        Ok(Move { ops, guards, step })
    }
}

/// The grids' codes after a move between grids `touched` (`assign` as it will be): a grid keeps
/// its code while it holds some of the village the code names; one left without it is
/// numbered anew, after `highest`, in the village it now belongs to.
fn recoded(
    graph: &gridgov_partition::Graph,
    villages: &[DivisionCode],
    assign: &[usize],
    codes: &[GridCode],
    touched: [usize; 2],
    highest: &mut BTreeMap<DivisionCode, u16>,
) -> Vec<GridCode> {
    let mut codes = codes.to_vec();
    for g in touched {
        let members: Vec<usize> = (0..assign.len()).filter(|&u| assign[u] == g).collect();
        let village_of = |u: usize| villages.get(graph.units[u].village).copied();
        if members
            .iter()
            .any(|&u| village_of(u) == Some(codes[g].village()))
        {
            continue;
        }
        if let Some(&v) = villages.get(plan::home_village(graph, &members)) {
            let n = highest.entry(v).or_insert(0);
            *n += 1;
            codes[g] = GridCode::new(v, *n);
        }
    }
    codes
}

/// Per stored grid code of a plan's summary, the plan grid it is (part of): a part of a grid
/// stored in several pieces names its grid in `joint`.
fn plan_grids(summary: &Json) -> BTreeMap<String, String> {
    summary
        .get("grids")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|g| {
            let code = g.get("code")?.as_str()?;
            Some((code.to_owned(), plan_grid_of_entry(g)?.to_owned()))
        })
        .collect()
}

/// Whether two sets of polygons cover the same ground but for rounding and slivers (their
/// symmetric difference is under 0.2 % of it: a stored grid drops union slivers under 0.1 %).
fn same_ground(a: &[Geometry<f64>], b: &[Geometry<f64>]) -> bool {
    let union = |gs: &[Geometry<f64>]| {
        let parts: Vec<MultiPolygon<f64>> = gs.iter().map(|g| multi(Some(g))).collect();
        geo::unary_union(&parts)
    };
    let (a, b) = (union(a), union(b));
    let area = geo::Area::unsigned_area(&a).max(geo::Area::unsigned_area(&b));
    area == 0.0 || geo::Area::unsigned_area(&a.xor(&b)) <= area * 2e-3
}

/// The grids a move touched, by their codes before and after it, and their new parts' codes
/// that were renumbered.
struct Touched<'a> {
    before: &'a BTreeSet<&'a str>,
    after: &'a BTreeSet<&'a str>,
    renamed: &'a BTreeMap<String, String>,
}

/// The plan grid a summary entry is (part of).
fn plan_grid_of_entry(entry: &Json) -> Option<&str> {
    entry
        .get("joint")
        .and_then(Json::as_str)
        .or_else(|| entry.get("code").and_then(Json::as_str))
}

/// The summary after a move: the other grids' statistics as they were, the two touched grids'
/// from the new drawing (their parts renumbered as written), the totals that depend on them
/// from the new drawing; what the computation reported (its effort, time, households moved by
/// a rebalancing) kept; the move appended to `moves`.
fn merged_summary(old: &Json, new: &Json, touched: &Touched<'_>, step: Json) -> Json {
    let mut totals: Map<String, Json> = old
        .get("totals")
        .and_then(Json::as_object)
        .cloned()
        .unwrap_or_default();
    let fresh = new.get("totals").and_then(Json::as_object);
    for key in [
        "grids",
        "drawn_grids",
        "households",
        "workload",
        "mean_workload",
        "balanced",
        "within_tolerance",
        "mean_compactness",
        "units",
    ] {
        if let Some(v) = fresh.and_then(|t| t.get(key)) {
            totals.insert(key.to_owned(), v.clone());
        }
    }
    let entries = |summary: &Json| -> Vec<Json> {
        summary
            .get("grids")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let among =
        |set: &BTreeSet<&str>, e: &Json| plan_grid_of_entry(e).is_some_and(|g| set.contains(g));
    let mut grids: Vec<Json> = entries(old)
        .into_iter()
        .filter(|e| !among(touched.before, e))
        .collect();
    for mut e in entries(new).into_iter().filter(|e| among(touched.after, e)) {
        let renamed = e
            .get("code")
            .and_then(Json::as_str)
            .and_then(|c| touched.renamed.get(c));
        if let Some(c) = renamed {
            e["code"] = c.clone().into();
        }
        grids.push(e);
    }
    totals.insert("grids".into(), grids.len().into());
    let mut joint: BTreeMap<String, Vec<Json>> = BTreeMap::new();
    for e in &grids {
        if let (Some(j), Some(c)) = (e.get("joint").and_then(Json::as_str), e.get("code")) {
            joint.entry(j.to_owned()).or_default().push(c.clone());
        }
    }
    let joint: Vec<Json> = joint
        .into_iter()
        .map(|(grid, parts)| json!({"grid": grid, "parts": parts}))
        .collect();
    let mut moves = old
        .get("moves")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    moves.push(step);
    totals.insert("manual_moves".into(), moves.len().into());
    json!({
        "totals": totals,
        "grids": grids,
        "joint": joint,
        "moves": moves,
    })
}

/// A move ready to write.
pub struct Move {
    /// The plan's update first, then the grids'.
    pub ops: Vec<Op>,
    /// The tags of the plan and grids read.
    pub guards: Vec<Guard>,
    /// `{unit, from, to, households, workload}`.
    pub step: Json,
}

impl Move {
    /// Writes the move in one transaction; a plan or grid changed meanwhile is a conflict.
    pub async fn write(self, s: &AppState) -> Result<Json, ApiError> {
        let ids = write_guarded(&*s.store, self.guards, self.ops.clone())
            .await
            .map_err(|e| match e {
                WriteError::Store(StoreError::Stale { .. } | StoreError::NotFound { .. }) => {
                    ApiError::Conflict(
                        "the plan or its grids changed meanwhile; read the units again and retry"
                            .into(),
                    )
                }
                other => other.into(),
            })?;
        let touched = |layer: Layer| {
            self.ops
                .iter()
                .zip(&ids)
                .filter(|(op, _)| op.layer() == layer)
                .map(|(_, id)| *id)
                .collect::<Vec<_>>()
        };
        crate::items::follow(s, Layer::GridPlans, touched(Layer::GridPlans)).await;
        crate::items::follow(s, Layer::Grids, touched(Layer::Grids)).await;
        Ok(self.step)
    }
}

/// Why a plan's units cannot be moved now (`None`: they can): only a draft whose grids are
/// drawn is adjusted; to change another, draw a new plan.
pub fn refusal(plan: &Feature, now: chrono::DateTime<chrono::Utc>) -> Option<String> {
    record::not_a_drawn_draft(plan, now, "adjusted")
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridgov_partition::{Graph, Unit, Village};

    #[test]
    fn a_grid_left_without_its_code_village_is_numbered_in_its_new_village() {
        let unit = |village| Unit {
            households: 10,
            settled: 10,
            workload: 10.0,
            area: 1.0,
            perimeter: 4.0,
            centroid: [0.0, 0.0],
            village,
        };
        // Village A (split) and village W (taken whole, one unit).
        let graph = Graph {
            units: vec![unit(0), unit(1), unit(0)],
            villages: vec![
                Village {
                    code: "520526101201".into(),
                    whole: false,
                },
                Village {
                    code: "520526101202".into(),
                    whole: true,
                },
            ],
            ..Graph::default()
        };
        let villages: Vec<DivisionCode> = ["520526101201", "520526101202"]
            .iter()
            .map(|c| c.parse().unwrap())
            .collect();
        let codes: Vec<GridCode> = ["520526101201-G01", "520526101201-G02"]
            .iter()
            .map(|c| c.parse().unwrap())
            .collect();
        let mut highest = BTreeMap::from([(villages[0], 2), (villages[1], 4)]);
        // Unit 0 (A) leaves grid 0 {0, 1} for grid 1: grid 0 holds only W now.
        let after = recoded(&graph, &villages, &[1, 0, 1], &codes, [0, 1], &mut highest);
        assert_eq!(after[0].to_string(), "520526101202-G05");
        assert_eq!(after[1], codes[1]);
        // A grid that keeps part of A keeps its code.
        let same = recoded(&graph, &villages, &[0, 0, 1], &codes, [0, 1], &mut highest);
        assert_eq!(same, codes);
    }
}
