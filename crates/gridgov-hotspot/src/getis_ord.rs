//! Getis-Ord statistics: local Gi and Gi*, and the global General G.
//!
//! Both follow `PySAL` esda 2.9 (`esda.getisord.G_Local` and `esda.getisord.G`) formula for
//! formula, so results agree with esda to rounding.
//!
//! # Local Gi / Gi* ([`local_g`])
//!
//! With `W` the weights after the transform (binary, or row-standardised *after* adding
//! the self-weight for Gi*, so each Gi* row weighs `1/(k_i+1)`), `r = 0` for Gi* and `r = 1`
//! for Gi (remove the focal value), and `N = n - r`:
//!
//! - `G_i = (W y)_i / (sum(y) - r y_i)`
//! - `mean_i = (sum(y) - r y_i) / N`, `s2_i = (sum(y^2) - r y_i^2) / N - mean_i^2`
//! - `W_i = ` row sum of `W` (the cardinality for binary weights, `1` for row-standardised)
//! - `E[G_i] = W_i / N`
//! - `V[G_i] = W_i (N - W_i) / (N - 1) / N^2 * s2_i / mean_i^2`
//! - `z_i = (G_i - E[G_i]) / sqrt(V[G_i])`, `p_norm = sf(|z_i|)` (one-sided, as esda).
//!
//! For binary weights this is Getis & Ord's (1992) variance. For row-standardised weights
//! the textbook variance would use `sum_j w_ij^2`; esda (and so this crate) uses the row sum
//! `W_i = 1` in its place, which is why row-standardised z-scores are smaller.
//!
//! Permutation pseudo p-values use conditional randomisation ([`crate::permutation`]) with
//! the random statistic `sum_k w_ik y_rk / (sum(y) - y_i)` for Gi and
//! `(w_ii y_i + sum_k w_ik y_rk) / sum(y)` for Gi*. Both move with the random lag
//! `sum_k w_ik y_rk` alone, so the random lags are compared with the observed lag of the
//! neighbours (ties, frequent with counts, count as at least as extreme; see
//! [`crate::permutation`] for how this differs from esda and how the H3 k-ring case is
//! computed without reading the table per cell).
//!
//! # General G ([`general_g`])
//!
//! Binary weights: `G = sum_i y_i (W y)_i / (sum(y)^2 - sum(y^2))`, `E[G] = S0 / (n (n-1))`,
//! the variance from the `b0..b4` moments of Getis & Ord (1992) as esda computes them, and
//! `p_norm = sf(|z|)` (one-sided).

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{check_values, StatsError};
use crate::normal;
use crate::permutation::{directed_p, lag_p_values, Direction};
use crate::weights::{SpatialWeights, Transform};

/// Options of [`local_g`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalGOptions {
    /// Binary or row-standardised weights (esda's `transform`, default row).
    pub transform: Transform,
    /// Gi* (include the focal observation with weight 1 before the transform) or Gi.
    pub star: bool,
    /// Number of conditional permutations; 0 skips the pseudo p-values.
    pub permutations: usize,
    /// Seed of the permutations.
    pub seed: u64,
}

impl Default for LocalGOptions {
    /// Row-standardised Gi*, 999 permutations, seed 12345.
    fn default() -> Self {
        Self {
            transform: Transform::Row,
            star: true,
            permutations: 999,
            seed: 12_345,
        }
    }
}

/// Local Getis-Ord results, one entry per observation.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalG {
    /// The statistics `G_i` (esda `Gs`).
    pub g: Vec<f64>,
    /// Their expectations under normality (esda `EGs`).
    pub expected: Vec<f64>,
    /// Their variances under normality (esda `VGs`).
    pub variance: Vec<f64>,
    /// z-scores (esda `Zs`): positive for clusters of high values.
    pub z: Vec<f64>,
    /// One-sided normal p-values `sf(|z|)` (esda `p_norm`).
    pub p_norm: Vec<f64>,
    /// Pseudo p-values from conditional permutations (esda `p_sim`), if asked for.
    pub p_sim: Option<Vec<f64>>,
}

impl LocalG {
    /// Two-sided normal p-values `2 sf(|z|)`, as ArcGIS reports them (for [`crate::classify`]).
    pub fn p_two_sided(&self) -> Vec<f64> {
        self.p_norm.iter().map(|p| 2.0 * p).collect()
    }
}

/// The weights `local_g` works with: no diagonal for Gi; for Gi* the given self-weights,
/// or esda's default (the row's largest weight); then the transform.
pub fn local_g_weights(w: &SpatialWeights, transform: Transform, star: bool) -> SpatialWeights {
    // One copy, changed in place (the weights of a large study area are megabytes).
    let mut out = w.clone();
    if !star {
        out.set_self_weights(0.0);
    } else if !w.has_self_weights() {
        out.star();
    }
    out.transform(transform);
    out
}

/// Local Getis-Ord Gi or Gi* of `y` (see the module documentation for the formulas).
///
/// Islands get `NaN` z-scores and p-values. Values must be finite; the statistic is meant
/// for non-negative values such as counts.
pub fn local_g(
    y: &[f64],
    w: &SpatialWeights,
    options: &LocalGOptions,
) -> Result<LocalG, StatsError> {
    check_values(y, w.len(), 3)?;
    let w = local_g_weights(w, options.transform, options.star);
    Ok(local_g_prepared(
        y,
        &w,
        options.star,
        options.permutations,
        options.seed,
    ))
}

