//! From the partitioner's outcome to what a plan stores: one `grids` feature per grid (owned by
//! its village, coded `<village>-Gnn`, named `<village name>第N网格`, with its households) and the
//! plan's summary (totals and per-grid statistics, as JSON).
//!
//! A grid is stored in the village that owns it, and must lie in it. In township mode the
//! partitioner may merge small villages whole into one grid; such a grid is stored as one grid
//! per village it covers: the part in its home village keeps its code, the others take the next
//! free number of their village, and the summary lists them as parts of one (`joint`). A part
//! in one village may itself lie in pieces, joined only through another village's units (a
//! small village taken whole between two blocks of a larger one): each piece is then a part
//! of its own, since a grid is one polygon.

use std::collections::BTreeMap;

use geo::{Area, Geometry, MultiPolygon};
use gridgov_model::{Dataset, DivisionCode, Feature, FeatureId, GridCode, Layer};
use gridgov_partition::plan::{self, PlanGrid};
use gridgov_partition::Outcome;
use serde_json::{json, Value as Json};

/// The grids and summary of a drawn plan.
#[derive(Debug, Clone)]
pub struct Drawn {
    /// The grid features to insert (without ids).
    pub grids: Vec<Feature>,
    /// `{totals, grids: [per-grid statistics], joint: [grids stored in parts]}`.
    pub summary: Json,
}

fn round(x: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (x * k).round() / k
}

/// One polygon when the shape is one: parts smaller than a thousandth of the whole (slivers
/// of a union) are dropped. Several parts stay a multi-polygon, which the grids layer refuses,
/// naming the grid.
fn one_polygon(m: &MultiPolygon<f64>) -> Geometry<f64> {
    let total = m.unsigned_area();
    let kept: Vec<_> =
        m.0.iter()
            .filter(|p| p.unsigned_area() >= total * 1e-3)
            .cloned()
            .collect();
    plan::single(&MultiPolygon(kept))
}

