//! How many grids: fixed by the request, or the fewest whose mean workload lies in the target
//! range (with the tolerance band inside it where possible).

use super::problem::{number, Problem};
use super::{Infeasible, Targets};

/// Slack for comparisons of workloads computed in floating point.
const EPS: f64 = 1e-9;

/// The number of grids for `targets` over `problem`, or why there is none.
pub(super) fn grid_count(problem: &Problem<'_>, targets: &Targets) -> Result<usize, Infeasible> {
    let tol = targets.tolerance;
    if !(0.0..1.0).contains(&tol) {
        return Err(Infeasible(format!(
            "the tolerance must be a share of the mean between 0 and 1 (got {tol})"
        )));
    }
    let n = problem.len();
    let k = match targets.grids {
        Some(0) => {
            return Err(Infeasible(
                "the number of grids must be at least 1".to_owned(),
            ))
        }
        Some(k) => k,
        None => from_range(problem, targets.range, tol)?,
    };
    if k > n {
        return Err(Infeasible(format!(
            "{k} grids need at least {k} units, but the area has only {n} unit{}",
            plural(n)
        )));
    }
    Ok(k)
}

/// The fewest grids whose mean lies in `range`, preferring a mean whose tolerance band fits in
/// the range.
fn from_range(problem: &Problem<'_>, range: (f64, f64), tol: f64) -> Result<usize, Infeasible> {
    let (lo, hi) = range;
    if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && hi >= lo) {
        return Err(Infeasible(format!(
            "the range per grid must be two positive numbers, the smaller first (got {}–{})",
            number(lo),
            number(hi)
        )));
    }
    let total = problem.graph.workload();
    if total <= 0.0 {
        return Err(Infeasible(format!(
            "the area has no {} to split into grids",
            problem.unit_name()
        )));
    }
    let within = |k: usize| {
        let mean = total / k as f64;
        mean <= hi * (1.0 + EPS) && mean >= lo * (1.0 - EPS)
    };
    // The smallest k with a mean at most `hi`, and the largest with a mean at least `lo`.
    let first = ((total / hi) * (1.0 - EPS)).ceil().max(1.0) as usize;
    let last = ((total / lo) * (1.0 + EPS)).floor() as usize;
    let candidates: Vec<usize> = (first..=last.max(first)).filter(|&k| within(k)).collect();
    if let Some(&k) = candidates.iter().find(|&&k| {
        let mean = total / k as f64;
        mean * (1.0 + tol) <= hi * (1.0 + EPS) && mean * (1.0 - tol) >= lo * (1.0 - EPS)
    }) {
        return Ok(k);
    }
    if let Some(&k) = candidates.first() {
        return Ok(k);
    }
    let span = format!("{}–{}", number(lo), number(hi));
    let what = problem.amount(total);
    if first <= 1 {
        return Err(Infeasible(format!(
            "the area has only {what}, too few for a grid of {span}: 1 grid would hold {} (below {})",
            number(total),
            number(lo)
        )));
    }
    let fewer = first - 1;
    let above = if fewer == 1 {
        format!("1 grid would hold {} (above {})", number(total), number(hi))
    } else {
        format!(
            "{fewer} grids would hold about {} each (above {})",
            number(total / fewer as f64),
            number(hi)
        )
    };
    Err(Infeasible(format!(
        "{what} cannot be split into grids of {span}: {above}, {first} grids about {} each (below {})",
        number(total / first as f64),
        number(lo)
    )))
}

/// "s" for a count other than one.
pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
