//! Conditional randomisation: pseudo p-values of local statistics, seeded.
//!
//! This is esda's `crand` design. One table of `permutations` rows is drawn once: each row
//! holds `max_cardinality` distinct indices sampled without replacement from `0..n-1`. For
//! observation `i`, index `j` of a row stands for observation `j` if `j < i` and `j + 1`
//! otherwise (the `n - 1` observations other than `i`), and the first `cardinality(i)`
//! indices of the row become `i`'s random neighbours, paired in order with `i`'s weights.
//! The value at `i` itself stays fixed (the randomisation is conditional on it). Every
//! observation reuses the same table, so the work per observation is
//! `permutations * cardinality` multiply-adds and nothing is allocated per permutation.
//!
//! The pseudo p-value is esda's `"directed"` one: with `larger` the number of random
//! statistics `>=` the observed one, `larger` is folded to `permutations - larger` when that
//! is smaller, and `p = (larger + 1) / (permutations + 1)`. Its range is
//! `1/(permutations+1) ..= 0.5` (roughly a one-sided p-value in the observed direction).
//!
//! Islands (no neighbours) get `NaN`: esda gives them `1/(permutations+1)`, which would
//! mark every island significant.
//!
//! # Statistics monotone in the lag (Gi and Gi*)
//!
//! Gi and Gi* are `(a_i + lag) / b_i` with `a_i` and `b_i` fixed under the randomisation
//! (the self term and the scaling), so a random statistic is `>=` the observed one exactly
//! when the random lag `sum_k w_ik y_rk` is `>=` the observed lag `sum_k w_ik y_(j_k)` (`<=`
//! when `b_i < 0`). Their pseudo p-values compare the lags themselves, summed alike:
//! a random draw of the same values as the observed neighbours is a tie, and counts as
//! `>=`, whatever the rounding of the division would have said (esda's outcome for such
//! ties depends on its summation order; with counts, where many draws tie, the two can
//! differ by more than Monte-Carlo error on some cells). When all of a row's neighbour
//! weights are equal (binary weights, row-standardised binary weights: every H3 k-ring),
//! the weight is a positive factor of the lag and the plain sums of the values are
//! compared.
//!
//! Such rows are also where the time goes, and they share more than the table: for
//! observation `i`, table entry `r` stands for value `y[r + (r >= i)]`, which changes only
//! when `i` passes `r`. Sweeping `i` upwards therefore keeps, for every table row and every
//! cardinality `c`, the sum of the values its first `c` entries stand for, and updates a
//! row only when one of its entries changes (`permutations * max_cardinality` times in the
//! whole sweep). Each observation then costs one pass over `permutations` ready sums
//! instead of `permutations * cardinality` scattered reads; with the sums of each
//! cardinality kept sorted, that pass is a binary search. The sums are the same
//! left-to-right sums the direct computation makes, so the sweep changes the time, not the
//! result. On 100,000 H3 cells with 999 permutations the p-values then take less time than
//! the z-scores (see BENCHMARKS.md), so it all runs on the caller's thread.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::weights::SpatialWeights;

/// `permutations` rows of `width` distinct indices drawn from `0..n_others`.
pub(crate) struct PermutationTable {
    ids: Vec<u32>,
    width: usize,
    permutations: usize,
}

impl PermutationTable {
    pub(crate) fn new(n_others: usize, width: usize, permutations: usize, seed: u64) -> Self {
        let width = width.min(n_others);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut ids = Vec::with_capacity(permutations * width);
        for _ in 0..permutations {
            let sample = rand::seq::index::sample(&mut rng, n_others, width);
            ids.extend(sample.iter().map(|j| j as u32));
        }
        Self {
            ids,
            width,
            permutations,
        }
    }

    fn rows(&self) -> impl Iterator<Item = &[u32]> {
        // `max(1)` keeps `chunks_exact` valid when every observation is an island.
        self.ids.chunks_exact(self.width.max(1))
    }

    /// The number of rows (permutations).
    fn len(&self) -> usize {
        self.permutations
    }
}

/// esda's directed pseudo p-value from `larger`, the count of random statistics `>=` the
/// observed one, out of `permutations` (see the module documentation).
pub fn directed_p(larger: usize, permutations: usize) -> f64 {
    let folded = larger.min(permutations - larger);
    (folded as f64 + 1.0) / (permutations as f64 + 1.0)
}