/// [`local_g`] on weights already prepared by [`local_g_weights`] (shared by the emerging
/// hot spot analysis so the weights are transformed once for all slices).
#[expect(
    clippy::many_single_char_names,
    reason = "the one-letter names of the published formulas"
)]
pub(crate) fn local_g_prepared(
    y: &[f64],
    w: &SpatialWeights,
    star: bool,
    permutations: usize,
    seed: u64,
) -> LocalG {
    let n = y.len();
    let remove = if star { 0.0 } else { 1.0 };
    let big_n = n as f64 - remove;
    let sum_y: f64 = y.iter().sum();
    let sum_y2: f64 = y.iter().map(|v| v * v).sum();
    let lag = w.lag(y);
    let mut out = LocalG {
        g: Vec::with_capacity(n),
        expected: Vec::with_capacity(n),
        variance: Vec::with_capacity(n),
        z: Vec::with_capacity(n),
        p_norm: Vec::with_capacity(n),
        p_sim: None,
    };
    for i in 0..n {
        let total = sum_y - y[i] * remove;
        let g = lag[i] / total;
        let mean = total / big_n;
        let mean_sq = (sum_y2 - y[i] * y[i] * remove) / big_n;
        let s2 = mean_sq - mean * mean;
        let card = w.row_sum(i);
        let expected = card / big_n;
        let mut variance = card * (big_n - card);
        variance /= big_n - 1.0;
        variance *= 1.0 / (big_n * big_n);
        variance *= s2 / (mean * mean);
        let (z, p) = if w.cardinality(i) == 0 {
            (f64::NAN, f64::NAN)
        } else {
            let z = (g - expected) / variance.sqrt();
            (z, normal::sf(z.abs()))
        };
        out.g.push(g);
        out.expected.push(expected);
        out.variance.push(variance);
        out.z.push(z);
        out.p_norm.push(p);
    }
    if permutations > 0 {
        // The statistic is (self term + lag) / scaling, monotone in the lag with the sign
        // of the scaling; not defined where the observed one is not finite.
        let g = &out.g;
        let p = lag_p_values(w, y, permutations, seed, |i| {
            let scaling = sum_y - y[i] * remove;
            if !g[i].is_finite() {
                None
            } else if scaling > 0.0 {
                Some(Direction::Increasing)
            } else if scaling < 0.0 {
                Some(Direction::Decreasing)
            } else {
                None
            }
        });
        out.p_sim = Some(p);
    }
    out
}

/// Global General G results (esda `G`).
#[derive(Debug, Clone, PartialEq)]
pub struct GeneralG {
    /// The statistic `G`.
    pub g: f64,
    /// Its expectation `S0 / (n (n-1))` (esda `EG`).
    pub expected: f64,
    /// Its variance under normality (esda `VG`).
    pub variance: f64,
    /// z-score under normality.
    pub z_norm: f64,
    /// One-sided normal p-value `sf(|z|)`.
    pub p_norm: f64,
    /// Directed pseudo p-value from full random permutations of `y`, if asked for.
    pub p_sim: Option<f64>,
}

/// Getis-Ord General G on binary weights (any weights given are made binary, without
/// self-weights, as esda does). `permutations` full random permutations of `y` give the
/// pseudo p-value; 0 skips it.
#[expect(
    clippy::many_single_char_names,
    reason = "the one-letter names of the published formulas"
)]
pub fn general_g(
    y: &[f64],
    w: &SpatialWeights,
    permutations: usize,
    seed: u64,
) -> Result<GeneralG, StatsError> {
    check_values(y, w.len(), 4)?;
    let w = w.with_self_weight(0.0).transformed(Transform::Binary);
    let n = y.len() as f64;
    let n2 = n * n;
    let (s0, s1, s2) = (w.s0(), w.s1(), w.s2());
    let s02 = s0 * s0;
    let expected = s0 / (n * (n - 1.0));
    let b0 = (n2 - 3.0 * n + 3.0) * s1 - n * s2 + 3.0 * s02;
    let b1 = -((n2 - n) * s1 - 2.0 * n * s2 + 6.0 * s02);
    let b2 = -(2.0 * n * s1 - (n + 3.0) * s2 + 6.0 * s02);
    let b3 = 4.0 * (n - 1.0) * s1 - 2.0 * (n + 1.0) * s2 + 8.0 * s02;
    let b4 = s1 - s2 + s02;
    let sy: f64 = y.iter().sum();
    let sy2: f64 = y.iter().map(|v| v * v).sum();
    let sy3: f64 = y.iter().map(|v| v * v * v).sum();
    let sy4: f64 = y.iter().map(|v| v * v * v * v).sum();
    let eg2_num = b0 * sy2 * sy2 + b1 * sy4 + b2 * sy * sy * sy2 + b3 * sy * sy3 + b4 * sy.powi(4);
    let eg2_den = (sy * sy - sy2).powi(2) * n * (n - 1.0) * (n - 2.0) * (n - 3.0);
    let variance = eg2_num / eg2_den - expected * expected;
    let den_sum = sy * sy - sy2;
    let calc = |v: &[f64]| -> f64 {
        let lag = w.lag(v);
        v.iter().zip(&lag).map(|(a, b)| a * b).sum::<f64>() / den_sum
    };
    let g = calc(y);
    let z_norm = (g - expected) / variance.sqrt();
    let p_norm = normal::sf(z_norm.abs());
    let p_sim = (permutations > 0).then(|| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut v = y.to_vec();
        let larger = (0..permutations)
            .filter(|_| {
                v.shuffle(&mut rng);
                calc(&v) >= g
            })
            .count();
        directed_p(larger, permutations)
    });
    Ok(GeneralG {
        g,
        expected,
        variance,
        z_norm,
        p_norm,
        p_sim,
    })
}