/// The village names of the data, by code.
pub(crate) fn village_names(data: &Dataset) -> BTreeMap<DivisionCode, String> {
    data.layers
        .get(&Layer::Villages)
        .into_iter()
        .flatten()
        .filter_map(|v| {
            Some((
                v.text("code")?.parse().ok()?,
                v.text("name").unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

/// A grid's name: its village's name (its code when the data has none) and its number
/// (`石门村第3网格`).
pub(crate) fn grid_name(names: &BTreeMap<DivisionCode, String>, code: &GridCode) -> String {
    let village = code.village();
    let name = names
        .get(&village)
        .cloned()
        .unwrap_or_else(|| village.to_string());
    format!("{name}第{}网格", code.number())
}

/// A grid of the plan as stored: a whole grid of the outcome or its part in one village.
struct Part<'a> {
    grid: &'a PlanGrid,
    code: GridCode,
    geometry: Geometry<f64>,
    households: u64,
    workload: f64,
    area_m2: f64,
    units: usize,
}

/// The connected pieces of `list` (units joined by a shared boundary), the heaviest first.
fn pieces(graph: &gridgov_partition::Graph, list: &[usize]) -> Vec<Vec<usize>> {
    let at: BTreeMap<usize, usize> = list.iter().enumerate().map(|(i, &u)| (u, i)).collect();
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); list.len()];
    for e in &graph.edges {
        if let (Some(&a), Some(&b)) = (at.get(&e.a), at.get(&e.b)) {
            next[a].push(b);
            next[b].push(a);
        }
    }
    let mut seen = vec![false; list.len()];
    let mut out = Vec::new();
    for start in 0..list.len() {
        if seen[start] {
            continue;
        }
        seen[start] = true;
        let mut piece = vec![start];
        let mut i = 0;
        while i < piece.len() {
            for &n in &next[piece[i]] {
                if !seen[n] {
                    seen[n] = true;
                    piece.push(n);
                }
            }
            i += 1;
        }
        let mut units: Vec<usize> = piece.into_iter().map(|i| list[i]).collect();
        units.sort_unstable();
        out.push(units);
    }
    let load = |p: &Vec<usize>| p.iter().map(|&u| graph.units[u].workload).sum::<f64>();
    out.sort_by(|a, b| load(b).total_cmp(&load(a)).then(a.cmp(b)));
    out
}

/// Splits the outcome's grids by village, and a grid's part in a village that lies in several
/// pieces (joined only through another village's units) into its pieces: the grids layer
/// holds one polygon per grid (see the module documentation).
fn parts(outcome: &Outcome) -> (Vec<Part<'_>>, Vec<Json>) {
    let units = &outcome.units;
    let graph = &units.graph;
    let mut next: BTreeMap<DivisionCode, u16> = BTreeMap::new();
    for g in &outcome.grids {
        let n = next.entry(g.village).or_insert(0);
        *n = (*n).max(g.code.number());
    }
    let mut out = Vec::new();
    let mut joint = Vec::new();
    for g in &outcome.grids {
        let mut by_village: BTreeMap<DivisionCode, Vec<usize>> = BTreeMap::new();
        for &u in &g.units {
            let v = units
                .villages
                .get(graph.units[u].village)
                .copied()
                .unwrap_or(g.village);
            by_village.entry(v).or_default().push(u);
        }
        // The home village first: its heaviest piece keeps the grid's code.
        let mut split: Vec<(DivisionCode, Vec<usize>)> = Vec::new();
        let mut villages: Vec<DivisionCode> = by_village.keys().copied().collect();
        villages.sort_by_key(|v| (*v != g.village, *v));
        for v in villages {
            split.extend(pieces(graph, &by_village[&v]).into_iter().map(|p| (v, p)));
        }
        if split.len() <= 1 {
            out.push(Part {
                grid: g,
                code: g.code.clone(),
                geometry: one_polygon(&g.polygon),
                households: g.households,
                workload: g.workload,
                area_m2: g.area_m2,
                units: g.units.len(),
            });
            continue;
        }
        let mut codes = Vec::new();
        for (i, (v, list)) in split.iter().enumerate() {
            let code = if i == 0 && *v == g.village {
                g.code.clone()
            } else {
                let n = next.entry(*v).or_insert(0);
                *n += 1;
                GridCode::new(*v, *n)
            };
            let shapes: Vec<MultiPolygon<f64>> = list.iter().map(|&u| units.polygon(u)).collect();
            let merged = geo::unary_union(&shapes);
            codes.push(code.to_string());
            out.push(Part {
                grid: g,
                code,
                geometry: one_polygon(&merged),
                households: list
                    .iter()
                    .map(|&u| u64::from(graph.units[u].households))
                    .sum(),
                workload: list.iter().map(|&u| graph.units[u].workload).sum(),
                area_m2: list.iter().map(|&u| graph.units[u].area).sum(),
                units: list.len(),
            });
        }
        joint.push(json!({"grid": g.code.to_string(), "parts": codes}));
    }
    (out, joint)
}

/// The grids of plan `plan` and its summary, from an outcome on `data`; `current` are the grids
/// of the plan in force a rebalancing started from (to name the grids it retired).
pub fn drawn(
    outcome: &Outcome,
    data: &Dataset,
    plan: FeatureId,
    current: Option<&[Feature]>,
) -> Drawn {
    let names = village_names(data);
    let (parts, joint) = parts(outcome);
    let s = &outcome.solution;
    let mut grids = Vec::with_capacity(parts.len());
    let mut stats = Vec::with_capacity(parts.len());
    for p in &parts {
        let village = p.code.village();
        grids.push(
            Feature::new(village, Some(p.geometry.clone()))
                .with("code", p.code.to_string())
                .with("name", grid_name(&names, &p.code))
                .with("plan_id", plan.0)
                .with("households", p.households as i64),
        );
        let mut entry = json!({
            "code": p.code.to_string(),
            "village_code": village.as_str(),
            "households": p.households,
            "workload": round(p.workload, 3),
            "deviation": round(p.grid.deviation, 4),
            "compactness": round(p.grid.compactness, 4),
            "on_feature": round(p.grid.on_feature, 4),
            "area_m2": round(p.area_m2, 1),
            "units": p.units,
        });
        if p.code != p.grid.code {
            entry["joint"] = p.grid.code.to_string().into();
        } else if joint.iter().any(|j| j["grid"] == p.code.to_string()) {
            entry["joint"] = p.code.to_string().into();
        }
        stats.push(entry);
    }
    let retired: Vec<String> = match current {
        Some(current) if !s.retired.is_empty() => {
            let (_, codes) = plan::current_assignment(&outcome.units, current);
            s.retired
                .iter()
                .filter_map(|&i| codes.get(i).map(ToString::to_string))
                .collect()
        }
        _ => Vec::new(),
    };
    let within = s.within_tolerance();
    let compactness = s.mean_compactness();
    let totals = json!({
        "grids": grids.len(),
        "drawn_grids": outcome.grids.len(),
        "households": outcome.grids.iter().map(|g| g.households).sum::<u64>(),
        "workload": round(outcome.grids.iter().map(|g| g.workload).sum::<f64>(), 3),
        "mean_workload": round(s.mean, 3),
        "tolerance": s.tolerance,
        "balanced": s.balanced,
        "within_tolerance": within,
        "mean_compactness": round(compactness, 4),
        "rebalanced": current.is_some(),
        "moved_households": current.map(|_| s.moved_households),
        "retired": retired,
        "units": outcome.units.graph.units.len(),
        "outside_households": outcome.units.outside,
        "iterations": s.iterations,
        "time_limited": s.time_limited,
        "unit_seconds": round(outcome.unit_seconds, 3),
        "solve_seconds": round(outcome.solve_seconds, 3),
    });
    Drawn {
        grids,
        summary: json!({"totals": totals, "grids": stats, "joint": joint}),
    }
}