/// Pseudo p-values for a local statistic of the form `stat(i, sum_k w_ik v[r_k])`, where
/// the `r_k` are `i`'s random neighbours (see the module documentation).
///
/// `w` must be the transformed weights the statistic uses; self-weights are ignored here
/// (the statistic adds the fixed self term itself).
pub(crate) fn pseudo_p_values<F>(
    w: &SpatialWeights,
    values: &[f64],
    observed: &[f64],
    permutations: usize,
    seed: u64,
    stat: F,
) -> Vec<f64>
where
    F: Fn(usize, f64) -> f64,
{
    let n = w.len();
    let table = PermutationTable::new(n.saturating_sub(1), w.max_cardinality(), permutations, seed);
    (0..n)
        .map(|i| {
            let card = w.cardinality(i);
            if card == 0 || !observed[i].is_finite() {
                return f64::NAN;
            }
            let weights = w.neighbour_weights(i);
            let i32_ = i as u32;
            let obs = observed[i];
            let mut larger = 0usize;
            for row in table.rows() {
                let mut lag = 0.0;
                for (&r, &wk) in row[..card].iter().zip(weights) {
                    let j = r + u32::from(r >= i32_);
                    lag += wk * values[j as usize];
                }
                if stat(i, lag) >= obs {
                    larger += 1;
                }
            }
            directed_p(larger, permutations)
        })
        .collect()
}

/// Which way a local statistic moves as the lag of its neighbours grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// It grows with the lag (a positive scaling).
    Increasing,
    /// It falls as the lag grows (a negative scaling).
    Decreasing,
}

impl Direction {
    /// Whether a random lag makes a statistic `>=` the observed one.
    #[inline]
    fn at_least(self, random: f64, observed: f64) -> bool {
        match self {
            Self::Increasing => random >= observed,
            Self::Decreasing => random <= observed,
        }
    }
}

/// The sweep keeps twice `max_cardinality * permutations` sums; above this, rows are
/// read directly (only very wide rows get there).
const SWEEP_MAX_SUMS: usize = 1 << 22;

/// Pseudo p-values of a local statistic that is a strictly monotone function of the lag
/// `sum_k w_ik v[j_k]` of `i`'s neighbours, the rest held fixed (Gi, Gi*; see the module
/// documentation). `direction(i)` says which way the statistic moves with the lag, or
/// `None` when it is not defined at `i` (the p-value is then `NaN`, as for islands).
///
/// `w` must be the transformed weights; self-weights are ignored here.
pub(crate) fn lag_p_values<F>(
    w: &SpatialWeights,
    values: &[f64],
    permutations: usize,
    seed: u64,
    direction: F,
) -> Vec<f64>
where
    F: Fn(usize) -> Option<Direction>,
{
    let n = w.len();
    let table = PermutationTable::new(n.saturating_sub(1), w.max_cardinality(), permutations, seed);
    let uniform: Vec<bool> = (0..n)
        .map(|i| {
            let ws = w.neighbour_weights(i);
            ws.iter().all(|x| x.to_bits() == ws[0].to_bits())
        })
        .collect();
    // Reading the rows directly costs `permutations * cardinality` scattered reads per
    // observation. The sweep pays a binary search per observation and, for each of the
    // `permutations * width` entry changes, up to `width` sums moved among the sorted ones
    // (a short `memmove` of a fraction of `permutations`, mostly less: with counts most
    // changes leave the sum as it was).
    let width = table.width;
    let direct_reads: usize = (0..n)
        .filter(|&i| uniform[i])
        .map(|i| w.cardinality(i))
        .sum();
    // Sums of finite values far from `f64::MAX` stay finite, which the sorted sums need.
    let bounded = values.iter().all(|v| v.abs() <= 1e300);
    let sweep = bounded
        && width > 0
        && width * table.len() <= SWEEP_MAX_SUMS
        && width * width * table.len() <= 16 * direct_reads;
    run_lag_p_values(w, values, &table, &uniform, sweep, &direction)
}

/// [`lag_p_values`] on a drawn table, the sweep on or off: the choice does not change the
/// result (the tests hold it to that).
fn run_lag_p_values<F>(
    w: &SpatialWeights,
    values: &[f64],
    table: &PermutationTable,
    uniform: &[bool],
    sweep: bool,
    direction: &F,
) -> Vec<f64>
where
    F: Fn(usize) -> Option<Direction>,
{
    let events = sweep.then(|| events(table));
    let job = Job {
        w,
        values,
        table,
        uniform,
        events: events.as_deref(),
        direction,
    };
    let mut out = vec![f64::NAN; w.len()];
    job.fill(0, &mut out);
    out
}

