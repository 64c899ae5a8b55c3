//! The first solution: each part of the area shares its grids among its villages that are not
//! whole (and, when small whole villages hold enough, grids of whole villages alone); seeds are
//! spread farthest-point from a random start; regions grow from them (see `grow`); seeds then
//! move to the unit nearest their region's centre and the regions grow again (Lloyd's
//! iteration), keeping the best round.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::grow::{grow, Seed, FREE};
use super::problem::Problem;
use super::share::{part_villages, Villages};
use super::state::{State, Weights};

/// Rounds of moving the seeds to their regions' centres.
const ROUNDS: usize = 5;
/// Fresh random starts tried when growing leaves units no region can take.
const ATTEMPTS: usize = 8;

/// One group of a part: the units of one village that is not whole, or the whole villages.
#[derive(Debug)]
struct Group {
    /// The units a seed of the group may start from.
    units: Vec<usize>,
    /// Its workload.
    load: f64,
    /// Whether it is the part's whole villages.
    whole: bool,
    /// Grids it gets.
    grids: usize,
}

/// A complete assignment to `grids.iter().sum()` grids (per part of the area, its share), or
/// `None` when no start let every unit find a grid.
pub(super) fn initial<'p, 'g>(
    p: &'p Problem<'g>,
    grids: &[usize],
    w: &Weights,
    rng: &mut ChaCha8Rng,
) -> Option<State<'p, 'g>> {
    let k: usize = grids.iter().sum();
    let groups = groups(p, grids, w.mean, w.tol);
    let mut best: Option<State<'p, 'g>> = None;
    for _ in 0..ATTEMPTS {
        let mut seeds = spread(p, &groups, rng);
        for _ in 0..ROUNDS {
            let assign = grow(p, &seeds, None);
            if assign.contains(&FREE) || !every_region_used(&assign, k) {
                break;
            }
            let state = State::new(p, w.clone(), assign, k, Vec::new());
            let better = best.as_ref().is_none_or(|b| better(&state, b));
            seeds = recentre(p, &state.assign, &seeds);
            if better {
                best = Some(state);
            }
        }
        if best.is_some() {
            break;
        }
    }
    best
}

/// Whether `a` is better than `b`: less excess beyond the tolerance, then a lower objective.
pub(super) fn better(a: &State<'_, '_>, b: &State<'_, '_>) -> bool {
    if (a.excess - b.excess).abs() > 1e-12 {
        a.excess < b.excess
    } else {
        a.cost < b.cost - 1e-12
    }
}

fn every_region_used(assign: &[usize], k: usize) -> bool {
    let mut used = vec![false; k];
    for &r in assign {
        used[r] = true;
    }
    used.into_iter().all(|x| x)
}

/// Per part, its groups with their grids, in order of part then village (whole villages last).
fn groups(p: &Problem<'_>, grids: &[usize], mean: f64, tol: f64) -> Vec<Vec<Group>> {
    let mut out: Vec<Vec<Group>> = (0..p.parts).map(|_| Vec::new()).collect();
    let mut whole: Vec<Group> = (0..p.parts)
        .map(|_| Group {
            units: Vec::new(),
            load: 0.0,
            whole: true,
            grids: 0,
        })
        .collect();
    let mut index: Vec<Vec<(usize, usize)>> = vec![Vec::new(); p.parts];
    for u in 0..p.len() {
        let c = p.part[u];
        match p.group[u] {
            None => {
                whole[c].units.push(u);
                whole[c].load += p.load(u);
            }
            Some(v) => {
                let at = if let Some(&(_, at)) = index[c].iter().find(|e| e.0 == v) {
                    at
                } else {
                    out[c].push(Group {
                        units: Vec::new(),
                        load: 0.0,
                        whole: false,
                        grids: 0,
                    });
                    index[c].push((v, out[c].len() - 1));
                    out[c].len() - 1
                };
                out[c][at].units.push(u);
                out[c][at].load += p.load(u);
            }
        }
    }
    let parts = part_villages(p, mean * (1.0 - tol));
    for (c, pool) in whole.into_iter().enumerate() {
        let list = &mut out[c];
        list.sort_by_key(|g| g.units[0]);
        if !pool.units.is_empty() {
            list.push(pool);
        }
        share(list, &parts[c].1, grids[c], mean, tol);
    }
    out
}

/// Shares a part's grids among its groups (see [`Villages::share`]).
fn share(groups: &mut [Group], villages: &Villages, grids: usize, mean: f64, tol: f64) {
    let shares = villages.balanced(grids, mean, tol);
    let mut counts = shares.villages.into_iter();
    for g in groups.iter_mut() {
        g.grids = if g.whole {
            shares.whole
        } else {
            counts.next().unwrap_or(1)
        };
    }
}

/// Seeds spread farthest-point within each part, the part's first seed at random.
fn spread(p: &Problem<'_>, groups: &[Vec<Group>], rng: &mut ChaCha8Rng) -> Vec<Seed> {
    let mut seeds = Vec::new();
    let mut near = vec![f64::INFINITY; p.len()];
    let mut seeded = vec![false; p.len()];
    for part in groups {
        let start = seeds.len();
        for g in part {
            for _ in 0..g.grids {
                let pick = if seeds.len() == start {
                    Some(g.units[rng.gen_range(0..g.units.len())])
                } else {
                    g.units
                        .iter()
                        .copied()
                        .filter(|&u| !seeded[u])
                        .max_by(|&a, &b| near[a].total_cmp(&near[b]).then(b.cmp(&a)))
                };
                let Some(s) = pick else { break };
                seeded[s] = true;
                for list in part {
                    for &u in &list.units {
                        near[u] = near[u].min(p.dist2(s, u));
                    }
                }
                seeds.push(Seed {
                    unit: s,
                    whole_only: g.whole,
                });
            }
        }
    }
    seeds
}

/// Each region's seed moved to the unit of its kind nearest its centre (area-weighted).
fn recentre(p: &Problem<'_>, assign: &[usize], seeds: &[Seed]) -> Vec<Seed> {
    let k = seeds.len();
    let mut sum = vec![[0.0f64; 3]; k];
    for (u, &r) in assign.iter().enumerate() {
        let unit = &p.graph.units[u];
        let a = unit.area.max(1e-9);
        sum[r][0] += a * unit.centroid[0];
        sum[r][1] += a * unit.centroid[1];
        sum[r][2] += a;
    }
    let centre: Vec<[f64; 2]> = sum.iter().map(|s| [s[0] / s[2], s[1] / s[2]]).collect();
    let kind = |s: &Seed| (s.whole_only, p.group[s.unit]);
    let mut best: Vec<(f64, usize)> = seeds.iter().map(|s| (f64::INFINITY, s.unit)).collect();
    for (u, &r) in assign.iter().enumerate() {
        let same = if seeds[r].whole_only {
            p.group[u].is_none()
        } else {
            p.group[u] == kind(&seeds[r]).1
        };
        if !same {
            continue;
        }
        let d = super::problem::dist2(p.graph.units[u].centroid, centre[r]);
        if d < best[r].0 {
            best[r] = (d, u);
        }
    }
    seeds
        .iter()
        .zip(best)
        .map(|(s, (_, u))| Seed {
            unit: u,
            whole_only: s.whole_only,
        })
        .collect()
}
