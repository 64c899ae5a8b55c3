//! A plan against the grids in force in its area: per grid code the households each holds
//! (points in polygons), which grids the plan adds, removes and changes, the households whose
//! grid code changes (in flows from one code to another) and the totals.

use std::collections::{BTreeMap, BTreeSet};

use geo::{
    Area, BooleanOps, BoundingRect, Contains, Geometry, Intersects, MultiPolygon, Point, Rect,
};
use gridgov_model::Feature;
use serde::Serialize;

/// How a grid code fares in the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Only the plan has it.
    Added,
    /// Only the grids in force have it.
    Removed,
    /// Both have it, with other households or another shape.
    Changed,
    /// Both have it, with the same households and shape.
    Unchanged,
}

/// One grid code in both.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridRow {
    /// The grid code.
    pub code: String,
    /// What the plan does to it.
    pub change: Change,
    /// Households in the grid in force (`None`: no such grid in force).
    pub current_households: Option<u64>,
    /// Households in the plan's grid (`None`: the plan has no such grid).
    pub plan_households: Option<u64>,
    /// Households that come into the grid from another code (or from none).
    pub households_in: u64,
    /// Households that leave it for another code (or for none).
    pub households_out: u64,
}

/// Households moving from one grid code to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flow {
    /// The code in force (`None`: in no grid in force).
    pub from: Option<String>,
    /// The plan's code (`None`: in no grid of the plan).
    pub to: Option<String>,
    /// How many.
    pub households: u64,
}

/// The totals of a comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Totals {
    /// Households in the area.
    pub households: u64,
    /// Households whose grid code changes.
    pub moved: u64,
    /// Grids in force in the area.
    pub current_grids: usize,
    /// Grids of the plan.
    pub plan_grids: usize,
    /// Codes only the plan has.
    pub added: usize,
    /// Codes only the grids in force have.
    pub removed: usize,
    /// Codes both have, changed.
    pub changed: usize,
    /// Codes both have, unchanged.
    pub unchanged: usize,
    /// Households in no grid in force.
    pub without_current_grid: u64,
    /// Households in no grid of the plan.
    pub without_plan_grid: u64,
}

/// A plan against the grids in force.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Per grid code, in code order.
    pub grids: Vec<GridRow>,
    /// Households by (code in force, plan code), where the two differ; most first.
    pub flows: Vec<Flow>,
    /// The totals.
    pub totals: Totals,
}

/// Grids with their box, for finding the grid that holds a point.
pub(crate) struct Holder<'a> {
    grids: Vec<(Rect<f64>, &'a Geometry<f64>, i64, &'a str)>,
}

impl<'a> Holder<'a> {
    pub(crate) fn new(grids: &'a [Feature]) -> Self {
        let grids = grids
            .iter()
            .filter_map(|g| {
                let geom = g.geometry.as_ref()?;
                Some((
                    geom.bounding_rect()?,
                    geom,
                    g.id.map_or(i64::MAX, |i| i.0),
                    g.text("code")?,
                ))
            })
            .collect();
        Self { grids }
    }

    /// The code of the grid holding `p`: the one it lies inside, else (on a shared edge) the
    /// one of smallest id it touches, as the lookup index decides.
    pub(crate) fn code(&self, p: Point<f64>) -> Option<&'a str> {
        let near = || self.grids.iter().filter(move |(r, ..)| r.intersects(&p));
        near()
            .find(|(_, g, ..)| g.contains(&p))
            .or_else(|| {
                near()
                    .filter(|(_, g, ..)| g.intersects(&p))
                    .min_by_key(|(_, _, id, _)| *id)
            })
            .map(|(.., code)| *code)
    }
}

/// A polygon or multi-polygon as a multi-polygon (empty for anything else).
pub(crate) fn multi(g: Option<&Geometry<f64>>) -> MultiPolygon<f64> {
    match g {
        Some(Geometry::Polygon(p)) => MultiPolygon(vec![p.clone()]),
        Some(Geometry::MultiPolygon(m)) => m.clone(),
        _ => MultiPolygon(Vec::new()),
    }
}

/// Whether two shapes are the same but for rounding: their symmetric difference is less than
/// a millionth of their area.
fn same_shape(a: Option<&Geometry<f64>>, b: Option<&Geometry<f64>>) -> bool {
    let (a, b) = (multi(a), multi(b));
    let area = a.unsigned_area().max(b.unsigned_area());
    area == 0.0 || a.xor(&b).unsigned_area() <= area * 1e-6
}

