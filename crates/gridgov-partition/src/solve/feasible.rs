//! What can be proved impossible before searching, and how many grids each part of the area
//! gets: parts cut off from each other (by barriers, or by the line between two villages that
//! are not whole) never share a grid, so each takes whole grids.

use super::count::plural;
use super::problem::{number, Problem};
use super::share::{part_villages, Villages};
use super::Infeasible;

/// Slack for comparisons of workloads computed in floating point.
const EPS: f64 = 1e-9;

/// Per part of the area, the number of grids it gets (`k` in all), or why balance within the
/// tolerance is impossible.
pub(super) fn allocate(
    problem: &Problem<'_>,
    k: usize,
    tol: f64,
) -> Result<Vec<usize>, Infeasible> {
    let total = problem.graph.workload();
    if total <= 0.0 {
        return Err(Infeasible(format!(
            "the area has no {} to balance grids by",
            problem.unit_name()
        )));
    }
    let mean = total / k as f64;
    let cap = mean * (1.0 + tol);
    let floor = mean * (1.0 - tol);
    heaviest_unit(problem, mean, tol)?;

    let parts = problem.parts;
    let mut load = vec![0.0; parts];
    let mut size = vec![0usize; parts];
    let mut first = vec![usize::MAX; parts];
    for u in 0..problem.len() {
        let c = problem.part[u];
        load[c] += problem.load(u);
        size[c] += 1;
        first[c] = first[c].min(u);
    }
    if parts > k {
        return Err(Infeasible(format!(
            "the area falls into {parts} parts cut off from each other by {}, and every part \
             needs a grid of its own, but only {k} grid{} {} asked for",
            problem.separators(),
            plural(k),
            if k == 1 { "is" } else { "are" }
        )));
    }
    let villages = part_villages(problem, floor);
    // Per part, a barrier between two of its units (then one grid cannot hold the part).
    let mut crossing: Vec<Option<(usize, usize)>> = vec![None; parts];
    for e in problem.graph.edges.iter().filter(|e| e.barrier) {
        let c = problem.part[e.a];
        if problem.part[e.b] == c && crossing[c].is_none() {
            crossing[c] = Some((e.a, e.b));
        }
    }
    // Per part, the fewest and most grids that can each lie within the tolerance.
    let mut lo = vec![0usize; parts];
    let mut hi = vec![0usize; parts];
    for c in 0..parts {
        lo[c] = ((load[c] / cap) * (1.0 - EPS)).ceil().max(1.0) as usize;
        hi[c] = (((load[c] / floor) * (1.0 + EPS)).floor() as usize).min(size[c]);
        let describe = || describe_part(problem, parts, size[c], first[c], load[c]);
        if lo[c] > hi[c] {
            return Err(Infeasible(format!(
                "{} cannot form grids within {} of the mean of {}: {}",
                describe(),
                percent(tol),
                number(mean),
                needs(problem, load[c], mean, tol)
            )));
        }
        if let Some((a, b)) = crossing[c] {
            if hi[c] < 2 {
                return Err(Infeasible(format!(
                    "{} is crossed by a barrier (between units {a} and {b}) that no grid may span, \
                     so it needs at least 2 grids, but its {} make only 1 grid within {} of the \
                     mean of {}",
                    describe(),
                    problem.amount(load[c]),
                    percent(tol),
                    number(mean)
                )));
            }
            lo[c] = lo[c].max(2);
        }
        let (list, shares) = &villages[c];
        let scope = || {
            if parts == 1 {
                "the area".to_owned()
            } else {
                describe()
            }
        };
        if !shares.misfits(mean, tol).is_empty() {
            return Err(village_misfit(problem, list, shares, mean, tol, scope));
        }
        let (least, _) = shares.share(0, mean, tol);
        lo[c] = lo[c].max(least.villages.iter().sum::<usize>() + least.whole);
        hi[c] = hi[c].min(shares.most(mean, tol));
        if lo[c] > hi[c] {
            return Err(village_misfit(problem, list, shares, mean, tol, scope));
        }
    }
    let least: usize = lo.iter().sum();
    let most: usize = hi.iter().sum();
    if parts == 1 && least > k {
        let why = match crossing[0] {
            Some((a, b)) if lo[0] == 2 => {
                format!("a barrier (between units {a} and {b}) crosses the area and no grid may span it")
            }
            _ => "its villages that are not whole need grids of their own".to_owned(),
        };
        return Err(Infeasible(format!(
            "the area needs at least {least} grids ({why}), but only {k} {} asked for",
            if k == 1 { "is" } else { "are" }
        )));
    }
    if least > k || most < k {
        let (bound, word) = if least > k {
            (least, "at least")
        } else {
            (most, "at most")
        };
        return Err(Infeasible(format!(
            "the area falls into {parts} parts cut off from each other by {}; for every grid to \
             lie within {} of the mean of {} they need {word} {bound} grids in all, not {k} ({})",
            problem.separators(),
            percent(tol),
            number(mean),
            (0..parts)
                .map(|c| format!(
                    "{} units with {}: {}",
                    size[c],
                    problem.amount(load[c]),
                    if lo[c] == hi[c] {
                        format!("{} grid{}", lo[c], plural(lo[c]))
                    } else {
                        format!("{}–{} grids", lo[c], hi[c])
                    }
                ))
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    // Start from the nearest count within bounds, then move one grid at a time where the
    // worst deviation grows least, then move grids between parts while that lowers the worse
    // of the two. A part's deviation is its worst village's (expected workload per grid).
    let dev = |c: usize, n: usize| villages[c].1.worst(n, mean, tol);
    let mut grids: Vec<usize> = (0..parts)
        .map(|c| ((load[c] / mean).round() as usize).clamp(lo[c], hi[c]))
        .collect();
    let mut sum: usize = grids.iter().sum();
    while sum != k {
        let grow = sum < k;
        let best = (0..parts)
            .filter(|&c| {
                if grow {
                    grids[c] < hi[c]
                } else {
                    grids[c] > lo[c]
                }
            })
            .min_by(|&a, &b| {
                let next = |c: usize| if grow { grids[c] + 1 } else { grids[c] - 1 };
                dev(a, next(a)).total_cmp(&dev(b, next(b))).then(a.cmp(&b))
            });
        let Some(c) = best else { break };
        if grow {
            grids[c] += 1;
            sum += 1;
        } else {
            grids[c] -= 1;
            sum -= 1;
        }
    }
    for _ in 0..k {
        let now: Vec<f64> = (0..parts).map(|c| dev(c, grids[c])).collect();
        let plus: Vec<f64> = (0..parts)
            .map(|c| {
                if grids[c] < hi[c] {
                    dev(c, grids[c] + 1)
                } else {
                    f64::INFINITY
                }
            })
            .collect();
        let minus: Vec<f64> = (0..parts)
            .map(|c| {
                if grids[c] > lo[c] {
                    dev(c, grids[c] - 1)
                } else {
                    f64::INFINITY
                }
            })
            .collect();
        let mut best: Option<(f64, usize, usize)> = None;
        for a in 0..parts {
            for b in 0..parts {
                let after = plus[a].max(minus[b]);
                if a != b && after < now[a].max(now[b]) - 1e-12 && best.is_none_or(|x| after < x.0)
                {
                    best = Some((after, a, b));
                }
            }
        }
        let Some((_, a, b)) = best else { break };
        grids[a] += 1;
        grids[b] -= 1;
    }
    Ok(grids)
}

/// Why the villages of a part cannot be given balanced grids: the villages that fit no whole
/// number of grids, or failing that all of them.
fn village_misfit(
    problem: &Problem<'_>,
    list: &[usize],
    shares: &Villages,
    mean: f64,
    tol: f64,
    scope: impl Fn() -> String,
) -> Infeasible {
    let band = format!(
        "{}–{}",
        number(mean * (1.0 - tol)),
        number(mean * (1.0 + tol))
    );
    let misfits = shares.misfits(mean, tol);
    if misfits.is_empty() {
        let names: Vec<String> = list
            .iter()
            .zip(&shares.own)
            .map(|(&v, &(w, _))| {
                format!("{} ({})", problem.graph.villages[v].code, problem.amount(w))
            })
            .collect();
        return Infeasible(format!(
            "a grid holds at most one village that is not taken whole, and in {} the villages {} \
             cannot all be given grids of {band} (within {} of the mean of {}){}",
            scope(),
            names.join(", "),
            percent(tol),
            number(mean),
            if shares.whole_units > 0 {
                format!(
                    ", even with the {} of the whole villages beside them",
                    problem.amount(shares.whole)
                )
            } else {
                String::new()
            }
        ));
    }
    let lines: Vec<String> = misfits
        .iter()
        .map(|&i| {
            let (w, _) = shares.own[i];
            let n = ((w / mean).floor() as usize).max(1);
            let beside = &shares.reachable[i];
            let reach = match beside.len() {
                0 => String::new(),
                1..=6 => format!(
                    ", whichever of the whole villages it reaches join it (they hold {})",
                    beside
                        .iter()
                        .map(|&x| number(x))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                _ => format!(
                    ", whichever of the {} whole villages it reaches join it ({} in all)",
                    beside.len(),
                    problem.amount(shares.reach[i])
                ),
            };
            let each = |n: usize| {
                if n == 1 {
                    number(w)
                } else {
                    format!("{} each", number(w / n as f64))
                }
            };
            let split = if w / mean < 1.0 {
                format!("on its own 1 grid would hold {}", number(w))
            } else {
                format!(
                    "on its own {n} grid{} would hold {}, {} grids {}",
                    plural(n),
                    each(n),
                    n + 1,
                    each(n + 1)
                )
            };
            format!(
                "village {} ({}) fits no whole number of such grids{reach}: {split}",
                problem.graph.villages[list[i]].code,
                problem.amount(w)
            )
        })
        .collect();
    Infeasible(format!(
        "grids must hold {band} {} (within {} of the mean of {}) and at most one village that is \
         not taken whole, but {}",
        problem.unit_name(),
        percent(tol),
        number(mean),
        lines.join("; ")
    ))
}

/// Fails when one unit alone outweighs the most a grid may hold, naming the heaviest.
fn heaviest_unit(problem: &Problem<'_>, mean: f64, tol: f64) -> Result<(), Infeasible> {
    let cap = mean * (1.0 + tol);
    let heaviest = (0..problem.len())
        .max_by(|&a, &b| problem.load(a).total_cmp(&problem.load(b)).then(b.cmp(&a)));
    if let Some(u) = heaviest {
        let w = problem.load(u);
        if w > cap * (1.0 + EPS) {
            let hh = problem.households(u);
            let load = if problem.households_only {
                String::new()
            } else {
                format!(" and a workload of {}", number(w))
            };
            return Err(Infeasible(format!(
                "unit {u} alone holds {hh} household{}{load}, more than any grid may hold: grids \
                 average {} and may lie at most {} above it ({} at most); split the unit or allow \
                 larger grids",
                if hh == 1 { "" } else { "s" },
                number(mean),
                percent(tol),
                number(cap)
            )));
        }
    }
    Ok(())
}

/// "a part of the area cut off ... (12 units from unit 37, 85 households)".
fn describe_part(
    problem: &Problem<'_>,
    parts: usize,
    size: usize,
    first: usize,
    load: f64,
) -> String {
    let scope = if parts == 1 {
        "the area".to_owned()
    } else {
        format!(
            "a part of the area cut off from the rest by {}",
            problem.separators()
        )
    };
    format!(
        "{scope} ({size} unit{}, from unit {first}, with {})",
        plural(size),
        problem.amount(load)
    )
}

/// What a part of workload `load` would need: "as 1 grid it would hold 85 (79% below the
/// mean); 1 grid needs 360–440".
fn needs(problem: &Problem<'_>, load: f64, mean: f64, tol: f64) -> String {
    let n = ((load / mean).floor() as usize).max(1);
    let band = |n: usize| {
        format!(
            "{} grid{} need{} {}–{}",
            n,
            plural(n),
            if n == 1 { "s" } else { "" },
            number(n as f64 * mean * (1.0 - tol)),
            number(n as f64 * mean * (1.0 + tol))
        )
    };
    let as_n = |n: usize| {
        let each = load / n as f64;
        let d = (each - mean) / mean;
        format!(
            "as {n} grid{} it would hold {}{} ({} {} the mean)",
            plural(n),
            number(each),
            if n == 1 { "" } else { " each" },
            percent(d.abs()),
            if d < 0.0 { "below" } else { "above" }
        )
    };
    if load / mean < 1.0 {
        format!("{}, and {} {}", as_n(1), band(1), problem.unit_name())
    } else {
        format!(
            "{}, as {}; {} {} and {}",
            as_n(n),
            as_n(n + 1).trim_start_matches("as "),
            band(n),
            problem.unit_name(),
            band(n + 1)
        )
    }
}

/// A share as a percentage: "10%".
pub(super) fn percent(x: f64) -> String {
    let p = x * 100.0;
    if (p - p.round()).abs() < 0.05 {
        format!("{:.0}%", p.round())
    } else {
        format!("{p:.1}%")
    }
}