/// Every entry of the table as `(index, position)`, sorted: the moments the sweep must
/// update a row (entry `r` switches from `v[r + 1]` to `v[r]` when the sweep passes `r`).
fn events(table: &PermutationTable) -> Vec<(u32, u32)> {
    let mut events: Vec<(u32, u32)> = table
        .ids
        .iter()
        .enumerate()
        .map(|(pos, &r)| (r, pos as u32))
        .collect();
    events.sort_unstable();
    events
}

/// What [`lag_p_values`] works from.
struct Job<'a, F> {
    w: &'a SpatialWeights,
    values: &'a [f64],
    table: &'a PermutationTable,
    uniform: &'a [bool],
    events: Option<&'a [(u32, u32)]>,
    direction: &'a F,
}

impl<F> Job<'_, F>
where
    F: Fn(usize) -> Option<Direction>,
{
    /// The p-values of observations `start..start + out.len()`.
    fn fill(&self, start: usize, out: &mut [f64]) {
        let permutations = self.table.len();
        let mut sweep = self
            .events
            .map(|events| Sweep::new(self.table, events, self.values, start));
        for (offset, slot) in out.iter_mut().enumerate() {
            let i = start + offset;
            let card = self.w.cardinality(i);
            if card == 0 {
                continue;
            }
            let Some(direction) = (self.direction)(i) else {
                continue;
            };
            let neighbours = self.w.neighbours(i);
            let larger = if self.uniform[i] {
                let observed = neighbours
                    .iter()
                    .fold(0.0, |acc, &j| acc + self.values[j as usize]);
                match sweep.as_mut() {
                    Some(sweep) => {
                        sweep.advance_to(i);
                        sweep.count(card, observed, direction)
                    }
                    None => self.direct(i, None, observed, direction),
                }
            } else {
                let weights = self.w.neighbour_weights(i);
                let observed = neighbours
                    .iter()
                    .zip(weights)
                    .fold(0.0, |acc, (&j, &wk)| acc + wk * self.values[j as usize]);
                self.direct(i, Some(weights), observed, direction)
            };
            *slot = directed_p(larger, permutations);
        }
    }

    /// The count of random lags at least as extreme as `observed`, read row by row;
    /// `weights: None` sums the values (a row of equal weights).
    fn direct(
        &self,
        i: usize,
        weights: Option<&[f64]>,
        observed: f64,
        direction: Direction,
    ) -> usize {
        let card = self.w.cardinality(i);
        let i32_ = i as u32;
        let value = |r: u32| self.values[(r + u32::from(r >= i32_)) as usize];
        self.table
            .rows()
            .filter(|row| {
                let row = &row[..card];
                let lag = match weights {
                    None => row.iter().fold(0.0, |acc, &r| acc + value(r)),
                    Some(ws) => row
                        .iter()
                        .zip(ws)
                        .fold(0.0, |acc, (&r, &wk)| acc + wk * value(r)),
                };
                direction.at_least(lag, observed)
            })
            .count()
    }
}

/// The state of the sweep at one observation: what each table entry stands for, each row's
/// sums of its first entries, and those sums sorted per cardinality, so that a count is a
/// binary search.
struct Sweep<'a> {
    values: &'a [f64],
    width: usize,
    rows: usize,
    /// `current[row * width + k]`: the value entry `k` of `row` stands for.
    current: Vec<f64>,
    /// `sums[row * width + c]`: `current[row * width] + ... + current[row * width + c]`,
    /// added left to right.
    sums: Vec<f64>,
    /// `sorted[c * rows..(c + 1) * rows]`: the sums `sums[row * width + c]` of all rows,
    /// ascending.
    sorted: Vec<f64>,
    /// The table's entries by index (see [`events`]), and the first not yet applied.
    events: &'a [(u32, u32)],
    next: usize,
}

