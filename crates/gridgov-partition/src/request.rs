//! One partition request from start to end (units, solver, grids), and the parsing of its
//! parameters as the command line and the API take them (`300-500`, `trunk,primary,river`,
//! `households=1,rental_houses=0.5`).

use std::time::{Duration, Instant};

use gridgov_model::vocab::{RoadClass, WaterKind};
use gridgov_model::{Dataset, GridCode, Layer};

use crate::plan::{self, PlanGrid};
use crate::solve::{self, Infeasible, Options, Solution, Targets};
use crate::units::{self, Barriers, Scope, UnitOptions, Units, UnitsError, Workload};

/// Everything a partition needs besides the data.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The village or township.
    pub scope: Scope,
    /// Number of grids or workload range, and tolerance.
    pub targets: Targets,
    /// Seed and time limit.
    pub options: Options,
    /// Workload weights.
    pub workload: Workload,
    /// Barriers.
    pub barriers: Barriers,
}

/// What a partition gives.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The units it was drawn on.
    pub units: Units,
    /// The solver's answer.
    pub solution: Solution,
    /// The grids with codes and polygons.
    pub grids: Vec<PlanGrid>,
    /// Seconds spent cutting units.
    pub unit_seconds: f64,
    /// Seconds spent in the solver.
    pub solve_seconds: f64,
}