/// Compares the plan's grids with the grids in force over the households of the area.
pub fn compare(current: &[Feature], plan: &[Feature], households: &[Feature]) -> Comparison {
    let (before, after) = (Holder::new(current), Holder::new(plan));
    let mut flows: BTreeMap<(Option<&str>, Option<&str>), u64> = BTreeMap::new();
    let mut members: BTreeMap<&str, (BTreeSet<usize>, BTreeSet<usize>)> = BTreeMap::new();
    let mut totals = Totals {
        current_grids: current.len(),
        plan_grids: plan.len(),
        ..Totals::default()
    };
    for (i, h) in households.iter().enumerate() {
        let Some(Geometry::Point(p)) = h.geometry else {
            continue;
        };
        totals.households += 1;
        let (from, to) = (before.code(p), after.code(p));
        if let Some(c) = from {
            members.entry(c).or_default().0.insert(i);
        } else {
            totals.without_current_grid += 1;
        }
        if let Some(c) = to {
            members.entry(c).or_default().1.insert(i);
        } else {
            totals.without_plan_grid += 1;
        }
        if from != to {
            totals.moved += 1;
            *flows.entry((from, to)).or_default() += 1;
        }
    }
    let shape = |grids: &'_ [Feature], code: &str| -> Option<Geometry<f64>> {
        grids
            .iter()
            .find(|g| g.text("code") == Some(code))
            .and_then(|g| g.geometry.clone())
    };
    let codes: BTreeSet<&str> = current
        .iter()
        .chain(plan)
        .filter_map(|g| g.text("code"))
        .collect();
    let has = |grids: &[Feature], code: &str| grids.iter().any(|g| g.text("code") == Some(code));
    let mut rows = Vec::with_capacity(codes.len());
    for code in codes {
        let (now, then) = (has(current, code), has(plan, code));
        let empty = (BTreeSet::new(), BTreeSet::new());
        let (a, b) = members.get(code).unwrap_or(&empty);
        let change = match (now, then) {
            (false, _) => Change::Added,
            (_, false) => Change::Removed,
            _ if a == b
                && same_shape(shape(current, code).as_ref(), shape(plan, code).as_ref()) =>
            {
                Change::Unchanged
            }
            _ => Change::Changed,
        };
        match change {
            Change::Added => totals.added += 1,
            Change::Removed => totals.removed += 1,
            Change::Changed => totals.changed += 1,
            Change::Unchanged => totals.unchanged += 1,
        }
        rows.push(GridRow {
            code: code.to_owned(),
            change,
            current_households: now.then_some(a.len() as u64),
            plan_households: then.then_some(b.len() as u64),
            households_in: b.difference(a).count() as u64,
            households_out: a.difference(b).count() as u64,
        });
    }
    let mut flows: Vec<Flow> = flows
        .into_iter()
        .map(|((from, to), n)| Flow {
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
            households: n,
        })
        .collect();
    flows.sort_by(|x, y| {
        y.households
            .cmp(&x.households)
            .then_with(|| (&x.from, &x.to).cmp(&(&y.from, &y.to)))
    });
    Comparison {
        grids: rows,
        flows,
        totals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{point, polygon};

    fn grid(code: &str, x0: f64, x1: f64) -> Feature {
        Feature::new(
            "520526101201".parse().unwrap(),
            Some(polygon![(x: x0, y: 0.0), (x: x1, y: 0.0), (x: x1, y: 1.0), (x: x0, y: 1.0), (x: x0, y: 0.0)].into()),
        )
        .with("code", code)
    }

    #[test]
    fn households_whose_grid_code_changes_are_counted_once() {
        let current = [
            grid("520526101201-G01", 0.0, 1.0),
            grid("520526101201-G02", 1.0, 2.0),
        ];
        // The plan moves the boundary to x = 1.5 and adds a third grid east.
        let plan = [
            grid("520526101201-G01", 0.0, 1.5),
            grid("520526101201-G02", 1.5, 2.0),
            grid("520526101201-G03", 2.0, 3.0),
        ];
        let households: Vec<Feature> = [0.5, 1.2, 1.3, 1.8, 2.5]
            .iter()
            .map(|&x| {
                Feature::new(
                    "520526101201".parse().unwrap(),
                    Some(point!(x: x, y: 0.5).into()),
                )
            })
            .collect();
        let c = compare(&current, &plan, &households);
        assert_eq!(c.totals.households, 5);
        assert_eq!(c.totals.moved, 3, "two G02 → G01, one none → G03");
        assert_eq!(
            (c.totals.added, c.totals.changed, c.totals.unchanged),
            (1, 2, 0)
        );
        assert_eq!(c.flows[0].households, 2);
        assert_eq!(c.flows[0].to.as_deref(), Some("520526101201-G01"));
        let g1 = &c.grids[0];
        assert_eq!(
            (g1.current_households, g1.plan_households),
            (Some(1), Some(3))
        );
        assert_eq!((g1.households_in, g1.households_out), (2, 0));
        let same = compare(&current, &current, &households);
        assert_eq!((same.totals.moved, same.totals.unchanged), (0, 2));
    }
}