impl<'a> Sweep<'a> {
    /// The state at observation `at`. The values must be finite and far from overflowing
    /// (sums of up to `width` of them stay finite), which keeps the sorted sums in order.
    fn new(
        table: &PermutationTable,
        events: &'a [(u32, u32)],
        values: &'a [f64],
        at: usize,
    ) -> Self {
        let (width, rows) = (table.width, table.len());
        let current: Vec<f64> = table
            .ids
            .iter()
            .map(|&r| values[r as usize + usize::from(r as usize >= at)])
            .collect();
        let mut sums = vec![0.0; width * rows];
        for (entries, row_sums) in current
            .chunks_exact(width)
            .zip(sums.chunks_exact_mut(width))
        {
            let mut acc = 0.0;
            for (&v, sum) in entries.iter().zip(row_sums) {
                acc += v;
                *sum = acc;
            }
        }
        let mut sorted = vec![0.0; width * rows];
        for (c, column) in sorted.chunks_exact_mut(rows).enumerate() {
            for (row, slot) in column.iter_mut().enumerate() {
                *slot = sums[row * width + c];
            }
            column.sort_unstable_by(f64::total_cmp);
        }
        Self {
            values,
            width,
            rows,
            current,
            sums,
            sorted,
            events,
            next: events.partition_point(|&(r, _)| (r as usize) < at),
        }
    }

    /// Recomputes the sums of `row` from entry `k` on, moving each changed one to its new
    /// place among the sorted sums.
    fn resum(&mut self, row: usize, k: usize) {
        let base = row * self.width;
        let mut acc = if k == 0 { 0.0 } else { self.sums[base + k - 1] };
        for c in k..self.width {
            acc += self.current[base + c];
            let old = std::mem::replace(&mut self.sums[base + c], acc);
            if old.to_bits() != acc.to_bits() {
                let column = &mut self.sorted[c * self.rows..(c + 1) * self.rows];
                replace_sorted(column, old, acc);
            }
        }
    }

    /// Moves the state forward to observation `i` (no earlier than the last one).
    fn advance_to(&mut self, i: usize) {
        while let Some(&(r, pos)) = self.events.get(self.next) {
            let r = r as usize;
            if r >= i {
                break;
            }
            let pos = pos as usize;
            self.current[pos] = self.values[r];
            self.resum(pos / self.width, pos % self.width);
            self.next += 1;
        }
    }

    /// The count of rows whose first `card` entries sum to at least `observed` (at most,
    /// when decreasing): the same count as comparing every row's sum.
    fn count(&self, card: usize, observed: f64, direction: Direction) -> usize {
        if observed.is_nan() {
            return 0;
        }
        let sorted = &self.sorted[(card - 1) * self.rows..card * self.rows];
        match direction {
            Direction::Increasing => self.rows - sorted.partition_point(|&s| s < observed),
            Direction::Decreasing => sorted.partition_point(|&s| s <= observed),
        }
    }
}

