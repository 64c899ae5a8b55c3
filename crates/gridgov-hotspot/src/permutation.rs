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

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::weights::SpatialWeights;

/// `permutations` rows of `width` distinct indices drawn from `0..n_others`.
pub(crate) struct PermutationTable {
    ids: Vec<u32>,
    width: usize,
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
        Self { ids, width }
    }

    fn rows(&self) -> impl Iterator<Item = &[u32]> {
        // `max(1)` keeps `chunks_exact` valid when every observation is an island.
        self.ids.chunks_exact(self.width.max(1))
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

    #[test]
    fn directed_p_folds() {
        assert!((directed_p(0, 999) - 0.001).abs() < 1e-12);
        assert!((directed_p(999, 999) - 0.001).abs() < 1e-12);
        assert!((directed_p(500, 999) - 0.5).abs() < 1e-12);
    }
}
