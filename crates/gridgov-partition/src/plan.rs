//! From a solution to grids on the map: each grid's polygon (the exact union of its units),
//! its code and statistics, and the units with their grid and neighbours, as GeoJSON that GDAL,
//! QGIS and other tools read.

use std::collections::BTreeMap;

use geo::{Contains, Geometry, InteriorPoint, Intersects, MultiPolygon, Point};
use gridgov_model::{DivisionCode, Feature, GridCode};
use serde_json::{json, Value as Json};

use crate::graph::Graph;
use crate::shape;
use crate::solve::Solution;
use crate::units::Units;

/// A grid of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanGrid {
    /// Its code (`<village>-Gnn`).
    pub code: GridCode,
    /// The village it belongs to.
    pub village: DivisionCode,
    /// Its polygon in WGS84 (a single polygon for a contiguous grid; several only where whole
    /// villages that touch at a point are merged).
    pub polygon: MultiPolygon<f64>,
    /// Households.
    pub households: u64,
    /// Workload (what balance is measured in).
    pub workload: f64,
    /// `(workload - mean) / mean`.
    pub deviation: f64,
    /// Polsby-Popper compactness.
    pub compactness: f64,
    /// Share of the boundary along roads, water and division lines.
    pub on_feature: f64,
    /// Area in square metres.
    pub area_m2: f64,
    /// Its units.
    pub units: Vec<usize>,
}

/// The village a grid belongs to: its one village that is not whole, else the whole village
/// with the most workload.
pub fn home_village(graph: &Graph, units: &[usize]) -> usize {
    let mut load: BTreeMap<usize, f64> = BTreeMap::new();
    for &u in units {
        let unit = &graph.units[u];
        if !graph.villages[unit.village].whole {
            return unit.village;
        }
        *load.entry(unit.village).or_default() += unit.workload;
    }
    load.into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
        .map_or(0, |(v, _)| v)
}

/// The grids of a solution. `codes[g]`, when given, keeps grid `g`'s code (re-partitioning);
/// other grids are numbered per village after the highest code in use, north to south, west to
/// east.
pub fn grids(units: &Units, solution: &Solution, codes: &[Option<GridCode>]) -> Vec<PlanGrid> {
    let graph = &units.graph;
    let mut next: BTreeMap<usize, u16> = BTreeMap::new();
    for code in codes.iter().flatten() {
        if let Some(v) = units.villages.iter().position(|v| *v == code.village()) {
            let n = next.entry(v).or_insert(0);
            *n = (*n).max(code.number());
        }
    }
    // New grids in reading order.
    let mut order: Vec<usize> = (0..solution.grids.len()).collect();
    let centre = |g: usize| {
        let (mut x, mut y, mut a) = (0.0, 0.0, 0.0);
        for &u in &solution.grids[g].units {
            let unit = &graph.units[u];
            x += unit.centroid[0] * unit.area;
            y += unit.centroid[1] * unit.area;
            a += unit.area;
        }
        if a > 0.0 {
            [x / a, y / a]
        } else {
            [0.0, 0.0]
        }
    };
    // Rows of about a kilometre, then west to east.
    order.sort_by(|&a, &b| {
        let (ca, cb) = (centre(a), centre(b));
        (-(ca[1] / 1000.0).floor())
            .total_cmp(&-(cb[1] / 1000.0).floor())
            .then(ca[0].total_cmp(&cb[0]))
            .then(a.cmp(&b))
    });
    let mut assigned: Vec<Option<GridCode>> = (0..solution.grids.len())
        .map(|g| codes.get(g).cloned().flatten())
        .collect();
    let home: Vec<usize> = solution
        .grids
        .iter()
        .map(|g| home_village(graph, &g.units))
        .collect();
    for &g in &order {
        if assigned[g].is_none() {
            let v = home[g];
            let n = next.entry(v).or_insert(0);
            *n += 1;
            assigned[g] = Some(GridCode::new(units.villages[v], *n));
        }
    }
    solution
        .grids
        .iter()
        .enumerate()
        .filter_map(|(g, stats)| {
            let code = assigned[g].clone()?;
            let parts: Vec<_> = stats
                .units
                .iter()
                .flat_map(|&u| units.shapes[u].iter().cloned())
                .collect();
            let merged = shape::union(&parts);
            Some(PlanGrid {
                village: code.village(),
                code,
                polygon: units.to_lonlat(&merged),
                households: stats.households,
                workload: stats.workload,
                deviation: stats.deviation,
                compactness: stats.compactness,
                on_feature: stats.on_feature,
                area_m2: stats.area,
                units: stats.units.clone(),
            })
        })
        .collect()
}

