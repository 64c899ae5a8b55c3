//! Sharing one part's grids among its villages: a grid holds at most one village that is not
//! whole, so each such village takes whole grids, filled by its own workload and, where that
//! falls short of the tolerance band, by whole villages (small villages taken whole, which
//! may join any grid). Grids of whole villages alone are possible too.

use super::problem::Problem;

/// The villages of a part that are not whole, and its whole villages.
#[derive(Debug, Clone)]
pub(super) struct Villages {
    /// Per village that is not whole: its workload and its number of units.
    pub own: Vec<(f64, usize)>,
    /// Per village that is not whole: the workload of the whole villages that can join its
    /// grids (those reached from it through whole villages).
    pub reach: Vec<f64>,
    /// Per village that is not whole: the workloads of the whole villages it reaches.
    pub reachable: Vec<Vec<f64>>,
    /// Per village that is not whole: how many whole villages touch it (each of its grids
    /// that takes whole villages takes at least one of these).
    pub gateways: Vec<usize>,
    /// Per village that is not whole: the whole villages' workload it can expect (each cluster
    /// of whole villages shared evenly among the villages it touches).
    pub expect: Vec<f64>,
    /// Workload of the whole villages.
    pub whole: f64,
    /// Workload of each cluster of whole villages that hang together (a grid of whole
    /// villages alone lies within one).
    pub clusters: Vec<f64>,
    /// Number of whole villages.
    pub whole_units: usize,
}

/// Grids per village and grids of whole villages alone.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Shares {
    /// Per village, in the order of [`Villages::own`].
    pub villages: Vec<usize>,
    /// Grids of whole villages alone.
    pub whole: usize,
}

impl Villages {
    /// The fewest grids each village needs so that none lies above the band.
    fn least(&self, cap: f64) -> Vec<usize> {
        self.own
            .iter()
            .map(|&(w, _)| ((w / cap) * (1.0 - 1e-9)).ceil().max(1.0) as usize)
            .collect()
    }

    /// Whole-village workload needed to bring `n` grids of a village of workload `w` (or of
    /// whole villages alone, `w == None`) up to the floor of the band.
    fn short(w: Option<f64>, n: usize, floor: f64) -> f64 {
        match w {
            Some(w) => (n as f64 * floor - w).max(0.0),
            None => n as f64 * floor,
        }
    }

    /// Shares `grids` grids: every village starts with the fewest it needs, then each further
    /// grid goes where it needs the least whole-village workload to fill, among equals to the
    /// village with the most workload per grid. Also returns the whole-village workload the
    /// share needs (more than [`Villages::whole`] means the share cannot be balanced).
    pub fn share(&self, grids: usize, mean: f64, tol: f64) -> (Shares, f64) {
        let (cap, floor) = (mean * (1.0 + tol), mean * (1.0 - tol));
        let mut shares = Shares {
            villages: self.least(cap),
            whole: usize::from(self.own.is_empty() && self.whole_units > 0),
        };
        let mut need: f64 = self
            .own
            .iter()
            .zip(&shares.villages)
            .map(|(&(w, _), &n)| Self::short(Some(w), n, floor))
            .sum::<f64>()
            + Self::short(None, shares.whole, floor);
        let mut given: usize = shares.villages.iter().sum::<usize>() + shares.whole;
        while given < grids {
            let Some((i, extra)) = self.next(&shares, mean, floor, need) else {
                break;
            };
            match i {
                Some(i) => shares.villages[i] += 1,
                None => shares.whole += 1,
            }
            need += extra;
            given += 1;
        }
        (shares, need)
    }