/// Why a partition failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PartitionError {
    /// The units could not be made.
    #[error(transparent)]
    Units(#[from] UnitsError),
    /// No acceptable partition exists.
    #[error(transparent)]
    Infeasible(#[from] Infeasible),
}

/// The workload of a scope's points under some weights (to size units before cutting them).
fn total_workload(data: &Dataset, scope: Scope, w: &Workload) -> f64 {
    let prefix = scope.code().prefix().to_owned();
    let count = |l: Layer| {
        data.layers.get(&l).map_or(0, |fs| {
            fs.iter()
                .filter(|f| f.division.as_str().starts_with(&prefix))
                .count()
        }) as f64
    };
    count(Layer::Households) * w.households
        + count(Layer::RentalHouses) * w.rental_houses
        + count(Layer::SupervisedPersons) * w.supervised
        + count(Layer::Disputes) * w.disputes
}

/// How units are cut for a request: blocks are split until a unit holds at most the
/// tolerance's half-window of a grid (so balance within the tolerance can be reached), and in
/// township mode villages below a grid's minimum are taken whole.
pub fn unit_options(data: &Dataset, request: &Request) -> UnitOptions {
    let t = &request.targets;
    let total = total_workload(data, request.scope, &request.workload);
    let (mean_low, whole_below) = match t.grids {
        Some(k) if k > 0 => {
            let mean = total / k as f64;
            (mean, mean * (1.0 - t.tolerance))
        }
        _ => (t.range.0, t.range.0),
    };
    UnitOptions {
        workload: request.workload.clone(),
        split_above: (mean_low * t.tolerance).max(1.0),
        barriers: request.barriers.clone(),
        whole_below,
    }
}

/// Runs a partition from scratch on the data of a scope.
pub fn run(
    data: &Dataset,
    request: &Request,
    progress: &mut dyn FnMut(f64),
) -> Result<Outcome, PartitionError> {
    let started = Instant::now();
    let units = units::build(data, request.scope, &unit_options(data, request))?;
    let unit_seconds = started.elapsed().as_secs_f64();
    progress(0.1);
    let started = Instant::now();
    let solution = solve::partition(&units.graph, &request.targets, &request.options, &mut |p| {
        progress(0.1 + 0.85 * p);
    })?;
    let solve_seconds = started.elapsed().as_secs_f64();
    let grids = plan::grids(&units, &solution, &[]);
    progress(1.0);
    Ok(Outcome {
        units,
        solution,
        grids,
        unit_seconds,
        solve_seconds,
    })
}

/// Re-partitions a scope whose grids are `current` (the features of the plan in force), moving
/// as few households as possible and keeping grid codes.
pub fn rerun(
    data: &Dataset,
    request: &Request,
    current: &[gridgov_model::Feature],
    progress: &mut dyn FnMut(f64),
) -> Result<Outcome, PartitionError> {
    let started = Instant::now();
    let units = units::build(data, request.scope, &unit_options(data, request))?;
    let unit_seconds = started.elapsed().as_secs_f64();
    let (assignment, codes) = plan::current_assignment(&units, current);
    // A unit no current grid holds joins its nearest neighbour's grid.
    let assignment = fill_gaps(&units, &assignment).ok_or_else(|| {
        Infeasible(format!(
            "the current plan covers none of {}: partition it from scratch",
            request.scope.code()
        ))
    })?;
    progress(0.1);
    let started = Instant::now();
    let solution = solve::repartition(
        &units.graph,
        &assignment,
        &request.targets,
        &request.options,
        &mut |p| progress(0.1 + 0.85 * p),
    )?;
    let solve_seconds = started.elapsed().as_secs_f64();
    let kept: Vec<Option<GridCode>> = solution
        .grids
        .iter()
        .map(|g| g.previous.and_then(|p| codes.get(p).cloned()))
        .collect();
    let grids = plan::grids(&units, &solution, &kept);
    progress(1.0);
    Ok(Outcome {
        units,
        solution,
        grids,
        unit_seconds,
        solve_seconds,
    })
}

/// Gives every unit without a grid the grid of a neighbour (breadth first); `None` when no
/// unit has a grid.
fn fill_gaps(units: &Units, assignment: &[Option<usize>]) -> Option<Vec<usize>> {
    let mut a = assignment.to_vec();
    if a.iter().all(Option::is_none) {
        return None;
    }
    let neighbours = units.graph.neighbours();
    loop {
        let mut changed = false;
        for u in 0..a.len() {
            if a[u].is_none() {
                if let Some(g) = neighbours[u].iter().find_map(|&(v, _)| a[v]) {
                    a[u] = Some(g);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    // Islands no neighbour reaches take the first grid; the solver's contiguity repair moves
    // them if it must.
    Some(a.into_iter().map(|g| g.unwrap_or(0)).collect())
}

/// A workload range `LO-HI` (e.g. `300-500`).
pub fn parse_range(s: &str) -> Result<(f64, f64), String> {
    let (lo, hi) = s
        .split_once('-')
        .ok_or_else(|| format!("{s:?} is not a range like 300-500"))?;
    let lo: f64 = lo
        .trim()
        .parse()
        .map_err(|_| format!("{lo:?} is not a number"))?;
    let hi: f64 = hi
        .trim()
        .parse()
        .map_err(|_| format!("{hi:?} is not a number"))?;
    if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && hi >= lo) {
        return Err(format!("{s:?}: the range must be positive, low end first"));
    }
    Ok((lo, hi))
}

/// Barriers named by road class and water kind tokens, comma-separated
/// (`trunk,primary,river,canal`).
pub fn parse_barriers(s: &str) -> Result<Barriers, String> {
    let mut b = Barriers::default();
    for token in s.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if let Ok(c) = token.parse::<RoadClass>() {
            b.road_classes.push(c);
        } else if let Ok(w) = token.parse::<WaterKind>() {
            b.water.push(w);
        } else {
            return Err(format!(
                "{token:?} is neither a road class ({}) nor a water kind ({})",
                RoadClass::TOKENS.join(", "),
                WaterKind::TOKENS.join(", ")
            ));
        }
    }
    Ok(b)
}

/// Workload weights `name=weight,…` over `households`, `rental_houses`, `supervised` and
/// `disputes` (unnamed ones keep their defaults: 1 for households, 0 for the rest).
pub fn parse_weights(s: &str) -> Result<Workload, String> {
    let mut w = Workload::default();
    for part in s.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let (name, value) = part
            .split_once('=')
            .ok_or_else(|| format!("{part:?} is not name=weight"))?;
        let v: f64 = value
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| format!("{value:?} is not a weight (a number, 0 or more)"))?;
        match name.trim() {
            "households" => w.households = v,
            "rental_houses" => w.rental_houses = v,
            "supervised" => w.supervised = v,
            "disputes" => w.disputes = v,
            other => {
                return Err(format!(
                    "{other:?} is not a workload (households, rental_houses, supervised, disputes)"
                ))
            }
        }
    }
    if w.households + w.rental_houses + w.supervised + w.disputes <= 0.0 {
        return Err("at least one weight must be above 0".to_owned());
    }
    Ok(w)
}

/// A time limit in seconds (0.1 to 3600).
pub fn parse_seconds(s: f64) -> Result<Duration, String> {
    if (0.1..=3600.0).contains(&s) {
        Ok(Duration::from_secs_f64(s))
    } else {
        Err(format!(
            "{s} s is not a time limit between 0.1 and 3600 seconds"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_parse_or_say_why_not() {
        assert_eq!(parse_range("300-500"), Ok((300.0, 500.0)));
        assert!(parse_range("500-300").is_err());
        assert!(parse_range("300").unwrap_err().contains("300-500"));
        let b = parse_barriers("trunk, river").unwrap_or_default();
        assert_eq!(b.road_classes, vec![RoadClass::Trunk]);
        assert_eq!(b.water, vec![WaterKind::River]);
        assert!(parse_barriers("motorway")
            .unwrap_err()
            .contains("road class"));
        let w = parse_weights("rental_houses=0.5").unwrap_or_default();
        assert!((w.households - 1.0).abs() < 1e-12 && (w.rental_houses - 0.5).abs() < 1e-12);
        assert!(parse_weights("pets=1").is_err());
        assert!(parse_weights("households=0").is_err());
        assert!(parse_seconds(0.0).is_err());
    }
}