/// Replaces one occurrence of `old` in the ascending `sorted` by `new`, keeping it sorted.
fn replace_sorted(sorted: &mut [f64], old: f64, new: f64) {
    let from = sorted.partition_point(|x| x.total_cmp(&old).is_lt());
    debug_assert_eq!(
        sorted[from].to_bits(),
        old.to_bits(),
        "the old sum is there"
    );
    if new.total_cmp(&old).is_ge() {
        let to = sorted.partition_point(|x| x.total_cmp(&new).is_le()) - 1;
        sorted.copy_within(from + 1..=to, from);
        sorted[to] = new;
    } else {
        let to = sorted.partition_point(|x| x.total_cmp(&new).is_lt());
        sorted.copy_within(to..from, to + 1);
        sorted[to] = new;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_are_distinct_samples() {
        let t = PermutationTable::new(10, 4, 50, 7);
        let mut count = 0;
        for row in t.rows() {
            count += 1;
            let mut r = row.to_vec();
            r.sort_unstable();
            r.dedup();
            assert_eq!(r.len(), 4);
            assert!(r.iter().all(|&j| j < 10));
        }
        assert_eq!(count, 50);
    }

    /// 90 observations on a ring, each joined to those up to 2 (or, every seventh, 3)
    /// places away; every fifth row has unequal weights. Counts with many ties.
    fn mixed_case() -> (SpatialWeights, Vec<f64>) {
        let n = 90_usize;
        let lists: Vec<Vec<(usize, f64)>> = (0..n)
            .map(|i| {
                let reach = if i % 7 == 0 { 3 } else { 2 };
                (1..=reach)
                    .flat_map(|d| [(i + d) % n, (i + n - d) % n])
                    .map(|j| {
                        (
                            j,
                            if i % 5 == 0 {
                                1.0 + (j % 3) as f64
                            } else {
                                0.25
                            },
                        )
                    })
                    .collect()
            })
            .collect();
        let w = SpatialWeights::from_weighted_lists(&lists).unwrap();
        let y = (0..n).map(|i| ((i * 37 + 11) % 13 / 4) as f64).collect();
        (w, y)
    }

    #[test]
    fn the_sweep_does_not_change_the_result() {
        let (w, y) = mixed_case();
        let n = w.len();
        let uniform: Vec<bool> = (0..n).map(|i| i % 5 != 0).collect();
        let table = PermutationTable::new(n - 1, w.max_cardinality(), 199, 3);
        let direction = |i: usize| match i % 11 {
            0 => None,
            1 => Some(Direction::Decreasing),
            _ => Some(Direction::Increasing),
        };
        let bits = |v: Vec<f64>| v.into_iter().map(f64::to_bits).collect::<Vec<_>>();
        let direct = bits(run_lag_p_values(
            &w, &y, &table, &uniform, false, &direction,
        ));
        let swept = bits(run_lag_p_values(&w, &y, &table, &uniform, true, &direction));
        assert_eq!(swept, direct);
        assert!(direct
            .iter()
            .step_by(11)
            .all(|&b| f64::from_bits(b).is_nan()));
        // Part way: a sweep may start at any observation.
        let events = events(&table);
        let job = Job {
            w: &w,
            values: &y,
            table: &table,
            uniform: &uniform,
            events: Some(&events),
            direction: &direction,
        };
        let mut tail = vec![f64::NAN; n - 37];
        job.fill(37, &mut tail);
        assert_eq!(bits(tail), direct[37..]);
    }

    #[test]
    fn lag_p_values_count_ties_and_follow_the_brute_force() {
        let (w, y) = mixed_case();
        let n = w.len();
        let permutations = 199;
        let p = lag_p_values(&w, &y, permutations, 5, |_| Some(Direction::Increasing));
        // The same draws, read without the sweep's machinery.
        let table = PermutationTable::new(n - 1, w.max_cardinality(), permutations, 5);
        for (i, &got) in p.iter().enumerate() {
            let others: Vec<usize> = (0..n).filter(|&j| j != i).collect();
            let ws = w.neighbour_weights(i);
            let lag = |picked: &mut dyn Iterator<Item = usize>| -> f64 {
                picked.zip(ws).map(|(j, wk)| wk * y[j]).sum()
            };
            let observed = lag(&mut w.neighbours(i).iter().map(|&j| j as usize));
            let larger = table
                .rows()
                .filter(|row| {
                    let random = lag(&mut row.iter().map(|&r| others[r as usize]));
                    // A tie up to rounding is a tie.
                    random >= observed - 1e-12
                })
                .count();
            let want = directed_p(larger, permutations);
            assert!(
                (got - want).abs() < 1e-12,
                "observation {i}: {got} against {want}"
            );
        }
        // All values equal: every draw ties, so every row counts and the p-value folds to
        // its smallest value.
        let flat = vec![2.0; n];
        let p = lag_p_values(&w, &flat, permutations, 5, |_| Some(Direction::Increasing));
        assert!(p.iter().all(|&x| (x - 1.0 / 200.0).abs() < 1e-15));
    }

    #[test]
    fn replace_sorted_keeps_order() {
        let mut v = vec![0.0, 1.0, 1.0, 2.0, 2.0, 2.0, 5.0];
        replace_sorted(&mut v, 1.0, 2.0);
        assert_eq!(v, [0.0, 1.0, 2.0, 2.0, 2.0, 2.0, 5.0]);
        replace_sorted(&mut v, 2.0, -1.0);
        assert_eq!(v, [-1.0, 0.0, 1.0, 2.0, 2.0, 2.0, 5.0]);
        replace_sorted(&mut v, 5.0, 5.0);
        replace_sorted(&mut v, 0.0, 9.0);
        assert_eq!(v, [-1.0, 1.0, 2.0, 2.0, 2.0, 5.0, 9.0]);
        replace_sorted(&mut v, 9.0, 1.5);
        assert_eq!(v, [-1.0, 1.0, 1.5, 2.0, 2.0, 2.0, 5.0]);
    }

    #[test]
    fn directed_p_folds() {
        assert!((directed_p(0, 999) - 0.001).abs() < 1e-12);
        assert!((directed_p(999, 999) - 0.001).abs() < 1e-12);
        assert!((directed_p(500, 999) - 0.5).abs() < 1e-12);
    }
}