    /// Shares `grids` grids so that the expected workload per grid (own and whole villages
    /// expected) lies as near the mean as can be, the worst village first: from the nearest
    /// count for each village, grids are given or taken one at a time where the worst
    /// deviation grows least, within what each village can fill.
    pub fn balanced(&self, grids: usize, mean: f64, tol: f64) -> Shares {
        let (cap, floor) = (mean * (1.0 + tol), mean * (1.0 - tol));
        let least = self.least(cap);
        let n = self.own.len();
        // Per candidate (villages, then whole villages alone): expected workload, bounds.
        let mut est: Vec<f64> = Vec::with_capacity(n + 1);
        let mut lo: Vec<usize> = Vec::with_capacity(n + 1);
        let mut hi: Vec<usize> = Vec::with_capacity(n + 1);
        for (i, &(w, units)) in self.own.iter().enumerate() {
            est.push(w + self.expect[i]);
            lo.push(least[i]);
            let most = (((w + self.reach[i]) / floor) * (1.0 + 1e-9)).floor() as usize;
            hi.push(most.min(units).max(least[i]));
        }
        let room: usize = self
            .clusters
            .iter()
            .map(|&w| ((w / floor) * (1.0 + 1e-9)).floor() as usize)
            .sum();
        est.push((self.whole - self.expect.iter().sum::<f64>()).max(0.0));
        lo.push(usize::from(n == 0 && self.whole_units > 0));
        hi.push(self.whole_units.min(room).max(lo[n]));
        let dev = |i: usize, c: usize| {
            if c == 0 {
                0.0
            } else {
                (est[i] / c as f64 - mean).abs()
            }
        };
        let mut count: Vec<usize> = (0..=n)
            .map(|i| ((est[i] / mean).round() as usize).clamp(lo[i], hi[i]))
            .collect();
        let mut given: usize = count.iter().sum();
        while given != grids {
            let grow = given < grids;
            let pick = (0..=n)
                .filter(|&i| {
                    if grow {
                        count[i] < hi[i]
                    } else {
                        count[i] > lo[i]
                    }
                })
                .min_by(|&a, &b| {
                    let next = |i: usize| if grow { count[i] + 1 } else { count[i] - 1 };
                    dev(a, next(a)).total_cmp(&dev(b, next(b))).then(a.cmp(&b))
                });
            // Beyond what the villages can fill: the village with the most workload per grid.
            let pick = pick.or_else(|| {
                (0..n)
                    .filter(|&i| !grow || count[i] < self.own[i].1)
                    .max_by(|&a, &b| {
                        let per = |i: usize| est[i] / count[i].max(1) as f64;
                        if grow {
                            per(a).total_cmp(&per(b))
                        } else {
                            per(b).total_cmp(&per(a))
                        }
                        .then(b.cmp(&a))
                    })
            });
            let Some(i) = pick else { break };
            if grow {
                count[i] += 1;
                given += 1;
            } else {
                count[i] -= 1;
                given -= 1;
            }
        }
        let whole = count.pop().unwrap_or(0);
        Shares {
            villages: count,
            whole,
        }
    }

    /// The worst deviation from the mean, as a share of it, of the expected workload per grid
    /// over the villages (and grids of whole villages alone) when the part has `grids` grids.
    pub fn worst(&self, grids: usize, mean: f64, tol: f64) -> f64 {
        let shares = self.balanced(grids, mean, tol);
        let n = self.own.len();
        let pool = (self.whole - self.expect.iter().sum::<f64>()).max(0.0);
        let mut worst: f64 = 0.0;
        for (i, &c) in shares
            .villages
            .iter()
            .chain(std::iter::once(&shares.whole))
            .enumerate()
        {
            let est = if i < n {
                self.own[i].0 + self.expect[i]
            } else {
                pool
            };
            if c > 0 {
                worst = worst.max((est / c as f64 - mean).abs() / mean);
            } else if est > 0.0 && i < n {
                worst = f64::INFINITY;
            }
        }
        if shares.villages.iter().sum::<usize>() + shares.whole != grids {
            worst = f64::INFINITY;
        }
        worst
    }