/// Each unit's grid in a plan in force: the grid holding the unit's interior point (`None` for
/// a unit no grid holds). Returns the grid index per unit and the codes of the grids used.
pub fn current_assignment(units: &Units, grids: &[Feature]) -> (Vec<Option<usize>>, Vec<GridCode>) {
    let mut codes: Vec<GridCode> = Vec::new();
    let mut polys: Vec<(usize, Geometry<f64>)> = Vec::new();
    for g in grids {
        let (Some(code), Some(geom)) = (
            g.text("code").and_then(|c| c.parse::<GridCode>().ok()),
            g.geometry.clone(),
        ) else {
            continue;
        };
        let i = codes.iter().position(|c| *c == code).unwrap_or_else(|| {
            codes.push(code);
            codes.len() - 1
        });
        polys.push((i, geom));
    }
    let assignment = (0..units.shapes.len())
        .map(|u| {
            let p = units.polygon(u).interior_point()?;
            polys
                .iter()
                .find(|(_, g)| g.contains(&p))
                .or_else(|| polys.iter().find(|(_, g)| g.intersects(&p)))
                .map(|(i, _)| *i)
        })
        .collect();
    (assignment, codes)
}

fn round(x: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (x * k).round() / k
}

/// The plan as a GeoJSON `FeatureCollection`: one feature per grid with `code`, `village_code`,
/// `households`, `workload`, `deviation`, `compactness`, `on_feature`, `area_m2` and `units`.
pub fn plan_geojson(grids: &[PlanGrid]) -> Json {
    let features: Vec<Json> = grids
        .iter()
        .map(|g| {
            json!({
                "type": "Feature",
                "geometry": gridgov_model::geometry::to_geojson(&single(&g.polygon)),
                "properties": {
                    "code": g.code.to_string(),
                    "village_code": g.village.as_str(),
                    "households": g.households,
                    "workload": round(g.workload, 3),
                    "deviation": round(g.deviation, 4),
                    "compactness": round(g.compactness, 4),
                    "on_feature": round(g.on_feature, 4),
                    "area_m2": round(g.area_m2, 1),
                    "units": g.units.len(),
                }
            })
        })
        .collect();
    json!({ "type": "FeatureCollection", "features": features })
}

/// A multipolygon of one part as a polygon (what the grids layer stores).
pub fn single(m: &MultiPolygon<f64>) -> Geometry<f64> {
    match m.0.as_slice() {
        [one] => Geometry::Polygon(one.clone()),
        _ => Geometry::MultiPolygon(m.clone()),
    }
}

/// The units as a GeoJSON `FeatureCollection`, for running other tools on exactly the same
/// input: `unit`, `village_code`, `households`, `workload`, the other counts, `grid` (the
/// unit's grid code in `grids`, if any), `neighbours` and `neighbour_lengths` (contiguity
/// neighbours, barrier edges left out), `barrier_neighbours`, `area_m2`, `perimeter_m` and the
/// centroid `x_m`, `y_m` in the local plane.
pub fn units_geojson(units: &Units, grids: &[PlanGrid]) -> Json {
    let graph = &units.graph;
    let mut grid_of: Vec<Option<String>> = vec![None; graph.units.len()];
    for g in grids {
        for &u in &g.units {
            grid_of[u] = Some(g.code.to_string());
        }
    }
    let mut neighbours: Vec<Vec<(usize, f64)>> = vec![Vec::new(); graph.units.len()];
    let mut barrier: Vec<Vec<usize>> = vec![Vec::new(); graph.units.len()];
    for e in &graph.edges {
        if e.barrier {
            barrier[e.a].push(e.b);
            barrier[e.b].push(e.a);
        } else {
            neighbours[e.a].push((e.b, e.length));
            neighbours[e.b].push((e.a, e.length));
        }
    }
    let features: Vec<Json> = graph
        .units
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let mut n = neighbours[i].clone();
            n.sort_by_key(|x| x.0);
            let c = units.counts[i];
            json!({
                "type": "Feature",
                "geometry": gridgov_model::geometry::to_geojson(&single(&units.polygon(i))),
                "properties": {
                    "unit": i,
                    "village_code": graph.villages[u.village].code,
                    "households": u.households,
                    "workload": round(u.workload, 6),
                    "rental_houses": c.rental_houses,
                    "supervised": c.supervised,
                    "disputes": c.disputes,
                    "grid": grid_of[i],
                    "neighbours": n.iter().map(|x| x.0).collect::<Vec<_>>(),
                    "neighbour_lengths": n.iter().map(|x| round(x.1, 3)).collect::<Vec<_>>(),
                    "barrier_neighbours": barrier[i],
                    "area_m2": round(u.area, 3),
                    "perimeter_m": round(u.perimeter, 3),
                    "x_m": round(u.centroid[0], 3),
                    "y_m": round(u.centroid[1], 3),
                }
            })
        })
        .collect();
    json!({ "type": "FeatureCollection", "features": features })
}

/// Whether a WGS84 point lies in a grid (for moving households to their new grid).
pub fn holds(grid: &PlanGrid, p: Point<f64>) -> bool {
    grid.polygon.contains(&p) || grid.polygon.intersects(&p)
}