    /// The villages that fit no whole number of grids within the band, whichever of the whole
    /// villages they reach join them (whole villages cannot be split: the workload they add is
    /// the sum of some of them).
    pub fn misfits(&self, mean: f64, tol: f64) -> Vec<usize> {
        let (cap, floor) = (mean * (1.0 + tol), mean * (1.0 - tol));
        let least = self.least(cap);
        (0..self.own.len())
            .filter(|&i| {
                let (w, units) = self.own[i];
                let most =
                    ((((w + self.reach[i]) / floor) * (1.0 + 1e-9)).floor() as usize).min(units);
                if least[i] > most {
                    return true;
                }
                let Some(sums) = subset_sums(&self.reachable[i], most as f64 * cap) else {
                    return false;
                };
                !(least[i]..=most).any(|n| {
                    (0..=n.min(self.gateways[i])).any(|t| {
                        sums.iter()
                            .any(|&x| (t > 0 || x == 0.0) && fits(w, x, n, t, floor, cap))
                    })
                })
            })
            .collect()
    }

    /// The most grids the part can make with every grid within the band.
    pub fn most(&self, mean: f64, tol: f64) -> usize {
        let floor = mean * (1.0 - tol);
        let (mut shares, mut need) = self.share(0, mean, tol);
        let short = self
            .own
            .iter()
            .zip(&shares.villages)
            .zip(&self.reach)
            .any(|((&(w, _), &n), &r)| Self::short(Some(w), n, floor) > r * (1.0 + 1e-9) + 1e-9);
        if short || need > self.whole * (1.0 + 1e-9) {
            return 0;
        }
        let mut count: usize = shares.villages.iter().sum::<usize>() + shares.whole;
        while let Some((i, extra)) = self.next(&shares, mean, floor, need) {
            if need + extra > self.whole * (1.0 + 1e-9) + 1e-9 {
                break;
            }
            match i {
                Some(i) => shares.villages[i] += 1,
                None => shares.whole += 1,
            }
            need += extra;
            count += 1;
        }
        count
    }

    /// The next grid to give (a village's index, or `None` for a grid of whole villages alone)
    /// and the whole-village workload it needs.
    fn next(
        &self,
        shares: &Shares,
        mean: f64,
        floor: f64,
        need: f64,
    ) -> Option<(Option<usize>, f64)> {
        let mut best: Option<(Option<usize>, f64, f64)> = None;
        for (i, &(w, units)) in self.own.iter().enumerate() {
            let n = shares.villages[i];
            if n >= units
                || Self::short(Some(w), n + 1, floor) > self.reach[i] * (1.0 + 1e-9) + 1e-9
            {
                continue;
            }
            let extra = Self::short(Some(w), n + 1, floor) - Self::short(Some(w), n, floor);
            let left = w - n as f64 * mean;
            if best.is_none_or(|b| extra < b.1 - 1e-9 || (extra <= b.1 + 1e-9 && left > b.2)) {
                best = Some((Some(i), extra, left));
            }
        }
        let room: usize = self
            .clusters
            .iter()
            .map(|&w| ((w / floor) * (1.0 + 1e-9)).floor() as usize)
            .sum();
        if shares.whole < self.whole_units.min(room) {
            let extra = floor;
            let left = self.whole - need - shares.whole as f64 * mean;
            if best.is_none_or(|b| extra < b.1 - 1e-9 || (extra <= b.1 + 1e-9 && left > b.2)) {
                best = Some((None, extra, left));
            }
        }
        best.map(|b| (b.0, b.1))
    }
}

/// Per part of the area, its villages that are not whole (in order of their first unit) and
/// their workloads, with the whole villages each can reach.
/// A cluster of whole villages that touches only one village and is too light for a grid of
/// its own (below `floor`) can only join that village's grids: it counts as part of it.
pub(super) fn part_villages(p: &Problem<'_>, floor: f64) -> Vec<(Vec<usize>, Villages)> {
    let mut out: Vec<(Vec<usize>, Villages)> = (0..p.parts)
        .map(|_| {
            let villages = Villages {
                own: Vec::new(),
                reach: Vec::new(),
                reachable: Vec::new(),
                gateways: Vec::new(),
                expect: Vec::new(),
                whole: 0.0,
                clusters: Vec::new(),
                whole_units: 0,
            };
            (Vec::new(), villages)
        })
        .collect();
    let mut slot = vec![usize::MAX; p.len()];
    for u in 0..p.len() {
        let (list, part) = &mut out[p.part[u]];
        match p.group[u] {
            None => {
                part.whole += p.load(u);
                part.whole_units += 1;
            }
            Some(v) => {
                let at = if let Some(at) = list.iter().position(|&x| x == v) {
                    at
                } else {
                    list.push(v);
                    part.own.push((0.0, 0));
                    part.reach.push(0.0);
                    part.reachable.push(Vec::new());
                    part.gateways.push(0);
                    part.expect.push(0.0);
                    list.len() - 1
                };
                part.own[at].0 += p.load(u);
                part.own[at].1 += 1;
                slot[u] = at;
            }
        }
    }
    // Whole villages hanging together, and the villages each such cluster touches.
    let mut cluster = vec![usize::MAX; p.len()];
    let mut stack = Vec::new();
    let mut touched: Vec<usize> = Vec::new();
    for start in 0..p.len() {
        if p.group[start].is_some() || cluster[start] != usize::MAX {
            continue;
        }
        cluster[start] = start;
        stack.push(start);
        let mut load = 0.0;
        let mut size = 0;
        let mut loads = Vec::new();
        touched.clear();
        let mut gates: Vec<usize> = Vec::new();
        while let Some(u) = stack.pop() {
            load += p.load(u);
            loads.push(p.load(u));
            size += 1;
            let from = touched.len();
            for nb in &p.adj[u] {
                let x = nb.unit;
                if p.group[x].is_some() {
                    touched.push(slot[x]);
                } else if cluster[x] == usize::MAX {
                    cluster[x] = start;
                    stack.push(x);
                }
            }
            let mut mine = touched[from..].to_vec();
            mine.sort_unstable();
            mine.dedup();
            gates.extend(mine);
        }
        touched.sort_unstable();
        touched.dedup();
        let part = &mut out[p.part[start]].1;
        for &at in &gates {
            part.gateways[at] += 1;
        }
        if let [only] = touched[..] {
            if load < floor {
                part.whole -= load;
                part.whole_units -= size;
                part.own[only].0 += load;
                part.own[only].1 += size;
                continue;
            }
        }
        part.clusters.push(load);
        for &at in &touched {
            part.reach[at] += load;
            part.reachable[at].extend_from_slice(&loads);
            part.expect[at] += load / touched.len() as f64;
        }
    }
    out
}

/// Whether `n` grids can hold a village of workload `w` and whole villages of workload `x`
/// when `t` of the grids take the whole villages (each at most a grid's worth) and the rest
/// are filled by the village alone.
fn fits(w: f64, x: f64, n: usize, t: usize, floor: f64, cap: f64) -> bool {
    let rest = (n - t) as f64;
    let t = t as f64;
    if x > t * cap + 1e-9 {
        return false;
    }
    // The village's workload in the grids that take whole villages.
    let lo = (w - rest * cap).max(t * floor - x).max(0.0);
    let hi = (w - rest * floor).min(t * cap - x);
    lo <= hi + 1e-9
}

/// The sums of the subsets of `loads` up to `upper`, or `None` when there are too many to list.
fn subset_sums(loads: &[f64], upper: f64) -> Option<Vec<f64>> {
    const MOST: usize = 1 << 16;
    let mut sums = vec![0.0];
    for &x in loads {
        let more: Vec<f64> = sums
            .iter()
            .map(|s| s + x)
            .filter(|&s| s <= upper + 1e-9)
            .collect();
        sums.extend(more);
        sums.sort_unstable_by(f64::total_cmp);
        sums.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
        if sums.len() > MOST {
            return None;
        }
    }
    Some(sums)
}
